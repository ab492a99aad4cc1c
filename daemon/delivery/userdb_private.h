/*
 * userdb_private - the interface between userdb.c and its drivers
 * (userdb_passwd_file.c, userdb_static.c, userdb_passwd.c, userdb_auth.c): one small
 * vtable per driver plus the shared helpers the drivers use to expand
 * variables, parse `key=value` field lists, set reply fields, report
 * errors and query NSS. Nothing outside daemon/delivery/userdb*.c
 * includes this file.
 */
#ifndef LOFT_USERDB_PRIVATE_H
#define LOFT_USERDB_PRIVATE_H

#include <pwd.h>

#include "kvlist.h"
#include "strbuf.h"
#include "userdb.h"

/* sample user for expanding templates at config time */
#define USERDB_VALIDATE_USER "user@example.com"
#define USERDB_VALIDATE_HOME "/home/user"

struct userdb_driver {
	const char *name;
	/* validate - check args at config time; 0, or -1 with *error_r
	   (without the "FILE:LINE: userdb NAME: " prefix, added by the
	   caller) */
	int (*validate)(const char *args, const char **error_r);
	/* lookup - look username up and set the driver's fields in reply
	   (which already holds the default_fields). *error_r is set on
	   INTERNAL_FAILURE (without the "userdb NAME: " prefix). */
	enum userdb_result (*lookup)(const struct loft_settings *set,
				     const char *args, const char *username,
				     struct userdb_reply *reply,
				     const char **error_r);
	/* iterate - call cb for every user name; 1 done, 0 this block
	   cannot list its users, -1 failure with *error_r. NULL: never. */
	int (*iterate)(const struct loft_settings *set, const char *args,
		       userdb_iterate_callback_t *cb, void *context,
		       const char **error_r);
};

extern const struct userdb_driver userdb_driver_passwd_file;
extern const struct userdb_driver userdb_driver_static;
extern const struct userdb_driver userdb_driver_passwd;
extern const struct userdb_driver userdb_driver_sql;
extern const struct userdb_driver userdb_driver_auth;

/* userdb_driver_error - format a driver's error detail; the string stays
   valid until the next call */
const char *userdb_driver_error(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2);

/* userdb_expand - append str with %u=username %n %d and %h=home (may be
   NULL) expanded to dest, as a path when path is true; 0, or -1 /
   VAR_EXPAND_UNSAFE (the user name may not go into a path: the user
   cannot exist) with *error_r */
int userdb_expand(struct strbuf *dest, const char *str, const char *username,
		  const char *home, bool path, const char **error_r);
/* userdb_expand_result - the lookup result of a userdb_expand() or
   userdb_reply_apply() return value */
enum userdb_result userdb_expand_result(int ret);

/* userdb_fields_parse - split space-separated `key=value` tokens into
   fields (unexpanded; a later key replaces an earlier one; a key without
   '=' gets the value "yes"); 0, or -1 with *error_r on an empty key */
int userdb_fields_parse(const char *text, struct kvlist *fields,
			const char **error_r);

/* userdb_reply_set - set one field; "user" also renames reply->username */
void userdb_reply_set(struct userdb_reply *reply, const char *key,
		      const char *value);

/* userdb_reply_apply - set each field of fields in order, its value
   expanded for the reply so far (%u the current username, %h the current
   home, so a field may use a home set by an earlier one; home and mail
   are expanded as paths); 0, or -1 / VAR_EXPAND_UNSAFE with *error_r
   naming the field */
int userdb_reply_apply(struct userdb_reply *reply, const struct kvlist *fields,
		       const char **error_r);

/* userdb_fields_validate - expand fields for a sample user (config-time
   check for unknown variables); 0, or -1 with *error_r */
int userdb_fields_validate(const struct kvlist *fields, const char **error_r);

/* userdb_file_trusted - a file that decides uids, homes and mail
   locations (passwd-file, the sql driver's file) is read only when owned by
   root or by mail_uid and not writable by others; fd is open on path; 0,
   or -1 with *error_r */
int userdb_file_trusted(const struct loft_settings *set, const char *path,
			int fd, const char **error_r);

/* userdb_getpwnam - getpwnam_r with a buffer grown on ERANGE. 1 found
   (*pw_r points into *buf_r, which the caller frees), 0 no such user,
   or a negative errno on a lookup failure */
int userdb_getpwnam(const char *name, struct passwd *pw_r, char **buf_r);

#endif
