/*
 * stats_ops - what loft-stats can be asked, once: the HTTP API
 * (stats_api.c), Dovecot's /doveadm/v1 shape and the admin socket
 * (stats_admin.c) all answer through these functions, so they answer the
 * same. Every function takes the server lock itself.
 */
#include "stats_ops.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "stats_json.h"
#include "stats_persist.h"

/* loftd reports every few seconds; older than this it counts as gone */
#define STATS_OPS_MASTER_STALE_USECS (15ULL * 1000000)
/* a loft-stats just started (by a reload, or after a crash) waits this
   long for loftd's first report before it calls loftd missing */
#define STATS_OPS_MASTER_GRACE_USECS (5ULL * 1000000)

json_object *stats_ops_who(struct stats_server *server,
			   const struct stats_filter *filter, bool per_session)
{
	json_object *who;

	pthread_mutex_lock(&server->lock);
	who = stats_sessions_who_json(server->sessions, filter, per_session, 0);
	pthread_mutex_unlock(&server->lock);
	return who;
}

struct kick_collect {
	json_object *kicked;
	struct stats_server *server;
	size_t count;
};

/* kick_one - send Kick to the owner of session and list it */
static void kick_one(const struct stats_session *session, void *context)
{
	struct kick_collect *kc = context;
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Kick msg = LOFT__KICK__INIT;
	char *id = session->id;
	json_object *o = json_object_new_object();

	for (struct stats_peer *p = kc->server->peers; p != NULL; p = p->next) {
		if (p->owner != session->owner || p->conn == NULL)
			continue;
		msg.n_session_ids = 1;
		msg.session_ids = &id;
		env.body_case = LOFT__ENVELOPE__BODY_KICK;
		env.kick = &msg;
		(void)ipc_conn_send(p->conn, &env, NULL);
	}
	json_object_object_add(o, "session", json_object_new_string(session->id));
	json_object_object_add(o, "service", json_object_new_string(session->service));
	json_object_object_add(o, "pid", json_object_new_int64(session->pid));
	json_object_object_add(o, "user", stats_json_string(
		session->user_count > 0 ? session->users[0] : ""));
	json_object_object_add(o, "ip", stats_json_string(session->client_ip));
	json_object_array_add(kc->kicked, o);
	kc->count++;
}

json_object *stats_ops_kick(struct stats_server *server,
			    const struct stats_filter *filter)
{
	struct kick_collect kc = { .server = server };
	json_object *result;

	kc.kicked = json_object_new_array();
	pthread_mutex_lock(&server->lock);
	(void)stats_sessions_foreach(server->sessions, filter, kick_one, &kc);
	stats_metrics_kicks(server->metrics, kc.count);
	pthread_mutex_unlock(&server->lock);
	result = json_object_new_object();
	json_object_object_add(result, "count", json_object_new_int64((int64_t)kc.count));
	json_object_object_add(result, "kicked", kc.kicked);
	return result;
}

char *stats_ops_metrics(struct stats_server *server, bool openmetrics)
{
	struct stats_metrics_services services;
	char *text;

	pthread_mutex_lock(&server->lock);
	stats_server_services(server, &services);
	text = stats_metrics_render(server->metrics, &services, openmetrics);
	stats_server_services_free(&services);
	pthread_mutex_unlock(&server->lock);
	return text;
}

json_object *stats_ops_stats(struct stats_server *server)
{
	struct stats_metrics_services services;
	json_object *obj;

	pthread_mutex_lock(&server->lock);
	stats_server_services(server, &services);
	obj = stats_metrics_json(server->metrics, &services);
	stats_server_services_free(&services);
	pthread_mutex_unlock(&server->lock);
	return obj;
}

json_object *stats_ops_stats_reset(struct stats_server *server)
{
	json_object *result = json_object_new_object();

	pthread_mutex_lock(&server->lock);
	stats_metrics_reset(server->metrics);
	pthread_mutex_unlock(&server->lock);
	json_object_object_add(result, "ok", json_object_new_boolean(true));
	return result;
}

json_object *stats_ops_deliveries(struct stats_server *server,
				  const struct stats_journal_query *q)
{
	return stats_persist_deliveries(server, q);
}

json_object *stats_ops_errors(struct stats_server *server, uint64_t since,
			      unsigned int limit)
{
	return stats_persist_errors(server, since, limit);
}

/* services_json - loftd's last report (lock held) */
static json_object *services_json(struct stats_server *server)
{
	const Loft__MasterStatus *st = server->master_status;
	json_object *obj = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(obj, "master_connected",
			       json_object_new_boolean(server->master != NULL));
	if (st != NULL) {
		json_object_object_add(obj, "master_pid", json_object_new_int64(st->pid));
		json_object_object_add(obj, "master_start",
				       stats_json_ts(st->start_usecs));
	}
	for (size_t i = 0; st != NULL && i < st->n_services; i++) {
		const Loft__ServiceStatus *s = st->services[i];
		json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(s->name));
		json_object_object_add(o, "up", json_object_new_boolean(s->up));
		json_object_object_add(o, "processes", json_object_new_int64(s->processes));
		json_object_object_add(o, "process_limit", json_object_new_int64(s->process_limit));
		json_object_object_add(o, "client_limit", json_object_new_int64(s->client_limit));
		json_object_object_add(o, "restarts", json_object_new_int64((int64_t)s->restarts));
		json_object_object_add(o, "sessions", json_object_new_int64((int64_t)
			stats_sessions_count_service(server->sessions, s->name)));
		for (size_t j = 0; j < s->n_listeners; j++)
			json_object_array_add(a, json_object_new_string(s->listeners[j]));
		json_object_object_add(o, "listeners", a);
		a = json_object_new_array();
		for (size_t j = 0; j < s->n_pids; j++)
			json_object_array_add(a, json_object_new_int64(s->pids[j]));
		json_object_object_add(o, "pids", a);
		json_object_array_add(list, o);
	}
	json_object_object_add(obj, "services", list);
	json_object_object_add(obj, "backends",
			       stats_metrics_backends_json(server->metrics));
	return obj;
}

