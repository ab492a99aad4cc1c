/*
 * stats_store - the disk journal (see stats_store.h).
 *
 * Schema (version 1): `deliveries` has one row per outcome with the
 * fields of the JSON record plus lookup keys - msgid_key (the msgid
 * without <>), user_key and sender_key (ASCII lower case; the null sender
 * is "") - each indexed together with ts, so a lookup by key returns rows
 * newest first straight from its index; session, lower(result) and ts
 * have indexes too. A mask with a fixed prefix ("alice*") becomes a range on
 * its key; the SQL only narrows: every row is checked again with
 * stats_journal_match() (mask_match and all), so the disk answers exactly
 * as the ring does. `errors` holds the recent errors, `meta` the schema
 * version and, written in the same transaction as each batch, which run
 * of the store wrote last and its last sequence numbers: a query reads
 * them in the same snapshot as its rows and so knows which of the ring's
 * records are not on disk yet.
 */
#include "stats_store_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "error_slot.h"
#include "stats_json.h"
#include "xalloc.h"

#define STATS_STORE_SCHEMA_VERSION 2
/* rows one retention step deletes, so the queue is served in between */
#define STATS_STORE_DELETE_CHUNK 5000
#define STATS_STORE_WAL_LIMIT (64 * 1024 * 1024)

