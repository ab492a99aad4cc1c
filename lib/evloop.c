/*
 * evloop - the epoll event loop (see evloop.h). One struct evloop_io per
 * registered fd (its pointer is the epoll user data), timers in a binary
 * min-heap keyed by monotonic milliseconds, all caught signals read from
 * one signalfd registered as an internal io. Objects removed while
 * evloop_run() is active are only marked dead and queued; they are freed
 * at the end of the round, so events or timer slots already collected for
 * them are recognised by the dead flag and skipped instead of touching
 * freed memory.
 */
#include "evloop.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

/* epoll_wait() batch size bounds; the batch grows with the io count */
#define EVLOOP_MIN_EVENTS 16u
#define EVLOOP_MAX_EVENTS 1024u
#define EVLOOP_NOT_IN_HEAP SIZE_MAX
#define EVLOOP_IO_EVENTS (EVLOOP_READ | EVLOOP_WRITE)

enum evloop_io_mode {
	/* registered with epoll */
	EVLOOP_IO_KERNEL,
	/* not registered: paused after a hang-up, or removed */
	EVLOOP_IO_DETACHED,
	/* epoll refused the fd with EPERM (regular file): always ready */
	EVLOOP_IO_ALWAYS_READY,
	/* registration failed otherwise: reported as EVLOOP_ERROR */
	EVLOOP_IO_BROKEN,
};

struct evloop_io {
	struct evloop *loop;
	struct evloop_io *prev, *next;
	struct evloop_io *dead_next;
	int fd;
	unsigned int events;
	enum evloop_io_mode mode;
	bool dead;
	evloop_io_callback_t *cb;
	void *context;
	char *error;
};

struct evloop_timer {
	struct evloop *loop;
	uint64_t when;
	uint64_t seq;
	size_t heap_index;
	bool dead;
	struct evloop_timer *dead_next;
	evloop_timer_callback_t *cb;
	void *context;
};

struct evloop_signal {
	struct evloop *loop;
	struct evloop_signal *prev, *next;
	struct evloop_signal *dead_next;
	int signo;
	bool dead;
	evloop_signal_callback_t *cb;
	void *context;
};

struct evloop {
	int epfd;
	int sigfd;
	/* signals read through sigfd, and those of them that were already
	   blocked before evloop_add_signal() blocked them */
	sigset_t sigmask;
	sigset_t sig_was_blocked;
	unsigned int sig_refs[NSIG];
	struct evloop_signal *signals;

	struct evloop_io *ios;
	unsigned int io_count;
	/* live ios in ALWAYS_READY or BROKEN mode */
	unsigned int forced_ios;
	struct epoll_event *events;
	unsigned int events_cap;

	struct evloop_timer **heap;
	size_t heap_count, heap_cap;
	uint64_t timer_seq;
	/* timers taken from the heap for the current timer round */
	struct evloop_timer **due;
	size_t due_count, due_cap;

	struct evloop_io *dead_ios;
	struct evloop_timer *dead_timers;
	struct evloop_signal *dead_signals;

	evloop_hook_callback_t *before_sleep;
	void *before_sleep_context;

	uint64_t now;
	bool running;
	bool stop;
};

static __thread char evloop_error_buf[256];

/* evloop_fatal - report a broken caller contract or exhausted resource
   and abort; uses write(2) like xalloc's out-of-memory path */
