/*
 * stats_metrics - loft's counters and histograms and their Prometheus,
 * OpenMetrics and JSON renderings (see stats_metrics.h).
 *
 * One walk over the metric families (stats_metrics_walk) produces every
 * series in a fixed order; the text and JSON renderers are sinks fed by
 * that walk, so the three outputs always list the same series.
 */
#include "stats_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats_json.h"
#include "strbuf.h"
#include "xalloc.h"

#define STATS_METRICS_SERVICE_NAME_MAX 128
#define STATS_METRICS_NUMBER_SIZE 40

const double stats_metrics_bucket_bounds[STATS_METRICS_BUCKET_COUNT - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30,
};

static const char *const stats_metrics_protocol_names[STATS_PROTOCOL_COUNT] = {
	"lmtp", "lda",
};
static const char *const stats_metrics_result_names[STATS_RESULT_COUNT] = {
	"saved", "rejected", "tempfail",
};
static const char *const stats_metrics_reason_names[STATS_REASON_COUNT] = {
	"unknown_user", "quota", "size", "concurrency", "syntax", "other",
};
static const char *const stats_metrics_userdb_driver_names[STATS_USERDB_DRIVER_COUNT] = {
	"passwd-file", "passwd", "static", "sql", "auth",
};
static const char *const stats_metrics_userdb_result_names[STATS_USERDB_RESULT_COUNT] = {
	"found", "unknown_user", "tempfail",
};
static const char *const stats_metrics_reload_names[2] = { "ok", "failed" };
static const char *const stats_metrics_refusal_names[2] = { "rejected", "tempfail" };
/* the Sieve actions deliveries report (loft_sieve_actions_total) */
#define STATS_SIEVE_ACTION_COUNT 6
static const char *const stats_metrics_sieve_action_names[STATS_SIEVE_ACTION_COUNT] = {
	"keep", "fileinto", "discard", "reject", "redirect", "vacation",
};

struct stats_histogram {
	uint64_t buckets[STATS_METRICS_BUCKET_COUNT];	/* not cumulative */
	uint64_t count;
	double sum;
};

/* Everything `stats reset` zeroes. */
struct stats_metrics_counters {
	uint64_t deliveries[STATS_PROTOCOL_COUNT][STATS_RESULT_COUNT];
	struct stats_histogram delivery_duration[STATS_PROTOCOL_COUNT];
	uint64_t delivered_bytes[STATS_PROTOCOL_COUNT];
	uint64_t rcpt_rejected[STATS_REASON_COUNT];
	/* by result, refusals only: [0] rejected, [1] tempfail */
	uint64_t quota_rejections[2];
	uint64_t sieve_actions[STATS_SIEVE_ACTION_COUNT];
	uint64_t sieve_script_errors;
	uint64_t sessions_total[STATS_METRICS_MAX_SERVICES + 1];
	struct stats_histogram timings[STATS_TIMING_COUNT];
	struct stats_histogram userdb_lookups[STATS_USERDB_DRIVER_COUNT]
					     [STATS_USERDB_RESULT_COUNT];
	uint64_t log_messages[LOG_LEVEL_COUNT];
	uint64_t log_write_failures;
	uint64_t journal_written, journal_dropped, journal_write_failures;
	uint64_t kicks;
	uint64_t reloads[2];		/* ok, failed */
	uint64_t dropped;
	uint64_t http_auth_failures;
	uint64_t userdb_cache[2];	/* hits, misses */
	uint64_t tls_handshakes, tls_handshake_failures;
	uint64_t proxy_deliveries[STATS_METRICS_MAX_BACKENDS + 1]
				 [STATS_RESULT_COUNT];
	struct stats_histogram proxy_backend_duration[STATS_METRICS_MAX_BACKENDS + 1];
};

/* What outlives the process (stats_state): the counters, the names
   behind counters.sessions_total and proxy_deliveries (the extra slot is
   "other"), and whether each proxy backend answered last time. */
struct stats_metrics_store {
	struct stats_metrics_counters c;
	uint64_t service_count;
	char service_names[STATS_METRICS_MAX_SERVICES + 1]
			  [STATS_METRICS_SERVICE_NAME_MAX + 1];
	uint64_t backend_count;
	char backend_names[STATS_METRICS_MAX_BACKENDS + 1]
			  [STATS_METRICS_BACKEND_NAME_MAX + 1];
	uint8_t backend_up[STATS_METRICS_MAX_BACKENDS + 1];
};

struct stats_metrics {
	char *version;
	struct stats_metrics_store *store;
	bool own_store;		/* xcalloc'ed, not the caller's */
};

enum stats_metric_type {
	STATS_METRIC_COUNTER,
	STATS_METRIC_GAUGE,
	STATS_METRIC_HISTOGRAM,
	STATS_METRIC_INFO,
};

/* A metric family; name is the 0.0.4 name (with _total / _info). */
struct stats_metric_family {
	const char *name;
	enum stats_metric_type type;
	const char *unit;	/* OpenMetrics # UNIT, or NULL */
	const char *help;
};

enum stats_metric_id {
	STATS_M_BUILD_INFO,
	STATS_M_DELIVERIES,
	STATS_M_DELIVERY_DURATION,
	STATS_M_DELIVERED_BYTES,
	STATS_M_RCPT_REJECTED,
	STATS_M_QUOTA_REJECTIONS,
	STATS_M_SIEVE_ACTIONS,
	STATS_M_SIEVE_SCRIPT_ERRORS,
	STATS_M_SESSIONS_ACTIVE,
	STATS_M_SESSIONS_TOTAL,
	STATS_M_SERVICE_PROCESSES,
	STATS_M_SERVICE_RESTARTS,
	STATS_M_PROCESS_CPU,
	STATS_M_PROCESS_RESIDENT,
	STATS_M_PROCESS_FDS,
	STATS_M_PROCESS_START,
	STATS_M_USERDB_DURATION,
	STATS_M_USERDB_CACHE_HITS,
	STATS_M_USERDB_CACHE_MISSES,
	STATS_M_STORAGE_DURATION,
	STATS_M_LOG_MESSAGES,
	STATS_M_LOG_WRITE_FAILURES,
	STATS_M_JOURNAL_WRITTEN,
	STATS_M_JOURNAL_DROPPED,
	STATS_M_JOURNAL_WRITE_FAILURES,
	STATS_M_KICKS,
	STATS_M_CONFIG_RELOADS,
	STATS_M_CONFIG_RELOAD_TIME,
	STATS_M_EVENTS_DROPPED,
	STATS_M_HTTP_AUTH_FAILURES,
	STATS_M_TLS_HANDSHAKES,
	STATS_M_TLS_HANDSHAKE_FAILURES,
	STATS_M_PROXY_DELIVERIES,
	STATS_M_PROXY_BACKEND_UP,
	STATS_M_PROXY_BACKEND_DURATION,
	STATS_M_COUNT
};

