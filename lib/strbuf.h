/*
 * strbuf - a growable byte buffer, always NUL-terminated.
 *
 * Client data and every string built at run time go into a strbuf, never a
 * fixed char array. The buffer may hold NUL bytes; `len` is authoritative.
 */
#ifndef LOFT_STRBUF_H
#define LOFT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "xalloc.h"

struct strbuf {
	char *data;	/* NUL-terminated; never NULL after strbuf_init */
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *buf, size_t initial_cap);
void strbuf_free(struct strbuf *buf);
/* strbuf_reset - empty the buffer, keep its memory */
void strbuf_reset(struct strbuf *buf);
/* strbuf_detach - hand the string to the caller; the buffer is left as
   after strbuf_free (free it again or strbuf_init it before reuse) */
char *strbuf_detach(struct strbuf *buf);
void strbuf_append(struct strbuf *buf, const void *data, size_t len);
void strbuf_append_str(struct strbuf *buf, const char *str);
void strbuf_putc(struct strbuf *buf, char c);
void strbuf_appendf(struct strbuf *buf, const char *fmt, ...) LOFT_ATTR_FORMAT(2, 3);
void strbuf_vappendf(struct strbuf *buf, const char *fmt, va_list args) LOFT_ATTR_FORMAT(2, 0);
/* strbuf_truncate - shorten to len bytes (no-op when already shorter) */
void strbuf_truncate(struct strbuf *buf, size_t len);
/* strbuf_append_printable - str with every byte a terminal could act on
   written as \xHH: C0 controls (ESC, CR, LF, ...), DEL and the C1
   controls U+0080..U+009F in UTF-8; other text as it is. For client or
   sender data on its way to a terminal, a header or one log line. */
void strbuf_append_printable(struct strbuf *buf, const char *str);

#endif
