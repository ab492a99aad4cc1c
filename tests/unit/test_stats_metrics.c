/*
 * test_stats_metrics - unit tests for stats/stats_metrics: what each
 * record function counts, histogram bucketing at the bucket edges (le is
 * inclusive), the exposition for a small fixed state in Prometheus 0.0.4
 * and OpenMetrics 1.0 form (compared with the expected text; loftd's
 * process_* figures and last good reload included), number
 * formatting, label escaping, the JSON series list, and stats reset.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stats_metrics.h"
#include "xalloc.h"

/* The exposition of fixed_state() with the service "lmtp" and the
   process figures of fixed_process passed. */
static const char want_prometheus[] =
	"# HELP loft_build_info loft build information.\n"
	"# TYPE loft_build_info gauge\n"
	"loft_build_info{version=\"1.2.3\"} 1\n"
	"# HELP loft_deliveries_total Recipient delivery outcomes by protocol and result.\n"
	"# TYPE loft_deliveries_total counter\n"
	"loft_deliveries_total{protocol=\"lmtp\",result=\"saved\"} 1\n"
	"loft_deliveries_total{protocol=\"lmtp\",result=\"rejected\"} 1\n"
	"loft_deliveries_total{protocol=\"lmtp\",result=\"tempfail\"} 1\n"
	"loft_deliveries_total{protocol=\"lda\",result=\"saved\"} 0\n"
	"loft_deliveries_total{protocol=\"lda\",result=\"rejected\"} 0\n"
	"loft_deliveries_total{protocol=\"lda\",result=\"tempfail\"} 0\n"
	"# HELP loft_delivery_duration_seconds Time taken by one recipient's delivery attempt.\n"
	"# TYPE loft_delivery_duration_seconds histogram\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.0005\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.001\"} 1\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.0025\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.005\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.01\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.025\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.05\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.1\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.25\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.5\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"1\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"2.5\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"5\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"10\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"30\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"+Inf\"} 2\n"
	"loft_delivery_duration_seconds_sum{protocol=\"lmtp\"} 0.0035\n"
	"loft_delivery_duration_seconds_count{protocol=\"lmtp\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.0005\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.001\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.0025\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.005\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.01\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.025\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.05\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.1\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.25\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.5\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"1\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"2.5\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"5\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"10\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"30\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"+Inf\"} 0\n"
	"loft_delivery_duration_seconds_sum{protocol=\"lda\"} 0\n"
	"loft_delivery_duration_seconds_count{protocol=\"lda\"} 0\n"
	"# HELP loft_delivered_bytes_total Bytes of messages saved, by protocol.\n"
	"# TYPE loft_delivered_bytes_total counter\n"
	"loft_delivered_bytes_total{protocol=\"lmtp\"} 1000\n"
	"loft_delivered_bytes_total{protocol=\"lda\"} 0\n"
	"# HELP loft_rcpt_rejected_total Recipients rejected or deferred, by reason.\n"
	"# TYPE loft_rcpt_rejected_total counter\n"
	"loft_rcpt_rejected_total{reason=\"unknown_user\"} 1\n"
	"loft_rcpt_rejected_total{reason=\"quota\"} 1\n"
	"loft_rcpt_rejected_total{reason=\"size\"} 0\n"
	"loft_rcpt_rejected_total{reason=\"concurrency\"} 0\n"
	"loft_rcpt_rejected_total{reason=\"syntax\"} 0\n"
	"loft_rcpt_rejected_total{reason=\"other\"} 0\n"
	"# HELP loft_quota_rejections_total Recipients refused for a full quota, by result.\n"
	"# TYPE loft_quota_rejections_total counter\n"
	"loft_quota_rejections_total{result=\"rejected\"} 0\n"
	"loft_quota_rejections_total{result=\"tempfail\"} 1\n"
	"# HELP loft_sieve_actions_total Actions Sieve scripts took at delivery, by action.\n"
	"# TYPE loft_sieve_actions_total counter\n"
	"loft_sieve_actions_total{action=\"keep\"} 0\n"
	"loft_sieve_actions_total{action=\"fileinto\"} 0\n"
	"loft_sieve_actions_total{action=\"discard\"} 0\n"
	"loft_sieve_actions_total{action=\"reject\"} 0\n"
	"loft_sieve_actions_total{action=\"redirect\"} 0\n"
	"loft_sieve_actions_total{action=\"vacation\"} 0\n"
	"# HELP loft_sieve_script_errors_total Sieve scripts that failed to compile or run at delivery (the message was kept).\n"
	"# TYPE loft_sieve_script_errors_total counter\n"
	"loft_sieve_script_errors_total 0\n"
	"# HELP loft_sessions_active Sessions open now, by service.\n"
	"# TYPE loft_sessions_active gauge\n"
	"loft_sessions_active{service=\"lmtp\"} 1\n"
	"# HELP loft_sessions_total Sessions started, by service.\n"
	"# TYPE loft_sessions_total counter\n"
	"loft_sessions_total{service=\"lmtp\"} 2\n"
	"loft_sessions_total{service=\"lda\"} 0\n"
	"# HELP loft_service_processes Processes running, by service.\n"
	"# TYPE loft_service_processes gauge\n"
	"loft_service_processes{service=\"lmtp\"} 2\n"
	"# HELP loft_service_restarts_total Service processes replaced after an abnormal exit.\n"
	"# TYPE loft_service_restarts_total counter\n"
	"loft_service_restarts_total{service=\"lmtp\"} 0\n"
	"# HELP process_cpu_seconds_total User and system CPU time of the service's processes, exited ones included.\n"
	"# TYPE process_cpu_seconds_total counter\n"
	"process_cpu_seconds_total{service=\"master\"} 1.5\n"
	"process_cpu_seconds_total{service=\"lmtp\"} 0.03\n"
	"# HELP process_resident_memory_bytes Resident memory of the service's processes, summed.\n"
	"# TYPE process_resident_memory_bytes gauge\n"
	"process_resident_memory_bytes{service=\"master\"} 4096000\n"
	"process_resident_memory_bytes{service=\"lmtp\"} 0\n"
	"# HELP process_open_fds Open file descriptors of the service's processes, summed.\n"
	"# TYPE process_open_fds gauge\n"
	"process_open_fds{service=\"master\"} 12\n"
	"process_open_fds{service=\"lmtp\"} 0\n"
	"# HELP process_start_time_seconds Start time of the service's oldest process since the epoch.\n"
	"# TYPE process_start_time_seconds gauge\n"
	"process_start_time_seconds{service=\"master\"} 1.70000000025e+09\n"
	"# HELP loft_userdb_lookup_duration_seconds Time taken by userdb lookups, by the driver that decided and the result.\n"
	"# TYPE loft_userdb_lookup_duration_seconds histogram\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd-file\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd-file\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.0025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.005\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.01\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.05\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.1\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.25\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"1\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"2.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"10\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"30\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"+Inf\"} 1\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd-file\",result=\"unknown_user\"} 0.002\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd-file\",result=\"unknown_user\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd-file\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd-file\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"static\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"static\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"static\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"static\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"static\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"static\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.0005\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.001\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.0025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.005\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.01\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.05\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.1\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.25\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"1\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"2.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"10\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"30\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"+Inf\"} 1\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"sql\",result=\"found\"} 0.0005\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"sql\",result=\"found\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"sql\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"sql\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"sql\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"sql\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"auth\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"auth\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"auth\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"auth\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"10\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"30\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"auth\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"auth\",result=\"tempfail\"} 0\n"
	"# HELP loft_userdb_cache_hits_total Userdb lookups answered by the auth cache (auth_cache_size).\n"
	"# TYPE loft_userdb_cache_hits_total counter\n"
	"loft_userdb_cache_hits_total 0\n"
	"# HELP loft_userdb_cache_misses_total Userdb lookups the auth cache could not answer.\n"
	"# TYPE loft_userdb_cache_misses_total counter\n"
	"loft_userdb_cache_misses_total 0\n"
	"# HELP loft_storage_write_duration_seconds Time taken writing a message to the mailbox.\n"
	"# TYPE loft_storage_write_duration_seconds histogram\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.0005\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.001\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.0025\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.005\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.01\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.025\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.05\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.1\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.25\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.5\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"1\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"2.5\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"5\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"10\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"30\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"+Inf\"} 1\n"
	"loft_storage_write_duration_seconds_sum 31\n"
	"loft_storage_write_duration_seconds_count 1\n"
	"# HELP loft_log_messages_total Log lines written, by level.\n"
	"# TYPE loft_log_messages_total counter\n"
	"loft_log_messages_total{level=\"debug\"} 0\n"
	"loft_log_messages_total{level=\"info\"} 0\n"
	"loft_log_messages_total{level=\"warning\"} 2\n"
	"loft_log_messages_total{level=\"error\"} 0\n"
	"loft_log_messages_total{level=\"fatal\"} 0\n"
	"loft_log_messages_total{level=\"panic\"} 0\n"
	"# HELP loft_log_write_failures_total Log lines that could not be written where configured.\n"
	"# TYPE loft_log_write_failures_total counter\n"
	"loft_log_write_failures_total 0\n"
	"# HELP loft_journal_written_total Deliveries and recent errors written to the disk journal.\n"
	"# TYPE loft_journal_written_total counter\n"
	"loft_journal_written_total 0\n"
	"# HELP loft_journal_dropped_total Deliveries and recent errors that never reached the disk journal.\n"
	"# TYPE loft_journal_dropped_total counter\n"
	"loft_journal_dropped_total 0\n"
	"# HELP loft_journal_write_failures_total Failed opens and batch writes of the disk journal.\n"
	"# TYPE loft_journal_write_failures_total counter\n"
	"loft_journal_write_failures_total 0\n"
	"# HELP loft_kicks_total Sessions ended by an admin kick.\n"
	"# TYPE loft_kicks_total counter\n"
	"loft_kicks_total 1\n"
	"# HELP loft_config_reloads_total Configuration reloads, by result.\n"
	"# TYPE loft_config_reloads_total counter\n"
	"loft_config_reloads_total{result=\"ok\"} 1\n"
	"loft_config_reloads_total{result=\"failed\"} 0\n"
	"# HELP loft_config_last_reload_success_timestamp_seconds When the configuration was last loaded successfully (start-up included).\n"
	"# TYPE loft_config_last_reload_success_timestamp_seconds gauge\n"
	"loft_config_last_reload_success_timestamp_seconds 1.7000001e+09\n"
	"# HELP loft_stats_events_dropped_total Stats events lost because the stats process was slow or down.\n"
	"# TYPE loft_stats_events_dropped_total counter\n"
	"loft_stats_events_dropped_total 3\n"
	"# HELP loft_http_auth_failures_total HTTP API requests refused for missing or wrong credentials.\n"
	"# TYPE loft_http_auth_failures_total counter\n"
	"loft_http_auth_failures_total 4\n"
	"# HELP loft_tls_handshakes_total LMTP TLS handshakes completed (STARTTLS and ssl = yes listeners).\n"
	"# TYPE loft_tls_handshakes_total counter\n"
	"loft_tls_handshakes_total 2\n"
	"# HELP loft_tls_handshake_failures_total LMTP TLS handshakes that failed or were abandoned.\n"
	"# TYPE loft_tls_handshake_failures_total counter\n"
	"loft_tls_handshake_failures_total 1\n"
	"# HELP loft_proxy_deliveries_total Recipients the LMTP proxy relayed, by backend and result.\n"
	"# TYPE loft_proxy_deliveries_total counter\n"
	"loft_proxy_deliveries_total{backend=\"10.0.0.2:24\",result=\"saved\"} 2\n"
	"loft_proxy_deliveries_total{backend=\"10.0.0.2:24\",result=\"rejected\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"10.0.0.2:24\",result=\"tempfail\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"[fd00::3]:24\",result=\"saved\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"[fd00::3]:24\",result=\"rejected\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"[fd00::3]:24\",result=\"tempfail\"} 1\n"
	"# HELP loft_proxy_backend_up Whether the backend answered the proxy's last attempt (1) or could not be reached (0).\n"
	"# TYPE loft_proxy_backend_up gauge\n"
	"loft_proxy_backend_up{backend=\"10.0.0.2:24\"} 1\n"
	"loft_proxy_backend_up{backend=\"[fd00::3]:24\"} 0\n"
	"# HELP loft_proxy_backend_duration_seconds How long each backend took to answer a relayed recipient: RCPT for a refusal, DATA with the message for an acceptance.\n"
	"# TYPE loft_proxy_backend_duration_seconds histogram\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.0005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.001\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.0025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.01\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.05\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.1\"} 1\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.25\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.5\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"1\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"2.5\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"5\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"10\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"30\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"+Inf\"} 2\n"
	"loft_proxy_backend_duration_seconds_sum{backend=\"10.0.0.2:24\"} 0.3125\n"
	"loft_proxy_backend_duration_seconds_count{backend=\"10.0.0.2:24\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.0005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.001\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.0025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.01\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.05\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.1\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.25\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.5\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"1\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"2.5\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"5\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"10\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"30\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"+Inf\"} 0\n"
	"loft_proxy_backend_duration_seconds_sum{backend=\"[fd00::3]:24\"} 0\n"
	"loft_proxy_backend_duration_seconds_count{backend=\"[fd00::3]:24\"} 0\n";

