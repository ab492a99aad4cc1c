/*
 * sieve_vars - variables and their expansion (see sieve_vars.h).
 */
#include "sieve_vars.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void sieve_vars_init(struct sieve_vars *vars)
{
	memset(vars, 0, sizeof(*vars));
}

void sieve_vars_free(struct sieve_vars *vars)
{
	for (size_t i = 0; i < vars->count; i++) {
		free(vars->vars[i].name);
		free(vars->vars[i].value);
	}
	for (size_t i = 0; i < SIEVE_MATCH_VARS; i++)
		free(vars->match[i]);
	for (size_t i = 0; i < vars->nglobal_names; i++)
		free(vars->global_names[i]);
	free(vars->global_names);
	memset(vars, 0, sizeof(*vars));
}

/* scope - the table a name lives in, with a "global." prefix removed */
static struct sieve_vars *scope(const struct sieve_vars *vars,
				const char **name, size_t *len)
{
	if (vars->global == NULL)
		return (struct sieve_vars *)vars;
	if (*len > 7 && strncasecmp(*name, "global.", 7) == 0) {
		*name += 7;
		*len -= 7;
		return vars->global;
	}
	for (size_t i = 0; i < vars->nglobal_names; i++) {
		if (strlen(vars->global_names[i]) == *len &&
		    strncasecmp(vars->global_names[i], *name, *len) == 0)
			return vars->global;
	}
	return (struct sieve_vars *)vars;
}

void sieve_vars_declare_global(struct sieve_vars *vars, const char *name)
{
	size_t len = strlen(name);

	if (vars->global == NULL || scope(vars, &name, &len) == vars->global ||
	    vars->nglobal_names >= SIEVE_VAR_MAX_COUNT)
		return;
	vars->global_names = xreallocarray(vars->global_names,
					   vars->nglobal_names + 1,
					   sizeof(*vars->global_names));
	vars->global_names[vars->nglobal_names++] = xstrdup(name);
}

static struct sieve_var *find(const struct sieve_vars *vars,
			      const char *name, size_t len)
{
	vars = scope(vars, &name, &len);
	for (size_t i = 0; i < vars->count; i++) {
		if (strlen(vars->vars[i].name) == len &&
		    strncasecmp(vars->vars[i].name, name, len) == 0)
			return (struct sieve_var *)&vars->vars[i];
	}
	return NULL;
}

int sieve_vars_set(struct sieve_vars *vars, const char *name,
		   const char *value, size_t len)
{
	struct sieve_var *var = find(vars, name, strlen(name));
	size_t name_len = strlen(name);

	vars = scope(vars, &name, &name_len);
	if (len > SIEVE_VAR_MAX_SIZE)
		len = SIEVE_VAR_MAX_SIZE;
	if (var == NULL) {
		if (vars->count == SIEVE_VAR_MAX_COUNT)
			return -1;
		var = &vars->vars[vars->count++];
		var->name = xstrdup(name);
	} else {
		free(var->value);
	}
	var->value = xstrndup(value, len);
	var->len = len;
	return 0;
}

void sieve_vars_set_matches(struct sieve_vars *vars,
			    const struct sieve_matcher *m)
{
	for (size_t i = 0; i < SIEVE_MATCH_VARS; i++) {
		free(vars->match[i]);
		vars->match[i] = NULL;
		vars->match_len[i] = 0;
	}
	for (size_t i = 0; i < m->nvars; i++) {
		size_t len = m->vars[i].len;

		if (len > SIEVE_VAR_MAX_SIZE)
			len = SIEVE_VAR_MAX_SIZE;
		vars->match[i] = xstrndup(m->vars[i].data, len);
		vars->match_len[i] = len;
	}
	vars->nmatch = m->nvars;
}

/* var_ref - p after "${": the length of a valid reference name up to
   '}', or 0 */
static size_t var_ref(const char *p, const char *end)
{
	const char *q = p;

	if (q < end && isdigit((unsigned char)*q)) {
		while (q < end && isdigit((unsigned char)*q))
			q++;
	} else {
		for (;;) {
			if (q >= end || !(isalpha((unsigned char)*q) || *q == '_'))
				return 0;
			while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
				q++;
			if (q < end && *q == '.') {
				q++;
				continue;
			}
			break;
		}
	}
	return q < end && *q == '}' ? (size_t)(q - p) : 0;
}

void sieve_vars_expand(const struct sieve_vars *vars, const char *str,
		       size_t len, struct strbuf *out)
{
	const char *p = str, *end = str + len;

	while (p < end) {
		size_t name_len;

		if (p + 1 < end && p[0] == '$' && p[1] == '{' &&
		    (name_len = var_ref(p + 2, end)) > 0) {
			const char *name = p + 2;

			if (isdigit((unsigned char)*name)) {
				size_t index = 0;
				for (size_t i = 0; i < name_len && index < 100; i++)
					index = index * 10 + (size_t)(name[i] - '0');
				if (index < vars->nmatch && vars->match[index] != NULL)
					strbuf_append(out, vars->match[index],
						      vars->match_len[index]);
			} else {
				const struct sieve_var *var = find(vars, name, name_len);
				if (var != NULL)
					strbuf_append(out, var->value, var->len);
			}
			p = name + name_len + 1;
			continue;
		}
		strbuf_putc(out, *p++);
	}
}

/* utf8 characters in a buffer */
static size_t utf8_count(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

void sieve_vars_modify(struct strbuf *value, unsigned int mods)
{
	if ((mods & (SIEVE_MOD_LOWER | SIEVE_MOD_UPPER)) != 0) {
		for (size_t i = 0; i < value->len; i++) {
			unsigned char c = (unsigned char)value->data[i];
			value->data[i] = (char)((mods & SIEVE_MOD_LOWER) != 0 ?
						tolower(c) : toupper(c));
		}
	}
	if (value->len > 0 && (mods & SIEVE_MOD_LOWERFIRST) != 0)
		value->data[0] = (char)tolower((unsigned char)value->data[0]);
	if (value->len > 0 && (mods & SIEVE_MOD_UPPERFIRST) != 0)
		value->data[0] = (char)toupper((unsigned char)value->data[0]);
	if ((mods & SIEVE_MOD_QUOTEWILDCARD) != 0) {
		struct strbuf quoted;

		strbuf_init(&quoted, value->len * 2 + 1);
		for (size_t i = 0; i < value->len; i++) {
			char c = value->data[i];
			if (c == '*' || c == '?' || c == '\\')
				strbuf_putc(&quoted, '\\');
			strbuf_putc(&quoted, c);
		}
		strbuf_free(value);
		*value = quoted;
	}
	if ((mods & SIEVE_MOD_LENGTH) != 0) {
		size_t n = utf8_count(value->data, value->len);

		strbuf_reset(value);
		strbuf_appendf(value, "%zu", n);
	}
}
