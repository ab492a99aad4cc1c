/*
 * sieve_vacation - whether a vacation action may answer this message
 * (RFC 5230 section 4.5 and the checks Pigeonhole makes): never the null
 * sender or a system address (MAILER-DAEMON, LISTSERV, majordomo,
 * owner-*, *-request), never automatic or list mail (Auto-Submitted other
 * than "no", Precedence bulk/list/junk, List-* headers), never yourself,
 * and only when one of the user's addresses is among the recipients the
 * header names. The once-per-period tracking is the caller's (the
 * duplicate key is sieve_vacation_key()).
 */
#ifndef LOFT_SIEVE_VACATION_H
#define LOFT_SIEVE_VACATION_H

#include <stdbool.h>

#include "sieve_message.h"
#include "sieve_result.h"
#include "strbuf.h"

enum sieve_vacation_verdict {
	SIEVE_VACATION_REPLY,
	SIEVE_VACATION_NULL_SENDER,
	SIEVE_VACATION_SYSTEM_SENDER,
	SIEVE_VACATION_AUTO_SUBMITTED,
	SIEVE_VACATION_BULK,		/* Precedence bulk/list/junk */
	SIEVE_VACATION_LIST,		/* List-Id and friends */
	SIEVE_VACATION_OWN_MESSAGE,	/* from one of the user's addresses */
	SIEVE_VACATION_NOT_ADDRESSED,	/* no address of the user in To/Cc/... */
};

/* sieve_vacation_check - the verdict for answering msg from sender for
   the user at recipient, with the action's :addresses */
enum sieve_vacation_verdict
sieve_vacation_check(const struct sieve_message *msg,
		     const struct sieve_envelope *envelope,
		     const struct sieve_vacation *vacation);
/* sieve_vacation_verdict_text - for the log: "sent", "list mail", ... */
const char *sieve_vacation_verdict_text(enum sieve_vacation_verdict verdict);
/* sieve_vacation_key - the tracking key: handle (or the reason text) and
   the sender, lower-cased, into out */
void sieve_vacation_key(const struct sieve_action *act, const char *sender,
			struct strbuf *out);

#endif
