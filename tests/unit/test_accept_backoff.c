/*
 * test_accept_backoff - unit tests for lib/accept_backoff: a failed
 * accept pauses the listener, the pause doubles up to the maximum and
 * starts over after a success, and the failure is reported at most once
 * per interval with the count left out (issue 10, point 5).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_MSECS 6000
#include "test_loop_util.h"

#include "accept_backoff.h"

struct watch_log {
	struct evloop *loop;
	struct accept_backoff *backoff;
	unsigned int pauses, resumes;
	uint64_t paused_at, resumed_after[8];
	bool fail_again;	/* on resume, fail once more */
	unsigned int failures_left;
	unsigned int logged;
	char note[128];
};

static void on_watch(bool watch, void *context)
{
	struct watch_log *w = context;

	/* the module reports itself paused before it asks to stop */
	ck_assert(accept_backoff_paused(w->backoff) == !watch);
	if (!watch) {
		w->pauses++;
		w->paused_at = now_ms();
		return;
	}
	if (w->resumes < 8)
		w->resumed_after[w->resumes] = now_ms() - w->paused_at;
	w->resumes++;
	if (w->failures_left > 0) {
		w->failures_left--;
		if (accept_backoff_failed(w->backoff, w->note, sizeof(w->note)))
			w->logged++;
	} else {
		evloop_stop(w->loop);
	}
}

START_TEST(test_pause_doubles_and_logs_once)
{
	struct watch_log w;

	memset(&w, 0, sizeof(w));
	w.loop = evloop_create();
	w.backoff = accept_backoff_create(w.loop, on_watch, &w);
	ck_assert(!accept_backoff_paused(w.backoff));
	ck_assert(accept_backoff_failed(w.backoff, w.note, sizeof(w.note)));
	ck_assert_str_eq(w.note, "not accepting for 100 ms");
	ck_assert(accept_backoff_paused(w.backoff));
	/* failing again while paused changes nothing but the count */
	ck_assert(!accept_backoff_failed(w.backoff, w.note, sizeof(w.note)));
	ck_assert_uint_eq(w.pauses, 1);
	w.failures_left = 3;	/* 100, 200, 400, 800 ms */
	run_loop(w.loop);
	ck_assert_uint_eq(w.pauses, 4);
	ck_assert_uint_eq(w.resumes, 4);
	ck_assert_uint_eq(w.logged, 0);
	ck_assert_uint_ge(w.resumed_after[0], 90);
	ck_assert_uint_ge(w.resumed_after[1], 190);
	ck_assert_uint_ge(w.resumed_after[3], 790);
	ck_assert(!accept_backoff_paused(w.backoff));
	/* a success starts the pause over at the minimum */
	accept_backoff_succeeded(w.backoff);
	ck_assert(!accept_backoff_failed(w.backoff, w.note, sizeof(w.note)));
	accept_backoff_free(&w.backoff);
	ck_assert_ptr_null(w.backoff);
	evloop_free(&w.loop);
}
END_TEST

START_TEST(test_pause_caps_at_max)
{
	struct watch_log w;

	memset(&w, 0, sizeof(w));
	w.loop = evloop_create();
	w.backoff = accept_backoff_create(w.loop, on_watch, &w);
	(void)accept_backoff_failed(w.backoff, w.note, sizeof(w.note));
	w.failures_left = 4;	/* 100, 200, 400, 800, 1000 */
	run_loop(w.loop);
	ck_assert_uint_ge(w.resumed_after[4], 990);
	ck_assert_uint_lt(w.resumed_after[4], 1500);
	/* freed while paused: the timer goes too (ASan checks) */
	ck_assert(!accept_backoff_failed(w.backoff, w.note, sizeof(w.note)));
	accept_backoff_free(&w.backoff);
	evloop_free(&w.loop);
}
END_TEST

static Suite *accept_backoff_suite(void)
{
	Suite *s = suite_create("accept_backoff");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_pause_doubles_and_logs_once);
	tcase_add_test(tc, test_pause_caps_at_max);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(accept_backoff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
