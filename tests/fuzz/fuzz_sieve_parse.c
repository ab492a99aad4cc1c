/*
 * fuzz_sieve_parse - libFuzzer target for the Sieve lexer, parser and
 * validator (sieve/): any bytes as a user's script, as a user may upload
 * anything to ~/sieve. Checked: compiling either succeeds or fails with
 * a non-empty "line N: ..." error; a script that compiles compiles again
 * to the same required extensions; nothing leaks.
 */
#include "fuzz_util.h"

#include "sieve.h"
#include "sieve_interp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits limits;
	struct sieve_script *script = NULL, *again = NULL;
	char *error = NULL;

	sieve_limits_default(&limits);
	if (sieve_compile((const char *)data, size, &limits, &script, &error) < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		FUZZ_CHECK(script == NULL);
		free(error);
		return 0;
	}
	FUZZ_CHECK(script != NULL);
	FUZZ_CHECK(sieve_compile((const char *)data, size, &limits, &again,
				 &error) == 0);
	FUZZ_CHECK(again->exts == script->exts &&
		   again->ast.ncmds == script->ast.ncmds);
	sieve_script_free(&again);
	sieve_script_free(&script);
	return 0;
}
