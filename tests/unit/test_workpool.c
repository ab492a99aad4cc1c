/*
 * test_workpool - unit tests for lib/workpool: work runs on worker threads
 * with every signal blocked, done runs on the loop thread, pending counts
 * down, submission order is kept by a single worker, workpool_free() runs
 * every outstanding done (also when called from a done callback), and a
 * slow job does not hold up the loop's timers.
 */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "evloop.h"
#include "test_loop_util.h"
#include "workpool.h"

#define N_CASES(arr) (sizeof(arr) / sizeof((arr)[0]))
#define MAX_JOBS 100

struct pool_state;

struct job {
	struct pool_state *st;
	unsigned int index;
	unsigned int sleep_msecs;
	pthread_t work_thread;
	pthread_t done_thread;
	bool signals_blocked;
	bool worked;
	bool done;
};

struct pool_state {
	struct evloop *loop;
	struct workpool *pool;
	/* the pool for follow-up jobs: workpool_free() clears pool first */
	struct workpool *submit_pool;
	pthread_t loop_thread;
	unsigned int fds_before, threads_before;
	struct job jobs[MAX_JOBS];
	unsigned int submitted;
	unsigned int done_order[MAX_JOBS];
	unsigned int done_count;
	unsigned int stop_after;
	bool pending_ok;
	/* job index whose done callback frees the pool, or -1 */
	int free_in_done;
	/* job index whose done callback submits one follow-up job, or -1 */
	int submit_in_done;
};

/* job_work - worker side: note the thread and its signal mask, sleep */
static void job_work(void *context)
{
	struct job *job = context;
	sigset_t cur;

	job->work_thread = pthread_self();
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	job->signals_blocked = sigismember(&cur, SIGUSR1) == 1 &&
		sigismember(&cur, SIGTERM) == 1 && sigismember(&cur, SIGINT) == 1;
	if (job->sleep_msecs > 0)
		sleep_ms(job->sleep_msecs);
	job->worked = true;
}

static void job_done(void *context);

/* submit_job - submit the next job slot */
static void submit_job(struct pool_state *st, unsigned int sleep_msecs)
{
	struct job *job = &st->jobs[st->submitted];

	ck_assert_uint_lt(st->submitted, MAX_JOBS);
	*job = (struct job){ .st = st, .index = st->submitted,
			     .sleep_msecs = sleep_msecs };
	st->submitted++;
	workpool_submit(st->submit_pool, job_work, job_done, job);
}

/* job_done - loop side: note the thread and order, check pending */
static void job_done(void *context)
{
	struct job *job = context;
	struct pool_state *st = job->st;

	ck_assert(job->worked);
	job->done = true;
	job->done_thread = pthread_self();
	st->done_order[st->done_count++] = job->index;
	if (st->pool != NULL &&
	    workpool_pending(st->pool) != st->submitted - st->done_count)
		st->pending_ok = false;
	if ((int)job->index == st->submit_in_done)
		submit_job(st, 1);
	if ((int)job->index == st->free_in_done) {
		workpool_free(&st->pool);
		ck_assert_ptr_null(st->pool);
	}
	if (st->done_count == st->stop_after)
		evloop_stop(st->loop);
}

/* pool_state_init - a loop and a pool of threads workers */
static void pool_state_init(struct pool_state *st, unsigned int threads)
{
	*st = (struct pool_state){ .pending_ok = true, .free_in_done = -1,
				   .submit_in_done = -1 };
	st->fds_before = count_entries("/proc/self/fd");
	st->threads_before = count_entries("/proc/self/task");
	st->loop = evloop_create();
	st->pool = workpool_create(st->loop, threads);
	st->submit_pool = st->pool;
	st->loop_thread = pthread_self();
	ck_assert_uint_eq(workpool_pending(st->pool), 0);
}

/* check_all_done - every job worked on a worker, finished on the loop */
static void check_all_done(const struct pool_state *st)
{
	ck_assert_msg(st->done_count == st->submitted,
		      "got %u done callbacks, want %u",
		      st->done_count, st->submitted);
	ck_assert_msg(st->pending_ok, "pending did not count down");
	for (unsigned int i = 0; i < st->submitted; i++) {
		const struct job *job = &st->jobs[i];

		ck_assert_msg(job->done, "job %u: done did not run", i);
		ck_assert_msg(!pthread_equal(job->work_thread, st->loop_thread),
			      "job %u: work ran on the loop thread", i);
		ck_assert_msg(pthread_equal(job->done_thread, st->loop_thread),
			      "job %u: done ran off the loop thread", i);
		ck_assert_msg(job->signals_blocked,
			      "job %u: worker had signals unblocked", i);
	}
}

/* pool_state_free - release pool (when still there) and loop; no fd or
   thread may be left behind */
static void pool_state_free(struct pool_state *st)
{
	unsigned int fds, threads;

	workpool_free(&st->pool);
	ck_assert_ptr_null(st->pool);
	evloop_free(&st->loop);
	fds = count_entries("/proc/self/fd");
	/* a joined thread's /proc entry can outlive pthread_join() by a
	   moment (the kernel wakes the joiner before it reaps the task) */
	for (int i = 0; i < 200; i++) {
		threads = count_entries("/proc/self/task");
		if (threads == st->threads_before)
			break;
		sleep_ms(5);
	}
	ck_assert_msg(fds == st->fds_before, "got %u open fds, want %u",
		      fds, st->fds_before);
	ck_assert_msg(threads == st->threads_before, "got %u threads, want %u",
		      threads, st->threads_before);
}

