/*
 * stats_api - loft-stats' HTTP endpoints (spec section 7) and Dovecot's
 * doveadm HTTP API shape (POST /doveadm/v1), answered through stats_ops.
 * Runs on the HTTP threads. Every call but /metrics and /healthz needs
 * the key; failures are counted and logged, at most one line per peer
 * address per STATS_API_AUTH_LOG_SECS. A reload is handed to loftd and
 * its request deferred (no HTTP thread waits), answered when loftd's
 * ReloadResult arrives or after STATS_API_RELOAD_WAIT_MSECS.
 */
#include "stats_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base64.h"
#include "clock.h"
#include "log.h"
#include "settings.h"
#include "stats_json.h"
#include "stats_match.h"

#define STATS_API_RELOAD_WAIT_MSECS 15000
#define STATS_API_AUTH_LOG_SECS 10

/* query_since - ?since=DUR (1h, 30 min, 90) into an absolute time */
static int query_since(const char *since, uint64_t *since_r,
		       const char **error_r)
{
	return stats_json_parse_ago(since, since_r, error_r);
}

static int query_limit(const char *limit, unsigned int *limit_r,
		       const char **error_r)
{
	char *end;
	unsigned long value;

	*limit_r = 0;
	if (limit == NULL || *limit == '\0')
		return 0;
	errno = 0;
	value = strtoul(limit, &end, 10);
	if (errno != 0 || *end != '\0' || value > 1000000) {
		*error_r = "not a number";
		return -1;
	}
	*limit_r = (unsigned int)value;
	return 0;
}

/* Filter keys of who (query) and kick (body); "mask" is classified as
   loftadm's arguments are (a user mask, IP/CIDR or session id). Each may
   be given several times (a query parameter repeated, or a JSON array):
   alternatives, as several arguments of `loftadm who`. */
static const struct { const char *key; enum stats_filter_kind kind; }
filter_keys[] = {
	{ "user", STATS_FILTER_USER }, { "ip", STATS_FILTER_IP },
	{ "session", STATS_FILTER_SESSION }, { "mask", STATS_FILTER_AUTO },
};

static void api_metrics(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	char *text = stats_ops_metrics(context, req->openmetrics);

	stats_http_respond_text(resp, 200, req->openmetrics ?
				STATS_HTTP_CONTENT_TYPE_OPENMETRICS :
				STATS_HTTP_CONTENT_TYPE_PROMETHEUS, text);
	free(text);
}

static void api_who(void *context, const struct stats_http_request *req,
		    struct stats_http_response *resp)
{
	const char *per = req->query(req, "per_session"), *error;
	struct stats_filter filter;

	stats_filter_init(&filter);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(filter_keys); i++) {
		const char *value;

		for (size_t n = 0; (value = req->query_nth(req,
				filter_keys[i].key, n)) != NULL; n++) {
			if (stats_filter_add(&filter, filter_keys[i].kind,
					     value, &error) < 0) {
				stats_http_respond_error(resp, 400, "%s: %s",
						filter_keys[i].key, error);
				stats_filter_free(&filter);
				return;
			}
		}
	}
	stats_http_respond_json(resp, 200, stats_ops_who(context, &filter,
		per != NULL && strcmp(per, "0") != 0));
	stats_filter_free(&filter);
}

/* kick_filter_value - one value of a kick filter key: a string */
static int kick_filter_value(struct stats_filter *filter,
			     enum stats_filter_kind kind, json_object *v,
			     const char **error_r)
{
	if (!json_object_is_type(v, json_type_string)) {
		*error_r = "filter values must be strings or arrays of strings";
		return -1;
	}
	return stats_filter_add(filter, kind, json_object_get_string(v), error_r);
}

/* kick_filter - {"user": MASK} / {"ip": CIDR} / {"session": ID} / (as
   doveadm) {"mask": MASK}, each a string or an array of them, into
   filter; 0 or -1 with *error_r */
