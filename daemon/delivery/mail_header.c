/*
 * mail_header - encoding and folding header fields (see mail_header.h).
 */
#include "mail_header.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "xalloc.h"

#define MIME_MAX_LINE 76
#define MIME_WRAPPER_LEN 12	/* "=?utf-8?q?" and "?=" */
#define MIME_ROOM (MIME_MAX_LINE - MIME_WRAPPER_LEN)
#define HEADER_MAX_LINE 80
#define B64_ENCODED(n) (((n) + 2) / 3 * 4)

static bool lwsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* needs_encoding - an 8-bit or control byte, or "=?" starting a word */
static bool needs_encoding(const unsigned char *in, size_t i, size_t len)
{
	if (in[i] == '=')
		return (i == 0 || lwsp(in[i - 1])) && i + 1 < len && in[i + 1] == '?';
	return (in[i] & 0x80) != 0 || (in[i] < 32 && in[i] != '\t');
}

/* utf8_len - the length of the UTF-8 character at in (1 for a byte that
   starts none) */
static size_t utf8_len(const unsigned char *in, size_t len)
{
	size_t n = in[0] < 0x80 ? 1 : (in[0] & 0xe0) == 0xc0 ? 2 :
		(in[0] & 0xf0) == 0xe0 ? 3 : (in[0] & 0xf8) == 0xf0 ? 4 : 1;

	if (n > len)
		return 1;
	for (size_t i = 1; i < n; i++) {
		if ((in[i] & 0xc0) != 0x80)
			return 1;
	}
	return n;
}

/* first_room - the room on the first line for encoded text, after a
   fold when the prefix leaves too little (Dovecot 2.3's rule) */
static size_t first_room(struct strbuf *out, size_t first_line_len)
{
	if (first_line_len >= MIME_ROOM - 3) {
		strbuf_append_str(out, "\n\t");
		return MIME_ROOM - 1;
	}
	return MIME_ROOM - first_line_len;
}

/* encode_q - in as Q encoded words, character by character, a new word
   on a new line when the next character does not fit */
static void encode_q(const unsigned char *in, size_t len, struct strbuf *out,
		     size_t first_line_len)
{
	size_t left = first_room(out, first_line_len);

	strbuf_append_str(out, "=?utf-8?q?");
	while (len > 0) {
		size_t n_in = utf8_len(in, len), n_out;

		if (in[0] == ' ')
			n_out = 1;
		else if (n_in > 1 || in[0] == '=' || in[0] == '?' ||
			 in[0] == '_' || in[0] < 0x20 || in[0] > 0x7e)
			n_out = n_in * 3;
		else
			n_out = 1;
		if (left < n_out) {
			strbuf_append_str(out, "?=\n\t=?utf-8?q?");
			left = MIME_ROOM - 1;
		}
		if (in[0] == ' ') {
			strbuf_putc(out, '_');
		} else if (n_out > 1) {
			for (size_t i = 0; i < n_in; i++)
				strbuf_appendf(out, "=%02X", in[i]);
		} else {
			strbuf_putc(out, (char)in[0]);
		}
		left -= n_out;
		in += n_in;
		len -= n_in;
	}
	strbuf_append_str(out, "?=");
}

/* encode_b - in as B encoded words, on each line as many whole
   characters as fit */
static void encode_b(const unsigned char *in, size_t len, struct strbuf *out,
		     size_t first_line_len)
{
	size_t left = first_room(out, first_line_len);

	strbuf_append_str(out, "=?utf-8?b?");
	while (len > 0) {
		size_t max = left / 4 * 3, n = 0;
		char *b64;

		if (max > len)
			max = len;
		while (n < max && n + utf8_len(in + n, len - n) <= max)
			n += utf8_len(in + n, len - n);
		b64 = base64_encode(in, n);
		strbuf_append_str(out, b64);
		free(b64);
		in += n;
		len -= n;
		if (len > 0) {
			strbuf_append_str(out, "?=\n\t=?utf-8?b?");
			left = MIME_ROOM - 1;
		}
	}
	strbuf_append_str(out, "?=");
}

void mail_header_encode(const char *value, struct strbuf *out)
{
	const unsigned char *in = (const unsigned char *)value;
	size_t len = strlen(value), first = 0, last = 0, enc_chars = 0;

	while (first < len && !needs_encoding(in, first, len))
		first++;
	if (first == len) {
		strbuf_append_str(out, value);
		return;
	}
	while (first > 0 && !lwsp(in[first - 1]))
		first--;
	strbuf_append(out, value, first);
	in += first;
	len -= first;
	for (size_t i = 0; i < len; i++) {
		if (needs_encoding(in, i, len)) {
			last = i + 1;
			enc_chars++;
		}
	}
	while (last < len && !lwsp(in[last]))
		last++;
	/* Q unless it is half again as long as B */
	if ((last + enc_chars * 3) * 2 / 3 <= B64_ENCODED(last))
		encode_q(in, last, out, first);
	else
		encode_b(in, last, out, first);
	strbuf_append(out, in + last, len - last);
}

void mail_header_write(struct strbuf *out, const char *name, const char *value)
{
	/* without trailing whitespace, where a fold would leave a last
	   line of nothing (and the next field would continue this one) */
	size_t vlen = strlen(value);

	while (vlen > 0 && strchr(" \t\r\n", value[vlen - 1]) != NULL)
		vlen--;
	char *trimmed = xstrndup(value, vlen);
	const char *bp = trimmed, *sp = trimmed, *wp = NULL, *nlp = NULL;
	size_t line_len = strlen(name) + 2;
	unsigned int lines = 0;

	strbuf_appendf(out, "%s: ", name);
	while (*bp != '\0') {
		bool ws_first = true;

		/* to the first line break, or past 80 columns once there is
		   whitespace to fold at */
		while (*bp != '\0' && nlp == NULL &&
		       (wp == NULL || line_len < HEADER_MAX_LINE)) {
			if (*bp == ' ' || *bp == '\t') {
				if (ws_first)
					wp = bp;
				ws_first = false;
			} else if (*bp == '\r' || *bp == '\n') {
				nlp = ws_first ? bp : wp;
				break;
			} else {
				ws_first = true;
			}
			bp++;
			line_len++;
		}
		if (*bp == '\0')
			break;
		if (nlp != NULL) {
			/* an existing fold: kept, its whitespace one TAB */
			bp += strspn(bp, " \t\r\n");
			strbuf_append(out, sp, (size_t)(nlp - sp));
			strbuf_putc(out, '\n');
			if (*bp != '\0')
				strbuf_putc(out, '\t');
			sp = bp;
		} else {
			/* fold at the last whitespace within the limit */
			strbuf_append(out, sp, (size_t)(wp - sp));
			wp += strspn(wp, " \t");
			strbuf_append_str(out, "\n\t");
			sp = wp;
			if (sp > bp)
				bp = sp;
		}
		lines++;
		line_len = (size_t)(bp - sp);
		wp = NULL;
		nlp = NULL;
	}
	if (bp != sp || lines == 0) {
		strbuf_append(out, sp, (size_t)(bp - sp));
		strbuf_putc(out, '\n');
	}
	free(trimmed);
}
