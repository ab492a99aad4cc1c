/*
 * sieve_vacation - whether a vacation action may answer this message,
 * and from which address, as Pigeonhole 0.5 decides (its checks in its
 * order): never when the envelope recipient or sender is null, never to
 * the recipient itself or one of the :addresses, never list mail (List-*
 * headers), automatic mail (Auto-Submitted other than "no"), bulk mail
 * (Precedence bulk/list/junk), mail whose X-Auto-Response-Suppress says
 * All or OOF, or system senders (MAILER-DAEMON, LISTSERV, majordomo,
 * owner-*, *-request*); and only when one of the user's addresses is in
 * To/Cc/Bcc/Resent-To/Resent-Cc/Resent-Bcc (the final recipient, the
 * original one with sieve_vacation_use_original_recipient, the
 * :addresses, sieve_user_email), unless
 * sieve_vacation_dont_check_recipient. The once-per-period tracking is
 * the caller's (the duplicate key is sieve_vacation_key()).
 */
#ifndef LOFT_SIEVE_VACATION_H
#define LOFT_SIEVE_VACATION_H

#include <stdbool.h>

#include "sieve_message.h"
#include "sieve_result.h"
#include "strbuf.h"

/* Pigeonhole's sieve_vacation_* settings besides the periods (which are
   sieve_limits: the interpreter clamps :days with them) */
struct sieve_vacation_settings {
	bool use_original_recipient;	/* ..._use_original_recipient */
	bool dont_check_recipient;	/* ..._dont_check_recipient */
	bool send_from_recipient;	/* ..._send_from_recipient */
	bool to_header_ignore_envelope;	/* ..._to_header_ignore_envelope */
	char *default_subject;		/* NULL: "Automated reply" */
	char *default_subject_template;	/* %$ / %{subject}; NULL: "Auto: " */
	unsigned int max_subject_codepoints;	/* 256 */
};
/* sieve_vacation_settings_default - Pigeonhole's defaults */
void sieve_vacation_settings_default(struct sieve_vacation_settings *set);
void sieve_vacation_settings_free(struct sieve_vacation_settings *set);

enum sieve_vacation_verdict {
	SIEVE_VACATION_REPLY,
	SIEVE_VACATION_NULL_RECIPIENT,
	SIEVE_VACATION_NULL_SENDER,
	SIEVE_VACATION_SYSTEM_SENDER,
	SIEVE_VACATION_AUTO_SUBMITTED,
	SIEVE_VACATION_BULK,		/* Precedence bulk/list/junk */
	SIEVE_VACATION_LIST,		/* List-Id and friends */
	SIEVE_VACATION_SUPPRESSED,	/* X-Auto-Response-Suppress All/OOF */
	SIEVE_VACATION_OWN_MESSAGE,	/* from one of the user's addresses */
	SIEVE_VACATION_NOT_ADDRESSED,	/* no address of the user in To/Cc/... */
};

/* who the user is, for the checks */
struct sieve_vacation_user {
	const char *user_email;		/* sieve_user_email, or NULL */
	const char *implicit_email;	/* the user name as an address */
};

/* the reply's addresses when the verdict is REPLY (pointers into the
   envelope, the action or the user; valid as long as they are) */
struct sieve_vacation_reply {
	const char *from;	/* From: address (NULL: postmaster's) */
	const char *smtp_from;	/* envelope sender with send_from_recipient,
				   else NULL (the null sender) */
};

/* sieve_vacation_check - the verdict for answering msg; set NULL: the
   defaults; user and reply_r may be NULL */
enum sieve_vacation_verdict
sieve_vacation_check(const struct sieve_message *msg,
		     const struct sieve_envelope *envelope,
		     const struct sieve_vacation *vacation,
		     const struct sieve_vacation_settings *set,
		     const struct sieve_vacation_user *user,
		     struct sieve_vacation_reply *reply_r);
/* sieve_vacation_verdict_text - for the log: "vacation sent", ... */
const char *sieve_vacation_verdict_text(enum sieve_vacation_verdict verdict);
/* sieve_vacation_key - the tracking key: handle (or the reason text) and
   the sender, lower-cased, into out */
void sieve_vacation_key(const struct sieve_action *act, const char *sender,
			struct strbuf *out);
/* sieve_vacation_reply_to - the To: of the reply: the first Sender,
   Resent-From or From address that is the envelope sender (any address
   with to_header_ignore_envelope), with its display name; else
   <sender> (appended to out) */
void sieve_vacation_reply_to(const struct sieve_message *msg,
			     const char *sender,
			     const struct sieve_vacation_settings *set,
			     struct strbuf *out);
/* sieve_vacation_subject - :subject, else the default one (settings),
   cut to max_subject_codepoints, in UTF-8 (appended to out) */
void sieve_vacation_subject(const struct sieve_message *msg,
			    const struct sieve_vacation *vacation,
			    const struct sieve_vacation_settings *set,
			    struct strbuf *out);

#endif