static int kick_filter(json_object *body, struct stats_filter *filter,
		       const char **error_r)
{
	size_t given = 0;
	json_object *v;

	for (size_t i = 0; body != NULL && i < LOFT_N_ELEMENTS(filter_keys); i++) {
		enum stats_filter_kind kind = filter_keys[i].kind;

		if (!json_object_object_get_ex(body, filter_keys[i].key, &v))
			continue;
		if (!json_object_is_type(v, json_type_array)) {
			given++;
			if (kick_filter_value(filter, kind, v, error_r) < 0)
				return -1;
			continue;
		}
		for (size_t j = 0; j < json_object_array_length(v); j++) {
			given++;
			if (kick_filter_value(filter, kind,
					      json_object_array_get_idx(v, j),
					      error_r) < 0)
				return -1;
		}
	}
	if (given == 0) {
		*error_r = "expected {\"user\": MASK}, {\"ip\": CIDR} or {\"session\": ID}";
		return -1;
	}
	return 0;
}

static void api_kick(void *context, const struct stats_http_request *req,
		     struct stats_http_response *resp)
{
	struct stats_filter filter;
	const char *error;

	stats_filter_init(&filter);
	if (req->json == NULL || !json_object_is_type(req->json, json_type_object) ||
	    kick_filter(req->json, &filter, &error) < 0) {
		stats_http_respond_error(resp, 400, "%s", req->json == NULL ?
			"expected {\"user\": MASK}, {\"ip\": CIDR} or {\"session\": ID}" :
			error);
	} else {
		stats_http_respond_json(resp, 200, stats_ops_kick(context, &filter));
	}
	stats_filter_free(&filter);
}

/* The state of a request deferred until loftd answers a master command:
   wait is in server->master_waits until loftd answers (the loop thread
   then resumes the request) or the request stops waiting. */
struct api_wait {
	struct stats_master_wait wait;
	bool not_connected;
	/* /doveadm/v1: the answers so far, and the reload command waited for */
	json_object *doveadm_out;
	size_t doveadm_next;
};

enum api_wait_result {
	API_WAIT_OK,
	API_WAIT_FAILED,	/* loftd's error in wait.error */
	API_WAIT_NOT_CONNECTED,
	API_WAIT_NO_ANSWER,
	API_WAIT_STOPPING,
};

/* api_wait_answered - loftd answered (loop thread, lock held, unlinked) */
static void api_wait_answered(struct stats_master_wait *wait, void *context)
{
	(void)wait;
	stats_http_resume(context);
}

/* api_wait_expire - the request stops waiting: forget the wait */
static void api_wait_expire(void *state, enum stats_http_wake wake,
			    void *context)
{
	struct stats_server *server = context;
	struct api_wait *w = state;

	(void)wake;
	pthread_mutex_lock(&server->lock);
	for (struct stats_master_wait **p = &server->master_waits; *p != NULL;
	     p = &(*p)->next) {
		if (*p == &w->wait) {
			*p = w->wait.next;
			break;
		}
	}
	pthread_mutex_unlock(&server->lock);
}

static void api_wait_free(void *state)
{
	struct api_wait *w = state;

	json_object_put(w->doveadm_out);
}

/* api_wait_start - defer req and ask loftd for command; its handler runs
   again with the answer in req->deferred. NULL, without deferring, when
   loftd is not connected. */
static struct api_wait *api_wait_start(struct stats_server *server,
				       const struct stats_http_request *req,
				       const char *command)
{
	struct api_wait *w;

	if (!stats_ops_master_connected(server))
		return NULL;
	w = stats_http_defer(req, sizeof(*w), STATS_API_RELOAD_WAIT_MSECS,
			     api_wait_expire, api_wait_free);

	memset(&w->wait, 0, sizeof(w->wait));
	w->not_connected = false;
	w->wait.callback = api_wait_answered;
	w->wait.context = w;
	if (stats_ops_master_command(server, command, &w->wait) < 0) {
		w->not_connected = true;
		stats_http_resume(w);
	}
	return w;
}

/* api_wait_result - how the wait of a resumed request ended */
static enum api_wait_result api_wait_result(const struct stats_http_request *req)
{
	const struct api_wait *w = req->deferred;

	if (w->not_connected)
		return API_WAIT_NOT_CONNECTED;
	if (w->wait.done)
		return w->wait.ok ? API_WAIT_OK : API_WAIT_FAILED;
	return req->wake == STATS_HTTP_WAKE_STOPPING ? API_WAIT_STOPPING :
		API_WAIT_NO_ANSWER;
}

