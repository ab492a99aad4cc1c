/*
 * maildirsize - the Maildir++ quota file (see maildirsize.h), after
 * Dovecot 2.3's src/plugins/quota/quota-maildir.c.
 */
#include "maildirsize.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_slot.h"
#include "path.h"
#include "quota_settings.h"
#include "strbuf.h"
#include "xalloc.h"

#define MAILDIRSIZE_WALK_DEPTH_MAX 64	/* LAYOUT=fs recursion */
#define MAILDIRSIZE_TMP_TRIES 100

static __thread struct error_slot maildirsize_error;

#define maildirsize_fail(...) error_slot_set(&maildirsize_error, __VA_ARGS__)

/* parse_line - "bytes count" as Dovecot's sscanf("%lld %d") reads it:
   blanks, a signed number, blanks, a signed number, anything after */
static bool parse_line(const char *line, int64_t *bytes_r, int64_t *count_r)
{
	long long bytes;
	long count;
	char *end;

	errno = 0;
	bytes = strtoll(line, &end, 10);
	if (end == line || errno != 0)
		return false;
	line = end;
	count = strtol(line, &end, 10);
	if (end == line || errno != 0 || count > INT32_MAX || count < INT32_MIN)
		return false;
	*bytes_r = bytes;
	*count_r = count;
	return true;
}

int maildirsize_parse(const char *data, size_t size,
		      struct maildirsize_contents *c)
{
	char *copy, *line, *next;
	int ret = 1;

	memset(c, 0, sizeof(*c));
	if (size > MAILDIRSIZE_MAX_SIZE)
		size = MAILDIRSIZE_MAX_SIZE;
	/* drop a last line without LF, then the last LF */
	while (size > 0 && data[size - 1] != '\n')
		size--;
	if (size > 0)
		size--;
	if (memchr(data, '\0', size) != NULL)
		return -1;
	copy = xstrndup(data, size);
	next = strchr(copy, '\n');
	if (next != NULL)
		*next++ = '\0';
	(void)quota_maildir_limit_parse(copy, &c->bytes_limit,
					     &c->count_limit);
	for (line = next; ret == 1 && line != NULL; line = next) {
		int64_t bytes, count;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		c->line_count++;
		if (!parse_line(line, &bytes, &count) ||
		    __builtin_add_overflow(c->total_bytes, bytes, &c->total_bytes) ||
		    __builtin_add_overflow(c->total_count, count, &c->total_count) ||
		    c->total_count > INT32_MAX || c->total_count < INT32_MIN)
			ret = 0;
	}
	if (ret == 1 && (c->total_bytes < 0 || c->total_count < 0))
		ret = 0;
	free(copy);
	return ret;
}

int maildirsize_read(const char *path, int *fd_r, char *buf, size_t *size_r,
		     bool *complete_r, time_t *mtime_r, const char **error_r)
{
	struct stat st;
	size_t size = 0;
	ssize_t ret = 1;
	int fd;

	*fd_r = -1;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		*error_r = maildirsize_fail("open(%s) failed: %m", path);
		return -1;
	}
	while (size < MAILDIRSIZE_MAX_SIZE &&
	       (ret = read(fd, buf + size, MAILDIRSIZE_MAX_SIZE - size)) > 0)
		size += (size_t)ret;
	if (ret < 0 || fstat(fd, &st) < 0) {
		*error_r = maildirsize_fail("%s(%s) failed: %m",
					    ret < 0 ? "read" : "fstat", path);
		close(fd);
		return -1;
	}
	buf[size] = '\0';
	*fd_r = fd;
	*size_r = size;
	/* a file that fills the buffer is too large to trust */
	*complete_r = size < MAILDIRSIZE_MAX_SIZE;
	*mtime_r = st.st_mtime;
	return 1;
}

/* sum_dir - add the messages of one new/ or cur/, as Dovecot's
   maildir_sum_dir: the S= of the name, else stat()'s size */
static int sum_dir(const char *dir, struct maildirsize_usage *usage,
		   const char **error_r)
{
	struct dirent *d;
	DIR *dirp = opendir(dir);
	int ret = 0;

	if (dirp == NULL) {
		if (errno == ENOENT || errno == ESTALE || errno == ENOTDIR)
			return 0;
		*error_r = maildirsize_fail("opendir(%s) failed: %m", dir);
		return -1;
	}
	while ((d = readdir(dirp)) != NULL) {
		const char *p = strstr(d->d_name, ",S=");
		uint64_t num = 0;
		bool have_num = false;
		struct stat st;

		if (d->d_name[0] == '.' &&
		    (d->d_name[1] == '\0' || d->d_name[1] == '.'))
			continue;
		if (p != NULL) {
			have_num = true;
			for (p += 3; *p >= '0' && *p <= '9'; p++) {
				if (num > (UINT64_MAX - 9) / 10)
					have_num = false;
				num = num * 10 + (uint64_t)(*p - '0');
			}
			if (*p != ':' && *p != '\0' && *p != ',')
				have_num = false;
		}
		if (have_num) {
			usage->bytes += num;
			usage->count++;
		} else if (fstatat(dirfd(dirp), d->d_name, &st, 0) == 0) {
			usage->bytes += (uint64_t)st.st_size;
			usage->count++;
		} else if (errno != ENOENT && errno != ESTALE) {
			*error_r = maildirsize_fail("stat(%s/%s) failed: %m",
						    dir, d->d_name);
			ret = -1;
		}
	}
	closedir(dirp);
	return ret;
}

