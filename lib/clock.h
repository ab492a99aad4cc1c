/*
 * clock - the two clocks loft reads: wall time for records (microseconds
 * since the epoch) and monotonic time for deadlines (milliseconds).
 */
#ifndef LOFT_CLOCK_H
#define LOFT_CLOCK_H

#include <stdint.h>

uint64_t clock_realtime_usecs(void);
uint64_t clock_monotonic_msecs(void);

#endif
