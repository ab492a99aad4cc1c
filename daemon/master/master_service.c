/*
 * master_service - services at run time: preparing them from a config
 * generation, reading their processes' status records, starting
 * processes as clients need them, stopping idle ones, warning when
 * process_limit makes clients queue, and throttling a service whose
 * processes keep dying at start-up (see master_service.h).
 */
#include "master_service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "master_log.h"
#include "service_child.h"
#include "xalloc.h"

/* how often idle processes are looked for, at most/least */
#define MASTER_SERVICE_IDLE_TICK_MIN_MSECS 100
#define MASTER_SERVICE_IDLE_TICK_MAX_MSECS 1000

/* master_service_queue_disarm - stop watching the listeners */
static void master_service_queue_disarm(struct master_service *service)
{
	if (service->queue_ios == NULL)
		return;
	for (size_t i = 0; i < service->listeners.count; i++) {
		if (service->queue_ios[i] != NULL)
			evloop_remove_io(&service->queue_ios[i]);
	}
	XFREE(service->queue_ios);
}

/* master_service_timers_stop - cancel every timer and watch of service */
static void master_service_timers_stop(struct master_service *service)
{
	master_service_queue_disarm(service);
	if (service->throttle_timer != NULL)
		evloop_remove_timer(&service->throttle_timer);
	if (service->idle_timer != NULL)
		evloop_remove_timer(&service->idle_timer);
	if (service->queue_rearm_timer != NULL)
		evloop_remove_timer(&service->queue_rearm_timer);
}

/* master_service_free_one - close listeners, cancel the timers, free */
static void master_service_free_one(struct master_service **_service,
				    bool commit)
{
	struct master_service *service = *_service;

	*_service = NULL;
	master_service_timers_stop(service);
	if (commit)
		master_listeners_close(&service->listeners);
	else
		master_listeners_abort(&service->listeners);
	master_config_argv_free(&service->argv);
	free(service->listeners_env);
	free(service->name);
	free(service);
}

/* master_service_limits - the limits of svc, defaults applied */
static void master_service_limits(struct master_service *service,
				  const struct loft_settings *set,
				  const struct service_settings *svc)
{
	service->process_limit = svc->process_limit != 0 ? svc->process_limit :
		set->default_process_limit;
	if (service->process_limit == 0)
		service->process_limit = 1;
	service->client_limit = service_child_client_limit(set, svc);
	service->process_min_avail = svc->process_min_avail;
	service->service_count = svc->service_count;
	service->idle_kill_msecs = svc->idle_kill != 0 ? svc->idle_kill :
		set->default_idle_kill;
	service->vsz_limit = service_child_vsz_limit(set, svc);
	/* type = log (the log service, from a Dovecot config) starts as
	   loft's log service always does */
	service->startup = strcmp(svc->type, "startup") == 0 ||
		strcmp(svc->type, "log") == 0;
}

/* master_service_create - prepare one service */
static int master_service_create(struct master_runtime *rt,
				 struct master_config *config,
				 const struct service_settings *svc,
				 struct master_listener_set *const *old_sets,
				 size_t old_count,
				 struct master_service **service_r,
				 const char **error_r)
{
	const struct loft_settings *set = master_config_settings(config);
	const struct loft_settings *svc_set =
		master_config_service_settings(config, svc);
	struct master_service *service = xcalloc(1, sizeof(*service));

	service->rt = rt;
	service->name = xstrdup(svc->name);
	service->argv = master_config_argv(set, svc);
	master_service_limits(service, svc_set, svc);
	if (svc->drop_priv_before_exec)
		service->drop_set = svc_set;
	if (master_config_check_executable(config, svc, service->argv[0],
					   error_r) < 0) {
		master_service_free_one(&service, false);
		return -1;
	}
	service->config_fd = master_config_snapshot(config, svc, error_r);
	if (service->config_fd < 0 ||
	    master_listeners_open(svc, set->base_dir,
				  master_config_service_listen(set, svc), old_sets,
				  old_count, &service->listeners, error_r) < 0) {
		master_service_free_one(&service, false);
		return -1;
	}
	service->listeners_env = master_listeners_env(&service->listeners);
	*service_r = service;
	return 0;
}

