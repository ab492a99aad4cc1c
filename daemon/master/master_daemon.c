/*
 * master_daemon - loftd's life (see master_daemon.h). The master never
 * blocks on a child: deaths arrive as SIGCHLD through the event loop and
 * are reaped with WNOHANG; only the final SIGKILL of a shutdown that ran
 * out of time waits for its victims.
 */
#include "master_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "log_settings.h"
#include "master_config.h"
#include "master_log.h"
#include "master_notify.h"
#include "master_pidfile.h"
#include "master_root.h"
#include "master_service.h"
#include "master_state.h"
#include "master_stats.h"
#include "strbuf.h"
#include "xalloc.h"

struct master {
	struct master_runtime rt;
	const char *config_path;
	struct master_config *config;
	struct master_service_list services;
	struct master_pidfile *pidfile;
	int ready_fd;		/* detached start-up: tells the parent "ok" */
	struct evloop_signal *signals[5];
	struct evloop_timer *shutdown_timer;
	struct master_stats *stats;
};

/* master_fatal - a start-up failure: stderr (the admin's terminal until
   start-up is complete) and the log; returns the exit code 1 */
static int master_fatal(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2);
static int master_fatal(const char *fmt, ...)
{
	struct strbuf msg;
	va_list args;

	strbuf_init(&msg, 128);
	va_start(args, fmt);
	strbuf_vappendf(&msg, fmt, args);
	va_end(args);
	fprintf(stderr, "loftd: Fatal: %s\n", msg.data);
	log_write(LOG_LEVEL_FATAL, NULL, "%s", msg.data);
	strbuf_free(&msg);
	return 1;
}

/* master_signal_name - "SIGTERM" for the signals the master handles */
static const char *master_signal_name(int signo)
{
	switch (signo) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	case SIGUSR1: return "SIGUSR1";
	case SIGCHLD: return "SIGCHLD";
	}
	return "signal";
}


/* master_log_exit - one line about a child that is gone */
static void master_log_exit(const struct master *m,
			    const struct master_process *proc, int status)
{
	bool expected = proc->stopping || m->rt.shutting_down;
	bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		(expected && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

	if (clean && expected)
		log_debug("service(%s): process %ld exited", proc->service_name,
			  (long)proc->pid);
	else if (clean)
		log_info("service(%s): process %ld exited", proc->service_name,
			 (long)proc->pid);
	else
		log_error("service(%s): child %ld %s", proc->service_name,
			  (long)proc->pid, master_process_describe_exit(status));
}

/* master_is_log_process - proc runs the log service */
static bool master_is_log_process(const struct master_process *proc)
{
	return master_log_is_service(proc->service_name);
}

/* master_signal_stopping - send signo to every child already told to
   stop but the log service's processes: a later stage (loft-stats) still
   waits for the services, or the outcomes they record as they end their
   sessions (421 to open transactions) would miss the journal. The
   number of processes signalled. */
static unsigned int master_signal_stopping(struct master *m, int signo)
{
	unsigned int n = 0;

	for (struct master_process *proc = m->rt.processes.head; proc != NULL;
	     proc = proc->next) {
		if (proc->stopping && !master_is_log_process(proc)) {
			(void)kill(proc->pid, signo);
			n++;
		}
	}
	return n;
}

/* master_stop_stage - when a child stops at shutdown: 0 the services,
   1 loft-stats (it writes the journal of their last deliveries), 2 the
   log service (it writes everyone's last lines) */
static unsigned int master_stop_stage(const struct master_process *proc)
{
	if (master_is_log_process(proc))
		return 2;
	return strcmp(proc->service_name, "stats") == 0 ? 1 : 0;
}

/* master_shutdown_progress - children stop stage by stage: a stage is
   stopped once every child of the stages before it has exited (what
   they reported is in the channels by then); when the log service is
   gone loftd writes its own lines and what is left in the channel; the
   loop ends with the last child */
static void master_shutdown_progress(struct master *m)
{
	unsigned int left[3] = { 0, 0, 0 }, stage = 0;

	for (struct master_process *proc = m->rt.processes.head; proc != NULL;
	     proc = proc->next)
		left[master_stop_stage(proc)]++;
	while (stage < 2 && left[stage] == 0)
		stage++;
	for (struct master_process *proc = m->rt.processes.head; proc != NULL;
	     proc = proc->next) {
		if ((!proc->stopping || proc->retired) &&
		    master_stop_stage(proc) <= stage)
			master_process_stop(proc);
	}
	if (left[2] == 0 && m->rt.log != NULL)
		master_log_direct(m->rt.log);
	if (m->rt.processes.count == 0)
		evloop_stop(m->rt.loop);
}

/* master_reap - collect every dead child, replace those still wanted */
static void master_reap(struct master *m)
{
	struct rusage ru;
	int status;
	pid_t pid;

	/* wait4: the child's CPU time stays in process_cpu_seconds_total */
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		struct master_process *proc =
			master_process_find(&m->rt.processes, pid);
		struct master_service *service;

		if (proc == NULL)
			continue;
		service = proc->service;
		master_log_exit(m, proc, status);
		master_stats_process_reaped(m->stats, proc, &ru);
		/* no longer one of the service's processes when it counts */
		proc->service = NULL;
		if (service != NULL)
			master_service_process_exited(service, proc, status);
		master_process_remove(&m->rt.processes, &proc);
	}
	if (m->rt.shutting_down)
		master_shutdown_progress(m);
}

