/*
 * stats_server - the reporting side of loft-stats (see stats_server.h).
 *
 * Every accepted connection is an ipc_conn (Hello first, strict frames).
 * A peer that sends garbage is dropped, the frame counted in
 * loft_stats_events_dropped_total, and loft-stats goes on. When a peer
 * goes away its sessions leave the who table and release their
 * concurrency slots. Deliveries decided at RCPT (unknown user,
 * concurrency) count as refused recipients; everything else as delivery
 * outcomes with their duration.
 */
#include "stats_private.h"
#include "stats_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ipc_socket.h"
#include "log.h"
#include "stats_json.h"
#include "stats_persist.h"

/* peer_send - to one peer; callable from the HTTP thread (threaded conn) */
static void peer_send(struct stats_peer *peer, const Loft__Envelope *env)
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
	peer_send(peer, &env);
}

void stats_server_broadcast_debug(struct stats_server *server)
{
	for (struct stats_peer *p = server->peers; p != NULL; p = p->next) {
		if (p->role == LOFT__ROLE__ROLE_SERVICE)
			send_debug(server, p);
	}
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
}

void stats_server_services_free(struct stats_metrics_services *services)
{
	free((void *)services->items);
	services->items = NULL;
	services->count = 0;
}

static void on_session_start(struct stats_peer *peer,
			     const Loft__SessionStart *m)
{
	struct stats_server *server = peer->server;
	struct stats_session s = {
		.id = m->session_id, .service = m->service, .pid = m->pid,
		.client_ip = m->client_ip, .client_port = m->client_port,
		.state = m->state, .users = m->users, .user_count = m->n_users,
		.start_usecs = m->start_usecs, .owner = peer->owner,
	};

	/* a session announced again after loft-stats restarted was counted
	   by the previous instance */
	if (stats_sessions_lookup(server->sessions, m->session_id) == NULL &&
	    m->start_usecs >= server->start_usecs)
		stats_metrics_session_started(server->metrics, m->service);
	stats_sessions_start(server->sessions, &s);
}

static bool reason_at_rcpt(enum stats_reason reason)
{
	return reason == STATS_REASON_UNKNOWN_USER ||
		reason == STATS_REASON_CONCURRENCY ||
		reason == STATS_REASON_SYNTAX;
}

static void on_delivery(struct stats_server *server, const Loft__Delivery *m)
{
	struct stats_delivery d = {
		.ts_usecs = m->ts_usecs, .protocol = m->protocol, .pid = m->pid,
		.session_id = m->session_id, .user = m->user, .msgid = m->msgid,
		.from = m->from, .envelope_from = m->envelope_from,
		.rcpt = m->rcpt, .orig_rcpt = m->orig_rcpt,
		.mailbox = m->mailbox, .result = m->result,
		.enhanced_code = m->enhanced_code, .text = m->text,
		.reason = m->reason, .size = m->size, .vsize = m->vsize,
		.code = m->code, .duration_ms = m->duration_ms,
	};
	enum stats_protocol protocol;
	enum stats_result result;
	enum stats_reason reason = STATS_REASON_OTHER;

	stats_journal_add(server->journal, &d);
	if (m->has_storage_write_seconds)
		stats_metrics_timing(server->metrics, STATS_TIMING_STORAGE_WRITE,
				     m->storage_write_seconds);
	if (!stats_metrics_protocol_parse(m->protocol, &protocol) ||
	    !stats_metrics_result_parse(m->result, &result)) {
		log_warning("stats: delivery with protocol=%s result=%s ignored",
			    m->protocol, m->result);
		return;
	}
	if (m->reason != NULL)
		(void)stats_metrics_reason_parse(m->reason, &reason);
	if (result != STATS_RESULT_SAVED && reason_at_rcpt(reason) &&
	    m->mailbox == NULL)
		stats_metrics_rcpt_rejected(server->metrics, protocol, result,
					    reason);
	else
		stats_metrics_delivery(server->metrics, protocol, result, reason,
				       m->size, m->duration_ms / 1000.0);
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
				       m->service, m->pid, m->session_id,
				       m->user, m->text);
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
	/* the counts only grow while loftd runs: add the difference (in
	   one step - the report says how many, not the loop) */
	if (m->reloads_ok > server->reloads_ok_seen) {
		stats_metrics_reload(server->metrics, true,
				     m->reloads_ok - server->reloads_ok_seen);
		server->reloads_ok_seen = m->reloads_ok;
	}
	if (m->reloads_failed > server->reloads_failed_seen) {
		stats_metrics_reload(server->metrics, false,
				     m->reloads_failed - server->reloads_failed_seen);
		server->reloads_failed_seen = m->reloads_failed;
	}
}

