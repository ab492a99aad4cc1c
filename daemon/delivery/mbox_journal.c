/*
 * mbox_journal - the record of an mbox append in progress, kept in
 * <dir>/.<name>.loft-append.lock under an open-file-description lock, so
 * that the next deliverer can undo what a dead writer left (see
 * mbox_journal.h; the repair itself is mbox.c's, which knows the format).
 *
 * File format, written with one write() before the first byte is appended:
 *
 *     <pid>:<host>\n
 *     <dev> <ino> <size before the append> <head length>\n
 *     <head: the first bytes appended, at most MBOX_JOURNAL_HEAD_MAX>
 *
 * Anything else (an empty file, a record cut by a kill while it was being
 * written) means no append had started and is ignored.
 */
#include "mbox_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_slot.h"
#include "mbox_lock.h"
#include "strbuf.h"
#include "xalloc.h"

#define MBOX_JOURNAL_SUFFIX ".loft-append.lock"
#define MBOX_JOURNAL_READ_MAX 4096
#define MBOX_JOURNAL_OPEN_TRIES 10

struct mbox_journal {
	char *path;
	char *privileged_group;	/* "" = none */
	int fd;
	bool privileged;	/* the directory needed the privileged gid */
	bool pending;		/* the file holds an unsettled record */
	bool have_previous;
	struct mbox_journal_record previous;
};

/* error detail of the last failing call */
static __thread struct error_slot mbox_journal_error;

char *mbox_journal_path(const char *mbox_path)
{
	const char *slash = strrchr(mbox_path, '/');

	if (slash == NULL)
		return xasprintf("." "%s" MBOX_JOURNAL_SUFFIX, mbox_path);
	return xasprintf("%.*s/.%s" MBOX_JOURNAL_SUFFIX,
			 (int)(slash - mbox_path), mbox_path, slash + 1);
}

void mbox_journal_record_init(struct mbox_journal_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->pid = (long)getpid();
	snprintf(rec->host, sizeof(rec->host), "%s", mbox_lock_my_hostname());
}

/* mbox_journal_parse - a complete record from data, else false */
static bool mbox_journal_parse(const char *data, size_t len,
			       struct mbox_journal_record *rec_r)
{
	const char *colon, *eol, *eol2;
	unsigned long long dev, ino, size, head_len;
	char line[128], *end;
	size_t host_len;

	memset(rec_r, 0, sizeof(*rec_r));
	eol = memchr(data, '\n', len);
	colon = eol == NULL ? NULL : memchr(data, ':', (size_t)(eol - data));
	if (colon == NULL || colon == data)
		return false;
	rec_r->pid = strtol(data, &end, 10);
	host_len = (size_t)(eol - colon - 1);
	if (end != colon || rec_r->pid <= 0 || host_len >= sizeof(rec_r->host))
		return false;
	memcpy(rec_r->host, colon + 1, host_len);

	eol2 = memchr(eol + 1, '\n', len - (size_t)(eol + 1 - data));
	if (eol2 == NULL || (size_t)(eol2 - eol - 1) >= sizeof(line))
		return false;
	memcpy(line, eol + 1, (size_t)(eol2 - eol - 1));
	line[eol2 - eol - 1] = '\0';
	if (sscanf(line, "%llu %llu %llu %llu", &dev, &ino, &size,
		   &head_len) != 4 || head_len > MBOX_JOURNAL_HEAD_MAX ||
	    (size_t)(data + len - (eol2 + 1)) != head_len)
		return false;
	rec_r->dev = dev;
	rec_r->ino = ino;
	rec_r->size = size;
	rec_r->head_len = (size_t)head_len;
	memcpy(rec_r->head, eol2 + 1, rec_r->head_len);
	return true;
}

/* mbox_journal_open_fd - open (create) path, with the privileged gid when
   the directory refuses us; the fd, or -1 with errno */
static int mbox_journal_open_fd(struct mbox_journal *journal)
{
	const int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	const char *error;
	gid_t old_egid;
	int fd, saved_errno;

	fd = open(journal->path, flags, 0600);
	if (fd >= 0 || errno != EACCES || *journal->privileged_group == '\0')
		return fd;
	if (mbox_lock_privileged_begin(journal->privileged_group, &old_egid,
				       &error) < 0) {
		errno = EACCES;
		return -1;
	}
	fd = open(journal->path, flags, 0600);
	saved_errno = errno;
	if (mbox_lock_privileged_end(old_egid) < 0) {
		saved_errno = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd >= 0)
		journal->privileged = true;
	errno = saved_errno;
	return fd;
}

/* mbox_journal_skippable - errors of a directory that takes no new file:
   the append goes on without a journal, as before there was one */
static bool mbox_journal_skippable(int err)
{
	return err == EACCES || err == EPERM || err == EROFS ||
		err == ENOSPC || err == EDQUOT;
}

/* mbox_journal_lock_fd - open and lock the journal file that is at the
   name: 1 locked, 0 held by another process, -1 error (*error_r; errno) */
