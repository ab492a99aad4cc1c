/*
 * ipc_socket - the UNIX stream sockets loft IPC runs over: a listener for
 * loft-stats (stats-writer, admin) and a connect with a hard time limit for
 * its clients, so a busy or absent server never holds up a delivery.
 * Every socket is non-blocking and close-on-exec.
 */
#ifndef LOFT_IPC_SOCKET_H
#define LOFT_IPC_SOCKET_H

/* ipc_unix_connect - connect to the UNIX socket path; 0 with *fd_r set,
   or -1 with *error_r set (thread-local, valid until this thread's next
   ipc_socket error). timeout_ms 0 makes a single attempt (a connect still
   in progress counts as made: the first write reports its failure);
   otherwise a server whose backlog is full is retried until timeout_ms
   have passed. */
int ipc_unix_connect(const char *path, unsigned int timeout_ms, int *fd_r,
		     const char **error_r);
/* ipc_unix_listen - bind and listen on path with the given mode (a stale
   socket file there is replaced); 0 with *fd_r set, or -1 with *error_r */
int ipc_unix_listen(const char *path, unsigned int mode, int *fd_r,
		    const char **error_r);
/* ipc_accept - one connection from a non-blocking listening socket, itself
   non-blocking and close-on-exec: 1 with *fd_r, 0 when none is waiting,
   -1 with *error_r on a real error (EINTR and aborted connections are
   retried) */
int ipc_accept(int listen_fd, int *fd_r, const char **error_r);

#endif
