/*
 * clock - wall and monotonic time (see clock.h).
 */
#include "clock.h"

#include <time.h>

/* clock_usecs - clock id's reading in microseconds */
static uint64_t clock_usecs(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t clock_realtime_usecs(void)
{
	return clock_usecs(CLOCK_REALTIME);
}

uint64_t clock_monotonic_msecs(void)
{
	return clock_usecs(CLOCK_MONOTONIC) / 1000;
}

uint64_t clock_monotonic_usecs(void)
{
	return clock_usecs(CLOCK_MONOTONIC);
}
