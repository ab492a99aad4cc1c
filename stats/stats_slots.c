/*
 * stats_slots - loft-stats' side of lmtp_user_concurrency_limit: the
 * questions (ConcurrencyAcquire) and releases of loft-lmtp, answered from
 * the session table, and the wait of a new loft-stats until the slots
 * held before it are announced again (stats_resume.h). While that wait
 * lasts a question with a limit is held; a re-announced slot (limit 0)
 * and every release are taken at once. A held question goes when its
 * session ends, its slot is given back or its connection goes (nobody
 * waits for the answer any more). A 20 ms timer ends the wait on time
 * and notices a loft-lmtp that exited without announcing. Everything
 * here runs with server->lock held, but the timer, which takes it.
 */
#include "stats_private.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

#define STATS_SLOTS_TICK_MSECS 20
#define STATS_SLOTS_LOG_PIDS 8
#define STATS_SLOTS_CHECK_PIDS 256

/* slots_answer - answer question id of peer from the table */
static void slots_answer(struct stats_peer *peer, uint64_t id,
			 const char *user, const char *session_id,
			 unsigned int limit)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__ConcurrencyReply reply = LOFT__CONCURRENCY_REPLY__INIT;
	unsigned int current = 0;

	reply.id = id;
	reply.allowed = stats_sessions_concurrency_acquire(peer->server->sessions,
							   user, session_id,
							   peer->owner, limit,
							   &current);
	reply.current = current;
	env.body_case = LOFT__ENVELOPE__BODY_CONCURRENCY_REPLY;
	env.concurrency_reply = &reply;
	stats_server_peer_send(peer, &env);
}

/* slots_peer - the connected peer with owner id, or NULL */
static struct stats_peer *slots_peer(struct stats_server *server, int owner)
{
	for (struct stats_peer *p = server->peers; p != NULL; p = p->next) {
		if (p->owner == owner)
			return p;
	}
	return NULL;
}

