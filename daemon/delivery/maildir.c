/*
 * maildir - deliver one message into a maildir folder.
 *
 * A delivery writes tmp/<secs>.M<usecs>P<pid>.<host>, syncs it per
 * mail_fsync, hard-links it as new/<name>,S=<size>,W=<vsize> and syncs
 * new/, so a file in new/ is always complete; on any failure nothing is
 * left in tmp/ or new/. INBOX is created when missing, other folders only
 * when autocreate is on (Maildir++ `.Folder` with a `maildirfolder` file,
 * or LAYOUT=fs directories), optionally added to Dovecot's `subscriptions`
 * file. A folder exists when its cur/ exists, so cur/ is created last.
 *
 * tmp/ files a crashed delivery left behind are removed the way Dovecot
 * does: when a delivery opens a folder whose tmp/ was last scanned more
 * than 8 hours ago (tmp/'s atime, set after each scan), regular files
 * whose mtime and ctime are both older than 36 hours go. It runs as the
 * mail user, like the delivery; its failure is only a warning.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "error_slot.h"
#include "maildir_keywords.h"
#include "path.h"
#include "perm_error.h"
#include "storage_private.h"
#include "strbuf.h"
#include "xalloc.h"

#define MAILDIR_NAME_RETRIES 100	/* unique name attempts */
#define MAILDIR_DIR_MODE 0700
#define SUBSCRIPTIONS_FILE "subscriptions"
#define SUBSCRIPTIONS_V2_HEADER "V\t2\n\n"
#define SUBSCRIPTIONS_LOCK_STALE_SECS 30
#define SUBSCRIPTIONS_LOCK_TIMEOUT_MS 30000
/* how often tmp/ is scanned, by its atime; what is old enough to go */
#define MAILDIR_TMP_SCAN_SECS (8 * 60 * 60)
#define MAILDIR_TMP_DELETE_SECS (36 * 60 * 60)

/* one delivery in progress */
struct maildir_save {
	const struct storage_save_params *params;
	const char *mailbox;
	char *dir;		/* the folder's directory */
	char **created;		/* directories this save created */
	size_t created_count;
	bool folder_created;
	char info[64];		/* after ":2,": flag and keyword letters */
};

static __thread struct error_slot maildir_error;
static long maildir_last_secs, maildir_last_usecs;
static pthread_mutex_t maildir_time_lock = PTHREAD_MUTEX_INITIALIZER;


/* maildir_errno_class - storage error for a failed system call */
static enum storage_error maildir_errno_class(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG ?
		STORAGE_ERR_NOSPACE : STORAGE_ERR_TEMP;
}

/* maildir_call_creates - whether call makes a new name in a directory
   (its permission error is then about the directory's +w) */
static bool maildir_call_creates(const char *call)
{
	static const char *const creating[] = {
		"mkdir", "open", "link", "rename", "file_dotlock_open",
	};

	for (size_t i = 0; i < LOFT_N_ELEMENTS(creating); i++) {
		if (strcmp(call, creating[i]) == 0)
			return true;
	}
	return false;
}

/* maildir_syscall_fail - Dovecot-style "call(path) failed: error", with
   euid/egid and the directory's owner and mode on EACCES */
static enum storage_error maildir_syscall_fail(const char *call,
					       const char *path,
					       const char **error_r)
{
	int err = errno;

	*error_r = perm_error_syscall(&maildir_error, call, path,
				      maildir_call_creates(call));
	errno = err;
	return maildir_errno_class(err);
}

/* fsync_path - open a directory (or file) and fsync it */
static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret, err;

	if (fd == -1)
		return -1;
	ret = fsync(fd);
	err = errno;
	if (close(fd) < 0 && ret == 0)
		return -1;
	errno = err;
	return ret;
}

