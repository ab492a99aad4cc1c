/*
 * lmtp_stats - loft-lmtp reporting to loft-stats and taking its commands
 * (see lmtp_stats.h).
 */
#include "lmtp_stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "delivery_stats.h"
#include "lmtp_private.h"
#include "log.h"
#include "mask.h"
#include "stats_report.h"

#define LMTP_STATS_LOG_FLUSH_MSECS 1000

struct concurrency_wait {
	struct concurrency_wait *next;
	uint64_t id;
	struct lmtp_session *session;
	char *user;		/* asked again of a new loft-stats */
	unsigned int limit;
	lmtp_stats_concurrency_callback_t *cb;
	void *context;
	struct evloop_timer *timer;
	struct lmtp_stats *stats;
};

struct lmtp_stats {
	struct lmtp_server *server;
	struct stats_client *client;
	struct evloop_timer *log_timer;

	pthread_mutex_t debug_lock;		/* workers read the masks */
	char **debug_masks;
	size_t debug_count;

	uint64_t next_id;
	struct concurrency_wait *waits;
	/* a question went unanswered: loft-stats is slow or stopped, so
	   RCPTs are allowed at once (the question is still sent, and its
	   answer closes the breaker) until it answers again */
	bool unresponsive;
};

/* session_report - the session as loft-stats sees it */
static void session_report(const struct lmtp_session *session,
			   struct stats_report_session *r, const char **users,
			   size_t max_users)
{
	const struct lmtp_transaction *trans = session->trans;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->session_id = session->id;
	r->service = "lmtp";
	r->client_ip = strcmp(session->peer_ip, "local") == 0 ? "" :
		session->peer_ip;
	r->client_port = session->peer_port;
	r->start_usecs = session->start_usecs;
	r->state = lmtp_session_state_name(session);
	r->bytes_in = session->bytes_in;
	for (size_t i = 0; trans != NULL && i < trans->rcpt_count &&
	     n < max_users; i++) {
		const struct lmtp_recipient *rcpt = &trans->rcpts[i];

		if (rcpt->duplicate_of < 0 && rcpt->user != NULL)
			users[n++] = rcpt->user->username;
	}
	r->users = users;
	r->user_count = n;
}

#define LMTP_STATS_MAX_USERS 64

void lmtp_stats_session_start(struct lmtp_stats *stats,
			      const struct lmtp_session *session)
{
	struct stats_report_session r;
	const char *users[LMTP_STATS_MAX_USERS];

	session_report(session, &r, users, LMTP_STATS_MAX_USERS);
	stats_report_session_start(stats->client, &r);
}

void lmtp_stats_session_update(struct lmtp_stats *stats,
			       const struct lmtp_session *session)
{
	struct stats_report_session r;
	const char *users[LMTP_STATS_MAX_USERS];

	session_report(session, &r, users, LMTP_STATS_MAX_USERS);
	stats_report_session_update(stats->client, &r);
}

void lmtp_stats_session_end(struct lmtp_stats *stats,
			    const struct lmtp_session *session)
{
	stats_report_session_end(stats->client, session->id);
}

void lmtp_stats_tls_handshake(struct lmtp_stats *stats, bool ok)
{
	stats_report_tls_handshake(stats->client, ok);
}

bool lmtp_stats_debug_user(struct lmtp_stats *stats, const char *user)
{
	bool match = false;

	if (user == NULL)
		return false;
	pthread_mutex_lock(&stats->debug_lock);
	for (size_t i = 0; i < stats->debug_count && !match; i++)
		match = mask_match(stats->debug_masks[i], user);
	pthread_mutex_unlock(&stats->debug_lock);
	return match;
}

/* set_debug_masks - DebugUsers replaces the whole list */
static void set_debug_masks(struct lmtp_stats *stats,
			    const Loft__DebugUsers *msg)
{
	pthread_mutex_lock(&stats->debug_lock);
	for (size_t i = 0; i < stats->debug_count; i++)
		free(stats->debug_masks[i]);
	free(stats->debug_masks);
	stats->debug_masks = xcalloc(msg->n_masks + 1, sizeof(char *));
	for (size_t i = 0; i < msg->n_masks; i++)
		stats->debug_masks[i] = xstrdup(msg->masks[i]);
	stats->debug_count = msg->n_masks;
	pthread_mutex_unlock(&stats->debug_lock);
}

