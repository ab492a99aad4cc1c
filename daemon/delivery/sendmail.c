/*
 * sendmail - one message to sendmail_path (see sendmail.h). fork() from
 * a threaded process: the child only calls async-signal-safe functions
 * (dup2, raw setresgid/setresuid, execv, _exit) before exec.
 */
#include "sendmail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "error_slot.h"
#include "xalloc.h"

#define SENDMAIL_TIMEOUT_MSECS 60000
#define SENDMAIL_MAX_ARGS 32

static __thread struct error_slot sendmail_error;

/* split_args - sendmail_path split on blanks, then the fixed arguments */
static char **build_argv(const char *path, const char *from, const char *rcpt,
			 char **copy_r)
{
	char **argv = xcalloc(SENDMAIL_MAX_ARGS + 6, sizeof(*argv));
	char *copy = xstrdup(path), *save = NULL;
	size_t n = 0;

	for (char *word = strtok_r(copy, " \t", &save);
	     word != NULL && n < SENDMAIL_MAX_ARGS;
	     word = strtok_r(NULL, " \t", &save))
		argv[n++] = word;
	argv[n++] = (char *)"-i";
	argv[n++] = (char *)"-f";
	argv[n++] = (char *)(*from == '\0' ? "<>" : from);
	argv[n++] = (char *)"--";
	argv[n++] = (char *)rcpt;
	argv[n] = NULL;
	*copy_r = copy;
	return argv;
}

/* child - become the thread's effective ids whole, stdin from fd, exec */
static void LOFT_ATTR_NORETURN child(int fd, char **argv)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int devnull = open("/dev/null", O_WRONLY);

	if (dup2(fd, STDIN_FILENO) < 0)
		_exit(EX_OSERR);
	if (devnull >= 0) {
		(void)dup2(devnull, STDOUT_FILENO);
		(void)dup2(devnull, STDERR_FILENO);
	}
	if (syscall(SYS_setresgid, gid, gid, gid) < 0 ||
	    syscall(SYS_setresuid, uid, uid, uid) < 0)
		_exit(EX_OSERR);
	execv(argv[0], argv);
	_exit(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR);
}

/* feed - write data to the pipe, bounded by the deadline; 0 or -1 */
static int feed(int fd, const char *data, size_t size, struct timespec *deadline)
{
	while (size > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		struct timespec now;
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (deadline->tv_sec - now.tv_sec) * 1000 +
			(deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = write(fd, data, size);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/* reap - the child's status, killing it at the deadline */
static int reap(pid_t pid, struct timespec *deadline, int *status)
{
	for (;;) {
		struct timespec now, nap = { 0, 10 * 1000 * 1000 };
		pid_t ret = waitpid(pid, status, WNOHANG);

		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline->tv_sec ||
		    (now.tv_sec == deadline->tv_sec &&
		     now.tv_nsec >= deadline->tv_nsec)) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, status, 0);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

int sendmail_send(const char *sendmail_path, const char *from,
		  const char *rcpt, const char *data, size_t size,
		  bool *temporary_r, const char **error_r)
{
	struct timespec deadline;
	char *copy, **argv = build_argv(sendmail_path, from, rcpt, &copy);
	int fds[2], status = 0, ret = -1;
	bool fed;
	pid_t pid;

	*temporary_r = true;
	if (argv[0] == NULL || argv[0][0] != '/') {
		*error_r = error_slot_set(&sendmail_error,
					  "sendmail_path %s is not an absolute path",
					  sendmail_path);
		*temporary_r = false;
		goto out;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error_r = error_slot_set(&sendmail_error, "pipe() failed: %s",
					  strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		*error_r = error_slot_set(&sendmail_error, "fork() failed: %s",
					  strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (pid == 0)
		child(fds[0], argv);
	close(fds[0]);
	(void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += SENDMAIL_TIMEOUT_MSECS / 1000;
	fed = feed(fds[1], data, size, &deadline) == 0;
	close(fds[1]);
	if (reap(pid, &deadline, &status) < 0) {
		*error_r = error_slot_set(&sendmail_error, "%s timed out",
					  argv[0]);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && fed) {
		ret = 0;
	} else if (WIFEXITED(status)) {
		*temporary_r = WEXITSTATUS(status) == EX_TEMPFAIL || !fed;
		*error_r = error_slot_set(&sendmail_error, "%s exited with %d%s",
					  argv[0], WEXITSTATUS(status),
					  fed ? "" : " before reading the message");
	} else {
		*error_r = error_slot_set(&sendmail_error, "%s killed by signal %d",
					  argv[0], WTERMSIG(status));
	}
out:
	free(copy);
	free(argv);
	return ret;
}
