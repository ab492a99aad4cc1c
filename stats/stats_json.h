/*
 * stats_json - small helpers shared by loft-stats' data modules (session
 * table, journal, recent errors, metrics): capped, UTF-8-clean copies of
 * strings that arrive from service processes, RFC 3339 timestamps, json-c
 * value constructors, and the lower-case log level names used in JSON and
 * in metric labels. Pure functions, no I/O.
 */
#ifndef LOFT_STATS_JSON_H
#define LOFT_STATS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "log.h"

/* Longest string a stats record keeps (bytes, excluding the NUL). */
#define STATS_JSON_MAX_STRING 1024
/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" plus NUL, with room for 5+ digit years */
#define STATS_JSON_TS_SIZE 64

/* stats_json_strdup - an xmalloc'ed copy of str cut to at most max_len
   bytes on a UTF-8 character boundary, with bytes that are not valid
   UTF-8 replaced by '?' (so every JSON output is valid); NULL for NULL. */
char *stats_json_strdup(const char *str, size_t max_len);

/* stats_json_format_ts - usecs since the epoch as RFC 3339 UTC with
   microseconds ("2026-11-21T23:00:00.123456Z") into buf */
void stats_json_format_ts(uint64_t usecs, char buf[STATS_JSON_TS_SIZE]);
/* stats_json_ts - the same as a json-c string */
json_object *stats_json_ts(uint64_t usecs);
/* stats_json_string - a json-c string of str, or NULL (JSON null) when
   str is NULL; str is expected to be clean already (stats_json_strdup) */
json_object *stats_json_string(const char *str);

/* stats_json_parse_ago - a duration from a query (1h, 30 min, 90) as
   the absolute time that long ago, in usecs (at least 1); NULL or "" gives
   0 (no bound). 0, or -1 with *error_r. */
int stats_json_parse_ago(const char *duration, uint64_t *usecs_r,
			 const char **error_r);

/* stats_json_array_append - append src's items to the array dst until
   dst holds limit items (src keeps its own references) */
void stats_json_array_append(json_object *dst, json_object *src,
			     size_t limit);

/* stats_json_level_name - "debug", "info", "warning", "error", "fatal",
   "panic"; "unknown" for an out-of-range level */
const char *stats_json_level_name(enum log_level level);
/* stats_json_level_parse - the level named name (case-insensitive);
   false when there is no such level */
bool stats_json_level_parse(const char *name, enum log_level *level_r);

#endif
