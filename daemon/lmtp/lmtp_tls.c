/*
 * lmtp_tls - TLS in an LMTP session: STARTTLS (RFC 3207 read for LMTP, with
 * Dovecot's replies), the handshake of an ssl = yes listener's clients,
 * and `ssl = required`.
 *
 * STARTTLS answers 220 and stops reading: whatever the client sent after
 * the command line in plaintext is thrown away unread (the command
 * injection of CVE-2011-0411), the 220 is flushed, then the handshake
 * runs; once it is done the session starts afresh (no LHLO, no
 * transaction), as RFC 3207 section 4.2 says. The byte I/O itself goes
 * through lib/tls.h from lmtp_session.c.
 *
 * With ssl = required, Dovecot's lib-smtp rule: before TLS every command
 * but LHLO, STARTTLS, NOOP and QUIT gets "530 5.7.0 TLS required.", except
 * on connections Dovecot counts as secured without TLS: a UNIX socket, or
 * a TCP peer whose address is the local address of the connection (the
 * same host talking to itself: 127.0.0.1 to 127.0.0.1, not 127.0.0.2 to
 * 127.0.0.1).
 *
 * Handshake failures are counted (loft_tls_handshake_failures_total) and
 * logged with the peer address, at most LMTP_TLS_LOG_PER_MINUTE a minute
 * per process; the rest are summed up in one line.
 */
#include "lmtp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LMTP_TLS_LOG_PER_MINUTE 10
#define LMTP_TLS_LOG_WINDOW_MSECS 60000

/* tls_log_allowed - whether one more failure may be logged now; the first
   line of a new window reports what the last one did not log */
static bool tls_log_allowed(struct lmtp_server *server)
{
	uint64_t now = evloop_now_msecs(server->loop);

	if (server->tls_log_window_msecs == 0 ||
	    now - server->tls_log_window_msecs >= LMTP_TLS_LOG_WINDOW_MSECS) {
		if (server->tls_log_suppressed > 0)
			log_warning("%u more TLS handshake failures were not logged",
				    server->tls_log_suppressed);
		server->tls_log_window_msecs = now;
		server->tls_log_count = 0;
		server->tls_log_suppressed = 0;
	}
	if (server->tls_log_count >= LMTP_TLS_LOG_PER_MINUTE) {
		server->tls_log_suppressed++;
		return false;
	}
	server->tls_log_count++;
	return true;
}

void lmtp_tls_abandoned(struct lmtp_session *session, const char *reason)
{
	struct lmtp_server *server = session->server;

	session->tls_handshaking = false;
	lmtp_stats_tls_handshake(server->stats, false);
	if (!tls_log_allowed(server))
		return;
	if (strstr(reason, "Connection closed") != NULL)
		log_info("TLS handshake with %s failed: %s", session->peer_ip,
			 reason);
	else
		log_warning("TLS handshake with %s failed: %s", session->peer_ip,
			    reason);
}

void lmtp_tls_begin(struct lmtp_session *session)
{
	session->starttls_pending = false;
	session->tls = tls_conn_create(session->server->tls, session->fd_in);
	session->tls_handshaking = true;
}

/* tls_session_reset - RFC 3207 4.2: forget what the client said before */
static void tls_session_reset(struct lmtp_session *session)
{
	lmtp_transaction_free(session);
	free(session->lhlo);
	session->lhlo = NULL;
	session->invalid_commands = 0;
}

bool lmtp_tls_handshake(struct lmtp_session *session)
{
	const char *error;
	int ret = tls_conn_handshake(session->tls, &error);

	if (ret == 0)
		return true;
	if (ret < 0) {
		char reason[320];

		snprintf(reason, sizeof(reason), "TLS handshake failed: %s", error);
		lmtp_tls_abandoned(session, error);
		lmtp_session_destroy(session, reason);
		return false;
	}
	session->tls_handshaking = false;
	tls_session_reset(session);
	lmtp_stats_tls_handshake(session->server->stats, true);
	log_info("TLS: %s", tls_conn_describe(session->tls));
	return true;
}

bool lmtp_tls_offered(const struct lmtp_session *session)
{
	/* TLS needs one socket both ways (not stdin/stdout) */
	return session->server->tls != NULL && session->tls == NULL &&
		session->fd_in == session->fd_out;
}

void lmtp_tls_cmd_starttls(struct lmtp_session *session, const char *param)
{
	if (session->tls != NULL) {
		lmtp_session_reply(session, "502 5.5.1 TLS is already active.");
		return;
	}
	if (!lmtp_tls_offered(session)) {
		lmtp_session_reply(session, "502 5.5.1 TLS support is not enabled.");
		return;
	}
	if (param != NULL && *param != '\0') {
		lmtp_session_reply(session, "501 5.5.4 Invalid parameters");
		return;
	}
	lmtp_session_reply(session, "220 2.0.0 Begin TLS negotiation now.");
	session->starttls_pending = true;
}

const char *lmtp_tls_refusal(const struct lmtp_session *session,
			     enum lmtp_verb verb)
{
	if (!session->server->tls_required || session->tls != NULL ||
	    session->local)
		return NULL;
	switch (verb) {
	case LMTP_VERB_LHLO:
	case LMTP_VERB_STARTTLS:
	case LMTP_VERB_NOOP:
	case LMTP_VERB_QUIT:
		return NULL;
	default:
		return "530 5.7.0 TLS required.";
	}
}
