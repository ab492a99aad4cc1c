/*
 * mbox - mbox delivery: append one message to a mailbox file the way
 * Dovecot's mbox storage does for its LDA and LMTP (see storage_private.h).
 *
 * Under the mbox_write_locks (one deadline for all of them, mbox_lock.c)
 * the message is appended as a From_ line ("From sender  Sun Nov 22
 * 00:09:39 2026", local time, as Dovecot writes it), the message with
 * ">From " quoting and a final LF, and one empty separator line; a file
 * whose last byte is not LF first gets one, so messages stay separated.
 * The append is all-or-nothing: any failure truncates the file back to its
 * old size, so a full disk never leaves half a message behind. A writer
 * that dies half way (kill -9) cannot do that itself: its append journal
 * (mbox_journal.h) tells the next deliverer the size before the append
 * and the first bytes written, and that one truncates the half message
 * away before it appends, unless other writers appended after it. INBOX is
 * created when missing; other mailboxes only with autocreate, subscribed
 * in <root>/.subscriptions when asked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error_slot.h"
#include "path.h"
#include "fd_io.h"
#include "mbox_journal.h"
#include "mbox_lock.h"
#include "perm_error.h"
#include "storage_private.h"
#include "strbuf.h"
#include "xalloc.h"

#define MBOX_SUBSCRIPTIONS_FILE ".subscriptions"
#define MBOX_SUBSCRIPTIONS_V2_HEADER "V\t2\n\n"
#define MBOX_DEFAULT_SENDER "MAILER-DAEMON"
#define MBOX_LOCK_SUFFIX ".lock"
#define MBOX_READ_BUF (64 * 1024)

/* error detail of the last failing call */
static __thread struct error_slot mbox_error;

/* mbox_errno_nospace - the OS said the disk or the quota is full */
static bool mbox_errno_nospace(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

/* mbox_has_suffix - str ends with suffix */
static bool mbox_has_suffix(const char *str, size_t len, const char *suffix)
{
	size_t slen = strlen(suffix);

	return len >= slen && memcmp(str + len - slen, suffix, slen) == 0;
}

/* mbox_check_name - mailbox names that would collide with our own files:
   dot-files (.subscriptions, lock temp files) and *.lock dotlocks */
static int mbox_check_name(const char *mailbox, const char **error_r)
{
	const char *p = mailbox, *end;
	size_t len;

	for (;; p = end + 1) {
		end = strchr(p, '/');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > 0 && p[0] == '.') {
			*error_r = error_slot_set(&mbox_error, 
				"Invalid mailbox name '%s': begins with '.'",
				mailbox);
			return -1;
		}
		if (mbox_has_suffix(p, len, MBOX_LOCK_SUFFIX)) {
			*error_r = error_slot_set(&mbox_error, 
				"Invalid mailbox name '%s': ends with '"
				MBOX_LOCK_SUFFIX "'", mailbox);
			return -1;
		}
		if (end == NULL)
			return 0;
	}
}

/* mbox_path_is_under - path lies inside directory dir */
static bool mbox_path_is_under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

/* mbox_mkdir_parents - create the missing directories above path (0700);
   0, or -1 with errno and *error_r */
static int mbox_mkdir_parents(const char *path, const char **error_r)
{
	char *dir = xstrdup(path);
	char *p = strrchr(dir, '/'), c;
	int saved_errno;

	if (p == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1;; p++) {
		if ((*p != '/' && *p != '\0') || p[-1] == '/')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			saved_errno = errno;
			*error_r = perm_error_syscall(&mbox_error, "mkdir", dir, true);
			free(dir);
			errno = saved_errno;
			return -1;
		}
		if (c == '\0')
			break;
		*p = c;
	}
	free(dir);
	return 0;
}

/* mbox_open_error - "open(path) failed: ...", explained on EACCES (who
   we are, what is missing; creating: the open had O_CREAT and failed) */
static const char *mbox_open_error(const char *path, int err, bool creating)
{
	errno = err;
	return perm_error_syscall(&mbox_error, "open", path, creating);
}

/* mbox_fsync_parent - make a new directory entry for path durable; 0 or
   -1 with *error_r */
