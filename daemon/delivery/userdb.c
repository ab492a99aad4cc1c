/*
 * userdb - run a user lookup over the configured `userdb { }` blocks (see
 * userdb.h): pick each block's driver, apply default_fields before and
 * override_fields after the driver's fields, try the blocks in order and
 * keep a driver failure from turning into "user unknown". Also validates
 * the blocks at config time, resolves uid/gid names and holds the helpers
 * the drivers share (userdb_private.h).
 *
 * Multiple blocks: the first block that finds the user wins. A block
 * that fails is remembered and the next one is tried; when no block finds
 * the user the lookup is an internal failure if any block failed (with
 * the first failure's error), else "user unknown". skip=notfound skips a
 * block when the block consulted just before it said "user unknown"
 * (never for the first block, nor after a failure: a block after a
 * failing one is a fallback). skip=found would skip after a success,
 * which cannot happen since the lookup stops at the first success.
 */
#include "userdb.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decimal.h"
#include "error_slot.h"
#include "userdb_private.h"
#include "var_expand.h"
#include "xalloc.h"

/* NSS buffers grow up to this before a lookup is called a failure */
#define USERDB_NSS_BUF_MAX (16U * 1024 * 1024)
#define USERDB_NSS_BUF_INITIAL 1024U

static const struct userdb_driver *const userdb_drivers[] = {
	&userdb_driver_passwd_file,
	&userdb_driver_sql,
	&userdb_driver_static,
	&userdb_driver_passwd,
	&userdb_driver_auth,
};

/* the last error of the public API, and of the drivers */
static __thread struct error_slot userdb_error_slot;
static __thread struct error_slot userdb_driver_error_slot;

const char *userdb_driver_error(const char *fmt, ...)
{
	const char *ret;
	va_list args;

	va_start(args, fmt);
	ret = error_slot_vset(&userdb_driver_error_slot, fmt, args);
	va_end(args);
	return ret;
}

int userdb_expand(struct strbuf *dest, const char *str, const char *username,
		  const char *home, bool path, const char **error_r)
{
	struct var_expand_user vu;
	int ret;

	var_expand_user_init(&vu, username, home);
	ret = path ? var_expand_path(dest, str, vu.table, error_r) :
		var_expand(dest, str, vu.table, error_r);
	var_expand_user_free(&vu);
	return ret;
}

enum userdb_result userdb_expand_result(int ret)
{
	if (ret == 0)
		return USERDB_RESULT_OK;
	return ret == VAR_EXPAND_UNSAFE ? USERDB_RESULT_USER_UNKNOWN :
		USERDB_RESULT_INTERNAL_FAILURE;
}

/* userdb_field_is_path - fields whose values are paths: a user name
   expanded into them is checked as var_expand_path() does */
static bool userdb_field_is_path(const char *key)
{
	return strcmp(key, "home") == 0 || strcmp(key, "mail") == 0;
}

int userdb_fields_parse(const char *text, struct kvlist *fields,
			const char **error_r)
{
	const char *p = text == NULL ? "" : text;

	for (;;) {
		const char *start, *eq;
		char *key;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		eq = memchr(start, '=', (size_t)(p - start));
		if (eq == start) {
			*error_r = userdb_driver_error(
				"Field without a name: '%.*s'",
				(int)(p - start), start);
			return -1;
		}
		if (eq == NULL) {
			key = xstrndup(start, (size_t)(p - start));
			kvlist_set(fields, key, "yes");
		} else {
			char *value = xstrndup(eq + 1, (size_t)(p - eq - 1));
			key = xstrndup(start, (size_t)(eq - start));
			kvlist_set(fields, key, value);
			free(value);
		}
		free(key);
	}
}

void userdb_reply_set(struct userdb_reply *reply, const char *key,
		      const char *value)
{
	kvlist_set(&reply->fields, key, value);
	if (strcmp(key, "user") == 0 && value[0] != '\0') {
		char *copy = xstrdup(value);
		free(reply->username);
		reply->username = copy;
	}
}

