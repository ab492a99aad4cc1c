/*
 * stats_http_private - what the parts of the HTTP endpoint share:
 * stats_http.c (MHD daemon, routing, request flow, responses) asks
 * stats_http_check.c (credentials, Host names, body validation) for its
 * verdicts and stats_http_socket.c for its listening socket;
 * stats_http_watch.c runs the watchdog thread that closes connections
 * slow to send their headers and times deferred requests out.
 * Not for use outside stats_http*.c.
 */
#ifndef LOFT_STATS_HTTP_PRIVATE_H
#define LOFT_STATS_HTTP_PRIVATE_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>

#include <microhttpd.h>

#include "stats_http.h"
#include "strbuf.h"

struct stats_http {
	struct MHD_Daemon *daemon;
	int listen_fd;
	bool own_fd;		/* we opened listen_fd, so we close it */
	unsigned int port;
	struct stats_http_route *routes;
	size_t route_count;
	char *api_key;
	size_t max_body;
	stats_http_extra_auth_t *extra_auth;
	stats_http_auth_failed_t *auth_failed;
	char **allowed_hosts;	/* NULL-terminated */
	void *context;
	unsigned int in_flight;	/* requests not completed yet (atomic) */
	bool quiesced;		/* no longer accepting */

	/* the watchdog (stats_http_watch.c); the rest is under watch_lock */
	pthread_t watch_thread;
	bool watch_running;
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_cond;
	bool stopping;		/* the watchdog exits; no more suspending */
	struct stats_http_peer *peers;
	struct stats_http_conn *deferred;	/* waiting for their owner */
};

/* where a request stands with stats_http_defer() (under watch_lock) */
enum stats_http_defer_phase {
	STATS_HTTP_DEFER_NONE,
	STATS_HTTP_DEFER_ASKED,		/* the handler deferred, still running */
	STATS_HTTP_DEFER_SUSPENDED,	/* MHD suspended the connection */
	STATS_HTTP_DEFER_EXPIRING,	/* expire runs: the owner's resume is ignored */
	STATS_HTTP_DEFER_WOKEN,		/* its handler is due again (wake) */
};

/* a deferred request's state: the owner's bytes follow the header */
struct stats_http_deferral {
	struct stats_http_conn *conn;
	stats_http_expire_t *expire;
	stats_http_state_free_t *state_free;
	_Alignas(max_align_t) unsigned char state[];
};

/* one request in progress (MHD's per-request con_cls) */
struct stats_http_conn {
	struct stats_http *http;
	struct MHD_Connection *connection;
	const struct stats_http_route *route;
	struct strbuf body;	/* zeroed until the first byte */
	size_t received;	/* body bytes seen, kept or not */
	bool want_body;
	bool too_large;
	bool body_checked;	/* json is the validated body */
	json_object *json;
	char remote_ip[INET6_ADDRSTRLEN];

	struct stats_http_deferral *deferral;	/* NULL until deferred */
	/* under watch_lock */
	enum stats_http_defer_phase phase;
	enum stats_http_wake wake;
	uint64_t deadline_msecs;	/* clock_monotonic_msecs() */
	struct stats_http_conn *defer_prev, *defer_next;
};

/* one TCP connection (MHD's socket context), under watch_lock */
struct stats_http_peer {
	struct stats_http_peer *prev, *next;
	int fd;
	char ip[INET6_ADDRSTRLEN];	/* the client's address, "" if unknown */
	/* waiting for a whole request (its headers and body) since
	   (clock_monotonic_msecs) */
	bool waiting;
	uint64_t since_msecs;
	/* accepted, its first request not begun: a loft-stats that stops
	   answers it before it goes (stats_http_in_flight) */
	bool fresh;
};

enum stats_http_auth_result {
	STATS_HTTP_AUTH_OK,
	STATS_HTTP_AUTH_DISABLED,	/* no credentials configured: 403 */
	STATS_HTTP_AUTH_MISSING,	/* no Authorization header: 401 */
	STATS_HTTP_AUTH_INVALID,	/* wrong credentials: 401 */
};

