/*
 * sieve_settings - a user's Sieve settings as Pigeonhole reads them from
 * `plugin { }`: `sieve` (file:DIR;active=FILE, or a script path; default
 * file:~/sieve;active=~/.dovecot.sieve), `sieve_global`,
 * `sieve_extensions`, `sieve_max_script_size`, `sieve_max_actions`,
 * `sieve_max_redirects`, `sieve_redirect_envelope_from`,
 * `sieve_redirect_duplicate_period`, `sieve_user_email`, the
 * `sieve_vacation_*` settings of Pigeonhole 0.5, `sieve_before`...,
 * `sieve_after`..., `sieve_default`, `sieve_user_log`. Any other sieve_*
 * setting is refused (it would change what happens to mail and loft does
 * not do it). A value Pigeonhole would warn about and ignore is an error.
 * Also the include loader over the personal and global directories.
 */
#ifndef LOFT_SIEVE_SETTINGS_H
#define LOFT_SIEVE_SETTINGS_H

#include <stdbool.h>

#include "kvlist.h"
#include "sieve.h"
#include "sieve_vacation.h"

/* sieve_redirect_envelope_from: the envelope sender of a redirect */
enum sieve_address_source {
	SIEVE_ADDRESS_SOURCE_DEFAULT,	/* the message's sender */
	SIEVE_ADDRESS_SOURCE_SENDER,
	SIEVE_ADDRESS_SOURCE_RECIPIENT,	/* the final recipient */
	SIEVE_ADDRESS_SOURCE_ORIG_RECIPIENT,
	SIEVE_ADDRESS_SOURCE_USER_EMAIL,	/* sieve_user_email, else the
						   final recipient */
	SIEVE_ADDRESS_SOURCE_POSTMASTER,	/* postmaster_address */
	SIEVE_ADDRESS_SOURCE_EXPLICIT,		/* <address>, "" for <> */
};

/* what the mail Sieve sends is made of */
struct sieve_send_settings {
	enum sieve_address_source redirect_from;
	char *redirect_from_address;	/* SIEVE_ADDRESS_SOURCE_EXPLICIT */
	uint64_t redirect_duplicate_period;	/* seconds, 12 hours */
	char *user_email;		/* sieve_user_email, NULL: none */
	struct sieve_vacation_settings vacation;
};

struct sieve_user_settings {
	char *active_path;	/* the script that runs; NULL: the user has
				   no home, so no personal script */
	char *personal_dir;	/* include :personal (NULL: none) */
	char *global_dir;	/* include :global (NULL: none) */
	/* sieve_before, sieve_before2, ... and sieve_after...: script files
	   or directories, in order (reading stops at the first number not
	   set, as in Pigeonhole) */
	char **before, **after;
	size_t nbefore, nafter;
	char *default_path;	/* sieve_default (NULL: none) */
	char *user_log;		/* sieve_user_log, else ACTIVE.log */
	struct sieve_limits limits;
	struct sieve_send_settings send;
};

/* sieve_user_settings_get - from the plugin settings for user (home for
   ~ and %h); 0, or -1 with *error_r (malloced) */
int sieve_user_settings_get(const struct kvlist *plugin, const char *user,
			    const char *home, struct sieve_user_settings *set_r,
			    char **error_r);
void sieve_user_settings_free(struct sieve_user_settings *set);
/* sieve_settings_check - the settings as a sample user would get them
   (config_plugin_check_t: loftd --check and every load for lda/lmtp);
   0, or -1 with *key_r (the setting at fault) and *error_r */
int sieve_settings_check(const struct kvlist *plugin, const char **key_r,
			 char **error_r);

/* sieve_extensions_parse - Pigeonhole's sieve_extensions value into
   *mask (the default set on entry): with a +name or -name anywhere the
   list changes the default set (plain names add too), else it replaces
   it; -1 with *error_r on an unknown name */
int sieve_extensions_parse(const char *value, uint32_t *mask,
			   char **error_r);

/* sieve_location_scripts - the script files of a sieve_before/after
   location: the file itself, or the *.sieve files of a directory sorted
   bytewise (Pigeonhole's order); appended to *paths (malloced). 1, 0
   when the location does not exist, -1 with *error_r (malloced). */
int sieve_location_scripts(const char *location, char ***paths,
			   size_t *count, char **error_r);

/* sieve_script_read - a script file into text: 1, 0 when it does not
   exist, -1 with *error_r (malloced); at most 16M */
int sieve_script_read(const char *path, struct strbuf *text, char **error_r);
/* sieve_file_read - the same for any file of at most max bytes */
int sieve_file_read(const char *path, size_t max, struct strbuf *text,
		    char **error_r);

/* sieve_file_load - the same, a missing file being an error too: 0, or
   -1 with *error_r (malloced, "PATH: reason") */
int sieve_file_load(const char *path, size_t max, struct strbuf *text,
		    char **error_r);

/* the directories include reads NAME.sieve from */
struct sieve_script_dirs {
	const char *personal, *global;
};
/* sieve_dir_loader - a sieve_script_loader; context: sieve_script_dirs */
int sieve_dir_loader(void *context, bool global, const char *name,
		     struct strbuf *text, char **error_r);

#endif
