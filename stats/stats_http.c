/*
 * stats_http - libmicrohttpd server of loft-stats (see stats_http.h):
 * MHD's daemon and its thread, per-request state,
 * exact-path routing with 404/405, the auth gate, the upload size limit,
 * and the conversion of a handler's stats_http_response into an MHD
 * response with the common headers. Credential and body checks are in
 * stats_http_check.c, the listening socket in stats_http_socket.c.
 *
 * Request flow: MHD calls stats_http_access() once after the headers
 * (routing, the Host name, auth and a declared Content-Length are judged
 * there, so a refused request is answered before its body is read), then
 * once per piece of body (counted; buffered only up to max_body), then
 * once at the end, where the body is validated and the route's handler
 * runs. A handler that defers (stats_http_defer) gets its connection
 * suspended; MHD calls stats_http_access() again when it is resumed, and
 * the handler runs again there (stats_http_watch.c keeps the deadlines).
 */
#include "stats_http_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error_slot.h"

/* a chunked body this far past max_body gets the connection dropped */
#define STATS_HTTP_DISCARD_MAX (1024 * 1024)

static __thread struct error_slot stats_http_error;

/* stats_http_fail - set *error_r from the module's error slot, return -1 */
static int LOFT_ATTR_FORMAT(2, 3)
stats_http_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	*error_r = error_slot_vset(&stats_http_error, fmt, args);
	va_end(args);
	return -1;
}

/* --- responses --- */

/* stats_http_set_body - replace the response's status and body */
static void stats_http_set_body(struct stats_http_response *resp,
				unsigned int status, char *body)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
}

void stats_http_respond_json(struct stats_http_response *resp,
			     unsigned int status, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	stats_http_set_body(resp, status, xasprintf("%s\n", text));
	resp->content_type = NULL;
	json_object_put(obj);
}

/* stats_http_respond_verror - status and {"error": "<formatted>"} */
static void LOFT_ATTR_FORMAT(3, 0)
stats_http_respond_verror(struct stats_http_response *resp,
			  unsigned int status, const char *fmt, va_list args)
{
	json_object *obj = json_object_new_object();
	struct strbuf msg;

	strbuf_init(&msg, 64);
	strbuf_vappendf(&msg, fmt, args);
	json_object_object_add(obj, "error",
			       json_object_new_string_len(msg.data,
							  (int)msg.len));
	strbuf_free(&msg);
	stats_http_respond_json(resp, status, obj);
}

void stats_http_respond_error(struct stats_http_response *resp,
			      unsigned int status, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	stats_http_respond_verror(resp, status, fmt, args);
	va_end(args);
}

void stats_http_respond_text(struct stats_http_response *resp,
			     unsigned int status, const char *content_type,
			     const char *text)
{
	stats_http_set_body(resp, status, xstrdup(text));
	resp->content_type = content_type;
}

/* stats_http_send - queue resp (its body passes to MHD) with the common
   headers and an optional extra header */
static enum MHD_Result stats_http_send(struct MHD_Connection *connection,
				       struct stats_http_response *resp,
				       const char *header, const char *value)
{
	struct MHD_Response *response;
	enum MHD_Result ret;

	if (resp->status < 200 || resp->status > 599) {
		resp->content_type = NULL;
		stats_http_respond_error(resp, 500,
			"internal error: handler set no valid status");
	}
	if (resp->body == NULL)
		resp->body = xstrdup("");
	response = MHD_create_response_from_buffer(strlen(resp->body),
						   resp->body,
						   MHD_RESPMEM_MUST_FREE);
	if (response == NULL) {
		XFREE(resp->body);
		return MHD_NO;
	}
	resp->body = NULL;
	(void)MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
		resp->content_type != NULL ? resp->content_type :
		STATS_HTTP_CONTENT_TYPE_JSON);
	(void)MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
				      "no-store");
	(void)MHD_add_response_header(response, "X-Content-Type-Options",
				      "nosniff");
	if (header != NULL)
		(void)MHD_add_response_header(response, header, value);
	ret = MHD_queue_response(connection, resp->status, response);
	MHD_destroy_response(response);
	return ret;
}