/* stats_http_check_auth - judge an Authorization header value (NULL when
   absent) against api_key ("" = none) and the extra_auth hook */
enum stats_http_auth_result
stats_http_check_auth(const char *authorization, const char *api_key,
		      stats_http_extra_auth_t *extra_auth, void *context);

/* stats_http_check_json_body - validate a non-empty body (whatever its
   Content-Type): returns the parsed JSON object (any value when
   any_value), or NULL with *error_r (static text or json-c's) */
json_object *stats_http_check_json_body(bool any_value, const char *body,
					size_t len, const char **error_r);
/* stats_http_check_host - a Host header value (NULL when absent) names
   this endpoint: localhost, 127.0.0.1, [::1], local_ip (the address the
   connection came in on, as text; "" if unknown) or one of names
   (NULL-terminated), with or without a port */
bool stats_http_check_host(const char *host, const char *local_ip,
			   char *const *names);
/* stats_http_split_names - "a b,c" into a NULL-terminated xmalloc'ed
   vector (brackets of IPv6 literals dropped, "*" skipped); free with
   stats_http_free_names */
char **stats_http_split_names(const char *list);
void stats_http_free_names(char **names);

/* stats_http_watch.c */
/* stats_http_watch_start - the watchdog thread; 0 or -1 (errno) */
int stats_http_watch_start(struct stats_http *http);
/* stats_http_watch_stop - end the watchdog; every deferred request is
   expired (STOPPING) and resumed, so MHD can be stopped */
void stats_http_watch_stop(struct stats_http *http);
/* stats_http_notify_connection - MHD's connection start/close notice */
void stats_http_notify_connection(void *cls, struct MHD_Connection *connection,
				  void **socket_context,
				  enum MHD_ConnectionNotificationCode toe);
/* what a connection is doing, for the watchdog */
enum stats_http_watch_state {
	STATS_HTTP_WATCH_WAITING,	/* for a request: the deadline starts */
	STATS_HTTP_WATCH_BEGUN,		/* headers in, body to come: it goes on */
	STATS_HTTP_WATCH_BUSY,		/* request complete: no deadline */
};
/* stats_http_watch_request - connection's request is in state */
void stats_http_watch_request(struct stats_http *http,
			      struct MHD_Connection *connection,
			      enum stats_http_watch_state state);
/* stats_http_addr_text - sa's address as text into buf ("" if not IP);
   IPv4-mapped IPv6 addresses are shown as IPv4 */
void stats_http_addr_text(const struct sockaddr *sa,
			  char buf[INET6_ADDRSTRLEN]);
/* stats_http_watch_fresh - connections accepted whose first request
   has not begun */
unsigned int stats_http_watch_fresh(struct stats_http *http);
/* stats_http_watch_defer - conn's handler deferred it: track its deadline */
void stats_http_watch_defer(struct stats_http_conn *conn,
			    unsigned int timeout_msecs);
/* stats_http_watch_expire - end conn's wait without its owner (called
   with watch_lock held, phase ASKED or SUSPENDED; drops and retakes it):
   expire runs, then the handler is due with wake */
void stats_http_watch_expire(struct stats_http_conn *conn,
			     enum stats_http_wake wake);
/* stats_http_watch_unlink - conn leaves the deferred list (watch_lock held) */
void stats_http_watch_unlink(struct stats_http_conn *conn);

/* stats_http_socket_check - fd is a listening stream socket, else -1 */
int stats_http_socket_check(int fd, const char **error_r);
/* stats_http_socket_listen - open a listening socket on address ("*" =
   all, NULL/"" = 127.0.0.1) and port (0 = ephemeral) */
int stats_http_socket_listen(const char *address, unsigned int port,
			     int *fd_r, const char **error_r);
/* stats_http_socket_port - the local port of a bound socket, 0 if unknown */
unsigned int stats_http_socket_port(int fd);

#endif
