/*
 * master_stats - loftd reporting to loft-stats (see master_stats.h).
 */
#include "master_stats.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "master_usage.h"
#include "stats_client.h"
#include "stats_report.h"
#include "xalloc.h"

struct master_stats {
	struct evloop *loop;
	struct stats_client *client;
	struct evloop_timer *timer;
	struct master_stats_callbacks cb;
	struct master_usage *usage;
	uint64_t start_usecs;
	uint64_t reloads_ok, reloads_failed;
	uint64_t last_reload_ok_usecs;	/* start-up counts as the first */
};

/* service_status - one service into its message (strings borrowed) */
static void service_status(const struct master_service *svc,
			   const struct master_runtime *rt,
			   Loft__ServiceStatus *msg, char ***listeners_r,
			   uint32_t **pids_r)
{
	char **listeners = xcalloc(svc->listeners.count + 1, sizeof(char *));
	/* the live ones first, then the retired ones of its name */
	uint32_t *pids = xcalloc(rt->processes.count + 1, sizeof(uint32_t));
	size_t n = 0, retired = 0;

	for (size_t i = 0; i < svc->listeners.count; i++) {
		const struct master_listener *l = &svc->listeners.listeners[i];

		listeners[i] = xasprintf("%s:%s", l->type == LISTENER_INET ?
					 "inet" : l->type == LISTENER_FIFO ?
					 "fifo" : "unix", l->desc);
	}
	for (const struct master_process *p = rt->processes.head; p != NULL;
	     p = p->next) {
		if (p->service == svc && !p->stopping)
			pids[n++] = (uint32_t)p->pid;
	}
	/* a new loft-stats waits for these to announce the slots they
	   hold (stats_resume.h) */
	for (const struct master_process *p = rt->processes.head; p != NULL;
	     p = p->next) {
		if (p->service == NULL && p->retired &&
		    strcmp(p->service_name, svc->name) == 0)
			pids[n + retired++] = (uint32_t)p->pid;
	}
	msg->name = svc->name;
	msg->processes = (uint32_t)n;
	msg->process_limit = svc->process_limit;
	msg->client_limit = svc->client_limit;
	msg->restarts = svc->counters.restarts;
	msg->n_listeners = svc->listeners.count;
	msg->listeners = listeners;
	/* up: it has a process, or it is meant to start on demand */
	msg->up = n > 0 || (!svc->startup && svc->process_min_avail == 0 &&
			    svc->failed_starts < MASTER_SERVICE_THROTTLE_AFTER);
	msg->n_pids = n;
	msg->pids = pids;
	msg->n_retired_pids = retired;
	msg->retired_pids = pids + n;
	*listeners_r = listeners;
	*pids_r = pids;
}

static void master_stats_send(struct master_stats *stats)
{
	const struct master_service_list *list = stats->cb.services(stats->cb.context);
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__MasterStatus msg = LOFT__MASTER_STATUS__INIT;
	Loft__ServiceStatus *items, **ptrs;
	char ***listeners;
	uint32_t **pids;

	items = xcalloc(list->count + 1, sizeof(*items));
	ptrs = xcalloc(list->count + 1, sizeof(*ptrs));
	listeners = xcalloc(list->count + 1, sizeof(*listeners));
	pids = xcalloc(list->count + 1, sizeof(*pids));
	for (size_t i = 0; i < list->count; i++) {
		Loft__ServiceStatus init = LOFT__SERVICE_STATUS__INIT;

		items[i] = init;
		service_status(list->services[i], list->services[i]->rt,
			       &items[i], &listeners[i], &pids[i]);
		ptrs[i] = &items[i];
	}
	msg.pid = (uint32_t)getpid();
	msg.start_usecs = stats->start_usecs;
	msg.n_services = list->count;
	msg.services = ptrs;
	msg.has_reloads_ok = msg.has_reloads_failed = true;
	msg.reloads_ok = stats->reloads_ok;
	msg.reloads_failed = stats->reloads_failed;
	msg.has_last_reload_ok_usecs = true;
	msg.last_reload_ok_usecs = stats->last_reload_ok_usecs;
	master_usage_sample(stats->usage, stats->cb.processes(stats->cb.context),
			    clock_monotonic_msecs());
	master_usage_fill(stats->usage, &msg);
	env.body_case = LOFT__ENVELOPE__BODY_MASTER_STATUS;
	env.master_status = &msg;
	stats_client_send(stats->client, &env);
	for (size_t i = 0; i < list->count; i++) {
		for (size_t j = 0; j < items[i].n_listeners; j++)
			free(listeners[i][j]);
		free(listeners[i]);
		free(pids[i]);
	}
	free(listeners);
	free(pids);
	free(ptrs);
	free(items);
}

