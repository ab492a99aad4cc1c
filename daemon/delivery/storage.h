/*
 * storage - save one rendered message into a mailbox (maildir or mbox).
 *
 * Errors are classified so the delivery core can choose 4xx or 5xx: almost
 * everything is temporary; a missing mailbox is reported so `-m` can fall
 * back to INBOX; invalid names are permanent. Nothing is visible
 * in new/ (or appended to an mbox) unless it is complete and synced per
 * mail_fsync.
 */
#ifndef LOFT_STORAGE_H
#define LOFT_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "mail_location.h"
#include "message.h"
#include "settings.h"

enum storage_error {
	STORAGE_OK = 0,
	STORAGE_ERR_TEMP,	/* I/O error, permission, lock timeout */
	STORAGE_ERR_NOSPACE,	/* ENOSPC / EDQUOT / EFBIG from the OS */
	STORAGE_ERR_NOTFOUND,	/* mailbox does not exist (and may not be created) */
	STORAGE_ERR_INVALID,	/* invalid mailbox name */
};

struct storage_save_params {
	const struct mail_location *loc;
	const char *mailbox;	/* normalized name, "INBOX" */
	bool autocreate;	/* create the mailbox if missing (INBOX always) */
	bool autosubscribe;	/* add a created mailbox to subscriptions */
	enum mail_fsync_mode fsync;
	const char *hostname;	/* for maildir file names */
	uint64_t lock_timeout_ms; /* mbox locks */
	uint64_t dotlock_stale_ms;
	const char *privileged_group; /* mbox dotlocks in /var/mail; may be "" */
	const char *mbox_write_locks; /* "dotlock fcntl" (either or both) */
	const char *envelope_sender;  /* mbox From_ line; "" -> MAILER-DAEMON */
	const char *prefix;	/* header lines to prepend */
	size_t prefix_len;
	/* maildir: a stored file with exactly the bytes this save would
	   write (another recipient's copy); hard-linked when possible */
	const char *link_source;
	/* maildir: the info letters of the message's flags ("FS"; NULL or
	   "": none). A message with flags goes into cur/ as NAME:2,FLAGS,
	   as Dovecot saves it; without, into new/. */
	const char *maildir_flags;
	/* maildir: IMAP keywords, recorded in the folder's dovecot-keywords
	   and as letters in the name (mbox: the caller's X-Keywords line) */
	char *const *keywords;
	size_t keyword_count;
};

struct storage_save_result {
	char *path;		/* the file written (maildir new/ file, or mbox) */
	uint64_t size, vsize;
	/* maildir: stale tmp/ files removed on the way */
	unsigned int tmp_removed;
	/* for the log: a problem met on the way that did not fail the save
	   (a tmp/ cleanup that failed), or a repair done on the way (an mbox
	   append a dead writer left half done); also set when the save
	   failed. NULL when none. */
	char *warning;
};

/* storage_save - save msg; STORAGE_OK, or an error with *error_r */
enum storage_error storage_save(const struct storage_save_params *params,
				struct message *msg,
				struct storage_save_result *result_r,
				const char **error_r);
/* storage_save_result_free - free path and warning */
void storage_save_result_free(struct storage_save_result *result);

/* maildir file names, exposed for tests:
   <secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>; host has '/' -> \057
   and ':' -> \072 as Dovecot does */
char *maildir_filename(long secs, long usecs, long pid, const char *host,
		       uint64_t size, uint64_t vsize);

/* maildir_tmp_cleanup - done by every maildir save, exposed for tests
   with an injected now: when the tmp/ of the folder dir was last scanned
   (its atime) more than 8 hours before now, unlink its regular files
   (never following a symlink) whose mtime and ctime are both more than 36
   hours before now, then set tmp/'s atime to the current time. 0 with
   *removed_r (also when no scan was due or tmp/ is missing), or -1 with
   *error_r: the first problem, the scan went on past it. */
int maildir_tmp_cleanup(const char *dir, time_t now, unsigned int *removed_r,
			const char **error_r);

#endif
