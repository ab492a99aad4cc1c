/*
 * error_slot - per-thread error strings (see error_slot.h).
 */
#include "error_slot.h"

#include <stdio.h>
#include <string.h>

const char *error_slot_vset(struct error_slot *slot, const char *fmt,
			    va_list args)
{
	char tmp[ERROR_SLOT_SIZE];

	/* format aside first: an argument may be the previous text */
	vsnprintf(tmp, sizeof(tmp), fmt, args);
	memcpy(slot->text, tmp, sizeof(tmp));
	return slot->text;
}

const char *error_slot_set(struct error_slot *slot, const char *fmt, ...)
{
	va_list args;
	const char *ret;

	va_start(args, fmt);
	ret = error_slot_vset(slot, fmt, args);
	va_end(args);
	return ret;
}