static const char want_openmetrics[] =
	"# TYPE loft_build info\n"
	"# HELP loft_build loft build information.\n"
	"loft_build_info{version=\"1.2.3\"} 1\n"
	"# TYPE loft_deliveries counter\n"
	"# HELP loft_deliveries Recipient delivery outcomes by protocol and result.\n"
	"loft_deliveries_total{protocol=\"lmtp\",result=\"saved\"} 1\n"
	"loft_deliveries_total{protocol=\"lmtp\",result=\"rejected\"} 1\n"
	"loft_deliveries_total{protocol=\"lmtp\",result=\"tempfail\"} 1\n"
	"loft_deliveries_total{protocol=\"lda\",result=\"saved\"} 0\n"
	"loft_deliveries_total{protocol=\"lda\",result=\"rejected\"} 0\n"
	"loft_deliveries_total{protocol=\"lda\",result=\"tempfail\"} 0\n"
	"# TYPE loft_delivery_duration_seconds histogram\n"
	"# UNIT loft_delivery_duration_seconds seconds\n"
	"# HELP loft_delivery_duration_seconds Time taken by one recipient's delivery attempt.\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.0005\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.001\"} 1\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.0025\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.005\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.01\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.025\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.05\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.1\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.25\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"0.5\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"1.0\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"2.5\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"5.0\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"10.0\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"30.0\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lmtp\",le=\"+Inf\"} 2\n"
	"loft_delivery_duration_seconds_sum{protocol=\"lmtp\"} 0.0035\n"
	"loft_delivery_duration_seconds_count{protocol=\"lmtp\"} 2\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.0005\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.001\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.0025\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.005\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.01\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.025\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.05\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.1\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.25\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"0.5\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"1.0\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"2.5\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"5.0\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"10.0\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"30.0\"} 0\n"
	"loft_delivery_duration_seconds_bucket{protocol=\"lda\",le=\"+Inf\"} 0\n"
	"loft_delivery_duration_seconds_sum{protocol=\"lda\"} 0.0\n"
	"loft_delivery_duration_seconds_count{protocol=\"lda\"} 0\n"
	"# TYPE loft_delivered_bytes counter\n"
	"# UNIT loft_delivered_bytes bytes\n"
	"# HELP loft_delivered_bytes Bytes of messages saved, by protocol.\n"
	"loft_delivered_bytes_total{protocol=\"lmtp\"} 1000\n"
	"loft_delivered_bytes_total{protocol=\"lda\"} 0\n"
	"# TYPE loft_rcpt_rejected counter\n"
	"# HELP loft_rcpt_rejected Recipients rejected or deferred, by reason.\n"
	"loft_rcpt_rejected_total{reason=\"unknown_user\"} 1\n"
	"loft_rcpt_rejected_total{reason=\"quota\"} 1\n"
	"loft_rcpt_rejected_total{reason=\"size\"} 0\n"
	"loft_rcpt_rejected_total{reason=\"concurrency\"} 0\n"
	"loft_rcpt_rejected_total{reason=\"syntax\"} 0\n"
	"loft_rcpt_rejected_total{reason=\"other\"} 0\n"
	"# TYPE loft_quota_rejections counter\n"
	"# HELP loft_quota_rejections Recipients refused for a full quota, by result.\n"
	"loft_quota_rejections_total{result=\"rejected\"} 0\n"
	"loft_quota_rejections_total{result=\"tempfail\"} 1\n"
	"# TYPE loft_sieve_actions counter\n"
	"# HELP loft_sieve_actions Actions Sieve scripts took at delivery, by action.\n"
	"loft_sieve_actions_total{action=\"keep\"} 0\n"
	"loft_sieve_actions_total{action=\"fileinto\"} 0\n"
	"loft_sieve_actions_total{action=\"discard\"} 0\n"
	"loft_sieve_actions_total{action=\"reject\"} 0\n"
	"loft_sieve_actions_total{action=\"redirect\"} 0\n"
	"loft_sieve_actions_total{action=\"vacation\"} 0\n"
	"# TYPE loft_sieve_script_errors counter\n"
	"# HELP loft_sieve_script_errors Sieve scripts that failed to compile or run at delivery (the message was kept).\n"
	"loft_sieve_script_errors_total 0\n"
	"# TYPE loft_sessions_active gauge\n"
	"# HELP loft_sessions_active Sessions open now, by service.\n"
	"loft_sessions_active{service=\"lmtp\"} 1\n"
	"# TYPE loft_sessions counter\n"
	"# HELP loft_sessions Sessions started, by service.\n"
	"loft_sessions_total{service=\"lmtp\"} 2\n"
	"loft_sessions_total{service=\"lda\"} 0\n"
	"# TYPE loft_service_processes gauge\n"
	"# HELP loft_service_processes Processes running, by service.\n"
	"loft_service_processes{service=\"lmtp\"} 2\n"
	"# TYPE loft_service_restarts counter\n"
	"# HELP loft_service_restarts Service processes replaced after an abnormal exit.\n"
	"loft_service_restarts_total{service=\"lmtp\"} 0\n"
	"# TYPE process_cpu_seconds counter\n"
	"# UNIT process_cpu_seconds seconds\n"
	"# HELP process_cpu_seconds User and system CPU time of the service's processes, exited ones included.\n"
	"process_cpu_seconds_total{service=\"master\"} 1.5\n"
	"process_cpu_seconds_total{service=\"lmtp\"} 0.03\n"
	"# TYPE process_resident_memory_bytes gauge\n"
	"# UNIT process_resident_memory_bytes bytes\n"
	"# HELP process_resident_memory_bytes Resident memory of the service's processes, summed.\n"
	"process_resident_memory_bytes{service=\"master\"} 4096000\n"
	"process_resident_memory_bytes{service=\"lmtp\"} 0\n"
	"# TYPE process_open_fds gauge\n"
	"# HELP process_open_fds Open file descriptors of the service's processes, summed.\n"
	"process_open_fds{service=\"master\"} 12\n"
	"process_open_fds{service=\"lmtp\"} 0\n"
	"# TYPE process_start_time_seconds gauge\n"
	"# UNIT process_start_time_seconds seconds\n"
	"# HELP process_start_time_seconds Start time of the service's oldest process since the epoch.\n"
	"process_start_time_seconds{service=\"master\"} 1.70000000025e+09\n"
	"# TYPE loft_userdb_lookup_duration_seconds histogram\n"
	"# UNIT loft_userdb_lookup_duration_seconds seconds\n"
	"# HELP loft_userdb_lookup_duration_seconds Time taken by userdb lookups, by the driver that decided and the result.\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd-file\",result=\"found\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd-file\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.0025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.005\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.01\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.05\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.1\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.25\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"0.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"1.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"2.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"5.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"10.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"30.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"unknown_user\",le=\"+Inf\"} 1\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd-file\",result=\"unknown_user\"} 0.002\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd-file\",result=\"unknown_user\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd-file\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd-file\",result=\"tempfail\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd-file\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd\",result=\"found\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd\",result=\"unknown_user\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"passwd\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"passwd\",result=\"tempfail\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"passwd\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"static\",result=\"found\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"static\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"static\",result=\"unknown_user\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"static\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"static\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"static\",result=\"tempfail\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"static\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.0005\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.001\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.0025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.005\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.01\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.025\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.05\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.1\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.25\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"0.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"1.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"2.5\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"5.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"10.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"30.0\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"found\",le=\"+Inf\"} 1\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"sql\",result=\"found\"} 0.0005\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"sql\",result=\"found\"} 1\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"sql\",result=\"unknown_user\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"sql\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"sql\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"sql\",result=\"tempfail\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"sql\",result=\"tempfail\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"found\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"auth\",result=\"found\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"auth\",result=\"found\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"unknown_user\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"auth\",result=\"unknown_user\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"auth\",result=\"unknown_user\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.0005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.001\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.0025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.005\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.01\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.025\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.05\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.1\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.25\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"0.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"1.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"2.5\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"5.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"10.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"30.0\"} 0\n"
	"loft_userdb_lookup_duration_seconds_bucket{driver=\"auth\",result=\"tempfail\",le=\"+Inf\"} 0\n"
	"loft_userdb_lookup_duration_seconds_sum{driver=\"auth\",result=\"tempfail\"} 0.0\n"
	"loft_userdb_lookup_duration_seconds_count{driver=\"auth\",result=\"tempfail\"} 0\n"
	"# TYPE loft_userdb_cache_hits counter\n"
	"# HELP loft_userdb_cache_hits Userdb lookups answered by the auth cache (auth_cache_size).\n"
	"loft_userdb_cache_hits_total 0\n"
	"# TYPE loft_userdb_cache_misses counter\n"
	"# HELP loft_userdb_cache_misses Userdb lookups the auth cache could not answer.\n"
	"loft_userdb_cache_misses_total 0\n"
	"# TYPE loft_storage_write_duration_seconds histogram\n"
	"# UNIT loft_storage_write_duration_seconds seconds\n"
	"# HELP loft_storage_write_duration_seconds Time taken writing a message to the mailbox.\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.0005\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.001\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.0025\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.005\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.01\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.025\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.05\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.1\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.25\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"0.5\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"1.0\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"2.5\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"5.0\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"10.0\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"30.0\"} 0\n"
	"loft_storage_write_duration_seconds_bucket{le=\"+Inf\"} 1\n"
	"loft_storage_write_duration_seconds_sum 31.0\n"
	"loft_storage_write_duration_seconds_count 1\n"
	"# TYPE loft_log_messages counter\n"
	"# HELP loft_log_messages Log lines written, by level.\n"
	"loft_log_messages_total{level=\"debug\"} 0\n"
	"loft_log_messages_total{level=\"info\"} 0\n"
	"loft_log_messages_total{level=\"warning\"} 2\n"
	"loft_log_messages_total{level=\"error\"} 0\n"
	"loft_log_messages_total{level=\"fatal\"} 0\n"
	"loft_log_messages_total{level=\"panic\"} 0\n"
	"# TYPE loft_log_write_failures counter\n"
	"# HELP loft_log_write_failures Log lines that could not be written where configured.\n"
	"loft_log_write_failures_total 0\n"
	"# TYPE loft_journal_written counter\n"
	"# HELP loft_journal_written Deliveries and recent errors written to the disk journal.\n"
	"loft_journal_written_total 0\n"
	"# TYPE loft_journal_dropped counter\n"
	"# HELP loft_journal_dropped Deliveries and recent errors that never reached the disk journal.\n"
	"loft_journal_dropped_total 0\n"
	"# TYPE loft_journal_write_failures counter\n"
	"# HELP loft_journal_write_failures Failed opens and batch writes of the disk journal.\n"
	"loft_journal_write_failures_total 0\n"
	"# TYPE loft_kicks counter\n"
	"# HELP loft_kicks Sessions ended by an admin kick.\n"
	"loft_kicks_total 1\n"
	"# TYPE loft_config_reloads counter\n"
	"# HELP loft_config_reloads Configuration reloads, by result.\n"
	"loft_config_reloads_total{result=\"ok\"} 1\n"
	"loft_config_reloads_total{result=\"failed\"} 0\n"
	"# TYPE loft_config_last_reload_success_timestamp_seconds gauge\n"
	"# UNIT loft_config_last_reload_success_timestamp_seconds seconds\n"
	"# HELP loft_config_last_reload_success_timestamp_seconds When the configuration was last loaded successfully (start-up included).\n"
	"loft_config_last_reload_success_timestamp_seconds 1.7000001e+09\n"
	"# TYPE loft_stats_events_dropped counter\n"
	"# HELP loft_stats_events_dropped Stats events lost because the stats process was slow or down.\n"
	"loft_stats_events_dropped_total 3\n"
	"# TYPE loft_http_auth_failures counter\n"
	"# HELP loft_http_auth_failures HTTP API requests refused for missing or wrong credentials.\n"
	"loft_http_auth_failures_total 4\n"
	"# TYPE loft_tls_handshakes counter\n"
	"# HELP loft_tls_handshakes LMTP TLS handshakes completed (STARTTLS and ssl = yes listeners).\n"
	"loft_tls_handshakes_total 2\n"
	"# TYPE loft_tls_handshake_failures counter\n"
	"# HELP loft_tls_handshake_failures LMTP TLS handshakes that failed or were abandoned.\n"
	"loft_tls_handshake_failures_total 1\n"
	"# TYPE loft_proxy_deliveries counter\n"
	"# HELP loft_proxy_deliveries Recipients the LMTP proxy relayed, by backend and result.\n"
	"loft_proxy_deliveries_total{backend=\"10.0.0.2:24\",result=\"saved\"} 2\n"
	"loft_proxy_deliveries_total{backend=\"10.0.0.2:24\",result=\"rejected\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"10.0.0.2:24\",result=\"tempfail\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"[fd00::3]:24\",result=\"saved\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"[fd00::3]:24\",result=\"rejected\"} 0\n"
	"loft_proxy_deliveries_total{backend=\"[fd00::3]:24\",result=\"tempfail\"} 1\n"
	"# TYPE loft_proxy_backend_up gauge\n"
	"# HELP loft_proxy_backend_up Whether the backend answered the proxy's last attempt (1) or could not be reached (0).\n"
	"loft_proxy_backend_up{backend=\"10.0.0.2:24\"} 1\n"
	"loft_proxy_backend_up{backend=\"[fd00::3]:24\"} 0\n"
	"# TYPE loft_proxy_backend_duration_seconds histogram\n"
	"# UNIT loft_proxy_backend_duration_seconds seconds\n"
	"# HELP loft_proxy_backend_duration_seconds How long each backend took to answer a relayed recipient: RCPT for a refusal, DATA with the message for an acceptance.\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.0005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.001\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.0025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.01\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.05\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.1\"} 1\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.25\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"0.5\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"1.0\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"2.5\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"5.0\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"10.0\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"30.0\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"10.0.0.2:24\",le=\"+Inf\"} 2\n"
	"loft_proxy_backend_duration_seconds_sum{backend=\"10.0.0.2:24\"} 0.3125\n"
	"loft_proxy_backend_duration_seconds_count{backend=\"10.0.0.2:24\"} 2\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.0005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.001\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.0025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.005\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.01\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.025\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.05\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.1\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.25\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"0.5\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"1.0\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"2.5\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"5.0\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"10.0\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"30.0\"} 0\n"
	"loft_proxy_backend_duration_seconds_bucket{backend=\"[fd00::3]:24\",le=\"+Inf\"} 0\n"
	"loft_proxy_backend_duration_seconds_sum{backend=\"[fd00::3]:24\"} 0.0\n"
	"loft_proxy_backend_duration_seconds_count{backend=\"[fd00::3]:24\"} 0\n"
	"# EOF\n";

