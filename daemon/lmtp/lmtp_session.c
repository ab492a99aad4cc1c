/*
 * lmtp_session - one LMTP connection: buffered I/O on the event loop, the
 * command dispatcher and the session state machine (RFC 2033 with
 * Dovecot's replies).
 *
 * Input is read into one buffer and consumed in order: command lines
 * (pipelined commands are answered in order; replies are flushed when the
 * buffer runs dry or a job is pending), DATA through the dot-unstuffing
 * decoder, BDAT chunks by count. Command lines longer than LMTP_MAX_LINE
 * are skipped without being stored and answered 500 5.5.2; eleven invalid
 * commands end the session. While a job (userdb lookup, delivery) runs on
 * the workpool the session reads nothing more, so replies keep their order
 * and a slow client costs one buffer, not a thread. On a TLS session the
 * same buffers move through lib/tls.h instead of read()/write()
 * (lmtp_tls.c starts and finishes the handshake).
 */
#include "lmtp_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cidr.h"
#include "lmtp_command.h"
#include "lmtp_xclient.h"
#include "log.h"

static void session_update_io(struct lmtp_session *session);
static void session_process_input(struct lmtp_session *session);

const char *lmtp_session_state_name(const struct lmtp_session *session)
{
	const struct lmtp_transaction *trans = session->trans;

	if (session->state == LMTP_STATE_DATA ||
	    session->state == LMTP_STATE_BDAT ||
	    (trans != NULL && trans->bdat_started))
		return "DATA";
	if (trans == NULL)
		return "READY";
	return trans->rcpt_count == 0 ? "MAIL FROM" : "RCPT TO";
}

/* session_log_context - this thread's log lines are the session's */
static void session_log_context(struct lmtp_session *session)
{
	log_set_session(session->id);
	log_set_user(NULL);
}

/* reply_counts_invalid - Dovecot ends a session after more than ten
   consecutive 500, 501 and 503 replies; any other reply resets the count */
static bool reply_counts_invalid(const char *reply)
{
	return strncmp(reply, "500 ", 4) == 0 || strncmp(reply, "501 ", 4) == 0 ||
		strncmp(reply, "503 ", 4) == 0;
}

void lmtp_session_reply(struct lmtp_session *session, const char *fmt, ...)
{
	size_t start = session->out.len;
	va_list args;

	if (session->quit)
		return; /* a 421 was the last word */
	va_start(args, fmt);
	strbuf_vappendf(&session->out, fmt, args);
	va_end(args);
	if (!reply_counts_invalid(session->out.data + start)) {
		session->invalid_commands = 0;
	} else if (++session->invalid_commands > LMTP_MAX_INVALID_COMMANDS) {
		strbuf_truncate(&session->out, start);
		strbuf_appendf(&session->out, "421 4.7.0 %s Too many invalid commands.",
			       session->server->hostname);
		session->quit = true;
		session->disconnect_reason = "Too many invalid commands";
	}
	strbuf_append(&session->out, "\r\n", 2);
}

/* session_flush - write what we can; false when the peer is gone */
static bool session_flush(struct lmtp_session *session)
{
	if (session->tls_handshaking)
		return true; /* the replies wait for the handshake */
	while (session->out_pos < session->out.len) {
		const char *data = session->out.data + session->out_pos;
		size_t len = session->out.len - session->out_pos;
		ssize_t ret = session->tls == NULL ?
			write(session->fd_out, data, len) :
			tls_conn_write(session->tls, data, len);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (ret <= 0) {
			session->disconnect_reason = "Connection lost";
			return false;
		}
		session->out_pos += (size_t)ret;
	}
	if (session->out_pos == session->out.len) {
		strbuf_reset(&session->out);
		session->out_pos = 0;
	}
	return true;
}

static bool session_output_pending(const struct lmtp_session *session)
{
	return session->out_pos < session->out.len;
}

