/*
 * stats_report - build loft-stats events from what the processes know
 * (see stats_report.h). Strings are passed by pointer into stack
 * envelopes; stats_client_send() encodes them before returning.
 */
#include "stats_report.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* str - protobuf-c wants "" rather than NULL for required strings */
static char *str(const char *value)
{
	return (char *)(value != NULL ? value : "");
}

/* opt - optional strings: NULL stays absent */
static char *opt(const char *value)
{
	return (char *)value;
}

static void send_body(struct stats_client *client, Loft__Envelope *env)
{
	if (client != NULL)
		stats_client_send(client, env);
}

void stats_report_session_start(struct stats_client *client,
				const struct stats_report_session *session)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionStart msg = LOFT__SESSION_START__INIT;

	msg.session_id = str(session->session_id);
	msg.service = str(session->service);
	msg.pid = (uint32_t)getpid();
	msg.client_ip = str(session->client_ip);
	msg.has_client_port = session->client_port != 0;
	msg.client_port = session->client_port;
	msg.start_usecs = session->start_usecs;
	msg.state = opt(session->state);
	msg.n_users = session->user_count;
	msg.users = (char **)session->users;
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_START;
	env.session_start = &msg;
	send_body(client, &env);
}

void stats_report_session_update(struct stats_client *client,
				 const struct stats_report_session *session)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionUpdate msg = LOFT__SESSION_UPDATE__INIT;

	msg.session_id = str(session->session_id);
	msg.state = opt(session->state);
	msg.n_users = session->user_count;
	msg.users = (char **)session->users;
	msg.has_bytes_in = true;
	msg.bytes_in = session->bytes_in;
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_UPDATE;
	env.session_update = &msg;
	send_body(client, &env);
}

void stats_report_session_end(struct stats_client *client,
			      const char *session_id)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionEnd msg = LOFT__SESSION_END__INIT;

	msg.session_id = str(session_id);
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_END;
	env.session_end = &msg;
	send_body(client, &env);
}

void stats_report_delivery(struct stats_client *client,
			   const struct stats_report_delivery *d)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Delivery msg = LOFT__DELIVERY__INIT;
	const struct log_delivery *rec = d->rec;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	msg.ts_usecs = (uint64_t)now.tv_sec * 1000000 +
		(uint64_t)now.tv_nsec / 1000;
	msg.protocol = str(d->protocol);
	msg.pid = (uint32_t)getpid();
	msg.session_id = str(d->session_id);
	msg.user = opt(d->user);
	msg.msgid = opt(rec->msgid);
	msg.from = opt(rec->from);
	msg.envelope_from = opt(rec->envelope_from);
	msg.rcpt = opt(rec->rcpt);
	msg.orig_rcpt = opt(rec->orig_rcpt);
	msg.mailbox = opt(rec->mailbox);
	msg.has_size = msg.has_vsize = true;
	msg.size = rec->size;
	msg.vsize = rec->vsize;
	msg.result = str(rec->result);
	msg.code = (uint32_t)rec->code;
	msg.enhanced_code = str(rec->enhanced_code);
	msg.text = opt(d->text);
	msg.has_duration_ms = true;
	msg.duration_ms = rec->duration_ms;
	msg.reason = d->reason != NULL && *d->reason != '\0' ?
		(char *)d->reason : NULL;
	msg.proxy_backend = opt(d->proxy_backend);
	msg.has_proxy_backend_up = d->proxy_backend != NULL;
	msg.proxy_backend_up = d->proxy_backend_up;
	msg.has_proxy_backend_seconds = d->proxy_backend_seconds > 0;
	msg.proxy_backend_seconds = d->proxy_backend_seconds;
	msg.has_storage_write_seconds = d->storage_seconds > 0;
	msg.storage_write_seconds = d->storage_seconds;
	msg.sieve = opt(d->sieve);
	msg.sieve_actions = opt(d->sieve_actions);
	msg.has_sieve_script_errors = d->sieve_script_errors > 0;
	msg.sieve_script_errors = d->sieve_script_errors;
	msg.has_uid = d->have_uid;
	msg.uid = d->uid;
	env.body_case = LOFT__ENVELOPE__BODY_DELIVERY;
	env.delivery = &msg;
	send_body(client, &env);
}