static const struct stats_metrics_service fixed_service[] = {
	{ "lmtp", 1, 2, 0 },
};
/* loftd itself, and an lmtp whose processes have all exited: its CPU
   time stays, it has no start time */
static const struct stats_metrics_process fixed_process[] = {
	{ "master", 1.5, 4096000, 12, 1700000000.25 },
	{ "lmtp", 0.03, 0, 0, 0 },
};
static const struct stats_metrics_services fixed_services = {
	fixed_service, 1, fixed_process, 2, 1700000100
};

/* fixed_state - the state behind want_prometheus / want_openmetrics */
static struct stats_metrics *fixed_state(void)
{
	struct stats_metrics *m = stats_metrics_create("1.2.3");

	stats_metrics_delivery(m, STATS_PROTOCOL_LMTP, STATS_RESULT_SAVED,
			       STATS_REASON_OTHER, 1000, 0.001);
	stats_metrics_delivery(m, STATS_PROTOCOL_LMTP, STATS_RESULT_TEMPFAIL,
			       STATS_REASON_QUOTA, 0, 0.0025);
	stats_metrics_rcpt_rejected(m, STATS_PROTOCOL_LMTP,
				    STATS_RESULT_REJECTED,
				    STATS_REASON_UNKNOWN_USER);
	stats_metrics_userdb_lookup(m, STATS_USERDB_SQL, STATS_USERDB_FOUND,
				    0.0005);
	stats_metrics_userdb_lookup(m, STATS_USERDB_PASSWD_FILE,
				    STATS_USERDB_UNKNOWN_USER, 0.002);
	/* out of range: not observed */
	stats_metrics_userdb_lookup(m, STATS_USERDB_DRIVER_COUNT,
				    STATS_USERDB_FOUND, 1);
	stats_metrics_userdb_lookup(m, STATS_USERDB_SQL,
				    STATS_USERDB_RESULT_COUNT, 1);
	stats_metrics_timing(m, STATS_TIMING_STORAGE_WRITE, 31);
	stats_metrics_session_started(m, "lmtp");
	stats_metrics_session_started(m, "lmtp");
	stats_metrics_log(m, LOG_LEVEL_WARNING, 2);
	stats_metrics_kicks(m, 1);
	stats_metrics_reload(m, true, 1);
	stats_metrics_dropped(m, 3);
	stats_metrics_http_auth_failures(m, 4);
	stats_metrics_tls_handshake(m, true);
	stats_metrics_tls_handshake(m, true);
	stats_metrics_tls_handshake(m, false);
	stats_metrics_proxy_delivery(m, "10.0.0.2:24", STATS_RESULT_SAVED, true,
				     0.0625);
	stats_metrics_proxy_delivery(m, "[fd00::3]:24", STATS_RESULT_TEMPFAIL,
				     false, 0);
	stats_metrics_proxy_delivery(m, "10.0.0.2:24", STATS_RESULT_SAVED, true,
				     0.25);
	return m;
}