static const char stats_store_schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS deliveries ("
	" id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, service TEXT,"
	" pid INTEGER, session TEXT, user TEXT, user_key TEXT, msgid TEXT,"
	" msgid_key TEXT, from_hdr TEXT, envelope_from TEXT, sender_key TEXT,"
	" rcpt TEXT, orig_rcpt TEXT, mailbox TEXT, size INTEGER, vsize INTEGER,"
	" result TEXT, code INTEGER, enhanced_code TEXT, text TEXT,"
	" reason TEXT, duration_ms REAL, sieve TEXT, uid INTEGER);"
	"CREATE INDEX IF NOT EXISTS deliveries_ts ON deliveries (ts);"
	"CREATE INDEX IF NOT EXISTS deliveries_msgid ON deliveries (msgid_key, ts);"
	"CREATE INDEX IF NOT EXISTS deliveries_session ON deliveries (session, ts);"
	"CREATE INDEX IF NOT EXISTS deliveries_user ON deliveries (user_key, ts);"
	"CREATE INDEX IF NOT EXISTS deliveries_sender ON deliveries (sender_key, ts);"
	"CREATE INDEX IF NOT EXISTS deliveries_result ON deliveries (lower(result), ts);"
	"CREATE TABLE IF NOT EXISTS errors ("
	" id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, level INTEGER,"
	" service TEXT, pid INTEGER, session TEXT, user TEXT, msg TEXT);"
	"CREATE INDEX IF NOT EXISTS errors_ts ON errors (ts);"
	"INSERT OR IGNORE INTO meta VALUES ('schema', 2);";
/* version 1 to 2: the Sieve summary of a delivery, the uid it ran as */
static const char stats_store_upgrade_1[] =
	"ALTER TABLE deliveries ADD COLUMN sieve TEXT;"
	"ALTER TABLE deliveries ADD COLUMN uid INTEGER;"
	"UPDATE meta SET value = 2 WHERE key = 'schema';";

static const char stats_store_insert_delivery[] =
	"INSERT INTO deliveries (ts, service, pid, session, user, user_key,"
	" msgid, msgid_key, from_hdr, envelope_from, sender_key, rcpt,"
	" orig_rcpt, mailbox, size, vsize, result, code, enhanced_code, text,"
	" reason, duration_ms, sieve, uid) VALUES (?1, ?2, ?3, ?4, ?5, lower(?5),"
	" ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
	" ?21, ?22, ?23)";
static const char stats_store_insert_error[] =
	"INSERT INTO errors (ts, level, service, pid, session, user, msg)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static __thread struct error_slot stats_store_error_slot;

/* stats_store_now_msecs - monotonic milliseconds */
static uint64_t stats_store_now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* stats_store_fail - remember why the writer failed (count is how many
   records went with it) */
static void stats_store_fail(struct stats_store *store, uint64_t count,
			     const char *what, int rc, const char *detail)
{
	pthread_mutex_lock(&store->lock);
	store->counters.write_failures++;
	store->counters.dropped += count;
	/* a long path or message is cut: the reason is what counts */
	if (snprintf(store->counters.last_error,
		     sizeof(store->counters.last_error), "%s: %s: %s (%s)",
		     store->path, what, detail, sqlite3_errstr(rc)) < 0)
		store->counters.last_error[0] = '\0';
	pthread_mutex_unlock(&store->lock);
}

/* stats_store_item_free - the strings of a queued record */
static void stats_store_item_free(struct stats_store_item *item)
{
	if (item->kind == STATS_STORE_DELIVERY) {
		stats_journal_delivery_clear(&item->d);
		return;
	}
	free((char *)item->e.service);
	free((char *)item->e.session);
	free((char *)item->e.user);
	free((char *)item->e.text);
}

/* stats_store_enqueue - a zeroed slot for one record of kind, or NULL
   when the queue is full (counted); the writer is woken when the caller
   releases the lock; lock held */
static struct stats_store_item *stats_store_enqueue(struct stats_store *store,
						    enum stats_store_kind kind,
						    uint64_t seq)
{
	struct stats_store_item *item;
	struct stats_store_queue *q = &store->queue;

	if (q->count >= store->set.queue_max) {
		store->counters.dropped++;
		snprintf(store->counters.last_error,
			 sizeof(store->counters.last_error),
			 "%s: the writer is behind, queue of %u records full",
			 store->path, store->set.queue_max);
		return NULL;
	}
	if (q->count == q->size) {
		q->size = q->size == 0 ? 256 : q->size * 2;
		q->items = xreallocarray(q->items, q->size, sizeof(*q->items));
	}
	store->queued++;
	item = &q->items[q->count++];
	memset(item, 0, sizeof(*item));
	item->kind = kind;
	item->seq = seq;
	pthread_cond_signal(&store->wake);
	return item;
}

void stats_store_delivery_sink(void *context, uint64_t seq,
			       const struct stats_delivery *d)
{
	struct stats_store *store = context;
	struct stats_store_item *item;

	pthread_mutex_lock(&store->lock);
	item = stats_store_enqueue(store, STATS_STORE_DELIVERY, seq);
	if (item != NULL)
		stats_journal_delivery_copy(&item->d, d);
	pthread_mutex_unlock(&store->lock);
}

/* stats_store_strdup - xstrdup that keeps NULL */
static const char *stats_store_strdup(const char *str)
{
	return str != NULL ? xstrdup(str) : NULL;
}

void stats_store_error_sink(void *context, uint64_t seq,
			    const struct stats_error_record *e)
{
	struct stats_store *store = context;
	struct stats_store_item *item;

	pthread_mutex_lock(&store->lock);
	item = stats_store_enqueue(store, STATS_STORE_ERROR, seq);
	if (item != NULL) {
		item->e = *e;
		item->e.service = stats_store_strdup(e->service);
		item->e.session = stats_store_strdup(e->session);
		item->e.user = stats_store_strdup(e->user);
		item->e.text = xstrdup(e->text != NULL ? e->text : "");
	}
	pthread_mutex_unlock(&store->lock);
}

/* ---- the writer thread ---- */

int stats_store_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int64_t stats_store_int(sqlite3 *db, const char *sql, int64_t fallback)
{
	sqlite3_stmt *stmt;
	int64_t value = fallback;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return fallback;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

/* stats_store_close_writer - finalize and close the write connection */
static void stats_store_close_writer(struct stats_store *store)
{
	sqlite3_finalize(store->ins_delivery);
	sqlite3_finalize(store->ins_error);
	sqlite3_finalize(store->set_meta);
	store->ins_delivery = store->ins_error = store->set_meta = NULL;
	if (store->db != NULL)
		sqlite3_close(store->db);
	store->db = NULL;
}

/* stats_store_is_corrupt - an answer that means the file is no good */
static bool stats_store_is_corrupt(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* stats_store_set_aside - move a corrupt file (and its WAL) out of the
   way as PATH.corrupt, so a new journal can start */
static void stats_store_set_aside(struct stats_store *store)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char from[4096], to[4096];

	for (size_t i = 0; i < LOFT_N_ELEMENTS(suffixes); i++) {
		snprintf(from, sizeof(from), "%s%s", store->path, suffixes[i]);
		snprintf(to, sizeof(to), "%s.corrupt%s", store->path,
			 suffixes[i]);
		if (rename(from, to) < 0 && errno != ENOENT)
			(void)unlink(from);
	}
}

/* stats_store_try_open - open (or create) the file and prepare the
   writer's statements; SQLITE_OK or the failing code with *what_r */
static int stats_store_try_open(struct stats_store *store,
				const char **what_r)
{
	char pragmas[256];
	int rc;

	*what_r = "open";
	rc = sqlite3_open_v2(store->path, &store->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return rc;
	/* the journal names users and senders: owner only */
	(void)chmod(store->path, 0600);
	sqlite3_busy_timeout(store->db, STATS_STORE_BUSY_MSECS);
	/* auto_vacuum only takes before the first table exists */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA auto_vacuum = INCREMENTAL;"
		 "PRAGMA journal_mode = WAL;"
		 "PRAGMA synchronous = NORMAL;"
		 "PRAGMA journal_size_limit = %d;", STATS_STORE_WAL_LIMIT);
	*what_r = "set up";
	if ((rc = stats_store_exec(store->db, pragmas)) != SQLITE_OK)
		return rc;
	*what_r = "create the schema";
	rc = stats_store_exec(store->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = stats_store_exec(store->db, stats_store_schema);
	if (rc == SQLITE_OK &&
	    stats_store_int(store->db, "SELECT value FROM meta WHERE key = 'schema'",
			    0) == 1)
		rc = stats_store_exec(store->db, stats_store_upgrade_1);
	if (rc == SQLITE_OK)
		rc = stats_store_exec(store->db, "COMMIT");
	if (rc != SQLITE_OK) {
		(void)stats_store_exec(store->db, "ROLLBACK");
		return rc;
	}
	if (stats_store_int(store->db, "SELECT value FROM meta WHERE key = 'schema'",
			    0) != STATS_STORE_SCHEMA_VERSION) {
		*what_r = "schema version";
		return SQLITE_MISMATCH;
	}
	*what_r = "prepare";
	rc = sqlite3_prepare_v2(store->db, stats_store_insert_delivery, -1,
				&store->ins_delivery, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store->db, stats_store_insert_error, -1,
					&store->ins_error, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store->db,
			"INSERT OR REPLACE INTO meta VALUES (?1, ?2)", -1,
			&store->set_meta, NULL);
	return rc;
}

/* stats_store_open - the write connection, when it is time to try; a
   corrupt file is set aside and a new one started at once */
static bool stats_store_open(struct stats_store *store)
{
	const char *what;
	char detail[STATS_STORE_ERROR_SIZE];
	int rc;

	if (store->db != NULL)
		return true;
	if (stats_store_now_msecs() < store->next_open_msecs)
		return false;
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = stats_store_try_open(store, &what);
		if (rc == SQLITE_OK) {
			store->next_retention_msecs = 0;
			return true;
		}
		snprintf(detail, sizeof(detail), "%s",
			 store->db != NULL ? sqlite3_errmsg(store->db) :
			 "cannot open");
		stats_store_close_writer(store);
		if (!stats_store_is_corrupt(rc) || attempt > 0)
			break;
		stats_store_fail(store, 0, "corrupt, set aside as .corrupt",
				 rc, detail);
		stats_store_set_aside(store);
	}
	stats_store_fail(store, 0, what, rc, detail);
	store->next_open_msecs = stats_store_now_msecs() + store->set.reopen_msecs;
	return false;
}

/* stats_store_bind_text - text or NULL */
static void stats_store_bind_text(sqlite3_stmt *stmt, int col, const char *str)
{
	if (str == NULL)
		sqlite3_bind_null(stmt, col);
	else
		sqlite3_bind_text(stmt, col, str, -1, SQLITE_STATIC);
}

const char *stats_store_lower(const char *str, char *buf, size_t size)
{
	size_t i;

	for (i = 0; str[i] != '\0' && i + 1 < size; i++)
		buf[i] = str[i] >= 'A' && str[i] <= 'Z' ? str[i] - 'A' + 'a' :
			str[i];
	buf[i] = '\0';
	return buf;
}

/* stats_store_sender_key - the envelope sender as sender_key: lower
   case, the null sender (NULL, "", "<>") as "" */
static const char *stats_store_sender_key(const char *sender, char *buf,
					  size_t size)
{
	if (sender == NULL || strcmp(sender, "<>") == 0)
		sender = "";
	return stats_store_lower(sender, buf, size);
}

/* stats_store_step - run an insert and make s ready for the next */
static int stats_store_step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* stats_store_write_delivery - one row */
static int stats_store_write_delivery(struct stats_store *store,
				      const struct stats_delivery *d)
{
	sqlite3_stmt *s = store->ins_delivery;
	char sender_key[STATS_JSON_MAX_STRING + 1];
	const char *key = NULL;
	size_t key_len = 0;

	if (d->msgid != NULL)
		key = stats_journal_msgid_key(d->msgid, &key_len);
	sqlite3_bind_int64(s, 1, (int64_t)d->ts_usecs);
	stats_store_bind_text(s, 2, d->protocol);
	sqlite3_bind_int64(s, 3, d->pid);
	stats_store_bind_text(s, 4, d->session_id);
	stats_store_bind_text(s, 5, d->user);
	stats_store_bind_text(s, 6, d->msgid);
	if (key != NULL)
		sqlite3_bind_text(s, 7, key, (int)key_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 7);
	stats_store_bind_text(s, 8, d->from);
	stats_store_bind_text(s, 9, d->envelope_from);
	stats_store_bind_text(s, 10, stats_store_sender_key(
		d->envelope_from, sender_key, sizeof(sender_key)));
	stats_store_bind_text(s, 11, d->rcpt);
	stats_store_bind_text(s, 12, d->orig_rcpt);
	stats_store_bind_text(s, 13, d->mailbox);
	sqlite3_bind_int64(s, 14, (int64_t)d->size);
	sqlite3_bind_int64(s, 15, (int64_t)d->vsize);
	stats_store_bind_text(s, 16, d->result);
	sqlite3_bind_int64(s, 17, d->code);
	stats_store_bind_text(s, 18, d->enhanced_code);
	stats_store_bind_text(s, 19, d->text);
	stats_store_bind_text(s, 20, d->reason);
	sqlite3_bind_double(s, 21, d->duration_ms);
	stats_store_bind_text(s, 22, d->sieve);
	if (d->have_uid)
		sqlite3_bind_int64(s, 23, d->uid);
	else
		sqlite3_bind_null(s, 23);
	return stats_store_step(s);
}

/* stats_store_write_error - one row */
static int stats_store_write_error(struct stats_store *store,
				   const struct stats_error_record *e)
{
	sqlite3_stmt *s = store->ins_error;

	sqlite3_bind_int64(s, 1, (int64_t)e->ts_usecs);
	sqlite3_bind_int(s, 2, (int)e->level);
	stats_store_bind_text(s, 3, e->service);
	sqlite3_bind_int64(s, 4, e->pid);
	stats_store_bind_text(s, 5, e->session);
	stats_store_bind_text(s, 6, e->user);
	stats_store_bind_text(s, 7, e->text);
	return stats_store_step(s);
}

/* stats_store_set_meta - one meta row */
static int stats_store_set_meta(struct stats_store *store, const char *key,
				int64_t value)
{
	int rc;

	sqlite3_bind_text(store->set_meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(store->set_meta, 2, value);
	rc = sqlite3_step(store->set_meta);
	sqlite3_reset(store->set_meta);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* stats_store_write_batch - the batch in one transaction, with this
   run's last sequence numbers; SQLITE_OK or the failing code */
static int stats_store_write_batch(struct stats_store *store,
				   const struct stats_store_queue *batch)
{
	uint64_t last[2] = { 0, 0 };
	int rc = stats_store_exec(store->db, "BEGIN IMMEDIATE");

	for (size_t i = 0; rc == SQLITE_OK && i < batch->count; i++) {
		const struct stats_store_item *item = &batch->items[i];

		rc = item->kind == STATS_STORE_DELIVERY ?
			stats_store_write_delivery(store, &item->d) :
			stats_store_write_error(store, &item->e);
		last[item->kind] = item->seq;
	}
	if (rc == SQLITE_OK)
		rc = stats_store_set_meta(store, "run", store->run);
	if (rc == SQLITE_OK && last[STATS_STORE_DELIVERY] != 0)
		rc = stats_store_set_meta(store, "deliveries_seq",
					  (int64_t)last[STATS_STORE_DELIVERY]);
	if (rc == SQLITE_OK && last[STATS_STORE_ERROR] != 0)
		rc = stats_store_set_meta(store, "errors_seq",
					  (int64_t)last[STATS_STORE_ERROR]);
	if (rc == SQLITE_OK)
		rc = stats_store_exec(store->db, "COMMIT");
	if (rc != SQLITE_OK)
		(void)stats_store_exec(store->db, "ROLLBACK");
	return rc;
}

/* stats_store_write - write (or drop) a batch taken from the queue */
static void stats_store_write(struct stats_store *store,
			      struct stats_store_queue *batch)
{
	char detail[STATS_STORE_ERROR_SIZE];
	int rc;

	if (!stats_store_open(store)) {
		/* counted as lost, not as another failed write */
		pthread_mutex_lock(&store->lock);
		store->counters.dropped += batch->count;
		pthread_mutex_unlock(&store->lock);
		return;
	}
	rc = stats_store_write_batch(store, batch);
	if (rc == SQLITE_OK) {
		pthread_mutex_lock(&store->lock);
		store->counters.written += batch->count;
		pthread_mutex_unlock(&store->lock);
		return;
	}
	snprintf(detail, sizeof(detail), "%s", sqlite3_errmsg(store->db));
	stats_store_fail(store, batch->count, "write", rc, detail);
	/* start afresh after a pause: the next open sets a corrupt file
	   aside, and a full or broken disk is not hammered */
	stats_store_close_writer(store);
	if (stats_store_is_corrupt(rc))
		stats_store_set_aside(store);
	store->next_open_msecs = stats_store_now_msecs() + store->set.reopen_msecs;
}

/* stats_store_delete - run a DELETE with one int64 parameter (or none
   when param < 0); the rows deleted, or -1 */
static int64_t stats_store_delete(struct stats_store *store, const char *sql,
				  int64_t param)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (param >= 0)
		sqlite3_bind_int64(stmt, 1, param);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? sqlite3_changes64(store->db) : -1;
}

/* stats_store_file_size - the database's size: pages in use and free */
static uint64_t stats_store_file_size(struct stats_store *store)
{
	return (uint64_t)stats_store_int(store->db, "PRAGMA page_count", 0) *
		(uint64_t)stats_store_int(store->db, "PRAGMA page_size", 0);
}

/* stats_store_retention_step - one bounded step of the retention: rows
   past the age, errors past their count, then the oldest deliveries
   while the file is over the size. True when there is more to do. */
static bool stats_store_retention_step(struct stats_store *store)
{
	int64_t n, deleted = 0;
	uint64_t size;
	bool more = false;

	if (store->set.max_age_usecs != 0) {
		int64_t cutoff = (int64_t)(clock_realtime_usecs() -
					   store->set.max_age_usecs);

		n = stats_store_delete(store,
			"DELETE FROM deliveries WHERE id IN (SELECT id FROM"
			" deliveries WHERE ts < ?1 ORDER BY ts LIMIT 5000)", cutoff);
		more = more || n == STATS_STORE_DELETE_CHUNK;
		deleted += n > 0 ? n : 0;
		n = stats_store_delete(store,
			"DELETE FROM errors WHERE id IN (SELECT id FROM"
			" errors WHERE ts < ?1 ORDER BY ts LIMIT 5000)", cutoff);
		more = more || n == STATS_STORE_DELETE_CHUNK;
		deleted += n > 0 ? n : 0;
	}
	n = stats_store_delete(store, "DELETE FROM errors WHERE id <="
			       " (SELECT max(id) FROM errors) - ?1",
			       STATS_STORE_ERRORS_MAX_ROWS);
	deleted += n > 0 ? n : 0;
	if (deleted > 0)
		(void)stats_store_exec(store->db, "PRAGMA incremental_vacuum");
	size = store->set.max_size != 0 && !more ?
		stats_store_file_size(store) : 0;
	if (size > store->set.max_size) {
		/* rows in proportion to the excess (ids grow by one a row and
		   go from the old end, so they count the rows), a chunk at
		   most */
		int64_t rows = stats_store_int(store->db,
			"SELECT max(id) - min(id) + 1 FROM deliveries", 0);
		int64_t excess = (int64_t)((double)rows *
			(double)(size - store->set.max_size) / (double)size) + 1;

		n = stats_store_delete(store,
			"DELETE FROM deliveries WHERE id IN (SELECT id FROM"
			" deliveries ORDER BY id LIMIT ?1)",
			excess < STATS_STORE_DELETE_CHUNK ? excess :
			STATS_STORE_DELETE_CHUNK);
		(void)stats_store_exec(store->db, "PRAGMA incremental_vacuum");
		more = n > 0;
		deleted += n > 0 ? n : 0;
	}
	store->retention_deleted += deleted;
	if (more)
		return true;
	/* in WAL mode the file only shrinks at a checkpoint */
	if (store->retention_deleted > 0)
		(void)stats_store_exec(store->db,
				       "PRAGMA wal_checkpoint(TRUNCATE)");
	store->retention_deleted = 0;
	(void)stats_store_exec(store->db, "PRAGMA optimize");
	return false;
}

/* stats_store_retention - a step when one is due or unfinished */
static void stats_store_retention(struct stats_store *store)
{
	uint64_t now = stats_store_now_msecs();

	if (store->db == NULL ||
	    (!store->retention_more && now < store->next_retention_msecs))
		return;
	if (!store->retention_more)
		store->next_retention_msecs = now + store->set.retention_msecs;
	store->retention_more = stats_store_retention_step(store);
}

/* stats_store_deadline - the CLOCK_REALTIME time msecs from now */
static struct timespec stats_store_deadline(uint64_t msecs)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(msecs / 1000);
	until.tv_nsec += (long)(msecs % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return until;
}

/* stats_store_wait - until there is work for the writer: the stop; with
   the file open, records or a retention step; without, the time to try
   again (records wait in the queue until then). Lock held. */
static void stats_store_wait(struct stats_store *store)
{
	struct timespec until;
	uint64_t now, due;

	for (;;) {
		now = stats_store_now_msecs();
		if (store->stopping)
			return;
		if (store->db == NULL) {
			if (now >= store->next_open_msecs)
				return;
			due = store->next_open_msecs;
		} else {
			if (store->queue.count > 0 || store->retention_more ||
			    now >= store->next_retention_msecs)
				return;
			due = store->next_retention_msecs;
		}
		until = stats_store_deadline(due - now);
		(void)pthread_cond_timedwait(&store->wake, &store->lock, &until);
	}
}

/* stats_store_thread - the writer */
static void *stats_store_thread(void *context)
{
	struct stats_store *store = context;
	struct stats_store_queue batch = { NULL, 0, 0 }, swap;
	bool stopping;

	for (;;) {
		pthread_mutex_lock(&store->lock);
		stats_store_wait(store);
		stopping = store->stopping;
		pthread_mutex_unlock(&store->lock);
		/* at the stop, one last try even during a pause */
		if (stopping)
			store->next_open_msecs = 0;
		/* what waited for this attempt is dropped if it fails:
		   a broken disk holds no more than a pause's records */
		(void)stats_store_open(store);

		pthread_mutex_lock(&store->lock);
		swap = store->queue;
		store->queue = batch;
		batch = swap;
		pthread_mutex_unlock(&store->lock);
		if (batch.count > 0)
			stats_store_write(store, &batch);
		for (size_t i = 0; i < batch.count; i++)
			stats_store_item_free(&batch.items[i]);
		pthread_mutex_lock(&store->lock);
		store->processed += batch.count;
		pthread_cond_broadcast(&store->done);
		pthread_mutex_unlock(&store->lock);
		batch.count = 0;
		if (stopping)
			break;
		stats_store_retention(store);
	}
	free(batch.items);
	stats_store_close_writer(store);
	return NULL;
}

int stats_store_create(const struct stats_store_settings *set,
		       struct stats_store **store_r, const char **error_r)
{
	struct stats_store *store = xcalloc(1, sizeof(*store));
	int ret;

	store->path = xstrdup(set->path);
	store->set = *set;
	store->set.path = store->path;
	if (store->set.queue_max == 0)
		store->set.queue_max = STATS_STORE_DEFAULT_QUEUE;
	if (store->set.retention_msecs == 0)
		store->set.retention_msecs = STATS_STORE_DEFAULT_RETENTION_MSECS;
	if (store->set.reopen_msecs == 0)
		store->set.reopen_msecs = STATS_STORE_DEFAULT_REOPEN_MSECS;
	/* tells this run's rows from an earlier process's */
	store->run = (int64_t)(clock_realtime_usecs() ^
			       ((uint64_t)getpid() << 40));
	pthread_mutex_init(&store->lock, NULL);
	pthread_mutex_init(&store->read_lock, NULL);
	pthread_cond_init(&store->wake, NULL);
	pthread_cond_init(&store->done, NULL);
	ret = pthread_create(&store->thread, NULL, stats_store_thread, store);
	if (ret != 0) {
		*error_r = error_slot_set(&stats_store_error_slot,
					  "journal writer thread: %s",
					  strerror(ret));
		pthread_mutex_destroy(&store->lock);
		pthread_mutex_destroy(&store->read_lock);
		pthread_cond_destroy(&store->wake);
		pthread_cond_destroy(&store->done);
		free(store->path);
		free(store);
		return -1;
	}
	*store_r = store;
	return 0;
}

void stats_store_free(struct stats_store **_store)
{
	struct stats_store *store = *_store;

	if (store == NULL)
		return;
	*_store = NULL;
	pthread_mutex_lock(&store->lock);
	store->stopping = true;
	pthread_cond_signal(&store->wake);
	pthread_mutex_unlock(&store->lock);
	pthread_join(store->thread, NULL);
	for (size_t i = 0; i < store->queue.count; i++)
		stats_store_item_free(&store->queue.items[i]);
	free(store->queue.items);
	if (store->rdb != NULL)
		sqlite3_close(store->rdb);
	pthread_mutex_destroy(&store->lock);
	pthread_mutex_destroy(&store->read_lock);
	pthread_cond_destroy(&store->wake);
	pthread_cond_destroy(&store->done);
	free(store->path);
	free(store);
}

int stats_store_flush(struct stats_store *store, unsigned int timeout_msecs)
{
	struct timespec until = stats_store_deadline(timeout_msecs);
	uint64_t target;
	int ret = 0;

	pthread_mutex_lock(&store->lock);
	target = store->queued;
	while (store->processed < target && ret == 0)
		ret = pthread_cond_timedwait(&store->done, &store->lock, &until);
	ret = store->processed >= target ? 0 : -1;
	pthread_mutex_unlock(&store->lock);
	return ret;
}

size_t stats_store_queued(struct stats_store *store)
{
	size_t n;

	pthread_mutex_lock(&store->lock);
	n = store->queue.count;
	pthread_mutex_unlock(&store->lock);
	return n;
}

void stats_store_get_counters(struct stats_store *store,
			      struct stats_store_counters *counters_r)
{
	pthread_mutex_lock(&store->lock);
	*counters_r = store->counters;
	pthread_mutex_unlock(&store->lock);
}

