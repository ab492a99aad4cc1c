/*
 * sql_conf - reading dovecot-sql.conf.ext (see sql_conf.h).
 */
#include "sql_conf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "strbuf.h"
#include "xalloc.h"

static __thread struct error_slot sql_conf_error;

static const char *const sql_conf_unused_keys[] = {
	"password_query", "default_pass_scheme",
};

/* trim - str without leading and trailing blanks (in place) */
static char *trim(char *str)
{
	char *end;

	while (*str == ' ' || *str == '\t')
		str++;
	end = str + strlen(str);
	while (end > str && (end[-1] == ' ' || end[-1] == '\t' ||
			     end[-1] == '\r'))
		*--end = '\0';
	return str;
}

/* conf_set - one key; 0, or -1 with *error_r (no location) */
static int conf_set(struct sql_conf *conf, const char *key, const char *value,
		    const char **error_r)
{
	char **slot = strcmp(key, "driver") == 0 ? &conf->driver :
		strcmp(key, "connect") == 0 ? &conf->connect :
		strcmp(key, "user_query") == 0 ? &conf->user_query :
		strcmp(key, "iterate_query") == 0 ? &conf->iterate_query :
		NULL;

	if (slot == NULL) {
		for (size_t i = 0; i < LOFT_N_ELEMENTS(sql_conf_unused_keys);
		     i++) {
			if (strcmp(key, sql_conf_unused_keys[i]) == 0)
				return 0;
		}
		*error_r = error_slot_set(&sql_conf_error,
					  "Unknown setting: %s", key);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(value);
	return 0;
}

int sql_conf_parse(const char *path, const char *text, struct sql_conf *conf_r,
		   const char **error_r)
{
	struct strbuf logical;
	unsigned int line_no = 0, start_no = 0;
	const char *p = text, *error = NULL;
	int ret = 0;

	memset(conf_r, 0, sizeof(*conf_r));
	strbuf_init(&logical, 256);
	while (ret == 0 && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len), *trimmed = trim(line);
		size_t tlen = strlen(trimmed);
		bool continued = tlen > 0 && trimmed[tlen - 1] == '\\';

		p += len + (nl != NULL);
		line_no++;
		if (logical.len == 0)
			start_no = line_no;
		if (logical.len == 0 && (tlen == 0 || trimmed[0] == '#')) {
			free(line);
			continue;
		}
		if (continued) {
			trimmed[--tlen] = '\0';
			trimmed = trim(trimmed);
		}
		if (logical.len > 0)
			strbuf_putc(&logical, ' ');
		strbuf_append_str(&logical, trimmed);
		free(line);
		if (continued && *p != '\0')
			continue;

		char *eq = strchr(logical.data, '=');

		if (eq == NULL) {
			error = "Missing '='";
			ret = -1;
		} else {
			*eq = '\0';
			ret = conf_set(conf_r, trim(logical.data), trim(eq + 1),
				       &error);
		}
		strbuf_reset(&logical);
	}
	if (ret == 0 && conf_r->driver == NULL) {
		error = "driver not set";
		start_no = 0;
		ret = -1;
	} else if (ret == 0 && strcmp(conf_r->driver, "pgsql") != 0) {
		error = error_slot_set(&sql_conf_error, "driver %s: loft "
				       "supports pgsql only", conf_r->driver);
		start_no = 0;
		ret = -1;
	} else if (ret == 0 && conf_r->connect == NULL) {
		error = "connect not set";
		start_no = 0;
		ret = -1;
	}
	strbuf_free(&logical);
	if (ret < 0) {
		*error_r = start_no > 0 ?
			error_slot_set(&sql_conf_error, "%s:%u: %s", path,
				       start_no, error) :
			error_slot_set(&sql_conf_error, "%s: %s", path, error);
		sql_conf_free(conf_r);
		return -1;
	}
	if (conf_r->user_query == NULL)
		conf_r->user_query = xstrdup(SQL_CONF_DEFAULT_USER_QUERY);
	if (conf_r->iterate_query == NULL)
		conf_r->iterate_query = xstrdup(SQL_CONF_DEFAULT_ITERATE_QUERY);
	return 0;
}

void sql_conf_free(struct sql_conf *conf)
{
	free(conf->driver);
	free(conf->connect);
	free(conf->user_query);
	free(conf->iterate_query);
	memset(conf, 0, sizeof(*conf));
}