/* stats_http_send_error - answer status {"error": msg} right away */
static enum MHD_Result LOFT_ATTR_FORMAT(5, 6)
stats_http_send_error(struct MHD_Connection *connection, unsigned int status,
		      const char *header, const char *value,
		      const char *fmt, ...)
{
	struct stats_http_response resp = { 0, NULL, NULL };
	va_list args;

	va_start(args, fmt);
	stats_http_respond_verror(&resp, status, fmt, args);
	va_end(args);
	return stats_http_send(connection, &resp, header, value);
}

/* --- request accessors for handlers --- */

/* stats_http_req_query - query parameter lookup (stats_http_request.query) */
static const char *stats_http_req_query(const struct stats_http_request *req,
					const char *key)
{
	const struct stats_http_conn *conn = req->impl;
	const char *value = NULL;
	size_t len = 0;

	if (MHD_lookup_connection_value_n(conn->connection,
					  MHD_GET_ARGUMENT_KIND, key,
					  strlen(key), &value, &len) != MHD_YES)
		return NULL;
	return value != NULL ? value : "";
}

/* The search of stats_http_req_query_nth. */
struct stats_http_nth {
	const char *key;
	size_t n;
	const char *value;
};

/* stats_http_nth_value - MHD's iterator: stop at the n-th value of key */
static enum MHD_Result stats_http_nth_value(void *cls, enum MHD_ValueKind kind,
					    const char *key, const char *value)
{
	struct stats_http_nth *nth = cls;

	(void)kind;
	if (key == NULL || strcmp(key, nth->key) != 0)
		return MHD_YES;
	if (nth->n-- > 0)
		return MHD_YES;
	nth->value = value != NULL ? value : "";
	return MHD_NO;
}

/* stats_http_req_query_nth - a repeated query parameter's n-th value
   (stats_http_request.query_nth) */
static const char *stats_http_req_query_nth(const struct stats_http_request *req,
					    const char *key, size_t n)
{
	const struct stats_http_conn *conn = req->impl;
	struct stats_http_nth nth = { key, n, NULL };

	(void)MHD_get_connection_values(conn->connection, MHD_GET_ARGUMENT_KIND,
					stats_http_nth_value, &nth);
	return nth.value;
}

/* stats_http_header - a request header of conn, NULL when absent */
static const char *stats_http_header(struct stats_http_conn *conn,
				     const char *name)
{
	return MHD_lookup_connection_value(conn->connection, MHD_HEADER_KIND,
					   name);
}

/* stats_http_req_header - header lookup (stats_http_request.header) */
static const char *stats_http_req_header(const struct stats_http_request *req,
					 const char *name)
{
	return stats_http_header(req->impl, name);
}

void stats_http_addr_text(const struct sockaddr *sa,
			  char buf[INET6_ADDRSTRLEN])
{
	buf[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, buf, INET6_ADDRSTRLEN);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
				  INET6_ADDRSTRLEN);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
				  INET6_ADDRSTRLEN);
	}
}

/* stats_http_fill_remote_ip - the peer's address as text */
static void stats_http_fill_remote_ip(struct stats_http_conn *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn->connection,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	stats_http_addr_text(info != NULL ? info->client_addr : NULL,
			     conn->remote_ip);
}

/* stats_http_local_ip - the address the connection came in on */
static void stats_http_local_ip(struct stats_http_conn *conn,
				char buf[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn->connection,
					MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	buf[0] = '\0';
	if (info != NULL &&
	    getsockname(info->connect_fd, (struct sockaddr *)&ss, &len) == 0)
		stats_http_addr_text((struct sockaddr *)&ss, buf);
}

/* --- routing --- */

/* stats_http_find_route - the route for method and path (HEAD matches a
   GET route); *path_known_r tells a 405 from a 404 */
static const struct stats_http_route *
stats_http_find_route(const struct stats_http *http, const char *method,
		      const char *path, bool *path_known_r)
{
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	*path_known_r = false;
	for (size_t i = 0; i < http->route_count; i++) {
		const struct stats_http_route *route = &http->routes[i];

		if (strcmp(route->path, path) != 0)
			continue;
		*path_known_r = true;
		if (strcmp(route->method, method) == 0 ||
		    (head && strcmp(route->method, MHD_HTTP_METHOD_GET) == 0))
			return route;
	}
	return NULL;
}

/* stats_http_allow_add - append method to an Allow list unless present */
static void stats_http_allow_add(struct strbuf *allow, const char *method)
{
	size_t len = strlen(method);

	for (const char *p = allow->data; p != NULL && *p != '\0'; ) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, method, len) == 0)
			return;
		p += n;
		p += strspn(p, ", ");
	}
	if (allow->len > 0)
		strbuf_append_str(allow, ", ");
	strbuf_append_str(allow, method);
}

