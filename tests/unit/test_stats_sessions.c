/*
 * test_stats_sessions - unit tests for stats/stats_sessions: start,
 * update, end and end_owner; lookups, filtered iteration and per-service
 * counts; the `who` JSON grouped by user and per session (parsed back
 * with json-c); and the per-user concurrency slots.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stats_sessions.h"

#define SID1 "AAAAAAAAAAAAAAAAAAAAA1"
#define SID2 "AAAAAAAAAAAAAAAAAAAAA2"
#define SID3 "AAAAAAAAAAAAAAAAAAAAA3"
#define SID4 "AAAAAAAAAAAAAAAAAAAAA4"
#define T0 1795306182000000ULL	/* 2026-11-22T00:09:42Z */

/* start - add one session with up to two users */
static void start(struct stats_sessions *t, const char *id, const char *service,
		  unsigned int pid, const char *ip, uint64_t start_usecs,
		  int owner, const char *user1, const char *user2)
{
	char *users[2] = { (char *)user1, (char *)user2 };
	struct stats_session s;

	memset(&s, 0, sizeof(s));
	s.id = (char *)id;
	s.service = (char *)service;
	s.pid = pid;
	s.client_ip = (char *)ip;
	s.client_port = 40000 + pid;
	s.state = (char *)"mail";
	s.users = users;
	s.user_count = user1 == NULL ? 0 : user2 == NULL ? 1 : 2;
	s.start_usecs = start_usecs;
	s.owner = owner;
	stats_sessions_start(t, &s);
}

/* reparse - serialise obj, free it and parse the text back (what a
   client of the API sees) */
static json_object *reparse(json_object *obj)
{
	json_object *parsed = json_tokener_parse(
		json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));

	json_object_put(obj);
	ck_assert_msg(parsed != NULL, "got unparsable JSON");
	return parsed;
}

/* get_str - obj[key] as a string ("(missing)" when absent) */
static const char *get_str(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return "(missing)";
	return json_object_get_string(v);
}

/* get_int - obj[key] as an integer (-1 when absent) */
static int64_t get_int(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return -1;
	return json_object_get_int64(v);
}

/* join_array - obj[key] (an array) joined with ',' into buf */
static const char *join_array(json_object *obj, const char *key,
			      char *buf, size_t size)
{
	json_object *arr;
	size_t i;

	buf[0] = '\0';
	if (!json_object_object_get_ex(obj, key, &arr))
		return "(missing)";
	for (i = 0; i < json_object_array_length(arr); i++) {
		if (i > 0)
			strncat(buf, ",", size - strlen(buf) - 1);
		strncat(buf, json_object_get_string(
			json_object_array_get_idx(arr, i)), size - strlen(buf) - 1);
	}
	return buf;
}