int userdb_reply_apply(struct userdb_reply *reply, const struct kvlist *fields,
		       const char **error_r)
{
	struct strbuf value;
	const char *error;
	int ret = 0;

	strbuf_init(&value, 128);
	for (size_t i = 0; i < fields->count && ret == 0; i++) {
		const struct kv *kv = &fields->items[i];

		strbuf_reset(&value);
		ret = userdb_expand(&value, kv->value, reply->username,
				    kvlist_get(&reply->fields, "home"),
				    userdb_field_is_path(kv->key), &error);
		if (ret < 0) {
			*error_r = userdb_driver_error("Field %s=%s: %s",
						       kv->key, kv->value,
						       error);
		} else {
			userdb_reply_set(reply, kv->key, value.data);
		}
	}
	strbuf_free(&value);
	return ret;
}

typedef int userdb_nss_func(const char *name, void *ent, char *buf,
			    size_t size, bool *found_r);

/* nss_getpwnam - getpwnam_r in userdb_nss_func's shape */
static int nss_getpwnam(const char *name, void *ent, char *buf, size_t size,
			bool *found_r)
{
	struct passwd *result = NULL;
	int ret = getpwnam_r(name, ent, buf, size, &result);

	*found_r = result != NULL;
	return ret;
}

/* nss_getgrnam - getgrnam_r in userdb_nss_func's shape */
static int nss_getgrnam(const char *name, void *ent, char *buf, size_t size,
			bool *found_r)
{
	struct group *result = NULL;
	int ret = getgrnam_r(name, ent, buf, size, &result);

	*found_r = result != NULL;
	return ret;
}

/* userdb_nss_lookup - call func with a buffer grown on ERANGE; 1 found
   (strings in *buf_r), 0 not found, or -errno. "Not found" is what
   glibc and the NSS modules report for a missing name: 0 with no result,
   ENOENT, ESRCH, EBADF or EPERM. */
static int userdb_nss_lookup(userdb_nss_func *func, const char *name,
			     void *ent, char **buf_r)
{
	size_t size = USERDB_NSS_BUF_INITIAL;
	char *buf = xmalloc(size);
	bool found;
	int ret;

	while ((ret = func(name, ent, buf, size, &found)) == ERANGE &&
	       size < USERDB_NSS_BUF_MAX) {
		size *= 2;
		buf = xrealloc(buf, size);
	}
	if (ret == 0 && found) {
		*buf_r = buf;
		return 1;
	}
	free(buf);
	if (ret == 0 || ret == ENOENT || ret == ESRCH || ret == EBADF ||
	    ret == EPERM)
		return 0;
	return -ret;
}

int userdb_getpwnam(const char *name, struct passwd *pw_r, char **buf_r)
{
	return userdb_nss_lookup(nss_getpwnam, name, pw_r, buf_r);
}

/* parse_id - a decimal id that is not (id_t)-1; false when str is not */
static bool parse_id(const char *str, unsigned int *id_r)
{
	return decimal_parse_uint(str, UINT_MAX - 1, id_r);
}

int userdb_resolve_uid(const char *str, unsigned int *uid_r,
		       const char **error_r)
{
	struct passwd pw;
	char *buf;
	int ret;

	if (parse_id(str, uid_r))
		return 0;
	if (str[0] == '\0') {
		*error_r = error_slot_set(&userdb_error_slot, "Empty uid");
		return -1;
	}
	ret = userdb_getpwnam(str, &pw, &buf);
	if (ret > 0) {
		*uid_r = pw.pw_uid;
		free(buf);
		return 0;
	}
	*error_r = ret == 0 ? error_slot_set(&userdb_error_slot, "Unknown user name: %s", str) :
		error_slot_set(&userdb_error_slot, "getpwnam_r(%s) failed: %s", str, strerror(-ret));
	return -1;
}

int userdb_resolve_gid(const char *str, unsigned int *gid_r,
		       const char **error_r)
{
	struct group gr;
	char *buf;
	int ret;

	if (parse_id(str, gid_r))
		return 0;
	if (str[0] == '\0') {
		*error_r = error_slot_set(&userdb_error_slot, "Empty gid");
		return -1;
	}
	ret = userdb_nss_lookup(nss_getgrnam, str, &gr, &buf);
	if (ret > 0) {
		*gid_r = gr.gr_gid;
		free(buf);
		return 0;
	}
	*error_r = ret == 0 ? error_slot_set(&userdb_error_slot, "Unknown group name: %s", str) :
		error_slot_set(&userdb_error_slot, "getgrnam_r(%s) failed: %s", str, strerror(-ret));
	return -1;
}

