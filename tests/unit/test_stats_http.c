/*
 * test_stats_http - unit tests for stats/stats_http: a real server on
 * 127.0.0.1 (ephemeral port, or a socket the test bound itself) answers
 * real HTTP/1.1 requests sent by the small raw-socket client below:
 * exact-path routing with query parameters, 404, 405 with Allow and HEAD;
 * the bearer-key gate (403 when disabled, 401 on missing or wrong keys,
 * the extra_auth hook); JSON body validation and the 413 size limit for
 * declared and chunked bodies; /metrics content negotiation and handler
 * content types; 100 quick connections; deferred requests (resumed,
 * timed out, and stopped while suspended); the Host check; listen_fd
 * hand-over; and start/stop cycles that must leave no fd, thread or
 * allocation behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "stats_http.h"
#include "strbuf.h"

#define N_CASES(arr) (sizeof(arr) / sizeof((arr)[0]))
#define TEST_API_KEY "s3cret-key"
#define TEST_MAX_BODY 1024
#define TEST_EXTRA_CREDENTIAL "X-Dovecot-API c2VjcmV0"
#define CLIENT_TIMEOUT_SECS 5
#define MANY_CONNECTIONS 100
#define CYCLES 20

/* --- the owner side: handlers sharing state under one lock --- */

struct test_owner {
	pthread_mutex_t lock;
	unsigned int calls;
	/* /defer: the deferred request's state, its timeout, and the wake
	   its expire hook saw (-1: not called) */
	void *deferred;
	unsigned int defer_msecs;
	int expired;
};

static struct test_owner owner = { PTHREAD_MUTEX_INITIALIZER, 0, NULL, 0, -1 };

/* owner_count_call - what every handler does first: touch shared state
   under the owner's lock, as the header demands */
static void owner_count_call(void *context)
{
	struct test_owner *o = context;

	pthread_mutex_lock(&o->lock);
	o->calls++;
	pthread_mutex_unlock(&o->lock);
}

/* owner_calls - handler calls so far */
static unsigned int owner_calls(void)
{
	unsigned int calls;

	pthread_mutex_lock(&owner.lock);
	calls = owner.calls;
	pthread_mutex_unlock(&owner.lock);
	return calls;
}

/* add_opt_string - obj[key] = value, or null */
static void add_opt_string(json_object *obj, const char *key,
			   const char *value)
{
	json_object_object_add(obj, key, value != NULL ?
			       json_object_new_string(value) : NULL);
}

/* handle_echo - echo method, path, query parameters (name's second
   value as name_1) and peer address */
static void handle_echo(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	json_object *obj = json_object_new_object();

	owner_count_call(context);
	add_opt_string(obj, "method", req->method);
	add_opt_string(obj, "path", req->path);
	add_opt_string(obj, "name", req->query(req, "name"));
	add_opt_string(obj, "flag", req->query(req, "flag"));
	add_opt_string(obj, "remote_ip", req->remote_ip);
	add_opt_string(obj, "name_1", req->query_nth(req, "name", 1));
	stats_http_respond_json(resp, 200, obj);
}

/* handle_body - echo the parsed JSON body and the credential headers */
static void handle_body(void *context, const struct stats_http_request *req,
			struct stats_http_response *resp)
{
	json_object *obj = json_object_new_object();

	owner_count_call(context);
	json_object_object_add(obj, "json", json_object_get(req->json));
	json_object_object_add(obj, "len",
			       json_object_new_int64((int64_t)req->body_len));
	add_opt_string(obj, "authorization", req->authorization);
	add_opt_string(obj, "x_dovecot_api", req->x_dovecot_api);
	add_opt_string(obj, "x_test", req->header(req, "x-TEST"));
	stats_http_respond_json(resp, 200, obj);
}

/* handle_metrics - pick the exposition format from req->openmetrics */
static void handle_metrics(void *context, const struct stats_http_request *req,
			   struct stats_http_response *resp)
{
	owner_count_call(context);
	stats_http_respond_text(resp, 200, req->openmetrics ?
				STATS_HTTP_CONTENT_TYPE_OPENMETRICS :
				STATS_HTTP_CONTENT_TYPE_PROMETHEUS,
				"loft_kicks_total 0\n");
}

/* handle_plain - a handler-chosen content type */
static void handle_plain(void *context, const struct stats_http_request *req,
			 struct stats_http_response *resp)
{
	owner_count_call(context);
	stats_http_respond_text(resp, 200, "text/plain; charset=utf-8",
				"hello\n");
}

/* handle_silent - a handler that forgets to answer */
static void handle_silent(void *context, const struct stats_http_request *req,
			  struct stats_http_response *resp)
{
	owner_count_call(context);
}

/* handle_unavailable - an error status from a handler */
static void handle_unavailable(void *context,
			       const struct stats_http_request *req,
			       struct stats_http_response *resp)
{
	owner_count_call(context);
	stats_http_respond_error(resp, 503, "loftd is %s", "down");
}

/* defer_expire - the module gave up waiting for the owner */
static void defer_expire(void *state, enum stats_http_wake wake,
			 void *context)
{
	struct test_owner *o = context;

	pthread_mutex_lock(&o->lock);
	ck_assert_ptr_eq(state, o->deferred);
	o->expired = (int)wake;
	o->deferred = NULL;
	pthread_mutex_unlock(&o->lock);
}

/* handle_defer - defer the first time; answer with the wake after */
static void handle_defer(void *context, const struct stats_http_request *req,
			 struct stats_http_response *resp)
{
	struct test_owner *o = context;
	json_object *obj;
	void *state;

