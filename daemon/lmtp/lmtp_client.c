/*
 * lmtp_client - a bounded, blocking LMTP client (see lmtp_client.h).
 */
#include "lmtp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "error_slot.h"
#include "fd_io.h"
#include "lmtp_xclient.h"
#include "xalloc.h"

#define LMTP_CLIENT_BUF_SIZE (LMTP_REPLY_MAX_LINE * LMTP_REPLY_MAX_LINES)

struct lmtp_client {
	int fd;
	unsigned int xclient;	/* LMTP_XCLIENT_* the backend offers */
	char *buf;
	size_t len;
};

static __thread struct error_slot lmtp_client_error;

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

/* capability - one LHLO line's keyword */
static void capability(const char *text, size_t len, void *context)
{
	struct lmtp_client *client = context;

	client->xclient |= lmtp_xclient_offered(text, (unsigned int)len);
}

/* read_reply - the next reply, reading as needed */
static int read_reply(struct lmtp_client *client, struct lmtp_reply *reply_r,
		      lmtp_reply_line_callback_t *line_cb,
		      const char **error_r)
{
	size_t consumed;
	ssize_t n;
	int ret;

	for (;;) {
		ret = lmtp_reply_parse(client->buf, client->len, reply_r,
				       &consumed, line_cb, client, error_r);
		if (ret > 0) {
			memmove(client->buf, client->buf + consumed,
				client->len - consumed);
			client->len -= consumed;
			return 0;
		}
		if (ret < 0)
			return -1;
		if (client->len == LMTP_CLIENT_BUF_SIZE) {
			*error_r = "reply too long";
			return -1;
		}
		n = read(client->fd, client->buf + client->len,
			 LMTP_CLIENT_BUF_SIZE - client->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = n == 0 ? "connection closed" :
				errno == EAGAIN || errno == EWOULDBLOCK ?
				"timed out waiting for a reply" :
				error_slot_set(&lmtp_client_error,
					       "read failed: %s",
					       strerror(errno));
			return -1;
		}
		client->len += (size_t)n;
	}
}

int lmtp_client_read_reply(struct lmtp_client *client,
			   struct lmtp_reply *reply_r, const char **error_r)
{
	return read_reply(client, reply_r, NULL, error_r);
}

/* send_line - line and CRLF */
static int send_line(struct lmtp_client *client, const char *line,
		     const char **error_r)
{
	char *full = xasprintf("%s\r\n", line);
	int ret = fd_write_full(client->fd, full, strlen(full));

	free(full);
	if (ret < 0)
		*error_r = errno == EAGAIN || errno == EWOULDBLOCK ?
			"timed out sending" :
			error_slot_set(&lmtp_client_error, "write failed: %s",
				       strerror(errno));
	return ret;
}

int lmtp_client_send(struct lmtp_client *client, const char *line,
		     const char **error_r)
{
	return send_line(client, line, error_r);
}

int lmtp_client_command(struct lmtp_client *client, const char *line,
			struct lmtp_reply *reply_r, const char **error_r)
{
	if (send_line(client, line, error_r) < 0)
		return -1;
	return read_reply(client, reply_r, NULL, error_r);
}

/* lhlo_reply - LHLO's 250, remembering what XCLIENT offers */
static int lhlo_reply(struct lmtp_client *client, const char **error_r)
{
	struct lmtp_reply reply;

	client->xclient = 0;
	if (read_reply(client, &reply, capability, error_r) < 0)
		return -1;
	if (reply.code != 250) {
		*error_r = error_slot_set(&lmtp_client_error, "LHLO: %u %s",
					  reply.code, reply.text);
		return -1;
	}
	return 0;
}

/* lhlo - LHLO name and its 250 */
static int lhlo(struct lmtp_client *client, const char *name,
		const char **error_r)
{
	char *line = xasprintf("LHLO %s", name);
	int ret = send_line(client, line, error_r);

	free(line);
	return ret < 0 ? -1 : lhlo_reply(client, error_r);
}

int lmtp_client_connect(const char *host, unsigned int port,
			const char *lhlo_name, unsigned int timeout_msecs,
			struct lmtp_client **client_r, const char **error_r)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL, *ai;
	struct lmtp_client *client;
	struct lmtp_reply reply;
	char port_str[16];
	int fd = -1, err = 0, ret;

	snprintf(port_str, sizeof(port_str), "%u", port);
	ret = getaddrinfo(host, port_str, &hints, &res);
	if (ret != 0) {
		*error_r = error_slot_set(&lmtp_client_error, "%s: %s", host,
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
		*error_r = error_slot_set(&lmtp_client_error,
					  "connect(%s:%u) failed: %s", host,
					  port, strerror(err));
		return -1;
	}
	client = xcalloc(1, sizeof(*client));
	client->fd = fd;
	client->buf = xmalloc(LMTP_CLIENT_BUF_SIZE);
	if (read_reply(client, &reply, NULL, error_r) < 0 ||
	    reply.code != 220) {
		if (reply.code != 220 && reply.code != 0)
			*error_r = error_slot_set(&lmtp_client_error,
				"greeting %u %s", reply.code, reply.text);
		lmtp_client_free(&client);
		return -1;
	}
	if (lhlo(client, lhlo_name, error_r) < 0) {
		lmtp_client_free(&client);
		return -1;
	}
	*client_r = client;
	return 0;
}

void lmtp_client_free(struct lmtp_client **_client)
{
	struct lmtp_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	close(client->fd);
	free(client->buf);
	free(client);
}

int lmtp_client_fd(const struct lmtp_client *client)
{
	return client->fd;
}

unsigned int lmtp_client_xclient_offered(const struct lmtp_client *client)
{
	return client->xclient;
}

int lmtp_client_xclient(struct lmtp_client *client, const char *line,
			const char *lhlo_name, struct lmtp_reply *reply_r,
			const char **error_r)
{
	/* pipelined with the LHLO that greets the session again: a refused
	   XCLIENT leaves the session as it was, which LHLO does not harm */
	char *lines = xasprintf("%s\r\nLHLO %s", line, lhlo_name);
	int ret = send_line(client, lines, error_r);

	free(lines);
	if (ret == 0)
		ret = read_reply(client, reply_r, NULL, error_r);
	if (ret == 0)
		ret = lhlo_reply(client, error_r);
	return ret < 0 ? -1 : reply_r->code == 220 ? 1 : 0;
}
