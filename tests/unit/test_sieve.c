/*
 * test_sieve - unit tests for sieve/: the lexer's strings and numbers,
 * parser and validator errors, :matches with its captures and its work
 * budget, comparators, address-list parsing, RFC 2047 decoding, the set
 * modifiers, the result's combination rules and whole runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvlist.h"
#include "sieve.h"
#include "sieve_cache.h"
#include "sieve_settings.h"
#include "sieve_lexer.h"
#include "sieve_match.h"
#include "sieve_vacation.h"
#include "sieve_vars.h"

/* run_script - compile and run text on msg; the formatted result, or
   "compile-error: ..." (malloced) */
static char *run_script(const char *text, const char *message)
{
	struct sieve_envelope envelope = { "alice@example.org",
					   "bob+box@example.com", NULL };
	struct sieve_limits limits;
	struct sieve_script *script;
	struct sieve_message msg;
	struct sieve_result res;
	struct sieve_run_env env;
	struct strbuf out;
	char *error;

	sieve_limits_default(&limits);
	strbuf_init(&out, 64);
	if (sieve_compile(text, strlen(text), &limits, &script, &error) < 0) {
		strbuf_appendf(&out, "compile-error: %s", error);
		free(error);
		return strbuf_detach(&out);
	}
	sieve_message_parse(&msg, message, strlen(message));
	memset(&env, 0, sizeof(env));
	env.msg = &msg;
	env.envelope = &envelope;
	env.limits = &limits;
	sieve_result_init(&res);
	sieve_run(script, &env, &res);
	sieve_result_format(&res, &out);
	sieve_result_free(&res);
	sieve_message_free(&msg);
	sieve_script_free(&script);
	return strbuf_detach(&out);
}

static const char message[] =
	"From: \"Smith, J\" <j.smith@Example.ORG>\n"
	"To: bob+box@example.com, (c) carol@example.net\n"
	"Subject: =?UTF-8?B?SGVsbG8gV29ybGQ=?=\n"
	"X-Folded: a\n  b\n"
	"\n"
	"body text\n";

static void check_run(const char *script, const char *want)
{
	char *got = run_script(script, message);

	ck_assert_msg(strcmp(got, want) == 0, "%s\n got: %s\nwant: %s", script,
		      got, want);
	free(got);
}

START_TEST(test_lexer_tokens)
{
	static const char text[] = "if :Tag 10K \"a\\\"b\\\\c\\d\" text: # c\nx\n..y\n.\n;";
	struct sieve_lexer lex;
	struct sieve_token tok;
	const char *error;

	sieve_lexer_init(&lex, text, sizeof(text) - 1);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_int_eq(tok.type, SIEVE_TOK_IDENT);
	ck_assert_str_eq(tok.text, "if");
	free(tok.text);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_int_eq(tok.type, SIEVE_TOK_TAG);
	ck_assert_str_eq(tok.text, "tag");
	free(tok.text);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_int_eq(tok.type, SIEVE_TOK_NUMBER);
	ck_assert_uint_eq(tok.number, 10240);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_str_eq(tok.text, "a\"b\\cd");
	free(tok.text);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_str_eq(tok.text, "x\r\n.y\r\n");
	free(tok.text);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_int_eq(tok.type, SIEVE_TOK_SEMICOLON);
	ck_assert_int_eq(sieve_lexer_next(&lex, &tok, &error), 0);
	ck_assert_int_eq(tok.type, SIEVE_TOK_EOF);
}
END_TEST

START_TEST(test_lexer_errors)
{
	static const char *const bad[] = {
		"\"open", "/* open", "99999999999999999999999", "text: x\n",
		"text:\nno end\n", "12abc", ":", "@",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sieve_lexer lex;
		struct sieve_token tok;
		const char *error = NULL;

		sieve_lexer_init(&lex, bad[i], strlen(bad[i]));
		ck_assert_msg(sieve_lexer_next(&lex, &tok, &error) < 0, "%s", bad[i]);
		ck_assert_ptr_nonnull(error);
	}
}
END_TEST

