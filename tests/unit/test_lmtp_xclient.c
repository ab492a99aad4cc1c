/*
 * test_lmtp_xclient - unit tests for daemon/lmtp/lmtp_xclient: XCLIENT
 * attributes parsed (xtext, [UNAVAILABLE], IPv6, skipped attributes) and
 * refused, the command the proxy writes for what a backend offers, and
 * reading the offer from an LHLO line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp_xclient.h"

static const struct {
	const char *params;
	unsigned int given;
	const char *addr, *session;
	unsigned int port, ttl;
} good[] = {
	{ "ADDR=192.0.2.1 PORT=4711", LMTP_XCLIENT_ADDR | LMTP_XCLIENT_PORT,
	  "192.0.2.1", "", 4711, 0 },
	{ "addr=IPV6:2001:db8::1", LMTP_XCLIENT_ADDR, "2001:db8::1", "", 0, 0 },
	{ "ADDR=::1 TTL=0", LMTP_XCLIENT_ADDR | LMTP_XCLIENT_TTL, "::1", "", 0, 0 },
	{ "SESSION=a+2Bb/c:P1 TTL=5", LMTP_XCLIENT_SESSION | LMTP_XCLIENT_TTL,
	  "", "a+b/c:P1", 0, 5 },
	{ "ADDR=[UNAVAILABLE] PORT=[TEMPUNAVAIL] SESSION=x", LMTP_XCLIENT_SESSION,
	  "", "x", 0, 0 },
	/* what loft does not use is skipped, whatever its (xtext) value */
	{ "PROTO=ESMTP HELO=mx.example LOGIN=+2Bme  TIMEOUT=30 PORT=1",
	  LMTP_XCLIENT_PORT, "", "", 1, 0 },
	{ "PORT=65535 PORT=25", LMTP_XCLIENT_PORT, "", "", 25, 0 },
};

static const struct {
	const char *params, *error;
} bad[] = {
	{ "", "Syntax: XCLIENT attribute=value ..." },
	{ "   ", "Syntax: XCLIENT attribute=value ..." },
	{ "ADDR", "Invalid parameter" },
	{ "=1", "Invalid parameter" },
	{ "AD_DR=1", "Invalid parameter" },
	{ "ADDR=192.0.2.256", "Invalid ADDR parameter" },
	{ "ADDR=IPV6:192.0.2.1", "Invalid ADDR parameter" },
	{ "ADDR=host.example", "Invalid ADDR parameter" },
	{ "PORT=0", "Invalid PORT parameter" },
	{ "PORT=65536", "Invalid PORT parameter" },
	{ "PORT=+2B1", "Invalid PORT parameter" },
	{ "TTL=-1", "Invalid TTL parameter" },
	{ "TTL=99999999999", "Invalid TTL parameter" },
	{ "SESSION=a b", "Invalid parameter" },
	{ "SESSION=a+20b", "Invalid SESSION parameter" },
	{ "SESSION=a;b", "Invalid SESSION parameter" },
	{ "SESSION=", "Invalid SESSION parameter" },
	/* xtext: '+' needs two upper-case hex digits, '=' must be encoded */
	{ "HELO=a+2", "Invalid HELO parameter" },
	{ "HELO=a+2b", "Invalid HELO parameter" },
	{ "HELO=a=b", "Invalid HELO parameter" },
	{ "HELO=a+00", "Invalid HELO parameter" },
};

START_TEST(test_parse_good)
{
	struct lmtp_xclient xc;
	const char *error = NULL;

	ck_assert_msg(lmtp_xclient_parse(good[_i].params, &xc, &error) == 0,
		      "%s: %s", good[_i].params, error);
	ck_assert_uint_eq(xc.given, good[_i].given);
	ck_assert_str_eq(xc.addr, good[_i].addr);
	ck_assert_str_eq(xc.session, good[_i].session);
	ck_assert_uint_eq(xc.port, good[_i].port);
	ck_assert_uint_eq(xc.ttl, good[_i].ttl);
}
END_TEST

