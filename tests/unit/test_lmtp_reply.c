/*
 * test_lmtp_reply - unit tests for daemon/lmtp/lmtp_reply, the parser of
 * what LMTP backends answer the proxy: single and multi-line replies,
 * enhanced codes, partial input, and what is refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp_reply.h"

static unsigned int caps;

static void count_caps(const char *text, size_t len, void *context)
{
	(void)context;
	if (len == 7 && memcmp(text, "XCLIENT", 7) == 0)
		caps++;
}

START_TEST(test_replies)
{
	static const struct {
		const char *in;
		unsigned int code;
		const char *enhanced, *text;
		size_t consumed;
	} cases[] = {
		{ "250 2.1.5 OK\r\n", 250, "2.1.5", "OK", 14 },
		{ "250 OK\r\n", 250, "", "OK", 8 },
		{ "220\r\n", 220, "", "", 5 },
		{ "250 2.0.0 <a@b> ID Saved\r\n452 4.2.2 x\r\n", 250, "2.0.0",
		  "<a@b> ID Saved", 26 },
		{ "250-host\r\n250-PIPELINING\r\n250 XCLIENT\r\n", 250, "",
		  "XCLIENT", 39 },
		{ "550 5.1.1 <x@y> User doesn't exist: x@y\n", 550, "5.1.1",
		  "<x@y> User doesn't exist: x@y", 40 },
		{ "451 4.3.0\r\n", 451, "4.3.0", "", 11 },
		{ "250 3.1.1 class differs\r\n", 250, "", "3.1.1 class differs", 25 },
		{ "250 2.1.5OK\r\n", 250, "", "2.1.5OK", 13 },
	};
	struct lmtp_reply reply;
	const char *error;
	size_t consumed;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(lmtp_reply_parse(cases[i].in, strlen(cases[i].in),
					       &reply, &consumed, NULL, NULL,
					       &error) == 1, "%zu: %s", i, error);
		ck_assert_uint_eq(reply.code, cases[i].code);
		ck_assert_str_eq(reply.enhanced, cases[i].enhanced);
		ck_assert_str_eq(reply.text, cases[i].text);
		ck_assert_uint_eq(consumed, cases[i].consumed);
	}
	caps = 0;
	ck_assert_int_eq(lmtp_reply_parse("250-h\r\n250 XCLIENT\r\n", 20, &reply,
					  &consumed, count_caps, NULL, &error), 1);
	ck_assert_uint_eq(caps, 1);
	ck_assert_uint_eq(reply.lines, 2);
}
END_TEST

START_TEST(test_incomplete_and_refused)
{
	static const char *const incomplete[] = {
		"", "2", "250", "250 OK", "250 OK\r", "250-a\r\n", "250-a\r\n250 b",
	};
	static const char *const refused[] = {
		"\r\n", "ok\r\n", "150 x\r\n", "600 x\r\n", "25x y\r\n",
		"250xy\r\n", "250-a\r\n251 b\r\n", "250 a\x01b\r\n",
	};
	struct lmtp_reply reply;
	const char *error;
	size_t consumed;
	char *long_line;

	for (size_t i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]); i++)
		ck_assert_msg(lmtp_reply_parse(incomplete[i], strlen(incomplete[i]),
					       &reply, &consumed, NULL, NULL,
					       &error) == 0, "%s", incomplete[i]);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		error = NULL;
		ck_assert_msg(lmtp_reply_parse(refused[i], strlen(refused[i]),
					       &reply, &consumed, NULL, NULL,
					       &error) < 0, "%s", refused[i]);
		ck_assert_ptr_nonnull(error);
	}
	/* a line past the limit, with or without its end */
	long_line = malloc(LMTP_REPLY_MAX_LINE + 10);
	memset(long_line, 'x', LMTP_REPLY_MAX_LINE + 9);
	memcpy(long_line, "250 ", 4);
	long_line[LMTP_REPLY_MAX_LINE + 9] = '\0';
	ck_assert_int_lt(lmtp_reply_parse(long_line, strlen(long_line), &reply,
					  &consumed, NULL, NULL, &error), 0);
	free(long_line);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lmtp_reply");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_incomplete_and_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
