/*
 * lmtp_client - a bounded, blocking LMTP client (see lmtp_client.h), on
 * smtp_conn.
 */
#include "lmtp_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "lmtp_xclient.h"
#include "smtp_conn.h"
#include "xalloc.h"

struct lmtp_client {
	struct smtp_conn *conn;
	unsigned int xclient;	/* LMTP_XCLIENT_* the backend offers */
};

static __thread struct error_slot lmtp_client_error;

/* capability - one LHLO line's keyword */
static void capability(const char *text, size_t len, void *context)
{
	struct lmtp_client *client = context;

	client->xclient |= lmtp_xclient_offered(text, (unsigned int)len);
}

int lmtp_client_read_reply(struct lmtp_client *client,
			   struct lmtp_reply *reply_r, const char **error_r)
{
	return smtp_conn_read_reply(client->conn, reply_r, NULL, NULL, error_r);
}

int lmtp_client_send(struct lmtp_client *client, const char *line,
		     const char **error_r)
{
	return smtp_conn_send(client->conn, line, error_r);
}

int lmtp_client_command(struct lmtp_client *client, const char *line,
			struct lmtp_reply *reply_r, const char **error_r)
{
	return smtp_conn_command(client->conn, line, reply_r, error_r);
}

/* lhlo_reply - LHLO's 250, remembering what XCLIENT offers */
static int lhlo_reply(struct lmtp_client *client, const char **error_r)
{
	struct lmtp_reply reply;

	client->xclient = 0;
	if (smtp_conn_read_reply(client->conn, &reply, capability, client,
				 error_r) < 0)
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
	int ret = smtp_conn_send(client->conn, line, error_r);

	free(line);
	return ret < 0 ? -1 : lhlo_reply(client, error_r);
}

int lmtp_client_connect(const char *host, unsigned int port,
			const char *lhlo_name, unsigned int timeout_msecs,
			struct lmtp_client **client_r, const char **error_r)
{
	struct lmtp_client *client;
	struct lmtp_reply reply;
	struct smtp_conn *conn;

	if (smtp_conn_connect(host, port, timeout_msecs, &conn, error_r) < 0)
		return -1;
	client = xcalloc(1, sizeof(*client));
	client->conn = conn;
	memset(&reply, 0, sizeof(reply));
	if (smtp_conn_read_reply(conn, &reply, NULL, NULL, error_r) < 0 ||
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
	smtp_conn_free(&client->conn);
	free(client);
}

int lmtp_client_fd(const struct lmtp_client *client)
{
	return smtp_conn_fd(client->conn);
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
	int ret = smtp_conn_send(client->conn, lines, error_r);

	free(lines);
	if (ret == 0)
		ret = smtp_conn_read_reply(client->conn, reply_r, NULL, NULL,
					   error_r);
	if (ret == 0)
		ret = lhlo_reply(client, error_r);
	return ret < 0 ? -1 : reply_r->code == 220 ? 1 : 0;
}
