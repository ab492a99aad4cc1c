/*
 * master_process - one service process: fork, the fd and environment
 * contract of lib/service_env.h (fd 3 config snapshot, fd 4 the child's
 * end of its own SOCK_SEQPACKET status socketpair, fds 5.. listeners,
 * then its end of the log channel, LOFT_SERVICE, LOFT_LISTENERS,
 * LOFT_LOG_FD or LOFT_LOG_SERVER_FD; fd 2 a pipe loftd reads when stderr
 * is captured), privileges dropped before exec when the
 * service asks for it, exec, and the list of live children the master
 * reaps from. Each child's last status record (service_child.h) is kept
 * here.
 *
 * A process belongs to its service until a reload retires it (service
 * NULL): then it is only waited for, never replaced.
 */
#ifndef MASTER_PROCESS_H
#define MASTER_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evloop_io;
struct loft_settings;
struct master_log_pipe;
struct master_service;

struct master_process {
	struct master_process *prev, *next;
	pid_t pid;
	char *service_name;
	struct master_service *service;	/* NULL once retired */
	uint64_t start_msecs;		/* evloop clock */
	bool stopping;			/* loftd asked it to exit */
	bool retired;			/* ...by SIGUSR2 (a reload): its
					   open sessions may last; a
					   shutdown still sends SIGTERM */

	int status_fd;			/* loftd's end of the status channel */
	struct evloop_io *status_io;	/* owned by the service; removed here */
	unsigned int available;		/* free client slots, last status */
	uint64_t served;		/* connections accepted, last status */
	uint64_t idle_since_msecs;	/* evloop clock: last change to idle */
	bool status_seen;		/* a status record arrived */
	double cpu_seconds_read;	/* CPU time at the last /proc reading
					   (master_usage) */

	int stderr_fd;			/* read end of its stderr pipe, or -1 */
	struct master_log_pipe *stderr_pipe; /* reading it (master_log.h) */
};

struct master_process_list {
	struct master_process *head;
	unsigned int count;
};

/* What a child gets; every fd is the master's (close-on-exec) copy. */
struct master_process_spec {
	const char *service_name;
	char *const *argv;
	int config_fd;
	const int *listener_fds;
	size_t listener_count;
	const char *listeners_env;
	/* the log channel end placed after the listeners (-1: none) and
	   the environment variable that gets its number */
	int log_fd;
	const char *log_env;
	bool capture_stderr;		/* fd 2 = a pipe to loftd */
	unsigned int client_limit;	/* the slots a new process offers */
	/* drop_priv_before_exec: the service's settings, applied with
	   service_child_drop_privileges() in the child before exec */
	const struct loft_settings *drop_set;
};

/* master_process_spawn - fork and exec spec; the new process is added to
   list with its status_fd (non-blocking), its stderr_fd (non-blocking,
   -1 unless capture_stderr) and client_limit slots free.
   0 with *proc_r, or -1 with *error_r (socketpair or fork failed). An
   exec or privilege drop that fails shows as an exit with status
   MASTER_PROCESS_EXEC_FAILED. */
#define MASTER_PROCESS_EXEC_FAILED 84
int master_process_spawn(struct master_process_list *list,
			 const struct master_process_spec *spec,
			 struct master_service *service, uint64_t now_msecs,
			 struct master_process **proc_r, const char **error_r);

/* master_process_find - the child with pid, or NULL */
struct master_process *master_process_find(struct master_process_list *list,
					   pid_t pid);
/* master_process_remove - unlink, remove status_io, close status_fd,
   log what its stderr pipe still holds and close it, and free; sets
   *proc = NULL */
void master_process_remove(struct master_process_list *list,
			   struct master_process **proc);

/* master_process_stop - send SIGTERM and mark it stopping */
void master_process_stop(struct master_process *proc);
/* master_process_retire - a reload made proc the old generation. With
   graceful (loft's own programs), SIGUSR2: it accepts no more clients and
   exits when its own have gone (services without clients treat it as
   SIGTERM); else SIGTERM, which a foreign program surely understands */
void master_process_retire(struct master_process *proc, bool graceful);
/* master_process_signal_all - send signo to every child */
void master_process_signal_all(struct master_process_list *list, int signo);

/* master_process_describe_exit - "returned error 3", "killed with signal
   9 (core dumped)" for a waitpid status (static buffer) */
const char *master_process_describe_exit(int status);

#endif
