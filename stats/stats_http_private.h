/*
 * stats_http_private - what the parts of the HTTP endpoint share:
 * stats_http.c (MHD daemon, routing, request flow, responses) asks
 * stats_http_check.c (credentials, body validation) for its verdicts and
 * stats_http_socket.c for its listening socket.
 * Not for use outside stats_http*.c.
 */
#ifndef LOFT_STATS_HTTP_PRIVATE_H
#define LOFT_STATS_HTTP_PRIVATE_H

#include "stats_http.h"

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

/* stats_http_check_json_body - validate a non-empty body sent with
   content_type (NULL when absent): returns the parsed JSON object, or
   NULL with *error_r (static text or json-c's description) */
json_object *stats_http_check_json_body(bool any_value,
					const char *content_type,
					const char *body, size_t len,
					const char **error_r);

/* stats_http_socket_check - fd is a listening stream socket, else -1 */
int stats_http_socket_check(int fd, const char **error_r);
/* stats_http_socket_listen - open a listening socket on address ("*" =
   all, NULL/"" = 127.0.0.1) and port (0 = ephemeral) */
int stats_http_socket_listen(const char *address, unsigned int port,
			     int *fd_r, const char **error_r);
/* stats_http_socket_port - the local port of a bound socket, 0 if unknown */
unsigned int stats_http_socket_port(int fd);

#endif
