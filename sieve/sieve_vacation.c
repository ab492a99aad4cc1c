/*
 * sieve_vacation - when a vacation reply may be sent (see sieve_vacation.h).
 */
#include "sieve_vacation.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "var_expand.h"
#include "xalloc.h"

#define VACATION_MAX_SUBJECT_CODEPOINTS 256

void sieve_vacation_settings_default(struct sieve_vacation_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->max_subject_codepoints = VACATION_MAX_SUBJECT_CODEPOINTS;
}

void sieve_vacation_settings_free(struct sieve_vacation_settings *set)
{
	free(set->default_subject);
	free(set->default_subject_template);
	set->default_subject = set->default_subject_template = NULL;
}

static const char *header_get(const struct sieve_message *msg, const char *name)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, name) == 0)
			return msg->headers[i].value;
	}
	return NULL;
}

/* header_any - some name field whose value is (case-insensitively) one
   of values (NULL-terminated) */
static bool header_any(const struct sieve_message *msg, const char *name,
		       const char *const *values)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, name) != 0)
			continue;
		for (size_t v = 0; values[v] != NULL; v++) {
			if (strcasecmp(msg->headers[i].value, values[v]) == 0)
				return true;
		}
	}
	return false;
}

/* auto_submitted - an Auto-Submitted field other than "no" */
static bool auto_submitted(const struct sieve_message *msg)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, "auto-submitted") == 0 &&
		    strcasecmp(msg->headers[i].value, "no") != 0)
			return true;
	}
	return false;
}

/* suppressed - X-Auto-Response-Suppress naming All or OOF */
static bool suppressed(const struct sieve_message *msg)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		const char *p = msg->headers[i].value;

		if (strcasecmp(msg->headers[i].name, "x-auto-response-suppress") != 0)
			continue;
		while (*p != '\0') {
			size_t len;

			p += strspn(p, " \t,");
			len = strcspn(p, ",");
			while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
				len--;
			if ((len == 3 && strncasecmp(p, "All", 3) == 0) ||
			    (len == 3 && strncasecmp(p, "OOF", 3) == 0))
				return true;
			p += strcspn(p, ",");
		}
	}
	return false;
}

/* system_sender - addresses that never get automatic replies (exactly
   Pigeonhole's tests on the local part) */
static bool system_sender(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t len = at == NULL ? strlen(addr) : (size_t)(at - addr);
	char *local = xstrndup(addr, len);
	bool ret = strcasecmp(local, "mailer-daemon") == 0 ||
		strcasecmp(local, "listserv") == 0 ||
		strcasecmp(local, "majordomo") == 0 ||
		strstr(local, "-request") != NULL ||
		strncmp(local, "owner-", 6) == 0;

	free(local);
	return ret;
}

static bool null_address(const char *addr)
{
	return addr == NULL || *addr == '\0' || strcmp(addr, "<>") == 0;
}

/* in_header - addr among the addresses of any name field */
static bool in_header(const struct sieve_message *msg, const char *name,
		      const char *addr)
{
	bool found = false;

	for (size_t i = 0; i < msg->nheaders && !found; i++) {
		size_t count;
		struct sieve_address *addrs;

		if (strcasecmp(msg->headers[i].name, name) != 0)
			continue;
		addrs = sieve_parse_addresses(msg->headers[i].value, &count);
		for (size_t a = 0; a < count && !found; a++)
			found = addrs[a].domain != NULL &&
				strcasecmp(addrs[a].raw, addr) == 0;
		sieve_addresses_free(addrs, count);
	}
	return found;
}

/* addressed - Pigeonhole's search of the recipient headers, in its
   order; true with *reply_r when one of the user's addresses is there */
