/*
 * stats_store_query - the disk journal's queries (see stats_store.h), on
 * the caller's thread, on a read connection of their own. Each filter
 * becomes a condition an index serves (a mask with a fixed prefix, a
 * range on its key); the SQL only narrows, every row is then checked with
 * stats_journal_match(), so the disk answers as the ring does.
 */
#include "stats_store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "stats_json.h"
#include "xalloc.h"

/* the columns a delivery query reads, in stats_store_row order */
#define STATS_STORE_DELIVERY_COLUMNS \
	"ts, service, pid, session, user, msgid, from_hdr, envelope_from," \
	" rcpt, orig_rcpt, mailbox, size, vsize, result, code," \
	" enhanced_code, text, reason, duration_ms, sieve, uid"

static __thread struct error_slot stats_store_query_error;

/* A query under construction: SQL text and its text parameters. */
struct stats_store_sql {
	char text[1024];
	size_t len;
	const char *params[8];
	char owned[8][STATS_JSON_MAX_STRING + 2];
	unsigned int count;
};

/* stats_store_sql_add - append a condition with one text parameter
   (copied; NULL: none) */
static void stats_store_sql_add(struct stats_store_sql *sql,
				const char *cond, const char *param)
{
	int n = snprintf(sql->text + sql->len, sizeof(sql->text) - sql->len,
			 " AND %s", cond);

	if (n > 0 && (size_t)n < sizeof(sql->text) - sql->len)
		sql->len += (size_t)n;
	if (param == NULL)
		return;
	snprintf(sql->owned[sql->count], sizeof(sql->owned[0]), "%s", param);
	sql->params[sql->count] = sql->owned[sql->count];
	sql->count++;
}

/* stats_store_prefix_range - conditions key >= prefix AND key < the
   first string after every one starting with prefix */
static void stats_store_prefix_range(struct stats_store_sql *sql,
				     const char *column, const char *prefix,
				     size_t len)
{
	char cond[64], upper[STATS_JSON_MAX_STRING + 2];

	if (len > STATS_JSON_MAX_STRING)
		len = STATS_JSON_MAX_STRING;
	memcpy(upper, prefix, len);
	upper[len] = '\0';
	snprintf(cond, sizeof(cond), "%s >= ?", column);
	stats_store_sql_add(sql, cond, upper);
	/* the upper bound: the last byte that can grow, grown */
	while (len > 0 && (unsigned char)upper[len - 1] == 0xff)
		len--;
	if (len == 0)
		return;
	upper[len - 1] = (char)((unsigned char)upper[len - 1] + 1);
	upper[len] = '\0';
	snprintf(cond, sizeof(cond), "%s < ?", column);
	stats_store_sql_add(sql, cond, upper);
}

/* stats_store_mask_key - a mask on a lower-case key column: equality
   without wildcards, else a range over its fixed prefix (none: no
   condition; mask_match decides in C) */
static void stats_store_mask_key(struct stats_store_sql *sql,
				 const char *column, const char *mask)
{
	char lower[STATS_JSON_MAX_STRING + 1], cond[64];
	size_t prefix = strcspn(mask, "*?");

	stats_store_lower(mask, lower, sizeof(lower));
	if (mask[prefix] == '\0') {
		snprintf(cond, sizeof(cond), "%s = ?", column);
		stats_store_sql_add(sql, cond, lower);
	} else if (prefix > 0) {
		stats_store_prefix_range(sql, column, lower, prefix);
	}
}

/* stats_store_build - the SELECT for q */
static void stats_store_build(struct stats_store_sql *sql,
			      const struct stats_journal_query *q)
{
	char buf[STATS_JSON_MAX_STRING + 1];
	size_t len;

	memset(sql, 0, sizeof(*sql));
	sql->len = (size_t)snprintf(sql->text, sizeof(sql->text),
				    "SELECT " STATS_STORE_DELIVERY_COLUMNS
				    " FROM deliveries WHERE 1");
	if (q->msgid != NULL) {
		const char *key = stats_journal_msgid_key(q->msgid, &len);

		snprintf(buf, sizeof(buf), "%.*s", (int)len, key);
		stats_store_sql_add(sql, "msgid_key = ?", buf);
	}
	if (q->session_id != NULL)
		stats_store_prefix_range(sql, "session", q->session_id,
					 strlen(q->session_id));
	if (q->user_mask != NULL)
		stats_store_mask_key(sql, "user_key", q->user_mask);
	if (q->sender != NULL)
		stats_store_mask_key(sql, "sender_key", strcmp(q->sender, "<>") == 0 ?
				     "" : q->sender);
	if (q->result != NULL)
		stats_store_sql_add(sql, "lower(result) = ?", stats_store_lower(
			q->result, buf, sizeof(buf)));
	if (q->since_usecs != 0)
		stats_store_sql_add(sql, "ts >= ?", NULL);
	if (q->until_usecs != 0)
		stats_store_sql_add(sql, "ts <= ?", NULL);
	snprintf(sql->text + sql->len, sizeof(sql->text) - sql->len,
		 " ORDER BY ts DESC, id DESC");
}

