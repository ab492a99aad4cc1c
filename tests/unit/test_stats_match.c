/*
 * test_stats_match - unit tests for stats/stats_match: user masks ('*',
 * '?', case), CIDR parsing and matching (IPv4, IPv6, IPv4-mapped, bare
 * addresses, bad input), and filter classification and matching.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "stats_match.h"
#include "stats_sessions.h"
#include "xalloc.h"

struct mask_case {
	const char *mask;
	const char *str;
	bool want;
};

static const struct mask_case mask_cases[] = {
	{ "alice@example.com", "alice@example.com", true },
	{ "alice@example.com", "ALICE@Example.COM", true },
	{ "ALICE@*", "alice@example.com", true },
	{ "alice", "alice@example.com", false },
	{ "alice@example.com", "alice", false },
	{ "*", "", true },
	{ "*", "anything", true },
	{ "", "", true },
	{ "", "x", false },
	{ "*@example.com", "bob@example.com", true },
	{ "*@example.com", "bob@example.org", false },
	{ "*@*.com", "bob@mail.example.com", true },
	{ "a*b*c", "aXXbYYc", true },
	{ "a*b*c", "aXXbYY", false },
	{ "a*c", "abcbc", true },
	{ "a*c", "abcb", false },
	{ "**x", "x", true },
	{ "user?", "user1", true },
	{ "user?", "user", false },
	{ "user?", "user12", false },
	{ "?", "", false },
	{ "?*", "a", true },
	{ "*?", "", false },
	{ "us?r*@EX*", "user0@example.com", true },
	{ "*.example.com", "a@b.example.com", true },
	{ "x", NULL, false },
};

START_TEST(test_mask)
{
	const struct mask_case *c = &mask_cases[_i];
	bool got = mask_match(c->mask, c->str);

	ck_assert_msg(got == c->want, "mask %s vs %s: got %d, want %d",
		      c->mask, c->str != NULL ? c->str : "(null)", got, c->want);
}
END_TEST

struct cidr_case {
	const char *cidr;
	const char *ip;
	int want;		/* 1 match, 0 no match, -1 parse error */
};

