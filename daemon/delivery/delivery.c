/*
 * delivery - the delivery core (see delivery.h).
 *
 * Recipient resolution turns userdb fields and global settings into one
 * delivery_user: home (userdb home, else mail_home), mail location (userdb
 * mail, else mail_location, else autodetected from the home), uid/gid
 * (userdb, else mail_uid/mail_gid) and the storage quota (userdb
 * quota_rule, else plugin { quota_rule }). Delivery prepends the trace
 * headers, enforces the quota, saves through storage, falls back to INBOX
 * where asked, and classifies every failure: only a quota refusal (without
 * quota_full_tempfail) or an impossible mailbox is permanent; everything
 * else is temporary so the MTA retries and nothing is lost.
 */
#include "delivery.h"

#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "log.h"
#include "mail_location.h"
#include "perm_error.h"
#include "storage.h"
#include "strbuf.h"
#include "userdb.h"
#include "userdb_cache.h"
#include "var_expand.h"

#define DELIVERY_INTERNAL_ERROR \
	"Internal error occurred. Refer to server log for more information."

static struct delivery_hooks delivery_hooks;
/* the storage time of this thread's current delivery, for its record */
static __thread double delivery_storage_seconds;

void delivery_set_hooks(const struct delivery_hooks *hooks)
{
	if (hooks == NULL)
		memset(&delivery_hooks, 0, sizeof(delivery_hooks));
	else
		delivery_hooks = *hooks;
}

/* delivery_timing - report one timing sample */
static void delivery_timing(enum delivery_timing kind,
			    uint64_t start_mono_usecs)
{
	if (delivery_hooks.timing != NULL)
		delivery_hooks.timing(kind, (double)(clock_monotonic_usecs() -
						     start_mono_usecs) / 1e6,
				      delivery_hooks.context);
}

/* dir_exists - whether path is a directory */
static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* autodetect_mail_location - Dovecot-like guess for an empty
   mail_location: ~/Maildir if it exists, else /var/mail/USER or ~/mbox
   mbox, else a new ~/Maildir */
static char *autodetect_mail_location(const char *user, const char *home)
{
	char *path;
	struct stat st;

	path = xasprintf("%s/Maildir", home);
	if (dir_exists(path)) {
		free(path);
		return xstrdup("maildir:~/Maildir");
	}
	free(path);
	path = xasprintf("/var/mail/%s", user);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		char *loc = xasprintf("mbox:~/mail:INBOX=%s", path);
		free(path);
		return loc;
	}
	free(path);
	path = xasprintf("%s/mbox", home);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		free(path);
		return xstrdup("mbox:~/mail:INBOX=~/mbox");
	}
	free(path);
	return xstrdup("maildir:~/Maildir");
}

/* user_resolve_location - set user->mail_location from the userdb mail
   field, mail_location or autodetection; 0, or -1 / VAR_EXPAND_UNSAFE
   with *error_r */
static int user_resolve_location(const struct loft_settings *set,
				 struct delivery_user *user,
				 const char **error_r)
{
	const char *location = kvlist_get(&user->fields, "mail");

	if (location == NULL || *location == '\0')
		location = set->mail_location;
	if (location == NULL || *location == '\0') {
		if (user->home == NULL || *user->home == '\0') {
			*error_r = "mail_location is not set and the user has no home directory";
			return -1;
		}
		user->mail_location = autodetect_mail_location(user->username,
							       user->home);
		return 0;
	}
	return var_expand_user_string(location, user->username, user->home,
				      true, &user->mail_location, error_r);
}

/* user_resolve_quota - storage limit from quota_rule; 0 or -1 */
static int user_resolve_quota(const struct loft_settings *set,
			      struct delivery_user *user, const char **error_r)
{
	const char *rule = kvlist_get(&user->fields, "quota_rule");

	if (rule == NULL)
		rule = kvlist_get(&set->plugin, "quota_rule");
	if (rule == NULL || *rule == '\0')
		return 0;
	return delivery_quota_parse(rule, &user->quota_bytes, error_r);
}

/* user_resolve_ids - uid/gid from fields or mail_uid/mail_gid */
static int user_resolve_ids(const struct loft_settings *set,
			    struct delivery_user *user, const char **error_r)
{
	const char *uid = kvlist_get(&user->fields, "uid");
	const char *gid = kvlist_get(&user->fields, "gid");
	unsigned int id;