START_TEST(test_start_update_end)
{
	struct stats_sessions *t = stats_sessions_create();
	const struct stats_session *s;
	const char *users[] = { "alice@example.com", "bob@example.com" };

	start(t, SID1, "lmtp", 100, "192.0.2.1", T0, 1, NULL, NULL);
	start(t, SID2, "lmtp", 101, "192.0.2.2", T0 + 1, 1, "carol@x", NULL);
	start(t, SID3, "lda", 102, NULL, T0 + 2, 2, "dave@x", NULL);
	ck_assert_uint_eq(stats_sessions_count(t), 3);
	ck_assert_uint_eq(stats_sessions_count_service(t, "lmtp"), 2);
	ck_assert_uint_eq(stats_sessions_count_service(t, "lda"), 1);
	ck_assert_uint_eq(stats_sessions_count_service(t, "imap"), 0);

	s = stats_sessions_lookup(t, SID1);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->service, "lmtp");
	ck_assert_uint_eq(s->user_count, 0);
	/* a suffixed id finds its session */
	ck_assert_ptr_eq(stats_sessions_lookup(t, SID1 ":T1:R1"), s);
	ck_assert_ptr_null(stats_sessions_lookup(t, SID4));

	ck_assert(stats_sessions_update(t, SID1, 1, "rcpt", users, 2, 10));
	s = stats_sessions_lookup(t, SID1);
	ck_assert_str_eq(s->state, "rcpt");
	ck_assert_uint_eq(s->user_count, 2);
	ck_assert_str_eq(s->users[1], "bob@example.com");
	ck_assert_uint_eq(s->bytes_in, 10);
	/* NULL keeps state and users; a lower byte count is ignored */
	ck_assert(stats_sessions_update(t, SID1, 1, NULL, NULL, 0, 5));
	ck_assert_str_eq(s->state, "rcpt");
	ck_assert_uint_eq(s->user_count, 2);
	ck_assert_uint_eq(s->bytes_in, 10);
	ck_assert(stats_sessions_update(t, SID1, 1, "data", users, 0, 4096));
	ck_assert_uint_eq(s->user_count, 0);
	ck_assert_uint_eq(s->bytes_in, 4096);
	ck_assert(!stats_sessions_update(t, SID4, 1, "data", NULL, 0, 1));
	/* another connection can neither change nor end a session */
	ck_assert(!stats_sessions_update(t, SID1, 2, "kicked", NULL, 0, 1));
	ck_assert_str_eq(s->state, "data");
	ck_assert(!stats_sessions_end(t, SID1, 2));
	ck_assert_ptr_nonnull(stats_sessions_lookup(t, SID1));

	ck_assert(stats_sessions_end(t, SID2 ":T1", 1));
	ck_assert(!stats_sessions_end(t, SID2, 1));
	ck_assert_uint_eq(stats_sessions_count(t), 2);
	ck_assert_uint_eq(stats_sessions_end_owner(t, 1), 1);
	ck_assert_uint_eq(stats_sessions_end_owner(t, 1), 0);
	ck_assert_ptr_null(stats_sessions_lookup(t, SID1));
	ck_assert_ptr_nonnull(stats_sessions_lookup(t, SID3));
	ck_assert_uint_eq(stats_sessions_count(t), 1);

	/* a repeated start by the same owner replaces the session; another
	   owner cannot take it over */
	start(t, SID3, "lmtp", 200, NULL, T0 + 9, 2, NULL, NULL);
	ck_assert_uint_eq(stats_sessions_count(t), 1);
	ck_assert_uint_eq(stats_sessions_lookup(t, SID3)->pid, 200);
	start(t, SID3, "lmtp", 300, NULL, T0 + 9, 3, NULL, NULL);
	ck_assert_uint_eq(stats_sessions_lookup(t, SID3)->pid, 200);
	ck_assert_int_eq(stats_sessions_lookup(t, SID3)->owner, 2);
	stats_sessions_free(&t);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_many_sessions)
{
	struct stats_sessions *t = stats_sessions_create();
	char id[32];
	unsigned int i;

	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "S%021u", i);
		start(t, id, i % 2 == 0 ? "lmtp" : "lda", i, NULL, T0 + i,
		      (int)(i % 7), NULL, NULL);
	}
	ck_assert_uint_eq(stats_sessions_count(t), 1000);
	ck_assert_uint_eq(stats_sessions_count_service(t, "lmtp"), 500);
	for (i = 0; i < 1000; i += 3) {
		snprintf(id, sizeof(id), "S%021u", i);
		ck_assert_msg(stats_sessions_lookup(t, id) != NULL,
			      "%s: got NULL, want the session", id);
	}
	ck_assert_uint_eq(stats_sessions_end_owner(t, 0), 143);
	ck_assert_uint_eq(stats_sessions_count(t), 857);
	stats_sessions_free(&t);
}
END_TEST

/* collect_ids - foreach callback: append the id to a string */
static void collect_ids(const struct stats_session *s, void *context)
{
	char *buf = context;

	if (*buf != '\0')
		strcat(buf, " ");
	strcat(buf, s->id + 20);
}

