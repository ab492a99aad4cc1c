/*
 * stats_api - loft-stats' HTTP endpoints (spec section 7) and Dovecot's
 * doveadm HTTP API shape (POST /doveadm/v1), answered through stats_ops.
 * Runs on the HTTP thread. A reload is handed to loftd and waited for,
 * bounded.
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

#define STATS_API_RELOAD_WAIT_SECS 15

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

/* Filter keys of who (query) and kick (body). */
static const struct { const char *key; enum stats_filter_kind kind; }
filter_keys[] = {
	{ "user", STATS_FILTER_USER }, { "ip", STATS_FILTER_IP },
	{ "session", STATS_FILTER_SESSION },
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
		const char *value = req->query(req, filter_keys[i].key);

		if (value != NULL &&
		    stats_filter_add(&filter, filter_keys[i].kind, value,
				     &error) < 0) {
			stats_http_respond_error(resp, 400, "%s: %s",
						 filter_keys[i].key, error);
			stats_filter_free(&filter);
			return;
		}
	}
	stats_http_respond_json(resp, 200, stats_ops_who(context, &filter,
		per != NULL && strcmp(per, "0") != 0));
	stats_filter_free(&filter);
}

/* kick_filter - {"user": MASK} / {"ip": CIDR} / {"session": ID} (or
   doveadm's {"mask": MASK}) into filter; 0 or -1 with *error_r */
static int kick_filter(json_object *body, struct stats_filter *filter,
		       const char **error_r)
{
	size_t given = 0;
	json_object *v;

	for (size_t i = 0; body != NULL && i <= LOFT_N_ELEMENTS(filter_keys); i++) {
		const char *key = i < LOFT_N_ELEMENTS(filter_keys) ?
			filter_keys[i].key : "mask";
		enum stats_filter_kind kind = i < LOFT_N_ELEMENTS(filter_keys) ?
			filter_keys[i].kind : STATS_FILTER_AUTO;

		if (!json_object_object_get_ex(body, key, &v))
			continue;
		given++;
		if (!json_object_is_type(v, json_type_string)) {
			*error_r = "filter values must be strings";
			return -1;
		}
		if (stats_filter_add(filter, kind, json_object_get_string(v),
				     error_r) < 0)
			return -1;
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

/* master_command_wait - send and wait (HTTP thread); 0 ok, -1 failed
   with error, -2 loftd not connected, -3 no answer */
static int master_command_wait(struct stats_server *server,
			       const char *command, char *error,
			       size_t error_size)
{
	struct stats_master_wait wait = { 0 };
	struct timespec deadline;
	int ret;

	if (stats_ops_master_command(server, command, &wait) < 0)
		return -2;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STATS_API_RELOAD_WAIT_SECS;
	pthread_mutex_lock(&server->lock);
	while (!wait.done &&
	       pthread_cond_timedwait(&server->reload_cond, &server->lock,
				      &deadline) != ETIMEDOUT)
		;
	for (struct stats_master_wait **p = &server->master_waits; *p != NULL;
	     p = &(*p)->next) {
		if (*p == &wait) {
			*p = wait.next;
			break;
		}
	}
	pthread_mutex_unlock(&server->lock);
	ret = !wait.done ? -3 : wait.ok ? 0 : -1;
	snprintf(error, error_size, "%s", wait.error);
	return ret;
}

static void api_reload(void *context, const struct stats_http_request *req,
		       struct stats_http_response *resp)
{
	char error[512];
	json_object *result;

	(void)req;
	switch (master_command_wait(context, "reload", error, sizeof(error))) {
	case -2:
		stats_http_respond_error(resp, 503, "loftd is not connected");
		return;
	case -3:
		stats_http_respond_error(resp, 504, "loftd did not answer the reload");
		return;
	case -1:
		stats_http_respond_error(resp, 400, "%s", error);
		return;
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

/* doveadm_command - one [name, params, tag] */
static json_object *doveadm_command(struct stats_server *server,
				    const char *name, json_object *params,
				    const char *tag)
{
	struct stats_filter filter;
	const char *error;
	char reason[512];
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
	} else if (strcmp(name, "reload") == 0) {
		int ret = master_command_wait(server, "reload", reason,
					      sizeof(reason));
		stats_filter_free(&filter);
		return ret == 0 ? doveadm_response(json_object_new_array(), tag) :
			doveadm_error(75, "exitCode", tag);
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

/* api_doveadm - POST /doveadm/v1: [[name, {params}, tag], ...] */
static void api_doveadm(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	json_object *out;

	if (req->json == NULL || !json_object_is_type(req->json, json_type_array)) {
		stats_http_respond_error(resp, 400,
			"expected [[\"command\", {parameters}, \"tag\"], ...]");
		return;
	}
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(req->json); i++) {
		json_object *cmd = json_object_array_get_idx(req->json, i);
		json_object *name, *params, *tag;

		if (!json_object_is_type(cmd, json_type_array) ||
		    json_object_array_length(cmd) != 3 ||
		    !json_object_is_type(name = json_object_array_get_idx(cmd, 0),
					 json_type_string) ||
		    !json_object_is_type(params = json_object_array_get_idx(cmd, 1),
					 json_type_object) ||
		    !json_object_is_type(tag = json_object_array_get_idx(cmd, 2),
					 json_type_string)) {
			json_object_put(out);
			stats_http_respond_error(resp, 400,
				"command %zu: expected [\"command\", {parameters}, \"tag\"]", i);
			return;
		}
		json_object_array_add(out, doveadm_command(context,
			json_object_get_string(name), params,
			json_object_get_string(tag)));
	}
	stats_http_respond_json(resp, 200, out);
}

const struct stats_http_route stats_api_routes[] = {
	{ "GET", "/metrics", api_metrics, false, false },
	{ "GET", "/healthz", api_healthz, false, false },
	{ "GET", "/api/v1/who", api_who, false, false },
	{ "POST", "/api/v1/kick", api_kick, true, false },
	{ "POST", "/api/v1/reload", api_reload, true, false },
	{ "GET", "/api/v1/stats", api_stats, false, false },
	{ "POST", "/api/v1/stats/reset", api_stats_reset, true, false },
	{ "GET", "/api/v1/deliveries", api_deliveries, false, false },
	{ "GET", "/api/v1/errors", api_errors, false, false },
	{ "GET", "/api/v1/services", api_services, false, false },
	{ "POST", "/api/v1/debug", api_debug, true, false },
	{ "POST", "/doveadm/v1", api_doveadm, true, true },
};
const size_t stats_api_route_count = LOFT_N_ELEMENTS(stats_api_routes);

/* stats_api_doveadm_auth - Dovecot's credentials for the same key:
   "X-Dovecot-API <base64(key)>" and "Basic <base64(doveadm:key)>" */
bool stats_api_doveadm_auth(const char *authorization, void *context)
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
