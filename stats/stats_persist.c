/*
 * stats_persist - loft-stats' disk journal in place (see stats_persist.h):
 * opens the store under state_dir after the privilege drop, hands it
 * every record of the in-memory journal and recent errors, turns its
 * counters into metrics and a rate-limited recent error, and closes it.
 */
#include "stats_persist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "stats_json.h"
#include "xalloc.h"

/* at most one recent error about the journal per minute */
#define STATS_PERSIST_REPORT_USECS (60ULL * 1000000)

void stats_persist_open(struct stats_server *server)
{
	const struct loft_settings *set = server->set;
	struct stats_store_settings store_set = {
		.max_age_usecs = set->stats_journal_max_age * 1000,
		.max_size = set->stats_journal_max_size,
	};
	struct stats_store *store;
	const char *error;
	char *path;

	if (set->state_dir == NULL || set->state_dir[0] == '\0') {
		log_info("delivery journal: in memory only, the last %u "
			 "(state_dir is empty)", set->stats_journal_size);
		return;
	}
	/* loftd creates it; loft-stats started by hand may have to */
	if (mkdir(set->state_dir, 0750) < 0 && errno != EEXIST)
		log_warning("delivery journal: mkdir(%s) failed: %m",
			    set->state_dir);
	path = xasprintf("%s/%s", set->state_dir, STATS_STORE_FILE_NAME);
	store_set.path = path;
	if (stats_store_create(&store_set, &store, &error) < 0) {
		log_error("delivery journal: %s: %s (in memory only)", path,
			  error);
		free(path);
		return;
	}
	log_info("delivery journal: %s (max age %" PRIu64 " s, max size %"
		 PRIu64 " bytes)", path, set->stats_journal_max_age / 1000,
		 set->stats_journal_max_size);
	free(path);
	pthread_mutex_lock(&server->lock);
	server->store = store;
	stats_journal_set_sink(server->journal, stats_store_delivery_sink,
			       store);
	stats_errors_set_sink(server->errors, stats_store_error_sink, store);
	pthread_mutex_unlock(&server->lock);
}

void stats_persist_poll(struct stats_server *server)
{
	struct stats_store_counters now;
	struct stats_store_counters *seen = &server->journal_seen;
	uint64_t t;

	if (server->store == NULL)
		return;
	stats_store_get_counters(server->store, &now);
	stats_metrics_journal(server->metrics, now.written - seen->written,
			      now.dropped - seen->dropped,
			      now.write_failures - seen->write_failures);
	server->journal_unreported_dropped += now.dropped - seen->dropped;
	server->journal_unreported_failures +=
		now.write_failures - seen->write_failures;
	*seen = now;
	if (server->journal_unreported_dropped == 0 &&
	    server->journal_unreported_failures == 0)
		return;
	t = clock_realtime_usecs();
	if (server->journal_reported_usecs != 0 &&
	    t - server->journal_reported_usecs < STATS_PERSIST_REPORT_USECS)
		return;
	/* through loft-stats' own log: it becomes a recent error, too */
	log_error("delivery journal: %" PRIu64 " records not written, %"
		  PRIu64 " failed opens or writes: %s",
		  server->journal_unreported_dropped,
		  server->journal_unreported_failures,
		  now.last_error[0] != '\0' ? now.last_error : "(no reason)");
	server->journal_reported_usecs = t;
	server->journal_unreported_dropped = 0;
	server->journal_unreported_failures = 0;
}

void stats_persist_close(struct stats_server *server)
{
	struct stats_store *store;

	pthread_mutex_lock(&server->lock);
	store = server->store;
	server->store = NULL;
	stats_journal_set_sink(server->journal, NULL, NULL);
	stats_errors_set_sink(server->errors, NULL, NULL);
	pthread_mutex_unlock(&server->lock);
	stats_store_free(&store);
}

/* stats_persist_store - the store, if any (taken under the lock; it lives
   until stats_persist_close, after the HTTP thread and admin clients) */
static struct stats_store *stats_persist_store(struct stats_server *server)
{
	struct stats_store *store;

	pthread_mutex_lock(&server->lock);
	store = server->store;
	pthread_mutex_unlock(&server->lock);
	return store;
}

json_object *stats_persist_deliveries(struct stats_server *server,
				      const struct stats_journal_query *q)
{
	struct stats_store *store = stats_persist_store(server);
	struct stats_journal_query ring_q = *q;
	json_object *disk = NULL, *list;
	const char *error;

	/* the disk first, outside the lock: the ring then adds what the
	   disk did not have in the snapshot the query read */
	if (store != NULL &&
	    stats_store_query_deliveries(store, q, &disk, &ring_q.after_seq,
					 &error) < 0) {
		log_debug("delivery journal: %s (answering from memory)", error);
		ring_q.after_seq = 0;
	}
	pthread_mutex_lock(&server->lock);
	list = stats_journal_query(server->journal, &ring_q);
	pthread_mutex_unlock(&server->lock);
	if (disk != NULL) {
		stats_json_array_append(list, disk, stats_journal_query_limit(q));
		json_object_put(disk);
	}
	return list;
}

json_object *stats_persist_errors(struct stats_server *server, uint64_t since,
				  unsigned int limit)
{
	struct stats_store *store = stats_persist_store(server);
	json_object *disk = NULL, *list;
	uint64_t after_seq = 0;
	const char *error;

	if (store != NULL &&
	    stats_store_query_errors(store, since, limit, &disk, &after_seq,
				     &error) < 0) {
		log_debug("delivery journal: %s (answering from memory)", error);
		after_seq = 0;
	}
	pthread_mutex_lock(&server->lock);
	list = stats_errors_query_after(server->errors, since, limit, after_seq);
	pthread_mutex_unlock(&server->lock);
	if (disk != NULL) {
		stats_json_array_append(list, disk, limit > 0 ? limit :
					STATS_ERRORS_DEFAULT_LIMIT);
		json_object_put(disk);
	}
	return list;
}
