/*
 * mbox_lock - dotlock, fcntl/lockf and flock write locks for one mbox file
 * under a single deadline (see mbox_lock.h).
 *
 * The dotlock is made the NFS-safe way: a unique temp file in the mbox
 * directory is link()ed to <file>.lock and we own the lock exactly when the
 * temp file's link count became 2, whatever link() returned. Its inode is
 * remembered so release never removes a lock somebody else made after ours
 * was judged stale. Filesystems without hard links fall back to O_EXCL.
 * Its content is "<pid>:<host>" (Dovecot's format, which Dovecot reads to
 * take over the lock of a dead local process), written into the temp file
 * before the link, so a lock is never seen empty.
 *
 * The in-process lock is a list of the files (dev/ino) that threads of
 * this process hold, under one mutex; waiting for it uses the same
 * backoff and deadline as every other lock.
 */
#include "mbox_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "mbox_journal.h"
#include "path.h"
#include "strbuf.h"
#include "xalloc.h"

#define MBOX_LOCK_BACKOFF_MIN_MS 10
#define MBOX_LOCK_BACKOFF_MAX_MS 200
#define MBOX_LOCK_TEMP_TRIES 100

/* one file locked by a thread of this process */
struct mbox_lock_inproc {
	dev_t dev;
	ino_t ino;
	struct mbox_lock_inproc *next;
};

struct mbox_lock {
	char *path;		/* the mbox file */
	char *dir;		/* its directory, for the dotlock temp file */
	char *dotlock_path;	/* <path>.lock */
	char *privileged_group;	/* "" = none */
	int fd;

	enum mbox_lock_method held[MBOX_LOCK_METHOD_COUNT];
	unsigned int held_count;
	struct mbox_lock_inproc inproc;	/* in the list while held */
	bool inproc_held;
	struct mbox_journal *journal;	/* locked last, released first */

	dev_t dotlock_dev;	/* the .lock file we made; ctime too, as */
	ino_t dotlock_ino;	/* the inode number may be reused */
	struct timespec dotlock_ctime;
	bool dotlock_privileged; /* directory needs the privileged gid */

	uint64_t deadline_ms;	/* CLOCK_MONOTONIC */
	uint64_t stale_ms;
	unsigned int backoff_ms;
	uint32_t rand_state;	/* backoff jitter */
};

static const char *const mbox_lock_method_names[MBOX_LOCK_METHOD_COUNT] = {
	[MBOX_LOCK_DOTLOCK] = "dotlock",
	[MBOX_LOCK_DOTLOCK_TRY] = "dotlock_try",
	[MBOX_LOCK_FCNTL] = "fcntl",
	[MBOX_LOCK_LOCKF] = "lockf",
	[MBOX_LOCK_FLOCK] = "flock",
};

/* error detail of the last failing call */
static __thread struct error_slot mbox_lock_error;
/* distinguishes this process's dotlock temp files */
static unsigned int mbox_lock_temp_counter;
/* the files locked by this process's threads */
static pthread_mutex_t mbox_lock_inproc_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct mbox_lock_inproc *mbox_lock_inproc_list;

/* mbox_lock_is_dotlock - dotlock and dotlock_try are the same lock file */
static bool mbox_lock_is_dotlock(enum mbox_lock_method method)
{
	return method == MBOX_LOCK_DOTLOCK || method == MBOX_LOCK_DOTLOCK_TRY;
}

int mbox_lock_parse_methods(const char *str,
			    enum mbox_lock_method methods_r[MBOX_LOCK_METHOD_COUNT],
			    unsigned int *count_r, const char **error_r)
{
	const char *p, *end;
	unsigned int count = 0, i, m;

	if (str == NULL || str[strspn(str, " \t,")] == '\0')
		str = MBOX_LOCK_DEFAULT_METHODS;
	for (p = str; *p != '\0'; p = end) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		end = p + strcspn(p, " \t,");
		for (m = 0; m < MBOX_LOCK_METHOD_COUNT; m++) {
			if (strlen(mbox_lock_method_names[m]) == (size_t)(end - p) &&
			    strncmp(mbox_lock_method_names[m], p, (size_t)(end - p)) == 0)
				break;
		}
		if (m == MBOX_LOCK_METHOD_COUNT) {
			*error_r = error_slot_set(&mbox_lock_error, 
				"mbox_write_locks: Unknown lock method: %.*s",
				(int)(end - p), p);
			return -1;
		}
		for (i = 0; i < count; i++) {
			if (methods_r[i] == m ||
			    (mbox_lock_is_dotlock(methods_r[i]) &&
			     mbox_lock_is_dotlock(m))) {
				*error_r = error_slot_set(&mbox_lock_error, 
					"mbox_write_locks: Lock method listed twice: %.*s",
					(int)(end - p), p);
				return -1;
			}
		}
		methods_r[count++] = m;
	}
	*count_r = count;
	return 0;
}

