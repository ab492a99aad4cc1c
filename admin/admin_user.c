/*
 * admin_user - `loftadm user USER` (see admin_user.h). The lookup goes
 * through delivery_user_lookup(), the one loft-lmtp and loft-lda use, so
 * what is printed is what a delivery would get. Its log lines (a userdb
 * failure's reason) go to stderr.
 */
#include "admin_user.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "admin_commands.h"
#include "admin_quota.h"
#include "delivery.h"
#include "log.h"
#include "mail_location.h"
#include "mask.h"
#include "strbuf.h"
#include "userdb.h"

/* The last error the delivery code logged during a check. */
struct admin_user_capture {
	struct strbuf last_error;
};

/* admin_user_forward - keep the text of each error line logged */
static void admin_user_forward(enum log_level level, uint64_t ts_usecs,
			       const char *session, const char *user,
			       const char *msg, void *context)
{
	struct admin_user_capture *capture = context;

	if (level < LOG_LEVEL_ERROR)
		return;
	strbuf_reset(&capture->last_error);
	strbuf_append_str(&capture->last_error, msg);
}

/* admin_user_ids_check - "ok", or why a delivery would refuse the user's
   uid/gid (first_valid_uid, no uid, ...) */
static json_object *admin_user_ids_check(const struct loft_settings *set,
					 const struct delivery_user *user)
{
	struct admin_user_capture capture;
	struct outcome out;
	json_object *result;

	strbuf_init(&capture.last_error, 128);
	log_set_forward(admin_user_forward, &capture);
	if (delivery_user_check_ids(set, user, &out) == 0)
		result = json_object_new_string("ok");
	else
		result = json_object_new_string(capture.last_error.len > 0 ?
						capture.last_error.data : out.text);
	log_set_forward(NULL, NULL);
	strbuf_free(&capture.last_error);
	return result;
}

/* admin_user_json - the document `user` prints; -1 with *error_r when
   the mail location does not parse */
static int admin_user_json(const struct loft_settings *set,
			   const struct delivery_user *user,
			   json_object **doc_r, const char **error_r)
{
	struct mail_location loc;
	json_object *doc, *fields;
	char *inbox;

	if (mail_location_parse(user->mail_location, user->home, &loc,
				error_r) < 0)
		return -1;
	if (mail_location_mailbox_path(&loc, "INBOX", &inbox, error_r) < 0) {
		mail_location_free(&loc);
		return -1;
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "user", json_object_new_string(user->username));
	json_object_object_add(doc, "uid", user->have_uid ?
			       json_object_new_int64(user->uid) : NULL);
	json_object_object_add(doc, "gid", user->have_gid ?
			       json_object_new_int64(user->gid) : NULL);
	json_object_object_add(doc, "home", user->home != NULL ?
			       json_object_new_string(user->home) : NULL);
	json_object_object_add(doc, "mail_location",
			       json_object_new_string(user->mail_location));
	json_object_object_add(doc, "storage", json_object_new_string(
		loc.type == MAIL_STORAGE_MAILDIR ? "maildir" : "mbox"));
	json_object_object_add(doc, "mailbox_path", json_object_new_string(inbox));
	json_object_object_add(doc, "quota", admin_quota_json(set, user));
	json_object_object_add(doc, "ids_check", admin_user_ids_check(set, user));
	fields = json_object_new_object();
	for (size_t i = 0; i < user->fields.count; i++)
		json_object_object_add(fields, user->fields.items[i].key,
			json_object_new_string(user->fields.items[i].value));
	json_object_object_add(doc, "userdb", fields);
	free(inbox);
	mail_location_free(&loc);
	*doc_r = doc;
	return 0;
}

/* The names `user MASK` prints. */
struct admin_user_list {
	const char *mask;
	json_object *names;
};

static void admin_user_listed(const char *username, void *context)
{
	struct admin_user_list *list = context;

	if (mask_match(list->mask, username))
		json_object_array_add(list->names,
				      json_object_new_string(username));
}

/* admin_user_iterate - `user MASK`: the matching names of the userdbs
   that can list theirs, one per line (doveadm user's form) */
static int admin_user_iterate(const struct admin_context *ctx,
			      const struct loft_settings *set, const char *mask)
{
	static const struct admin_column columns[] = {
		{ "user", "user", ADMIN_COLUMN_TEXT },
	};
	static const struct admin_view view = {
		.scalar_key = "user", .columns = columns, .column_count = 1,
	};
	struct admin_user_list list = { mask, json_object_new_array() };
	unsigned int skipped;
	const char *error;
	int ret;

	ret = userdb_iterate(set, admin_user_listed, &list, &skipped, &error);
	if (ret == 0)
		error = "No userdb can list its users (sql, and passwd-file "
			"without variables or username_format, can)";
	if (ret <= 0) {
		fprintf(stderr, "loftadm: user %s: %s\n", mask, error);
		json_object_put(list.names);
		return EX_TEMPFAIL;
	}
	if (skipped > 0)
		fprintf(stderr, "loftadm: user %s: %u userdb(s) cannot list "
			"their users and were skipped\n", mask, skipped);
	admin_format_print(stdout, ctx->format, list.names, &view);
	json_object_put(list.names);
	return EX_OK;
}

int admin_user_run(const struct admin_context *ctx, char **args, size_t count)
{
	static const struct admin_view view = { .rows_key = NULL };
	const struct loft_settings *set = admin_need_config(ctx, "user");
	struct delivery_user *user;
	struct outcome out;
	const char *error;
	json_object *doc;
	int ret;

	if (set == NULL)
		return EX_TEMPFAIL;
	if (strpbrk(args[0], "*?") != NULL)
		return admin_user_iterate(ctx, set, args[0]);
	ret = delivery_user_lookup(set, args[0], &user, &out);
	if (ret == 0) {
		fprintf(stderr, "loftadm: user %s: %s\n", args[0], out.text);
		return EX_NOUSER;
	}
	if (ret < 0) {
		fprintf(stderr, "loftadm: user %s: %s %s\n", args[0],
			out.enhanced, out.text);
		return EX_TEMPFAIL;
	}
	if (admin_user_json(set, user, &doc, &error) < 0) {
		fprintf(stderr, "loftadm: user %s: mail_location %s: %s\n",
			args[0], user->mail_location, error);
		delivery_user_free(&user);
		return EX_TEMPFAIL;
	}
	admin_format_print(stdout, ctx->format, doc, &view);
	json_object_put(doc);
	delivery_user_free(&user);
	return EX_OK;
}