/* first_difference - a readable pointer to where got and want part */
static const char *first_difference(const char *got, const char *want)
{
	size_t i = 0, line_start = 0;

	while (got[i] != '\0' && got[i] == want[i]) {
		if (got[i] == '\n')
			line_start = i + 1;
		i++;
	}
	return got + line_start;
}

START_TEST(test_exposition)
{
	bool openmetrics = _i == 1;
	const char *want = openmetrics ? want_openmetrics : want_prometheus;
	struct stats_metrics *m = fixed_state();
	char *got = stats_metrics_render(m, &fixed_services, openmetrics);

	ck_assert_msg(strcmp(got, want) == 0,
		      "format %s: got differs at:\n%.200s\nwant:\n%.200s",
		      openmetrics ? "openmetrics" : "0.0.4",
		      first_difference(got, want),
		      want + (first_difference(got, want) - got));
	free(got);
	stats_metrics_free(&m);
	ck_assert_ptr_null(m);
}
END_TEST

struct bucket_case {
	double seconds;
	int want_bucket;	/* index of the first bucket counting it, -1: none */
};

static const struct bucket_case bucket_cases[] = {
	{ 0, 0 },
	{ -1, 0 },
	{ 0.0001, 0 },
	{ 0.0005, 0 },
	{ 0.00050001, 1 },
	{ 0.001, 1 },
	{ 0.0025, 2 },
	{ 0.0026, 3 },
	{ 0.1, 7 },
	{ 0.25, 8 },
	{ 1, 10 },
	{ 1.0000001, 11 },
	{ 10, 13 },
	{ 30, 14 },
	{ 30.000001, 15 },
	{ 1e9, 15 },
	{ INFINITY, -1 },
	{ NAN, -1 },
};

