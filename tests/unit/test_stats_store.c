/*
 * test_stats_store - unit tests for stats/stats_store, the disk journal:
 * every journal query answered from disk as the ring answers it, the
 * records surviving a new store on the same file, the sequence numbers
 * that join disk and ring, errors, retention by age and by size, and the
 * broken cases: no directory, a read-only mount, a full disk (tiny tmpfs)
 * and a corrupt file. Mounting needs root; those cases skip otherwise.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "clock.h"
#include "stats_store.h"
#include "xalloc.h"

#define DAY_USECS (86400ULL * 1000000)

static char dir[256], path[300];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_stats_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, STATS_STORE_FILE_NAME);
}

static void teardown(void)
{
	char cmd[300];

	(void)umount(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* store_open - a store on path with test settings */
static struct stats_store *store_open(uint64_t max_age, uint64_t max_size,
				      unsigned int queue_max)
{
	struct stats_store_settings set = {
		.path = path, .max_age_usecs = max_age, .max_size = max_size,
		.queue_max = queue_max, .retention_msecs = 50,
		.reopen_msecs = 50,
	};
	struct stats_store *store;
	const char *error;

	ck_assert_int_eq(stats_store_create(&set, &store, &error), 0);
	return store;
}

/* add - one record to the ring (and through it to the store) */
static void add(struct stats_journal *j, uint64_t ts, unsigned int pid,
		const char *user, const char *env_from, const char *msgid,
		const char *session, const char *result, const char *text)
{
	struct stats_delivery d = {
		.ts_usecs = ts, .protocol = "lmtp", .pid = pid,
		.session_id = session, .user = user, .msgid = msgid,
		.from = "Sender <sender@example.org>",
		.envelope_from = env_from, .rcpt = user, .mailbox = "INBOX",
		.result = result, .enhanced_code = "2.0.0", .text = text,
		.size = 100, .vsize = 102, .code = 250, .duration_ms = 1.5,
	};

	(void)stats_journal_add(j, &d);
}

/* pids - the pid fields of a result joined with ',' */
static const char *pids(json_object *arr, char *buf, size_t size)
{
	json_object *v;
	size_t len;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		ck_assert(json_object_object_get_ex(
			json_object_array_get_idx(arr, i), "pid", &v));
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s%d", i > 0 ? "," : "",
			 json_object_get_int(v));
	}
	return buf;
}

/* disk_pids - the pids the store alone answers q with */
static const char *disk_pids(struct stats_store *store,
			     const struct stats_journal_query *q,
			     char *buf, size_t size)
{
	json_object *list;
	uint64_t seq;
	const char *error;

	ck_assert_msg(stats_store_query_deliveries(store, q, &list, &seq,
						   &error) == 0, "%s", error);
	pids(list, buf, size);
	json_object_put(list);
	return buf;
}

#define SID_A "AAAAAAAAAAAAAAAAAAAAAA"
#define SID_B "BBBBBBBBBBBBBBBBBBBBBB"

/* sample - 7 records, pids 1..7, one second apart ending now */
static void sample(struct stats_journal *j, uint64_t t0)
{
	add(j, t0 + 1000000, 1, "alice@example.com", "sender@example.org",
	    "<m1@x>", SID_A ":T1:R1", "saved", "Saved");
	add(j, t0 + 2000000, 2, "bob@example.com", "other@example.net",
	    "<m1@x>", SID_A ":T1:R2", "rejected", "No");
	add(j, t0 + 3000000, 3, "Alice@Example.com", "", "<m2@x>",
	    SID_B ":T1:R1", "saved", "Saved");
	add(j, t0 + 4000000, 4, "carol@example.org", "SENDER@example.org",
	    NULL, SID_B ":T2:R1", "tempfail", "Later");
	add(j, t0 + 5000000, 5, "alice@example.com", NULL, "<m3@x>", SID_B,
	    "saved", "Saved");
	add(j, t0 + 6000000, 6, NULL, "sender@example.org", "m4@x", NULL,
	    NULL, NULL);
	add(j, t0 + 7000000, 7, "alicia@example.com", "<>", "<m5@x>",
	    SID_A ":T2:R1", "SAVED", "Saved");
}

