/*
 * decimal - strict decimal numbers (see decimal.h).
 */
#include "decimal.h"

#include <errno.h>
#include <stdlib.h>

bool decimal_parse_uint(const char *str, unsigned int max,
			unsigned int *value_r)
{
	unsigned long value;
	char *end;

	if (str[0] < '0' || str[0] > '9')
		return false;
	errno = 0;
	value = strtoul(str, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		return false;
	*value_r = (unsigned int)value;
	return true;
}
