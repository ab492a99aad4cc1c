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
#include "sendmail.h"
#include "sieve.h"
#include "sieve_vacation.h"
#include "xalloc.h"

#define REDIRECT_DUPLICATE_PERIOD (12 * 3600)	/* Pigeonhole's default */

/* header - the first value of name in msg, or NULL */
static const char *header(const struct sieve_message *msg, const char *name)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, name) == 0)
			return msg->headers[i].value;
	}
	return NULL;
}

/* hidden - a field redirect does not pass on */
static bool hidden(const char *line, size_t len)
{
	static const char *const names[] = {
		"Return-Path", "X-Sieve", "X-Sieve-Redirected-From",
	};

	for (size_t i = 0; i < LOFT_N_ELEMENTS(names); i++) {
		size_t n = strlen(names[i]);

		if (len > n && strncasecmp(line, names[i], n) == 0 &&
		    (line[n] == ':' || line[n] == ' ' || line[n] == '\t'))
			return true;
	}
	return false;
}

/* filtered - the message data without the hidden fields (and their
   continuation lines) appended to out */
static void filtered(const struct sieve_message *msg, struct strbuf *out)
{
	const char *p = msg->data, *end = msg->data + msg->body_offset;
	bool skipping = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (*p != ' ' && *p != '\t')
			skipping = hidden(p, len);
		if (!skipping)
			strbuf_append(out, p, len);
		p += len;
	}
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
		       ctx->set->hostname[0] != '\0' ? ctx->set->hostname :
		       "localhost");
}

int delivery_sieve_send_redirect(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **error_r)
{
	const struct sieve_envelope *env = ctx->envelope;
	const char *msgid = header(ctx->msg, "Message-ID");
	const char *resent = header(ctx->msg, "Resent-Message-ID");
	const char *list_id = header(ctx->msg, "List-Id");
	const char *rcpt = env->orig_rcpt_to != NULL ? env->orig_rcpt_to :
		env->rcpt_to;
	struct strbuf dupeid, data;
	const char *error;
	bool temporary;
	int ret;

	if (resent == NULL)
		resent = header(ctx->msg, "Resent-From");
	strbuf_init(&dupeid, 256);
	strbuf_init(&data, ctx->msg->size + 256);
	strbuf_appendf(&data, "X-Sieve: loft\nX-Sieve-Redirected-From: %s\n",
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
		ret = 0;
	} else if (ctx->dry_run) {
		ret = 1;
	} else {
		filtered(ctx->msg, &data);
		ret = sendmail_send(ctx->set->sendmail_path, env->mail_from,
				    act->target, data.data, data.len,
				    &temporary, error_r);
		if (ret == 0) {
			ret = 1;
			if (msgid != NULL &&
			    delivery_dupes_mark(ctx->home, dupeid.data,
						ctx->now + REDIRECT_DUPLICATE_PERIOD,
						ctx->now, &error) < 0)
				log_warning("sieve: %s", error);
		}
	}
	strbuf_free(&dupeid);
	strbuf_free(&data);
	return ret;
}

/* vacation_subject - :subject, else "Auto: " and the message's */
static void vacation_subject(const struct delivery_sieve_send *ctx,
			     const struct sieve_action *act, struct strbuf *out)
{
	const char *subject = header(ctx->msg, "Subject");

	if (act->vacation.subject != NULL)
		strbuf_append_str(out, act->vacation.subject);
	else if (subject != NULL && *subject != '\0')
		strbuf_appendf(out, "Auto: %s", subject);
	else
		strbuf_append_str(out, "Automated reply");
}

/* vacation_reply - the reply's header and body */
static void vacation_reply(const struct delivery_sieve_send *ctx,
			   const struct sieve_action *act, const char *sender,
			   struct strbuf *out)
{
	const char *msgid = header(ctx->msg, "Message-ID");
	const char *references = header(ctx->msg, "References");
	const char *from = act->vacation.from != NULL ? act->vacation.from :
		ctx->envelope->rcpt_to;
	char date[64];
	struct tm tm;

	localtime_r(&ctx->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	strbuf_append_str(out, "X-Sieve: loft\nMessage-ID: ");
	new_message_id(ctx, out);
	strbuf_appendf(out, "\nDate: %s\n", date);
	strbuf_appendf(out, strchr(from, '<') != NULL ? "From: %s\n" :
		       "From: <%s>\n", from);
	strbuf_appendf(out, "To: <%s>\nSubject: ", sender);
	vacation_subject(ctx, act, out);
	strbuf_putc(out, '\n');
	if (msgid != NULL) {
		strbuf_appendf(out, "In-Reply-To: %s\n", msgid);
		strbuf_appendf(out, "References: %s%s%s\n",
			       references != NULL ? references : "",
			       references != NULL ? " " : "", msgid);
	}
	strbuf_append_str(out, "Auto-Submitted: auto-replied (vacation)\n"
			  "Precedence: bulk\nMIME-Version: 1.0\n");
	if (act->vacation.mime) {
		/* :mime: the reason is a MIME entity, headers and all */
		strbuf_append_str(out, act->target);
	} else {
		strbuf_appendf(out, "Content-Type: text/plain; charset=utf-8\n"
			       "Content-Transfer-Encoding: 8bit\n\n%s",
			       act->target);
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		strbuf_putc(out, '\n');
}

int delivery_sieve_send_vacation(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **why_r, const char **error_r)
{
	static __thread char why[128];
	enum sieve_vacation_verdict verdict =
		sieve_vacation_check(ctx->msg, ctx->envelope, &act->vacation);
	const char *sender = ctx->envelope->mail_from, *error;
	struct strbuf key, reply;
	bool temporary;
	int ret;

	if (verdict != SIEVE_VACATION_REPLY) {
		snprintf(why, sizeof(why), "%s", sieve_vacation_verdict_text(verdict));
		*why_r = why;
		return 0;
	}
	strbuf_init(&key, 256);
	sieve_vacation_key(act, sender, &key);
	if (delivery_dupes_seen(ctx->home, key.data, ctx->now, &error) > 0) {
		*why_r = "vacation not sent: already answered in this period";
		strbuf_free(&key);
		return 0;
	}
	if (ctx->dry_run) {
		strbuf_free(&key);
		return 1;
	}
	strbuf_init(&reply, 1024);
	vacation_reply(ctx, act, sender, &reply);
	ret = sendmail_send(ctx->set->sendmail_path, "", sender, reply.data,
			    reply.len, &temporary, error_r);
	if (ret == 0) {
		ret = 1;
		if (delivery_dupes_mark(ctx->home, key.data,
					ctx->now + (time_t)act->vacation.seconds,
					ctx->now, &error) < 0)
			log_warning("sieve: %s", error);
	}
	strbuf_free(&reply);
	strbuf_free(&key);
	return ret;
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
