/*
 * sieve - loft's Sieve interpreter (library loft_sieve): compile a script
 * (parse + validate, RFC 5228 and the extensions in sieve_spec.h) once,
 * then run it on a message and envelope to get the actions to take
 * (sieve_result.h). Running never fails in a way that loses mail: a
 * runtime error leaves only the implicit keep, with res->error set.
 * Bounds: script size, actions, redirects and the work matching may do.
 */
#ifndef LOFT_SIEVE_H
#define LOFT_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sieve_message.h"
#include "sieve_result.h"
#include "strbuf.h"

struct sieve_limits {
	size_t max_script_size;		/* sieve_max_script_size */
	unsigned int max_actions;	/* sieve_max_actions */
	unsigned int max_redirects;	/* sieve_max_redirects */
	uint64_t max_match_steps;	/* comparisons per run */
	char subaddress_separator;	/* recipient_delimiter */
	uint64_t vacation_min_period;	/* sieve_vacation_min_period, s */
	uint64_t vacation_max_period;	/* sieve_vacation_max_period, 0: none */
	uint64_t vacation_default_period; /* sieve_vacation_default_period */
	uint32_t extensions;		/* enabled: 1 << enum sieve_ext */
};

/* Pigeonhole's defaults: 1M, 32 actions, 4 redirects (0: none allowed;
   0 actions or size: no limit), vacation periods 1 day..unlimited,
   7 days without :days; every extension loft implements enabled (Pigeonhole
   leaves editheader and vacation-seconds off: sieve_settings does that
   for a configured user) */
void sieve_limits_default(struct sieve_limits *limits);

struct sieve_script;

/* sieve_script_loader - the text of a script an include names (personal
   or global): 1 with the text appended to *text, 0 when there is no such
   script, -1 with *error_r (malloced) */
typedef int sieve_script_loader(void *context, bool global, const char *name,
				struct strbuf *text, char **error_r);

struct sieve_compile_env {
	const struct sieve_limits *limits;
	sieve_script_loader *load;	/* NULL: no script can be included */
	void *context;
};

/* sieve_compile - 0 with *script_r, or -1 with *error_r (malloced,
   "line N: ..."); includes are compiled with it through env->load */
int sieve_compile_with(const char *text, size_t len,
		       const struct sieve_compile_env *env,
		       struct sieve_script **script_r, char **error_r);
/* sieve_compile - the same without includes */
int sieve_compile(const char *text, size_t len,
		  const struct sieve_limits *limits,
		  struct sieve_script **script_r, char **error_r);
void sieve_script_free(struct sieve_script **script);

struct sieve_run_env {
	const struct sieve_message *msg;
	const struct sieve_envelope *envelope;
	const struct sieve_limits *limits;
	/* mailboxexists; NULL: no mailbox exists */
	bool (*mailbox_exists)(void *context, const char *name);
	/* duplicate: whether key was tracked before (and has not expired);
	   NULL: nothing was ever tracked */
	bool (*duplicate_seen)(void *context, const char *key);
	/* trace: one line per test and action, for `loftadm debug` */
	void (*trace)(void *context, unsigned int line, const char *text);
	void *context;
	/* the time currentdate sees and vacation/duplicate periods start at */
	time_t now;
};

/* sieve_run - the actions into res (sieve_result_init'ed by the caller) */
void sieve_run(const struct sieve_script *script,
	       const struct sieve_run_env *env, struct sieve_result *res);

/* sieve_test_message - what sieve-test does: run script on a raw message
   (now, no mailbox or duplicate knowledge) and append the formatted
   actions (sieve_result_format) to out; with explain, a last line "=>
   vacation sent" (or "=> vacation not sent: REASON") says whether a
   vacation action would answer. NULL, or the
   run's error (malloced; only the implicit keep was formatted). */
char *sieve_test_message(const struct sieve_script *script, const char *data,
			 size_t size, const struct sieve_envelope *envelope,
			 const struct sieve_limits *limits,
			 void (*trace)(void *context, unsigned int line,
				       const char *text),
			 bool explain, struct strbuf *out);
/* sieve_message_sender - the sender a message names for itself: its
   Return-Path, else Sender, else From address (malloced), or NULL */
char *sieve_message_sender(const struct sieve_message *msg);

#endif
