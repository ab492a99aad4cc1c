/*
 * lmtp_transaction - one MAIL..DATA transaction of an LMTP session: the
 * recipients (looked up at RCPT, on the workpool), the spooled message
 * and the delivery job that stores it for every recipient and answers
 * each one in order.
 *
 * Ids follow Dovecot: the session id (or the one a trusted proxy forwarded
 * with XCLIENT SESSION), ":T<n>" from the second transaction on, ":R<n>"
 * from the second RCPT on (counting refused ones); an exact duplicate
 * recipient is stored once and answered twice with the first
 * one's id. With one recipient the copy gets Delivered-To and a Received
 * "for" clause; with more, every copy has the same bytes, so maildir copies
 * after the first are hard links where the file system and owners allow.
 * The delivery job runs on a worker thread; when the process runs as root
 * that thread alone takes the recipient's uid/gid while it writes.
 */
#include "lmtp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lmtp_proxy.h"
#include "log.h"
#include "privileges.h"
#include "userdb.h"

/* how long a backend may take to connect or answer a command, unless
   the user's proxy_timeout field says otherwise */
#define LMTP_PROXY_TIMEOUT_MSECS (30 * 1000)

struct rcpt_lookup_job {
	struct lmtp_session *session;
	const struct loft_settings *set;
	char *address, *lookup, *detail, *orcpt;
	char id[SESSION_ID_BUFSIZE + 16];
	struct delivery_user *user;
	struct outcome outcome;
	int ret;
	/* lmtp_proxy = yes: the transaction's backends, and the index the
	   recipient will have */
	struct lmtp_proxy *proxy;
	size_t index;
	unsigned int proxy_ttl_plus_1;	/* the session's (lmtp_private.h) */
	bool proxied;
	char *backend;		/* proxied: "host:port" */
	struct lmtp_proxy_answer backend_answer;
};

struct delivery_job {
	struct lmtp_session *session;
	struct lmtp_transaction *trans;
	const struct loft_settings *set;
	char *received;		/* Received: header(s) for all copies */
	char *received_for;	/* with the "for" clause (one recipient) */
};

/* Work done with a recipient's identity, on a worker thread. */
typedef void as_user_work_t(void *context);
static void as_user(const struct loft_settings *set,
		    const struct delivery_user *user, const char *session_id,
		    struct outcome *out, as_user_work_t *work, void *context);

unsigned int lmtp_transaction_accepted(const struct lmtp_transaction *trans)
{
	return (unsigned int)trans->rcpt_count;
}

void lmtp_transaction_begin(struct lmtp_session *session, const char *from)
{
	struct lmtp_transaction *trans = xcalloc(1, sizeof(*trans));

	trans->number = ++session->transaction_count;
	if (trans->number == 1)
		snprintf(trans->id, sizeof(trans->id), "%s", session->trans_base);
	else
		snprintf(trans->id, sizeof(trans->id), "%s:T%u", session->trans_base,
			 trans->number);
	trans->mail_from = xstrdup(from);
	trans->start_mono_usecs = clock_monotonic_usecs();
	session->trans = trans;
}

static void recipient_free(struct lmtp_recipient *rcpt)
{
	free(rcpt->address);
	free(rcpt->orcpt);
	free(rcpt->detail);
	free(rcpt->backend);
	delivery_user_free(&rcpt->user);
}

void lmtp_transaction_free(struct lmtp_session *session)
{
	struct lmtp_transaction *trans = session->trans;

	if (trans == NULL)
		return;
	session->trans = NULL;
	for (size_t i = 0; i < trans->rcpt_count; i++) {
		const struct lmtp_recipient *rcpt = &trans->rcpts[i];

		if (rcpt->duplicate_of < 0 && rcpt->user != NULL &&
		    !rcpt->proxied &&
		    session->server->set->lmtp_user_concurrency_limit > 0)
			lmtp_stats_concurrency_release(session->server->stats,
						       session,
						       rcpt->user->username);
	}
	for (size_t i = 0; i < trans->rcpt_count; i++)
		recipient_free(&trans->rcpts[i]);
	free(trans->rcpts);
	free(trans->mail_from);
	message_free(&trans->msg);
	lmtp_proxy_free(&trans->proxy);
	free(trans);
	if (!session->destroyed)
		lmtp_stats_session_update(session->server->stats, session);
}