int master_services_create(struct master_runtime *rt,
			   struct master_config *config,
			   struct master_service_list *old,
			   struct master_service_list *list_r,
			   const char **error_r)
{
	const struct loft_settings *set = master_config_settings(config);
	size_t old_count = old == NULL ? 0 : old->count;
	struct master_listener_set **old_sets =
		xcalloc(old_count + 1, sizeof(*old_sets));
	int ret = 0;

	for (size_t i = 0; i < old_count; i++)
		old_sets[i] = &old->services[i]->listeners;
	memset(list_r, 0, sizeof(*list_r));
	list_r->services = xcalloc(set->service_count + 1,
				   sizeof(*list_r->services));
	for (size_t i = 0; i < set->service_count && ret == 0; i++) {
		const struct service_settings *svc = &set->services[i];

		if (!master_config_service_enabled(config, svc)) {
			log_debug("service(%s): its protocol is not in protocols, not started",
				  svc->name);
			continue;
		}
		ret = master_service_create(rt, config, svc, old_sets, old_count,
					    &list_r->services[list_r->count],
					    error_r);
		if (ret == 0)
			list_r->count++;
	}
	free(old_sets);
	if (ret < 0)
		master_services_abort(list_r);
	return ret;
}

void master_services_commit(struct master_service_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		master_listeners_commit(list->services[i]->name,
					&list->services[i]->listeners);
}

/* master_services_release - free every service of list */
static void master_services_release(struct master_service_list *list,
				    bool commit)
{
	for (size_t i = 0; i < list->count; i++)
		master_service_free_one(&list->services[i], commit);
	free(list->services);
	memset(list, 0, sizeof(*list));
}

void master_services_abort(struct master_service_list *list)
{
	master_services_release(list, false);
}

void master_services_free(struct master_service_list *list)
{
	master_services_release(list, true);
}

/* master_service_proc_idle - proc has no session */
static bool master_service_proc_idle(const struct master_service *service,
				     const struct master_process *proc)
{
	return proc->available >= service->client_limit;
}

/* master_service_floor - how many ready processes service keeps */
static unsigned int master_service_floor(const struct master_service *service)
{
	unsigned int floor = service->process_min_avail;

	if (floor == 0 && (service->listeners.count > 0 || service->startup))
		floor = 1;
	return floor;
}

/* master_service_ready - processes of service that are not stopping and
   have a free slot (with the sum of the slots in *slots_r) */
static unsigned int master_service_ready(const struct master_service *service,
					 unsigned int *slots_r)
{
	unsigned int ready = 0, slots = 0;

	for (const struct master_process *proc = service->rt->processes.head;
	     proc != NULL; proc = proc->next) {
		if (proc->service != service || proc->stopping)
			continue;
		slots += proc->available;
		if (proc->available > 0)
			ready++;
	}
	if (slots_r != NULL)
		*slots_r = slots;
	return ready;
}

static void master_service_adjust(struct master_service *service);
/* master_service_throttle - delay the next start after failed starts */
static void master_service_throttle(struct master_service *service);

/* master_service_status_read - status records from proc's child */
static void master_service_status_read(struct evloop_io *io, int fd,
				       unsigned int events, void *context)
{
	struct master_process *proc = context;
	struct master_service *service = proc->service;
	unsigned char buf[SERVICE_CHILD_STATUS_SIZE + 1];
	struct service_child_status status;
	bool changed = false;
	ssize_t ret;

	(void)io;
	(void)events;
	for (;;) {
		ret = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (ret <= 0) {
			/* EOF: the child is exiting; SIGCHLD follows */
			evloop_remove_io(&proc->status_io);
			break;
		}
		if (service_child_status_decode(buf, (size_t)ret, &status) < 0 ||
		    status.pid != (uint32_t)proc->pid) {
			log_warning("service(%s): process %ld sent an invalid status record",
				    proc->service_name, (long)proc->pid);
			continue;
		}
		if (service != NULL) {
			bool was_idle = master_service_proc_idle(service, proc);

			proc->available = status.available > service->client_limit ?
				service->client_limit : status.available;
			if (!was_idle && master_service_proc_idle(service, proc))
				proc->idle_since_msecs =
					evloop_now_msecs(service->rt->loop);
		}
		proc->served = status.served;
		proc->status_seen = true;
		changed = true;
	}
	if (changed && service != NULL) {
		service->counters.last_status_time = time(NULL);
		master_service_adjust(service);
	}
}

