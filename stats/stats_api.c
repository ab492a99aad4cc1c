/*
 * stats_api - what loft-stats' HTTP endpoints answer (spec section 7).
 * Runs on the HTTP thread: every handler takes the server lock. Kicks and
 * debug masks go out to the owning processes through their (threaded)
 * connections; a reload is handed to loftd and waited for, bounded.
 */
#include "stats_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "mask.h"
#include "settings.h"
#include "stats_json.h"
#include "stats_match.h"

#define STATS_API_RELOAD_WAIT_SECS 15
/* loftd reports every few seconds; older than this it counts as gone */
#define STATS_API_MASTER_STALE_USECS (15ULL * 1000000)

/* query_since - ?since=DUR (1h, 30 min, 90) into an absolute time */
static int query_since(const struct stats_http_request *req,
		       uint64_t *since_r, struct stats_http_response *resp)
{
	const char *since = req->query(req, "since"), *error;
	uint64_t msecs;

	*since_r = 0;
	if (since == NULL || *since == '\0')
		return 0;
	if (settings_parse_time(since, &msecs, &error) < 0) {
		stats_http_respond_error(resp, 400, "since: %s", error);
		return -1;
	}
	uint64_t now = stats_now_usecs();
	*since_r = msecs * 1000 >= now ? 0 : now - msecs * 1000;
	return 0;
}

static int query_limit(const struct stats_http_request *req,
		       unsigned int *limit_r, struct stats_http_response *resp)
{
	const char *limit = req->query(req, "limit");
	char *end;
	unsigned long value;

	*limit_r = 0;
	if (limit == NULL || *limit == '\0')
		return 0;
	errno = 0;
	value = strtoul(limit, &end, 10);
	if (errno != 0 || *end != '\0' || value > 1000000) {
		stats_http_respond_error(resp, 400, "limit: not a number: %s", limit);
		return -1;
	}
	*limit_r = (unsigned int)value;
	return 0;
}

/* filter_add_query - ?user=MASK&ip=CIDR&session=ID into filter */
static int filter_add_query(const struct stats_http_request *req,
			    struct stats_filter *filter,
			    struct stats_http_response *resp)
{
	static const struct { const char *key; enum stats_filter_kind kind; }
	params[] = {
		{ "user", STATS_FILTER_USER }, { "ip", STATS_FILTER_IP },
		{ "session", STATS_FILTER_SESSION },
	};
	const char *error;

	for (size_t i = 0; i < LOFT_N_ELEMENTS(params); i++) {
		const char *value = req->query(req, params[i].key);

		if (value != NULL &&
		    stats_filter_add(filter, params[i].kind, value, &error) < 0) {
			stats_http_respond_error(resp, 400, "%s: %s",
						 params[i].key, error);
			return -1;
		}
	}
	return 0;
}

static void api_metrics(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	struct stats_server *server = context;
	struct stats_metrics_services services;
	char *text;

	pthread_mutex_lock(&server->lock);
	stats_server_services(server, &services);
	text = stats_metrics_render(server->metrics, &services, req->openmetrics);
	stats_server_services_free(&services);
	pthread_mutex_unlock(&server->lock);
	stats_http_respond_text(resp, 200, req->openmetrics ?
				STATS_HTTP_CONTENT_TYPE_OPENMETRICS :
				STATS_HTTP_CONTENT_TYPE_PROMETHEUS, text);
	free(text);
}

static void api_who(void *context, const struct stats_http_request *req,
		    struct stats_http_response *resp)
{
	struct stats_server *server = context;
	struct stats_filter filter;
	const char *per = req->query(req, "per_session");
	json_object *who;

	stats_filter_init(&filter);
	if (filter_add_query(req, &filter, resp) < 0) {
		stats_filter_free(&filter);
		return;
	}
	pthread_mutex_lock(&server->lock);
	who = stats_sessions_who_json(server->sessions, &filter,
				      per != NULL && strcmp(per, "0") != 0, 0);
	pthread_mutex_unlock(&server->lock);
	stats_filter_free(&filter);
	stats_http_respond_json(resp, 200, who);
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

static void api_kick(void *context, const struct stats_http_request *req,
		     struct stats_http_response *resp)
{
	static const struct { const char *key; enum stats_filter_kind kind; }
	keys[] = {
		{ "user", STATS_FILTER_USER }, { "ip", STATS_FILTER_IP },
		{ "session", STATS_FILTER_SESSION },
	};
	struct stats_server *server = context;
	struct kick_collect kc = { .server = server };
	struct stats_filter filter;
	const char *error;
	json_object *result;
	size_t given = 0;

