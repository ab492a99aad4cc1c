/*
 * delivery_sieve_send - redirect and vacation mail (see
 * delivery_sieve_send.h).
 */
#include "delivery_sieve_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "delivery_dupes.h"
#include "log.h"
#include "mail_header.h"
#include "mail_submit.h"
#include "sieve.h"
#include "sieve_vacation.h"
#include "var_expand.h"
#include "xalloc.h"

/* header - the first value of name in msg, or NULL */
static const char *header(const struct sieve_message *msg, const char *name)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, name) == 0)
			return msg->headers[i].value;
	}
	return NULL;
}

/* the fields redirect does not pass on */
static const char *const redirect_hidden[] = {
	"Return-Path", "X-Sieve", "X-Sieve-Redirected-From", NULL,
};
/* the field a rejection does not quote (Dovecot: the body is not there) */
static const char *const reject_hidden[] = { "Content-Type", NULL };

/* hidden - a field named in names (NULL-terminated) */
static bool hidden(const char *line, size_t len, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		size_t n = strlen(names[i]);

		if (len > n && strncasecmp(line, names[i], n) == 0 &&
		    (line[n] == ':' || line[n] == ' ' || line[n] == '\t'))
			return true;
	}
	return false;
}

/* filtered - the message's header without the fields names lists (and
   their continuation lines) appended to out, then its body when body */
static void filtered(const struct sieve_message *msg,
		     const char *const *names, bool body, struct strbuf *out)
{
	const char *p = msg->data, *end = msg->data + msg->body_offset;
	bool skipping = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (*p != ' ' && *p != '\t')
			skipping = hidden(p, len, names);
		if (!skipping)
			strbuf_append(out, p, len);
		p += len;
	}
	if (body)
		strbuf_append(out, msg->data + msg->body_offset,
			      msg->size - msg->body_offset);
}

/* new_message_id - "<secs.usecs.pid.N@host>" */
static void new_message_id(const struct delivery_sieve_send *ctx,
			   struct strbuf *out)
{
	static __thread unsigned int counter;

	strbuf_appendf(out, "<loft-sieve.%lld.%ld.%u@%s>", (long long)ctx->now,
		       (long)getpid(), ++counter,
		       mail_submit_hostname(ctx->set));
}

/* orig_recipient - the original recipient, else the final one */
static const char *orig_recipient(const struct sieve_envelope *env)
{
	return env->orig_rcpt_to != NULL && env->orig_rcpt_to[0] != '\0' ?
		env->orig_rcpt_to : env->rcpt_to;
}

/* redirect_sender - the envelope sender per sieve_redirect_envelope_from
   (a null sender stays null: RFC 5228 4.2) */
static const char *redirect_sender(const struct delivery_sieve_send *ctx,
				   struct strbuf *postmaster)
{
	const struct sieve_send_settings *sieve = ctx->sieve;
	const struct sieve_envelope *env = ctx->envelope;
	char *name;

	if (env->mail_from[0] == '\0')
		return "";
	switch (sieve->redirect_from) {
	case SIEVE_ADDRESS_SOURCE_DEFAULT:
	case SIEVE_ADDRESS_SOURCE_SENDER:
		break;
	case SIEVE_ADDRESS_SOURCE_RECIPIENT:
		return env->rcpt_to;
	case SIEVE_ADDRESS_SOURCE_ORIG_RECIPIENT:
		return orig_recipient(env);
	case SIEVE_ADDRESS_SOURCE_USER_EMAIL:
		return sieve->user_email != NULL ? sieve->user_email :
			env->rcpt_to;
	case SIEVE_ADDRESS_SOURCE_POSTMASTER:
		mail_submit_postmaster(ctx->set, ctx->user, postmaster, &name);
		free(name);
		return postmaster->data;
	case SIEVE_ADDRESS_SOURCE_EXPLICIT:
		return sieve->redirect_from_address;
	}
	return env->mail_from;
}

