/*
 * net_connect - TCP client sockets bounded by a deadline, for the
 * blocking clients of worker threads and loft-lda (lmtp_client of the
 * LMTP proxy, smtp_conn of submission_host): connecting to each address
 * of a host in turn, and waiting for a socket to become readable or
 * writable, never past the deadline.
 */
#ifndef LOFT_NET_CONNECT_H
#define LOFT_NET_CONNECT_H

#include <stdint.h>

/* net_connect_tcp - a connected non-blocking socket to host:port before
   deadline_msecs (clock_monotonic_msecs); the fd, or -1 with *error_r
   ("HOST: resolver error", "connect(HOST:PORT) failed: ...") */
int net_connect_tcp(const char *host, unsigned int port,
		    uint64_t deadline_msecs, const char **error_r);

/* net_wait_fd - fd ready for events (POLLIN, POLLOUT) before
   deadline_msecs; 0, or -1 with errno (ETIMEDOUT at the deadline) */
int net_wait_fd(int fd, short events, uint64_t deadline_msecs);

#endif