static const struct stats_journal_query query_cases[] = {
	{ .limit = 0 },
	{ .user_mask = "alice@example.com" },
	{ .user_mask = "ALICE@example.COM" },
	{ .user_mask = "alice*" },
	{ .user_mask = "ali?e*" },
	{ .user_mask = "*@example.org" },
	{ .user_mask = "*" },
	{ .user_mask = "nobody" },
	{ .sender = "sender@example.org" },
	{ .sender = "*@example.n?t" },
	{ .sender = "SENDER@*" },
	{ .sender = "" },
	{ .sender = "<>" },
	{ .msgid = "<m1@x>" },
	{ .msgid = "m1@x" },
	{ .msgid = "<m4@x>" },
	{ .msgid = "<M1@x>" },
	{ .msgid = "m1" },
	{ .session_id = SID_A },
	{ .session_id = SID_B ":T1" },
	{ .session_id = SID_A ":T1:R2" },
	{ .result = "saved" },
	{ .result = "TEMPFAIL" },
	{ .limit = 2 },
	{ .user_mask = "alice*", .result = "saved", .limit = 2 },
	{ .user_mask = "alice*", .session_id = SID_B },
	{ .sender = "sender@*", .msgid = "m1@x" },
};

/* the since/until cases, relative to the sample's t0 */
static const struct { uint64_t since, until; } time_cases[] = {
	{ 4000000, 0 }, { 4000001, 0 }, { 0, 3000000 }, { 2000000, 5000000 },
};

START_TEST(test_queries_as_ring)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store = store_open(0, 0, 0);
	uint64_t t0 = clock_realtime_usecs() - 60 * 1000000;
	char want[128], got[128];
	json_object *ring;

	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	sample(j, t0);
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(query_cases); i++) {
		ring = stats_journal_query(j, &query_cases[i]);
		pids(ring, want, sizeof(want));
		json_object_put(ring);
		disk_pids(store, &query_cases[i], got, sizeof(got));
		ck_assert_msg(strcmp(got, want) == 0,
			      "case %zu: disk %s, ring %s", i, got, want);
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(time_cases); i++) {
		struct stats_journal_query q = {
			.since_usecs = time_cases[i].since ?
				t0 + time_cases[i].since : 0,
			.until_usecs = time_cases[i].until ?
				t0 + time_cases[i].until : 0,
		};

		ring = stats_journal_query(j, &q);
		pids(ring, want, sizeof(want));
		json_object_put(ring);
		disk_pids(store, &q, got, sizeof(got));
		ck_assert_msg(strcmp(got, want) == 0,
			      "time case %zu: disk %s, ring %s", i, got, want);
	}
	stats_journal_free(&j);
	stats_store_free(&store);
	ck_assert_ptr_null(store);
}
END_TEST

START_TEST(test_json_same)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store = store_open(0, 0, 0);
	json_object *ring, *disk;
	const char *error;
	uint64_t seq;

	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	sample(j, clock_realtime_usecs() - 60 * 1000000);
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	ring = stats_journal_query(j, NULL);
	ck_assert_int_eq(stats_store_query_deliveries(store, NULL, &disk, &seq,
						      &error), 0);
	ck_assert_str_eq(json_object_to_json_string(disk),
			 json_object_to_json_string(ring));
	ck_assert_uint_eq(seq, 7);
	json_object_put(ring);
	json_object_put(disk);
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

START_TEST(test_survives_restart)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store = store_open(0, 0, 0);
	struct stats_journal_query q = { .msgid = "m3@x" };
	struct stats_store_counters c;
	json_object *list;
	const char *error;
	uint64_t seq;
	char buf[64];

	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	sample(j, clock_realtime_usecs() - 60 * 1000000);
	/* freeing writes what is queued */
	stats_store_free(&store);
	stats_journal_free(&j);

	store = store_open(0, 0, 0);
	ck_assert_str_eq(disk_pids(store, &q, buf, sizeof(buf)), "5");
	/* another run wrote these: the ring of this one has none of them */
	ck_assert_int_eq(stats_store_query_deliveries(store, NULL, &list, &seq,
						      &error), 0);
	ck_assert_uint_eq(seq, 0);
	ck_assert_uint_eq(json_object_array_length(list), 7);
	json_object_put(list);
	stats_store_get_counters(store, &c);
	ck_assert_uint_eq(c.dropped, 0);
	ck_assert_uint_eq(c.write_failures, 0);
	stats_store_free(&store);
}
END_TEST