/* split_detail - "user+detail@domain" -> lookup "user@domain" and the
   detail, by the first recipient_delimiter character in the local part */
static void split_detail(const char *address, const char *delimiters,
			 char **lookup_r, char **detail_r)
{
	const char *at = strrchr(address, '@');
	size_t local_len = at != NULL ? (size_t)(at - address) : strlen(address);
	size_t pos = local_len;

	*detail_r = NULL;
	if (*delimiters != '\0') {
		for (size_t i = 0; i < local_len; i++) {
			if (strchr(delimiters, address[i]) != NULL) {
				pos = i;
				break;
			}
		}
	}
	if (pos == local_len) {
		*lookup_r = xstrdup(address);
		return;
	}
	*detail_r = xstrndup(address + pos + 1, local_len - pos - 1);
	*lookup_r = xasprintf("%.*s%s", (int)pos, address,
			      at != NULL ? at : "");
}

/* rcpt_proxy_loops - whether route would loop: back to this server (the
   same user), or on with no hops left (XCLIENT TTL=0); then a 451 4.4.6
   in job. Dovecot
   answers 554 5.4.6; a loop is a configuration error to mend, so the mail
   waits for it. */
static bool rcpt_proxy_loops(struct rcpt_lookup_job *job,
			     const struct lmtp_proxy_route *route)
{
	/* as Dovecot: a renamed user may be routed back here */
	bool renamed = route->destuser != NULL &&
		strcmp(route->destuser, job->address) != 0;
	const char *why = !renamed && lmtp_proxy_route_is_self(job->proxy, route) ?
		"loops to itself" : job->proxy_ttl_plus_1 == 1 ?
		"appears to be looping (TTL=0)" : NULL;

	if (why == NULL)
		return false;
	log_error("Proxying to <%s> %s", job->address, why);
	outcome_tempfail(&job->outcome, "4.4.6", "<%s> Proxying %s",
			 job->address, why);
	job->ret = -1;
	return true;
}

/* rcpt_proxy - a user the userdb routes to a backend: RCPT there (on
   the worker thread); job->ret 1 when the backend accepted, else -1 with
   its answer (or a 451) in job->outcome */
static void rcpt_proxy(struct rcpt_lookup_job *job)
{
	struct lmtp_proxy_route route;
	const char *error;
	int ret = lmtp_proxy_route_get(job->user, LMTP_PROXY_TIMEOUT_MSECS,
				       &route, &error);

	if (ret == 0)
		return;
	job->proxied = true;
	if (ret < 0) {
		log_error("user %s: %s", job->user->username, error);
		outcome_tempfail(&job->outcome, "4.3.0",
				 "Temporary user lookup failure");
		job->ret = -1;
		return;
	}
	if (rcpt_proxy_loops(job, &route)) {
		lmtp_proxy_route_free(&route);
		return;
	}
	job->backend = lmtp_proxy_route_name(&route);
	job->ret = lmtp_proxy_rcpt(job->proxy, &route, job->index,
				   route.destuser != NULL ? route.destuser :
				   job->address, &job->outcome,
				   &job->backend_answer) ? 1 : -1;
	lmtp_proxy_route_free(&route);
}

/* rcpt_quota_work - lmtp_rcpt_check_quota, for as_user: a refusal
   fills job->outcome */
static void rcpt_quota_work(void *context)
{
	struct rcpt_lookup_job *job = context;

	(void)delivery_quota_rcpt_check(job->set, job->user, &job->outcome);
}

