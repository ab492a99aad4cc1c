/*
 * stats_server - the reporting side of loft-stats (see stats_server.h).
 *
 * Every accepted connection is an ipc_conn (Hello first, strict frames).
 * Its kernel credentials decide what it may report (stats_peer.h): only
 * loftd is the master, only loftd's service processes take concurrency
 * slots, anyone else reports as loft-lda under its real pid. A peer that
 * sends garbage, or a message it may not send, is dropped, the frame
 * counted in loft_stats_events_dropped_total (the complaint logged at
 * most once per interval per uid), and loft-stats goes on. When a peer
 * goes away its sessions leave the who table and every concurrency slot
 * it took is released. Deliveries decided at RCPT (unknown user,
 * concurrency) count as refused recipients; everything else as delivery
 * outcomes with their duration.
 */
#include "stats_private.h"
#include "stats_server.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accept_backoff.h"
#include "clock.h"
#include "ipc_frame.h"
#include "ipc_socket.h"
#include "log.h"
#include "stats_json.h"
#include "stats_persist.h"

/* stats_server_peer_send - see stats_private.h */
void stats_server_peer_send(struct stats_peer *peer, const Loft__Envelope *env)
{
	const char *error;

	if (peer->conn != NULL && ipc_conn_send(peer->conn, env, &error) < 0)
		log_error("stats: cannot encode %s: %s",
			  ipc_envelope_body_name(env->body_case), error);
}

/* send_debug - the debug masks to one service peer */
static void send_debug(struct stats_server *server, struct stats_peer *peer)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__DebugUsers msg = LOFT__DEBUG_USERS__INIT;

	msg.n_masks = server->debug_count;
	msg.masks = server->debug_masks;
	env.body_case = LOFT__ENVELOPE__BODY_DEBUG_USERS;
	env.debug_users = &msg;
	stats_server_peer_send(peer, &env);
}

void stats_server_broadcast_debug(struct stats_server *server)
{
	for (struct stats_peer *p = server->peers; p != NULL; p = p->next) {
		if (p->trust == STATS_PEER_SERVICE)
			send_debug(server, p);
	}
}

/* stats_server_process_usage - loftd's process figures and last good
   reload from its last report (the strings borrowed from st) */
static void stats_server_process_usage(const Loft__MasterStatus *st,
				       struct stats_metrics_services *services_r)
{
	struct stats_metrics_process *procs;
	size_t n = st == NULL ? 0 : st->n_usage;

	/* one per service name loftd knows: bounded by its config, and
	   by the series count a family may have */
	if (n > STATS_METRICS_MAX_SERVICES)
		n = STATS_METRICS_MAX_SERVICES;
	procs = xcalloc(n + 1, sizeof(*procs));
	for (size_t i = 0; i < n; i++) {
		const Loft__ProcessUsage *u = st->usage[i];

		procs[i].service = u->service;
		procs[i].cpu_seconds = u->cpu_seconds;
		procs[i].resident_bytes = u->resident_bytes;
		procs[i].open_fds = u->open_fds;
		procs[i].start_seconds = u->has_start_usecs ?
			(double)u->start_usecs / 1e6 : 0;
	}
	services_r->processes = procs;
	services_r->process_count = n;
	services_r->last_reload_success_seconds =
		st != NULL && st->has_last_reload_ok_usecs ?
		(double)st->last_reload_ok_usecs / 1e6 : 0;
}

void stats_server_services(struct stats_server *server,
			   struct stats_metrics_services *services_r)
{
	const Loft__MasterStatus *st = server->master_status;
	struct stats_metrics_service *items;
	size_t n = st == NULL ? 0 : st->n_services;

	items = xcalloc(n + 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].name = st->services[i]->name;
		items[i].processes = st->services[i]->processes;
		items[i].restarts = st->services[i]->restarts;
		items[i].sessions_active = (unsigned int)
			stats_sessions_count_service(server->sessions,
						     st->services[i]->name);
	}
	services_r->items = items;
	services_r->count = n;
	stats_server_process_usage(st, services_r);
}

void stats_server_services_free(struct stats_metrics_services *services)
{
	free((void *)services->items);
	free((void *)services->processes);
	memset(services, 0, sizeof(*services));
}

/* peer_complain - log a warning about a peer, at most once per
   STATS_PEER_LOG_MSECS for its uid (lock held) */
static void LOFT_ATTR_FORMAT(2, 3)
peer_complain(struct stats_peer *peer, const char *fmt, ...)
{
	struct stats_server *server = peer->server;
	unsigned int suppressed;
	char text[512];
	va_list args;

	if (!stats_peer_logs_allow(server->peer_logs, peer->uid,
				   clock_monotonic_msecs(), &suppressed))
		return;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	if (suppressed == 0)
		log_warning("stats: %s", text);
	else
		log_warning("stats: %s (%u similar lines about uid %u left out)",
			    text, suppressed, (unsigned int)peer->uid);
}

