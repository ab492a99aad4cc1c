/*
 * test_stats_resume - unit tests for stats/stats_resume (the questions a
 * new loft-stats holds until the slots held before it are announced
 * again) and, through a real stats_server fed real envelopes, for
 * stats_slots: a new loft-lmtp's question waits for the old loft-lmtp's
 * re-announced slot and is then refused (without the wait it was
 * granted: two slots where the limit is one); the wait ends when a
 * process loftd listed exits, or after its deadline, without its word;
 * a question whose session ended is never answered; a loft-lmtp that
 * announced before loftd's first report is not waited for. The two
 * "loft-lmtp" processes are real children of this process, which plays
 * loftd (so loft-stats trusts them and sees them alive or gone).
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "evloop.h"
#include "stats_private.h"
#include "stats_resume.h"
#include "stats_server.h"

#define T0 1000000u

START_TEST(test_resume_until_all_heard)
{
	struct stats_resume *r = stats_resume_create(T0);
	const uint32_t pids[] = { 11, 12, 11 };
	struct stats_resume_question *q;
	uint32_t left[4];

	/* before loftd's report: questions wait */
	ck_assert(stats_resume_waiting(r, T0 + 10));
	stats_resume_hold(r, 1, 7, "u@x", "S1", 1, T0 + 10);
	stats_resume_hold(r, 2, 8, "v@x", "S2:T1", 2, T0 + 20);
	ck_assert_uint_eq(stats_resume_held(r), 2);
	ck_assert_ptr_null(stats_resume_next(r, T0 + 30));
	ck_assert_uint_eq(stats_resume_due_msecs(r), T0 + 10 + STATS_RESUME_HOLD_MSECS);
	stats_resume_expect(r, pids, 3, T0 + 40);
	/* a pid listed twice is waited for once; a second report changes
	   nothing */
	ck_assert_uint_eq(stats_resume_expected(r, left, 4), 2);
	stats_resume_expect(r, pids, 1, T0 + 50);
	ck_assert_uint_eq(stats_resume_expected(r, left, 4), 2);
	stats_resume_heard(r, 12);
	stats_resume_heard(r, 99);
	ck_assert(stats_resume_waiting(r, T0 + 60));
	ck_assert_ptr_null(stats_resume_next(r, T0 + 60));
	stats_resume_heard(r, 11);
	/* all heard: answered now, oldest first */
	ck_assert(!stats_resume_waiting(r, T0 + 70));
	q = stats_resume_next(r, T0 + 70);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(q->owner, 1);
	ck_assert_uint_eq(q->id, 7);
	ck_assert_str_eq(q->user, "u@x");
	ck_assert_str_eq(q->session_id, "S1");
	ck_assert_uint_eq(q->limit, 1);
	stats_resume_question_free(&q);
	ck_assert_ptr_null(q);
	q = stats_resume_next(r, T0 + 70);
	ck_assert_uint_eq(q->id, 8);
	stats_resume_question_free(&q);
	ck_assert_ptr_null(stats_resume_next(r, T0 + 70));
	ck_assert_uint_eq(stats_resume_due_msecs(r), 0);
	/* over for good: a pid reported later is not waited for */
	stats_resume_expect(r, pids, 3, T0 + 80);
	ck_assert(!stats_resume_waiting(r, T0 + 80));
	stats_resume_free(&r);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_resume_deadlines)
{
	struct stats_resume *r = stats_resume_create(T0);
	const uint32_t pid = 11;
	struct stats_resume_question *q;

	/* no report at all: the wait ends STATS_RESUME_START_MSECS on */
	ck_assert(stats_resume_waiting(r, T0 + STATS_RESUME_START_MSECS - 1));
	ck_assert(!stats_resume_waiting(r, T0 + STATS_RESUME_START_MSECS));
	stats_resume_free(&r);

	r = stats_resume_create(T0);
	stats_resume_expect(r, &pid, 1, T0 + 100);
	stats_resume_hold(r, 1, 1, "u@x", "S1", 1, T0 + 150);
	stats_resume_hold(r, 1, 2, "u@x", "S2", 1, T0 + 250);
	ck_assert_uint_eq(stats_resume_due_msecs(r), T0 + 100 + STATS_RESUME_WAIT_MSECS);
	/* the report's deadline comes before the questions' own */
	ck_assert_ptr_null(stats_resume_next(r, T0 + 99 + STATS_RESUME_WAIT_MSECS));
	q = stats_resume_next(r, T0 + 100 + STATS_RESUME_WAIT_MSECS);
	ck_assert_uint_eq(q->id, 1);
	stats_resume_question_free(&q);
	stats_resume_free(&r);

	/* one question waits STATS_RESUME_HOLD_MSECS at most */

	r = stats_resume_create(T0);
	stats_resume_hold(r, 1, 1, "u@x", "S1", 1, T0 + 10);
	stats_resume_hold(r, 1, 2, "u@x", "S2", 1, T0 + 600);
	q = stats_resume_next(r, T0 + 10 + STATS_RESUME_HOLD_MSECS);
	ck_assert_uint_eq(q->id, 1);
	stats_resume_question_free(&q);
	ck_assert_ptr_null(stats_resume_next(r, T0 + 10 + STATS_RESUME_HOLD_MSECS));
	/* the report's deadline: the rest goes, the wait is over */
	stats_resume_expect(r, &pid, 1, T0 + 520);
	ck_assert_ptr_null(stats_resume_next(r, T0 + 519 + STATS_RESUME_WAIT_MSECS));
	q = stats_resume_next(r, T0 + 520 + STATS_RESUME_WAIT_MSECS);
	ck_assert_uint_eq(q->id, 2);
	stats_resume_question_free(&q);
	ck_assert(!stats_resume_waiting(r, T0 + 520 + STATS_RESUME_WAIT_MSECS));
	stats_resume_free(&r);
}
END_TEST

