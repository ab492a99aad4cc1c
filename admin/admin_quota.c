/*
 * admin_quota - quota get/recalc for loftadm (see admin_quota.h).
 */
#include "admin_quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "admin_commands.h"
#include "admin_format.h"
#include "error_slot.h"
#include "mail_location.h"
#include "privileges.h"
#include "quota.h"

static __thread struct error_slot admin_quota_error;

enum admin_quota_op { ADMIN_QUOTA_GET, ADMIN_QUOTA_RECALC };

/* admin_quota_as_user - op on the user's quota with the user's identity
   (when loftadm runs as root). 1 done, 0 quota not enabled for the user,
   -1 with *error_r. */
static int admin_quota_as_user(const struct loft_settings *set,
			       const struct delivery_user *user,
			       enum admin_quota_op op,
			       struct quota_usage *usage_r, const char **error_r)
{
	struct mail_location loc;
	struct quota_root *root = NULL;
	bool assumed = false;
	const char *error;
	struct outcome out;
	int ret = 1;

	if (user->quota == NULL)
		return 0;
	if (mail_location_parse(user->mail_location, user->home, &loc,
				error_r) < 0)
		return -1;
	if (loc.type != MAIL_STORAGE_MAILDIR) {
		mail_location_free(&loc);
		return 0;
	}
	if (geteuid() == 0) {
		if (delivery_user_check_ids(set, user, &out) < 0) {
			*error_r = "the user's uid/gid may not access mail "
				"(see loftadm user)";
			ret = -1;
		} else if (privileges_thread_assume(user->uid, user->gid,
						    user->gid, &error) < 0) {
			*error_r = error_slot_set(&admin_quota_error, "%s", error);
			ret = -1;
		} else {
			assumed = true;
		}
	}
	if (ret > 0 && quota_root_open(user->quota, &loc, set->hostname, &root,
				       error_r) < 0)
		ret = -1;
	else if (ret > 0 && root == NULL)
		ret = 0;	/* ignoreunlimited and unlimited */
	else if (ret > 0 && op == ADMIN_QUOTA_RECALC &&
		 quota_root_recalc(root, error_r) < 0)
		ret = -1;
	else if (ret > 0 && op == ADMIN_QUOTA_GET &&
		 quota_root_get(root, usage_r, error_r) < 0)
		ret = -1;
	quota_root_close(&root);
	if (assumed && privileges_thread_restore(&error) < 0) {
		fprintf(stderr, "loftadm: cannot return to root: %s\n", error);
		_exit(EX_SOFTWARE);
	}
	mail_location_free(&loc);
	return ret;
}

/* admin_quota_run - look the user up and do op; *usage_r and
   *root_name_r (xmalloc'ed) for GET */
static int admin_quota_run(const struct admin_context *ctx, const char *name,
			   enum admin_quota_op op, struct quota_usage *usage_r,
			   char **root_name_r)
{
	const struct loft_settings *set = admin_need_config(ctx, "quota");
	struct delivery_user *user;
	const char *error;
	struct outcome out;
	int ret;

	if (set == NULL)
		return EX_TEMPFAIL;
	ret = delivery_user_lookup(set, name, &user, &out);
	if (ret <= 0) {
		fprintf(stderr, "loftadm: user %s: %s%s%s\n", name,
			ret < 0 ? out.enhanced : "", ret < 0 ? " " : "", out.text);
		return ret == 0 ? EX_NOUSER : EX_TEMPFAIL;
	}
	ret = admin_quota_as_user(set, user, op, usage_r, &error);
	if (ret > 0 && root_name_r != NULL)
		*root_name_r = xstrdup(user->quota->root_name);
	delivery_user_free(&user);
	if (ret == 0) {
		fprintf(stderr, "loftadm: user %s: Quota not enabled\n", name);
		return EX_NOHOST;
	}
	if (ret < 0) {
		fprintf(stderr, "loftadm: user %s: quota: %s\n", name, error);
		return EX_TEMPFAIL;
	}
	return EX_OK;
}

/* admin_quota_row - one doveadm quota get line */
static json_object *admin_quota_row(const char *root_name, const char *type,
				    const struct quota_resource *res)
{
	json_object *row = json_object_new_object();

	json_object_object_add(row, "root", json_object_new_string(root_name));
	json_object_object_add(row, "type", json_object_new_string(type));
	json_object_object_add(row, "value", json_object_new_uint64(res->value));
	json_object_object_add(row, "limit", res->limit == 0 ?
			       json_object_new_string("-") :
			       json_object_new_uint64(res->limit));
	json_object_object_add(row, "percent", json_object_new_uint64(
		res->limit == 0 ? 0 : res->value * 100 / res->limit));
	return row;
}

int admin_quota_get_run(const struct admin_context *ctx, char **args,
			size_t count)
{
	static const struct admin_column columns[] = {
		{ "Quota name", "root", ADMIN_COLUMN_TEXT },
		{ "Type", "type", ADMIN_COLUMN_TEXT },
		{ "Value", "value", ADMIN_COLUMN_TEXT },
		{ "Limit", "limit", ADMIN_COLUMN_TEXT },
		{ "%", "percent", ADMIN_COLUMN_TEXT },
	};
	static const struct admin_view view = {
		.rows_key = NULL, .columns = columns,
		.column_count = LOFT_N_ELEMENTS(columns),
	};
	struct quota_usage usage;
	json_object *rows;
	char *root_name;
	int ret;

	(void)count;
	ret = admin_quota_run(ctx, args[0], ADMIN_QUOTA_GET, &usage, &root_name);
	if (ret != EX_OK)
		return ret;
	rows = json_object_new_array();
	json_object_array_add(rows, admin_quota_row(root_name, "STORAGE",
						    &usage.storage_kb));
	json_object_array_add(rows, admin_quota_row(root_name, "MESSAGE",
						    &usage.messages));
	admin_format_print(stdout, ctx->format, rows, &view);
	json_object_put(rows);
	free(root_name);
	return EX_OK;
}

int admin_quota_recalc_run(const struct admin_context *ctx, char **args,
			   size_t count)
{
	(void)count;
	return admin_quota_run(ctx, args[0], ADMIN_QUOTA_RECALC, NULL, NULL);
}

json_object *admin_quota_json(const struct loft_settings *set,
			      const struct delivery_user *user)
{
	struct quota_usage usage;
	json_object *doc;
	const char *error;
	int ret = admin_quota_as_user(set, user, ADMIN_QUOTA_GET, &usage, &error);

	if (ret == 0)
		return NULL;
	if (ret < 0)
		return json_object_new_string(error);
	doc = json_object_new_object();
	json_object_object_add(doc, "root",
			       json_object_new_string(user->quota->root_name));
	json_object_object_add(doc, "storage_kb",
			       json_object_new_uint64(usage.storage_kb.value));
	json_object_object_add(doc, "storage_limit_kb",
			       json_object_new_uint64(usage.storage_kb.limit));
	json_object_object_add(doc, "messages",
			       json_object_new_uint64(usage.messages.value));
	json_object_object_add(doc, "messages_limit",
			       json_object_new_uint64(usage.messages.limit));
	return doc;
}