/* on_session_start - NULL, or why the peer must go */
static const char *on_session_start(struct stats_peer *peer,
				    const Loft__SessionStart *m)
{
	struct stats_server *server = peer->server;
	const struct stats_session *old;
	struct stats_session s = {
		.id = m->session_id, .service = m->service, .pid = m->pid,
		.client_ip = m->client_ip, .client_port = m->client_port,
		.state = m->state, .users = m->users, .user_count = m->n_users,
		.start_usecs = m->start_usecs, .owner = peer->owner,
	};
	unsigned int max = STATS_PEER_SERVICE_SESSIONS_MAX;
	int ret;

	if (peer->trust == STATS_PEER_USER) {
		/* a local user's report is loft-lda's, under its real pid */
		s.service = peer->service;
		s.pid = (unsigned int)peer->cred_pid;
		if (s.user_count > STATS_PEER_USER_USERS_MAX)
			s.user_count = STATS_PEER_USER_USERS_MAX;
		max = STATS_PEER_USER_SESSIONS_MAX;
	}
	old = stats_sessions_lookup(server->sessions, m->session_id);
	if (old != NULL && old->owner != peer->owner)
		return "started a session that another process reported";
	if (old == NULL && peer->sessions >= max)
		return "has too many sessions";
	/* a session announced again after loft-stats restarted was counted
	   by the previous instance */
	if (old == NULL && m->start_usecs >= server->start_usecs)
		stats_metrics_session_started(server->metrics, s.service);
	ret = stats_sessions_start(server->sessions, &s);
	if (ret > 0)
		peer->sessions++;
	return NULL;
}

/* on_session_end - a session of the peer's own ended */
static void on_session_end(struct stats_peer *peer, const Loft__SessionEnd *m)
{
	stats_slots_session_end(peer, m->session_id);
	if (stats_sessions_end(peer->server->sessions, m->session_id,
			       peer->owner) && peer->sessions > 0)
		peer->sessions--;
}

static bool reason_at_rcpt(enum stats_reason reason)
{
	return reason == STATS_REASON_UNKNOWN_USER ||
		reason == STATS_REASON_CONCURRENCY ||
		reason == STATS_REASON_SYNTAX;
}

/* on_delivery - NULL, or why the peer must go */
static const char *on_delivery(struct stats_peer *peer,
			       const Loft__Delivery *m)
{
	struct stats_server *server = peer->server;
	struct stats_delivery d = {
		.ts_usecs = m->ts_usecs, .protocol = m->protocol, .pid = m->pid,
		.session_id = m->session_id, .user = m->user, .msgid = m->msgid,
		.from = m->from, .envelope_from = m->envelope_from,
		.rcpt = m->rcpt, .orig_rcpt = m->orig_rcpt,
		.mailbox = m->mailbox, .result = m->result,
		.enhanced_code = m->enhanced_code, .text = m->text,
		.reason = m->reason, .size = m->size, .vsize = m->vsize,
		.code = m->code, .duration_ms = m->duration_ms,
		.sieve = m->sieve, .have_uid = m->has_uid, .uid = m->uid,
	};
	enum stats_protocol protocol;
	enum stats_result result;
	enum stats_reason reason = STATS_REASON_OTHER;
	const char *refused;

	refused = stats_peer_delivery_refusal(peer->trust, peer->uid,
					      m->has_uid, m->uid);
	if (refused != NULL)
		return refused;
	if (peer->trust == STATS_PEER_USER) {
		d.protocol = "lda";
		d.pid = (unsigned int)peer->cred_pid;
		/* a user's record always says its uid */
		if (peer->uid != 0) {
			d.have_uid = true;
			d.uid = (unsigned int)peer->uid;
		}
	}
	if (!stats_metrics_protocol_parse(d.protocol, &protocol) ||
	    !stats_metrics_result_parse(m->result, &result))
		return "sent a delivery with an unknown protocol or result";
	stats_journal_add(server->journal, &d);
	if (m->proxy_backend != NULL)
		stats_metrics_proxy_delivery(server->metrics, m->proxy_backend,
					     result, m->has_proxy_backend_up &&
					     m->proxy_backend_up,
					     m->has_proxy_backend_seconds ?
					     m->proxy_backend_seconds : 0);
	if (m->sieve_actions != NULL || m->has_sieve_script_errors)
		stats_metrics_sieve(server->metrics, m->sieve_actions,
				    m->has_sieve_script_errors ?
				    m->sieve_script_errors : 0);
	if (m->has_storage_write_seconds)
		stats_metrics_timing(server->metrics, STATS_TIMING_STORAGE_WRITE,
				     m->storage_write_seconds);
	if (m->reason != NULL)
		(void)stats_metrics_reason_parse(m->reason, &reason);
	if (result != STATS_RESULT_SAVED && reason_at_rcpt(reason) &&
	    m->mailbox == NULL)
		stats_metrics_rcpt_rejected(server->metrics, protocol, result,
					    reason);
	else
		stats_metrics_delivery(server->metrics, protocol, result, reason,
				       m->size, m->duration_ms / 1000.0);
	return NULL;
}

