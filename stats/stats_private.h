/*
 * stats_private - the state loft-stats shares between its event loop
 * (stats_server.c: peers reporting over the stats-writer socket) and its
 * HTTP thread (stats_api.c). One mutex, `lock`, guards everything below
 * it; the loop thread takes it for each message, HTTP handlers for each
 * request.
 */
#ifndef LOFT_STATS_PRIVATE_H
#define LOFT_STATS_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "evloop.h"
#include "ipc_conn.h"
#include "settings.h"
#include "stats_errors.h"
#include "stats_http.h"
#include "stats_journal.h"
#include "stats_metrics.h"
#include "stats_sessions.h"
#include "stats_store.h"

/* a reporting process (or loftd) connected to the stats-writer socket */
struct stats_peer {
	struct stats_peer *next;
	struct stats_server *server;
	struct ipc_conn *conn;
	int owner;		/* session table owner id */
	Loft__Role role;
	char service[32];
	unsigned int pid;
	bool hello_seen;
};

/* A master command (reload, log-reopen) waiting for loftd's answer.
   With a callback (the admin socket, on the loop thread) it is called and
   the wait freed when the answer comes; without one (an HTTP request) done
   is set and reload_cond broadcast, and the waiter unlinks it. */
struct stats_master_wait {
	struct stats_master_wait *next;
	uint64_t id;
	bool done, ok;
	char error[512];
	void (*callback)(struct stats_master_wait *wait, void *context);
	void *context;
};

struct stats_server {
	struct evloop *loop;
	const struct loft_settings *set;
	struct evloop_io *listen_io;
	int listen_fd;
	struct stats_http *http;
	uint64_t start_usecs;
	struct evloop_timer *own_errors_timer;
	uint64_t own_log_failures;	/* log_write_failures() counted */

	pthread_mutex_t lock;
	pthread_cond_t reload_cond;
	/* everything from here on is guarded by lock */
	struct stats_peer *peers;
	int next_owner;
	struct stats_sessions *sessions;
	struct stats_metrics *metrics;
	struct stats_journal *journal;
	struct stats_errors *errors;
	struct stats_store *store;	/* the disk journal, or NULL */
	struct stats_store_counters journal_seen; /* counted into metrics */
	uint64_t journal_unreported_dropped, journal_unreported_failures;
	uint64_t journal_reported_usecs;
	char **debug_masks;
	size_t debug_count;
	struct stats_peer *master;	/* loftd, when connected */
	Loft__MasterStatus *master_status; /* last report (owned copy) */
	uint64_t master_status_usecs;
	uint64_t reloads_ok_seen, reloads_failed_seen;
	uint64_t next_request_id;
	struct stats_master_wait *master_waits;
	struct evloop_io *admin_io;
	int admin_fd;
	struct stats_admin_client *admins;	/* loop thread only */
};

/* stats_server.c */
/* stats_server_peer_create - a reporter as if just accepted: a fresh
   owner id, linked, no connection yet (listener_accept adds it; without
   one, as in the fuzzer that feeds envelopes in-process, what loft-stats
   sends the peer is dropped) */
struct stats_peer *stats_server_peer_create(struct stats_server *server);
/* stats_server_peer_message - what one decoded envelope from peer does
   to the state (its Hello already checked, as ipc_conn does); takes the
   lock */
void stats_server_peer_message(struct stats_peer *peer,
			       const Loft__Envelope *env);
/* stats_server_peer_close - peer is gone (reason "EOF", or why it was
   dropped): its sessions and slots go, and it is freed; takes the lock */
void stats_server_peer_close(struct stats_peer *peer, const char *reason);
/* stats_server_broadcast_debug - send the debug masks to every service */
void stats_server_broadcast_debug(struct stats_server *server);
/* stats_server_services - per-service metric values (free with
   stats_server_services_free) */
void stats_server_services(struct stats_server *server,
			   struct stats_metrics_services *services_r);
void stats_server_services_free(struct stats_metrics_services *services);

/* stats_admin.c */
/* stats_admin_answer - loftadm's request req from a peer with uid (and
   pid, for the log): 1 when answered now, with *status_r (loftadm's exit
   code), *json_r (the caller's, or NULL) and *error_r (static or
   thread-local, or NULL); 0 for a master command (reload, log-reopen),
   which the caller hands to loftd (stats_ops_master_command). The admin
   socket's request parser; exposed for the fuzzer. */
int stats_admin_answer(struct stats_server *server, uid_t uid, pid_t pid,
		       const Loft__AdminRequest *req, unsigned int *status_r,
		       json_object **json_r, const char **error_r);
void stats_admin_listen(struct stats_server *server, int fd);
void stats_admin_close_all(struct stats_server *server);

/* stats_api.c */
extern const struct stats_http_route stats_api_routes[];
extern const size_t stats_api_route_count;
/* stats_api_doveadm_auth - the HTTP module's extra_auth hook */
bool stats_api_doveadm_auth(const char *authorization, void *context);

#endif
