/*
 * lmtp_server - one loft-lmtp process: its listeners, its sessions and the
 * worker threads that run their blocking steps.
 *
 * Many sessions share the process's event loop; userdb lookups and
 * deliveries (fsync, locks) run on the workpool, so one slow disk never
 * stalls the other sessions. Shutdown is graceful: stop accepting, end idle
 * sessions with 421, let transactions in progress finish, then report idle.
 */
#ifndef LOFT_LMTP_SERVER_H
#define LOFT_LMTP_SERVER_H

#include <stdbool.h>

#include "evloop.h"
#include "settings.h"

struct lmtp_server;

typedef void lmtp_server_idle_callback_t(void *context);

/* lmtp_server_create - set must outlive the server */
struct lmtp_server *lmtp_server_create(struct evloop *loop,
				       const struct loft_settings *set,
				       unsigned int worker_threads);
void lmtp_server_free(struct lmtp_server **server);

/* lmtp_server_listen - accept sessions from a listening socket */
void lmtp_server_listen(struct lmtp_server *server, int fd);
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
/* lmtp_server_on_idle - cb runs once when the last session has gone
   (a process serving one session on stdin/stdout exits then) */
void lmtp_server_on_idle(struct lmtp_server *server,
			 lmtp_server_idle_callback_t *cb, void *context);
unsigned int lmtp_server_session_count(const struct lmtp_server *server);

#endif
