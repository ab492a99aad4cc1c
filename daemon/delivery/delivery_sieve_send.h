/*
 * delivery_sieve_send - the mail Sieve sends: redirect, vacation and
 * loft-lda's rejection, through submission_host or sendmail_path
 * (mail_submit), as Pigeonhole and dovecot-lda send them.
 *
 * redirect: the message as the scripts see it (their header edits
 * included) without its Return-Path, X-Sieve and X-Sieve-Redirected-From
 * fields, behind "X-Sieve: loft" and "X-Sieve-Redirected-From:
 * <sieve_user_email, else the recipient>", from the envelope sender
 * sieve_redirect_envelope_from names (the original sender by default; a
 * null sender stays null). Loops and repeats are cut by Pigeonhole's
 * duplicate id (Message-ID, recipient, target, Resent-Message-ID or
 * Resent-From, List-Id) kept for sieve_redirect_duplicate_period (12
 * hours) in the user's tracking file: a message that comes back, or is
 * delivered twice, is not forwarded again, nor one whose
 * X-Sieve-Redirected-From names the user (a loop); it is kept instead.
 *
 * vacation: sieve_vacation_check decides (and which address answers);
 * once per sender per :days/:seconds (the tracking file); from the null
 * sender (the recipient with sieve_vacation_send_from_recipient), with
 * Auto-Submitted: auto-replied, In-Reply-To and References.
 *
 * reject (loft-lda without -e): dovecot-lda's rejection, a
 * multipart/report (disposition-notification) from the postmaster to
 * the envelope sender with rejection_subject and rejection_reason, the
 * MDN fields and the original header; not sent to the null sender nor
 * for Auto-Submitted mail.
 */
#ifndef LOFT_DELIVERY_SIEVE_SEND_H
#define LOFT_DELIVERY_SIEVE_SEND_H

#include <stdbool.h>
#include <time.h>

#include "settings.h"
#include "sieve_message.h"
#include "sieve_result.h"
#include "sieve_settings.h"
#include "strbuf.h"

struct delivery_sieve_send {
	const struct loft_settings *set;	/* sendmail_path, hostname... */
	const struct sieve_send_settings *sieve;	/* plugin { } */
	const char *user;			/* the user name */
	const char *home;			/* the tracking file's; NULL: none */
	const struct sieve_envelope *envelope;
	const struct sieve_message *msg;	/* as the scripts see it */
	time_t now;
	/* loftadm sieve test: every decision is made as at delivery (the
	   checks, the tracking file read), but nothing is sent or tracked */
	bool dry_run;
};

/* delivery_sieve_send_redirect - forward per act; 1 sent, 0 not sent
   (*why_r: a duplicate, what Pigeonhole logs as "discarded duplicate
   forward", or an X-Sieve-Redirected-From naming the user, a loop): the
   redirect does not cancel the implicit keep then, as in Pigeonhole; -1
   with *error_r (the script fails: the message is kept) */
int delivery_sieve_send_redirect(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **why_r, const char **error_r);
/* delivery_sieve_send_vacation - answer per act; 1 sent, 0 not sent
   (*why_r: "list mail", "already answered"...), -1 with *error_r (the
   reply could not be handed over: logged, the delivery goes on) */
int delivery_sieve_send_vacation(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **why_r, const char **error_r);
/* delivery_sieve_send_reject - the rejection of reason to the envelope
   sender; 1 sent, 0 not sent (*why_r: null sender, auto-submitted
   message), -1 with *error_r */
int delivery_sieve_send_reject(const struct delivery_sieve_send *ctx,
			       const char *reason, const char **why_r,
			       const char **error_r);
/* delivery_sieve_send_seen - the duplicate test: key tracked and not
   expired */
bool delivery_sieve_send_seen(const struct delivery_sieve_send *ctx,
			      const char *key);
/* delivery_sieve_send_track - the duplicate action: remember key for
   seconds */
void delivery_sieve_send_track(const struct delivery_sieve_send *ctx,
			       const char *key, uint64_t seconds);

#endif
