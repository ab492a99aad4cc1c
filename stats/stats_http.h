/*
 * stats_http - the HTTP endpoint of loft-stats (libmicrohttpd + json-c).
 *
 * This module owns the HTTP mechanics only: it listens, routes requests by
 * exact path and method, authenticates the routes that need the key, limits and
 * validates request bodies, and turns the owner's answers into responses.
 * What the endpoints return is decided by the owner (loft-stats) through a
 * table of handler callbacks, so this module knows nothing about sessions,
 * metrics or the journal.
 *
 * THREADING - READ THIS BEFORE WRITING A HANDLER: libmicrohttpd runs a
 * pool of STATS_HTTP_THREADS internal polling threads (poll()), and every
 * handler, and the extra_auth and auth_failed hooks, is called ON ONE OF
 * THOSE THREADS, not on the owner's event loop, possibly on several at
 * once. A handler MUST take the owner's lock (loft-stats uses one mutex
 * for its state) before it reads or changes any shared state, and must
 * never block: a handler that waits for someone else (loftd's answer to
 * a reload) defers its request with stats_http_defer() instead, which
 * frees the thread. Connections are limited (STATS_HTTP_CONNECTION_LIMIT
 * in all, STATS_HTTP_PER_IP_LIMIT waiting for their request per address:
 * past that a new connection closes the one waiting longest); one that
 * has not sent its whole request STATS_HTTP_HEADER_TIMEOUT_SECS after it
 * opened (or after its previous response) is closed, however slowly it
 * trickles bytes, and any other idle one after STATS_HTTP_TIMEOUT_SECS,
 * so slow clients cannot hold the endpoint.
 *
 * Behaviour, for every response:
 *   - exact-path routing; unknown path -> 404 {"error":"not found: /x"};
 *     known path with another method -> 405 with an Allow header; HEAD
 *     works on every GET route (the handler sees method "HEAD", the body
 *     is not sent);
 *   - a request whose Host header does not name this endpoint (localhost,
 *     127.0.0.1, [::1], the address the connection came in on, or one of
 *     allowed_hosts; any port) answers 421 unless it carries valid
 *     credentials, so a web page cannot reach the API through DNS
 *     rebinding; a request without Host (HTTP/1.0) passes;
 *   - routes with auth = true need "Authorization: Bearer <api_key>"
 *     (compared in constant time) or the settings' extra_auth hook to say
 *     yes; with no api_key and no extra_auth configured they answer 403
 *     {"error":"HTTP API disabled: set http_api_key in the config"},
 *     otherwise missing/wrong credentials answer 401 with
 *     WWW-Authenticate: Bearer, and the auth_failed hook is told;
 *   - request bodies larger than max_body answer 413 and are never
 *     buffered past max_body (a declared Content-Length is refused before
 *     the body is read; a chunked body is counted while it arrives and the
 *     excess discarded; a sender that goes on far past the limit is
 *     disconnected);
 *   - on non-GET routes a non-empty body must be one JSON object, else
 *     400 {"error":"invalid JSON body: ..."}; it is read as JSON whatever
 *     its Content-Type (curl -d sends application/x-www-form-urlencoded);
 *     an empty body is allowed and gives req->json == NULL;
 *   - Content-Type is application/json unless the handler sets another,
 *     and every response carries "Cache-Control: no-store".
 */
#ifndef LOFT_STATS_HTTP_H
#define LOFT_STATS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "xalloc.h"

/* Content types for GET /metrics: OpenMetrics when req->openmetrics is
   set, else the Prometheus text format 0.0.4. */
#define STATS_HTTP_CONTENT_TYPE_OPENMETRICS \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define STATS_HTTP_CONTENT_TYPE_PROMETHEUS \
	"text/plain; version=0.0.4; charset=utf-8"
#define STATS_HTTP_CONTENT_TYPE_JSON "application/json"

#define STATS_HTTP_DEFAULT_MAX_BODY (64 * 1024)
/* One polling thread: libmicrohttpd serves slow clients side by side on
   it, the watchdog and deferred reloads keep it from blocking. With a pool
   of 4, loft-stats aborted in json-c (a json_object_object_add on a fresh
   object failed its type assertion) under sequential requests after
   failed authentications: shared state reached from two pool threads,
   not found yet. Raise this only once that is found. */
