/*
 * master_process - fork/exec of a service process with the service_env
 * fd layout, and the master's list of live children (see
 * master_process.h). The master is single-threaded, so the child may
 * still call into libc freely between fork and exec.
 */
#include "master_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"
#include "log_remote.h"
#include "master_log.h"
#include "service_child.h"
#include "service_env.h"
#include "xalloc.h"

static char master_process_error[256];

/* master_process_close_from - close every fd >= first */
static void master_process_close_from(int first)
{
	struct rlimit rl;

	if (close_range((unsigned int)first, ~0U, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 65536;
	for (rlim_t fd = (rlim_t)first; fd < rl.rlim_cur; fd++)
		close((int)fd);
}

/* master_process_child_fail - report a failed step and leave the child */
static void LOFT_ATTR_NORETURN
master_process_child_fail(const struct master_process_spec *spec,
			  const char *what)
{
	fprintf(stderr, "loftd: service(%s): %s failed: %s\n",
		spec->service_name, what, strerror(errno));
	_exit(MASTER_PROCESS_EXEC_FAILED);
}

/* master_process_source_fd - the fd that goes to 3 + i in the child */
static int master_process_source_fd(const struct master_process_spec *spec,
				    int status_fd, size_t i)
{
	if (i == 0)
		return spec->config_fd;
	if (i == 1)
		return status_fd;
	if (i - 2 < spec->listener_count)
		return spec->listener_fds[i - 2];
	return spec->log_fd;
}

/* master_process_child_stderr - fd 2 becomes the write end of the
   stderr pipe */
static void master_process_child_stderr(const struct master_process_spec *spec,
					int stderr_fd)
{
	if (stderr_fd < 0)
		return;
	if (stderr_fd == STDERR_FILENO) {
		/* dup2 onto itself would keep close-on-exec */
		if (fcntl(stderr_fd, F_SETFD, 0) < 0)
			master_process_child_fail(spec, "fcntl(F_SETFD)");
	} else if (dup2(stderr_fd, STDERR_FILENO) < 0) {
		master_process_child_fail(spec, "dup2(stderr)");
	}
}

/* master_process_child_log_env - name the log channel fd (the last one)
   in the environment, and nothing else */
static void master_process_child_log_env(const struct master_process_spec *spec,
					 int fd)
{
	char value[16];

	(void)unsetenv(LOG_REMOTE_ENV);
	(void)unsetenv(LOG_REMOTE_SERVER_ENV);
	if (spec->log_fd < 0)
		return;
	snprintf(value, sizeof(value), "%d", fd);
	if (setenv(spec->log_env, value, 1) < 0)
		master_process_child_fail(spec, "setenv");
}

/* master_process_child_fds - move the snapshot, the child's end of the
   status channel, the listeners and the log channel to 3, 4, 5...;
   everything else but 0-2 is closed. Sources may sit on target numbers,
   so every fd is first copied above all of them. */
static void master_process_child_fds(const struct master_process_spec *spec,
				     int status_fd, int stderr_fd)
{
	size_t count = 2 + spec->listener_count + (spec->log_fd >= 0 ? 1 : 0);
	int *tmp = xcalloc(count, sizeof(*tmp));
	int high = SERVICE_ENV_CONFIG_FD + (int)count;
	int null_fd;

	for (size_t i = 0; i < count; i++) {
		if (master_process_source_fd(spec, status_fd, i) >= high)
			high = master_process_source_fd(spec, status_fd, i) + 1;
	}
	for (size_t i = 0; i < count; i++) {
		tmp[i] = fcntl(master_process_source_fd(spec, status_fd, i),
			       F_DUPFD_CLOEXEC, high);
		if (tmp[i] < 0)
			master_process_child_fail(spec, "fcntl(F_DUPFD)");
	}
	/* every source is safe above: 2 may be taken now, and the pipe's
	   own number may be a target below */
	master_process_child_stderr(spec, stderr_fd);
	for (size_t i = 0; i < count; i++) {
		/* dup2 clears close-on-exec on the target */
		if (dup2(tmp[i], SERVICE_ENV_CONFIG_FD + (int)i) < 0)
			master_process_child_fail(spec, "dup2");
	}
	free(tmp);
	master_process_close_from(SERVICE_ENV_CONFIG_FD + (int)count);
	master_process_child_log_env(spec, SERVICE_ENV_CONFIG_FD + (int)count - 1);
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0)
		master_process_child_fail(spec, "open(/dev/null)");
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		master_process_child_fail(spec, "dup2(/dev/null)");
	if (null_fd > STDERR_FILENO)
		close(null_fd);
}

/* master_process_child_drop - drop_priv_before_exec: become the
   service's user now and tell the service so */
static void master_process_child_drop(const struct master_process_spec *spec)
{
	const char *error;

	if (spec->drop_set == NULL)
		return;
	if (service_child_drop_privileges(spec->drop_set, spec->service_name,
					  &error) < 0) {
		fprintf(stderr, "loftd: %s\n", error);
		_exit(MASTER_PROCESS_EXEC_FAILED);
	}
	if (setenv(SERVICE_CHILD_PRIVILEGES_ENV, "1", 1) < 0)
		master_process_child_fail(spec, "setenv");
}

/* master_process_child - everything between fork and exec */
static void LOFT_ATTR_NORETURN
master_process_child(const struct master_process_spec *spec, int status_fd,
		     int stderr_fd)
{
	sigset_t empty;

	/* the master's handlers and its signalfd mask must not leak */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	master_process_child_fds(spec, status_fd, stderr_fd);
	(void)unsetenv(SERVICE_CHILD_PRIVILEGES_ENV);
	/* systemd hears from loftd only (master_notify.h) */
	(void)unsetenv("NOTIFY_SOCKET");
	if (setenv("LOFT_SERVICE", spec->service_name, 1) < 0 ||
	    setenv("LOFT_LISTENERS", spec->listeners_env, 1) < 0)
		master_process_child_fail(spec, "setenv");
	master_process_child_drop(spec);
	execv(spec->argv[0], spec->argv);
	fprintf(stderr, "loftd: service(%s): execv(%s) failed: %s\n",
		spec->service_name, spec->argv[0], strerror(errno));
	_exit(MASTER_PROCESS_EXEC_FAILED);
}

/* master_process_close_pair - close both ends of a pipe that was made */
static void master_process_close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
}

