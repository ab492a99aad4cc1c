/*
 * decimal - strict decimal numbers from text that came from elsewhere
 * (protocol fields, ids in files): digits only, no sign, no spaces, no
 * empty string, no overflow.
 */
#ifndef LOFT_DECIMAL_H
#define LOFT_DECIMAL_H

#include <stdbool.h>

/* decimal_parse_uint - str as a number no larger than max; false when it
   is not one */
bool decimal_parse_uint(const char *str, unsigned int max,
			unsigned int *value_r);

#endif
