/*
 * test_loop_util - helpers the event-loop and thread tests share: clocks,
 * a guarded evloop_run() that fails a hung test, and /proc counters for
 * "nothing left behind" checks. Include after <check.h>; define
 * GUARD_MSECS first to change the guard (default 800 ms).
 */
#ifndef LOFT_TEST_LOOP_UTIL_H
#define LOFT_TEST_LOOP_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <time.h>

#include "evloop.h"

#ifndef GUARD_MSECS
#define GUARD_MSECS 800
#endif

/* now_ms - monotonic milliseconds, as the loop counts them */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* sleep_ms - block the calling thread (outside any loop) */
static inline void sleep_ms(unsigned int msecs)
{
	struct timespec ts = { msecs / 1000, (long)(msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* guard_expired - a loop ran far too long */
static inline int64_t guard_expired(struct evloop_timer *timer, void *context)
{
	(void)timer;
	(void)context;
	ck_abort_msg("loop still running after %d ms", GUARD_MSECS);
	return EVLOOP_NOMORE;
}

/* run_loop - evloop_run() with a guard timer that fails a hung test */
static inline void run_loop(struct evloop *loop)
{
	struct evloop_timer *guard =
		evloop_add_timer(loop, GUARD_MSECS, guard_expired, NULL);

	ck_assert_int_eq(evloop_run(loop), 0);
	evloop_remove_timer(&guard);
}

/* stop_loop_timer - timer callback: stop the loop given as context */
static inline int64_t stop_loop_timer(struct evloop_timer *timer,
				      void *context)
{
	(void)timer;
	evloop_stop(context);
	return EVLOOP_NOMORE;
}

/* count_entries - entries of a /proc directory (fds, threads) */
static inline unsigned int count_entries(const char *path)
{
	DIR *dir = opendir(path);
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

#endif