START_TEST(test_foreach_filter)
{
	struct stats_sessions *t = stats_sessions_create();
	const char *args[] = { "192.0.2.0/24" };
	struct stats_filter filter;
	const char *error;
	char buf[256] = "";

	start(t, SID3, "lmtp", 1, "192.0.2.3", T0 + 5, 1, "x@y", NULL);
	start(t, SID1, "lmtp", 1, "192.0.2.1", T0 + 7, 1, "x@y", NULL);
	start(t, SID2, "lmtp", 1, "198.51.100.2", T0, 1, "z@y", NULL);
	ck_assert_uint_eq(stats_sessions_foreach(t, NULL, collect_ids, buf), 3);
	ck_assert_str_eq(buf, "A2 A3 A1");
	ck_assert_int_eq(stats_filter_parse(args, 1, &filter, &error), 0);
	buf[0] = '\0';
	ck_assert_uint_eq(stats_sessions_foreach(t, &filter, collect_ids, buf), 2);
	ck_assert_str_eq(buf, "A3 A1");
	stats_filter_free(&filter);
	stats_sessions_free(&t);
}
END_TEST

START_TEST(test_who_grouped)
{
	struct stats_sessions *t = stats_sessions_create();
	json_object *arr, *e;
	char buf[256];

	start(t, SID1, "lmtp", 300, "192.0.2.9", T0, 1, "bob@x", "alice@x");
	start(t, SID2, "lmtp", 200, "192.0.2.1", T0 + 1, 1, "alice@x", NULL);
	start(t, SID3, "lmtp", 300, "192.0.2.9", T0 + 2, 1, NULL, NULL);
	start(t, SID4, "lda", 400, NULL, T0 + 3, 2, "alice@x", NULL);
	arr = reparse(stats_sessions_who_json(t, NULL, false, T0));
	ck_assert_uint_eq(json_object_array_length(arr), 4);

	e = json_object_array_get_idx(arr, 0);
	ck_assert_str_eq(get_str(e, "username"), "");
	ck_assert_int_eq(get_int(e, "connections"), 1);
	ck_assert_str_eq(get_str(e, "service"), "lmtp");

	e = json_object_array_get_idx(arr, 1);
	ck_assert_str_eq(get_str(e, "username"), "alice@x");
	ck_assert_str_eq(get_str(e, "service"), "lda");
	ck_assert_int_eq(get_int(e, "connections"), 1);
	ck_assert_str_eq(join_array(e, "pids", buf, sizeof(buf)), "400");
	ck_assert_str_eq(join_array(e, "ips", buf, sizeof(buf)), "");

	e = json_object_array_get_idx(arr, 2);
	ck_assert_str_eq(get_str(e, "username"), "alice@x");
	ck_assert_str_eq(get_str(e, "service"), "lmtp");
	ck_assert_int_eq(get_int(e, "connections"), 2);
	ck_assert_str_eq(join_array(e, "pids", buf, sizeof(buf)), "200,300");
	ck_assert_str_eq(join_array(e, "ips", buf, sizeof(buf)),
			 "192.0.2.1,192.0.2.9");

	e = json_object_array_get_idx(arr, 3);
	ck_assert_str_eq(get_str(e, "username"), "bob@x");
	ck_assert_int_eq(get_int(e, "connections"), 1);
	json_object_put(arr);
	stats_sessions_free(&t);
}
END_TEST

START_TEST(test_who_grouped_dedup_and_filter)
{
	struct stats_sessions *t = stats_sessions_create();
	const char *args[] = { "ALICE@*" };
	struct stats_filter filter;
	json_object *arr, *e;
	const char *error;
	char buf[256];

	start(t, SID1, "lmtp", 7, "192.0.2.9", T0, 1, "alice@x", NULL);
	start(t, SID2, "lmtp", 7, "192.0.2.9", T0 + 1, 1, "alice@x", NULL);
	start(t, SID3, "lmtp", 8, "192.0.2.9", T0 + 1, 1, "bob@x", NULL);
	ck_assert_int_eq(stats_filter_parse(args, 1, &filter, &error), 0);
	arr = reparse(stats_sessions_who_json(t, &filter, false, T0));
	ck_assert_uint_eq(json_object_array_length(arr), 1);
	e = json_object_array_get_idx(arr, 0);
	ck_assert_int_eq(get_int(e, "connections"), 2);
	ck_assert_str_eq(join_array(e, "pids", buf, sizeof(buf)), "7");
	ck_assert_str_eq(join_array(e, "ips", buf, sizeof(buf)), "192.0.2.9");
	json_object_put(arr);
	stats_filter_free(&filter);
	stats_sessions_free(&t);
}
END_TEST