/* session_close_if_done - after QUIT/421 or EOF once nothing is pending */
static bool session_close_if_done(struct lmtp_session *session)
{
	if (session->state == LMTP_STATE_WAIT)
		return false;
	if (session->quit && (!session_output_pending(session) ||
			      session->tls_handshaking)) {
		if (session->invalid_commands > LMTP_MAX_INVALID_COMMANDS) {
			/* the 421 of lmtp_session_reply ended the open
			   transaction's recipients too */
			struct outcome out;

			outcome_set(&out, OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER,
				    421, "4.7.0", "Too many invalid commands.");
			lmtp_transaction_abort(session, &out);
		}
		lmtp_session_destroy(session, session->disconnect_reason);
		return true;
	}
	if (session->input_closed) {
		lmtp_session_destroy(session, session->disconnect_reason != NULL ?
				     session->disconnect_reason :
				     "Connection closed");
		return true;
	}
	return false;
}

/* session_wants_input - not waiting for a job, quitting, backed up or
   about to start TLS */
static bool session_wants_input(const struct lmtp_session *session)
{
	return !session->quit && !session->input_closed &&
		!session->starttls_pending &&
		session->state != LMTP_STATE_WAIT &&
		session->out.len - session->out_pos < LMTP_MAX_OUTPUT;
}

/* session_update_io - read interest unless session_wants_input() says
   no; write interest while output is pending */
static void session_update_io(struct lmtp_session *session)
{
	bool want_read = session_wants_input(session);
	bool want_write = session_output_pending(session);

	if (session->tls != NULL) {
		/* a TLS read or write may need the other readiness */
		evloop_io_set_events(session->io_in,
				     tls_conn_events(session->tls, want_read,
						     want_write));
		return;
	}
	if (session->io_in == session->io_out) {
		evloop_io_set_events(session->io_in,
				     (want_read ? EVLOOP_READ : 0) |
				     (want_write ? EVLOOP_WRITE : 0));
		return;
	}
	evloop_io_set_events(session->io_in, want_read ? EVLOOP_READ : 0);
	evloop_io_set_events(session->io_out, want_write ? EVLOOP_WRITE : 0);
}

/* session_after_work - flush, maybe close, else re-arm the io */
static void session_after_work(struct lmtp_session *session)
{
	if (!session_flush(session)) {
		if (session->state == LMTP_STATE_WAIT) {
			session->input_closed = true;
			session_update_io(session);
			return;
		}
		lmtp_session_destroy(session, session->disconnect_reason);
		return;
	}
	if (session_close_if_done(session))
		return;
	if (session->starttls_pending && !session_output_pending(session))
		lmtp_tls_begin(session); /* the 220 is out */
	session_update_io(session);
}

