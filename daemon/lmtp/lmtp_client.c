/*
 * lmtp_client - a bounded, blocking LMTP client (see lmtp_client.h): a
 * non-blocking socket (and TLS over it) waited on with poll() until the
 * step's deadline.
 */
#include "lmtp_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "evloop.h"
#include "lmtp_xclient.h"
#include "net_connect.h"
#include "tls.h"
#include "xalloc.h"

#define LMTP_CLIENT_BUF_SIZE (LMTP_REPLY_MAX_LINE * LMTP_REPLY_MAX_LINES)

struct lmtp_client {
	int fd;			/* non-blocking */
	struct tls_conn *tls;	/* NULL: plaintext */
	unsigned int timeout_msecs;
	uint64_t deadline_msecs; /* of the step under way */
	bool writing;		/* lmtp_client_write's step is under way */
	unsigned int xclient;	/* LMTP_XCLIENT_* the backend offers */
	char *buf;
	size_t len;
	char error[256];	/* lmtp_client_write's */
};

static __thread struct error_slot lmtp_client_error_slot;

/* step - a new step begins: its deadline is the timeout from now */
static void step(struct lmtp_client *client)
{
	client->deadline_msecs = clock_monotonic_msecs() + client->timeout_msecs;
	client->writing = false;
	client->error[0] = '\0';
}

/* wait_fd - poll fd for events (EVLOOP_*) until deadline_msecs; 0, or -1
   with errno ETIMEDOUT */
static int wait_fd(int fd, unsigned int events, uint64_t deadline_msecs)
{
	return net_wait_fd(fd, (short)(((events & EVLOOP_READ) != 0 ? POLLIN : 0) |
				       ((events & EVLOOP_WRITE) != 0 ? POLLOUT : 0)),
			   deadline_msecs);
}

/* client_wait - wait until what the connection waits for (reading or
   writing) can go on */
static int client_wait(struct lmtp_client *client, bool reading)
{
	unsigned int events = client->tls == NULL ?
		(reading ? EVLOOP_READ : EVLOOP_WRITE) :
		tls_conn_events(client->tls, reading, !reading);

	return wait_fd(client->fd, events, client->deadline_msecs);
}

/* client_read - some bytes before the deadline: the count, 0 at the end
   of the stream, -1 with *error_r */
static ssize_t client_read(struct lmtp_client *client, void *buf,
			   size_t size, const char **error_r)
{
	ssize_t n;

	for (;;) {
		n = client->tls != NULL ? tls_conn_read(client->tls, buf, size) :
			read(client->fd, buf, size);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		if (client_wait(client, true) < 0)
			break;
	}
	*error_r = errno == ETIMEDOUT ? "timed out waiting for a reply" :
		error_slot_set(&lmtp_client_error_slot, "read failed: %s",
			       client->tls != NULL && errno != ETIMEDOUT ?
			       tls_conn_error(client->tls) : strerror(errno));
	return -1;
}

/* client_write - all of data before the deadline; 0, or -1 with errno
   and *error_r */
static int client_write(struct lmtp_client *client, const void *data,
			size_t size, const char **error_r)
{
	const char *p = data;
	ssize_t n;
	int err;

	while (size > 0) {
		n = client->tls != NULL ? tls_conn_write(client->tls, p, size) :
			send(client->fd, p, size, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			size -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    client_wait(client, false) == 0)
			continue;
		err = n == 0 ? EPIPE : errno;
		*error_r = err == ETIMEDOUT ? "timed out sending" :
			error_slot_set(&lmtp_client_error_slot,
				       "write failed: %s", client->tls != NULL ?
				       tls_conn_error(client->tls) :
				       strerror(err));
		errno = err;
		return -1;
	}
	return 0;
}

/* capability - one LHLO line's keyword */
static void capability(const char *text, size_t len, void *context)
{
	struct lmtp_client *client = context;

	client->xclient |= lmtp_xclient_offered(text, (unsigned int)len);
}

/* read_reply - the next reply, reading as needed (within the current
   step's deadline) */
static int read_reply(struct lmtp_client *client, struct lmtp_reply *reply_r,
		      lmtp_reply_line_callback_t *line_cb,
		      const char **error_r)
{
	ssize_t n;
	int ret;

	while ((ret = lmtp_reply_take(client->buf, &client->len,
				      LMTP_CLIENT_BUF_SIZE, reply_r, line_cb,
				      client, error_r)) == 0) {
		n = client_read(client, client->buf + client->len,
				LMTP_CLIENT_BUF_SIZE - client->len, error_r);
		if (n <= 0) {
			if (n == 0)
				*error_r = "connection closed";
			return -1;
		}
		client->len += (size_t)n;
	}
	return ret > 0 ? 0 : -1;
}

int lmtp_client_read_reply(struct lmtp_client *client,
			   struct lmtp_reply *reply_r, const char **error_r)
{
	step(client);
	return read_reply(client, reply_r, NULL, error_r);
}

/* send_line - line and CRLF (within the current step's deadline) */
static int send_line(struct lmtp_client *client, const char *line,
		     const char **error_r)
{
	char *full = xasprintf("%s\r\n", line);
	int ret = client_write(client, full, strlen(full), error_r);

	free(full);
	return ret;
}