static bool addressed(const struct sieve_message *msg,
		      const struct sieve_vacation *vac, const char *recipient,
		      const char *orig, const char *user_email,
		      struct sieve_vacation_reply *reply_r)
{
	static const char *const names[] = {
		"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc",
	};

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		if (header_get(msg, names[n]) == NULL)
			continue;
		if (in_header(msg, names[n], recipient)) {
			reply_r->from = reply_r->smtp_from = recipient;
			return true;
		}
		if (orig != NULL && in_header(msg, names[n], orig)) {
			reply_r->from = reply_r->smtp_from = orig;
			return true;
		}
		for (size_t i = 0; i < vac->naddresses; i++) {
			if (in_header(msg, names[n], vac->addresses[i])) {
				/* the user does not choose the SMTP sender */
				reply_r->smtp_from = orig != NULL ? orig : recipient;
				reply_r->from = vac->addresses[i];
				return true;
			}
		}
		if (user_email != NULL && in_header(msg, names[n], user_email)) {
			reply_r->from = reply_r->smtp_from = user_email;
			return true;
		}
	}
	return false;
}

enum sieve_vacation_verdict
sieve_vacation_check(const struct sieve_message *msg,
		     const struct sieve_envelope *envelope,
		     const struct sieve_vacation *vacation,
		     const struct sieve_vacation_settings *set,
		     const struct sieve_vacation_user *user,
		     struct sieve_vacation_reply *reply_r)
{
	static const char *const list_headers[] = {
		"list-id", "list-owner", "list-subscribe", "list-post",
		"list-unsubscribe", "list-help", "list-archive",
	};
	static const char *const bulk[] = { "junk", "bulk", "list", NULL };
	struct sieve_vacation_settings defaults;
	struct sieve_vacation_reply reply = { NULL, NULL };
	const char *sender = envelope->mail_from;
	const char *recipient = envelope->rcpt_to, *orig = NULL;
	const char *user_email = user != NULL ? user->user_email : NULL;

	if (set == NULL) {
		sieve_vacation_settings_default(&defaults);
		set = &defaults;
	}
	if (reply_r != NULL)
		*reply_r = reply;
	if (null_address(recipient))
		return SIEVE_VACATION_NULL_RECIPIENT;
	if (null_address(sender))
		return SIEVE_VACATION_NULL_SENDER;
	if (strcasecmp(sender, recipient) == 0)
		return SIEVE_VACATION_OWN_MESSAGE;
	for (size_t i = 0; i < vacation->naddresses; i++) {
		if (strcasecmp(sender, vacation->addresses[i]) == 0)
			return SIEVE_VACATION_OWN_MESSAGE;
	}
	for (size_t i = 0; i < sizeof(list_headers) / sizeof(list_headers[0]); i++) {
		if (header_get(msg, list_headers[i]) != NULL)
			return SIEVE_VACATION_LIST;
	}
	if (auto_submitted(msg))
		return SIEVE_VACATION_AUTO_SUBMITTED;
	if (header_any(msg, "precedence", bulk))
		return SIEVE_VACATION_BULK;
	if (suppressed(msg))
		return SIEVE_VACATION_SUPPRESSED;
	if (system_sender(sender))
		return SIEVE_VACATION_SYSTEM_SENDER;
	if (set->use_original_recipient)
		orig = null_address(envelope->orig_rcpt_to) ? recipient :
			envelope->orig_rcpt_to;
	if (!addressed(msg, vacation, recipient, orig, user_email, &reply)) {
		if (!set->dont_check_recipient)
			return SIEVE_VACATION_NOT_ADDRESSED;
		reply.smtp_from = orig != NULL ? orig : recipient;
		reply.from = user_email != NULL ? user_email :
			user != NULL ? user->implicit_email : NULL;
	}
	if (!set->send_from_recipient)
		reply.smtp_from = NULL;
	if (reply_r != NULL)
		*reply_r = reply;
	return SIEVE_VACATION_REPLY;
}

