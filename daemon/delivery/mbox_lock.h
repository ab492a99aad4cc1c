/*
 * mbox_lock - write locks for one mbox file, all bounded by one deadline.
 *
 * The methods are Dovecot's mbox_write_locks names, taken in the listed
 * order and released in reverse: "dotlock" (<file>.lock made with the
 * link()/st_nlink trick, safe over NFS; a lock unchanged for the stale
 * time is removed), "dotlock_try" (a dotlock that is skipped when the
 * directory refuses it), "fcntl" and "lockf" (a POSIX write lock on the
 * whole file) and "flock". Waiting never blocks in the kernel: every lock
 * is retried with a 10..200 ms backoff until the deadline, so the timeout
 * holds even against a hung lock holder. When the directory is not
 * writable (/var/mail) the dotlock is retried with the mail_privileged_group
 * as effective gid, which the caller keeps as its saved set-group-ID.
 *
 * Threads: every lock starts with an in-process lock on the file (its
 * dev/ino), so the worker threads of one loft-lmtp take turns whatever the
 * methods. fcntl and lockf are taken as open-file-description locks
 * (F_OFD_SETLK): classic POSIX locks belong to the process, so two threads
 * would both be granted one, and any close() of the file in the process
 * would drop it. On Linux OFD locks and classic fcntl()/lockf() locks
 * conflict, so Dovecot, mutt and procmail still see ours.
 *
 * Dead owners: the dotlock holds "<pid>:<host>" as Dovecot's does. A
 * dotlock of this host whose pid is gone is taken over at once (by Dovecot
 * too); one whose pid lives is waited for; one of another host (NFS) or
 * without a pid is overridden when unchanged for the stale time. With
 * settings.journal the append journal (mbox_journal.h) is locked last.
 */
#ifndef LOFT_MBOX_LOCK_H
#define LOFT_MBOX_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MBOX_LOCK_DEFAULT_METHODS "dotlock fcntl"
#define MBOX_LOCK_DEFAULT_TIMEOUT_MS 300000
#define MBOX_LOCK_DEFAULT_STALE_MS 120000

enum mbox_lock_method {
	MBOX_LOCK_DOTLOCK,
	MBOX_LOCK_DOTLOCK_TRY,
	MBOX_LOCK_FCNTL,
	MBOX_LOCK_LOCKF,
	MBOX_LOCK_FLOCK,
	MBOX_LOCK_METHOD_COUNT
};

struct mbox_lock_settings {
	const char *methods;	/* "dotlock fcntl"; NULL or "" = that */
	uint64_t timeout_ms;	/* for all locks together; 0 = 5 min */
	uint64_t stale_ms;	/* dotlock unchanged this long; 0 = 2 min */
	const char *privileged_group; /* NULL or "" = none */
	bool journal;		/* also lock the append journal */
};

struct mbox_lock;
struct mbox_journal;

/* mbox_lock_parse_methods - split a space separated method list into
   methods_r (at most MBOX_LOCK_METHOD_COUNT, no repeats); NULL or "" give
   the default. 0, or -1 with *error_r for unknown or repeated names. */
int mbox_lock_parse_methods(const char *str,
			    enum mbox_lock_method methods_r[MBOX_LOCK_METHOD_COUNT],
			    unsigned int *count_r, const char **error_r);

/* mbox_lock_acquire - lock the mbox file path, open read-write as fd.
   1 with *lock_r when every lock is held; 0 on timeout and -1 on error,
   both with nothing held and *error_r set. */
int mbox_lock_acquire(const char *path, int fd,
		      const struct mbox_lock_settings *set,
		      struct mbox_lock **lock_r, const char **error_r);
/* mbox_lock_release - drop the locks in reverse order (the dotlock only if
   the .lock file is still the one we made) and free; sets *lock to NULL */
void mbox_lock_release(struct mbox_lock **lock);

/* mbox_lock_journal - the locked append journal, NULL when not asked for
   or when the directory takes no journal file */
struct mbox_journal *mbox_lock_journal(struct mbox_lock *lock);

/* mbox_lock_ofd_try - one non-blocking open-file-description write lock
   on the whole of fd: 1 locked, 0 held elsewhere, -1 error with errno */
int mbox_lock_ofd_try(int fd);

/* mbox_lock_my_hostname - this host's name as gethostname() gives it */
const char *mbox_lock_my_hostname(void);

/* mbox_lock_privileged_begin - switch the effective gid to group (kept as
   saved set-group-ID); *old_egid_r is for _end. 0, or -1 with *error_r for
   an unknown group or a refused setegid(). */
int mbox_lock_privileged_begin(const char *group, gid_t *old_egid_r,
			       const char **error_r);
/* mbox_lock_privileged_end - back to old_egid; 0, or -1 with errno */
int mbox_lock_privileged_end(gid_t old_egid);
/* mbox_lock_privileged_unlink - unlink(path), with group ("" = none) as
   effective gid; 0, or -1 with errno */
int mbox_lock_privileged_unlink(const char *group, const char *path);

#endif