/* userdb_driver_id - the proto's name of a userdb driver, or 0 */
static Loft__Timing__UserdbDriver userdb_driver_id(const char *name)
{
	static const char *const names[] = {
		[LOFT__TIMING__USERDB_DRIVER__DRIVER_PASSWD_FILE] = "passwd-file",
		[LOFT__TIMING__USERDB_DRIVER__DRIVER_PASSWD] = "passwd",
		[LOFT__TIMING__USERDB_DRIVER__DRIVER_STATIC] = "static",
		[LOFT__TIMING__USERDB_DRIVER__DRIVER_SQL] = "sql",
		[LOFT__TIMING__USERDB_DRIVER__DRIVER_AUTH] = "auth",
	};

	for (size_t i = 1; name != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i], name) == 0)
			return (Loft__Timing__UserdbDriver)i;
	}
	return LOFT__TIMING__USERDB_DRIVER__DRIVER_UNSPECIFIED;
}

void stats_report_timing(struct stats_client *client, Loft__Timing__Kind kind,
			 double seconds, enum stats_report_cache cache,
			 const char *userdb_driver,
			 Loft__Timing__UserdbResult userdb_result)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Timing msg = LOFT__TIMING__INIT;

	msg.userdb_driver = userdb_driver_id(userdb_driver);
	msg.has_userdb_driver = msg.userdb_driver != 0;
	msg.userdb_result = userdb_result;
	msg.has_userdb_result = userdb_result != 0;
	msg.kind = kind;
	msg.seconds = seconds;
	msg.has_userdb_cache_hit = cache != STATS_REPORT_NO_CACHE;
	msg.userdb_cache_hit = cache == STATS_REPORT_CACHE_HIT;
	env.body_case = LOFT__ENVELOPE__BODY_TIMING;
	env.timing = &msg;
	send_body(client, &env);
}

void stats_report_tls_handshake(struct stats_client *client, bool ok)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__TlsHandshake msg = LOFT__TLS_HANDSHAKE__INIT;

	msg.ok = ok;
	env.body_case = LOFT__ENVELOPE__BODY_TLS_HANDSHAKE;
	env.tls_handshake = &msg;
	send_body(client, &env);
}

const char *stats_report_level_name(enum log_level level)
{
	static const char *const names[LOG_LEVEL_COUNT] = {
		"debug", "info", "warning", "error", "fatal", "panic",
	};

	return (unsigned int)level < LOG_LEVEL_COUNT ? names[level] : "error";
}

void stats_report_log(struct stats_client *client, enum log_level level,
		      uint64_t ts_usecs, const char *service,
		      const char *session, const char *user, const char *text)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__LogEvent msg = LOFT__LOG_EVENT__INIT;

	msg.ts_usecs = ts_usecs;
	msg.level = (char *)stats_report_level_name(level);
	msg.service = str(service);
	msg.pid = (uint32_t)getpid();
	msg.session_id = opt(session);
	msg.user = opt(user);
	msg.text = str(text);
	msg.has_count = true;
	msg.count = 1;
	env.body_case = LOFT__ENVELOPE__BODY_LOG_EVENT;
	env.log_event = &msg;
	send_body(client, &env);
}

void stats_report_log_count(struct stats_client *client, enum log_level level,
			    const char *service, uint32_t count)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__LogEvent msg = LOFT__LOG_EVENT__INIT;
	struct timespec now;

	if (count == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	msg.ts_usecs = (uint64_t)now.tv_sec * 1000000 +
		(uint64_t)now.tv_nsec / 1000;
	msg.level = (char *)stats_report_level_name(level);
	msg.service = str(service);
	msg.pid = (uint32_t)getpid();
	msg.has_count = true;
	msg.count = count;
	env.body_case = LOFT__ENVELOPE__BODY_LOG_EVENT;
	env.log_event = &msg;
	send_body(client, &env);
}

void stats_report_log_write_failures(struct stats_client *client,
				     const char *service)
{
	/* what this process has reported so far (one reporting thread) */
	static uint64_t reported;
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__LogWriteFailures msg = LOFT__LOG_WRITE_FAILURES__INIT;
	uint64_t failures = log_write_failures();
	char error[256];

	if (client == NULL || failures <= reported)
		return;
	log_write_failure_text(error, sizeof(error));
	msg.service = str(service);
	msg.pid = (uint32_t)getpid();
	msg.count = failures - reported > UINT32_MAX ? UINT32_MAX :
		(uint32_t)(failures - reported);
	msg.error = opt(error[0] != '\0' ? error : NULL);
	env.body_case = LOFT__ENVELOPE__BODY_LOG_WRITE_FAILURES;
	env.log_write_failures = &msg;
	send_body(client, &env);
	reported += msg.count;
}