/* find_series - the JSON series called name whose labels contain
   label=value (label NULL: the first series called name), or NULL */
static json_object *find_series(json_object *root, const char *name,
				const char *label, const char *value)
{
	json_object *metrics, *series, *v, *labels;
	size_t i;

	ck_assert(json_object_object_get_ex(root, "metrics", &metrics));
	for (i = 0; i < json_object_array_length(metrics); i++) {
		series = json_object_array_get_idx(metrics, i);
		ck_assert(json_object_object_get_ex(series, "name", &v));
		if (strcmp(json_object_get_string(v), name) != 0)
			continue;
		if (label == NULL)
			return series;
		ck_assert(json_object_object_get_ex(series, "labels", &labels));
		if (json_object_object_get_ex(labels, label, &v) &&
		    strcmp(json_object_get_string(v), value) == 0)
			return series;
	}
	return NULL;
}

/* series_int - series[key] as an integer */
static int64_t series_int(json_object *series, const char *key)
{
	json_object *v;

	ck_assert_msg(series != NULL, "series not found");
	ck_assert_msg(json_object_object_get_ex(series, key, &v),
		      "no %s in series", key);
	return json_object_get_int64(v);
}

/* value_of - the value of series name{label=value} in m's JSON */
static int64_t value_of(const struct stats_metrics *m, const char *name,
			const char *label, const char *value)
{
	json_object *root = stats_metrics_json(m, NULL);
	int64_t ret = series_int(find_series(root, name, label, value), "value");

	json_object_put(root);
	return ret;
}

