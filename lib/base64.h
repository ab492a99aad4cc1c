/*
 * base64 - RFC 4648 base64 encoding, for session ids and HTTP credentials.
 */
#ifndef LOFT_BASE64_H
#define LOFT_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* base64_encode_to - encode len bytes into out, which must hold
   BASE64_ENCODED_SIZE(len) bytes; with pad false the trailing '=' are
   left out. Returns the string length. */
#define BASE64_ENCODED_SIZE(len) ((((len) + 2) / 3) * 4 + 1)
size_t base64_encode_to(const void *data, size_t len, bool pad, char *out);
/* base64_encode - the same, xmalloc'ed, padded */
char *base64_encode(const void *data, size_t len);

#endif
