/*
 * test_sql_query - unit tests for daemon/delivery/sql_query (Dovecot SQL
 * templates as parameterized queries) and sql_conf (the
 * dovecot-sql.conf.ext reader): where variables may stand, what each
 * parameter expands to for a hostile user name, and the file syntax.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sql_conf.h"
#include "sql_query.h"

static const struct {
	const char *template, *text;
	const char *params[3];
} compile_cases[] = {
	{ "SELECT home FROM users WHERE userid = '%u'",
	  "SELECT home FROM users WHERE userid = $1", { "%u" } },
	{ "SELECT '/var/mail/' || domain AS home FROM t WHERE u = '%n' AND d = '%d'",
	  "SELECT '/var/mail/' || domain AS home FROM t WHERE u = $1 AND d = $2",
	  { "%n", "%d" } },
	{ "SELECT 1 FROM t WHERE u = '%n@%d'", "SELECT 1 FROM t WHERE u = $1",
	  { "%n@%d" } },
	{ "SELECT 1 FROM t WHERE u = %u AND x = 'it''s'",
	  "SELECT 1 FROM t WHERE u = $1 AND x = 'it''s'", { "%u" } },
	{ "SELECT 1 FROM t WHERE u = 'o''%Lu'", "SELECT 1 FROM t WHERE u = $1",
	  { "o'%Lu" } },
	{ "SELECT 1 FROM t WHERE u LIKE 'a%%' AND v = %{user}",
	  "SELECT 1 FROM t WHERE u LIKE $1 AND v = $2", { "a%%", "%{user}" } },
	{ "SELECT 1 WHERE 5 %% 2 = 1", "SELECT 1 WHERE 5 % 2 = 1", { NULL } },
	{ "SELECT \"home\" FROM t -- comment\n", "SELECT \"home\" FROM t -- comment\n",
	  { NULL } },
};

START_TEST(test_compile)
{
	const char *error;
	struct sql_query q;

	for (size_t i = 0; i < sizeof(compile_cases) / sizeof(compile_cases[0]); i++) {
		ck_assert_msg(sql_query_compile(compile_cases[i].template, &q,
						&error) == 0, "%zu: %s", i, error);
		ck_assert_str_eq(q.text, compile_cases[i].text);
		for (size_t p = 0; p < 3; p++) {
			if (compile_cases[i].params[p] == NULL) {
				ck_assert_uint_eq(q.param_count, p);
				break;
			}
			ck_assert_str_eq(q.params[p], compile_cases[i].params[p]);
		}
		sql_query_free(&q);
	}
}
END_TEST

START_TEST(test_compile_refused)
{
	static const char *const bad[] = {
		"SELECT \"%u\" FROM t",
		"SELECT 1 FROM t WHERE u = E'%u'",
		"SELECT 1 FROM t WHERE u = $$%u$$",
		"SELECT 1 FROM t -- %u",
		"SELECT 1 FROM t /* %u */",
		"SELECT 1 FROM t WHERE u = '%u",
		"SELECT 1 FROM t WHERE u = %",
		"SELECT 1 FROM t WHERE u = %{user",
	};
	const char *error;
	struct sql_query q;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(sql_query_compile(bad[i], &q, &error) < 0, "%s",
			      bad[i]);
		ck_assert_ptr_nonnull(error);
	}
}
END_TEST

START_TEST(test_bind_hostile)
{
	char *values[SQL_QUERY_MAX_PARAMS];
	const char *error;
	struct sql_query q;

	ck_assert_int_eq(sql_query_compile("SELECT 1 FROM t WHERE n = '%n' AND "
					   "d = '%d' AND u = '%u'", &q, &error), 0);
	ck_assert_int_eq(sql_query_bind(&q, "x' OR '1'='1@exa'mple.com", values,
					&error), 0);
	ck_assert_str_eq(values[0], "x' OR '1'='1");
	ck_assert_str_eq(values[1], "exa'mple.com");
	ck_assert_str_eq(values[2], "x' OR '1'='1@exa'mple.com");
	/* the text never changes with the user */
	ck_assert_str_eq(q.text, "SELECT 1 FROM t WHERE n = $1 AND d = $2 AND u = $3");
	sql_query_values_free(&q, values);
	sql_query_free(&q);
}
END_TEST

START_TEST(test_conf)
{
	struct sql_conf conf;
	const char *error;

	ck_assert_int_eq(sql_conf_parse("/f",
		"# comment\n\ndriver = pgsql\nconnect = host=a dbname=b\n"
		"user_query = SELECT home \\\n  FROM users \\\n  WHERE u = '%u'\n"
		"password_query = SELECT password FROM users\n", &conf, &error), 0);
	ck_assert_str_eq(conf.connect, "host=a dbname=b");
	ck_assert_str_eq(conf.user_query, "SELECT home FROM users WHERE u = '%u'");
	ck_assert_str_eq(conf.iterate_query, SQL_CONF_DEFAULT_ITERATE_QUERY);
	sql_conf_free(&conf);

	ck_assert_int_eq(sql_conf_parse("/f", "driver = pgsql\nconnect = x=y\n"
					"bogus = 1\n", &conf, &error), -1);
	ck_assert_str_eq(error, "/f:3: Unknown setting: bogus");
	ck_assert_int_eq(sql_conf_parse("/f", "driver = sqlite\nconnect = x\n",
					&conf, &error), -1);
	ck_assert_str_eq(error, "/f: driver sqlite: loft supports pgsql only");
	ck_assert_int_eq(sql_conf_parse("/f", "driver = pgsql\n", &conf, &error), -1);
	ck_assert_str_eq(error, "/f: connect not set");
	ck_assert_int_eq(sql_conf_parse("/f", "driver pgsql\n", &conf, &error), -1);
	ck_assert_str_eq(error, "/f:1: Missing '='");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sql_query");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_compile);
	tcase_add_test(tc, test_compile_refused);
	tcase_add_test(tc, test_bind_hostile);
	tcase_add_test(tc, test_conf);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
