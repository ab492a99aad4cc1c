/*
 * sieve_vars - RFC 5229 variables of one run: named variables (names
 * case-insensitive), the match variables ${0}..${9} of the last
 * successful :matches, "${...}" expansion of strings, and the `set`
 * modifiers. Sizes and counts are bounded (values are cut at
 * SIEVE_VAR_MAX_SIZE like Pigeonhole's sieve_variables_max_variable_size).
 */
#ifndef LOFT_SIEVE_VARS_H
#define LOFT_SIEVE_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "sieve_match.h"
#include "strbuf.h"

#define SIEVE_VAR_MAX_SIZE 4096
#define SIEVE_VAR_MAX_COUNT 255

struct sieve_var {
	char *name;
	char *value;
	size_t len;
};

struct sieve_vars {
	struct sieve_var vars[SIEVE_VAR_MAX_COUNT];
	size_t count;
	char *match[SIEVE_MATCH_VARS];
	size_t match_len[SIEVE_MATCH_VARS];
	size_t nmatch;
	/* include (RFC 6609): the variables shared by all scripts, and the
	   names this script declared with `global` (or "global.NAME") */
	struct sieve_vars *global;
	char **global_names;
	size_t nglobal_names;
};

void sieve_vars_init(struct sieve_vars *vars);
void sieve_vars_free(struct sieve_vars *vars);
/* sieve_vars_declare_global - name lives in vars->global from now on */
void sieve_vars_declare_global(struct sieve_vars *vars, const char *name);
/* sieve_vars_set - -1 when the variable table is full */
int sieve_vars_set(struct sieve_vars *vars, const char *name,
		   const char *value, size_t len);
/* sieve_vars_set_matches - the captures of a successful :matches */
void sieve_vars_set_matches(struct sieve_vars *vars,
			    const struct sieve_matcher *m);
/* sieve_vars_expand - str with ${name} and ${N} replaced, into out */
void sieve_vars_expand(const struct sieve_vars *vars, const char *str,
		       size_t len, struct strbuf *out);

/* set modifiers, applied highest precedence first (RFC 5229 4.1) */
#define SIEVE_MOD_LOWER		0x01
#define SIEVE_MOD_UPPER		0x02
#define SIEVE_MOD_LOWERFIRST	0x04
#define SIEVE_MOD_UPPERFIRST	0x08
#define SIEVE_MOD_QUOTEWILDCARD	0x10
#define SIEVE_MOD_LENGTH	0x20
void sieve_vars_modify(struct strbuf *value, unsigned int mods);

#endif
