/*
 * fuzz_sieve_run - libFuzzer target for the Sieve interpreter (sieve/):
 * input is a script, a NUL byte and a message (a fixed message when there
 * is no NUL), run with a fixed envelope, as a delivery runs a user's
 * script on a sender's message. Every script the input includes is the
 * input's own script again, so include's cycle and depth bounds and the
 * runs of included scripts are exercised too. Checked: the run ends; a runtime error
 * leaves only the implicit keep; no more actions than sieve_max_actions
 * and redirects than sieve_max_redirects; without an implicit keep
 * something else was decided (no mail is silently lost: only an explicit
 * discard, a reject or a delivery cancels it).
 */
#include "fuzz_util.h"

#include "sieve.h"

static const char fixed_message[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob+lists@example.com, carol@example.net\r\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= [list] hello\r\n"
	"List-Id: Foo <foo.lists.example.org>\r\n"
	"X-Spam-Flag: YES\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n"
	"\r\n"
	"--b\r\nContent-Type: text/plain\r\n\r\nhello body\r\n"
	"--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";

struct own_script {
	const char *text;
	size_t len;
};

/* load_self - include's loader: any name is the fuzzed script itself,
   except names starting with 'm' (missing) */
static int load_self(void *context, bool global, const char *name,
		     struct strbuf *text, char **error_r)
{
	const struct own_script *own = context;

	(void)global;
	(void)error_r;
	if (name[0] == 'm')
		return 0;
	strbuf_append(text, own->text, own->len);
	return 1;
}

static bool seen_odd(void *context, const char *key)
{
	(void)context;
	return strlen(key) % 2 == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t script_len = nul == NULL ? size : (size_t)(nul - data);
	const char *msg_data = nul == NULL ? fixed_message : (const char *)nul + 1;
	size_t msg_len = nul == NULL ? sizeof(fixed_message) - 1 :
		size - script_len - 1;
	struct sieve_envelope envelope = { "alice@example.org",
					   "bob+lists@example.com", NULL };
	struct sieve_limits limits;
	struct sieve_script *script;
	struct sieve_message msg;
	struct sieve_result res;
	struct sieve_run_env env;
	char *error = NULL;

	struct own_script own = { (const char *)data, script_len };
	struct sieve_compile_env cenv = { &limits, load_self, &own };

	sieve_limits_default(&limits);
	limits.max_match_steps = 200000;
	if (sieve_compile_with((const char *)data, script_len, &cenv, &script,
			       &error) < 0) {
		free(error);
		return 0;
	}
	sieve_message_parse(&msg, msg_data, msg_len);
	memset(&env, 0, sizeof(env));
	env.msg = &msg;
	env.envelope = &envelope;
	env.limits = &limits;
	env.duplicate_seen = seen_odd;
	sieve_result_init(&res);
	sieve_run(script, &env, &res);
	if (res.error != NULL)
		FUZZ_CHECK(res.count == 0 && res.implicit_keep);
	FUZZ_CHECK(res.count <= limits.max_actions);
	FUZZ_CHECK(res.redirects <= limits.max_redirects);
	if (!res.implicit_keep) {
		bool decided = false;

		for (size_t i = 0; i < res.count; i++)
			decided = decided || (res.actions[i].type != SIEVE_ACT_VACATION &&
					      res.actions[i].type != SIEVE_ACT_DUPLICATE);
		FUZZ_CHECK(decided);
	}
	sieve_result_free(&res);
	sieve_message_free(&msg);
	sieve_script_free(&script);
	return 0;
}