	owner_count_call(context);
	if (req->deferred == NULL) {
		state = stats_http_defer(req, sizeof(int), o->defer_msecs,
					 defer_expire, NULL);
		pthread_mutex_lock(&o->lock);
		o->deferred = state;
		pthread_mutex_unlock(&o->lock);
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "wake", json_object_new_int(req->wake));
	stats_http_respond_json(resp, 200, obj);
}

static const struct stats_http_route test_routes[] = {
	{ "GET", "/defer", handle_defer, false, false },
	{ "GET", "/echo", handle_echo, false, false },
	{ "GET", "/both", handle_echo, false, false },
	{ "POST", "/both", handle_body, false, false },
	{ "POST", "/body", handle_body, false, false },
	{ "POST", "/kick", handle_body, true, false },
	{ "GET", "/metrics", handle_metrics, false, false },
	{ "GET", "/plain", handle_plain, false, false },
	{ "GET", "/silent", handle_silent, false, false },
	{ "GET", "/healthz", handle_unavailable, false, false },
	{ "POST", "/any", handle_body, false, true },
};

/* extra_auth_accept - the later Dovecot-style credential hook */
static bool extra_auth_accept(const char *authorization, void *context)
{
	ck_assert_ptr_eq(context, &owner);
	return stats_http_secret_equal(authorization, TEST_EXTRA_CREDENTIAL);
}

/* server_start_fd - start the test server on listen_fd or an ephemeral
   port of 127.0.0.1 */
static struct stats_http *server_start_fd(int listen_fd, const char *api_key,
					  stats_http_extra_auth_t *extra)
{
	struct stats_http_settings set = {
		.listen_fd = listen_fd, .address = "127.0.0.1", .port = 0,
		.api_key = api_key, .max_body = TEST_MAX_BODY,
		.extra_auth = extra,
	};
	struct stats_http *http = NULL;
	const char *error = NULL;

	pthread_mutex_lock(&owner.lock);
	owner.calls = 0;
	owner.deferred = NULL;
	owner.expired = -1;
	pthread_mutex_unlock(&owner.lock);
	ck_assert_msg(stats_http_start(&set, test_routes, N_CASES(test_routes),
				       &owner, &http, &error) == 0,
		      "start failed: %s", error);
	ck_assert_uint_ne(stats_http_port(http), 0);
	return http;
}

/* server_start - test server on an ephemeral port */
static struct stats_http *server_start(const char *api_key,
				       stats_http_extra_auth_t *extra)
{
	return server_start_fd(-1, api_key, extra);
}

/* --- a minimal HTTP/1.1 client --- */

struct reply {
	int status;		/* -1: no status line */
	struct strbuf raw;	/* the whole response */
	const char *body;	/* into raw */
};

/* client_connect - a connected socket to 127.0.0.1:port, or -1 */
static int client_connect(unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { CLIENT_TIMEOUT_SECS, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* client_send - write all of data; false when the peer went away */
static bool client_send(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* client_read_reply - read until the server closes, parse the status */
static void client_read_reply(int fd, struct reply *r)
{
	char buf[4096];
	const char *end;
	ssize_t n;

	strbuf_init(&r->raw, sizeof(buf));
	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		strbuf_append(&r->raw, buf, (size_t)n);
	}
	r->status = -1;
	if (strncmp(r->raw.data, "HTTP/1.", 7) == 0 && r->raw.len > 12)
		r->status = atoi(r->raw.data + 9);
	end = strstr(r->raw.data, "\r\n\r\n");
	r->body = end != NULL ? end + 4 : r->raw.data + r->raw.len;
}

/* http_raw - send a raw request on a new connection, read the reply */
static void http_raw(unsigned int port, const char *request, struct reply *r)
{
	int fd = client_connect(port);

	ck_assert_int_ge(fd, 0);
	ck_assert(client_send(fd, request, strlen(request)));
	client_read_reply(fd, r);
	close(fd);
}

/* http_request - one request; headers are "Name: value\r\n" lines or NULL,
   body NULL for none (then no Content-Length either) */
static void http_request(unsigned int port, const char *method,
			 const char *target, const char *headers,
			 const char *body, struct reply *r)
{
	struct strbuf req;

	strbuf_init(&req, 256);
	strbuf_appendf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		       "Connection: close\r\n%s", method, target,
		       headers != NULL ? headers : "");
	if (body != NULL)
		strbuf_appendf(&req, "Content-Length: %zu\r\n", strlen(body));
	strbuf_append_str(&req, "\r\n");
	if (body != NULL)
		strbuf_append_str(&req, body);
	http_raw(port, req.data, r);
	strbuf_free(&req);
}

/* reply_header - a header's value (name case-insensitive), xmalloc'ed;
   NULL when absent */
static char *reply_header(const struct reply *r, const char *name)
{
	size_t name_len = strlen(name);
	const char *line = strstr(r->raw.data, "\r\n");

	while (line != NULL && line + 2 < r->body) {
		line += 2;
		if (strncasecmp(line, name, name_len) == 0 &&
		    line[name_len] == ':') {
			const char *value = line + name_len + 1;

			value += strspn(value, " ");
			return xstrndup(value, strcspn(value, "\r"));
		}
		line = strstr(line, "\r\n");
	}
	return NULL;
}

/* check_header - header name has exactly want (NULL: absent) */
static void check_header(const struct reply *r, const char *name,
			 const char *want)
{
	char *got = reply_header(r, name);

	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: got '%s', want none", name, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			      "%s: got '%s', want '%s'", name,
			      got != NULL ? got : "(none)", want);
	free(got);
}

