/*
 * master_error - the "last error" slot every loftd module keeps for its
 * `const char **error_r` strings: a formatted message that stays valid
 * until the same module fails again.
 */
#ifndef MASTER_ERROR_H
#define MASTER_ERROR_H

#include <stdarg.h>

#include "xalloc.h"

/* master_error_vfail - format into *slot (freeing the previous message),
   point *error_r at it and return -1 */
int master_error_vfail(char **slot, const char **error_r, const char *fmt,
		       va_list args) LOFT_ATTR_FORMAT(3, 0);

#endif
