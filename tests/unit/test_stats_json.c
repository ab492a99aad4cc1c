/*
 * test_stats_json - unit tests for stats/stats_json: UTF-8 cleaning and
 * capping of copied strings, RFC 3339 timestamps and level names.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "stats_json.h"
#include "xalloc.h"

struct strdup_case {
	const char *in;
	size_t max;
	const char *want;
};

static const struct strdup_case strdup_cases[] = {
	{ "", 10, "" },
	{ "plain ascii", 100, "plain ascii" },
	{ "plain ascii", 5, "plain" },
	{ "caf\xc3\xa9", 10, "caf\xc3\xa9" },
	{ "caf\xc3\xa9", 4, "caf" },			/* no half character */
	{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
	{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },		/* U+20AC */
	{ "\xe2\x82\xac", 2, "" },
	{ "\xf0\x9f\x98\x80!", 5, "\xf0\x9f\x98\x80!" },	/* U+1F600 */
	{ "a\xff" "b", 10, "a?b" },
	{ "a\xc3", 10, "a?" },				/* truncated sequence */
	{ "\xc3(", 10, "?(" },				/* bad continuation */
	{ "\xc0\xaf", 10, "??" },			/* overlong '/' */
	{ "\xe0\x80\xaf", 10, "???" },			/* overlong 3-byte */
	{ "\xed\xa0\x80", 10, "???" },			/* surrogate D800 */
	{ "\xf4\x90\x80\x80", 10, "????" },		/* above U+10FFFF */
	{ "\xf5\x80\x80\x80", 10, "????" },
	{ "\x80x", 10, "?x" },				/* lone continuation */
	{ "ab\xff", 3, "ab?" },
	{ "ab\xff", 2, "ab" },
};

START_TEST(test_strdup)
{
	const struct strdup_case *c = &strdup_cases[_i];
	char *got = stats_json_strdup(c->in, c->max);

	ck_assert_msg(strcmp(got, c->want) == 0, "case %d: got \"%s\", want \"%s\"",
		      _i, got, c->want);
	free(got);
}
END_TEST

START_TEST(test_strdup_null)
{
	ck_assert_ptr_null(stats_json_strdup(NULL, 10));
	ck_assert_ptr_null(stats_json_string(NULL));
}
END_TEST

struct ts_case {
	uint64_t usecs;
	const char *want;
};

static const struct ts_case ts_cases[] = {
	{ 0, "1970-01-01T00:00:00.000000Z" },
	{ 1795306182000000ULL, "2026-11-22T00:09:42.000000Z" },
	{ 1795306182999999ULL, "2026-11-22T00:09:42.999999Z" },
	{ 951782400123456ULL, "2000-02-29T00:00:00.123456Z" },
};

START_TEST(test_ts)
{
	const struct ts_case *c = &ts_cases[_i];
	char buf[STATS_JSON_TS_SIZE];

	stats_json_format_ts(c->usecs, buf);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%llu: got %s, want %s",
		      (unsigned long long)c->usecs, buf, c->want);
}
END_TEST

START_TEST(test_levels)
{
	enum log_level level;
	unsigned int i;

	for (i = 0; i < LOG_LEVEL_COUNT; i++) {
		ck_assert(stats_json_level_parse(
			stats_json_level_name((enum log_level)i), &level));
		ck_assert_uint_eq(level, i);
	}
	ck_assert_str_eq(stats_json_level_name(LOG_LEVEL_WARNING), "warning");
	ck_assert_str_eq(stats_json_level_name(LOG_LEVEL_COUNT), "unknown");
	ck_assert(stats_json_level_parse("ERROR", &level));
	ck_assert_uint_eq(level, LOG_LEVEL_ERROR);
	ck_assert(!stats_json_level_parse("warn", &level));
	ck_assert(clock_realtime_usecs() > 1700000000000000ULL);
}
END_TEST

static Suite *stats_json_suite(void)
{
	Suite *s = suite_create("stats_json");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_strdup, 0,
			    LOFT_N_ELEMENTS(strdup_cases));
	tcase_add_test(tc, test_strdup_null);
	tcase_add_loop_test(tc, test_ts, 0, LOFT_N_ELEMENTS(ts_cases));
	tcase_add_test(tc, test_levels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