/* A folder visitor: its directory and its mailbox name. */
typedef int folder_visit_t(const char *dir, const char *mailbox,
			   void *context, const char **error_r);

struct folder_walk {
	const struct mail_location *loc;
	maildirsize_skip_t *skip;
	void *skip_context;
	folder_visit_t *visit;
	void *context;
};

/* walk_folder - visit one folder unless it is left out */
static int walk_folder(const struct folder_walk *w, const char *dir,
		       const char *mailbox, const char **error_r)
{
	if (w->skip != NULL && w->skip(mailbox, w->skip_context))
		return 0;
	return w->visit(dir, mailbox, w->context, error_r);
}

/* walk_tree - Maildir++ `.Name` folders directly under the root, or
   (LAYOUT=fs) every directory below it; prefix is the mailbox name of
   dir in LAYOUT=fs ("" at the root) */
static int walk_tree(const struct folder_walk *w, const char *dir,
		     const char *prefix, unsigned int depth,
		     const char **error_r)
{
	const struct mail_location *loc = w->loc;
	struct dirent *d;
	DIR *dirp;
	int ret = 0;

	if (depth >= MAILDIRSIZE_WALK_DEPTH_MAX)
		return 0;
	dirp = opendir(dir);
	if (dirp == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*error_r = maildirsize_fail("opendir(%s) failed: %m", dir);
		return -1;
	}
	while (ret == 0 && (d = readdir(dirp)) != NULL) {
		const char *name = d->d_name;
		char *path, *mailbox;
		struct stat st;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (loc->layout_fs ? (strcmp(name, "cur") == 0 ||
				      strcmp(name, "new") == 0 ||
				      strcmp(name, "tmp") == 0) :
		    name[0] != '.')
			continue;
		path = xasprintf("%s/%s", dir, name);
		/* fs: do not follow symlinks out of the tree */
		if ((loc->layout_fs ? lstat(path, &st) : stat(path, &st)) == 0 &&
		    S_ISDIR(st.st_mode) && strcmp(path, loc->inbox) != 0) {
			if (loc->layout_fs) {
				mailbox = *prefix == '\0' ? xstrdup(name) :
					xasprintf("%s/%s", prefix, name);
				ret = walk_folder(w, path, mailbox, error_r);
				if (ret == 0)
					ret = walk_tree(w, path, mailbox,
							depth + 1, error_r);
			} else {
				mailbox = xstrdup(name + 1);
				for (char *p = mailbox; *p != '\0'; p++) {
					if (*p == '.')
						*p = '/';
				}
				ret = walk_folder(w, path, mailbox, error_r);
			}
			free(mailbox);
		}
		free(path);
	}
	closedir(dirp);
	return ret;
}

/* walk - INBOX, then the other folders; stops at the first visit that
   does not return 0 and returns what it did */
static int walk(const struct folder_walk *w, const char **error_r)
{
	int ret = walk_folder(w, w->loc->inbox, "INBOX", error_r);

	return ret != 0 ? ret : walk_tree(w, w->loc->root, "", 0, error_r);
}

/* subdir_mtime - the mtime of dir/sub: 1, 0 when it is not there, -1 */
static int subdir_mtime(const char *dir, const char *sub, char **path_r,
			time_t *mtime_r, const char **error_r)
{
	struct stat st;

	*path_r = xasprintf("%s/%s", dir, sub);
	if (stat(*path_r, &st) == 0) {
		*mtime_r = st.st_mtime;
		return 1;
	}
	if (errno == ENOENT || errno == ESTALE || errno == ENOTDIR)
		return 0;
	*error_r = maildirsize_fail("stat(%s) failed: %m", *path_r);
	return -1;
}

/* What a walk does in each folder's new/ and cur/: sum them, or (usage
   NULL) look for one changed after since. */
struct folder_visit {
	struct maildirsize_usage *usage;
	time_t since;
};

/* visit_folder - 0, 1 (stops the walk) when a subdirectory changed, -1 */
static int visit_folder(const char *dir, const char *mailbox, void *context,
			const char **error_r)
{
	static const char *const subdirs[] = { "new", "cur" };
	struct folder_visit *v = context;
	int ret = 0;

	(void)mailbox;
	for (size_t i = 0; ret == 0 && i < LOFT_N_ELEMENTS(subdirs); i++) {
		char *path;
		time_t mtime;
		int found = subdir_mtime(dir, subdirs[i], &path, &mtime, error_r);

		if (found < 0) {
			ret = -1;
		} else if (found > 0 && v->usage == NULL) {
			ret = mtime > v->since ? 1 : 0;
		} else if (found > 0) {
			if (mtime > v->usage->last_mtime)
				v->usage->last_mtime = mtime;
			ret = sum_dir(path, v->usage, error_r);
		}
		free(path);
	}
	return ret;
}

