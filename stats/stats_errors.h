/*
 * stats_errors - the recent-errors ring: the last warnings, errors,
 * fatals and panics logged by any loft process, behind `loftadm log
 * errors` and GET /api/v1/errors. Bounded: a fixed number of entries of
 * at most STATS_JSON_MAX_STRING bytes per string.
 *
 * Not thread-safe: the stats process serialises calls with one mutex.
 */
#ifndef LOFT_STATS_ERRORS_H
#define LOFT_STATS_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "log.h"

#define STATS_ERRORS_DEFAULT_CAPACITY 1000
#define STATS_ERRORS_DEFAULT_LIMIT 100

struct stats_errors;

/* One entry as a sink or the disk journal sees it; text is never NULL. */
struct stats_error_record {
	uint64_t ts_usecs;
	enum log_level level;
	const char *service;
	unsigned int pid;
	const char *session, *user, *text;
};

/* Receives each entry added, numbered; valid during the call only. */
typedef void stats_errors_sink_t(void *context, uint64_t seq,
				 const struct stats_error_record *e);

/* stats_errors_create - a ring of capacity entries (0: the default
   STATS_ERRORS_DEFAULT_CAPACITY) */
struct stats_errors *stats_errors_create(size_t capacity);
/* stats_errors_free - free the ring; NULLs *errors */
void stats_errors_free(struct stats_errors **errors);
/* stats_errors_add - remember one log line at level (warning or worse;
   debug and info lines are ignored and false is returned), dropping the
   oldest entry when full. Strings are copied (cut to
   STATS_JSON_MAX_STRING bytes, invalid UTF-8 bytes replaced by '?'); any
   may be NULL except text. */
bool stats_errors_add(struct stats_errors *errors, uint64_t ts_usecs,
		      enum log_level level, const char *service,
		      unsigned int pid, const char *session, const char *user,
		      const char *text);
/* stats_errors_set_sink - hand every entry added from now on to sink */
void stats_errors_set_sink(struct stats_errors *errors,
			   stats_errors_sink_t *sink, void *context);
/* stats_errors_count - entries held now */
size_t stats_errors_count(const struct stats_errors *errors);
/* stats_errors_query - entries with ts >= since_usecs, newest first, at
   most limit (0: STATS_ERRORS_DEFAULT_LIMIT; at most the capacity), as a
   JSON array the caller owns of
     {"ts" (RFC 3339 UTC, microseconds), "level" ("warning", "error",
      "fatal", "panic"), "service", "pid", "session", "user", "msg"}
   (NULL strings are JSON null). */
json_object *stats_errors_query(const struct stats_errors *errors,
				uint64_t since_usecs, unsigned int limit);
/* stats_errors_query_after - the same, only entries numbered above
   after_seq */
json_object *stats_errors_query_after(const struct stats_errors *errors,
				      uint64_t since_usecs, unsigned int limit,
				      uint64_t after_seq);
/* stats_errors_record_json - the JSON object of one entry */
json_object *stats_errors_record_json(const struct stats_error_record *e);

#endif