int userdb_file_trusted(const struct loft_settings *set, const char *path,
			int fd, const char **error_r)
{
	unsigned int mail_uid = 0;
	const char *error;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		*error_r = userdb_driver_error("fstat(%s) failed: %s", path,
					       strerror(errno));
		return -1;
	}
	if (set->mail_uid != NULL && *set->mail_uid != '\0' &&
	    userdb_resolve_uid(set->mail_uid, &mail_uid, &error) < 0)
		mail_uid = 0;
	if (st.st_uid != 0 && st.st_uid != (uid_t)mail_uid) {
		*error_r = userdb_driver_error(
			"%s is owned by uid %u: not trusted (the owner must be "
			"root or mail_uid)", path, (unsigned int)st.st_uid);
		return -1;
	}
	if ((st.st_mode & S_IWOTH) != 0) {
		*error_r = userdb_driver_error(
			"%s is writable by everyone (mode %04o): not trusted",
			path, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* userdb_driver_find - the driver called name, or NULL */
static const struct userdb_driver *userdb_driver_find(const char *name)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(userdb_drivers); i++) {
		if (name != NULL && strcmp(userdb_drivers[i]->name, name) == 0)
			return userdb_drivers[i];
	}
	return NULL;
}

/* block_file - the block's config file name, for messages */
static const char *block_file(const struct userdb_settings *block)
{
	return block->file != NULL ? block->file : "(config)";
}

int userdb_fields_validate(const struct kvlist *fields, const char **error_r)
{
	struct userdb_reply reply;
	int ret;

	reply.username = xstrdup(USERDB_VALIDATE_USER);
	kvlist_init(&reply.fields);
	kvlist_set(&reply.fields, "home", USERDB_VALIDATE_HOME);
	ret = userdb_reply_apply(&reply, fields, error_r);
	kvlist_free(&reply.fields);
	free(reply.username);
	return ret;
}

/* template_validate - parse fields_text and expand it for a sample user;
   0, or -1 with *error_r */
static int template_validate(const char *fields_text, const char **error_r)
{
	struct kvlist fields;
	int ret;

	kvlist_init(&fields);
	ret = userdb_fields_parse(fields_text, &fields, error_r);
	if (ret == 0)
		ret = userdb_fields_validate(&fields, error_r);
	kvlist_free(&fields);
	return ret;
}

/* skip_valid - whether skip is a known skip= value */
static bool skip_valid(const char *skip)
{
	return skip == NULL || skip[0] == '\0' || strcmp(skip, "never") == 0 ||
		strcmp(skip, "found") == 0 || strcmp(skip, "notfound") == 0;
}

/* block_validate - check one block; 0, or -1 with the message (without
   the FILE:LINE prefix) in *error_r */
static int block_validate(const struct userdb_settings *block,
			  const char **error_r)
{
	const struct userdb_driver *driver;
	const char *error;

	if (block->driver == NULL || block->driver[0] == '\0') {
		*error_r = userdb_driver_error("userdb: driver is not set");
		return -1;
	}
	driver = userdb_driver_find(block->driver);
	if (driver == NULL) {
		*error_r = userdb_driver_error(
			"Unknown userdb driver: %s (known: passwd-file, static, passwd, sql, auth)",
			block->driver);
		return -1;
	}
	if (!skip_valid(block->skip)) {
		*error_r = userdb_driver_error(
			"userdb %s: Invalid skip: %s (never, found or notfound)",
			driver->name, block->skip);
		return -1;
	}
	if (driver->validate(block->args == NULL ? "" : block->args,
			     &error) < 0) {
		*error_r = userdb_driver_error("userdb %s: %s", driver->name,
					       error);
		return -1;
	}
	if (template_validate(block->default_fields, &error) < 0) {
		*error_r = userdb_driver_error("userdb %s: default_fields: %s",
					       driver->name, error);
		return -1;
	}
	if (template_validate(block->override_fields, &error) < 0) {
		*error_r = userdb_driver_error("userdb %s: override_fields: %s",
					       driver->name, error);
		return -1;
	}
	return 0;
}

