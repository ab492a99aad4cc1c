/*
 * sieve_settings - plugin { sieve* } settings (see sieve_settings.h).
 */
#include "sieve_settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "sieve_spec.h"
#include "var_expand.h"
#include "xalloc.h"

#define SIEVE_DEFAULT_LOCATION "file:~/sieve;active=~/.dovecot.sieve"
#define SIEVE_MAX_INCLUDED_SIZE (16 * 1024 * 1024)

/* the extensions Pigeonhole enables unless sieve_extensions says more */
static uint32_t default_extensions(void)
{
	uint32_t all = (1u << SIEVE_EXT_COUNT) - 1;

	return all & ~((1u << SIEVE_EXT_EDITHEADER) |
		       (1u << SIEVE_EXT_VACATION_SECONDS));
}

int sieve_extensions_parse(const char *value, uint32_t *mask, char **error_r)
{
	const char *p = value;
	bool replaced = false;

	while (*p != '\0') {
		size_t len;
		char sign = 0, *name;
		enum sieve_ext ext;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p == '+' || *p == '-')
			sign = *p++;
		len = strcspn(p, " \t");
		name = xstrndup(p, len);
		p += len;
		if (!sieve_ext_find(name, &ext)) {
			*error_r = xasprintf("sieve_extensions: unknown extension '%s'", name);
			free(name);
			return -1;
		}
		free(name);
		if (sign == 0 && !replaced) {
			*mask = 0;
			replaced = true;
		}
		if (ext == SIEVE_EXT_CORE)
			continue;
		if (sign == '-')
			*mask &= ~(1u << ext);
		else
			*mask |= 1u << ext;
	}
	return 0;
}

/* expand_path - ~/ and %-variables of a configured path */
static int expand_path(const char *value, const char *user, const char *home,
		       char **path_r, char **error_r)
{
	const char *error;
	char *expanded;

	if (var_expand_user_string(value, user, home, true, &expanded, &error) < 0) {
		*error_r = xasprintf("%s: %s", value, error);
		return -1;
	}
	if (expanded[0] == '~' && (expanded[1] == '/' || expanded[1] == '\0')) {
		if (home == NULL || *home == '\0') {
			*error_r = xasprintf("%s: the user has no home directory", value);
			free(expanded);
			return -1;
		}
		*path_r = xasprintf("%s%s", home, expanded + 1);
		free(expanded);
		return 0;
	}
	*path_r = expanded;
	return 0;
}

/* parse_location - "file:DIR;active=FILE" or a script path */
static int parse_location(const char *value, const char *user, const char *home,
			  struct sieve_user_settings *set, char **error_r)
{
	if (strncmp(value, "file:", 5) != 0)
		return expand_path(value, user, home, &set->active_path, error_r);
	char *copy = xstrdup(value + 5), *semi = strchr(copy, ';');
	int ret = 0;

	if (semi != NULL)
		*semi = '\0';
	if (*copy != '\0')
		ret = expand_path(copy, user, home, &set->personal_dir, error_r);
	for (char *opt = semi; ret == 0 && opt != NULL; ) {
		char *next = strchr(opt + 1, ';');

		if (next != NULL)
			*next = '\0';
		if (strncmp(opt + 1, "active=", 7) == 0) {
			free(set->active_path);
			set->active_path = NULL;
			ret = expand_path(opt + 8, user, home, &set->active_path, error_r);
		} else if (opt[1] != '\0') {
			*error_r = xasprintf("sieve: unsupported location option '%s'",
					     opt + 1);
			ret = -1;
		}
		opt = next;
	}
	free(copy);
	if (ret == 0 && set->active_path == NULL)
		*error_r = xstrdup("sieve: the location names no active script (;active=)");
	return ret == 0 && set->active_path == NULL ? -1 : ret;
}

/* parse_period - Dovecot's time interval: NUMBER[s|m|h|d|w] */
static int parse_period(const char *key, const char *value, uint64_t *secs_r,
			char **error_r)
{
	char *end;
	unsigned long long n;
	uint64_t mult = 1;

	errno = 0;
	n = strtoull(value, &end, 10);
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcmp(end, "s") == 0 || strncmp(end, "sec", 3) == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strncmp(end, "min", 3) == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0 || strncmp(end, "hour", 4) == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0 || strncmp(end, "day", 3) == 0)
		mult = 86400;
	else if (strcmp(end, "w") == 0 || strncmp(end, "week", 4) == 0)
		mult = 7 * 86400;
	else
		end = NULL;
	if (end == NULL || errno != 0 || end == value || n > UINT32_MAX) {
		*error_r = xasprintf("%s: invalid time interval '%s'", key, value);
		return -1;
	}
	*secs_r = n * mult;
	return 0;
}

