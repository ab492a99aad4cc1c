/*
 * userdb_passwd_file - the passwd-file userdb driver and its line parser.
 *
 * Format (Dovecot's): `user:password:uid:gid:gecos:home:shell:extra_fields`.
 * Trailing columns may be omitted; an omitted or empty column is NULL in
 * struct passwd_file_entry (so an empty uid/gid/home is "not set"). Blank
 * lines and lines starting with '#' are skipped; a trailing CR is
 * ignored. extra_fields is the rest of the line after the 7th ':' (so its
 * values may contain ':' and '='), a space-separated list of key=value; a
 * key without '=' is a boolean field with the value "yes".
 *
 * Which extra fields are userdb fields: Dovecot's documentation says "keys
 * which begin with a userdb_ prefix are used for userdb, others are used
 * for passdb", and its userdb ignores unprefixed keys. loft has no passdb,
 * and userdb.h promises `mail=...` works too, so loft keeps (1) every
 * userdb_-prefixed field, prefix stripped, and (2) unprefixed fields whose
 * key is a well-known userdb key (uid, gid, home, mail, chroot, or one
 * starting with mail_, quota, lda_, lmtp_ or sieve) and never a passdb
 * field. Other unprefixed keys (nopassword, allow_nets, proxy, host,
 * user, ...) are passdb fields of a file shared with Dovecot and are
 * dropped: an unprefixed `user=` must not rename the recipient. When both
 * forms of a key are present the userdb_ one wins. Field values are
 * variable-expanded at lookup (%u %n %d, and %h = the home column), as
 * Dovecot does.
 *
 * args: `[username_format=FMT] PATH`. FMT (default %u) is expanded for the
 * recipient to get the key compared, exactly and case-sensitively, with
 * each line's user column; PATH may hold variables (%d for one file per
 * domain). A missing or unreadable file is an internal failure, never
 * "user unknown". Lookups open the file once and scan it buffered,
 * stopping at the first line of the user; only that line is fully parsed,
 * so a broken line of another user is skipped, while a broken line of the
 * user is an internal failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "userdb_private.h"
#include "xalloc.h"

#define PASSWD_FILE_DEFAULT_FORMAT "%u"
#define PASSWD_FILE_FORMAT_PREFIX "username_format="
#define PASSWD_FILE_USERDB_PREFIX "userdb_"
#define PASSWD_FILE_COLUMNS 7

struct passwd_file_args {
	char *format;
	char *path;
};

static const char *const passwd_file_userdb_keys[] = {
	"uid", "gid", "home", "mail", "chroot",
};
static const char *const passwd_file_userdb_key_prefixes[] = {
	"mail_", "quota", "lda_", "lmtp_", "sieve",
};

/* is_userdb_key - whether an unprefixed extra field is a userdb field */
static bool is_userdb_key(const char *key)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(passwd_file_userdb_keys); i++) {
		if (strcmp(key, passwd_file_userdb_keys[i]) == 0)
			return true;
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(passwd_file_userdb_key_prefixes);
	     i++) {
		const char *prefix = passwd_file_userdb_key_prefixes[i];

		if (strncmp(key, prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

/* id_valid - an id column: a decimal number or a user/group name */
static bool id_valid(const char *str)
{
	if (str[0] == '-')
		return false;
	for (const char *p = str; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		      *p == '.'))
			return false;
	}
	return true;
}

/* column_dup - a copy of [start,end), or NULL when empty */
static char *column_dup(const char *start, const char *end)
{
	return end == start ? NULL : xstrndup(start, (size_t)(end - start));
}

/* extra_fields_parse - fill entry->extra from the extra_fields text
   following the policy of the file header; 0 or -1 with *error_r */
static int extra_fields_parse(const char *text, struct kvlist *extra,
			      const char **error_r)
{
	const size_t prefix_len = strlen(PASSWD_FILE_USERDB_PREFIX);
	struct kvlist raw;
	int ret;

	kvlist_init(&raw);
	ret = userdb_fields_parse(text, &raw, error_r);
	/* unprefixed well-known keys first, so userdb_ ones replace them */
	for (size_t i = 0; ret == 0 && i < raw.count; i++) {
		if (is_userdb_key(raw.items[i].key))
			kvlist_set(extra, raw.items[i].key, raw.items[i].value);
	}
	for (size_t i = 0; ret == 0 && i < raw.count; i++) {
		const char *key = raw.items[i].key;

		if (strncmp(key, PASSWD_FILE_USERDB_PREFIX, prefix_len) != 0)
			continue;
		if (key[prefix_len] == '\0') {
			*error_r = userdb_driver_error(
				"Extra field without a name: %s", key);
			ret = -1;
		} else {
			kvlist_set(extra, key + prefix_len, raw.items[i].value);
		}
	}
	kvlist_free(&raw);
	return ret;
}

/* entry_check - semantic checks of a split line; 0 or -1 with *error_r */
static int entry_check(const struct passwd_file_entry *entry,
		       const char **error_r)
{
	if (entry->user == NULL) {
		*error_r = userdb_driver_error("Missing user name");
		return -1;
	}
	if (entry->uid != NULL && !id_valid(entry->uid)) {
		*error_r = userdb_driver_error("Invalid uid '%s'", entry->uid);
		return -1;
	}
	if (entry->gid != NULL && !id_valid(entry->gid)) {
		*error_r = userdb_driver_error("Invalid gid '%s'", entry->gid);
		return -1;
	}
	return 0;
}

int passwd_file_parse_line(const char *line, struct passwd_file_entry *entry_r,
			   const char **error_r)
{
	char **columns[PASSWD_FILE_COLUMNS] = {
		&entry_r->user, &entry_r->password, &entry_r->uid,
		&entry_r->gid, &entry_r->gecos, &entry_r->home, &entry_r->shell,
	};
	const char *p = line;
	size_t len = strlen(line);

	memset(entry_r, 0, sizeof(*entry_r));
	kvlist_init(&entry_r->extra);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || line[0] == '#')
		return 0;

	for (size_t i = 0; i < PASSWD_FILE_COLUMNS && p != NULL; i++) {
		const char *end = memchr(p, ':', (size_t)(line + len - p));

		*columns[i] = column_dup(p, end == NULL ? line + len : end);
		p = end == NULL ? NULL : end + 1;
	}
	if (p != NULL) {
		char *extra = xstrndup(p, (size_t)(line + len - p));
		int ret = extra_fields_parse(extra, &entry_r->extra, error_r);

		free(extra);
		if (ret < 0) {
			passwd_file_entry_free(entry_r);
			return -1;
		}
	}
	if (entry_check(entry_r, error_r) < 0) {
		passwd_file_entry_free(entry_r);
		return -1;
	}
	return 1;
}

