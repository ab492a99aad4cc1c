/*
 * userdb_static - the static userdb driver: every recipient gets the same
 * fields, given as args `uid=... gid=... home=/var/vmail/%d/%n ...`
 * (space-separated key=value, expanded per user: %u %n %d, and %h = the
 * home set by an earlier field, so `home=... mail=maildir:%h/Maildir`
 * works). In Dovecot a static userdb without a passdb behind it needs
 * `allow_all_users=yes` to answer for users nobody verified; loft has no
 * passdb at all, so the setting is required and is not a reply field.
 * The lookup answers OK for every user.
 */
#include <string.h>

#include "userdb_private.h"

#define STATIC_ALLOW_ALL_USERS "allow_all_users"

/* static_args_parse - args into fields without allow_all_users, which
   must be "yes"; 0 or -1 with *error_r */
static int static_args_parse(const char *args, struct kvlist *fields,
			     const char **error_r)
{
	const char *allow;

	kvlist_init(fields);
	if (userdb_fields_parse(args, fields, error_r) < 0)
		return -1;
	allow = kvlist_get(fields, STATIC_ALLOW_ALL_USERS);
	if (allow == NULL || strcmp(allow, "yes") != 0) {
		*error_r = userdb_driver_error(
			"allow_all_users=yes is required (loft has no passdb)");
		return -1;
	}
	kvlist_remove(fields, STATIC_ALLOW_ALL_USERS);
	return 0;
}

/* static_validate - args parse, have allow_all_users=yes and expand */
static int static_validate(const char *args, const char **error_r)
{
	struct kvlist fields;
	int ret;

	ret = static_args_parse(args, &fields, error_r);
	if (ret == 0)
		ret = userdb_fields_validate(&fields, error_r);
	kvlist_free(&fields);
	return ret;
}

/* static_lookup - the driver's lookup (see userdb_private.h) */
static enum userdb_result static_lookup(const struct loft_settings *set,
					const char *args,
					const char *username,
					struct userdb_reply *reply,
					const char **error_r)
{
	struct kvlist fields;
	int ret;

	(void)set;
	(void)username;
	ret = static_args_parse(args, &fields, error_r);
	if (ret == 0)
		ret = userdb_reply_apply(reply, &fields, error_r);
	kvlist_free(&fields);
	return userdb_expand_result(ret);
}

const struct userdb_driver userdb_driver_static = {
	.name = "static",
	.validate = static_validate,
	.lookup = static_lookup,
};