struct spread_case {
	unsigned int threads;
	unsigned int jobs;
	unsigned int sleep_msecs;
};

static const struct spread_case spread_cases[] = {
	{ 4, 100, 1 },
	{ 4, 100, 0 },
	{ 1, 10, 0 },
	{ 0, 5, 0 },	/* 0 threads means 1 */
	{ 16, 3, 2 },
};

START_TEST(test_jobs_on_threads)
{
	const struct spread_case *c = &spread_cases[_i];
	struct pool_state st;
	pthread_t seen[MAX_JOBS];
	unsigned int distinct = 0;

	pool_state_init(&st, c->threads);
	for (unsigned int i = 0; i < c->jobs; i++)
		submit_job(&st, c->sleep_msecs);
	ck_assert_uint_eq(workpool_pending(st.pool), c->jobs);
	st.stop_after = c->jobs;
	run_loop(st.loop);
	check_all_done(&st);
	ck_assert_uint_eq(workpool_pending(st.pool), 0);
	for (unsigned int i = 0; i < st.submitted; i++) {
		unsigned int j = 0;

		while (j < distinct && !pthread_equal(seen[j], st.jobs[i].work_thread))
			j++;
		if (j == distinct)
			seen[distinct++] = st.jobs[i].work_thread;
	}
	unsigned int max_threads = c->threads == 0 ? 1 : c->threads;
	ck_assert_msg(distinct <= max_threads, "got %u worker threads, want <= %u",
		      distinct, max_threads);
	pool_state_free(&st);
}
END_TEST

START_TEST(test_single_worker_order)
{
	struct pool_state st;

	pool_state_init(&st, 1);
	for (unsigned int i = 0; i < 20; i++)
		submit_job(&st, i % 3);
	st.stop_after = 20;
	run_loop(st.loop);
	check_all_done(&st);
	for (unsigned int i = 0; i < 20; i++) {
		ck_assert_msg(st.done_order[i] == i, "slot %u: got job %u, want %u",
			      i, st.done_order[i], i);
	}
	pool_state_free(&st);
}
END_TEST

struct free_case {
	unsigned int threads;
	unsigned int jobs;
	int submit_in_done;
};

static const struct free_case free_cases[] = {
	{ 1, 10, -1 },
	{ 3, 30, -1 },
	{ 2, 10, 4 },	/* a done callback submits a follow-up during free */
};

START_TEST(test_free_runs_every_done)
{
	const struct free_case *c = &free_cases[_i];
	struct pool_state st;

	pool_state_init(&st, c->threads);
	st.submit_in_done = c->submit_in_done;
	for (unsigned int i = 0; i < c->jobs; i++)
		submit_job(&st, 2);
	/* never ran the loop: free waits for the workers and runs done */
	workpool_free(&st.pool);
	ck_assert_uint_eq(st.submitted, c->jobs + (c->submit_in_done >= 0 ? 1 : 0));
	check_all_done(&st);
	pool_state_free(&st);
}
END_TEST

START_TEST(test_free_from_done)
{
	struct pool_state st;

	pool_state_init(&st, 2);
	st.free_in_done = 0;
	for (unsigned int i = 0; i < 8; i++)
		submit_job(&st, i == 0 ? 0 : 5);
	(void)evloop_add_timer(st.loop, 60, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_ptr_null(st.pool);
	check_all_done(&st);
	pool_state_free(&st);
}
END_TEST

struct responsive_state {
	struct pool_state pool;
	uint64_t start;
	uint64_t timer_at;
};

/* note_timer - the loop's timer, due long before the job finishes */
static int64_t note_timer(struct evloop_timer *timer, void *context)
{
	struct responsive_state *rs = context;

	rs->timer_at = now_ms() - rs->start;
	return EVLOOP_NOMORE;
}

START_TEST(test_loop_stays_responsive)
{
	struct responsive_state rs;
	uint64_t done_at;

	pool_state_init(&rs.pool, 1);
	rs.timer_at = 0;
	rs.start = now_ms();
	submit_job(&rs.pool, 600);
	(void)evloop_add_timer(rs.pool.loop, 50, note_timer, &rs);
	rs.pool.stop_after = 1;
	run_loop(rs.pool.loop);
	done_at = now_ms() - rs.start;
	check_all_done(&rs.pool);
	/* the timer fires while the job still runs; the margin (550 ms) is
	   wide so a loaded machine (the suite runs two at a time) passes */
	ck_assert_msg(rs.timer_at >= 50 && rs.timer_at < 600,
		      "got timer after %llu ms, want 50..599",
		      (unsigned long long)rs.timer_at);
	ck_assert_msg(done_at >= 600, "got done after %llu ms, want >= 600",
		      (unsigned long long)done_at);
	pool_state_free(&rs.pool);
}
END_TEST

/* workpool_suite - all workpool cases */
static Suite *workpool_suite(void)
{
	Suite *s = suite_create("workpool");
	TCase *tc = tcase_create("workpool");

	tcase_add_loop_test(tc, test_jobs_on_threads, 0, N_CASES(spread_cases));
	tcase_add_test(tc, test_single_worker_order);
	tcase_add_loop_test(tc, test_free_runs_every_done, 0, N_CASES(free_cases));
	tcase_add_test(tc, test_free_from_done);
	tcase_add_test(tc, test_loop_stays_responsive);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workpool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
