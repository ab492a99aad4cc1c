/*
 * mail_plugins - the plugin tables and the checks of `mail_plugins`
 * (see mail_plugins.h; the reasoning is in docs/dovecot-compat.md).
 */
#include "mail_plugins.h"

#include <stdio.h>
#include <string.h>

#include "kvlist.h"
#include "xalloc.h"

#define MAIL_PLUGINS_NAME_MAX 64

/* Plugins loft implements itself. */
static const char *const mail_plugins_implemented[] = {
	"quota",
	"sieve",
	NULL
};

/* Plugins that change nothing about what happens to a delivered message
   (what they do is for IMAP sessions, search indexes or logs); accepted
   and reported as not used. unless_setting: a plugin { } setting that,
   when not empty, makes the plugin change delivery after all. */
static const struct {
	const char *name;
	const char *unless_setting;
} mail_plugins_inert[] = {
	{ "notify", NULL },		/* a framework for other plugins */
	{ "mail_log", NULL },		/* logs mail events; loft logs its own */
	{ "fts", NULL },		/* search indexes catch up on search */
	{ "fts_lucene", NULL },
	{ "fts_solr", NULL },
	{ "fts_squat", NULL },
	{ "fts_flatcurve", NULL },
	{ "fts_xapian", NULL },
	{ "old_stats", NULL },		/* session statistics */
	{ "last_login", NULL },		/* updated by logins, not deliveries */
	{ "lazy_expunge", NULL },	/* acts on expunges */
	{ "virtual", NULL },		/* virtual mailboxes are never delivered to */
	{ "zlib", "zlib_save" },	/* reads compressed mail; saving it
					   compressed would change what is stored */
};

/* mail_plugins_next - the next name of list after *pos into buf (names
   longer than the buffer are cut, they match nothing); NULL at the end */
static const char *mail_plugins_next(const char **pos, char *buf, size_t size)
{
	const char *p = *pos, *start;
	size_t len;

	p += strspn(p, " \t,");
	if (*p == '\0') {
		*pos = p;
		return NULL;
	}
	start = p;
	p += strcspn(p, " \t,");
	len = (size_t)(p - start);
	if (len >= size)
		len = size - 1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	*pos = p;
	return buf;
}

/* mail_plugins_in - name is in the NULL-terminated list */
static bool mail_plugins_in(const char *const *list, const char *name)
{
	for (; *list != NULL; list++) {
		if (strcmp(*list, name) == 0)
			return true;
	}
	return false;
}

/* mail_plugins_is_inert - name changes nothing for delivery with the
   plugin settings given */
static bool mail_plugins_is_inert(const char *name, const struct kvlist *plugin)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(mail_plugins_inert); i++) {
		const char *unless = mail_plugins_inert[i].unless_setting;
		const char *value;

		if (strcmp(mail_plugins_inert[i].name, name) != 0)
			continue;
		if (unless == NULL || plugin == NULL)
			return true;
		value = kvlist_get(plugin, unless);
		return value == NULL || *value == '\0';
	}
	return false;
}

bool mail_plugins_has(const char *list, const char *name)
{
	char buf[MAIL_PLUGINS_NAME_MAX];
	const char *pos = list, *word;

	while ((word = mail_plugins_next(&pos, buf, sizeof(buf))) != NULL) {
		if (strcmp(word, name) == 0)
			return true;
	}
	return false;
}

int mail_plugins_check(const char *list, const struct kvlist *plugin,
		       const char **error_r)
{
	static __thread char error[MAIL_PLUGINS_NAME_MAX + 160];
	char buf[MAIL_PLUGINS_NAME_MAX];
	const char *pos = list, *word;

	while ((word = mail_plugins_next(&pos, buf, sizeof(buf))) != NULL) {
		if (mail_plugins_in(mail_plugins_implemented, word) ||
		    mail_plugins_is_inert(word, plugin))
			continue;
		if (mail_plugins_is_inert(word, NULL))
			snprintf(error, sizeof(error),
				 "mail_plugins: %s: loft does not implement "
				 "this plugin with the plugin { } settings given",
				 word);
		else
			snprintf(error, sizeof(error),
				 "mail_plugins: %s: loft does not implement this "
				 "plugin (mail would be delivered without it)",
				 word);
		*error_r = error;
		return -1;
	}
	return 0;
}

const char *mail_plugins_not_used(const char **pos)
{
	static __thread char buf[MAIL_PLUGINS_NAME_MAX];
	const char *word;

	while ((word = mail_plugins_next(pos, buf, sizeof(buf))) != NULL) {
		if (!mail_plugins_in(mail_plugins_implemented, word) &&
		    mail_plugins_is_inert(word, NULL))
			return word;
	}
	return NULL;
}