void passwd_file_entry_free(struct passwd_file_entry *entry)
{
	free(entry->user);
	free(entry->password);
	free(entry->uid);
	free(entry->gid);
	free(entry->gecos);
	free(entry->home);
	free(entry->shell);
	kvlist_free(&entry->extra);
	memset(entry, 0, sizeof(*entry));
	kvlist_init(&entry->extra);
}

/* args_parse - split args into format and path; 0 or -1 with *error_r */
static int args_parse(const char *args, struct passwd_file_args *args_r,
		      const char **error_r)
{
	const char *p = args, *end;
	size_t prefix_len = strlen(PASSWD_FILE_FORMAT_PREFIX);

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, PASSWD_FILE_FORMAT_PREFIX, prefix_len) == 0) {
		p += prefix_len;
		end = p + strcspn(p, " \t");
		args_r->format = xstrndup(p, (size_t)(end - p));
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
	} else {
		args_r->format = xstrdup(PASSWD_FILE_DEFAULT_FORMAT);
	}
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	args_r->path = xstrndup(p, (size_t)(end - p));
	if (args_r->format[0] == '\0') {
		*error_r = userdb_driver_error("Empty username_format");
		return -1;
	}
	if (args_r->path[0] == '\0') {
		*error_r = userdb_driver_error("Missing passwd-file path in args");
		return -1;
	}
	return 0;
}

