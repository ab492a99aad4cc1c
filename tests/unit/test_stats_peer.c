/*
 * test_stats_peer - unit tests for stats/stats_peer: which messages each
 * kind of stats-writer peer may send (issue 10), the /proc parent
 * lookup, service users, and the per-uid complaint limiter.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats_peer.h"

#define M STATS_PEER_MASTER
#define S STATS_PEER_SERVICE
#define U STATS_PEER_USER
#define P STATS_PEER_PENDING

struct may_case {
	Loft__Envelope__BodyCase body;
	const char *name;
	bool master, service, user;
};

static const struct may_case may_cases[] = {
	{ LOFT__ENVELOPE__BODY_SESSION_START, "session_start", false, true, true },
	{ LOFT__ENVELOPE__BODY_SESSION_UPDATE, "session_update", false, true, true },
	{ LOFT__ENVELOPE__BODY_SESSION_END, "session_end", false, true, true },
	{ LOFT__ENVELOPE__BODY_DELIVERY, "delivery", false, true, true },
	{ LOFT__ENVELOPE__BODY_TIMING, "timing", false, true, true },
	{ LOFT__ENVELOPE__BODY_LOG_EVENT, "log_event", true, true, true },
	{ LOFT__ENVELOPE__BODY_LOG_WRITE_FAILURES, "log_write_failures", true, true, true },
	{ LOFT__ENVELOPE__BODY_DROPPED, "dropped", true, true, true },
	{ LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE, "concurrency_acquire", false, true, false },
	{ LOFT__ENVELOPE__BODY_CONCURRENCY_RELEASE, "concurrency_release", false, true, false },
	{ LOFT__ENVELOPE__BODY_MASTER_STATUS, "master_status", true, false, false },
	{ LOFT__ENVELOPE__BODY_RELOAD_RESULT, "reload_result", true, false, false },
	/* what loft-stats sends, or the admin socket's: nobody sends it here */
	{ LOFT__ENVELOPE__BODY_KICK, "kick", false, false, false },
	{ LOFT__ENVELOPE__BODY_DEBUG_USERS, "debug_users", false, false, false },
	{ LOFT__ENVELOPE__BODY_CONCURRENCY_REPLY, "concurrency_reply", false, false, false },
	{ LOFT__ENVELOPE__BODY_RELOAD_REQUEST, "reload_request", false, false, false },
	{ LOFT__ENVELOPE__BODY_MASTER_COMMAND, "master_command", false, false, false },
	{ LOFT__ENVELOPE__BODY_ADMIN_REQUEST, "admin_request", false, false, false },
	{ LOFT__ENVELOPE__BODY_ADMIN_REPLY, "admin_reply", false, false, false },
};

START_TEST(test_may_send)
{
	const struct may_case *c = &may_cases[_i];

	ck_assert_msg(stats_peer_may_send(M, c->body) == c->master,
		      "master %s: got %d, want %d", c->name, !c->master, c->master);
	ck_assert_msg(stats_peer_may_send(S, c->body) == c->service,
		      "service %s: got %d, want %d", c->name, !c->service, c->service);
	ck_assert_msg(stats_peer_may_send(U, c->body) == c->user,
		      "user %s: got %d, want %d", c->name, !c->user, c->user);
	/* before its Hello a peer may send nothing but the Hello */
	ck_assert(!stats_peer_may_send(P, c->body));
}
END_TEST

START_TEST(test_parent_pid)
{
	pid_t ppid = 0;

	ck_assert_int_eq(stats_peer_parent_pid(getpid(), &ppid), 0);
	ck_assert_int_eq(ppid, getppid());
	ck_assert_int_eq(stats_peer_parent_pid(0x7ffffff0, &ppid), -1);
}
END_TEST

START_TEST(test_process_uid)
{
	uid_t uid = 12345;

	ck_assert_int_eq(stats_peer_process_uid(getpid(), &uid), 0);
	ck_assert_uint_eq(uid, geteuid());
	ck_assert_int_eq(stats_peer_process_uid(0x7ffffff0, &uid), -1);
}
END_TEST

