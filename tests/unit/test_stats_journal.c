/*
 * test_stats_journal - unit tests for stats/stats_journal: the ring
 * (wrap-around, capacity, newest first), every query criterion, limits,
 * the JSON field names and values, and string capping/cleaning.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stats_journal.h"
#include "xalloc.h"

#define T0 1795306182000000ULL	/* 2026-11-22T00:09:42Z */
#define SID_A "AAAAAAAAAAAAAAAAAAAAAA"
#define SID_B "BBBBBBBBBBBBBBBBBBBBBB"

/* add - one record; n numbers the record (ts T0 + n seconds, pid n) */
static void add(struct stats_journal *j, unsigned int n, const char *user,
		const char *env_from, const char *msgid, const char *session,
		const char *result)
{
	struct stats_delivery d;

	memset(&d, 0, sizeof(d));
	d.ts_usecs = T0 + (uint64_t)n * 1000000;
	d.protocol = "lmtp";
	d.pid = n;
	d.session_id = session;
	d.user = user;
	d.msgid = msgid;
	d.from = "Sender <sender@example.org>";
	d.envelope_from = env_from;
	d.rcpt = user;
	d.orig_rcpt = user;
	d.mailbox = "INBOX";
	d.result = result;
	d.enhanced_code = "2.0.0";
	d.text = "Saved";
	d.size = 100 + n;
	d.vsize = 102 + n;
	d.code = 250;
	d.duration_ms = 1.25;
	stats_journal_add(j, &d);
}

/* pids - the pid fields of a query result joined with ',' */
static const char *pids(json_object *arr, char *buf, size_t size)
{
	json_object *v;
	size_t i;
	int len;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(arr); i++) {
		ck_assert(json_object_object_get_ex(
			json_object_array_get_idx(arr, i), "pid", &v));
		len = (int)strlen(buf);
		snprintf(buf + len, size - (size_t)len, "%s%d", i > 0 ? "," : "",
			 json_object_get_int(v));
	}
	return buf;
}

/* sample_journal - 6 records, pids 1..6 */
static struct stats_journal *sample_journal(void)
{
	struct stats_journal *j = stats_journal_create(0);

	add(j, 1, "alice@example.com", "sender@example.org", "<m1@x>",
	    SID_A ":T1:R1", "saved");
	add(j, 2, "bob@example.com", "other@example.net", "<m1@x>",
	    SID_A ":T1:R2", "rejected");
	add(j, 3, "Alice@Example.com", "", "<m2@x>", SID_B ":T1:R1", "saved");
	add(j, 4, "carol@example.org", "SENDER@example.org", NULL,
	    SID_B ":T2:R1", "tempfail");
	add(j, 5, "alice@example.com", NULL, "<m3@x>", SID_B, "saved");
	add(j, 6, NULL, "sender@example.org", "m4@x", NULL, NULL);
	return j;
}

struct query_case {
	struct stats_journal_query q;
	const char *want_pids;
};

static const struct query_case query_cases[] = {
	{ { .limit = 0 }, "6,5,4,3,2,1" },
	{ { .user_mask = "alice@example.com" }, "5,3,1" },
	{ { .user_mask = "*@example.org" }, "4" },
	{ { .user_mask = "*" }, "5,4,3,2,1" },
	{ { .user_mask = "nobody" }, "" },
	{ { .sender = "sender@example.org" }, "6,4,1" },
	{ { .sender = "*@example.n?t" }, "2" },
	{ { .sender = "" }, "5,3" },
	{ { .sender = "<>" }, "5,3" },
	{ { .msgid = "<m1@x>" }, "2,1" },
	{ { .msgid = "m1@x" }, "2,1" },
	{ { .msgid = "<m4@x>" }, "6" },
	{ { .msgid = "<M1@x>" }, "" },
	{ { .msgid = "m1" }, "" },
	{ { .session_id = SID_A }, "2,1" },
	{ { .session_id = SID_B ":T1" }, "3" },
	{ { .session_id = SID_B }, "5,4,3" },
	{ { .session_id = SID_A ":T1:R2" }, "2" },
	{ { .result = "saved" }, "5,3,1" },
	{ { .result = "TEMPFAIL" }, "4" },
	{ { .since_usecs = T0 + 4000000 }, "6,5,4" },
	{ { .since_usecs = T0 + 4000001 }, "6,5" },
	{ { .limit = 2 }, "6,5" },
	{ { .user_mask = "alice*", .result = "saved", .limit = 2 }, "5,3" },
	{ { .user_mask = "alice*", .session_id = SID_B }, "5,3" },
	{ { .sender = "sender@*", .since_usecs = T0 + 2000000 }, "6,4" },
};