/* args_free - free what args_parse filled */
static void args_free(struct passwd_file_args *args)
{
	free(args->format);
	free(args->path);
}

/* args_expand - expand format and path for username into key and path;
   0, or -1 / VAR_EXPAND_UNSAFE (no file can be named for username) with
   *error_r */
static int args_expand(const struct passwd_file_args *args,
		       const char *username, struct strbuf *key,
		       struct strbuf *path, const char **error_r)
{
	const char *error;
	int ret;

	if (userdb_expand(key, args->format, username, NULL, false, &error) < 0) {
		*error_r = userdb_driver_error("username_format %s: %s",
					       args->format, error);
		return -1;
	}
	ret = userdb_expand(path, args->path, username, NULL, true, &error);
	if (ret < 0)
		*error_r = userdb_driver_error("path %s: %s", args->path, error);
	return ret;
}

/* passwd_file_validate - args parse and expand for a sample user */
static int passwd_file_validate(const char *args, const char **error_r)
{
	struct passwd_file_args parsed = { NULL, NULL };
	struct strbuf key, path;
	int ret;

	strbuf_init(&key, 64);
	strbuf_init(&path, 128);
	ret = args_parse(args, &parsed, error_r);
	if (ret == 0)
		ret = args_expand(&parsed, USERDB_VALIDATE_USER, &key, &path,
				  error_r);
	strbuf_free(&key);
	strbuf_free(&path);
	args_free(&parsed);
	return ret;
}

/* line_is_user - whether line's user column is key */
static bool line_is_user(const char *line, const char *key, size_t key_len)
{
	return strncmp(line, key, key_len) == 0 &&
		(line[key_len] == ':' || line[key_len] == '\0' ||
		 (line[key_len] == '\r' && line[key_len + 1] == '\0'));
}

/* file_open - path opened for reading if it is trusted; NULL with
   *error_r */
static FILE *file_open(const struct loft_settings *set, const char *path,
		       const char **error_r)
{
	FILE *file = fopen(path, "re");

	if (file == NULL) {
		*error_r = userdb_driver_error("open(%s) failed: %s", path,
					       strerror(errno));
		return NULL;
	}
	if (userdb_file_trusted(set, path, fileno(file), error_r) < 0) {
		fclose(file);
		return NULL;
	}
	return file;
}

/* file_find - scan path for key's line; 1 found (*entry_r filled), 0 not
   there, -1 failure with *error_r */