static void rcpt_lookup_work(void *context)
{
	struct rcpt_lookup_job *job = context;

	log_set_session(job->id);
	log_set_user(job->lookup);
	log_set_thread_debug(lmtp_stats_debug_user(job->session->server->stats,
						   job->lookup));
	job->ret = delivery_user_find(job->set, job->lookup, &job->user,
				      &job->outcome);
	if (job->ret == 1 && job->proxy != NULL)
		rcpt_proxy(job);
	if (job->ret == 1 && !job->proxied)
		job->ret = delivery_user_resolve(job->set, &job->user,
						 &job->outcome);
	if (job->ret == 1 && !job->proxied &&
	    job->set->lmtp_rcpt_check_quota && job->user->quota != NULL) {
		/* anything but SAVED afterwards is the refusal */
		job->outcome.result = OUTCOME_SAVED;
		as_user(job->set, job->user, job->id, &job->outcome,
			rcpt_quota_work, job);
		if (job->outcome.result != OUTCOME_SAVED)
			job->ret = -1;
	}
	log_set_thread_debug(false);
}

static void rcpt_lookup_job_free(struct rcpt_lookup_job *job)
{
	free(job->address);
	free(job->lookup);
	free(job->detail);
	free(job->orcpt);
	free(job->backend);
	delivery_user_free(&job->user);
	free(job);
}

/* rcpt_accept - add the recipient to the transaction; a duplicate
   (duplicate_of >= 0) takes the id of the recipient it repeats, id is
   used otherwise. The id is copied before the array grows: it may not
   point into trans->rcpts. */
static void rcpt_accept(struct lmtp_transaction *trans, const char *id,
			char *address, char *detail, char *orcpt,
			struct delivery_user *user, int duplicate_of,
			bool proxied, char *backend,
			const struct lmtp_proxy_answer *answer)
{
	struct lmtp_recipient *rcpt;
	char id_copy[sizeof(rcpt->id)];

	snprintf(id_copy, sizeof(id_copy), "%s", duplicate_of < 0 ? id :
		 trans->rcpts[duplicate_of].id);
	if (trans->rcpt_count == trans->rcpt_cap) {
		trans->rcpt_cap = trans->rcpt_cap == 0 ? 4 : trans->rcpt_cap * 2;
		trans->rcpts = xreallocarray(trans->rcpts, trans->rcpt_cap,
					     sizeof(*trans->rcpts));
	}
	rcpt = &trans->rcpts[trans->rcpt_count++];
	memset(rcpt, 0, sizeof(*rcpt));
	memcpy(rcpt->id, id_copy, sizeof(rcpt->id));
	rcpt->address = address;
	rcpt->detail = detail;
	rcpt->orcpt = orcpt;
	rcpt->user = user;
	rcpt->duplicate_of = duplicate_of;
	rcpt->proxied = proxied;
	rcpt->backend = backend;
	if (answer != NULL)
		rcpt->backend_answer = *answer;
}

/* rcpt_request - the delivery request of one recipient of trans: what
   its delivery record (log line, loft-stats, journal) says */
static void rcpt_request(const struct lmtp_transaction *trans, const char *id,
			 const char *user, const char *address,
			 const char *orcpt, struct delivery_request *req_r)
{
	memset(req_r, 0, sizeof(*req_r));
	req_r->protocol = "lmtp";
	req_r->session_id = id;
	req_r->user = user;
	req_r->envelope_sender = trans->mail_from;
	req_r->return_path = true;
	req_r->rcpt = address;
	req_r->orig_rcpt = orcpt != NULL ? orcpt : address;
	req_r->start_mono_usecs = trans->start_mono_usecs;
}

/* rcpt_record - the delivery record of a recipient whose outcome was
   decided without a delivery (refused at RCPT, or the whole message
   refused at the end of DATA) */