static const struct stats_metric_family stats_metric_families[STATS_M_COUNT] = {
	[STATS_M_BUILD_INFO] = { "loft_build_info", STATS_METRIC_INFO, NULL,
		"loft build information." },
	[STATS_M_DELIVERIES] = { "loft_deliveries_total", STATS_METRIC_COUNTER,
		NULL, "Recipient delivery outcomes by protocol and result." },
	[STATS_M_DELIVERY_DURATION] = { "loft_delivery_duration_seconds",
		STATS_METRIC_HISTOGRAM, "seconds",
		"Time taken by one recipient's delivery attempt." },
	[STATS_M_DELIVERED_BYTES] = { "loft_delivered_bytes_total",
		STATS_METRIC_COUNTER, "bytes",
		"Bytes of messages saved, by protocol." },
	[STATS_M_RCPT_REJECTED] = { "loft_rcpt_rejected_total",
		STATS_METRIC_COUNTER, NULL,
		"Recipients rejected or deferred, by reason." },
	[STATS_M_QUOTA_REJECTIONS] = { "loft_quota_rejections_total",
		STATS_METRIC_COUNTER, NULL,
		"Recipients refused for a full quota, by result." },
	[STATS_M_SIEVE_ACTIONS] = { "loft_sieve_actions_total",
		STATS_METRIC_COUNTER, NULL,
		"Actions Sieve scripts took at delivery, by action." },
	[STATS_M_SIEVE_SCRIPT_ERRORS] = { "loft_sieve_script_errors_total",
		STATS_METRIC_COUNTER, NULL,
		"Sieve scripts that failed to compile or run at delivery "
		"(the message was kept)." },
	[STATS_M_SESSIONS_ACTIVE] = { "loft_sessions_active", STATS_METRIC_GAUGE,
		NULL, "Sessions open now, by service." },
	[STATS_M_SESSIONS_TOTAL] = { "loft_sessions_total", STATS_METRIC_COUNTER,
		NULL, "Sessions started, by service." },
	[STATS_M_SERVICE_PROCESSES] = { "loft_service_processes",
		STATS_METRIC_GAUGE, NULL, "Processes running, by service." },
	[STATS_M_SERVICE_RESTARTS] = { "loft_service_restarts_total",
		STATS_METRIC_COUNTER, NULL,
		"Service processes replaced after an abnormal exit." },
	[STATS_M_PROCESS_CPU] = { "process_cpu_seconds_total",
		STATS_METRIC_COUNTER, "seconds",
		"User and system CPU time of the service's processes, exited ones included." },
	[STATS_M_PROCESS_RESIDENT] = { "process_resident_memory_bytes",
		STATS_METRIC_GAUGE, "bytes",
		"Resident memory of the service's processes, summed." },
	[STATS_M_PROCESS_FDS] = { "process_open_fds", STATS_METRIC_GAUGE,
		NULL, "Open file descriptors of the service's processes, summed." },
	[STATS_M_PROCESS_START] = { "process_start_time_seconds",
		STATS_METRIC_GAUGE, "seconds",
		"Start time of the service's oldest process since the epoch." },
	[STATS_M_USERDB_DURATION] = { "loft_userdb_lookup_duration_seconds",
		STATS_METRIC_HISTOGRAM, "seconds", "Time taken by userdb lookups, by the driver that decided and the result." },
	[STATS_M_USERDB_CACHE_HITS] = { "loft_userdb_cache_hits_total",
		STATS_METRIC_COUNTER, NULL,
		"Userdb lookups answered by the auth cache (auth_cache_size)." },
	[STATS_M_USERDB_CACHE_MISSES] = { "loft_userdb_cache_misses_total",
		STATS_METRIC_COUNTER, NULL,
		"Userdb lookups the auth cache could not answer." },
	[STATS_M_STORAGE_DURATION] = { "loft_storage_write_duration_seconds",
		STATS_METRIC_HISTOGRAM, "seconds",
		"Time taken writing a message to the mailbox." },
	[STATS_M_LOG_MESSAGES] = { "loft_log_messages_total",
		STATS_METRIC_COUNTER, NULL, "Log lines written, by level." },
	[STATS_M_LOG_WRITE_FAILURES] = { "loft_log_write_failures_total",
		STATS_METRIC_COUNTER, NULL,
		"Log lines that could not be written where configured." },
	[STATS_M_JOURNAL_WRITTEN] = { "loft_journal_written_total",
		STATS_METRIC_COUNTER, NULL,
		"Deliveries and recent errors written to the disk journal." },
	[STATS_M_JOURNAL_DROPPED] = { "loft_journal_dropped_total",
		STATS_METRIC_COUNTER, NULL,
		"Deliveries and recent errors that never reached the disk journal." },
	[STATS_M_JOURNAL_WRITE_FAILURES] = { "loft_journal_write_failures_total",
		STATS_METRIC_COUNTER, NULL,
		"Failed opens and batch writes of the disk journal." },
	[STATS_M_KICKS] = { "loft_kicks_total", STATS_METRIC_COUNTER, NULL,
		"Sessions ended by an admin kick." },
	[STATS_M_CONFIG_RELOADS] = { "loft_config_reloads_total",
		STATS_METRIC_COUNTER, NULL, "Configuration reloads, by result." },
	[STATS_M_CONFIG_RELOAD_TIME] = {
		"loft_config_last_reload_success_timestamp_seconds",
		STATS_METRIC_GAUGE, "seconds",
		"When the configuration was last loaded successfully (start-up included)." },
	[STATS_M_EVENTS_DROPPED] = { "loft_stats_events_dropped_total",
		STATS_METRIC_COUNTER, NULL,
		"Stats events lost because the stats process was slow or down." },
	[STATS_M_HTTP_AUTH_FAILURES] = { "loft_http_auth_failures_total",
		STATS_METRIC_COUNTER, NULL,
		"HTTP API requests refused for missing or wrong credentials." },
	[STATS_M_TLS_HANDSHAKES] = { "loft_tls_handshakes_total",
		STATS_METRIC_COUNTER, NULL,
		"LMTP TLS handshakes completed (STARTTLS and ssl = yes listeners)." },
	[STATS_M_TLS_HANDSHAKE_FAILURES] = { "loft_tls_handshake_failures_total",
		STATS_METRIC_COUNTER, NULL,
		"LMTP TLS handshakes that failed or were abandoned." },
	[STATS_M_PROXY_DELIVERIES] = { "loft_proxy_deliveries_total",
		STATS_METRIC_COUNTER, NULL,
		"Recipients the LMTP proxy relayed, by backend and result." },
	[STATS_M_PROXY_BACKEND_UP] = { "loft_proxy_backend_up",
		STATS_METRIC_GAUGE, NULL,
		"Whether the backend answered the proxy's last attempt (1) or "
		"could not be reached (0)." },
	[STATS_M_PROXY_BACKEND_DURATION] = { "loft_proxy_backend_duration_seconds",
		STATS_METRIC_HISTOGRAM, "seconds",
		"How long each backend took to answer a relayed recipient: RCPT "
		"for a refusal, DATA with the message for an acceptance." },
};