START_TEST(test_compile_errors)
{
	static const struct { const char *script, *error; } cases[] = {
		{ "keep", "compile-error: line 1: expected ';' or '{', found end of script" },
		{ "fileinto \"x\";", "compile-error: line 1: unknown command 'fileinto' (its extension is not required)" },
		{ "\nrequire \"nope\";", "compile-error: line 2: unknown extension 'nope'" },
		{ "keep;\nrequire \"fileinto\";", "compile-error: line 2: require is only allowed at the start of the script" },
		{ "if size 1 { keep; }", "compile-error: line 1: size needs :over or :under" },
		{ "if header :is :contains \"a\" \"b\" { keep; }", "compile-error: line 1: tag :contains conflicts with an earlier tag" },
		{ "elsif true { keep; }", "compile-error: line 1: elsif without if" },
		{ "if true keep;", "compile-error: line 1: if needs a block" },
		{ "redirect \"x y\";", "compile-error: line 1: specified redirect address 'x y' is invalid" },
		{ "if header :comparator \"i;x\" :is \"a\" \"b\" {}", "compile-error: line 1: unknown comparator 'i;x'" },
		{ "stop {}", "compile-error: line 1: stop takes no block" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_run(cases[i].script, cases[i].error);
}
END_TEST

START_TEST(test_nesting_bounded)
{
	size_t depth = 100;
	char *script = malloc(depth * 16 + 16);
	char *p = script;

	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "if true {");
	for (size_t i = 0; i < depth; i++)
		*p++ = '}';
	*p = '\0';
	char *got = run_script(script, message);
	ck_assert_msg(strstr(got, "nested too deeply") != NULL, "%s", got);
	free(got);
	free(script);
}
END_TEST

static int match(enum sieve_match type, enum sieve_comparator cmp,
		 const char *value, const char *key, struct sieve_matcher *m)
{
	static uint64_t budget;

	budget = 1000000;
	memset(m, 0, sizeof(*m));
	m->match = type;
	m->comparator = cmp;
	m->budget = &budget;
	m->capture = true;
	return sieve_match_value(m, value, strlen(value), key, strlen(key));
}

START_TEST(test_match_types)
{
	struct sieve_matcher m;

	ck_assert_int_eq(match(SIEVE_MATCH_IS, SIEVE_CMP_CASEMAP, "Hello", "hELLO", &m), 1);
	ck_assert_int_eq(match(SIEVE_MATCH_IS, SIEVE_CMP_OCTET, "Hello", "hello", &m), 0);
	ck_assert_int_eq(match(SIEVE_MATCH_CONTAINS, SIEVE_CMP_CASEMAP, "Hello", "LL", &m), 1);
	ck_assert_int_eq(match(SIEVE_MATCH_CONTAINS, SIEVE_CMP_CASEMAP, "Hello", "", &m), 1);
	ck_assert_int_eq(match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP, "a*b", "a\\*b", &m), 1);
	ck_assert_int_eq(match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP, "axb", "a\\*b", &m), 0);
	ck_assert_int_eq(match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP, "", "*", &m), 1);
	ck_assert_int_eq(match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP, "ä", "?", &m), 1);
	ck_assert_int_eq(match(SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, "ä", "?", &m), 0);
	/* each star as short as it can be, left to right */
	ck_assert_int_eq(match(SIEVE_MATCH_MATCHES, SIEVE_CMP_CASEMAP,
			       "Foo <foo.lists.example.org>", "*<*.*>", &m), 1);
	ck_assert_uint_eq(m.nvars, 4);
	ck_assert_int_eq((int)m.vars[1].len, 4);
	ck_assert_int_eq(memcmp(m.vars[2].data, "foo", 3), 0);
	ck_assert_int_eq((int)m.vars[2].len, 3);
	ck_assert_int_eq((int)m.vars[3].len, (int)strlen("lists.example.org"));
}
END_TEST

START_TEST(test_match_budget)
{
	char value[4001], key[2002];
	uint64_t budget = 3000;
	struct sieve_matcher m;

	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (size_t i = 0; i < 1000; i++) {
		key[2 * i] = '*';
		key[2 * i + 1] = 'a';
	}
	strcpy(key + 2000, "b");
	memset(&m, 0, sizeof(m));
	m.match = SIEVE_MATCH_MATCHES;
	m.budget = &budget;
	ck_assert_int_eq(sieve_match_value(&m, value, strlen(value), key, strlen(key)), -1);
	ck_assert_uint_eq(budget, 0);
}
END_TEST

