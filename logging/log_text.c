/*
 * log_text - the Dovecot-like text line:
 *   <timestamp><service>(<user>)<<pid>><<session>>: <Level>: <msg>
 * The timestamp is strftime(log_timestamp) of local time, the user and
 * session parts are left out when unset, and control characters anywhere
 * in the variable parts become '?' so that one event stays one line.
 */
#include "log_private.h"

#include <stdio.h>
#include <string.h>

/* Large enough for any sane log_timestamp; longer results are dropped. */
#define LOG_TEXT_TIMESTAMP_MAX 256

void log_text_append_sanitized(struct strbuf *dest, const char *str)
{
	const unsigned char *p = (const unsigned char *)str;

	while (*p != '\0') {
		const unsigned char *start = p;

		while (*p >= 0x20 && *p != 0x7f)
			p++;
		strbuf_append(dest, start, (size_t)(p - start));
		if (*p == '\0')
			break;
		strbuf_putc(dest, '?');
		p++;
	}
}

/* log_text_append_timestamp - append strftime(fmt) of now in local time */
static void log_text_append_timestamp(struct strbuf *dest, const char *fmt,
				      const struct timespec *now)
{
	char buf[LOG_TEXT_TIMESTAMP_MAX];
	struct tm tm;
	size_t len;

	if (localtime_r(&now->tv_sec, &tm) == NULL)
		return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	len = strftime(buf, sizeof(buf), fmt, &tm);
#pragma GCC diagnostic pop
	strbuf_append(dest, buf, len);
}

size_t log_text_format(struct strbuf *dest, const struct log_line *line,
		       const char *timestamp_fmt)
{
	size_t start = dest->len, timestamp_len;

	if (timestamp_fmt != NULL && timestamp_fmt[0] != '\0')
		log_text_append_timestamp(dest, timestamp_fmt, &line->now);
	timestamp_len = dest->len - start;
	log_text_append_sanitized(dest, line->service);
	if (line->user != NULL) {
		strbuf_putc(dest, '(');
		log_text_append_sanitized(dest, line->user);
		strbuf_putc(dest, ')');
	}
	strbuf_appendf(dest, "<%ld>", (long)line->pid);
	if (line->session != NULL) {
		strbuf_putc(dest, '<');
		log_text_append_sanitized(dest, line->session);
		strbuf_putc(dest, '>');
	}
	strbuf_append_str(dest, ": ");
	strbuf_append_str(dest, log_level_name(line->level));
	strbuf_append_str(dest, ": ");
	log_text_append_sanitized(dest, line->msg);
	return timestamp_len;
}
