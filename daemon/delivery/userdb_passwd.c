/*
 * userdb_passwd - the passwd userdb driver: the system's users through
 * NSS (getpwnam_r, so /etc/passwd, LDAP via nss_ldap, ...). The name
 * looked up is the recipient exactly as given, domain included: system
 * users have no domain, so "root@example.com" is not "root" (strip the
 * domain with the delivery's user-name handling or use passwd-file with
 * username_format=%n). Fields: uid, gid and home (when not empty) from
 * the entry. args: empty, or Dovecot's `blocking=yes|no`, accepted and
 * meaningless here (loft looks users up in-process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userdb_private.h"

/* passwd_validate - args empty or blocking=yes|no tokens */
static int passwd_validate(const char *args, const char **error_r)
{
	struct kvlist fields;
	int ret = 0;

	kvlist_init(&fields);
	if (userdb_fields_parse(args, &fields, error_r) < 0)
		ret = -1;
	for (size_t i = 0; ret == 0 && i < fields.count; i++) {
		const struct kv *kv = &fields.items[i];

		if (strcmp(kv->key, "blocking") != 0) {
			*error_r = userdb_driver_error("Unknown setting: %s",
						       kv->key);
			ret = -1;
		} else if (strcmp(kv->value, "yes") != 0 &&
			   strcmp(kv->value, "no") != 0) {
			*error_r = userdb_driver_error(
				"Invalid blocking=%s (yes or no)", kv->value);
			ret = -1;
		}
	}
	kvlist_free(&fields);
	return ret;
}

/* reply_set_id - set key to the decimal id */
static void reply_set_id(struct userdb_reply *reply, const char *key,
			 unsigned int id)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", id);
	userdb_reply_set(reply, key, num);
}

/* passwd_lookup - the driver's lookup (see userdb_private.h) */
static enum userdb_result passwd_lookup(const struct loft_settings *set,
					const char *args,
					const char *username,
					struct userdb_reply *reply,
					const char **error_r)
{
	struct passwd pw;
	char *buf;
	int ret;

	(void)set;
	(void)args;
	ret = userdb_getpwnam(username, &pw, &buf);
	if (ret < 0) {
		*error_r = userdb_driver_error("getpwnam_r(%s) failed: %s",
					       username, strerror(-ret));
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	if (ret == 0)
		return USERDB_RESULT_USER_UNKNOWN;
	reply_set_id(reply, "uid", pw.pw_uid);
	reply_set_id(reply, "gid", pw.pw_gid);
	if (pw.pw_dir != NULL && pw.pw_dir[0] != '\0')
		userdb_reply_set(reply, "home", pw.pw_dir);
	free(buf);
	return USERDB_RESULT_OK;
}

const struct userdb_driver userdb_driver_passwd = {
	.name = "passwd",
	.validate = passwd_validate,
	.lookup = passwd_lookup,
};