/* master_service_spawn - start one process; false when that failed (the
   service is throttled then) */
static bool master_service_spawn(struct master_service *service)
{
	struct master_runtime *rt = service->rt;
	size_t nfds = service->listeners.count;
	int *fds = xcalloc(nfds + 1, sizeof(*fds));
	struct master_process *proc;
	const char *error;
	int ret;
	struct master_process_spec spec = {
		.service_name = service->name,
		.argv = service->argv,
		.config_fd = service->config_fd,
		.listener_fds = fds,
		.listener_count = nfds,
		.listeners_env = service->listeners_env,
		.log_fd = -1,
		.client_limit = service->client_limit,
		.drop_set = service->drop_set,
	};

	for (size_t i = 0; i < nfds; i++)
		fds[i] = service->listeners.listeners[i].fd;
	if (rt->log != NULL) {
		master_log_child_channel(rt->log, service->name, &spec.log_fd,
					 &spec.log_env);
		/* loft-log's own stderr stays loftd's: what it cannot write
		   must not come back to it */
		spec.capture_stderr = !master_log_is_service(service->name);
	}
	ret = master_process_spawn(&rt->processes, &spec, service,
				   evloop_now_msecs(rt->loop), &proc, &error);
	free(fds);
	if (ret < 0) {
		log_error("%s", error);
		service->failed_starts++;
		master_service_throttle(service);
		return false;
	}
	proc->status_io = evloop_add_io(rt->loop, proc->status_fd, EVLOOP_READ,
					master_service_status_read, proc);
	if (proc->stderr_fd >= 0)
		master_log_capture(rt->log, proc);
	service->process_count++;
	service->counters.processes_started++;
	log_info("service(%s): process %ld started", service->name,
		 (long)proc->pid);
	return true;
}

/* master_service_queue_rearm - the warning interval is over: watch the
   listeners again if the service is still full */
static int64_t master_service_queue_rearm(struct evloop_timer *timer,
					  void *context)
{
	struct master_service *service = context;

	(void)timer;
	service->queue_rearm_timer = NULL;
	master_service_adjust(service);
	return EVLOOP_NOMORE;
}

/* master_service_queued - a client waits on a listener while every
   process is full at process_limit: warn (rate-limited) */
static void master_service_queued(struct evloop_io *io, int fd,
				  unsigned int events, void *context)
{
	struct master_service *service = context;
	uint64_t now = evloop_now_msecs(service->rt->loop);

	(void)io;
	(void)fd;
	(void)events;
	master_service_queue_disarm(service);
	if (!service->limit_warned ||
	    now - service->last_limit_warning_msecs >= MASTER_SERVICE_LIMIT_WARN_MSECS) {
		log_warning("service(%s): process_limit (%u) reached, "
			    "client connections are being queued",
			    service->name, service->process_limit);
		service->limit_warned = true;
		service->last_limit_warning_msecs = now;
		service->counters.limit_warnings++;
	}
	if (service->queue_rearm_timer == NULL) {
		uint64_t wait = MASTER_SERVICE_LIMIT_WARN_MSECS -
			(now - service->last_limit_warning_msecs);

		service->queue_rearm_timer =
			evloop_add_timer(service->rt->loop, wait,
					 master_service_queue_rearm, service);
	}
}

/* master_service_queue_arm - watch the listeners for waiting clients */
static void master_service_queue_arm(struct master_service *service)
{
	if (service->queue_ios != NULL || service->queue_rearm_timer != NULL ||
	    service->listeners.count == 0)
		return;
	service->queue_ios = xcalloc(service->listeners.count,
				     sizeof(*service->queue_ios));
	for (size_t i = 0; i < service->listeners.count; i++) {
		service->queue_ios[i] =
			evloop_add_io(service->rt->loop,
				      service->listeners.listeners[i].fd,
				      EVLOOP_READ, master_service_queued, service);
	}
}

