/*
 * delivery_sieve - the sieve plugin at delivery time (mail_plugins =
 * sieve): find the user's scripts as Pigeonhole does (sieve_before...,
 * the personal script or else sieve_default, sieve_after...), run them
 * in sequence on the message as it would be stored, and turn their
 * actions into a plan the delivery core executes: the mailboxes to store
 * into (with flags and :create), discard, reject, and the message with
 * an edited header. Runs in the recipient's identity (the caller's).
 *
 * A script that does not compile or fails at run time ends the sequence
 * with the implicit keep: it is logged, written to the user's log
 * (~/.dovecot.sieve.log) when it was the user's own script, and the mail
 * is kept. Compiled scripts come from the process's cache (sieve_cache).
 */
#ifndef LOFT_DELIVERY_SIEVE_H
#define LOFT_DELIVERY_SIEVE_H

#include <stdbool.h>
#include <stddef.h>

#include "delivery.h"
#include "mail_location.h"
#include "sieve_result.h"
#include "strbuf.h"

/* the actions counted by loft_sieve_actions_total{action} */
enum delivery_sieve_action {
	DELIVERY_SIEVE_KEEP,		/* explicit or implicit keep */
	DELIVERY_SIEVE_FILEINTO,
	DELIVERY_SIEVE_DISCARD,
	DELIVERY_SIEVE_REJECT,		/* reject and ereject */
	DELIVERY_SIEVE_REDIRECT,
	DELIVERY_SIEVE_VACATION,
	DELIVERY_SIEVE_ACTION_COUNT
};
/* "keep" | "fileinto" | ... (metric label) */
const char *delivery_sieve_action_name(enum delivery_sieve_action action);

struct delivery_sieve_store {
	char *mailbox;		/* normalized ("INBOX", "Lists/foo") */
	struct sieve_flags flags;
	bool create;		/* fileinto :create */
	bool keep;		/* the keep (explicit or implicit) */
	bool done;		/* stored (set by the executor) */
};

struct delivery_sieve_plan {
	struct delivery_sieve_store *stores;
	size_t count;
	bool reject;
	char *reason;		/* of reject / ereject */
	bool reject_mailed;	/* reject_by_mail: the rejection was sent (or
				   not, for the null sender): delivered */
	/* the message with the header a script edited (trace headers
	   included: store it without a prefix); NULL: the original */
	struct message *edited;
	/* for the log line and journal: "fileinto \"Lists/foo\", keep" */
	struct strbuf summary;
	struct strbuf scripts;	/* the scripts that ran, ", "-separated */
	unsigned int counts[DELIVERY_SIEVE_ACTION_COUNT];
	unsigned int script_errors;	/* compile or runtime errors */
};

/* delivery_sieve_enabled - mail_plugins names sieve */
bool delivery_sieve_enabled(const struct loft_settings *set);

/* delivery_sieve_plugin - plugin { } with the user's userdb sieve*
   fields over it (Dovecot's mail_user_plugin_getenv) */
void delivery_sieve_plugin(const struct loft_settings *set,
			   const struct delivery_user *user,
			   struct kvlist *plugin);

/* delivery_sieve_execute - store the message into plan->stores[first]
   .. [plan->count - 1] (the ones the last script added; the last one
   may be the implicit keep), setting done on each stored; the message
   is plan->edited when set. 0, or -1 when a store failed (logged by
   the callee): the script counts as failed and the sequence ends with
   the implicit keep. */
typedef int delivery_sieve_execute(void *context,
				   struct delivery_sieve_plan *plan,
				   size_t first);

/* delivery_sieve_run - run the user's scripts on msg as it will be
   stored (prefix: the trace headers), executing the stores of each
   script before the next one runs, as Pigeonhole does. 1 with *plan
   (free it with delivery_sieve_plan_free; a reject is for the caller);
   0 when the user has no script (deliver as without Sieve); -1 with out
   filled (a temporary failure: settings, a script that cannot be read). */
int delivery_sieve_run(const struct loft_settings *set,
		       const struct delivery_user *user,
		       const struct delivery_request *req, struct message *msg,
		       const struct strbuf *prefix,
		       const struct mail_location *loc,
		       const char *default_mailbox,
		       delivery_sieve_execute *execute, void *context,
		       struct delivery_sieve_plan *plan, struct outcome *out);
void delivery_sieve_plan_free(struct delivery_sieve_plan *plan);

/* A dry run of the sequence (`loftadm sieve test`): the scripts run as
   at delivery (the same sequence, settings, cache and checks), but
   nothing is stored, sent, tracked or written to the user's log. */
struct delivery_sieve_test {
	/* per script that ran: "script: PATH", then its actions one a line
	   as loft-sieve-test prints them ("compile-error" when it does not
	   compile) */
	struct strbuf report;
	/* "PATH: ERROR" a line, per failed script or failed run; control
	   bytes as \xHH (the error may quote the script or the message) */
	struct strbuf errors;
	unsigned int compile_errors, runtime_errors;
};

/* delivery_sieve_test - delivery_sieve_run's sequence as a dry run of
   msg (as given: no trace headers) into test (strbufs init'ed by
   delivery_sieve_test itself); plan->summary is what the delivery
   would do. Returns as delivery_sieve_run. */
int delivery_sieve_test(const struct loft_settings *set,
			const struct delivery_user *user,
			const struct delivery_request *req, struct message *msg,
			const struct mail_location *loc,
			struct delivery_sieve_test *test,
			struct delivery_sieve_plan *plan, struct outcome *out);
void delivery_sieve_test_free(struct delivery_sieve_test *test);
/* delivery_sieve_outcome - out->sieve from the plan (after the outcome
   itself was set) */
void delivery_sieve_outcome(const struct delivery_sieve_plan *plan,
			    struct outcome *out);

/* delivery_sieve_flags_prefix - mbox: the Status / X-Status /
   X-Keywords lines Dovecot writes for flags, appended to out */
void delivery_sieve_mbox_flags(const struct sieve_flags *flags,
			       struct strbuf *out);
/* delivery_sieve_maildir_flags - the maildir info letters of the system
   flags (sorted: "FS"); keywords are not in them */
void delivery_sieve_maildir_flags(const struct sieve_flags *flags,
				  char *buf, size_t size);
/* delivery_sieve_keywords - the keywords among flags (not system flags),
   at most max of them, as pointers into flags; their count */
size_t delivery_sieve_keywords(const struct sieve_flags *flags, char **out,
			       size_t max);

#endif