/* check_reply - status, body substring, and the headers every response has */
static void check_reply(const struct reply *r, int want_status,
			const char *want_body, const char *want_type)
{
	ck_assert_msg(r->status == want_status, "got status %d, want %d: %s",
		      r->status, want_status, r->raw.data);
	if (want_body != NULL)
		ck_assert_msg(strstr(r->body, want_body) != NULL,
			      "got body '%s', want it to contain '%s'",
			      r->body, want_body);
	check_header(r, "Content-Type", want_type != NULL ? want_type :
		     STATS_HTTP_CONTENT_TYPE_JSON);
	check_header(r, "Cache-Control", "no-store");
}

/* --- routing --- */

struct route_case {
	const char *method, *target;
	int want_status;
	const char *want_body;		/* substring */
	const char *want_type;		/* NULL: application/json */
	const char *header, *want_value;	/* an extra header to check */
};

static const struct route_case route_cases[] = {
	{ "GET", "/echo?name=abc%20d&flag", 200,
	  "{\"method\":\"GET\",\"path\":\"/echo\",\"name\":\"abc d\","
	  "\"flag\":\"\",\"remote_ip\":\"127.0.0.1\",\"name_1\":null}\n", NULL,
	  NULL, NULL },
	/* a repeated parameter: query the first, query_nth each */
	{ "GET", "/echo?name=a&flag&name=b%20c", 200,
	  "\"name\":\"a\",\"flag\":\"\",\"remote_ip\":\"127.0.0.1\",\"name_1\":\"b c\"}",
	  NULL, NULL, NULL },
	{ "GET", "/echo", 200, "\"name\":null,\"flag\":null", NULL,
	  "Allow", NULL },
	{ "GET", "/nope", 404, "{\"error\":\"not found: /nope\"}\n", NULL,
	  NULL, NULL },
	{ "GET", "/echo/", 404, "not found: /echo/", NULL, NULL, NULL },
	{ "GET", "/ECHO", 404, "not found: /ECHO", NULL, NULL, NULL },
	{ "POST", "/echo", 405, "method POST not allowed on /echo", NULL,
	  "Allow", "GET, HEAD" },
	{ "DELETE", "/both", 405, "not allowed", NULL,
	  "Allow", "GET, HEAD, POST" },
	{ "POST", "/metrics", 405, "not allowed", NULL, "Allow", "GET, HEAD" },
	{ "GET", "/kick", 405, "not allowed", NULL, "Allow", "POST" },
	{ "GET", "/both?name=x", 200, "\"method\":\"GET\",\"path\":\"/both\"",
	  NULL, NULL, NULL },
	{ "GET", "/plain", 200, "hello\n", "text/plain; charset=utf-8",
	  NULL, NULL },
	{ "GET", "/silent", 500, "handler set no valid status", NULL,
	  NULL, NULL },
	{ "GET", "/healthz", 503, "{\"error\":\"loftd is down\"}", NULL,
	  NULL, NULL },
};

START_TEST(test_routing)
{
	const struct route_case *c = &route_cases[_i];
	struct stats_http *http = server_start("", NULL);
	struct reply r;

	http_request(stats_http_port(http), c->method, c->target, NULL, NULL,
		     &r);
	check_reply(&r, c->want_status, c->want_body, c->want_type);
	if (c->header != NULL)
		check_header(&r, c->header, c->want_value);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
	ck_assert_ptr_null(http);
}
END_TEST

