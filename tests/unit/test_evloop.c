/*
 * test_evloop - unit tests for lib/evloop: io readiness, pausing and
 * resuming, removal from inside callbacks (own and another io's, in the
 * same epoll batch), EOF/hang-up reporting, always-ready and broken fds,
 * timer order, repetition, reset and EVLOOP_NOMORE, signal delivery, the
 * before-sleep hook, evloop_stop(), evloop_run_once() and evloop_free() of
 * a busy loop.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
/* every loop below stops long before the guard (test_loop_util.h), or
   the test fails */
#include "test_loop_util.h"

#define N_CASES(arr) (sizeof(arr) / sizeof((arr)[0]))

/* make_fd_pair - a pipe (socket false) or a socketpair */
static void make_fd_pair(int fds[2], bool socket)
{
	int ret = socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds);

	ck_assert_int_eq(ret, 0);
}

/* put_byte - make fd readable on the other end */
static void put_byte(int fd)
{
	ck_assert_int_eq(write(fd, "x", 1), 1);
}

/* close_pair - close whatever of fds is still open */
static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* count_fds - open descriptors of this process */
static unsigned int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int count = 0;
	struct dirent *d;

	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.')
			count++;
	}
	closedir(dir);
	return count;
}

/* ---------------------------------------------------------------- ios */

/* state shared by the io tests' callbacks */
struct io_state {
	struct evloop *loop;
	struct evloop_io *io;
	unsigned int calls;
	unsigned int events;
	ssize_t read_ret;
	bool stop_on_event;
	unsigned int iterations;
};

/* record_io - io callback: record the events, read if readable, stop */
static void record_io(struct evloop_io *io, int fd, unsigned int events,
		      void *context)
{
	struct io_state *st = context;
	char buf[16];

	st->calls++;
	st->events = events;
	if ((events & EVLOOP_READ) != 0)
		st->read_ret = read(fd, buf, sizeof(buf));
	if (st->stop_on_event)
		evloop_stop(st->loop);
}

struct ready_case {
	const char *name;
	bool socket;
	bool data;
	unsigned int watch;
	unsigned int want;
};

static const struct ready_case ready_cases[] = {
	{ "pipe read", false, true, EVLOOP_READ, EVLOOP_READ },
	{ "socket write", true, false, EVLOOP_WRITE, EVLOOP_WRITE },
	{ "socket read", true, true, EVLOOP_READ, EVLOOP_READ },
	{ "socket read+write", true, true, EVLOOP_READ | EVLOOP_WRITE,
	  EVLOOP_READ | EVLOOP_WRITE },
	{ "socket no data, read+write", true, false,
	  EVLOOP_READ | EVLOOP_WRITE, EVLOOP_WRITE },
};

START_TEST(test_io_ready)
{
	const struct ready_case *c = &ready_cases[_i];
	struct io_state st = { .stop_on_event = true };
	int fds[2];

	st.loop = evloop_create();
	make_fd_pair(fds, c->socket);
	if (c->data)
		put_byte(fds[1]);
	st.io = evloop_add_io(st.loop, fds[0], c->watch, record_io, &st);
	ck_assert_ptr_null(evloop_io_error(st.io));
	run_loop(st.loop);
	ck_assert_msg(st.calls == 1, "%s: got %u calls, want 1", c->name, st.calls);
	ck_assert_msg(st.events == c->want, "%s: got events %#x, want %#x",
		      c->name, st.events, c->want);
	evloop_remove_io(&st.io);
	ck_assert_ptr_null(st.io);
	evloop_free(&st.loop);
	ck_assert_ptr_null(st.loop);
	close_pair(fds);
}
END_TEST

/* resume_timer - the paused io must not have fired; resume it */
static int64_t resume_timer(struct evloop_timer *timer, void *context)
{
	struct io_state *st = context;

	ck_assert_msg(st->calls == 0, "paused io: got %u calls, want 0",
		      st->calls);
	evloop_io_set_events(st->io, EVLOOP_READ);
	return EVLOOP_NOMORE;
}