START_TEST(test_uids)
{
	struct service_settings svcs[2];
	struct loft_settings set;
	struct stats_peer_uids *uids;

	memset(&set, 0, sizeof(set));
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = (char *)"lmtp";
	svcs[0].user = (char *)"";
	svcs[1].name = (char *)"stats";
	svcs[1].user = (char *)"0";
	set.services = svcs;
	set.service_count = 2;
	uids = stats_peer_uids_create(&set, 0);
	/* an empty user is loftd's, root */
	ck_assert(stats_peer_uids_match(uids, "lmtp", 0));
	ck_assert(!stats_peer_uids_match(uids, "lmtp", 65534));
	ck_assert(stats_peer_uids_match(uids, "stats", 0));
	ck_assert(!stats_peer_uids_match(uids, "imap", 0));
	stats_peer_uids_free(&uids);
	/* a loftd not running as root: its uid */
	uids = stats_peer_uids_create(&set, 1000);
	ck_assert(stats_peer_uids_match(uids, "lmtp", 1000));
	ck_assert(!stats_peer_uids_match(uids, "lmtp", 0));
	ck_assert(stats_peer_uids_match(uids, "stats", 0));
	stats_peer_uids_free(&uids);
	ck_assert_ptr_null(uids);
}
END_TEST

/* a user's loft-lda reports its own uid's deliveries only; root (a
   setuid-root loft-lda) and services any */
static const struct {
	enum stats_peer_trust trust;
	uid_t peer_uid;
	bool has_uid;
	uint32_t uid;
	bool allowed;
} uid_cases[] = {
	{ STATS_PEER_USER, 65534, true, 65534, true },
	{ STATS_PEER_USER, 65534, true, 1000, false },
	{ STATS_PEER_USER, 65534, true, 0, false },
	/* recorded under the peer's uid */
	{ STATS_PEER_USER, 65534, false, 0, true },
	{ STATS_PEER_USER, 0, true, 1000, true },
	{ STATS_PEER_USER, 0, false, 0, true },
	{ STATS_PEER_SERVICE, 8, true, 1000, true },
	{ STATS_PEER_SERVICE, 8, false, 0, true },
};

START_TEST(test_delivery_uid)
{
	const char *refused = stats_peer_delivery_refusal(uid_cases[_i].trust,
							  uid_cases[_i].peer_uid,
							  uid_cases[_i].has_uid,
							  uid_cases[_i].uid);

	ck_assert_msg((refused == NULL) == uid_cases[_i].allowed, "case %d: %s",
		      _i, refused != NULL ? refused : "allowed");
}
END_TEST

START_TEST(test_log_limit)
{
	struct stats_peer_logs *logs = stats_peer_logs_create();
	unsigned int suppressed = 99;

	ck_assert(stats_peer_logs_allow(logs, 65534, 1000, &suppressed));
	ck_assert_uint_eq(suppressed, 0);
	for (unsigned int i = 0; i < 40000; i++)
		ck_assert(!stats_peer_logs_allow(logs, 65534, 1000 + i / 10,
						 &suppressed));
	/* another uid has its own budget */
	ck_assert(stats_peer_logs_allow(logs, 1000, 2000, &suppressed));
	/* after the interval: one line, with the count left out */
	ck_assert(stats_peer_logs_allow(logs, 65534, 1000 + STATS_PEER_LOG_MSECS,
					&suppressed));
	ck_assert_uint_eq(suppressed, 40000);
	ck_assert(!stats_peer_logs_allow(logs, 65534, 1001 + STATS_PEER_LOG_MSECS,
					 &suppressed));
	/* many uids: the table stays bounded and each still gets a line */
	for (unsigned int uid = 2000; uid < 2000 + 3 * STATS_PEER_LOG_UIDS; uid++)
		ck_assert(stats_peer_logs_allow(logs, uid, 30000, &suppressed));
	stats_peer_logs_free(&logs);
	ck_assert_ptr_null(logs);
}
END_TEST

static Suite *stats_peer_suite(void)
{
	Suite *s = suite_create("stats_peer");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_may_send, 0,
			    (int)(sizeof(may_cases) / sizeof(may_cases[0])));
	tcase_add_test(tc, test_parent_pid);
	tcase_add_test(tc, test_process_uid);
	tcase_add_test(tc, test_uids);
	tcase_add_loop_test(tc, test_delivery_uid, 0,
			    (int)(sizeof(uid_cases) / sizeof(uid_cases[0])));
	tcase_add_test(tc, test_log_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_peer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
