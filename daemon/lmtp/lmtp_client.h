/*
 * lmtp_client - one LMTP client connection to a backend, for the proxy
 * (over smtp_conn).
 * Blocking, for worker threads: every connect, write and read is bounded
 * by the connection's timeout (a backend that stops answering costs a
 * bounded wait, never a stuck thread). Connecting reads the greeting and
 * sends LHLO; the capabilities the proxy cares about are remembered.
 */
#ifndef LOFT_LMTP_CLIENT_H
#define LOFT_LMTP_CLIENT_H

#include <stdbool.h>

#include "lmtp_reply.h"

struct lmtp_client;

/* lmtp_client_connect - TCP to host:port, greeting, LHLO lhlo_name; 0
   with *client_r, or -1 with *error_r (refused, timed out, not LMTP) */
int lmtp_client_connect(const char *host, unsigned int port,
			const char *lhlo_name, unsigned int timeout_msecs,
			struct lmtp_client **client_r, const char **error_r);
void lmtp_client_free(struct lmtp_client **client);

/* lmtp_client_command - send line (no CRLF) and read its reply; 0, or -1
   with *error_r when the connection failed (it is then unusable) */
int lmtp_client_command(struct lmtp_client *client, const char *line,
			struct lmtp_reply *reply_r, const char **error_r);
/* lmtp_client_send - send line (no CRLF) without waiting for its reply
   (read it with lmtp_client_read_reply); 0, or -1 with *error_r */
int lmtp_client_send(struct lmtp_client *client, const char *line,
		     const char **error_r);
/* lmtp_client_read_reply - the next reply (after DATA's content) */
int lmtp_client_read_reply(struct lmtp_client *client,
			   struct lmtp_reply *reply_r, const char **error_r);
/* the socket, for writing DATA content (blocking, send timeout set) */
int lmtp_client_fd(const struct lmtp_client *client);
/* the XCLIENT attributes LHLO advertised (LMTP_XCLIENT_*, 0: none) */
unsigned int lmtp_client_xclient_offered(const struct lmtp_client *client);
/* lmtp_client_xclient - send line (an XCLIENT command) and, pipelined,
   LHLO lhlo_name to greet the session again. 1 when the backend took it
   (220), 0 when it refused (its reply in *reply_r; the connection goes on
   as before), -1 with *error_r when the connection failed */
int lmtp_client_xclient(struct lmtp_client *client, const char *line,
			const char *lhlo_name, struct lmtp_reply *reply_r,
			const char **error_r);

#endif