/* master_process_fail - "service(NAME): what() failed: ..." */
static int master_process_fail(const struct master_process_spec *spec,
			       const char *what, const char **error_r)
{
	snprintf(master_process_error, sizeof(master_process_error),
		 "service(%s): %s() failed: %s", spec->service_name, what,
		 strerror(errno));
	*error_r = master_process_error;
	return -1;
}

int master_process_spawn(struct master_process_list *list,
			 const struct master_process_spec *spec,
			 struct master_service *service, uint64_t now_msecs,
			 struct master_process **proc_r, const char **error_r)
{
	struct master_process *proc;
	int status_fds[2], stderr_fds[2] = { -1, -1 };
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, status_fds) < 0)
		return master_process_fail(spec, "socketpair", error_r);
	if (spec->capture_stderr && pipe2(stderr_fds, O_CLOEXEC) < 0) {
		int err = errno;

		close(status_fds[0]);
		close(status_fds[1]);
		errno = err;
		return master_process_fail(spec, "pipe", error_r);
	}
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(status_fds[0]);
		close(status_fds[1]);
		master_process_close_pair(stderr_fds);
		errno = err;
		return master_process_fail(spec, "fork", error_r);
	}
	if (pid == 0)
		master_process_child(spec, status_fds[1], stderr_fds[1]);
	close(status_fds[1]);
	(void)fcntl(status_fds[0], F_SETFL, O_NONBLOCK);
	if (stderr_fds[1] >= 0) {
		close(stderr_fds[1]);
		(void)fcntl(stderr_fds[0], F_SETFL, O_NONBLOCK);
	}
	proc = xcalloc(1, sizeof(*proc));
	proc->pid = pid;
	proc->service_name = xstrdup(spec->service_name);
	proc->service = service;
	proc->start_msecs = now_msecs;
	proc->status_fd = status_fds[0];
	proc->stderr_fd = stderr_fds[0];
	proc->available = spec->client_limit;
	proc->idle_since_msecs = now_msecs;
	proc->next = list->head;
	if (list->head != NULL)
		list->head->prev = proc;
	list->head = proc;
	list->count++;
	*proc_r = proc;
	return 0;
}

struct master_process *master_process_find(struct master_process_list *list,
					   pid_t pid)
{
	for (struct master_process *proc = list->head; proc != NULL;
	     proc = proc->next) {
		if (proc->pid == pid)
			return proc;
	}
	return NULL;
}

void master_process_remove(struct master_process_list *list,
			   struct master_process **_proc)
{
	struct master_process *proc = *_proc;

	*_proc = NULL;
	if (proc->prev != NULL)
		proc->prev->next = proc->next;
	else
		list->head = proc->next;
	if (proc->next != NULL)
		proc->next->prev = proc->prev;
	list->count--;
	if (proc->status_io != NULL)
		evloop_remove_io(&proc->status_io);
	close(proc->status_fd);
	master_log_pipe_close(&proc->stderr_pipe);
	if (proc->stderr_fd >= 0)
		close(proc->stderr_fd);
	free(proc->service_name);
	free(proc);
}

void master_process_stop(struct master_process *proc)
{
	proc->stopping = true;
	proc->retired = false;
	(void)kill(proc->pid, SIGTERM);
}

void master_process_retire(struct master_process *proc, bool graceful)
{
	proc->stopping = true;
	proc->retired = graceful;
	(void)kill(proc->pid, graceful ? SIGUSR2 : SIGTERM);
}

void master_process_signal_all(struct master_process_list *list, int signo)
{
	for (struct master_process *proc = list->head; proc != NULL;
	     proc = proc->next)
		(void)kill(proc->pid, signo);
}

const char *master_process_describe_exit(int status)
{
	static char buf[128];

	if (WIFSIGNALED(status)) {
		snprintf(buf, sizeof(buf), "killed with signal %d%s",
			 WTERMSIG(status),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(buf, sizeof(buf), "exited");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == MASTER_PROCESS_EXEC_FAILED) {
		snprintf(buf, sizeof(buf), "returned error %d (could not be started)",
			 WEXITSTATUS(status));
	} else {
		snprintf(buf, sizeof(buf), "returned error %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	return buf;
}