static int file_find(const struct loft_settings *set, const char *path,
		     const char *key, struct passwd_file_entry *entry_r,
		     const char **error_r)
{
	size_t key_len = strlen(key), line_size = 0;
	unsigned int line_no = 0;
	char *line = NULL;
	ssize_t len;
	int ret = 0;
	FILE *file;

	file = file_open(set, path, error_r);
	if (file == NULL)
		return -1;
	errno = 0;
	while (ret == 0 && (len = getline(&line, &line_size, file)) >= 0) {
		const char *error;

		line_no++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!line_is_user(line, key, key_len))
			continue;
		if (strlen(line) != (size_t)len) {
			*error_r = userdb_driver_error(
				"%s line %u: NUL byte in the line of user %s",
				path, line_no, key);
			ret = -1;
		} else if (passwd_file_parse_line(line, entry_r, &error) < 0) {
			*error_r = userdb_driver_error(
				"%s line %u: Broken line of user %s: %s",
				path, line_no, key, error);
			ret = -1;
		} else {
			ret = 1;
		}
		errno = 0;
	}
	if (ret == 0 && ferror(file)) {
		*error_r = userdb_driver_error("read(%s) failed: %s", path,
					       strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(file);
	return ret;
}

/* entry_to_reply - set the entry's uid, gid, home and expanded extra
   fields in reply; 0 or -1 with *error_r */
static int entry_to_reply(const struct passwd_file_entry *entry,
			  struct userdb_reply *reply, const char **error_r)
{
	if (entry->uid != NULL)
		userdb_reply_set(reply, "uid", entry->uid);
	if (entry->gid != NULL)
		userdb_reply_set(reply, "gid", entry->gid);
	if (entry->home != NULL)
		userdb_reply_set(reply, "home", entry->home);
	return userdb_reply_apply(reply, &entry->extra, error_r);
}

/* passwd_file_lookup - the driver's lookup (see userdb_private.h) */
static enum userdb_result
passwd_file_lookup(const struct loft_settings *set, const char *args,
		   const char *username, struct userdb_reply *reply,
		   const char **error_r)
{
	struct passwd_file_args parsed = { NULL, NULL };
	struct passwd_file_entry entry;
	enum userdb_result result = USERDB_RESULT_INTERNAL_FAILURE;
	struct strbuf key, path;
	int ret;

	strbuf_init(&key, 64);
	strbuf_init(&path, 128);
	ret = args_parse(args, &parsed, error_r);
	if (ret == 0)
		ret = args_expand(&parsed, username, &key, &path, error_r);
	if (ret == 0) {
		/* an empty key, or one with ':' or a leading '#', matches
		   no line */
		if (key.data[0] == '\0' || key.data[0] == '#' ||
		    strchr(key.data, ':') != NULL)
			ret = 0;
		else
			ret = file_find(set, path.data, key.data, &entry, error_r);
		if (ret == 0) {
			result = USERDB_RESULT_USER_UNKNOWN;
		} else if (ret > 0) {
			result = userdb_expand_result(entry_to_reply(&entry, reply,
								     error_r));
			passwd_file_entry_free(&entry);
		}
	} else {
		result = userdb_expand_result(ret);
	}
	strbuf_free(&key);
	strbuf_free(&path);
	args_free(&parsed);
	return result;
}

/* passwd_file_iterate - every user column of a file named without
   variables and looked up with the default username_format (see
   userdb_private.h) */
static int passwd_file_iterate(const struct loft_settings *set,
			       const char *args, userdb_iterate_callback_t *cb,
			       void *context, const char **error_r)
{
	struct passwd_file_args parsed = { NULL, NULL };
	size_t line_size = 0;
	char *line = NULL;
	ssize_t len;
	FILE *file;
	int ret;

	ret = args_parse(args, &parsed, error_r);
	if (ret < 0 || strchr(parsed.path, '%') != NULL ||
	    strcmp(parsed.format, PASSWD_FILE_DEFAULT_FORMAT) != 0) {
		args_free(&parsed);
		return ret < 0 ? -1 : 0;
	}
	file = file_open(set, parsed.path, error_r);
	if (file == NULL) {
		args_free(&parsed);
		return -1;
	}
	ret = 1;
	errno = 0;
	while ((len = getline(&line, &line_size, file)) >= 0) {
		size_t user_len = strcspn(line, ":\r\n");

		if (user_len == 0 || line[0] == '#' ||
		    strlen(line) != (size_t)len)
			continue;
		line[user_len] = '\0';
		cb(line, context);
		errno = 0;
	}
	if (ferror(file)) {
		*error_r = userdb_driver_error("read(%s) failed: %s",
					       parsed.path, strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(file);
	args_free(&parsed);
	return ret;
}

const struct userdb_driver userdb_driver_passwd_file = {
	.name = "passwd-file",
	.validate = passwd_file_validate,
	.lookup = passwd_file_lookup,
	.iterate = passwd_file_iterate,
};