static void rcpt_record(struct lmtp_session *session, const char *id,
			const char *user, const char *address,
			const char *orcpt, const struct outcome *out,
			const char *backend,
			const struct lmtp_proxy_answer *answer)
{
	struct delivery_request req;

	rcpt_request(session->trans, id, user, address, orcpt, &req);
	req.proxy_backend = backend;
	req.proxy_backend_up = answer != NULL && answer->answered;
	req.proxy_backend_seconds = answer != NULL && answer->answered ?
		answer->seconds : 0;
	log_set_session(id);
	log_set_user(user);
	delivery_log(session->server->set, &req, NULL, NULL, 0, 0, out,
		     out->text);
	log_set_user(NULL);
	log_set_session(session->id);
}

/* rcpt_refuse - record and answer a recipient refused at RCPT */
static void rcpt_refuse(struct lmtp_session *session, const char *id,
			const char *user, const char *address,
			const char *orcpt, const struct outcome *out)
{
	rcpt_record(session, id, user, address, orcpt, out, NULL, NULL);
	lmtp_session_reply(session, "%d %s <%s> %s", out->code, out->enhanced,
			   address, out->text);
}

/* rcpt_job_done - reply for the job and go on with the session */
static void rcpt_job_done(struct rcpt_lookup_job *job, bool accepted)
{
	struct lmtp_session *session = job->session;

	if (!session->destroyed && session->trans != NULL) {
		log_set_session(job->id);
		if (accepted) {
			rcpt_accept(session->trans, job->id, job->address,
				    job->detail, job->orcpt, job->user, -1,
				    job->proxied, job->backend,
				    &job->backend_answer);
			job->address = job->detail = job->orcpt = NULL;
			job->backend = NULL;
			job->user = NULL;
			lmtp_stats_session_update(session->server->stats, session);
			lmtp_session_reply(session, "250 2.1.5 OK");
		} else if (job->proxied) {
			/* the backend's own words, as Dovecot relays them */
			rcpt_record(session, job->id, job->lookup, job->address,
				    job->orcpt, &job->outcome, job->backend,
				    &job->backend_answer);
			lmtp_session_reply(session, "%d %s %s",
					   job->outcome.code,
					   job->outcome.enhanced,
					   job->outcome.text);
		} else {
			rcpt_refuse(session, job->id, job->lookup,
				    job->address, job->orcpt, &job->outcome);
		}
	}
	rcpt_lookup_job_free(job);
	lmtp_session_resume(session);
}

/* rcpt_concurrency_done - loft-stats' answer for the user's slot */
static void rcpt_concurrency_done(bool allowed, unsigned int current,
				  void *context)
{
	struct rcpt_lookup_job *job = context;

	if (!allowed) {
		log_set_session(job->id);
		log_info("%s: %u deliveries in progress, limit %u",
			 job->user->username, current,
			 job->set->lmtp_user_concurrency_limit);
		outcome_set(&job->outcome, OUTCOME_TEMPFAIL,
			    OUTCOME_REASON_CONCURRENCY, 451, "4.3.0",
			    "Too many concurrent deliveries for user");
	}
	rcpt_job_done(job, allowed);
}

static void rcpt_lookup_done(void *context)
{
	struct rcpt_lookup_job *job = context;
	struct lmtp_session *session = job->session;

	/* a relayed recipient's concurrency is its backend's business */
	if (job->proxied) {
		rcpt_job_done(job, job->ret == 1);
		return;
	}
	if (job->ret == 1 && !session->destroyed && session->trans != NULL) {
		lmtp_stats_concurrency_acquire(session->server->stats, session,
					       job->user->username,
					       job->set->lmtp_user_concurrency_limit,
					       rcpt_concurrency_done, job);
		return;
	}
	rcpt_job_done(job, false);
}

/* transaction_proxy_create - the transaction's backends, forwarding
   the client, the transaction id and one hop less to them */