#define STATS_HTTP_THREADS 1
#define STATS_HTTP_CONNECTION_LIMIT 512
#define STATS_HTTP_PER_IP_LIMIT 16
#define STATS_HTTP_HEADER_TIMEOUT_SECS 5
#define STATS_HTTP_TIMEOUT_SECS 10

struct stats_http;

/* why a deferred request's handler is called again */
enum stats_http_wake {
	STATS_HTTP_WAKE_NONE,		/* first call: not deferred */
	STATS_HTTP_WAKE_RESUMED,	/* the owner called stats_http_resume() */
	STATS_HTTP_WAKE_TIMEOUT,	/* its timeout passed first */
	STATS_HTTP_WAKE_STOPPING,	/* the endpoint stops: answer now */
};

struct stats_http_request {
	const char *method;	/* "GET", "HEAD", "POST", ... */
	const char *path;	/* "/api/v1/who", without the query string */
	/* the request body, NUL-terminated; NULL/0 when there is none.
	   Only buffered for routes whose method is not GET. */
	const char *body;
	size_t body_len;
	/* the body parsed as a JSON object (any value on any_json routes),
	   or NULL when the body is empty;
	   owned by the module (json_object_get() it to keep it) */
	json_object *json;
	/* the Accept header asked for application/openmetrics-text */
	bool openmetrics;
	const char *remote_ip;	/* "127.0.0.1", "::1"; "" if unknown */
	/* raw header values, NULL when absent: for credential variants */
	const char *authorization;
	const char *x_dovecot_api;
	/* query parameter value (URL-decoded); "" for "?key" without a
	   value, NULL when absent */
	const char *(*query)(const struct stats_http_request *req,
			     const char *key);
	/* the n-th value (from 0) of a query parameter given several
	   times (?mask=a&mask=b), NULL past the last */
	const char *(*query_nth)(const struct stats_http_request *req,
				 const char *key, size_t n);
	/* request header value (name case-insensitive), NULL when absent */
	const char *(*header)(const struct stats_http_request *req,
			      const char *name);
	/* when the handler is called again for a request it deferred:
	   the state stats_http_defer() returned, and why; else NULL and
	   STATS_HTTP_WAKE_NONE */
	void *deferred;
	enum stats_http_wake wake;
	void *impl;		/* the module's, do not touch */
};

struct stats_http_response {
	unsigned int status;	/* 0 (not set) becomes a 500 */
	char *body;		/* xmalloc'ed, freed by the module; NULL = empty */
	/* NULL = application/json; copied, so a temporary is fine */
	const char *content_type;
};

typedef void stats_http_handler_t(void *context,
				  const struct stats_http_request *req,
				  struct stats_http_response *resp);

/* extra credentials (Dovecot's "X-Dovecot-API <base64>" and "Basic
   doveadm:<key>"): called with the raw Authorization header value (never
   NULL) when the bearer check did not succeed; true authorizes. Runs on
   the HTTP thread, like the handlers. */
typedef bool stats_http_extra_auth_t(const char *authorization_header,
				     void *context);
/* a request was refused for missing or wrong credentials (not when the
   API is disabled): remote_ip as in the request, path without query.
   Runs on an HTTP thread. */
typedef void stats_http_auth_failed_t(const char *remote_ip, const char *path,
				      void *context);
/* a deferred request's wait ends without the owner (wake is TIMEOUT or
   STOPPING): the owner must forget state and never resume it; the
   handler is then called again with that wake (unless the endpoint stops
   first, see stats_http_defer). Runs without any lock of the module's. */
typedef void stats_http_expire_t(void *state, enum stats_http_wake wake,
				 void *context);
/* frees what a deferred request's state owns, when the request ends */
typedef void stats_http_state_free_t(void *state);

struct stats_http_route {
	const char *method;	/* "GET" or "POST" (any token); static */
	const char *path;	/* exact path, starting with '/'; static */
	stats_http_handler_t *handler;
	bool auth;		/* needs Authorization: Bearer <api_key> */
	/* the body may be any JSON value, not only an object (Dovecot's
	   /doveadm/v1 takes an array of commands) */
	bool any_json;
};