	if (uid == NULL || *uid == '\0')
		uid = set->mail_uid;
	if (gid == NULL || *gid == '\0')
		gid = set->mail_gid;
	if (uid != NULL && *uid != '\0') {
		if (userdb_resolve_uid(uid, &id, error_r) < 0)
			return -1;
		user->uid = (uid_t)id;
		user->have_uid = true;
	}
	if (gid != NULL && *gid != '\0') {
		if (userdb_resolve_gid(gid, &id, error_r) < 0)
			return -1;
		user->gid = (gid_t)id;
		user->have_gid = true;
	} else if (user->have_uid) {
		struct passwd pw, *result = NULL;
		char buf[4096];

		if (getpwuid_r(user->uid, &pw, buf, sizeof(buf), &result) == 0 &&
		    result != NULL) {
			user->gid = pw.pw_gid;
			user->have_gid = true;
		}
	}
	return 0;
}

/* user_resolve - everything after the userdb fields are known; 0, or -1
   / VAR_EXPAND_UNSAFE (the name may not go into a path) with *error_r */
static int user_resolve(const struct loft_settings *set,
			struct delivery_user *user, const char **error_r)
{
	const char *home = kvlist_get(&user->fields, "home");

	if (home != NULL && *home != '\0') {
		user->home = xstrdup(home);
	} else if (set->mail_home != NULL && *set->mail_home != '\0') {
		int ret = var_expand_user_string(set->mail_home, user->username,
						 NULL, true, &user->home,
						 error_r);
		if (ret < 0)
			return ret;
	}
	if (user_resolve_ids(set, user, error_r) < 0)
		return -1;
	if (user_resolve_quota(set, user, error_r) < 0)
		return -1;
	return user_resolve_location(set, user, error_r);
}

/* delivery_user_unknown - the outcome for a recipient that cannot exist */
static void delivery_user_unknown(const char *address, struct outcome *out)
{
	outcome_set(out, OUTCOME_REJECTED, OUTCOME_REASON_UNKNOWN_USER, 550,
		    "5.1.1", "User doesn't exist: %s", address);
}

/* delivery_user_name_check - Dovecot's auth_username_translation, then
   auth_username_chars: 0 with *translated_r (xmalloc'ed), or -1 with the
   recipient refused in out (a name with a character outside the set is
   never looked up: it cannot exist) */
static int delivery_user_name_check(const struct loft_settings *set,
				    const char *address, char **translated_r,
				    struct outcome *out)
{
	const char *trans = set->auth_username_translation;
	const char *chars = set->auth_username_chars;
	size_t trans_len = strlen(trans);
	char *name = xstrdup(address);

	for (char *p = name; *p != '\0'; p++) {
		for (size_t i = 0; i + 1 < trans_len; i += 2) {
			if (*p == trans[i]) {
				*p = trans[i + 1];
				break;
			}
		}
		if (*chars != '\0' && strchr(chars, *p) == NULL) {
			log_info("recipient refused: character 0x%02x is not in "
				 "auth_username_chars", (unsigned int)(unsigned char)*p);
			free(name);
			delivery_user_unknown(address, out);
			*translated_r = NULL;
			return -1;
		}
	}
	*translated_r = name;
	return 0;
}

int delivery_user_lookup(const struct loft_settings *set, const char *address,
			 struct delivery_user **user_r, struct outcome *out)
{
	struct userdb_reply *reply;
	struct delivery_user *user;
	enum userdb_result result;
	const char *error;
	char *translated, *lookup_name;
	enum userdb_cache_use cache_use;
	uint64_t start = clock_monotonic_usecs();
	int ret;

