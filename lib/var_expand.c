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

int var_expand(struct strbuf *dest, const char *str,
	       const struct var_expand_table *table, const char **error_r)
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
		var_expand_append(dest, entry->value, mode);
	}
	return 0;
}

void var_expand_user_init(struct var_expand_user *vu, const char *user,
			  const char *home)
{
	const char *at = strchr(user, '@');

	memset(vu, 0, sizeof(*vu));
	if (at == NULL) {
		vu->local_part = xstrdup(user);
		vu->domain = "";
	} else {
		vu->local_part = xstrndup(user, (size_t)(at - user));
		vu->domain = at + 1;
	}
	vu->table[0] = (struct var_expand_table){ 'u', "user", user };
	vu->table[1] = (struct var_expand_table){ 'n', "username", vu->local_part };
	vu->table[2] = (struct var_expand_table){ 'd', "domain", vu->domain };
	vu->table[3] = (struct var_expand_table){ 'h', "home", home };
	/* table[4..6] stay zero: the terminator */
}

void var_expand_user_free(struct var_expand_user *vu)
{
	free(vu->local_part);
	memset(vu, 0, sizeof(*vu));
}
