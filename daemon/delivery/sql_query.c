/*
 * sql_query - Dovecot SQL query templates as parameterized queries (see
 * sql_query.h). The scanner knows just enough of SQL's lexical rules to
 * tell where a variable stands: in a plain '...' literal, bare, or in a
 * place it may not be (an identifier, an E'' or $$ string, a comment).
 */
#include "sql_query.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "strbuf.h"
#include "var_expand.h"
#include "xalloc.h"

static __thread struct error_slot sql_query_error;

/* variable_len - the length of the variable at str ('%' first), 0 for
   "%%", -1 for a '%' that starts none */
static int variable_len(const char *str)
{
	size_t i = 1;

	if (str[1] == '%')
		return 0;
	while (str[i] == 'L' || str[i] == 'U')
		i++;
	if (str[i] == '{') {
		const char *end = strchr(str + i, '}');

		return end == NULL ? -1 : (int)(end - str + 1);
	}
	return str[i] == '\0' ? -1 : (int)(i + 1);
}

/* add_param - a placeholder for template in text; 0 or -1 with *error_r */
static int add_param(struct sql_query *query, struct strbuf *text,
		     const char *template, size_t len, const char **error_r)
{
	if (query->param_count == SQL_QUERY_MAX_PARAMS) {
		*error_r = error_slot_set(&sql_query_error,
			"more than %d variables", SQL_QUERY_MAX_PARAMS);
		return -1;
	}
	query->params[query->param_count++] = xstrndup(template, len);
	strbuf_appendf(text, "$%zu", query->param_count);
	return 0;
}

/* literal_end - the index just past the '...' literal starting at i (a
   doubled '' stays inside); its content, quotes removed, into content */
static size_t literal_end(const char *str, size_t i, struct strbuf *content,
			  bool *closed_r)
{
	for (i++; str[i] != '\0'; i++) {
		if (str[i] == '\'' && str[i + 1] == '\'') {
			strbuf_putc(content, '\'');
			i++;
		} else if (str[i] == '\'') {
			*closed_r = true;
			return i + 1;
		} else {
			strbuf_putc(content, str[i]);
		}
	}
	*closed_r = false;
	return i;
}

/* forbidden_span - the length of an identifier, E'' or $$ string or
   comment starting at i (variables may not be in it), or 0 */
static size_t forbidden_span(const char *str, size_t i)
{
	const char *end = NULL;

	if (str[i] == '"')
		end = strchr(str + i + 1, '"');
	else if ((str[i] == 'E' || str[i] == 'e') && str[i + 1] == '\'' &&
		 (i == 0 || !(str[i - 1] == '_' ||
			      (str[i - 1] >= 'a' && str[i - 1] <= 'z') ||
			      (str[i - 1] >= 'A' && str[i - 1] <= 'Z') ||
			      (str[i - 1] >= '0' && str[i - 1] <= '9'))))
		end = strchr(str + i + 2, '\'');
	else if (str[i] == '$' && str[i + 1] == '$')
		end = strstr(str + i + 2, "$$") != NULL ?
			strstr(str + i + 2, "$$") + 1 : NULL;
	else if (str[i] == '-' && str[i + 1] == '-')
		end = str + strlen(str) - 1;
	else if (str[i] == '/' && str[i + 1] == '*')
		end = strstr(str + i + 2, "*/") != NULL ?
			strstr(str + i + 2, "*/") + 1 : NULL;
	else
		return 0;
	return end == NULL ? strlen(str + i) : (size_t)(end - (str + i)) + 1;
}

int sql_query_compile(const char *template, struct sql_query *query_r,
		      const char **error_r)
{
	struct strbuf text, content;
	size_t i = 0, span;
	bool closed;
	int len, ret = 0;

	memset(query_r, 0, sizeof(*query_r));
	strbuf_init(&text, strlen(template) + 16);
	strbuf_init(&content, 64);
	while (ret == 0 && template[i] != '\0') {
		if (template[i] == '\'') {
			strbuf_reset(&content);
			span = literal_end(template, i, &content, &closed);
			if (!closed) {
				*error_r = "a '...' string is not closed";
				ret = -1;
			} else if (strchr(content.data, '%') == NULL) {
				strbuf_append(&text, template + i, span - i);
			} else {
				ret = add_param(query_r, &text, content.data,
						content.len, error_r);
			}
			i = span;
		} else if ((span = forbidden_span(template, i)) > 0) {
			if (memchr(template + i, '%', span) != NULL) {
				*error_r = error_slot_set(&sql_query_error,
					"a variable inside %.*s cannot be "
					"passed safely: put it in a plain "
					"'...' string", (int)(span > 20 ? 20 :
							     span),
					template + i);
				ret = -1;
			}
			strbuf_append(&text, template + i, span);
			i += span;
		} else if (template[i] == '%') {
			len = variable_len(template + i);
			if (len < 0) {
				*error_r = "a '%' that starts no variable";
				ret = -1;
			} else if (len == 0) {
				strbuf_putc(&text, '%');
				i += 2;
			} else {
				ret = add_param(query_r, &text, template + i,
						(size_t)len, error_r);
				i += (size_t)len;
			}
		} else {
			strbuf_putc(&text, template[i++]);
		}
	}
	strbuf_free(&content);
	query_r->text = strbuf_detach(&text);
	if (ret < 0)
		sql_query_free(query_r);
	return ret;
}

void sql_query_free(struct sql_query *query)
{
	for (size_t i = 0; i < query->param_count; i++)
		free(query->params[i]);
	free(query->text);
	memset(query, 0, sizeof(*query));
}

int sql_query_bind(const struct sql_query *query, const char *username,
		   char *values_r[SQL_QUERY_MAX_PARAMS], const char **error_r)
{
	for (size_t i = 0; i < query->param_count; i++) {
		int ret = var_expand_user_string(query->params[i], username,
						 NULL, false, &values_r[i],
						 error_r);

		if (ret < 0) {
			for (size_t j = 0; j < i; j++)
				free(values_r[j]);
			return ret;
		}
	}
	return 0;
}

void sql_query_values_free(const struct sql_query *query,
			   char *values[SQL_QUERY_MAX_PARAMS])
{
	for (size_t i = 0; i < query->param_count; i++)
		free(values[i]);
}