START_TEST(test_io_pause_resume)
{
	struct io_state st = { .stop_on_event = true };
	struct evloop_timer *resume;
	int fds[2];

	st.loop = evloop_create();
	make_fd_pair(fds, false);
	put_byte(fds[1]);
	st.io = evloop_add_io(st.loop, fds[0], EVLOOP_READ, record_io, &st);
	evloop_io_set_events(st.io, 0);
	resume = evloop_add_timer(st.loop, 30, resume_timer, &st);
	ck_assert_ptr_nonnull(resume);
	run_loop(st.loop);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_uint_eq(st.events, EVLOOP_READ);
	ck_assert_int_eq(st.read_ret, 1);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
	close_pair(fds);
}
END_TEST

/* count_iterations - before-sleep hook counting loop iterations */
static void count_iterations(void *context)
{
	(*(unsigned int *)context)++;
}

/* hup_paused_timer - a paused hung-up fd neither fires nor spins */
static int64_t hup_paused_timer(struct evloop_timer *timer, void *context)
{
	struct io_state *st = context;

	ck_assert_msg(st->calls == 0, "paused io: got %u calls, want 0",
		      st->calls);
	ck_assert_msg(st->iterations < 10,
		      "got %u iterations in 40 ms, want < 10", st->iterations);
	evloop_io_set_events(st->io, EVLOOP_READ);
	return EVLOOP_NOMORE;
}

START_TEST(test_io_paused_hangup)
{
	struct io_state st = { .stop_on_event = true };
	struct evloop_timer *timer;
	int fds[2];

	st.loop = evloop_create();
	make_fd_pair(fds, false);
	close(fds[1]);
	fds[1] = -1;
	st.io = evloop_add_io(st.loop, fds[0], 0, record_io, &st);
	evloop_set_before_sleep(st.loop, count_iterations, &st.iterations);
	timer = evloop_add_timer(st.loop, 40, hup_paused_timer, &st);
	ck_assert_ptr_nonnull(timer);
	run_loop(st.loop);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_uint_eq(st.events, EVLOOP_READ | EVLOOP_ERROR);
	ck_assert_int_eq(st.read_ret, 0);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
	close_pair(fds);
}
END_TEST

/* remove_self_io - io callback removing its own io */
static void remove_self_io(struct evloop_io *io, int fd, unsigned int events,
			   void *context)
{
	struct io_state *st = context;

	ck_assert_ptr_eq(io, st->io);
	st->calls++;
	evloop_remove_io(&st->io);
	ck_assert_ptr_null(st->io);
}

