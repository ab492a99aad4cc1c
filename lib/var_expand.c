/*
 * var_expand - expand Dovecot-style %variables (see var_expand.h).
 *
 * A variable is %[modifiers]KEY where KEY is one character or {long name}
 * and the modifiers are L (lower case) and U (upper case); the last one
 * given wins. Long names are looked up in the table's long_key entries
 * first, then user/username/domain/home map to the short keys u/n/d/h.
 */
#include "var_expand.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAR_EXPAND_ERROR_MAX 256
static __thread char var_expand_error_buf[VAR_EXPAND_ERROR_MAX];

enum var_expand_case { VAR_EXPAND_CASE_KEEP, VAR_EXPAND_CASE_LOWER, VAR_EXPAND_CASE_UPPER };

/* long names that stand for a short key when the table has no long_key */
static const struct {
	const char *name;
	char key;
} var_expand_long_aliases[] = {
	{ "user", 'u' }, { "username", 'n' }, { "domain", 'd' }, { "home", 'h' },
};

/* var_expand_fail - set *error_r to "Unknown variable: %.*s"-like text */
static int var_expand_fail(const char **error_r, const char *prefix,
			   const char *what, size_t len)
{
	snprintf(var_expand_error_buf, sizeof(var_expand_error_buf), "%s%.*s",
		 prefix, (int)len, what);
	*error_r = var_expand_error_buf;
	return -1;
}

/* var_expand_is_end - whether an entry terminates the table */
static bool var_expand_is_end(const struct var_expand_table *entry)
{
	return entry->key == '\0' && entry->long_key == NULL;
}

/* var_expand_find_short - the entry for short key, or NULL */
static const struct var_expand_table *
var_expand_find_short(const struct var_expand_table *table, char key)
{
	for (; !var_expand_is_end(table); table++) {
		if (table->key == key)
			return table;
	}
	return NULL;
}

/* var_expand_find_long - the entry for len bytes of name, or NULL */
static const struct var_expand_table *
var_expand_find_long(const struct var_expand_table *table, const char *name,
		     size_t len)
{
	for (const struct var_expand_table *t = table; !var_expand_is_end(t); t++) {
		if (t->long_key != NULL && strncmp(t->long_key, name, len) == 0 &&
		    t->long_key[len] == '\0')
			return t;
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(var_expand_long_aliases); i++) {
		const char *alias = var_expand_long_aliases[i].name;
		if (strlen(alias) == len && strncmp(alias, name, len) == 0)
			return var_expand_find_short(table,
						     var_expand_long_aliases[i].key);
	}
	return NULL;
}

/* var_expand_append - value to dest in the requested case */
static void var_expand_append(struct strbuf *dest, const char *value,
			      enum var_expand_case mode)
{
	if (value == NULL)
		return;
	if (mode == VAR_EXPAND_CASE_KEEP) {
		strbuf_append_str(dest, value);
		return;
	}
	for (; *value != '\0'; value++) {
		unsigned char c = (unsigned char)*value;
		strbuf_putc(dest, (char)(mode == VAR_EXPAND_CASE_LOWER ?
					 tolower(c) : toupper(c)));
	}
}

/* var_expand_value_unsafe - why value may not go into a path, or NULL */
static const char *var_expand_value_unsafe(const char *value)
{
	if (value == NULL)
		return NULL;
	if (strchr(value, '/') != NULL)
		return "contains '/'";
	if (strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
		return "is a relative folder name";
	return NULL;
}

/* var_expand_has_dot_component - path has a "." or ".." component */
static bool var_expand_has_dot_component(const char *path, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if ((i - start == 1 && path[start] == '.') ||
		    (i - start == 2 && path[start] == '.' && path[start + 1] == '.'))
			return true;
		start = i + 1;
	}
	return false;
}

