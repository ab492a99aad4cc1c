/*
 * net_connect - TCP client sockets bounded by a deadline, for the
 * blocking clients of worker threads, loft-lda and loftadm (lmtp_client of
 * the LMTP proxy, smtp_conn of submission_host, http_client of the fleet
 * view): connecting to each address
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

struct addrinfo;
/* net_connect_addr - a connected non-blocking socket to the one address
   ai before deadline_msecs, or -1 with errno (ETIMEDOUT at the
   deadline); net_connect_tcp tries each address of a host with it */
int net_connect_addr(const struct addrinfo *ai, uint64_t deadline_msecs);

/* net_wait_fd - fd ready for events (POLLIN, POLLOUT) before
   deadline_msecs; 0, or -1 with errno (ETIMEDOUT at the deadline) */
int net_wait_fd(int fd, short events, uint64_t deadline_msecs);

#endif