static void LOFT_ATTR_NORETURN evloop_fatal(const char *what)
{
	char msg[320];
	int len = snprintf(msg, sizeof(msg), "Panic: evloop: %s\n", what);

	if (len > 0) {
		size_t n = (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1;
		(void)!write(STDERR_FILENO, msg, n);
	}
	abort();
}

/* evloop_clock_msecs - monotonic clock in milliseconds */
static uint64_t evloop_clock_msecs(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* evloop_grow - make room for one more pointer in a growable array */
static void *evloop_grow(void *array, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return array;
	*cap = *cap == 0 ? 16 : *cap * 2;
	return xreallocarray(array, *cap, size);
}

/* ---------------------------------------------------------------- ios */

/* evloop_io_mode_forced - does the loop synthesise this mode's events */
static bool evloop_io_mode_forced(enum evloop_io_mode mode)
{
	return mode == EVLOOP_IO_ALWAYS_READY || mode == EVLOOP_IO_BROKEN;
}

/* evloop_io_set_mode - switch mode, keeping loop->forced_ios right */
static void evloop_io_set_mode(struct evloop_io *io, enum evloop_io_mode mode)
{
	if (evloop_io_mode_forced(io->mode))
		io->loop->forced_ios--;
	if (evloop_io_mode_forced(mode))
		io->loop->forced_ios++;
	io->mode = mode;
}

/* evloop_io_epoll_events - epoll interest mask for EVLOOP_* events */
static uint32_t evloop_io_epoll_events(unsigned int events)
{
	return ((events & EVLOOP_READ) != 0 ? EPOLLIN : 0) |
		((events & EVLOOP_WRITE) != 0 ? EPOLLOUT : 0);
}

/* evloop_io_break - epoll_ctl(op) failed with errno err: report errors */
static void evloop_io_break(struct evloop_io *io, const char *op, int err)
{
	free(io->error);
	io->error = xasprintf("epoll_ctl(%s, fd %d) failed: %s",
			      op, io->fd, strerror(err));
	evloop_io_set_mode(io, EVLOOP_IO_BROKEN);
}

/* evloop_io_attach - register io with epoll, or pick its fallback mode */
static void evloop_io_attach(struct evloop_io *io)
{
	struct epoll_event ev = {
		.events = evloop_io_epoll_events(io->events),
		.data.ptr = io,
	};

	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) == 0)
		evloop_io_set_mode(io, EVLOOP_IO_KERNEL);
	else if (errno == EPERM)
		evloop_io_set_mode(io, EVLOOP_IO_ALWAYS_READY);
	else
		evloop_io_break(io, "ADD", errno);
}

/* evloop_io_detach - take io out of the epoll interest list */
static void evloop_io_detach(struct evloop_io *io)
{
	if (io->mode != EVLOOP_IO_DETACHED && io->mode != EVLOOP_IO_ALWAYS_READY)
		(void)epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	evloop_io_set_mode(io, EVLOOP_IO_DETACHED);
}

/* evloop_io_forced_events - events the loop reports without epoll */
static unsigned int evloop_io_forced_events(const struct evloop_io *io)
{
	if (io->dead || io->events == 0)
		return 0;
	if (io->mode == EVLOOP_IO_ALWAYS_READY)
		return io->events;
	if (io->mode == EVLOOP_IO_BROKEN)
		return EVLOOP_ERROR | io->events;
	return 0;
}

/* evloop_io_destroy - unlink and free an io */
static void evloop_io_destroy(struct evloop_io *io)
{
	struct evloop *loop = io->loop;

	if (io->prev != NULL)
		io->prev->next = io->next;
	else
		loop->ios = io->next;
	if (io->next != NULL)
		io->next->prev = io->prev;
	loop->io_count--;
	free(io->error);
	free(io);
}

struct evloop_io *evloop_add_io(struct evloop *loop, int fd,
				unsigned int events,
				evloop_io_callback_t *cb, void *context)
{
	struct evloop_io *io = xcalloc(1, sizeof(*io));

	io->loop = loop;
	io->fd = fd;
	io->events = events & EVLOOP_IO_EVENTS;
	io->mode = EVLOOP_IO_DETACHED;
	io->cb = cb;
	io->context = context;
	/* new ios go first, so a list walk in progress never reaches them */
	io->next = loop->ios;
	if (loop->ios != NULL)
		loop->ios->prev = io;
	loop->ios = io;
	loop->io_count++;
	evloop_io_attach(io);
	return io;
}

