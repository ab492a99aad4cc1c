/*
 * delivery - the delivery core (see delivery.h).
 *
 * Recipient resolution turns userdb fields and global settings into one
 * delivery_user: home (userdb home, else mail_home), mail location (userdb
 * mail, else mail_location, else autodetected from the home), uid/gid
 * (userdb, else mail_uid/mail_gid) and, with `quota` in mail_plugins, the
 * quota settings (userdb fields over plugin { }). Delivery prepends the
 * trace headers, checks the quota, saves through storage, falls back to
 * INBOX where asked, counts the message in maildirsize, and classifies
 * every failure: only a quota refusal (without quota_full_tempfail) or an
 * impossible mailbox is permanent; everything else is temporary so the MTA
 * retries and nothing is lost. As in Dovecot, a quota that cannot be read
 * never stops a delivery: it is logged and the mail saved.
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
#include "delivery_sieve.h"
#include "error_slot.h"
#include "log.h"
#include "mail_location.h"
#include "perm_error.h"
#include "mail_plugins.h"
#include "path.h"
#include "quota.h"
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
			    const struct userdb_lookup_info *info,
			    enum userdb_result result,
			    uint64_t start_mono_usecs)
{
	struct delivery_timing_report report = {
		.kind = kind, .userdb_driver = info->driver,
		.userdb_result = result,
		.seconds = (double)(clock_monotonic_usecs() -
				    start_mono_usecs) / 1e6,
	};

	if (delivery_hooks.timing != NULL)
		delivery_hooks.timing(&report, delivery_hooks.context);
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

/* Where the quota settings of one user come from: its userdb fields,
   then plugin { } with the user's variables expanded (as Dovecot does). */
struct quota_lookup {
	const struct loft_settings *set;
	const struct delivery_user *user;
	char *expanded[16];	/* values handed out, freed after reading */
	unsigned int expanded_count;
	const char *error;	/* the first expansion error */
};

/* quota_lookup_get - quota_settings_lookup_t over struct quota_lookup */
static const char *quota_lookup_get(const char *key, void *context)
{
	struct quota_lookup *ql = context;
	const char *value = kvlist_get(&ql->user->fields, key), *error;
	char *result;

	if (value != NULL)
		return value;
	value = kvlist_get(&ql->set->plugin, key);
	if (value == NULL || strchr(value, '%') == NULL)
		return value;
	if (ql->expanded_count == LOFT_N_ELEMENTS(ql->expanded) ||
	    var_expand_user_string(value, ql->user->username, ql->user->home,
				   false, &result, &error) < 0) {
		if (ql->error == NULL)
			ql->error = ql->expanded_count ==
				LOFT_N_ELEMENTS(ql->expanded) ?
				"too many quota settings" : error;
		return value;
	}
	ql->expanded[ql->expanded_count++] = result;
	return result;
}

/* user_resolve_quota - user->quota when mail_plugins names quota; 0, or
   -1 with *error_r */
static int user_resolve_quota(const struct loft_settings *set,
			      struct delivery_user *user, const char **error_r)
{
	static __thread char error[512];
	struct quota_lookup ql = { .set = set, .user = user };
	const char *key, *reason;
	int ret;

	if (!mail_plugins_has(set->mail_plugins, "quota"))
		return 0;
	ret = quota_settings_read(quota_lookup_get, &ql, &user->quota, &key,
				  &reason);
	if (ret >= 0 && ql.error != NULL) {
		key = "quota";
		reason = ql.error;
		quota_settings_free(&user->quota);
		ret = -1;
	}
	for (unsigned int i = 0; i < ql.expanded_count; i++)
		free(ql.expanded[i]);
	if (ret < 0) {
		snprintf(error, sizeof(error), "quota: %s: %s", key, reason);
		*error_r = error;
		return -1;
	}
	return 0;
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

int delivery_user_find(const struct loft_settings *set, const char *address,
		       struct delivery_user **user_r, struct outcome *out)
{
	struct userdb_reply *reply;
	struct delivery_user *user;
	enum userdb_result result;
	const char *error;
	char *lookup_name;
	struct userdb_lookup_info info;
	uint64_t start = clock_monotonic_usecs();
	int ret;

