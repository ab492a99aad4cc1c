/*
 * strbuf - growable NUL-terminated byte buffer (see strbuf.h).
 */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strbuf_reserve - make room for extra more bytes plus the NUL */
static void strbuf_reserve(struct strbuf *buf, size_t extra)
{
	size_t need = buf->len + extra + 1; /* @UNSAFE: checked below */

	if (need < buf->len)
		need = (size_t)-1;
	if (need <= buf->cap)
		return;
	size_t cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need)
		cap = cap * 2 < cap ? need : cap * 2;
	buf->data = xrealloc(buf->data, cap);
	buf->cap = cap;
}

void strbuf_init(struct strbuf *buf, size_t initial_cap)
{
	buf->cap = initial_cap < 16 ? 16 : initial_cap;
	buf->data = xmalloc(buf->cap);
	buf->data[0] = '\0';
	buf->len = 0;
}

void strbuf_free(struct strbuf *buf)
{
	XFREE(buf->data);
	buf->len = buf->cap = 0;
}

void strbuf_reset(struct strbuf *buf)
{
	buf->len = 0;
	buf->data[0] = '\0';
}

char *strbuf_detach(struct strbuf *buf)
{
	char *data = buf->data;

	buf->data = NULL;
	buf->len = buf->cap = 0;
	return data;
}

void strbuf_append(struct strbuf *buf, const void *data, size_t len)
{
	if (len == 0)
		return;
	strbuf_reserve(buf, len);
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void strbuf_append_str(struct strbuf *buf, const char *str)
{
	strbuf_append(buf, str, strlen(str));
}

void strbuf_putc(struct strbuf *buf, char c)
{
	strbuf_reserve(buf, 1);
	buf->data[buf->len++] = c;
	buf->data[buf->len] = '\0';
}

void strbuf_vappendf(struct strbuf *buf, const char *fmt, va_list args)
{
	va_list copy;
	int len;

	va_copy(copy, args);
	len = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, copy);
	va_end(copy);
	if (len < 0)
		return;
	if ((size_t)len >= buf->cap - buf->len) {
		strbuf_reserve(buf, (size_t)len);
		vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, args);
	}
	buf->len += (size_t)len;
}

void strbuf_appendf(struct strbuf *buf, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	strbuf_vappendf(buf, fmt, args);
	va_end(args);
}

void strbuf_truncate(struct strbuf *buf, size_t len)
{
	if (len < buf->len) {
		buf->len = len;
		buf->data[len] = '\0';
	}
}

void strbuf_append_printable(struct strbuf *buf, const char *str)
{
	const unsigned char *p = (const unsigned char *)str;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			strbuf_appendf(buf, "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			strbuf_appendf(buf, "\\x%02x\\x%02x", p[0], p[1]);
			p++;
		} else {
			strbuf_putc(buf, (char)*p);
		}
	}
}