static int parse_count(const char *key, const char *value, unsigned int *n_r,
		       char **error_r)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (end == value || *end != '\0' || errno != 0 || n > 100000) {
		*error_r = xasprintf("%s: invalid number '%s'", key, value);
		return -1;
	}
	*n_r = (unsigned int)n;
	return 0;
}

/* apply - one plugin setting; -1 for a sieve_* setting loft lacks */
static int apply(const char *key, const char *value, const char *user,
		 const char *home, struct sieve_user_settings *set,
		 char **error_r)
{
	const char *error;

	if (strcmp(key, "sieve") == 0)
		return 0;	/* done first, in sieve_user_settings_get */
	if (strcmp(key, "sieve_global") == 0 || strcmp(key, "sieve_global_dir") == 0)
		return expand_path(value, user, home, &set->global_dir, error_r);
	if (strcmp(key, "sieve_extensions") == 0)
		return sieve_extensions_parse(value, &set->limits.extensions, error_r);
	if (strcmp(key, "sieve_max_script_size") == 0) {
		uint64_t size;

		if (settings_parse_size(value, &size, &error) < 0) {
			*error_r = xasprintf("%s: %s", key, error);
			return -1;
		}
		set->limits.max_script_size = (size_t)size;
		return 0;
	}
	if (strcmp(key, "sieve_max_actions") == 0)
		return parse_count(key, value, &set->limits.max_actions, error_r);
	if (strcmp(key, "sieve_max_redirects") == 0)
		return parse_count(key, value, &set->limits.max_redirects, error_r);
	if (strcmp(key, "sieve_vacation_min_period") == 0)
		return parse_period(key, value, &set->limits.vacation_min_period, error_r);
	if (strcmp(key, "sieve_vacation_max_period") == 0)
		return parse_period(key, value, &set->limits.vacation_max_period, error_r);
	if (strncmp(key, "sieve", 5) == 0) {
		*error_r = xasprintf("plugin setting %s is not supported by loft yet", key);
		return -1;
	}
	return 0;
}

int sieve_user_settings_get(const struct kvlist *plugin, const char *user,
			    const char *home, struct sieve_user_settings *set_r,
			    char **error_r)
{
	const char *location = kvlist_get(plugin, "sieve");

	memset(set_r, 0, sizeof(*set_r));
	sieve_limits_default(&set_r->limits);
	set_r->limits.extensions = default_extensions();
	if (location == NULL || *location == '\0')
		location = SIEVE_DEFAULT_LOCATION;
	if (parse_location(location, user, home, set_r, error_r) < 0) {
		sieve_user_settings_free(set_r);
		return -1;
	}
	for (size_t i = 0; i < plugin->count; i++) {
		if (apply(plugin->items[i].key, plugin->items[i].value, user, home,
			  set_r, error_r) < 0) {
			sieve_user_settings_free(set_r);
			return -1;
		}
	}
	return 0;
}

void sieve_user_settings_free(struct sieve_user_settings *set)
{
	free(set->active_path);
	free(set->personal_dir);
	free(set->global_dir);
	memset(set, 0, sizeof(*set));
}

int sieve_script_read(const char *path, struct strbuf *text, char **error_r)
{
	return sieve_file_read(path, SIEVE_MAX_INCLUDED_SIZE, text, error_r);
}

int sieve_file_read(const char *path, size_t max, struct strbuf *text,
		    char **error_r)
{
	char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (text->len + n > max) {
			fclose(f);
			*error_r = xasprintf("%s: larger than %zu bytes", path, max);
			return -1;
		}
		strbuf_append(text, buf, n);
	}
	if (ferror(f)) {
		fclose(f);
		*error_r = xasprintf("%s: read error", path);
		return -1;
	}
	fclose(f);
	return 1;
}

int sieve_file_load(const char *path, size_t max, struct strbuf *text,
		    char **error_r)
{
	int ret = sieve_file_read(path, max, text, error_r);

	if (ret == 0)
		*error_r = xasprintf("%s: %s", path, strerror(ENOENT));
	return ret > 0 ? 0 : -1;
}

int sieve_dir_loader(void *context, bool global, const char *name,
		     struct strbuf *text, char **error_r)
{
	const struct sieve_script_dirs *dirs = context;
	const char *dir = global ? dirs->global : dirs->personal;
	char *path;
	int ret;

	if (dir == NULL)
		return 0;
	path = xasprintf("%s/%s.sieve", dir, name);
	ret = sieve_script_read(path, text, error_r);
	free(path);
	return ret;
}