START_TEST(test_io_remove_self)
{
	struct io_state st = { 0 };
	int fds[2];

	st.loop = evloop_create();
	make_fd_pair(fds, false);
	put_byte(fds[1]);
	st.io = evloop_add_io(st.loop, fds[0], EVLOOP_READ, remove_self_io, &st);
	(void)evloop_add_timer(st.loop, 30, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_msg(st.calls == 1, "got %u calls, want 1", st.calls);
	evloop_free(&st.loop);
	close_pair(fds);
}
END_TEST

/* two ios whose data is ready in the same batch; the first to run
   removes the other, closes its fd and reuses the number for a new,
   idle pipe that must not inherit the stale event */
struct pair_state {
	struct evloop *loop;
	struct evloop_io *io[2];
	int fds[2][2];
	struct evloop_io *reused_io;
	int reused_fds[2];
	unsigned int calls[2];
	unsigned int spurious;
};

/* reused_io_fired - the idle replacement pipe must stay silent */
static void reused_io_fired(struct evloop_io *io, int fd, unsigned int events,
			    void *context)
{
	struct pair_state *st = context;

	st->spurious++;
}

/* remove_other_io - io callback removing the other io of the pair */
static void remove_other_io(struct evloop_io *io, int fd, unsigned int events,
			    void *context)
{
	struct pair_state *st = context;
	unsigned int self = io == st->io[0] ? 0 : 1, other = 1 - self;
	char byte;

	st->calls[self]++;
	ck_assert_int_eq(read(fd, &byte, 1), 1);
	ck_assert_ptr_nonnull(st->io[other]);
	evloop_remove_io(&st->io[other]);
	close_pair(st->fds[other]);
	make_fd_pair(st->reused_fds, false);
	st->reused_io = evloop_add_io(st->loop, st->reused_fds[0], EVLOOP_READ,
				      reused_io_fired, st);
}

START_TEST(test_io_remove_other)
{
	struct pair_state st = { 0 };

	st.loop = evloop_create();
	for (unsigned int i = 0; i < 2; i++) {
		make_fd_pair(st.fds[i], false);
		put_byte(st.fds[i][1]);
		st.io[i] = evloop_add_io(st.loop, st.fds[i][0], EVLOOP_READ,
					 remove_other_io, &st);
	}
	(void)evloop_add_timer(st.loop, 30, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_msg(st.calls[0] + st.calls[1] == 1,
		      "got %u+%u calls, want 1 in all", st.calls[0], st.calls[1]);
	ck_assert_uint_eq(st.spurious, 0);
	unsigned int survivor = st.calls[0] == 1 ? 0 : 1;
	ck_assert_ptr_null(st.io[1 - survivor]);
	ck_assert_ptr_nonnull(st.io[survivor]);
	evloop_remove_io(&st.io[survivor]);
	evloop_remove_io(&st.reused_io);
	evloop_free(&st.loop);
	close_pair(st.fds[0]);
	close_pair(st.fds[1]);
	close_pair(st.reused_fds);
}
END_TEST

enum eof_kind {
	EOF_PIPE_WRITER_CLOSED,
	EOF_PIPE_READER_CLOSED,
	EOF_SOCKET_PEER_CLOSED,
	EOF_SOCKET_PEER_SHUTDOWN,
};

struct eof_case {
	const char *name;
	enum eof_kind kind;
	unsigned int watch;
	unsigned int want;
	ssize_t want_read;
};

static const struct eof_case eof_cases[] = {
	{ "pipe writer closed", EOF_PIPE_WRITER_CLOSED, EVLOOP_READ,
	  EVLOOP_READ | EVLOOP_ERROR, 0 },
	{ "pipe reader closed", EOF_PIPE_READER_CLOSED, EVLOOP_WRITE,
	  EVLOOP_WRITE | EVLOOP_ERROR, -1 },
	{ "socket peer closed", EOF_SOCKET_PEER_CLOSED, EVLOOP_READ,
	  EVLOOP_READ | EVLOOP_ERROR, 0 },
	{ "socket peer shut down writing", EOF_SOCKET_PEER_SHUTDOWN,
	  EVLOOP_READ, EVLOOP_READ, 0 },
};

START_TEST(test_io_eof)
{
	const struct eof_case *c = &eof_cases[_i];
	struct io_state st = { .stop_on_event = true, .read_ret = -1 };
	int fds[2], watch_fd;

	st.loop = evloop_create();
	make_fd_pair(fds, c->kind == EOF_SOCKET_PEER_CLOSED ||
		     c->kind == EOF_SOCKET_PEER_SHUTDOWN);
	watch_fd = c->kind == EOF_PIPE_READER_CLOSED ? fds[1] : fds[0];
	if (c->kind == EOF_SOCKET_PEER_SHUTDOWN) {
		ck_assert_int_eq(shutdown(fds[1], SHUT_WR), 0);
	} else {
		int peer = watch_fd == fds[0] ? 1 : 0;

		close(fds[peer]);
		fds[peer] = -1;
	}
	st.io = evloop_add_io(st.loop, watch_fd, c->watch, record_io, &st);
	run_loop(st.loop);
	ck_assert_msg(st.events == c->want, "%s: got events %#x, want %#x",
		      c->name, st.events, c->want);
	ck_assert_msg(st.read_ret == c->want_read, "%s: got read %zd, want %zd",
		      c->name, st.read_ret, c->want_read);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
	close_pair(fds);
}
END_TEST

START_TEST(test_io_regular_file)
{
	struct io_state st = { .stop_on_event = true };
	FILE *file = tmpfile();

	ck_assert_ptr_nonnull(file);
	ck_assert_int_ge(fputs("data", file), 0);
	ck_assert_int_eq(fflush(file), 0);
	rewind(file);
	st.loop = evloop_create();
	st.io = evloop_add_io(st.loop, fileno(file), EVLOOP_READ, record_io, &st);
	ck_assert_ptr_null(evloop_io_error(st.io));
	run_loop(st.loop);
	ck_assert_uint_eq(st.events, EVLOOP_READ);
	ck_assert_int_eq(st.read_ret, 4);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
	fclose(file);
}
END_TEST

START_TEST(test_io_bad_fd)
{
	struct io_state st = { .stop_on_event = true };
	int fds[2], closed_fd;

	/* after the loop's own fds, so that none of them takes the number */
	st.loop = evloop_create();
	make_fd_pair(fds, false);
	closed_fd = fds[0];
	close_pair(fds);
	st.io = evloop_add_io(st.loop, closed_fd, EVLOOP_READ, record_io, &st);
	ck_assert_ptr_nonnull(evloop_io_error(st.io));
	ck_assert_msg(strstr(evloop_io_error(st.io), "Bad file descriptor") != NULL,
		      "got error %s, want Bad file descriptor",
		      evloop_io_error(st.io));
	run_loop(st.loop);
	ck_assert_uint_eq(st.events, EVLOOP_READ | EVLOOP_ERROR);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
}
END_TEST

/* ------------------------------------------------------------- timers */

struct order_state {
	struct evloop *loop;
	unsigned int fired[8];
	unsigned int count;
	unsigned int want_count;
};

struct order_timer {
	struct order_state *st;
	unsigned int index;
};

/* order_fired - record the firing order; stop after the last one */
static int64_t order_fired(struct evloop_timer *timer, void *context)
{
	struct order_timer *ot = context;

	ot->st->fired[ot->st->count++] = ot->index;
	if (ot->st->count == ot->st->want_count)
		evloop_stop(ot->st->loop);
	return EVLOOP_NOMORE;
}

struct order_case {
	uint64_t delays[3];
	unsigned int want[3];
};

static const struct order_case order_cases[] = {
	{ { 30, 10, 20 }, { 1, 2, 0 } },
	{ { 10, 20, 30 }, { 0, 1, 2 } },
	{ { 20, 30, 5 }, { 2, 0, 1 } },
	{ { 15, 15, 15 }, { 0, 1, 2 } },
	{ { 0, 25, 0 }, { 0, 2, 1 } },
};

START_TEST(test_timer_order)
{
	const struct order_case *c = &order_cases[_i];
	struct order_state st = { .want_count = 3 };
	struct order_timer ots[3];

	st.loop = evloop_create();
	for (unsigned int i = 0; i < 3; i++) {
		ots[i] = (struct order_timer){ &st, i };
		(void)evloop_add_timer(st.loop, c->delays[i], order_fired, &ots[i]);
	}
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 3);
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert_msg(st.fired[i] == c->want[i],
			      "case %d slot %u: got timer %u, want %u",
			      _i, i, st.fired[i], c->want[i]);
	}
	evloop_free(&st.loop);
}
END_TEST