/* stats_http_allow - the Allow header value for path (xmalloc'ed) */
static char *stats_http_allow(const struct stats_http *http, const char *path)
{
	struct strbuf allow;

	strbuf_init(&allow, 32);
	for (size_t i = 0; i < http->route_count; i++) {
		const struct stats_http_route *route = &http->routes[i];

		if (strcmp(route->path, path) != 0)
			continue;
		stats_http_allow_add(&allow, route->method);
		if (strcmp(route->method, MHD_HTTP_METHOD_GET) == 0)
			stats_http_allow_add(&allow, MHD_HTTP_METHOD_HEAD);
	}
	return strbuf_detach(&allow);
}

/* --- request flow --- */

/* stats_http_refuse_auth - answer a failed auth check (and tell the
   auth_failed hook, unless the API is only disabled) */
static enum MHD_Result stats_http_refuse_auth(struct stats_http_conn *conn,
					      const char *path,
					      enum stats_http_auth_result res)
{
	struct stats_http *http = conn->http;
	struct MHD_Connection *connection = conn->connection;

	if (res != STATS_HTTP_AUTH_DISABLED && http->auth_failed != NULL)
		http->auth_failed(conn->remote_ip, path, http->context);
	switch (res) {
	case STATS_HTTP_AUTH_DISABLED:
		return stats_http_send_error(connection, 403, NULL, NULL,
			"HTTP API disabled: set http_api_key in the config");
	case STATS_HTTP_AUTH_MISSING:
		return stats_http_send_error(connection, 401,
			MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"loft\"",
			"authorization required: send Authorization: Bearer <http_api_key>");
	case STATS_HTTP_AUTH_INVALID:
	case STATS_HTTP_AUTH_OK:
		break;
	}
	return stats_http_send_error(connection, 401,
		MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		"Bearer realm=\"loft\", error=\"invalid_token\"",
		"invalid credentials");
}