static const char *const stats_metric_type_names[] = {
	[STATS_METRIC_COUNTER] = "counter",
	[STATS_METRIC_GAUGE] = "gauge",
	[STATS_METRIC_HISTOGRAM] = "histogram",
	[STATS_METRIC_INFO] = "info",
};

struct stats_metric_label {
	const char *name;
	const char *value;
};

/* Receives the walk's families and series. */
struct stats_metrics_sink {
	void (*family)(struct stats_metrics_sink *sink,
		       const struct stats_metric_family *f);
	void (*sample)(struct stats_metrics_sink *sink,
		       const struct stats_metric_family *f,
		       const struct stats_metric_label *labels, size_t label_count,
		       uint64_t value);
	/* a sample whose value is not an integer */
	void (*real)(struct stats_metrics_sink *sink,
		     const struct stats_metric_family *f,
		     const struct stats_metric_label *labels, size_t label_count,
		     double value);
	void (*histogram)(struct stats_metrics_sink *sink,
			  const struct stats_metric_family *f,
			  const struct stats_metric_label *labels,
			  size_t label_count, const struct stats_histogram *h);
};

struct stats_metrics_text_sink {
	struct stats_metrics_sink sink;	/* must stay first */
	struct strbuf buf;
	bool openmetrics;
};

struct stats_metrics_json_sink {
	struct stats_metrics_sink sink;	/* must stay first */
	json_object *series;
};

/* Which per-service value a service family shows. */
enum stats_metrics_service_value {
	STATS_SERVICE_SESSIONS_ACTIVE,
	STATS_SERVICE_PROCESSES,
	STATS_SERVICE_RESTARTS,
};

/* Which figure a process_* family shows. */
enum stats_metrics_process_value {
	STATS_PROCESS_CPU,
	STATS_PROCESS_RESIDENT,
	STATS_PROCESS_FDS,
	STATS_PROCESS_START,
};