struct repeat_state {
	struct evloop_timer *timer;
	unsigned int count;
	unsigned int limit;
	uint64_t last_now;
	struct evloop *loop;
};

/* repeat_fired - re-arm every 5 ms until the limit, then NOMORE */
static int64_t repeat_fired(struct evloop_timer *timer, void *context)
{
	struct repeat_state *st = context;

	ck_assert_ptr_eq(timer, st->timer);
	ck_assert_uint_ge(evloop_now_msecs(st->loop), st->last_now);
	st->last_now = evloop_now_msecs(st->loop);
	if (++st->count < st->limit)
		return 5;
	st->timer = NULL;
	return EVLOOP_NOMORE;
}

struct repeat_case {
	unsigned int limit;
};

static const struct repeat_case repeat_cases[] = { { 1 }, { 2 }, { 5 } };

START_TEST(test_timer_repeat)
{
	struct repeat_state st = { .limit = repeat_cases[_i].limit };

	st.loop = evloop_create();
	st.timer = evloop_add_timer(st.loop, 5, repeat_fired, &st);
	(void)evloop_add_timer(st.loop, 80, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_msg(st.count == st.limit, "got %u firings, want %u",
		      st.count, st.limit);
	ck_assert_ptr_null(st.timer);
	evloop_free(&st.loop);
}
END_TEST

struct reset_state {
	struct evloop *loop;
	struct evloop_timer *target;
	uint64_t fired_at;
};

/* reset_target - postpone the target timer to 60 ms from now */
static int64_t reset_target(struct evloop_timer *timer, void *context)
{
	struct reset_state *st = context;

	evloop_timer_reset(st->target, 60);
	return EVLOOP_NOMORE;
}

/* target_fired - note when the postponed timer fired */
static int64_t target_fired(struct evloop_timer *timer, void *context)
{
	struct reset_state *st = context;

	st->fired_at = now_ms();
	st->target = NULL;
	evloop_stop(st->loop);
	return EVLOOP_NOMORE;
}

START_TEST(test_timer_reset)
{
	struct reset_state st = { 0 };
	uint64_t start = now_ms();

	st.loop = evloop_create();
	st.target = evloop_add_timer(st.loop, 30, target_fired, &st);
	(void)evloop_add_timer(st.loop, 10, reset_target, &st);
	run_loop(st.loop);
	ck_assert_msg(st.fired_at - start >= 70,
		      "got firing after %llu ms, want >= 70",
		      (unsigned long long)(st.fired_at - start));
	evloop_free(&st.loop);
}
END_TEST

/* state of three timers all due in the same round */
struct round_state {
	struct evloop *loop;
	struct evloop_timer *t[3];
	unsigned int calls[3];
};

/* round_first - removes the second timer and postpones the third */
static int64_t round_first(struct evloop_timer *timer, void *context)
{
	struct round_state *st = context;

	st->calls[0]++;
	evloop_remove_timer(&st->t[1]);
	evloop_timer_reset(st->t[2], 20);
	st->t[0] = NULL;
	return EVLOOP_NOMORE;
}

/* round_removed - must never run */
static int64_t round_removed(struct evloop_timer *timer, void *context)
{
	struct round_state *st = context;

	st->calls[1]++;
	return EVLOOP_NOMORE;
}

/* round_postponed - removes itself, returning a delay that must be
   ignored, then stops the loop shortly after */
static int64_t round_postponed(struct evloop_timer *timer, void *context)
{
	struct round_state *st = context;

	st->calls[2]++;
	evloop_remove_timer(&st->t[2]);
	(void)evloop_add_timer(st->loop, 20, stop_loop_timer, st->loop);
	return 1;
}

START_TEST(test_timer_remove_in_round)
{
	struct round_state st = { 0 };
	static evloop_timer_callback_t *const cbs[3] = {
		round_first, round_removed, round_postponed
	};

	st.loop = evloop_create();
	for (unsigned int i = 0; i < 3; i++)
		st.t[i] = evloop_add_timer(st.loop, 5, cbs[i], &st);
	/* all three are overdue when the first iteration looks */
	sleep_ms(15);
	run_loop(st.loop);
	ck_assert_uint_eq(st.calls[0], 1);
	ck_assert_msg(st.calls[1] == 0, "removed timer: got %u calls, want 0",
		      st.calls[1]);
	ck_assert_msg(st.calls[2] == 1, "postponed timer: got %u calls, want 1",
		      st.calls[2]);
	evloop_free(&st.loop);
}
END_TEST

/* count_nomore - count, clear the caller's pointer, remove itself */
static int64_t count_nomore(struct evloop_timer *timer, void *context)
{
	struct repeat_state *st = context;

	st->count++;
	st->timer = NULL;
	return EVLOOP_NOMORE;
}

START_TEST(test_timer_nomore)
{
	struct repeat_state st = { 0 };

	st.loop = evloop_create();
	st.timer = evloop_add_timer(st.loop, 0, count_nomore, &st);
	(void)evloop_add_timer(st.loop, 40, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 1);
	ck_assert_ptr_null(st.timer);
	/* a removed timer does not keep the loop from sleeping */
	(void)evloop_add_timer(st.loop, 20, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 1);
	evloop_free(&st.loop);
}
END_TEST

/* stop_and_repeat - stop the loop, stay armed */
static int64_t stop_and_repeat(struct evloop_timer *timer, void *context)
{
	struct repeat_state *st = context;

	st->count++;
	evloop_stop(st->loop);
	return 10;
}

START_TEST(test_stop_from_timer)
{
	struct repeat_state st = { 0 };
	uint64_t first_now;

	st.loop = evloop_create();
	st.timer = evloop_add_timer(st.loop, 10, stop_and_repeat, &st);
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 1);
	first_now = evloop_now_msecs(st.loop);
	/* running again picks up where it stopped */
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 2);
	ck_assert_uint_ge(evloop_now_msecs(st.loop), first_now + 10);
	evloop_remove_timer(&st.timer);
	evloop_free(&st.loop);
}
END_TEST

