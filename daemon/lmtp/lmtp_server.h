/*
 * lmtp_server - one loft-lmtp process: its listeners, its sessions and the
 * worker threads that run their blocking steps.
 *
 * Many sessions share the process's event loop; userdb lookups and
 * deliveries (fsync, locks) run on the workpool, so one slow disk never
 * stalls the other sessions. Shutdown is graceful: stop accepting, end idle
 * sessions with 421, let transactions in progress finish, then report idle.
 *
 * Started by loftd, the server applies its service's client_limit and
 * service_count, reports every change of its session count (for the
 * status channel, lib/service_child.h), and on listeners with
 * `haproxy = yes` reads the PROXY protocol header of each client (5 s at
 * most) before the session starts with the address the header gives. With
 * TLS configured (ssl_* settings) sessions offer STARTTLS, and clients of
 * `ssl = yes` listeners start with the TLS handshake (lmtp_tls.c).
 */
#ifndef LOFT_LMTP_SERVER_H
#define LOFT_LMTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "evloop.h"
#include "settings.h"

struct lmtp_server;

typedef void lmtp_server_idle_callback_t(void *context);
/* sessions open (clients waiting for their PROXY header included), free
   slots (0 while not accepting), connections accepted since the start */
typedef void lmtp_server_status_callback_t(unsigned int sessions,
					   unsigned int available,
					   uint64_t served, void *context);

/* How long a client on a haproxy listener may take to send its header. */
#define LMTP_SERVER_PROXY_TIMEOUT_MSECS 5000

/* lmtp_server_create - set must outlive the server */
struct lmtp_server *lmtp_server_create(struct evloop *loop,
				       const struct loft_settings *set,
				       unsigned int worker_threads);
void lmtp_server_free(struct lmtp_server **server);

/* lmtp_server_set_service - apply svc's client_limit (else
   default_client_limit) and service_count: after that many connections
   the listeners close and done_cb runs once the last session is gone */
void lmtp_server_set_service(struct lmtp_server *server,
			     const struct service_settings *svc,
			     lmtp_server_idle_callback_t *done_cb,
			     void *context);
/* lmtp_server_set_status_callback - cb runs after every change of the
   session count */
void lmtp_server_set_status_callback(struct lmtp_server *server,
				     lmtp_server_status_callback_t *cb,
				     void *context);

/* lmtp_server_listen - accept sessions from a listening socket; haproxy:
   every client starts with a PROXY protocol header (an invalid or late
   one closes the connection with a warning); ssl: then the TLS handshake
   (ssl = yes listeners; without lmtp_server_set_tls() their clients are
   refused) */
void lmtp_server_listen(struct lmtp_server *server, int fd, bool haproxy,
			bool ssl);
/* lmtp_server_set_tls - serve TLS with tls (owned by the server from now
   on): STARTTLS is offered, ssl = yes listeners work and ssl = required
   applies. NULL: no TLS. */
struct tls_server;
void lmtp_server_set_tls(struct lmtp_server *server, struct tls_server *tls);
/* lmtp_server_add_client - serve one session on in_fd/out_fd (stdin and
   stdout when started by hand); peer NULL = "local" */
void lmtp_server_add_client(struct lmtp_server *server, int in_fd, int out_fd,
			    const char *peer_ip, unsigned int peer_port);

/* lmtp_server_shutdown - stop accepting; idle sessions get 421 at once,
   busy ones after their transaction (now: sessions receiving data are
   dropped too; deliveries already running always finish). cb runs once
   no session is left. */
void lmtp_server_shutdown(struct lmtp_server *server, bool now,
			  lmtp_server_idle_callback_t *cb, void *context);
/* lmtp_server_retire - a reload made this process the old generation:
   stop accepting, let every session go on to its own end (QUIT, the idle
   timeout, a kick), then cb runs. Nothing is said to the clients. */
void lmtp_server_retire(struct lmtp_server *server,
			lmtp_server_idle_callback_t *cb, void *context);
/* lmtp_server_on_idle - cb runs once when the last session has gone
   (a process serving one session on stdin/stdout exits then) */
void lmtp_server_on_idle(struct lmtp_server *server,
			 lmtp_server_idle_callback_t *cb, void *context);
unsigned int lmtp_server_session_count(const struct lmtp_server *server);
/* lmtp_server_kick - `loftadm kick`: the session with this id (its
   "Connect from" log line names it) gets 421 4.3.2 once any delivery in
   progress has been answered; no such session: nothing happens */
void lmtp_server_kick(struct lmtp_server *server, const char *session_id);
/* lmtp_server_jobs_pending - userdb lookups and deliveries submitted to
   the worker threads whose completion has not been handled on the loop
   yet. With evloop_run_once() a caller driving the loop by hand (the
   session fuzzer) knows that the sessions are idle when this is 0 and a
   round with timeout 0 runs nothing. */
unsigned int lmtp_server_jobs_pending(const struct lmtp_server *server);

#endif
