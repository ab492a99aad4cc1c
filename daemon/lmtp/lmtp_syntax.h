/*
 * lmtp_syntax - the RFC 5321/3461/5322 grammar pieces the LMTP command
 * parser is built from: character classes, quoted strings, domains and
 * address literals, MAIL/RCPT paths and a lenient RFC 5322 address check.
 * Errors are reported as a reason whose text is Dovecot's.
 */
#ifndef LOFT_LMTP_SYNTAX_H
#define LOFT_LMTP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Every path, string and parameter error reason, with Dovecot's text. */
#define LMTP_REASONS(X, P) \
	X(P, PATH_EMPTY, "Path is empty string") \
	X(P, MISSING_LT, "Missing '<' at beginning of path") \
	X(P, MISSING_GT, "Missing '>' at end of path") \
	X(P, NULL_PATH, "Null path not allowed") \
	X(P, ROUTE_ONLY, "Path only consists of source route") \
	X(P, ROUTE_DOMAIN, "Missing domain after '@' in source route") \
	X(P, ROUTE_AT, "Missing '@' after ',' in source route") \
	X(P, ROUTE_COLON, "Missing ':' at end of source route") \
	X(P, LOCALPART_CHAR, "Invalid character in localpart") \
	X(P, MISSING_DOMAIN, "Missing domain") \
	X(P, MISSING_DOMAIN_AT, "Missing domain after '@'") \
	X(P, INVALID_DOMAIN, "Invalid domain") \
	X(P, EMPTY_SUBDOMAIN, "Empty sub-domain") \
	X(P, DOMAIN_CHAR, "Invalid character in domain") \
	X(P, IPV4_LITERAL, "Invalid IPv4 address literal") \
	X(P, IPV6_LITERAL, "Invalid IPv6 address literal") \
	X(P, LITERAL, "Invalid address literal") \
	X(P, LITERAL_EMPTY, "Empty address literal") \
	X(P, LITERAL_BRACKET, "Missing ']' at end of address literal") \
	X(P, LITERAL_CHAR, "Invalid character in address literal") \
	X(P, PATH_CHAR, "Invalid character in path") \
	X(P, QS_ESCAPE, "Invalid character after '\\' in quoted string") \
	X(P, QS_PREMATURE, "Premature end of quoted string") \
	X(P, QS_CHAR, "Invalid character in quoted string") \
	X(P, STRING_CHAR, "Invalid character in string") \
	X(P, PARAM_EMPTY, "Parameter is empty") \
	X(P, PARAM_KEYWORD, "Unexpected character in parameter keyword") \
	X(P, PARAM_VALUE, "Unexpected character in parameter value")

#define LMTP_REASON_ENUM(P, id, text) LMTP_REASON_##id,
enum lmtp_syntax_reason {
	LMTP_REASONS(LMTP_REASON_ENUM, _)
	LMTP_REASON_COUNT
};

/* a cursor over NUL-free parameter text */
struct lmtp_syntax {
	const unsigned char *cur, *end;
	enum lmtp_syntax_reason reason;
};

/* a parsed MAIL/RCPT path */
struct lmtp_path {
	struct strbuf localpart;	/* unquoted */
	const unsigned char *domain, *domain_end;	/* NULL: none */
	bool null_path;
};

/* character classes (Dovecot's lookup table; ASCII only) */
bool lmtp_syntax_is_alpha(unsigned char c);
bool lmtp_syntax_is_digit(unsigned char c);
bool lmtp_syntax_is_alnum(unsigned char c);
bool lmtp_syntax_is_wsp(unsigned char c);	/* SP, HT */
bool lmtp_syntax_is_atext(unsigned char c);	/* RFC 5321 atext */
bool lmtp_syntax_is_xtext(unsigned char c);	/* RFC 3461 xchar */
bool lmtp_syntax_is_esmtp_value(unsigned char c);
bool lmtp_syntax_is_textstr(unsigned char c);	/* HT, SP, printable */

/* lmtp_syntax_utf8_char_len - length of the valid UTF-8 sequence at p, 0 if
   invalid (overlong forms, surrogates and code points above U+10FFFF are) */
size_t lmtp_syntax_utf8_char_len(const unsigned char *p,
				 const unsigned char *end);

/* lmtp_syntax_init - a cursor over the NUL-terminated text */
void lmtp_syntax_init(struct lmtp_syntax *p, const char *text);
/* lmtp_syntax_peek - whether the next char is c */
bool lmtp_syntax_peek(const struct lmtp_syntax *p, unsigned char c);

/* lmtp_syntax_quoted_string - DQUOTE *(qtext / quoted-pair) DQUOTE into out
   (unquoted); 8-bit text allowed when eightbit. 1 ok, 0 none, -1 error */
int lmtp_syntax_quoted_string(struct lmtp_syntax *p, bool eightbit,
			      struct strbuf *out);
/* lmtp_syntax_run - consume a run of chars of a class into out (may be
   NULL); 1 when at least one was consumed, else 0 */
int lmtp_syntax_run(struct lmtp_syntax *p, bool (*is_class)(unsigned char),
		    struct strbuf *out);
/* lmtp_syntax_domain_or_literal - Domain / address-literal; 1 ok, 0 none,
   -1 error */
int lmtp_syntax_domain_or_literal(struct lmtp_syntax *p);

/* lmtp_syntax_path - "<" [ A-d-l ":" ] Mailbox ">", or "<>" when
   allow_empty; the domain is optional when allow_localpart. path must have
   its localpart buffer initialised. 0 ok, -1 error with p->reason set */
int lmtp_syntax_path(struct lmtp_syntax *p, bool allow_empty,
		     bool allow_localpart, struct lmtp_path *path);
/* lmtp_syntax_localpart_needs_quotes - whether the local part is not a
   plain dot-atom (empty, a leading/trailing/double dot, or a special) */
bool lmtp_syntax_localpart_needs_quotes(const char *lp, size_t len);

/* lmtp_syntax_rfc822_address_valid - whether text is one RFC 5322 address:
   addr-spec or [display-name] "<" addr-spec ">"; the domain may be missing
   (LMTP) */
bool lmtp_syntax_rfc822_address_valid(const char *text);

#endif