/* wait_finish - unlink w, run its callback, free it */
static void wait_finish(struct lmtp_stats *stats, struct concurrency_wait *w,
			bool allowed, unsigned int current)
{
	for (struct concurrency_wait **p = &stats->waits; *p != NULL;
	     p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	if (w->timer != NULL)
		evloop_remove_timer(&w->timer);
	w->cb(allowed, current, w->context);
	free(w->user);
	free(w);
}

static int64_t wait_timeout(struct evloop_timer *timer, void *context)
{
	struct concurrency_wait *w = context;

	w->timer = NULL; /* removed by returning NOMORE */
	(void)timer;
	if (!w->stats->unresponsive)
		log_warning("concurrency check: no answer from loft-stats in %u ms: "
			    "allowing every RCPT at once until it answers again",
			    LMTP_STATS_CONCURRENCY_MSECS);
	w->stats->unresponsive = true;
	wait_finish(w->stats, w, true, 0);
	return EVLOOP_NOMORE;
}

/* responsive_again - loft-stats answered (or a new one connected) */
static void responsive_again(struct lmtp_stats *stats)
{
	if (!stats->unresponsive)
		return;
	stats->unresponsive = false;
	log_info("concurrency check: loft-stats answers again");
}

static void on_concurrency_reply(struct lmtp_stats *stats,
				 const Loft__ConcurrencyReply *reply)
{
	responsive_again(stats);
	for (struct concurrency_wait *w = stats->waits; w != NULL; w = w->next) {
		if (w->id == reply->id) {
			wait_finish(stats, w, reply->allowed, reply->current);
			return;
		}
	}
}

/* concurrency_send_acquire - ask loft-stats for one of user's slots */
static void concurrency_send_acquire(struct lmtp_stats *stats, uint64_t id,
				     const struct lmtp_session *session,
				     const char *user, unsigned int limit)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__ConcurrencyAcquire msg = LOFT__CONCURRENCY_ACQUIRE__INIT;

	msg.id = id;
	msg.user = (char *)user;
	msg.session_id = (char *)session->id;
	msg.limit = limit;
	env.body_case = LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE;
	env.concurrency_acquire = &msg;
	stats_client_send_urgent(stats->client, &env);
}

void lmtp_stats_concurrency_acquire(struct lmtp_stats *stats,
				    struct lmtp_session *session,
				    const char *user, unsigned int limit,
				    lmtp_stats_concurrency_callback_t *cb,
				    void *context)
{
	struct concurrency_wait *w;

	if (limit == 0 || !stats_client_is_connected(stats->client)) {
		cb(true, 0, context);
		return;
	}
	if (stats->unresponsive) {
		/* the slot is still taken (and released later) in loft-stats'
		   count; its answer only closes the breaker */
		concurrency_send_acquire(stats, ++stats->next_id, session, user,
					 limit);
		cb(true, 0, context);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->id = ++stats->next_id;
	w->session = session;
	w->user = xstrdup(user);
	w->limit = limit;
	w->cb = cb;
	w->context = context;
	w->stats = stats;
	w->timer = evloop_add_timer(stats->server->loop,
				    LMTP_STATS_CONCURRENCY_MSECS, wait_timeout, w);
	w->next = stats->waits;
	stats->waits = w;
	concurrency_send_acquire(stats, w->id, session, user, limit);
}

void lmtp_stats_concurrency_release(struct lmtp_stats *stats,
				    const struct lmtp_session *session,
				    const char *user)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__ConcurrencyRelease msg = LOFT__CONCURRENCY_RELEASE__INIT;

	msg.user = (char *)user;
	msg.session_id = (char *)session->id;
	env.body_case = LOFT__ENVELOPE__BODY_CONCURRENCY_RELEASE;
	env.concurrency_release = &msg;
	/* at the end of this loop iteration, not with the next batch: the
	   client has its reply, and its next message may come through
	   another loft-lmtp (a reload) whose question must not find this
	   slot still taken */
	stats_client_send_urgent(stats->client, &env);
}

void lmtp_stats_forget_session(struct lmtp_stats *stats,
			       const struct lmtp_session *session)
{
	struct concurrency_wait **p = &stats->waits;

	while (*p != NULL) {
		struct concurrency_wait *w = *p;

		if (w->session != session) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		if (w->timer != NULL)
			evloop_remove_timer(&w->timer);
		free(w->user);
		free(w);
	}
}