/* master_service_adjust - start processes until enough are ready; watch
   for queued clients when the limit keeps them waiting */
static void master_service_adjust(struct master_service *service)
{
	unsigned int ready, floor = master_service_floor(service);

	if (service->rt->shutting_down)
		return;
	ready = master_service_ready(service, NULL);
	while (service->throttle_timer == NULL && ready < floor &&
	       service->process_count < service->process_limit) {
		if (!master_service_spawn(service))
			break;
		ready++;
	}
	if (ready == 0 && service->process_count >= service->process_limit)
		master_service_queue_arm(service);
	else
		master_service_queue_disarm(service);
}

static uint64_t master_service_idle_tick(const struct master_service *service);

/* master_service_idle_check - SIGTERM processes idle for idle_kill while
   more than the minimum of ready processes exist */
static int64_t master_service_idle_check(struct evloop_timer *timer,
					 void *context)
{
	struct master_service *service = context;
	uint64_t now = evloop_now_msecs(service->rt->loop);
	unsigned int ready = master_service_ready(service, NULL);
	unsigned int floor = master_service_floor(service);

	(void)timer;
	if (service->rt->shutting_down)
		return MASTER_SERVICE_IDLE_TICK_MAX_MSECS;
	for (struct master_process *proc = service->rt->processes.head;
	     proc != NULL && ready > floor; proc = proc->next) {
		if (proc->service != service || proc->stopping ||
		    !master_service_proc_idle(service, proc) ||
		    now - proc->idle_since_msecs < service->idle_kill_msecs)
			continue;
		log_debug("service(%s): process %ld idle for %llu ms, stopping it",
			  service->name, (long)proc->pid,
			  (unsigned long long)(now - proc->idle_since_msecs));
		master_process_stop(proc);
		ready--;
	}
	return (int64_t)master_service_idle_tick(service);
}

/* master_service_idle_tick - how often idle processes are looked for */
static uint64_t master_service_idle_tick(const struct master_service *service)
{
	uint64_t tick = service->idle_kill_msecs / 2;

	if (tick < MASTER_SERVICE_IDLE_TICK_MIN_MSECS)
		tick = MASTER_SERVICE_IDLE_TICK_MIN_MSECS;
	if (tick > MASTER_SERVICE_IDLE_TICK_MAX_MSECS)
		tick = MASTER_SERVICE_IDLE_TICK_MAX_MSECS;
	return tick;
}

/* master_service_throttle_end - the back-off is over: start again */
static int64_t master_service_throttle_end(struct evloop_timer *timer,
					   void *context)
{
	struct master_service *service = context;

	(void)timer;
	service->throttle_timer = NULL;
	master_service_adjust(service);
	return EVLOOP_NOMORE;
}

static void master_service_throttle(struct master_service *service)
{
	unsigned int shift = service->failed_starts > MASTER_SERVICE_THROTTLE_AFTER ?
		service->failed_starts - MASTER_SERVICE_THROTTLE_AFTER : 0;
	unsigned int secs = shift >= 6 ? MASTER_SERVICE_THROTTLE_MAX_SECS :
		1U << shift;

	if (service->throttle_timer != NULL || service->rt->shutting_down)
		return;
	if (secs > MASTER_SERVICE_THROTTLE_MAX_SECS)
		secs = MASTER_SERVICE_THROTTLE_MAX_SECS;
	log_error("service(%s): command startup failed, throttling for %u secs",
		  service->name, secs);
	service->throttle_timer =
		evloop_add_timer(service->rt->loop, (uint64_t)secs * 1000,
				 master_service_throttle_end, service);
}

/* master_service_start - start what service keeps ready */
static void master_service_start(struct master_service *service)
{
	if (master_service_floor(service) == 0)
		log_info("service(%s): no listener and not type=startup: "
			 "no process is started", service->name);
	if (service->idle_kill_msecs > 0 && service->idle_timer == NULL)
		service->idle_timer =
			evloop_add_timer(service->rt->loop,
					 master_service_idle_tick(service),
					 master_service_idle_check, service);
	master_service_adjust(service);
}