/* stop_in_hook - before-sleep hook stopping the loop on its third call */
static void stop_in_hook(void *context)
{
	struct repeat_state *st = context;

	if (++st->count == 3)
		evloop_stop(st->loop);
}

/* tick - a short repeating timer that keeps the loop iterating */
static int64_t tick(struct evloop_timer *timer, void *context)
{
	return 2;
}

START_TEST(test_before_sleep)
{
	struct repeat_state st = { 0 };
	struct evloop_timer *ticker;

	st.loop = evloop_create();
	evloop_set_before_sleep(st.loop, stop_in_hook, &st);
	ticker = evloop_add_timer(st.loop, 2, tick, NULL);
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 3);
	evloop_set_before_sleep(st.loop, NULL, NULL);
	(void)evloop_add_timer(st.loop, 10, stop_loop_timer, st.loop);
	run_loop(st.loop);
	ck_assert_uint_eq(st.count, 3);
	evloop_remove_timer(&ticker);
	evloop_free(&st.loop);
}
END_TEST

/* ------------------------------------------------------------ signals */

struct signal_state {
	unsigned int calls;
	int signo;
};

/* signal_seen - signal callback */
static void signal_seen(int signo, void *context)
{
	struct signal_state *st = context;

	st->calls++;
	st->signo = signo;
}

