/*
 * lmtp_stats - loft-lmtp's side of loft-stats: it reports sessions,
 * deliveries, timings and log lines, answers kick and debug commands, and
 * asks for a per-user concurrency slot at RCPT.
 *
 * Nothing here ever waits for loft-stats: reports are dropped and counted
 * when it is slow or gone (stats_client), and a concurrency question that
 * gets no answer within LMTP_STATS_CONCURRENCY_MSECS, or cannot be asked
 * because loft-stats is not connected, is answered "allowed" (fail open:
 * mail flows; the limit is a protection, not a correctness rule). One
 * unanswered question opens a breaker: from then on every question is
 * answered "allowed" at once (and still sent, so the slot is counted)
 * until loft-stats answers one or reconnects, so a stopped loft-stats
 * costs one 500 ms wait, not one per RCPT. After a reconnect every live
 * session is announced again, with the slots it holds, then Announced: a
 * new loft-stats holds questions until it has that from every loft-lmtp
 * (at most STATS_RESUME_HOLD_MSECS, 300, so this side's breaker stays
 * shut). Slots are given back at once, not with the next batch.
 */
#ifndef LOFT_LMTP_STATS_H
#define LOFT_LMTP_STATS_H

#include <stdbool.h>

struct lmtp_server;
struct lmtp_session;
struct lmtp_stats;

#define LMTP_STATS_CONCURRENCY_MSECS 500

/* lmtp_stats_create - connect to base_dir/stats-writer; also installs the
   process's delivery hooks and log forwarding */
struct lmtp_stats *lmtp_stats_create(struct lmtp_server *server);
void lmtp_stats_free(struct lmtp_stats **stats);

void lmtp_stats_session_start(struct lmtp_stats *stats,
			      const struct lmtp_session *session);
void lmtp_stats_session_update(struct lmtp_stats *stats,
			       const struct lmtp_session *session);
void lmtp_stats_session_end(struct lmtp_stats *stats,
			    const struct lmtp_session *session);

/* lmtp_stats_tls_handshake - a TLS handshake ended, done or failed */
void lmtp_stats_tls_handshake(struct lmtp_stats *stats, bool ok);

/* lmtp_stats_debug_user - is user under `loftadm debug MASK on`? (any
   thread) */
bool lmtp_stats_debug_user(struct lmtp_stats *stats, const char *user);

/* lmtp_stats_concurrency_acquire - ask for one of user's `limit` slots
   for session; cb runs later on the loop thread with the answer (or at once
   with allowed=true when it cannot be asked). The request is forgotten
   when the session goes (lmtp_stats_forget_session). */
typedef void lmtp_stats_concurrency_callback_t(bool allowed,
					      unsigned int current,
					      void *context);
void lmtp_stats_concurrency_acquire(struct lmtp_stats *stats,
				    struct lmtp_session *session,
				    const char *user, unsigned int limit,
				    lmtp_stats_concurrency_callback_t *cb,
				    void *context);
void lmtp_stats_concurrency_release(struct lmtp_stats *stats,
				    const struct lmtp_session *session,
				    const char *user);
/* lmtp_stats_forget_session - drop pending requests of a freed session */
void lmtp_stats_forget_session(struct lmtp_stats *stats,
			       const struct lmtp_session *session);

#endif
