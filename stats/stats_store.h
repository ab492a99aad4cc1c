/*
 * stats_store - the disk journal: every delivery outcome and recent error
 * loft-stats hears of, in one SQLite file (WAL mode) under state_dir, so
 * that `loftadm deliveries` and /api/v1/{deliveries,errors} still find
 * them after a reload, a crash of loft-stats or a reboot.
 *
 * Threads. The sinks (stats_store_delivery_sink, stats_store_error_sink)
 * only copy a record into a bounded queue; they never touch the disk and
 * never wait. One writer thread owns the write connection: it opens the
 * file (again and again while it cannot), writes what is queued in one
 * transaction per batch and enforces the retention (age, then size).
 * Queries run on the caller's thread on their own read connection: in WAL
 * mode a reader never waits for the writer.
 *
 * Failures never reach mail: when the queue is full, or a write fails
 * (disk full, read-only, I/O error, corrupt file), the records are dropped
 * and counted (stats_store_get_counters), with the reason. A file that is
 * not a database or is corrupt is renamed to PATH.corrupt and a new one
 * started.
 */
#ifndef LOFT_STATS_STORE_H
#define LOFT_STATS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "stats_errors.h"
#include "stats_journal.h"

#define STATS_STORE_FILE_NAME "journal.db"
#define STATS_STORE_DEFAULT_QUEUE 20000
#define STATS_STORE_DEFAULT_RETENTION_MSECS 60000
#define STATS_STORE_DEFAULT_REOPEN_MSECS 1000
/* recent errors kept on disk at most (besides the age limit), so that a
   storm of errors cannot push the deliveries out under the size limit */
#define STATS_STORE_ERRORS_MAX_ROWS 100000
#define STATS_STORE_ERROR_SIZE 512

struct stats_store_settings {
	const char *path;		/* the SQLite file */
	uint64_t max_age_usecs;		/* 0: no age limit */
	uint64_t max_size;		/* bytes; 0: no size limit */
	unsigned int queue_max;		/* 0: STATS_STORE_DEFAULT_QUEUE */
	unsigned int retention_msecs;	/* 0: the default */
	unsigned int reopen_msecs;	/* after a failure; 0: the default */
};

struct stats_store_counters {
	uint64_t written;		/* records now on disk */
	uint64_t dropped;		/* records lost: queue full, write failed */
	uint64_t write_failures;	/* failed opens and batch writes */
	char last_error[STATS_STORE_ERROR_SIZE]; /* the last reason, or "" */
};

struct stats_store;

/* stats_store_create - start the writer thread for set->path (the file
   is opened by the thread; a failure shows in the counters). -1 with
   *error_r when the thread cannot be started. */
int stats_store_create(const struct stats_store_settings *set,
		       struct stats_store **store_r, const char **error_r);
/* stats_store_free - write what is queued, stop the thread, close; NULLs
   *store */
void stats_store_free(struct stats_store **store);

/* stats_store_delivery_sink - a stats_journal_sink_t: queue d (context
   is the store) */
void stats_store_delivery_sink(void *context, uint64_t seq,
			       const struct stats_delivery *d);
/* stats_store_error_sink - a stats_errors_sink_t: queue e */
void stats_store_error_sink(void *context, uint64_t seq,
			    const struct stats_error_record *e);

/* stats_store_flush - wait until every record queued before the call is
   written or dropped: 0, or -1 after timeout_msecs */
int stats_store_flush(struct stats_store *store, unsigned int timeout_msecs);
/* stats_store_queued - records waiting for the writer now */
size_t stats_store_queued(struct stats_store *store);
/* stats_store_get_counters - the counts so far */
void stats_store_get_counters(struct stats_store *store,
			      struct stats_store_counters *counters_r);

/* stats_store_query_deliveries - the deliveries on disk matching q (as
   stats_journal_query: newest first, at most its limit) into *list_r;
   *seq_r gets the sequence number of this store's last record on disk (0:
   none yet), so the caller adds the newer ones from the ring. -1 with
   *error_r when the file cannot be read (none yet, broken). */
int stats_store_query_deliveries(struct stats_store *store,
				 const struct stats_journal_query *q,
				 json_object **list_r, uint64_t *seq_r,
				 const char **error_r);
/* stats_store_query_errors - the same for recent errors with
   ts >= since_usecs, at most limit (0: STATS_ERRORS_DEFAULT_LIMIT) */
int stats_store_query_errors(struct stats_store *store, uint64_t since_usecs,
			     unsigned int limit, json_object **list_r,
			     uint64_t *seq_r, const char **error_r);

#endif