const char *sieve_vacation_verdict_text(enum sieve_vacation_verdict verdict)
{
	switch (verdict) {
	case SIEVE_VACATION_REPLY: return "vacation sent";
	case SIEVE_VACATION_NULL_RECIPIENT: return "vacation not sent: null recipient";
	case SIEVE_VACATION_NULL_SENDER: return "vacation not sent: null sender";
	case SIEVE_VACATION_SYSTEM_SENDER: return "vacation not sent: system address";
	case SIEVE_VACATION_AUTO_SUBMITTED: return "vacation not sent: auto-submitted";
	case SIEVE_VACATION_BULK: return "vacation not sent: bulk mail";
	case SIEVE_VACATION_LIST: return "vacation not sent: list mail";
	case SIEVE_VACATION_SUPPRESSED: return "vacation not sent: X-Auto-Response-Suppress";
	case SIEVE_VACATION_OWN_MESSAGE: return "vacation not sent: own message";
	case SIEVE_VACATION_NOT_ADDRESSED: return "vacation not sent: not addressed to the user";
	}
	return "vacation";
}

void sieve_vacation_key(const struct sieve_action *act, const char *sender,
			struct strbuf *out)
{
	const char *handle = act->vacation.handle != NULL ?
		act->vacation.handle : act->target;
	size_t start;

	strbuf_append_str(out, "vacation ");
	strbuf_append_str(out, handle);
	strbuf_putc(out, ' ');
	start = out->len;
	strbuf_append_str(out, sender);
	for (size_t i = start; i < out->len; i++)
		out->data[i] = (char)tolower((unsigned char)out->data[i]);
}

void sieve_vacation_reply_to(const struct sieve_message *msg,
			     const char *sender,
			     const struct sieve_vacation_settings *set,
			     struct strbuf *out)
{
	static const char *const names[] = { "sender", "resent-from", "from" };

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		const char *value = header_get(msg, names[n]);
		struct sieve_address *addrs;
		size_t count;

		if (value == NULL)
			continue;
		addrs = sieve_parse_addresses(value, &count);
		for (size_t a = 0; a < count; a++) {
			if (addrs[a].domain == NULL ||
			    (!set->to_header_ignore_envelope &&
			     strcasecmp(addrs[a].raw, sender) != 0))
				continue;
			if (addrs[a].name != NULL && addrs[a].name[0] != '\0')
				strbuf_appendf(out, "%s <%s>", addrs[a].name,
					       addrs[a].raw);
			else
				strbuf_append_str(out, addrs[a].raw);
			sieve_addresses_free(addrs, count);
			return;
		}
		sieve_addresses_free(addrs, count);
	}
	strbuf_appendf(out, "<%s>", sender);
}

/* append_sanitized - text without control characters, at most max
   code points; a cut one ends in "…" (Dovecot's str_sanitize_utf8) */
static void append_sanitized(struct strbuf *out, const char *text,
			     unsigned int max)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned int cps = 0;
	size_t total = 0;

	for (const unsigned char *q = p; *q != '\0'; q++)
		total += (*q & 0xc0) != 0x80;
	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80) {
			if (total > max && cps + 1 >= max)
				break;
			cps++;
		}
		strbuf_putc(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
	}
	if (total > max)
		strbuf_append_str(out, "\xe2\x80\xa6");
}

void sieve_vacation_subject(const struct sieve_message *msg,
			    const struct sieve_vacation *vacation,
			    const struct sieve_vacation_settings *set,
			    struct strbuf *out)
{
	const char *raw = header_get(msg, "subject"), *error;
	struct strbuf subject, text;

	strbuf_init(&subject, 128);
	strbuf_init(&text, 128);
	if (raw != NULL)
		sieve_decode_mime_words(&subject, raw);
	if (vacation->subject != NULL && vacation->subject[0] != '\0') {
		strbuf_append_str(&text, vacation->subject);
	} else if (raw == NULL) {
		strbuf_append_str(&text, set->default_subject != NULL ?
				  set->default_subject : "Automated reply");
	} else if (set->default_subject_template != NULL) {
		const struct var_expand_table table[] = {
			{ '$', "subject", subject.data, false },
			{ '\0', NULL, NULL, false },
		};

		if (var_expand(&text, set->default_subject_template, table,
			       &error) < 0) {
			strbuf_reset(&text);
			strbuf_appendf(&text, "Auto: %s", subject.data);
		}
	} else {
		strbuf_appendf(&text, "Auto: %s", subject.data);
	}
	append_sanitized(out, text.data, set->max_subject_codepoints);
	strbuf_free(&text);
	strbuf_free(&subject);
}