	*user_r = NULL;
	if (delivery_user_name_check(set, address, &translated, out) < 0)
		return 0;
	ret = var_expand_user_string(set->auth_username_format, translated,
				     NULL, false, &lookup_name, &error);
	free(translated);
	if (ret < 0) {
		log_error("auth_username_format %s: %s",
			  set->auth_username_format, error);
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		return -1;
	}
	result = userdb_lookup_cached(set, lookup_name, &reply, &cache_use,
				      &error);
	if (cache_use == USERDB_CACHE_STALE)
		log_warning("userdb lookup for %s failed, using its expired "
			    "cache entry: %s", lookup_name, error);
	free(lookup_name);
	delivery_timing(cache_use == USERDB_CACHE_HIT ?
			DELIVERY_TIMING_USERDB_CACHE_HIT :
			cache_use == USERDB_CACHE_OFF ? DELIVERY_TIMING_USERDB :
			DELIVERY_TIMING_USERDB_CACHE_MISS, start);
	switch (result) {
	case USERDB_RESULT_USER_UNKNOWN:
		log_debug("userdb: %s not found (%.3f ms)", address,
			  (double)(clock_monotonic_usecs() - start) / 1000.0);
		delivery_user_unknown(address, out);
		return 0;
	case USERDB_RESULT_INTERNAL_FAILURE:
		log_error("userdb lookup for %s failed: %s", address, error);
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		return -1;
	case USERDB_RESULT_OK:
		break;
	}
	user = xcalloc(1, sizeof(*user));
	user->username = xstrdup(reply->username);
	kvlist_copy(&user->fields, &reply->fields);
	userdb_reply_free(&reply);
	log_debug("userdb: %s found (%.3f ms)", address,
		  (double)(clock_monotonic_usecs() - start) / 1000.0);

	ret = user_resolve(set, user, &error);
	if (ret == VAR_EXPAND_UNSAFE) {
		log_info("user %s refused: %s", user->username, error);
		delivery_user_unknown(address, out);
		delivery_user_free(&user);
		return 0;
	}
	if (ret < 0) {
		log_error("user %s: %s", user->username, error);
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		delivery_user_free(&user);
		return -1;
	}
	*user_r = user;
	return 1;
}

int delivery_user_system(const struct loft_settings *set, const char *username,
			 const char *home, uid_t uid, gid_t gid,
			 struct delivery_user **user_r, struct outcome *out)
{
	struct delivery_user *user = xcalloc(1, sizeof(*user));
	const char *error;

	user->username = xstrdup(username);
	kvlist_init(&user->fields);
	if (home != NULL && *home != '\0')
		kvlist_set(&user->fields, "home", home);
	user->uid = uid;
	user->gid = gid;
	user->have_uid = user->have_gid = true;
	if (user_resolve(set, user, &error) < 0) {
		log_error("user %s: %s", username, error);
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		delivery_user_free(&user);
		*user_r = NULL;
		return -1;
	}
	/* the invoking user's identity wins over mail_uid/mail_gid */
	user->uid = uid;
	user->gid = gid;
	*user_r = user;
	return 0;
}

void delivery_user_free(struct delivery_user **_user)
{
	struct delivery_user *user = *_user;

	if (user == NULL)
		return;
	*_user = NULL;
	free(user->username);
	free(user->home);
	free(user->mail_location);
	kvlist_free(&user->fields);
	free(user);
}

int delivery_user_check_ids(const struct loft_settings *set,
			    const struct delivery_user *user,
			    struct outcome *out)
{
	if (!user->have_uid) {
		log_error("user %s: no uid (set the userdb uid field or mail_uid)",
			  user->username);
		outcome_tempfail(out, "4.3.0", DELIVERY_INTERNAL_ERROR);
		return -1;
	}
	if (user->uid == 0 ||
	    user->uid < set->first_valid_uid ||
	    (set->last_valid_uid != 0 && user->uid > set->last_valid_uid)) {
		log_error("user %s: mail access for uid %u is not permitted "
			  "(see first_valid_uid=%u, last_valid_uid=%u)",
			  user->username, (unsigned int)user->uid,
			  set->first_valid_uid, set->last_valid_uid);
		outcome_tempfail(out, "4.3.0", DELIVERY_INTERNAL_ERROR);
		return -1;
	}
	if (!user->have_gid) {
		log_error("user %s: no gid (set the userdb gid field or mail_gid)",
			  user->username);
		outcome_tempfail(out, "4.3.0", DELIVERY_INTERNAL_ERROR);
		return -1;
	}
	if (user->gid < set->first_valid_gid ||
	    (set->last_valid_gid != 0 && user->gid > set->last_valid_gid)) {
		log_error("user %s: mail access for gid %u is not permitted "
			  "(see first_valid_gid=%u, last_valid_gid=%u)",
			  user->username, (unsigned int)user->gid,
			  set->first_valid_gid, set->last_valid_gid);
		outcome_tempfail(out, "4.3.0", DELIVERY_INTERNAL_ERROR);
		return -1;
	}
	return 0;
}