/* stats_store_text - a column as text, or NULL */
static const char *stats_store_text(sqlite3_stmt *stmt, int col)
{
	return (const char *)sqlite3_column_text(stmt, col);
}

/* stats_store_row - the current row as a record (strings point into
   stmt until the next step) */
static void stats_store_row(sqlite3_stmt *stmt, struct stats_delivery *d)
{
	d->ts_usecs = (uint64_t)sqlite3_column_int64(stmt, 0);
	d->protocol = stats_store_text(stmt, 1);
	d->pid = (unsigned int)sqlite3_column_int64(stmt, 2);
	d->session_id = stats_store_text(stmt, 3);
	d->user = stats_store_text(stmt, 4);
	d->msgid = stats_store_text(stmt, 5);
	d->from = stats_store_text(stmt, 6);
	d->envelope_from = stats_store_text(stmt, 7);
	d->rcpt = stats_store_text(stmt, 8);
	d->orig_rcpt = stats_store_text(stmt, 9);
	d->mailbox = stats_store_text(stmt, 10);
	d->size = (uint64_t)sqlite3_column_int64(stmt, 11);
	d->vsize = (uint64_t)sqlite3_column_int64(stmt, 12);
	d->result = stats_store_text(stmt, 13);
	d->code = (unsigned int)sqlite3_column_int64(stmt, 14);
	d->enhanced_code = stats_store_text(stmt, 15);
	d->text = stats_store_text(stmt, 16);
	d->reason = stats_store_text(stmt, 17);
	d->duration_ms = sqlite3_column_double(stmt, 18);
	d->sieve = stats_store_text(stmt, 19);
	d->have_uid = sqlite3_column_type(stmt, 20) != SQLITE_NULL;
	d->uid = (unsigned int)sqlite3_column_int64(stmt, 20);
}

/* stats_store_reader - the read connection, opened when needed (read
   lock held); SQLITE_OK or the failing code */
static int stats_store_reader(struct stats_store *store)
{
	int rc;

	if (store->rdb != NULL)
		return SQLITE_OK;
	/* no CREATE: only the writer makes the file */
	rc = sqlite3_open_v2(store->path, &store->rdb, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(store->rdb, STATS_STORE_BUSY_MSECS);
		return SQLITE_OK;
	}
	sqlite3_close(store->rdb);
	store->rdb = NULL;
	return rc;
}

/* stats_store_last_seq - this run's last sequence number of kind (its
   meta key) as of the read transaction in *seq_r, 0 when another run
   wrote last; SQLITE_OK or the failing code. A failure must fail the
   query: a guessed 0 would let the ring repeat what the disk returns. */
static int stats_store_last_seq(struct stats_store *store, const char *key,
				uint64_t *seq_r)
{
	sqlite3_stmt *stmt;
	int rc;

	*seq_r = 0;
	rc = sqlite3_prepare_v2(store->rdb,
		"SELECT (SELECT value FROM meta WHERE key = 'run'),"
		" (SELECT value FROM meta WHERE key = ?1)", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(stmt, 0) != SQLITE_NULL &&
		    sqlite3_column_int64(stmt, 0) == store->run)
			*seq_r = (uint64_t)sqlite3_column_int64(stmt, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* stats_store_query_begin - the reader in a read transaction; SQLITE_OK,
   else *error_r and the reader closed (it is reopened next time) */
static int stats_store_query_begin(struct stats_store *store,
				   const char **error_r)
{
	int rc = stats_store_reader(store);

	if (rc == SQLITE_OK)
		rc = stats_store_exec(store->rdb, "BEGIN");
	if (rc != SQLITE_OK) {
		*error_r = error_slot_set(&stats_store_query_error, "%s: %s",
					  store->path, sqlite3_errstr(rc));
		sqlite3_close(store->rdb);
		store->rdb = NULL;
	}
	return rc;
}

/* stats_store_query_end - end the read transaction; a failed query
   closes the reader */
static int stats_store_query_end(struct stats_store *store, int rc,
				 const char **error_r)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) {
		(void)stats_store_exec(store->rdb, "COMMIT");
		return 0;
	}
	/* the message before COMMIT replaces it */
	*error_r = error_slot_set(&stats_store_query_error, "%s: %s",
				  store->path, sqlite3_errmsg(store->rdb));
	(void)stats_store_exec(store->rdb, "COMMIT");
	sqlite3_close(store->rdb);
	store->rdb = NULL;
	return -1;
}

