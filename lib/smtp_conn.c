/*
 * smtp_conn - a bounded, blocking SMTP/LMTP client connection (see
 * smtp_conn.h).
 */
#include "smtp_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "error_slot.h"
#include "fd_io.h"
#include "xalloc.h"

#define SMTP_CONN_BUF_SIZE (LMTP_REPLY_MAX_LINE * LMTP_REPLY_MAX_LINES)

struct smtp_conn {
	int fd;
	char *buf;
	size_t len;
};

static __thread struct error_slot smtp_conn_error;

/* set_timeouts - every blocking read and write of fd ends by msecs */
static int set_timeouts(int fd, unsigned int msecs)
{
	struct timeval tv = {
		.tv_sec = msecs / 1000, .tv_usec = (msecs % 1000) * 1000,
	};

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ?
		-1 : 0;
}

/* connect_one - a connected blocking socket to ai within msecs, or -1 */
static int connect_one(const struct addrinfo *ai, unsigned int msecs)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, ret;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd = (struct pollfd) { .fd = fd, .events = POLLOUT };
		do {
			ret = poll(&pfd, 1, (int)msecs);
		} while (ret < 0 && errno == EINTR);
		if (ret == 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		if (ret < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
					  &len) < 0 || err != 0) {
			err = err != 0 ? err : errno;
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    set_timeouts(fd, msecs) < 0) {
		err = errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = err;
	return -1;
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
		fd = connect_one(ai, timeout_msecs);
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

int smtp_conn_read_reply(struct smtp_conn *conn, struct lmtp_reply *reply_r,
			 lmtp_reply_line_callback_t *line_cb, void *context,
			 const char **error_r)
{
	size_t consumed;
	ssize_t n;
	int ret;

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
		n = read(conn->fd, conn->buf + conn->len,
			 SMTP_CONN_BUF_SIZE - conn->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = n == 0 ? "connection closed" :
				errno == EAGAIN || errno == EWOULDBLOCK ?
				"timed out waiting for a reply" :
				error_slot_set(&smtp_conn_error,
					       "read failed: %s",
					       strerror(errno));
			return -1;
		}
		conn->len += (size_t)n;
	}
}

int smtp_conn_send(struct smtp_conn *conn, const char *line,
		   const char **error_r)
{
	char *full = xasprintf("%s\r\n", line);
	int ret = fd_write_full(conn->fd, full, strlen(full));

	free(full);
	if (ret < 0)
		*error_r = errno == EAGAIN || errno == EWOULDBLOCK ?
			"timed out sending" :
			error_slot_set(&smtp_conn_error, "write failed: %s",
				       strerror(errno));
	return ret;
}

int smtp_conn_command(struct smtp_conn *conn, const char *line,
		      struct lmtp_reply *reply_r, const char **error_r)
{
	if (smtp_conn_send(conn, line, error_r) < 0)
		return -1;
	return smtp_conn_read_reply(conn, reply_r, NULL, NULL, error_r);
}

int smtp_conn_fd(const struct smtp_conn *conn)
{
	return conn->fd;
}