static void on_concurrency(struct stats_peer *peer,
			   const Loft__ConcurrencyAcquire *m)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__ConcurrencyReply reply = LOFT__CONCURRENCY_REPLY__INIT;
	unsigned int current = 0;

	reply.id = m->id;
	reply.allowed = stats_sessions_concurrency_acquire(peer->server->sessions,
							   m->user,
							   m->session_id,
							   m->limit, peer->owner,
							   &current);
	reply.current = current;
	env.body_case = LOFT__ENVELOPE__BODY_CONCURRENCY_REPLY;
	env.concurrency_reply = &reply;
	peer_send(peer, &env);
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
		if (w->callback != NULL) {
			*p = w->next;
			w->callback(w, w->context);
		} else {
			pthread_cond_broadcast(&server->reload_cond);
		}
		return;
	}
}

static void on_hello(struct stats_peer *peer, const Loft__Hello *m)
{
	peer->hello_seen = true;
	peer->role = m->role;
	snprintf(peer->service, sizeof(peer->service), "%s",
		 m->service != NULL ? m->service : "");
	peer->pid = m->has_pid ? m->pid : 0;
	if (peer->role == LOFT__ROLE__ROLE_SERVICE && peer->server->debug_count > 0)
		send_debug(peer->server, peer);
}

/* peer_unexpected - a message this peer has no business sending */
static void peer_unexpected(struct stats_peer *peer, const Loft__Envelope *env)
{
	log_warning("stats: %s (pid %u) sent an unexpected %s message",
		    peer->service, peer->pid,
		    ipc_envelope_body_name(env->body_case));
}

void stats_server_peer_message(struct stats_peer *peer,
				const Loft__Envelope *env)
{
	struct stats_server *server = peer->server;

	pthread_mutex_lock(&server->lock);
	switch (env->body_case) {
	case LOFT__ENVELOPE__BODY_HELLO:
		/* the first Hello fixes the role: a second one would turn
		   a peer trusted as loftd into something else, or back */
		if (peer->hello_seen)
			peer_unexpected(peer, env);
		else
			on_hello(peer, env->hello);
		break;
	case LOFT__ENVELOPE__BODY_SESSION_START:
		on_session_start(peer, env->session_start);
		break;
	case LOFT__ENVELOPE__BODY_SESSION_UPDATE: {
		const Loft__SessionUpdate *m = env->session_update;

		(void)stats_sessions_update(server->sessions, m->session_id,
					    m->state,
					    (const char *const *)m->users,
					    m->n_users, m->bytes_in);
		break;
	}
	case LOFT__ENVELOPE__BODY_SESSION_END:
		(void)stats_sessions_end(server->sessions,
					 env->session_end->session_id);
		break;
	case LOFT__ENVELOPE__BODY_DELIVERY:
		on_delivery(server, env->delivery);
		break;
	case LOFT__ENVELOPE__BODY_TIMING:
		stats_metrics_timing(server->metrics,
				     env->timing->kind ==
				     LOFT__TIMING__KIND__KIND_USERDB_LOOKUP ?
				     STATS_TIMING_USERDB_LOOKUP :
				     STATS_TIMING_STORAGE_WRITE,
				     env->timing->seconds);
		break;
	case LOFT__ENVELOPE__BODY_LOG_EVENT:
		on_log_event(peer, env->log_event);
		break;
	case LOFT__ENVELOPE__BODY_LOG_WRITE_FAILURES:
		on_log_write_failures(server, env->log_write_failures);
		break;
	case LOFT__ENVELOPE__BODY_DROPPED:
		stats_metrics_dropped(server->metrics, env->dropped->events);
		break;
	case LOFT__ENVELOPE__BODY_MASTER_STATUS:
		/* only loftd reports services and reloads, and only it
		   becomes the peer master commands go to */
		if (peer->role == LOFT__ROLE__ROLE_MASTER)
			on_master_status(peer, env->master_status);
		else
			peer_unexpected(peer, env);
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE:
		on_concurrency(peer, env->concurrency_acquire);
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_RELEASE:
		stats_sessions_concurrency_release(server->sessions,
						   env->concurrency_release->user,
						   env->concurrency_release->session_id);
		break;
	case LOFT__ENVELOPE__BODY_RELOAD_RESULT:
		if (peer->role == LOFT__ROLE__ROLE_MASTER)
			on_reload_result(server, env->reload_result);
		else
			peer_unexpected(peer, env);
		break;
	default:
		peer_unexpected(peer, env);
		break;
	}
	pthread_mutex_unlock(&server->lock);
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
	if (server->master == peer)
		server->master = NULL;
	ipc_conn_free(&peer->conn);
	free(peer);
}