/* master_shutdown_timeout - children that ignored SIGTERM get SIGKILL */
static int64_t master_shutdown_timeout(struct evloop_timer *timer,
				       void *context)
{
	struct master *m = context;

	(void)timer;
	m->shutdown_timer = NULL;
	log_warning("%u processes did not exit within %d secs, killing them",
		    m->rt.processes.count, MASTER_DAEMON_SHUTDOWN_SECS);
	master_process_signal_all(&m->rt.processes, SIGKILL);
	while (m->rt.processes.head != NULL) {
		struct master_process *proc = m->rt.processes.head;
		int status = 0;

		while (waitpid(proc->pid, &status, 0) < 0 && errno == EINTR)
			;
		master_log_exit(m, proc, status);
		master_process_remove(&m->rt.processes, &proc);
	}
	master_shutdown_progress(m);
	return EVLOOP_NOMORE;
}

/* master_shutdown - SIGTERM/SIGINT: the first one stops everything, a
   later one is forwarded (children end their sessions at once) */
static void master_shutdown(struct master *m, int signo)
{
	if (m->rt.shutting_down) {
		log_info("received %s again, forwarded it to %u processes",
			 master_signal_name(signo),
			 master_signal_stopping(m, SIGTERM));
		return;
	}
	log_info("received %s, shutting down", master_signal_name(signo));
	m->rt.shutting_down = true;
	master_notify(MASTER_NOTIFY_STOPPING,
		      "Shutting down: stopping %u processes",
		      m->rt.processes.count);
	master_services_stop_throttling(&m->services);
	for (struct master_process *proc = m->rt.processes.head; proc != NULL;
	     proc = proc->next) {
		/* retired by a reload: told to finish its sessions, which
		   an MTA may keep open; now they end (SIGTERM) like the
		   others'. loft-stats and the log service wait for them */
		if ((!proc->stopping || proc->retired) &&
		    master_stop_stage(proc) == 0)
			master_process_stop(proc);
	}
	master_shutdown_progress(m);
	if (m->rt.processes.count == 0)
		return;
	m->shutdown_timer = evloop_add_timer(m->rt.loop,
					     MASTER_DAEMON_SHUTDOWN_SECS * 1000,
					     master_shutdown_timeout, m);
}

/* master_reload_fail - log why a reload was refused */
static int master_reload_fail(struct master *m, struct master_config **config,
			      const char *error, const char **error_r)
{
	static char reason[1024];

	log_error("reload failed: %s", error);
	snprintf(reason, sizeof(reason), "%s", error);
	*error_r = reason;
	if (config != NULL)
		master_config_free(config);
	master_stats_reloaded(m->stats, false);
	return -1;
}

/* master_not_used_equal - whether two not-used lists name the same
   things at the same places (a reload logs the list again only when it
   changed) */
static bool master_not_used_equal(const struct kvlist *a, const struct kvlist *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		if (strcmp(a->items[i].key, b->items[i].key) != 0 ||
		    strcmp(a->items[i].value, b->items[i].value) != 0)
			return false;
	}
	return true;
}