void evloop_io_set_events(struct evloop_io *io, unsigned int events)
{
	events &= EVLOOP_IO_EVENTS;
	if (io->dead || (events == io->events && io->mode == EVLOOP_IO_KERNEL))
		return;
	io->events = events;
	if (io->mode == EVLOOP_IO_KERNEL) {
		struct epoll_event ev = {
			.events = evloop_io_epoll_events(events),
			.data.ptr = io,
		};
		if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
			evloop_io_break(io, "MOD", errno);
	} else if (io->mode == EVLOOP_IO_DETACHED && events != 0) {
		evloop_io_attach(io);
	}
}

const char *evloop_io_error(const struct evloop_io *io)
{
	return io->mode == EVLOOP_IO_BROKEN ? io->error : NULL;
}

void evloop_remove_io(struct evloop_io **_io)
{
	struct evloop_io *io = *_io;

	*_io = NULL;
	if (io == NULL || io->dead)
		return;
	evloop_io_detach(io);
	io->dead = true;
	if (io->loop->running) {
		io->dead_next = io->loop->dead_ios;
		io->loop->dead_ios = io;
	} else {
		evloop_io_destroy(io);
	}
}

/* evloop_dispatch_io - deliver one epoll_wait() batch; returns the number
   of callbacks run */
static unsigned int evloop_dispatch_io(struct evloop *loop, int count)
{
	unsigned int calls = 0;

	for (int i = 0; i < count; i++) {
		struct evloop_io *io = loop->events[i].data.ptr;
		uint32_t ev = loop->events[i].events;
		unsigned int report = 0;

		/* removed or re-registered by an earlier callback of this
		   batch: the event belongs to a registration that is gone */
		if (io->dead || io->mode != EVLOOP_IO_KERNEL)
			continue;
		if (io->events == 0) {
			/* epoll reports ERR/HUP even with an empty interest
			   set; unregister until resumed so a paused hung-up fd
			   cannot make every wait return at once */
			if ((ev & (EPOLLERR | EPOLLHUP)) != 0)
				evloop_io_detach(io);
			continue;
		}
		if ((ev & EPOLLIN) != 0)
			report |= EVLOOP_READ;
		if ((ev & EPOLLOUT) != 0)
			report |= EVLOOP_WRITE;
		report &= io->events;
		if ((ev & (EPOLLERR | EPOLLHUP)) != 0)
			report |= EVLOOP_ERROR | io->events;
		if (report != 0) {
			io->cb(io, io->fd, report, io->context);
			calls++;
		}
	}
	return calls;
}

/* evloop_have_forced - is any io ready without asking epoll */
static bool evloop_have_forced(const struct evloop *loop)
{
	if (loop->forced_ios == 0)
		return false;
	for (const struct evloop_io *io = loop->ios; io != NULL; io = io->next) {
		if (evloop_io_forced_events(io) != 0)
			return true;
	}
	return false;
}

/* evloop_dispatch_forced - deliver events of always-ready/broken ios;
   returns the number of callbacks run */
static unsigned int evloop_dispatch_forced(struct evloop *loop)
{
	unsigned int calls = 0;

	if (loop->forced_ios == 0)
		return 0;
	/* removals are deferred while running, so io->next stays valid */
	for (struct evloop_io *io = loop->ios; io != NULL; io = io->next) {
		unsigned int report = evloop_io_forced_events(io);

		if (report != 0) {
			io->cb(io, io->fd, report, io->context);
			calls++;
		}
	}
	return calls;
}

/* ------------------------------------------------------------- timers */