int userdb_validate(const struct loft_settings *set, const char **error_r)
{
	const char *error;

	for (size_t i = 0; i < set->userdb_count; i++) {
		const struct userdb_settings *block = &set->userdbs[i];

		if (block_validate(block, &error) < 0) {
			*error_r = error_slot_set(&userdb_error_slot, "%s:%u: %s", block_file(block),
						block->line, error);
			return -1;
		}
	}
	return 0;
}

/* reply_apply_text - parse fields_text and apply it to reply; 0, or -1
   with *error_r naming what (default_fields/override_fields) */
static int reply_apply_text(struct userdb_reply *reply, const char *what,
			    const char *fields_text, const char **error_r)
{
	struct kvlist fields;
	const char *error;
	int ret;

	kvlist_init(&fields);
	ret = userdb_fields_parse(fields_text, &fields, &error);
	if (ret == 0)
		ret = userdb_reply_apply(reply, &fields, &error);
	kvlist_free(&fields);
	if (ret < 0)
		*error_r = userdb_driver_error("%s: %s", what, error);
	return ret;
}

/* block_lookup - look username up in one block; *error_r (on failure)
   carries the "userdb DRIVER: " prefix */
static enum userdb_result block_lookup(const struct loft_settings *set,
				       const struct userdb_settings *block,
				       const char *username,
				       struct userdb_reply **reply_r,
				       const char **error_r)
{
	const struct userdb_driver *driver = userdb_driver_find(block->driver);
	struct userdb_reply *reply;
	enum userdb_result result;
	const char *error;

	if (driver == NULL) {
		*error_r = error_slot_set(&userdb_error_slot, "%s:%u: Unknown userdb driver: %s",
					block_file(block), block->line,
					block->driver == NULL ? "(not set)" :
					block->driver);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	reply = xcalloc(1, sizeof(*reply));
	reply->username = xstrdup(username);
	kvlist_init(&reply->fields);

	result = userdb_expand_result(reply_apply_text(reply, "default_fields",
						       block->default_fields,
						       &error));
	if (result == USERDB_RESULT_OK)
		result = driver->lookup(set, block->args == NULL ? "" :
					block->args, username, reply, &error);
	if (result == USERDB_RESULT_OK)
		result = userdb_expand_result(reply_apply_text(reply,
			"override_fields", block->override_fields, &error));

	if (result == USERDB_RESULT_OK) {
		*reply_r = reply;
		return result;
	}
	userdb_reply_free(&reply);
	if (result == USERDB_RESULT_INTERNAL_FAILURE)
		*error_r = error_slot_set(&userdb_error_slot, "userdb %s: %s", driver->name, error);
	return result;
}

/* block_skipped - whether block's skip= says not to consult it after a
   block that answered prev (or none yet when have_prev is false) */
static bool block_skipped(const struct userdb_settings *block,
			  bool have_prev, enum userdb_result prev)
{
	if (block->skip == NULL || !have_prev)
		return false;
	if (strcmp(block->skip, "notfound") == 0)
		return prev == USERDB_RESULT_USER_UNKNOWN;
	if (strcmp(block->skip, "found") == 0)
		return prev == USERDB_RESULT_OK;
	return false;
}

int userdb_lookup_name(const struct loft_settings *set, const char *address,
		       char **name_r, const char **error_r)
{
	const char *trans = set->auth_username_translation;
	const char *chars = set->auth_username_chars;
	size_t trans_len = strlen(trans);
	char *name = xstrdup(address);
	const char *error;
	int ret;

	*name_r = NULL;
	for (char *p = name; *p != '\0'; p++) {
		unsigned char c;

		for (size_t i = 0; i + 1 < trans_len; i += 2) {
			if (*p == trans[i]) {
				*p = trans[i + 1];
				break;
			}
		}
		c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f ||
		    (*chars != '\0' && strchr(chars, *p) == NULL)) {
			*error_r = error_slot_set(&userdb_error_slot,
				"character 0x%02x is not in auth_username_chars",
				(unsigned int)c);
			free(name);
			return 0;
		}
	}
	if (name[0] == '\0') {
		*error_r = error_slot_set(&userdb_error_slot, "empty user name");
		free(name);
		return 0;
	}
	ret = var_expand_user_string(set->auth_username_format, name, NULL,
				     false, name_r, &error);
	free(name);
	if (ret < 0) {
		*error_r = error_slot_set(&userdb_error_slot,
					  "auth_username_format %s: %s",
					  set->auth_username_format, error);
		return -1;
	}
	return 1;
}

