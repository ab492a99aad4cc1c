/*
 * stats_metrics - the counters and histograms behind every metric name of
 * the spec (section 8), and their two renderings: the Prometheus text
 * exposition (0.0.4, or OpenMetrics 1.0 when the scraper asks) for
 * GET /metrics, and a JSON series list for GET /api/v1/stats and
 * `loftadm stats dump`.
 *
 * Label sets are fixed from the start: every protocol/result/reason/level
 * combination is emitted, with 0 until something is counted, so series
 * never appear or disappear. Per-service series come from the services
 * the caller passes at render time plus (for loft_sessions_total) every
 * service a session was counted for. The process_* families (the names
 * every exporter serves, with a service label instead of one series per
 * exporter process) and the last good reload's time are loftd's figures,
 * also passed at render time.
 *
 * Not thread-safe: the stats process serialises calls with one mutex.
 */
#ifndef LOFT_STATS_METRICS_H
#define LOFT_STATS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "log.h"

/* Label value enums; the names are the label values of the spec. */
enum stats_protocol {
	STATS_PROTOCOL_LMTP,		/* "lmtp" */
	STATS_PROTOCOL_LDA,		/* "lda" */
	STATS_PROTOCOL_COUNT
};

enum stats_result {
	STATS_RESULT_SAVED,		/* "saved" */
	STATS_RESULT_REJECTED,		/* "rejected" */
	STATS_RESULT_TEMPFAIL,		/* "tempfail" */
	STATS_RESULT_COUNT
};

enum stats_reason {
	STATS_REASON_UNKNOWN_USER,	/* "unknown_user" */
	STATS_REASON_QUOTA,		/* "quota" */
	STATS_REASON_SIZE,		/* "size" */
	STATS_REASON_CONCURRENCY,	/* "concurrency" */
	STATS_REASON_SYNTAX,		/* "syntax" */
	STATS_REASON_OTHER,		/* "other" */
	STATS_REASON_COUNT
};

/* The unlabelled latency histograms. */
enum stats_timing {
	STATS_TIMING_STORAGE_WRITE,	/* loft_storage_write_duration_seconds */
	STATS_TIMING_COUNT
};

/* loft_userdb_lookup_duration_seconds{driver,result} */
enum stats_userdb_driver {
	STATS_USERDB_PASSWD_FILE,	/* "passwd-file" */
	STATS_USERDB_PASSWD,		/* "passwd" */
	STATS_USERDB_STATIC,		/* "static" */
	STATS_USERDB_SQL,		/* "sql" */
	STATS_USERDB_AUTH,		/* "auth" */
	STATS_USERDB_DRIVER_COUNT
};
enum stats_userdb_result {
	STATS_USERDB_FOUND,		/* "found" */
	STATS_USERDB_UNKNOWN_USER,	/* "unknown_user" */
	STATS_USERDB_TEMPFAIL,		/* "tempfail" */
	STATS_USERDB_RESULT_COUNT
};

/* Histogram bucket upper bounds (seconds, inclusive), then +Inf. */
#define STATS_METRICS_BUCKET_COUNT 16
extern const double stats_metrics_bucket_bounds[STATS_METRICS_BUCKET_COUNT - 1];

/* Distinct service names loft_sessions_total remembers; sessions of
   further names are counted under service="other". */
#define STATS_METRICS_MAX_SERVICES 64
/* LMTP proxy backends ("host:port") with their own series; more share
   "other" */
#define STATS_METRICS_MAX_BACKENDS 64
#define STATS_METRICS_BACKEND_NAME_MAX 96

/* Per-service values owned by the master/supervisor side, passed in at
   render time; names must be distinct. */
struct stats_metrics_service {
	const char *name;
	unsigned int sessions_active;	/* loft_sessions_active */
	unsigned int processes;		/* loft_service_processes */
	uint64_t restarts;		/* loft_service_restarts_total */
};

/* What one service's processes use, summed over them ("master" is
   loftd), as loftd read it from /proc: the process_* families. */
struct stats_metrics_process {
	const char *service;
	double cpu_seconds;		/* process_cpu_seconds_total */
	uint64_t resident_bytes;	/* process_resident_memory_bytes */
	uint64_t open_fds;		/* process_open_fds */
	double start_seconds;		/* process_start_time_seconds of the
					   oldest; 0: none runs (no series) */
};

