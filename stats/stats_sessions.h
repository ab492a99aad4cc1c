/*
 * stats_sessions - loft-stats' live session table (the anvil half of the
 * process): which service process serves which client and user right
 * now, behind `loftadm who`, `kick`, GET /api/v1/who and the
 * loft_sessions_active gauge; plus the per-user concurrency slots that
 * enforce lmtp_user_concurrency_limit across all LMTP processes.
 *
 * Every session records the `owner` that reported it: an opaque id of the
 * IPC connection of the service process, used to route kicks and to drop
 * all of a process's sessions (and their slots) when it disconnects.
 *
 * Not thread-safe: the stats process serialises calls with one mutex.
 */
#ifndef LOFT_STATS_SESSIONS_H
#define LOFT_STATS_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "stats_match.h"

/* One live session. In the table every string is an owned copy (never
   NULL except client_ip and state, which may be); callers of
   stats_sessions_start pass their own strings, which are copied. */
struct stats_session {
	char *id;		/* session id, without :T/:R suffixes */
	char *service;		/* "lmtp", "lda" ... */
	unsigned int pid;
	char *client_ip;
	unsigned int client_port;
	char *state;		/* "lhlo", "mail", "rcpt", "data" ... */
	char **users;		/* the recipients/users known so far */
	size_t user_count;
	uint64_t start_usecs;	/* wall clock, usecs since the epoch */
	uint64_t bytes_in;
	int owner;		/* opaque id of the reporting connection */
};

struct stats_sessions;

typedef void stats_sessions_callback_t(const struct stats_session *session,
				       void *context);

struct stats_sessions *stats_sessions_create(void);
/* stats_sessions_free - free the table and every session; NULLs *table */
void stats_sessions_free(struct stats_sessions **table);

/* stats_sessions_start - add a copy of session (id must not be NULL, a
   NULL service is stored as ""; users may be NULL when user_count is 0). Strings longer than
   STATS_JSON_MAX_STRING are cut and invalid UTF-8 bytes become '?'. A
   session whose id is already in the table under the same owner
   replaces it, as if the old one had ended first (its concurrency slots
   are released). 1 added, 0 replaced, -1 refused: the id belongs to
   another owner (no connection can take over another's session). */
int stats_sessions_start(struct stats_sessions *table,
			 const struct stats_session *session);
/* stats_sessions_update - change a session: state (NULL keeps it), the
   user list (users NULL keeps it; a non-NULL array of user_count entries
   replaces it, also with 0 entries), bytes_in (the running total, kept
   when lower than the stored value). false when id is not in the table
   (ignored: e.g. its start event was dropped) or belongs to another
   owner (refused). */
bool stats_sessions_update(struct stats_sessions *table, const char *id,
			   int owner, const char *state,
			   const char *const *users, size_t user_count,
			   uint64_t bytes_in);
/* stats_sessions_end - remove session id and release every concurrency
   slot owner took for it (also when the session itself was never
   started); false when id was not in the table or is another owner's
   (then nothing changes). */
bool stats_sessions_end(struct stats_sessions *table, const char *id,
			int owner);
/* stats_sessions_end_owner - remove all sessions reported by owner (its
   process disconnected) and release every concurrency slot it took,
   for those sessions or any other id; the number of sessions removed */
size_t stats_sessions_end_owner(struct stats_sessions *table, int owner);

/* stats_sessions_lookup - the session with id (suffixes ignored), or
   NULL; valid until the table is next changed */
const struct stats_session *
stats_sessions_lookup(const struct stats_sessions *table, const char *id);
/* stats_sessions_foreach - call cb for every session matching filter
   (NULL or empty: all) in start order (oldest first, then by id); cb
   must not change the table (collect ids, then end/kick them). Returns
   the number of sessions passed to cb. */
size_t stats_sessions_foreach(const struct stats_sessions *table,
			      const struct stats_filter *filter,
			      stats_sessions_callback_t *cb, void *context);
/* stats_sessions_count - sessions in the table */
size_t stats_sessions_count(const struct stats_sessions *table);
/* stats_sessions_count_service - sessions of service (exact name), for
   loft_sessions_active{service} */
size_t stats_sessions_count_service(const struct stats_sessions *table,
				    const char *service);

/* stats_sessions_who_json - the sessions matching filter (NULL: all) as a
   JSON array, the caller owns it (json_object_put).
   per_session = false groups like `doveadm who`: one object per (user,
   service), sorted by username then service:
     {"username", "connections", "service", "pids": [...], "ips": [...]}
   with pids and ips distinct and sorted. A session with several users (an
   LMTP transaction with several recipients) counts once for each of them;
   sessions that have no user yet are grouped under username "".
   per_session = true: one object per session, oldest first:
     {"session", "service", "pid", "user" (first user or ""), "users":
      [...], "ip" (or ""), "port", "state" (or ""), "start" (RFC 3339 UTC
      with microseconds), "age_secs", "bytes_in"}
   age_secs is measured against now_usecs (0: the wall clock). */
json_object *stats_sessions_who_json(const struct stats_sessions *table,
				     const struct stats_filter *filter,
				     bool per_session, uint64_t now_usecs);

/* stats_sessions_concurrency_acquire - take a delivery slot of user for
   session_id (users compared case-insensitively; the id's :T/:R suffixes
   are ignored, so slots belong to the session) on behalf of owner, the
   connection that asks; the slot goes when owner ends the session or
   disconnects. A session holds at most one slot per user: acquiring
   again succeeds without taking another. limit 0 = unlimited. true when
   the slot is held; false when limit slots are taken by other sessions,
   or session_id is another owner's (a started session or a slot).
   *current_r (may be NULL) gets the number of slots of user held
   afterwards (when refused: held now). */
bool stats_sessions_concurrency_acquire(struct stats_sessions *table,
					const char *user, const char *session_id,
					int owner, unsigned int limit,
					unsigned int *current_r);
/* stats_sessions_concurrency_release - give back session_id's slot of
   user when owner took it; nothing otherwise */
void stats_sessions_concurrency_release(struct stats_sessions *table,
					const char *user,
					const char *session_id, int owner);
/* stats_sessions_concurrency_count - slots of user held now */
unsigned int stats_sessions_concurrency_count(const struct stats_sessions *table,
					      const char *user);

#endif