START_TEST(test_head)
{
	struct stats_http *http = server_start("", NULL);
	struct reply r;
	char *len;

	http_request(stats_http_port(http), "HEAD", "/echo?name=x", NULL,
		     NULL, &r);
	check_reply(&r, 200, NULL, NULL);
	ck_assert_msg(*r.body == '\0', "got HEAD body '%s', want none", r.body);
	len = reply_header(&r, "Content-Length");
	ck_assert_msg(len != NULL && atoi(len) > 0,
		      "got Content-Length %s, want the GET body's", len);
	ck_assert_uint_eq(owner_calls(), 1);
	free(len);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

/* --- authentication --- */

struct auth_case {
	const char *api_key;
	bool extra;			/* install extra_auth_accept */
	const char *headers;
	int want_status;
	const char *want_body;
	const char *want_www_auth_prefix;	/* NULL: no header */
};

#define BODY_HDRS "Content-Type: application/json\r\n"
static const struct auth_case auth_cases[] = {
	{ TEST_API_KEY, false, BODY_HDRS, 401, "authorization required",
	  "Bearer" },
	{ TEST_API_KEY, false, BODY_HDRS "Authorization: Bearer wrong\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false, BODY_HDRS "Authorization: Bearer s3cret-kez\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false, BODY_HDRS "Authorization: Bearer s3cret-ke\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false,
	  BODY_HDRS "Authorization: Bearer s3cret-key2\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false, BODY_HDRS "Authorization: Bearer\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false, BODY_HDRS "Authorization: s3cret-key\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false,
	  BODY_HDRS "Authorization: Basic czNjcmV0LWtleQ==\r\n",
	  401, "invalid credentials", "Bearer" },
	{ TEST_API_KEY, false, BODY_HDRS "Authorization: Bearer s3cret-key\r\n",
	  200, "\"authorization\":\"Bearer s3cret-key\"", NULL },
	{ TEST_API_KEY, false,
	  BODY_HDRS "Authorization: bearer   s3cret-key\r\n",
	  200, "\"user\":\"a\"", NULL },
	{ "", false, BODY_HDRS "Authorization: Bearer anything\r\n", 403,
	  "{\"error\":\"HTTP API disabled: set http_api_key in the config\"}",
	  NULL },
	{ "", false, BODY_HDRS, 403, "HTTP API disabled", NULL },
	{ "", true, BODY_HDRS "Authorization: " TEST_EXTRA_CREDENTIAL "\r\n"
	  "X-Dovecot-API: raw-value\r\n", 200,
	  "\"authorization\":\"" TEST_EXTRA_CREDENTIAL "\","
	  "\"x_dovecot_api\":\"raw-value\"", NULL },
	{ "", true, BODY_HDRS "Authorization: X-Dovecot-API bad\r\n", 401,
	  "invalid credentials", "Bearer" },
	{ "", true, BODY_HDRS "Authorization: Bearer \r\n", 401,
	  "invalid credentials", "Bearer" },
	{ TEST_API_KEY, true,
	  BODY_HDRS "Authorization: " TEST_EXTRA_CREDENTIAL "\r\n", 200,
	  "\"user\":\"a\"", NULL },
	{ TEST_API_KEY, true, BODY_HDRS "Authorization: Bearer s3cret-key\r\n",
	  200, "\"user\":\"a\"", NULL },
};

START_TEST(test_auth)
{
	const struct auth_case *c = &auth_cases[_i];
	struct stats_http *http =
		server_start(c->api_key, c->extra ? extra_auth_accept : NULL);
	struct reply r;
	char *www;

	http_request(stats_http_port(http), "POST", "/kick", c->headers,
		     "{\"user\":\"a\"}", &r);
	check_reply(&r, c->want_status, c->want_body, NULL);
	www = reply_header(&r, "WWW-Authenticate");
	if (c->want_www_auth_prefix == NULL)
		ck_assert_msg(www == NULL, "got WWW-Authenticate '%s', want none",
			      www);
	else
		ck_assert_msg(www != NULL && strncmp(www, c->want_www_auth_prefix,
					strlen(c->want_www_auth_prefix)) == 0,
			      "got WWW-Authenticate '%s', want '%s...'", www,
			      c->want_www_auth_prefix);
	/* a refused request never reaches the handler */
	ck_assert_uint_eq(owner_calls(), c->want_status == 200 ? 1 : 0);
	free(www);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

struct secret_case {
	const char *given, *secret;
	bool want;
};

static const struct secret_case secret_cases[] = {
	{ "s3cret-key", "s3cret-key", true },
	{ "s3cret-kez", "s3cret-key", false },
	{ "t3cret-key", "s3cret-key", false },
	{ "s3cret-ke", "s3cret-key", false },
	{ "s3cret-key ", "s3cret-key", false },
	{ "", "s3cret-key", false },
	{ "s3cret-key", "", false },
	{ "", "", true },
	{ "s3cret-key\x80", "s3cret-key", false },
};

START_TEST(test_secret_equal)
{
	const struct secret_case *c = &secret_cases[_i];
	bool got = stats_http_secret_equal(c->given, c->secret);

	ck_assert_msg(got == c->want, "'%s' vs '%s': got %d, want %d",
		      c->given, c->secret, got, c->want);
}
END_TEST

/* --- bodies --- */

struct body_case {
	const char *headers;	/* NULL: Content-Type: application/json */
	const char *body;	/* NULL: no body at all */
	int want_status;
	const char *want_body;
};

static const struct body_case body_cases[] = {
	{ NULL, "{\"user\":\"a@b\",\"n\":[1,2]}", 200,
	  "{\"json\":{\"user\":\"a@b\",\"n\":[1,2]},\"len\":24," },
	{ "Content-Type: application/json; charset=utf-8\r\n",
	  " {\"ip\":\"10.0.0.0/8\"}\n", 200, "\"ip\":\"10.0.0.0/8\"" },
	{ "Content-Type: Application/JSON\r\n", "{}", 200, "\"json\":{}" },
	{ NULL, "{", 400, "{\"error\":\"invalid JSON body: " },
	{ NULL, "[1,2]", 400, "invalid JSON body: not a JSON object" },
	{ NULL, "\"str\"", 400, "invalid JSON body: not a JSON object" },
	{ NULL, "{} x", 400, "invalid JSON body: " },
	{ NULL, "{} {}", 400, "invalid JSON body: " },
	{ NULL, "{\"a\":'x'}", 400, "invalid JSON body: " },
	{ NULL, "{\"a\":1,}", 400, "invalid JSON body: " },
	{ NULL, "{\"a\":\"\xff\"}", 400, "invalid JSON body: " },
	/* read as JSON whatever the Content-Type (curl -d sends a form type) */
	{ "Content-Type: text/plain\r\n", "{\"a\":1}", 200, "\"json\":{\"a\":1}" },
	{ "Content-Type: application/x-www-form-urlencoded\r\n",
	  "{\"user\":\"x\"}", 200, "\"json\":{\"user\":\"x\"}" },
	{ "Content-Type: application/jsonx\r\n", "{\"a\":1}", 200,
	  "\"json\":{\"a\":1}" },
	{ "", "{\"a\":1}", 200, "\"json\":{\"a\":1}" },
	{ "Content-Type: application/x-www-form-urlencoded\r\n", "user=x",
	  400, "{\"error\":\"invalid JSON body: " },
	{ "", NULL, 200, "{\"json\":null,\"len\":0," },
	{ "", "", 200, "{\"json\":null,\"len\":0," },
	{ NULL, "", 200, "{\"json\":null,\"len\":0," },
	{ "X-Test: seen\r\n" BODY_HDRS, "{}", 200, "\"x_test\":\"seen\"" },
};

START_TEST(test_bodies)
{
	const struct body_case *c = &body_cases[_i];
	struct stats_http *http = server_start("", NULL);
	struct reply r;

	http_request(stats_http_port(http), "POST", "/body",
		     c->headers != NULL ? c->headers : BODY_HDRS, c->body, &r);
	check_reply(&r, c->want_status, c->want_body, NULL);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

/* an any_json route takes arrays and strings too (Dovecot's /doveadm/v1) */
START_TEST(test_any_json_route)
{
	struct stats_http *http = server_start("", NULL);
	struct reply r;

	http_request(stats_http_port(http), "POST", "/any", BODY_HDRS,
		     "[[\"who\",{},\"t1\"]]", &r);
	check_reply(&r, 200, "\"json\":[[\"who\",{},\"t1\"]]", NULL);
	strbuf_free(&r.raw);
	http_request(stats_http_port(http), "POST", "/any", BODY_HDRS, "[1,", &r);
	check_reply(&r, 400, "invalid JSON body: ", NULL);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

/* json_body_of_size - a JSON object body of exactly len bytes (>= 10) */
static char *json_body_of_size(size_t len)
{
	char *body = xmalloc(len + 1);

	memcpy(body, "{\"a\":\"", 6);
	memset(body + 6, 'x', len - 8);
	memcpy(body + len - 2, "\"}", 3);
	return body;
}

START_TEST(test_body_at_limit)
{
	struct stats_http *http = server_start("", NULL);
	char *body = json_body_of_size(TEST_MAX_BODY);
	struct reply r;

	http_request(stats_http_port(http), "POST", "/body", BODY_HDRS, body,
		     &r);
	check_reply(&r, 200, "\"len\":1024,", NULL);
	free(body);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

/* check_survives - the server still answers an ordinary request; a
   refusal by the per-IP limit while it closes the previous connections
   is retried for up to a second */
static void check_survives(struct stats_http *http)
{
	struct timespec pause = { 0, 20 * 1000000L };
	struct reply r;

	for (unsigned int tries = 0; ; tries++) {
		http_request(stats_http_port(http), "GET", "/echo?name=after",
			     NULL, NULL, &r);
		if (r.status != -1 || tries == 50)
			break;
		strbuf_free(&r.raw);
		nanosleep(&pause, NULL);
	}
	check_reply(&r, 200, "\"name\":\"after\"", NULL);
	strbuf_free(&r.raw);
}

START_TEST(test_declared_too_large)
{
	struct stats_http *http = server_start("", NULL);
	struct reply r;

	/* refused from the headers alone: the body is never sent */
	http_raw(stats_http_port(http),
		 "POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		 BODY_HDRS "Content-Length: 1025\r\n\r\n", &r);
	check_reply(&r, 413, "{\"error\":\"request body too large: "
		    "limit is 1024 bytes\"}", NULL);
	strbuf_free(&r.raw);
	http_raw(stats_http_port(http),
		 "POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		 BODY_HDRS "Content-Length: 99999999999999999999999\r\n\r\n",
		 &r);
	ck_assert_msg(r.status == 413 || r.status == 400,
		      "got status %d for a huge Content-Length, want 413/400",
		      r.status);
	strbuf_free(&r.raw);
	ck_assert_uint_eq(owner_calls(), 0);
	check_survives(http);
	stats_http_stop(&http);
}
END_TEST

/* chunked_request - a chunked POST /body of chunks x size bytes */
static char *chunked_request(unsigned int chunks, size_t size)
{
	struct strbuf req;
	char *piece = xmalloc(size + 1);

	memset(piece, ' ', size);
	piece[size] = '\0';
	piece[0] = '{';
	strbuf_init(&req, 256 + chunks * (size + 16));
	strbuf_append_str(&req, "POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Connection: close\r\n" BODY_HDRS
			  "Transfer-Encoding: chunked\r\n\r\n");
	for (unsigned int i = 0; i < chunks; i++) {
		piece[0] = i == 0 ? '{' : ' ';
		piece[size - 1] = i == chunks - 1 ? '}' : ' ';
		strbuf_appendf(&req, "%zx\r\n%s\r\n", size, piece);
	}
	strbuf_append_str(&req, "0\r\n\r\n");
	free(piece);
	return strbuf_detach(&req);
}

struct chunked_case {
	unsigned int chunks;
	size_t size;
	int want_status;
	const char *want_body;
};

static const struct chunked_case chunked_cases[] = {
	{ 4, 256, 200, "\"json\":{},\"len\":1024," },
	{ 5, 256, 413, "request body too large: limit is 1024 bytes" },
	{ 64, 1000, 413, "request body too large" },
};

START_TEST(test_chunked_body)
{
	const struct chunked_case *c = &chunked_cases[_i];
	struct stats_http *http = server_start("", NULL);
	char *req = chunked_request(c->chunks, c->size);
	struct reply r;

	http_raw(stats_http_port(http), req, &r);
	check_reply(&r, c->want_status, c->want_body, NULL);
	ck_assert_uint_eq(owner_calls(), c->want_status == 200 ? 1 : 0);
	free(req);
	strbuf_free(&r.raw);
	check_survives(http);
	stats_http_stop(&http);
}
END_TEST

START_TEST(test_endless_chunked_body_dropped)
{
	struct stats_http *http = server_start("", NULL);
	int fd = client_connect(stats_http_port(http));
	const char *head = "POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\n" BODY_HDRS
			   "Transfer-Encoding: chunked\r\n\r\n";
	char chunk[8192 + 16];
	bool sent = true;
	unsigned int i;

	ck_assert_int_ge(fd, 0);
	ck_assert(client_send(fd, head, strlen(head)));
	memcpy(chunk, "2000\r\n", 6);
	memset(chunk + 6, ' ', 8192);
	memcpy(chunk + 6 + 8192, "\r\n", 2);
	/* far more than max_body plus the discard allowance: the server
	   must hang up instead of reading forever */
	for (i = 0; i < 4096 && sent; i++)
		sent = client_send(fd, chunk, 6 + 8192 + 2);
	ck_assert_msg(!sent, "got all %u chunks accepted, want a hang-up", i);
	ck_assert_msg(errno == EPIPE || errno == ECONNRESET,
		      "got send error %s, want EPIPE or ECONNRESET",
		      strerror(errno));
	close(fd);
	check_survives(http);
	stats_http_stop(&http);
}
END_TEST

/* --- content negotiation --- */

struct accept_case {
	const char *headers;
	const char *want_type;
};

static const struct accept_case accept_cases[] = {
	{ NULL, STATS_HTTP_CONTENT_TYPE_PROMETHEUS },
	{ "Accept: text/plain\r\n", STATS_HTTP_CONTENT_TYPE_PROMETHEUS },
	{ "Accept: */*\r\n", STATS_HTTP_CONTENT_TYPE_PROMETHEUS },
	{ "Accept: application/openmetrics-text; version=1.0.0\r\n",
	  STATS_HTTP_CONTENT_TYPE_OPENMETRICS },
	{ "Accept: application/openmetrics-text;version=1.0.0;q=0.75,"
	  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n",
	  STATS_HTTP_CONTENT_TYPE_OPENMETRICS },
	{ "Accept: text/plain;q=0.5, Application/OpenMetrics-Text\r\n",
	  STATS_HTTP_CONTENT_TYPE_OPENMETRICS },
};

START_TEST(test_openmetrics_negotiation)
{
	const struct accept_case *c = &accept_cases[_i];
	struct stats_http *http = server_start("", NULL);
	struct reply r;

	http_request(stats_http_port(http), "GET", "/metrics", c->headers,
		     NULL, &r);
	check_reply(&r, 200, "loft_kicks_total 0\n", c->want_type);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

/* --- connection handling --- */

START_TEST(test_many_connections)
{
	struct stats_http *http = server_start("", NULL);
	unsigned int port = stats_http_port(http);
	const char *req = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Connection: close\r\n\r\n";
	int fds[MANY_CONNECTIONS];
	unsigned int ok = 0;
	struct reply r;

	/* 100 connections at once, each with a request in flight */
	for (unsigned int i = 0; i < MANY_CONNECTIONS; i++) {
		fds[i] = client_connect(port);
		if (fds[i] >= 0 && !client_send(fds[i], req, strlen(req))) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (unsigned int i = 0; i < MANY_CONNECTIONS; i++) {
		if (fds[i] < 0)
			continue;
		client_read_reply(fds[i], &r);
		if (r.status == 200)
			ok++;
		strbuf_free(&r.raw);
		close(fds[i]);
	}
	ck_assert_msg(ok >= STATS_HTTP_PER_IP_LIMIT,
		      "got %u answered connections, want >= %d", ok,
		      STATS_HTTP_PER_IP_LIMIT);
	/* 100 that connect and vanish, and 100 that send half a request */
	for (unsigned int i = 0; i < MANY_CONNECTIONS; i++) {
		int fd = client_connect(port);

		if (fd >= 0 && i % 2 == 1)
			(void)client_send(fd, "GET /ec", 7);
		if (fd >= 0)
			close(fd);
	}
	check_survives(http);
	stats_http_stop(&http);
}
END_TEST

/* --- deferred requests --- */

/* deferred_wait - the /defer request's state once its handler deferred */
static void *deferred_wait(void)
{
	struct timespec pause = { 0, 10 * 1000000L };
	void *state = NULL;

	for (int i = 0; i < 300 && state == NULL; i++) {
		pthread_mutex_lock(&owner.lock);
		state = owner.deferred;
		pthread_mutex_unlock(&owner.lock);
		if (state == NULL)
			nanosleep(&pause, NULL);
	}
	ck_assert_ptr_nonnull(state);
	return state;
}

/* defer_start - a server whose /defer waits msecs, and a connection
   with that request sent, its handler deferred */
static struct stats_http *defer_start(unsigned int msecs, int *fd_r)
{
	static const char req[] = "GET /defer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Connection: close\r\n\r\n";
	struct stats_http *http = server_start("", NULL);

	owner.defer_msecs = msecs;
	*fd_r = client_connect(stats_http_port(http));
	ck_assert_int_ge(*fd_r, 0);
	ck_assert(client_send(*fd_r, req, strlen(req)));
	(void)deferred_wait();
	return http;
}

/* while one request waits, the others are served; resume answers it */
START_TEST(test_defer_resume)
{
	int fd;
	struct stats_http *http = defer_start(60000, &fd);
	struct reply r;

	for (unsigned int i = 0; i < STATS_HTTP_THREADS * 2; i++) {
		http_request(stats_http_port(http), "GET", "/echo", NULL, NULL, &r);
		check_reply(&r, 200, "\"path\":\"/echo\"", NULL);
		strbuf_free(&r.raw);
	}
	stats_http_resume(deferred_wait());
	client_read_reply(fd, &r);
	check_reply(&r, 200, "{\"wake\":1}", NULL);
	ck_assert_int_eq(owner.expired, -1);
	strbuf_free(&r.raw);
	close(fd);
	stats_http_stop(&http);
}
END_TEST

/* an owner that never answers: the expire hook, then the handler again */
START_TEST(test_defer_timeout)
{
	int fd;
	struct stats_http *http = defer_start(200, &fd);
	struct reply r;

	client_read_reply(fd, &r);
	check_reply(&r, 200, "{\"wake\":2}", NULL);
	ck_assert_int_eq(owner.expired, STATS_HTTP_WAKE_TIMEOUT);
	strbuf_free(&r.raw);
	close(fd);
	stats_http_stop(&http);
}
END_TEST

/* stopping with a request suspended (MHD would panic) ends its wait */
START_TEST(test_defer_stop)
{
	int fd;
	struct stats_http *http = defer_start(60000, &fd);

	stats_http_stop(&http);
	ck_assert_int_eq(owner.expired, STATS_HTTP_WAKE_STOPPING);
	close(fd);
}
END_TEST

/* --- the Host header (DNS rebinding) --- */

struct host_case {
	const char *host;	/* NULL: no Host header (HTTP/1.0) */
	const char *auth;	/* an Authorization header line, or "" */
	int want_status;
};

static const struct host_case host_cases[] = {
	{ "127.0.0.1", "", 200 }, { "127.0.0.1:9190", "", 200 },
	{ "localhost", "", 200 }, { "LocalHost:80", "", 200 },
	{ "[::1]", "", 200 }, { "[::1]:9190", "", 200 },
	{ "stats.example.org", "", 200 }, { "[2001:db8::1]:1", "", 200 },
	{ NULL, "", 200 },
	{ "evil.example", "", 421 }, { "evil.example:9190", "", 421 },
	{ "localhost.evil.example", "", 421 }, { "127.0.0.1.nip.io", "", 421 },
	{ "localhost:", "", 421 }, { "localhost:x", "", 421 },
	{ "[::1", "", 421 }, { "", "", 421 }, { "::1", "", 421 },
	{ "evil.example", "Authorization: Bearer wrong\r\n", 421 },
	{ "evil.example", "Authorization: Bearer " TEST_API_KEY "\r\n", 200 },
};

START_TEST(test_host)
{
	const struct host_case *c = &host_cases[_i];
	struct stats_http_settings set = {
		.listen_fd = -1, .address = "127.0.0.1", .api_key = TEST_API_KEY,
		.allowed_hosts = "stats.example.org, * [2001:db8::1]",
	};
	struct stats_http *http = NULL;
	const char *error = NULL;
	struct strbuf req;
	struct reply r;

	ck_assert_msg(stats_http_start(&set, test_routes, N_CASES(test_routes),
				       &owner, &http, &error) == 0, "%s", error);
	strbuf_init(&req, 128);
	if (c->host != NULL)
		strbuf_appendf(&req, "GET /metrics HTTP/1.1\r\nHost: %s\r\n"
			       "Connection: close\r\n%s\r\n", c->host, c->auth);
	else
		strbuf_appendf(&req, "GET /metrics HTTP/1.0\r\n%s\r\n", c->auth);
	http_raw(stats_http_port(http), req.data, &r);
	ck_assert_msg(r.status == c->want_status, "Host '%s': got %d, want %d",
		      c->host != NULL ? c->host : "(none)", r.status,
		      c->want_status);
	if (c->want_status == 421)
		ck_assert_ptr_nonnull(strstr(r.body, "is not this server's"));
	strbuf_free(&req);
	strbuf_free(&r.raw);
	stats_http_stop(&http);
}
END_TEST

/* listening_socket - a socket bound to 127.0.0.1:0 and listening */
static int listening_socket(bool do_listen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (do_listen)
		ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* socket_port - local port of fd */
static unsigned int socket_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

START_TEST(test_listen_fd)
{
	int fd = listening_socket(true);
	int listening = 0;
	socklen_t len = sizeof(listening);

	/* served, stopped, and served again on the same handed-over socket */
	for (unsigned int round = 0; round < 2; round++) {
		struct stats_http *http = server_start_fd(fd, "", NULL);

		ck_assert_uint_eq(stats_http_port(http), socket_port(fd));
		check_survives(http);
		stats_http_stop(&http);
		ck_assert_msg(fcntl(fd, F_GETFD) >= 0,
			      "listen_fd closed by stop, want it kept");
	}
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
				    &len), 0);
	ck_assert_int_ne(listening, 0);
	close(fd);
}
END_TEST

/* count_entries - entries of a /proc directory (fds, threads) */
static unsigned int count_entries(const char *path)
{
	DIR *dir = opendir(path);
	unsigned int count = 0;
	struct dirent *d;

	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.')
			count++;
	}
	closedir(dir);
	return count;
}

START_TEST(test_start_stop_cycles)
{
	unsigned int fds = count_entries("/proc/self/fd");
	unsigned int threads = count_entries("/proc/self/task");

	for (unsigned int i = 0; i < CYCLES; i++) {
		struct stats_http *http = server_start(TEST_API_KEY, NULL);
		struct reply r;
		int idle;

		http_request(stats_http_port(http), "POST", "/kick",
			     BODY_HDRS "Authorization: Bearer " TEST_API_KEY
			     "\r\n", "{\"session\":\"x\"}", &r);
		check_reply(&r, 200, "\"session\":\"x\"", NULL);
		strbuf_free(&r.raw);
		/* an idle connection is open while stopping */
		idle = client_connect(stats_http_port(http));
		ck_assert_int_ge(idle, 0);
		stats_http_stop(&http);
		close(idle);
		stats_http_stop(&http);	/* no-op on NULL */
	}
	ck_assert_uint_eq(count_entries("/proc/self/fd"), fds);
	/* a joined thread's /proc entry can outlive the join by a moment */
	for (int i = 0; i < 200 && count_entries("/proc/self/task") != threads; i++)
		usleep(5000);
	ck_assert_uint_eq(count_entries("/proc/self/task"), threads);
}
END_TEST

/* --- start errors --- */

/* noop_handler - a handler for routes that never get to run */
static void noop_handler(void *context, const struct stats_http_request *req,
			 struct stats_http_response *resp)
{
}

struct start_error_case {
	struct stats_http_route route;
	unsigned int port;
	const char *want_error;
};

static const struct start_error_case start_error_cases[] = {
	{ { "GET", "metrics", noop_handler, false, false }, 0,
	  "route 0: path 'metrics' does not start with '/'" },
	{ { "HEAD", "/x", noop_handler, false, false }, 0,
	  "route 0: method 'HEAD' cannot be routed" },
	{ { "GET", "/x", NULL, false, false }, 0,
	  "route 0: method, path and handler are required" },
	{ { "GET", "/x", noop_handler, false, false }, 70000, "invalid port 70000" },
};

START_TEST(test_start_errors)
{
	const struct start_error_case *c = &start_error_cases[_i];
	struct stats_http_settings set = {
		.listen_fd = -1, .address = NULL, .port = c->port,
		.api_key = NULL,
	};
	struct stats_http *http = NULL;
	const char *error = NULL;

	ck_assert_int_eq(stats_http_start(&set, &c->route, 1, &owner, &http,
					  &error), -1);
	ck_assert_ptr_null(http);
	ck_assert_msg(error != NULL && strstr(error, c->want_error) != NULL,
		      "got error '%s', want '%s'", error, c->want_error);
}
END_TEST

START_TEST(test_start_socket_errors)
{
	struct stats_http *http = server_start("", NULL);
	struct stats_http_settings set = {
		.listen_fd = -1, .address = "127.0.0.1",
		.port = stats_http_port(http),
	};
	struct stats_http *second = NULL;
	const char *error = NULL;
	int fd;

	/* the port is taken */
	ck_assert_int_eq(stats_http_start(&set, test_routes, 1, &owner,
					  &second, &error), -1);
	ck_assert_msg(strstr(error, "Address already in use") != NULL,
		      "got error '%s', want EADDRINUSE", error);
	stats_http_stop(&http);

	/* a handed-over socket that is not listening */
	fd = listening_socket(false);
	set.listen_fd = fd;
	ck_assert_int_eq(stats_http_start(&set, test_routes, 1, &owner,
					  &second, &error), -1);
	ck_assert_msg(strstr(error, "is not a listening stream socket") != NULL,
		      "got error '%s', want a not-listening error", error);
	close(fd);

	/* a closed descriptor */
	set.listen_fd = fd;
	ck_assert_int_eq(stats_http_start(&set, test_routes, 1, &owner,
					  &second, &error), -1);
	ck_assert_msg(strstr(error, "Bad file descriptor") != NULL,
		      "got error '%s', want EBADF", error);
	ck_assert_ptr_null(second);
}
END_TEST

/* stats_http_suite - all stats_http cases */
static Suite *stats_http_suite(void)
{
	Suite *s = suite_create("stats_http");
	TCase *tc = tcase_create("stats_http");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_any_json_route);
	tcase_add_loop_test(tc, test_routing, 0, N_CASES(route_cases));
	tcase_add_test(tc, test_head);
	tcase_add_loop_test(tc, test_auth, 0, N_CASES(auth_cases));
	tcase_add_loop_test(tc, test_secret_equal, 0, N_CASES(secret_cases));
	tcase_add_loop_test(tc, test_bodies, 0, N_CASES(body_cases));
	tcase_add_test(tc, test_body_at_limit);
	tcase_add_test(tc, test_declared_too_large);
	tcase_add_loop_test(tc, test_chunked_body, 0, N_CASES(chunked_cases));
	tcase_add_test(tc, test_endless_chunked_body_dropped);
	tcase_add_loop_test(tc, test_openmetrics_negotiation, 0,
			    N_CASES(accept_cases));
	tcase_add_test(tc, test_many_connections);
	tcase_add_test(tc, test_defer_resume);
	tcase_add_test(tc, test_defer_timeout);
	tcase_add_test(tc, test_defer_stop);
	tcase_add_loop_test(tc, test_host, 0, N_CASES(host_cases));
	tcase_add_test(tc, test_listen_fd);
	tcase_add_test(tc, test_start_stop_cycles);
	tcase_add_loop_test(tc, test_start_errors, 0,
			    N_CASES(start_error_cases));
	tcase_add_test(tc, test_start_socket_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