	*user_r = NULL;
	ret = userdb_lookup_name(set, address, &lookup_name, &error);
	if (ret == 0) {
		log_info("recipient refused: %s", error);
		delivery_user_unknown(address, out);
		return 0;
	}
	if (ret < 0) {
		log_error("%s", error);
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		return -1;
	}
	result = userdb_lookup_cached(set, lookup_name, &reply, &info, &error);
	if (info.cache == USERDB_CACHE_STALE)
		log_warning("userdb lookup for %s failed, using its expired "
			    "cache entry: %s", lookup_name, error);
	free(lookup_name);
	delivery_timing(info.cache == USERDB_CACHE_HIT ?
			DELIVERY_TIMING_USERDB_CACHE_HIT :
			info.cache == USERDB_CACHE_OFF ? DELIVERY_TIMING_USERDB :
			DELIVERY_TIMING_USERDB_CACHE_MISS, &info, result, start);
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
	*user_r = user;
	return 1;
}

int delivery_user_resolve(const struct loft_settings *set,
			  struct delivery_user **_user, struct outcome *out)
{
	struct delivery_user *user = *_user;
	const char *error;
	int ret;

	ret = user_resolve(set, user, &error);
	if (ret == VAR_EXPAND_UNSAFE) {
		log_info("user %s refused: %s", user->username, error);
		delivery_user_unknown(user->username, out);
		delivery_user_free(_user);
		return 0;
	}
	if (ret < 0) {
		log_error("user %s: %s", user->username, error);
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		delivery_user_free(_user);
		return -1;
	}
	return 1;
}

int delivery_user_lookup(const struct loft_settings *set, const char *address,
			 struct delivery_user **user_r, struct outcome *out)
{
	int ret = delivery_user_find(set, address, user_r, out);

	return ret == 1 ? delivery_user_resolve(set, user_r, out) : ret;
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
	quota_settings_free(&user->quota);
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

/* quota_refusal - the outcome of a user over quota (Dovecot's replies) */
static void quota_refusal(const struct loft_settings *set,
			  const struct quota_settings *quota, struct outcome *out)
{
	if (set->quota_full_tempfail)
		outcome_set(out, OUTCOME_TEMPFAIL, OUTCOME_REASON_QUOTA, 452,
			    "4.2.2", "%s", quota->exceeded_message);
	else
		outcome_set(out, OUTCOME_REJECTED, OUTCOME_REASON_QUOTA, 552,
			    "5.2.2", "%s", quota->exceeded_message);
}

/* quota_open - the user's quota root for loc; NULL when there is none to
   keep (no quota, mbox, ignoreunlimited) or it cannot be opened (logged:
   the mail is saved anyway, as Dovecot does) */
static struct quota_root *quota_open(const struct loft_settings *set,
				     const struct delivery_user *user,
				     const struct mail_location *loc)
{
	struct quota_root *root;
	const char *error;

	if (user->quota == NULL)
		return NULL;
	if (loc->type != MAIL_STORAGE_MAILDIR) {
		log_warning("quota: %s is not Maildir, skipping for Maildir++ "
			    "quota", user->mail_location);
		return NULL;
	}
	if (quota_root_open(user->quota, loc, set->hostname, &root,
			    &error) < 0) {
		log_error("quota: %s - saving mail anyway", error);
		return NULL;
	}
	return root;
}

/* check_quota - 0 when the message may be saved; -1 with out filled */
static int check_quota(const struct loft_settings *set,
		       const struct delivery_user *user,
		       struct quota_root *root, const char *mailbox,
		       uint64_t size, struct outcome *out)
{
	const char *error;

	if (root == NULL)
		return 0;
	switch (quota_root_test(root, mailbox, size, true, &error)) {
	case QUOTA_RESULT_OK:
		return 0;
	case QUOTA_RESULT_FAILED:
		log_error("quota: Failed to check if user is under quota: %s - "
			  "saving mail anyway", error);
		return 0;
	case QUOTA_RESULT_OVER:
		break;
	}
	quota_refusal(set, user->quota, out);
	return -1;
}

int delivery_quota_rcpt_check(const struct loft_settings *set,
			      const struct delivery_user *user,
			      struct outcome *out)
{
	struct mail_location loc;
	struct quota_root *root;
	const char *error;
	int ret = 0;