START_TEST(test_bucket_edges)
{
	const struct bucket_case *c = &bucket_cases[_i];
	struct stats_metrics *m = stats_metrics_create("x");
	json_object *root, *series, *buckets;
	char le[32];
	unsigned int i;
	int64_t got;

	stats_metrics_timing(m, STATS_TIMING_STORAGE_WRITE, c->seconds);
	root = stats_metrics_json(m, NULL);
	series = find_series(root, "loft_storage_write_duration_seconds",
			     NULL, NULL);
	ck_assert_int_eq(series_int(series, "count"), c->want_bucket < 0 ? 0 : 1);
	ck_assert(json_object_object_get_ex(series, "buckets", &buckets));
	ck_assert_uint_eq(json_object_object_length(buckets),
			  STATS_METRICS_BUCKET_COUNT);
	for (i = 0; i < STATS_METRICS_BUCKET_COUNT; i++) {
		if (i + 1 == STATS_METRICS_BUCKET_COUNT)
			snprintf(le, sizeof(le), "+Inf");
		else
			snprintf(le, sizeof(le), "%g",
				 stats_metrics_bucket_bounds[i]);
		got = series_int(buckets, le);
		ck_assert_msg(got == (c->want_bucket >= 0 &&
				      (int)i >= c->want_bucket),
			      "%g: bucket le=%s got %lld, want %d", c->seconds,
			      le, (long long)got,
			      c->want_bucket >= 0 && (int)i >= c->want_bucket);
	}
	json_object_put(root);
	stats_metrics_free(&m);
}
END_TEST

START_TEST(test_counting)
{
	struct stats_metrics *m = stats_metrics_create("x");
	json_object *root, *series;
	char *text;

	stats_metrics_delivery(m, STATS_PROTOCOL_LDA, STATS_RESULT_SAVED,
			       STATS_REASON_QUOTA, 500, 0.2);
	stats_metrics_delivery(m, STATS_PROTOCOL_LDA, STATS_RESULT_SAVED,
			       STATS_REASON_OTHER, 700, 0.3);
	stats_metrics_delivery(m, STATS_PROTOCOL_LDA, STATS_RESULT_REJECTED,
			       STATS_REASON_SIZE, 900, 0.1);
	stats_metrics_rcpt_rejected(m, STATS_PROTOCOL_LMTP,
				    STATS_RESULT_TEMPFAIL,
				    STATS_REASON_CONCURRENCY);
	stats_metrics_rcpt_rejected(m, STATS_PROTOCOL_LMTP, STATS_RESULT_SAVED,
				    STATS_REASON_SYNTAX);
	stats_metrics_log(m, LOG_LEVEL_DEBUG, 5);
	stats_metrics_log(m, LOG_LEVEL_PANIC, 1);
	stats_metrics_kicks(m, 2);
	stats_metrics_kicks(m, 3);
	/* MasterStatus reports a count: two failed reloads at once */
	stats_metrics_reload(m, false, 2);
	stats_metrics_dropped(m, 10);
	stats_metrics_http_auth_failures(m, 6);

	/* a saved delivery's reason is not a rejection; bytes only when saved */
	text = stats_metrics_render(m, NULL, false);
	ck_assert_ptr_nonnull(strstr(text,
		"loft_deliveries_total{protocol=\"lda\",result=\"saved\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_deliveries_total{protocol=\"lda\",result=\"rejected\"} 1\n"));
	free(text);
	ck_assert_int_eq(value_of(m, "loft_delivered_bytes_total", "protocol",
				  "lda"), 1200);
	ck_assert_int_eq(value_of(m, "loft_rcpt_rejected_total", "reason",
				  "quota"), 0);
	ck_assert_int_eq(value_of(m, "loft_quota_rejections_total", "result",
				  "rejected"), 0);
	ck_assert_int_eq(value_of(m, "loft_rcpt_rejected_total", "reason",
				  "size"), 1);
	/* Sieve: one count per named action, unknown names ignored, a
	   peer's error count bounded */
	stats_metrics_sieve(m, "fileinto keep  fileinto bogus keeps", 1);
	stats_metrics_sieve(m, NULL, 100000);
	ck_assert_int_eq(value_of(m, "loft_sieve_actions_total", "action",
				  "fileinto"), 2);
	ck_assert_int_eq(value_of(m, "loft_sieve_actions_total", "action",
				  "keep"), 1);
	ck_assert_int_eq(value_of(m, "loft_sieve_actions_total", "action",
				  "discard"), 0);
	ck_assert_int_eq(value_of(m, "loft_rcpt_rejected_total", "reason",
				  "concurrency"), 1);
	ck_assert_int_eq(value_of(m, "loft_rcpt_rejected_total", "reason",
				  "syntax"), 1);
	ck_assert_int_eq(value_of(m, "loft_log_messages_total", "level",
				  "debug"), 5);
	ck_assert_int_eq(value_of(m, "loft_log_messages_total", "level",
				  "panic"), 1);
	ck_assert_int_eq(value_of(m, "loft_kicks_total", NULL, NULL), 5);
	ck_assert_int_eq(value_of(m, "loft_config_reloads_total", "result",
				  "failed"), 2);
	ck_assert_int_eq(value_of(m, "loft_config_reloads_total", "result",
				  "ok"), 0);
	ck_assert_int_eq(value_of(m, "loft_stats_events_dropped_total", NULL,
				  NULL), 10);
	ck_assert_int_eq(value_of(m, "loft_http_auth_failures_total", NULL,
				  NULL), 6);

	/* the rcpt rejections count as outcomes without a duration */
	root = stats_metrics_json(m, NULL);
	series = find_series(root, "loft_delivery_duration_seconds",
			     "protocol", "lmtp");
	ck_assert_int_eq(series_int(series, "count"), 0);
	series = find_series(root, "loft_delivery_duration_seconds",
			     "protocol", "lda");
	ck_assert_int_eq(series_int(series, "count"), 3);
	json_object_put(root);
	stats_metrics_free(&m);
}
END_TEST