START_TEST(test_who_per_session)
{
	struct stats_sessions *t = stats_sessions_create();
	const char *users[] = { "alice@x", "bob@x" };
	json_object *arr, *e;
	char buf[256];

	start(t, SID2, "lmtp", 42, "::1", T0 + 1500000, 1, NULL, NULL);
	start(t, SID1, "lda", 41, NULL, T0, 2, NULL, NULL);
	stats_sessions_update(t, SID2, 1, "data", users, 2, 12345);
	arr = reparse(stats_sessions_who_json(t, NULL, true, T0 + 61000000));
	ck_assert_uint_eq(json_object_array_length(arr), 2);

	e = json_object_array_get_idx(arr, 0);
	ck_assert_str_eq(get_str(e, "session"), SID1);
	ck_assert_str_eq(get_str(e, "service"), "lda");
	ck_assert_str_eq(get_str(e, "user"), "");
	ck_assert_str_eq(join_array(e, "users", buf, sizeof(buf)), "");
	ck_assert_str_eq(get_str(e, "ip"), "");
	ck_assert_str_eq(get_str(e, "state"), "mail");
	ck_assert_int_eq(get_int(e, "age_secs"), 61);

	e = json_object_array_get_idx(arr, 1);
	ck_assert_str_eq(get_str(e, "session"), SID2);
	ck_assert_str_eq(get_str(e, "service"), "lmtp");
	ck_assert_int_eq(get_int(e, "pid"), 42);
	ck_assert_str_eq(get_str(e, "user"), "alice@x");
	ck_assert_str_eq(join_array(e, "users", buf, sizeof(buf)),
			 "alice@x,bob@x");
	ck_assert_str_eq(get_str(e, "ip"), "::1");
	ck_assert_int_eq(get_int(e, "port"), 40042);
	ck_assert_str_eq(get_str(e, "state"), "data");
	ck_assert_str_eq(get_str(e, "start"), "2026-11-22T00:09:43.500000Z");
	ck_assert_int_eq(get_int(e, "age_secs"), 59);
	ck_assert_int_eq(get_int(e, "bytes_in"), 12345);
	json_object_put(arr);
	stats_sessions_free(&t);
}
END_TEST

START_TEST(test_strings_cleaned)
{
	struct stats_sessions *t = stats_sessions_create();
	char *long_user = malloc(5000);
	const struct stats_session *s;

	memset(long_user, 'u', 4999);
	long_user[4999] = '\0';
	start(t, SID1, "lm\xfftp", 1, NULL, T0, 1, long_user, NULL);
	s = stats_sessions_lookup(t, SID1);
	ck_assert_str_eq(s->service, "lm?tp");
	ck_assert_uint_eq(strlen(s->users[0]), 1024);
	free(long_user);
	stats_sessions_free(&t);
}
END_TEST

