/*
 * test_stats_errors - unit tests for stats/stats_errors: which levels are
 * kept, the ring wrap, since/limit queries newest first, and the JSON
 * entry fields.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stats_errors.h"
#include "xalloc.h"

#define T0 1795306182000000ULL	/* 2026-11-22T00:09:42Z */

/* msgs - the msg fields of a query result joined with ',' */
static const char *msgs(json_object *arr, char *buf, size_t size)
{
	json_object *v;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(arr); i++) {
		ck_assert(json_object_object_get_ex(
			json_object_array_get_idx(arr, i), "msg", &v));
		if (i > 0)
			strncat(buf, ",", size - strlen(buf) - 1);
		strncat(buf, json_object_get_string(v), size - strlen(buf) - 1);
	}
	return buf;
}

struct level_case {
	enum log_level level;
	bool want_kept;
};

static const struct level_case level_cases[] = {
	{ LOG_LEVEL_DEBUG, false },
	{ LOG_LEVEL_INFO, false },
	{ LOG_LEVEL_WARNING, true },
	{ LOG_LEVEL_ERROR, true },
	{ LOG_LEVEL_FATAL, true },
	{ LOG_LEVEL_PANIC, true },
	{ LOG_LEVEL_COUNT, false },
};

START_TEST(test_levels)
{
	const struct level_case *c = &level_cases[_i];
	struct stats_errors *e = stats_errors_create(0);
	bool kept = stats_errors_add(e, T0, c->level, "lmtp", 1, NULL, NULL, "x");

	ck_assert_msg(kept == c->want_kept, "level %d: got kept=%d, want %d",
		      c->level, kept, c->want_kept);
	ck_assert_uint_eq(stats_errors_count(e), c->want_kept ? 1 : 0);
	stats_errors_free(&e);
	ck_assert_ptr_null(e);
}
END_TEST

struct query_case {
	uint64_t since;
	unsigned int limit;
	const char *want;
};

/* the ring below holds m3..m7 at T0 + 3..7 s */
static const struct query_case query_cases[] = {
	{ 0, 0, "m7,m6,m5,m4,m3" },
	{ 0, 2, "m7,m6" },
	{ 0, 100, "m7,m6,m5,m4,m3" },
	{ T0 + 5000000, 0, "m7,m6,m5" },
	{ T0 + 5000001, 0, "m7,m6" },
	{ T0 + 5000000, 1, "m7" },
	{ T0 + 8000000, 0, "" },
};

START_TEST(test_query)
{
	const struct query_case *c = &query_cases[_i];
	struct stats_errors *e = stats_errors_create(5);
	json_object *arr;
	char text[16], buf[128];
	unsigned int n;

	for (n = 1; n <= 7; n++) {
		snprintf(text, sizeof(text), "m%u", n);
		ck_assert(stats_errors_add(e, T0 + n * 1000000ULL,
					   LOG_LEVEL_ERROR, "lmtp", n, NULL,
					   NULL, text));
	}
	ck_assert_uint_eq(stats_errors_count(e), 5);
	arr = stats_errors_query(e, c->since, c->limit);
	ck_assert_msg(strcmp(msgs(arr, buf, sizeof(buf)), c->want) == 0,
		      "case %d: got %s, want %s", _i, buf, c->want);
	json_object_put(arr);
	stats_errors_free(&e);
}
END_TEST

START_TEST(test_default_capacity_and_limit)
{
	struct stats_errors *e = stats_errors_create(0);
	json_object *arr;
	unsigned int n;

	for (n = 0; n < 1500; n++)
		stats_errors_add(e, T0 + n, LOG_LEVEL_WARNING, "lmtp", n, NULL,
				 NULL, "w");
	ck_assert_uint_eq(stats_errors_count(e), STATS_ERRORS_DEFAULT_CAPACITY);
	arr = stats_errors_query(e, 0, 0);
	ck_assert_uint_eq(json_object_array_length(arr),
			  STATS_ERRORS_DEFAULT_LIMIT);
	json_object_put(arr);
	arr = stats_errors_query(e, 0, 5000);
	ck_assert_uint_eq(json_object_array_length(arr),
			  STATS_ERRORS_DEFAULT_CAPACITY);
	json_object_put(arr);
	stats_errors_free(&e);
}
END_TEST

START_TEST(test_entry_json)
{
	struct stats_errors *e = stats_errors_create(3);
	json_object *arr, *parsed, *obj, *v;

	stats_errors_add(e, T0 + 7, LOG_LEVEL_FATAL, "lmtp", 4242,
			 "AAAAAAAAAAAAAAAAAAAAAA", "alice@example.com",
			 "Fatal: open(/x) failed: \xff");
	stats_errors_add(e, T0 + 8, LOG_LEVEL_WARNING, NULL, 0, NULL, NULL,
			 "disk almost full");
	arr = stats_errors_query(e, 0, 0);
	parsed = json_tokener_parse(json_object_to_json_string(arr));
	json_object_put(arr);
	ck_assert_ptr_nonnull(parsed);
	ck_assert_uint_eq(json_object_array_length(parsed), 2);

	obj = json_object_array_get_idx(parsed, 0);
	ck_assert_uint_eq(json_object_object_length(obj), 7);
	json_object_object_get_ex(obj, "level", &v);
	ck_assert_str_eq(json_object_get_string(v), "warning");
	json_object_object_get_ex(obj, "service", &v);
	ck_assert(json_object_is_type(v, json_type_null));
	json_object_object_get_ex(obj, "session", &v);
	ck_assert(json_object_is_type(v, json_type_null));

	obj = json_object_array_get_idx(parsed, 1);
	json_object_object_get_ex(obj, "ts", &v);
	ck_assert_str_eq(json_object_get_string(v), "2026-11-22T00:09:42.000007Z");
	json_object_object_get_ex(obj, "level", &v);
	ck_assert_str_eq(json_object_get_string(v), "fatal");
	json_object_object_get_ex(obj, "service", &v);
	ck_assert_str_eq(json_object_get_string(v), "lmtp");
	json_object_object_get_ex(obj, "pid", &v);
	ck_assert_int_eq(json_object_get_int(v), 4242);
	json_object_object_get_ex(obj, "session", &v);
	ck_assert_str_eq(json_object_get_string(v), "AAAAAAAAAAAAAAAAAAAAAA");
	json_object_object_get_ex(obj, "user", &v);
	ck_assert_str_eq(json_object_get_string(v), "alice@example.com");
	json_object_object_get_ex(obj, "msg", &v);
	ck_assert_str_eq(json_object_get_string(v), "Fatal: open(/x) failed: ?");
	json_object_put(parsed);
	stats_errors_free(&e);
}
END_TEST

static Suite *stats_errors_suite(void)
{
	Suite *s = suite_create("stats_errors");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_levels, 0, LOFT_N_ELEMENTS(level_cases));
	tcase_add_loop_test(tc, test_query, 0, LOFT_N_ELEMENTS(query_cases));
	tcase_add_test(tc, test_default_capacity_and_limit);
	tcase_add_test(tc, test_entry_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_errors_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