START_TEST(test_numeric_comparator)
{
	ck_assert_int_eq(sieve_compare(SIEVE_CMP_NUMERIC, "003", 3, "3", 1), 0);
	ck_assert_int_lt(sieve_compare(SIEVE_CMP_NUMERIC, "9", 1, "10", 2), 0);
	/* no digits: positive infinity */
	ck_assert_int_gt(sieve_compare(SIEVE_CMP_NUMERIC, "x", 1, "99999", 5), 0);
	ck_assert_int_eq(sieve_compare(SIEVE_CMP_NUMERIC, "x", 1, "y", 1), 0);
}
END_TEST

START_TEST(test_addresses)
{
	size_t n;
	struct sieve_address *a = sieve_parse_addresses(
		"\"Smith, J\" <j@x.org>, Team: ann@y.org, ben@y.org;, z@w (Zed), "
		"<@route,@r2:r@s.t>, \"quoted local\"@q.com, broken", &n);

	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(a[0].local, "j");
	ck_assert_str_eq(a[0].domain, "x.org");
	ck_assert_str_eq(a[1].raw, "ann@y.org");
	ck_assert_str_eq(a[2].raw, "ben@y.org");
	ck_assert_str_eq(a[3].raw, "z@w");
	ck_assert_str_eq(a[4].raw, "r@s.t");
	ck_assert_str_eq(a[5].local, "quoted local");
	ck_assert_ptr_null(a[6].local);
	ck_assert_str_eq(a[6].raw, "broken");
	sieve_addresses_free(a, n);
}
END_TEST

START_TEST(test_mime_words)
{
	struct strbuf out;

	strbuf_init(&out, 32);
	sieve_decode_mime_words(&out, "=?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?B?IQ==?= x =?bad");
	ck_assert_str_eq(out.data, "Grüße! x =?bad");
	strbuf_free(&out);
}
END_TEST

START_TEST(test_set_modifiers)
{
	struct strbuf v;

	strbuf_init(&v, 16);
	strbuf_append_str(&v, "hELLO*");
	sieve_vars_modify(&v, SIEVE_MOD_LOWER | SIEVE_MOD_UPPERFIRST | SIEVE_MOD_QUOTEWILDCARD);
	ck_assert_str_eq(v.data, "Hello\\*");
	sieve_vars_modify(&v, SIEVE_MOD_LENGTH);
	ck_assert_str_eq(v.data, "7");
	strbuf_free(&v);
}
END_TEST

START_TEST(test_runs)
{
	check_run("", "implicit-keep INBOX\n");
	check_run("discard;", "discard\n");
	check_run("require \"fileinto\"; fileinto \"a\"; fileinto \"a\"; keep;",
		  "store a\nstore INBOX\n");
	check_run("require [\"fileinto\", \"copy\"]; fileinto :copy \"a\";",
		  "store a copy\nimplicit-keep INBOX\n");
	check_run("if address :is \"from\" \"j.smith@example.org\" { discard; }",
		  "discard\n");
	check_run("if header :is \"subject\" \"hello world\" { discard; }",
		  "discard\n");
	check_run("if header :is \"x-folded\" \"a  b\" { discard; }", "discard\n");
	check_run("require [\"envelope\", \"subaddress\", \"fileinto\", \"variables\"];"
		  "if envelope :detail :matches \"to\" \"*\" { fileinto \"${1}\"; }",
		  "store box\n");
	check_run("require [\"imap4flags\"]; addflag \"\\\\Seen b\"; removeflag \"b\";",
		  "implicit-keep INBOX flags=\\seen\n");
	check_run("require \"reject\"; keep; reject \"no\";",
		  "error\nimplicit-keep INBOX\n");
	check_run("require [\"variables\", \"fileinto\"]; set \"a\" \"${b}\"; fileinto \"${a}\";",
		  "error\nimplicit-keep INBOX\n");
	check_run("require \"vacation\"; vacation :days 2 \"x\";",
		  "vacation seconds=172800\nimplicit-keep INBOX\n");
}
END_TEST