/* redirect_loop - an X-Sieve-Redirected-From field naming the final
   recipient or sieve_user_email (Pigeonhole's loop check) */
static bool redirect_loop(const struct delivery_sieve_send *ctx)
{
	const char *user_email = ctx->sieve->user_email;

	for (size_t i = 0; i < ctx->msg->nheaders; i++) {
		const char *value = ctx->msg->headers[i].value;

		if (strcasecmp(ctx->msg->headers[i].name,
			       "X-Sieve-Redirected-From") != 0)
			continue;
		value += strspn(value, " \t");
		if (strcmp(value, ctx->envelope->rcpt_to) == 0 ||
		    (user_email != NULL && strcmp(value, user_email) == 0))
			return true;
	}
	return false;
}

int delivery_sieve_send_redirect(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **why_r, const char **error_r)
{
	const struct sieve_envelope *env = ctx->envelope;
	const char *msgid = header(ctx->msg, "Message-ID");
	const char *resent = header(ctx->msg, "Resent-Message-ID");
	const char *list_id = header(ctx->msg, "List-Id");
	const char *rcpt = orig_recipient(env);
	struct strbuf dupeid, data, postmaster;
	const char *error, *sender;
	bool temporary;
	int ret;

	if (resent == NULL)
		resent = header(ctx->msg, "Resent-From");
	strbuf_init(&dupeid, 256);
	strbuf_init(&data, ctx->msg->size + 256);
	strbuf_init(&postmaster, 64);
	strbuf_appendf(&data, "X-Sieve: loft\nX-Sieve-Redirected-From: %s\n",
		       ctx->sieve->user_email != NULL ? ctx->sieve->user_email :
		       env->rcpt_to);
	if (msgid == NULL) {
		strbuf_append_str(&data, "Message-ID: ");
		new_message_id(ctx, &data);
		strbuf_putc(&data, '\n');
	}
	strbuf_appendf(&dupeid, "redirect %s-%s-%s-%s-%s",
		       msgid != NULL ? msgid : "", rcpt, act->target,
		       resent != NULL ? resent : "", list_id != NULL ? list_id : "");
	if (msgid != NULL &&
	    delivery_dupes_seen(ctx->home, dupeid.data, ctx->now, &error) > 0) {
		*why_r = "a duplicate: not sent again";
		ret = 0;
	} else if (redirect_loop(ctx)) {
		*why_r = "X-Sieve-Redirected-From names the user: a loop, not sent";
		ret = 0;
	} else if (ctx->dry_run) {
		ret = 1;
	} else {
		filtered(ctx->msg, redirect_hidden, true, &data);
		sender = redirect_sender(ctx, &postmaster);
		ret = mail_submit(ctx->set, sender, act->target, data.data,
				  data.len, &temporary, error_r);
		if (ret == 0) {
			ret = 1;
			if (msgid != NULL &&
			    ctx->sieve->redirect_duplicate_period > 0 &&
			    delivery_dupes_mark(ctx->home, dupeid.data,
						ctx->now + (time_t)ctx->sieve->redirect_duplicate_period,
						ctx->now, &error) < 0)
				log_warning("sieve: %s", error);
		}
	}
	strbuf_free(&postmaster);
	strbuf_free(&dupeid);
	strbuf_free(&data);
	return ret;
}

/* append_one_line - text in a header field: a control character (a line
   break would start a field of the script's making) becomes a space */
static void append_one_line(struct strbuf *out, const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		strbuf_putc(out, (unsigned char)*p < 0x20 ? ' ' : *p);
}

/* append_address - an address as "name <addr>" or "<addr>" */
static void append_address(struct strbuf *out, const char *name,
			   const char *addr)
{
	if (name != NULL)
		strbuf_appendf(out, "%s <%s>", name, addr);
	else
		strbuf_appendf(out, "<%s>", addr);
}

/* append_postmaster - the postmaster as Dovecot writes it: its display
   name, else "Postmaster" */
