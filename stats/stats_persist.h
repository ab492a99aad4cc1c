/*
 * stats_persist - the disk journal (stats_store.h) inside loft-stats:
 * where it lives (state_dir/journal.db), how the in-memory journal and
 * recent errors feed it, how its counters become metrics and recent
 * errors, and the queries that join disk and memory (the disk holds
 * everything written; the memory rings add what is not written yet, and
 * answer alone when there is no disk journal or it cannot be read).
 */
#ifndef LOFT_STATS_PERSIST_H
#define LOFT_STATS_PERSIST_H

#include <stdint.h>

#include <json-c/json.h>

#include "stats_private.h"

/* stats_persist_open - start the disk journal of server->set (after the
   privilege drop, so the file is the internal user's); logs where it is,
   or why there is none. Mail never depends on it. */
void stats_persist_open(struct stats_server *server);
/* stats_persist_poll - the store's counters into the metrics, and at most
   one error a minute when records were lost (lock held; loop thread) */
void stats_persist_poll(struct stats_server *server);
/* stats_persist_close - write what is queued and close */
void stats_persist_close(struct stats_server *server);
/* stats_persist_deliveries - deliveries matching q (not NULL), newest
   first: memory's unwritten ones, then the disk's; takes the lock */
json_object *stats_persist_deliveries(struct stats_server *server,
				      const struct stats_journal_query *q);
/* stats_persist_errors - recent errors the same way */
json_object *stats_persist_errors(struct stats_server *server, uint64_t since,
				  unsigned int limit);

#endif
