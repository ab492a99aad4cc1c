/*
 * ipc_socket - UNIX socket connect with a deadline, and listen (see
 * ipc_socket.h). Linux refuses a non-blocking AF_UNIX connect with EAGAIN
 * while the listener's backlog is full; that is retried in short sleeps
 * until the deadline, a connect reported in progress is polled for.
 */
#include "ipc_socket.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"

/* pause between connect attempts while the server's backlog is full */
#define IPC_CONNECT_RETRY_MSECS 5

static __thread struct error_slot ipc_socket_error;

/* ipc_unix_addr - fill addr for path; -1 when it is too long */
static int ipc_unix_addr(const char *path, struct sockaddr_un *addr,
			 const char **error_r)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		*error_r = error_slot_set(&ipc_socket_error,
					  "socket path too long: %s", path);
		return -1;
	}
	strcpy(addr->sun_path, path);
	return 0;
}

/* ipc_socket_fail - close fd, format the error; returns -1 */
static int ipc_socket_fail(int fd, const char *what, const char *path,
			   int err, const char **error_r)
{
	if (fd >= 0)
		close(fd);
	*error_r = error_slot_set(&ipc_socket_error, "%s(%s) failed: %s",
				  what, path, strerror(err));
	return -1;
}

/* ipc_connect_wait - poll an in-progress connect until deadline */
static int ipc_connect_wait(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	long long left;
	socklen_t len = sizeof(int);
	int ret, err = 0;

	for (;;) {
		left = deadline - (long long)clock_monotonic_msecs();
		if (left <= 0)
			return ETIMEDOUT;
		ret = poll(&pfd, 1, (int)left);
		if (ret > 0)
			break;
		if (ret < 0 && errno != EINTR)
			return errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

int ipc_unix_connect(const char *path, unsigned int timeout_ms, int *fd_r,
		     const char **error_r)
{
	long long deadline = (long long)clock_monotonic_msecs() + timeout_ms;
	struct timespec pause = { 0, IPC_CONNECT_RETRY_MSECS * 1000000L };
	struct sockaddr_un addr;
	int fd, err;

	if (ipc_unix_addr(path, &addr, error_r) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipc_socket_fail(-1, "socket", path, errno, error_r);
	for (;;) {
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		err = errno;
		if (err == EINTR)
			continue;
		if (err == EINPROGRESS && timeout_ms == 0)
			break;
		if (err == EINPROGRESS) {
			err = ipc_connect_wait(fd, deadline);
			if (err == 0)
				break;
			return ipc_socket_fail(fd, "connect", path, err,
					       error_r);
		}
		if (err != EAGAIN || (long long)clock_monotonic_msecs() + IPC_CONNECT_RETRY_MSECS >
				     deadline)
			return ipc_socket_fail(fd, "connect", path, err,
					       error_r);
		nanosleep(&pause, NULL);
	}
	*fd_r = fd;
	return 0;
}

int ipc_unix_listen(const char *path, unsigned int mode, int *fd_r,
		    const char **error_r)
{
	struct sockaddr_un addr;
	struct stat st;
	int fd;

	if (ipc_unix_addr(path, &addr, error_r) < 0)
		return -1;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipc_socket_fail(-1, "socket", path, errno, error_r);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return ipc_socket_fail(fd, "bind", path, errno, error_r);
	if (chmod(path, mode) < 0)
		return ipc_socket_fail(fd, "chmod", path, errno, error_r);
	if (listen(fd, SOMAXCONN) < 0)
		return ipc_socket_fail(fd, "listen", path, errno, error_r);
	*fd_r = fd;
	return 0;
}

int ipc_accept(int listen_fd, int *fd_r, const char **error_r)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			*fd_r = fd;
			return 1;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		*error_r = error_slot_set(&ipc_socket_error, "accept() failed: %s",
					  strerror(errno));
		return -1;
	}
}
