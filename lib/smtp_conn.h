/*
 * smtp_conn - a bounded, blocking client connection to an SMTP server
 * (submission_host): TCP connect, lines out, replies in (parsed by
 * lmtp_reply). For worker threads and loft-lda: each step (connecting,
 * a write, a whole reply) has one deadline of the timeout, however the
 * bytes come, so a server that stops answering or trickles a byte now
 * and then costs a bounded wait. (The LMTP proxy's lmtp_client, with
 * TLS, has its own.)
 */
#ifndef LOFT_SMTP_CONN_H
#define LOFT_SMTP_CONN_H

#include <stddef.h>

#include "lmtp_reply.h"

struct smtp_conn;

/* smtp_conn_parse_host - host[:port] or [IPv6]:port (a bare IPv6
   address has no port) into host_r (malloced) and port; 0, or -1 */
int smtp_conn_parse_host(const char *value, unsigned int default_port,
			 char **host_r, unsigned int *port_r);

/* smtp_conn_connect - TCP to host:port within timeout_msecs; 0 with
   *conn_r, or -1 with *error_r */
int smtp_conn_connect(const char *host, unsigned int port,
		      unsigned int timeout_msecs, struct smtp_conn **conn_r,
		      const char **error_r);
void smtp_conn_free(struct smtp_conn **conn);

/* smtp_conn_send - line and CRLF; 0, or -1 with *error_r */
int smtp_conn_send(struct smtp_conn *conn, const char *line,
		   const char **error_r);
/* smtp_conn_read_reply - the next reply, line_cb (may be NULL) getting
   each line's text; 0, or -1 with *error_r (the connection is then
   unusable) */
int smtp_conn_read_reply(struct smtp_conn *conn, struct lmtp_reply *reply_r,
			 lmtp_reply_line_callback_t *line_cb, void *context,
			 const char **error_r);
/* smtp_conn_write - size bytes as they are (DATA content) */
int smtp_conn_write(struct smtp_conn *conn, const void *data, size_t size,
		    const char **error_r);

#endif
