/*
 * fuzz_mail_header - libFuzzer target for daemon/delivery/mail_header.c,
 * which encodes and folds header values taken from a sender's message
 * (the Subject a vacation reply answers, the References it extends). The
 * input, cut at its first NUL, is encoded and written as a field, and
 * the plain input is written as a field too. Checked: every line break
 * of a written field is followed by a TAB (a continuation, never a new
 * field) except the last, which ends it; an encoded value holds no byte
 * with the high bit set; an encoded word (of an input without '=') is
 * at most 76 characters (Dovecot's line budget; RFC 2047 says 75).
 */
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

#include "mail_header.h"
#include "strbuf.h"
#include "xalloc.h"

/* check_field - "Name: ...\n" with only TAB-continued line breaks */
static void check_field(const struct strbuf *field)
{
	FUZZ_CHECK(field->len > 0 && field->data[field->len - 1] == '\n');
	for (size_t i = 0; i + 1 < field->len; i++) {
		if (field->data[i] == '\n')
			FUZZ_CHECK(field->data[i + 1] == '\t');
	}
}

/* check_words - each =?...?= at most 76 characters */
static void check_words(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "=?utf-8?")) != NULL) {
		const char *end = strstr(p + 10, "?=");

		FUZZ_CHECK(end != NULL);
		FUZZ_CHECK(end + 2 - p <= 76);
		p = end + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = xstrndup((const char *)data, size);
	struct strbuf encoded, field;

	/* one line, as the callers pass it */
	for (char *p = value; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	}
	strbuf_init(&encoded, size * 4 + 64);
	strbuf_init(&field, size * 4 + 64);
	mail_header_encode(value, &encoded);
	for (size_t i = 0; i < encoded.len; i++)
		FUZZ_CHECK(((unsigned char)encoded.data[i] & 0x80) == 0);
	if (strchr(value, '=') == NULL)
		check_words(encoded.data);
	mail_header_write(&field, "Subject", encoded.data);
	check_field(&field);
	strbuf_reset(&field);
	mail_header_write(&field, "References", value);
	check_field(&field);
	strbuf_free(&field);
	strbuf_free(&encoded);
	free(value);
	return 0;
}
