/*
 * stats_http_socket - the listening socket of the HTTP endpoint: checks
 * that a socket handed over by loftd is a listening stream socket, or
 * opens one on address:port itself (tests, or a stats process started by
 * hand), so that a bind failure is reported with its errno instead of
 * libmicrohttpd's bare failure to start.
 */
#include "stats_http_private.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error_slot.h"

#define STATS_HTTP_LISTEN_BACKLOG 64
#define STATS_HTTP_DEFAULT_ADDRESS "127.0.0.1"

static __thread struct error_slot stats_http_socket_error;

/* stats_http_socket_fail - set *error_r from this file's slot, return -1 */
static int LOFT_ATTR_FORMAT(2, 3)
stats_http_socket_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	*error_r = error_slot_vset(&stats_http_socket_error, fmt, args);
	va_end(args);
	return -1;
}

int stats_http_socket_check(int fd, const char **error_r)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return stats_http_socket_fail(error_r, "listen_fd %d: %s",
					      fd, strerror(errno));
	len = sizeof(listening);
	if (type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    !listening)
		return stats_http_socket_fail(error_r,
			"listen_fd %d is not a listening stream socket", fd);
	return 0;
}

int stats_http_socket_listen(const char *address, unsigned int port,
			     int *fd_r, const char **error_r)
{
	struct addrinfo hints, *res, *ai;
	const char *node = address;
	char service[16];
	int fd = -1, err = 0, one = 1, gai;

	if (node == NULL || *node == '\0')
		node = STATS_HTTP_DEFAULT_ADDRESS;
	else if (strcmp(node, "*") == 0)
		node = NULL;
	if (port > 65535)
		return stats_http_socket_fail(error_r, "invalid port %u", port);
	snprintf(service, sizeof(service), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(node, service, &hints, &res);
	if (gai != 0)
		return stats_http_socket_fail(error_r, "address %s: %s",
					      node != NULL ? node : "*",
					      gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, STATS_HTTP_LISTEN_BACKLOG) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return stats_http_socket_fail(error_r,
			"listen on %s port %u: %s", node != NULL ? node : "*",
			port, strerror(err));
	*fd_r = fd;
	return 0;
}

unsigned int stats_http_socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}