/* maildir_mkdir - create one directory, recording it; EEXIST is fine */
static int maildir_mkdir(struct maildir_save *save, const char *path)
{
	if (mkdir(path, MAILDIR_DIR_MODE) == 0) {
		save->created = xreallocarray(save->created,
					      save->created_count + 1,
					      sizeof(*save->created));
		save->created[save->created_count++] = xstrdup(path);
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

/* maildir_mkdir_parents - mkdir -p */
static int maildir_mkdir_parents(struct maildir_save *save, const char *path)
{
	char *parent;
	int ret;

	if (maildir_mkdir(save, path) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	parent = path_dirname(path);
	ret = strcmp(parent, path) == 0 ? -1 :
		maildir_mkdir_parents(save, parent);
	free(parent);
	if (ret < 0)
		return -1;
	return maildir_mkdir(save, path);
}

/* maildir_create_dirs - dir, tmp/, new/, an optional maildirfolder file
   and cur/ last: a folder counts as existing once cur/ is there */
static enum storage_error maildir_create_dirs(struct maildir_save *save,
					      bool maildirfolder,
					      const char **error_r)
{
	static const char *const subdirs[] = { "tmp", "new", "cur" };
	enum storage_error ret = STORAGE_OK;
	char *path;
	size_t i;
	int fd;

	if (maildir_mkdir_parents(save, save->dir) < 0)
		return maildir_syscall_fail("mkdir", save->dir, error_r);
	for (i = 0; i < LOFT_N_ELEMENTS(subdirs) && ret == STORAGE_OK; i++) {
		if (maildirfolder && strcmp(subdirs[i], "cur") == 0) {
			path = xasprintf("%s/maildirfolder", save->dir);
			fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (fd == -1 || close(fd) < 0)
				ret = maildir_syscall_fail("open", path, error_r);
			free(path);
			if (ret != STORAGE_OK)
				break;
		}
		path = xasprintf("%s/%s", save->dir, subdirs[i]);
		if (maildir_mkdir(save, path) < 0)
			ret = maildir_syscall_fail("mkdir", path, error_r);
		free(path);
	}
	return ret;
}

/* maildir_sync_created - mail_fsync=always: make created directories
   and their entries in the parents durable */
static enum storage_error maildir_sync_created(struct maildir_save *save,
					       const char **error_r)
{
	size_t i;

	if (save->params->fsync != MAIL_FSYNC_ALWAYS)
		return STORAGE_OK;
	for (i = 0; i < save->created_count; i++) {
		char *parent = path_dirname(save->created[i]);
		enum storage_error ret = STORAGE_OK;

		if (fsync_path(save->created[i]) < 0)
			ret = maildir_syscall_fail("fsync", save->created[i],
						   error_r);
		else if (fsync_path(parent) < 0)
			ret = maildir_syscall_fail("fsync", parent, error_r);
		free(parent);
		if (ret != STORAGE_OK)
			return ret;
	}
	return STORAGE_OK;
}

/* maildir_rollback_created - remove a folder this save created (after a
   failed subscription), newest first; best effort */
static void maildir_rollback_created(struct maildir_save *save)
{
	char *path = xasprintf("%s/maildirfolder", save->dir);
	size_t i;

	(void)unlink(path);
	free(path);
	for (i = save->created_count; i > 0; i--)
		(void)rmdir(save->created[i - 1]);
}

/* subscriptions_lock - create the dotlock <path>.lock, waiting for a
   live one and breaking a stale one; returns the fd or -1 */
static int subscriptions_lock(const char *lock_path, uint64_t timeout_ms)
{
	struct timespec wait = { 0, 50 * 1000 * 1000 };
	uint64_t waited_ms = 0;
	struct stat st;
	int fd;

	for (;;) {
		fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			  0600);
		if (fd != -1 || errno != EEXIST)
			return fd;
		if (stat(lock_path, &st) == 0 &&
		    st.st_mtime + SUBSCRIPTIONS_LOCK_STALE_SECS < time(NULL)) {
			(void)unlink(lock_path);
			continue;
		}
		if (waited_ms >= timeout_ms) {
			errno = EAGAIN;
			return -1;
		}
		(void)nanosleep(&wait, NULL);
		waited_ms += 50;
	}
}

/* subscriptions_entry - the line for mailbox in a file of that version */
static char *subscriptions_entry(const struct mail_location *loc,
				 const char *mailbox, bool v2)
{
	char sep = v2 ? '\t' : (loc->layout_fs ? '/' : '.');
	char *entry = xstrdup(mailbox), *p;

	for (p = entry; *p != '\0'; p++) {
		if (*p == '/')
			*p = sep;
	}
	return entry;
}

/* subscriptions_rewrite - write the new subscriptions into the lock fd:
   the old content plus entry; *changed_r false when already there */
static int subscriptions_rewrite(const struct mail_location *loc,
				 const char *path, const char *mailbox,
				 int lock_fd, bool *changed_r)
{
	struct strbuf out, old;
	char buf[4096], *entry, *line, *nl;
	size_t entry_len, line_len;
	bool v2 = true;
	ssize_t n;
	int fd, ret = 0;

	*changed_r = false;
	strbuf_init(&old, 256);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT) {
		strbuf_free(&old);
		return -1;
	}
	while (fd != -1 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -1;
			break;
		}
		strbuf_append(&old, buf, (size_t)n);
	}
	if (fd != -1)
		(void)close(fd);
	if (ret < 0) {
		strbuf_free(&old);
		return -1;
	}

	line = old.data;
	if (fd != -1) {
		size_t hdr_len = strlen(SUBSCRIPTIONS_V2_HEADER);

		v2 = old.len >= hdr_len &&
			memcmp(old.data, SUBSCRIPTIONS_V2_HEADER, hdr_len) == 0;
		if (v2)
			line += hdr_len;
	}
	entry = subscriptions_entry(loc, mailbox, v2);
	strbuf_init(&out, old.len + strlen(entry) + 16);
	if (v2)
		strbuf_append_str(&out, SUBSCRIPTIONS_V2_HEADER);
	entry_len = strlen(entry);
	while (*line != '\0') {
		nl = strchr(line, '\n');
		line_len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (line_len == entry_len && memcmp(line, entry, entry_len) == 0) {
			free(entry);
			strbuf_free(&out);
			strbuf_free(&old);
			return 0;
		}
		strbuf_append(&out, line, line_len);
		strbuf_putc(&out, '\n');
		line += line_len + (nl != NULL ? 1 : 0);
	}
	strbuf_append_str(&out, entry);
	strbuf_putc(&out, '\n');
	free(entry);
	strbuf_free(&old);

	ret = 0;
	for (size_t off = 0; off < out.len && ret == 0;) {
		n = write(lock_fd, out.data + off, out.len - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n == 0) {
			errno = ENOSPC;
			ret = -1;
		} else if (errno != EINTR) {
			ret = -1;
		}
	}
	strbuf_free(&out);
	*changed_r = ret == 0;
	return ret;
}

