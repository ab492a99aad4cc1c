/*
 * smtp_conn - a bounded, blocking SMTP client connection (see
 * smtp_conn.h).
 */
#include "smtp_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "net_connect.h"
#include "xalloc.h"

#define SMTP_CONN_BUF_SIZE (LMTP_REPLY_MAX_LINE * LMTP_REPLY_MAX_LINES)

struct smtp_conn {
	int fd;			/* non-blocking */
	unsigned int timeout_msecs;
	uint64_t deadline_msecs;	/* of the step under way */
	char *buf;
	size_t len;
};

static __thread struct error_slot smtp_conn_error;

int smtp_conn_parse_host(const char *value, unsigned int default_port,
			 char **host_r, unsigned int *port_r)
{
	const char *colon, *host = value;
	size_t host_len;
	char *end;
	unsigned long port = default_port;

	if (*value == '[') {
		const char *close = strchr(value, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		host = value + 1;
		host_len = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strchr(value, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		host_len = colon != NULL ? (size_t)(colon - value) : strlen(value);
	}
	if (colon != NULL) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (end == colon + 1 || *end != '\0' || errno != 0 ||
		    port == 0 || port > 65535)
			return -1;
	}
	if (host_len == 0)
		return -1;
	*host_r = xstrndup(host, host_len);
	*port_r = (unsigned int)port;
	return 0;
}

int smtp_conn_connect(const char *host, unsigned int port,
		      unsigned int timeout_msecs, struct smtp_conn **conn_r,
		      const char **error_r)
{
	uint64_t deadline = clock_monotonic_msecs() + timeout_msecs;
	struct smtp_conn *conn;
	int fd = net_connect_tcp(host, port, deadline, error_r);

	if (fd < 0)
		return -1;
	conn = xcalloc(1, sizeof(*conn));
	conn->fd = fd;
	conn->timeout_msecs = timeout_msecs;
	conn->deadline_msecs = deadline;
	conn->buf = xmalloc(SMTP_CONN_BUF_SIZE);
	*conn_r = conn;
	return 0;
}

void smtp_conn_free(struct smtp_conn **_conn)
{
	struct smtp_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	close(conn->fd);
	free(conn->buf);
	free(conn);
}

/* fill - more bytes into the buffer before the step's deadline; 0, or
   -1 with *error_r */
static int fill(struct smtp_conn *conn, const char **error_r)
{
	for (;;) {
		ssize_t n = read(conn->fd, conn->buf + conn->len,
				 SMTP_CONN_BUF_SIZE - conn->len);

		if (n > 0) {
			conn->len += (size_t)n;
			return 0;
		}
		if (n == 0) {
			*error_r = "connection closed";
			return -1;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
		    net_wait_fd(conn->fd, POLLIN, conn->deadline_msecs) == 0)
			continue;
		*error_r = errno == ETIMEDOUT ? "timed out waiting for a reply" :
			error_slot_set(&smtp_conn_error, "read failed: %s",
				       strerror(errno));
		return -1;
	}
}

int smtp_conn_read_reply(struct smtp_conn *conn, struct lmtp_reply *reply_r,
			 lmtp_reply_line_callback_t *line_cb, void *context,
			 const char **error_r)
{
	int ret;

	/* one step: a server trickling a byte now and then gets no more
	   than the timeout for the whole reply */
	conn->deadline_msecs = clock_monotonic_msecs() + conn->timeout_msecs;
	while ((ret = lmtp_reply_take(conn->buf, &conn->len, SMTP_CONN_BUF_SIZE,
				      reply_r, line_cb, context, error_r)) == 0) {
		if (fill(conn, error_r) < 0)
			return -1;
	}
	return ret > 0 ? 0 : -1;
}

int smtp_conn_write(struct smtp_conn *conn, const void *data, size_t size,
		    const char **error_r)
{
	const char *p = data;

	conn->deadline_msecs = clock_monotonic_msecs() + conn->timeout_msecs;
	while (size > 0) {
		ssize_t n = send(conn->fd, p, size, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			size -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    net_wait_fd(conn->fd, POLLOUT, conn->deadline_msecs) == 0)
			continue;
		*error_r = n < 0 && errno == ETIMEDOUT ? "timed out sending" :
			error_slot_set(&smtp_conn_error, "write failed: %s",
				       strerror(n == 0 ? EPIPE : errno));
		return -1;
	}
	return 0;
}

int smtp_conn_send(struct smtp_conn *conn, const char *line,
		   const char **error_r)
{
	char *full = xasprintf("%s\r\n", line);
	int ret = smtp_conn_write(conn, full, strlen(full), error_r);

	free(full);
	return ret;
}