START_TEST(test_resume_forget)
{
	struct stats_resume *r = stats_resume_create(T0);
	struct stats_resume_question *q;

	stats_resume_hold(r, 1, 1, "u@x", "S1:T1", 1, T0);
	stats_resume_hold(r, 1, 2, "v@x", "S1:T2", 1, T0);
	stats_resume_hold(r, 2, 3, "u@x", "S1", 1, T0);
	stats_resume_hold(r, 1, 4, "u@x", "S2", 1, T0);
	stats_resume_hold(r, 3, 5, "w@x", "S3", 1, T0);
	/* the slot given back: that user of that session (case aside) */
	ck_assert_uint_eq(stats_resume_forget(r, 1, "S1", "U@X"), 1);
	/* another owner's session of the same id is not ours */
	ck_assert_uint_eq(stats_resume_forget(r, 1, "S1:T9", NULL), 1);
	ck_assert_uint_eq(stats_resume_held(r), 3);
	/* the connection went */
	ck_assert_uint_eq(stats_resume_forget(r, 1, NULL, NULL), 1);
	ck_assert_uint_eq(stats_resume_forget(r, 1, NULL, NULL), 0);
	/* the tail still works after the last one went */
	ck_assert_uint_eq(stats_resume_forget(r, 3, NULL, NULL), 1);
	stats_resume_hold(r, 4, 6, "x@x", "S4", 1, T0);
	ck_assert_uint_eq(stats_resume_held(r), 2);
	q = stats_resume_next(r, T0 + STATS_RESUME_HOLD_MSECS);
	ck_assert_uint_eq(q->id, 3);
	stats_resume_question_free(&q);
	q = stats_resume_next(r, T0 + STATS_RESUME_HOLD_MSECS);
	ck_assert_uint_eq(q->id, 6);
	stats_resume_question_free(&q);
	ck_assert_ptr_null(stats_resume_next(r, T0 + STATS_RESUME_HOLD_MSECS));
	/* freed with questions held: nothing leaks (ASan) */
	stats_resume_hold(r, 4, 7, "x@x", "S4", 1, T0);
	stats_resume_free(&r);
}
END_TEST

/* --- through a stats_server: this process is loftd --- */

#define USER "u@example.com"
#define OLD_SID "AAAAAAAAAAAAAAAAAAAAA1"
#define NEW_SID "AAAAAAAAAAAAAAAAAAAAA2"

struct fixture {
	struct evloop *loop;
	struct loft_settings set;
	struct stats_server *server;
	struct stats_peer *master;
	pid_t old_lmtp, new_lmtp;	/* children standing for loft-lmtp */
};

