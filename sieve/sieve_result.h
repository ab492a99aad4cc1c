/*
 * sieve_result - the actions a script run decided, with Sieve's rules for
 * combining them (RFC 5228 section 4 and 2.10, as Pigeonhole applies
 * them): stores into the same mailbox and redirects to the same address
 * collapse into one; keep is a store into INBOX; discard, keep, reject
 * and fileinto/redirect without :copy cancel the implicit keep; reject
 * conflicts with anything that delivers and with vacation; a second
 * reject or vacation, or more redirects than allowed, is an error.
 * A run that failed keeps only the implicit keep.
 */
#ifndef LOFT_SIEVE_RESULT_H
#define LOFT_SIEVE_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve_headers.h"
#include "strbuf.h"

enum sieve_action_type {
	SIEVE_ACT_STORE,
	SIEVE_ACT_DISCARD,
	SIEVE_ACT_REDIRECT,
	SIEVE_ACT_REJECT,
	SIEVE_ACT_EREJECT,
	SIEVE_ACT_VACATION,
	SIEVE_ACT_DUPLICATE,	/* duplicate: remember this message's id */
};

struct sieve_flags {
	char **flags;
	size_t count;
};

struct sieve_vacation {
	uint64_t seconds;
	char *subject;		/* NULL: the default */
	char *from;
	char *handle;
	char **addresses;
	size_t naddresses;
	bool mime;
};

struct sieve_action {
	enum sieve_action_type type;
	unsigned int line;
	char *target;		/* mailbox, address or reason / vacation text */
	struct sieve_flags flags;
	bool copy, create;
	bool keep;		/* store: an explicit keep (the default mailbox) */
	struct sieve_vacation vacation;
	/* duplicate: target is the tracked key (handle NUL-free + id) */
	char *handle;
	uint64_t seconds;
	bool last;
};

struct sieve_result {
	struct sieve_action *actions;
	size_t count, cap;
	bool implicit_keep;
	struct sieve_flags keep_flags;	/* of the implicit keep */
	size_t redirects;
	char *error;			/* a runtime error: "line N: ..." */
	/* editheader: the whole edited header to store instead of the
	   message's (owned is false when nothing was edited) */
	struct sieve_header_list headers;
};

void sieve_result_init(struct sieve_result *res);
void sieve_result_free(struct sieve_result *res);
/* sieve_result_add - take ownership of act's strings and add it under
   the combination rules; 0, or -1 with res->error set */
int sieve_result_add(struct sieve_result *res, struct sieve_action *act,
		     unsigned int max_redirects, unsigned int max_actions);
/* sieve_result_fail - a runtime error: drop the actions, keep implicitly */
void sieve_result_fail(struct sieve_result *res, char *error);

void sieve_flags_add(struct sieve_flags *flags, const char *list);
void sieve_flags_remove(struct sieve_flags *flags, const char *list);
void sieve_flags_clear(struct sieve_flags *flags);
void sieve_flags_copy(struct sieve_flags *dst, const struct sieve_flags *src);
bool sieve_flags_has(const struct sieve_flags *flags, const char *flag);

/* sieve_result_format - the actions, one a line, in the normalized form
   the conformance tests compare (and `loft-sieve-test` prints) */
void sieve_result_format(const struct sieve_result *res, struct strbuf *out);
const char *sieve_action_name(enum sieve_action_type type);

#endif
