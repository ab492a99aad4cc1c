/*
 * mbox_journal - the append record that lets the next deliverer undo an
 * mbox append whose writer died half way (kill -9, OOM killer, crash).
 *
 * The record lives in a small file next to the mbox,
 * <dir>/.<name>.loft-append.lock (a dot-file ending in ".lock": no
 * mailbox of loft or Dovecot can have that name, and both leave it out of
 * mailbox lists and quota). The appender creates it while it holds the
 * mbox_write_locks, keeps an open-file-description write lock on it for
 * as long as it appends, writes "pid:host", the mbox's dev/ino, its size
 * before the append and the first bytes it is going to write, appends,
 * and removes the file when the append is complete or undone. A record
 * found by the next lock holder whose file lock it could take was left by
 * a writer that is gone: the kernel drops the file lock on death (also of
 * an NFS client, when its lease ends), so a live writer's record is never
 * taken for a dead one's, whatever its pid or host. This works the same
 * with every mbox_write_locks value, fcntl alone included, where nothing
 * else survives the writer.
 */
#ifndef LOFT_MBOX_JOURNAL_H
#define LOFT_MBOX_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* the first bytes of the append kept in the record, for recognising them */
#define MBOX_JOURNAL_HEAD_MAX 512

struct mbox_journal_record {
	long pid;		/* the appender, for the log */
	char host[256];
	uint64_t dev, ino;	/* the mbox file appended to */
	uint64_t size;		/* its size before the append */
	char head[MBOX_JOURNAL_HEAD_MAX]; /* the first bytes appended */
	size_t head_len;
};

struct mbox_journal;

/* mbox_journal_path - the journal file name for mbox_path (free it) */
char *mbox_journal_path(const char *mbox_path);

/* mbox_journal_open - create or open the journal of mbox_path and take its
   write lock without waiting. 1 with *journal_r (NULL when the directory
   refuses new files even with privileged_group: appends then go without
   a journal); 0 when a live process holds it; -1 with *error_r. */
int mbox_journal_open(const char *mbox_path, const char *privileged_group,
		      struct mbox_journal **journal_r, const char **error_r);

/* mbox_journal_previous - the record of an append that did not finish,
   left by a writer that is gone, or NULL */
const struct mbox_journal_record *
mbox_journal_previous(const struct mbox_journal *journal);

/* mbox_journal_write - replace the record by rec (made durable when sync);
   0, or -1 with errno and *error_r */
int mbox_journal_write(struct mbox_journal *journal,
		       const struct mbox_journal_record *rec, bool sync,
		       const char **error_r);

/* mbox_journal_settle - the recorded append (and any previous one) is
   complete or undone: the journal file goes away on close */
void mbox_journal_settle(struct mbox_journal *journal);

/* mbox_journal_close - remove the file unless an unsettled record is in it
   (then the next deliverer repairs), drop the lock, free; *journal = NULL */
void mbox_journal_close(struct mbox_journal **journal);

/* mbox_journal_record_init - rec for this process and host */
void mbox_journal_record_init(struct mbox_journal_record *rec);

#endif