/* on_timing - a storage write, or a userdb lookup with its driver and
   result (proto values 1.. in the order of the stats_userdb_* enums; a
   lookup without them is not observed) */
static void on_timing(struct stats_server *server, const Loft__Timing *m)
{
	if (m->kind != LOFT__TIMING__KIND__KIND_USERDB_LOOKUP) {
		stats_metrics_timing(server->metrics, STATS_TIMING_STORAGE_WRITE,
				     m->seconds);
		return;
	}
	if (m->has_userdb_driver && m->has_userdb_result)
		stats_metrics_userdb_lookup(server->metrics,
			(enum stats_userdb_driver)((int)m->userdb_driver - 1),
			(enum stats_userdb_result)((int)m->userdb_result - 1),
			m->seconds);
	if (m->has_userdb_cache_hit)
		stats_metrics_userdb_cache(server->metrics, m->userdb_cache_hit);
}

static void on_log_event(struct stats_peer *peer, const Loft__LogEvent *m)
{
	struct stats_server *server = peer->server;
	enum log_level level;

	if (!stats_json_level_parse(m->level, &level))
		return;
	stats_metrics_log(server->metrics, level, m->has_count ? m->count : 1);
	if (m->text != NULL && level >= LOG_LEVEL_WARNING)
		(void)stats_errors_add(server->errors, m->ts_usecs, level,
				       peer->trust == STATS_PEER_USER ?
				       peer->service : m->service,
				       peer->trust == STATS_PEER_USER ?
				       (unsigned int)peer->cred_pid : m->pid,
				       m->session_id, m->user, m->text);
}

/* seen_advance - claim the part of count beyond *seen: in one atomic
   step, since the retiring and the new loft-stats share *seen (in
   stats_state) and may both read a report of loftd's for a moment; the
   difference, or 0 */