START_TEST(test_query)
{
	const struct query_case *c = &query_cases[_i];
	struct stats_journal *j = sample_journal();
	json_object *arr = stats_journal_query(j, &c->q);
	char buf[128];

	ck_assert_msg(strcmp(pids(arr, buf, sizeof(buf)), c->want_pids) == 0,
		      "case %d: got pids %s, want %s", _i, buf, c->want_pids);
	json_object_put(arr);
	stats_journal_free(&j);
	ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_query_null)
{
	struct stats_journal *j = sample_journal();
	json_object *arr = stats_journal_query(j, NULL);
	char buf[128];

	ck_assert_str_eq(pids(arr, buf, sizeof(buf)), "6,5,4,3,2,1");
	json_object_put(arr);
	stats_journal_free(&j);
}
END_TEST

START_TEST(test_ring_wrap)
{
	struct stats_journal *j = stats_journal_create(4);
	struct stats_journal_query q = { .limit = 100 };
	json_object *arr;
	char buf[128];
	unsigned int n;

	ck_assert_uint_eq(stats_journal_capacity(j), 4);
	arr = stats_journal_query(j, &q);
	ck_assert_uint_eq(json_object_array_length(arr), 0);
	json_object_put(arr);
	for (n = 1; n <= 10; n++) {
		add(j, n, "u@x", "s@x", "<m@x>", SID_A, "saved");
		ck_assert_uint_eq(stats_journal_count(j), n < 4 ? n : 4);
	}
	/* the limit is capped at the capacity */
	arr = stats_journal_query(j, &q);
	ck_assert_str_eq(pids(arr, buf, sizeof(buf)), "10,9,8,7");
	json_object_put(arr);
	q.limit = 3;
	arr = stats_journal_query(j, &q);
	ck_assert_str_eq(pids(arr, buf, sizeof(buf)), "10,9,8");
	json_object_put(arr);
	stats_journal_free(&j);
}
END_TEST

START_TEST(test_default_limit)
{
	struct stats_journal *j = stats_journal_create(0);
	struct stats_journal_query q = { .limit = 0 };
	json_object *arr, *v;
	unsigned int n;

	ck_assert_uint_eq(stats_journal_capacity(j),
			  STATS_JOURNAL_DEFAULT_CAPACITY);
	for (n = 1; n <= 150; n++)
		add(j, n, "u@x", "s@x", "<m@x>", SID_A, "saved");
	arr = stats_journal_query(j, &q);
	ck_assert_uint_eq(json_object_array_length(arr),
			  STATS_JOURNAL_DEFAULT_LIMIT);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0),
					    "pid", &v));
	ck_assert_int_eq(json_object_get_int(v), 150);
	json_object_put(arr);
	q.limit = 1000;
	arr = stats_journal_query(j, &q);
	ck_assert_uint_eq(json_object_array_length(arr), 150);
	json_object_put(arr);
	stats_journal_free(&j);
}
END_TEST

