/*
 * smtp_submit - the SMTP dialogue for submission_host (see smtp_submit.h).
 */
#include "smtp_submit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "smtp_conn.h"
#include "strbuf.h"
#include "xalloc.h"

#define SMTP_DEFAULT_PORT 25

static __thread struct error_slot smtp_submit_error;

/* step - send line (NULL: none) and expect a reply of class want (2 or
   3); -1 with the error set from the reply or the connection */
static int step(struct smtp_conn *conn, const char *what, const char *line,
		unsigned int want, bool *temporary_r, const char **error_r)
{
	struct lmtp_reply reply;

	memset(&reply, 0, sizeof(reply));
	if ((line != NULL && smtp_conn_send(conn, line, error_r) < 0) ||
	    smtp_conn_read_reply(conn, &reply, NULL, NULL, error_r) < 0) {
		*error_r = error_slot_set(&smtp_submit_error, "%s: %s", what,
					  *error_r);
		return -1;
	}
	if (reply.code / 100 == want)
		return 0;
	*temporary_r = reply.code / 100 != 5;
	*error_r = error_slot_set(&smtp_submit_error, "%s: %u %s%s%s", what,
				  reply.code, reply.enhanced,
				  reply.enhanced[0] != '\0' ? " " : "",
				  reply.text);
	return -1;
}

/* content - data in CRLF lines, dot-stuffed, ending in ".\r\n" */
static void content(const char *data, size_t size, struct strbuf *out)
{
	const char *p = data, *end = data + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0 && *p == '.')
			strbuf_putc(out, '.');
		strbuf_append(out, p, len);
		strbuf_append(out, "\r\n", 2);
		p = nl != NULL ? nl + 1 : end;
	}
	strbuf_append_str(out, ".\r\n");
}

/* path_ok - an address that can go between < and > on a command line:
   no control characters, no angle brackets (nothing to smuggle a second
   command or a second path in) */
static bool path_ok(const char *addr)
{
	for (const unsigned char *p = (const unsigned char *)addr; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	}
	return true;
}

int smtp_submit(const char *hostport, const char *ehlo_name,
		unsigned int timeout_msecs, const char *from, const char *rcpt,
		const char *data, size_t size, bool *temporary_r,
		const char **error_r)
{
	struct smtp_conn *conn = NULL;
	struct strbuf line, body;
	unsigned int port;
	char *host;
	int ret = -1;

	*temporary_r = true;
	if (!path_ok(from) || !path_ok(rcpt) || !path_ok(ehlo_name)) {
		*error_r = "an address with control characters or brackets";
		*temporary_r = false;
		return -1;
	}
	if (smtp_conn_parse_host(hostport, SMTP_DEFAULT_PORT, &host, &port) < 0) {
		*error_r = error_slot_set(&smtp_submit_error,
					  "invalid submission_host '%s'", hostport);
		*temporary_r = false;
		return -1;
	}
	strbuf_init(&line, 256);
	strbuf_init(&body, size + size / 32 + 8);
	if (smtp_conn_connect(host, port, timeout_msecs, &conn, error_r) < 0)
		goto out;
	if (step(conn, "greeting", NULL, 2, temporary_r, error_r) < 0)
		goto out;
	strbuf_appendf(&line, "EHLO %s", ehlo_name);
	if (step(conn, "EHLO", line.data, 2, temporary_r, error_r) < 0)
		goto out;
	strbuf_reset(&line);
	strbuf_appendf(&line, "MAIL FROM:<%s>", from);
	if (step(conn, "MAIL FROM", line.data, 2, temporary_r, error_r) < 0)
		goto out;
	strbuf_reset(&line);
	strbuf_appendf(&line, "RCPT TO:<%s>", rcpt);
	if (step(conn, "RCPT TO", line.data, 2, temporary_r, error_r) < 0 ||
	    step(conn, "DATA", "DATA", 3, temporary_r, error_r) < 0)
		goto out;
	content(data, size, &body);
	if (smtp_conn_write(conn, body.data, body.len, error_r) < 0) {
		*error_r = error_slot_set(&smtp_submit_error,
					  "sending the message: %s", *error_r);
		goto out;
	}
	if (step(conn, "end of DATA", NULL, 2, temporary_r, error_r) < 0)
		goto out;
	ret = 0;
	/* the message is accepted: QUIT's answer does not matter */
	(void)smtp_conn_send(conn, "QUIT", error_r);
out:
	smtp_conn_free(&conn);
	strbuf_free(&line);
	strbuf_free(&body);
	free(host);
	return ret;
}
