/*
 * lmtp_reply - parsing the replies an LMTP or SMTP server (a proxied
 * backend, submission_host)
 * sends: "250-..." continuation lines, then "250 ..." (RFC 5321 4.2). The
 * parser is strict and bounded, since a backend may be broken or hostile:
 * three digits 200..599, the same code on every line, '-' or ' ' after
 * it, printable text, at most LMTP_REPLY_MAX_LINES lines of at most
 * LMTP_REPLY_MAX_LINE bytes. The enhanced status code (RFC 3463) of the
 * last line is split off when present.
 */
#ifndef LOFT_LMTP_REPLY_H
#define LOFT_LMTP_REPLY_H

#include <stddef.h>

#define LMTP_REPLY_MAX_LINE 1024
#define LMTP_REPLY_MAX_LINES 64

struct lmtp_reply {
	unsigned int code;		/* 200..599 */
	char enhanced[16];		/* "2.1.5", or "" */
	char text[LMTP_REPLY_MAX_LINE];	/* the last line, after code and
					   enhanced code */
	unsigned int lines;
};

/* lmtp_reply_parse - one reply from the start of buf[0..len): 1 with
   *reply_r and *consumed_r (the bytes it took, CRLF included), 0 when
   more bytes are needed, -1 with *error_r for bytes that are no reply.
   line_cb, when not NULL, gets every line's text (after "250-"/"250 "),
   e.g. for LHLO's capabilities. */
typedef void lmtp_reply_line_callback_t(const char *text, size_t len,
					void *context);
int lmtp_reply_parse(const char *buf, size_t len, struct lmtp_reply *reply_r,
		     size_t *consumed_r, lmtp_reply_line_callback_t *line_cb,
		     void *context, const char **error_r);

/* lmtp_reply_take - the first reply of a read buffer buf[0..*len) of cap
   bytes, taken out of it (the rest moved to the front): 1 with *reply_r,
   0 when more bytes must be read, -1 with *error_r (bytes that are no
   reply, or a full buffer that holds none) */
int lmtp_reply_take(char *buf, size_t *len, size_t cap,
		    struct lmtp_reply *reply_r,
		    lmtp_reply_line_callback_t *line_cb, void *context,
		    const char **error_r);

#endif