static const struct cidr_case cidr_cases[] = {
	{ "192.0.2.0/24", "192.0.2.1", 1 },
	{ "192.0.2.0/24", "192.0.2.255", 1 },
	{ "192.0.2.0/24", "192.0.3.1", 0 },
	{ "192.0.2.77/24", "192.0.2.1", 1 },
	{ "10.0.0.0/8", "10.255.1.2", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "192.0.2.128/25", "192.0.2.127", 0 },
	{ "192.0.2.128/25", "192.0.2.200", 1 },
	{ "192.0.2.4/30", "192.0.2.7", 1 },
	{ "192.0.2.4/30", "192.0.2.8", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "127.0.0.1", "127.0.0.1", 1 },
	{ "127.0.0.1", "127.0.0.2", 0 },
	{ "127.0.0.1/32", "127.0.0.1", 1 },
	{ "::1/128", "::1", 1 },
	{ "::1", "::1", 1 },
	{ "::1", "::2", 0 },
	{ "2001:db8::/32", "2001:db8:1234::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
	{ "::/0", "fe80::1", 1 },
	{ "192.0.2.0/24", "::ffff:192.0.2.9", 1 },
	{ "192.0.2.0/24", "::ffff:192.0.3.9", 0 },
	{ "192.0.2.0/24", "2001:db8::1", 0 },
	{ "::ffff:0:0/96", "198.51.100.1", 1 },
	{ "2001:db8::/32", "192.0.2.1", 0 },
	{ "192.0.2.0/24", "", 0 },
	{ "192.0.2.0/24", "not-an-ip", 0 },
	{ "192.0.2.0/24", NULL, 0 },
	{ "192.0.2.0/33", NULL, -1 },
	{ "::/129", NULL, -1 },
	{ "192.0.2.0/", NULL, -1 },
	{ "192.0.2.0/abc", NULL, -1 },
	{ "192.0.2.0/-1", NULL, -1 },
	{ "192.0.2.0/0024", NULL, -1 },
	{ "192.0.2/24", NULL, -1 },
	{ "300.0.0.1", NULL, -1 },
	{ "alice@example.com", NULL, -1 },
	{ "", NULL, -1 },
	{ "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20:21:22/64", NULL, -1 },
};

START_TEST(test_cidr)
{
	const struct cidr_case *c = &cidr_cases[_i];
	struct cidr cidr;
	const char *error = NULL;
	int ret = cidr_parse(c->cidr, &cidr, &error);

	if (c->want < 0) {
		ck_assert_msg(ret < 0, "%s: got success, want error", c->cidr);
		ck_assert_msg(error != NULL && *error != '\0',
			      "%s: got no error text", c->cidr);
		return;
	}
	ck_assert_msg(ret == 0, "%s: got error %s, want success", c->cidr, error);
	ck_assert_msg(cidr_match(&cidr, c->ip) == (c->want == 1),
		      "%s vs %s: got %d, want %d", c->cidr,
		      c->ip != NULL ? c->ip : "(null)", !c->want, c->want);
}
END_TEST

START_TEST(test_cidr_normalised)
{
	struct cidr cidr;
	const char *error;
	static const unsigned char want[4] = { 10, 0, 0, 0 };

	ck_assert_int_eq(cidr_parse("10.1.2.3/8", &cidr, &error), 0);
	ck_assert_uint_eq(cidr.family, 4);
	ck_assert_uint_eq(cidr.bits, 8);
	ck_assert_msg(memcmp(cidr.addr, want, 4) == 0,
		      "got %u.%u.%u.%u, want 10.0.0.0", cidr.addr[0],
		      cidr.addr[1], cidr.addr[2], cidr.addr[3]);
	ck_assert_int_eq(cidr_parse("2001:db8::1", &cidr, &error), 0);
	ck_assert_uint_eq(cidr.family, 6);
	ck_assert_uint_eq(cidr.bits, 128);
}
END_TEST

struct session_id_case {
	const char *text;
	bool want;
};

static const struct session_id_case session_id_cases[] = {
	{ "0IHkG80yAmsXEgAAg+zDdQ", true },
	{ "0IHkG80yAmsXEgAAg/zDdQ", true },
	{ "0IHkG80yAmsXEgAAg+zDdQ:T1", true },
	{ "0IHkG80yAmsXEgAAg+zDdQ:T1:R2", true },
	{ "0IHkG80yAmsXEgAAg+zDdQ:R12", true },
	{ "0IHkG80yAmsXEgAAg+zDdQ:", false },
	{ "0IHkG80yAmsXEgAAg+zDdQ:X1", false },
	{ "0IHkG80yAmsXEgAAg+zDdQ:T", false },
	{ "0IHkG80yAmsXEgAAg+zDdQx", false },
	{ "0IHkG80yAmsXEgAAg+zDd", false },
	{ "0IHkG80yAmsXEgAAg@zDdQ", false },
	{ "", false },
};

START_TEST(test_session_id)
{
	const struct session_id_case *c = &session_id_cases[_i];

	ck_assert_msg(stats_session_id_valid(c->text) == c->want,
		      "%s: got %d, want %d", c->text, !c->want, c->want);
}
END_TEST

struct classify_case {
	const char *arg;
	int want;		/* 'u' mask, 'i' cidr, 's' session, 'e' error */
};

static const struct classify_case classify_cases[] = {
	{ "alice@example.com", 'u' },
	{ "*@example.com", 'u' },
	{ "bob", 'u' },
	{ "10.*", 'u' },
	{ "cafe", 'u' },
	{ "192.0.2.1", 'i' },
	{ "192.0.2.0/24", 'i' },
	{ "::1", 'i' },
	{ "2001:db8::/32", 'i' },
	{ "0IHkG80yAmsXEgAAg+zDdQ", 's' },
	{ "0IHkG80yAmsXEgAAg+zDdQ:T1:R2", 's' },
	{ "192.0.2.0/33", 'e' },
	{ "1.2.3", 'e' },
	{ "fe80::zz", 'u' },
	{ "abc:def:/99", 'e' },
	{ "", 'e' },
};

START_TEST(test_filter_classify)
{
	const struct classify_case *c = &classify_cases[_i];
	const char *args[1] = { c->arg };
	struct stats_filter filter;
	const char *error = NULL;
	int got;

	if (stats_filter_parse(args, 1, &filter, &error) < 0) {
		ck_assert_msg(stats_filter_is_empty(&filter),
			      "%s: filter not empty after error", c->arg);
		got = 'e';
	} else {
		ck_assert_uint_eq(filter.mask_count + filter.cidr_count +
				  filter.session_id_count, 1);
		got = filter.mask_count == 1 ? 'u' :
			filter.cidr_count == 1 ? 'i' : 's';
	}
	ck_assert_msg(got == c->want, "%s: got %c, want %c (%s)", c->arg,
		      got, c->want, error != NULL ? error : "");
	stats_filter_free(&filter);
}
END_TEST

/* make_session - a session on the stack for filter tests */
static struct stats_session make_session(const char *id, const char *ip,
					 char **users, size_t user_count)
{
	struct stats_session s;

	memset(&s, 0, sizeof(s));
	s.id = (char *)id;
	s.service = (char *)"lmtp";
	s.client_ip = (char *)ip;
	s.users = users;
	s.user_count = user_count;
	return s;
}

struct filter_case {
	const char *args[3];
	size_t n;
	const char *session_id;
	const char *ip;
	const char *user1, *user2;
	bool want;
};

#define SID_A "0IHkG80yAmsXEgAAg+zDdQ"
#define SID_B "BIHkG80yAmsXEgAAg+zDdQ"

static const struct filter_case filter_cases[] = {
	{ { NULL }, 0, SID_A, "192.0.2.1", "alice@x", NULL, true },
	{ { NULL }, 0, SID_A, NULL, NULL, NULL, true },
	{ { "alice@*" }, 1, SID_A, "192.0.2.1", "alice@x", NULL, true },
	{ { "alice@*" }, 1, SID_A, "192.0.2.1", "bob@x", NULL, false },
	{ { "alice@*" }, 1, SID_A, "192.0.2.1", "bob@x", "Alice@y", true },
	{ { "alice@*" }, 1, SID_A, "192.0.2.1", NULL, NULL, false },
	{ { "*" }, 1, SID_A, "192.0.2.1", NULL, NULL, true },
	{ { "alice@*", "bob@*" }, 2, SID_A, NULL, "bob@x", NULL, true },
	{ { "192.0.2.0/24" }, 1, SID_A, "192.0.2.1", "bob@x", NULL, true },
	{ { "192.0.2.0/24" }, 1, SID_A, "198.51.100.1", "bob@x", NULL, false },
	{ { "192.0.2.0/24" }, 1, SID_A, NULL, "bob@x", NULL, false },
	{ { "192.0.2.0/24", "bob@*" }, 2, SID_A, "192.0.2.1", "bob@x", NULL, true },
	{ { "192.0.2.0/24", "bob@*" }, 2, SID_A, "192.0.2.1", "al@x", NULL, false },
	{ { "192.0.2.0/24", "bob@*" }, 2, SID_A, "10.0.0.1", "bob@x", NULL, false },
	{ { "10.0.0.0/8", "192.0.2.0/24" }, 2, SID_A, "10.0.0.1", NULL, NULL, true },
	{ { SID_A }, 1, SID_A, NULL, NULL, NULL, true },
	{ { SID_A ":T1:R2" }, 1, SID_A, NULL, NULL, NULL, true },
	{ { SID_A }, 1, SID_B, NULL, NULL, NULL, false },
	{ { SID_A, SID_B }, 2, SID_B, NULL, NULL, NULL, true },
	{ { SID_A, "bob@*" }, 2, SID_A, NULL, "al@x", NULL, false },
};

START_TEST(test_filter_match)
{
	const struct filter_case *c = &filter_cases[_i];
	char *users[2] = { (char *)c->user1, (char *)c->user2 };
	size_t user_count = c->user1 == NULL ? 0 : c->user2 == NULL ? 1 : 2;
	struct stats_session s = make_session(c->session_id, c->ip, users,
					      user_count);
	struct stats_filter filter;
	const char *error;
	bool got;

	ck_assert_int_eq(stats_filter_parse(c->args, c->n, &filter, &error), 0);
	got = stats_filter_matches(&filter, &s);
	ck_assert_msg(got == c->want, "case %d: got %d, want %d", _i, got,
		      c->want);
	stats_filter_free(&filter);
	ck_assert(stats_filter_is_empty(&filter));
}
END_TEST

START_TEST(test_filter_explicit_kinds)
{
	struct stats_filter filter;
	const char *error = NULL;
	char *users[1] = { (char *)SID_A };
	struct stats_session s = make_session(SID_B, "192.0.2.1", users, 1);

	stats_filter_init(&filter);
	ck_assert(stats_filter_matches(&filter, &s));
	ck_assert(stats_filter_matches(NULL, &s));
	/* a 22-character user name given explicitly as a user */
	ck_assert_int_eq(stats_filter_add(&filter, STATS_FILTER_USER, SID_A,
					  &error), 0);
	ck_assert_uint_eq(filter.mask_count, 1);
	ck_assert(stats_filter_matches(&filter, &s));
	ck_assert_int_eq(stats_filter_add(&filter, STATS_FILTER_IP, "bob",
					  &error), -1);
	ck_assert_int_eq(stats_filter_add(&filter, STATS_FILTER_SESSION, "bob",
					  &error), -1);
	ck_assert_msg(strstr(error, "bob") != NULL, "got %s, want bob in it",
		      error);
	ck_assert_int_eq(stats_filter_add(&filter, STATS_FILTER_IP,
					  "192.0.2.0/24", &error), 0);
	ck_assert(stats_filter_matches(&filter, &s));
	stats_filter_free(&filter);
}
END_TEST

static Suite *stats_match_suite(void)
{
	Suite *s = suite_create("stats_match");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_mask, 0, LOFT_N_ELEMENTS(mask_cases));
	tcase_add_loop_test(tc, test_cidr, 0, LOFT_N_ELEMENTS(cidr_cases));
	tcase_add_test(tc, test_cidr_normalised);
	tcase_add_loop_test(tc, test_session_id, 0,
			    LOFT_N_ELEMENTS(session_id_cases));
	tcase_add_loop_test(tc, test_filter_classify, 0,
			    LOFT_N_ELEMENTS(classify_cases));
	tcase_add_loop_test(tc, test_filter_match, 0,
			    LOFT_N_ELEMENTS(filter_cases));
	tcase_add_test(tc, test_filter_explicit_kinds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_match_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