struct stats_metrics_services {
	const struct stats_metrics_service *items;
	size_t count;
	const struct stats_metrics_process *processes;
	size_t process_count;
	/* loft_config_last_reload_success_timestamp_seconds (seconds since
	   the epoch); 0: not known yet (no series) */
	double last_reload_success_seconds;
};

struct stats_metrics;

/* Label value names and their parsers (exact, lower-case names); the
   parsers return false for an unknown name. */
const char *stats_metrics_protocol_name(enum stats_protocol protocol);
const char *stats_metrics_result_name(enum stats_result result);
const char *stats_metrics_reason_name(enum stats_reason reason);
bool stats_metrics_protocol_parse(const char *name, enum stats_protocol *r);
bool stats_metrics_result_parse(const char *name, enum stats_result *r);
bool stats_metrics_reason_parse(const char *name, enum stats_reason *r);

/* stats_metrics_create - all counters 0; version is loft_build_info's
   label (copied) */
struct stats_metrics *stats_metrics_create(const char *version);
/* stats_metrics_store_size - the bytes of counters (and the service
   names behind them) that stats_metrics_create_in keeps in the caller's
   memory */
size_t stats_metrics_store_size(void);
/* stats_metrics_create_in - as stats_metrics_create, with the counters in
   store (stats_metrics_store_size() bytes, all 0 or as an earlier process
   left them: stats_state), which the caller frees after m */
struct stats_metrics *stats_metrics_create_in(const char *version, void *store);
/* stats_metrics_free - free m; NULLs *m */
void stats_metrics_free(struct stats_metrics **m);

/* stats_metrics_delivery - the final outcome of one recipient's delivery
   attempt: loft_deliveries_total{protocol,result} + 1, seconds into
   loft_delivery_duration_seconds{protocol}; saved adds bytes to
   loft_delivered_bytes_total{protocol} (reason ignored); rejected and
   tempfail add 1 to loft_rcpt_rejected_total{reason} (bytes ignored).
   Negative seconds count as 0; NaN and infinite seconds are not observed
   (the outcome is still counted). */
void stats_metrics_delivery(struct stats_metrics *m, enum stats_protocol protocol,
			    enum stats_result result, enum stats_reason reason,
			    uint64_t bytes, double seconds);
/* stats_metrics_rcpt_rejected - a recipient refused before any delivery
   attempt (LMTP RCPT TO: unknown user, concurrency limit, bad syntax):
   loft_rcpt_rejected_total{reason} + 1 and, because it is that
   recipient's outcome, loft_deliveries_total{protocol,result} + 1 with
   result rejected or tempfail (saved is counted as rejected). No duration
   is observed. Report each recipient's outcome once, through this or
   stats_metrics_delivery. */
void stats_metrics_rcpt_rejected(struct stats_metrics *m,
				 enum stats_protocol protocol,
				 enum stats_result result,
				 enum stats_reason reason);
/* stats_metrics_timing - one storage write took seconds */
void stats_metrics_timing(struct stats_metrics *m, enum stats_timing kind,
			  double seconds);
/* stats_metrics_userdb_lookup - one userdb lookup that driver decided
   with result took seconds (values out of range are ignored) */
void stats_metrics_userdb_lookup(struct stats_metrics *m,
				 enum stats_userdb_driver driver,
				 enum stats_userdb_result result,
				 double seconds);
/* stats_metrics_session_started - loft_sessions_total{service} + 1 */
void stats_metrics_session_started(struct stats_metrics *m, const char *service);
/* stats_metrics_log_write_failures - n lines a process could not write
   (loft_log_write_failures_total) */
void stats_metrics_log_write_failures(struct stats_metrics *m, uint64_t n);
/* stats_metrics_journal - disk journal records written and dropped, and
   failed opens/writes (loft_journal_{written,dropped,write_failures}_total) */
void stats_metrics_journal(struct stats_metrics *m, uint64_t written,
			   uint64_t dropped, uint64_t write_failures);
