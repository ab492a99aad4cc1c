/*
 * master_usage - the process_* figures of every loft process, gathered by
 * loftd for loft-stats: loftd is root and the parent of every service
 * process, so it can read each one's /proc/PID/fd (loft-stats, running as
 * default_internal_user, cannot), it sees processes that report nothing
 * themselves (loft-log) or that hang, and it gets the CPU time of every
 * child it reaps from wait4(). Figures are summed per service name (a
 * bounded label: the configured services, plus "master" for loftd), never
 * per pid: CPU time of the live processes plus that of the reaped ones,
 * so the counter only grows while loftd runs; resident memory and open
 * fds of the live ones (retired processes still serving their sessions
 * after a reload included); the start time of the oldest live one.
 */
#ifndef MASTER_USAGE_H
#define MASTER_USAGE_H

#include <stdint.h>
#include <sys/resource.h>

#include "ipc_envelope.h"
#include "master_process.h"

/* how often /proc is read (every report carries the latest figures) */
#define MASTER_USAGE_SAMPLE_MSECS 5000

/* the service name loftd's own figures go under */
#define MASTER_USAGE_SELF "master"

struct master_usage;

struct master_usage *master_usage_create(void);
void master_usage_free(struct master_usage **usage);

/* master_usage_reaped - proc was reaped with ru: its CPU time moves from
   the live sum to its service's reaped time */
void master_usage_reaped(struct master_usage *usage,
			 const struct master_process *proc,
			 const struct rusage *ru);

/* master_usage_sample - read /proc for loftd and every process of procs
   (remembering each one's CPU time in it) when the last reading is
   MASTER_USAGE_SAMPLE_MSECS old (now_msecs: the monotonic clock) */
void master_usage_sample(struct master_usage *usage,
			 struct master_process_list *procs,
			 uint64_t now_msecs);

/* master_usage_refresh - the next master_usage_sample reads /proc
   whatever the last reading's age (a process started or ended: a fresh
   one's first figures, taken while it exec'd, may be empty) */
void master_usage_refresh(struct master_usage *usage);

/* master_usage_fill - the last reading as msg's usage list; the pointers
   stay valid until the next sample or master_usage_reaped() */
void master_usage_fill(struct master_usage *usage, Loft__MasterStatus *msg);

#endif
