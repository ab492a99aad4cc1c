/*
 * auth_server - loft-auth's listeners and connections: Dovecot's
 * auth-master protocol (daemon/delivery/auth_proto.h) answering userdb
 * lookups from the config's userdb blocks.
 *
 * Per connection: the peer's credentials are checked against the
 * listener's socket file (auth_peer.h) before anything is read; the first
 * line must be VERSION with major 1; then USER requests are answered one
 * at a time, in order (a lookup runs on the workpool, and the connection
 * reads nothing more until its reply is queued), PASS gets FAIL (loft has
 * no passdb) and LIST gets the users of the passwd-file userdbs whose
 * path has no variables, then DONE (`DONE <id> fail` when no userdb can
 * be listed or a file cannot be read). A request line longer than
 * AUTH_PROTO_MAX_REQUEST, a line that does not parse or an unknown
 * command closes the connection, as Dovecot does. Memory per connection
 * is bounded: the input buffer by the line limit, the output by
 * AUTH_SERVER_MAX_OUTPUT (reading and listing pause above it). A
 * connection idle for AUTH_SERVER_IDLE_MSECS is closed. A restricted peer
 * (a stranger on a 0666 socket) may hold AUTH_SERVER_RESTRICTED_PER_UID
 * connections per uid in a process: more are closed at once (logged at
 * most once per AUTH_SERVER_REFUSAL_LOG_MSECS), so one local user cannot
 * take every client_limit slot and fail other users' loft-lda lookups.
 *
 * A name is checked as the delivery path checks it (userdb_lookup_name:
 * auth_username_translation, auth_username_chars, control characters,
 * auth_username_format) before any userdb sees it; a refused name is
 * NOTFOUND. Replies carry uid and gid as numbers (names are resolved), as
 * Dovecot's tools expect.
 */
#ifndef LOFT_AUTH_SERVER_H
#define LOFT_AUTH_SERVER_H

#include <stdint.h>

#include "auth_peer.h"
#include "evloop.h"
#include "settings.h"

#define AUTH_SERVER_MAX_OUTPUT (64U * 1024)
#define AUTH_SERVER_IDLE_MSECS (60U * 1000)
#define AUTH_SERVER_WORKER_THREADS 4
#define AUTH_SERVER_RESTRICTED_PER_UID 32U
#define AUTH_SERVER_REFUSAL_LOG_MSECS (10U * 1000)

struct auth_server;

/* called with sessions, free slots and connections served so far */
typedef void auth_server_status_callback_t(unsigned int sessions,
					   unsigned int available,
					   uint64_t served, void *context);
/* called once when the server has stopped accepting and is idle */
typedef void auth_server_done_callback_t(void *context);

/* auth_server_create - serve set's userdbs; client_limit connections at
   most, service_count connections in all (0: no limit) */
struct auth_server *auth_server_create(struct evloop *loop,
				       const struct loft_settings *set,
				       unsigned int client_limit,
				       unsigned int service_count,
				       auth_server_status_callback_t *status_cb,
				       auth_server_done_callback_t *done_cb,
				       void *context);
/* auth_server_listen - accept on fd (non-blocking), whose socket file
   grants per policy; name is for the log */
void auth_server_listen(struct auth_server *server, int fd, const char *name,
			const struct auth_peer_policy *policy);
/* auth_server_shutdown - stop accepting; done_cb runs once the
   connections with a lookup in progress have been answered (idle ones are
   closed at once) */
void auth_server_shutdown(struct auth_server *server);
/* auth_server_free - close everything, finish running lookups */
void auth_server_free(struct auth_server **server);

#endif
