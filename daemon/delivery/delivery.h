/*
 * delivery - the delivery core: recipient lookup, identity, headers, quota
 * and storage, ending in one outcome per recipient.
 *
 * Both front ends use it the same way: delivery_user_lookup() when the
 * recipient is named (LMTP RCPT, LDA start-up), delivery_deliver() once the
 * message is spooled. There is no other path to a mailbox. Every outcome
 * is logged here as one delivery record; the caller maps the outcome to a
 * reply or an exit code.
 */
#ifndef LOFT_DELIVERY_H
#define LOFT_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvlist.h"
#include "message.h"
#include "outcome.h"
#include "quota_settings.h"
#include "settings.h"
#include "userdb.h"

struct log_delivery;

struct delivery_user {
	char *username;		/* as the userdb returned it */
	char *home;		/* NULL when none */
	char *mail_location;	/* expanded; never empty */
	uid_t uid;
	gid_t gid;
	bool have_uid, have_gid;
	/* the quota plugin's settings for this user (userdb fields over
	   plugin { }); NULL when the plugin is not in mail_plugins or no
	   quota root is configured */
	struct quota_settings *quota;
	struct kvlist fields;	/* all userdb fields */
};

/* delivery_user_lookup - find the user of address in the userdbs and
   resolve home, uid/gid and mail location. 1 found; 0 unknown (out: 550
   5.1.1); -1 temporary failure (out: 451 4.3.0). */
int delivery_user_lookup(const struct loft_settings *set, const char *address,
			 struct delivery_user **user_r, struct outcome *out);
/* delivery_user_find and delivery_user_resolve - the two halves of
   delivery_user_lookup: the userdb answer (username and fields only), and
   home, uid/gid and mail location from it (on 0 and -1 *user is freed).
   The LMTP proxy resolves only the users it does not relay. */
int delivery_user_find(const struct loft_settings *set, const char *address,
		       struct delivery_user **user_r, struct outcome *out);
int delivery_user_resolve(const struct loft_settings *set,
			  struct delivery_user **user, struct outcome *out);
/* delivery_user_system - the invoking system user, no userdb lookup (LDA
   without -d). -1 with out filled when the mail location cannot be set. */
int delivery_user_system(const struct loft_settings *set, const char *username,
			 const char *home, uid_t uid, gid_t gid,
			 struct delivery_user **user_r, struct outcome *out);
void delivery_user_free(struct delivery_user **user);

/* delivery_user_check_ids - refuse uids/gids outside first_valid_uid..
   last_valid_uid (and gid ranges) and uid 0. 0, or -1 with out (4xx). */
int delivery_user_check_ids(const struct loft_settings *set,
			    const struct delivery_user *user,
			    struct outcome *out);

struct delivery_request {
	const char *protocol;		/* "lda" | "lmtp" */
	const char *session_id;
	const char *user;		/* the recipient's user, for records */
	const char *envelope_sender;	/* "" = null sender; NULL = unknown */
	const char *rcpt;		/* final recipient address */
	const char *orig_rcpt;		/* original recipient (ORCPT, -a) */
	const char *mailbox;		/* NULL = INBOX */
	bool autocreate, autosubscribe;
	bool fallback_to_inbox;		/* a missing mailbox falls back */
	bool reject_by_mail;		/* Sieve's reject sends dovecot-lda's
					   rejection mail (loft-lda without
					   -e) instead of refusing */
	bool return_path;		/* prepend Return-Path: <envelope_sender>
					   (LMTP; dovecot-lda adds none) */
	const char *delivered_to;	/* Delivered-To value, NULL = none */
	const char *extra_headers;	/* e.g. Received:, LF endings, or NULL */
	const char *link_source;	/* identical stored copy to hard-link */
	uint64_t start_mono_usecs;	/* clock_monotonic_usecs() at the
					   start, for duration_ms; 0: none */
	/* a recipient the LMTP proxy relayed: "host:port" of its backend,
	   and whether the backend answered; NULL otherwise */
	const char *proxy_backend;
	bool proxy_backend_up;
	double proxy_backend_seconds;	/* its answer's time; 0: none */
	/* the uid the delivery runs as: the stored mail's owner (loft-lda:
	   its own uid until it has become the user); reported to loft-stats,
	   which checks it against a loft-lda peer's own uid */
	bool have_uid;
	uid_t uid;
};

/* delivery_deliver - store msg for user per req; fills out and logs the
   delivery record. Never exits; every failure is an outcome. When saved
   and saved_path_r is non-NULL, it gets the stored file (xmalloc'ed). */
void delivery_deliver(const struct loft_settings *set,
		      const struct delivery_user *user,
		      const struct delivery_request *req, struct message *msg,
		      struct outcome *out, char **saved_path_r);

/* delivery_log - one delivery record (also for refusals decided by the
   front end, such as an unknown user); msg may be NULL */
void delivery_log(const struct loft_settings *set,
		  const struct delivery_request *req, struct message *msg,
		  const char *mailbox, uint64_t size, uint64_t vsize,
		  const struct outcome *out, const char *status);

/* Observers of every delivery record and timing (loft-stats reporting).
   Called on the thread that delivers; must not block. The storage time
   comes with the delivery record (storage_seconds); timing() reports
   userdb lookups (with whether the userdb cache answered, when there is
   one: userdb_cache.h, the driver that decided and the result). */
enum delivery_timing {
	DELIVERY_TIMING_USERDB,
	DELIVERY_TIMING_USERDB_CACHE_HIT,
	DELIVERY_TIMING_USERDB_CACHE_MISS,
	DELIVERY_TIMING_STORAGE,
};
struct delivery_report {
	const struct delivery_request *req;
	const struct log_delivery *rec;	/* what was logged */
	const struct outcome *out;
	double storage_seconds;		/* 0 when nothing was written */
};
struct delivery_timing_report {
	enum delivery_timing kind;
	double seconds;
	const char *userdb_driver;	/* "passwd-file", ...; "" none */
	enum userdb_result userdb_result;
};
struct delivery_hooks {
	void (*delivery)(const struct delivery_report *report, void *context);
	void (*timing)(const struct delivery_timing_report *report,
		       void *context);
	void *context;
};
/* delivery_set_hooks - install (NULL: remove) the process's observers */
void delivery_set_hooks(const struct delivery_hooks *hooks);

/* delivery_quota_rcpt_check - lmtp_rcpt_check_quota: refuse a user
   already over quota before the message is sent (Dovecot's RCPT check:
   552 5.2.2, or 452 4.2.2 with quota_full_tempfail; 451 4.3.0 when the
   usage cannot be read). Runs with the user's identity. 0 when the user
   may receive, -1 with out filled. */
int delivery_quota_rcpt_check(const struct loft_settings *set,
			      const struct delivery_user *user,
			      struct outcome *out);


#endif
