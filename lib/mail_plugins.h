/*
 * mail_plugins - what loft does with the plugins `mail_plugins` names.
 *
 * Dovecot loads each plugin of the list into the delivering process, and
 * dovecot-lda fails with a temporary error when one is missing. loft runs
 * no plugins of Dovecot's: a plugin it implements itself is listed in the
 * table of implemented plugins; a plugin that changes nothing about what
 * happens to a delivered message (full-text search indexes, mail event
 * logging, ...) is accepted and reported as not used; every other name is
 * refused, so that no configured plugin is silently skipped.
 */
#ifndef LOFT_MAIL_PLUGINS_H
#define LOFT_MAIL_PLUGINS_H

#include <stdbool.h>

struct kvlist;

/* mail_plugins_has - list (space- or comma-separated, as Dovecot reads
   it) names the plugin name */
bool mail_plugins_has(const char *list, const char *name);

/* mail_plugins_check - 0 when loft honours every plugin of list; -1 with
   *error_r ("sieve: loft does not implement this plugin ...") for the
   first one it lacks. plugin is the plugin { } block: some plugins change
   delivery only with one of their settings there (zlib with zlib_save). */
int mail_plugins_check(const char *list, const struct kvlist *plugin,
		       const char **error_r);

/* mail_plugins_not_used - the next plugin of a list, from *pos, that loft
   accepts without running it (each call advances *pos, which starts at
   list); NULL at the end. The name is valid until the next call. */
const char *mail_plugins_not_used(const char **pos);

#endif
