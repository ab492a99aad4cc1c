/*
 * error_slot - per-thread storage for the strings behind `const char
 * **error_r` out-parameters.
 *
 * A module keeps one `static __thread struct error_slot` and formats its
 * errors into it; the string stays valid until the same thread's next
 * error in that module. Fixed size, so worker threads that exit leak
 * nothing; longer messages are truncated. The arguments may point into the
 * slot's previous text.
 */
#ifndef LOFT_ERROR_SLOT_H
#define LOFT_ERROR_SLOT_H

#include <stdarg.h>

#include "xalloc.h"

#define ERROR_SLOT_SIZE 1024

struct error_slot {
	char text[ERROR_SLOT_SIZE];
};

const char *error_slot_set(struct error_slot *slot, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
const char *error_slot_vset(struct error_slot *slot, const char *fmt,
			    va_list args) LOFT_ATTR_FORMAT(2, 0);

#endif