START_TEST(test_deliveries_by_label)
{
	struct stats_metrics *m = stats_metrics_create("x");
	char *text;

	stats_metrics_rcpt_rejected(m, STATS_PROTOCOL_LMTP,
				    STATS_RESULT_TEMPFAIL,
				    STATS_REASON_CONCURRENCY);
	stats_metrics_rcpt_rejected(m, STATS_PROTOCOL_LMTP, STATS_RESULT_SAVED,
				    STATS_REASON_SYNTAX);
	stats_metrics_delivery(m, STATS_PROTOCOL_LDA, STATS_RESULT_REJECTED,
			       STATS_REASON_UNKNOWN_USER, 0, 0.01);
	text = stats_metrics_render(m, NULL, false);
	ck_assert_ptr_nonnull(strstr(text,
		"loft_deliveries_total{protocol=\"lmtp\",result=\"tempfail\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_deliveries_total{protocol=\"lmtp\",result=\"rejected\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_deliveries_total{protocol=\"lda\",result=\"rejected\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_rcpt_rejected_total{reason=\"unknown_user\"} 1\n"));
	/* no services passed: the per-service gauges have no series */
	ck_assert_ptr_nonnull(strstr(text,
		"# TYPE loft_sessions_active gauge\n# HELP loft_sessions_total"));
	free(text);
	stats_metrics_free(&m);
}
END_TEST

struct number_case {
	double seconds;
	const char *want_prometheus;
	const char *want_openmetrics;
};

static const struct number_case number_cases[] = {
	{ 0.00001, "1e-05", "1e-05" },
	{ 0.0001, "0.0001", "0.0001" },
	{ 2, "2", "2.0" },
	{ 0.1, "0.1", "0.1" },
	{ 0.3, "0.3", "0.3" },
	{ 1.5, "1.5", "1.5" },
	{ 100000, "100000", "100000.0" },
	{ 1234567, "1.234567e+06", "1.234567e+06" },
	{ 0.123456789012, "0.123456789012", "0.123456789012" },
};

START_TEST(test_number_format)
{
	const struct number_case *c = &number_cases[_i];
	struct stats_metrics *m = stats_metrics_create("x");
	char want[128], *text;

	stats_metrics_timing(m, STATS_TIMING_STORAGE_WRITE, c->seconds);
	text = stats_metrics_render(m, NULL, false);
	snprintf(want, sizeof(want), "\nloft_storage_write_duration_seconds_sum %s\n",
		 c->want_prometheus);
	ck_assert_msg(strstr(text, want) != NULL, "%g: 0.0.4 sum is not %s",
		      c->seconds, c->want_prometheus);
	free(text);
	text = stats_metrics_render(m, NULL, true);
	snprintf(want, sizeof(want), "\nloft_storage_write_duration_seconds_sum %s\n",
		 c->want_openmetrics);
	ck_assert_msg(strstr(text, want) != NULL, "%g: OpenMetrics sum is not %s",
		      c->seconds, c->want_openmetrics);
	free(text);
	stats_metrics_free(&m);
}
END_TEST