int delivery_quota_parse(const char *rule, uint64_t *bytes_r,
			 const char **error_r)
{
	static __thread char error[160];
	const char *p = strchr(rule, ':');
	char *end;
	unsigned long long value;
	uint64_t mult = 1024;

	*bytes_r = 0;
	if (p == NULL || p - rule != 1 || rule[0] != '*') {
		snprintf(error, sizeof(error),
			 "Invalid quota_rule '%s': expected *:storage=SIZE", rule);
		*error_r = error;
		return -1;
	}
	p++;
	if (strcmp(p, "ignore") == 0 || strcmp(p, "none") == 0)
		return 0;
	if (strncmp(p, "storage=", 8) != 0) {
		snprintf(error, sizeof(error),
			 "Invalid quota_rule '%s': only storage= limits are supported",
			 rule);
		*error_r = error;
		return -1;
	}
	p += 8;
	errno = 0;
	value = strtoull(p, &end, 10);
	if (end == p || errno != 0) {
		snprintf(error, sizeof(error), "Invalid quota_rule '%s'", rule);
		*error_r = error;
		return -1;
	}
	switch (*end) {
	case '\0': mult = 1024; break;	/* Dovecot: a bare number is KiB */
	case 'B': case 'b': mult = 1; end++; break;
	case 'k': case 'K': mult = 1024ULL; end++; break;
	case 'M': case 'm': mult = 1024ULL * 1024; end++; break;
	case 'G': case 'g': mult = 1024ULL * 1024 * 1024; end++; break;
	case 'T': case 't': mult = 1024ULL * 1024 * 1024 * 1024; end++; break;
	default: end = NULL; break;
	}
	if (end == NULL || (*end != '\0' && strcmp(end, "B") != 0 &&
			    strcmp(end, "b") != 0) ||
	    (value != 0 && mult > UINT64_MAX / value)) {
		snprintf(error, sizeof(error), "Invalid quota_rule '%s'", rule);
		*error_r = error;
		return -1;
	}
	*bytes_r = value * mult;
	return 0;
}

/* ensure_home - create a missing home directory (and its missing
   parents) with mode 0700, as Dovecot does on first delivery */
