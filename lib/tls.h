/*
 * tls - server-side TLS with OpenSSL on loft's non-blocking sockets.
 *
 * A tls_server is the SSL_CTX built from the ssl_* settings (Dovecot's
 * names and meanings: PEM text read with `<file`, ssl_min_protocol,
 * ssl_cipher_list, ...); building it is also how loftd checks them at
 * start-up and reload. A tls_conn is one connection's TLS state on a
 * socket the caller owns and watches with evloop: each call does what the
 * socket allows now, and when it would block says which readiness
 * (EVLOOP_READ or EVLOOP_WRITE) it waits for, since a TLS read may need
 * to write and a write to read. Everything runs on the caller's thread.
 *
 * A tls_client is the other side, for the LMTP proxy's connections to
 * its backends: the SSL_CTX that verifies a server's certificate against
 * ssl_client_ca_file / ssl_client_ca_dir (Dovecot's names) and its name;
 * its connections are tls_conn too.
 *
 * Per connection OpenSSL holds at most one record each way (about 34 KB)
 * and releases its buffers while idle; renegotiation is refused.
 */
#ifndef LOFT_TLS_H
#define LOFT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "settings.h"

struct tls_server;
struct tls_client;
struct tls_conn;

/* tls_server_create - an SSL_CTX from set's ssl_* settings (ssl itself is
   not looked at); 0, or -1 with *error_r naming the setting at fault
   ("ssl_key: does not match ssl_cert"), valid until the next call from
   the same thread */
int tls_server_create(const struct loft_settings *set,
		      struct tls_server **server_r, const char **error_r);
void tls_server_free(struct tls_server **server);
/* tls_server_cert_serial - hex serial number of the served certificate
   (for log lines: which certificate a process serves) */
const char *tls_server_cert_serial(const struct tls_server *server);

/* tls_client_create - an SSL_CTX for connecting to servers: CAs from
   ssl_client_ca_file and ssl_client_ca_dir (both empty: OpenSSL's default
   paths), ssl_min_protocol, ssl_cipher_list and ssl_cipher_suites; 0, or
   -1 with *error_r (as tls_server_create) */
int tls_client_create(const struct loft_settings *set,
		      struct tls_client **client_r, const char **error_r);
void tls_client_free(struct tls_client **client);
/* tls_client_require_valid_cert - ssl_client_require_valid_cert */
bool tls_client_require_valid_cert(const struct tls_client *client);

/* tls_conn_create_client - TLS as the client on connected socket fd (not
   owned). host: the server's name (or address) its certificate must be
   valid for, also sent as SNI when it is a name; NULL: any certificate
   is accepted (Dovecot's any-cert) */
struct tls_conn *tls_conn_create_client(struct tls_client *client, int fd,
					const char *host);

/* tls_conn_create - TLS as the server on connected socket fd (not owned:
   the caller closes it after tls_conn_free) */
struct tls_conn *tls_conn_create(struct tls_server *server, int fd);
/* tls_conn_free - sends close_notify when the handshake was done (best
   effort, never blocks), frees everything; sets *conn = NULL */
void tls_conn_free(struct tls_conn **conn);

/* tls_conn_handshake - go on with the handshake: 1 done, 0 waiting (for
   tls_conn_events()), -1 failed (*error_r says why, valid until the
   connection is freed) */
int tls_conn_handshake(struct tls_conn *conn, const char **error_r);
/* tls_conn_read - like read(2): bytes, 0 at the end of the stream, or -1
   with errno EAGAIN (wait for tls_conn_events()) or another errno (the
   reason in tls_conn_error()) */
ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t size);
/* tls_conn_write - like write(2) (partial writes happen); a retry after
   EAGAIN must offer at least the same bytes again (they may have moved) */
ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t size);
/* tls_conn_events - what to watch the socket for (EVLOOP_READ and/or
   EVLOOP_WRITE): until the handshake is done, what it waits for; then
   what lets the caller's reading (when reading) and writing (when
   writing) go on: readable for a read and writable for a write, unless
   the last one that would have blocked asked for the other */
unsigned int tls_conn_events(const struct tls_conn *conn, bool reading,
			     bool writing);
/* tls_conn_error - why the last call failed */
const char *tls_conn_error(const struct tls_conn *conn);
/* tls_conn_describe - "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
   (256/256 bits)" once the handshake is done */
const char *tls_conn_describe(struct tls_conn *conn);

#endif