int stats_store_query_deliveries(struct stats_store *store,
				 const struct stats_journal_query *q,
				 json_object **list_r, uint64_t *seq_r,
				 const char **error_r)
{
	static const struct stats_journal_query all = { .limit = 0 };
	struct stats_store_sql *sql = xcalloc(1, sizeof(*sql));
	struct stats_delivery d;
	sqlite3_stmt *stmt = NULL;
	unsigned int i, limit, found = 0;
	int rc, col = 1;

	if (q == NULL)
		q = &all;
	limit = stats_journal_query_limit(q);
	stats_store_build(sql, q);
	pthread_mutex_lock(&store->read_lock);
	if (stats_store_query_begin(store, error_r) != SQLITE_OK) {
		pthread_mutex_unlock(&store->read_lock);
		free(sql);
		return -1;
	}
	rc = stats_store_last_seq(store, "deliveries_seq", seq_r);
	*list_r = json_object_new_array();
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store->rdb, sql->text, -1, &stmt,
					NULL);
	if (rc == SQLITE_OK) {
		for (i = 0; i < sql->count; i++)
			sqlite3_bind_text(stmt, col++, sql->params[i], -1,
					  SQLITE_STATIC);
		if (q->since_usecs != 0)
			sqlite3_bind_int64(stmt, col++, (int64_t)q->since_usecs);
		if (q->until_usecs != 0)
			sqlite3_bind_int64(stmt, col++, (int64_t)q->until_usecs);
		while (found < limit &&
		       (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			memset(&d, 0, sizeof(d));
			stats_store_row(stmt, &d);
			/* the SQL narrows, the journal's own test decides */
			if (!stats_journal_match(&d, q))
				continue;
			json_object_array_add(*list_r,
					      stats_journal_delivery_json(&d));
			found++;
		}
	}
	sqlite3_finalize(stmt);
	rc = stats_store_query_end(store, rc, error_r);
	pthread_mutex_unlock(&store->read_lock);
	free(sql);
	if (rc < 0) {
		json_object_put(*list_r);
		*list_r = NULL;
	}
	return rc;
}

int stats_store_query_errors(struct stats_store *store, uint64_t since_usecs,
			     unsigned int limit, json_object **list_r,
			     uint64_t *seq_r, const char **error_r)
{
	struct stats_error_record e;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (limit == 0)
		limit = STATS_ERRORS_DEFAULT_LIMIT;
	if (limit > STATS_STORE_ERRORS_MAX_ROWS)
		limit = STATS_STORE_ERRORS_MAX_ROWS;
	pthread_mutex_lock(&store->read_lock);
	if (stats_store_query_begin(store, error_r) != SQLITE_OK) {
		pthread_mutex_unlock(&store->read_lock);
		return -1;
	}
	rc = stats_store_last_seq(store, "errors_seq", seq_r);
	*list_r = json_object_new_array();
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store->rdb,
			"SELECT ts, level, service, pid, session, user, msg"
			" FROM errors WHERE ts >= ?1 ORDER BY ts DESC, id DESC"
			" LIMIT ?2", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, (int64_t)since_usecs);
		sqlite3_bind_int64(stmt, 2, limit);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			e.ts_usecs = (uint64_t)sqlite3_column_int64(stmt, 0);
			e.level = (enum log_level)sqlite3_column_int(stmt, 1);
			e.service = stats_store_text(stmt, 2);
			e.pid = (unsigned int)sqlite3_column_int64(stmt, 3);
			e.session = stats_store_text(stmt, 4);
			e.user = stats_store_text(stmt, 5);
			e.text = stats_store_text(stmt, 6);
			json_object_array_add(*list_r,
					      stats_errors_record_json(&e));
		}
	}
	sqlite3_finalize(stmt);
	rc = stats_store_query_end(store, rc, error_r);
	pthread_mutex_unlock(&store->read_lock);
	if (rc < 0) {
		json_object_put(*list_r);
		*list_r = NULL;
	}
	return rc;
}