void master_services_start(struct master_service_list *list)
{
	/* the log service first: the others' lines wait for it anyway,
	   but need not wait long */
	for (size_t i = 0; i < list->count; i++) {
		if (master_log_is_service(list->services[i]->name))
			master_service_start(list->services[i]);
	}
	for (size_t i = 0; i < list->count; i++) {
		if (!master_log_is_service(list->services[i]->name))
			master_service_start(list->services[i]);
	}
}

/* master_service_carry_counters - the service of successor with
   old's name takes over its counters */
static void master_service_carry_counters(const struct master_service *old,
					  struct master_service_list *successor)
{
	for (size_t i = 0; successor != NULL && i < successor->count; i++) {
		if (strcmp(successor->services[i]->name, old->name) == 0) {
			successor->services[i]->counters = old->counters;
			return;
		}
	}
}

void master_services_retire(struct master_service_list *list,
			    struct master_service_list *successor)
{
	struct master_process_list *procs;

	if (list->count == 0)
		return;
	procs = &list->services[0]->rt->processes;
	for (struct master_process *proc = procs->head; proc != NULL;
	     proc = proc->next) {
		for (size_t i = 0; i < list->count; i++) {
			if (proc->service != list->services[i])
				continue;
			proc->service = NULL;
			list->services[i]->counters.connections_done += proc->served;
			master_process_retire(proc, master_config_is_loft_program(
				list->services[i]->argv[0]));
			list->services[i]->process_count--;
		}
	}
	for (size_t i = 0; i < list->count; i++) {
		master_service_timers_stop(list->services[i]);
		master_service_carry_counters(list->services[i], successor);
	}
}

void master_services_stop_throttling(struct master_service_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		master_service_timers_stop(list->services[i]);
}

/* master_service_note_exit - remember an unexpected exit for the status */
static void master_service_note_exit(struct master_service *service,
				     const struct master_process *proc,
				     int status)
{
	service->counters.restarts++;
	service->counters.last_exit_time = time(NULL);
	snprintf(service->counters.last_exit, sizeof(service->counters.last_exit),
		 "child %ld %s", (long)proc->pid,
		 master_process_describe_exit(status));
}

void master_service_process_exited(struct master_service *service,
				   const struct master_process *proc,
				   int status)
{
	uint64_t lived = evloop_now_msecs(service->rt->loop) - proc->start_msecs;
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	service->process_count--;
	service->counters.connections_done += proc->served;
	if (service->rt->shutting_down)
		return;
	if (proc->stopping) {
		master_service_adjust(service);
		return;
	}
	if (clean) {
		/* a planned exit (service_count reached) is no failure */
		service->failed_starts = 0;
	} else {
		master_service_note_exit(service, proc, status);
		if (lived < MASTER_SERVICE_FAILED_START_MSECS)
			service->failed_starts++;
		else
			service->failed_starts = 0;
	}
	if (service->failed_starts >= MASTER_SERVICE_THROTTLE_AFTER)
		master_service_throttle(service);
	else
		master_service_adjust(service);
}

void master_service_status_foreach(const struct master_service_list *list,
				   master_service_status_callback_t *cb,
				   void *context)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct master_service *service = list->services[i];
		struct master_service_status st;

		memset(&st, 0, sizeof(st));
		st.name = service->name;
		st.processes = service->process_count;
		st.processes_available =
			master_service_ready(service, &st.client_slots_available);
		st.process_limit = service->process_limit;
		st.client_limit = service->client_limit;
		st.process_min_avail = service->process_min_avail;
		st.service_count = service->service_count;
		st.idle_kill_msecs = service->idle_kill_msecs;
		st.vsz_limit = service->vsz_limit;
		st.throttled = service->throttle_timer != NULL;
		st.failed_starts = service->failed_starts;
		st.connections_total = service->counters.connections_done;
		for (const struct master_process *proc = service->rt->processes.head;
		     proc != NULL; proc = proc->next) {
			if (proc->service == service)
				st.connections_total += proc->served;
		}
		st.counters = &service->counters;
		cb(&st, context);
	}
}
