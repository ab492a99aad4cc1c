/*
 * dovecot_settings - what loft knows of Dovecot 2.3's own settings and
 * sections that it does not implement, so that an existing dovecot.conf
 * reads as-is without "accept anything unknown".
 *
 * Every name here is a real Dovecot setting or section (the names come
 * from `doveconf -a` of Debian 12's dovecot-core 2.3.19.1). Each is either
 * foreign (it belongs to something loft does not run: IMAP, POP3,
 * passdbs, login processes, ...; accepted, listed once as not used by
 * loft, kept out of delivery) or refused (it would change what happens to
 * a message and loft does not implement it: accepted only with a value
 * under which it changes nothing, anything else is an error). Loft's own
 * setting tables (settings.h) are always consulted first: a name that
 * becomes a real loft setting there stops being foreign without any change
 * here. A name in neither place is an unknown setting, an error.
 */
#ifndef LOFT_DOVECOT_SETTINGS_H
#define LOFT_DOVECOT_SETTINGS_H

#include <stdbool.h>

struct dovecot_setting {
	const char *name;
	/* NULL: foreign, any value. Otherwise refused unless the value is
	   one of these ':'-separated values (compared case-insensitively;
	   "" is the empty value) */
	const char *inert;
	/* refused settings: what loft does not implement */
	const char *missing;
	/* NULL, or a boolean loft setting under which loft does the same:
	   the refusal then depends on its final value (checked after the
	   whole file, for the protocol loaded) */
	const char *unless_loft;
};

/* Dovecot sections loft does not implement. */
struct dovecot_section {
	const char *keyword;
	const char *parent;	/* keyword of the section it must be in;
				   NULL: the top level (or a filter) */
	/* the settings it may hold; NULL: free-form (dict { name = uri }) */
	const struct dovecot_setting *settings;
};

/* dovecot_setting_find - the entry named name in a table from this
   module, or NULL */
const struct dovecot_setting *
dovecot_setting_find(const struct dovecot_setting *table, const char *name);

/* dovecot_global_setting - a global Dovecot setting loft does not
   implement (ssl settings included), or NULL */
const struct dovecot_setting *dovecot_global_setting(const char *name);

/* dovecot_setting_check - 0 when value is accepted for s (always for a
   foreign setting), -1 with *error_r ("mail_save_crlf = yes: loft does
   not implement saving mail with CRLF line endings") */
int dovecot_setting_check(const struct dovecot_setting *s, const char *value,
			  const char **error_r);

/* dovecot_section_find - a foreign section keyword allowed inside
   parent (NULL: at the top level), or NULL */
const struct dovecot_section *dovecot_section_find(const char *keyword,
						   const char *parent);

/* Extra settings of blocks loft does implement: what a Dovecot userdb,
   service or listener block may also hold. */
extern const struct dovecot_setting dovecot_userdb_settings[];
extern const struct dovecot_setting dovecot_service_settings[];
extern const struct dovecot_setting dovecot_listener_settings[];

/* dovecot_service_is_foreign - name is a Dovecot service loft does not
   run (imap, imap-login, pop3, auth, dict, ...) */
bool dovecot_service_is_foreign(const char *name);

/* dovecot_protocol_is_foreign - name is a Dovecot protocol loft does not
   serve (imap, pop3, submission, sieve, doveadm, indexer-worker, ...) */
bool dovecot_protocol_is_foreign(const char *name);

/* dovecot_is_filter - keyword is one of Dovecot's local/remote filters,
   whose settings apply per connection address (loft applies settings
   globally, so only foreign settings may be inside) */
bool dovecot_is_filter(const char *keyword);

#endif
