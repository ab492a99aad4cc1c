/*
 * smtp_conn - a bounded, blocking SMTP client connection (see
 * smtp_conn.h).
 */
#include "smtp_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
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

/* wait_until - fd ready for events (POLLIN/POLLOUT) before deadline; 0,
   or -1 with errno (ETIMEDOUT) */
static int wait_until(int fd, short events, uint64_t deadline_msecs)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		uint64_t now = clock_monotonic_msecs();
		int ret;

		if (now >= deadline_msecs) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = poll(&pfd, 1, (int)(deadline_msecs - now));
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

/* connect_one - a connected non-blocking socket to ai before the
   deadline, or -1 with errno */
static int connect_one(const struct addrinfo *ai, uint64_t deadline_msecs)
{
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    (errno != EINPROGRESS ||
	     wait_until(fd, POLLOUT, deadline_msecs) < 0 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)) {
		err = err != 0 ? err : errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

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
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL, *ai;
	uint64_t deadline = clock_monotonic_msecs() + timeout_msecs;
	struct smtp_conn *conn;
	char port_str[16];
	int fd = -1, err = 0, ret;

	snprintf(port_str, sizeof(port_str), "%u", port);
	ret = getaddrinfo(host, port_str, &hints, &res);
	if (ret != 0) {
		*error_r = error_slot_set(&smtp_conn_error, "%s: %s", host,
					  gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd < 0)
			err = errno;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		*error_r = error_slot_set(&smtp_conn_error,
					  "connect(%s:%u) failed: %s", host,
					  port, strerror(err));
		return -1;
	}
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
		    wait_until(conn->fd, POLLIN, conn->deadline_msecs) == 0)
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
	size_t consumed;
	int ret;

	/* one step: a server trickling a byte now and then gets no more
	   than the timeout for the whole reply */
	conn->deadline_msecs = clock_monotonic_msecs() + conn->timeout_msecs;
	for (;;) {
		ret = lmtp_reply_parse(conn->buf, conn->len, reply_r,
				       &consumed, line_cb, context, error_r);
		if (ret > 0) {
			memmove(conn->buf, conn->buf + consumed,
				conn->len - consumed);
			conn->len -= consumed;
			return 0;
		}
		if (ret < 0)
			return -1;
		if (conn->len == SMTP_CONN_BUF_SIZE) {
			*error_r = "reply too long";
			return -1;
		}
		if (fill(conn, error_r) < 0)
			return -1;
	}
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
		    wait_until(conn->fd, POLLOUT, conn->deadline_msecs) == 0)
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

int smtp_conn_command(struct smtp_conn *conn, const char *line,
		      struct lmtp_reply *reply_r, const char **error_r)
{
	if (smtp_conn_send(conn, line, error_r) < 0)
		return -1;
	return smtp_conn_read_reply(conn, reply_r, NULL, NULL, error_r);
}
