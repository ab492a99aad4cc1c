/*
 * delivery_stats - delivery records and log lines to loft-stats (see
 * delivery_stats.h). One reporter per process: the hooks it installs are
 * process-wide.
 */
#include "delivery_stats.h"

#include "delivery.h"
#include "log.h"
#include "stats_report.h"

static struct stats_client *delivery_stats_client;
static const char *delivery_stats_service;
static uint32_t delivery_stats_log_counts[LOG_LEVEL_COUNT]; /* atomics */

static void on_delivery(const struct delivery_report *report, void *context)
{
	struct stats_report_delivery d = {
		.protocol = report->req->protocol,
		.session_id = report->req->session_id,
		.user = report->req->user,
		.rec = report->rec,
		.text = report->out->text,
		.reason = outcome_reason_name(report->out->reason),
		.storage_seconds = report->storage_seconds,
		.proxy_backend = report->req->proxy_backend,
		.proxy_backend_up = report->req->proxy_backend_up,
		.proxy_backend_seconds = report->req->proxy_backend_seconds,
		.sieve = report->out->sieve.summary[0] != '\0' ?
			report->out->sieve.summary : NULL,
		.sieve_actions = report->out->sieve.actions[0] != '\0' ?
			report->out->sieve.actions : NULL,
		.sieve_script_errors = report->out->sieve.script_errors,
		.have_uid = report->req->have_uid,
		.uid = (unsigned int)report->req->uid,
	};

	(void)context;
	stats_report_delivery(delivery_stats_client, &d);
}

static void on_timing(const struct delivery_timing_report *report,
		      void *context)
{
	enum delivery_timing kind = report->kind;

	(void)context;
	if (kind == DELIVERY_TIMING_STORAGE)
		stats_report_timing(delivery_stats_client,
				    LOFT__TIMING__KIND__KIND_STORAGE_WRITE,
				    report->seconds, STATS_REPORT_NO_CACHE, NULL, 0);
	else
		stats_report_timing(delivery_stats_client,
				    LOFT__TIMING__KIND__KIND_USERDB_LOOKUP,
				    report->seconds,
				    kind == DELIVERY_TIMING_USERDB ?
				    STATS_REPORT_NO_CACHE :
				    kind == DELIVERY_TIMING_USERDB_CACHE_HIT ?
				    STATS_REPORT_CACHE_HIT :
				    STATS_REPORT_CACHE_MISS,
				    report->userdb_driver,
				    report->userdb_result == USERDB_RESULT_OK ?
				    LOFT__TIMING__USERDB_RESULT__RESULT_FOUND :
				    report->userdb_result ==
				    USERDB_RESULT_USER_UNKNOWN ?
				    LOFT__TIMING__USERDB_RESULT__RESULT_UNKNOWN_USER :
				    LOFT__TIMING__USERDB_RESULT__RESULT_TEMPFAIL);
}

/* on_log - warnings and worse with their text; the rest only counted */
static void on_log(enum log_level level, uint64_t ts_usecs, const char *session,
		   const char *user, const char *msg, void *context)
{
	(void)context;
	if (level >= LOG_LEVEL_WARNING)
		stats_report_log(delivery_stats_client, level, ts_usecs,
				 delivery_stats_service, session, user, msg);
	else
		__atomic_fetch_add(&delivery_stats_log_counts[level], 1,
				   __ATOMIC_RELAXED);
}

void delivery_stats_flush_counts(void)
{
	for (unsigned int level = 0; level < LOG_LEVEL_WARNING; level++) {
		uint32_t n = __atomic_exchange_n(&delivery_stats_log_counts[level],
						 0, __ATOMIC_RELAXED);

		stats_report_log_count(delivery_stats_client,
				       (enum log_level)level,
				       delivery_stats_service, n);
	}
	stats_report_log_write_failures(delivery_stats_client,
					delivery_stats_service);
}

void delivery_stats_install(struct stats_client *client, const char *service)
{
	struct delivery_hooks hooks = {
		.delivery = on_delivery, .timing = on_timing,
	};

	delivery_stats_client = client;
	delivery_stats_service = service;
	delivery_set_hooks(&hooks);
	log_set_forward(on_log, NULL);
}

void delivery_stats_uninstall(void)
{
	log_set_forward(NULL, NULL);
	delivery_set_hooks(NULL);
	delivery_stats_client = NULL;
}
