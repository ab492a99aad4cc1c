/*
 * journal_bench - the disk journal's speed, through the real modules:
 * N delivery outcomes go through stats_journal_add() (the ring and its
 * sink, the store's queue, as loft-stats adds them) into DIR/journal.db;
 * it reports the ingest rate (added until all written) and the time of
 * typical queries on the full file: by msgid, by user mask, exact user,
 * sender, result and a time range. Run by bench/journal.sh.
 *
 *   journal_bench DIR [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "stats_store.h"

#define BENCH_USERS 10000
#define BENCH_QUERY_ROUNDS 50

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bench_fill - n outcomes, one every 10 ms ending now; returns entries/s */
static double bench_fill(struct stats_journal *journal,
			 struct stats_store *store, unsigned int n,
			 uint64_t *t0_r)
{
	char user[64], msgid[64], session[64], sender[64];
	uint64_t t0 = clock_realtime_usecs() - (uint64_t)n * 10000;
	struct stats_delivery d = {
		.protocol = "lmtp", .from = "Sender <sender@example.net>",
		.mailbox = "INBOX", .enhanced_code = "2.0.0", .text = "Saved",
		.size = 4200, .vsize = 4300, .code = 250,
	};
	double start = bench_now();

	*t0_r = t0;
	for (unsigned int i = 0; i < n; i++) {
		snprintf(user, sizeof(user), "user%05u@example.com",
			 (i * 7919) % BENCH_USERS);
		snprintf(msgid, sizeof(msgid), "<bench-%u@example.org>", i);
		snprintf(session, sizeof(session), "S%021u:T1:R1", i / 3);
		snprintf(sender, sizeof(sender), "sender%u@example.net",
			 i % 1000);
		d.ts_usecs = t0 + (uint64_t)i * 10000;
		d.pid = 1000 + i % 50;
		d.session_id = session;
		d.user = d.rcpt = d.orig_rcpt = user;
		d.msgid = msgid;
		d.envelope_from = sender;
		d.result = i % 100 == 0 ? "tempfail" : "saved";
		d.duration_ms = 3.5;
		(void)stats_journal_add(journal, &d);
		/* a producer faster than any LMTP: keep within the queue */
		while (stats_store_queued(store) > STATS_STORE_DEFAULT_QUEUE / 2)
			usleep(500);
	}
	if (stats_store_flush(store, 600000) < 0)
		fprintf(stderr, "journal_bench: flush timed out\n");
	return n / (bench_now() - start);
}

enum bench_msgid { BENCH_NO_MSGID, BENCH_MSGID, BENCH_MSGID_BARE };

/* bench_query - median and worst time of BENCH_QUERY_ROUNDS runs of q
   (with a random existing msgid each round unless BENCH_NO_MSGID) */
static void bench_query(struct stats_store *store, const char *name,
			struct stats_journal_query q, enum bench_msgid with,
			unsigned int n)
{
	double times[BENCH_QUERY_ROUNDS], t, tmp;
	char msgid[64];
	json_object *list;
	const char *error;
	uint64_t seq;
	size_t rows = 0;

	for (unsigned int r = 0; r < BENCH_QUERY_ROUNDS; r++) {
		if (with != BENCH_NO_MSGID) {
			unsigned int k = (unsigned int)(((uint64_t)r * 104729) % n);

			snprintf(msgid, sizeof(msgid), with == BENCH_MSGID ?
				 "<bench-%u@example.org>" : "bench-%u@example.org",
				 k);
			q.msgid = msgid;
		}
		t = bench_now();
		if (stats_store_query_deliveries(store, &q, &list, &seq,
						 &error) < 0) {
			fprintf(stderr, "journal_bench: %s: %s\n", name, error);
			exit(1);
		}
		times[r] = (bench_now() - t) * 1000;
		rows = json_object_array_length(list);
		json_object_put(list);
	}
	for (unsigned int i = 0; i < BENCH_QUERY_ROUNDS; i++) {
		for (unsigned int j = i + 1; j < BENCH_QUERY_ROUNDS; j++) {
			if (times[j] < times[i]) {
				tmp = times[i];
				times[i] = times[j];
				times[j] = tmp;
			}
		}
	}
	printf("query %-28s %4zu rows  median %7.2f ms  max %7.2f ms\n", name,
	       rows, times[BENCH_QUERY_ROUNDS / 2],
	       times[BENCH_QUERY_ROUNDS - 1]);
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 10) :
		1000000;
	char path[4096];
	struct stats_store_settings set = { .path = path };
	struct stats_journal *journal;
	struct stats_store *store;
	struct stats_store_counters c;
	const char *error;
	struct stat st;
	uint64_t t0;
	double rate;

	if (argc < 2 || n == 0) {
		fprintf(stderr, "usage: journal_bench DIR [N]\n");
		return 64;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], STATS_STORE_FILE_NAME);
	if (stats_store_create(&set, &store, &error) < 0) {
		fprintf(stderr, "journal_bench: %s\n", error);
		return 1;
	}
	journal = stats_journal_create(0);
	stats_journal_set_sink(journal, stats_store_delivery_sink, store);
	rate = bench_fill(journal, store, n, &t0);
	stats_store_get_counters(store, &c);
	printf("ingest %u entries: %.0f entries/s (written %llu, dropped %llu, "
	       "failed writes %llu)\n", n, rate, (unsigned long long)c.written,
	       (unsigned long long)c.dropped,
	       (unsigned long long)c.write_failures);
	if (stat(path, &st) == 0)
		printf("file %s: %.1f MB\n", path, st.st_size / 1e6);

	bench_query(store, "msgid (random)", (struct stats_journal_query){ 0 },
		    BENCH_MSGID, n);
	bench_query(store, "msgid without <> (random)",
		    (struct stats_journal_query){ 0 }, BENCH_MSGID_BARE, n);
	bench_query(store, "user mask user0042*",
		    (struct stats_journal_query){ .user_mask = "user0042*" },
		    BENCH_NO_MSGID, n);
	bench_query(store, "user mask user0042*, 1000",
		    (struct stats_journal_query){ .user_mask = "user0042*",
						  .limit = 1000 }, BENCH_NO_MSGID, n);
	bench_query(store, "user exact",
		    (struct stats_journal_query){
			    .user_mask = "USER00042@example.com" },
		    BENCH_NO_MSGID, n);
	bench_query(store, "user mask *@example.com",
		    (struct stats_journal_query){ .user_mask = "*@example.com" },
		    BENCH_NO_MSGID, n);
	bench_query(store, "sender exact",
		    (struct stats_journal_query){
			    .sender = "sender7@example.net" }, BENCH_NO_MSGID, n);
	bench_query(store, "session prefix",
		    (struct stats_journal_query){
			    .session_id = "S000000000000000012345" }, BENCH_NO_MSGID, n);
	bench_query(store, "result tempfail",
		    (struct stats_journal_query){ .result = "tempfail" }, BENCH_NO_MSGID, n);
	bench_query(store, "time range (1 h, middle)",
		    (struct stats_journal_query){
			    .since_usecs = t0 + (uint64_t)n * 5000,
			    .until_usecs = t0 + (uint64_t)n * 5000 + 3600000000ULL },
		    BENCH_NO_MSGID, n);
	bench_query(store, "time range, 1000 rows",
		    (struct stats_journal_query){
			    .since_usecs = t0 + (uint64_t)n * 5000,
			    .until_usecs = t0 + (uint64_t)n * 5000 + 3600000000ULL,
			    .limit = 1000 }, BENCH_NO_MSGID, n);
	stats_journal_free(&journal);
	stats_store_free(&store);
	return 0;
}