/* raise_usr1 - timer raising SIGUSR1 while the loop runs */
static int64_t raise_usr1(struct evloop_timer *timer, void *context)
{
	ck_assert_int_eq(raise(SIGUSR1), 0);
	return EVLOOP_NOMORE;
}

/* signal_blocked - is signo blocked in this thread */
static bool signal_blocked(int signo)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, signo) == 1;
}

START_TEST(test_signal)
{
	struct signal_state st[2] = { { 0 } };
	struct evloop_signal *sig[2];
	struct evloop *loop = evloop_create();

	ck_assert(!signal_blocked(SIGUSR1));
	for (unsigned int i = 0; i < 2; i++)
		sig[i] = evloop_add_signal(loop, SIGUSR1, signal_seen, &st[i]);
	ck_assert(signal_blocked(SIGUSR1));
	(void)evloop_add_timer(loop, 10, raise_usr1, NULL);
	(void)evloop_add_timer(loop, 50, stop_loop_timer, loop);
	run_loop(loop);
	for (unsigned int i = 0; i < 2; i++) {
		ck_assert_msg(st[i].calls == 1, "callback %u: got %u calls, want 1",
			      i, st[i].calls);
		ck_assert_int_eq(st[i].signo, SIGUSR1);
	}
	evloop_remove_signal(&sig[0]);
	ck_assert_ptr_null(sig[0]);
	ck_assert(signal_blocked(SIGUSR1));
	/* pending while the loop owns it: discarded on removal, not fatal */
	ck_assert_int_eq(raise(SIGUSR1), 0);
	evloop_remove_signal(&sig[1]);
	ck_assert(!signal_blocked(SIGUSR1));
	ck_assert_uint_eq(st[1].calls, 1);
	evloop_free(&loop);
}
END_TEST

