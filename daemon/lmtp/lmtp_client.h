/*
 * lmtp_client - one LMTP client connection to a backend, for the proxy.
 * Blocking, for worker threads, but every step is one deadline of the
 * connection's timeout as a whole, however the bytes come: connecting
 * (TLS, greeting and LHLO included), each command with its reply, each
 * reply read on its own, and the DATA content. A backend that stops
 * answering, or trickles a byte now and then, costs a bounded wait, never
 * a stuck thread. Connecting reads the greeting and sends LHLO; the
 * capabilities the proxy cares about are remembered.
 *
 * TLS (lib/tls.h) from the start, or STARTTLS after the first LHLO and
 * LHLO again over TLS; the certificate is verified against the client
 * context's CAs and the host name unless told otherwise.
 */
#ifndef LOFT_LMTP_CLIENT_H
#define LOFT_LMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "lmtp_reply.h"

struct lmtp_client;
struct tls_client;

/* TLS to a backend */
struct lmtp_client_tls {
	struct tls_client *ctx;
	bool starttls;		/* STARTTLS after LHLO, not TLS at once */
	const char *verify_host; /* the name the certificate must be valid
				    for; NULL: any certificate */
};

/* lmtp_client_connect - TCP to host:port, TLS when tls is not NULL,
   greeting, LHLO lhlo_name; 0 with *client_r, or -1 with *error_r
   (refused, timed out, not LMTP, TLS failed or STARTTLS refused) */
int lmtp_client_connect(const char *host, unsigned int port,
			const char *lhlo_name, unsigned int timeout_msecs,
			const struct lmtp_client_tls *tls,
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
/* lmtp_client_write - all of data (DATA content; a message_output_
   callback_t, context the client): the writes that follow any other call
   share one deadline. 0, or -1 with errno (ETIMEDOUT, ...) and the
   reason in lmtp_client_error() */
int lmtp_client_write(const void *data, size_t len, void *context);
/* lmtp_client_error - why the last lmtp_client_write() failed */
const char *lmtp_client_error(const struct lmtp_client *client);
/* lmtp_client_tls_describe - "TLSv1.3 with cipher ..." over TLS, NULL
   in plaintext */
const char *lmtp_client_tls_describe(struct lmtp_client *client);
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
