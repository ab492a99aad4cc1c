/*
 * test_var_expand - unit tests for lib/var_expand: short and long keys,
 * the %L/%U modifiers, %%, user tables and every error.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "var_expand.h"

struct expand_case {
	const char *user;
	const char *home;
	const char *input;
	const char *want;	/* expansion, or NULL when an error is wanted */
	const char *want_error;
};

static const struct expand_case expand_cases[] = {
	{ "Alice@Example.COM", "/home/Alice", "", "", NULL },
	{ "Alice@Example.COM", "/home/Alice", "plain/path", "plain/path", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%u", "Alice@Example.COM", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%n", "Alice", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%d", "Example.COM", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%h", "/home/Alice", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%%", "%", NULL },
	{ "Alice@Example.COM", "/home/Alice", "100%%n", "100%n", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%Lu", "alice@example.com", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%Ln", "alice", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%Ud", "EXAMPLE.COM", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%ULn", "alice", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%{user}", "Alice@Example.COM", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%{username}", "Alice", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%{domain}", "Example.COM", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%{home}", "/home/Alice", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%L{user}", "alice@example.com", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%U{username}", "ALICE", NULL },
	{ "Alice@Example.COM", "/home/Alice", "/var/vmail/%Ld/%Ln/Maildir",
	  "/var/vmail/example.com/alice/Maildir", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%h/mail:INBOX=%h/in-%{username}",
	  "/home/Alice/mail:INBOX=/home/Alice/in-Alice", NULL },
	{ "Alice@Example.COM", NULL, "%h", "", NULL },
	{ "Alice@Example.COM", NULL, "[%{home}]", "[]", NULL },
	{ "bob", "/home/bob", "%n|%d|%u", "bob||bob", NULL },
	{ "bob", "/home/bob", "%{domain}", "", NULL },
	/* split at the last '@', as Dovecot does */
	{ "a@b@c", "/h", "%n %d", "a@b c", NULL },
	{ "Alice@Example.COM", "/home/Alice", "%x", NULL, "Unknown variable: %x" },
	{ "Alice@Example.COM", "/home/Alice", "ok %Lz", NULL, "Unknown variable: %z" },
	{ "Alice@Example.COM", "/home/Alice", "%{foo}", NULL, "Unknown variable: %{foo}" },
	{ "Alice@Example.COM", "/home/Alice", "%L{nope}/x", NULL,
	  "Unknown variable: %{nope}" },
	{ "Alice@Example.COM", "/home/Alice", "%{}", NULL, "Unknown variable: %{}" },
	{ "Alice@Example.COM", "/home/Alice", "abc%", NULL,
	  "Missing variable after % at end of: abc%" },
	{ "Alice@Example.COM", "/home/Alice", "abc%L", NULL,
	  "Missing variable after % at end of: abc%L" },
	{ "Alice@Example.COM", "/home/Alice", "%{user", NULL,
	  "Missing '}' after %{ in: %{user" },
};

START_TEST(test_expand_user)
{
	const struct expand_case *c = &expand_cases[_i];
	struct var_expand_user vu;
	struct strbuf out;
	const char *error = NULL;
	int ret;

	var_expand_user_init(&vu, c->user, c->home);
	strbuf_init(&out, 16);
	strbuf_append_str(&out, "pre:");
	ret = var_expand(&out, c->input, vu.table, &error);
	if (c->want != NULL) {
		ck_assert_msg(ret == 0, "%s: got error %s, want %s",
			      c->input, error, c->want);
		ck_assert_msg(strcmp(out.data + 4, c->want) == 0,
			      "%s: got %s, want %s", c->input, out.data + 4, c->want);
	} else {
		ck_assert_msg(ret < 0, "%s: got success (%s), want error %s",
			      c->input, out.data, c->want_error);
		ck_assert_msg(strcmp(error, c->want_error) == 0,
			      "%s: got error %s, want %s", c->input, error,
			      c->want_error);
	}
	strbuf_free(&out);
	var_expand_user_free(&vu);
	ck_assert_ptr_null(vu.local_part);
}
END_TEST

/* a custom table with a long-only entry and a long_key of its own */
static const struct var_expand_table custom_table[] = {
	{ 'u', "user", "Carol", false },
	{ 's', "service", "lmtp", false },
	{ '\0', "session", "S1d2", false },
	{ 'x', NULL, NULL, false },
	{ '\0', NULL, NULL, false },
};

struct custom_case {
	const char *input;
	const char *want;
};

static const struct custom_case custom_cases[] = {
	{ "%s/%{service}/%U{service}", "lmtp/lmtp/LMTP" },
	{ "%{session}-%L{session}", "S1d2-s1d2" },
	{ "<%x>", "<>" },
	{ "%L{user}", "carol" },
};

START_TEST(test_expand_custom)
{
	const struct custom_case *c = &custom_cases[_i];
	struct strbuf out;
	const char *error = NULL;

	strbuf_init(&out, 16);
	ck_assert_msg(var_expand(&out, c->input, custom_table, &error) == 0,
		      "%s: got error %s, want %s", c->input, error, c->want);
	ck_assert_msg(strcmp(out.data, c->want) == 0, "%s: got %s, want %s",
		      c->input, out.data, c->want);
	strbuf_free(&out);
}
END_TEST

START_TEST(test_custom_no_alias)
{
	/* the user/username/... aliases need the short key in the table */
	struct strbuf out;
	const char *error = NULL;

	strbuf_init(&out, 16);
	ck_assert_int_eq(var_expand(&out, "%{domain}", custom_table, &error), -1);
	ck_assert_str_eq(error, "Unknown variable: %{domain}");
	strbuf_free(&out);
}
END_TEST

/* path expansions: a user name may not climb out of the template */
static const struct {
	const char *user, *tmpl;
	int want_ret;			/* 0, or VAR_EXPAND_UNSAFE */
	const char *want;
} path_cases[] = {
	{ "alice@example.com", "/vmail/%d/%n", 0, "/vmail/example.com/alice" },
	{ "x/../../../../tmp/a@example.com", "/vmail/%d/%n", VAR_EXPAND_UNSAFE, NULL },
	{ "y@[a:/../../../../tmp/b]", "/vmail/%d/%n", VAR_EXPAND_UNSAFE, NULL },
	{ "a@../../../../tmp/c@example.com", "/vmail/%d/%n", VAR_EXPAND_UNSAFE, NULL },
	{ "x@../../../../tmp/evil@example.com", "/etc/loft/%d/passwd", 0,
	  "/etc/loft/example.com/passwd" },
	{ "x@..", "/vmail/%d/%n", VAR_EXPAND_UNSAFE, NULL },
	{ "..@example.com", "/vmail/%d/%n", VAR_EXPAND_UNSAFE, NULL },
	{ ".@.", "/vmail/%n%d", VAR_EXPAND_UNSAFE, NULL },
	{ "a..b@example.com", "/vmail/%d/%n", 0, "/vmail/example.com/a..b" },
	/* the admin's own ".." is the admin's */
	{ "alice@example.com", "/vmail/../shared/%n", 0, "/vmail/../shared/alice" },
	/* %h comes from the userdb, not from the sender */
	{ "alice@example.com", "%h/Maildir", 0, "/home/a/Maildir" },
};

START_TEST(test_expand_path)
{
	char *result;
	const char *error;
	int ret = var_expand_user_string(path_cases[_i].tmpl, path_cases[_i].user,
					 "/home/a", true, &result, &error);

	ck_assert_msg(ret == path_cases[_i].want_ret, "%s in %s: got %d (%s)",
		      path_cases[_i].user, path_cases[_i].tmpl, ret,
		      ret < 0 ? error : result);
	if (ret == 0) {
		ck_assert_str_eq(result, path_cases[_i].want);
		free(result);
	}
	/* the same names are fine where no path is made */
	ck_assert_int_eq(var_expand_user_string(path_cases[_i].tmpl,
						path_cases[_i].user, "/home/a",
						false, &result, &error), 0);
	free(result);
}
END_TEST

static Suite *var_expand_suite(void)
{
	Suite *s = suite_create("var_expand");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_expand_user, 0,
			    (int)(sizeof(expand_cases) / sizeof(expand_cases[0])));
	tcase_add_loop_test(tc, test_expand_custom, 0,
			    (int)(sizeof(custom_cases) / sizeof(custom_cases[0])));
	tcase_add_test(tc, test_custom_no_alias);
	tcase_add_loop_test(tc, test_expand_path, 0,
			    (int)(sizeof(path_cases) / sizeof(path_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(var_expand_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
