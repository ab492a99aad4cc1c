/*
 * stats_peer - who may say what on the stats-writer socket.
 *
 * The socket is mode 0666: loft-lda runs as any mail user and reports
 * there, so any local user can connect. What a connection may report is
 * decided by its kernel credentials (SO_PEERCRED at accept), never by
 * what its Hello claims:
 *
 *   master   the pid and uid of loftd (loft-stats' parent; root): service
 *            status, reload answers, its own log lines
 *   service  a pid loftd reported as a child of that service (MasterStatus
 *            pids, or /proc says its parent is loftd) running as the
 *            service's configured user: its own sessions, deliveries,
 *            concurrency slots
 *   user     anything else (loft-lda, or any local user): sessions and
 *            deliveries only, attributed to service "lda" and the pid the
 *            kernel gives, a few sessions at a time; a user other than
 *            root only deliveries that ran as its own uid
 *
 * A message a peer may not send, or one that makes no sense, is logged
 * (at most once per STATS_PEER_LOG_MSECS per uid, with the number of
 * lines left out) and the peer is disconnected.
 */
#ifndef LOFT_STATS_PEER_H
#define LOFT_STATS_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_envelope.h"
#include "settings.h"

/* what a connection's credentials prove */
enum stats_peer_trust {
	STATS_PEER_PENDING,	/* no Hello yet */
	STATS_PEER_USER,	/* a local user: loft-lda, or anyone */
	STATS_PEER_SERVICE,	/* a service process loftd started */
	STATS_PEER_MASTER,	/* loftd itself */
};

/* limits for a connection of a local user (trust USER) */
#define STATS_PEER_USER_SESSIONS_MAX 4u
#define STATS_PEER_USER_USERS_MAX 16u
#define STATS_PEER_USER_QUEUE_MAX (64u * 1024u)
/* the longest frame a peer of a uid other than 0 may send until it is
   proven a service (loft-lda's are a few KB: header values are capped
   at 1000 bytes); 128 connections of IPC_FRAME_MAX each outgrew
   default_vsz_limit and aborted loft-stats */
#define STATS_PEER_USER_FRAME_MAX (64u * 1024u)
/* connections at once from one uid other than 0 */
#define STATS_PEER_UID_CONNS_MAX 128u
/* the sessions one service process may keep in the table */
#define STATS_PEER_SERVICE_SESSIONS_MAX 100000u
/* complaints about one uid's peers: one line per interval */
#define STATS_PEER_LOG_MSECS 10000u
#define STATS_PEER_LOG_UIDS 32u

/* stats_peer_may_send - whether a peer of this trust may send body */
bool stats_peer_may_send(enum stats_peer_trust trust,
			 Loft__Envelope__BodyCase body);
/* stats_peer_delivery_refusal - NULL when a peer of trust and kernel uid
   peer_uid may report a delivery that ran as uid (has_uid false: none
   said), else why not. A user peer that is not root (loft-lda run by a
   user) reports the deliveries of its own uid only, so no user puts a
   record under another's uid (one that says none is recorded under the
   peer's: stats_server); root (a setuid-root loft-lda too) and services
   may report any. */
const char *stats_peer_delivery_refusal(enum stats_peer_trust trust,
					uid_t peer_uid, bool has_uid,
					uint32_t uid);
/* stats_peer_trust_name - "master", "service", "user", "unidentified" */
const char *stats_peer_trust_name(enum stats_peer_trust trust);

/* stats_peer_parent_pid - pid's parent from /proc/PID/stat; 0, or -1
   when it cannot be read (gone, or /proc hidden) */
int stats_peer_parent_pid(pid_t pid, pid_t *ppid_r);
/* stats_peer_process_alive - pid runs (exists and is no zombie) */
bool stats_peer_process_alive(pid_t pid);
/* stats_peer_process_uid - pid's effective uid from /proc/PID/status
   (what SO_PEERCRED reports); 0, or -1 when it cannot be read */
int stats_peer_process_uid(pid_t pid, uid_t *uid_r);

/* The uids the configured services run as (resolved once, before
   loft-stats drops privileges: NSS may not be reachable afterwards). */
struct stats_peer_uids;

/* stats_peer_uids_create - a service with an empty user runs as
   master_uid (loftd's: root) */
struct stats_peer_uids *stats_peer_uids_create(const struct loft_settings *set,
					       uid_t master_uid);
void stats_peer_uids_free(struct stats_peer_uids **uids);
/* stats_peer_uids_match - service runs as uid (false for an unknown
   service, or a user that could not be resolved) */
bool stats_peer_uids_match(const struct stats_peer_uids *uids,
			   const char *service, uid_t uid);

/* Rate limit for complaints about peers, per uid. */
struct stats_peer_logs;

struct stats_peer_logs *stats_peer_logs_create(void);
void stats_peer_logs_free(struct stats_peer_logs **logs);
/* stats_peer_logs_allow - true when a line about uid may be logged now;
   *suppressed_r gets how many were left out since the last one */
bool stats_peer_logs_allow(struct stats_peer_logs *logs, uid_t uid,
			   uint64_t now_msecs, unsigned int *suppressed_r);

#endif