static void api_reload(void *context, const struct stats_http_request *req,
		       struct stats_http_response *resp)
{
	json_object *result;

	if (req->deferred == NULL) {
		if (api_wait_start(context, req, "reload") == NULL)
			stats_http_respond_error(resp, 503,
						 "loftd is not connected");
		return;
	}
	switch (api_wait_result(req)) {
	case API_WAIT_NOT_CONNECTED:
		stats_http_respond_error(resp, 503, "loftd is not connected");
		return;
	case API_WAIT_NO_ANSWER:
		stats_http_respond_error(resp, 504, "loftd did not answer the reload");
		return;
	case API_WAIT_STOPPING:
		stats_http_respond_error(resp, 503,
			"loft-stats is stopping before loftd answered the reload");
		return;
	case API_WAIT_FAILED:
		stats_http_respond_error(resp, 400, "%s",
			((const struct api_wait *)req->deferred)->wait.error);
		return;
	case API_WAIT_OK:
		break;
	}
	result = json_object_new_object();
	json_object_object_add(result, "ok", json_object_new_boolean(true));
	stats_http_respond_json(resp, 200, result);
}

static void api_stats(void *context, const struct stats_http_request *req,
		      struct stats_http_response *resp)
{
	(void)req;
	stats_http_respond_json(resp, 200, stats_ops_stats(context));
}

static void api_stats_reset(void *context, const struct stats_http_request *req,
			    struct stats_http_response *resp)
{
	(void)req;
	stats_http_respond_json(resp, 200, stats_ops_stats_reset(context));
}

static void api_deliveries(void *context, const struct stats_http_request *req,
			   struct stats_http_response *resp)
{
	struct stats_journal_query q = {
		.user_mask = req->query(req, "user"),
		.sender = req->query(req, "sender"),
		.msgid = req->query(req, "msgid"),
		.session_id = req->query(req, "session"),
		.result = req->query(req, "result"),
	};
	const char *error;

	if (query_since(req->query(req, "since"), &q.since_usecs, &error) < 0) {
		stats_http_respond_error(resp, 400, "since: %s", error);
		return;
	}
	if (query_since(req->query(req, "until"), &q.until_usecs, &error) < 0) {
		stats_http_respond_error(resp, 400, "until: %s", error);
		return;
	}
	if (query_limit(req->query(req, "limit"), &q.limit, &error) < 0) {
		stats_http_respond_error(resp, 400, "limit: %s", error);
		return;
	}
	stats_http_respond_json(resp, 200, stats_ops_deliveries(context, &q));
}

static void api_errors(void *context, const struct stats_http_request *req,
		       struct stats_http_response *resp)
{
	const char *error;
	unsigned int limit;
	uint64_t since;

	if (query_since(req->query(req, "since"), &since, &error) < 0 ||
	    query_limit(req->query(req, "limit"), &limit, &error) < 0) {
		stats_http_respond_error(resp, 400, "%s", error);
		return;
	}
	stats_http_respond_json(resp, 200, stats_ops_errors(context, since, limit));
}

static void api_services(void *context, const struct stats_http_request *req,
			 struct stats_http_response *resp)
{
	(void)req;
	stats_http_respond_json(resp, 200, stats_ops_services(context));
}

static void api_healthz(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	bool ok;
	json_object *obj = stats_ops_healthz(context, &ok);

	(void)req;
	stats_http_respond_json(resp, ok ? 200 : 503, obj);
}

/* api_debug - POST {"user": MASK, "on": bool}: run-time debug logging */
static void api_debug(void *context, const struct stats_http_request *req,
		      struct stats_http_response *resp)
{
	json_object *user, *on;

	if (req->json == NULL ||
	    !json_object_object_get_ex(req->json, "user", &user) ||
	    !json_object_is_type(user, json_type_string) ||
	    !json_object_object_get_ex(req->json, "on", &on) ||
	    !json_object_is_type(on, json_type_boolean)) {
		stats_http_respond_error(resp, 400,
					 "expected {\"user\": MASK, \"on\": true|false}");
		return;
	}
	stats_http_respond_json(resp, 200, stats_ops_debug(context,
		json_object_get_string(user), json_object_get_boolean(on)));
}

/* --- Dovecot's doveadm HTTP API shape --- */

