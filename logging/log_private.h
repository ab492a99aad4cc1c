/*
 * log_private - what the pieces of the logging library share: the line
 * being emitted (context snapshot plus message), the text and JSON
 * formatters, the deliver_log_format expander and the core's emit entry
 * point that log_delivery uses. Not installed for other modules.
 */
#ifndef LOFT_LOG_PRIVATE_H
#define LOFT_LOG_PRIVATE_H

#include <sys/types.h>
#include <time.h>

#include "log.h"
#include "strbuf.h"

/* One line to format: the context is a snapshot taken under the log lock. */
struct log_line {
	enum log_level level;
	const char *service;
	pid_t pid;
	const char *session;		/* NULL: none */
	const char *user;		/* NULL: none */
	const char *event;		/* NULL: "log" */
	const char *msg;
	const struct log_delivery *delivery; /* NULL unless a delivery line */
	struct timespec now;		/* CLOCK_REALTIME when emitted */
};

/* log_text_format - append the text line (no newline) to dest;
   timestamp_fmt NULL or "" = no timestamp. Returns the length of the
   timestamp prefix (0 without one), which syslog leaves out. */
size_t log_text_format(struct strbuf *dest, const struct log_line *line,
		       const char *timestamp_fmt);
/* log_text_append_sanitized - append str with control characters as '?' */
void log_text_append_sanitized(struct strbuf *dest, const char *str);

/* log_json_format - append the JSON object (one line, no newline) */
void log_json_format(struct strbuf *dest, const struct log_line *line);

/* log_delivery_expand - append format with the delivery variables of rec
   expanded (Dovecot deliver_log_format semantics) */
void log_delivery_expand(struct strbuf *dest, const char *format,
			 const struct log_delivery *rec);

/* log_emit - route an already formatted message (any level; the debug
   gate is the caller's job) */
void log_emit(enum log_level level, const char *event, const char *msg,
	      const struct log_delivery *delivery);

#endif