void stats_server_peer_close(struct stats_peer *peer, const char *reason)
{
	struct stats_server *server = peer->server;

	pthread_mutex_lock(&server->lock);
	if (strcmp(reason, "EOF") != 0 && strstr(reason, "reset") == NULL &&
	    strstr(reason, "closed") == NULL) {
		/* garbage or a broken handshake: the peer is dropped and what
		   it sent counts as lost events */
		log_warning("stats: dropped %s peer (pid %u): %s",
			    peer->hello_seen ? peer->service : "unidentified",
			    peer->pid, reason);
		stats_metrics_dropped(server->metrics, 1);
	}
	peer_remove(server, peer);
	pthread_mutex_unlock(&server->lock);
}

struct stats_peer *stats_server_peer_create(struct stats_server *server)
{
	struct stats_peer *peer = xcalloc(1, sizeof(*peer));

	peer->server = server;
	pthread_mutex_lock(&server->lock);
	peer->owner = ++server->next_owner;
	peer->next = server->peers;
	server->peers = peer;
	pthread_mutex_unlock(&server->lock);
	return peer;
}

/* peer_message - one envelope from a reporter (loop thread) */
static void peer_message(struct ipc_conn *conn, const Loft__Envelope *env,
			 void *context)
{
	(void)conn;
	stats_server_peer_message(context, env);
}

static void peer_close(struct ipc_conn *conn, const char *reason,
		       void *context)
{
	(void)conn;
	stats_server_peer_close(context, reason);
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
		struct ipc_conn_settings cs = {
			.role = LOFT__ROLE__ROLE_STATS, .service = "stats",
			.threaded = true, .on_message = peer_message,
			.on_close = peer_close,
		};
		struct stats_peer *peer = stats_server_peer_create(server);

		cs.context = peer;
		pthread_mutex_lock(&server->lock);
		if (ipc_conn_create(server->loop, client, &cs, &peer->conn,
				    &error) < 0) {
			log_error("stats: %s", error);
			peer_remove(server, peer);
		}
		pthread_mutex_unlock(&server->lock);
	}
	if (ret < 0)
		log_error("stats: %s", error);
}

void stats_server_listen(struct stats_server *server, int fd)
{
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	server->listen_fd = fd;
	server->listen_io = evloop_add_io(server->loop, fd, EVLOOP_READ,
					  listener_accept, server);
}

int stats_server_start_http(struct stats_server *server, int listen_fd,
			    const char *address, unsigned int port,
			    const char **error_r)
{
	struct stats_http_settings hs = {
		.listen_fd = listen_fd, .address = address, .port = port,
		.api_key = server->set->http_api_key,
		/* Dovecot's credential forms for the same key; with no key
		   the mutating API stays disabled (403) */
		.extra_auth = *server->set->http_api_key != '\0' ?
			stats_api_doveadm_auth : NULL,
	};

	return stats_http_start(&hs, stats_api_routes, stats_api_route_count,
				server, &server->http, error_r);
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

void stats_server_stopping(struct stats_server *server)
{
	stats_http_quiesce(server->http);
	if (server->listen_io != NULL)
		evloop_remove_io(&server->listen_io);
	if (server->admin_io != NULL)
		evloop_remove_io(&server->admin_io);
}

struct stats_server *stats_server_create(struct evloop *loop,
					 const struct loft_settings *set)
{
	struct stats_server *server = xcalloc(1, sizeof(*server));

	server->loop = loop;
	server->set = set;
	server->listen_fd = -1;
	server->admin_fd = -1;
	server->start_usecs = clock_realtime_usecs();
	pthread_mutex_init(&server->lock, NULL);
	pthread_cond_init(&server->reload_cond, NULL);
	server->sessions = stats_sessions_create();
	server->metrics = stats_metrics_create(LOFT_VERSION);
	server->journal = stats_journal_create(set->stats_journal_size);
	server->errors = stats_errors_create(0);
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
	stats_admin_close_all(server);
	if (server->listen_io != NULL)
		evloop_remove_io(&server->listen_io);
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
	stats_journal_free(&server->journal);
	stats_errors_free(&server->errors);
	pthread_cond_destroy(&server->reload_cond);
	pthread_mutex_destroy(&server->lock);
	free(server);
}