void userdb_use_auth_socket(struct loft_settings *set, const char *path)
{
	struct userdb_settings *block;

	for (size_t i = 0; i < set->userdb_count; i++) {
		settings_defs_free(loft_userdb_setting_defs, &set->userdbs[i]);
		free(set->userdbs[i].name);
		free(set->userdbs[i].file);
	}
	set->userdbs = xreallocarray(set->userdbs, 1, sizeof(*set->userdbs));
	set->userdb_count = 1;
	block = &set->userdbs[0];
	memset(block, 0, sizeof(*block));
	settings_defs_init(loft_userdb_setting_defs, block);
	free(block->driver);
	block->driver = xstrdup("auth");
	free(block->args);
	block->args = xstrdup(path);
	block->file = xstrdup("auth_socket_path");
}

enum userdb_result userdb_lookup(const struct loft_settings *set,
				 const char *username,
				 struct userdb_reply **reply_r,
				 const char **error_r)
{
	const char *driver;

	return userdb_lookup_from(set, username, reply_r, &driver, error_r);
}

/* driver_name - the static name of block's driver ("" unknown) */
static const char *driver_name(const struct userdb_settings *block)
{
	const struct userdb_driver *driver = userdb_driver_find(block->driver);

	return driver != NULL ? driver->name : "";
}

enum userdb_result userdb_lookup_from(const struct loft_settings *set,
				      const char *username,
				      struct userdb_reply **reply_r,
				      const char **driver_r,
				      const char **error_r)
{
	enum userdb_result prev = USERDB_RESULT_USER_UNKNOWN;
	const char *failed_driver = NULL;
	char *failure = NULL;
	bool have_prev = false;
	const char *error = "";

	*reply_r = NULL;
	*driver_r = "";
	if (set->userdb_count == 0) {
		*error_r = error_slot_set(&userdb_error_slot, "No userdb configured");
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	for (size_t i = 0; i < set->userdb_count; i++) {
		const struct userdb_settings *block = &set->userdbs[i];

		if (block_skipped(block, have_prev, prev))
			continue;
		prev = block_lookup(set, block, username, reply_r, &error);
		have_prev = true;
		*driver_r = driver_name(block);
		if (prev == USERDB_RESULT_OK) {
			free(failure);
			return prev;
		}
		if (prev == USERDB_RESULT_INTERNAL_FAILURE && failure == NULL) {
			failure = xstrdup(error);
			failed_driver = *driver_r;
		}
	}
	if (failure != NULL) {
		*driver_r = failed_driver;
		*error_r = error_slot_set(&userdb_error_slot, "%s", failure);
		free(failure);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	*error_r = error_slot_set(&userdb_error_slot, "User %s not found in any userdb", username);
	return USERDB_RESULT_USER_UNKNOWN;
}

void userdb_reply_free(struct userdb_reply **reply)
{
	if (*reply == NULL)
		return;
	kvlist_free(&(*reply)->fields);
	free((*reply)->username);
	XFREE(*reply);
}

int userdb_iterate(const struct loft_settings *set,
		   userdb_iterate_callback_t *cb, void *context,
		   unsigned int *skipped_r, const char **error_r)
{
	int listed = 0;

	*skipped_r = 0;
	for (size_t i = 0; i < set->userdb_count; i++) {
		const struct userdb_settings *block = &set->userdbs[i];
		const struct userdb_driver *driver =
			userdb_driver_find(block->driver);
		const char *error;
		int ret;

		ret = driver == NULL || driver->iterate == NULL ? 0 :
			driver->iterate(set, block->args == NULL ? "" :
					block->args, cb, context, &error);
		if (ret < 0) {
			*error_r = error_slot_set(&userdb_error_slot,
						  "userdb %s: %s", driver->name,
						  error);
			return -1;
		}
		if (ret == 0)
			(*skipped_r)++;
		else
			listed++;
	}
	return listed;
}