/* a journal of schema 1 (before the Sieve summary and the uid) is
   upgraded in place: its rows stay (uid null), new ones carry both */
START_TEST(test_upgrade_schema_1)
{
	static const char v1[] =
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;"
		"CREATE TABLE deliveries (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
		" service TEXT, pid INTEGER, session TEXT, user TEXT, user_key TEXT,"
		" msgid TEXT, msgid_key TEXT, from_hdr TEXT, envelope_from TEXT,"
		" sender_key TEXT, rcpt TEXT, orig_rcpt TEXT, mailbox TEXT,"
		" size INTEGER, vsize INTEGER, result TEXT, code INTEGER,"
		" enhanced_code TEXT, text TEXT, reason TEXT, duration_ms REAL);"
		"CREATE TABLE errors (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
		" level INTEGER, service TEXT, pid INTEGER, session TEXT, user TEXT,"
		" msg TEXT);"
		"INSERT INTO meta VALUES ('schema', 1);"
		"INSERT INTO deliveries (ts, service, pid, user, user_key, result,"
		" code) VALUES (1000, 'lmtp', 7, 'old@x', 'old@x', 'saved', 250);";
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store;
	struct stats_delivery d = {
		.ts_usecs = 2000, .protocol = "lmtp", .pid = 8, .user = "new@x",
		.result = "saved", .code = 250, .sieve = "s.sieve: discard",
		.have_uid = true, .uid = 4242,
	};
	json_object *list, *v;
	const char *error;
	sqlite3 *db;
	uint64_t seq;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	store = store_open(0, 0, 0);
	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	stats_journal_add(j, &d);
	stats_store_free(&store);
	stats_journal_free(&j);
	store = store_open(0, 0, 0);
	ck_assert_int_eq(stats_store_query_deliveries(store, NULL, &list, &seq,
						      &error), 0);
	ck_assert_uint_eq(json_object_array_length(list), 2);
	/* newest first */
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(list, 0),
					    "sieve", &v));
	ck_assert_str_eq(json_object_get_string(v), "s.sieve: discard");
	ck_assert(!json_object_object_get_ex(json_object_array_get_idx(list, 1),
					     "sieve", &v));
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(list, 0),
					    "uid", &v));
	ck_assert_int_eq(json_object_get_int64(v), 4242);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(list, 1),
					    "uid", &v));
	ck_assert(v == NULL);
	json_object_put(list);
	stats_store_free(&store);
}
END_TEST

/* a sequence number the store cannot read fails the query (the caller
   answers from memory): a guessed 0 would have the ring repeat every
   record the disk returns */
START_TEST(test_unreadable_seq_fails)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store = store_open(0, 0, 0);
	json_object *list = NULL;
	const char *error;
	uint64_t seq = 0;
	sqlite3 *db;

	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	sample(j, clock_realtime_usecs() - 60 * 1000000);
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	ck_assert_int_eq(stats_store_query_deliveries(store, NULL, &list, &seq,
						      &error), 0);
	ck_assert_uint_eq(seq, 7);
	json_object_put(list);

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE meta RENAME TO gone",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	list = NULL;
	ck_assert_int_eq(stats_store_query_deliveries(store, NULL, &list, &seq,
						      &error), -1);
	ck_assert_ptr_null(list);
	ck_assert_ptr_nonnull(strstr(error, "meta"));
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

START_TEST(test_errors)
{
	struct stats_errors *errors = stats_errors_create(0);
	struct stats_store *store = store_open(0, 0, 0);
	uint64_t now = clock_realtime_usecs(), seq;
	json_object *list, *msg;
	const char *error;

	stats_errors_set_sink(errors, stats_store_error_sink, store);
	(void)stats_errors_add(errors, now - 2000000, LOG_LEVEL_WARNING, "lmtp",
			       10, "S1", "alice@example.com", "first");
	(void)stats_errors_add(errors, now - 1000000, LOG_LEVEL_ERROR, "lda",
			       11, NULL, NULL, "second");
	(void)stats_errors_add(errors, now, LOG_LEVEL_INFO, "lda", 11, NULL,
			       NULL, "not kept");
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	ck_assert_int_eq(stats_store_query_errors(store, 0, 0, &list, &seq,
						  &error), 0);
	ck_assert_uint_eq(seq, 2);
	ck_assert_uint_eq(json_object_array_length(list), 2);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(list, 0),
					    "msg", &msg));
	ck_assert_str_eq(json_object_get_string(msg), "second");
	json_object_put(list);
	/* the ring adds only what is newer than the disk's last */
	list = stats_errors_query_after(errors, 0, 0, seq);
	ck_assert_uint_eq(json_object_array_length(list), 0);
	json_object_put(list);
	ck_assert_int_eq(stats_store_query_errors(store, now - 1500000, 0,
						  &list, &seq, &error), 0);
	ck_assert_uint_eq(json_object_array_length(list), 1);
	json_object_put(list);
	stats_errors_free(&errors);
	stats_store_free(&store);
}
END_TEST

