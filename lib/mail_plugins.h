/*
 * mail_plugins - Dovecot's `mail_plugins` list: which plugins are named,
 * and which of them loft implements.
 *
 * The value is the space-separated list left after the config parser's
 * $mail_plugins expansion. A plugin changes what happens to mail, so a
 * name loft does not implement is refused, never ignored; a plugin takes
 * effect only when it is named (as in Dovecot: `plugin { quota = ... }`
 * alone does nothing).
 */
#ifndef LOFT_MAIL_PLUGINS_H
#define LOFT_MAIL_PLUGINS_H

#include <stdbool.h>

/* mail_plugins_has - whether name is one of the words of list */
bool mail_plugins_has(const char *list, const char *name);

/* mail_plugins_check - 0 when loft implements every plugin of list, else
   -1 with *error_r naming the first one it does not (static storage) */
int mail_plugins_check(const char *list, const char **error_r);

#endif