static void transaction_proxy_create(struct lmtp_session *session)
{
	unsigned int ttl_plus_1 = session->proxy_ttl_plus_1, local_port;
	char local_ip[64];
	struct lmtp_proxy_origin origin = {
		.client_ip = strcmp(session->peer_ip, "local") == 0 ? NULL :
			session->peer_ip,
		.client_port = session->peer_port,
		.trans_id = session->trans->id,
		.ttl = ttl_plus_1 == 0 ? LMTP_PROXY_DEFAULT_TTL :
			ttl_plus_1 >= 2 ? ttl_plus_1 - 2 : 0,
	};

	lmtp_server_socket_address(session->fd_in, false, local_ip,
				   sizeof(local_ip), &local_port);
	origin.local_ip = local_ip;
	origin.local_port = local_port;

	session->trans->proxy = lmtp_proxy_create(session->trans->mail_from,
						  session->server->hostname,
						  &origin);
}

void lmtp_transaction_rcpt(struct lmtp_session *session, const char *address,
			   const char *orcpt)
{
	struct lmtp_transaction *trans = session->trans;
	unsigned int max = session->server->set->lmtp_max_recipients;
	struct rcpt_lookup_job *job;
	char id[sizeof(job->id)];

	trans->rcpt_commands++;
	if (trans->rcpt_commands == 1)
		snprintf(id, sizeof(id), "%s", trans->id);
	else
		snprintf(id, sizeof(id), "%s:R%u", trans->id,
			 trans->rcpt_commands);
	if (max > 0 && trans->rcpt_count >= max) {
		struct outcome out;

		outcome_set(&out, OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER, 452,
			    "4.5.3", "Too many recipients");
		rcpt_record(session, id, address, address, orcpt, &out, NULL,
			    NULL);
		lmtp_session_reply(session, "452 4.5.3 Too many recipients");
		return;
	}
	for (size_t i = 0; i < trans->rcpt_count; i++) {
		if (strcmp(trans->rcpts[i].address, address) == 0) {
			/* stored once, answered twice, with the first id */
			rcpt_accept(trans, NULL, xstrdup(address),
				    NULL, orcpt == NULL ? NULL : xstrdup(orcpt),
				    NULL, (int)i, trans->rcpts[i].proxied, NULL,
				    NULL);
			lmtp_session_reply(session, "250 2.1.5 OK");
			return;
		}
	}
	job = xcalloc(1, sizeof(*job));
	job->session = session;
	job->set = session->server->set;
	job->address = xstrdup(address);
	job->orcpt = orcpt == NULL ? NULL : xstrdup(orcpt);
	snprintf(job->id, sizeof(job->id), "%s", id);
	split_detail(address, job->set->recipient_delimiter, &job->lookup,
		     &job->detail);
	if (job->set->lmtp_proxy) {
		if (trans->proxy == NULL)
			transaction_proxy_create(session);
		job->proxy = trans->proxy;
		job->proxy_ttl_plus_1 = session->proxy_ttl_plus_1;
		job->index = trans->rcpt_count;
	}
	session->state = LMTP_STATE_WAIT;
	workpool_submit(session->server->pool, rcpt_lookup_work,
			rcpt_lookup_done, job);
}

void lmtp_transaction_data_append(struct lmtp_session *session,
				  const void *data, size_t len)
{
	struct lmtp_transaction *trans = session->trans;
	uint64_t max = session->server->set->lmtp_max_message_size;
	const char *error;

	if (trans == NULL || trans->too_big || trans->spool_failed)
		return;
	trans->data_size += len;
	if (max > 0 && trans->data_size > max) {
		/* keep reading to the end, store nothing */
		trans->too_big = true;
		message_free(&trans->msg);
		return;
	}
	if (trans->msg == NULL)
		trans->msg = message_create(session->server->set->mail_temp_dir);
	if (message_append(trans->msg, data, len, &error) < 0) {
		log_error("spooling the message failed: %s", error);
		trans->spool_failed = true;
		message_free(&trans->msg);
	}
}

/* reply_outcomes - one reply per accepted recipient, in order, from its
   outcome (a duplicate answers with the outcome and id of the first) */
