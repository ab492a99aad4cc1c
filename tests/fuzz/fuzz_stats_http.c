/*
 * fuzz_stats_http - libFuzzer target for what loft-stats makes of an HTTP
 * request once libmicrohttpd has split it: the body check
 * (stats_http_check_json_body, stats/stats_http_check.c) and the route
 * handlers of stats/stats_api.c, /doveadm/v1's command list among them,
 * run against a loft-stats holding a session. Input: a byte choosing the
 * route, then "key=value" query lines ended by an empty line, then the
 * body. Checked: a body is accepted only as one JSON value (an object
 * unless the route takes any) whose re-serialisation is accepted again
 * and serialises the same; every answer has a status the API documents
 * and, when JSON, a body that parses.
 */
#include "fuzz_util.h"

#include "evloop.h"
#include "settings.h"
#include "stats_http_private.h"
#include "stats_ops.h"
#include "stats_server.h"

#define FUZZ_MAX_QUERY 8

struct fuzz_query {
	char *keys[FUZZ_MAX_QUERY], *values[FUZZ_MAX_QUERY];
	size_t count;
};

static struct evloop *loop;
static struct loft_settings set;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_logs();
	loop = evloop_create();
	settings_init(&set);
	set.stats_journal_size = 16;
	return 0;
}

static const char *query(const struct stats_http_request *req,
			 const char *key)
{
	const struct fuzz_query *q = req->impl;

	for (size_t i = 0; i < q->count; i++) {
		if (strcmp(q->keys[i], key) == 0)
			return q->values[i];
	}
	return NULL;
}

static const char *query_nth(const struct stats_http_request *req,
			     const char *key, size_t n)
{
	const struct fuzz_query *q = req->impl;

	for (size_t i = 0; i < q->count; i++) {
		if (strcmp(q->keys[i], key) == 0 && n-- == 0)
			return q->values[i];
	}
	return NULL;
}

static const char *header(const struct stats_http_request *req,
			  const char *name)
{
	(void)req;
	(void)name;
	return NULL;
}

/* check_body - the accepted value survives serialisation */
static void check_body(json_object *json, bool any_json)
{
	const char *text = json_object_to_json_string_ext(json,
							  JSON_C_TO_STRING_PLAIN);
	const char *error;
	json_object *again;

	FUZZ_CHECK(any_json || json_object_is_type(json, json_type_object));
	again = stats_http_check_json_body(any_json, text, strlen(text),
					   &error);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strcmp(json_object_to_json_string_ext(again,
			  JSON_C_TO_STRING_PLAIN), text) == 0);
	json_object_put(again);
}

/* check_response - a documented status and, for JSON, a parsable body */
static void check_response(const struct stats_http_response *resp)
{
	static const unsigned int statuses[] = { 200, 400, 503, 504 };
	bool known = false;

	for (size_t i = 0; i < LOFT_N_ELEMENTS(statuses); i++)
		known |= resp->status == statuses[i];
	FUZZ_CHECK(known);
	FUZZ_CHECK(resp->body != NULL);
	if (resp->content_type == NULL) {
		json_object *obj = json_tokener_parse(resp->body);

		FUZZ_CHECK(obj != NULL);
		json_object_put(obj);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	const struct stats_http_route *route =
		&stats_api_routes[fuzz_u8(&in) % stats_api_route_count];
	struct stats_http_response resp = { 0 };
	struct stats_http_request req = {
		.method = route->method, .path = route->path,
		.remote_ip = "127.0.0.1", .query = query, .query_nth = query_nth,
		.header = header,
	};
	struct fuzz_query q = { .count = 0 };
	struct stats_server *server;
	const char *error = NULL;
	char *body;

	while (!fuzz_empty(&in) && q.count < FUZZ_MAX_QUERY) {
		char *line = fuzz_field(&in, '\n');
		char *eq = strchr(line, '=');

		if (*line == '\0') {
			free(line);
			break;
		}
		if (eq != NULL)
			*eq = '\0';
		q.keys[q.count] = line;
		q.values[q.count++] = eq != NULL ? eq + 1 : line + strlen(line);
	}
	req.impl = &q;
	/* the rest is the body, as MHD hands it over: NUL-terminated */
	body = xstrndup((const char *)in.data, in.size);
	if (strcmp(route->method, "GET") != 0 && in.size > 0) {
		req.body = body;
		req.body_len = in.size;
		req.json = stats_http_check_json_body(route->any_json,
			(const char *)in.data, in.size, &error);
		if (req.json == NULL) {
			FUZZ_CHECK(error != NULL && *error != '\0');
			goto out;
		}
		check_body(req.json, route->any_json);
	}
	server = stats_server_create(loop, &set, NULL);
	{
		char *users[] = { "alice@example.com" };
		struct stats_session s = {
			.id = "hGoIAHg/AmuWRQAAAQDAAw", .service = "lmtp",
			.pid = 100, .client_ip = "192.0.2.7", .users = users,
			.user_count = 1, .start_usecs = 1,
		};

		pthread_mutex_lock(&server->lock);
		stats_sessions_start(server->sessions, &s);
		pthread_mutex_unlock(&server->lock);
	}
	route->handler(server, &req, &resp);
	check_response(&resp);
	free(resp.body);
	stats_server_free(&server);
out:
	if (req.json != NULL)
		json_object_put(req.json);
	free(body);
	for (size_t i = 0; i < q.count; i++)
		free(q.keys[i]);
	return 0;
}