int mbox_lock_privileged_begin(const char *group, gid_t *old_egid_r,
			       const char **error_r)
{
	struct group grp, *result = NULL;
	size_t size = 1024;
	char *buf;
	gid_t gid;
	int ret;

	for (;;) {
		buf = xmalloc(size);
		ret = getgrnam_r(group, &grp, buf, size, &result);
		if (ret != ERANGE)
			break;
		free(buf);
		size *= 2;
	}
	if (ret != 0 || result == NULL) {
		free(buf);
		*error_r = ret != 0 ?
			error_slot_set(&mbox_lock_error, "getgrnam_r(%s) failed: %s",
					    group, strerror(ret)) :
			error_slot_set(&mbox_lock_error, "mail_privileged_group: Unknown group name: %s",
					    group);
		return -1;
	}
	gid = grp.gr_gid;
	free(buf);

	/* raw setresgid: this thread only (glibc's setegid would change
	   every thread of loft-lmtp, where each worker has its own ids) */
	*old_egid_r = getegid();
	if (gid != *old_egid_r && syscall(SYS_setresgid, -1, gid, -1) < 0) {
		*error_r = error_slot_set(&mbox_lock_error, 
			"setegid(%ld) failed: %s (mail_privileged_group=%s "
			"must be kept as the saved set-group-ID)",
			(long)gid, strerror(errno), group);
		return -1;
	}
	return 0;
}

int mbox_lock_privileged_end(gid_t old_egid)
{
	if (getegid() == old_egid)
		return 0;
	return syscall(SYS_setresgid, -1, old_egid, -1) < 0 ? -1 : 0;
}

const char *mbox_lock_my_hostname(void)
{
	static __thread char hostname[256];

	if (hostname[0] == '\0' &&
	    (gethostname(hostname, sizeof(hostname) - 1) < 0 ||
	     hostname[0] == '\0'))
		snprintf(hostname, sizeof(hostname), "localhost");
	return hostname;
}

/* mbox_lock_hostname - this host's name, usable inside a file name */
static const char *mbox_lock_hostname(void)
{
	static __thread char hostname[256];
	char *p;

	if (hostname[0] == '\0') {
		snprintf(hostname, sizeof(hostname), "%s",
			 mbox_lock_my_hostname());
		for (p = hostname; *p != '\0'; p++) {
			if (*p == '/' || *p == ':')
				*p = '_';
		}
	}
	return hostname;
}

/* mbox_dotlock_write_owner - "<pid>:<host>" into the new lock file fd, as
   Dovecot writes it; 0 or -1 with errno */
