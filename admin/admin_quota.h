/*
 * admin_quota - `loftadm quota get USER` and `loftadm quota recalc USER`,
 * doveadm's verbs and columns (Quota name, Type, Value, Limit, %: STORAGE
 * in kilobytes, MESSAGE in messages, "-" for no limit), and the usage
 * `loftadm user` shows. The user is looked up as a delivery would look it
 * up, and maildirsize is read (and rewritten, when it must be) with the
 * user's uid/gid, through the same quota code deliveries use.
 */
#ifndef LOFT_ADMIN_QUOTA_H
#define LOFT_ADMIN_QUOTA_H

#include <json-c/json.h>
#include <stddef.h>

#include "delivery.h"

struct admin_context;

/* admin_quota_get_run / admin_quota_recalc_run - args[0] is the user;
   exit code 0, 67 no such user, 68 quota not enabled for the user (as
   doveadm), 75 userdb, config or quota file failure */
int admin_quota_get_run(const struct admin_context *ctx, char **args,
			size_t count);
int admin_quota_recalc_run(const struct admin_context *ctx, char **args,
			   size_t count);

/* admin_quota_json - the user's usage for `loftadm user`: {"storage_kb",
   "storage_limit_kb", "messages", "messages_limit"} (limit 0: none),
   null when quota is off for the user, or a string saying why it could
   not be read */
json_object *admin_quota_json(const struct loft_settings *set,
			      const struct delivery_user *user);

#endif