START_TEST(test_action_limit)
{
	struct strbuf script;

	strbuf_init(&script, 1024);
	strbuf_append_str(&script, "require \"fileinto\";");
	for (int i = 0; i < 40; i++)
		strbuf_appendf(&script, "fileinto \"f%d\";", i);
	char *got = run_script(script.data, message);
	ck_assert_str_eq(got, "error\nimplicit-keep INBOX\n");
	free(got);
	strbuf_free(&script);
}
END_TEST

static bool seen_always(void *context, const char *key)
{
	(void)context;
	return strcmp(key, "- <m1@x>") == 0;
}

START_TEST(test_duplicate_and_editheader)
{
	static const char text[] =
		"require [\"duplicate\", \"editheader\"];"
		"deleteheader \"x-folded\"; addheader :last \"X-New\" \"v\";"
		"if duplicate { discard; }";
	static const char msg_text[] = "Message-ID: <m1@x>\nX-Folded: a\nSubject: s\n\nbody\n";
	struct sieve_envelope envelope = { "a@b.c", "d@e.f", NULL };
	struct sieve_limits limits;
	struct sieve_script *script;
	struct sieve_message msg;
	struct sieve_result res;
	struct sieve_run_env env;
	char *error;

	sieve_limits_default(&limits);
	ck_assert_int_eq(sieve_compile(text, strlen(text), &limits, &script, &error), 0);
	sieve_message_parse(&msg, msg_text, strlen(msg_text));
	memset(&env, 0, sizeof(env));
	env.msg = &msg;
	env.envelope = &envelope;
	env.limits = &limits;
	env.duplicate_seen = seen_always;
	sieve_result_init(&res);
	sieve_run(script, &env, &res);
	ck_assert_ptr_null(res.error);
	ck_assert_uint_eq(res.count, 2);
	ck_assert_int_eq(res.actions[0].type, SIEVE_ACT_DUPLICATE);
	ck_assert_str_eq(res.actions[0].target, "- <m1@x>");
	ck_assert_int_eq(res.actions[1].type, SIEVE_ACT_DISCARD);
	ck_assert(!res.implicit_keep);
	/* the edited header: X-Folded gone, X-New last; the message's own
	   fields untouched */
	ck_assert(res.headers.owned);
	ck_assert_uint_eq(res.headers.count, 3);
	ck_assert_str_eq(res.headers.items[1].name, "Subject");
	ck_assert_str_eq(res.headers.items[2].name, "X-New");
	ck_assert_uint_eq(msg.nheaders, 3);
	ck_assert_str_eq(msg.headers[1].name, "X-Folded");
	sieve_result_free(&res);
	sieve_message_free(&msg);
	sieve_script_free(&script);
}
END_TEST

/* vacation_with - the verdict with settings (NULL: defaults), the
   original recipient orig and the reply's addresses in *reply_r */
static enum sieve_vacation_verdict
vacation_with(const char *from, const char *orig, const char *header,
	      const struct sieve_vacation_settings *set,
	      struct sieve_vacation_reply *reply_r)
{
	struct sieve_envelope envelope = { from, "bob@example.com", orig };
	static char *addresses[] = { "robert@example.com" };
	struct sieve_vacation_user user = { NULL, "bob@example.com" };
	struct sieve_vacation vac = { 0 };
	struct sieve_message msg;
	enum sieve_vacation_verdict verdict;

	vac.addresses = addresses;
	vac.naddresses = 1;
	sieve_message_parse(&msg, header, strlen(header));
	verdict = sieve_vacation_check(&msg, &envelope, &vac, set, &user, reply_r);
	sieve_message_free(&msg);
	return verdict;
}

static enum sieve_vacation_verdict vacation_verdict(const char *from,
						   const char *header)
{
	return vacation_with(from, NULL, header, NULL, NULL);
}

