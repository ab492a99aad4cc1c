/*
 * sieve - compile and run (see sieve.h): the parser and validator make
 * the compiled form, sieve_interp runs it.
 */
#include "sieve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve_include.h"
#include "sieve_interp.h"
#include "sieve_vacation.h"
#include "sieve_parser.h"
#include "sieve_validate.h"
#include "xalloc.h"

void sieve_limits_default(struct sieve_limits *limits)
{
	limits->max_script_size = 1024 * 1024;
	limits->max_actions = 32;
	limits->max_redirects = 4;
	limits->max_match_steps = 50 * 1000 * 1000;
	limits->subaddress_separator = '+';
	limits->vacation_min_period = 86400;
	limits->vacation_max_period = 0;
	limits->vacation_default_period = 7 * 86400;
	limits->extensions = (1u << SIEVE_EXT_COUNT) - 1;
}

int sieve_compile(const char *text, size_t len,
		  const struct sieve_limits *limits,
		  struct sieve_script **script_r, char **error_r)
{
	struct sieve_compile_env env = { limits, NULL, NULL };

	return sieve_compile_with(text, len, &env, script_r, error_r);
}

int sieve_compile_with(const char *text, size_t len,
		       const struct sieve_compile_env *env,
		       struct sieve_script **script_r, char **error_r)
{
	const struct sieve_limits *limits = env->limits;
	struct sieve_script *script;

	if (limits->max_script_size != 0 && len > limits->max_script_size) {
		*error_r = xasprintf("script is too large (%zu > %zu bytes)", len,
				     limits->max_script_size);
		return -1;
	}
	script = xcalloc(1, sizeof(*script));
	if (sieve_parse(text, len, &script->ast, error_r) < 0) {
		free(script);
		return -1;
	}
	if (sieve_validate(&script->ast, limits->extensions, &script->exts,
			   error_r) < 0) {
		sieve_ast_free(&script->ast);
		free(script);
		return -1;
	}
	if (sieve_include_resolve(script, env, error_r) < 0) {
		sieve_script_free(&script);
		return -1;
	}
	*script_r = script;
	return 0;
}

void sieve_script_free(struct sieve_script **_script)
{
	struct sieve_script *script = *_script;

	if (script == NULL)
		return;
	*_script = NULL;
	for (size_t i = 0; i < script->nincludes; i++) {
		sieve_ast_free(&script->includes[i]->ast);
		free(script->includes[i]);
		free(script->include_names[i]);
	}
	free(script->includes);
	free(script->include_names);
	free(script->include_global);
	sieve_ast_free(&script->ast);
	free(script);
}

void sieve_run(const struct sieve_script *script,
	       const struct sieve_run_env *env, struct sieve_result *res)
{
	sieve_interp_run(script, env, res);
}

char *sieve_test_message(const struct sieve_script *script, const char *data,
			 size_t size, const struct sieve_envelope *envelope,
			 const struct sieve_limits *limits,
			 void (*trace)(void *context, unsigned int line,
				       const char *text),
			 bool explain, struct strbuf *out)
{
	struct sieve_message msg;
	struct sieve_result res;
	struct sieve_run_env env;
	char *error;

	sieve_message_parse(&msg, data, size);
	memset(&env, 0, sizeof(env));
	env.msg = &msg;
	env.envelope = envelope;
	env.limits = limits;
	env.trace = trace;
	env.now = time(NULL);
	sieve_result_init(&res);
	sieve_run(script, &env, &res);
	sieve_result_format(&res, out);
	for (size_t i = 0; explain && i < res.count; i++) {
		if (res.actions[i].type != SIEVE_ACT_VACATION)
			continue;
		strbuf_appendf(out, "=> %s\n", sieve_vacation_verdict_text(
			sieve_vacation_check(&msg, envelope, &res.actions[i].vacation,
					     NULL, NULL, NULL)));
	}
	error = res.error;
	res.error = NULL;
	sieve_result_free(&res);
	sieve_message_free(&msg);
	return error;
}

char *sieve_message_sender(const struct sieve_message *msg)
{
	static const char *const names[] = { "return-path", "sender", "from" };

	for (size_t n = 0; n < LOFT_N_ELEMENTS(names); n++) {
		for (size_t i = 0; i < msg->nheaders; i++) {
			size_t count;
			struct sieve_address *addrs;
			char *sender = NULL;

			if (strcasecmp(msg->headers[i].name, names[n]) != 0)
				continue;
			addrs = sieve_parse_addresses(msg->headers[i].value, &count);
			if (count > 0 && addrs[0].local != NULL)
				sender = xstrdup(addrs[0].raw);
			sieve_addresses_free(addrs, count);
			if (sender != NULL)
				return sender;
		}
	}
	return NULL;
}
