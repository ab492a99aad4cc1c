/*
 * sieve_validate - checks a parsed script against sieve_spec: `require`
 * only at the start and only of known extensions; every command and test
 * known and its extension required; tags allowed, not repeated, not in
 * conflict, with arguments of the right type; positional arguments of
 * the right count and type; tests and blocks where they belong; elsif and
 * else after if. Fills each node's `r` and decodes encoded-character.
 */
#ifndef LOFT_SIEVE_VALIDATE_H
#define LOFT_SIEVE_VALIDATE_H

#include <stdint.h>

#include "sieve_ast.h"

/* sieve_validate - 0 with *exts_r the required extensions (1 << ext), or
   -1 with *error_r (malloced, "line N: ..."). Extensions outside
   enabled (1 << ext; sieve_extensions) are unknown. */
int sieve_validate(struct sieve_ast *ast, uint32_t enabled, uint32_t *exts_r,
		   char **error_r);

/* sieve_decode_encoded_characters - RFC 5228 2.4.2.4 in place: ${hex:..}
   and ${unicode:..} replaced by their bytes; malformed ones kept */
void sieve_decode_encoded_characters(struct sieve_string *str);

#endif
