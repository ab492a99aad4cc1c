/*
 * mask - user mask matching (see mask.h): iterative, with one saved
 * backtrack point per '*', so no input makes it exponential.
 */
#include "mask.h"

#include <ctype.h>
#include <stddef.h>

/* mask_byte_eq - one mask byte against one string byte */
static bool mask_byte_eq(char m, char s, bool icase)
{
	return icase ? tolower((unsigned char)m) == tolower((unsigned char)s) :
		m == s;
}

/* mask_match_common - mask_match(), case-insensitive or not */
static bool mask_match_common(const char *mask, const char *str, bool icase)
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
			   (*mask == '?' || mask_byte_eq(*mask, *str, icase))) {
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

bool mask_match(const char *mask, const char *str)
{
	return mask_match_common(mask, str, true);
}

bool mask_match_exact_case(const char *mask, const char *str)
{
	return mask_match_common(mask, str, false);
}