/* doveadm_error - ["error", {"type": ..., "exitCode": N}, tag] */
static json_object *doveadm_error(int exit_code, const char *type,
				  const char *tag)
{
	json_object *item = json_object_new_array(), *info = json_object_new_object();

	json_object_object_add(info, "type", json_object_new_string(type));
	json_object_object_add(info, "exitCode", json_object_new_int(exit_code));
	json_object_array_add(item, json_object_new_string("error"));
	json_object_array_add(item, info);
	json_object_array_add(item, json_object_new_string(tag));
	return item;
}

/* doveadm_response - ["doveadmResponse", result, tag] */
static json_object *doveadm_response(json_object *result, const char *tag)
{
	json_object *item = json_object_new_array();

	json_object_array_add(item, json_object_new_string("doveadmResponse"));
	json_object_array_add(item, result);
	json_object_array_add(item, json_object_new_string(tag));
	return item;
}

/* doveadm_who_rows - doveadm's who rows from our grouped who */
static json_object *doveadm_who_rows(json_object *who)
{
	json_object *rows = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(who); i++) {
		json_object *g = json_object_array_get_idx(who, i), *row, *v;

		row = json_object_new_object();
		if (json_object_object_get_ex(g, "username", &v))
			json_object_object_add(row, "username", json_object_get(v));
		if (json_object_object_get_ex(g, "connections", &v))
			json_object_object_add(row, "connections", json_object_new_string(
				json_object_get_string(v)));
		if (json_object_object_get_ex(g, "service", &v))
			json_object_object_add(row, "service", json_object_get(v));
		if (json_object_object_get_ex(g, "pids", &v))
			json_object_object_add(row, "pids", json_object_new_string(
				json_object_to_json_string(v)));
		if (json_object_object_get_ex(g, "ips", &v))
			json_object_object_add(row, "ips", json_object_new_string(
				json_object_to_json_string(v)));
		json_object_array_add(rows, row);
	}
	json_object_put(who);
	return rows;
}

/* doveadm_command - one [name, params, tag] (reload is api_doveadm's) */
static json_object *doveadm_command(struct stats_server *server,
				    const char *name, json_object *params,
				    const char *tag)
{
	struct stats_filter filter;
	const char *error;
	json_object *result = NULL, *mask;

	stats_filter_init(&filter);
	if (strcmp(name, "who") == 0) {
		if (json_object_object_get_ex(params, "mask", &mask) &&
		    json_object_is_type(mask, json_type_string) &&
		    stats_filter_add(&filter, STATS_FILTER_AUTO,
				     json_object_get_string(mask), &error) < 0) {
			stats_filter_free(&filter);
			return doveadm_error(64, "invalidInput", tag);
		}
		result = doveadm_who_rows(stats_ops_who(server, &filter, false));
	} else if (strcmp(name, "kick") == 0) {
		if (kick_filter(params, &filter, &error) < 0) {
			stats_filter_free(&filter);
			return doveadm_error(64, "invalidInput", tag);
		}
		json_object *kicked = stats_ops_kick(server, &filter), *list;

		json_object_object_get_ex(kicked, "kicked", &list);
		result = json_object_get(list);
		json_object_put(kicked);
	} else if (strcmp(name, "statsDump") == 0) {
		result = stats_ops_stats(server);
	} else if (strcmp(name, "statsReset") == 0) {
		result = stats_ops_stats_reset(server);
	} else {
		stats_filter_free(&filter);
		return doveadm_error(64, "unknownMethod", tag);
	}
	stats_filter_free(&filter);
	return doveadm_response(result, tag);
}

/* doveadm_valid - every item of the batch is [name, {params}, tag]; the
   index of the first that is not, or -1 */
static ssize_t doveadm_invalid(json_object *batch)
{
	for (size_t i = 0; i < json_object_array_length(batch); i++) {
		json_object *cmd = json_object_array_get_idx(batch, i);

		if (!json_object_is_type(cmd, json_type_array) ||
		    json_object_array_length(cmd) != 3 ||
		    !json_object_is_type(json_object_array_get_idx(cmd, 0),
					 json_type_string) ||
		    !json_object_is_type(json_object_array_get_idx(cmd, 1),
					 json_type_object) ||
		    !json_object_is_type(json_object_array_get_idx(cmd, 2),
					 json_type_string))
			return (ssize_t)i;
	}
	return -1;
}