/* evloop_timer_before - heap order: earlier deadline, then earlier arming */
static bool evloop_timer_before(const struct evloop_timer *a,
				const struct evloop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

/* evloop_heap_place - store timer at heap slot idx */
static void evloop_heap_place(struct evloop *loop, size_t idx,
			      struct evloop_timer *timer)
{
	loop->heap[idx] = timer;
	timer->heap_index = idx;
}

/* evloop_heap_up - move the timer at idx towards the root */
static void evloop_heap_up(struct evloop *loop, size_t idx)
{
	struct evloop_timer *timer = loop->heap[idx];

	while (idx > 0) {
		size_t parent = (idx - 1) / 2;

		if (!evloop_timer_before(timer, loop->heap[parent]))
			break;
		evloop_heap_place(loop, idx, loop->heap[parent]);
		idx = parent;
	}
	evloop_heap_place(loop, idx, timer);
}

/* evloop_heap_down - move the timer at idx towards the leaves */
static void evloop_heap_down(struct evloop *loop, size_t idx)
{
	struct evloop_timer *timer = loop->heap[idx];

	for (;;) {
		size_t child = idx * 2 + 1;

		if (child >= loop->heap_count)
			break;
		if (child + 1 < loop->heap_count &&
		    evloop_timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!evloop_timer_before(loop->heap[child], timer))
			break;
		evloop_heap_place(loop, idx, loop->heap[child]);
		idx = child;
	}
	evloop_heap_place(loop, idx, timer);
}

/* evloop_heap_delete - take timer out of the heap */
static void evloop_heap_delete(struct evloop *loop, struct evloop_timer *timer)
{
	size_t idx = timer->heap_index;
	struct evloop_timer *last = loop->heap[--loop->heap_count];

	timer->heap_index = EVLOOP_NOT_IN_HEAP;
	if (last == timer)
		return;
	evloop_heap_place(loop, idx, last);
	if (idx > 0 && evloop_timer_before(last, loop->heap[(idx - 1) / 2]))
		evloop_heap_up(loop, idx);
	else
		evloop_heap_down(loop, idx);
}

/* evloop_timer_arm - (re)schedule timer msecs from now */
static void evloop_timer_arm(struct evloop_timer *timer, uint64_t msecs)
{
	struct evloop *loop = timer->loop;
	uint64_t now = evloop_clock_msecs();

	if (timer->heap_index != EVLOOP_NOT_IN_HEAP)
		evloop_heap_delete(loop, timer);
	timer->when = msecs > UINT64_MAX - now ? UINT64_MAX : now + msecs;
	timer->seq = loop->timer_seq++;
	loop->heap = evloop_grow(loop->heap, loop->heap_count, &loop->heap_cap,
				 sizeof(*loop->heap));
	loop->heap[loop->heap_count++] = timer;
	evloop_heap_up(loop, loop->heap_count - 1);
}

struct evloop_timer *evloop_add_timer(struct evloop *loop, uint64_t msecs,
				      evloop_timer_callback_t *cb,
				      void *context)
{
	struct evloop_timer *timer = xcalloc(1, sizeof(*timer));

	timer->loop = loop;
	timer->heap_index = EVLOOP_NOT_IN_HEAP;
	timer->cb = cb;
	timer->context = context;
	evloop_timer_arm(timer, msecs);
	return timer;
}

void evloop_timer_reset(struct evloop_timer *timer, uint64_t msecs)
{
	if (!timer->dead)
		evloop_timer_arm(timer, msecs);
}

void evloop_remove_timer(struct evloop_timer **_timer)
{
	struct evloop_timer *timer = *_timer;

	*_timer = NULL;
	if (timer == NULL || timer->dead)
		return;
	if (timer->heap_index != EVLOOP_NOT_IN_HEAP)
		evloop_heap_delete(timer->loop, timer);
	timer->dead = true;
	if (timer->loop->running) {
		timer->dead_next = timer->loop->dead_timers;
		timer->loop->dead_timers = timer;
	} else {
		free(timer);
	}
}

/* evloop_run_timers - fire the timers due now. They are taken out of the
   heap first, so one re-armed with delay 0 waits for the next iteration.
   Returns the number of callbacks run. */
static unsigned int evloop_run_timers(struct evloop *loop)
{
	unsigned int calls = 0;

	while (loop->heap_count > 0 && loop->heap[0]->when <= loop->now) {
		struct evloop_timer *timer = loop->heap[0];

		evloop_heap_delete(loop, timer);
		loop->due = evloop_grow(loop->due, loop->due_count,
					&loop->due_cap, sizeof(*loop->due));
		loop->due[loop->due_count++] = timer;
	}
	for (size_t i = 0; i < loop->due_count; i++) {
		struct evloop_timer *timer = loop->due[i];

		/* removed, or reset (back in the heap), by an earlier callback */
		if (timer->dead || timer->heap_index != EVLOOP_NOT_IN_HEAP)
			continue;
		int64_t next = timer->cb(timer, timer->context);
		calls++;
		if (timer->dead)
			continue;
		if (next < 0)
			evloop_remove_timer(&timer);
		else
			evloop_timer_arm(timer, (uint64_t)next);
	}
	loop->due_count = 0;
	return calls;
}

/* ------------------------------------------------------------ signals */

/* evloop_signal_set_one - sigset holding only signo */
static void evloop_signal_set_one(sigset_t *set, int signo)
{
	sigemptyset(set);
	sigaddset(set, signo);
}

/* evloop_signal_update_fd - give the signalfd the current mask */
static void evloop_signal_update_fd(struct evloop *loop)
{
	if (signalfd(loop->sigfd, &loop->sigmask, 0) < 0)
		evloop_fatal("signalfd() refused to update its signal mask");
}

/* evloop_signal_claim - block signo and read it through the signalfd */
static void evloop_signal_claim(struct evloop *loop, int signo)
{
	sigset_t one, old;

	evloop_signal_set_one(&one, signo);
	(void)pthread_sigmask(SIG_BLOCK, &one, &old);
	if (sigismember(&old, signo) == 1)
		sigaddset(&loop->sig_was_blocked, signo);
	sigaddset(&loop->sigmask, signo);
	evloop_signal_update_fd(loop);
}

/* evloop_signal_release - stop reading signo; unless it was blocked before
   we claimed it, discard an instance still pending (it arrived while the
   loop owned the signal) and unblock it. update_fd is false in
   evloop_free(), where the signalfd may be shared with a forked parent. */
static void evloop_signal_release(struct evloop *loop, int signo,
				  bool update_fd)
{
	const struct timespec no_wait = { 0, 0 };
	sigset_t one;

	sigdelset(&loop->sigmask, signo);
	if (update_fd)
		evloop_signal_update_fd(loop);
	if (sigismember(&loop->sig_was_blocked, signo) == 1) {
		sigdelset(&loop->sig_was_blocked, signo);
		return;
	}
	evloop_signal_set_one(&one, signo);
	for (;;) {
		int ret = sigtimedwait(&one, NULL, &no_wait);

		if (ret != signo && !(ret < 0 && errno == EINTR))
			break;
	}
	(void)pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

/* evloop_signal_destroy - unlink and free a signal watch */
static void evloop_signal_destroy(struct evloop_signal *sig)
{
	struct evloop *loop = sig->loop;

	if (sig->prev != NULL)
		sig->prev->next = sig->next;
	else
		loop->signals = sig->next;
	if (sig->next != NULL)
		sig->next->prev = sig->prev;
	free(sig);
}

struct evloop_signal *evloop_add_signal(struct evloop *loop, int signo,
					evloop_signal_callback_t *cb,
					void *context)
{
	if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
		evloop_fatal("evloop_add_signal() given a signal that cannot be caught");

	struct evloop_signal *sig = xcalloc(1, sizeof(*sig));

	sig->loop = loop;
	sig->signo = signo;
	sig->cb = cb;
	sig->context = context;
	sig->next = loop->signals;
	if (loop->signals != NULL)
		loop->signals->prev = sig;
	loop->signals = sig;
	if (loop->sig_refs[signo]++ == 0)
		evloop_signal_claim(loop, signo);
	return sig;
}

void evloop_remove_signal(struct evloop_signal **_sig)
{
	struct evloop_signal *sig = *_sig;

	*_sig = NULL;
	if (sig == NULL || sig->dead)
		return;
	sig->dead = true;
	if (--sig->loop->sig_refs[sig->signo] == 0)
		evloop_signal_release(sig->loop, sig->signo, true);
	if (sig->loop->running) {
		sig->dead_next = sig->loop->dead_signals;
		sig->loop->dead_signals = sig;
	} else {
		evloop_signal_destroy(sig);
	}
}

/* evloop_signal_input - signalfd readable: run the callbacks of each signal */
static void evloop_signal_input(struct evloop_io *io, int fd,
				unsigned int events, void *context)
{
	struct evloop *loop = context;
	struct signalfd_siginfo info;

	for (;;) {
		ssize_t ret = read(fd, &info, sizeof(info));

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret != (ssize_t)sizeof(info))
			break;
		for (struct evloop_signal *sig = loop->signals; sig != NULL;
		     sig = sig->next) {
			if (!sig->dead && sig->signo == (int)info.ssi_signo)
				sig->cb(sig->signo, sig->context);
		}
	}
}

/* ---------------------------------------------------------------- loop */

/* evloop_create_failed - free a half-built loop, report what failed */
static int evloop_create_failed(struct evloop *loop, const char *what,
				const char *detail, const char **error_r)
{
	snprintf(evloop_error_buf, sizeof(evloop_error_buf), "%s%s",
		 what, detail);
	evloop_free(&loop);
	*error_r = evloop_error_buf;
	return -1;
}

int evloop_try_create(struct evloop **loop_r, const char **error_r)
{
	struct evloop *loop = xcalloc(1, sizeof(*loop));

	*loop_r = NULL;
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	sigemptyset(&loop->sig_was_blocked);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		return evloop_create_failed(loop, "epoll_create1() failed: ",
					    strerror(errno), error_r);
	}
	loop->sigfd = signalfd(-1, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0) {
		return evloop_create_failed(loop, "signalfd() failed: ",
					    strerror(errno), error_r);
	}
	struct evloop_io *sig_io = evloop_add_io(loop, loop->sigfd, EVLOOP_READ,
						 evloop_signal_input, loop);
	if (evloop_io_error(sig_io) != NULL) {
		return evloop_create_failed(loop, "", evloop_io_error(sig_io),
					    error_r);
	}
	loop->now = evloop_clock_msecs();
	*loop_r = loop;
	return 0;
}

