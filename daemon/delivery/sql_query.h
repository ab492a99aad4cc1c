/*
 * sql_query - a Dovecot SQL query template (`user_query = SELECT home
 * FROM users WHERE userid = '%u'`) turned into a parameterized query, so
 * that a recipient's address is never spliced into SQL text.
 *
 * Compiling rewrites each single-quoted literal that holds a variable
 * ('%u', '%n@%d', 'x%%y' stays a literal) and each bare variable (%u,
 * %{user}) into a placeholder $1, $2, ... and keeps the literal's text
 * (quotes removed, '' made ') as that parameter's template. Binding
 * expands every parameter's template for one user. Variables inside
 * double-quoted identifiers, E'' strings, dollar-quoted strings or
 * comments are refused at compile time: they cannot be made parameters.
 */
#ifndef LOFT_SQL_QUERY_H
#define LOFT_SQL_QUERY_H

#include <stddef.h>

/* at most this many parameters in one query */
#define SQL_QUERY_MAX_PARAMS 32

struct sql_query {
	char *text;			/* with $1..$n */
	size_t param_count;
	char *params[SQL_QUERY_MAX_PARAMS];	/* templates, unexpanded */
};

/* sql_query_compile - template to query; 0, or -1 with *error_r */
int sql_query_compile(const char *template, struct sql_query *query_r,
		      const char **error_r);
void sql_query_free(struct sql_query *query);

/* sql_query_bind - expand each parameter for username (%u %n %d ...);
   values_r[i] are allocated (free with sql_query_values_free); 0, or -1 /
   VAR_EXPAND_UNSAFE with *error_r */
int sql_query_bind(const struct sql_query *query, const char *username,
		   char *values_r[SQL_QUERY_MAX_PARAMS], const char **error_r);
void sql_query_values_free(const struct sql_query *query,
			   char *values[SQL_QUERY_MAX_PARAMS]);

#endif