static int mbox_dotlock_write_owner(int fd)
{
	char owner[320];
	int len = snprintf(owner, sizeof(owner), "%ld:%s", (long)getpid(),
			   mbox_lock_my_hostname());

	if (len < 0 || (size_t)len >= sizeof(owner)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return write(fd, owner, (size_t)len) == len ? 0 : -1;
}

/* mbox_dotlock_temp_create - create a unique temp file holding our
   "<pid>:<host>" in the mbox directory; 0, or -1 with errno (path_r holds
   the name tried) */
static int mbox_dotlock_temp_create(const struct mbox_lock *lock,
				    struct strbuf *path_r)
{
	unsigned int i, counter;
	int fd, saved_errno;

	for (i = 0; i < MBOX_LOCK_TEMP_TRIES; i++) {
		counter = __atomic_fetch_add(&mbox_lock_temp_counter, 1,
					     __ATOMIC_RELAXED);
		strbuf_reset(path_r);
		strbuf_appendf(path_r, "%s/.lock.%s.%ld.%u", lock->dir,
			       mbox_lock_hostname(), (long)getpid(), counter);
		fd = open(path_r->data,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			if (mbox_dotlock_write_owner(fd) < 0) {
				saved_errno = errno;
				close(fd);
				unlink(path_r->data);
				errno = saved_errno;
				return -1;
			}
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* mbox_dotlock_remember - note the identity of the .lock file we made */
static void mbox_dotlock_remember(struct mbox_lock *lock, const struct stat *st)
{
	lock->dotlock_dev = st->st_dev;
	lock->dotlock_ino = st->st_ino;
	lock->dotlock_ctime = st->st_ctim;
}

/* mbox_dotlock_is_ours - st is the .lock file we made */
static bool mbox_dotlock_is_ours(const struct mbox_lock *lock,
				 const struct stat *st)
{
	return st->st_dev == lock->dotlock_dev &&
		st->st_ino == lock->dotlock_ino &&
		st->st_ctim.tv_sec == lock->dotlock_ctime.tv_sec &&
		st->st_ctim.tv_nsec == lock->dotlock_ctime.tv_nsec;
}

/* mbox_dotlock_stat_existing - a lock file is in the way: 0 with its stat
   (st_ino 0 when it vanished meanwhile), or -1 with *error_r */
static int mbox_dotlock_stat_existing(const struct mbox_lock *lock,
				      struct stat *st_r, const char **error_r)
{
	if (stat(lock->dotlock_path, st_r) == 0)
		return 0;
	if (errno == ENOENT) {
		memset(st_r, 0, sizeof(*st_r));
		return 0;
	}
	*error_r = error_slot_set(&mbox_lock_error, "stat(%s) failed: %s",
				       lock->dotlock_path, strerror(errno));
	return -1;
}

/* mbox_dotlock_attempt_excl - create the lock with O_EXCL, for filesystems
   without hard links: 1 made, 0 exists (*st_r), -1 error with errno */
static int mbox_dotlock_attempt_excl(struct mbox_lock *lock,
				     struct stat *st_r, const char **error_r)
{
	struct stat st;
	int fd, saved_errno;

	fd = open(lock->dotlock_path,
		  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return mbox_dotlock_stat_existing(lock, st_r, error_r);
		saved_errno = errno;
		*error_r = error_slot_set(&mbox_lock_error, "open(%s) failed: %s",
					       lock->dotlock_path,
					       strerror(saved_errno));
		errno = saved_errno;
		return -1;
	}
	if (mbox_dotlock_write_owner(fd) < 0 || fstat(fd, &st) < 0) {
		saved_errno = errno;
		*error_r = error_slot_set(&mbox_lock_error,
					  "write(%s) failed: %s",
					  lock->dotlock_path,
					  strerror(saved_errno));
		close(fd);
		unlink(lock->dotlock_path);
		errno = saved_errno;
		return -1;
	}
	close(fd);
	mbox_dotlock_remember(lock, &st);
	return 1;
}

/* mbox_dotlock_attempt - one try at the dotlock: 1 made (inode kept), 0
   held by someone (its stat in *st_r), -1 error with errno and *error_r */
static int mbox_dotlock_attempt(struct mbox_lock *lock, struct stat *st_r,
				const char **error_r)
{
	struct strbuf temp;
	struct stat st;
	int link_ret, link_errno, saved_errno;

	strbuf_init(&temp, 256);
	if (mbox_dotlock_temp_create(lock, &temp) < 0) {
		saved_errno = errno;
		*error_r = error_slot_set(&mbox_lock_error, "open(%s) failed: %s",
					       temp.data, strerror(saved_errno));
		strbuf_free(&temp);
		errno = saved_errno;
		return -1;
	}
	link_ret = link(temp.data, lock->dotlock_path);
	link_errno = errno;
	/* over NFS link() may fail after having succeeded: the link count
	   of our own temp file is the truth */
	if (stat(temp.data, &st) < 0) {
		saved_errno = errno;
		*error_r = error_slot_set(&mbox_lock_error, "stat(%s) failed: %s",
					       temp.data, strerror(saved_errno));
		unlink(temp.data);
		strbuf_free(&temp);
		errno = saved_errno;
		return -1;
	}
	unlink(temp.data);
	if (link_ret == 0 || st.st_nlink == 2) {
		strbuf_free(&temp);
		/* unlinking the temp name changed the ctime: take it anew */
		if (stat(lock->dotlock_path, st_r) == 0 &&
		    st_r->st_ino == st.st_ino && st_r->st_dev == st.st_dev)
			st = *st_r;
		mbox_dotlock_remember(lock, &st);
		return 1;
	}
	switch (link_errno) {
	case EEXIST:
		strbuf_free(&temp);
		return mbox_dotlock_stat_existing(lock, st_r, error_r) < 0 ? -1 : 0;
	case EPERM:
	case ENOSYS:
	case EOPNOTSUPP:
	case EMLINK:
		strbuf_free(&temp);
		return mbox_dotlock_attempt_excl(lock, st_r, error_r);
	default:
		*error_r = error_slot_set(&mbox_lock_error, "link(%s, %s) failed: %s",
					       temp.data, lock->dotlock_path,
					       strerror(link_errno));
		strbuf_free(&temp);
		errno = link_errno;
		return -1;
	}
}

/* mbox_dotlock_attempt_priv - mbox_dotlock_attempt, retried with the
   privileged gid as effective gid when the directory refuses us */
static int mbox_dotlock_attempt_priv(struct mbox_lock *lock,
				     struct stat *st_r, const char **error_r)
{
	const char *group = lock->privileged_group;
	gid_t old_egid;
	int ret, saved_errno;

	if (!lock->dotlock_privileged) {
		ret = mbox_dotlock_attempt(lock, st_r, error_r);
		if (ret >= 0 || errno != EACCES)
			return ret;
		if (*group == '\0') {
			*error_r = error_slot_set(&mbox_lock_error, 
				"%s (euid=%ld egid=%ld; to create dotlocks in "
				"%s set mail_privileged_group to a group that "
				"may write there)", *error_r, (long)geteuid(),
				(long)getegid(), lock->dir);
			errno = EACCES;
			return -1;
		}
		lock->dotlock_privileged = true;
	}
	if (mbox_lock_privileged_begin(group, &old_egid, error_r) < 0) {
		errno = EPERM;
		return -1;
	}
	ret = mbox_dotlock_attempt(lock, st_r, error_r);
	saved_errno = errno;
	if (mbox_lock_privileged_end(old_egid) < 0) {
		saved_errno = errno;
		if (ret > 0)
			unlink(lock->dotlock_path);
		*error_r = error_slot_set(&mbox_lock_error, "setegid(%ld) failed: %s",
					       (long)old_egid,
					       strerror(saved_errno));
		errno = saved_errno;
		return -1;
	}
	if (ret < 0 && saved_errno == EACCES) {
		*error_r = error_slot_set(&mbox_lock_error, 
			"%s (euid=%ld, even with mail_privileged_group=%s as "
			"effective group)", *error_r, (long)geteuid(), group);
	}
	errno = saved_errno;
	return ret;
}

int mbox_lock_privileged_unlink(const char *group, const char *path)
{
	const char *error;
	gid_t old_egid;
	int ret, saved_errno;

	if (*group == '\0')
		return unlink(path);
	if (mbox_lock_privileged_begin(group, &old_egid, &error) < 0) {
		errno = EPERM;
		return -1;
	}
	ret = unlink(path);
	saved_errno = errno;
	if (mbox_lock_privileged_end(old_egid) < 0)
		return -1;
	errno = saved_errno;
	return ret;
}

/* mbox_dotlock_unlink - remove the .lock file, with the privileged gid if
   that was needed to create locks here; 0 or -1 with errno */
static int mbox_dotlock_unlink(const struct mbox_lock *lock)
{
	return mbox_lock_privileged_unlink(lock->dotlock_privileged ?
					   lock->privileged_group : "",
					   lock->dotlock_path);
}

enum mbox_dotlock_owner {
	MBOX_DOTLOCK_OWNER_UNKNOWN,	/* no pid, another host, or us */
	MBOX_DOTLOCK_OWNER_ALIVE,
	MBOX_DOTLOCK_OWNER_DEAD,
};

/* mbox_dotlock_owner - read "<pid>:<host>" from the lock file as Dovecot
   does (one trailing LF allowed) and probe the pid when the host is ours.
   Our own pid is not judged: another thread's lock of this file under a
   different inode (a replaced mbox) must not be broken, so such a lock
   ages out as one without a pid */
static enum mbox_dotlock_owner mbox_dotlock_owner(const struct mbox_lock *lock)
{
	char buf[512], *host, *end;
	ssize_t ret;
	long pid;
	int fd;

	fd = open(lock->dotlock_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return MBOX_DOTLOCK_OWNER_UNKNOWN;
	ret = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (ret <= 0)
		return MBOX_DOTLOCK_OWNER_UNKNOWN;
	if (buf[ret - 1] == '\n')
		ret--;
	buf[ret] = '\0';
	host = strchr(buf, ':');
	if (host == NULL)
		return MBOX_DOTLOCK_OWNER_UNKNOWN;
	*host++ = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || end == buf || pid <= 0 ||
	    (pid_t)pid != pid || strcmp(host, mbox_lock_my_hostname()) != 0 ||
	    (pid_t)pid == getpid())
		return MBOX_DOTLOCK_OWNER_UNKNOWN;
	if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return MBOX_DOTLOCK_OWNER_ALIVE;
	return MBOX_DOTLOCK_OWNER_DEAD;
}

/* mbox_dotlock_is_stale - the lock in st was not modified for stale_ms */
static bool mbox_dotlock_is_stale(const struct mbox_lock *lock,
				  const struct stat *st)
{
	uint64_t now = clock_realtime_usecs() / 1000;
	uint64_t mtime;

	if (st->st_mtim.tv_sec < 0)
		return true;
	mtime = (uint64_t)st->st_mtim.tv_sec * 1000 +
		(uint64_t)st->st_mtim.tv_nsec / 1000000;
	return now >= mtime && now - mtime >= lock->stale_ms;
}

/* mbox_dotlock_remove_stale - unlink the stale lock if it is still the
   same file we judged (inode, size, mtime); 0 or -1 with *error_r */
static int mbox_dotlock_remove_stale(struct mbox_lock *lock,
				     const struct stat *judged,
				     const char **error_r)
{
	struct stat st;

	if (mbox_dotlock_stat_existing(lock, &st, error_r) < 0)
		return -1;
	if (st.st_ino != judged->st_ino || st.st_dev != judged->st_dev ||
	    st.st_size != judged->st_size ||
	    st.st_mtim.tv_sec != judged->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != judged->st_mtim.tv_nsec)
		return 0;
	if (mbox_dotlock_unlink(lock) < 0 && errno != ENOENT) {
		*error_r = error_slot_set(&mbox_lock_error, 
			"unlink(%s) of a stale dotlock failed: %s",
			lock->dotlock_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* mbox_lock_wait - sleep one backoff step, never past the deadline; false
   when the deadline has passed */
static bool mbox_lock_wait(struct mbox_lock *lock)
{
	uint64_t now = clock_monotonic_msecs();
	uint64_t sleep_ms;
	struct timespec ts;

	if (now >= lock->deadline_ms)
		return false;
	/* xorshift32 jitter so that waiters do not retry in lockstep */
	lock->rand_state ^= lock->rand_state << 13;
	lock->rand_state ^= lock->rand_state >> 17;
	lock->rand_state ^= lock->rand_state << 5;
	sleep_ms = lock->backoff_ms + lock->rand_state % (lock->backoff_ms / 2 + 1);
	if (sleep_ms > MBOX_LOCK_BACKOFF_MAX_MS)
		sleep_ms = MBOX_LOCK_BACKOFF_MAX_MS;
	if (sleep_ms > lock->deadline_ms - now)
		sleep_ms = lock->deadline_ms - now;
	ts.tv_sec = (time_t)(sleep_ms / 1000);
	ts.tv_nsec = (long)(sleep_ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
	lock->backoff_ms *= 2;
	if (lock->backoff_ms > MBOX_LOCK_BACKOFF_MAX_MS)
		lock->backoff_ms = MBOX_LOCK_BACKOFF_MAX_MS;
	return true;
}

/* mbox_lock_timeout_error - the message for a lock we waited for in vain */
static const char *mbox_lock_timeout_error(const struct mbox_lock *lock,
					   enum mbox_lock_method method)
{
	if (mbox_lock_is_dotlock(method)) {
		return error_slot_set(&mbox_lock_error, 
			"Timeout while waiting for lock for mbox file %s "
			"(dotlock %s held by another process)",
			lock->path, lock->dotlock_path);
	}
	return error_slot_set(&mbox_lock_error, 
		"Timeout while waiting for lock for mbox file %s "
		"(%s lock held by another process)",
		lock->path, mbox_lock_method_names[method]);
}

/* mbox_dotlock_skippable - dotlock_try gives up on these errors */
static bool mbox_dotlock_skippable(int err)
{
	return err == EACCES || err == EPERM || err == EROFS ||
		err == ENOSPC || err == EDQUOT;
}

/* mbox_lock_dotlock - take the dotlock: 1 held (or skipped for
   dotlock_try: *held_r false), 0 timeout, -1 error */
static int mbox_lock_dotlock(struct mbox_lock *lock,
			     enum mbox_lock_method method, bool *held_r,
			     const char **error_r)
{
	struct stat st;
	bool stale;
	int ret;

	*held_r = false;
	for (;;) {
		ret = mbox_dotlock_attempt_priv(lock, &st, error_r);
		if (ret > 0) {
			*held_r = true;
			return 1;
		}
		if (ret < 0) {
			if (method == MBOX_LOCK_DOTLOCK_TRY &&
			    mbox_dotlock_skippable(errno))
				return 1;
			return -1;
		}
		if (st.st_ino == 0)
			continue;	/* removed meanwhile: try again now */
		switch (mbox_dotlock_owner(lock)) {
		case MBOX_DOTLOCK_OWNER_ALIVE:
			stale = false;
			break;
		case MBOX_DOTLOCK_OWNER_DEAD:
			stale = true;
			break;
		case MBOX_DOTLOCK_OWNER_UNKNOWN:
		default:
			stale = mbox_dotlock_is_stale(lock, &st);
			break;
		}
		if (stale) {
			if (mbox_dotlock_remove_stale(lock, &st, error_r) < 0)
				return -1;
			continue;
		}
		if (!mbox_lock_wait(lock)) {
			*error_r = mbox_lock_timeout_error(lock, method);
			return 0;
		}
	}
}

/* mbox_lock_fcntl_set - F_OFD_SETLK of type over the whole of fd; a
   kernel without OFD locks (before 3.15) gets a classic F_SETLK, which the
   in-process lock keeps safe between threads. fcntl()'s return */
static int mbox_lock_fcntl_set(int fd, short type)
{
	static bool ofd_unsupported;
	struct flock fl;
	int ret;

	/* l_pid must be 0 for OFD locks; lockf() is this same POSIX record
	   lock on Linux: take it over the whole file, not from the offset */
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	if (!__atomic_load_n(&ofd_unsupported, __ATOMIC_RELAXED)) {
		ret = fcntl(fd, F_OFD_SETLK, &fl);
		if (ret == 0 || errno != EINVAL)
			return ret;
		__atomic_store_n(&ofd_unsupported, true, __ATOMIC_RELAXED);
	}
	return fcntl(fd, F_SETLK, &fl);
}

/* mbox_lock_fd_try - one non-blocking fd lock attempt: 1 locked, 0 held
   by another process or file description, -1 error with errno */
static int mbox_lock_fd_try(int fd, enum mbox_lock_method method)
{
	int ret;

	do {
		if (method == MBOX_LOCK_FLOCK)
			ret = flock(fd, LOCK_EX | LOCK_NB);
		else
			ret = mbox_lock_fcntl_set(fd, F_WRLCK);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0)
		return 1;
	if (errno == EAGAIN || errno == EACCES || errno == EWOULDBLOCK)
		return 0;
	return -1;
}

int mbox_lock_ofd_try(int fd)
{
	return mbox_lock_fd_try(fd, MBOX_LOCK_FCNTL);
}

/* mbox_lock_fd - take an fcntl/lockf/flock lock: 1, 0 timeout, -1 error */
static int mbox_lock_fd(struct mbox_lock *lock, enum mbox_lock_method method,
			const char **error_r)
{
	int ret;

	if (lock->fd < 0) {
		*error_r = error_slot_set(&mbox_lock_error, 
			"%s lock for %s needs an open file",
			mbox_lock_method_names[method], lock->path);
		return -1;
	}
	for (;;) {
		ret = mbox_lock_fd_try(lock->fd, method);
		if (ret > 0)
			return 1;
		if (ret < 0) {
			*error_r = error_slot_set(&mbox_lock_error, 
				"%s(%s) failed: %s",
				method == MBOX_LOCK_FLOCK ? "flock" : "fcntl",
				lock->path, strerror(errno));
			return -1;
		}
		if (!mbox_lock_wait(lock)) {
			*error_r = mbox_lock_timeout_error(lock, method);
			return 0;
		}
	}
}

/* mbox_lock_drop - release one held lock */
static void mbox_lock_drop(struct mbox_lock *lock,
			   enum mbox_lock_method method)
{
	struct stat st;

	switch (method) {
	case MBOX_LOCK_DOTLOCK:
	case MBOX_LOCK_DOTLOCK_TRY:
		/* only if it is still ours: it may have been judged stale
		   and replaced by another process's lock */
		if (stat(lock->dotlock_path, &st) == 0 &&
		    mbox_dotlock_is_ours(lock, &st))
			(void)mbox_dotlock_unlink(lock);
		break;
	case MBOX_LOCK_FLOCK:
		(void)flock(lock->fd, LOCK_UN);
		break;
	case MBOX_LOCK_FCNTL:
	case MBOX_LOCK_LOCKF:
	case MBOX_LOCK_METHOD_COUNT:
		(void)mbox_lock_fcntl_set(lock->fd, F_UNLCK);
		break;
	}
}

/* mbox_lock_inproc_try - one attempt at the in-process lock of the file
   in lock->inproc: 1 taken, 0 held by another thread */
static int mbox_lock_inproc_try(struct mbox_lock *lock)
{
	struct mbox_lock_inproc *p;
	int ret = 1;

	pthread_mutex_lock(&mbox_lock_inproc_mutex);
	for (p = mbox_lock_inproc_list; p != NULL; p = p->next) {
		if (p->dev == lock->inproc.dev && p->ino == lock->inproc.ino) {
			ret = 0;
			break;
		}
	}
	if (ret > 0) {
		lock->inproc.next = mbox_lock_inproc_list;
		mbox_lock_inproc_list = &lock->inproc;
		lock->inproc_held = true;
	}
	pthread_mutex_unlock(&mbox_lock_inproc_mutex);
	return ret;
}

/* mbox_lock_inproc_drop - let the next thread have the file */
static void mbox_lock_inproc_drop(struct mbox_lock *lock)
{
	struct mbox_lock_inproc **p;

	pthread_mutex_lock(&mbox_lock_inproc_mutex);
	for (p = &mbox_lock_inproc_list; *p != NULL; p = &(*p)->next) {
		if (*p == &lock->inproc) {
			*p = lock->inproc.next;
			break;
		}
	}
	pthread_mutex_unlock(&mbox_lock_inproc_mutex);
	lock->inproc_held = false;
}

/* mbox_lock_inproc - wait for the in-process lock of the file: 1 held (or
   nothing to lock: no fd and no file), 0 timeout, -1 error */
static int mbox_lock_inproc(struct mbox_lock *lock, const char **error_r)
{
	struct stat st;
	int ret;

	ret = lock->fd >= 0 ? fstat(lock->fd, &st) : stat(lock->path, &st);
	if (ret < 0) {
		if (lock->fd < 0 && errno == ENOENT)
			return 1;	/* dotlock only, and no file yet */
		*error_r = error_slot_set(&mbox_lock_error,
					  "fstat(%s) failed: %s", lock->path,
					  strerror(errno));
		return -1;
	}
	lock->inproc.dev = st.st_dev;
	lock->inproc.ino = st.st_ino;
	while (mbox_lock_inproc_try(lock) == 0) {
		if (!mbox_lock_wait(lock)) {
			*error_r = error_slot_set(&mbox_lock_error,
				"Timeout while waiting for lock for mbox file "
				"%s (held by another delivery of this process)",
				lock->path);
			return 0;
		}
	}
	return 1;
}

/* mbox_lock_journal_open - wait for the append journal's lock: 1 (with
   lock->journal, or none where the directory takes no file), 0 timeout:
   a live process still appends without our locks, -1 error */
static int mbox_lock_journal_open(struct mbox_lock *lock,
				  const char **error_r)
{
	int ret;

	while ((ret = mbox_journal_open(lock->path, lock->privileged_group,
					&lock->journal, error_r)) == 0) {
		if (!mbox_lock_wait(lock)) {
			*error_r = error_slot_set(&mbox_lock_error,
				"Timeout while waiting for lock for mbox file "
				"%s (its append journal is held by another "
				"process)", lock->path);
			return 0;
		}
	}
	return ret;
}

struct mbox_journal *mbox_lock_journal(struct mbox_lock *lock)
{
	return lock->journal;
}

/* mbox_lock_new - the lock state for path, its deadline starting now */
static struct mbox_lock *mbox_lock_new(const char *path, int fd,
				       const struct mbox_lock_settings *set)
{
	struct mbox_lock *lock = xcalloc(1, sizeof(*lock));
	uint64_t timeout = set->timeout_ms != 0 ? set->timeout_ms :
		MBOX_LOCK_DEFAULT_TIMEOUT_MS;
	struct timespec ts;

	lock->path = xstrdup(path);
	lock->dir = path_dirname(path);
	lock->dotlock_path = xasprintf("%s.lock", path);
	lock->privileged_group = xstrdup(set->privileged_group == NULL ? "" :
					 set->privileged_group);
	lock->fd = fd;
	lock->stale_ms = set->stale_ms != 0 ? set->stale_ms :
		MBOX_LOCK_DEFAULT_STALE_MS;
	lock->deadline_ms = clock_monotonic_msecs() + timeout;
	lock->backoff_ms = MBOX_LOCK_BACKOFF_MIN_MS;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lock->rand_state = (uint32_t)getpid() * 2654435761u ^
		(uint32_t)ts.tv_nsec;
	if (lock->rand_state == 0)
		lock->rand_state = 1;
	return lock;
}

int mbox_lock_acquire(const char *path, int fd,
		      const struct mbox_lock_settings *set,
		      struct mbox_lock **lock_r, const char **error_r)
{
	enum mbox_lock_method methods[MBOX_LOCK_METHOD_COUNT];
	struct mbox_lock *lock;
	unsigned int count, i;
	bool held;
	int ret;

	*lock_r = NULL;
	if (mbox_lock_parse_methods(set->methods, methods, &count, error_r) < 0)
		return -1;
	lock = mbox_lock_new(path, fd, set);
	ret = mbox_lock_inproc(lock, error_r);
	for (i = 0; ret > 0 && i < count; i++) {
		held = true;
		if (mbox_lock_is_dotlock(methods[i]))
			ret = mbox_lock_dotlock(lock, methods[i], &held, error_r);
		else
			ret = mbox_lock_fd(lock, methods[i], error_r);
		if (ret > 0 && held)
			lock->held[lock->held_count++] = methods[i];
	}
	if (ret > 0 && set->journal)
		ret = mbox_lock_journal_open(lock, error_r);
	if (ret <= 0) {
		mbox_lock_release(&lock);
		return ret;
	}
	*lock_r = lock;
	return 1;
}

void mbox_lock_release(struct mbox_lock **_lock)
{
	struct mbox_lock *lock = *_lock;

	if (lock == NULL)
		return;
	*_lock = NULL;
	mbox_journal_close(&lock->journal);
	while (lock->held_count > 0)
		mbox_lock_drop(lock, lock->held[--lock->held_count]);
	if (lock->inproc_held)
		mbox_lock_inproc_drop(lock);
	free(lock->path);
	free(lock->dir);
	free(lock->dotlock_path);
	free(lock->privileged_group);
	free(lock);
}