START_TEST(test_signal_was_blocked)
{
	struct signal_state st = { 0 };
	struct evloop *loop = evloop_create();
	struct evloop_signal *sig;
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &one, NULL);
	sig = evloop_add_signal(loop, SIGUSR2, signal_seen, &st);
	ck_assert_int_eq(raise(SIGUSR2), 0);
	(void)evloop_add_timer(loop, 20, stop_loop_timer, loop);
	run_loop(loop);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_int_eq(st.signo, SIGUSR2);
	evloop_remove_signal(&sig);
	ck_assert_msg(signal_blocked(SIGUSR2),
		      "got SIGUSR2 unblocked, want it blocked as before");
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	evloop_free(&loop);
}
END_TEST

/* remove_sig_in_cb - signal callback removing its own registration */
static void remove_sig_in_cb(int signo, void *context)
{
	struct evloop_signal **sig = context;

	evloop_remove_signal(sig);
}

START_TEST(test_free_busy_loop)
{
	unsigned int fds_before = count_fds();
	struct evloop *loop = evloop_create();
	struct evloop_signal *sig;
	struct io_state st = { 0 };
	int fds[2];

	make_fd_pair(fds, true);
	sig = evloop_add_signal(loop, SIGUSR2, remove_sig_in_cb, &sig);
	(void)evloop_add_signal(loop, SIGHUP, signal_seen, NULL);
	(void)evloop_add_io(loop, fds[0], EVLOOP_READ, record_io, &st);
	(void)evloop_add_timer(loop, 1000, stop_loop_timer, loop);
	ck_assert_int_eq(raise(SIGUSR2), 0);
	(void)evloop_add_timer(loop, 20, stop_loop_timer, loop);
	run_loop(loop);
	ck_assert_ptr_null(sig);
	ck_assert(!signal_blocked(SIGUSR2));
	ck_assert(signal_blocked(SIGHUP));
	evloop_free(&loop);
	ck_assert(!signal_blocked(SIGHUP));
	/* the fds of ios stay open */
	ck_assert_int_ge(fcntl(fds[0], F_GETFD), 0);
	close_pair(fds);
	ck_assert_msg(count_fds() == fds_before, "got %u open fds, want %u",
		      count_fds(), fds_before);
}
END_TEST

