/*
 * lmtp_command - parse one LMTP command line (RFC 2033) into a struct,
 * with Dovecot 2.3's reply codes and texts for every syntax error. Pure and
 * I/O-free: the session reads lines, calls lmtp_command_parse() and decides
 * on sequencing (MAIL before RCPT, ...), lookups and replies.
 */
#ifndef LOFT_LMTP_COMMAND_H
#define LOFT_LMTP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lmtp_verb {
	LMTP_VERB_LHLO,
	LMTP_VERB_MAIL,
	LMTP_VERB_RCPT,
	LMTP_VERB_DATA,
	LMTP_VERB_BDAT,
	LMTP_VERB_RSET,
	LMTP_VERB_NOOP,
	LMTP_VERB_VRFY,
	LMTP_VERB_QUIT,
	LMTP_VERB_STARTTLS,
	LMTP_VERB_AUTH,
	LMTP_VERB_XCLIENT,
};

enum lmtp_body {
	LMTP_BODY_NONE,
	LMTP_BODY_7BIT,
	LMTP_BODY_8BITMIME,
};

struct lmtp_command {
	enum lmtp_verb verb;
	/* LHLO: the domain (or address literal) when helo_valid, else the
	   raw parameter text; NOOP, VRFY: the string, unquoted (NULL for a
	   NOOP without one); STARTTLS, AUTH, XCLIENT: the raw parameter text
	   or NULL */
	char *param;
	/* LHLO: the parameter starts with a valid domain or address literal
	   (Dovecot accepts LHLO with an invalid one all the same) */
	bool helo_valid;
	/* MAIL/RCPT: the address without <> and without source route, in the
	   canonical form Dovecot prints (local part quoted when it must be);
	   "" = null path (MAIL only) */
	char *path;
	/* MAIL/RCPT: the local part, unquoted (NULL for the null path) */
	char *localpart;
	/* MAIL/RCPT: the domain or address literal, NULL when the path has
	   none (an unqualified RCPT TO:<user>) or is the null path */
	char *domain;
	uint64_t size;		/* MAIL SIZE= (valid when has_size) */
	bool has_size;
	enum lmtp_body body;	/* MAIL BODY= */
	/* RCPT ORCPT=rfc822;addr -> "addr" (xtext-decoded); NULL when absent
	   or of another address type */
	char *orcpt;
	bool has_orcpt;		/* RCPT had ORCPT= (of any address type) */
	uint64_t chunk_size;	/* BDAT */
	bool last;		/* BDAT ... LAST */
};

struct lmtp_command_error {
	int code;		/* 500, 501 or 555 */
	/* enhanced status code, e.g. "5.5.1"; "" when Dovecot sends none
	   (only "501 Missing hostname" for a bare LHLO) */
	const char *enhanced;
	const char *text;	/* static text, e.g. "Unknown command" */
	/* counts toward "Too many invalid commands" (every 500 and 501 does;
	   Dovecot also counts 503 sequence errors, which the session makes,
	   and resets the count on any other reply) */
	bool invalid;
	/* BDAT whose chunk size parsed but whose other parameters did not:
	   the session must still read and discard this many octets after the
	   line (0 otherwise) */
	uint64_t bdat_skip;
	/* the verb was recognised (the error is in its parameters): Dovecot
	   checks the transaction state first, e.g. a bare "RCPT" before MAIL
	   is "503 5.5.0 MAIL needed first", so the session may do so too */
	bool verb_known;
	enum lmtp_verb verb;
};

/* lmtp_command_parse - parse one command line (no CRLF/LF; may contain any
   bytes including NUL, len given). Returns 0 with *cmd_r filled (free it
   with lmtp_command_clear), or -1 with *error_r filled and *cmd_r zeroed
   (holding no allocations). */
int lmtp_command_parse(const char *line, size_t len,
		       struct lmtp_command *cmd_r,
		       struct lmtp_command_error *error_r);
/* lmtp_command_clear - free the strings of cmd and zero it */
void lmtp_command_clear(struct lmtp_command *cmd);
/* lmtp_verb_name - the verb in upper case ("LHLO", "MAIL", ...) */
const char *lmtp_verb_name(enum lmtp_verb verb);

#endif
