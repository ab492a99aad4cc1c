/*
 * mask - Dovecot-style user masks: '*' matches any run of bytes (also
 * none), '?' exactly one byte, everything else itself, ASCII
 * case-insensitively ("*@Example.com" matches "bob@example.COM"). Used by
 * who/kick filters, the delivery journal and run-time debug.
 */
#ifndef LOFT_MASK_H
#define LOFT_MASK_H

#include <stdbool.h>

/* mask_match - does str match mask? A NULL str never matches. */
bool mask_match(const char *mask, const char *str);
/* mask_match_exact_case - the same, bytes compared as they are (Dovecot's
   wildcard_match, for mailbox names in quota rules) */
bool mask_match_exact_case(const char *mask, const char *str);

#endif