/* wait_count - poll until the store holds want deliveries (5 s) */
static size_t wait_count(struct stats_store *store, size_t want)
{
	struct stats_journal_query q = { .limit = STATS_JOURNAL_MAX_LIMIT };
	json_object *list;
	const char *error;
	uint64_t seq;
	size_t n = 0;

	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(stats_store_query_deliveries(store, &q, &list,
							      &seq, &error), 0);
		n = json_object_array_length(list);
		json_object_put(list);
		if (n == want)
			break;
		usleep(50000);
	}
	return n;
}

START_TEST(test_retention_age)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store = store_open(7 * DAY_USECS, 0, 0);
	uint64_t now = clock_realtime_usecs();
	struct stats_journal_query q = { .msgid = "new" };
	char buf[64];

	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	for (unsigned int i = 0; i < 20; i++)
		add(j, now - 8 * DAY_USECS + i, i, "old@example.com", "s",
		    "old", "S", "saved", "Saved");
	add(j, now - 6 * DAY_USECS, 100, "new@example.com", "s", "new", "S",
	    "saved", "Saved");
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	ck_assert_uint_eq(wait_count(store, 1), 1);
	ck_assert_str_eq(disk_pids(store, &q, buf, sizeof(buf)), "100");
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

START_TEST(test_retention_size)
{
	struct stats_journal *j = stats_journal_create(0);
	/* 1 MiB: the oldest go until it fits */
	struct stats_store *store = store_open(0, 1024 * 1024, 0);
	uint64_t now = clock_realtime_usecs();
	struct stats_journal_query newest = { .msgid = "m5999" };
	struct stats_journal_query oldest = { .msgid = "m0" };
	struct stat st;
	char text[1001], msgid[32], buf[64];
	size_t n;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	for (unsigned int i = 0; i < 6000; i++) {
		snprintf(msgid, sizeof(msgid), "m%u", i);
		add(j, now - 6000 + i, i, "user@example.com", "s", msgid, "S",
		    "saved", text);
	}
	ck_assert_int_eq(stats_store_flush(store, 10000), 0);
	/* ~6 MB written; give the retention a few rounds */
	for (int i = 0; i < 100; i++) {
		usleep(100000);
		if (stat(path, &st) == 0 && st.st_size <= 1024 * 1024 &&
		    strcmp(disk_pids(store, &oldest, buf, sizeof(buf)), "") == 0)
			break;
	}
	ck_assert_str_eq(disk_pids(store, &oldest, buf, sizeof(buf)), "");
	ck_assert_str_eq(disk_pids(store, &newest, buf, sizeof(buf)), "5999");
	n = wait_count(store, 0);
	ck_assert_msg(n > 100 && n < 6000, "%zu rows left", n);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg(st.st_size <= 1024 * 1024, "file is %lld bytes",
		      (long long)st.st_size);
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

/* counters_after - the counters once records went to a broken store */
static void counters_after(struct stats_store *store, struct stats_journal *j,
			   unsigned int count, struct stats_store_counters *c)
{
	char text[2001];

	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	for (unsigned int i = 0; i < count; i++) {
		add(j, clock_realtime_usecs(), i, "u@example.com", "s", "m",
		    "S", "saved", text);
		if (i % 100 == 0)
			usleep(10000);
	}
	(void)stats_store_flush(store, 2000);
	stats_store_get_counters(store, c);
}

START_TEST(test_no_directory)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store;
	struct stats_store_counters c;
	json_object *list;
	const char *error;
	uint64_t seq;

	snprintf(path, sizeof(path), "%s/missing/%s", dir, STATS_STORE_FILE_NAME);
	store = store_open(0, 0, 10);
	counters_after(store, j, 30, &c);
	ck_assert_uint_ge(c.write_failures, 1);
	ck_assert_uint_ge(c.dropped, 20);
	ck_assert_ptr_nonnull(strstr(c.last_error, "missing"));
	/* a query says so, the caller answers from the ring */
	ck_assert_int_eq(stats_store_query_deliveries(store, NULL, &list, &seq,
						      &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "missing"));
	/* the directory appears: records flow again */
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/missing/%s", dir, STATS_STORE_FILE_NAME);
	add(j, clock_realtime_usecs(), 999, "late@example.com", "s", "late",
	    "S", "saved", "Saved");
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	stats_store_get_counters(store, &c);
	ck_assert_uint_ge(c.written, 1);
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

START_TEST(test_read_only)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store;
	struct stats_store_counters c;

	if (geteuid() != 0)
		return;		/* root ignores modes: needs a ro mount */
	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", MS_RDONLY, "size=256k"), 0);
	store = store_open(0, 0, 10);
	counters_after(store, j, 30, &c);
	ck_assert_uint_ge(c.write_failures, 1);
	ck_assert_uint_ge(c.dropped, 20);
	ck_assert_msg(strstr(c.last_error, "journal.db") != NULL, "%s",
		      c.last_error);
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

START_TEST(test_disk_full)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store;
	struct stats_store_counters c;
	struct stats_journal_query q = { .msgid = "m" };
	json_object *list;
	const char *error;
	uint64_t seq, t;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, "size=256k"), 0);
	store = store_open(0, 0, 0);
	/* one entry on disk first: on a loaded machine the writer may
	   otherwise take everything in one batch, which the full disk fails */
	counters_after(store, j, 1, &c);
	ck_assert_uint_eq(c.written, 1);
	t = clock_realtime_usecs();
	counters_after(store, j, 2000, &c);
	/* never blocked: 2000 adds took well under the flush timeouts */
	ck_assert_uint_lt(clock_realtime_usecs() - t, 10 * 1000000);
	ck_assert_uint_ge(c.write_failures, 1);
	ck_assert_uint_ge(c.dropped, 1);
	ck_assert_uint_ge(c.written, 1);
	ck_assert_msg(strstr(c.last_error, "full") != NULL, "%s", c.last_error);
	/* what made it is still readable */
	ck_assert_int_eq(stats_store_query_deliveries(store, &q, &list, &seq,
						      &error), 0);
	ck_assert_uint_ge(json_object_array_length(list), 1);
	json_object_put(list);
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

