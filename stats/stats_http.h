/*
 * stats_http - the HTTP endpoint of loft-stats (libmicrohttpd + json-c).
 *
 * This module owns the HTTP mechanics only: it listens, routes requests by
 * exact path and method, authenticates the mutating routes, limits and
 * validates request bodies, and turns the owner's answers into responses.
 * What the endpoints return is decided by the owner (loft-stats) through a
 * table of handler callbacks, so this module knows nothing about sessions,
 * metrics or the journal.
 *
 * THREADING - READ THIS BEFORE WRITING A HANDLER: libmicrohttpd runs its
 * own internal polling thread (MHD_USE_POLL_INTERNAL_THREAD: one thread,
 * poll()), and every handler, and the extra_auth hook, is called ON THAT
 * THREAD, not on the owner's event loop. A handler MUST take the owner's
 * lock (loft-stats uses one mutex for its state) before it reads or
 * changes any shared state, and must not block for long: all HTTP clients
 * share that one thread. Handlers are never called concurrently with each
 * other. Connections are limited (STATS_HTTP_CONNECTION_LIMIT in all,
 * STATS_HTTP_PER_IP_LIMIT per address, idle ones closed after
 * STATS_HTTP_TIMEOUT_SECS) so that no client can exhaust the thread.
 *
 * Behaviour, for every response:
 *   - exact-path routing; unknown path -> 404 {"error":"not found: /x"};
 *     known path with another method -> 405 with an Allow header; HEAD
 *     works on every GET route (the handler sees method "HEAD", the body
 *     is not sent);
 *   - routes with auth = true need "Authorization: Bearer <api_key>"
 *     (compared in constant time) or the settings' extra_auth hook to say
 *     yes; with no api_key and no extra_auth configured they answer 403
 *     {"error":"mutating API disabled: set http_api_key in the config"},
 *     otherwise missing/wrong credentials answer 401 with
 *     WWW-Authenticate: Bearer;
 *   - request bodies larger than max_body answer 413 and are never
 *     buffered past max_body (a declared Content-Length is refused before
 *     the body is read; a chunked body is counted while it arrives and the
 *     excess discarded; a sender that goes on far past the limit is
 *     disconnected);
 *   - on non-GET routes a non-empty body must be sent as application/json
 *     and be one JSON object, else 400 {"error":"invalid JSON body: ..."};
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
#define STATS_HTTP_CONNECTION_LIMIT 64
#define STATS_HTTP_PER_IP_LIMIT 16
#define STATS_HTTP_TIMEOUT_SECS 10

struct stats_http;

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
	/* request header value (name case-insensitive), NULL when absent */
	const char *(*header)(const struct stats_http_request *req,
			      const char *name);
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
   response not yet sent); a stopping owner waits for 0, bounded */
unsigned int stats_http_in_flight(const struct stats_http *http);

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
