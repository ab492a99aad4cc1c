/*
 * sieve_include - include (RFC 6609) at compile time: every script a
 * script includes is loaded through the caller's loader, compiled once
 * and linked to its include commands, with cycles, nesting depth and the
 * number of scripts bounded (Pigeonhole's defaults: depth 10, 255
 * scripts). A missing script is a compile error unless :optional.
 */
#ifndef LOFT_SIEVE_INCLUDE_H
#define LOFT_SIEVE_INCLUDE_H

#include <stdbool.h>

#include "sieve.h"

#define SIEVE_INCLUDE_MAX_DEPTH 10
#define SIEVE_INCLUDE_MAX_SCRIPTS 255

/* sieve_include_name_valid - a script name an include may use: no '/',
   not starting with '.', no control characters, not empty */
bool sieve_include_name_valid(const char *name);

/* sieve_include_resolve - compile and link what top includes; 0, or -1
   with *error_r (malloced) */
int sieve_include_resolve(struct sieve_script *top,
			  const struct sieve_compile_env *env, char **error_r);

#endif