/* maildir_subscribe - add mailbox to <root>/subscriptions the way
   Dovecot 2.3 does: rewritten under a dotlock and renamed over */
static enum storage_error maildir_subscribe(const struct storage_save_params *params,
					    const char *mailbox,
					    const char **error_r)
{
	const struct mail_location *loc = params->loc;
	char *path = xasprintf("%s/%s", loc->root, SUBSCRIPTIONS_FILE);
	char *lock_path = xasprintf("%s.lock", path);
	enum storage_error ret = STORAGE_OK;
	bool changed = false;
	int fd;

	fd = subscriptions_lock(lock_path, params->lock_timeout_ms != 0 ?
				params->lock_timeout_ms :
				SUBSCRIPTIONS_LOCK_TIMEOUT_MS);
	if (fd == -1) {
		ret = maildir_syscall_fail("file_dotlock_open", path, error_r);
		goto out;
	}
	if (subscriptions_rewrite(loc, path, mailbox, fd, &changed) < 0)
		ret = maildir_syscall_fail("write", lock_path, error_r);
	else if (changed && params->fsync != MAIL_FSYNC_NEVER && fsync(fd) < 0)
		ret = maildir_syscall_fail("fsync", lock_path, error_r);
	if (close(fd) < 0 && ret == STORAGE_OK)
		ret = maildir_syscall_fail("close", lock_path, error_r);
	if (ret == STORAGE_OK && changed) {
		if (rename(lock_path, path) < 0)
			ret = maildir_syscall_fail("rename", path, error_r);
	}
	if (ret != STORAGE_OK || !changed)
		(void)unlink(lock_path);
out:
	free(path);
	free(lock_path);
	return ret;
}

