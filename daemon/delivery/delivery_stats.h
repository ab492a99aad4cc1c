/*
 * delivery_stats - hand the delivery core's records and the process's log
 * lines to loft-stats: every delivery outcome (with its storage time),
 * every userdb/storage timing, warnings and errors with their text, and a
 * count of the other log lines. Used by loft-lmtp and loft-lda alike, so
 * both report the same way. Never blocks (stats_client drops and counts).
 */
#ifndef LOFT_DELIVERY_STATS_H
#define LOFT_DELIVERY_STATS_H

#include "stats_client.h"

/* delivery_stats_install - report through client as service ("lmtp",
   "lda") from now on: installs the delivery hooks and log forwarding */
void delivery_stats_install(struct stats_client *client, const char *service);
/* delivery_stats_flush_counts - send the counts of info/debug lines
   collected since the last call (call periodically and before exit) */
void delivery_stats_flush_counts(void);
/* delivery_stats_uninstall - stop reporting (before freeing the client) */
void delivery_stats_uninstall(void);

#endif