/* stats_http_declared_too_large - Content-Length says more than max_body */
static bool stats_http_declared_too_large(struct stats_http_conn *conn)
{
	const char *value = stats_http_header(conn,
					      MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long len;
	char *end;

	if (value == NULL)
		return false;
	errno = 0;
	len = strtoull(value, &end, 10);
	/* MHD has already refused a malformed Content-Length */
	return errno == ERANGE || (end != value && len > conn->http->max_body);
}

/* stats_http_auth - the request's credentials, judged */
static enum stats_http_auth_result stats_http_auth(struct stats_http_conn *conn)
{
	struct stats_http *http = conn->http;

	return stats_http_check_auth(
		stats_http_header(conn, MHD_HTTP_HEADER_AUTHORIZATION),
		http->api_key, http->extra_auth, http->context);
}

/* stats_http_host_refused - the Host header names another site (a page
   that reached us through DNS rebinding) and no valid key came with it */
static bool stats_http_host_refused(struct stats_http_conn *conn,
				    const char **host_r)
{
	char local_ip[INET6_ADDRSTRLEN];

	*host_r = stats_http_header(conn, MHD_HTTP_HEADER_HOST);
	stats_http_local_ip(conn, local_ip);
	if (stats_http_check_host(*host_r, local_ip, conn->http->allowed_hosts))
		return false;
	return stats_http_auth(conn) != STATS_HTTP_AUTH_OK;
}

/* stats_http_begin - first call, headers received: route, Host, auth,
   size */
static enum MHD_Result stats_http_begin(struct stats_http *http,
					struct MHD_Connection *connection,
					const char *path, const char *method,
					void **con_cls)
{
	struct stats_http_conn *conn = xcalloc(1, sizeof(*conn));
	enum stats_http_auth_result auth;
	const char *host;
	bool path_known;
	enum MHD_Result ret;
	char *allow;

	conn->http = http;
	conn->connection = connection;
	*con_cls = conn;
	__atomic_add_fetch(&http->in_flight, 1, __ATOMIC_RELAXED);
	stats_http_watch_request(http, connection, STATS_HTTP_WATCH_BEGUN);
	stats_http_fill_remote_ip(conn);

	if (stats_http_host_refused(conn, &host)) {
		return stats_http_send_error(connection, 421, NULL, NULL,
			"Host '%s' is not this server's: use its address or "
			"localhost, list the name in http_api_allowed_hosts, "
			"or send the API key", host);
	}
	conn->route = stats_http_find_route(http, method, path, &path_known);
	if (!path_known) {
		return stats_http_send_error(connection, 404, NULL, NULL,
					     "not found: %s", path);
	}
	if (conn->route == NULL) {
		allow = stats_http_allow(http, path);
		ret = stats_http_send_error(connection, 405,
			MHD_HTTP_HEADER_ALLOW, allow,
			"method %s not allowed on %s (allowed: %s)",
			method, path, allow);
		free(allow);
		return ret;
	}
	if (conn->route->auth) {
		auth = stats_http_auth(conn);
		if (auth != STATS_HTTP_AUTH_OK)
			return stats_http_refuse_auth(conn, path, auth);
	}
	if (stats_http_declared_too_large(conn)) {
		return stats_http_send_error(connection, 413, NULL, NULL,
			"request body too large: limit is %zu bytes",
			http->max_body);
	}
	conn->want_body = strcmp(conn->route->method, MHD_HTTP_METHOD_GET) != 0;
	return MHD_YES;
}

/* stats_http_upload - one piece of body: count it, keep it while it fits */
static enum MHD_Result stats_http_upload(struct stats_http_conn *conn,
					 const char *data, size_t *size)
{
	size_t max_body = conn->http->max_body;

	conn->received += *size;
	if (!conn->too_large && conn->received > max_body) {
		conn->too_large = true;
		strbuf_free(&conn->body);
	}
	if (conn->too_large) {
		/* a sender that keeps going long past the limit is cut off */
		if (conn->received - max_body > STATS_HTTP_DISCARD_MAX)
			return MHD_NO;
	} else if (conn->want_body) {
		strbuf_append(&conn->body, data, *size);
	}
	*size = 0;
	return MHD_YES;
}

/* stats_http_run_handler - run conn's handler on req; false when it
   deferred and the connection is suspended (answered later), true when
   resp holds the answer */
static bool stats_http_run_handler(struct stats_http_conn *conn,
				   struct stats_http_request *req,
				   struct stats_http_response *resp)
{
	struct stats_http *http = conn->http;
	bool again;

	do {
		pthread_mutex_lock(&http->watch_lock);
		req->deferred = NULL;
		req->wake = STATS_HTTP_WAKE_NONE;
		if (conn->phase == STATS_HTTP_DEFER_WOKEN) {
			req->deferred = conn->deferral->state;
			req->wake = conn->wake;
			conn->phase = STATS_HTTP_DEFER_NONE;
		}
		pthread_mutex_unlock(&http->watch_lock);

		stats_http_set_body(resp, 0, NULL);
		conn->route->handler(http->context, req, resp);

		pthread_mutex_lock(&http->watch_lock);
		if (conn->phase == STATS_HTTP_DEFER_ASKED) {
			if (!http->stopping) {
				MHD_suspend_connection(conn->connection);
				conn->phase = STATS_HTTP_DEFER_SUSPENDED;
				pthread_mutex_unlock(&http->watch_lock);
				return false;
			}
			stats_http_watch_expire(conn, STATS_HTTP_WAKE_STOPPING);
			/* a handler told to stop must answer: no third run */
			if (req->wake == STATS_HTTP_WAKE_STOPPING)
				conn->phase = STATS_HTTP_DEFER_NONE;
		}
		again = conn->phase == STATS_HTTP_DEFER_WOKEN;
		pthread_mutex_unlock(&http->watch_lock);
	} while (again);
	return true;
}

/* stats_http_finish - last call, whole request received (or a deferred
   request resumed): validate the body, run the handler, send its
   response */
static enum MHD_Result stats_http_finish(struct stats_http_conn *conn,
					 const char *path, const char *method)
{
	struct stats_http *http = conn->http;
	struct stats_http_response resp = { 0, NULL, NULL };
	struct stats_http_request req;
	const char *accept, *error;

	stats_http_watch_request(http, conn->connection, STATS_HTTP_WATCH_BUSY);
	if (conn->too_large) {
		return stats_http_send_error(conn->connection, 413, NULL, NULL,
			"request body too large: limit is %zu bytes",
			http->max_body);
	}
	if (!conn->body_checked && conn->want_body && conn->body.len > 0) {
		conn->json = stats_http_check_json_body(conn->route->any_json,
			conn->body.data, conn->body.len, &error);
		if (conn->json == NULL) {
			return stats_http_send_error(conn->connection, 400,
				NULL, NULL, "invalid JSON body: %s", error);
		}
	}
	conn->body_checked = true;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	if (conn->json != NULL) {
		req.body = conn->body.data;
		req.body_len = conn->body.len;
		req.json = conn->json;
	}
	accept = stats_http_header(conn, MHD_HTTP_HEADER_ACCEPT);
	req.openmetrics = accept != NULL &&
		strcasestr(accept, "application/openmetrics-text") != NULL;
	req.remote_ip = conn->remote_ip;
	req.authorization = stats_http_header(conn,
					      MHD_HTTP_HEADER_AUTHORIZATION);
	req.x_dovecot_api = stats_http_header(conn, "X-Dovecot-API");
	req.query = stats_http_req_query;
	req.query_nth = stats_http_req_query_nth;
	req.header = stats_http_req_header;
	req.impl = conn;

	if (!stats_http_run_handler(conn, &req, &resp))
		return MHD_YES;
	return stats_http_send(conn->connection, &resp, NULL, NULL);
}

/* stats_http_access - MHD's access handler: dispatch by call phase */
static enum MHD_Result stats_http_access(void *cls,
					 struct MHD_Connection *connection,
					 const char *url, const char *method,
					 const char *version,
					 const char *upload_data,
					 size_t *upload_data_size,
					 void **con_cls)
{
	struct stats_http_conn *conn = *con_cls;

	if (conn == NULL)
		return stats_http_begin(cls, connection, url, method, con_cls);
	if (*upload_data_size > 0)
		return stats_http_upload(conn, upload_data, upload_data_size);
	return stats_http_finish(conn, url, method);
}

/* stats_http_completed - MHD's request-completed notice: free our state;
   the connection waits for its next request's headers */
static void stats_http_completed(void *cls, struct MHD_Connection *connection,
				 void **con_cls,
				 enum MHD_RequestTerminationCode toe)
{
	struct stats_http *http = cls;
	struct stats_http_conn *conn = *con_cls;
	struct stats_http_deferral *d;

	(void)toe;
	stats_http_watch_request(http, connection, STATS_HTTP_WATCH_WAITING);
	if (conn == NULL)
		return;
	if ((d = conn->deferral) != NULL) {
		pthread_mutex_lock(&http->watch_lock);
		stats_http_watch_unlink(conn);
		pthread_mutex_unlock(&http->watch_lock);
		if (d->state_free != NULL)
			d->state_free(d->state);
		free(d);
	}
	__atomic_sub_fetch(&http->in_flight, 1, __ATOMIC_RELAXED);
	json_object_put(conn->json);
	strbuf_free(&conn->body);
	free(conn);
	*con_cls = NULL;
}

void stats_http_quiesce(struct stats_http *http)
{
	if (http != NULL && !http->quiesced) {
		http->quiesced = true;
		(void)MHD_quiesce_daemon(http->daemon);
	}
}

unsigned int stats_http_in_flight(struct stats_http *http)
{
	/* a connection accepted just before the quiesce has its request
	   still to come: it is answered too, not closed unanswered */
	return http == NULL ? 0 :
		__atomic_load_n(&http->in_flight, __ATOMIC_RELAXED) +
		stats_http_watch_fresh(http);
}

/* --- lifecycle --- */

/* stats_http_check_routes - every route is usable */
static int stats_http_check_routes(const struct stats_http_route *routes,
				   size_t count, const char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		const struct stats_http_route *r = &routes[i];

		if (r->method == NULL || r->path == NULL || r->handler == NULL)
			return stats_http_fail(error_r,
				"route %zu: method, path and handler are required", i);
		if (r->path[0] != '/')
			return stats_http_fail(error_r,
				"route %zu: path '%s' does not start with '/'",
				i, r->path);
		if (r->method[0] == '\0' ||
		    strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0)
			return stats_http_fail(error_r,
				"route %zu: method '%s' cannot be routed (HEAD follows GET)",
				i, r->method);
	}
	return 0;
}

