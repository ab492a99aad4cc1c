/*
 * quota - a user's Maildir++ quota while a message is delivered (or an
 * admin looks), with Dovecot's arithmetic: the limits of the mailbox are
 * the root's (the default rule, or a maildirsize file's when the rule was
 * given as "?") plus its own rule; a delivery may go over by the grace
 * (quota_grace) only when the user was under quota before it; a user at
 * or over the message limit gets nothing more.
 *
 * Usage comes from maildirsize (maildirsize.h), recalculated only when the
 * file is missing, broken, too large, over quota with more than one line
 * or stale, or when its limits differ from a forced rule; a delivery
 * appends one line. Between loft processes a flock on the maildir root
 * keeps counts exact: deliveries hold it shared from the check until
 * their line is appended, a recalculation holds it exclusively, so no
 * message is counted twice or missed. (Dovecot takes no such lock; it
 * recounts when it sees the file changed.)
 */
#ifndef LOFT_QUOTA_H
#define LOFT_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "mail_location.h"
#include "quota_settings.h"

struct quota_root;

enum quota_result {
	QUOTA_RESULT_OK,
	QUOTA_RESULT_OVER,	/* refuse: set->exceeded_message */
	QUOTA_RESULT_FAILED,	/* could not tell (Dovecot saves anyway) */
};

/* what `quota get` prints for one resource */
struct quota_resource {
	uint64_t value, limit;	/* limit 0: unlimited */
};
struct quota_usage {
	struct quota_resource storage_kb, messages;
};

/* quota_root_open - the quota of a maildir location; NULL *root_r when
   nothing is kept (ignoreunlimited with no limits). set and loc must
   outlive the root. 0, or -1 with *error_r. */
int quota_root_open(const struct quota_settings *set,
		    const struct mail_location *loc, const char *hostname,
		    struct quota_root **root_r, const char **error_r);
void quota_root_close(struct quota_root **root);

/* quota_root_test - may size bytes be saved into mailbox? use_grace:
   a delivery (LDA/LMTP), which may overshoot by the grace. size 0: the
   RCPT check (is the user already over?). */
enum quota_result quota_root_test(struct quota_root *root, const char *mailbox,
				  uint64_t size, bool use_grace,
				  const char **error_r);
/* quota_root_saved - count a message of size bytes just saved into
   mailbox. 0, or -1 with *error_r (the count is left to be redone). */
int quota_root_saved(struct quota_root *root, const char *mailbox,
		     uint64_t size, const char **error_r);

/* quota_root_get - usage and limits as doveadm quota get shows them */
int quota_root_get(struct quota_root *root, struct quota_usage *usage_r,
		   const char **error_r);
/* quota_root_recalc - count again and rewrite maildirsize */
int quota_root_recalc(struct quota_root *root, const char **error_r);

#endif
