/*
 * sieve_interp - the compiled script and the run of it (see sieve.h for
 * the public entry points; sieve_interp.c for the walk).
 */
#ifndef LOFT_SIEVE_INTERP_H
#define LOFT_SIEVE_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve.h"
#include "sieve_ast.h"

struct sieve_script {
	struct sieve_ast ast;
	uint32_t exts;		/* 1 << enum sieve_ext of what it requires */
	/* the top-level script owns every script included anywhere below
	   it, once each (include_global/include_names say which) */
	struct sieve_script **includes;
	char **include_names;
	bool *include_global;
	size_t nincludes;
};

void sieve_interp_run(const struct sieve_script *script,
		      const struct sieve_run_env *env, struct sieve_result *res);

#endif