/* maildir_open_folder - find or create the folder's directory */
static enum storage_error maildir_open_folder(struct maildir_save *save,
					      const char **error_r)
{
	const struct storage_save_params *params = save->params;
	bool inbox = mail_location_is_inbox(save->mailbox);
	char *cur = xasprintf("%s/cur", save->dir);
	enum storage_error ret;
	struct stat st;
	int err;

	ret = stat(cur, &st) == 0 ? STORAGE_OK : STORAGE_ERR_NOTFOUND;
	err = errno;
	free(cur);
	if (ret == STORAGE_OK)
		return STORAGE_OK;
	if (err != ENOENT) {
		errno = err;
		return maildir_syscall_fail("stat", save->dir, error_r);
	}
	if (!inbox && !params->autocreate) {
		*error_r = error_slot_set(&maildir_error, "Mailbox doesn't exist: %s",
					     save->mailbox);
		return STORAGE_ERR_NOTFOUND;
	}
	ret = maildir_create_dirs(save, !inbox && !params->loc->layout_fs,
				  error_r);
	if (ret == STORAGE_OK)
		ret = maildir_sync_created(save, error_r);
	if (ret != STORAGE_OK || inbox)
		return ret;
	save->folder_created = true;
	if (params->autosubscribe) {
		ret = maildir_subscribe(params, save->mailbox, error_r);
		/* a retry must find the folder missing to subscribe it */
		if (ret != STORAGE_OK)
			maildir_rollback_created(save);
	}
	return ret;
}

/* maildir_host - the host part of file names, from params or uname */
static void maildir_host(const struct storage_save_params *params,
			 char *buf, size_t size)
{
	if (params->hostname != NULL && *params->hostname != '\0') {
		snprintf(buf, size, "%s", params->hostname);
		return;
	}
	if (gethostname(buf, size) < 0 || *buf == '\0')
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

/* maildir_next_time - the current time, made unique within the process */
static void maildir_next_time(long *secs_r, long *usecs_r)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	/* worker threads of one process share the pid in the name */
	pthread_mutex_lock(&maildir_time_lock);
	if (tv.tv_sec < maildir_last_secs ||
	    (tv.tv_sec == maildir_last_secs && tv.tv_usec <= maildir_last_usecs)) {
		tv.tv_sec = maildir_last_secs;
		tv.tv_usec = maildir_last_usecs + 1;
		if (tv.tv_usec >= 1000000) {
			tv.tv_sec++;
			tv.tv_usec = 0;
		}
	}
	maildir_last_secs = tv.tv_sec;
	maildir_last_usecs = tv.tv_usec;
	pthread_mutex_unlock(&maildir_time_lock);
	*secs_r = tv.tv_sec;
	*usecs_r = tv.tv_usec;
}

/* maildir_basename - <secs>.M<usecs>P<pid>.<host> with '/' and ':' in
   host escaped as \057 and \072 */
static char *maildir_basename(long secs, long usecs, long pid,
			      const char *host)
{
	struct strbuf name;
	const char *p;

	strbuf_init(&name, 64 + strlen(host));
	strbuf_appendf(&name, "%ld.M%ldP%ld.", secs, usecs, pid);
	for (p = host; *p != '\0'; p++) {
		if (*p == '/')
			strbuf_append_str(&name, "\\057");
		else if (*p == ':')
			strbuf_append_str(&name, "\\072");
		else
			strbuf_putc(&name, *p);
	}
	return name.data;
}

char *maildir_filename(long secs, long usecs, long pid, const char *host,
		       uint64_t size, uint64_t vsize)
{
	char *base = maildir_basename(secs, usecs, pid, host);
	char *name = xasprintf("%s,S=%llu,W=%llu", base,
			       (unsigned long long)size,
			       (unsigned long long)vsize);

	free(base);
	return name;
}

/* maildir_create_tmp - open a new unique tmp/ file; recreates tmp/ and
   new/ once when they vanished */
static enum storage_error maildir_create_tmp(struct maildir_save *save,
					     const char *host, long *secs_r,
					     long *usecs_r, char **tmp_path_r,
					     int *fd_r, const char **error_r)
{
	bool recreated = false;
	char *base, *path;
	int i, fd;

	for (i = 0; i < MAILDIR_NAME_RETRIES; i++) {
		maildir_next_time(secs_r, usecs_r);
		base = maildir_basename(*secs_r, *usecs_r, (long)getpid(), host);
		path = xasprintf("%s/tmp/%s", save->dir, base);
		free(base);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd != -1) {
			*tmp_path_r = path;
			*fd_r = fd;
			return STORAGE_OK;
		}
		if (errno == ENOENT && !recreated) {
			enum storage_error ret;

			recreated = true;
			ret = maildir_create_dirs(save, false, error_r);
			if (ret == STORAGE_OK)
				ret = maildir_sync_created(save, error_r);
			if (ret != STORAGE_OK) {
				free(path);
				return ret;
			}
		} else if (errno != EEXIST) {
			enum storage_error ret =
				maildir_syscall_fail("open", path, error_r);

			free(path);
			return ret;
		}
		free(path);
	}
	*error_r = error_slot_set(&maildir_error, "Could not find a unique file name in %s/tmp",
				     save->dir);
	return STORAGE_ERR_TEMP;
}

