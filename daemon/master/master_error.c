/*
 * master_error - per-module "last error" strings for loftd (see
 * master_error.h).
 */
#include "master_error.h"

#include <stdlib.h>

#include "strbuf.h"

int master_error_vfail(char **slot, const char **error_r, const char *fmt,
		       va_list args)
{
	struct strbuf buf;

	strbuf_init(&buf, 128);
	strbuf_vappendf(&buf, fmt, args);
	free(*slot);
	*slot = strbuf_detach(&buf);
	*error_r = *slot;
	return -1;
}