static int mbox_journal_lock_fd(struct mbox_journal *journal,
				const char **error_r)
{
	struct stat fst, st;
	unsigned int i;
	int ret, saved_errno;

	for (i = 0; i < MBOX_JOURNAL_OPEN_TRIES; i++) {
		journal->fd = mbox_journal_open_fd(journal);
		if (journal->fd < 0) {
			saved_errno = errno;
			*error_r = error_slot_set(&mbox_journal_error,
				"open(%s) failed: %s", journal->path,
				strerror(saved_errno));
			errno = saved_errno;
			return -1;
		}
		ret = mbox_lock_ofd_try(journal->fd);
		if (ret <= 0) {
			if (ret < 0) {
				*error_r = error_slot_set(&mbox_journal_error,
					"fcntl(%s) failed: %s", journal->path,
					strerror(errno));
			}
			close(journal->fd);
			journal->fd = -1;
			return ret;
		}
		/* the previous holder may have removed it after our open */
		if (fstat(journal->fd, &fst) < 0) {
			*error_r = error_slot_set(&mbox_journal_error,
				"fstat(%s) failed: %s", journal->path,
				strerror(errno));
			return -1;
		}
		if (fst.st_nlink > 0 && stat(journal->path, &st) == 0 &&
		    st.st_ino == fst.st_ino && st.st_dev == fst.st_dev)
			return 1;
		close(journal->fd);
		journal->fd = -1;
	}
	*error_r = error_slot_set(&mbox_journal_error,
		"%s keeps being replaced", journal->path);
	errno = EAGAIN;
	return -1;
}

/* mbox_journal_read - the record in the locked file, if a complete one */
static int mbox_journal_read(struct mbox_journal *journal,
			     const char **error_r)
{
	char buf[MBOX_JOURNAL_READ_MAX];
	ssize_t ret;

	do {
		ret = pread(journal->fd, buf, sizeof(buf), 0);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		*error_r = error_slot_set(&mbox_journal_error,
			"read(%s) failed: %s", journal->path, strerror(errno));
		return -1;
	}
	journal->have_previous = mbox_journal_parse(buf, (size_t)ret,
						    &journal->previous);
	journal->pending = journal->have_previous;
	return 0;
}

int mbox_journal_open(const char *mbox_path, const char *privileged_group,
		      struct mbox_journal **journal_r, const char **error_r)
{
	struct mbox_journal *journal = xcalloc(1, sizeof(*journal));
	int ret;

	*journal_r = NULL;
	journal->path = mbox_journal_path(mbox_path);
	journal->privileged_group = xstrdup(privileged_group == NULL ? "" :
					    privileged_group);
	journal->fd = -1;
	journal->pending = true;	/* unknown content is kept */
	ret = mbox_journal_lock_fd(journal, error_r);
	if (ret > 0 && mbox_journal_read(journal, error_r) < 0)
		ret = -1;
	if (ret < 0 && journal->fd < 0 && mbox_journal_skippable(errno))
		ret = 1;	/* no journal here: go on without */
	else if (ret > 0)
		*journal_r = journal;
	if (*journal_r == NULL)
		mbox_journal_close(&journal);
	return ret;
}

const struct mbox_journal_record *
mbox_journal_previous(const struct mbox_journal *journal)
{
	return journal->have_previous ? &journal->previous : NULL;
}

int mbox_journal_write(struct mbox_journal *journal,
		       const struct mbox_journal_record *rec, bool sync,
		       const char **error_r)
{
	struct strbuf buf;
	size_t done = 0;
	ssize_t ret;
	int saved_errno;

	strbuf_init(&buf, 256 + rec->head_len);
	strbuf_appendf(&buf, "%ld:%s\n%" PRIu64 " %" PRIu64 " %" PRIu64
		       " %zu\n", rec->pid, rec->host, rec->dev, rec->ino,
		       rec->size, rec->head_len);
	strbuf_append(&buf, rec->head, rec->head_len);
	/* a kill leaves the old record, or a cut one (ignored: nothing was
	   appended yet), never a wrong complete one */
	journal->pending = true;
	while (done < buf.len) {
		ret = pwrite(journal->fd, buf.data + done, buf.len - done,
			     (off_t)done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				errno = EIO;
			break;
		}
		done += (size_t)ret;
	}
	if (done < buf.len || ftruncate(journal->fd, (off_t)buf.len) < 0 ||
	    (sync && fdatasync(journal->fd) < 0)) {
		saved_errno = errno;
		*error_r = error_slot_set(&mbox_journal_error,
			"write(%s) failed: %s", journal->path,
			strerror(saved_errno));
		strbuf_free(&buf);
		errno = saved_errno;
		return -1;
	}
	strbuf_free(&buf);
	return 0;
}

void mbox_journal_settle(struct mbox_journal *journal)
{
	journal->pending = false;
	journal->have_previous = false;
}

void mbox_journal_close(struct mbox_journal **_journal)
{
	struct mbox_journal *journal = *_journal;

	if (journal == NULL)
		return;
	*_journal = NULL;
	/* removed while we still hold its lock: whoever opens the name next
	   makes a new file */
	if (journal->fd >= 0 && !journal->pending) {
		(void)mbox_lock_privileged_unlink(journal->privileged ?
						  journal->privileged_group :
						  "", journal->path);
	}
	if (journal->fd >= 0)
		close(journal->fd);
	free(journal->path);
	free(journal->privileged_group);
	free(journal);
}