static void reply_outcomes(struct lmtp_session *session,
			   const struct lmtp_transaction *trans)
{
	for (size_t i = 0; i < trans->rcpt_count; i++) {
		const struct lmtp_recipient *rcpt = &trans->rcpts[i];
		const struct lmtp_recipient *src = rcpt->duplicate_of >= 0 ?
			&trans->rcpts[rcpt->duplicate_of] : rcpt;

		if (src->proxied)
			lmtp_session_reply(session, "%d %s %s",
					   src->outcome.code,
					   src->outcome.enhanced,
					   src->outcome.text);
		else if (src->outcome.result == OUTCOME_SAVED)
			lmtp_session_reply(session, "250 2.0.0 <%s> %s Saved",
					   rcpt->address, src->id);
		else
			lmtp_session_reply(session, "%d %s <%s> %s",
					   src->outcome.code,
					   src->outcome.enhanced,
					   rcpt->address, src->outcome.text);
	}
}

/* transaction_record_all - every accepted recipient gets out, recorded
   like a delivery (log line, loft-stats, journal) */
static void transaction_record_all(struct lmtp_session *session,
				   const struct outcome *out)
{
	struct lmtp_transaction *trans = session->trans;

	for (size_t i = 0; i < trans->rcpt_count; i++) {
		struct lmtp_recipient *rcpt = &trans->rcpts[i];

		/* the proxy's own answer: the backend was up at RCPT, its
		   time then is not this reply's */
		struct lmtp_proxy_answer up = { .answered = true };

		rcpt->outcome = *out;
		if (rcpt->duplicate_of < 0)
			rcpt_record(session, rcpt->id, rcpt->user->username,
				    rcpt->address, rcpt->orcpt, out,
				    rcpt->backend, rcpt->backend != NULL ?
				    &up : NULL);
	}
}

/* transaction_refuse - the whole message refused at the end of DATA:
   every accepted recipient gets out, recorded, and its reply; the
   transaction ends */
static void transaction_refuse(struct lmtp_session *session,
			       const struct outcome *out)
{
	transaction_record_all(session, out);
	reply_outcomes(session, session->trans);
	lmtp_transaction_free(session);
}

void lmtp_transaction_abort(struct lmtp_session *session,
			    const struct outcome *out)
{
	if (session->trans == NULL)
		return;
	transaction_record_all(session, out);
	lmtp_transaction_free(session);
}

/* transaction_spool_failed - a temporary failure for every recipient:
   the message could not be spooled, nothing is stored */
static void transaction_spool_failed(struct lmtp_session *session)
{
	struct outcome out;

	outcome_set(&out, OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER, 451, "4.3.0",
		    "Temporary failure spooling the message");
	transaction_refuse(session, &out);
}

/* rfc2822_date - "Sun, 22 Nov 2026 00:09:42 +0000" */
static void rfc2822_date(char *buf, size_t size)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	long off;

	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* received_header - Dovecot's Received: line; for_rcpt NULL omits "for" */
static char *received_header(const struct lmtp_session *session,
			     const struct lmtp_transaction *trans,
			     const char *for_rcpt)
{
	char date[64], from[600];
	const char *lhlo = session->lhlo != NULL ? session->lhlo : "unknown";

	rfc2822_date(date, sizeof(date));
	if (strcmp(session->peer_ip, "local") == 0)
		snprintf(from, sizeof(from), "%s", lhlo);
	else
		snprintf(from, sizeof(from), "%s ([%s])", lhlo, session->peer_ip);
	if (for_rcpt == NULL)
		return xasprintf("Received: from %s\n\tby %s with LMTP\n\tid %s\n"
				 "\t(envelope-from <%s>); %s\n", from,
				 session->server->hostname, trans->id,
				 trans->mail_from, date);
	return xasprintf("Received: from %s\n\tby %s with LMTP\n\tid %s\n"
			 "\t(envelope-from <%s>)\n\tfor <%s>; %s\n", from,
			 session->server->hostname, trans->id,
			 trans->mail_from, for_rcpt, date);
}

/* as_user - run work as user: when the process runs as root this thread
   alone takes the user's uid/gid for it; otherwise the user must be the
   process's own uid. out gets a 4xx when the identity cannot be taken. */