/* doveadm_item - string i of command cmd */
static const char *doveadm_item(json_object *cmd, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(cmd, i));
}

/* doveadm_reload_done - the answer to the reload req waited for */
static json_object *doveadm_reload_done(const struct stats_http_request *req,
					const char *tag)
{
	return api_wait_result(req) == API_WAIT_OK ?
		doveadm_response(json_object_new_array(), tag) :
		doveadm_error(75, "exitCode", tag);
}

/* api_doveadm - POST /doveadm/v1: [[name, {params}, tag], ...], run in
   order; at a reload the request is deferred until loftd answers, and
   the rest runs after */
static void api_doveadm(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	struct api_wait *w = req->deferred;
	json_object *out, *cmd;
	ssize_t invalid;
	size_t i = 0;

	if (w != NULL) {
		out = w->doveadm_out;
		w->doveadm_out = NULL;
		i = w->doveadm_next;
		cmd = json_object_array_get_idx(req->json, i++);
		json_object_array_add(out, doveadm_reload_done(req,
						doveadm_item(cmd, 2)));
	} else if (req->json == NULL ||
		   !json_object_is_type(req->json, json_type_array)) {
		stats_http_respond_error(resp, 400,
			"expected [[\"command\", {parameters}, \"tag\"], ...]");
		return;
	} else if ((invalid = doveadm_invalid(req->json)) >= 0) {
		stats_http_respond_error(resp, 400,
			"command %zd: expected [\"command\", {parameters}, \"tag\"]",
			invalid);
		return;
	} else {
		out = json_object_new_array();
	}
	for (; i < json_object_array_length(req->json); i++) {
		cmd = json_object_array_get_idx(req->json, i);
		if (strcmp(doveadm_item(cmd, 0), "reload") != 0) {
			json_object_array_add(out, doveadm_command(context,
				doveadm_item(cmd, 0),
				json_object_array_get_idx(cmd, 1),
				doveadm_item(cmd, 2)));
		} else if (req->wake == STATS_HTTP_WAKE_STOPPING ||
			   (w = api_wait_start(context, req, "reload")) == NULL) {
			json_object_array_add(out, doveadm_error(75, "exitCode",
							doveadm_item(cmd, 2)));
		} else {
			w->doveadm_out = out;
			w->doveadm_next = i;
			return;
		}
	}
	stats_http_respond_json(resp, 200, out);
}

const struct stats_http_route stats_api_routes[] = {
	{ "GET", "/metrics", api_metrics, false, false },
	{ "GET", "/healthz", api_healthz, false, false },
	{ "GET", "/api/v1/who", api_who, true, false },
	{ "POST", "/api/v1/kick", api_kick, true, false },
	{ "POST", "/api/v1/reload", api_reload, true, false },
	{ "GET", "/api/v1/stats", api_stats, true, false },
	{ "POST", "/api/v1/stats/reset", api_stats_reset, true, false },
	{ "GET", "/api/v1/deliveries", api_deliveries, true, false },
	{ "GET", "/api/v1/errors", api_errors, true, false },
	{ "GET", "/api/v1/services", api_services, true, false },
	{ "POST", "/api/v1/debug", api_debug, true, false },
	{ "POST", "/doveadm/v1", api_doveadm, true, true },
};
const size_t stats_api_route_count = LOFT_N_ELEMENTS(stats_api_routes);

/* stats_api_doveadm_auth - Dovecot's credentials for the same key:
   "X-Dovecot-API <base64(key)>" and "Basic <base64(doveadm:key)>" */
static bool stats_api_doveadm_auth(const char *authorization, void *context)
{
	struct stats_server *server = context;
	const char *key = server->set->http_api_key;
	char *expected = NULL;
	bool ok = false;

	if (key == NULL || *key == '\0')
		return false;
	if (strncasecmp(authorization, "X-Dovecot-API ", 14) == 0) {
		expected = base64_encode(key, strlen(key));
		ok = stats_http_secret_equal(authorization + 14, expected);
	} else if (strncasecmp(authorization, "Basic ", 6) == 0) {
		char *pair = xasprintf("doveadm:%s", key);

		expected = base64_encode(pair, strlen(pair));
		free(pair);
		ok = stats_http_secret_equal(authorization + 6, expected);
	}
	free(expected);
	return ok;
}