	if (user->quota == NULL)
		return 0;
	if (mail_location_parse(user->mail_location, user->home, &loc,
				&error) < 0) {
		log_error("mail_location %s: %s", user->mail_location, error);
		outcome_tempfail(out, "4.3.0", "Temporary internal error");
		return -1;
	}
	if (loc.type == MAIL_STORAGE_MAILDIR &&
	    quota_root_open(user->quota, &loc, set->hostname, &root, &error) < 0) {
		log_error("quota: %s", error);
		outcome_tempfail(out, "4.3.0", "Temporary internal error");
		ret = -1;
	} else if (loc.type == MAIL_STORAGE_MAILDIR && root != NULL) {
		switch (quota_root_test(root, "INBOX", 0, false, &error)) {
		case QUOTA_RESULT_OK:
			break;
		case QUOTA_RESULT_OVER:
			quota_refusal(set, user->quota, out);
			ret = -1;
			break;
		case QUOTA_RESULT_FAILED:
			log_error("quota: Failed to check if user is under "
				  "quota: %s", error);
			outcome_tempfail(out, "4.3.0", "Temporary internal error");
			ret = -1;
			break;
		}
		quota_root_close(&root);
	}
	mail_location_free(&loc);
	return ret;
}

/* The context of one recipient's delivery: what every save into one of
   its mailboxes needs. */
struct deliver_ctx {
	const struct loft_settings *set;
	const struct delivery_user *user;
	const struct delivery_request *req;
	const struct mail_location *loc;
	struct quota_root *quota;
};

/* One save: the message, the header lines before it, the maildir flags. */
struct deliver_save {
	struct message *msg;
	const struct strbuf *prefix;
	const char *maildir_flags;	/* "" or info letters ("FS") */
	char *const *keywords;		/* maildir: IMAP keywords */
	size_t keyword_count;
	bool autocreate;
	bool fallback_to_inbox;
	const char *link_source;
};

/* save_to - one storage attempt into mailbox */
static enum storage_error save_to(const struct deliver_ctx *ctx,
				  const struct deliver_save *save,
				  const char *mailbox, bool autocreate,
				  struct storage_save_result *result,
				  const char **error_r)
{
	const struct loft_settings *set = ctx->set;
	struct storage_save_params params;
	enum storage_error ret;

	memset(&params, 0, sizeof(params));
	params.loc = ctx->loc;
	params.mailbox = mailbox;
	params.autocreate = autocreate;
	params.autosubscribe = ctx->req->autosubscribe;
	params.fsync = settings_mail_fsync(set);
	params.hostname = set->hostname;
	params.lock_timeout_ms = set->mail_max_lock_timeout != 0 ?
		set->mail_max_lock_timeout : set->mbox_lock_timeout;
	params.dotlock_stale_ms = set->mbox_dotlock_change_timeout;
	params.privileged_group = set->mail_privileged_group;
	params.mbox_write_locks = set->mbox_write_locks;
	params.envelope_sender = ctx->req->envelope_sender;
	params.prefix = save->prefix->data;
	params.prefix_len = save->prefix->len;
	params.maildir_flags = save->maildir_flags;
	params.keywords = save->keywords;
	params.keyword_count = save->keyword_count;
	params.link_source = save->link_source;
	ret = storage_save(&params, save->msg, result, error_r);
	/* a problem or repair on the way, logged for each attempt */
	if (result->warning != NULL) {
		log_warning("%s", result->warning);
		XFREE(result->warning);
	}
	return ret;
}

/* deliver_one - quota check, save into *mailbox (which becomes INBOX
   when the save fell back there), quota update. 0 with result filled,
   or -1 with out filled and *error_r for the log. */
static int deliver_one(const struct deliver_ctx *ctx,
		       const struct deliver_save *save, char **mailbox,
		       struct storage_save_result *result,
		       struct outcome *out, const char **error_r)
{
	const struct delivery_request *req = ctx->req;
	enum storage_error error;
	const char *error_str;
	uint64_t storage_start;

