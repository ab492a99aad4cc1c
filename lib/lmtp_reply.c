/*
 * lmtp_reply - the LMTP reply parser (see lmtp_reply.h).
 */
#include "lmtp_reply.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* enhanced_len - the length of an RFC 3463 code "c.sss.ddd" at text
   followed by a space or the end, 0 if there is none */
static size_t enhanced_len(const char *text, size_t len, unsigned int code)
{
	size_t i = 0, digits;

	if (len < 5 || text[0] - '0' != (int)(code / 100))
		return 0;
	i = 1;
	for (int part = 0; part < 2; part++) {
		if (i >= len || text[i] != '.')
			return 0;
		i++;
		for (digits = 0; i < len && text[i] >= '0' && text[i] <= '9' &&
		     digits < 3; digits++)
			i++;
		if (digits == 0)
			return 0;
	}
	return i == len || text[i] == ' ' ? i : 0;
}

int lmtp_reply_parse(const char *buf, size_t len, struct lmtp_reply *reply_r,
		     size_t *consumed_r, lmtp_reply_line_callback_t *line_cb,
		     void *context, const char **error_r)
{
	size_t pos = 0;
	unsigned int code = 0, lines = 0;

	memset(reply_r, 0, sizeof(*reply_r));
	for (;;) {
		const char *line = buf + pos, *nl;
		size_t line_len, text_len, elen;
		unsigned int this_code;
		bool last;

		nl = memchr(line, '\n', len - pos);
		if (nl == NULL) {
			/* the longest line, its CR, and no LF yet */
			if (len - pos > LMTP_REPLY_MAX_LINE + 1) {
				*error_r = "reply line too long";
				return -1;
			}
			return 0;
		}
		line_len = (size_t)(nl - line);
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (line_len > LMTP_REPLY_MAX_LINE) {
			*error_r = "reply line too long";
			return -1;
		}
		if (line_len < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9') {
			*error_r = "reply does not start with a code";
			return -1;
		}
		this_code = (unsigned int)((line[0] - '0') * 100 +
					   (line[1] - '0') * 10 +
					   (line[2] - '0'));
		if (lines > 0 && this_code != code) {
			*error_r = "reply lines with different codes";
			return -1;
		}
		code = this_code;
		if (line_len > 3 && line[3] != ' ' && line[3] != '-') {
			*error_r = "reply code not followed by ' ' or '-'";
			return -1;
		}
		last = line_len == 3 || line[3] == ' ';
		for (size_t i = 4; i < line_len; i++) {
			unsigned char c = (unsigned char)line[i];

			if (c < 0x20 && c != '\t') {
				*error_r = "control character in a reply";
				return -1;
			}
		}
		text_len = line_len > 4 ? line_len - 4 : 0;
		if (line_cb != NULL)
			line_cb(line + line_len - text_len, text_len, context);
		lines++;
		pos = (size_t)(nl - buf) + 1;
		if (!last) {
			if (lines == LMTP_REPLY_MAX_LINES) {
				*error_r = "reply has too many lines";
				return -1;
			}
			continue;
		}
		reply_r->code = code;
		reply_r->lines = lines;
		elen = enhanced_len(line + line_len - text_len, text_len, code);
		if (elen > 0 && elen < sizeof(reply_r->enhanced)) {
			memcpy(reply_r->enhanced, line + line_len - text_len, elen);
			reply_r->enhanced[elen] = '\0';
			if (elen < text_len)
				elen++;
		} else {
			elen = 0;
		}
		snprintf(reply_r->text, sizeof(reply_r->text), "%.*s",
			 (int)(text_len - elen), line + line_len - text_len + elen);
		*consumed_r = pos;
		return 1;
	}
}

int lmtp_reply_take(char *buf, size_t *len, size_t cap,
		    struct lmtp_reply *reply_r,
		    lmtp_reply_line_callback_t *line_cb, void *context,
		    const char **error_r)
{
	size_t consumed;
	int ret = lmtp_reply_parse(buf, *len, reply_r, &consumed, line_cb,
				   context, error_r);

	if (ret > 0) {
		memmove(buf, buf + consumed, *len - consumed);
		*len -= consumed;
		return 1;
	}
	if (ret == 0 && *len == cap) {
		*error_r = "reply too long";
		return -1;
	}
	return ret;
}
