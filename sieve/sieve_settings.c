/*
 * sieve_settings - plugin { sieve* } settings (see sieve_settings.h).
 */
#include "sieve_settings.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include "sieve_message.h"
#include "sieve_spec.h"
#include "var_expand.h"
#include "xalloc.h"

#define SIEVE_DEFAULT_LOCATION "file:~/sieve;active=~/.dovecot.sieve"
#define SIEVE_MAX_INCLUDED_SIZE (16 * 1024 * 1024)
/* Pigeonhole keeps durations in an unsigned int */
#define SIEVE_MAX_NUMBER UINT32_MAX

/* the extensions Pigeonhole enables unless sieve_extensions says more */
static uint32_t default_extensions(void)
{
	uint32_t all = (1u << SIEVE_EXT_COUNT) - 1;

	return all & ~((1u << SIEVE_EXT_EDITHEADER) |
		       (1u << SIEVE_EXT_VACATION_SECONDS));
}

int sieve_extensions_parse(const char *value, uint32_t *mask, char **error_r)
{
	/* Pigeonhole: one name with + or - makes the whole list relative
	   to the default set (plain names are then added too); without
	   any, the list is the set */
	bool relative = false;
	uint32_t enabled = 0, disabled = 0;
	const char *p = value;

	for (const char *q = value; *q != '\0'; q++) {
		if ((*q == '+' || *q == '-') &&
		    (q == value || q[-1] == ' ' || q[-1] == '\t'))
			relative = true;
	}

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
		if (ext == SIEVE_EXT_CORE)
			continue;
		if (sign == '-')
			disabled |= 1u << ext;
		else
			enabled |= 1u << ext;
	}
	*mask = ((relative ? *mask & ~disabled : 0) | enabled);
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

/* parse_period - Pigeonhole's duration: digits and s, m, h or d (also
   spelt out: 10min, 2days); what Pigeonhole would warn about and ignore
   (1w, "1 d", 1month) is an error */
