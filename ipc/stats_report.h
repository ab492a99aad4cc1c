/*
 * stats_report - the events every loft process reports to loft-stats,
 * built in one place: session start/update/end, delivery records, timing
 * samples and log lines. Each function fills a stack envelope and hands it
 * to stats_client_send(), so it never blocks and may be called from any
 * thread; a NULL client is a no-op (loft-stats not configured).
 */
#ifndef LOFT_STATS_REPORT_H
#define LOFT_STATS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "stats_client.h"

struct stats_report_session {
	const char *session_id, *service;
	const char *client_ip;		/* "" or NULL for local */
	unsigned int client_port;
	uint64_t start_usecs;
	const char *state;		/* READY, MAIL FROM, RCPT TO, DATA */
	const char *const *users;
	size_t user_count;
	uint64_t bytes_in;
};

void stats_report_session_start(struct stats_client *client,
				const struct stats_report_session *session);
void stats_report_session_update(struct stats_client *client,
				 const struct stats_report_session *session);
void stats_report_session_end(struct stats_client *client,
			      const char *session_id);

/* stats_report_delivery - one recipient's outcome: the logged record plus
   what the log line does not carry */
struct stats_report_delivery {
	const char *protocol, *session_id, *user;
	const struct log_delivery *rec;
	const char *text;		/* the reply text */
	const char *reason;		/* "" when saved */
	double storage_seconds;
	const char *proxy_backend;	/* relayed: "host:port", else NULL */
	bool proxy_backend_up;
	double proxy_backend_seconds;	/* the backend's answer time; 0: none */
	/* Sieve: summary, action names, failed scripts (NULL, NULL, 0
	   when no script ran) */
	const char *sieve, *sieve_actions;
	unsigned int sieve_script_errors;
	/* the uid the delivery ran as (delivery_request.uid) */
	bool have_uid;
	unsigned int uid;
};
void stats_report_delivery(struct stats_client *client,
			   const struct stats_report_delivery *delivery);

/* stats_report_tls_handshake - a TLS handshake succeeded or failed */
void stats_report_tls_handshake(struct stats_client *client, bool ok);

/* whether a userdb lookup was answered by the process's cache */
enum stats_report_cache {
	STATS_REPORT_NO_CACHE,		/* no cache (or not a lookup) */
	STATS_REPORT_CACHE_HIT,
	STATS_REPORT_CACHE_MISS,
};

/* kind: LOFT__TIMING__KIND__KIND_USERDB_LOOKUP / _STORAGE_WRITE; a
   lookup's userdb_driver ("passwd-file", "passwd", "static", "sql",
   "auth"; NULL or another: not sent) and userdb_result (0: not sent) */
void stats_report_timing(struct stats_client *client, Loft__Timing__Kind kind,
			 double seconds, enum stats_report_cache cache,
			 const char *userdb_driver,
			 Loft__Timing__UserdbResult userdb_result);

/* stats_report_log - a warning or error line with its text */
void stats_report_log(struct stats_client *client, enum log_level level,
		      uint64_t ts_usecs, const char *service,
		      const char *session, const char *user, const char *text);
/* stats_report_log_count - count lines of a level (no text) */
void stats_report_log_count(struct stats_client *client, enum log_level level,
			    const char *service, uint32_t count);

/* stats_report_log_write_failures - the lines this process could not
   write where configured since its last call (log_write_failures()),
   with the last reason; nothing when there are none */
void stats_report_log_write_failures(struct stats_client *client,
				     const char *service);

/* "debug" | "info" | ... as the metrics label */
const char *stats_report_level_name(enum log_level level);

#endif
