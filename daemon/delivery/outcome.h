/*
 * outcome - the one result type of a delivery attempt.
 *
 * Filled deep in the delivery core; LMTP turns it into a reply per
 * recipient, the LDA into a sysexits code, the logs and loft-stats into
 * records. Temporary means the MTA must retry; nothing was stored.
 */
#ifndef LOFT_OUTCOME_H
#define LOFT_OUTCOME_H

#include <stdbool.h>

#include "xalloc.h"

enum outcome_result {
	OUTCOME_SAVED,
	OUTCOME_REJECTED,	/* permanent: 5xx */
	OUTCOME_TEMPFAIL,	/* temporary: 4xx */
};

/* Why a recipient or message was refused (the metric label `reason`). */
enum outcome_reason {
	OUTCOME_REASON_NONE,
	OUTCOME_REASON_UNKNOWN_USER,
	OUTCOME_REASON_QUOTA,
	OUTCOME_REASON_SIZE,
	OUTCOME_REASON_CONCURRENCY,
	OUTCOME_REASON_SYNTAX,
	OUTCOME_REASON_OTHER,
};

#define OUTCOME_TEXT_MAX 512

/* What the Sieve scripts did for the recipient (mail_plugins = sieve);
   all empty when no script ran. */
struct outcome_sieve {
	/* the scripts and their actions, for the journal:
	   "/home/u/.dovecot.sieve: fileinto \"Lists/foo\", implicit keep" */
	char summary[OUTCOME_TEXT_MAX];
	/* one name per action taken, for loft_sieve_actions_total:
	   "fileinto keep" (names: delivery_sieve_action_name()) */
	char actions[128];
	unsigned int script_errors;	/* scripts that failed to compile or run */
};

struct outcome {
	enum outcome_result result;
	enum outcome_reason reason;
	int code;		/* SMTP code: 250, 451, 550, 552 ... */
	char enhanced[12];	/* "2.0.0" */
	/* human text, no code prefix; one line (control bytes, CR and LF
	   become spaces) */
	char text[OUTCOME_TEXT_MAX];
	struct outcome_sieve sieve;
};

void outcome_set(struct outcome *out, enum outcome_result result,
		 enum outcome_reason reason, int code, const char *enhanced,
		 const char *fmt, ...) LOFT_ATTR_FORMAT(6, 7);
void outcome_saved(struct outcome *out, const char *fmt, ...) LOFT_ATTR_FORMAT(2, 3);
/* outcome_tempfail - 451 4.3.0 unless told otherwise */
void outcome_tempfail(struct outcome *out, const char *enhanced,
		      const char *fmt, ...) LOFT_ATTR_FORMAT(3, 4);

/* "saved" | "rejected" | "tempfail" (log records, metric labels) */
const char *outcome_result_name(enum outcome_result result);
/* "unknown_user" | "quota" | ... | "other"; "" for NONE */
const char *outcome_reason_name(enum outcome_reason reason);
/* outcome_exit_code - the sysexits code loft-lda exits with */
int outcome_exit_code(const struct outcome *out);

#endif
