/*
 * maildirsize - the Maildir++ `maildirsize` file, read and written the way
 * Dovecot's `maildir` quota backend (quota-maildir.c) does, so Dovecot
 * IMAP and loft keep one usage count between them.
 *
 * The file lives in the maildir root: a header line with the limits
 * ("1073741824S,10000C"; "0S" when there are none), then "bytes count"
 * lines. A delivery appends one line with O_APPEND; a recalculation sums
 * the S= sizes (stat() when a name has none) of every entry in new/ and
 * cur/ of every folder, and replaces the file by a temporary one
 * ("maildirsize<host>.<pid>.<random>", mode of the root less x bits)
 * renamed over it, unless a folder changed while it counted. Only what is
 * read is decided here; when to recalculate is quota.c's business.
 */
#ifndef LOFT_MAILDIRSIZE_H
#define LOFT_MAILDIRSIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mail_location.h"

#define MAILDIRSIZE_FILENAME "maildirsize"
/* a file this large (or larger) is recalculated */
#define MAILDIRSIZE_MAX_SIZE 5120
/* an over-quota file older than this is recalculated */
#define MAILDIRSIZE_STALE_SECS (15 * 60)

struct maildirsize_contents {
	uint64_t bytes_limit, count_limit;	/* from the header; 0 = none */
	int64_t total_bytes, total_count;	/* sums of the lines */
	unsigned int line_count;		/* lines after the header */
};

/* maildirsize_parse - the first size bytes of the file (at most
   MAILDIRSIZE_MAX_SIZE; a last line without LF is left out, as Dovecot
   does). 1: header and lines parsed; 0: the header parsed but a line
   did not (or the sums are negative); -1: not even the header (a NUL
   byte). Never reads past size. */
int maildirsize_parse(const char *data, size_t size,
		      struct maildirsize_contents *contents_r);

/* maildirsize_read - open root/maildirsize for appending and read its
   first MAILDIRSIZE_MAX_SIZE bytes into buf (MAILDIRSIZE_MAX_SIZE + 1
   bytes). 0: no such file; 1 with *fd_r open, *size_r, *complete_r (the
   whole file was read) and *mtime_r; -1 with *error_r. */
int maildirsize_read(const char *path, int *fd_r, char *buf, size_t *size_r,
		     bool *complete_r, time_t *mtime_r, const char **error_r);

/* maildirsize_skip_t - whether the folder called mailbox ("INBOX",
   "Work/Projects") is left out of the count */
typedef bool maildirsize_skip_t(const char *mailbox, void *context);

struct maildirsize_usage {
	uint64_t bytes, count;
	time_t last_mtime;	/* newest mtime of the new/ and cur/ counted */
};

/* maildirsize_count - sum every folder of loc that skip does not leave
   out. 0 or -1 with *error_r. */
int maildirsize_count(const struct mail_location *loc,
		      maildirsize_skip_t *skip, void *context,
		      struct maildirsize_usage *usage_r, const char **error_r);

/* maildirsize_changed - whether a new/ or cur/ counted has an mtime after
   since (then the count may have missed something): 1, 0, or -1 with
   *error_r */
int maildirsize_changed(const struct mail_location *loc,
			maildirsize_skip_t *skip, void *context, time_t since,
			const char **error_r);

/* maildirsize_write - replace path by a file with the limits and one
   usage line, through a temporary file in the same directory (created
   with the parent directory when missing). 0 or -1 with *error_r. */
int maildirsize_write(const char *path, const char *hostname,
		      uint64_t bytes_limit, uint64_t count_limit,
		      uint64_t bytes, uint64_t count, const char **error_r);

/* maildirsize_append - one "bytes count" line on an fd opened by
   maildirsize_read (O_APPEND, so concurrent lines never mix). 0 or -1 */
int maildirsize_append(int fd, const char *path, int64_t bytes,
		       int64_t count, const char **error_r);

#endif