int lmtp_client_send(struct lmtp_client *client, const char *line,
		     const char **error_r)
{
	step(client);
	return send_line(client, line, error_r);
}

int lmtp_client_command(struct lmtp_client *client, const char *line,
			struct lmtp_reply *reply_r, const char **error_r)
{
	step(client);
	if (send_line(client, line, error_r) < 0)
		return -1;
	return read_reply(client, reply_r, NULL, error_r);
}

int lmtp_client_write(const void *data, size_t len, void *context)
{
	struct lmtp_client *client = context;
	const char *error;

	if (!client->writing) {
		step(client);
		client->writing = true;
	}
	if (client_write(client, data, len, &error) == 0)
		return 0;
	snprintf(client->error, sizeof(client->error), "%s",
		 errno == ETIMEDOUT ? "timed out sending the message" : error);
	return -1;
}

const char *lmtp_client_error(const struct lmtp_client *client)
{
	return client->error;
}

/* lhlo_reply - LHLO's 250, remembering what XCLIENT offers */
static int lhlo_reply(struct lmtp_client *client, const char **error_r)
{
	struct lmtp_reply reply;

	client->xclient = 0;
	if (read_reply(client, &reply, capability, error_r) < 0)
		return -1;
	if (reply.code != 250) {
		*error_r = error_slot_set(&lmtp_client_error_slot,
					  "LHLO: %u %s", reply.code, reply.text);
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

/* handshake - TLS as the client over the connection */
static int handshake(struct lmtp_client *client,
		     const struct lmtp_client_tls *tls, const char **error_r)
{
	int ret;

	client->tls = tls_conn_create_client(tls->ctx, client->fd,
					     tls->verify_host);
	while ((ret = tls_conn_handshake(client->tls, error_r)) == 0) {
		if (client_wait(client, true) < 0) {
			*error_r = "timed out in the TLS handshake";
			return -1;
		}
	}
	if (ret < 0) {
		/* the text lives in the connection, freed before it is read */
		*error_r = error_slot_set(&lmtp_client_error_slot, "%s",
					  *error_r);
		return -1;
	}
	return 0;
}

/* starttls - STARTTLS, its 220 and the handshake; nothing may follow the
   220 in plaintext (it would be taken as sent over TLS) */
static int starttls(struct lmtp_client *client,
		    const struct lmtp_client_tls *tls, const char **error_r)
{
	struct lmtp_reply reply;

	if (send_line(client, "STARTTLS", error_r) < 0 ||
	    read_reply(client, &reply, NULL, error_r) < 0)
		return -1;
	if (reply.code != 220) {
		*error_r = error_slot_set(&lmtp_client_error_slot,
					  "STARTTLS: %u %s", reply.code,
					  reply.text);
		return -1;
	}
	if (client->len > 0) {
		*error_r = "STARTTLS: plaintext after the 220";
		return -1;
	}
	return handshake(client, tls, error_r);
}

/* greet - greeting, TLS as asked and LHLO: the connecting step */
static int greet(struct lmtp_client *client, const char *lhlo_name,
		 const struct lmtp_client_tls *tls, const char **error_r)
{
	struct lmtp_reply reply;

	if (tls != NULL && !tls->starttls && handshake(client, tls, error_r) < 0)
		return -1;
	if (read_reply(client, &reply, NULL, error_r) < 0)
		return -1;
	if (reply.code != 220) {
		*error_r = error_slot_set(&lmtp_client_error_slot,
					  "greeting %u %s", reply.code,
					  reply.text);
		return -1;
	}
	if (lhlo(client, lhlo_name, error_r) < 0)
		return -1;
	if (tls == NULL || !tls->starttls)
		return 0;
	if (starttls(client, tls, error_r) < 0)
		return -1;
	return lhlo(client, lhlo_name, error_r);
}

int lmtp_client_connect(const char *host, unsigned int port,
			const char *lhlo_name, unsigned int timeout_msecs,
			const struct lmtp_client_tls *tls,
			struct lmtp_client **client_r, const char **error_r)
{
	struct lmtp_client *client;
	uint64_t deadline = clock_monotonic_msecs() + timeout_msecs;
	int fd = net_connect_tcp(host, port, deadline, error_r);

	if (fd < 0)
		return -1;
	client = xcalloc(1, sizeof(*client));
	client->fd = fd;
	client->timeout_msecs = timeout_msecs;
	client->deadline_msecs = deadline;
	client->buf = xmalloc(LMTP_CLIENT_BUF_SIZE);
	if (greet(client, lhlo_name, tls, error_r) < 0) {
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
	tls_conn_free(&client->tls);
	close(client->fd);
	free(client->buf);
	free(client);
}

const char *lmtp_client_tls_describe(struct lmtp_client *client)
{
	return client->tls != NULL ? tls_conn_describe(client->tls) : NULL;
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
	int ret;

	step(client);
	ret = send_line(client, lines, error_r);
	free(lines);
	if (ret == 0)
		ret = read_reply(client, reply_r, NULL, error_r);
	if (ret == 0)
		ret = lhlo_reply(client, error_r);
	return ret < 0 ? -1 : reply_r->code == 220 ? 1 : 0;
}