/* maildir_write_tmp - the prefix and message into fd, synced, closed */
static enum storage_error maildir_write_tmp(struct maildir_save *save,
					    struct message *msg, int fd,
					    const char *tmp_path,
					    uint64_t *size_r,
					    const char **error_r)
{
	const struct storage_save_params *params = save->params;
	enum storage_error ret = STORAGE_OK;
	const char *error;

	if (message_write(msg, params->prefix, params->prefix_len, fd, false,
			  size_r, &error) < 0)
		ret = maildir_syscall_fail("write", tmp_path, error_r);
	else if (params->fsync != MAIL_FSYNC_NEVER && fsync(fd) < 0)
		ret = maildir_syscall_fail("fsync", tmp_path, error_r);
	if (close(fd) < 0 && ret == STORAGE_OK)
		ret = maildir_syscall_fail("close", tmp_path, error_r);
	if (ret == STORAGE_OK && params->fsync == MAIL_FSYNC_ALWAYS) {
		char *tmp_dir = xasprintf("%s/tmp", save->dir);

		if (fsync_path(tmp_dir) < 0)
			ret = maildir_syscall_fail("fsync", tmp_dir, error_r);
		free(tmp_dir);
	}
	return ret;
}

/* maildir_move - link tmp_path to path and unlink tmp_path; where hard
   links are not supported, rename without replacing. 0 or -1 with errno
   (EEXIST: the name is taken) */
