/*
 * master_pidfile - the locked pid file of the running master (see
 * master_pidfile.h).
 */
#include "master_pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master_error.h"
#include "xalloc.h"

struct master_pidfile {
	char *path;
	int fd;
};

static char *master_pidfile_error;

/* master_pidfile_fail - keep the formatted error and return -1 */
static int master_pidfile_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int master_pidfile_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;
	int ret;

	va_start(args, fmt);
	ret = master_error_vfail(&master_pidfile_error, error_r, fmt, args);
	va_end(args);
	return ret;
}

/* master_pidfile_mkdir - mkdir -p dir with mode 0755 */
static int master_pidfile_mkdir(const char *dir, const char **error_r)
{
	char *copy = xstrdup(dir);
	int ret = 0;

	for (char *p = copy + 1; ret == 0; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			ret = master_pidfile_fail(error_r, "mkdir(%s) failed: %s",
						  copy, strerror(errno));
		if (last)
			break;
		*p = '/';
	}
	free(copy);
	return ret;
}

/* master_pidfile_lock_owner - the pid holding a write lock on fd, 0 for
   none, -1 on error */
static pid_t master_pidfile_lock_owner(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		return -1;
	return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

/* master_pidfile_read_pid - the pid written in fd, 0 when unreadable */
static pid_t master_pidfile_read_pid(int fd)
{
	char buf[32];
	ssize_t ret = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;
	char *end;

	if (ret <= 0)
		return 0;
	buf[ret] = '\0';
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? (pid_t)pid : 0;
}

int master_pidfile_check(const char *base_dir, pid_t *pid_r, int *fd_r,
			 const char **error_r)
{
	char *path = xasprintf("%s/%s", base_dir, MASTER_PIDFILE_NAME);
	pid_t owner, pid;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		if (err == ENOENT) {
			free(path);
			return 0;
		}
		master_pidfile_fail(error_r, "open(%s) failed: %s", path, strerror(err));
		free(path);
		return -1;
	}
	owner = master_pidfile_lock_owner(fd);
	if (owner < 0) {
		master_pidfile_fail(error_r, "fcntl(%s, F_GETLK) failed: %s",
				    path, strerror(errno));
		free(path);
		close(fd);
		return -1;
	}
	free(path);
	if (owner == 0) {
		close(fd);
		return 0;
	}
	pid = master_pidfile_read_pid(fd);
	*pid_r = pid > 0 ? pid : owner;
	if (fd_r != NULL)
		*fd_r = fd;
	else
		close(fd);
	return 1;
}

bool master_pidfile_held(int fd)
{
	return master_pidfile_lock_owner(fd) > 0;
}

/* master_pidfile_write - a locked file with our pid at tmp_path */
static int master_pidfile_write(const char *tmp_path, int *fd_r,
				const char **error_r)
{
	struct flock fl;
	char buf[32];
	int len, fd;

	fd = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return master_pidfile_fail(error_r, "open(%s) failed: %s",
					   tmp_path, strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fcntl(fd, F_SETLK, &fl) < 0 || write(fd, buf, (size_t)len) != len) {
		int err = errno;

		close(fd);
		unlink(tmp_path);
		return master_pidfile_fail(error_r, "writing %s failed: %s",
					   tmp_path, strerror(err));
	}
	*fd_r = fd;
	return 0;
}

/* master_pidfile_take - under the base_dir flock: refuse when a master
   runs, else put our locked file in place */
static int master_pidfile_take(const char *base_dir,
			       struct master_pidfile *pidfile,
			       const char **error_r)
{
	char *tmp_path;
	pid_t pid;
	int ret;

	ret = master_pidfile_check(base_dir, &pid, NULL, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0)
		return master_pidfile_fail(error_r,
			"loftd is already running with PID %ld (read from %s)",
			(long)pid, pidfile->path);
	tmp_path = xasprintf("%s.%ld", pidfile->path, (long)getpid());
	ret = master_pidfile_write(tmp_path, &pidfile->fd, error_r);
	if (ret == 0 && rename(tmp_path, pidfile->path) < 0) {
		ret = master_pidfile_fail(error_r, "rename(%s, %s) failed: %s",
					  tmp_path, pidfile->path, strerror(errno));
		close(pidfile->fd);
		unlink(tmp_path);
	}
	free(tmp_path);
	return ret;
}

int master_pidfile_create(const char *base_dir,
			  struct master_pidfile **pidfile_r,
			  const char **error_r)
{
	struct master_pidfile *pidfile;
	int dir_fd, ret;

	if (master_pidfile_mkdir(base_dir, error_r) < 0)
		return -1;
	dir_fd = open(base_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return master_pidfile_fail(error_r, "open(%s) failed: %s",
					   base_dir, strerror(errno));
	if (flock(dir_fd, LOCK_EX) < 0) {
		int err = errno;

		close(dir_fd);
		return master_pidfile_fail(error_r, "flock(%s) failed: %s",
					   base_dir, strerror(err));
	}
	pidfile = xcalloc(1, sizeof(*pidfile));
	pidfile->path = xasprintf("%s/%s", base_dir, MASTER_PIDFILE_NAME);
	pidfile->fd = -1;
	ret = master_pidfile_take(base_dir, pidfile, error_r);
	close(dir_fd);	/* releases the flock */
	if (ret < 0) {
		free(pidfile->path);
		free(pidfile);
		return -1;
	}
	*pidfile_r = pidfile;
	return 0;
}

void master_pidfile_remove(struct master_pidfile **_pidfile)
{
	struct master_pidfile *pidfile = *_pidfile;

	if (pidfile == NULL)
		return;
	*_pidfile = NULL;
	(void)unlink(pidfile->path);
	close(pidfile->fd);
	free(pidfile->path);
	free(pidfile);
}
