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

#endif