/* master_reload_generation - a new config generation, or nothing
   changes. 0, or -1 with *error_r ("FILE:LINE: message") */
static int master_reload_generation(struct master *m, const char **error_r)
{
	struct master_service_list services;
	struct master_config *config;
	const char *error;
	bool not_used_changed;

	log_info("reloading %s", m->config_path);
	if (master_config_load(m->config_path, &config, &error) < 0)
		return master_reload_fail(m, NULL, error, error_r);
	if (strcmp(master_config_settings(config)->base_dir,
		   master_config_settings(m->config)->base_dir) != 0)
		return master_reload_fail(m, &config, "base_dir can't be changed "
					  "by a reload (restart loftd)", error_r);
	if (master_services_create(&m->rt, config, &m->services, &services,
				   &error) < 0)
		return master_reload_fail(m, &config, error, error_r);
	/* a new state_dir: loft-stats, restarted by the reload, moves there
	   (without it, it keeps its journal in memory) */
	if (master_state_dir_create(master_config_settings(config), &error) < 0)
		log_warning("%s", error);
	/* old processes finish their sessions and exit; their exit is not
	   a crash and they are not replaced */
	master_services_commit(&services);
	master_services_retire(&m->services, &services);
	master_services_free(&m->services);
	m->services = services;
	not_used_changed = !master_not_used_equal(master_config_not_used(m->config),
						  master_config_not_used(config));
	master_config_free(&m->config);
	m->config = config;
	log_configure_from(master_config_settings(m->config));
	master_config_warn(m->config);
	master_services_start(&m->services);
	log_info("config reloaded");
	if (not_used_changed)
		master_config_log_not_used(m->config);
	master_stats_reloaded(m->stats, true);
	return 0;
}

/* master_notify_serving - READY=1 and how much is running */
static void master_notify_serving(const struct master *m, const char *what)
{
	master_notify(MASTER_NOTIFY_READY, "%s: %zu services, %u processes",
		      what, m->services.count, m->rt.processes.count);
}

/* master_reload - SIGHUP, loftadm reload, the HTTP API: the service
   manager sees the reload begin and end, whatever its outcome */
static int master_reload(struct master *m, const char **error_r)
{
	int ret;

	if (m->rt.shutting_down)
		return master_reload_fail(m, NULL, "loftd is shutting down", error_r);
	master_notify(MASTER_NOTIFY_RELOADING, "Reloading %s", m->config_path);
	ret = master_reload_generation(m, error_r);
	if (ret == 0)
		master_notify_serving(m, "Config reloaded");
	else
		master_notify(MASTER_NOTIFY_READY, "Reload failed, still "
			      "serving the previous config: %s", *error_r);
	return ret;
}

static int master_stats_reload(void *context, const char **error_r)
{
	return master_reload(context, error_r);
}

static void master_log_reopen(void *context)
{
	struct master *m = context;

	log_reopen();
	master_process_signal_all(&m->rt.processes, SIGUSR1);
}

static const struct master_service_list *master_stats_services(void *context)
{
	struct master *m = context;

	return &m->services;
}

static struct master_process_list *master_stats_processes(void *context)
{
	struct master *m = context;

	return &m->rt.processes;
}

/* master_on_signal - every signal the master handles */
static void master_on_signal(int signo, void *context)
{
	struct master *m = context;

	switch (signo) {
	case SIGCHLD:
		master_reap(m);
		break;
	case SIGTERM:
	case SIGINT:
		master_shutdown(m, signo);
		break;
	case SIGHUP: {
		const char *error;

		log_info("received SIGHUP");
		(void)master_reload(m, &error);
		break;
	}
	case SIGUSR1:
		master_log_reopen(m);
		break;
	}
}

/* master_detach - fork; the parent waits until the child says start-up
   is done (exit 0) or the child dies (its exit code) */