START_TEST(test_vacation_settings)
{
	struct sieve_vacation_settings set;
	struct sieve_vacation_reply reply;

	sieve_vacation_settings_default(&set);
	/* the original recipient counts only with use_original_recipient */
	ck_assert_int_eq(vacation_with("a@x.org", "alias@example.com",
				       "To: alias@example.com\n\n", &set, &reply),
			 SIEVE_VACATION_NOT_ADDRESSED);
	set.use_original_recipient = true;
	ck_assert_int_eq(vacation_with("a@x.org", "alias@example.com",
				       "To: alias@example.com\n\n", &set, &reply),
			 SIEVE_VACATION_REPLY);
	ck_assert_str_eq(reply.from, "alias@example.com");
	ck_assert_ptr_null(reply.smtp_from);
	set.send_from_recipient = true;
	ck_assert_int_eq(vacation_with("a@x.org", "alias@example.com",
				       "To: alias@example.com\n\n", &set, &reply),
			 SIEVE_VACATION_REPLY);
	ck_assert_str_eq(reply.smtp_from, "alias@example.com");
	/* :addresses answer from that address, the envelope from the
	   recipient */
	ck_assert_int_eq(vacation_with("a@x.org", NULL, "To: robert@example.com\n\n",
				       &set, &reply), SIEVE_VACATION_REPLY);
	ck_assert_str_eq(reply.from, "robert@example.com");
	ck_assert_str_eq(reply.smtp_from, "bob@example.com");
	/* dont_check_recipient: not addressed, answered from the user */
	set.dont_check_recipient = true;
	ck_assert_int_eq(vacation_with("a@x.org", NULL, "To: list@x.org\n\n",
				       &set, &reply), SIEVE_VACATION_REPLY);
	ck_assert_str_eq(reply.from, "bob@example.com");
	/* Outlook's suppression, and Pigeonhole's *-request* */
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: bob@example.com\n"
					  "X-Auto-Response-Suppress: DR, OOF\n\n"),
			 SIEVE_VACATION_SUPPRESSED);
	ck_assert_int_eq(vacation_verdict("x-request-y@x.org", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_SYSTEM_SENDER);
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_REPLY);
	sieve_vacation_settings_free(&set);
}
END_TEST

START_TEST(test_vacation_rules)
{
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: Bob <bob@example.com>\n\n"),
			 SIEVE_VACATION_REPLY);
	ck_assert_int_eq(vacation_verdict("a@x.org", "Cc: x@y, ROBERT@example.com\n\n"),
			 SIEVE_VACATION_REPLY);
	ck_assert_int_eq(vacation_verdict("", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_NULL_SENDER);
	ck_assert_int_eq(vacation_verdict("MAILER-DAEMON@x.org", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_SYSTEM_SENDER);
	ck_assert_int_eq(vacation_verdict("owner-list@x.org", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_SYSTEM_SENDER);
	ck_assert_int_eq(vacation_verdict("foo-request@x.org", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_SYSTEM_SENDER);
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: bob@example.com\nAuto-Submitted: auto-replied\n\n"),
			 SIEVE_VACATION_AUTO_SUBMITTED);
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: bob@example.com\nAuto-Submitted: no\n\n"),
			 SIEVE_VACATION_REPLY);
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: bob@example.com\nPrecedence: BULK\n\n"),
			 SIEVE_VACATION_BULK);
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: bob@example.com\nList-Id: <l.x.org>\n\n"),
			 SIEVE_VACATION_LIST);
	ck_assert_int_eq(vacation_verdict("robert@example.com", "To: bob@example.com\n\n"),
			 SIEVE_VACATION_OWN_MESSAGE);
	ck_assert_int_eq(vacation_verdict("a@x.org", "To: someone@else.org\n\n"),
			 SIEVE_VACATION_NOT_ADDRESSED);
}
END_TEST

/* write_file - dir/name with text */
static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* the compiled-script cache: a hit while nothing changed; a new
   compile when the script or a file its include read changes, even at
   the same size and mtime (the inode and ctime differ); compile errors
   cached too; a script in use survives its replacement */