struct evloop *evloop_create(void)
{
	struct evloop *loop;
	const char *error;

	if (evloop_try_create(&loop, &error) < 0)
		evloop_fatal(error);
	return loop;
}

/* evloop_free_dead - free what was removed during this round */
static void evloop_free_dead(struct evloop *loop)
{
	while (loop->dead_ios != NULL) {
		struct evloop_io *io = loop->dead_ios;

		loop->dead_ios = io->dead_next;
		evloop_io_destroy(io);
	}
	while (loop->dead_timers != NULL) {
		struct evloop_timer *timer = loop->dead_timers;

		loop->dead_timers = timer->dead_next;
		free(timer);
	}
	while (loop->dead_signals != NULL) {
		struct evloop_signal *sig = loop->dead_signals;

		loop->dead_signals = sig->dead_next;
		evloop_signal_destroy(sig);
	}
}

void evloop_free(struct evloop **_loop)
{
	struct evloop *loop = *_loop;

	*_loop = NULL;
	if (loop == NULL)
		return;
	if (loop->running)
		evloop_fatal("evloop_free() called inside evloop_run()");
	/* restore the thread's signal mask, but leave the signalfd and the
	   epoll interest list alone: closing them is enough, and after fork()
	   they may still serve the parent */
	for (int signo = 1; signo < NSIG; signo++) {
		if (loop->sig_refs[signo] > 0)
			evloop_signal_release(loop, signo, false);
	}
	while (loop->signals != NULL)
		evloop_signal_destroy(loop->signals);
	while (loop->ios != NULL)
		evloop_io_destroy(loop->ios);
	for (size_t i = 0; i < loop->heap_count; i++)
		free(loop->heap[i]);
	if (loop->sigfd >= 0)
		(void)close(loop->sigfd);
	if (loop->epfd >= 0)
		(void)close(loop->epfd);
	free(loop->heap);
	free(loop->due);
	free(loop->events);
	free(loop);
}