static int mbox_fsync_parent(const char *path, const char **error_r)
{
	char *dir = path_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fsync(fd) < 0) {
		*error_r = error_slot_set(&mbox_error, "fsync(%s) failed: %s", dir,
					  strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

/* mbox_create_file - create path (0600), or open it when another process
   made it first. make_parents: create missing directories first; a
   privileged_group is tried when the directory refuses us (/var/mail).
   0 with *fd_r, or -1 with errno and *error_r */
static int mbox_create_file(const struct storage_save_params *params,
			    const char *path, bool make_parents,
			    bool privileged, int *fd_r, const char **error_r)
{
	const int flags = O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC;
	const char *group = params->privileged_group;
	bool creating = true;
	gid_t old_egid;
	int fd, saved_errno;

	fd = open(path, flags, 0600);
	if (fd < 0 && errno == ENOENT && make_parents) {
		if (mbox_mkdir_parents(path, error_r) < 0)
			return -1;
		fd = open(path, flags, 0600);
	}
	if (fd < 0 && errno == EACCES && privileged &&
	    group != NULL && *group != '\0') {
		if (mbox_lock_privileged_begin(group, &old_egid, error_r) < 0) {
			errno = EACCES;
			return -1;
		}
		fd = open(path, flags, 0600);
		saved_errno = errno;
		if (mbox_lock_privileged_end(old_egid) < 0) {
			saved_errno = errno;
			if (fd >= 0)
				close(fd);
			*error_r = error_slot_set(&mbox_error, "setegid(%ld) failed: %s",
						  (long)old_egid,
						  strerror(saved_errno));
			errno = saved_errno;
			return -1;
		}
		errno = saved_errno;
	}
	if (fd >= 0) {
		/* new name: make it durable before anything is appended, so
		   a failure here cannot lead to a duplicate delivery */
		if (params->fsync != MAIL_FSYNC_NEVER &&
		    mbox_fsync_parent(path, error_r) < 0) {
			saved_errno = errno;
			close(fd);
			errno = saved_errno;
			return -1;
		}
	} else if (errno == EEXIST) {
		creating = false;
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	}
	if (fd < 0) {
		saved_errno = errno;
		*error_r = mbox_open_error(path, saved_errno, creating);
		if (saved_errno == EACCES && privileged && creating) {
			*error_r = error_slot_set(&mbox_error, "%s (%s%s)", *error_r,
				group != NULL && *group != '\0' ?
				"even with mail_privileged_group=" :
				"mail_privileged_group may allow creating it",
				group != NULL ? group : "");
		}
		errno = saved_errno;
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* mbox_check_regular - the opened mailbox must be a plain file */
static enum storage_error mbox_check_regular(const char *path, int *fd,
					     const char **error_r)
{
	struct stat st;

	if (fstat(*fd, &st) < 0) {
		*error_r = error_slot_set(&mbox_error, "fstat(%s) failed: %s", path,
					  strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		*error_r = error_slot_set(&mbox_error, "mbox file %s is not a regular file",
					  path);
	} else {
		return STORAGE_OK;
	}
	close(*fd);
	*fd = -1;
	return STORAGE_ERR_TEMP;
}

/* mbox_subscriptions_has - line (without LF) is one of the lines of
   content, after the version 2 header when there is one */
static bool mbox_subscriptions_has(const char *content, size_t len,
				   const char *line)
{
	const char *p = content, *end = content + len, *eol;
	size_t line_len = strlen(line);

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) == line_len &&
		    memcmp(p, line, line_len) == 0)
			return true;
		p = eol + 1;
	}
	return false;
}

/* mbox_read_all - the whole file into buf; 0 or -1 with errno */
static int mbox_read_all(int fd, struct strbuf *buf)
{
	char tmp[4096];
	off_t offset = 0;
	ssize_t ret;

	for (;;) {
		ret = pread(fd, tmp, sizeof(tmp), offset);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return ret < 0 ? -1 : 0;
		strbuf_append(buf, tmp, (size_t)ret);
		offset += ret;
	}
}

/* mbox_rollback - cut the file back to size and make that durable; 0 or
   -1 with errno */
static int mbox_rollback(int fd, off_t size)
{
	if (ftruncate(fd, size) < 0)
		return -1;
	return fsync(fd);
}

/* mbox_subscribe_locked - append the subscription line unless present */
static int mbox_subscribe_locked(const struct storage_save_params *params,
				 const char *path, int fd,
				 const char **error_r)
{
	struct strbuf content, line;
	const char *p;
	size_t orig_len;
	bool v2, need_lf;
	int ret = 0;

	strbuf_init(&content, 1024);
	strbuf_init(&line, 128);
	if (mbox_read_all(fd, &content) < 0) {
		*error_r = error_slot_set(&mbox_error, "read(%s) failed: %s", path,
					  strerror(errno));
		ret = -1;
		goto out;
	}
	/* Dovecot 2.3 files may be version 2: a header, then names with
	   the hierarchy separator written as TAB */
	v2 = content.len >= strlen(MBOX_SUBSCRIPTIONS_V2_HEADER) &&
		memcmp(content.data, MBOX_SUBSCRIPTIONS_V2_HEADER,
		       strlen(MBOX_SUBSCRIPTIONS_V2_HEADER)) == 0;
	for (p = params->mailbox; *p != '\0'; p++)
		strbuf_putc(&line, v2 && *p == '/' ? '\t' : *p);
	if (mbox_subscriptions_has(content.data, content.len, line.data))
		goto out;

	orig_len = content.len;
	need_lf = orig_len > 0 && content.data[orig_len - 1] != '\n';
	strbuf_reset(&content);
	if (need_lf)
		strbuf_putc(&content, '\n');
	strbuf_append(&content, line.data, line.len);
	strbuf_putc(&content, '\n');
	if (fd_write_full(fd, content.data, content.len) < 0 ||
	    (params->fsync != MAIL_FSYNC_NEVER && fsync(fd) < 0)) {
		*error_r = error_slot_set(&mbox_error, "write(%s) failed: %s", path,
					  strerror(errno));
		(void)mbox_rollback(fd, (off_t)orig_len);
		ret = -1;
	}
out:
	strbuf_free(&content);
	strbuf_free(&line);
	return ret;
}

/* mbox_subscribe - add params->mailbox to <root>/.subscriptions (one name
   per line) unless it is listed; 0, or -1 with *error_r */
static int mbox_subscribe(const struct storage_save_params *params,
			  const char **error_r)
{
	char *path = xasprintf("%s/" MBOX_SUBSCRIPTIONS_FILE,
			       params->loc->root);
	const int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC;
	struct mbox_lock_settings lock_set = {
		.methods = "fcntl",
		.timeout_ms = params->lock_timeout_ms,
	};
	struct mbox_lock *lock;
	const char *error;
	int fd, ret = -1;

	fd = open(path, flags, 0600);
	if (fd < 0 && errno == ENOENT) {
		if (mbox_mkdir_parents(path, error_r) < 0) {
			free(path);
			return -1;
		}
		fd = open(path, flags, 0600);
	}
	if (fd < 0) {
		*error_r = mbox_open_error(path, errno, true);
		free(path);
		return -1;
	}
	if (mbox_lock_acquire(path, fd, &lock_set, &lock, &error) <= 0) {
		*error_r = error_slot_set(&mbox_error, "%s", error);
	} else {
		ret = mbox_subscribe_locked(params, path, fd, error_r);
		mbox_lock_release(&lock);
	}
	close(fd);
	free(path);
	return ret;
}

/* mbox_open_inbox - open the INBOX file, creating it (and its directories
   when it lives under the mail root; /var/mail must exist) if missing */
static enum storage_error
mbox_open_inbox(const struct storage_save_params *params, const char *path,
		int *fd_r, const char **error_r)
{
	bool make_parents = mbox_path_is_under(path, params->loc->root);

	*fd_r = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (*fd_r < 0) {
		if (errno != ENOENT) {
			*error_r = mbox_open_error(path, errno, false);
			return STORAGE_ERR_TEMP;
		}
		if (mbox_create_file(params, path, make_parents, true, fd_r,
				     error_r) < 0)
			return STORAGE_ERR_TEMP;
	}
	return mbox_check_regular(path, fd_r, error_r);
}

/* mbox_open_mailbox - open another mailbox's file; it exists iff the file
   exists, and is created only with autocreate */
static enum storage_error
mbox_open_mailbox(const struct storage_save_params *params, const char *path,
		  int *fd_r, const char **error_r)
{
	const char *name = params->mailbox;

	*fd_r = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (*fd_r >= 0)
		return mbox_check_regular(path, fd_r, error_r);
	switch (errno) {
	case EISDIR:
		*error_r = error_slot_set(&mbox_error, "Mailbox isn't selectable: %s", name);
		return STORAGE_ERR_NOTFOUND;
	case ENOTDIR:
		/* a parent level is an mbox file: it cannot have children */
		*error_r = error_slot_set(&mbox_error, "Mailbox doesn't exist: %s", name);
		return STORAGE_ERR_NOTFOUND;
	case ENOENT:
		if (!params->autocreate) {
			*error_r = error_slot_set(&mbox_error, "Mailbox doesn't exist: %s",
						  name);
			return STORAGE_ERR_NOTFOUND;
		}
		break;
	default:
		*error_r = mbox_open_error(path, errno, false);
		return STORAGE_ERR_TEMP;
	}
	/* subscribe first: when that fails nothing was created and the
	   retried delivery will create and subscribe again */
	if (params->autosubscribe && mbox_subscribe(params, error_r) < 0)
		return STORAGE_ERR_TEMP;
	if (mbox_create_file(params, path, true, false, fd_r, error_r) < 0)
		return STORAGE_ERR_TEMP;
	return mbox_check_regular(path, fd_r, error_r);
}

/* mbox_from_line - append "From <sender>  <ctime-like date>\n"; characters
   that would break the line are replaced by '_' */
static void mbox_from_line(struct strbuf *buf, const char *sender, time_t now)
{
	static const char weekdays[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm tm;
	const char *p;

	if (sender == NULL || *sender == '\0' || strcmp(sender, "<>") == 0)
		sender = MBOX_DEFAULT_SENDER;
	localtime_r(&now, &tm);
	strbuf_append_str(buf, "From ");
	for (p = sender; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		strbuf_putc(buf, c <= ' ' || c == 0x7f ? '_' : *p);
	}
	strbuf_appendf(buf, "  %s %s %02d %02d:%02d:%02d %d\n",
		       weekdays[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
		       tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

/* mbox_count_lfs - LFs in [from, from + size) of the file */
static int mbox_count_lfs(int fd, off_t from, uint64_t size, uint64_t *lfs_r)
{
	char *buf = xmalloc(MBOX_READ_BUF);
	uint64_t lfs = 0;
	size_t want;
	ssize_t ret;

	while (size > 0) {
		want = size < MBOX_READ_BUF ? (size_t)size : MBOX_READ_BUF;
		ret = pread(fd, buf, want, from);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				errno = EIO;
			free(buf);
			return -1;
		}
		lfs += message_count_lf(buf, (size_t)ret);
		from += ret;
		size -= (uint64_t)ret;
	}
	free(buf);
	*lfs_r = lfs;
	return 0;
}

/* mbox_find_from_line - is there a line starting with "From " in
   [from, end) of the file, from being just after an LF? 1, 0, or -1 with
   errno. A writer quotes "From " at line starts inside messages, so such a
   line starts a message of its own. */
static int mbox_find_from_line(int fd, off_t from, off_t end)
{
	static const char sep[] = "\nFrom ";
	const size_t sep_len = sizeof(sep) - 1;
	char *buf = xmalloc(MBOX_READ_BUF + sizeof(sep));
	size_t have = 1, want;
	ssize_t ret;
	int found = 0;

	buf[0] = '\n';		/* from is at a line start */
	while (found == 0 && from < end) {
		want = (uint64_t)(end - from) < MBOX_READ_BUF ?
			(size_t)(end - from) : MBOX_READ_BUF;
		ret = pread(fd, buf + have, want, from);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				errno = EIO;
			found = -1;
			break;
		}
		have += (size_t)ret;
		from += ret;
		if (memmem(buf, have, sep, sep_len) != NULL)
			found = 1;
		/* keep a separator's worth: it may span two reads */
		if (have >= sep_len) {
			memmove(buf, buf + have - (sep_len - 1), sep_len - 1);
			have = sep_len - 1;
		}
	}
	free(buf);
	return found;
}

/* mbox_repair - with the mbox locked, undo the append that rec recorded
   and whose writer died: truncate the file back to rec->size when what
   follows is that append's beginning and nothing was appended after it.
   What was done (or why not) goes to *notice_r. 0, or -1 with *error_r */
static int mbox_repair(const char *path, int fd, const struct stat *st,
		       const struct mbox_journal_record *rec,
		       char **notice_r, const char **error_r)
{
	const uint64_t size = (uint64_t)st->st_size;
	char head[MBOX_JOURNAL_HEAD_MAX];
	const char *why = NULL;
	size_t n;
	ssize_t ret;
	int found;

	if ((uint64_t)st->st_dev != rec->dev ||
	    (uint64_t)st->st_ino != rec->ino) {
		why = "the mbox file was replaced since";
	} else if (size <= rec->size) {
		return 0;	/* nothing was written, or expunged since */
	} else {
		n = size - rec->size < rec->head_len ?
			(size_t)(size - rec->size) : rec->head_len;
		do {
			ret = pread(fd, head, n, (off_t)rec->size);
		} while (ret < 0 && errno == EINTR);
		found = ret != (ssize_t)n ? -1 :
			n < rec->head_len ? 0 :
			mbox_find_from_line(fd, (off_t)(rec->size + n),
					    (off_t)size);
		if (found < 0) {
			*error_r = error_slot_set(&mbox_error,
				"read(%s) failed: %s", path,
				ret >= 0 && ret != (ssize_t)n ?
				"unexpected end of file" : strerror(errno));
			return -1;
		}
		if (memcmp(head, rec->head, n) != 0)
			why = "the file changed there since";
		else if (found > 0)
			why = "other messages were appended after it";
	}
	if (why != NULL) {
		*notice_r = xasprintf("mbox %s: an append by pid %ld on %s "
				      "did not finish; left as is: %s", path,
				      rec->pid, rec->host, why);
		return 0;
	}
	if (mbox_rollback(fd, (off_t)rec->size) < 0) {
		*error_r = error_slot_set(&mbox_error,
			"mbox %s: truncating the partial message of pid %ld "
			"on %s back to %llu bytes failed: %s", path, rec->pid,
			rec->host, (unsigned long long)rec->size,
			strerror(errno));
		return -1;
	}
	*notice_r = xasprintf("mbox %s: truncated from %llu to %llu bytes: "
			      "removed the partial message of pid %ld on %s, "
			      "which died appending", path,
			      (unsigned long long)size,
			      (unsigned long long)rec->size, rec->pid,
			      rec->host);
	return 0;
}

/* mbox_journal_repair - undo what a dead writer left, as its journal
   record says; *st is refreshed. 0, or -1 with *error_r */
static int mbox_journal_repair(const char *path, int fd,
			       struct mbox_journal *journal, struct stat *st,
			       struct storage_save_result *result_r,
			       const char **error_r)
{
	const struct mbox_journal_record *prev = mbox_journal_previous(journal);

	if (prev == NULL)
		return 0;
	if (mbox_repair(path, fd, st, prev, &result_r->warning, error_r) < 0)
		return -1;
	mbox_journal_settle(journal);
	if (fstat(fd, st) < 0) {
		*error_r = error_slot_set(&mbox_error, "fstat(%s) failed: %s",
					  path, strerror(errno));
		return -1;
	}
	return 0;
}

/* mbox_journal_record_append - record that head is about to be appended
   to the file in *st; 0, or -1 with errno and *error_r */
static int mbox_journal_record_append(const struct storage_save_params *params,
				      struct mbox_journal *journal,
				      const struct stat *st,
				      const struct strbuf *head,
				      const char **error_r)
{
	struct mbox_journal_record rec;

	mbox_journal_record_init(&rec);
	rec.dev = (uint64_t)st->st_dev;
	rec.ino = (uint64_t)st->st_ino;
	rec.size = (uint64_t)st->st_size;
	rec.head_len = head->len < sizeof(rec.head) ? head->len :
		sizeof(rec.head);
	memcpy(rec.head, head->data, rec.head_len);
	return mbox_journal_write(journal, &rec,
				  params->fsync == MAIL_FSYNC_ALWAYS, error_r);
}

/* mbox_append - append msg to the locked file; any failure after the
   first byte truncates the file back to its old size */
static enum storage_error
mbox_append(const struct storage_save_params *params, const char *path,
	    int fd, struct mbox_journal *journal, struct message *msg,
	    struct storage_save_result *result_r, const char **error_r)
{
	struct strbuf head;
	struct stat st;
	const char *msg_error = NULL, *op = "write";
	uint64_t msg_size = 0, size, lfs;
	off_t orig_size;
	ssize_t ret;
	char last;
	int saved_errno;

	if (fstat(fd, &st) < 0) {
		*error_r = error_slot_set(&mbox_error, "fstat(%s) failed: %s", path,
					  strerror(errno));
		return STORAGE_ERR_TEMP;
	}
	if (journal != NULL &&
	    mbox_journal_repair(path, fd, journal, &st, result_r, error_r) < 0)
		return STORAGE_ERR_TEMP;
	orig_size = st.st_size;
	strbuf_init(&head, 256);
	if (orig_size > 0) {
		do {
			ret = pread(fd, &last, 1, orig_size - 1);
		} while (ret < 0 && errno == EINTR);
		if (ret != 1) {
			*error_r = error_slot_set(&mbox_error, "pread(%s) failed: %s", path,
						  ret < 0 ? strerror(errno) :
						  "unexpected end of file");
			strbuf_free(&head);
			return STORAGE_ERR_TEMP;
		}
		if (last != '\n')
			strbuf_putc(&head, '\n');
	}
	mbox_from_line(&head, params->envelope_sender, time(NULL));
	if (journal != NULL &&
	    mbox_journal_record_append(params, journal, &st, &head,
				       &msg_error) < 0) {
		saved_errno = errno;
		strbuf_free(&head);
		*error_r = error_slot_set(&mbox_error,
			"Appending to mbox file %s failed: %s", path,
			msg_error);
		return mbox_errno_nospace(saved_errno) ?
			STORAGE_ERR_NOSPACE : STORAGE_ERR_TEMP;
	}

	if (fd_write_full(fd, head.data, head.len) < 0 ||
	    message_write(msg, params->prefix, params->prefix_len, fd, true,
			  &msg_size, &msg_error) < 0 ||
	    fd_write_full(fd, "\n", 1) < 0)
		goto failed;
	op = "fsync";
	msg_error = NULL;
	if (params->fsync != MAIL_FSYNC_NEVER && fsync(fd) < 0)
		goto failed;
	op = "read";
	size = head.len + msg_size + 1;
	if (mbox_count_lfs(fd, orig_size, size, &lfs) < 0)
		goto failed;
	strbuf_free(&head);
	if (journal != NULL)
		mbox_journal_settle(journal);
	result_r->path = xstrdup(path);
	result_r->size = size;
	result_r->vsize = size + lfs;
	return STORAGE_OK;

failed:
	saved_errno = errno;
	strbuf_free(&head);
	if (mbox_rollback(fd, orig_size) < 0) {
		*error_r = error_slot_set(&mbox_error, 
			"%s(%s) failed: %s; truncating it back to %lld bytes "
			"failed too: %s", op, path, strerror(saved_errno),
			(long long)orig_size, strerror(errno));
		return STORAGE_ERR_TEMP;	/* the journal stays: repaired next */
	}
	if (journal != NULL)
		mbox_journal_settle(journal);
	if (mbox_errno_nospace(saved_errno)) {
		*error_r = error_slot_set(&mbox_error, "%s(%s) failed: %s", op, path,
					  strerror(saved_errno));
		return STORAGE_ERR_NOSPACE;
	}
	if (msg_error != NULL) {
		*error_r = error_slot_set(&mbox_error, "Appending to mbox file %s failed: %s",
					  path, msg_error);
	} else {
		*error_r = error_slot_set(&mbox_error, "%s(%s) failed: %s", op, path,
					  strerror(saved_errno));
	}
	return STORAGE_ERR_TEMP;
}

enum storage_error mbox_save(const struct storage_save_params *params,
			     struct message *msg,
			     struct storage_save_result *result_r,
			     const char **error_r)
{
	bool is_inbox = mail_location_is_inbox(params->mailbox);
	struct mbox_lock_settings lock_set = {
		.methods = params->mbox_write_locks,
		.timeout_ms = params->lock_timeout_ms,
		.stale_ms = params->dotlock_stale_ms,
		.privileged_group = params->privileged_group,
		.journal = true,
	};
	struct mbox_lock *lock;
	enum storage_error ret;
	const char *error;
	char *path;
	int fd = -1;

	memset(result_r, 0, sizeof(*result_r));
	if (!is_inbox && mbox_check_name(params->mailbox, error_r) < 0)
		return STORAGE_ERR_INVALID;
	if (mail_location_mailbox_path(params->loc, params->mailbox, &path,
				       &error) < 0) {
		*error_r = error_slot_set(&mbox_error, "%s", error);
		return STORAGE_ERR_INVALID;
	}
	ret = is_inbox ? mbox_open_inbox(params, path, &fd, error_r) :
		mbox_open_mailbox(params, path, &fd, error_r);
	if (ret == STORAGE_OK) {
		if (mbox_lock_acquire(path, fd, &lock_set, &lock, &error) <= 0) {
			*error_r = error_slot_set(&mbox_error, "%s", error);
			ret = STORAGE_ERR_TEMP;
		} else {
			ret = mbox_append(params, path, fd,
					  mbox_lock_journal(lock), msg,
					  result_r, error_r);
			mbox_lock_release(&lock);
		}
		close(fd);
	}
	free(path);
	return ret;
}