static void master_detach(struct master *m)
{
	int fds[2], status;
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "loftd: Fatal: pipe() failed: %s\n", strerror(errno));
		_exit(1);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "loftd: Fatal: fork() failed: %s\n", strerror(errno));
		_exit(1);
	}
	if (pid > 0) {
		ssize_t ret;

		close(fds[1]);
		while ((ret = read(fds[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (ret == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	close(fds[0]);
	(void)setsid();
	if (chdir("/") < 0)
		log_warning("chdir(/) failed: %s", strerror(errno));
	m->ready_fd = fds[1];
}

/* master_detach_done - start-up succeeded: release the waiting parent
   and leave the terminal */
static void master_detach_done(struct master *m)
{
	int null_fd;

	if (m->ready_fd < 0)
		return;
	if (write(m->ready_fd, "R", 1) != 1)
		log_warning("telling the parent about start-up failed: %s",
			    strerror(errno));
	close(m->ready_fd);
	m->ready_fd = -1;
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0)
		return;
	(void)dup2(null_fd, STDIN_FILENO);
	(void)dup2(null_fd, STDOUT_FILENO);
	(void)dup2(null_fd, STDERR_FILENO);
	if (null_fd > STDERR_FILENO)
		close(null_fd);
}

/* master_start - everything that can fail at start-up; 0 or exit code */
static int master_start(struct master *m)
{
	static const int signos[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	const struct loft_settings *set = master_config_settings(m->config);
	const char *error;

	if (master_pidfile_create(set->base_dir, &m->pidfile, &error) < 0)
		return master_fatal("%s", error);
	if (master_state_dir_create(set, &error) < 0)
		return master_fatal("%s", error);
	signal(SIGPIPE, SIG_IGN);
	m->rt.loop = evloop_create();
	/* blocked before the first fork, so no child death is missed */
	for (size_t i = 0; i < LOFT_N_ELEMENTS(signos); i++)
		m->signals[i] = evloop_add_signal(m->rt.loop, signos[i],
						  master_on_signal, m);
	/* from here on loftd's lines, too, wait in the channel for
	   loft-log */
	if (master_log_create(m->rt.loop, &m->rt.log, &error) < 0)
		return master_fatal("%s", error);
	master_config_warn(m->config);
	if (master_services_create(&m->rt, m->config, NULL, &m->services,
				   &error) < 0)
		return master_fatal("%s", error);
	master_services_commit(&m->services);
	return 0;
}

/* master_stop - release everything; listeners and the pid file go */
static void master_stop(struct master *m)
{
	if (m->shutdown_timer != NULL)
		evloop_remove_timer(&m->shutdown_timer);
	master_stats_free(&m->stats);
	master_services_free(&m->services);
	/* every child is gone: what they sent last is written now */
	master_log_free(&m->rt.log);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(m->signals); i++) {
		if (m->signals[i] != NULL)
			evloop_remove_signal(&m->signals[i]);
	}
	if (m->rt.loop != NULL)
		evloop_free(&m->rt.loop);
	master_pidfile_remove(&m->pidfile);
	master_config_free(&m->config);
	if (m->ready_fd >= 0)
		close(m->ready_fd);
}

int master_daemon_run(const char *config_path, bool foreground)
{
	struct master m;
	const char *error;
	int ret;

	memset(&m, 0, sizeof(m));
	m.config_path = config_path;
	m.ready_fd = -1;
	if (master_config_load(config_path, &m.config, &error) < 0) {
		fprintf(stderr, "loftd: Fatal: %s\n", error);
		return 1;
	}
	/* before the pid file, whose EACCES would say less */
	if (master_root_check(m.config, &error) < 0) {
		fprintf(stderr, "loftd: Fatal: %s\n", error);
		master_config_free(&m.config);
		return 1;
	}
	if (!foreground)
		master_detach(&m);
	log_configure_from(master_config_settings(m.config));
	ret = master_start(&m);
	if (ret == 0) {
		log_info("loftd %s starting up", LOFT_VERSION);
		master_config_log_not_used(m.config);
		master_detach_done(&m);
		master_services_start(&m.services);
		/* listeners are open, the children forked */
		master_notify_serving(&m, "Serving");
		m.stats = master_stats_create(m.rt.loop,
					      master_config_settings(m.config)->base_dir,
					      &(struct master_stats_callbacks) {
						      .services = master_stats_services,
						      .processes = master_stats_processes,
						      .reload = master_stats_reload,
						      .log_reopen = master_log_reopen,
						      .context = &m,
					      });
		if (evloop_run(m.rt.loop) < 0) {
			log_error("event loop failed: %s", strerror(errno));
			ret = 1;
		}
	}
	master_stop(&m);
	if (ret == 0)
		log_info("loftd stopped");
	return ret;
}