/* child - a process of ours that only waits */
static pid_t child(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* gone with the test, whatever happens to it */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

/* deliver - env from peer, which must not be dropped for it */
static void deliver(struct stats_peer *peer, Loft__Envelope *env)
{
	ck_assert(stats_server_peer_message(peer, env));
}

static struct stats_peer *hello(struct fixture *f, pid_t pid, Loft__Role role,
				const char *service)
{
	struct stats_peer *peer = stats_server_peer_create(f->server, getuid(),
							   pid);
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Hello m = LOFT__HELLO__INIT;

	m.version = LOFT__PROTOCOL_VERSION__PROTOCOL_VERSION_CURRENT;
	m.role = role;
	m.service = (char *)service;
	m.has_pid = true;
	m.pid = (uint32_t)pid;
	env.body_case = LOFT__ENVELOPE__BODY_HELLO;
	env.hello = &m;
	deliver(peer, &env);
	ck_assert_int_eq(peer->trust, role == LOFT__ROLE__ROLE_MASTER ?
			 STATS_PEER_MASTER : STATS_PEER_SERVICE);
	return peer;
}

/* master_status - loftd's report: the new loft-lmtp runs, the old one
   is retired */
static void master_status(struct fixture *f)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__MasterStatus m = LOFT__MASTER_STATUS__INIT;
	Loft__ServiceStatus lmtp = LOFT__SERVICE_STATUS__INIT;
	Loft__ServiceStatus *services[1] = { &lmtp };
	uint32_t pids[1] = { (uint32_t)f->new_lmtp };
	uint32_t retired[1] = { (uint32_t)f->old_lmtp };

	lmtp.name = (char *)"lmtp";
	lmtp.processes = 1;
	lmtp.up = true;
	lmtp.n_pids = 1;
	lmtp.pids = pids;
	lmtp.n_retired_pids = 1;
	lmtp.retired_pids = retired;
	m.pid = (uint32_t)getpid();
	m.start_usecs = 1;
	m.n_services = 1;
	m.services = services;
	env.body_case = LOFT__ENVELOPE__BODY_MASTER_STATUS;
	env.master_status = &m;
	deliver(f->master, &env);
}

static void acquire(struct stats_peer *peer, uint64_t id, const char *sid,
		    unsigned int limit)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__ConcurrencyAcquire m = LOFT__CONCURRENCY_ACQUIRE__INIT;

	m.id = id;
	m.user = (char *)USER;
	m.session_id = (char *)sid;
	m.limit = limit;
	env.body_case = LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE;
	env.concurrency_acquire = &m;
	deliver(peer, &env);
}

static void announced(struct stats_peer *peer)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Announced m = LOFT__ANNOUNCED__INIT;

	env.body_case = LOFT__ENVELOPE__BODY_ANNOUNCED;
	env.announced = &m;
	deliver(peer, &env);
}

static void session_end(struct stats_peer *peer, const char *sid)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionEnd m = LOFT__SESSION_END__INIT;

	m.session_id = (char *)sid;
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_END;
	env.session_end = &m;
	deliver(peer, &env);
}

/* slots - USER's slots in the table, and how many questions wait */
static unsigned int slots(struct fixture *f, size_t *held_r)
{
	unsigned int n;

	pthread_mutex_lock(&f->server->lock);
	n = stats_sessions_concurrency_count(f->server->sessions, USER);
	*held_r = f->server->resume == NULL ? 0 :
		stats_resume_held(f->server->resume);
	pthread_mutex_unlock(&f->server->lock);
	return n;
}

/* run_for - the loop (its timers) for msecs */
static void run_for(struct fixture *f, unsigned int msecs)
{
	uint64_t end = clock_monotonic_msecs() + msecs, now;

	while ((now = clock_monotonic_msecs()) < end)
		(void)evloop_run_once(f->loop, (int)(end - now));
}

static void setup(struct fixture *f)
{
	const char *error;

	memset(f, 0, sizeof(*f));
	ck_assert_msg(config_load_string("t.conf", "service lmtp {\n}\n", NULL,
					 &f->set, &error) == 0, "%s", error);
	f->loop = evloop_create();
	f->old_lmtp = child();
	f->new_lmtp = child();
	f->server = stats_server_create(f->loop, &f->set, NULL);
	stats_server_set_master(f->server, getpid());
	f->master = hello(f, getpid(), LOFT__ROLE__ROLE_MASTER, "master");
}

static void teardown(struct fixture *f)
{
	stats_server_free(&f->server);
	evloop_free(&f->loop);
	settings_free(&f->set);
	reap(f->old_lmtp);
	reap(f->new_lmtp);
}

/* new_lmtp_asks - after loftd's report, the new loft-lmtp (nothing to
   announce) asks for USER's slot: the question waits */
static struct stats_peer *new_lmtp_asks(struct fixture *f)
{
	struct stats_peer *peer;
	size_t held;

	master_status(f);
	peer = hello(f, f->new_lmtp, LOFT__ROLE__ROLE_SERVICE, "lmtp");
	announced(peer);
	acquire(peer, 1, NEW_SID, 1);
	ck_assert_uint_eq(slots(f, &held), 0);
	ck_assert_uint_eq(held, 1);
	return peer;
}