START_TEST(test_label_escaping)
{
	struct stats_metrics *m = stats_metrics_create("v\"1\\2\n");
	char *text;

	stats_metrics_session_started(m, "a\"b\\c\nd");
	text = stats_metrics_render(m, NULL, false);
	ck_assert_ptr_nonnull(strstr(text,
		"loft_build_info{version=\"v\\\"1\\\\2\\n\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_sessions_total{service=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(text);
	stats_metrics_free(&m);
}
END_TEST

START_TEST(test_service_names)
{
	struct stats_metrics *m = stats_metrics_create("x");
	static const struct stats_metrics_service svc[] = {
		{ "stats", 0, 1, 4 }, { "lmtp", 3, 5, 0 },
	};
	struct stats_metrics_services services = { svc, 2, NULL, 0, 0 };
	char name[32], *text;
	unsigned int i;

	/* seen-only services follow the passed ones */
	stats_metrics_session_started(m, "imap");
	stats_metrics_session_started(m, "lmtp");
	text = stats_metrics_render(m, &services, false);
	ck_assert_ptr_nonnull(strstr(text,
		"loft_sessions_total{service=\"stats\"} 0\n"
		"loft_sessions_total{service=\"lmtp\"} 1\n"
		"loft_sessions_total{service=\"lda\"} 0\n"
		"loft_sessions_total{service=\"imap\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_sessions_active{service=\"stats\"} 0\n"
		"loft_sessions_active{service=\"lmtp\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_service_processes{service=\"lmtp\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"loft_service_restarts_total{service=\"stats\"} 4\n"));
	free(text);

	/* past STATS_METRICS_MAX_SERVICES names (lmtp and lda are there
	   from the start), sessions count as "other" */
	for (i = 0; i < STATS_METRICS_MAX_SERVICES + 10; i++) {
		snprintf(name, sizeof(name), "svc%u", i);
		stats_metrics_session_started(m, name);
	}
	text = stats_metrics_render(m, NULL, false);
	ck_assert_ptr_nonnull(strstr(text,
		"loft_sessions_total{service=\"other\"} 13\n"));
	ck_assert_ptr_null(strstr(text, "service=\"svc61\""));
	ck_assert_ptr_nonnull(strstr(text, "service=\"svc60\""));
	free(text);
	stats_metrics_free(&m);
}
END_TEST

START_TEST(test_json_shape)
{
	struct stats_metrics *m = fixed_state();
	json_object *root = stats_metrics_json(m, &fixed_services);
	json_object *parsed, *metrics, *series, *v;

	parsed = json_tokener_parse(json_object_to_json_string(root));
	json_object_put(root);
	ck_assert_ptr_nonnull(parsed);
	ck_assert(json_object_object_get_ex(parsed, "version", &v));
	ck_assert_str_eq(json_object_get_string(v), "1.2.3");
	ck_assert(json_object_object_get_ex(parsed, "metrics", &metrics));
	/* 76 loft_* series (10 of them for two proxy backends, 7 Sieve
	   ones, 15 userdb lookup histograms: 5 drivers by 3 results), 7
	   process_* ones, the last good reload */
	ck_assert_uint_eq(json_object_array_length(metrics), 84);

	series = json_object_array_get_idx(metrics, 0);
	ck_assert(json_object_object_get_ex(series, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "info");
	ck_assert_int_eq(series_int(series, "value"), 1);

	series = find_series(parsed, "loft_delivery_duration_seconds",
			     "protocol", "lmtp");
	ck_assert(json_object_object_get_ex(series, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "histogram");
	ck_assert_int_eq(series_int(series, "count"), 2);
	ck_assert(json_object_object_get_ex(series, "sum", &v));
	ck_assert_double_eq_tol(json_object_get_double(v), 0.0035, 1e-12);
	ck_assert(json_object_object_get_ex(series, "buckets", &v));
	ck_assert_int_eq(series_int(v, "0.0005"), 0);
	ck_assert_int_eq(series_int(v, "0.001"), 1);
	ck_assert_int_eq(series_int(v, "0.0025"), 2);
	ck_assert_int_eq(series_int(v, "+Inf"), 2);

	/* the first sql series is result="found", the one observed */
	series = find_series(parsed, "loft_userdb_lookup_duration_seconds",
			     "driver", "sql");
	ck_assert(json_object_object_get_ex(series, "labels", &v));
	ck_assert(json_object_object_get_ex(v, "result", &v));
	ck_assert_str_eq(json_object_get_string(v), "found");
	ck_assert_int_eq(series_int(series, "count"), 1);

	series = find_series(parsed, "loft_sessions_active", "service", "lmtp");
	ck_assert(json_object_object_get_ex(series, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "gauge");
	ck_assert_int_eq(series_int(series, "value"), 1);

	series = find_series(parsed, "process_cpu_seconds_total", "service",
			     "master");
	ck_assert(json_object_object_get_ex(series, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "counter");
	ck_assert(json_object_object_get_ex(series, "value", &v));
	ck_assert_double_eq_tol(json_object_get_double(v), 1.5, 1e-12);
	ck_assert_ptr_null(find_series(parsed, "process_start_time_seconds",
				       "service", "lmtp"));
	series = find_series(parsed,
			     "loft_config_last_reload_success_timestamp_seconds",
			     NULL, NULL);
	ck_assert(json_object_object_get_ex(series, "value", &v));
	ck_assert_double_eq_tol(json_object_get_double(v), 1700000100, 1e-3);
	json_object_put(parsed);
	stats_metrics_free(&m);
}
END_TEST

START_TEST(test_reset)
{
	struct stats_metrics *m = fixed_state();
	struct stats_metrics *fresh = stats_metrics_create("1.2.3");
	char *got, *want;

	stats_metrics_session_started(m, "imap");
	stats_metrics_reset(m);
	got = stats_metrics_render(m, &fixed_services, _i == 1);
	want = stats_metrics_render(fresh, &fixed_services, _i == 1);
	/* the same text as a fresh instance, except that "imap" stays */
	ck_assert_ptr_nonnull(strstr(got,
		"loft_sessions_total{service=\"imap\"} 0\n"));
	ck_assert_ptr_null(strstr(want, "imap"));
	ck_assert_ptr_nonnull(strstr(got, "loft_build_info{version=\"1.2.3\"} 1\n"));
	free(got);
	free(want);

	/* with "imap" passed the two instances render identically */
	{
		static const struct stats_metrics_service svc[] = {
			{ "lmtp", 1, 2, 0 }, { "imap", 0, 0, 0 },
		};
		struct stats_metrics_services services = { svc, 2, NULL, 0, 0 };

		got = stats_metrics_render(m, &services, _i == 1);
		want = stats_metrics_render(fresh, &services, _i == 1);
		ck_assert_msg(strcmp(got, want) == 0,
			      "after reset: got differs at:\n%.200s",
			      first_difference(got, want));
		free(got);
		free(want);
	}
	stats_metrics_free(&m);
	stats_metrics_free(&fresh);
}
END_TEST

struct name_case {
	const char *name;
	int kind;		/* 'p' protocol, 'r' result, 's' reason */
	int want;		/* enum value, -1: unknown */
};

static const struct name_case name_cases[] = {
	{ "lmtp", 'p', STATS_PROTOCOL_LMTP },
	{ "lda", 'p', STATS_PROTOCOL_LDA },
	{ "smtp", 'p', -1 },
	{ "saved", 'r', STATS_RESULT_SAVED },
	{ "rejected", 'r', STATS_RESULT_REJECTED },
	{ "tempfail", 'r', STATS_RESULT_TEMPFAIL },
	{ "Saved", 'r', -1 },
	{ "unknown_user", 's', STATS_REASON_UNKNOWN_USER },
	{ "quota", 's', STATS_REASON_QUOTA },
	{ "size", 's', STATS_REASON_SIZE },
	{ "concurrency", 's', STATS_REASON_CONCURRENCY },
	{ "syntax", 's', STATS_REASON_SYNTAX },
	{ "other", 's', STATS_REASON_OTHER },
	{ "", 's', -1 },
};

START_TEST(test_names)
{
	const struct name_case *c = &name_cases[_i];
	enum stats_protocol p;
	enum stats_result r;
	enum stats_reason s;
	const char *back = NULL;
	bool ok = false;
	int got = -1;

	switch (c->kind) {
	case 'p':
		if ((ok = stats_metrics_protocol_parse(c->name, &p))) {
			got = (int)p;
			back = stats_metrics_protocol_name(p);
		}
		break;
	case 'r':
		if ((ok = stats_metrics_result_parse(c->name, &r))) {
			got = (int)r;
			back = stats_metrics_result_name(r);
		}
		break;
	default:
		if ((ok = stats_metrics_reason_parse(c->name, &s))) {
			got = (int)s;
			back = stats_metrics_reason_name(s);
		}
		break;
	}
	ck_assert_msg(got == c->want, "%s: got %d, want %d", c->name, got,
		      c->want);
	if (ok)
		ck_assert_str_eq(back, c->name);
}
END_TEST

static Suite *stats_metrics_suite(void)
{
	Suite *s = suite_create("stats_metrics");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_exposition, 0, 2);
	tcase_add_loop_test(tc, test_bucket_edges, 0,
			    LOFT_N_ELEMENTS(bucket_cases));
	tcase_add_test(tc, test_counting);
	tcase_add_test(tc, test_deliveries_by_label);
	tcase_add_loop_test(tc, test_number_format, 0,
			    LOFT_N_ELEMENTS(number_cases));
	tcase_add_test(tc, test_label_escaping);
	tcase_add_test(tc, test_service_names);
	tcase_add_test(tc, test_json_shape);
	tcase_add_loop_test(tc, test_reset, 0, 2);
	tcase_add_loop_test(tc, test_names, 0, LOFT_N_ELEMENTS(name_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