	memset(result, 0, sizeof(*result));
	if (check_quota(ctx->set, ctx->user, ctx->quota, *mailbox,
			message_size(save->msg) + save->prefix->len, out) < 0) {
		*error_r = out->text;
		return -1;
	}
	storage_start = clock_monotonic_usecs();
	error = save_to(ctx, save, *mailbox, save->autocreate, result,
			&error_str);
	if ((error == STORAGE_ERR_NOTFOUND || error == STORAGE_ERR_INVALID) &&
	    save->fallback_to_inbox && !mail_location_is_inbox(*mailbox)) {
		log_info("msgid=%s: save failed to open mailbox %s: %s",
			 message_msgid(save->msg) == NULL ? "unspecified" :
			 message_msgid(save->msg), *mailbox, error_str);
		free(*mailbox);
		*mailbox = xstrdup("INBOX");
		storage_save_result_free(result);
		error = save_to(ctx, save, *mailbox, true, result, &error_str);
	}
	if (result->tmp_removed > 0)
		log_info("removed %u files older than 36 hours from the tmp/ of %s",
			 result->tmp_removed, *mailbox);
	if (error != STORAGE_OK) {
		storage_error_outcome(error, req, out);
		*error_r = error_str;
		return -1;
	}
	/* reported with the delivery record, not as a timing of its own */
	delivery_storage_seconds += (double)(clock_monotonic_usecs() -
					     storage_start) / 1e6;
	log_debug("saved %s (%llu bytes)", result->path,
		  (unsigned long long)result->size);
	if (ctx->quota != NULL &&
	    quota_root_saved(ctx->quota, *mailbox, result->size, &error_str) < 0)
		log_error("quota: Failed to update quota for %s: %s", *mailbox,
			  error_str);
	return 0;
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

/* What the stores of a Sieve run have done so far. */
struct plan_exec {
	const struct deliver_ctx *ctx;
	struct message *msg;
	const struct strbuf *prefix;
	char **saved_path_r;
	size_t stored;
	char *first_mailbox;
	uint64_t size, vsize;
	struct strbuf mailboxes;	/* where it was stored, for the log */
	bool failed;
	struct outcome failure;		/* the first failed store's */
};

/* plan_save_one - one store of the plan; 0, or -1 with pe->failure */
static int plan_save_one(struct plan_exec *pe,
			 const struct delivery_sieve_plan *plan,
			 const struct delivery_sieve_store *store)
{
	const struct deliver_ctx *ctx = pe->ctx;
	struct strbuf empty, mbox_prefix;
	struct storage_save_result result;
	struct outcome out;
	char flags[8], *mailbox = xstrdup(store->mailbox), *keywords[26];
	const char *error;
	struct deliver_save save = {
		.msg = plan->edited != NULL ? plan->edited : pe->msg,
		.prefix = plan->edited != NULL ? &empty : pe->prefix,
		.maildir_flags = flags,
		.autocreate = ctx->req->autocreate || store->create,
		/* -m / the detail mailbox falls back as without Sieve; a
		   fileinto that cannot be stored fails the script instead,
		   which keeps the message in INBOX, as Pigeonhole does */
		.fallback_to_inbox = store->keep && ctx->req->fallback_to_inbox,
	};
	int ret;

	strbuf_init(&empty, 1);
	strbuf_init(&mbox_prefix, 256);
	delivery_sieve_maildir_flags(&store->flags, flags, sizeof(flags));
	save.keywords = keywords;
	save.keyword_count = delivery_sieve_keywords(&store->flags, keywords,
						     LOFT_N_ELEMENTS(keywords));
	if (ctx->loc->type == MAIL_STORAGE_MBOX && store->flags.count > 0) {
		strbuf_append(&mbox_prefix, save.prefix->data, save.prefix->len);
		delivery_sieve_mbox_flags(&store->flags, &mbox_prefix);
		save.prefix = &mbox_prefix;
	}
	/* another recipient's copy has the same bytes unless edited */
	if (plan->edited == NULL && save.prefix == pe->prefix)
		save.link_source = ctx->req->link_source;
	ret = deliver_one(ctx, &save, &mailbox, &result, &out, &error);
	if (ret < 0) {
		log_error("sieve: msgid=%s: failed to store into mailbox %s: %s",
			  message_msgid(pe->msg) == NULL ? "unspecified" :
			  message_msgid(pe->msg), mailbox, error);
		if (!pe->failed)
			pe->failure = out;
		pe->failed = true;
	} else {
		if (pe->stored++ == 0) {
			pe->first_mailbox = xstrdup(mailbox);
			pe->size = result.size;
			pe->vsize = result.vsize;
			if (pe->saved_path_r != NULL && plan->edited == NULL) {
				*pe->saved_path_r = result.path;
				result.path = NULL;
			}
		}
		if (pe->mailboxes.len > 0)
			strbuf_append_str(&pe->mailboxes, ", ");
		strbuf_append_str(&pe->mailboxes, mailbox);
	}
	storage_save_result_free(&result);
	strbuf_free(&empty);
	strbuf_free(&mbox_prefix);
	free(mailbox);
	return ret;
}

/* plan_quota_fits - every store from first fits the quota together
   (Pigeonhole saves a script's actions in one go: all or none); 0, or
   -1 with pe->failure */
static int plan_quota_fits(struct plan_exec *pe,
			   const struct delivery_sieve_plan *plan, size_t first)
{
	const struct deliver_ctx *ctx = pe->ctx;
	struct message *msg = plan->edited != NULL ? plan->edited : pe->msg;
	uint64_t size = message_size(msg) +
		(plan->edited != NULL ? 0 : pe->prefix->len), total = 0;
	struct outcome out;

	if (ctx->quota == NULL || plan->count - first < 2)
		return 0;
	for (size_t i = first; i < plan->count; i++) {
		total += size;
		if (check_quota(ctx->set, ctx->user, ctx->quota,
				plan->stores[i].mailbox, total, &out) < 0) {
			log_info("sieve: msgid=%s: the %zu copies do not fit "
				 "the quota: %s", message_msgid(pe->msg) == NULL ?
				 "unspecified" : message_msgid(pe->msg),
				 plan->count - first, out.text);
			if (!pe->failed)
				pe->failure = out;
			pe->failed = true;
			return -1;
		}
	}
	return 0;
}

/* plan_execute - delivery_sieve_execute: the stores a script added */
static int plan_execute(void *context, struct delivery_sieve_plan *plan,
			size_t first)
{
	struct plan_exec *pe = context;

	if (plan_quota_fits(pe, plan, first) < 0)
		return -1;
	for (size_t i = first; i < plan->count; i++) {
		if (plan_save_one(pe, plan, &plan->stores[i]) < 0)
			return -1;
		plan->stores[i].done = true;
	}
	return 0;
}

/* plan_finish - the outcome and record of a Sieve run: saved when a
   copy was stored or the scripts discarded the message, rejected when
   they rejected it, else the failure of the store that failed */
static void plan_finish(struct plan_exec *pe,
			const struct delivery_sieve_plan *plan,
			struct outcome *out)
{
	const struct deliver_ctx *ctx = pe->ctx;
	char *status, *line;