START_TEST(test_new_question_waits_for_old_slot)
{
	struct fixture f;
	struct stats_peer *old_peer, *new_peer;
	size_t held;

	setup(&f);
	/* the new loft-lmtp asks first */
	new_peer = new_lmtp_asks(&f);
	/* the old one hands over: its slot, taken without the limit */
	old_peer = hello(&f, f.old_lmtp, LOFT__ROLE__ROLE_SERVICE, "lmtp");
	acquire(old_peer, 1, OLD_SID, 0);
	ck_assert_uint_eq(slots(&f, &held), 1);
	ck_assert_uint_eq(held, 1);
	announced(old_peer);
	/* answered now, from the whole table: refused */
	ck_assert_uint_eq(slots(&f, &held), 1);
	ck_assert_uint_eq(held, 0);
	ck_assert_ptr_null(f.server->resume);
	/* and the one slot is the old session's */
	session_end(old_peer, OLD_SID);
	ck_assert_uint_eq(slots(&f, &held), 0);
	/* from now on questions are answered at once */
	acquire(new_peer, 2, NEW_SID, 1);
	ck_assert_uint_eq(slots(&f, &held), 1);
	teardown(&f);
}
END_TEST

START_TEST(test_wait_ends_when_old_process_exits)
{
	struct fixture f;
	size_t held;
	uint64_t started;

	setup(&f);
	(void)new_lmtp_asks(&f);
	/* the old one exits without a word: not waited for any more */
	started = clock_monotonic_msecs();
	reap(f.old_lmtp);
	while (slots(&f, &held) == 0 &&
	       clock_monotonic_msecs() - started < 1000)
		run_for(&f, 10);
	ck_assert_uint_eq(slots(&f, &held), 1);
	ck_assert_uint_eq(held, 0);
	ck_assert_uint_lt(clock_monotonic_msecs() - started,
			  STATS_RESUME_WAIT_MSECS - 100);
	teardown(&f);
}
END_TEST

START_TEST(test_wait_ends_at_deadline)
{
	struct fixture f;
	struct stats_peer *new_peer;
	size_t held;

	setup(&f);
	new_peer = new_lmtp_asks(&f);
	/* a session that ended takes its question with it */
	acquire(new_peer, 2, "AAAAAAAAAAAAAAAAAAAAA9", 1);
	ck_assert_uint_eq(slots(&f, &held), 0);
	ck_assert_uint_eq(held, 2);
	session_end(new_peer, "AAAAAAAAAAAAAAAAAAAAA9");
	ck_assert_uint_eq(slots(&f, &held), 0);
	ck_assert_uint_eq(held, 1);
	/* the old one lives but never announces: fail open on time */
	run_for(&f, STATS_RESUME_WAIT_MSECS - 100);
	ck_assert_uint_eq(slots(&f, &held), 0);
	run_for(&f, 200);
	ck_assert_uint_eq(slots(&f, &held), 1);
	ck_assert_uint_eq(held, 0);
	ck_assert_ptr_null(f.server->resume);
	teardown(&f);
}
END_TEST

START_TEST(test_announced_before_master_report)
{
	struct fixture f;
	struct stats_peer *old_peer, *new_peer;
	size_t held;

	setup(&f);
	/* both hand over before loftd's first report comes */
	old_peer = hello(&f, f.old_lmtp, LOFT__ROLE__ROLE_SERVICE, "lmtp");
	acquire(old_peer, 1, OLD_SID, 0);
	announced(old_peer);
	new_peer = hello(&f, f.new_lmtp, LOFT__ROLE__ROLE_SERVICE, "lmtp");
	announced(new_peer);
	acquire(new_peer, 1, NEW_SID, 1);
	ck_assert_uint_eq(slots(&f, &held), 1);
	ck_assert_uint_eq(held, 1);
	/* the report names no one still to hear from */
	master_status(&f);
	ck_assert_uint_eq(slots(&f, &held), 1);
	ck_assert_uint_eq(held, 0);
	ck_assert_ptr_null(f.server->resume);
	teardown(&f);
}
END_TEST

static Suite *stats_resume_suite(void)
{
	Suite *s = suite_create("stats_resume");
	TCase *tc = tcase_create("resume");
	TCase *ts = tcase_create("server");

	tcase_add_test(tc, test_resume_until_all_heard);
	tcase_add_test(tc, test_resume_deadlines);
	tcase_add_test(tc, test_resume_forget);
	suite_add_tcase(s, tc);
	tcase_add_test(ts, test_new_question_waits_for_old_slot);
	tcase_add_test(ts, test_wait_ends_when_old_process_exits);
	tcase_add_test(ts, test_wait_ends_at_deadline);
	tcase_add_test(ts, test_announced_before_master_report);
	suite_add_tcase(s, ts);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_resume_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
