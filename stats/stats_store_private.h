/*
 * stats_store_private - what the disk journal's writer (stats_store.c)
 * and its queries (stats_store_query.c) share: the store itself and a few
 * SQLite helpers. Not for other modules.
 */
#ifndef LOFT_STATS_STORE_PRIVATE_H
#define LOFT_STATS_STORE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>

#include <sqlite3.h>

#include "stats_store.h"

/* how long a connection waits for a lock SQLite itself holds briefly */
#define STATS_STORE_BUSY_MSECS 2000

enum stats_store_kind { STATS_STORE_DELIVERY, STATS_STORE_ERROR };

struct stats_store_item {
	enum stats_store_kind kind;
	uint64_t seq;
	struct stats_delivery d;	/* owned copies of the strings */
	struct stats_error_record e;	/* the same */
};

struct stats_store_queue {
	struct stats_store_item *items;
	size_t count, size;
};

struct stats_store {
	char *path;
	struct stats_store_settings set;
	int64_t run;			/* this store's id in meta */
	pthread_t thread;

	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	/* guarded by lock */
	struct stats_store_queue queue;
	bool stopping;
	uint64_t queued, processed;	/* records accepted, then handled */
	struct stats_store_counters counters;

	/* the writer thread's */
	sqlite3 *db;
	sqlite3_stmt *ins_delivery, *ins_error, *set_meta;
	uint64_t next_open_msecs, next_retention_msecs;
	bool retention_more;
	int64_t retention_deleted;	/* rows, in this retention run */

	/* queries: one read connection, opened when first needed */
	pthread_mutex_t read_lock;
	sqlite3 *rdb;
};

/* stats_store_exec - run sql (no rows wanted) on db */
int stats_store_exec(sqlite3 *db, const char *sql);
/* stats_store_int - the first column of sql's first row, or fallback */
int64_t stats_store_int(sqlite3 *db, const char *sql, int64_t fallback);
/* stats_store_lower - ASCII lower-case copy of str into buf (cut) */
const char *stats_store_lower(const char *str, char *buf, size_t size);

#endif