static void as_user(const struct loft_settings *set,
		    const struct delivery_user *user, const char *session_id,
		    struct outcome *out, as_user_work_t *work, void *context)
{
	gid_t saved_gid = user->gid;
	const char *error;

	if (geteuid() != 0) {
		if (user->have_uid && user->uid != geteuid()) {
			log_error("user %s has uid %u but loft-lmtp runs as uid %u "
				  "and cannot switch", user->username,
				  (unsigned int)user->uid, (unsigned int)geteuid());
			outcome_tempfail(out, "4.3.0",
					 "Internal error occurred. Refer to server log for more information. [%s]",
					 session_id);
			return;
		}
		work(context);
		return;
	}
	if (delivery_user_check_ids(set, user, out) < 0)
		return;
	if (*set->mail_privileged_group != '\0') {
		unsigned int pgid;

		if (userdb_resolve_gid(set->mail_privileged_group, &pgid,
				       &error) < 0) {
			log_error("mail_privileged_group: %s", error);
			outcome_tempfail(out, "4.3.0",
					 "Internal error occurred. Refer to server log for more information. [%s]",
					 session_id);
			return;
		}
		saved_gid = (gid_t)pgid;
	}
	if (privileges_thread_assume(user->uid, user->gid, saved_gid, &error) < 0) {
		log_error("%s", error);
		outcome_tempfail(out, "4.3.0",
				 "Internal error occurred. Refer to server log for more information. [%s]",
				 session_id);
		(void)privileges_thread_restore(&error);
		return;
	}
	work(context);
	if (privileges_thread_restore(&error) < 0)
		log_panic("cannot return to root after a delivery: %s", error);
}

/* delivery_relay - the message to the backends of the proxied
   recipients, their answers recorded (on the worker thread) */
static void delivery_relay(struct delivery_job *job)
{
	struct lmtp_transaction *trans = job->trans;
	struct outcome **outs = xcalloc(trans->rcpt_count, sizeof(*outs));
	struct lmtp_proxy_answer *answers = xcalloc(trans->rcpt_count,
						    sizeof(*answers));

	for (size_t i = 0; i < trans->rcpt_count; i++)
		outs[i] = &trans->rcpts[i].outcome;
	lmtp_proxy_data(trans->proxy, trans->msg, job->received != NULL ?
			job->received : "", outs, answers);
	free(outs);
	for (size_t i = 0; i < trans->rcpt_count; i++) {
		struct lmtp_recipient *rcpt = &trans->rcpts[i];

		if (!rcpt->proxied || rcpt->duplicate_of >= 0)
			continue;
		rcpt->backend_answer = answers[i];
		rcpt_record(job->session, rcpt->id, rcpt->user->username,
			    rcpt->address, rcpt->orcpt, &rcpt->outcome,
			    rcpt->backend, &rcpt->backend_answer);
	}
	free(answers);
}

/* One recipient's delivery, for as_user. */
struct deliver_work {
	const struct loft_settings *set;
	const struct delivery_user *user;
	const struct delivery_request *req;
	struct message *msg;
	struct outcome *out;
	char **saved_path_r;
};

static void deliver_work(void *context)
{
	struct deliver_work *w = context;

	delivery_deliver(w->set, w->user, w->req, w->msg, w->out,
			 w->saved_path_r);
}

/* deliver_as_user - one recipient, on a worker thread */
static void deliver_as_user(const struct loft_settings *set,
			    const struct lmtp_recipient *rcpt,
			    const struct delivery_request *req,
			    struct message *msg, struct outcome *out,
			    char **saved_path_r)
{
	struct deliver_work w = {
		.set = set, .user = rcpt->user, .req = req, .msg = msg,
		.out = out, .saved_path_r = saved_path_r,
	};

	*saved_path_r = NULL;
	as_user(set, rcpt->user, req->session_id, out, deliver_work, &w);
}