/* stats_http_free - release everything but the daemon */
static void stats_http_free(struct stats_http *http)
{
	if (http->own_fd && http->listen_fd >= 0)
		close(http->listen_fd);
	free(http->routes);
	free(http->api_key);
	stats_http_free_names(http->allowed_hosts);
	if (http->watch_running)
		stats_http_watch_stop(http);
	pthread_cond_destroy(&http->watch_cond);
	pthread_mutex_destroy(&http->watch_lock);
	free(http);
}

int stats_http_start(const struct stats_http_settings *set,
		     const struct stats_http_route *routes, size_t route_count,
		     void *context, struct stats_http **http_r,
		     const char **error_r)
{
	struct stats_http *http;
	int fd, err;

	if (stats_http_check_routes(routes, route_count, error_r) < 0)
		return -1;
	if (set->max_body > INT_MAX)
		return stats_http_fail(error_r, "max_body %zu is too large",
				       set->max_body);
	if (set->listen_fd >= 0) {
		if (stats_http_socket_check(set->listen_fd, error_r) < 0)
			return -1;
		fd = set->listen_fd;
	} else if (stats_http_socket_listen(set->address, set->port, &fd,
				     error_r) < 0) {
		return -1;
	}

	http = xcalloc(1, sizeof(*http));
	http->listen_fd = fd;
	http->own_fd = set->listen_fd < 0;
	http->port = stats_http_socket_port(fd);
	http->routes = xreallocarray(NULL, route_count == 0 ? 1 : route_count,
				     sizeof(*routes));
	if (route_count > 0)
		memcpy(http->routes, routes, route_count * sizeof(*routes));
	http->route_count = route_count;
	http->api_key = xstrdup(set->api_key != NULL ? set->api_key : "");
	http->max_body = set->max_body != 0 ? set->max_body :
		STATS_HTTP_DEFAULT_MAX_BODY;
	http->extra_auth = set->extra_auth;
	http->auth_failed = set->auth_failed;
	http->allowed_hosts = stats_http_split_names(set->allowed_hosts);
	http->context = context;
	if ((err = stats_http_watch_start(http)) < 0) {
		stats_http_free(http);
		return stats_http_fail(error_r, "watchdog thread: %s",
				       strerror(-err));
	}

	/* a pool of poll() threads, not MHD_USE_AUTO's epoll: with 0.9.75's
	   edge-triggered epoll a client that sends part of a request and
	   closes keeps its connection slot until the timeout. MHD_USE_ITC
	   lets stats_http_stop() quiesce the daemon, which keeps MHD from
	   closing a listening socket that is not ours; suspend/resume frees
	   a thread while a deferred request waits. The watchdog closes
	   connections slow to send their request, and makes room for a new
	   connection by closing the one that has waited longest for its
	   request (of the same address past STATS_HTTP_PER_IP_LIMIT, of any
	   near STATS_HTTP_CONNECTION_LIMIT), so slow clients, even ones that
	   reconnect at once, cannot keep /metrics from answering; MHD's
	   per-IP limit is twice ours, room for the closes under way. */
	http->daemon = MHD_start_daemon(
		MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
		MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, stats_http_access, http,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)STATS_HTTP_THREADS,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)STATS_HTTP_CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)STATS_HTTP_PER_IP_LIMIT * 2,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)STATS_HTTP_TIMEOUT_SECS,
		MHD_OPTION_NOTIFY_COMPLETED, stats_http_completed, http,
		MHD_OPTION_NOTIFY_CONNECTION, stats_http_notify_connection, http,
		MHD_OPTION_END);
	if (http->daemon == NULL) {
		unsigned int port = http->port;

		stats_http_free(http);
		return stats_http_fail(error_r,
			"libmicrohttpd could not start on port %u", port);
	}
	*http_r = http;
	return 0;
}

unsigned int stats_http_port(const struct stats_http *http)
{
	return http->port;
}

void stats_http_stop(struct stats_http **_http)
{
	struct stats_http *http = *_http;

	if (http == NULL)
		return;
	*_http = NULL;
	stats_http_quiesce(http);
	/* MHD refuses to stop with suspended connections: end their waits */
	stats_http_watch_stop(http);
	MHD_stop_daemon(http->daemon);
	stats_http_free(http);
}