int maildirsize_count(const struct mail_location *loc,
		      maildirsize_skip_t *skip, void *context,
		      struct maildirsize_usage *usage_r, const char **error_r)
{
	struct folder_visit v = { .usage = usage_r };
	struct folder_walk w = {
		.loc = loc, .skip = skip, .skip_context = context,
		.visit = visit_folder, .context = &v,
	};

	memset(usage_r, 0, sizeof(*usage_r));
	return walk(&w, error_r);
}

int maildirsize_changed(const struct mail_location *loc,
			maildirsize_skip_t *skip, void *context, time_t since,
			const char **error_r)
{
	struct folder_visit v = { .since = since };
	struct folder_walk w = {
		.loc = loc, .skip = skip, .skip_context = context,
		.visit = visit_folder, .context = &v,
	};

	return walk(&w, error_r);
}

/* create_temp - "<path><host>.<pid>.<16 hex>" with O_EXCL, as Dovecot's
   safe_mkstemp_hostpid; mode from the directory */
static int create_temp(const char *path, const char *hostname, mode_t mode,
		       struct strbuf *temp, const char **error_r)
{
	for (unsigned int i = 0; i < MAILDIRSIZE_TMP_TRIES; i++) {
		uint64_t rnd = 0;
		mode_t old_umask;
		int fd;

		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd ^= (uint64_t)random() << 32 ^ (uint64_t)random();
		strbuf_reset(temp);
		strbuf_appendf(temp, "%s%s.%ld.%016" PRIx64, path, hostname,
			       (long)getpid(), rnd);
		old_umask = umask(0666 ^ mode);
		fd = open(temp->data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		umask(old_umask);
		if (fd != -1 || errno != EEXIST) {
			if (fd == -1)
				*error_r = maildirsize_fail("open(%s) failed: %m",
							    temp->data);
			return fd;
		}
	}
	*error_r = maildirsize_fail("open(%s) failed: %m", temp->data);
	return -1;
}

int maildirsize_write(const char *path, const char *hostname,
		      uint64_t bytes_limit, uint64_t count_limit,
		      uint64_t bytes, uint64_t count, const char **error_r)
{
	char *dir = path_dirname(path);
	struct strbuf temp, text;
	mode_t mode = 0600;
	struct stat st;
	int fd, ret = 0;

	if (stat(dir, &st) == 0)
		mode = st.st_mode & 0666;
	else if (errno == ENOENT && path_mkdir_parents(dir, 0700, error_r) < 0) {
		free(dir);
		return -1;
	}
	free(dir);
	strbuf_init(&temp, 128);
	strbuf_init(&text, 64);
	/* no limits: "0S" rather than an empty line */
	if (bytes_limit != 0 || count_limit == 0)
		strbuf_appendf(&text, "%" PRIu64 "S", bytes_limit);
	if (count_limit != 0)
		strbuf_appendf(&text, "%s%" PRIu64 "C", text.len > 0 ? "," : "",
			       count_limit);
	strbuf_appendf(&text, "\n%" PRIu64 " %" PRIu64 "\n", bytes, count);
	fd = create_temp(path, hostname, mode == 0 ? 0600 : mode, &temp, error_r);
	if (fd == -1) {
		ret = -1;
	} else if (write(fd, text.data, text.len) != (ssize_t)text.len) {
		*error_r = maildirsize_fail("write(%s) failed: %s", temp.data,
					    errno == 0 ? "short write" :
					    strerror(errno));
		ret = -1;
	}
	if (fd != -1 && close(fd) < 0 && ret == 0) {
		*error_r = maildirsize_fail("close(%s) failed: %m", temp.data);
		ret = -1;
	}
	if (fd != -1 && ret == 0 && rename(temp.data, path) < 0) {
		*error_r = maildirsize_fail("rename(%s, %s) failed: %m",
					    temp.data, path);
		ret = -1;
	}
	if (fd != -1 && ret < 0)
		(void)unlink(temp.data);
	strbuf_free(&temp);
	strbuf_free(&text);
	return ret;
}

int maildirsize_append(int fd, const char *path, int64_t bytes, int64_t count,
		       const char **error_r)
{
	char line[64];
	int len;

	if (bytes == 0 && count == 0)
		return 0;
	len = snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 "\n",
		       bytes, count);
	errno = 0;
	if (write(fd, line, (size_t)len) != len) {
		*error_r = maildirsize_fail("write(%s) failed: %s", path,
					    errno == 0 ? "short write" :
					    strerror(errno));
		return -1;
	}
	return 0;
}