static int parse_period(const char *key, const char *value, uint64_t *secs_r,
			char **error_r)
{
	static const struct { const char *unit; uint64_t secs; } units[] = {
		{ "", 1 }, { "s", 1 }, { "sec", 1 }, { "secs", 1 },
		{ "second", 1 }, { "seconds", 1 }, { "m", 60 }, { "min", 60 },
		{ "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
		{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
		{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
	};
	char *end;
	unsigned long long n;

	value += strspn(value, " \t");
	errno = 0;
	n = strtoull(value, &end, 10);
	if (end != value && errno == 0 && *value != '-') {
		size_t len = strlen(end);

		while (len > 0 && (end[len - 1] == ' ' || end[len - 1] == '\t'))
			len--;
		for (size_t i = 0; i < LOFT_N_ELEMENTS(units); i++) {
			if (strlen(units[i].unit) == len &&
			    strncasecmp(end, units[i].unit, len) == 0 &&
			    n <= SIEVE_MAX_NUMBER / units[i].secs) {
				*secs_r = n * units[i].secs;
				return 0;
			}
		}
	}
	*error_r = xasprintf("%s: invalid duration '%s'", key, value);
	return -1;
}

static int parse_count(const char *key, const char *value, unsigned int *n_r,
		       char **error_r)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (end == value || *end != '\0' || errno != 0 || n > UINT32_MAX ||
	    *value == '-') {
		*error_r = xasprintf("%s: invalid number '%s'", key, value);
		return -1;
	}
	*n_r = (unsigned int)n;
	return 0;
}

/* parse_size - Pigeonhole's size: digits and B, K, M, G or T (a B may
   follow: 1MB); "1 M" (ignored by Pigeonhole) is an error */
static int parse_size(const char *key, const char *value, size_t *size_r,
		      char **error_r)
{
	static const char units[] = "bkmgt";
	const char *unit;
	char *end;
	unsigned long long n, mult = 1;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (end != value && errno == 0 && *value != '-') {
		if (*end != '\0' &&
		    (unit = strchr(units, tolower((unsigned char)*end))) != NULL) {
			mult = 1ULL << (10 * (unit - units));
			end++;
			if (mult > 1 && (*end == 'b' || *end == 'B'))
				end++;
		}
		if (*end == '\0' && n <= SIZE_MAX / mult) {
			*size_r = (size_t)(n * mult);
			return 0;
		}
	}
	*error_r = xasprintf("%s: invalid size '%s'", key, value);
	return -1;
}

/* parse_bool - yes or no, as Pigeonhole reads them */
static int parse_bool(const char *key, const char *value, bool *b_r,
		      char **error_r)
{
	if (strcasecmp(value, "yes") == 0)
		*b_r = true;
	else if (strcasecmp(value, "no") == 0)
		*b_r = false;
	else {
		*error_r = xasprintf("%s: invalid boolean '%s'", key, value);
		return -1;
	}
	return 0;
}

/* parse_address - <local@domain> or local@domain into *addr_r; with
   allow_empty "<>" gives "" */
static int parse_address(const char *key, const char *value, bool brackets,
			 bool allow_empty, char **addr_r, char **error_r)
{
	size_t len = strlen(value);
	char *addr;

	if (len >= 2 && value[0] == '<' && value[len - 1] == '>')
		addr = xstrndup(value + 1, len - 2);
	else if (!brackets)
		addr = xstrdup(value);
	else
		addr = NULL;
	if (addr != NULL && (sieve_address_valid(addr) ||
			     (allow_empty && *addr == '\0'))) {
		*addr_r = addr;
		return 0;
	}
	free(addr);
	*error_r = xasprintf("%s: invalid address '%s'", key, value);
	return -1;
}

/* parse_address_source - Pigeonhole's sieve_redirect_envelope_from:
   sender, recipient, orig_recipient, user_email, postmaster or
   <address> (lower-cased, as Pigeonhole does) */
static int parse_address_source(const char *key, const char *value,
				struct sieve_send_settings *send,
				char **error_r)
{
	static const struct {
		const char *name;
		enum sieve_address_source type;
	} names[] = {
		{ "default", SIEVE_ADDRESS_SOURCE_DEFAULT },
		{ "sender", SIEVE_ADDRESS_SOURCE_SENDER },
		{ "recipient", SIEVE_ADDRESS_SOURCE_RECIPIENT },
		{ "orig_recipient", SIEVE_ADDRESS_SOURCE_ORIG_RECIPIENT },
		{ "user_email", SIEVE_ADDRESS_SOURCE_USER_EMAIL },
		{ "postmaster", SIEVE_ADDRESS_SOURCE_POSTMASTER },
	};
	char *lower = xstrdup(value);

	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	free(send->redirect_from_address);
	send->redirect_from_address = NULL;
	send->redirect_from = SIEVE_ADDRESS_SOURCE_DEFAULT;
	if (*lower == '\0') {
		free(lower);
		return 0;
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(names); i++) {
		if (strcmp(lower, names[i].name) == 0) {
			send->redirect_from = names[i].type;
			free(lower);
			return 0;
		}
	}
	send->redirect_from = SIEVE_ADDRESS_SOURCE_EXPLICIT;
	if (parse_address(key, lower, true, true, &send->redirect_from_address,
			  error_r) < 0) {
		free(*error_r);
		*error_r = xasprintf("%s: '%s' is none of sender, recipient, "
				     "orig_recipient, user_email, postmaster "
				     "or <address>", key, value);
		free(lower);
		return -1;
	}
	free(lower);
	return 0;
}

/* set_string - value with the user's %variables expanded (Dovecot
   expands every plugin setting so: "%%" is a '%' for Pigeonhole), or
   NULL when empty */
static int set_string(const char *key, char **dest, const char *value,
		      const char *user, const char *home, char **error_r)
{
	const char *error;

	free(*dest);
	*dest = NULL;
	if (*value == '\0')
		return 1;
	if (var_expand_user_string(value, user, home, false, dest, &error) < 0) {
		*error_r = xasprintf("%s: %s", key, error);
		return -1;
	}
	return 1;
}

/* apply_send - the settings of the mail Sieve sends; 1 applied, 0 not
   one of them, -1 with *error_r */
static int apply_send(const char *key, const char *value, const char *user,
		      const char *home, struct sieve_user_settings *set,
		      char **error_r)
{
	struct sieve_send_settings *send = &set->send;
	struct sieve_vacation_settings *vac = &send->vacation;
	static const struct {
		const char *key;
		size_t offset;
	} bools[] = {
		{ "sieve_vacation_use_original_recipient",
		  offsetof(struct sieve_vacation_settings, use_original_recipient) },
		{ "sieve_vacation_dont_check_recipient",
		  offsetof(struct sieve_vacation_settings, dont_check_recipient) },
		{ "sieve_vacation_send_from_recipient",
		  offsetof(struct sieve_vacation_settings, send_from_recipient) },
		{ "sieve_vacation_to_header_ignore_envelope",
		  offsetof(struct sieve_vacation_settings, to_header_ignore_envelope) },
	};
	static const struct {
		const char *key;
		size_t offset;
	} periods[] = {
		{ "sieve_vacation_min_period",
		  offsetof(struct sieve_limits, vacation_min_period) },
		{ "sieve_vacation_max_period",
		  offsetof(struct sieve_limits, vacation_max_period) },
		{ "sieve_vacation_default_period",
		  offsetof(struct sieve_limits, vacation_default_period) },
	};

	for (size_t i = 0; i < LOFT_N_ELEMENTS(bools); i++) {
		if (strcmp(key, bools[i].key) == 0)
			return *value == '\0' ? 1 :
				parse_bool(key, value, (bool *)((char *)vac +
					   bools[i].offset), error_r) < 0 ? -1 : 1;
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(periods); i++) {
		if (strcmp(key, periods[i].key) == 0)
			return *value == '\0' ? 1 :
				parse_period(key, value, (uint64_t *)((char *)&set->limits +
					     periods[i].offset), error_r) < 0 ? -1 : 1;
	}
	if (strcmp(key, "sieve_vacation_default_subject") == 0)
		return set_string(key, &vac->default_subject, value, user, home,
				  error_r);
	else if (strcmp(key, "sieve_vacation_default_subject_template") == 0)
		return set_string(key, &vac->default_subject_template, value,
				  user, home, error_r);
	else if (strcmp(key, "sieve_vacation_max_subject_codepoints") == 0)
		return *value == '\0' ? 1 : parse_count(key, value,
			&vac->max_subject_codepoints, error_r) < 0 ? -1 : 1;
	else if (strcmp(key, "sieve_redirect_envelope_from") == 0)
		return parse_address_source(key, value, send, error_r) < 0 ? -1 : 1;
	else if (strcmp(key, "sieve_redirect_duplicate_period") == 0)
		return *value == '\0' ? 1 : parse_period(key, value,
			&send->redirect_duplicate_period, error_r) < 0 ? -1 : 1;
	else if (strcmp(key, "sieve_user_email") == 0) {
		free(send->user_email);
		send->user_email = NULL;
		return *value == '\0' ? 1 : parse_address(key, value, false,
			false, &send->user_email, error_r) < 0 ? -1 : 1;
	} else
		return 0;
	return 1;
}

/* check_periods - Pigeonhole's min <= default <= max (when there is a
   max); it would warn and use its defaults instead: an error here */
static int check_periods(const struct kvlist *plugin,
			 const struct sieve_limits *limits, const char **key_r,
			 char **error_r)
{
	if (limits->vacation_max_period == 0 ||
	    (limits->vacation_min_period <= limits->vacation_max_period &&
	     limits->vacation_default_period >= limits->vacation_min_period &&
	     limits->vacation_default_period <= limits->vacation_max_period))
		return 0;
	*key_r = kvlist_get(plugin, "sieve_vacation_default_period") != NULL ?
		"sieve_vacation_default_period" :
		kvlist_get(plugin, "sieve_vacation_min_period") != NULL ?
		"sieve_vacation_min_period" : "sieve_vacation_max_period";
	*error_r = xstrdup("sieve_vacation_*_period: sieve_vacation_min_period "
			   "<= sieve_vacation_default_period <= "
			   "sieve_vacation_max_period does not hold");
	return -1;
}

/* expand_location - a sieve_before/after/default location: "file:PATH"
   (options after ';' are Pigeonhole's binary and naming options, which
   loft does not need) or a plain path */
static int expand_location(const char *key, const char *value, const char *user,
			   const char *home, char **path_r, char **error_r)
{
	size_t type_len = strspn(value, "abcdefghijklmnopqrstuvwxyz");
	char *copy;
	int ret;

	if (value[type_len] == ':' && type_len > 0) {
		if (strncmp(value, "file:", 5) != 0) {
			*error_r = xasprintf("%s: location type '%.*s' is not "
					     "supported by loft", key,
					     (int)type_len, value);
			return -1;
		}
		value += 5;
	}
	copy = xstrndup(value, strcspn(value, ";"));
	ret = expand_path(copy, user, home, path_r, error_r);
	free(copy);
	return ret;
}

/* numbered_key - key is base or baseN (N >= 2) */
static bool numbered_key(const char *key, const char *base)
{
	size_t len = strlen(base);

	if (strncmp(key, base, len) != 0)
		return false;
	key += len;
	return *key == '\0' ||
		(strspn(key, "0123456789") == strlen(key) && *key != '0');
}

/* plugin_key - the plugin's own copy of key (for *key_r) */
static const char *plugin_key(const struct kvlist *plugin, const char *key)
{
	for (size_t i = 0; i < plugin->count; i++) {
		if (strcmp(plugin->items[i].key, key) == 0)
			return plugin->items[i].key;
	}
	return NULL;
}

/* read_sequence - base, base2, base3 ... until one is not set; on an
   error *key_r is the one at fault */
static int read_sequence(const struct kvlist *plugin, const char *base,
			 const char *user, const char *home, char ***paths,
			 size_t *count, const char **key_r, char **error_r)
{
	for (unsigned int i = 1;; i++) {
		char *key = i == 1 ? xstrdup(base) : xasprintf("%s%u", base, i);
		const char *value = kvlist_get(plugin, key);
		char *path;

		if (value == NULL || *value == '\0') {
			free(key);
			return 0;
		}
		if (expand_location(key, value, user, home, &path, error_r) < 0) {
			*key_r = plugin_key(plugin, key);
			free(key);
			return -1;
		}
		free(key);
		*paths = xreallocarray(*paths, *count + 1, sizeof(**paths));
		(*paths)[(*count)++] = path;
	}
}

/* apply - one plugin setting; -1 for a sieve_* setting loft lacks */
static int apply(const char *key, const char *value, const char *user,
		 const char *home, struct sieve_user_settings *set,
		 char **error_r)
{
	int ret;

	if (strcmp(key, "sieve") == 0)
		return 0;	/* done first, in sieve_user_settings_get */
	if (strcmp(key, "sieve_global") == 0 || strcmp(key, "sieve_global_dir") == 0) {
		/* a location, as Pigeonhole 0.5 reads it: file:DIR or DIR */
		free(set->global_dir);
		set->global_dir = NULL;
		return *value == '\0' ? 0 : expand_location(key, value, user,
							     home, &set->global_dir,
							     error_r);
	}
	if (strcmp(key, "sieve_extensions") == 0)
		return sieve_extensions_parse(value, &set->limits.extensions, error_r);
	if (strcmp(key, "sieve_max_script_size") == 0)
		return *value == '\0' ? 0 :
			parse_size(key, value, &set->limits.max_script_size, error_r);
	if (strcmp(key, "sieve_max_actions") == 0)
		return *value == '\0' ? 0 :
			parse_count(key, value, &set->limits.max_actions, error_r);
	if (strcmp(key, "sieve_max_redirects") == 0)
		return *value == '\0' ? 0 :
			parse_count(key, value, &set->limits.max_redirects, error_r);
	if ((ret = apply_send(key, value, user, home, set, error_r)) != 0)
		return ret < 0 ? -1 : 0;
	if (numbered_key(key, "sieve_before") || numbered_key(key, "sieve_after"))
		return 0;	/* read in order by read_sequence */
	if (strcmp(key, "sieve_default") == 0 ||
	    strcmp(key, "sieve_global_path") == 0) {
		if (*value == '\0' || (strcmp(key, "sieve_global_path") == 0 &&
					set->default_path != NULL))
			return 0;
		free(set->default_path);
		set->default_path = NULL;
		return expand_location(key, value, user, home,
				       &set->default_path, error_r);
	}
	if (strcmp(key, "sieve_user_log") == 0) {
		free(set->user_log);
		set->user_log = NULL;
		if (value[0] != '/' && value[0] != '~' && home != NULL) {
			set->user_log = xasprintf("%s/%s", home, value);
			return 0;
		}
		return expand_path(value, user, home, &set->user_log, error_r);
	}
	if (strncmp(key, "sieve", 5) == 0) {
		*error_r = xasprintf("plugin setting %s is not supported by loft yet", key);
		return -1;
	}
	return 0;
}

/* needs_home - a location naming the home (~ or %h) */
static bool needs_home(const char *location)
{
	if (strncmp(location, "file:", 5) == 0)
		location += 5;
	return location[0] == '~' || strstr(location, "=~") != NULL ||
		strstr(location, "%h") != NULL || strstr(location, "%{home}") != NULL;
}

/* settings_get - sieve_user_settings_get, *key_r the setting at fault */
static int settings_get(const struct kvlist *plugin, const char *user,
			const char *home, struct sieve_user_settings *set_r,
			const char **key_r, char **error_r)
{
	const char *location = kvlist_get(plugin, "sieve");

	memset(set_r, 0, sizeof(*set_r));
	sieve_limits_default(&set_r->limits);
	set_r->limits.extensions = default_extensions();
	set_r->send.redirect_duplicate_period = 12 * 3600;
	sieve_vacation_settings_default(&set_r->send.vacation);
	if (location == NULL || *location == '\0')
		location = SIEVE_DEFAULT_LOCATION;
	*key_r = "sieve";
	if ((home == NULL || *home == '\0') && needs_home(location)) {
		/* Pigeonhole: a user without a home has no personal
		   script (sieve_default and the global ones still run) */
	} else if (parse_location(location, user, home, set_r, error_r) < 0) {
		sieve_user_settings_free(set_r);
		return -1;
	}
	for (size_t i = 0; i < plugin->count; i++) {
		*key_r = plugin->items[i].key;
		if (apply(plugin->items[i].key, plugin->items[i].value, user, home,
			  set_r, error_r) < 0) {
			sieve_user_settings_free(set_r);
			return -1;
		}
	}
	if (check_periods(plugin, &set_r->limits, key_r, error_r) < 0 ||
	    read_sequence(plugin, "sieve_before", user, home, &set_r->before,
			  &set_r->nbefore, key_r, error_r) < 0 ||
	    read_sequence(plugin, "sieve_after", user, home, &set_r->after,
			  &set_r->nafter, key_r, error_r) < 0) {
		sieve_user_settings_free(set_r);
		return -1;
	}
	if (set_r->user_log == NULL && set_r->active_path != NULL)
		set_r->user_log = xasprintf("%s.log", set_r->active_path);
	return 0;
}

int sieve_user_settings_get(const struct kvlist *plugin, const char *user,
			    const char *home, struct sieve_user_settings *set_r,
			    char **error_r)
{
	const char *key;

	return settings_get(plugin, user, home, set_r, &key, error_r);
}

int sieve_settings_check(const struct kvlist *plugin, const char **key_r,
			 char **error_r)
{
	struct sieve_user_settings set;

	if (settings_get(plugin, "user@example.com", "/home/user", &set, key_r,
			 error_r) < 0)
		return -1;
	sieve_user_settings_free(&set);
	return 0;
}

/* free_paths - an array of malloced paths */
static void free_paths(char **paths, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sieve_location_scripts(const char *location, char ***paths,
			   size_t *count, char **error_r)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;
	char **names = NULL;
	size_t nnames = 0;

	if (stat(location, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*error_r = xasprintf("stat(%s) failed: %s", location, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*paths = xreallocarray(*paths, *count + 1, sizeof(**paths));
		(*paths)[(*count)++] = xstrdup(location);
		return 1;
	}
	if ((dir = opendir(location)) == NULL) {
		*error_r = xasprintf("opendir(%s) failed: %s", location, strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);

		if (d->d_name[0] == '.' || len <= 6 ||
		    strcmp(d->d_name + len - 6, ".sieve") != 0)
			continue;
		names = xreallocarray(names, nnames + 1, sizeof(*names));
		names[nnames++] = xstrdup(d->d_name);
	}
	closedir(dir);
	qsort(names, nnames, sizeof(*names), compare_names);
	for (size_t i = 0; i < nnames; i++) {
		*paths = xreallocarray(*paths, *count + 1, sizeof(**paths));
		(*paths)[(*count)++] = xasprintf("%s/%s", location, names[i]);
	}
	free_paths(names, nnames);
	return 1;
}

void sieve_user_settings_free(struct sieve_user_settings *set)
{
	free(set->active_path);
	free(set->personal_dir);
	free(set->global_dir);
	free_paths(set->before, set->nbefore);
	free_paths(set->after, set->nafter);
	free(set->default_path);
	free(set->user_log);
	free(set->send.redirect_from_address);
	free(set->send.user_email);
	sieve_vacation_settings_free(&set->send.vacation);
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