/* var_expand_run - var_expand; with path, untrusted values are checked */
static int var_expand_run(struct strbuf *dest, const char *str,
			  const struct var_expand_table *table, bool path,
			  const char **error_r)
{
	const char *p = str;

	while (*p != '\0') {
		const struct var_expand_table *entry;
		enum var_expand_case mode = VAR_EXPAND_CASE_KEEP;
		const char *pct = strchr(p, '%');

		if (pct == NULL) {
			strbuf_append_str(dest, p);
			break;
		}
		strbuf_append(dest, p, (size_t)(pct - p));
		p = pct + 1;
		for (; *p == 'L' || *p == 'U'; p++)
			mode = *p == 'L' ? VAR_EXPAND_CASE_LOWER : VAR_EXPAND_CASE_UPPER;
		if (*p == '\0') {
			return var_expand_fail(error_r, "Missing variable after % at end of: ",
					       str, strlen(str));
		}
		if (*p == '%') {
			strbuf_putc(dest, '%');
			p++;
			continue;
		}
		if (*p == '{') {
			const char *name = p + 1, *end = strchr(name, '}');
			if (end == NULL)
				return var_expand_fail(error_r, "Missing '}' after %{ in: ",
						       str, strlen(str));
			entry = var_expand_find_long(table, name, (size_t)(end - name));
			if (entry == NULL)
				return var_expand_fail(error_r, "Unknown variable: %",
						       p, (size_t)(end - p) + 1);
			p = end + 1;
		} else {
			entry = var_expand_find_short(table, *p);
			if (entry == NULL)
				return var_expand_fail(error_r, "Unknown variable: %",
						       p, 1);
			p++;
		}
		if (path && entry->untrusted) {
			const char *why = var_expand_value_unsafe(entry->value);

			if (why != NULL) {
				(void)var_expand_fail(error_r,
					"a user name that goes into a path ",
					why, strlen(why));
				return VAR_EXPAND_UNSAFE;
			}
		}
		var_expand_append(dest, entry->value, mode);
	}
	return 0;
}

int var_expand(struct strbuf *dest, const char *str,
	       const struct var_expand_table *table, const char **error_r)
{
	return var_expand_run(dest, str, table, false, error_r);
}

int var_expand_path(struct strbuf *dest, const char *str,
		    const struct var_expand_table *table, const char **error_r)
{
	size_t start = dest->len;
	int ret;

	ret = var_expand_run(dest, str, table, true, error_r);
	if (ret < 0)
		return ret;
	if (var_expand_has_dot_component(dest->data + start, dest->len - start) &&
	    !var_expand_has_dot_component(str, strlen(str))) {
		(void)var_expand_fail(error_r, "user names make a relative "
				      "folder name in: ", str, strlen(str));
		return VAR_EXPAND_UNSAFE;
	}
	return 0;
}

void var_expand_user_init(struct var_expand_user *vu, const char *user,
			  const char *home)
{
	const char *at = strrchr(user, '@');

	memset(vu, 0, sizeof(*vu));
	if (at == NULL) {
		vu->local_part = xstrdup(user);
		vu->domain = "";
	} else {
		vu->local_part = xstrndup(user, (size_t)(at - user));
		vu->domain = at + 1;
	}
	vu->table[0] = (struct var_expand_table){ 'u', "user", user, true };
	vu->table[1] = (struct var_expand_table){ 'n', "username", vu->local_part, true };
	vu->table[2] = (struct var_expand_table){ 'd', "domain", vu->domain, true };
	vu->table[3] = (struct var_expand_table){ 'h', "home", home, false };
	/* table[4..6] stay zero: the terminator */
}

void var_expand_user_free(struct var_expand_user *vu)
{
	free(vu->local_part);
	memset(vu, 0, sizeof(*vu));
}

int var_expand_user_string(const char *str, const char *user, const char *home,
			   bool path, char **result_r, const char **error_r)
{
	struct var_expand_user vu;
	struct strbuf buf;
	int ret;

	*result_r = NULL;
	var_expand_user_init(&vu, user, home);
	strbuf_init(&buf, 128);
	ret = path ? var_expand_path(&buf, str, vu.table, error_r) :
		var_expand(&buf, str, vu.table, error_r);
	var_expand_user_free(&vu);
	if (ret < 0) {
		strbuf_free(&buf);
		return ret;
	}
	*result_r = strbuf_detach(&buf);
	return 0;
}