static void delivery_work(void *context)
{
	struct delivery_job *job = context;
	struct lmtp_transaction *trans = job->trans;
	const struct loft_settings *set = job->set;
	bool single = trans->rcpt_count == 1;
	char *link_path = NULL;
	uid_t link_uid = 0;

	for (size_t i = 0; i < trans->rcpt_count; i++) {
		struct lmtp_recipient *rcpt = &trans->rcpts[i];
		struct delivery_request req;
		char *saved = NULL;

		if (rcpt->duplicate_of >= 0 || rcpt->proxied)
			continue;
		log_set_session(rcpt->id);
		log_set_user(rcpt->user->username);
		log_set_thread_debug(lmtp_stats_debug_user(job->session->server->stats,
							   rcpt->user->username));
		rcpt_request(trans, rcpt->id, rcpt->user->username,
			     rcpt->address, rcpt->orcpt, &req);
		if (set->lmtp_save_to_detail_mailbox && rcpt->detail != NULL &&
		    *rcpt->detail != '\0')
			req.mailbox = rcpt->detail;
		req.autocreate = set->lda_mailbox_autocreate;
		req.autosubscribe = set->lda_mailbox_autosubscribe;
		req.fallback_to_inbox = true;
		/* as_user stores as the user's uid, or (not root) as ours */
		req.have_uid = true;
		req.uid = rcpt->user->have_uid ? rcpt->user->uid : geteuid();
		if (single && strcmp(set->lmtp_hdr_delivery_address, "none") != 0)
			req.delivered_to = strcmp(set->lmtp_hdr_delivery_address,
						  "original") == 0 ?
				req.orig_rcpt : rcpt->address;
		req.extra_headers = single ? job->received_for : job->received;
		/* every copy has the same bytes: link when the owner matches */
		if (!single && link_path != NULL &&
		    (!rcpt->user->have_uid || rcpt->user->uid == link_uid))
			req.link_source = link_path;
		deliver_as_user(set, rcpt, &req, trans->msg, &rcpt->outcome,
				&saved);
		if (saved != NULL && link_path == NULL) {
			link_path = saved;
			link_uid = rcpt->user->have_uid ? rcpt->user->uid : 0;
		} else {
			free(saved);
		}
	}
	free(link_path);
	log_set_thread_debug(false);
	log_set_user(NULL);
	if (trans->proxy != NULL)
		delivery_relay(job);
}

static void delivery_done(void *context)
{
	struct delivery_job *job = context;
	struct lmtp_session *session = job->session;
	struct lmtp_transaction *trans = job->trans;

	if (!session->destroyed) {
		log_set_session(session->id);
		reply_outcomes(session, trans);
	}
	lmtp_transaction_free(session);
	free(job->received);
	free(job->received_for);
	free(job);
	lmtp_session_resume(session);
}

void lmtp_transaction_data_end(struct lmtp_session *session)
{
	struct lmtp_transaction *trans = session->trans;
	const struct loft_settings *set = session->server->set;
	struct delivery_job *job;
	const char *error;

	if (trans->too_big) {
		struct outcome out;

		outcome_set(&out, OUTCOME_REJECTED, OUTCOME_REASON_SIZE, 552,
			    "5.3.4", "Message size exceeds fixed maximum message size");
		transaction_refuse(session, &out);
		return;
	}
	if (trans->spool_failed) {
		transaction_spool_failed(session);
		return;
	}
	if (trans->msg == NULL)
		trans->msg = message_create(set->mail_temp_dir);
	if (message_finish(trans->msg, &error) < 0) {
		log_error("spooling the message failed: %s", error);
		transaction_spool_failed(session);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->session = session;
	job->trans = trans;
	job->set = set;
	if (set->lmtp_add_received_header) {
		job->received = received_header(session, trans, NULL);
		if (trans->rcpt_count == 1)
			job->received_for = received_header(session, trans,
							    trans->rcpts[0].address);
	}
	session->state = LMTP_STATE_WAIT;
	workpool_submit(session->server->pool, delivery_work, delivery_done, job);
}
