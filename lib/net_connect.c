/*
 * net_connect - deadline-bounded TCP connect and wait (see net_connect.h).
 */
#include "net_connect.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"

static __thread struct error_slot net_connect_error;

int net_wait_fd(int fd, short events, uint64_t deadline_msecs)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		uint64_t now = clock_monotonic_msecs();
		int ret;

		if (now >= deadline_msecs) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = poll(&pfd, 1, (int)(deadline_msecs - now));
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

int net_connect_addr(const struct addrinfo *ai, uint64_t deadline_msecs)
{
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    (errno != EINPROGRESS ||
	     net_wait_fd(fd, POLLOUT, deadline_msecs) < 0 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)) {
		err = err != 0 ? err : errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int net_connect_tcp(const char *host, unsigned int port,
		    uint64_t deadline_msecs, const char **error_r)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	char port_str[16];
	int fd = -1, err = 0, ret;

	snprintf(port_str, sizeof(port_str), "%u", port);
	ret = getaddrinfo(host, port_str, &hints, &res);
	if (ret != 0) {
		*error_r = error_slot_set(&net_connect_error, "%s: %s", host,
					  gai_strerror(ret));
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = net_connect_addr(ai, deadline_msecs);
		if (fd < 0)
			err = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*error_r = error_slot_set(&net_connect_error,
					  "connect(%s:%u) failed: %s", host,
					  port, strerror(err));
	return fd;
}