START_TEST(test_json_record)
{
	struct stats_journal *j = stats_journal_create(8);
	static const char *const want_keys[] = {
		"ts", "service", "pid", "session", "user", "msgid", "from",
		"envelope_from", "rcpt", "orig_rcpt", "mailbox", "size", "vsize",
		"result", "code", "enhanced_code", "text", "reason",
		"duration_ms", "uid",
	};
	struct stats_delivery d;
	json_object *arr, *obj, *parsed, *v;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.ts_usecs = T0 + 123456;
	d.protocol = "lda";
	d.pid = 4242;
	d.session_id = SID_A;
	d.user = "alice@example.com";
	d.msgid = "<m@x>";
	d.envelope_from = "s@x";
	d.rcpt = "alice+box@example.com";
	d.orig_rcpt = "Alice+box@example.com";
	d.mailbox = "box";
	d.result = "rejected";
	d.enhanced_code = "5.2.2";
	d.text = "Quota exceeded";
	d.reason = "quota";
	d.size = 1234;
	d.vsize = 1260;
	d.code = 552;
	d.duration_ms = 12.3456;
	d.have_uid = true;
	d.uid = 1000;
	stats_journal_add(j, &d);

	arr = stats_journal_query(j, NULL);
	parsed = json_tokener_parse(json_object_to_json_string(arr));
	json_object_put(arr);
	ck_assert_ptr_nonnull(parsed);
	obj = json_object_array_get_idx(parsed, 0);
	ck_assert_uint_eq(json_object_object_length(obj),
			  LOFT_N_ELEMENTS(want_keys));
	for (i = 0; i < LOFT_N_ELEMENTS(want_keys); i++)
		ck_assert_msg(json_object_object_get_ex(obj, want_keys[i], NULL),
			      "got no %s, want it", want_keys[i]);
	json_object_object_get_ex(obj, "ts", &v);
	ck_assert_str_eq(json_object_get_string(v), "2026-11-22T00:09:42.123456Z");
	json_object_object_get_ex(obj, "service", &v);
	ck_assert_str_eq(json_object_get_string(v), "lda");
	json_object_object_get_ex(obj, "pid", &v);
	ck_assert_int_eq(json_object_get_int(v), 4242);
	json_object_object_get_ex(obj, "session", &v);
	ck_assert_str_eq(json_object_get_string(v), SID_A);
	json_object_object_get_ex(obj, "orig_rcpt", &v);
	ck_assert_str_eq(json_object_get_string(v), "Alice+box@example.com");
	json_object_object_get_ex(obj, "size", &v);
	ck_assert_int_eq(json_object_get_int(v), 1234);
	json_object_object_get_ex(obj, "vsize", &v);
	ck_assert_int_eq(json_object_get_int(v), 1260);
	json_object_object_get_ex(obj, "code", &v);
	ck_assert_int_eq(json_object_get_int(v), 552);
	json_object_object_get_ex(obj, "uid", &v);
	ck_assert_int_eq(json_object_get_int(v), 1000);
	json_object_object_get_ex(obj, "enhanced_code", &v);
	ck_assert_str_eq(json_object_get_string(v), "5.2.2");
	json_object_object_get_ex(obj, "text", &v);
	ck_assert_str_eq(json_object_get_string(v), "Quota exceeded");
	json_object_object_get_ex(obj, "reason", &v);
	ck_assert_str_eq(json_object_get_string(v), "quota");
	json_object_object_get_ex(obj, "from", &v);
	ck_assert(json_object_is_type(v, json_type_null));
	json_object_object_get_ex(obj, "duration_ms", &v);
	ck_assert_double_eq_tol(json_object_get_double(v), 12.346, 1e-9);
	json_object_put(parsed);
	stats_journal_free(&j);
}
END_TEST

START_TEST(test_strings_capped)
{
	struct stats_journal *j = stats_journal_create(2);
	struct stats_delivery d;
	json_object *arr, *v;
	char *big = malloc(3000);
	const char *text;

	/* 1023 ASCII bytes, then a 2-byte character that does not fit */
	memset(big, 'a', 2999);
	big[1023] = '\xc3';
	big[1024] = '\xa9';
	big[2999] = '\0';
	memset(&d, 0, sizeof(d));
	d.text = big;
	d.user = "bad\xff\xfe" "byte";
	stats_journal_add(j, &d);
	free(big);

	arr = stats_journal_query(j, NULL);
	json_object_object_get_ex(json_object_array_get_idx(arr, 0), "text", &v);
	text = json_object_get_string(v);
	ck_assert_uint_eq(strlen(text), 1023);
	json_object_object_get_ex(json_object_array_get_idx(arr, 0), "user", &v);
	ck_assert_str_eq(json_object_get_string(v), "bad??byte");
	json_object_put(arr);
	stats_journal_free(&j);
}
END_TEST

static Suite *stats_journal_suite(void)
{
	Suite *s = suite_create("stats_journal");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_query, 0, LOFT_N_ELEMENTS(query_cases));
	tcase_add_test(tc, test_query_null);
	tcase_add_test(tc, test_ring_wrap);
	tcase_add_test(tc, test_default_limit);
	tcase_add_test(tc, test_json_record);
	tcase_add_test(tc, test_strings_capped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_journal_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