/* slots_log_end - once, when the wait is over: who did not announce */
static void slots_log_end(struct stats_server *server)
{
	uint32_t pids[STATS_SLOTS_LOG_PIDS];
	size_t n = stats_resume_expected(server->resume, pids,
					 STATS_SLOTS_LOG_PIDS);
	char list[STATS_SLOTS_LOG_PIDS * 12] = "";

	if (n == 0)
		return;
	for (size_t i = 0; i < n && i < STATS_SLOTS_LOG_PIDS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%u", i == 0 ? "" : " ", pids[i]);
	log_info("stats: concurrency questions answered after %u ms without "
		 "the slots of %zu loft-lmtp process%s (pid %s%s)",
		 STATS_RESUME_WAIT_MSECS, n, n == 1 ? "" : "es", list,
		 n > STATS_SLOTS_LOG_PIDS ? " ..." : "");
}

/* slots_drain - answer the held questions that may be answered now; the
   wait over and nothing held, it is forgotten */
static void slots_drain(struct stats_server *server)
{
	struct stats_resume_question *q;
	uint64_t now = clock_monotonic_msecs();

	if (server->resume == NULL)
		return;
	while ((q = stats_resume_next(server->resume, now)) != NULL) {
		struct stats_peer *peer = slots_peer(server, q->owner);

		if (peer != NULL)
			slots_answer(peer, q->id, q->user, q->session_id,
				     q->limit);
		stats_resume_question_free(&q);
	}
	if (!stats_resume_waiting(server->resume, now) &&
	    stats_resume_held(server->resume) == 0) {
		slots_log_end(server);
		stats_resume_free(&server->resume);
	}
}

void stats_slots_acquire(struct stats_peer *peer,
			 const Loft__ConcurrencyAcquire *m)
{
	struct stats_server *server = peer->server;
	uint64_t now = clock_monotonic_msecs();

	/* those held before it go first */
	slots_drain(server);
	if (m->limit > 0 && server->resume != NULL &&
	    stats_resume_waiting(server->resume, now)) {
		stats_resume_hold(server->resume, peer->owner, m->id, m->user,
				  m->session_id, m->limit, now);
		return;
	}
	slots_answer(peer, m->id, m->user, m->session_id, m->limit);
}

void stats_slots_release(struct stats_peer *peer,
			 const Loft__ConcurrencyRelease *m)
{
	struct stats_server *server = peer->server;

	if (server->resume != NULL)
		(void)stats_resume_forget(server->resume, peer->owner,
					  m->session_id, m->user);
	stats_sessions_concurrency_release(server->sessions, m->user,
					   m->session_id, peer->owner);
}

void stats_slots_session_end(struct stats_peer *peer, const char *session_id)
{
	if (peer->server->resume != NULL)
		(void)stats_resume_forget(peer->server->resume, peer->owner,
					  session_id, NULL);
}

void stats_slots_announced(struct stats_peer *peer)
{
	struct stats_server *server = peer->server;

	peer->announced = true;
	if (server->resume == NULL)
		return;
	stats_resume_heard(server->resume, (uint32_t)peer->cred_pid);
	slots_drain(server);
}

void stats_slots_peer_gone(struct stats_peer *peer)
{
	struct stats_server *server = peer->server;

	if (server->resume == NULL)
		return;
	(void)stats_resume_forget(server->resume, peer->owner, NULL, NULL);
	/* what it held went with it (its reconnection announces again) */
	if (peer->trust == STATS_PEER_SERVICE)
		stats_resume_heard(server->resume, (uint32_t)peer->cred_pid);
	slots_drain(server);
}

void stats_slots_master_status(struct stats_server *server,
			       const Loft__MasterStatus *m)
{
	size_t n = 0, count = 0;
	uint32_t *pids;

	if (server->resume == NULL)
		return;
	for (size_t i = 0; i < m->n_services; i++) {
		if (strcmp(m->services[i]->name, STATS_RESUME_SERVICE) == 0)
			count += m->services[i]->n_pids +
				m->services[i]->n_retired_pids;
	}
	pids = xcalloc(count + 1, sizeof(*pids));
	for (size_t i = 0; i < m->n_services; i++) {
		const Loft__ServiceStatus *s = m->services[i];

		if (strcmp(s->name, STATS_RESUME_SERVICE) != 0)
			continue;
		for (size_t j = 0; j < s->n_pids; j++)
			pids[n++] = s->pids[j];
		for (size_t j = 0; j < s->n_retired_pids; j++)
			pids[n++] = s->retired_pids[j];
	}
	stats_resume_expect(server->resume, pids, n, clock_monotonic_msecs());
	free(pids);
	/* those that announced before loftd's report came */
	for (struct stats_peer *p = server->peers; p != NULL; p = p->next) {
		if (p->announced)
			stats_resume_heard(server->resume, (uint32_t)p->cred_pid);
	}
	slots_drain(server);
}

/* slots_tick - the wait ends on time; a loft-lmtp gone without a word
   is not waited for */
static int64_t slots_tick(struct evloop_timer *timer, void *context)
{
	struct stats_server *server = context;
	uint32_t pids[STATS_SLOTS_CHECK_PIDS];
	size_t n;

	(void)timer;
	pthread_mutex_lock(&server->lock);
	if (server->resume != NULL) {
		n = stats_resume_expected(server->resume, pids,
					  STATS_SLOTS_CHECK_PIDS);
		for (size_t i = 0; i < n && i < STATS_SLOTS_CHECK_PIDS; i++) {
			if (!stats_peer_process_alive((pid_t)pids[i]))
				stats_resume_heard(server->resume, pids[i]);
		}
		slots_drain(server);
	}
	if (server->resume == NULL)
		server->resume_timer = NULL;
	pthread_mutex_unlock(&server->lock);
	return server->resume_timer == NULL ? EVLOOP_NOMORE :
		STATS_SLOTS_TICK_MSECS;
}

void stats_slots_start(struct stats_server *server)
{
	pthread_mutex_lock(&server->lock);
	if (server->resume == NULL) {
		server->resume = stats_resume_create(clock_monotonic_msecs());
		server->resume_timer = evloop_add_timer(server->loop,
							STATS_SLOTS_TICK_MSECS,
							slots_tick, server);
	}
	pthread_mutex_unlock(&server->lock);
}

void stats_slots_stop(struct stats_server *server)
{
	if (server->resume_timer != NULL)
		evloop_remove_timer(&server->resume_timer);
	stats_resume_free(&server->resume);
}