START_TEST(test_corrupt_file)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_store *store;
	struct stats_store_counters c;
	struct stats_journal_query q = { .msgid = "after" };
	char aside[320], buf[64];
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 1000; i++)
		fputs("this is not a database, ", f);
	fclose(f);
	store = store_open(0, 0, 0);
	stats_journal_set_sink(j, stats_store_delivery_sink, store);
	add(j, clock_realtime_usecs(), 42, "u@example.com", "s", "after", "S",
	    "saved", "Saved");
	ck_assert_int_eq(stats_store_flush(store, 5000), 0);
	ck_assert_str_eq(disk_pids(store, &q, buf, sizeof(buf)), "42");
	stats_store_get_counters(store, &c);
	ck_assert_uint_ge(c.write_failures, 1);
	ck_assert_ptr_nonnull(strstr(c.last_error, "corrupt"));
	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	ck_assert_int_eq(access(aside, F_OK), 0);
	stats_journal_free(&j);
	stats_store_free(&store);
}
END_TEST

static Suite *stats_store_suite(void)
{
	Suite *s = suite_create("stats_store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_queries_as_ring);
	tcase_add_test(tc, test_json_same);
	tcase_add_test(tc, test_survives_restart);
	tcase_add_test(tc, test_upgrade_schema_1);
	tcase_add_test(tc, test_unreadable_seq_fails);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_retention_age);
	tcase_add_test(tc, test_retention_size);
	tcase_add_test(tc, test_no_directory);
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_disk_full);
	tcase_add_test(tc, test_corrupt_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