START_TEST(test_parse_bad)
{
	struct lmtp_xclient xc;
	const char *error = NULL;

	ck_assert_msg(lmtp_xclient_parse(bad[_i].params, &xc, &error) < 0,
		      "%s parsed", bad[_i].params);
	ck_assert_str_eq(error, bad[_i].error);
}
END_TEST

START_TEST(test_session_length)
{
	char params[SESSION_ID_BUFSIZE + 16];
	struct lmtp_xclient xc;
	const char *error;

	/* the longest id a session can take, and one more */
	snprintf(params, sizeof(params), "SESSION=%0*d", SESSION_ID_BUFSIZE - 1, 7);
	ck_assert_int_eq(lmtp_xclient_parse(params, &xc, &error), 0);
	ck_assert_uint_eq(strlen(xc.session), SESSION_ID_BUFSIZE - 1);
	snprintf(params, sizeof(params), "SESSION=%0*d", SESSION_ID_BUFSIZE, 7);
	ck_assert_int_eq(lmtp_xclient_parse(params, &xc, &error), -1);
}
END_TEST

START_TEST(test_format)
{
	struct lmtp_xclient xc = {
		.given = LMTP_XCLIENT_ADDR | LMTP_XCLIENT_PORT |
			LMTP_XCLIENT_TTL | LMTP_XCLIENT_SESSION,
		.addr = "2001:db8::7", .port = 4711, .ttl = 0,
		.session = "ab+c/d:T2:P1",
	};
	char *line;

	line = lmtp_xclient_format(&xc, ~0U);
	ck_assert_str_eq(line, "XCLIENT SESSION=ab+2Bc/d:T2:P1 TTL=0 PORT=4711 "
			 "ADDR=2001:db8::7");
	free(line);
	/* only what the backend offers */
	line = lmtp_xclient_format(&xc, LMTP_XCLIENT_ADDR | LMTP_XCLIENT_TTL);
	ck_assert_str_eq(line, "XCLIENT TTL=0 ADDR=2001:db8::7");
	free(line);
	ck_assert_ptr_null(lmtp_xclient_format(&xc, 0));
	xc.given = LMTP_XCLIENT_SESSION;
	ck_assert_ptr_null(lmtp_xclient_format(&xc, LMTP_XCLIENT_ADDR));
}
END_TEST

START_TEST(test_offered)
{
	static const char dovecot[] =
		"XCLIENT ADDR PORT PROTO HELO LOGIN SESSION TTL TIMEOUT";

	ck_assert_uint_eq(lmtp_xclient_offered(dovecot, sizeof(dovecot) - 1),
			  LMTP_XCLIENT_ADDR | LMTP_XCLIENT_PORT |
			  LMTP_XCLIENT_TTL | LMTP_XCLIENT_SESSION);
	ck_assert_uint_eq(lmtp_xclient_offered(LMTP_XCLIENT_CAPABILITY,
			  strlen(LMTP_XCLIENT_CAPABILITY)),
			  LMTP_XCLIENT_ADDR | LMTP_XCLIENT_PORT |
			  LMTP_XCLIENT_TTL | LMTP_XCLIENT_SESSION);
	ck_assert_uint_eq(lmtp_xclient_offered("xclient  addr", 13),
			  LMTP_XCLIENT_ADDR);
	/* a bare XCLIENT offers nothing; other lines are no offer */
	ck_assert_uint_eq(lmtp_xclient_offered("XCLIENT", 7), 0);
	ck_assert_uint_eq(lmtp_xclient_offered("XCLIENTS ADDR", 13), 0);
	ck_assert_uint_eq(lmtp_xclient_offered("SIZE 100", 8), 0);
	/* the length bounds it, not a NUL */
	ck_assert_uint_eq(lmtp_xclient_offered("XCLIENT ADDR PORT", 12),
			  LMTP_XCLIENT_ADDR);
}
END_TEST

static Suite *lmtp_xclient_suite(void)
{
	Suite *s = suite_create("lmtp_xclient");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_session_length);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_offered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lmtp_xclient_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