/* evloop_wait_timeout - epoll_wait() timeout: until the next timer */
static int evloop_wait_timeout(const struct evloop *loop)
{
	if (evloop_have_forced(loop))
		return 0;
	if (loop->heap_count == 0)
		return -1;

	uint64_t now = evloop_clock_msecs();
	uint64_t when = loop->heap[0]->when;

	if (when <= now)
		return 0;
	return when - now > INT_MAX ? INT_MAX : (int)(when - now);
}

/* evloop_reserve_events - size the epoll_wait() batch to the io count */
static void evloop_reserve_events(struct evloop *loop)
{
	unsigned int want = loop->io_count;

	if (want < EVLOOP_MIN_EVENTS)
		want = EVLOOP_MIN_EVENTS;
	if (want > EVLOOP_MAX_EVENTS)
		want = EVLOOP_MAX_EVENTS;
	if (want <= loop->events_cap)
		return;
	loop->events = xreallocarray(loop->events, want, sizeof(*loop->events));
	loop->events_cap = want;
}

/* evloop_round - one iteration: the hook, one wait of at most timeout
   msecs (-1: until an event or timer), the callbacks. Returns the number of
   callbacks run, or -1 with errno set when epoll_wait() fails. loop->running
   is set by the caller. */
static int evloop_round(struct evloop *loop, int max_timeout)
{
	unsigned int calls;
	int timeout, count;

	if (loop->before_sleep != NULL)
		loop->before_sleep(loop->before_sleep_context);
	if (loop->stop)
		return 0;
	evloop_reserve_events(loop);
	timeout = evloop_wait_timeout(loop);
	if (max_timeout >= 0 && (timeout < 0 || timeout > max_timeout))
		timeout = max_timeout;
	count = epoll_wait(loop->epfd, loop->events, (int)loop->events_cap,
			   timeout);
	if (count < 0) {
		if (errno != EINTR)
			return -1;
		count = 0;
	}
	loop->now = evloop_clock_msecs();
	calls = evloop_dispatch_io(loop, count);
	calls += evloop_dispatch_forced(loop);
	loop->now = evloop_clock_msecs();
	calls += evloop_run_timers(loop);
	evloop_free_dead(loop);
	return calls > INT_MAX ? INT_MAX : (int)calls;
}

