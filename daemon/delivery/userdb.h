/*
 * userdb - who a recipient is: uid, gid, home, mail location and extra
 * fields, from the `userdb { }` blocks in order.
 *
 * Drivers: passwd-file (Dovecot's format: user:pass:uid:gid:gecos:home:
 * shell:extra_fields, extra fields `userdb_mail=...` or `mail=...`;
 * args `[username_format=%u] PATH` with variables in PATH), static (args
 * `uid=... gid=... home=... allow_all_users=yes`), passwd (NSS getpwnam),
 * auth (args `[timeout=TIME] PATH`: an auth-master socket such as
 * Dovecot's auth-userdb or loft-auth's; userdb_auth.c).
 * default_fields are applied before and override_fields after the driver's
 * fields, both variable-expanded. A lookup answers found / not found /
 * temporary failure, and never turns a failure into "not found".
 */
#ifndef LOFT_USERDB_H
#define LOFT_USERDB_H

#include "kvlist.h"
#include "settings.h"

enum userdb_result {
	USERDB_RESULT_INTERNAL_FAILURE = -1,
	USERDB_RESULT_USER_UNKNOWN = 0,
	USERDB_RESULT_OK = 1,
};

struct userdb_reply {
	char *username;		/* possibly rewritten by the userdb (user=) */
	/* fields: "uid", "gid", "home", "mail", "quota_rule", ... values
	   already expanded; uid/gid as given (number or name) */
	struct kvlist fields;
};

/* userdb_lookup_name - the name a recipient is looked up under: Dovecot's
   auth_username_translation applied, auth_username_chars checked (a byte
   outside it, or any control character, and the user cannot exist), then
   auth_username_format expanded. 1 with *name_r (xmalloc'ed); 0 the user
   cannot exist (*error_r says why, for the log); -1 the format failed
   (*error_r). */
int userdb_lookup_name(const struct loft_settings *set, const char *address,
		       char **name_r, const char **error_r);

/* userdb_set_service - what the auth driver tells the socket it is
   (Dovecot's service=, "lda" or "lmtp"); call once at start-up */
void userdb_set_service(const char *service);

/* userdb_use_auth_socket - replace set's userdb blocks by one `auth`
   block asking the socket at path (relative to base_dir unless
   absolute): loft-lda with auth_socket_path */
void userdb_use_auth_socket(struct loft_settings *set, const char *path);

/* userdb_lookup - look username up in set->userdbs. On OK *reply_r is set
   (free with userdb_reply_free); on failure *error_r says why (for the
   log, not for the client). */
enum userdb_result userdb_lookup(const struct loft_settings *set,
				 const char *username,
				 struct userdb_reply **reply_r,
				 const char **error_r);
void userdb_reply_free(struct userdb_reply **reply);
/* userdb_lookup_from - userdb_lookup, and *driver_r the driver
   ("passwd-file", "sql", ...) of the block that decided: the one that
   found the user, the first that failed, else the last one asked ("" when
   none was); a static string */
enum userdb_result userdb_lookup_from(const struct loft_settings *set,
				      const char *username,
				      struct userdb_reply **reply_r,
				      const char **driver_r,
				      const char **error_r);

typedef void userdb_iterate_callback_t(const char *username, void *context);
/* userdb_iterate - every user name of the blocks that can list theirs
   (sql's iterate_query; a passwd-file without variables in its path
   and without username_format=) to cb, block by block; *skipped_r counts
   the blocks that cannot. The number of blocks listed (0: none could), or
   -1 with *error_r when a block failed. */
int userdb_iterate(const struct loft_settings *set,
		   userdb_iterate_callback_t *cb, void *context,
		   unsigned int *skipped_r, const char **error_r);

/* userdb_validate - check the userdb blocks of set at config time
   (known driver, parsable args); 0 or -1 with "FILE:LINE: ..." */
int userdb_validate(const struct loft_settings *set, const char **error_r);

/* passwd-file line parsing, exposed for tests */
struct passwd_file_entry {
	char *user, *password, *uid, *gid, *gecos, *home, *shell;
	struct kvlist extra;	/* userdb_ prefix stripped */
};
/* passwd_file_parse_line - 1 parsed, 0 blank/comment, -1 error */
int passwd_file_parse_line(const char *line, struct passwd_file_entry *entry_r,
			   const char **error_r);
void passwd_file_entry_free(struct passwd_file_entry *entry);

/* userdb_resolve_uid/gid - number or name (getpwnam/getgrnam);
   0 ok, -1 unknown with *error_r */
int userdb_resolve_uid(const char *str, unsigned int *uid_r, const char **error_r);
int userdb_resolve_gid(const char *str, unsigned int *gid_r, const char **error_r);

#endif
