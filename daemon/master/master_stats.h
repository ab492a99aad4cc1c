/*
 * master_stats - loftd's channel to loft-stats: every
 * MASTER_STATS_INTERVAL_MSECS (and right after a change) it reports each
 * service's processes, limits, restarts and listeners, which loft-stats
 * serves as loft_service_processes, loft_service_restarts_total,
 * /api/v1/services and /healthz; and it carries out the master commands
 * (reload, log-reopen) asked for through loftadm or the HTTP API. Like every reporter it never waits for loft-stats.
 */
#ifndef LOFT_MASTER_STATS_H
#define LOFT_MASTER_STATS_H

#include <stdint.h>

#include "evloop.h"
#include "master_service.h"

#define MASTER_STATS_INTERVAL_MSECS 2000

struct master_stats;

struct master_stats_callbacks {
	/* the service list now */
	const struct master_service_list *(*services)(void *context);
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
/* master_stats_reloaded - count a reload for loft_config_reloads_total */
void master_stats_reloaded(struct master_stats *stats, bool ok);

#endif