int evloop_run(struct evloop *loop)
{
	int ret = 0, saved_errno = 0;

	if (loop->running)
		evloop_fatal("evloop_run() called recursively");
	loop->running = true;
	loop->stop = false;
	while (!loop->stop) {
		if (evloop_round(loop, -1) < 0) {
			saved_errno = errno;
			ret = -1;
			break;
		}
	}
	evloop_free_dead(loop);
	loop->running = false;
	if (ret < 0)
		errno = saved_errno;
	return ret;
}

int evloop_run_once(struct evloop *loop, int max_timeout_msecs)
{
	int ret, saved_errno;

	if (loop->running)
		evloop_fatal("evloop_run_once() called from inside the loop");
	loop->running = true;
	loop->stop = false;
	ret = evloop_round(loop, max_timeout_msecs);
	saved_errno = errno;
	evloop_free_dead(loop);
	loop->running = false;
	errno = saved_errno;
	return ret;
}

void evloop_stop(struct evloop *loop)
{
	loop->stop = true;
}

uint64_t evloop_now_msecs(struct evloop *loop)
{
	return loop->now;
}

void evloop_set_before_sleep(struct evloop *loop, evloop_hook_callback_t *cb,
			     void *context)
{
	loop->before_sleep = cb;
	loop->before_sleep_context = context;
}
