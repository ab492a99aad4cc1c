/*
 * config - read loft.conf (Dovecot's syntax) into a loft_settings snapshot.
 *
 * Syntax: `key = value`, `# comments`, quoted values, `\` line
 * continuation, `key = <file` (value read from a file), `$other_setting`
 * references, `section [name] { ... }`, `!include FILE`, `!include_try
 * GLOB` (relative paths are relative to the including file). Sections:
 * `protocol NAME { }` (applied on top of the globals when loading for that
 * protocol), `service NAME { }` with `unix_listener`/`fifo_listener`/
 * `inet_listener` blocks, `userdb [NAME] { }`, `plugin { }`. Every mistake
 * is an error "FILE:LINE: message"; unknown settings are errors.
 *
 * Dovecot's own settings and sections that loft does not implement
 * (dovecot_settings.h) are accepted by name and recorded in
 * set->not_used, or refused where their value would change delivery;
 * `protocol !NAME { }` and protocol blocks of other protocols are read
 * as Dovecot reads them. For protocol "lda"/"lmtp" the resulting
 * mail_plugins must name only plugins loft honours (mail_plugins.h).
 */
#ifndef LOFT_CONFIG_H
#define LOFT_CONFIG_H

#include "settings.h"

/* config_load - parse path and fill set (settings_init'ed by the call).
   protocol is "lda", "lmtp" or NULL (no protocol block applied). Returns 0,
   or -1 with *error_r = "FILE:LINE: message" (valid until the next call);
   on error set holds nothing that needs freeing. */
int config_load(const char *path, const char *protocol,
		struct loft_settings *set, const char **error_r);

/* config_load_string - the same for text already in memory; name is
   used as FILE in messages and as the base of relative includes. */
int config_load_string(const char *name, const char *text,
		       const char *protocol, struct loft_settings *set,
		       const char **error_r);

/* config_plugin_check_t - a check of the plugin { } settings of a mail
   plugin whose code lives outside lib/ (the Sieve plugin's): 0, or -1
   with *key_r (the setting at fault, for its FILE:LINE) and *error_r
   (malloced) */
struct kvlist;
typedef int config_plugin_check_t(const struct kvlist *plugin,
				  const char **key_r, char **error_r);
/* config_set_plugin_check - run check on every load for protocol lda or
   lmtp whose mail_plugins names plugin (one check per process; programs
   that run the plugin register it before loading) */
void config_set_plugin_check(const char *plugin, config_plugin_check_t *check);

#endif