json_object *stats_ops_services(struct stats_server *server)
{
	json_object *obj;

	pthread_mutex_lock(&server->lock);
	obj = services_json(server);
	pthread_mutex_unlock(&server->lock);
	return obj;
}

/* stats_ops_master_pending - loftd started this loft-stats moments ago,
   is alive and has not reported yet: a reload is no outage (lock held) */
static bool stats_ops_master_pending(const struct stats_server *server)
{
	if (server->master_pid <= 0 ||
	    clock_realtime_usecs() - server->start_usecs >
	    STATS_OPS_MASTER_GRACE_USECS)
		return false;
	/* EPERM: alive, and root's */
	return kill(server->master_pid, 0) == 0 || errno == EPERM;
}

json_object *stats_ops_healthz(struct stats_server *server, bool *ok_r)
{
	json_object *obj = json_object_new_object(), *problems = json_object_new_array();
	json_object *backends;
	const Loft__MasterStatus *st;

	pthread_mutex_lock(&server->lock);
	st = server->master_status;
	if (server->master == NULL || st == NULL) {
		if (!stats_ops_master_pending(server))
			json_object_array_add(problems,
				json_object_new_string("loftd is not connected"));
	} else if (clock_realtime_usecs() - server->master_status_usecs >
		   STATS_OPS_MASTER_STALE_USECS) {
		json_object_array_add(problems,
			json_object_new_string("loftd stopped reporting"));
	}
	for (size_t i = 0; server->master != NULL && st != NULL &&
	     i < st->n_services; i++) {
		if (st->services[i]->n_listeners > 0 && !st->services[i]->up) {
			char text[160];

			snprintf(text, sizeof(text), "service %s is down",
				 st->services[i]->name);
			json_object_array_add(problems, json_object_new_string(text));
		}
	}
	/* backends are reported, never a reason for 503: a proxy whose
	   backend is down is itself healthy (its other recipients go on),
	   and restarting it would not help */
	backends = stats_metrics_backends_json(server->metrics);
	pthread_mutex_unlock(&server->lock);
	*ok_r = json_object_array_length(problems) == 0;
	json_object_object_add(obj, "status", json_object_new_string(*ok_r ? "ok" : "unhealthy"));
	json_object_object_add(obj, "problems", problems);
	json_object_object_add(obj, "backends", backends);
	return obj;
}

json_object *stats_ops_debug(struct stats_server *server, const char *mask,
			     bool on)
{
	json_object *result, *list;
	size_t i;

	pthread_mutex_lock(&server->lock);
	for (i = 0; i < server->debug_count; i++) {
		if (strcasecmp(server->debug_masks[i], mask) == 0)
			break;
	}
	if (on && i == server->debug_count) {
		server->debug_masks = xreallocarray(server->debug_masks,
						    server->debug_count + 2,
						    sizeof(char *));
		server->debug_masks[server->debug_count++] = xstrdup(mask);
		server->debug_masks[server->debug_count] = NULL;
	} else if (!on && i < server->debug_count) {
		free(server->debug_masks[i]);
		memmove(&server->debug_masks[i], &server->debug_masks[i + 1],
			(server->debug_count - i) * sizeof(char *));
		server->debug_count--;
	}
	stats_server_save_debug(server);
	stats_server_broadcast_debug(server);
	list = json_object_new_array();
	for (i = 0; i < server->debug_count; i++)
		json_object_array_add(list, json_object_new_string(server->debug_masks[i]));
	pthread_mutex_unlock(&server->lock);
	log_info("debug logging %s for %s", on ? "on" : "off", mask);
	result = json_object_new_object();
	json_object_object_add(result, "debug_users", list);
	return result;
}

bool stats_ops_master_connected(struct stats_server *server)
{
	bool connected;

	pthread_mutex_lock(&server->lock);
	connected = server->master != NULL && server->master->conn != NULL;
	pthread_mutex_unlock(&server->lock);
	return connected;
}

int stats_ops_master_command(struct stats_server *server, const char *command,
			     struct stats_master_wait *wait)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__MasterCommand msg = LOFT__MASTER_COMMAND__INIT;

	pthread_mutex_lock(&server->lock);
	if (server->master == NULL || server->master->conn == NULL) {
		pthread_mutex_unlock(&server->lock);
		return -1;
	}
	wait->id = msg.id = ++server->next_request_id;
	wait->next = server->master_waits;
	server->master_waits = wait;
	msg.command = (char *)command;
	env.body_case = LOFT__ENVELOPE__BODY_MASTER_COMMAND;
	env.master_command = &msg;
	(void)ipc_conn_send(server->master->conn, &env, NULL);
	pthread_mutex_unlock(&server->lock);
	return 0;
}

void stats_ops_log_test(struct stats_server *server)
{
	(void)server;
	log_debug("log test: debug");
	log_info("log test: info");
	log_warning("log test: warning");
	log_error("log test: error");
}
