/*
 * smtp_submit - one message to an SMTP server (Dovecot's submission_host,
 * host[:port], port 25 by default, [IPv6]:port): greeting, EHLO, MAIL
 * FROM, RCPT TO, DATA with the content in CRLF lines, dot-stuffed, QUIT.
 * Plain SMTP (no TLS, no AUTH: submission_host is the local MTA, as in
 * Dovecot's default). Every step is bounded by the timeout.
 */
#ifndef LOFT_SMTP_SUBMIT_H
#define LOFT_SMTP_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>

/* smtp_submit - 0 sent, -1 with *error_r (*temporary_r: a 4xx reply or a
   connection failure; false for a 5xx) */
int smtp_submit(const char *hostport, const char *ehlo_name,
		unsigned int timeout_msecs, const char *from, const char *rcpt,
		const char *data, size_t size, bool *temporary_r,
		const char **error_r);

#endif