static void on_message(const Loft__Envelope *env, void *context)
{
	struct lmtp_stats *stats = context;

	switch (env->body_case) {
	case LOFT__ENVELOPE__BODY_KICK:
		for (size_t i = 0; i < env->kick->n_session_ids; i++)
			lmtp_server_kick(stats->server,
					 env->kick->session_ids[i]);
		break;
	case LOFT__ENVELOPE__BODY_DEBUG_USERS:
		set_debug_masks(stats, env->debug_users);
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_REPLY:
		on_concurrency_reply(stats, env->concurrency_reply);
		break;
	default:
		log_warning("loft-stats sent an unexpected %s message",
			    ipc_envelope_body_name(env->body_case));
		break;
	}
}

/* reannounce_slots - the concurrency slots session's transaction holds,
   taken again in a loft-stats that does not know them (its answers only
   close the breaker: the recipients were accepted already). Taken with
   no limit: a slot that is held counts even when another process got
   the user's last one from the new loft-stats first, or the user would
   go over the limit from then on. */
static void reannounce_slots(struct lmtp_stats *stats,
			     const struct lmtp_session *session)
{
	const struct lmtp_transaction *trans = session->trans;
	unsigned int limit = stats->server->set->lmtp_user_concurrency_limit;

	for (size_t i = 0; trans != NULL && limit > 0 && i < trans->rcpt_count; i++) {
		const struct lmtp_recipient *rcpt = &trans->rcpts[i];

		/* as lmtp_transaction_free releases them: a relayed
		   recipient holds no slot here */
		if (rcpt->duplicate_of < 0 && rcpt->user != NULL &&
		    !rcpt->proxied)
			concurrency_send_acquire(stats, ++stats->next_id, session,
						 rcpt->user->username, 0);
	}
}

/* send_announced - all we hold is announced: a new loft-stats answers
   concurrency questions once every loft-lmtp it waits for said so */
static void send_announced(struct lmtp_stats *stats)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Announced msg = LOFT__ANNOUNCED__INIT;

	env.body_case = LOFT__ENVELOPE__BODY_ANNOUNCED;
	env.announced = &msg;
	stats_client_send_urgent(stats->client, &env);
}

/* on_connect - loft-stats came (back): announce every live session and
   the slots it holds, so who, kick and the per-user limit go on as before */
static void on_connect(struct stats_client *client, void *context)
{
	struct lmtp_stats *stats = context;

	(void)client;
	responsive_again(stats);
	for (struct lmtp_session *s = stats->server->sessions; s != NULL;
	     s = s->next) {
		if (s->destroyed)
			continue;
		lmtp_stats_session_start(stats, s);
		reannounce_slots(stats, s);
	}
	send_announced(stats);
	/* questions the old one took but could not answer (it retired) */
	for (struct concurrency_wait *w = stats->waits; w != NULL; w = w->next)
		concurrency_send_acquire(stats, w->id, w->session, w->user,
					 w->limit);
}

static int64_t log_flush(struct evloop_timer *timer, void *context)
{
	(void)timer;
	(void)context;
	delivery_stats_flush_counts();
	return LMTP_STATS_LOG_FLUSH_MSECS;
}

struct lmtp_stats *lmtp_stats_create(struct lmtp_server *server)
{
	struct lmtp_stats *stats = xcalloc(1, sizeof(*stats));
	char *path = xasprintf("%s/stats-writer", server->set->base_dir);

	stats->server = server;
	pthread_mutex_init(&stats->debug_lock, NULL);
	stats->client = stats_client_create(server->loop, path,
					    LOFT__ROLE__ROLE_SERVICE, "lmtp");
	free(path);
	stats_client_set_handler(stats->client, on_message, stats);
	stats_client_set_connect_callback(stats->client, on_connect, stats);
	/* connected at once: nothing to announce but that */
	if (stats_client_is_connected(stats->client))
		send_announced(stats);
	stats->log_timer = evloop_add_timer(server->loop,
					    LMTP_STATS_LOG_FLUSH_MSECS,
					    log_flush, stats);
	delivery_stats_install(stats->client, "lmtp");
	return stats;
}

void lmtp_stats_free(struct lmtp_stats **_stats)
{
	struct lmtp_stats *stats = *_stats;

	if (stats == NULL)
		return;
	*_stats = NULL;
	delivery_stats_flush_counts();
	delivery_stats_uninstall();
	while (stats->waits != NULL)
		wait_finish(stats, stats->waits, true, 0);
	evloop_remove_timer(&stats->log_timer);
	(void)stats_client_flush(stats->client, 100);
	stats_client_free(&stats->client);
	for (size_t i = 0; i < stats->debug_count; i++)
		free(stats->debug_masks[i]);
	free(stats->debug_masks);
	pthread_mutex_destroy(&stats->debug_lock);
	free(stats);
}