/* stats_metrics_name_parse - index of name in names[0..n-1], or -1 */
static int stats_metrics_name_parse(const char *const *names, unsigned int n,
				    const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

const char *stats_metrics_protocol_name(enum stats_protocol protocol)
{
	return (unsigned int)protocol < STATS_PROTOCOL_COUNT ?
		stats_metrics_protocol_names[protocol] : "unknown";
}

const char *stats_metrics_result_name(enum stats_result result)
{
	return (unsigned int)result < STATS_RESULT_COUNT ?
		stats_metrics_result_names[result] : "unknown";
}

const char *stats_metrics_reason_name(enum stats_reason reason)
{
	return (unsigned int)reason < STATS_REASON_COUNT ?
		stats_metrics_reason_names[reason] : "unknown";
}

bool stats_metrics_protocol_parse(const char *name, enum stats_protocol *r)
{
	int i = stats_metrics_name_parse(stats_metrics_protocol_names,
					 STATS_PROTOCOL_COUNT, name);

	if (i >= 0)
		*r = (enum stats_protocol)i;
	return i >= 0;
}

bool stats_metrics_result_parse(const char *name, enum stats_result *r)
{
	int i = stats_metrics_name_parse(stats_metrics_result_names,
					 STATS_RESULT_COUNT, name);

	if (i >= 0)
		*r = (enum stats_result)i;
	return i >= 0;
}

bool stats_metrics_reason_parse(const char *name, enum stats_reason *r)
{
	int i = stats_metrics_name_parse(stats_metrics_reason_names,
					 STATS_REASON_COUNT, name);

	if (i >= 0)
		*r = (enum stats_reason)i;
	return i >= 0;
}

static size_t stats_metrics_service_index(struct stats_metrics *m,
					  const char *service);

size_t stats_metrics_store_size(void)
{
	return sizeof(struct stats_metrics_store);
}

struct stats_metrics *stats_metrics_create(const char *version)
{
	return stats_metrics_create_in(version, NULL);
}

struct stats_metrics *stats_metrics_create_in(const char *version, void *store)
{
	struct stats_metrics *m = xcalloc(1, sizeof(*m));

	m->own_store = store == NULL;
	m->store = store != NULL ? store : xcalloc(1, sizeof(*m->store));
	m->version = stats_json_strdup(version != NULL ? version : "unknown",
				       STATS_JSON_MAX_STRING);
	/* every documented label combination exists from the first scrape:
	   the services that start sessions */
	(void)stats_metrics_service_index(m, "lmtp");
	(void)stats_metrics_service_index(m, "lda");
	return m;
}

void stats_metrics_free(struct stats_metrics **_m)
{
	struct stats_metrics *m = *_m;

	if (m == NULL)
		return;
	if (m->own_store)
		free(m->store);
	free(m->version);
	free(m);
	*_m = NULL;
}

/* stats_metrics_add - count n: atomically, since the counters live in
   shared memory (stats_state) that the retiring and the new loft-stats
   both write for a moment during a reload; a plain ++ could lose an
   increment and make a scrape see the counter go down */
static void stats_metrics_add(uint64_t *counter, uint64_t n)
{
	(void)__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* stats_metrics_add_double - the same for a histogram's sum */
static void stats_metrics_add_double(double *sum, double v)
{
	double old, sum_new;

	__atomic_load(sum, &old, __ATOMIC_RELAXED);
	do {
		sum_new = old + v;
	} while (!__atomic_compare_exchange(sum, &old, &sum_new, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* stats_metrics_observe - add one value to h (le is inclusive) */
static void stats_metrics_observe(struct stats_histogram *h, double seconds)
{
	unsigned int i;

	if (!isfinite(seconds))
		return;
	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < STATS_METRICS_BUCKET_COUNT - 1; i++) {
		if (seconds <= stats_metrics_bucket_bounds[i])
			break;
	}
	stats_metrics_add(&h->buckets[i], 1);
	stats_metrics_add(&h->count, 1);
	stats_metrics_add_double(&h->sum, seconds);
}

/* stats_metrics_refused - one refused or deferred recipient's reason */
static void stats_metrics_refused(struct stats_metrics *m,
				  enum stats_result result,
				  enum stats_reason reason)
{
	if ((unsigned int)reason >= STATS_REASON_COUNT)
		reason = STATS_REASON_OTHER;
	stats_metrics_add(&m->store->c.rcpt_rejected[reason], 1);
	if (reason == STATS_REASON_QUOTA)
		stats_metrics_add(&m->store->c.quota_rejections[
				  result == STATS_RESULT_TEMPFAIL], 1);
}

void stats_metrics_sieve(struct stats_metrics *m, const char *actions,
			 unsigned int script_errors)
{
	const char *p = actions == NULL ? "" : actions;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		for (size_t i = 0; i < STATS_SIEVE_ACTION_COUNT; i++) {
			if (strlen(stats_metrics_sieve_action_names[i]) == len &&
			    strncmp(stats_metrics_sieve_action_names[i], p, len) == 0)
				m->store->c.sieve_actions[i]++;
		}
		p += len;
		p += strspn(p, " ");
	}
	/* a delivery runs a handful of scripts: a peer saying more is
	   not believed */
	m->store->c.sieve_script_errors += script_errors < 256 ? script_errors : 255;
}

void stats_metrics_delivery(struct stats_metrics *m, enum stats_protocol protocol,
			    enum stats_result result, enum stats_reason reason,
			    uint64_t bytes, double seconds)
{
	if ((unsigned int)protocol >= STATS_PROTOCOL_COUNT ||
	    (unsigned int)result >= STATS_RESULT_COUNT)
		return;
	stats_metrics_add(&m->store->c.deliveries[protocol][result], 1);
	stats_metrics_observe(&m->store->c.delivery_duration[protocol], seconds);
	if (result == STATS_RESULT_SAVED)
		stats_metrics_add(&m->store->c.delivered_bytes[protocol], bytes);
	else
		stats_metrics_refused(m, result, reason);
}

void stats_metrics_rcpt_rejected(struct stats_metrics *m,
				 enum stats_protocol protocol,
				 enum stats_result result,
				 enum stats_reason reason)
{
	if ((unsigned int)protocol >= STATS_PROTOCOL_COUNT)
		return;
	if (result != STATS_RESULT_TEMPFAIL)
		result = STATS_RESULT_REJECTED;
	stats_metrics_add(&m->store->c.deliveries[protocol][result], 1);
	stats_metrics_refused(m, result, reason);
}

void stats_metrics_timing(struct stats_metrics *m, enum stats_timing kind,
			  double seconds)
{
	if ((unsigned int)kind < STATS_TIMING_COUNT)
		stats_metrics_observe(&m->store->c.timings[kind], seconds);
}

void stats_metrics_userdb_lookup(struct stats_metrics *m,
				 enum stats_userdb_driver driver,
				 enum stats_userdb_result result,
				 double seconds)
{
	if ((unsigned int)driver < STATS_USERDB_DRIVER_COUNT &&
	    (unsigned int)result < STATS_USERDB_RESULT_COUNT)
		stats_metrics_observe(&m->store->c.userdb_lookups[driver][result],
				      seconds);
}

/* stats_metrics_name_slot - the slot of name in a table of max + 1 rows
   of width bytes holding *count names, remembering a new name (names past
   max share the last slot, "other") */
static size_t stats_metrics_name_slot(char *names, size_t width,
				      uint64_t *count, size_t max,
				      const char *name)
{
	char *copy;
	size_t i;

	for (;;) {
		for (i = 0; i < *count; i++) {
			if (strcmp(names + i * width, name) == 0)
				return i;
		}
		if (*count < max || strcmp(name, "other") == 0)
			break;
		name = "other";
	}
	copy = stats_json_strdup(name, width - 1);
	snprintf(names + *count * width, width, "%s", copy);
	free(copy);
	return (size_t)(*count)++;
}

/* stats_metrics_service_index - the sessions_total slot of service */
static size_t stats_metrics_service_index(struct stats_metrics *m,
					  const char *service)
{
	return stats_metrics_name_slot(&m->store->service_names[0][0],
				       sizeof(m->store->service_names[0]),
				       &m->store->service_count,
				       STATS_METRICS_MAX_SERVICES, service);
}

void stats_metrics_proxy_delivery(struct stats_metrics *m, const char *backend,
				  enum stats_result result, bool up,
				  double seconds)
{
	size_t i = stats_metrics_name_slot(&m->store->backend_names[0][0],
					   sizeof(m->store->backend_names[0]),
					   &m->store->backend_count,
					   STATS_METRICS_MAX_BACKENDS, backend);

	if ((unsigned int)result < STATS_RESULT_COUNT)
		stats_metrics_add(&m->store->c.proxy_deliveries[i][result], 1);
	m->store->backend_up[i] = up;
	if (seconds > 0)
		stats_metrics_observe(&m->store->c.proxy_backend_duration[i],
				      seconds);
}

json_object *stats_metrics_backends_json(const struct stats_metrics *m)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; i < m->store->backend_count; i++) {
		json_object *o = json_object_new_object();
		json_object *d = json_object_new_object();

		json_object_object_add(o, "backend", json_object_new_string(
					       m->store->backend_names[i]));
		json_object_object_add(o, "up", json_object_new_boolean(
					       m->store->backend_up[i]));
		for (size_t r = 0; r < STATS_RESULT_COUNT; r++)
			json_object_object_add(d, stats_metrics_result_names[r],
				json_object_new_uint64(
					m->store->c.proxy_deliveries[i][r]));
		json_object_object_add(o, "deliveries", d);
		json_object_array_add(list, o);
	}
	return list;
}

void stats_metrics_session_started(struct stats_metrics *m, const char *service)
{
	stats_metrics_add(&m->store->c.sessions_total[
				  stats_metrics_service_index(m, service)], 1);
}

void stats_metrics_log(struct stats_metrics *m, enum log_level level, uint64_t n)
{
	if ((unsigned int)level < LOG_LEVEL_COUNT)
		stats_metrics_add(&m->store->c.log_messages[level], n);
}

void stats_metrics_log_write_failures(struct stats_metrics *m, uint64_t n)
{
	stats_metrics_add(&m->store->c.log_write_failures, n);
}

void stats_metrics_journal(struct stats_metrics *m, uint64_t written,
			   uint64_t dropped, uint64_t write_failures)
{
	stats_metrics_add(&m->store->c.journal_written, written);
	stats_metrics_add(&m->store->c.journal_dropped, dropped);
	stats_metrics_add(&m->store->c.journal_write_failures, write_failures);
}

void stats_metrics_kicks(struct stats_metrics *m, uint64_t n)
{
	stats_metrics_add(&m->store->c.kicks, n);
}

void stats_metrics_reload(struct stats_metrics *m, bool ok, uint64_t n)
{
	stats_metrics_add(&m->store->c.reloads[ok ? 0 : 1], n);
}

void stats_metrics_userdb_cache(struct stats_metrics *m, bool hit)
{
	stats_metrics_add(&m->store->c.userdb_cache[hit ? 0 : 1], 1);
}

void stats_metrics_http_auth_failures(struct stats_metrics *m, uint64_t n)
{
	stats_metrics_add(&m->store->c.http_auth_failures, n);
}

void stats_metrics_tls_handshake(struct stats_metrics *m, bool ok)
{
	if (ok)
		stats_metrics_add(&m->store->c.tls_handshakes, 1);
	else
		stats_metrics_add(&m->store->c.tls_handshake_failures, 1);
}

void stats_metrics_dropped(struct stats_metrics *m, uint64_t n)
{
	stats_metrics_add(&m->store->c.dropped, n);
}

void stats_metrics_reset(struct stats_metrics *m)
{
	memset(&m->store->c, 0, sizeof(m->store->c));
	/* backends come back with their next relayed recipient */
	m->store->backend_count = 0;
	memset(m->store->backend_names, 0, sizeof(m->store->backend_names));
	memset(m->store->backend_up, 0, sizeof(m->store->backend_up));
}

/* ---- the walk ---- */

/* stats_metrics_walk_backends - the LMTP proxy's backends seen so far */
static void stats_metrics_walk_backends(const struct stats_metrics *m,
					struct stats_metrics_sink *sink)
{
	const struct stats_metric_family *f =
		&stats_metric_families[STATS_M_PROXY_DELIVERIES];
	struct stats_metric_label l[2] = { { "backend", NULL },
					   { "result", NULL } };

	sink->family(sink, f);
	for (size_t i = 0; i < m->store->backend_count; i++) {
		l[0].value = m->store->backend_names[i];
		for (size_t r = 0; r < STATS_RESULT_COUNT; r++) {
			l[1].value = stats_metrics_result_names[r];
			sink->sample(sink, f, l, 2,
				     m->store->c.proxy_deliveries[i][r]);
		}
	}
	f = &stats_metric_families[STATS_M_PROXY_BACKEND_UP];
	sink->family(sink, f);
	for (size_t i = 0; i < m->store->backend_count; i++) {
		l[0].value = m->store->backend_names[i];
		sink->sample(sink, f, l, 1, m->store->backend_up[i]);
	}
	f = &stats_metric_families[STATS_M_PROXY_BACKEND_DURATION];
	sink->family(sink, f);
	for (size_t i = 0; i < m->store->backend_count; i++) {
		l[0].value = m->store->backend_names[i];
		sink->histogram(sink, f, l, 1,
				&m->store->c.proxy_backend_duration[i]);
	}
}

/* stats_metrics_walk_enum - one series per names[i], label name=names[i],
   value values[i] */
static void stats_metrics_walk_enum(struct stats_metrics_sink *sink,
				    enum stats_metric_id id, const char *label,
				    const char *const *names,
				    const uint64_t *values, size_t n)
{
	const struct stats_metric_family *f = &stats_metric_families[id];
	struct stats_metric_label l = { label, NULL };
	size_t i;

	sink->family(sink, f);
	for (i = 0; i < n; i++) {
		l.value = names[i];
		sink->sample(sink, f, &l, 1, values[i]);
	}
}

/* stats_metrics_walk_plain - a family with one unlabelled value */
static void stats_metrics_walk_plain(struct stats_metrics_sink *sink,
				     enum stats_metric_id id, uint64_t value)
{
	const struct stats_metric_family *f = &stats_metric_families[id];

	sink->family(sink, f);
	sink->sample(sink, f, NULL, 0, value);
}

/* stats_metrics_service_value - one of the caller's per-service values */
static uint64_t stats_metrics_service_value(const struct stats_metrics_service *s,
					    enum stats_metrics_service_value which)
{
	switch (which) {
	case STATS_SERVICE_SESSIONS_ACTIVE:
		return s->sessions_active;
	case STATS_SERVICE_PROCESSES:
		return s->processes;
	case STATS_SERVICE_RESTARTS:
		return s->restarts;
	}
	return 0;
}

/* stats_metrics_walk_services - a family over the caller's services */
static void stats_metrics_walk_services(struct stats_metrics_sink *sink,
					enum stats_metric_id id,
					const struct stats_metrics_services *services,
					enum stats_metrics_service_value which)
{
	const struct stats_metric_family *f = &stats_metric_families[id];
	struct stats_metric_label l = { "service", NULL };
	size_t i;

	sink->family(sink, f);
	for (i = 0; services != NULL && i < services->count; i++) {
		l.value = services->items[i].name;
		sink->sample(sink, f, &l, 1, stats_metrics_service_value(
			&services->items[i], which));
	}
}

/* stats_metrics_walk_processes - a process_* family over loftd's figures */
static void stats_metrics_walk_processes(struct stats_metrics_sink *sink,
					 enum stats_metric_id id,
					 const struct stats_metrics_services *services,
					 enum stats_metrics_process_value which)
{
	const struct stats_metric_family *f = &stats_metric_families[id];
	struct stats_metric_label l = { "service", NULL };
	const struct stats_metrics_process *p;
	size_t i;

	sink->family(sink, f);
	for (i = 0; services != NULL && i < services->process_count; i++) {
		p = &services->processes[i];
		l.value = p->service;
		switch (which) {
		case STATS_PROCESS_CPU:
			sink->real(sink, f, &l, 1, p->cpu_seconds);
			break;
		case STATS_PROCESS_RESIDENT:
			sink->sample(sink, f, &l, 1, p->resident_bytes);
			break;
		case STATS_PROCESS_FDS:
			sink->sample(sink, f, &l, 1, p->open_fds);
			break;
		case STATS_PROCESS_START:
			if (p->start_seconds > 0)
				sink->real(sink, f, &l, 1, p->start_seconds);
			break;
		}
	}
}

/* stats_metrics_passed - is name one of the caller's services? */
static bool stats_metrics_passed(const struct stats_metrics_services *services,
				 const char *name)
{
	size_t i;

	for (i = 0; services != NULL && i < services->count; i++) {
		if (strcmp(services->items[i].name, name) == 0)
			return true;
	}
	return false;
}

/* stats_metrics_walk_sessions_total - the caller's services, then those
   only seen in session starts */
static void stats_metrics_walk_sessions_total(const struct stats_metrics *m,
					      const struct stats_metrics_services *services,
					      struct stats_metrics_sink *sink)
{
	const struct stats_metric_family *f =
		&stats_metric_families[STATS_M_SESSIONS_TOTAL];
	struct stats_metric_label l = { "service", NULL };
	uint64_t value;
	size_t i, j;

	sink->family(sink, f);
	for (i = 0; services != NULL && i < services->count; i++) {
		l.value = services->items[i].name;
		value = 0;
		for (j = 0; j < m->store->service_count; j++) {
			if (strcmp(m->store->service_names[j], l.value) == 0)
				value = m->store->c.sessions_total[j];
		}
		sink->sample(sink, f, &l, 1, value);
	}
	for (j = 0; j < m->store->service_count; j++) {
		if (stats_metrics_passed(services, m->store->service_names[j]))
			continue;
		l.value = m->store->service_names[j];
		sink->sample(sink, f, &l, 1, m->store->c.sessions_total[j]);
	}
}

/* stats_metrics_walk - every family and series, in exposition order */
static void stats_metrics_walk(const struct stats_metrics *m,
			       const struct stats_metrics_services *services,
			       struct stats_metrics_sink *sink)
{
	const char *level_names[LOG_LEVEL_COUNT];
	const struct stats_metric_family *f;
	struct stats_metric_label l[2];
	unsigned int p, r;

	f = &stats_metric_families[STATS_M_BUILD_INFO];
	sink->family(sink, f);
	l[0].name = "version";
	l[0].value = m->version;
	sink->sample(sink, f, l, 1, 1);

	f = &stats_metric_families[STATS_M_DELIVERIES];
	sink->family(sink, f);
	l[0].name = "protocol";
	l[1].name = "result";
	for (p = 0; p < STATS_PROTOCOL_COUNT; p++) {
		l[0].value = stats_metrics_protocol_names[p];
		for (r = 0; r < STATS_RESULT_COUNT; r++) {
			l[1].value = stats_metrics_result_names[r];
			sink->sample(sink, f, l, 2, m->store->c.deliveries[p][r]);
		}
	}

	f = &stats_metric_families[STATS_M_DELIVERY_DURATION];
	sink->family(sink, f);
	for (p = 0; p < STATS_PROTOCOL_COUNT; p++) {
		l[0].value = stats_metrics_protocol_names[p];
		sink->histogram(sink, f, l, 1, &m->store->c.delivery_duration[p]);
	}

	stats_metrics_walk_enum(sink, STATS_M_DELIVERED_BYTES, "protocol",
				stats_metrics_protocol_names,
				m->store->c.delivered_bytes, STATS_PROTOCOL_COUNT);
	stats_metrics_walk_enum(sink, STATS_M_RCPT_REJECTED, "reason",
				stats_metrics_reason_names,
				m->store->c.rcpt_rejected, STATS_REASON_COUNT);
	stats_metrics_walk_enum(sink, STATS_M_QUOTA_REJECTIONS, "result",
				stats_metrics_refusal_names,
				m->store->c.quota_rejections, 2);
	stats_metrics_walk_enum(sink, STATS_M_SIEVE_ACTIONS, "action",
				stats_metrics_sieve_action_names,
				m->store->c.sieve_actions, STATS_SIEVE_ACTION_COUNT);
	stats_metrics_walk_plain(sink, STATS_M_SIEVE_SCRIPT_ERRORS,
				 m->store->c.sieve_script_errors);
	stats_metrics_walk_services(sink, STATS_M_SESSIONS_ACTIVE, services,
				    STATS_SERVICE_SESSIONS_ACTIVE);
	stats_metrics_walk_sessions_total(m, services, sink);
	stats_metrics_walk_services(sink, STATS_M_SERVICE_PROCESSES, services,
				    STATS_SERVICE_PROCESSES);
	stats_metrics_walk_services(sink, STATS_M_SERVICE_RESTARTS, services,
				    STATS_SERVICE_RESTARTS);
	stats_metrics_walk_processes(sink, STATS_M_PROCESS_CPU, services,
				     STATS_PROCESS_CPU);
	stats_metrics_walk_processes(sink, STATS_M_PROCESS_RESIDENT, services,
				     STATS_PROCESS_RESIDENT);
	stats_metrics_walk_processes(sink, STATS_M_PROCESS_FDS, services,
				     STATS_PROCESS_FDS);
	stats_metrics_walk_processes(sink, STATS_M_PROCESS_START, services,
				     STATS_PROCESS_START);

	f = &stats_metric_families[STATS_M_USERDB_DURATION];
	sink->family(sink, f);
	l[0].name = "driver";
	l[1].name = "result";
	for (p = 0; p < STATS_USERDB_DRIVER_COUNT; p++) {
		l[0].value = stats_metrics_userdb_driver_names[p];
		for (r = 0; r < STATS_USERDB_RESULT_COUNT; r++) {
			l[1].value = stats_metrics_userdb_result_names[r];
			sink->histogram(sink, f, l, 2,
					&m->store->c.userdb_lookups[p][r]);
		}
	}
	stats_metrics_walk_plain(sink, STATS_M_USERDB_CACHE_HITS,
				 m->store->c.userdb_cache[0]);
	stats_metrics_walk_plain(sink, STATS_M_USERDB_CACHE_MISSES,
				 m->store->c.userdb_cache[1]);
	f = &stats_metric_families[STATS_M_STORAGE_DURATION];
	sink->family(sink, f);
	sink->histogram(sink, f, NULL, 0,
			&m->store->c.timings[STATS_TIMING_STORAGE_WRITE]);

	for (r = 0; r < LOG_LEVEL_COUNT; r++)
		level_names[r] = stats_json_level_name((enum log_level)r);
	stats_metrics_walk_enum(sink, STATS_M_LOG_MESSAGES, "level",
				level_names, m->store->c.log_messages, LOG_LEVEL_COUNT);
	stats_metrics_walk_plain(sink, STATS_M_LOG_WRITE_FAILURES,
				 m->store->c.log_write_failures);
	stats_metrics_walk_plain(sink, STATS_M_JOURNAL_WRITTEN,
				 m->store->c.journal_written);
	stats_metrics_walk_plain(sink, STATS_M_JOURNAL_DROPPED,
				 m->store->c.journal_dropped);
	stats_metrics_walk_plain(sink, STATS_M_JOURNAL_WRITE_FAILURES,
				 m->store->c.journal_write_failures);
	stats_metrics_walk_plain(sink, STATS_M_KICKS, m->store->c.kicks);
	stats_metrics_walk_enum(sink, STATS_M_CONFIG_RELOADS, "result",
				stats_metrics_reload_names, m->store->c.reloads, 2);
	f = &stats_metric_families[STATS_M_CONFIG_RELOAD_TIME];
	sink->family(sink, f);
	if (services != NULL && services->last_reload_success_seconds > 0)
		sink->real(sink, f, NULL, 0,
			   services->last_reload_success_seconds);
	stats_metrics_walk_plain(sink, STATS_M_EVENTS_DROPPED, m->store->c.dropped);
	stats_metrics_walk_plain(sink, STATS_M_HTTP_AUTH_FAILURES,
				 m->store->c.http_auth_failures);
	stats_metrics_walk_plain(sink, STATS_M_TLS_HANDSHAKES,
				 m->store->c.tls_handshakes);
	stats_metrics_walk_plain(sink, STATS_M_TLS_HANDSHAKE_FAILURES,
				 m->store->c.tls_handshake_failures);
	stats_metrics_walk_backends(m, sink);
}

/* ---- numbers ---- */

/* stats_metrics_format_double - v the way Go's strconv 'g' with shortest
   precision renders it (what Prometheus clients emit and OpenMetrics'
   canonical numbers are based on): the fewest digits that read back as
   v, exponent form below 1e-4 and from 1e6 on. With float_mark a ".0" is
   appended when the text has neither '.' nor an exponent. */
static void stats_metrics_format_double(double v, bool float_mark,
					char buf[STATS_METRICS_NUMBER_SIZE])
{
	int prec, exp;
	char *e;

	if (isinf(v)) {
		snprintf(buf, STATS_METRICS_NUMBER_SIZE, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(v)) {
		snprintf(buf, STATS_METRICS_NUMBER_SIZE, "NaN");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, STATS_METRICS_NUMBER_SIZE, "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, STATS_METRICS_NUMBER_SIZE, "%.*e", prec - 1, v);
	e = strchr(buf, 'e');
	exp = e != NULL ? atoi(e + 1) : 0;
	if (exp >= -4 && exp < 6) {
		snprintf(buf, STATS_METRICS_NUMBER_SIZE, "%.*f",
			 prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
	}
	if (float_mark && strpbrk(buf, ".e") == NULL)
		strcat(buf, ".0");
}

/* stats_metrics_cumulative - h's bucket counts added up to bucket i */
static uint64_t stats_metrics_cumulative(const struct stats_histogram *h,
					 unsigned int i)
{
	uint64_t sum = 0;
	unsigned int j;

	for (j = 0; j <= i; j++)
		sum += h->buckets[j];
	return sum;
}

/* stats_metrics_bucket_le - the le label of bucket i */
static void stats_metrics_bucket_le(unsigned int i, bool openmetrics,
				    char buf[STATS_METRICS_NUMBER_SIZE])
{
	if (i == STATS_METRICS_BUCKET_COUNT - 1)
		snprintf(buf, STATS_METRICS_NUMBER_SIZE, "+Inf");
	else
		stats_metrics_format_double(stats_metrics_bucket_bounds[i],
					    openmetrics, buf);
}

/* ---- text exposition ---- */

/* stats_metrics_text_family_name - f's name as the exposition calls the
   family: OpenMetrics drops counters' _total and info's _info */
static void stats_metrics_text_family_name(struct strbuf *buf,
					   const struct stats_metric_family *f,
					   bool openmetrics)
{
	size_t len = strlen(f->name);

	if (openmetrics && f->type == STATS_METRIC_COUNTER)
		len -= strlen("_total");
	else if (openmetrics && f->type == STATS_METRIC_INFO)
		len -= strlen("_info");
	strbuf_append(buf, f->name, len);
}

/* stats_metrics_text_meta - one "# KIND family text" line */
static void stats_metrics_text_meta(struct stats_metrics_text_sink *ts,
				    const char *kind,
				    const struct stats_metric_family *f,
				    const char *text)
{
	strbuf_appendf(&ts->buf, "# %s ", kind);
	stats_metrics_text_family_name(&ts->buf, f, ts->openmetrics);
	strbuf_appendf(&ts->buf, " %s\n", text);
}

/* stats_metrics_text_family - the metadata lines of a family */
static void stats_metrics_text_family(struct stats_metrics_sink *sink,
				      const struct stats_metric_family *f)
{
	struct stats_metrics_text_sink *ts = (struct stats_metrics_text_sink *)sink;

	if (!ts->openmetrics) {
		stats_metrics_text_meta(ts, "HELP", f, f->help);
		/* 0.0.4 has no info type: build info is a gauge of 1 */
		stats_metrics_text_meta(ts, "TYPE", f,
					f->type == STATS_METRIC_INFO ? "gauge" :
					stats_metric_type_names[f->type]);
		return;
	}
	stats_metrics_text_meta(ts, "TYPE", f, stats_metric_type_names[f->type]);
	if (f->unit != NULL)
		stats_metrics_text_meta(ts, "UNIT", f, f->unit);
	stats_metrics_text_meta(ts, "HELP", f, f->help);
}

/* stats_metrics_text_escape - a label value with \, " and LF escaped */
static void stats_metrics_text_escape(struct strbuf *buf, const char *value)
{
	for (; *value != '\0'; value++) {
		if (*value == '\\' || *value == '"')
			strbuf_putc(buf, '\\');
		if (*value == '\n')
			strbuf_append_str(buf, "\\n");
		else
			strbuf_putc(buf, *value);
	}
}

/* stats_metrics_text_series - "name[suffix]{labels[,le="x"]} " */
static void stats_metrics_text_series(struct strbuf *buf, const char *name,
				      const char *suffix,
				      const struct stats_metric_label *labels,
				      size_t label_count, const char *le)
{
	size_t i;

	strbuf_append_str(buf, name);
	strbuf_append_str(buf, suffix);
	if (label_count > 0 || le != NULL) {
		strbuf_putc(buf, '{');
		for (i = 0; i < label_count; i++) {
			strbuf_appendf(buf, "%s%s=\"", i > 0 ? "," : "",
				       labels[i].name);
			stats_metrics_text_escape(buf, labels[i].value);
			strbuf_putc(buf, '"');
		}
		if (le != NULL)
			strbuf_appendf(buf, "%sle=\"%s\"",
				       label_count > 0 ? "," : "", le);
		strbuf_putc(buf, '}');
	}
	strbuf_putc(buf, ' ');
}

/* stats_metrics_text_sample - "series value" */
static void stats_metrics_text_sample(struct stats_metrics_sink *sink,
				      const struct stats_metric_family *f,
				      const struct stats_metric_label *labels,
				      size_t label_count, uint64_t value)
{
	struct stats_metrics_text_sink *ts = (struct stats_metrics_text_sink *)sink;

	stats_metrics_text_series(&ts->buf, f->name, "", labels, label_count,
				  NULL);
	strbuf_appendf(&ts->buf, "%llu\n", (unsigned long long)value);
}

/* stats_metrics_text_real - "series value" for a non-integer value */
static void stats_metrics_text_real(struct stats_metrics_sink *sink,
				    const struct stats_metric_family *f,
				    const struct stats_metric_label *labels,
				    size_t label_count, double value)
{
	struct stats_metrics_text_sink *ts = (struct stats_metrics_text_sink *)sink;
	char num[STATS_METRICS_NUMBER_SIZE];

	stats_metrics_format_double(value, ts->openmetrics, num);
	stats_metrics_text_series(&ts->buf, f->name, "", labels, label_count,
				  NULL);
	strbuf_appendf(&ts->buf, "%s\n", num);
}

/* stats_metrics_text_histogram - _bucket lines, _sum and _count */
static void stats_metrics_text_histogram(struct stats_metrics_sink *sink,
					 const struct stats_metric_family *f,
					 const struct stats_metric_label *labels,
					 size_t label_count,
					 const struct stats_histogram *h)
{
	struct stats_metrics_text_sink *ts = (struct stats_metrics_text_sink *)sink;
	char num[STATS_METRICS_NUMBER_SIZE];
	unsigned int i;

	for (i = 0; i < STATS_METRICS_BUCKET_COUNT; i++) {
		stats_metrics_bucket_le(i, ts->openmetrics, num);
		stats_metrics_text_series(&ts->buf, f->name, "_bucket", labels,
					  label_count, num);
		strbuf_appendf(&ts->buf, "%llu\n", (unsigned long long)
			       stats_metrics_cumulative(h, i));
	}
	stats_metrics_format_double(h->sum, ts->openmetrics, num);
	stats_metrics_text_series(&ts->buf, f->name, "_sum", labels,
				  label_count, NULL);
	strbuf_appendf(&ts->buf, "%s\n", num);
	stats_metrics_text_series(&ts->buf, f->name, "_count", labels,
				  label_count, NULL);
	strbuf_appendf(&ts->buf, "%llu\n", (unsigned long long)h->count);
}

char *stats_metrics_render(const struct stats_metrics *m,
			   const struct stats_metrics_services *services,
			   bool openmetrics)
{
	struct stats_metrics_text_sink ts = {
		.sink = {
			.family = stats_metrics_text_family,
			.sample = stats_metrics_text_sample,
			.real = stats_metrics_text_real,
			.histogram = stats_metrics_text_histogram,
		},
		.openmetrics = openmetrics,
	};

	strbuf_init(&ts.buf, 8192);
	stats_metrics_walk(m, services, &ts.sink);
	if (openmetrics)
		strbuf_append_str(&ts.buf, "# EOF\n");
	return strbuf_detach(&ts.buf);
}

/* ---- JSON ---- */

/* stats_metrics_json_family - nothing: every series carries its family */
static void stats_metrics_json_family(struct stats_metrics_sink *sink,
				      const struct stats_metric_family *f)
{
}

/* stats_metrics_json_series - a new series object with name, type and
   labels, appended to the sink's array */
static json_object *stats_metrics_json_series(struct stats_metrics_sink *sink,
					      const struct stats_metric_family *f,
					      const struct stats_metric_label *labels,
					      size_t label_count)
{
	struct stats_metrics_json_sink *js = (struct stats_metrics_json_sink *)sink;
	json_object *obj = json_object_new_object();
	json_object *lobj = json_object_new_object();
	size_t i;

	json_object_object_add(obj, "name", json_object_new_string(f->name));
	json_object_object_add(obj, "type", json_object_new_string(
		stats_metric_type_names[f->type]));
	for (i = 0; i < label_count; i++)
		json_object_object_add(lobj, labels[i].name,
				       json_object_new_string(labels[i].value));
	json_object_object_add(obj, "labels", lobj);
	json_object_array_add(js->series, obj);
	return obj;
}

/* stats_metrics_json_sample - {"name", "type", "labels", "value"} */
static void stats_metrics_json_sample(struct stats_metrics_sink *sink,
				      const struct stats_metric_family *f,
				      const struct stats_metric_label *labels,
				      size_t label_count, uint64_t value)
{
	json_object *obj = stats_metrics_json_series(sink, f, labels, label_count);

	json_object_object_add(obj, "value", json_object_new_uint64(value));
}

/* stats_metrics_json_real - {"name", "type", "labels", "value"} with a
   non-integer value */
static void stats_metrics_json_real(struct stats_metrics_sink *sink,
				    const struct stats_metric_family *f,
				    const struct stats_metric_label *labels,
				    size_t label_count, double value)
{
	json_object *obj = stats_metrics_json_series(sink, f, labels, label_count);
	char num[STATS_METRICS_NUMBER_SIZE];

	stats_metrics_format_double(value, true, num);
	json_object_object_add(obj, "value", json_object_new_double_s(value, num));
}

/* stats_metrics_json_histogram - {"name", "type", "labels", "count",
   "sum", "buckets"} */
static void stats_metrics_json_histogram(struct stats_metrics_sink *sink,
					 const struct stats_metric_family *f,
					 const struct stats_metric_label *labels,
					 size_t label_count,
					 const struct stats_histogram *h)
{
	json_object *obj = stats_metrics_json_series(sink, f, labels, label_count);
	json_object *buckets = json_object_new_object();
	char num[STATS_METRICS_NUMBER_SIZE];
	unsigned int i;

	json_object_object_add(obj, "count", json_object_new_uint64(h->count));
	stats_metrics_format_double(h->sum, true, num);
	json_object_object_add(obj, "sum", json_object_new_double_s(h->sum, num));
	for (i = 0; i < STATS_METRICS_BUCKET_COUNT; i++) {
		stats_metrics_bucket_le(i, false, num);
		json_object_object_add(buckets, num, json_object_new_uint64(
			stats_metrics_cumulative(h, i)));
	}
	json_object_object_add(obj, "buckets", buckets);
}

json_object *stats_metrics_json(const struct stats_metrics *m,
				const struct stats_metrics_services *services)
{
	struct stats_metrics_json_sink js = {
		.sink = {
			.family = stats_metrics_json_family,
			.sample = stats_metrics_json_sample,
			.real = stats_metrics_json_real,
			.histogram = stats_metrics_json_histogram,
		},
		.series = json_object_new_array(),
	};
	json_object *obj = json_object_new_object();

	stats_metrics_walk(m, services, &js.sink);
	json_object_object_add(obj, "version", json_object_new_string(m->version));
	json_object_object_add(obj, "metrics", js.series);
	return obj;
}