static int maildir_move(const char *tmp_path, const char *path)
{
	if (link(tmp_path, path) == 0) {
		(void)unlink(tmp_path);
		return 0;
	}
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
		return -1;
	if (renameat2(AT_FDCWD, tmp_path, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* the filesystem lacks RENAME_NOREPLACE too */
	if (access(path, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(tmp_path, path);
}

/* maildir_has_flags - the message is saved with flags (into cur/) */
static bool maildir_has_flags(const struct maildir_save *save)
{
	return save->info[0] != '\0';
}

/* maildir_final_path - new/NAME, or cur/NAME:2,FLAGS for a message
   saved with flags (as Dovecot saves it) */
static char *maildir_final_path(const struct maildir_save *save,
				const char *name)
{
	if (maildir_has_flags(save))
		return xasprintf("%s/cur/%s:2,%s", save->dir, name, save->info);
	return xasprintf("%s/new/%s", save->dir, name);
}

/* maildir_link_new - hard-link the tmp file into new/ under its final
   name, choosing a new time stamp when the name is taken */
static enum storage_error maildir_link_new(struct maildir_save *save,
					   const char *host, long secs,
					   long usecs, const char *tmp_path,
					   uint64_t size, uint64_t vsize,
					   char **new_path_r,
					   const char **error_r)
{
	char *name, *path;
	int i;

	for (i = 0; i < MAILDIR_NAME_RETRIES; i++) {
		if (i > 0)
			maildir_next_time(&secs, &usecs);
		name = maildir_filename(secs, usecs, (long)getpid(), host,
					size, vsize);
		path = maildir_final_path(save, name);
		free(name);
		if (maildir_move(tmp_path, path) == 0) {
			*new_path_r = path;
			return STORAGE_OK;
		}
		if (errno != EEXIST) {
			enum storage_error ret =
				maildir_syscall_fail("link", path, error_r);

			free(path);
			return ret;
		}
		free(path);
	}
	*error_r = error_slot_set(&maildir_error, "Could not find a unique file name in %s/new",
				     save->dir);
	return STORAGE_ERR_TEMP;
}

/* maildir_sync_new - make the new/ entry durable, or take it back */
static enum storage_error maildir_sync_new(struct maildir_save *save,
					   char **new_path, const char **error_r)
{
	enum storage_error ret = STORAGE_OK;
	char *new_dir;

	if (save->params->fsync == MAIL_FSYNC_NEVER)
		return STORAGE_OK;
	new_dir = xasprintf("%s/%s", save->dir,
			    maildir_has_flags(save) ? "cur" : "new");
	if (fsync_path(new_dir) < 0) {
		/* not durable: take it back so the MTA retries */
		ret = maildir_syscall_fail("fsync", new_dir, error_r);
		(void)unlink(*new_path);
		XFREE(*new_path);
	}
	free(new_dir);
	return ret;
}

/* maildir_deliver_link - another recipient's stored copy has exactly these
   bytes: hard-link it into new/ under a fresh name. false when that is not
   possible (other file system, size mismatch...): the caller writes */
static bool maildir_deliver_link(struct maildir_save *save,
				 struct message *msg,
				 struct storage_save_result *result_r)
{
	const struct storage_save_params *params = save->params;
	uint64_t size = params->prefix_len + message_size(msg);
	uint64_t vsize = size + message_count_lf(params->prefix, params->prefix_len) +
		(message_vsize(msg) - message_size(msg));
	char host[256], *name, *path;
	const char *error;
	struct stat st;
	long secs, usecs;

	if (stat(params->link_source, &st) < 0 || (uint64_t)st.st_size != size)
		return false;
	maildir_host(params, host, sizeof(host));
	for (int i = 0; i < MAILDIR_NAME_RETRIES; i++) {
		maildir_next_time(&secs, &usecs);
		name = maildir_filename(secs, usecs, (long)getpid(), host,
					size, vsize);
		path = maildir_final_path(save, name);
		free(name);
		if (link(params->link_source, path) == 0) {
			if (maildir_sync_new(save, &path, &error) != STORAGE_OK)
				return false;
			result_r->path = path;
			result_r->size = size;
			result_r->vsize = vsize;
			return true;
		}
		free(path);
		if (errno != EEXIST)
			return false;
	}
	return false;
}

/* maildir_deliver - tmp/ file, sync, link into new/, sync new/ */
static enum storage_error maildir_deliver(struct maildir_save *save,
					  struct message *msg,
					  struct storage_save_result *result_r,
					  const char **error_r)
{
	const struct storage_save_params *params = save->params;
	char host[256], *tmp_path = NULL, *new_path = NULL;
	enum storage_error ret;
	uint64_t size = 0, vsize;
	long secs, usecs;
	int fd = -1;

	if (params->link_source != NULL &&
	    maildir_deliver_link(save, msg, result_r))
		return STORAGE_OK;
	maildir_host(params, host, sizeof(host));
	ret = maildir_create_tmp(save, host, &secs, &usecs, &tmp_path, &fd,
				 error_r);
	if (ret != STORAGE_OK)
		return ret;
	ret = maildir_write_tmp(save, msg, fd, tmp_path, &size, error_r);
	vsize = size + message_count_lf(params->prefix, params->prefix_len) +
		(message_vsize(msg) - message_size(msg));
	if (ret == STORAGE_OK)
		ret = maildir_link_new(save, host, secs, usecs, tmp_path, size,
				       vsize, &new_path, error_r);
	if (ret == STORAGE_OK)
		ret = maildir_sync_new(save, &new_path, error_r);
	if (ret != STORAGE_OK) {
		(void)unlink(tmp_path);
		free(tmp_path);
		return ret;
	}
	free(tmp_path);
	result_r->path = new_path;
	result_r->size = size;
	result_r->vsize = vsize;
	return STORAGE_OK;
}

/* maildir_tmp_note - keep the first cleanup problem in *error_r */
static void maildir_tmp_note(const char *call, const char *path,
			     const char *name, int *ret, const char **error_r)
{
	if (*ret < 0)
		return;
	*error_r = error_slot_set(&maildir_error, "%s(%s%s%s) failed: %s",
				  call, path, name != NULL ? "/" : "",
				  name != NULL ? name : "", strerror(errno));
	*ret = -1;
}

/* maildir_tmp_remove_old - unlink the regular files of the open tmp/
   whose mtime and ctime are both before limit; symlinks and directories
   stay. The number removed; *ret -1 with *error_r on the first problem,
   the scan goes on past it */
static int maildir_tmp_remove_old(DIR *dirp, const char *path, time_t limit,
				  int *ret, const char **error_r)
{
	struct dirent *d;
	struct stat st;
	int removed = 0;

	errno = 0;
	while ((d = readdir(dirp)) != NULL) {
		const char *name = d->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(dirfd(dirp), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				maildir_tmp_note("stat", path, name, ret, error_r);
		} else if (S_ISREG(st.st_mode) && st.st_mtime < limit &&
			   st.st_ctime < limit) {
			if (unlinkat(dirfd(dirp), name, 0) == 0)
				removed++;
			else if (errno != ENOENT)
				maildir_tmp_note("unlink", path, name, ret,
						 error_r);
		}
		errno = 0;
	}
	if (errno != 0)
		maildir_tmp_note("readdir", path, NULL, ret, error_r);
	return removed;
}

int maildir_tmp_cleanup(const char *dir, time_t now, unsigned int *removed_r,
			const char **error_r)
{
	/* atime now, mtime as it is: the mark of this scan */
	static const struct timespec stamp[2] = {
		{ .tv_nsec = UTIME_NOW }, { .tv_nsec = UTIME_OMIT },
	};
	char *path = xasprintf("%s/tmp", dir);
	struct stat st;
	DIR *dirp;
	int fd, ret = 0;

	*removed_r = 0;
	if (stat(path, &st) < 0) {
		/* a missing tmp/ is made again by the delivery */
		if (errno != ENOENT)
			maildir_tmp_note("stat", path, NULL, &ret, error_r);
		free(path);
		return ret;
	}
	if (st.st_atime >= now - MAILDIR_TMP_SCAN_SECS) {
		free(path);
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dirp = fd < 0 ? NULL : fdopendir(fd);
	if (dirp != NULL) {
		*removed_r = (unsigned int)maildir_tmp_remove_old(dirp, path,
			now - MAILDIR_TMP_DELETE_SECS, &ret, error_r);
		(void)closedir(dirp);
	} else {
		maildir_tmp_note("opendir", path, NULL, &ret, error_r);
		if (fd >= 0)
			(void)close(fd);
	}
	/* also after a failure: the next try is in 8 hours, not at every
	   delivery */
	if (utimensat(AT_FDCWD, path, stamp, 0) < 0)
		maildir_tmp_note("utimensat", path, NULL, &ret, error_r);
	free(path);
	return ret;
}

/* maildir_info - the flag letters, then the keywords' from the folder's
   dovecot-keywords; keywords that cannot be recorded are left out with a
   warning, the message is saved all the same */
static void maildir_info(struct maildir_save *save,
			 struct storage_save_result *result_r)
{
	const struct storage_save_params *params = save->params;
	char letters[27];
	const char *error;

	snprintf(save->info, sizeof(save->info), "%s",
		 params->maildir_flags != NULL ? params->maildir_flags : "");
	if (params->keyword_count == 0)
		return;
	if (maildir_keywords_letters(save->dir, params->keywords,
				     params->keyword_count, letters,
				     sizeof(letters), &error) < 0) {
		free(result_r->warning);
		result_r->warning = xasprintf("keywords not saved: %s", error);
		return;
	}
	snprintf(save->info + strlen(save->info),
		 sizeof(save->info) - strlen(save->info), "%s", letters);
}

enum storage_error maildir_save(const struct storage_save_params *params,
				struct message *msg,
				struct storage_save_result *result_r,
				const char **error_r)
{
	struct maildir_save save = { .params = params };
	enum storage_error ret;
	const char *error;
	size_t i;

	memset(result_r, 0, sizeof(*result_r));
	save.mailbox = params->mailbox != NULL ? params->mailbox : "INBOX";
	if (mail_location_mailbox_path(params->loc, save.mailbox, &save.dir,
				       &error) < 0) {
		*error_r = error_slot_set(&maildir_error, "%s", error);
		return STORAGE_ERR_INVALID;
	}
	ret = maildir_open_folder(&save, error_r);
	if (ret == STORAGE_OK &&
	    maildir_tmp_cleanup(save.dir, time(NULL), &result_r->tmp_removed,
				&error) < 0)
		result_r->warning = xasprintf("maildir tmp/ cleanup: %s", error);
	if (ret == STORAGE_OK)
		maildir_info(&save, result_r);
	if (ret == STORAGE_OK)
		ret = maildir_deliver(&save, msg, result_r, error_r);
	for (i = 0; i < save.created_count; i++)
		free(save.created[i]);
	free(save.created);
	free(save.dir);
	return ret;
}