struct stats_http_settings {
	/* an already bound and listening TCP socket from loftd (preferred),
	   or -1. It stays the caller's: stats_http_stop() does not close it,
	   so the endpoint can be stopped and started again on it. */
	int listen_fd;
	/* used when listen_fd < 0 (tests): numeric address or host name,
	   "*" for all addresses, NULL/"" for 127.0.0.1; port 0 = ephemeral */
	const char *address;
	unsigned int port;
	const char *api_key;	/* NULL or "" = none configured */
	size_t max_body;	/* 0 = STATS_HTTP_DEFAULT_MAX_BODY */
	stats_http_extra_auth_t *extra_auth;	/* NULL = none */
	stats_http_auth_failed_t *auth_failed;	/* NULL = none */
	/* more Host names accepted (see above), space or comma separated,
	   without port; "*" is ignored. NULL = none. */
	const char *allowed_hosts;
};

/* stats_http_start - start serving on MHD's own thread. routes (copied;
   their strings must stay valid) are matched in order; context is passed
   to every handler and to extra_auth. Returns 0, or -1 with *error_r
   (valid until this thread's next stats_http error). */
int stats_http_start(const struct stats_http_settings *set,
		     const struct stats_http_route *routes, size_t route_count,
		     void *context, struct stats_http **http_r,
		     const char **error_r);
/* stats_http_port - the port actually listened on (after port 0) */
unsigned int stats_http_port(const struct stats_http *http);
/* stats_http_stop - stop the thread, close the connections, free; sets
   *http to NULL (no-op on NULL). No handler runs after it returns. */
void stats_http_stop(struct stats_http **http);

/* stats_http_quiesce - accept no new connections; the ones open are
   still served (a stopping process lets its successor take the socket) */
void stats_http_quiesce(struct stats_http *http);
/* stats_http_in_flight - requests begun and not yet completed (their
   response not yet sent), and connections accepted whose first request
   has not begun; a stopping owner waits for 0, bounded */
unsigned int stats_http_in_flight(struct stats_http *http);

/* stats_http_defer - called by a handler that cannot answer yet: it
   leaves resp unset and returns; its connection is suspended (the HTTP
   threads serve others meanwhile) until the owner calls
   stats_http_resume() from any thread, or timeout_msecs pass, or the
   endpoint stops (then expire runs first). The handler is then called
   again with the same request, req->deferred = the returned state and
   req->wake saying why; it may defer again (the same state comes back).
   state is state_size zeroed bytes owned by the module, freed with the
   request (after state_free, when not NULL). With STATS_HTTP_WAKE_STOPPING
   the handler must answer. */
void *stats_http_defer(const struct stats_http_request *req, size_t state_size,
		       unsigned int timeout_msecs, stats_http_expire_t *expire,
		       stats_http_state_free_t *state_free);
/* stats_http_resume - the owner's answer for a deferred request is ready:
   its handler runs again (on an HTTP thread). Once per defer; never after
   its expire was called. */
void stats_http_resume(void *state);

/* helpers for handlers */
/* stats_http_respond_json - status and obj serialized (takes ownership of
   obj, which may be NULL for "null") */
void stats_http_respond_json(struct stats_http_response *resp,
			     unsigned int status, json_object *obj);
/* stats_http_respond_error - status and {"error": "<formatted>"} */
void stats_http_respond_error(struct stats_http_response *resp,
			      unsigned int status, const char *fmt, ...)
	LOFT_ATTR_FORMAT(3, 4);
/* stats_http_respond_text - status and a text body (copied) with
   content_type (static), e.g. the /metrics exposition */
void stats_http_respond_text(struct stats_http_response *resp,
			     unsigned int status, const char *content_type,
			     const char *text);
/* stats_http_secret_equal - constant-time comparison of a presented
   secret with the configured one (time depends only on the lengths);
   for extra_auth implementations */
bool stats_http_secret_equal(const char *given, const char *secret);

#endif