START_TEST(test_cache)
{
	char dir[] = "/tmp/test_sieve_cache.XXXXXX", *path, *inc, *tmp, *error = NULL;
	struct sieve_limits limits;
	struct sieve_script_dirs dirs = { NULL, NULL };
	struct sieve_cache_ref *ref, *held;
	bool hit;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	dirs.personal = dir;
	sieve_limits_default(&limits);
	path = write_file(dir, "main.sieve",
			  "require \"include\";\ninclude :optional \"inc\";\nkeep;\n");
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_OK);
	ck_assert(!hit);
	held = ref;
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_OK);
	ck_assert(hit);
	sieve_cache_release(&ref);
	/* the included file appears: the optional include now reads it */
	inc = write_file(dir, "inc.sieve", "discard;\n");
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_OK);
	ck_assert(!hit);
	sieve_cache_release(&ref);
	/* the same bytes, replaced by rename (a new inode) */
	tmp = write_file(dir, "main.new",
			 "require \"include\";\ninclude :optional \"inc\";\nkeep;\n");
	ck_assert_int_eq(rename(tmp, path), 0);
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_OK);
	ck_assert(!hit);
	sieve_cache_release(&ref);
	/* other compile settings: another entry */
	limits.extensions &= ~(1u << SIEVE_EXT_INCLUDE);
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_COMPILE_ERROR);
	ck_assert_ptr_nonnull(strstr(error, "include"));
	free(error);
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_COMPILE_ERROR);
	free(error);
	/* the first script is still usable after all that */
	ck_assert_ptr_nonnull(sieve_cache_script(held));
	sieve_cache_release(&held);
	ck_assert_int_eq(unlink(inc), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(sieve_cache_get(path, &limits, &dirs, &ref, &hit, &error),
			 SIEVE_CACHE_MISSING);
	sieve_cache_clear();
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
	free(inc);
	free(tmp);
}
END_TEST

/* the settings of the mail Sieve sends, read as Pigeonhole 0.5 reads
   them */
START_TEST(test_settings_send)
{
	static const char *const bad[][2] = {
		{ "sieve_vacation_min_period", "1w" },
		{ "sieve_vacation_min_period", "1 d" },
		{ "sieve_vacation_max_period", "-1" },
		{ "sieve_vacation_send_from_recipient", "true" },
		{ "sieve_redirect_envelope_from", "me@example.com" },
		{ "sieve_user_email", "nobody" },
		{ "sieve_max_actions", "-2" },
		{ "sieve_max_script_size", "1 M" },
		{ "sieve_max_script_size", "1Q" },
		{ "sieve_notify_mailto_envelope_from", "sender" },
	};
	struct sieve_user_settings set;
	struct kvlist plugin;
	const char *key;
	char *error = NULL;

	kvlist_init(&plugin);
	kvlist_set(&plugin, "sieve_vacation_min_period", "2h");
	kvlist_set(&plugin, "sieve_vacation_max_period", "30days");
	kvlist_set(&plugin, "sieve_vacation_default_period", "3d");
	kvlist_set(&plugin, "sieve_vacation_dont_check_recipient", "YES");
	kvlist_set(&plugin, "sieve_redirect_envelope_from", "<Bounce@X.org>");
	kvlist_set(&plugin, "sieve_redirect_duplicate_period", "10m");
	kvlist_set(&plugin, "sieve_user_email", "<me@x.org>");
	kvlist_set(&plugin, "sieve_vacation_default_subject_template", "%%$ (%n)");
	kvlist_set(&plugin, "sieve_max_actions", "");
	kvlist_set(&plugin, "sieve_max_script_size", "2MB");
	ck_assert_int_eq(sieve_user_settings_get(&plugin, "u@x", "/home/u", &set,
						 &error), 0);
	ck_assert_uint_eq(set.limits.vacation_min_period, 7200);
	ck_assert_uint_eq(set.limits.vacation_max_period, 30 * 86400);
	ck_assert_uint_eq(set.limits.vacation_default_period, 3 * 86400);
	ck_assert_uint_eq(set.limits.max_actions, 32);
	ck_assert_uint_eq(set.limits.max_script_size, 2 * 1024 * 1024);
	ck_assert(set.send.vacation.dont_check_recipient);
	ck_assert(!set.send.vacation.send_from_recipient);
	ck_assert_int_eq(set.send.redirect_from, SIEVE_ADDRESS_SOURCE_EXPLICIT);
	ck_assert_str_eq(set.send.redirect_from_address, "bounce@x.org");
	ck_assert_uint_eq(set.send.redirect_duplicate_period, 600);
	ck_assert_str_eq(set.send.user_email, "me@x.org");
	ck_assert_str_eq(set.send.vacation.default_subject_template, "%$ (u)");
	sieve_user_settings_free(&set);
	/* min <= default <= max when there is a max */
	kvlist_set(&plugin, "sieve_vacation_default_period", "1h");
	ck_assert_int_eq(sieve_settings_check(&plugin, &key, &error), -1);
	ck_assert_str_eq(key, "sieve_vacation_default_period");
	free(error);
	kvlist_set(&plugin, "sieve_vacation_max_period", "0");
	ck_assert_int_eq(sieve_settings_check(&plugin, &key, &error), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kvlist_set(&plugin, bad[i][0], bad[i][1]);
		ck_assert_msg(sieve_settings_check(&plugin, &key, &error) == -1,
			      "%s = %s accepted", bad[i][0], bad[i][1]);
		ck_assert_str_eq(key, bad[i][0]);
		free(error);
		kvlist_set(&plugin, bad[i][0], "");
	}
	kvlist_free(&plugin);
}
END_TEST

