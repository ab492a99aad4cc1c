/*
 * sieve_vacation - when a vacation reply may be sent (see sieve_vacation.h).
 */
#include "sieve_vacation.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *header_get(const struct sieve_message *msg, const char *name)
{
	for (size_t i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, name) == 0)
			return msg->headers[i].value;
	}
	return NULL;
}

/* system_sender - addresses that never get automatic replies */
static bool system_sender(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t len = at == NULL ? strlen(addr) : (size_t)(at - addr);

	if ((len == 13 && strncasecmp(addr, "mailer-daemon", 13) == 0) ||
	    (len == 8 && strncasecmp(addr, "listserv", 8) == 0) ||
	    (len == 9 && strncasecmp(addr, "majordomo", 9) == 0) ||
	    (len >= 6 && strncasecmp(addr, "owner-", 6) == 0) ||
	    (len >= 8 && strncasecmp(addr + len - 8, "-request", 8) == 0))
		return true;
	return false;
}

static bool address_in(const char *addr, const struct sieve_vacation *vac,
		       const char *recipient)
{
	if (recipient != NULL && strcasecmp(addr, recipient) == 0)
		return true;
	for (size_t i = 0; i < vac->naddresses; i++) {
		if (strcasecmp(addr, vac->addresses[i]) == 0)
			return true;
	}
	return false;
}

/* addressed - one of the user's addresses in a recipient header */
static bool addressed(const struct sieve_message *msg,
		      const struct sieve_vacation *vac, const char *recipient)
{
	static const char *const names[] = {
		"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc",
	};

	for (size_t i = 0; i < msg->nheaders; i++) {
		bool wanted = false;

		for (size_t n = 0; n < sizeof(names) / sizeof(names[0]) && !wanted; n++)
			wanted = strcasecmp(msg->headers[i].name, names[n]) == 0;
		if (!wanted)
			continue;
		size_t count;
		struct sieve_address *addrs = sieve_parse_addresses(msg->headers[i].value,
								    &count);
		bool found = false;

		for (size_t a = 0; a < count && !found; a++)
			found = address_in(addrs[a].raw, vac, recipient);
		sieve_addresses_free(addrs, count);
		if (found)
			return true;
	}
	return false;
}

enum sieve_vacation_verdict
sieve_vacation_check(const struct sieve_message *msg,
		     const struct sieve_envelope *envelope,
		     const struct sieve_vacation *vacation)
{
	static const char *const list_headers[] = {
		"list-id", "list-owner", "list-subscribe", "list-post",
		"list-unsubscribe", "list-help", "list-archive",
	};
	const char *sender = envelope->mail_from, *value;
	const char *recipient = envelope->orig_rcpt_to != NULL ?
		envelope->orig_rcpt_to : envelope->rcpt_to;

	if (sender == NULL || *sender == '\0' || strcmp(sender, "<>") == 0)
		return SIEVE_VACATION_NULL_SENDER;
	if (system_sender(sender))
		return SIEVE_VACATION_SYSTEM_SENDER;
	if ((value = header_get(msg, "auto-submitted")) != NULL &&
	    strncasecmp(value, "no", 2) != 0)
		return SIEVE_VACATION_AUTO_SUBMITTED;
	if ((value = header_get(msg, "precedence")) != NULL &&
	    (strcasecmp(value, "bulk") == 0 || strcasecmp(value, "list") == 0 ||
	     strcasecmp(value, "junk") == 0))
		return SIEVE_VACATION_BULK;
	for (size_t i = 0; i < sizeof(list_headers) / sizeof(list_headers[0]); i++) {
		if (header_get(msg, list_headers[i]) != NULL)
			return SIEVE_VACATION_LIST;
	}
	if (address_in(sender, vacation, recipient) ||
	    (envelope->rcpt_to != NULL && strcasecmp(sender, envelope->rcpt_to) == 0))
		return SIEVE_VACATION_OWN_MESSAGE;
	if (!addressed(msg, vacation, recipient) &&
	    !(envelope->rcpt_to != NULL && addressed(msg, vacation, envelope->rcpt_to)))
		return SIEVE_VACATION_NOT_ADDRESSED;
	return SIEVE_VACATION_REPLY;
}

const char *sieve_vacation_verdict_text(enum sieve_vacation_verdict verdict)
{
	switch (verdict) {
	case SIEVE_VACATION_REPLY: return "vacation sent";
	case SIEVE_VACATION_NULL_SENDER: return "vacation not sent: null sender";
	case SIEVE_VACATION_SYSTEM_SENDER: return "vacation not sent: system address";
	case SIEVE_VACATION_AUTO_SUBMITTED: return "vacation not sent: auto-submitted";
	case SIEVE_VACATION_BULK: return "vacation not sent: bulk mail";
	case SIEVE_VACATION_LIST: return "vacation not sent: list mail";
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
