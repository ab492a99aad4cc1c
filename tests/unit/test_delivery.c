/*
 * test_delivery - unit tests for the delivery core's pure pieces: the
 * outcome -> sysexits / name mapping (quota rules: test_quota.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "delivery.h"
#include "outcome.h"

struct exit_case {
	enum outcome_result result;
	enum outcome_reason reason;
	int exit_code;
	const char *result_name;
};

static const struct exit_case exit_cases[] = {
	{ OUTCOME_SAVED, OUTCOME_REASON_NONE, EX_OK, "saved" },
	{ OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER, EX_TEMPFAIL, "tempfail" },
	{ OUTCOME_TEMPFAIL, OUTCOME_REASON_QUOTA, EX_TEMPFAIL, "tempfail" },
	{ OUTCOME_REJECTED, OUTCOME_REASON_UNKNOWN_USER, EX_NOUSER, "rejected" },
	{ OUTCOME_REJECTED, OUTCOME_REASON_QUOTA, EX_NOPERM, "rejected" },
	{ OUTCOME_REJECTED, OUTCOME_REASON_OTHER, EX_NOPERM, "rejected" },
	{ OUTCOME_REJECTED, OUTCOME_REASON_SYNTAX, EX_USAGE, "rejected" },
};

START_TEST(test_outcome_exit_code)
{
	const struct exit_case *c = &exit_cases[_i];
	struct outcome out;

	outcome_set(&out, c->result, c->reason, 451, "4.3.0", "text %d", 1);
	ck_assert_int_eq(outcome_exit_code(&out), c->exit_code);
	ck_assert_str_eq(outcome_result_name(out.result), c->result_name);
	ck_assert_str_eq(out.text, "text 1");
	ck_assert_str_eq(out.enhanced, "4.3.0");
}
END_TEST

START_TEST(test_outcome_helpers)
{
	struct outcome out;

	outcome_saved(&out, "Saved");
	ck_assert_int_eq(out.code, 250);
	ck_assert_str_eq(out.enhanced, "2.0.0");
	outcome_tempfail(&out, NULL, "x");
	ck_assert_int_eq(out.code, 451);
	ck_assert_str_eq(out.enhanced, "4.3.0");
	ck_assert_str_eq(outcome_reason_name(OUTCOME_REASON_UNKNOWN_USER), "unknown_user");
	ck_assert_str_eq(outcome_reason_name(OUTCOME_REASON_CONCURRENCY), "concurrency");
	/* the text is bounded, never overflowing */
	char big[2000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	outcome_tempfail(&out, "4.3.0", "%s", big);
	ck_assert_uint_eq(strlen(out.text), OUTCOME_TEXT_MAX - 1);
}
END_TEST

static Suite *delivery_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_outcome_exit_code, 0,
			    (int)(sizeof(exit_cases) / sizeof(exit_cases[0])));
	tcase_add_test(tc, test_outcome_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(delivery_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