static int64_t master_stats_tick(struct evloop_timer *timer, void *context)
{
	struct master_stats *stats = context;

	(void)timer;
	master_stats_send(stats);
	stats_report_log_write_failures(stats->client, "master");
	return MASTER_STATS_INTERVAL_MSECS;
}

void master_stats_changed(struct master_stats *stats)
{
	if (stats == NULL)
		return;
	master_usage_refresh(stats->usage);
	evloop_timer_reset(stats->timer, 0);
}

void master_stats_reloaded(struct master_stats *stats, bool ok)
{
	if (stats == NULL)
		return;
	if (ok) {
		stats->reloads_ok++;
		stats->last_reload_ok_usecs = clock_realtime_usecs();
	} else {
		stats->reloads_failed++;
	}
	master_stats_changed(stats);
}

void master_stats_process_reaped(struct master_stats *stats,
				 const struct master_process *proc,
				 const struct rusage *ru)
{
	if (stats != NULL)
		master_usage_reaped(stats->usage, proc, ru);
}

/* answer - the result of a master command, by its id */
static void answer(struct master_stats *stats, uint64_t id, bool ok,
		   const char *error)
{
	Loft__Envelope reply = LOFT__ENVELOPE__INIT;
	Loft__ReloadResult result = LOFT__RELOAD_RESULT__INIT;

	result.id = id;
	result.ok = ok;
	result.error = ok ? NULL : (char *)error;
	reply.body_case = LOFT__ENVELOPE__BODY_RELOAD_RESULT;
	reply.reload_result = &result;
	stats_client_send_urgent(stats->client, &reply);
}

/* run_command - "reload" or "log-reopen" for loftadm / the HTTP API */
static void run_command(struct master_stats *stats, uint64_t id,
			const char *command)
{
	const char *error = NULL;

	if (strcmp(command, "reload") == 0) {
		bool ok;

		log_info("reload requested through loft-stats");
		ok = stats->cb.reload(stats->cb.context, &error) == 0;
		answer(stats, id, ok, error);
	} else if (strcmp(command, "log-reopen") == 0) {
		stats->cb.log_reopen(stats->cb.context);
		answer(stats, id, true, NULL);
	} else {
		answer(stats, id, false, "unknown master command");
	}
}

static void on_message(const Loft__Envelope *env, void *context)
{
	struct master_stats *stats = context;

	switch (env->body_case) {
	case LOFT__ENVELOPE__BODY_MASTER_COMMAND:
		run_command(stats, env->master_command->id,
			    env->master_command->command);
		break;
	case LOFT__ENVELOPE__BODY_RELOAD_REQUEST:
		run_command(stats, env->reload_request->id, "reload");
		break;
	default:
		log_warning("loft-stats sent an unexpected %s message",
			    ipc_envelope_body_name(env->body_case));
		break;
	}
}

/* on_log - loftd's own warnings and errors go to loft-stats' recent
   errors like every service's (other levels are only counted there by
   the services; loftd logs few lines) */
static void on_log(enum log_level level, uint64_t ts_usecs, const char *session,
		   const char *user, const char *msg, void *context)
{
	struct master_stats *stats = context;

	if (level >= LOG_LEVEL_WARNING)
		stats_report_log(stats->client, level, ts_usecs, "master",
				 session, user, msg);
}

static void on_connect(struct stats_client *client, void *context)
{
	(void)client;
	master_stats_send(context);
}

struct master_stats *master_stats_create(struct evloop *loop,
					 const char *base_dir,
					 const struct master_stats_callbacks *cb)
{
	struct master_stats *stats = xcalloc(1, sizeof(*stats));
	char *path = xasprintf("%s/stats-writer", base_dir);

	stats->loop = loop;
	stats->cb = *cb;
	stats->start_usecs = clock_realtime_usecs();
	stats->last_reload_ok_usecs = stats->start_usecs;
	stats->usage = master_usage_create();
	stats->client = stats_client_create(loop, path, LOFT__ROLE__ROLE_MASTER,
					    "master");
	free(path);
	stats_client_set_handler(stats->client, on_message, stats);
	stats_client_set_connect_callback(stats->client, on_connect, stats);
	stats->timer = evloop_add_timer(loop, MASTER_STATS_INTERVAL_MSECS,
					master_stats_tick, stats);
	log_set_forward(on_log, stats);
	/* at once, not on the timer: the stats-writer listener is loftd's,
	   so this waits in its backlog and loft-stats has the service table
	   from its first second (`service status`, the first scrape) */
	master_stats_send(stats);
	return stats;
}

void master_stats_free(struct master_stats **_stats)
{
	struct master_stats *stats = *_stats;

	if (stats == NULL)
		return;
	*_stats = NULL;
	log_set_forward(NULL, NULL);
	evloop_remove_timer(&stats->timer);
	stats_client_free(&stats->client);
	master_usage_free(&stats->usage);
	free(stats);
}