	if (pe->stored > 0) {
		outcome_saved(out, "Saved");
		status = xasprintf("saved mail to %s", pe->mailboxes.data);
	} else if (plan->reject && plan->reject_mailed) {
		/* dovecot-lda's answer: the sender got the rejection */
		outcome_saved(out, "Rejected");
		status = xstrdup("rejected");
	} else if (plan->reject) {
		outcome_set(out, OUTCOME_REJECTED, OUTCOME_REASON_OTHER, 550,
			    "5.7.1", "%s", plan->reason);
		status = xstrdup("rejected");
	} else if (pe->failed) {
		*out = pe->failure;
		status = xasprintf("save failed: %s", out->text);
	} else {
		outcome_saved(out, "Saved");
		status = xstrdup("discarded");
	}
	delivery_sieve_outcome(plan, out);
	/* the line names the actions and the scripts: what the journal
	   keeps as the outcome's sieve summary */
	line = xasprintf("%s (sieve %s)", status, out->sieve.summary);
	delivery_log(ctx->set, ctx->req, pe->msg, pe->first_mailbox, pe->size,
		     pe->vsize, out, line);
	free(line);
	free(status);
}

void delivery_deliver(const struct loft_settings *set,
		      const struct delivery_user *user,
		      const struct delivery_request *req, struct message *msg,
		      struct outcome *out, char **saved_path_r)
{
	struct mail_location loc;
	struct storage_save_result result;
	struct deliver_ctx ctx = { .set = set, .user = user, .req = req,
				   .loc = &loc };
	struct strbuf prefix;
	const char *error_str;
	char *mailbox, *status;
	int ret;

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
	/* a missing home (and its missing parents) is created 0700, as
	   Dovecot does on first delivery */
	if (user->home != NULL &&
	    ensure_home(user->home, &error_str) < 0) {
		storage_error_outcome(STORAGE_ERR_TEMP, req, out);
		delivery_failed(set, req, msg, mailbox, out, "%s", error_str);
		goto out_loc;
	}
	ctx.quota = quota_open(set, user, &loc);
	if (delivery_sieve_enabled(set)) {
		struct delivery_sieve_plan plan;
		struct plan_exec pe = {
			.ctx = &ctx, .msg = msg, .prefix = &prefix,
			.saved_path_r = saved_path_r,
		};

		strbuf_init(&pe.mailboxes, 64);
		ret = delivery_sieve_run(set, user, req, msg, &prefix, &loc,
					 mailbox, plan_execute, &pe, &plan, out);
		if (ret < 0)
			delivery_failed(set, req, msg, mailbox, out, "%s",
					out->text);
		else if (ret > 0)
			plan_finish(&pe, &plan, out);
		if (ret > 0)
			delivery_sieve_plan_free(&plan);
		strbuf_free(&pe.mailboxes);
		free(pe.first_mailbox);
		if (ret != 0)
			goto out_loc;
	}

	struct deliver_save save = {
		.msg = msg, .prefix = &prefix, .maildir_flags = "",
		.autocreate = req->autocreate,
		.fallback_to_inbox = req->fallback_to_inbox,
		.link_source = req->link_source,
	};
	if (deliver_one(&ctx, &save, &mailbox, &result, out, &error_str) < 0) {
		delivery_failed(set, req, msg, mailbox, out, "%s", error_str);
		goto out_loc;
	}
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
	quota_root_close(&ctx.quota);
	storage_save_result_free(&result);
	mail_location_free(&loc);
out_free:
	strbuf_free(&prefix);
	free(mailbox);
}