START_TEST(test_concurrency)
{
	struct stats_sessions *t = stats_sessions_create();
	unsigned int cur = 99;

	start(t, SID1, "lmtp", 1, NULL, T0, 1, NULL, NULL);
	start(t, SID2, "lmtp", 2, NULL, T0, 1, NULL, NULL);
	start(t, SID3, "lmtp", 3, NULL, T0, 2, NULL, NULL);

	ck_assert(stats_sessions_concurrency_acquire(t, "alice@x", SID1, 1, 2, &cur));
	ck_assert_uint_eq(cur, 1);
	/* the same session again holds no second slot */
	ck_assert(stats_sessions_concurrency_acquire(t, "Alice@X", SID1 ":T1:R2",
						     1, 2, &cur));
	ck_assert_uint_eq(cur, 1);
	/* another connection cannot use a session that is not its own */
	ck_assert(!stats_sessions_concurrency_acquire(t, "alice@x", SID1, 2, 2, &cur));
	ck_assert(stats_sessions_concurrency_acquire(t, "ALICE@x", SID2, 1, 2, &cur));
	ck_assert_uint_eq(cur, 2);
	ck_assert(!stats_sessions_concurrency_acquire(t, "alice@x", SID3, 2, 2, &cur));
	ck_assert_uint_eq(cur, 2);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "alice@X"), 2);
	/* other users are independent; limit 0 is unlimited */
	ck_assert(stats_sessions_concurrency_acquire(t, "bob@x", SID3, 2, 1, &cur));
	ck_assert(stats_sessions_concurrency_acquire(t, "carol@x", SID1, 1, 0, NULL));
	ck_assert(stats_sessions_concurrency_acquire(t, "carol@x", SID2, 1, 0, NULL));
	ck_assert(stats_sessions_concurrency_acquire(t, "carol@x", SID3, 2, 0, &cur));
	ck_assert_uint_eq(cur, 3);

	/* release frees the slot; releasing again is harmless; another
	   connection's release changes nothing */
	stats_sessions_concurrency_release(t, "alice@x", SID2, 2);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "alice@x"), 2);
	stats_sessions_concurrency_release(t, "alice@x", SID2, 1);
	stats_sessions_concurrency_release(t, "alice@x", SID2, 1);
	stats_sessions_concurrency_release(t, "nobody@x", SID2, 1);
	ck_assert(stats_sessions_concurrency_acquire(t, "alice@x", SID3, 2, 2, &cur));
	ck_assert_uint_eq(cur, 2);

	/* ending a session releases all its slots */
	ck_assert(stats_sessions_end(t, SID1, 1));
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "alice@x"), 1);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "carol@x"), 2);
	/* ending an owner releases the slots of all its sessions */
	ck_assert_uint_eq(stats_sessions_end_owner(t, 2), 1);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "alice@x"), 0);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "bob@x"), 0);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "carol@x"), 1);
	/* a slot of a session that was never started goes with its end */
	ck_assert(stats_sessions_concurrency_acquire(t, "dave@x", SID4, 3, 1, NULL));
	ck_assert(!stats_sessions_end(t, SID4, 3));
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "dave@x"), 0);
	/* ... and with its connection: slots under ids never started are
	   released when the owner goes (issue 10: a peer that took every
	   slot of a user under made-up ids blocked them for good) */
	ck_assert(stats_sessions_concurrency_acquire(t, "dave@x", "made-up-1", 4, 2, NULL));
	ck_assert(stats_sessions_concurrency_acquire(t, "dave@x", "made-up-2", 4, 2, NULL));
	ck_assert(stats_sessions_concurrency_acquire(t, "erin@x", "made-up-1", 4, 2, NULL));
	ck_assert(!stats_sessions_concurrency_acquire(t, "dave@x", SID4, 3, 2, NULL));
	ck_assert_uint_eq(stats_sessions_end_owner(t, 4), 0);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "dave@x"), 0);
	ck_assert_uint_eq(stats_sessions_concurrency_count(t, "erin@x"), 0);
	ck_assert(stats_sessions_concurrency_acquire(t, "dave@x", SID4, 3, 2, NULL));
	/* freeing with slots still held leaks nothing (ASan checks) */
	ck_assert(stats_sessions_concurrency_acquire(t, "erin@x", SID2, 1, 1, NULL));
	stats_sessions_free(&t);
}
END_TEST

static Suite *stats_sessions_suite(void)
{
	Suite *s = suite_create("stats_sessions");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_start_update_end);
	tcase_add_test(tc, test_many_sessions);
	tcase_add_test(tc, test_foreach_filter);
	tcase_add_test(tc, test_who_grouped);
	tcase_add_test(tc, test_who_grouped_dedup_and_filter);
	tcase_add_test(tc, test_who_per_session);
	tcase_add_test(tc, test_strings_cleaned);
	tcase_add_test(tc, test_concurrency);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_sessions_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