	if (req->json == NULL) {
		stats_http_respond_error(resp, 400,
			"expected {\"user\": MASK}, {\"ip\": CIDR} or {\"session\": ID}");
		return;
	}
	stats_filter_init(&filter);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(keys); i++) {
		json_object *v;

		if (!json_object_object_get_ex(req->json, keys[i].key, &v))
			continue;
		given++;
		if (!json_object_is_type(v, json_type_string) ||
		    stats_filter_add(&filter, keys[i].kind,
				     json_object_get_string(v), &error) < 0) {
			stats_http_respond_error(resp, 400, "%s: %s", keys[i].key,
				json_object_is_type(v, json_type_string) ?
				error : "must be a string");
			stats_filter_free(&filter);
			return;
		}
	}
	if (given == 0) {
		stats_http_respond_error(resp, 400,
			"expected {\"user\": MASK}, {\"ip\": CIDR} or {\"session\": ID}");
		stats_filter_free(&filter);
		return;
	}
	kc.kicked = json_object_new_array();
	pthread_mutex_lock(&server->lock);
	(void)stats_sessions_foreach(server->sessions, &filter, kick_one, &kc);
	stats_metrics_kicks(server->metrics, kc.count);
	pthread_mutex_unlock(&server->lock);
	stats_filter_free(&filter);
	result = json_object_new_object();
	json_object_object_add(result, "count", json_object_new_int64((int64_t)kc.count));
	json_object_object_add(result, "kicked", kc.kicked);
	stats_http_respond_json(resp, 200, result);
}

static void api_reload(void *context, const struct stats_http_request *req,
		       struct stats_http_response *resp)
{
	struct stats_server *server = context;
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__ReloadRequest msg = LOFT__RELOAD_REQUEST__INIT;
	struct stats_reload_wait wait = { 0 };
	struct timespec deadline;
	json_object *result;

	(void)req;
	pthread_mutex_lock(&server->lock);
	if (server->master == NULL || server->master->conn == NULL) {
		pthread_mutex_unlock(&server->lock);
		stats_http_respond_error(resp, 503, "loftd is not connected");
		return;
	}
	wait.id = msg.id = ++server->next_request_id;
	wait.next = server->reload_waits;
	server->reload_waits = &wait;
	env.body_case = LOFT__ENVELOPE__BODY_RELOAD_REQUEST;
	env.reload_request = &msg;
	(void)ipc_conn_send(server->master->conn, &env, NULL);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STATS_API_RELOAD_WAIT_SECS;
	while (!wait.done &&
	       pthread_cond_timedwait(&server->reload_cond, &server->lock,
				      &deadline) != ETIMEDOUT)
		;
	for (struct stats_reload_wait **p = &server->reload_waits; *p != NULL;
	     p = &(*p)->next) {
		if (*p == &wait) {
			*p = wait.next;
			break;
		}
	}
	pthread_mutex_unlock(&server->lock);
	if (!wait.done) {
		stats_http_respond_error(resp, 504, "loftd did not answer the reload");
		return;
	}
	if (!wait.ok) {
		stats_http_respond_error(resp, 400, "%s", wait.error);
		return;
	}
	result = json_object_new_object();
	json_object_object_add(result, "ok", json_object_new_boolean(true));
	stats_http_respond_json(resp, 200, result);
}

static void api_stats(void *context, const struct stats_http_request *req,
		      struct stats_http_response *resp)
{
	struct stats_server *server = context;
	struct stats_metrics_services services;
	json_object *obj;

	(void)req;
	pthread_mutex_lock(&server->lock);
	stats_server_services(server, &services);
	obj = stats_metrics_json(server->metrics, &services);
	stats_server_services_free(&services);
	pthread_mutex_unlock(&server->lock);
	stats_http_respond_json(resp, 200, obj);
}

static void api_stats_reset(void *context, const struct stats_http_request *req,
			    struct stats_http_response *resp)
{
	struct stats_server *server = context;
	json_object *result = json_object_new_object();

	(void)req;
	pthread_mutex_lock(&server->lock);
	stats_metrics_reset(server->metrics);
	pthread_mutex_unlock(&server->lock);
	json_object_object_add(result, "ok", json_object_new_boolean(true));
	stats_http_respond_json(resp, 200, result);
}

static void api_deliveries(void *context, const struct stats_http_request *req,
			   struct stats_http_response *resp)
{
	struct stats_server *server = context;
	struct stats_journal_query q = {
		.user_mask = req->query(req, "user"),
		.sender = req->query(req, "sender"),
		.msgid = req->query(req, "msgid"),
		.session_id = req->query(req, "session"),
		.result = req->query(req, "result"),
	};
	json_object *list;

	if (query_since(req, &q.since_usecs, resp) < 0 ||
	    query_limit(req, &q.limit, resp) < 0)
		return;
	pthread_mutex_lock(&server->lock);
	list = stats_journal_query(server->journal, &q);
	pthread_mutex_unlock(&server->lock);
	stats_http_respond_json(resp, 200, list);
}