/* session_read - pull what the kernel has; false on EOF or error */
static bool session_read(struct lmtp_session *session)
{
	char buf[LMTP_READ_SIZE];
	ssize_t ret;

	ret = session->tls == NULL ? read(session->fd_in, buf, sizeof(buf)) :
		tls_conn_read(session->tls, buf, sizeof(buf));
	if (ret < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return true;
	if (ret <= 0) {
		session->input_closed = true;
		if (session->disconnect_reason == NULL)
			session->disconnect_reason = ret == 0 ?
				"Connection closed" : "Connection lost";
		return false;
	}
	if (session->skipping_long_line) {
		session->bytes_in += (uint64_t)ret;
		/* keep only from the end of the over-long line on */
		char *lf = memchr(buf, '\n', (size_t)ret);
		if (lf == NULL)
			return true;
		session->skipping_long_line = false;
		lmtp_session_reply(session, "500 5.5.2 Line too long");
		strbuf_append(&session->in, lf + 1,
			      (size_t)(buf + ret - (lf + 1)));
		return true;
	}
	session->bytes_in += (uint64_t)ret;
	strbuf_append(&session->in, buf, (size_t)ret);
	return true;
}

static void session_io_callback(struct evloop_io *io, int fd,
				unsigned int events, void *context)
{
	struct lmtp_session *session = context;

	session_log_context(session);
	if (session->tls_handshaking) {
		if (!lmtp_tls_handshake(session))
			return; /* failed: destroyed */
		if (session->tls_handshaking) {
			session_update_io(session);
			return;
		}
	}
	/* a TLS read may be waiting for writability: try it on any event */
	if (session->tls != NULL ? session_wants_input(session) :
	    (events & EVLOOP_READ) != 0 && fd == session->fd_in &&
	    !session->input_closed && session->state != LMTP_STATE_WAIT) {
		(void)session_read(session);
		evloop_timer_reset(session->idle_timer,
				   session->server->set->lmtp_client_idle_timeout);
		session_process_input(session);
		if (session->destroyed)
			return;
	}
	session_after_work(session);
}

/* session_end_421 - queue the 421 that ends the session. It ends the
   chance of every recipient an open transaction accepted, so each gets
   it as its outcome (a tempfail, reason other: the text says why),
   recorded as every outcome is: log line, journal, metrics */
static void session_end_421(struct lmtp_session *session, const char *enhanced,
			    const char *text, const char *disconnect_reason)
{
	struct outcome out;

	outcome_set(&out, OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER, 421, enhanced,
		    "%s", text);
	lmtp_transaction_abort(session, &out);
	session->state = LMTP_STATE_COMMAND;
	lmtp_session_reply(session, "421 %s %s %s", enhanced,
			   session->server->hostname, text);
	session->quit = true;
	session->disconnect_reason = disconnect_reason;
}

static int64_t session_idle_timeout(struct evloop_timer *timer, void *context)
{
	struct lmtp_session *session = context;

	session_log_context(session);
	if (session->state == LMTP_STATE_WAIT)
		return (int64_t)session->server->set->lmtp_client_idle_timeout;
	session_end_421(session, "4.4.2", "Disconnected for inactivity",
			"Disconnected for inactivity");
	(void)session_flush(session);
	session->idle_timer = timer; /* destroy removes it */
	lmtp_session_destroy(session, "Disconnected for inactivity");
	return EVLOOP_NOMORE;
}

static void cmd_lhlo(struct lmtp_session *session, const struct lmtp_command *cmd)
{
	const struct loft_settings *set = session->server->set;
	char size[64];
	const char *caps[8];
	size_t n = 0;

	lmtp_transaction_free(session);
	free(session->lhlo);
	session->lhlo = xstrdup(cmd->param);
	if (set->lmtp_max_message_size > 0)
		snprintf(size, sizeof(size), "SIZE %llu",
			 (unsigned long long)set->lmtp_max_message_size);
	else
		snprintf(size, sizeof(size), "SIZE");
	caps[n++] = "8BITMIME";
	caps[n++] = "CHUNKING";
	caps[n++] = "ENHANCEDSTATUSCODES";
	caps[n++] = "PIPELINING";
	caps[n++] = size;
	if (lmtp_tls_offered(session))
		caps[n++] = "STARTTLS";
	if (session->trusted)
		caps[n++] = LMTP_XCLIENT_CAPABILITY;
	lmtp_session_reply(session, "250-%s", session->server->hostname);
	for (size_t i = 0; i < n; i++)
		lmtp_session_reply(session, "250%c%s", i + 1 < n ? '-' : ' ',
				   caps[i]);
}

/* cmd_xclient - a trusted proxy says who the client is, which session id
   its transactions go on (Dovecot's SESSION) and how many proxy hops are
   left (Postfix's XCLIENT, with Dovecot's replies). The connection keeps
   its own id for who, kick and its own log lines: over time a proxy's
   pooled connection serves many of its sessions. */
static void cmd_xclient(struct lmtp_session *session, const char *param)
{
	struct lmtp_xclient xc;
	char ttl[16] = "none";
	const char *error;

	if (!session->trusted) {
		lmtp_session_reply(session, "550 5.7.14 You are not from trusted IP");
		return;
	}
	if (session->trans != NULL) {
		lmtp_session_reply(session, "503 5.5.0 XCLIENT not permitted "
				   "during a mail transaction");
		return;
	}
	if (lmtp_xclient_parse(param != NULL ? param : "", &xc, &error) < 0) {
		lmtp_session_reply(session, "501 5.5.4 %s", error);
		return;
	}
	if ((xc.given & LMTP_XCLIENT_ADDR) != 0)
		snprintf(session->peer_ip, sizeof(session->peer_ip), "%s",
			 xc.addr);
	if ((xc.given & LMTP_XCLIENT_PORT) != 0)
		session->peer_port = xc.port;
	if ((xc.given & LMTP_XCLIENT_TTL) != 0) {
		session->proxy_ttl_plus_1 = xc.ttl + 1;
		snprintf(ttl, sizeof(ttl), "%u", xc.ttl);
	}
	if ((xc.given & LMTP_XCLIENT_SESSION) != 0) {
		/* the next transaction's id is the forwarded one itself */
		snprintf(session->trans_base, sizeof(session->trans_base),
			 "%s", xc.session);
		session->transaction_count = 0;
	}
	log_info("XCLIENT: client %s:%u, session %s, ttl %s",
		 session->peer_ip, session->peer_port, session->trans_base, ttl);
	/* announced again: who shows the forwarded client */
	lmtp_stats_session_start(session->server->stats, session);
	lmtp_session_reply(session, "220 %s loft ready.",
			   session->server->hostname);
}

static void cmd_mail(struct lmtp_session *session, const struct lmtp_command *cmd)
{
	uint64_t max = session->server->set->lmtp_max_message_size;

	if (session->trans != NULL) {
		lmtp_session_reply(session, "503 5.5.0 MAIL already given");
		return;
	}
	if (cmd->has_size && max > 0 && cmd->size > max) {
		lmtp_session_reply(session,
				   "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	lmtp_transaction_begin(session, cmd->path);
	lmtp_session_reply(session, "250 2.1.0 OK");
}

static void cmd_rcpt(struct lmtp_session *session, const struct lmtp_command *cmd)
{
	if (session->trans == NULL) {
		lmtp_session_reply(session, "503 5.5.0 MAIL needed first");
		return;
	}
	if (session->trans->bdat_started) {
		lmtp_session_reply(session, "503 5.5.0 Bad sequence of commands");
		return;
	}
	lmtp_transaction_rcpt(session, cmd->path, cmd->orcpt);
}

/* data_sequence_error - the reply DATA/BDAT get now, or NULL */
static const char *data_sequence_error(const struct lmtp_session *session)
{
	if (session->trans == NULL)
		return "503 5.5.0 MAIL needed first";
	if (lmtp_transaction_accepted(session->trans) == 0)
		return "503 5.5.0 No valid recipients";
	return NULL;
}

static void cmd_data(struct lmtp_session *session)
{
	const char *error = data_sequence_error(session);

	if (error == NULL && session->trans->bdat_started)
		error = "503 5.5.0 Bad sequence of commands";
	if (error != NULL) {
		lmtp_session_reply(session, "%s", error);
		return;
	}
	lmtp_data_decoder_init(&session->decoder);
	session->state = LMTP_STATE_DATA;
	lmtp_stats_session_update(session->server->stats, session);
	lmtp_session_reply(session, "354 OK");
}

/* bdat_expect - read size chunk octets next; reply (if any) refuses the
   chunk once they are read */
static void bdat_expect(struct lmtp_session *session, uint64_t size,
			bool last, const char *reply)
{
	session->bdat_size = size;
	session->bdat_remaining = size;
	session->bdat_last = last;
	session->bdat_discard = reply != NULL;
	snprintf(session->bdat_reply, sizeof(session->bdat_reply), "%s",
		 reply != NULL ? reply : "");
	session->state = LMTP_STATE_BDAT;
}

static void cmd_bdat(struct lmtp_session *session, const struct lmtp_command *cmd)
{
	const char *error = data_sequence_error(session);

	bdat_expect(session, cmd->chunk_size, cmd->last, error);
	if (error == NULL && !session->trans->bdat_started) {
		session->trans->bdat_started = true;
		lmtp_stats_session_update(session->server->stats, session);
	}
}

/* bdat_chunk_done - the chunk's octets are all in */
static void bdat_chunk_done(struct lmtp_session *session)
{
	session->state = LMTP_STATE_COMMAND;
	if (session->bdat_discard) {
		session->bdat_discard = false;
		lmtp_session_reply(session, "%s", session->bdat_reply);
		return;
	}
	if (session->bdat_last) {
		lmtp_transaction_data_end(session);
		return;
	}
	lmtp_session_reply(session, "250 2.0.0 Added %llu octets",
			   (unsigned long long)session->bdat_size);
}

/* session_command_error - a line that did not parse; like Dovecot, the
   transaction state is checked before the parameters */
static void session_command_error(struct lmtp_session *session,
				  const struct lmtp_command_error *error)
{
	char reply[160];
	const char *tls_refusal = error->verb_known ?
		lmtp_tls_refusal(session, error->verb) : NULL;

	if (tls_refusal != NULL)
		snprintf(reply, sizeof(reply), "%s", tls_refusal);
	else if (error->verb_known && error->verb == LMTP_VERB_MAIL &&
		 session->trans != NULL)
		snprintf(reply, sizeof(reply), "503 5.5.0 MAIL already given");
	else if (error->verb_known && error->verb == LMTP_VERB_RCPT &&
		 session->trans == NULL)
		snprintf(reply, sizeof(reply), "503 5.5.0 MAIL needed first");
	else
		snprintf(reply, sizeof(reply), "%d %s%s%s", error->code,
			 error->enhanced, *error->enhanced == '\0' ? "" : " ",
			 error->text);
	if (error->bdat_skip > 0) {
		bdat_expect(session, error->bdat_skip, false, reply);
		return;
	}
	lmtp_session_reply(session, "%s", reply);
}

static void session_command(struct lmtp_session *session, const char *line,
			    size_t len)
{
	struct lmtp_command cmd;
	struct lmtp_command_error error;
	const char *tls_refusal;

	if (lmtp_command_parse(line, len, &cmd, &error) < 0) {
		session_command_error(session, &error);
		return;
	}
	tls_refusal = lmtp_tls_refusal(session, cmd.verb);
	if (tls_refusal != NULL) {
		/* a refused chunk's octets are read and dropped */
		if (cmd.verb == LMTP_VERB_BDAT)
			bdat_expect(session, cmd.chunk_size, false, tls_refusal);
		else
			lmtp_session_reply(session, "%s", tls_refusal);
		lmtp_command_clear(&cmd);
		return;
	}
	switch (cmd.verb) {
	case LMTP_VERB_LHLO: cmd_lhlo(session, &cmd); break;
	case LMTP_VERB_MAIL: cmd_mail(session, &cmd); break;
	case LMTP_VERB_RCPT: cmd_rcpt(session, &cmd); break;
	case LMTP_VERB_DATA: cmd_data(session); break;
	case LMTP_VERB_BDAT: cmd_bdat(session, &cmd); break;
	case LMTP_VERB_RSET:
		lmtp_transaction_free(session);
		lmtp_session_reply(session, "250 2.0.0 OK");
		break;
	case LMTP_VERB_NOOP:
		lmtp_session_reply(session, "250 2.0.0 OK");
		break;
	case LMTP_VERB_VRFY:
		lmtp_session_reply(session, "252 2.3.3 Try RCPT instead");
		break;
	case LMTP_VERB_QUIT:
		lmtp_session_reply(session, "221 2.0.0 Bye");
		session->quit = true;
		session->disconnect_reason = "Logged out";
		break;
	case LMTP_VERB_STARTTLS:
		lmtp_tls_cmd_starttls(session, cmd.param);
		break;
	case LMTP_VERB_AUTH:
		lmtp_session_reply(session, "502 5.5.1 Unsupported command");
		break;
	case LMTP_VERB_XCLIENT:
		cmd_xclient(session, cmd.param);
		break;
	}
	lmtp_command_clear(&cmd);
}

static void data_output(void *context, const void *data, size_t len)
{
	lmtp_transaction_data_append(context, data, len);
}

/* process_data - feed DATA input; true when more input may be handled */
static bool process_data(struct lmtp_session *session)
{
	bool done = false;
	size_t used = lmtp_data_decode(&session->decoder,
				       (const unsigned char *)session->in.data +
				       session->in_pos,
				       session->in.len - session->in_pos,
				       data_output, session, &done);

	session->in_pos += used;
	if (!done)
		return false;
	session->state = LMTP_STATE_COMMAND;
	lmtp_transaction_data_end(session);
	return true;
}

/* process_bdat - take chunk octets; true when the chunk is complete */
static bool process_bdat(struct lmtp_session *session)
{
	size_t avail = session->in.len - session->in_pos;
	size_t take = avail < session->bdat_remaining ? avail :
		(size_t)session->bdat_remaining;

	if (take > 0 && !session->bdat_discard)
		lmtp_transaction_data_append(session,
					     session->in.data + session->in_pos,
					     take);
	session->in_pos += take;
	session->bdat_remaining -= take;
	if (session->bdat_remaining > 0)
		return false;
	bdat_chunk_done(session);
	return true;
}

/* process_command_line - one complete line, or false when none is */
static bool process_command_line(struct lmtp_session *session)
{
	const char *start = session->in.data + session->in_pos;
	size_t avail = session->in.len - session->in_pos;
	const char *lf = memchr(start, '\n', avail);
	size_t len;

	if (lf == NULL) {
		if (avail > LMTP_MAX_LINE + 1) {
			/* drop it now; the reply comes with its LF */
			session->in_pos = session->in.len;
			session->skipping_long_line = true;
		}
		return false;
	}
	len = (size_t)(lf - start);
	session->in_pos += len + 1;
	if (len > 0 && start[len - 1] == '\r')
		len--;
	if (len > LMTP_MAX_LINE) {
		lmtp_session_reply(session, "500 5.5.2 Line too long");
		return true;
	}
	session_command(session, start, len);
	return true;
}

static void session_process_input(struct lmtp_session *session)
{
	bool progress = true;

	while (progress && !session->quit && !session->destroyed &&
	       !session->starttls_pending) {
		switch (session->state) {
		case LMTP_STATE_WAIT:
			progress = false;
			break;
		case LMTP_STATE_DATA:
			progress = process_data(session);
			break;
		case LMTP_STATE_BDAT:
			progress = process_bdat(session);
			break;
		case LMTP_STATE_COMMAND:
			progress = process_command_line(session);
			break;
		}
	}
	if (session->destroyed)
		return;
	if (session->starttls_pending && session->in_pos < session->in.len) {
		/* plaintext sent after STARTTLS never counts as a command */
		log_info("STARTTLS: discarding %zu bytes sent before the TLS "
			 "handshake", session->in.len - session->in_pos);
		session->in_pos = session->in.len;
		session->skipping_long_line = false;
	}
	/* compact: keep only unconsumed input */
	if (session->in_pos > 0) {
		memmove(session->in.data, session->in.data + session->in_pos,
			session->in.len - session->in_pos);
		strbuf_truncate(&session->in, session->in.len - session->in_pos);
		session->in_pos = 0;
	}
	if (session->input_closed && session->state != LMTP_STATE_WAIT &&
	    session->trans != NULL && session->disconnect_reason != NULL) {
		/* gone mid-transaction: the spooled data is dropped unsaved */
		lmtp_transaction_free(session);
	}
}

void lmtp_session_resume(struct lmtp_session *session)
{
	session_log_context(session);
	session->state = LMTP_STATE_COMMAND;
	if (session->destroyed) {
		lmtp_session_destroy(session, NULL);
		return;
	}
	if (session->kicked) {
		lmtp_session_kick(session);
		return;
	}
	if (session->server->shutting_down && session->trans == NULL &&
	    !session->quit) {
		/* 421 and close: that may free the session, so nothing more
		   here (lmtp_session_shutdown arms the io itself) */
		lmtp_session_shutdown(session, session->server->shutdown_now);
		return;
	}
	session_process_input(session);
	if (session->destroyed)
		return;
	session_after_work(session);
}

void lmtp_session_shutdown(struct lmtp_session *session, bool now)
{
	if (session->destroyed || session->quit)
		return;
	if (session->state == LMTP_STATE_WAIT)
		return; /* resume calls us again once the job is done */
	if (!now && session->trans != NULL)
		return; /* finishes its transaction first */
	session_log_context(session);
	session_end_421(session, "4.3.2", "Service shutting down",
			"Service shutting down");
	session_after_work(session);
}

void lmtp_session_kick(struct lmtp_session *session)
{
	if (session->destroyed || session->quit)
		return;
	session->kicked = true;
	if (session->state == LMTP_STATE_WAIT)
		return; /* resume comes back here once the job has answered */
	session_log_context(session);
	session_end_421(session, "4.3.2", "Session terminated by administrator",
			"Kicked by administrator");
	session_after_work(session);
}

void lmtp_session_create(struct lmtp_server *server, int fd_in, int fd_out,
			 const char *peer_ip, unsigned int peer_port,
			 unsigned int flags)
{
	struct lmtp_session *session = xcalloc(1, sizeof(*session));

	session->server = server;
	session->start_usecs = clock_realtime_usecs();
	session_id_generate(session->id);
	memcpy(session->trans_base, session->id, sizeof(session->trans_base));
	session->fd_in = fd_in;
	session->fd_out = fd_out;
	snprintf(session->peer_ip, sizeof(session->peer_ip), "%s",
		 peer_ip != NULL ? peer_ip : "local");
	session->peer_port = peer_port;
	session->local = (flags & LMTP_SESSION_LOCAL) != 0;
	/* Dovecot's rule: decided once, by the connecting address, so a
	   proxy may send XCLIENT again for its next transaction */
	session->trusted = peer_ip != NULL &&
		cidr_list_match(server->set->login_trusted_networks, peer_ip);
	strbuf_init(&session->in, 4096);
	strbuf_init(&session->out, 1024);
	session->io_in = evloop_add_io(server->loop, fd_in, EVLOOP_READ,
				       session_io_callback, session);
	session->io_out = fd_out == fd_in ? session->io_in :
		evloop_add_io(server->loop, fd_out, 0, session_io_callback,
			      session);
	session->idle_timer = evloop_add_timer(server->loop,
					       server->set->lmtp_client_idle_timeout,
					       session_idle_timeout, session);
	session->next = server->sessions;
	if (server->sessions != NULL)
		server->sessions->prev = session;
	server->sessions = session;
	server->session_count++;

	session_log_context(session);
	log_info("Connect from %s", session->peer_ip);
	lmtp_stats_session_start(server->stats, session);
	if ((flags & LMTP_SESSION_TLS) != 0)
		lmtp_tls_begin(session); /* the greeting waits for it */
	lmtp_session_reply(session, "220 %s loft ready.", server->hostname);
	session_after_work(session);
}

void lmtp_session_destroy(struct lmtp_session *session, const char *reason)
{
	struct lmtp_server *server = session->server;

	if (!session->destroyed) {
		session->destroyed = true;
		session_log_context(session);
		if (session->tls_handshaking)
			lmtp_tls_abandoned(session, reason != NULL ? reason :
					   "Connection closed");
		log_info("Disconnect from %s: %s (state=%s)", session->peer_ip,
			 reason != NULL ? reason : "Connection closed",
			 lmtp_session_state_name(session));
		lmtp_stats_session_end(server->stats, session);
		if (session->io_out != session->io_in)
			evloop_remove_io(&session->io_out);
		evloop_remove_io(&session->io_in);
		session->io_out = NULL;
		if (session->idle_timer != NULL)
			evloop_remove_timer(&session->idle_timer);
		tls_conn_free(&session->tls);
		close(session->fd_in);
		if (session->fd_out != session->fd_in)
			close(session->fd_out);
	}
	if (session->state == LMTP_STATE_WAIT)
		return; /* the job's done callback frees us */
	lmtp_transaction_free(session);
	lmtp_stats_forget_session(server->stats, session);
	if (session->prev != NULL)
		session->prev->next = session->next;
	else
		server->sessions = session->next;
	if (session->next != NULL)
		session->next->prev = session->prev;
	server->session_count--;
	strbuf_free(&session->in);
	strbuf_free(&session->out);
	free(session->lhlo);
	free(session);
	lmtp_server_session_gone(server, NULL);
}