/* auth_log_slot - the rate-limit slot of ip: its own, a free or stale
   one taken over, or, when every slot was used lately, the last one,
   shared by all other addresses (lock held) */
static struct stats_auth_log_peer *auth_log_slot(struct stats_server *server,
						 const char *ip, uint64_t now)
{
	struct stats_auth_log_peer *log = server->auth_log, *oldest = NULL;
	struct stats_auth_log_peer *others = &log[STATS_AUTH_LOG_PEERS - 1];

	for (size_t i = 0; i < STATS_AUTH_LOG_PEERS - 1; i++) {
		if (strcmp(log[i].ip, ip) == 0 && log[i].ip[0] != '\0')
			return &log[i];
		if (oldest == NULL || log[i].last_msecs < oldest->last_msecs)
			oldest = &log[i];
	}
	if (oldest->ip[0] != '\0' &&
	    now - oldest->last_msecs < STATS_API_AUTH_LOG_SECS * 1000)
		return others;
	others->suppressed += oldest->suppressed;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->ip, sizeof(oldest->ip), "%s", ip);
	return oldest;
}

/* stats_api_auth_failed - count a refused request; log it unless its
   address (or, in a flood from many, any other) was logged in the last
   STATS_API_AUTH_LOG_SECS */
static void stats_api_auth_failed(const char *remote_ip, const char *path,
				  void *context)
{
	struct stats_server *server = context;
	struct stats_auth_log_peer *slot;
	uint64_t now = clock_monotonic_msecs();
	unsigned int suppressed = 0;
	bool others, due;

	pthread_mutex_lock(&server->lock);
	stats_metrics_http_auth_failures(server->metrics, 1);
	slot = auth_log_slot(server, remote_ip, now);
	others = slot == &server->auth_log[STATS_AUTH_LOG_PEERS - 1];
	due = slot->last_msecs == 0 ||
		now - slot->last_msecs >= STATS_API_AUTH_LOG_SECS * 1000;
	if (due) {
		suppressed = slot->suppressed;
		slot->suppressed = 0;
		slot->last_msecs = now;
	} else {
		slot->suppressed++;
	}
	pthread_mutex_unlock(&server->lock);
	if (!due)
		return;
	if (suppressed > 0)
		log_warning("http: authentication failed for %s from %s%s "
			    "(and %u more failures not logged in the last %d s)",
			    path, others ? "other addresses, e.g. " : "",
			    remote_ip, suppressed, STATS_API_AUTH_LOG_SECS);
	else
		log_warning("http: authentication failed for %s from %s%s",
			    path, others ? "other addresses, e.g. " : "",
			    remote_ip);
}

const struct listener_settings *
stats_api_http_listener(const struct loft_settings *set)
{
	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];

		if (strcmp(svc->name, "stats") != 0)
			continue;
		for (size_t j = 0; j < svc->listener_count; j++) {
			if (svc->listeners[j].type == LISTENER_INET &&
			    strcmp(svc->listeners[j].name, "http") == 0)
				return &svc->listeners[j];
		}
	}
	return NULL;
}

int stats_api_start(struct stats_server *server,
		    struct stats_http_settings *hs, const char **error_r)
{
	const struct loft_settings *set = server->set;
	const struct listener_settings *l = stats_api_http_listener(set);
	char *hosts;
	int ret;

	/* the names the listener was configured with are this server's */
	hosts = xasprintf("%s %s", l == NULL ? "" :
			  *l->address != '\0' ? l->address : set->listen,
			  set->http_api_allowed_hosts);
	hs->api_key = set->http_api_key;
	/* Dovecot's credential forms for the same key; with no key the API
	   stays disabled (403) */
	hs->extra_auth = *set->http_api_key != '\0' ?
		stats_api_doveadm_auth : NULL;
	hs->auth_failed = stats_api_auth_failed;
	hs->allowed_hosts = hosts;
	ret = stats_http_start(hs, stats_api_routes, stats_api_route_count,
			       server, &server->http, error_r);
	free(hosts);
	return ret;
}