/* stats_metrics_log - n lines logged at level (loft_log_messages_total) */
void stats_metrics_log(struct stats_metrics *m, enum log_level level, uint64_t n);
/* stats_metrics_proxy_delivery - a recipient the LMTP proxy relayed to
   backend ("host:port") with result; up: whether the backend answered,
   seconds: how long it took (0: unknown)
   (loft_proxy_deliveries_total, loft_proxy_backend_up,
   loft_proxy_backend_duration_seconds) */
void stats_metrics_proxy_delivery(struct stats_metrics *m, const char *backend,
				  enum stats_result result, bool up,
				  double seconds);
/* stats_metrics_backends_json - the LMTP proxy's backends seen since
   the last reset: [{"backend": "host:port", "up": true, "deliveries":
   {"saved": n, "rejected": n, "tempfail": n}}] (for /healthz and
   `service status`; the same data as the metrics) */
json_object *stats_metrics_backends_json(const struct stats_metrics *m);
/* stats_metrics_sieve - what Sieve did for one delivery: actions, one
   name per action taken ("fileinto keep"; unknown names are ignored, so
   the label stays bounded), and the scripts that failed
   (loft_sieve_actions_total{action}, loft_sieve_script_errors_total) */
void stats_metrics_sieve(struct stats_metrics *m, const char *actions,
			 unsigned int script_errors);
/* stats_metrics_userdb_cache - a userdb lookup the cache answered (hit)
   or not (loft_userdb_cache_{hits,misses}_total) */
void stats_metrics_userdb_cache(struct stats_metrics *m, bool hit);
/* stats_metrics_http_auth_failures - n HTTP API requests refused for
   missing or wrong credentials (loft_http_auth_failures_total) */
void stats_metrics_http_auth_failures(struct stats_metrics *m, uint64_t n);
/* stats_metrics_tls_handshake - an LMTP TLS handshake done or failed
   (loft_tls_handshakes_total, loft_tls_handshake_failures_total) */
void stats_metrics_tls_handshake(struct stats_metrics *m, bool ok);
/* stats_metrics_kicks - n sessions kicked (loft_kicks_total) */
void stats_metrics_kicks(struct stats_metrics *m, uint64_t n);
/* stats_metrics_reload - n config reloads succeeded (ok) or failed
   (loft_config_reloads_total{result="ok|failed"}) */
void stats_metrics_reload(struct stats_metrics *m, bool ok, uint64_t n);
/* stats_metrics_dropped - n stats events lost on the way
   (loft_stats_events_dropped_total) */
void stats_metrics_dropped(struct stats_metrics *m, uint64_t n);
/* stats_metrics_reset - `stats reset`: every counter and histogram back to
   0, the proxy backends forgotten; loft_build_info and the remembered
   service names stay */
void stats_metrics_reset(struct stats_metrics *m);

/* stats_metrics_render - the exposition as a malloc'ed string.
   openmetrics = false: Prometheus text format 0.0.4 (Content-Type
   "text/plain; version=0.0.4; charset=utf-8"): # HELP and # TYPE per
   family, counters' names end in _total, loft_build_info is a gauge.
   openmetrics = true: OpenMetrics 1.0 ("application/openmetrics-text;
   version=1.0.0; charset=utf-8"): # TYPE, # UNIT (for _seconds and
   _bytes families) and # HELP per family named without the _total/_info
   suffix, build info as `# TYPE loft_build info`, le values in canonical
   form ("1.0"), floats always with a '.' or exponent, ending "# EOF\n".
   services may be NULL (no per-service gauges). */
char *stats_metrics_render(const struct stats_metrics *m,
			   const struct stats_metrics_services *services,
			   bool openmetrics);

/* stats_metrics_json - the same series as JSON (caller owns it):
     {"version": "0.1.0", "metrics": [SERIES...]}
   with one SERIES per exposition series, in exposition order:
     {"name": "loft_deliveries_total", "type": "counter",
      "labels": {"protocol": "lmtp", "result": "saved"}, "value": 3}
   type is "counter", "gauge" or "info" (value 1); histograms are
     {"name": "loft_delivery_duration_seconds", "type": "histogram",
      "labels": {"protocol": "lmtp"}, "count": 2, "sum": 0.75,
      "buckets": {"0.0005": 0, ..., "30": 2, "+Inf": 2}}
   with cumulative bucket counts keyed by their upper bound. */
json_object *stats_metrics_json(const struct stats_metrics *m,
				const struct stats_metrics_services *services);

#endif
