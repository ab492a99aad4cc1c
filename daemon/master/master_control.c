/*
 * master_control - signalling the running master from the command line
 * (see master_control.h).
 */
#include "master_control.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "master_pidfile.h"

#define MASTER_CONTROL_POLL_MSECS 50

/* master_control_find - the running master's pid: 0 with *pid_r (and
   *fd_r when not NULL), else the exit code after a message */
static int master_control_find(const char *base_dir, pid_t *pid_r, int *fd_r)
{
	const char *error;
	int ret = master_pidfile_check(base_dir, pid_r, fd_r, &error);

	if (ret < 0) {
		fprintf(stderr, "loftd: %s\n", error);
		return 1;
	}
	if (ret == 0) {
		fprintf(stderr, "loftd: loftd is not running (no master holds %s/%s)\n",
			base_dir, MASTER_PIDFILE_NAME);
		return MASTER_CONTROL_NOT_RUNNING;
	}
	return 0;
}

/* master_control_signal - kill(pid, signo) with a message on failure */
static int master_control_signal(pid_t pid, int signo)
{
	if (kill(pid, signo) == 0)
		return 0;
	if (errno == ESRCH) {
		fprintf(stderr, "loftd: loftd is not running (PID %ld is gone)\n",
			(long)pid);
		return MASTER_CONTROL_NOT_RUNNING;
	}
	fprintf(stderr, "loftd: kill(%ld) failed: %s\n", (long)pid, strerror(errno));
	return 1;
}

/* master_control_gone - whether pid has exited (a zombie counts: its
   parent may be a supervisor that has not reaped it yet) */
static bool master_control_gone(pid_t pid)
{
	char path[64], buf[512], *paren;
	ssize_t len;
	int fd;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

int master_control_stop(const char *base_dir)
{
	const struct timespec poll = {
		.tv_sec = 0, .tv_nsec = MASTER_CONTROL_POLL_MSECS * 1000000L,
	};
	unsigned int polls = MASTER_CONTROL_STOP_WAIT_SECS * 1000 /
		MASTER_CONTROL_POLL_MSECS;
	pid_t pid;
	int fd, ret;

	ret = master_control_find(base_dir, &pid, &fd);
	if (ret != 0)
		return ret;
	ret = master_control_signal(pid, SIGTERM);
	for (unsigned int i = 0; ret == 0 &&
		     (master_pidfile_held(fd) || !master_control_gone(pid)); i++) {
		if (i == polls) {
			fprintf(stderr, "loftd: PID %ld did not exit within %d secs\n",
				(long)pid, MASTER_CONTROL_STOP_WAIT_SECS);
			ret = 1;
			break;
		}
		nanosleep(&poll, NULL);
	}
	close(fd);
	return ret;
}

int master_control_reload(const char *base_dir)
{
	pid_t pid;
	int ret = master_control_find(base_dir, &pid, NULL);

	return ret != 0 ? ret : master_control_signal(pid, SIGHUP);
}