static uint64_t seen_advance(uint64_t *seen, uint64_t count)
{
	uint64_t old = __atomic_load_n(seen, __ATOMIC_SEQ_CST);

	while (count > old) {
		if (__atomic_compare_exchange_n(seen, &old, count, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return count - old;
	}
	return 0;
}

/* on_log_write_failures - counted, and one recent error that says why */
static void on_log_write_failures(struct stats_server *server,
				  const Loft__LogWriteFailures *m)
{
	char text[400];

	stats_metrics_log_write_failures(server->metrics, m->count);
	snprintf(text, sizeof(text), "%u log line%s could not be written: %s",
		 m->count, m->count == 1 ? "" : "s",
		 m->error != NULL ? m->error : "(no reason given)");
	(void)stats_errors_add(server->errors, clock_realtime_usecs(),
			       LOG_LEVEL_ERROR, m->service, m->pid, NULL, NULL,
			       text);
}

static void on_master_status(struct stats_peer *peer,
			     const Loft__MasterStatus *m)
{
	struct stats_server *server = peer->server;
	uint8_t *buf;
	size_t len = loft__master_status__get_packed_size(m);
	uint64_t seen_start;

	/* keep a private copy: pack and unpack */
	buf = xmalloc(len);
	loft__master_status__pack(m, buf);
	if (server->master_status != NULL)
		loft__master_status__free_unpacked(server->master_status,
						   &ipc_allocator);
	server->master_status = loft__master_status__unpack(&ipc_allocator, len,
							    buf);
	free(buf);
	server->master = peer;
	server->master_status_usecs = clock_realtime_usecs();
	/* the counts only grow while one loftd runs: add the difference
	   (in one step - the report says how many, not the loop); what was
	   seen survives loft-stats restarts in the state file */
	seen_start = __atomic_load_n(&server->persist->master_start_usecs,
				     __ATOMIC_SEQ_CST);
	if (m->start_usecs != seen_start &&
	    __atomic_compare_exchange_n(&server->persist->master_start_usecs,
					&seen_start, m->start_usecs, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&server->persist->reloads_ok_seen, 0,
				 __ATOMIC_SEQ_CST);
		__atomic_store_n(&server->persist->reloads_failed_seen, 0,
				 __ATOMIC_SEQ_CST);
	}
	stats_metrics_reload(server->metrics, true, seen_advance(
		&server->persist->reloads_ok_seen, m->reloads_ok));
	stats_metrics_reload(server->metrics, false, seen_advance(
		&server->persist->reloads_failed_seen, m->reloads_failed));
	stats_slots_master_status(server, m);
}

static void on_reload_result(struct stats_server *server,
			     const Loft__ReloadResult *m)
{
	for (struct stats_master_wait **p = &server->master_waits; *p != NULL;
	     p = &(*p)->next) {
		struct stats_master_wait *w = *p;

		if (w->id != m->id)
			continue;
		w->done = true;
		w->ok = m->ok;
		snprintf(w->error, sizeof(w->error), "%s",
			 m->error != NULL ? m->error : "");
		*p = w->next;
		w->callback(w, w->context);
		return;
	}
}

/* loftd_child - whether pid is a child of loftd now, per /proc */
static bool loftd_child(const struct stats_server *server, pid_t pid)
{
	pid_t ppid;

	return server->master_pid > 0 &&
		stats_peer_parent_pid(pid, &ppid) == 0 &&
		ppid == server->master_pid;
}

/* pid_listed - pid is one of pids[0..count-1] */
static bool pid_listed(const uint32_t *pids, size_t count, pid_t pid)
{
	for (size_t i = 0; i < count; i++) {
		if (pids[i] == (uint32_t)pid)
			return true;
	}
	return false;
}

/* master_child - pid is a process of service that loftd started: in
   its last report, or (a process younger than that report) a child of
   loftd according to /proc */
static bool master_child(struct stats_server *server, const char *service,
			 const struct stats_peer *peer)
{
	const Loft__MasterStatus *st = server->master_status;

	for (size_t i = 0; st != NULL && i < st->n_services; i++) {
		if (strcmp(st->services[i]->name, service) != 0)
			continue;
		/* running, or retired by a reload and serving its last
		   sessions */
		if (pid_listed(st->services[i]->pids, st->services[i]->n_pids,
			       peer->cred_pid) ||
		    pid_listed(st->services[i]->retired_pids,
			       st->services[i]->n_retired_pids, peer->cred_pid))
			return true;
	}
	return peer->loftd_child || loftd_child(server, peer->cred_pid);
}

/* on_hello - what the peer's credentials allow; NULL, or why it must go */
static const char *on_hello(struct stats_peer *peer, const Loft__Hello *m)
{
	struct stats_server *server = peer->server;
	const char *service = m->service != NULL ? m->service : "";

	if (peer->trust != STATS_PEER_PENDING)
		return "sent a second Hello";
	peer->role = m->role;
	peer->pid = m->has_pid ? m->pid : 0;
	snprintf(peer->service, sizeof(peer->service), "%s", service);
	/* it is logged: no control characters, no line breaks */
	for (char *p = peer->service; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			*p = '?';
	}
	switch (m->role) {
	case LOFT__ROLE__ROLE_MASTER:
		if (server->master_pid <= 0 || peer->uid != server->master_uid ||
		    peer->cred_pid != server->master_pid)
			return "claims to be loftd but is not";
		peer->trust = STATS_PEER_MASTER;
		break;
	case LOFT__ROLE__ROLE_SERVICE:
		if (server->peer_uids != NULL &&
		    stats_peer_uids_match(server->peer_uids, service, peer->uid) &&
		    master_child(server, service, peer)) {
			peer->trust = STATS_PEER_SERVICE;
			break;
		}
		/* not one of loftd's: it may report what loft-lda may */
		peer->trust = STATS_PEER_USER;
		break;
	case LOFT__ROLE__ROLE_LDA:
		peer->trust = STATS_PEER_USER;
		break;
	default:
		return "sent a Hello with a role that does not report";
	}
	if (peer->trust == STATS_PEER_USER)
		snprintf(peer->service, sizeof(peer->service), "lda");
	else if (peer->conn != NULL)
		ipc_conn_set_frame_max(peer->conn, IPC_FRAME_MAX);
	if (peer->trust == STATS_PEER_SERVICE && server->debug_count > 0)
		send_debug(server, peer);
	return NULL;
}

/* peer_report - one report the peer is allowed to send (lock held);
   NULL, or why the peer must go */
static const char *peer_report(struct stats_peer *peer,
			       const Loft__Envelope *env)
{
	struct stats_server *server = peer->server;

	switch (env->body_case) {
	case LOFT__ENVELOPE__BODY_SESSION_START:
		return on_session_start(peer, env->session_start);
	case LOFT__ENVELOPE__BODY_SESSION_UPDATE: {
		const Loft__SessionUpdate *m = env->session_update;
		size_t n_users = m->n_users;

		if (peer->trust == STATS_PEER_USER &&
		    n_users > STATS_PEER_USER_USERS_MAX)
			n_users = STATS_PEER_USER_USERS_MAX;
		(void)stats_sessions_update(server->sessions, m->session_id,
					    peer->owner, m->state,
					    (const char *const *)m->users,
					    n_users, m->bytes_in);
		break;
	}
	case LOFT__ENVELOPE__BODY_SESSION_END:
		on_session_end(peer, env->session_end);
		break;
	case LOFT__ENVELOPE__BODY_DELIVERY:
		return on_delivery(peer, env->delivery);
	case LOFT__ENVELOPE__BODY_TIMING:
		on_timing(server, env->timing);
		break;
	case LOFT__ENVELOPE__BODY_LOG_EVENT:
		on_log_event(peer, env->log_event);
		break;
	case LOFT__ENVELOPE__BODY_LOG_WRITE_FAILURES: {
		Loft__LogWriteFailures m = *env->log_write_failures;

		if (peer->trust == STATS_PEER_USER) {
			m.service = peer->service;
			m.pid = (uint32_t)peer->cred_pid;
		}
		on_log_write_failures(server, &m);
		break;
	}
	case LOFT__ENVELOPE__BODY_DROPPED:
		stats_metrics_dropped(server->metrics, env->dropped->events);
		break;
	case LOFT__ENVELOPE__BODY_TLS_HANDSHAKE:
		stats_metrics_tls_handshake(server->metrics, env->tls_handshake->ok);
		break;
	case LOFT__ENVELOPE__BODY_MASTER_STATUS:
		on_master_status(peer, env->master_status);
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE:
		stats_slots_acquire(peer, env->concurrency_acquire);
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_RELEASE:
		stats_slots_release(peer, env->concurrency_release);
		break;
	case LOFT__ENVELOPE__BODY_ANNOUNCED:
		/* a user's peer holds no slots: nothing to wait for */
		if (peer->trust == STATS_PEER_SERVICE)
			stats_slots_announced(peer);
		break;
	case LOFT__ENVELOPE__BODY_RELOAD_RESULT:
		on_reload_result(server, env->reload_result);
		break;
	default:
		/* stats_peer_may_send() lets nothing else through */
		return "sent an unexpected message";
	}
	return NULL;
}

/* peer_remove - unlink and free (lock held) */
static void peer_remove(struct stats_server *server, struct stats_peer *peer)
{
	for (struct stats_peer **p = &server->peers; *p != NULL; p = &(*p)->next) {
		if (*p == peer) {
			*p = peer->next;
			break;
		}
	}
	(void)stats_sessions_end_owner(server->sessions, peer->owner);
	stats_slots_peer_gone(peer);
	if (server->master == peer)
		server->master = NULL;
	ipc_conn_free(&peer->conn);
	free(peer);
}

bool stats_server_peer_message(struct stats_peer *peer,
			       const Loft__Envelope *env)
{
	struct stats_server *server = peer->server;
	const char *refused = NULL;

	pthread_mutex_lock(&server->lock);
	if (env->body_case == LOFT__ENVELOPE__BODY_HELLO)
		refused = on_hello(peer, env->hello);
	else if (!stats_peer_may_send(peer->trust, env->body_case))
		refused = "may not send this message";
	else
		refused = peer_report(peer, env);
	if (refused != NULL) {
		peer_complain(peer, "dropped %s peer (uid %u pid %ld, says %s): "
			      "%s (%s)", stats_peer_trust_name(peer->trust),
			      (unsigned int)peer->uid, (long)peer->cred_pid,
			      peer->service[0] != '\0' ? peer->service : "nothing",
			      refused, ipc_envelope_body_name(env->body_case));
		stats_metrics_dropped(server->metrics, 1);
		peer_remove(server, peer);
	}
	pthread_mutex_unlock(&server->lock);
	return refused == NULL;
}

/* peer_message - one envelope from a reporter (loop thread) */
static void peer_message(struct ipc_conn *conn, const Loft__Envelope *env,
			 void *context)
{
	(void)conn;
	(void)stats_server_peer_message(context, env);
}

void stats_server_peer_close(struct stats_peer *peer, const char *reason)
{
	struct stats_server *server = peer->server;

	pthread_mutex_lock(&server->lock);
	if (strcmp(reason, "EOF") != 0 && strstr(reason, "reset") == NULL &&
	    strstr(reason, "closed") == NULL) {
		/* garbage or a broken handshake: the peer is dropped and what
		   it sent counts as lost events */
		peer_complain(peer, "dropped %s peer (uid %u pid %ld): %s",
			      stats_peer_trust_name(peer->trust),
			      (unsigned int)peer->uid, (long)peer->cred_pid,
			      reason);
		stats_metrics_dropped(server->metrics, 1);
	}
	peer_remove(server, peer);
	pthread_mutex_unlock(&server->lock);
}

static void peer_close(struct ipc_conn *conn, const char *reason,
		       void *context)
{
	(void)conn;
	stats_server_peer_close(context, reason);
}

/* uid_connections - the peers of uid connected now (lock held) */
static unsigned int uid_connections(struct stats_server *server, uid_t uid)
{
	unsigned int n = 0;

	for (struct stats_peer *p = server->peers; p != NULL; p = p->next) {
		if (p->uid == uid)
			n++;
	}
	return n;
}

/* peer_new - a reporter with these credentials, linked, with a fresh
   owner id; NULL when uid has too many connections (lock held) */
static struct stats_peer *peer_new(struct stats_server *server, uid_t uid,
				   pid_t pid)
{
	struct stats_peer *peer = xcalloc(1, sizeof(*peer));

	peer->server = server;
	peer->uid = uid;
	peer->cred_pid = pid;
	if (uid != 0 &&
	    uid_connections(server, uid) >= STATS_PEER_UID_CONNS_MAX) {
		peer_complain(peer, "refused a connection of uid %u (pid %ld): "
			      "%u connections are open", (unsigned int)uid,
			      (long)pid, STATS_PEER_UID_CONNS_MAX);
		stats_metrics_dropped(server->metrics, 1);
		free(peer);
		return NULL;
	}
	peer->owner = ++server->next_owner;
	peer->next = server->peers;
	server->peers = peer;
	return peer;
}

struct stats_peer *stats_server_peer_create(struct stats_server *server,
					    uid_t uid, pid_t pid)
{
	struct stats_peer *peer;

	pthread_mutex_lock(&server->lock);
	peer = peer_new(server, uid, pid);
	pthread_mutex_unlock(&server->lock);
	return peer;
}

/* peer_add - a reporter connected on client (lock held) */
static void peer_add(struct stats_server *server, int client)
{
	struct ipc_conn_settings cs = {
		.role = LOFT__ROLE__ROLE_STATS, .service = "stats",
		.threaded = true, .on_message = peer_message,
		.on_close = peer_close,
	};
	struct stats_peer *peer;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *error;

	if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_error("stats: SO_PEERCRED failed: %m");
		close(client);
		return;
	}
	peer = peer_new(server, cred.uid, cred.pid);
	if (peer == NULL) {
		close(client);
		return;
	}
	/* judged now, before our Hello goes out: a reporter that waits for
	   it (stats_client_flush) is alive for this look */
	peer->loftd_child = loftd_child(server, cred.pid);
	/* only root's processes get the default queue: what we send a
	   user's peer is small, and it may not read it */
	if (peer->uid != 0) {
		cs.queue_max = STATS_PEER_USER_QUEUE_MAX;
		cs.frame_max = STATS_PEER_USER_FRAME_MAX;
	}
	cs.context = peer;
	if (ipc_conn_create(server->loop, client, &cs, &peer->conn,
			    &error) < 0) {
		log_error("stats: %s", error);
		peer_remove(server, peer);
	}
}

static void listener_accept(struct evloop_io *io, int fd, unsigned int events,
			    void *context)
{
	struct stats_server *server = context;
	const char *error;
	int client, ret;

	(void)io;
	(void)events;
	while ((ret = ipc_accept(fd, &client, &error)) > 0) {
		accept_backoff_succeeded(server->listen_backoff);
		pthread_mutex_lock(&server->lock);
		peer_add(server, client);
		pthread_mutex_unlock(&server->lock);
	}
	if (ret < 0)
		stats_server_accept_failed(server->listen_backoff, "stats", error);
}

void stats_server_accept_failed(struct accept_backoff *backoff,
				const char *what, const char *error)
{
	char note[128];

	if (accept_backoff_failed(backoff, note, sizeof(note)))
		log_error("%s: %s (%s)", what, error, note);
}

/* listen_watch - the accept back-off pauses and resumes the listener */
static void listen_watch(bool watch, void *context)
{
	struct stats_server *server = context;

	if (server->listen_io != NULL)
		evloop_io_set_events(server->listen_io,
				     watch ? EVLOOP_READ : 0);
}

void stats_server_set_master(struct stats_server *server, pid_t pid)
{
	server->master_pid = pid;
	/* loftd runs as root; a developer's may not, and its services
	   with an empty user then run as that user */
	if (stats_peer_process_uid(pid, &server->master_uid) < 0)
		server->master_uid = 0;
	stats_peer_uids_free(&server->peer_uids);
	server->peer_uids = stats_peer_uids_create(server->set,
						   server->master_uid);
	/* loft-lmtp processes may hold slots from before us */
	stats_slots_start(server);
}

void stats_server_await_master(struct stats_server *server,
			       struct evloop *loop, int timeout_msecs,
			       const bool *quit)
{
	uint64_t deadline = evloop_now_msecs(loop) + (uint64_t)timeout_msecs;
	bool known = false;

	while (!known && server->master_pid > 0) {
		uint64_t now = evloop_now_msecs(loop);

		pthread_mutex_lock(&server->lock);
		known = server->master_status != NULL;
		pthread_mutex_unlock(&server->lock);
		if (known || *quit || now >= deadline ||
		    evloop_run_once(loop, (int)(deadline - now)) < 0)
			break;
	}
}

void stats_server_listen(struct stats_server *server, int fd)
{
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	server->listen_fd = fd;
	server->listen_io = evloop_add_io(server->loop, fd, EVLOOP_READ,
					  listener_accept, server);
	server->listen_backoff = accept_backoff_create(server->loop,
						       listen_watch, server);
}

int stats_server_start_http(struct stats_server *server, int listen_fd,
			    const char *address, unsigned int port,
			    const char **error_r)
{
	struct stats_http_settings hs = {
		.listen_fd = listen_fd, .address = address, .port = port,
	};

	return stats_api_start(server, &hs, error_r);
}

/* loft-stats' own warnings and errors: the log hook runs under the log
   lock, possibly while this process holds server->lock, so it only queues
   them (own_lock); a timer moves them into the recent errors */
#define STATS_OWN_ERRORS_MAX 100
#define STATS_OWN_ERRORS_MSECS 200

struct own_error {
	uint64_t ts;
	enum log_level level;
	char session[96];
	char text[512];
};

static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static struct own_error own_errors[STATS_OWN_ERRORS_MAX];
static unsigned int own_count;

static void on_own_log(enum log_level level, uint64_t ts_usecs,
		       const char *session, const char *user, const char *msg,
		       void *context)
{
	(void)user;
	(void)context;
	if (level < LOG_LEVEL_WARNING)
		return;
	pthread_mutex_lock(&own_lock);
	if (own_count < STATS_OWN_ERRORS_MAX) {
		struct own_error *e = &own_errors[own_count++];

		e->ts = ts_usecs;
		e->level = level;
		snprintf(e->session, sizeof(e->session), "%s",
			 session != NULL ? session : "");
		snprintf(e->text, sizeof(e->text), "%s", msg);
	}
	pthread_mutex_unlock(&own_lock);
}

static int64_t own_errors_flush(struct evloop_timer *timer, void *context)
{
	struct stats_server *server = context;
	struct own_error batch[STATS_OWN_ERRORS_MAX];
	unsigned int n;

	uint64_t failures = log_write_failures();
	char reason[256];

	(void)timer;
	pthread_mutex_lock(&own_lock);
	n = own_count;
	memcpy(batch, own_errors, n * sizeof(*batch));
	own_count = 0;
	pthread_mutex_unlock(&own_lock);
	pthread_mutex_lock(&server->lock);
	for (unsigned int i = 0; i < n; i++) {
		stats_metrics_log(server->metrics, batch[i].level, 1);
		(void)stats_errors_add(server->errors, batch[i].ts,
				       batch[i].level, "stats",
				       (unsigned int)getpid(),
				       batch[i].session[0] != '\0' ?
				       batch[i].session : NULL, NULL,
				       batch[i].text);
	}
	if (failures > server->own_log_failures) {
		Loft__LogWriteFailures m = LOFT__LOG_WRITE_FAILURES__INIT;

		log_write_failure_text(reason, sizeof(reason));
		m.service = (char *)"stats";
		m.pid = (uint32_t)getpid();
		m.count = (uint32_t)(failures - server->own_log_failures);
		m.error = reason[0] != '\0' ? reason : NULL;
		server->own_log_failures = failures;
		on_log_write_failures(server, &m);
	}
	stats_persist_poll(server);
	pthread_mutex_unlock(&server->lock);
	return STATS_OWN_ERRORS_MSECS;
}

bool stats_server_busy(struct stats_server *server)
{
	bool busy;

	pthread_mutex_lock(&server->lock);
	busy = server->master_waits != NULL;
	pthread_mutex_unlock(&server->lock);
	return busy || stats_http_in_flight(server->http) > 0;
}

bool stats_server_draining(struct stats_server *server)
{
	bool draining;

	pthread_mutex_lock(&server->lock);
	draining = server->peers != NULL;
	pthread_mutex_unlock(&server->lock);
	return draining;
}

void stats_server_stopping(struct stats_server *server)
{
	/* the reporters hand over to the next loft-stats: each sees our
	   end close, writes what it still has and closes its own */
	pthread_mutex_lock(&server->lock);
	for (struct stats_peer *peer = server->peers; peer != NULL;
	     peer = peer->next) {
		if (peer->conn != NULL)
			ipc_conn_shutdown_output(peer->conn);
	}
	pthread_mutex_unlock(&server->lock);
	stats_http_quiesce(server->http);
	if (server->listen_io != NULL)
		evloop_remove_io(&server->listen_io);
	if (server->admin_io != NULL)
		evloop_remove_io(&server->admin_io);
	accept_backoff_free(&server->listen_backoff);
	accept_backoff_free(&server->admin_backoff);
}

/* stats_server_restore_debug - the debug masks an earlier loft-stats
   left in the state */
static void stats_server_restore_debug(struct stats_server *server)
{
	const struct stats_state_server *p = server->persist;

	server->debug_count = 0;
	server->debug_masks = xcalloc(STATS_STATE_DEBUG_MASKS + 1,
				      sizeof(char *));
	for (uint32_t i = 0; i < p->debug_count && i < STATS_STATE_DEBUG_MASKS; i++)
		server->debug_masks[server->debug_count++] =
			xstrndup(p->debug_masks[i], STATS_STATE_DEBUG_MASK_MAX - 1);
}

void stats_server_save_debug(struct stats_server *server)
{
	struct stats_state_server *p = server->persist;

	p->debug_count = 0;
	for (size_t i = 0; i < server->debug_count &&
	     p->debug_count < STATS_STATE_DEBUG_MASKS; i++)
		snprintf(p->debug_masks[p->debug_count++],
			 sizeof(p->debug_masks[0]), "%s", server->debug_masks[i]);
}

struct stats_server *stats_server_create(struct evloop *loop,
					 const struct loft_settings *set,
					 const char *state_path)
{
	struct stats_server *server = xcalloc(1, sizeof(*server));
	const char *error;
	bool fresh;

	server->loop = loop;
	server->set = set;
	server->listen_fd = -1;
	server->admin_fd = -1;
	server->start_usecs = clock_realtime_usecs();
	pthread_mutex_init(&server->lock, NULL);
	server->sessions = stats_sessions_create();
	server->state = stats_state_open(state_path, stats_metrics_store_size(),
					 &fresh, &error);
	if (error != NULL)
		log_warning("stats: counters are kept in memory only, a restart "
			    "of loft-stats starts them again: %s", error);
	else if (state_path != NULL && !fresh)
		log_info("stats: counters go on from %s", state_path);
	server->persist = stats_state_server(server->state);
	server->metrics = stats_metrics_create_in(LOFT_VERSION,
						  stats_state_metrics(server->state));
	stats_server_restore_debug(server);
	server->journal = stats_journal_create(set->stats_journal_size);
	server->errors = stats_errors_create(0);
	server->peer_logs = stats_peer_logs_create();
	server->own_errors_timer = evloop_add_timer(loop, STATS_OWN_ERRORS_MSECS,
						    own_errors_flush, server);
	log_set_forward(on_own_log, NULL);
	return server;
}

void stats_server_free(struct stats_server **_server)
{
	struct stats_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	log_set_forward(NULL, NULL);
	evloop_remove_timer(&server->own_errors_timer);
	stats_http_stop(&server->http);
	stats_slots_stop(server);
	stats_admin_close_all(server);
	if (server->listen_io != NULL)
		evloop_remove_io(&server->listen_io);
	accept_backoff_free(&server->listen_backoff);
	pthread_mutex_lock(&server->lock);
	while (server->peers != NULL)
		peer_remove(server, server->peers);
	pthread_mutex_unlock(&server->lock);
	if (server->master_status != NULL)
		loft__master_status__free_unpacked(server->master_status,
						   &ipc_allocator);
	for (size_t i = 0; i < server->debug_count; i++)
		free(server->debug_masks[i]);
	free(server->debug_masks);
	stats_persist_close(server);
	stats_sessions_free(&server->sessions);
	stats_metrics_free(&server->metrics);
	stats_state_close(&server->state);
	stats_journal_free(&server->journal);
	stats_errors_free(&server->errors);
	stats_peer_logs_free(&server->peer_logs);
	stats_peer_uids_free(&server->peer_uids);
	pthread_mutex_destroy(&server->lock);
	free(server);
}
