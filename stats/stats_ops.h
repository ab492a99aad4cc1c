/*
 * stats_ops - the questions loft-stats answers, shared by the HTTP API,
 * the /doveadm/v1 shape and the admin socket. JSON results are owned by
 * the caller. Each function takes the server lock; none blocks, except
 * that a master command's answer arrives later through its wait.
 */
#ifndef LOFT_STATS_OPS_H
#define LOFT_STATS_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "stats_private.h"

json_object *stats_ops_who(struct stats_server *server,
			   const struct stats_filter *filter, bool per_session);
/* stats_ops_kick - end the matching sessions (their processes answer
   421 4.3.2): {"count": n, "kicked": [{session, service, pid, user, ip}]} */
json_object *stats_ops_kick(struct stats_server *server,
			    const struct stats_filter *filter);
/* stats_ops_metrics - the exposition text (xmalloc'ed) */
char *stats_ops_metrics(struct stats_server *server, bool openmetrics);
json_object *stats_ops_stats(struct stats_server *server);
json_object *stats_ops_stats_reset(struct stats_server *server);
json_object *stats_ops_deliveries(struct stats_server *server,
				  const struct stats_journal_query *q);
json_object *stats_ops_errors(struct stats_server *server, uint64_t since,
			      unsigned int limit);
json_object *stats_ops_services(struct stats_server *server);
/* stats_ops_healthz - loftd connected and reporting, every service with
   listeners up */
json_object *stats_ops_healthz(struct stats_server *server, bool *ok_r);
/* stats_ops_debug - run-time debug logging on/off for a user mask */
json_object *stats_ops_debug(struct stats_server *server, const char *mask,
			     bool on);
/* stats_ops_master_connected - loftd is connected (it may go at once) */
bool stats_ops_master_connected(struct stats_server *server);
/* stats_ops_master_command - ask loftd ("reload", "log-reopen"); the
   answer completes wait (see struct stats_master_wait). -1 when loftd is
   not connected (wait untouched). */
int stats_ops_master_command(struct stats_server *server, const char *command,
			     struct stats_master_wait *wait);
/* stats_ops_log_test - one line at each level */
void stats_ops_log_test(struct stats_server *server);

#endif