/* plugin { } as Pigeonhole reads it: numbered before/after until one is
   missing, file: locations, sieve_default, the user log next to the
   active script, and the setting at fault named */
START_TEST(test_settings_sequence)
{
	struct sieve_user_settings set;
	struct kvlist plugin;
	const char *key;
	char *error = NULL;

	kvlist_init(&plugin);
	kvlist_set(&plugin, "sieve_before", "/etc/sieve/a.sieve");
	kvlist_set(&plugin, "sieve_before2", "file:~/b.sieve;bindir=~/bin");
	kvlist_set(&plugin, "sieve_before4", "/never/read.sieve");
	kvlist_set(&plugin, "sieve_after", "/etc/sieve/after.d");
	kvlist_set(&plugin, "sieve_default", "file:/etc/sieve/default.sieve");
	ck_assert_int_eq(sieve_user_settings_get(&plugin, "u@x", "/home/u", &set,
						 &error), 0);
	ck_assert_uint_eq(set.nbefore, 2);
	ck_assert_str_eq(set.before[0], "/etc/sieve/a.sieve");
	ck_assert_str_eq(set.before[1], "/home/u/b.sieve");
	ck_assert_uint_eq(set.nafter, 1);
	ck_assert_str_eq(set.default_path, "/etc/sieve/default.sieve");
	ck_assert_str_eq(set.active_path, "/home/u/.dovecot.sieve");
	ck_assert_str_eq(set.user_log, "/home/u/.dovecot.sieve.log");
	sieve_user_settings_free(&set);
	/* no home: no personal script, the rest stays */
	ck_assert_int_eq(sieve_user_settings_get(&plugin, "u@x", NULL, &set,
						 &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "home"));	/* sieve_before2's ~ */
	free(error);
	kvlist_set(&plugin, "sieve_before2", "");
	ck_assert_int_eq(sieve_user_settings_get(&plugin, "u@x", NULL, &set,
						 &error), 0);
	ck_assert_ptr_null(set.active_path);
	ck_assert_ptr_null(set.user_log);
	ck_assert_uint_eq(set.nbefore, 1);
	sieve_user_settings_free(&set);
	kvlist_set(&plugin, "sieve_max_actions", "many");
	ck_assert_int_eq(sieve_settings_check(&plugin, &key, &error), -1);
	ck_assert_str_eq(key, "sieve_max_actions");
	free(error);
	kvlist_set(&plugin, "sieve_max_actions", "3");
	kvlist_set(&plugin, "sieve_after2", "ldap:/etc/sieve.ldap");
	ck_assert_int_eq(sieve_settings_check(&plugin, &key, &error), -1);
	ck_assert_str_eq(key, "sieve_after2");
	ck_assert_ptr_nonnull(strstr(error, "'ldap' is not supported"));
	free(error);
	kvlist_free(&plugin);
}
END_TEST

static Suite *sieve_suite(void)
{
	Suite *s = suite_create("sieve");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lexer_tokens);
	tcase_add_test(tc, test_lexer_errors);
	tcase_add_test(tc, test_compile_errors);
	tcase_add_test(tc, test_nesting_bounded);
	tcase_add_test(tc, test_match_types);
	tcase_add_test(tc, test_match_budget);
	tcase_add_test(tc, test_numeric_comparator);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_mime_words);
	tcase_add_test(tc, test_set_modifiers);
	tcase_add_test(tc, test_runs);
	tcase_add_test(tc, test_action_limit);
	tcase_add_test(tc, test_duplicate_and_editheader);
	tcase_add_test(tc, test_vacation_rules);
	tcase_add_test(tc, test_vacation_settings);
	tcase_add_test(tc, test_settings_send);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_settings_sequence);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sieve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
