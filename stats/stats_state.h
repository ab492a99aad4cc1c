/*
 * stats_state - what loft-stats must not forget when its process ends: a
 * small file in base_dir, mapped shared, that holds the counters (so
 * loft_*_total stay monotonic across reloads, restarts and crashes of
 * loft-stats: the kernel keeps a dead process's writes to a shared
 * mapping) and the state loftd's reports are measured against.
 *
 * base_dir is runtime state (tmpfs on most systems): a reboot starts the
 * counters again, as Prometheus expects of a new process start. A file of
 * another size or version is started afresh. Two loft-stats processes
 * overlap for a moment during a reload; both write the same counters, each
 * under its own lock, so an increment may be lost in that moment, never
 * doubled.
 */
#ifndef LOFT_STATS_STATE_H
#define LOFT_STATS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_STATE_FILE "stats-state"
#define STATS_STATE_DEBUG_MASKS 32
#define STATS_STATE_DEBUG_MASK_MAX 256

/* What the server keeps besides the counters. */
struct stats_state_server {
	/* loftd's cumulative reload counts already added, for the loftd
	   that started at master_start_usecs */
	uint64_t master_start_usecs;
	uint64_t reloads_ok_seen, reloads_failed_seen;
	/* `loftadm debug MASK on` */
	uint32_t debug_count;
	char debug_masks[STATS_STATE_DEBUG_MASKS][STATS_STATE_DEBUG_MASK_MAX];
};

struct stats_state;

/* stats_state_open - map path with room for metrics_size bytes of
   counters; *fresh_r is true when the file was new, of another layout or
   unreadable (the memory is zeroed then). Never fails: without a usable
   file the state lives in memory only, and *error_r (non-NULL) says why,
   for one warning. */
struct stats_state *stats_state_open(const char *path, size_t metrics_size,
				     bool *fresh_r, const char **error_r);
void stats_state_close(struct stats_state **state);

/* the counters' memory (metrics_size bytes) and the server's part */
void *stats_state_metrics(struct stats_state *state);
struct stats_state_server *stats_state_server(struct stats_state *state);

#endif
