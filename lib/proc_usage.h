/*
 * proc_usage - what one process uses, read from Linux's /proc the way
 * Prometheus client libraries read it for their process_* metrics:
 * user + system CPU time and the resident set from /proc/PID/stat, the
 * start time from its start tick and /proc/stat's btime, the open file
 * descriptors by counting /proc/PID/fd. Reading another user's fd folder
 * takes root (or the same uid): loftd reads its children's.
 */
#ifndef LOFT_PROC_USAGE_H
#define LOFT_PROC_USAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_usage {
	double cpu_seconds;		/* user + system */
	uint64_t resident_bytes;
	uint64_t start_usecs;		/* wall clock, since the epoch */
	unsigned int open_fds;		/* valid when fds_known */
	bool fds_known;			/* /proc/PID/fd could be read */
};

/* proc_usage_read - pid's figures: 0, or -1 when the process is gone (or
   /proc is not there); *usage_r is zeroed first */
int proc_usage_read(pid_t pid, struct proc_usage *usage_r);

/* proc_usage_parse_stat - the figures in the text of a /proc/PID/stat
   line (the command name may hold spaces and parentheses), with the
   clock tick rate, page size and boot time (btime) given: 0, or -1 when
   the line is malformed */
int proc_usage_parse_stat(const char *line, long ticks_per_sec,
			  long page_size, uint64_t boot_secs,
			  struct proc_usage *usage_r);

#endif