static void api_errors(void *context, const struct stats_http_request *req,
		       struct stats_http_response *resp)
{
	struct stats_server *server = context;
	uint64_t since;
	unsigned int limit;
	json_object *list;

	if (query_since(req, &since, resp) < 0 ||
	    query_limit(req, &limit, resp) < 0)
		return;
	pthread_mutex_lock(&server->lock);
	list = stats_errors_query(server->errors, since, limit);
	pthread_mutex_unlock(&server->lock);
	stats_http_respond_json(resp, 200, list);
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
	return obj;
}

static void api_services(void *context, const struct stats_http_request *req,
			 struct stats_http_response *resp)
{
	struct stats_server *server = context;
	json_object *obj;

	(void)req;
	pthread_mutex_lock(&server->lock);
	obj = services_json(server);
	pthread_mutex_unlock(&server->lock);
	stats_http_respond_json(resp, 200, obj);
}

static void api_healthz(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	struct stats_server *server = context;
	json_object *obj = json_object_new_object(), *problems = json_object_new_array();
	const Loft__MasterStatus *st;

	(void)req;
	pthread_mutex_lock(&server->lock);
	st = server->master_status;
	if (server->master == NULL || st == NULL)
		json_object_array_add(problems, json_object_new_string("loftd is not connected"));
	else if (stats_now_usecs() - server->master_status_usecs >
		 STATS_API_MASTER_STALE_USECS)
		json_object_array_add(problems, json_object_new_string("loftd stopped reporting"));
	for (size_t i = 0; server->master != NULL && st != NULL &&
	     i < st->n_services; i++) {
		if (st->services[i]->n_listeners > 0 && !st->services[i]->up) {
			char text[160];

			snprintf(text, sizeof(text), "service %s is down",
				 st->services[i]->name);
			json_object_array_add(problems, json_object_new_string(text));
		}
	}
	pthread_mutex_unlock(&server->lock);
	bool ok = json_object_array_length(problems) == 0;
	json_object_object_add(obj, "status", json_object_new_string(ok ? "ok" : "unhealthy"));
	json_object_object_add(obj, "problems", problems);
	stats_http_respond_json(resp, ok ? 200 : 503, obj);
}

/* api_debug - POST {"user": MASK, "on": bool}: run-time debug logging */
static void api_debug(void *context, const struct stats_http_request *req,
		      struct stats_http_response *resp)
{
	struct stats_server *server = context;
	json_object *user, *on, *result, *list;
	const char *mask;

	if (req->json == NULL ||
	    !json_object_object_get_ex(req->json, "user", &user) ||
	    !json_object_is_type(user, json_type_string) ||
	    !json_object_object_get_ex(req->json, "on", &on) ||
	    !json_object_is_type(on, json_type_boolean)) {
		stats_http_respond_error(resp, 400,
					 "expected {\"user\": MASK, \"on\": true|false}");
		return;
	}
	mask = json_object_get_string(user);
	pthread_mutex_lock(&server->lock);
	size_t i;
	for (i = 0; i < server->debug_count; i++) {
		if (strcasecmp(server->debug_masks[i], mask) == 0)
			break;
	}
	if (json_object_get_boolean(on) && i == server->debug_count) {
		server->debug_masks = xreallocarray(server->debug_masks,
						    server->debug_count + 2,
						    sizeof(char *));
		server->debug_masks[server->debug_count++] = xstrdup(mask);
		server->debug_masks[server->debug_count] = NULL;
	} else if (!json_object_get_boolean(on) && i < server->debug_count) {
		free(server->debug_masks[i]);
		memmove(&server->debug_masks[i], &server->debug_masks[i + 1],
			(server->debug_count - i) * sizeof(char *));
		server->debug_count--;
	}
	stats_server_broadcast_debug(server);
	list = json_object_new_array();
	for (i = 0; i < server->debug_count; i++)
		json_object_array_add(list, json_object_new_string(server->debug_masks[i]));
	pthread_mutex_unlock(&server->lock);
	result = json_object_new_object();
	json_object_object_add(result, "debug_users", list);
	stats_http_respond_json(resp, 200, result);
}

const struct stats_http_route stats_api_routes[] = {
	{ "GET", "/metrics", api_metrics, false },
	{ "GET", "/healthz", api_healthz, false },
	{ "GET", "/api/v1/who", api_who, false },
	{ "POST", "/api/v1/kick", api_kick, true },
	{ "POST", "/api/v1/reload", api_reload, true },
	{ "GET", "/api/v1/stats", api_stats, false },
	{ "POST", "/api/v1/stats/reset", api_stats_reset, true },
	{ "GET", "/api/v1/deliveries", api_deliveries, false },
	{ "GET", "/api/v1/errors", api_errors, false },
	{ "GET", "/api/v1/services", api_services, false },
	{ "POST", "/api/v1/debug", api_debug, true },
};
const size_t stats_api_route_count = LOFT_N_ELEMENTS(stats_api_routes);
