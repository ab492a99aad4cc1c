/*
 * master_service - services at run time: preparing them from a config
 * generation, keeping their process pools full and throttling a service
 * whose processes keep dying at start-up (see master_service.h).
 */
#include "master_service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "master_error.h"
#include "xalloc.h"

static char *master_service_error;

/* master_service_fail - keep the formatted error and return -1 */
static int master_service_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int master_service_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;
	int ret;

	va_start(args, fmt);
	ret = master_error_vfail(&master_service_error, error_r, fmt, args);
	va_end(args);
	return ret;
}

/* master_service_free_one - close listeners, cancel the timer, free */
static void master_service_free_one(struct master_service **_service,
				    bool commit)
{
	struct master_service *service = *_service;

	*_service = NULL;
	if (commit)
		master_listeners_close(&service->listeners);
	else
		master_listeners_abort(&service->listeners);
	if (service->throttle_timer != NULL)
		evloop_remove_timer(&service->throttle_timer);
	master_config_argv_free(&service->argv);
	free(service->listeners_env);
	free(service->name);
	free(service);
}

/* master_service_pool_size - how many processes svc runs */
static unsigned int
master_service_pool_size(const struct loft_settings *set,
			 const struct service_settings *svc)
{
	unsigned int limit = svc->process_limit != 0 ? svc->process_limit :
		set->default_process_limit;
	unsigned int count = svc->process_min_avail > 0 ? svc->process_min_avail : 1;

	return limit != 0 && count > limit ? limit : count;
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
	struct master_service *service = xcalloc(1, sizeof(*service));

	service->rt = rt;
	service->name = xstrdup(svc->name);
	service->argv = master_config_argv(svc);
	service->process_target = master_service_pool_size(set, svc);
	if (access(service->argv[0], X_OK) < 0) {
		master_service_fail(error_r, "service(%s): executable %s: %s",
				    svc->name, service->argv[0], strerror(errno));
		master_service_free_one(&service, false);
		return -1;
	}
	service->config_fd = master_config_snapshot(config, svc, error_r);
	if (service->config_fd < 0 ||
	    master_listeners_open(svc, set->base_dir, set->listen, old_sets,
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
		master_listeners_commit(&list->services[i]->listeners);
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

/* master_service_throttle - delay the next start after failed starts */
static void master_service_throttle(struct master_service *service);

/* master_service_fill - start processes until the pool is full */
static void master_service_fill(struct master_service *service)
{
	struct master_runtime *rt = service->rt;
	int fds_small[8], *fds = fds_small;
	size_t nfds = service->listeners.count;

	if (rt->shutting_down || service->throttle_timer != NULL)
		return;
	if (nfds > LOFT_N_ELEMENTS(fds_small))
		fds = xcalloc(nfds, sizeof(*fds));
	for (size_t i = 0; i < nfds; i++)
		fds[i] = service->listeners.listeners[i].fd;
	while (service->process_count < service->process_target) {
		struct master_process_spec spec = {
			.service_name = service->name,
			.argv = service->argv,
			.config_fd = service->config_fd,
			.master_fd = rt->master_fd,
			.listener_fds = fds,
			.listener_count = nfds,
			.listeners_env = service->listeners_env,
		};
		struct master_process *proc;
		const char *error;

		if (master_process_spawn(&rt->processes, &spec, service,
					 evloop_now_msecs(rt->loop), &proc,
					 &error) < 0) {
			log_error("%s", error);
			service->failed_starts++;
			master_service_throttle(service);
			break;
		}
		service->process_count++;
		log_info("service(%s): process %ld started", service->name,
			 (long)proc->pid);
	}
	if (fds != fds_small)
		free(fds);
}

/* master_service_throttle_end - the back-off is over: start again */
static int64_t master_service_throttle_end(struct evloop_timer *timer,
					   void *context)
{
	struct master_service *service = context;

	(void)timer;
	service->throttle_timer = NULL;
	master_service_fill(service);
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

void master_services_start(struct master_service_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		master_service_fill(list->services[i]);
}

void master_services_retire(struct master_service_list *list)
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
			master_process_stop(proc);
			list->services[i]->process_count--;
		}
	}
}

void master_services_stop_throttling(struct master_service_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		if (list->services[i]->throttle_timer != NULL)
			evloop_remove_timer(&list->services[i]->throttle_timer);
	}
}

void master_service_process_exited(struct master_service *service,
				   const struct master_process *proc)
{
	uint64_t lived = evloop_now_msecs(service->rt->loop) - proc->start_msecs;

	service->process_count--;
	if (proc->stopping || service->rt->shutting_down)
		return;
	if (lived < MASTER_SERVICE_FAILED_START_MSECS)
		service->failed_starts++;
	else
		service->failed_starts = 0;
	if (service->failed_starts >= MASTER_SERVICE_THROTTLE_AFTER)
		master_service_throttle(service);
	else
		master_service_fill(service);
}