static int ensure_home(const char *home, const char **error_r)
{
	static __thread struct error_slot error;
	char *path;
	int ret = 0;

	if (home == NULL || *home != '/' || dir_exists(home))
		return 0;
	path = xstrdup(home);
	for (char *p = path + 1; ret == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*error_r = perm_error_syscall(&error, "mkdir", path, true);
			ret = -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(path);
	return ret;
}

/* build_prefix - the header lines loft prepends */
static void build_prefix(const struct delivery_request *req,
			 struct strbuf *prefix)
{
	if (req->return_path && req->envelope_sender != NULL)
		strbuf_appendf(prefix, "Return-Path: <%s>\n",
			       req->envelope_sender);
	if (req->delivered_to != NULL)
		strbuf_appendf(prefix, "Delivered-To: %s\n", req->delivered_to);
	if (req->extra_headers != NULL)
		strbuf_append_str(prefix, req->extra_headers);
}

void delivery_log(const struct loft_settings *set,
		  const struct delivery_request *req, struct message *msg,
		  const char *mailbox, uint64_t size, uint64_t vsize,
		  const struct outcome *out, const char *status)
{
	struct log_delivery rec;

	memset(&rec, 0, sizeof(rec));
	if (msg != NULL) {
		rec.msgid = message_msgid(msg);
		rec.subject = message_subject(msg);
		rec.from = message_from(msg);
	}
	rec.envelope_from = req->envelope_sender;
	rec.rcpt = req->rcpt;
	rec.orig_rcpt = req->orig_rcpt;
	rec.mailbox = mailbox;
	rec.size = size;
	rec.vsize = vsize;
	rec.result = outcome_result_name(out->result);
	rec.code = out->code;
	rec.enhanced_code = out->enhanced;
	rec.status = status;
	rec.duration_ms = req->start_mono_usecs == 0 ? 0.0 :
		(double)(clock_monotonic_usecs() - req->start_mono_usecs) /
		1000.0;
	log_delivery(set->deliver_log_format, &rec);
	if (delivery_hooks.delivery != NULL) {
		struct delivery_report report = {
			.req = req, .rec = &rec, .out = out,
			.storage_seconds = delivery_storage_seconds,
		};
		delivery_hooks.delivery(&report, delivery_hooks.context);
	}
	delivery_storage_seconds = 0;
}

/* storage_error_outcome - classify a storage failure */
static void storage_error_outcome(enum storage_error error,
				  const struct delivery_request *req,
				  struct outcome *out)
{
	switch (error) {
	case STORAGE_ERR_NOSPACE:
		outcome_set(out, OUTCOME_TEMPFAIL, OUTCOME_REASON_OTHER, 452,
			    "4.3.1", "Insufficient system storage");
		break;
	case STORAGE_ERR_NOTFOUND:
	case STORAGE_ERR_INVALID:
		outcome_set(out, OUTCOME_REJECTED, OUTCOME_REASON_OTHER, 550,
			    "5.2.0", "Mailbox unavailable");
		break;
	case STORAGE_ERR_TEMP:
	case STORAGE_OK:
		outcome_tempfail(out, "4.3.0", DELIVERY_INTERNAL_ERROR " [%s]",
				 req->session_id == NULL ? "" : req->session_id);
		break;
	}
}

/* check_quota - 0 when the message fits; -1 with out filled */
static int check_quota(const struct loft_settings *set,
		       const struct delivery_user *user,
		       const struct mail_location *loc,
		       const struct delivery_request *req, struct message *msg,
		       uint64_t prefix_len, struct outcome *out)
{
	uint64_t used, size = message_size(msg) + prefix_len;
	const char *error;

	if (user->quota_bytes == 0)
		return 0;
	if (storage_usage(loc, &used, &error) < 0) {
		log_error("quota: %s", error);
		storage_error_outcome(STORAGE_ERR_TEMP, req, out);
		return -1;
	}
	if (used + size <= user->quota_bytes)
		return 0;
	if (set->quota_full_tempfail) {
		outcome_set(out, OUTCOME_TEMPFAIL, OUTCOME_REASON_QUOTA, 452,
			    "4.2.2", "Quota exceeded (mailbox for user is full)");
	} else {
		outcome_set(out, OUTCOME_REJECTED, OUTCOME_REASON_QUOTA, 552,
			    "5.2.2", "Quota exceeded (mailbox for user is full)");
	}
	return -1;
}

/* save_to - one storage attempt into mailbox */
static enum storage_error save_to(const struct loft_settings *set,
				  const struct mail_location *loc,
				  const struct delivery_request *req,
				  const char *mailbox, bool autocreate,
				  const struct strbuf *prefix,
				  struct message *msg,
				  struct storage_save_result *result,
				  const char **error_r)
{
	struct storage_save_params params;
	enum storage_error ret;

	memset(&params, 0, sizeof(params));
	params.loc = loc;
	params.mailbox = mailbox;
	params.autocreate = autocreate;
	params.autosubscribe = req->autosubscribe;
	params.fsync = settings_mail_fsync(set);
	params.hostname = set->hostname;
	params.lock_timeout_ms = set->mail_max_lock_timeout != 0 ?
		set->mail_max_lock_timeout : set->mbox_lock_timeout;
	params.dotlock_stale_ms = set->mbox_dotlock_change_timeout;
	params.privileged_group = set->mail_privileged_group;
	params.mbox_write_locks = set->mbox_write_locks;
	params.envelope_sender = req->envelope_sender;
	params.prefix = prefix->data;
	params.prefix_len = prefix->len;
	params.link_source = req->link_source;
	ret = storage_save(&params, msg, result, error_r);
	/* a problem or repair on the way, logged for each attempt */
	if (result->warning != NULL) {
		log_warning("%s", result->warning);
		XFREE(result->warning);
	}
	return ret;
}

/* delivery_failed - log the record of a failed save: "save failed to
   MAILBOX: <details>" (out is already filled) */
static void delivery_failed(const struct loft_settings *set,
			    const struct delivery_request *req,
			    struct message *msg, const char *mailbox,
			    const struct outcome *out, const char *fmt, ...)
	LOFT_ATTR_FORMAT(6, 7);
static void delivery_failed(const struct loft_settings *set,
			    const struct delivery_request *req,
			    struct message *msg, const char *mailbox,
			    const struct outcome *out, const char *fmt, ...)
{
	struct strbuf status;
	va_list args;

	strbuf_init(&status, 128);
	strbuf_appendf(&status, "save failed to %s: ", mailbox);
	va_start(args, fmt);
	strbuf_vappendf(&status, fmt, args);
	va_end(args);
	delivery_log(set, req, msg, mailbox, 0, 0, out, status.data);
	strbuf_free(&status);
}

void delivery_deliver(const struct loft_settings *set,
		      const struct delivery_user *user,
		      const struct delivery_request *req, struct message *msg,
		      struct outcome *out, char **saved_path_r)
{
	struct mail_location loc;
	struct storage_save_result result;
	struct strbuf prefix;
	enum storage_error error;
	const char *error_str;
	uint64_t storage_start;
	char *mailbox, *status;

	memset(&result, 0, sizeof(result));
	if (saved_path_r != NULL)
		*saved_path_r = NULL;
	mailbox = mail_location_normalize(req->mailbox == NULL ? "INBOX" :
					  req->mailbox);
	strbuf_init(&prefix, 256);
	build_prefix(req, &prefix);

	if (mail_location_parse(user->mail_location, user->home, &loc,
				&error_str) < 0) {
		storage_error_outcome(STORAGE_ERR_TEMP, req, out);
		delivery_failed(set, req, msg, mailbox, out, "mail_location %s: %s",
				user->mail_location, error_str);
		goto out_free;
	}
	if (ensure_home(user->home, &error_str) < 0) {
		storage_error_outcome(STORAGE_ERR_TEMP, req, out);
		delivery_failed(set, req, msg, mailbox, out, "%s", error_str);
		goto out_loc;
	}
	if (check_quota(set, user, &loc, req, msg, prefix.len, out) < 0) {
		delivery_failed(set, req, msg, mailbox, out, "%s", out->text);
		goto out_loc;
	}

	storage_start = clock_monotonic_usecs();
	error = save_to(set, &loc, req, mailbox, req->autocreate, &prefix,
			msg, &result, &error_str);
	if ((error == STORAGE_ERR_NOTFOUND || error == STORAGE_ERR_INVALID) &&
	    req->fallback_to_inbox && !mail_location_is_inbox(mailbox)) {
		log_info("msgid=%s: save failed to open mailbox %s: %s",
			 message_msgid(msg) == NULL ? "unspecified" :
			 message_msgid(msg), mailbox, error_str);
		free(mailbox);
		mailbox = xstrdup("INBOX");
		storage_save_result_free(&result);
		error = save_to(set, &loc, req, mailbox, true, &prefix, msg,
				&result, &error_str);
	}
	if (result.tmp_removed > 0)
		log_info("removed %u files older than 36 hours from the tmp/ of %s",
			 result.tmp_removed, mailbox);
	if (error != STORAGE_OK) {
		storage_error_outcome(error, req, out);
		delivery_failed(set, req, msg, mailbox, out, "%s", error_str);
		goto out_loc;
	}
	/* reported with the delivery record, not as a timing of its own */
	delivery_storage_seconds = (double)(clock_monotonic_usecs() -
					    storage_start) / 1e6;
	log_debug("saved %s (%llu bytes)", result.path,
		  (unsigned long long)result.size);
	outcome_saved(out, "Saved");
	status = xasprintf("saved mail to %s", mailbox);
	delivery_log(set, req, msg, mailbox, result.size, result.vsize, out,
		     status);
	free(status);
	if (saved_path_r != NULL) {
		*saved_path_r = result.path;
		result.path = NULL;
	}
out_loc:
	storage_save_result_free(&result);
	mail_location_free(&loc);
out_free:
	strbuf_free(&prefix);
	free(mailbox);
}
