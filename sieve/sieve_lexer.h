/*
 * sieve_lexer - turns Sieve script text (RFC 5228 section 2) into tokens:
 * identifiers, tags, numbers (with K/M/G), quoted and multi-line strings
 * and the punctuation [ ] ( ) { } , ;. Comments and white space are
 * skipped. Strings come out decoded (escapes and dot-stuffing removed);
 * they may hold NUL bytes, so every string carries its length.
 */
#ifndef LOFT_SIEVE_LEXER_H
#define LOFT_SIEVE_LEXER_H

#include <stddef.h>
#include <stdint.h>

enum sieve_token_type {
	SIEVE_TOK_EOF,
	SIEVE_TOK_IDENT,
	SIEVE_TOK_TAG,		/* text is the name without the ':' */
	SIEVE_TOK_NUMBER,
	SIEVE_TOK_STRING,
	SIEVE_TOK_LBRACKET, SIEVE_TOK_RBRACKET,
	SIEVE_TOK_LPAREN, SIEVE_TOK_RPAREN,
	SIEVE_TOK_LBRACE, SIEVE_TOK_RBRACE,
	SIEVE_TOK_COMMA, SIEVE_TOK_SEMICOLON,
};

struct sieve_token {
	enum sieve_token_type type;
	unsigned int line;
	char *text;		/* identifier, tag or string (malloced) */
	size_t len;
	uint64_t number;
};

struct sieve_lexer {
	const char *p, *end;
	unsigned int line;
};

void sieve_lexer_init(struct sieve_lexer *lex, const char *text, size_t len);
/* sieve_lexer_next - the next token into *tok (tok->text malloced for
   identifiers, tags and strings; the caller frees it). 0, or -1 with
   *error_r (a static or malloced-into-buf text) and tok->line set. */
int sieve_lexer_next(struct sieve_lexer *lex, struct sieve_token *tok,
		     const char **error_r);
const char *sieve_token_name(enum sieve_token_type type);

#endif
