/*
 * base64 - RFC 4648 encoding (see base64.h).
 */
#include "base64.h"

#include <stdint.h>

#include "xalloc.h"

static const char base64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode_to(const void *data, size_t len, bool pad, char *out)
{
	const unsigned char *in = data;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t group = (uint32_t)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			group |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			group |= in[i + 2];
		out[o++] = base64_chars[(group >> 18) & 63];
		out[o++] = base64_chars[(group >> 12) & 63];
		if (left > 1)
			out[o++] = base64_chars[(group >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (left > 2)
			out[o++] = base64_chars[group & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

char *base64_encode(const void *data, size_t len)
{
	char *out = xmalloc(BASE64_ENCODED_SIZE(len));

	base64_encode_to(data, len, true, out);
	return out;
}
