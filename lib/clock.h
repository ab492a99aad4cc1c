/*
 * clock - the clocks loft reads: wall time for records (microseconds
 * since the epoch: log `ts`, journal times, session starts) and monotonic
 * time for deadlines (milliseconds) and durations (microseconds). A
 * duration is always the difference of two monotonic readings, so a
 * clock step (NTP, an admin's `date`) never makes one negative or huge.
 */
#ifndef LOFT_CLOCK_H
#define LOFT_CLOCK_H

#include <stdint.h>

uint64_t clock_realtime_usecs(void);
uint64_t clock_monotonic_msecs(void);
uint64_t clock_monotonic_usecs(void);

#endif
