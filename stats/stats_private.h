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

#include "evloop.h"
#include "ipc_conn.h"
#include "settings.h"
#include "stats_errors.h"
#include "stats_http.h"
#include "stats_journal.h"
#include "stats_metrics.h"
#include "stats_peer.h"
#include "stats_resume.h"
#include "stats_sessions.h"
#include "stats_state.h"
#include "stats_store.h"

/* a reporting process (or loftd) connected to the stats-writer socket */
struct accept_backoff;

struct stats_peer {
	struct stats_peer *next;
	struct stats_server *server;
	struct ipc_conn *conn;
	int owner;		/* session table owner id */
	/* what the kernel says (SO_PEERCRED at accept) */
	uid_t uid;
	pid_t cred_pid;
	/* cred_pid was a child of loftd when we accepted (a reporter that
	   exits soon after, e.g. a retired loft-lmtp handing over, is still
	   known for one at its Hello) */
	bool loftd_child;
	/* what those credentials allow (stats_peer.h), set at Hello */
	enum stats_peer_trust trust;
	Loft__Role role;	/* as claimed in its Hello */
	char service[32];	/* "lda" for a USER peer */
	unsigned int pid;
	unsigned int sessions;	/* its sessions in the table */
	bool announced;		/* sent Announced (stats_resume.h) */
};

/* A master command (reload, log-reopen) waiting for loftd's answer.
   When the answer comes, done, ok and error are set, the wait unlinked
   and its callback called (on the loop thread, lock held): the admin
   socket replies, the HTTP API resumes its deferred request. */
struct stats_master_wait {
	struct stats_master_wait *next;
	uint64_t id;
	bool done, ok;
	char error[512];
	void (*callback)(struct stats_master_wait *wait, void *context);
	void *context;
};

/* failed HTTP authentications of one address, for rate-limited logging
   (stats_api.c); the last slot is shared by every address beyond */
#define STATS_AUTH_LOG_PEERS 16
struct stats_auth_log_peer {
	char ip[46];		/* INET6_ADDRSTRLEN */
	uint64_t last_msecs;	/* last line logged (monotonic), 0 = never */
	unsigned int suppressed;	/* failures not logged since */
};

struct stats_server {
	struct evloop *loop;
	const struct loft_settings *set;
	struct evloop_io *listen_io;
	int listen_fd;
	struct accept_backoff *listen_backoff, *admin_backoff;
	struct stats_http *http;
	uint64_t start_usecs;
	struct evloop_timer *own_errors_timer;
	uint64_t own_log_failures;	/* log_write_failures() counted */
	pid_t master_pid;		/* loftd (our parent), 0 standalone */
	uid_t master_uid;		/* its uid: root */
	struct stats_peer_uids *peer_uids;
	struct evloop_timer *resume_timer;	/* while resume is set */

	pthread_mutex_t lock;
	/* everything from here on is guarded by lock */
	struct stats_peer *peers;
	int next_owner;
	struct stats_peer_logs *peer_logs;
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
	/* concurrency questions wait for the slots held before us to be
	   announced again; NULL once that is over (or standalone) */
	struct stats_resume *resume;
	struct stats_peer *master;	/* loftd, when connected */
	Loft__MasterStatus *master_status; /* last report (owned copy) */
	uint64_t master_status_usecs;
	struct stats_state *state;	/* counters that outlive us */
	struct stats_state_server *persist; /* in state */
	uint64_t next_request_id;
	struct stats_master_wait *master_waits;
	struct evloop_io *admin_io;
	int admin_fd;
	struct stats_admin_client *admins;	/* loop thread only */
	struct stats_auth_log_peer auth_log[STATS_AUTH_LOG_PEERS];
};

/* stats_server.c */
/* stats_server_peer_create - a reporter with these credentials (what
   SO_PEERCRED says at accept), as if just accepted: linked, a fresh owner
   id, no connection (without one, as in the fuzzer that feeds envelopes
   in-process, what loft-stats sends it is dropped); NULL when its uid has
   too many connections. Takes the lock. */
struct stats_peer *stats_server_peer_create(struct stats_server *server,
					    uid_t uid, pid_t pid);
/* stats_server_peer_message - what one decoded envelope from peer does
   (its Hello already checked by the framing, as ipc_conn does); false
   when the peer was dropped for it (peer is freed). Takes the lock. */
bool stats_server_peer_message(struct stats_peer *peer,
			       const Loft__Envelope *env);
/* stats_server_peer_close - peer is gone (reason "EOF", or why it was
   dropped): its sessions and slots go, and it is freed. Takes the lock. */
void stats_server_peer_close(struct stats_peer *peer, const char *reason);
/* stats_server_peer_send - env to one peer (dropped without a
   connection); callable from the HTTP thread (threaded conn) */
void stats_server_peer_send(struct stats_peer *peer, const Loft__Envelope *env);
/* stats_server_accept_failed - an accept() of the listener behind
   backoff failed: pause it, and log (what: error) at most once per
   interval */
void stats_server_accept_failed(struct accept_backoff *backoff,
				const char *what, const char *error);
/* stats_server_broadcast_debug - send the debug masks to every service */
void stats_server_broadcast_debug(struct stats_server *server);
/* stats_server_save_debug - keep the debug masks in the state file, for
   the next loft-stats (lock held) */
void stats_server_save_debug(struct stats_server *server);
/* stats_server_services - per-service metric values (free with
   stats_server_services_free) */
void stats_server_services(struct stats_server *server,
			   struct stats_metrics_services *services_r);
void stats_server_services_free(struct stats_metrics_services *services);

/* stats_slots.c: concurrency questions and releases of a service peer,
   and the wait for the slots held before this loft-stats
   (stats_resume.h); lock held but for start and stop */
void stats_slots_acquire(struct stats_peer *peer,
			 const Loft__ConcurrencyAcquire *m);
void stats_slots_release(struct stats_peer *peer,
			 const Loft__ConcurrencyRelease *m);
/* stats_slots_session_end - a session of peer's ended */
void stats_slots_session_end(struct stats_peer *peer, const char *session_id);
/* stats_slots_announced - peer announced every slot it holds */
void stats_slots_announced(struct stats_peer *peer);
/* stats_slots_peer_gone - peer, unlinked, is about to be freed */
void stats_slots_peer_gone(struct stats_peer *peer);
/* stats_slots_master_status - a report of loftd's (its first says
   which loft-lmtp processes to wait for) */
void stats_slots_master_status(struct stats_server *server,
			       const Loft__MasterStatus *m);
/* stats_slots_start - wait (loftd started us); stats_slots_stop - free */
void stats_slots_start(struct stats_server *server);
void stats_slots_stop(struct stats_server *server);

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
/* stats_api_start - serve the HTTP API with hs (listener fields set by
   the caller; credentials, hooks and Host names are filled in here) */
int stats_api_start(struct stats_server *server,
		    struct stats_http_settings *hs, const char **error_r);
/* stats_api_http_listener - the config's `service stats { inet_listener
   http { } }`, or NULL */
const struct listener_settings *
stats_api_http_listener(const struct loft_settings *set);

#endif
