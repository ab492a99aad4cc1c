/*
 * delivery_sieve_send - the mail Sieve sends: redirect and vacation,
 * through sendmail_path, as Pigeonhole sends them.
 *
 * redirect: the message as the scripts see it (their header edits
 * included) without its Return-Path, X-Sieve and X-Sieve-Redirected-From
 * fields, behind "X-Sieve: loft" and "X-Sieve-Redirected-From: <the
 * recipient>", from the original envelope sender. Loops and repeats are
 * cut by Pigeonhole's duplicate id (Message-ID, recipient, target,
 * Resent-Message-ID or Resent-From, List-Id) kept for 12 hours in the
 * user's tracking file: a message that comes back, or is delivered
 * twice, is not forwarded again.
 *
 * vacation: never to the null sender, system addresses, automatic,
 * bulk or list mail, the user's own mail or mail not addressed to the
 * user (sieve_vacation_check), and once per sender per :days/:seconds
 * (the tracking file); the reply comes from the null sender with
 * Auto-Submitted: auto-replied, In-Reply-To and References.
 */
#ifndef LOFT_DELIVERY_SIEVE_SEND_H
#define LOFT_DELIVERY_SIEVE_SEND_H

#include <stdbool.h>
#include <time.h>

#include "settings.h"
#include "sieve_message.h"
#include "sieve_result.h"
#include "strbuf.h"

struct delivery_sieve_send {
	const struct loft_settings *set;	/* sendmail_path, hostname */
	const char *home;			/* the tracking file's; NULL: none */
	const struct sieve_envelope *envelope;
	const struct sieve_message *msg;	/* as the scripts see it */
	time_t now;
	/* loftadm sieve test: every decision is made as at delivery (the
	   checks, the tracking file read), but nothing is sent or tracked */
	bool dry_run;
};

/* delivery_sieve_send_redirect - forward per act; 1 sent, 0 a duplicate
   not sent again (what Pigeonhole logs as "discarded duplicate
   forward"), -1 with *error_r (the script fails: the message is kept) */
int delivery_sieve_send_redirect(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **error_r);
/* delivery_sieve_send_vacation - answer per act; 1 sent, 0 not sent
   (*why_r: "list mail", "already answered"...), -1 with *error_r (the
   reply could not be handed over: logged, the delivery goes on) */
int delivery_sieve_send_vacation(const struct delivery_sieve_send *ctx,
				 const struct sieve_action *act,
				 const char **why_r, const char **error_r);
/* delivery_sieve_send_seen - the duplicate test: key tracked and not
   expired */
bool delivery_sieve_send_seen(const struct delivery_sieve_send *ctx,
			      const char *key);
/* delivery_sieve_send_track - the duplicate action: remember key for
   seconds */
void delivery_sieve_send_track(const struct delivery_sieve_send *ctx,
			       const char *key, uint64_t seconds);

#endif