START_TEST(test_free_in_forked_child)
{
	struct signal_state sst = { 0 };
	struct io_state st = { .stop_on_event = true };
	struct evloop_signal *sig;
	int fds[2], status;
	pid_t pid;

	st.loop = evloop_create();
	make_fd_pair(fds, false);
	st.io = evloop_add_io(st.loop, fds[0], EVLOOP_READ, record_io, &st);
	sig = evloop_add_signal(st.loop, SIGUSR1, signal_seen, &sst);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the child drops the inherited loop, as a forked service does */
		evloop_free(&st.loop);
		_exit(signal_blocked(SIGUSR1) ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child: got status %#x, want exit 0", status);
	/* the parent's registrations survived the child's evloop_free() */
	ck_assert_int_eq(raise(SIGUSR1), 0);
	put_byte(fds[1]);
	run_loop(st.loop);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_uint_eq(st.events, EVLOOP_READ);
	if (sst.calls == 0) {
		/* the signal may come in the next round */
		(void)evloop_add_timer(st.loop, 10, stop_loop_timer, st.loop);
		run_loop(st.loop);
	}
	ck_assert_uint_eq(sst.calls, 1);
	evloop_remove_signal(&sig);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
	close_pair(fds);
}
END_TEST

/* count_timer - a one-shot timer counting its calls in an unsigned int */
static int64_t count_timer(struct evloop_timer *timer, void *context)
{
	unsigned int *count = context;

	(void)timer;
	(*count)++;
	return EVLOOP_NOMORE;
}

START_TEST(test_run_once)
{
	struct io_state st = { 0 };
	unsigned int fired = 0;
	uint64_t start;
	int fds[2];

	st.loop = evloop_create();
	make_fd_pair(fds, true);
	st.io = evloop_add_io(st.loop, fds[0], EVLOOP_READ, record_io, &st);
	/* nothing ready: 0 at once, and no longer than the bound */
	ck_assert_int_eq(evloop_run_once(st.loop, 0), 0);
	start = now_ms();
	ck_assert_int_eq(evloop_run_once(st.loop, 20), 0);
	ck_assert_uint_ge(now_ms() - start, 15);
	ck_assert_uint_lt(now_ms() - start, GUARD_MSECS);
	/* one readable io: one callback, counted */
	put_byte(fds[1]);
	ck_assert_int_eq(evloop_run_once(st.loop, -1), 1);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_int_eq(st.read_ret, 1);
	ck_assert_int_eq(evloop_run_once(st.loop, 0), 0);
	/* a timer ends an unbounded wait and counts as a callback */
	(void)evloop_add_timer(st.loop, 5, count_timer, &fired);
	ck_assert_int_eq(evloop_run_once(st.loop, -1), 1);
	ck_assert_uint_eq(fired, 1);
	evloop_remove_io(&st.io);
	evloop_free(&st.loop);
	close_pair(fds);
}
END_TEST

/* evloop_suite - io, timer and signal cases */
static Suite *evloop_suite(void)
{
	Suite *s = suite_create("evloop");
	TCase *tc_io = tcase_create("io");
	TCase *tc_timer = tcase_create("timer");
	TCase *tc_signal = tcase_create("signal");

	tcase_add_loop_test(tc_io, test_io_ready, 0, N_CASES(ready_cases));
	tcase_add_test(tc_io, test_io_pause_resume);
	tcase_add_test(tc_io, test_io_paused_hangup);
	tcase_add_test(tc_io, test_io_remove_self);
	tcase_add_test(tc_io, test_io_remove_other);
	tcase_add_loop_test(tc_io, test_io_eof, 0, N_CASES(eof_cases));
	tcase_add_test(tc_io, test_io_regular_file);
	tcase_add_test(tc_io, test_io_bad_fd);
	suite_add_tcase(s, tc_io);

	tcase_add_loop_test(tc_timer, test_timer_order, 0, N_CASES(order_cases));
	tcase_add_loop_test(tc_timer, test_timer_repeat, 0, N_CASES(repeat_cases));
	tcase_add_test(tc_timer, test_timer_reset);
	tcase_add_test(tc_timer, test_timer_remove_in_round);
	tcase_add_test(tc_timer, test_timer_nomore);
	tcase_add_test(tc_timer, test_stop_from_timer);
	tcase_add_test(tc_timer, test_before_sleep);
	tcase_add_test(tc_timer, test_run_once);
	suite_add_tcase(s, tc_timer);

	tcase_add_test(tc_signal, test_signal);
	tcase_add_test(tc_signal, test_signal_was_blocked);
	tcase_add_test(tc_signal, test_free_busy_loop);
	tcase_add_test(tc_signal, test_free_in_forked_child);
	suite_add_tcase(s, tc_signal);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evloop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
