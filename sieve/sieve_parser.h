/*
 * sieve_parser - RFC 5228 section 8.2 grammar over the lexer's tokens into
 * a sieve_ast. Knows no command names: that is the validator's job.
 * Nesting is bounded (SIEVE_MAX_NESTING) so no script can exhaust the
 * stack.
 */
#ifndef LOFT_SIEVE_PARSER_H
#define LOFT_SIEVE_PARSER_H

#include <stddef.h>

#include "sieve_ast.h"

#define SIEVE_MAX_NESTING 32

/* sieve_parse - 0 with *ast_r filled, or -1 with *error_r (malloced,
   "line N: ...") and nothing to free */
int sieve_parse(const char *text, size_t len, struct sieve_ast *ast_r,
		char **error_r);

#endif
