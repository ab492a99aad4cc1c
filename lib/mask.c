/*
 * mask - user mask matching (see mask.h): iterative, with one saved
 * backtrack point per '*', so no input makes it exponential.
 */
#include "mask.h"

#include <ctype.h>
#include <stddef.h>

bool mask_match(const char *mask, const char *str)
{
	const char *star_mask = NULL, *star_str = NULL;

	if (str == NULL)
		return false;
	while (*str != '\0') {
		if (*mask == '*') {
			/* remember where to resume when a later part fails */
			star_mask = ++mask;
			star_str = str;
		} else if (*mask != '\0' &&
			   (*mask == '?' ||
			    tolower((unsigned char)*mask) ==
			    tolower((unsigned char)*str))) {
			mask++;
			str++;
		} else if (star_mask != NULL) {
			/* let the last '*' swallow one more byte */
			mask = star_mask;
			str = ++star_str;
		} else {
			return false;
		}
	}
	while (*mask == '*')
		mask++;
	return *mask == '\0';
}