static void append_postmaster(const struct delivery_sieve_send *ctx,
			      struct strbuf *out)
{
	struct strbuf addr;
	char *name;

	strbuf_init(&addr, 64);
	mail_submit_postmaster(ctx->set, ctx->user, &addr, &name);
	append_address(out, name != NULL ? name : "Postmaster", addr.data);
	free(name);
	strbuf_free(&addr);
}

/* append_date - now as a Date: value */
static void append_date(const struct delivery_sieve_send *ctx,
			struct strbuf *out)
{
	char date[64];
	struct tm tm;

	localtime_r(&ctx->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	strbuf_append_str(out, date);
}

/* header_8bit - a field whose value is encoded when it is not ASCII
   (Pigeonhole's rfc2822_header_utf8_printf and _write_address) */
static void header_8bit(struct strbuf *out, const char *name, const char *value)
{
	struct strbuf encoded;

	for (const char *p = value; *p != '\0'; p++) {
		if ((*p & 0x80) != 0) {
			strbuf_init(&encoded, 128);
			mail_header_encode(value, &encoded);
			mail_header_write(out, name, encoded.data);
			strbuf_free(&encoded);
			return;
		}
	}
	mail_header_write(out, name, value);
}

/* vacation_reply - the reply's header and body, as Pigeonhole writes it */
static void vacation_reply(const struct delivery_sieve_send *ctx,
			   const struct sieve_action *act,
			   const struct sieve_vacation_reply *reply,
			   const char *sender, struct strbuf *out)
{
	const struct sieve_vacation_settings *vset = &ctx->sieve->vacation;
	const char *msgid = header(ctx->msg, "Message-ID");
	const char *references = header(ctx->msg, "References");
	const char *from = act->vacation.from;
	struct strbuf value;

	strbuf_init(&value, 256);
	mail_header_write(out, "X-Sieve", "loft");
	new_message_id(ctx, &value);
	mail_header_write(out, "Message-ID", value.data);
	strbuf_reset(&value);
	append_date(ctx, &value);
	mail_header_write(out, "Date", value.data);
	strbuf_reset(&value);
	if (from != NULL && *from != '\0')
		append_one_line(&value, from);	/* as written, as Pigeonhole */
	else if (reply->from != NULL && *reply->from != '\0')
		append_address(&value, NULL, reply->from);
	else
		append_postmaster(ctx, &value);
	header_8bit(out, "From", value.data);
	strbuf_reset(&value);
	sieve_vacation_reply_to(ctx->msg, sender, vset, &value);
	header_8bit(out, "To", value.data);
	strbuf_reset(&value);
	sieve_vacation_subject(ctx->msg, &act->vacation, vset, &value);
	header_8bit(out, "Subject", value.data);
	if (msgid != NULL) {
		mail_header_write(out, "In-Reply-To", msgid);
		strbuf_reset(&value);
		strbuf_appendf(&value, "%s%s%s", references != NULL ? references : "",
			       references != NULL ? " " : "", msgid);
		mail_header_write(out, "References", value.data);
	} else if (references != NULL) {
		mail_header_write(out, "References", references);
	}
	strbuf_free(&value);
	mail_header_write(out, "Auto-Submitted", "auto-replied (vacation)");
	mail_header_write(out, "Precedence", "bulk");
	mail_header_write(out, "X-Auto-Response-Suppress", "All");
	mail_header_write(out, "MIME-Version", "1.0");
	if (act->vacation.mime) {
		/* :mime: the reason is a MIME entity, headers and all */
		strbuf_append_str(out, act->target);
	} else {
		mail_header_write(out, "Content-Type", "text/plain; charset=utf-8");
		mail_header_write(out, "Content-Transfer-Encoding", "8bit");
		strbuf_appendf(out, "\n%s", act->target);
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		strbuf_putc(out, '\n');
}

int delivery_sieve_send_vacation(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **why_r, const char **error_r)
{
	static __thread char why[128];
	struct sieve_vacation_reply reply;
	struct sieve_vacation_user user;
	struct strbuf key, reply_text, implicit;
	enum sieve_vacation_verdict verdict;
	const char *sender = ctx->envelope->mail_from, *error;
	bool temporary;
	int ret;

	strbuf_init(&implicit, 64);
	if (ctx->user != NULL && strchr(ctx->user, '@') != NULL)
		strbuf_append_str(&implicit, ctx->user);
	else if (ctx->user != NULL)
		strbuf_appendf(&implicit, "%s@%s", ctx->user,
			       mail_submit_hostname(ctx->set));
	user.user_email = ctx->sieve->user_email;
	user.implicit_email = implicit.len > 0 ? implicit.data : NULL;
	verdict = sieve_vacation_check(ctx->msg, ctx->envelope, &act->vacation,
				       &ctx->sieve->vacation, &user, &reply);
	if (verdict != SIEVE_VACATION_REPLY) {
		snprintf(why, sizeof(why), "%s", sieve_vacation_verdict_text(verdict));
		*why_r = why;
		strbuf_free(&implicit);
		return 0;
	}
	strbuf_init(&key, 256);
	sieve_vacation_key(act, sender, &key);
	if (delivery_dupes_seen(ctx->home, key.data, ctx->now, &error) > 0) {
		*why_r = "vacation not sent: already answered in this period";
		strbuf_free(&key);
		strbuf_free(&implicit);
		return 0;
	}
	if (ctx->dry_run) {
		strbuf_free(&key);
		strbuf_free(&implicit);
		return 1;
	}
	strbuf_init(&reply_text, 1024);
	vacation_reply(ctx, act, &reply, sender, &reply_text);
	ret = mail_submit(ctx->set, reply.smtp_from != NULL ? reply.smtp_from : "",
			  sender, reply_text.data, reply_text.len, &temporary,
			  error_r);
	if (ret == 0) {
		ret = 1;
		if (act->vacation.seconds > 0 &&
		    delivery_dupes_mark(ctx->home, key.data,
					ctx->now + (time_t)act->vacation.seconds,
					ctx->now, &error) < 0)
			log_warning("sieve: %s", error);
	}
	strbuf_free(&reply_text);
	strbuf_free(&key);
	strbuf_free(&implicit);
	return ret;
}

/* reject_expand - rejection_subject / rejection_reason with Dovecot's
   %n %r %s %t */
static void reject_expand(const char *template, const char *reason,
			  const char *subject, const char *recipient,
			  struct strbuf *out)
{
	const struct var_expand_table table[] = {
		{ 'n', "crlf", "\n", false },
		{ 'r', "reason", reason, false },
		{ 's', "subject", subject, false },
		{ 't', "to", recipient, false },
		{ '\0', NULL, NULL, false },
	};
	const char *error;
	size_t start = out->len;

	if (var_expand(out, template, table, &error) < 0) {
		strbuf_truncate(out, start);
		strbuf_append_str(out, template);
	}
}

int delivery_sieve_send_reject(const struct delivery_sieve_send *ctx,
			       const char *reason, const char **why_r,
			       const char **error_r)
{
	const struct sieve_envelope *env = ctx->envelope;
	const char *msgid = header(ctx->msg, "Message-ID");
	const char *auto_submitted = header(ctx->msg, "Auto-Submitted");
	const char *orig = header(ctx->msg, "Original-Recipient");
	const char *rcpt = orig_recipient(env), *raw_subject;
	const char *hostname = mail_submit_hostname(ctx->set);
	struct strbuf mail, subject, boundary, line;
	bool temporary;
	int ret;

	if (env->mail_from[0] == '\0') {
		*why_r = "not sending reject message to <>";
		return 0;
	}
	if (auto_submitted != NULL && strcasecmp(auto_submitted, "no") != 0) {
		*why_r = "Auto-submitted message discarded";
		return 0;
	}
	if (ctx->dry_run)
		return 1;
	raw_subject = header(ctx->msg, "Subject");
	strbuf_init(&subject, 128);
	strbuf_append_printable(&subject, raw_subject != NULL ? raw_subject : "");
	if (subject.len > 80)
		strbuf_truncate(&subject, 80);
	strbuf_init(&boundary, 64);
	strbuf_init(&line, 128);
	strbuf_appendf(&boundary, "%ld/%s", (long)getpid(), hostname);
	strbuf_init(&mail, ctx->msg->body_offset + 1024);
	strbuf_append_str(&mail, "Message-ID: ");
	new_message_id(ctx, &mail);
	strbuf_append_str(&mail, "\nDate: ");
	append_date(ctx, &mail);
	strbuf_append_str(&mail, "\nFrom: ");
	append_postmaster(ctx, &mail);
	strbuf_appendf(&mail, "\nTo: <%s>\nMIME-Version: 1.0\n"
		       "Content-Type: multipart/report; "
		       "report-type=disposition-notification;\n"
		       "\tboundary=\"%s\"\nSubject: ", env->mail_from,
		       boundary.data);
	reject_expand(ctx->set->rejection_subject, reason, subject.data, rcpt,
		      &line);
	append_one_line(&mail, line.data);
	strbuf_appendf(&mail, "\nAuto-Submitted: auto-replied (rejected)\n"
		       "Precedence: bulk\n\nThis is a MIME-encapsulated message\n\n"
		       "--%s\nContent-Type: text/plain; charset=utf-8\n"
		       "Content-Disposition: inline\n"
		       "Content-Transfer-Encoding: 8bit\n\n", boundary.data);
	reject_expand(ctx->set->rejection_reason, reason, subject.data, rcpt,
		      &mail);
	strbuf_appendf(&mail, "\n--%s\nContent-Type: message/disposition-notification\n\n"
		       "Reporting-UA: %s; loft Mail Delivery Agent\n",
		       boundary.data, hostname);
	if (orig != NULL)
		strbuf_appendf(&mail, "Original-Recipient: rfc822; %s\n", orig);
	strbuf_appendf(&mail, "Final-Recipient: rfc822; %s\n", rcpt);
	if (msgid != NULL)
		strbuf_appendf(&mail, "Original-Message-ID: %s\n", msgid);
	strbuf_appendf(&mail, "Disposition: automatic-action/MDN-sent-automatically; "
		       "deleted\n\n--%s\nContent-Type: message/rfc822\n\n",
		       boundary.data);
	filtered(ctx->msg, reject_hidden, false, &mail);
	strbuf_appendf(&mail, "\n\n--%s--\n", boundary.data);
	ret = mail_submit(ctx->set, "", env->mail_from, mail.data, mail.len,
			  &temporary, error_r);
	strbuf_free(&mail);
	strbuf_free(&line);
	strbuf_free(&boundary);
	strbuf_free(&subject);
	return ret < 0 ? -1 : 1;
}

bool delivery_sieve_send_seen(const struct delivery_sieve_send *ctx,
			      const char *key)
{
	const char *error;
	char *dkey = xasprintf("duplicate %s", key);
	int ret = delivery_dupes_seen(ctx->home, dkey, ctx->now, &error);

	if (ret < 0)
		log_warning("sieve: %s", error);
	free(dkey);
	return ret > 0;
}

void delivery_sieve_send_track(const struct delivery_sieve_send *ctx,
			       const char *key, uint64_t seconds)
{
	const char *error;
	char *dkey;

	if (ctx->dry_run)
		return;
	dkey = xasprintf("duplicate %s", key);
	if (delivery_dupes_mark(ctx->home, dkey, ctx->now + (time_t)seconds,
				ctx->now, &error) < 0)
		log_warning("sieve: %s", error);
	free(dkey);
}
