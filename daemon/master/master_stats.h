/*
 * master_stats - loftd's channel to loft-stats: every
 * MASTER_STATS_INTERVAL_MSECS (and right after a change) it reports each
 * service's processes, limits, restarts and listeners, which loft-stats
 * serves as loft_service_processes, loft_service_restarts_total,
 * /api/v1/services and /healthz, with what every loft process uses
 * (master_usage.h: process_* per service) and when the configuration was
 * last loaded successfully; and it carries out the master commands
 * (reload, log-reopen) asked for through loftadm or the HTTP API. Like
 * every reporter it never waits for loft-stats.
 */
#ifndef LOFT_MASTER_STATS_H
#define LOFT_MASTER_STATS_H

#include <stdint.h>
#include <sys/resource.h>

#include "evloop.h"
#include "master_process.h"
#include "master_service.h"

#define MASTER_STATS_INTERVAL_MSECS 2000

struct master_stats;

struct master_stats_callbacks {
	/* the service list now */
	const struct master_service_list *(*services)(void *context);
	/* every live child, retired ones included */
	struct master_process_list *(*processes)(void *context);
	/* reload the config: 0, or -1 with *error_r ("FILE:LINE: ...") */
	int (*reload)(void *context, const char **error_r);
	/* reopen the log files here and in every service */
	void (*log_reopen)(void *context);
	void *context;
};

struct master_stats *master_stats_create(struct evloop *loop,
					 const char *base_dir,
					 const struct master_stats_callbacks *cb);
void master_stats_free(struct master_stats **stats);
/* master_stats_changed - report at once (a reload, a process change) */
void master_stats_changed(struct master_stats *stats);
/* master_stats_reloaded - count a reload for loft_config_reloads_total
   (a good one is also loft_config_last_reload_success_timestamp_seconds) */
void master_stats_reloaded(struct master_stats *stats, bool ok);
/* master_stats_process_reaped - proc was reaped with ru (its CPU time
   stays in process_cpu_seconds_total); stats may be NULL */
void master_stats_process_reaped(struct master_stats *stats,
				 const struct master_process *proc,
				 const struct rusage *ru);

#endif
