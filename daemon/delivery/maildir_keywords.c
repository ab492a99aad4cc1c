/*
 * maildir_keywords - the dovecot-keywords file of a maildir folder (see
 * maildir_keywords.h).
 */
#include "maildir_keywords.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error_slot.h"
#include "fd_io.h"
#include "strbuf.h"
#include "xalloc.h"

#define KEYWORDS_MAX 26
#define KEYWORDS_FILE "dovecot-keywords"
#define KEYWORDS_LOCK_TRIES 200		/* 10 ms apart: 2 s */
#define KEYWORDS_LOCK_STALE 30		/* seconds: an older lock is dead */
#define KEYWORDS_FILE_MAX (64 * 1024)

static __thread struct error_slot keywords_error;

/* names[i]: the keyword of letter 'a' + i, or NULL */
struct keyword_map {
	char *names[KEYWORDS_MAX];
};

static void map_free(struct keyword_map *map)
{
	for (size_t i = 0; i < KEYWORDS_MAX; i++)
		XFREE(map->names[i]);
}

/* map_read - the file into map (missing: empty); 0 or -1 */
static int map_read(const char *path, struct keyword_map *map,
		    const char **error_r)
{
	char buf[KEYWORDS_FILE_MAX + 1];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	map_free(map);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = error_slot_set(&keywords_error, "open(%s) failed: %s",
					  path, strerror(errno));
		return -1;
	}
	n = fd_read_to_eof(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		*error_r = error_slot_set(&keywords_error, "read(%s) failed: %s",
					  path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	for (char *line = buf, *next; line != NULL && *line != '\0'; line = next) {
		char *end;
		unsigned long idx;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		idx = strtoul(line, &end, 10);
		if (end != line && *end == ' ' && end[1] != '\0' &&
		    idx < KEYWORDS_MAX && map->names[idx] == NULL)
			map->names[idx] = xstrdup(end + 1);
	}
	return 0;
}

/* map_find - the index of name, or -1 */
static int map_find(const struct keyword_map *map, const char *name)
{
	for (int i = 0; i < KEYWORDS_MAX; i++) {
		if (map->names[i] != NULL && strcasecmp(map->names[i], name) == 0)
			return i;
	}
	return -1;
}

/* name_ok - a keyword Dovecot would keep in the file */
static bool name_ok(const char *name)
{
	if (*name == '\0' || *name == '\\')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return false;
	}
	return true;
}

/* lock - the dotlock, created exclusively; a dead one (older than
   KEYWORDS_LOCK_STALE seconds) is taken over. fd, or -1 */
static int lock(const char *path, const char **error_r)
{
	for (int i = 0; i < KEYWORDS_LOCK_TRIES; i++) {
		struct timespec nap = { 0, 10 * 1000 * 1000 };
		struct stat st;
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
		if (stat(path, &st) == 0 &&
		    st.st_mtime + KEYWORDS_LOCK_STALE < time(NULL))
			(void)unlink(path);
		nanosleep(&nap, NULL);
	}
	*error_r = error_slot_set(&keywords_error, "dotlock %s: %s", path,
				  errno == EEXIST ? "timed out" : strerror(errno));
	return -1;
}

/* add_missing - under the dotlock: reread, add what is missing, write
   the lock file and rename it over the file */
static int add_missing(const char *path, char *const *keywords, size_t count,
		       struct keyword_map *map, const char **error_r)
{
	char *lock_path = xasprintf("%s.lock", path);
	struct strbuf text;
	int fd = lock(lock_path, error_r), ret = 0;

	if (fd < 0) {
		free(lock_path);
		return -1;
	}
	if (map_read(path, map, error_r) < 0)
		ret = -1;
	for (size_t k = 0; ret == 0 && k < count; k++) {
		if (!name_ok(keywords[k]) || map_find(map, keywords[k]) >= 0)
			continue;
		for (int i = 0; i < KEYWORDS_MAX; i++) {
			if (map->names[i] == NULL) {
				map->names[i] = xstrdup(keywords[k]);
				break;
			}
		}
	}
	strbuf_init(&text, 256);
	for (int i = 0; i < KEYWORDS_MAX; i++) {
		if (map->names[i] != NULL)
			strbuf_appendf(&text, "%d %s\n", i, map->names[i]);
	}
	if (ret == 0 && (fd_write_full(fd, text.data, text.len) < 0 ||
			 fsync(fd) < 0 || rename(lock_path, path) < 0)) {
		*error_r = error_slot_set(&keywords_error, "writing %s failed: %s",
					  path, strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		(void)unlink(lock_path);
	close(fd);
	strbuf_free(&text);
	free(lock_path);
	return ret;
}

int maildir_keywords_letters(const char *dir, char *const *keywords,
			     size_t count, char *letters, size_t size,
			     const char **error_r)
{
	struct keyword_map map = { { NULL } };
	char *path = xasprintf("%s/%s", dir, KEYWORDS_FILE);
	bool have[KEYWORDS_MAX] = { false }, missing = false;
	size_t len = 0;
	int ret;

	letters[0] = '\0';
	ret = map_read(path, &map, error_r);
	for (size_t k = 0; ret == 0 && k < count; k++)
		missing = missing || (name_ok(keywords[k]) &&
				      map_find(&map, keywords[k]) < 0);
	if (ret == 0 && missing)
		ret = add_missing(path, keywords, count, &map, error_r);
	for (size_t k = 0; ret == 0 && k < count; k++) {
		/* a name the file cannot hold gets no letter, even when a
		   broken file has a line for it */
		int idx = name_ok(keywords[k]) ? map_find(&map, keywords[k]) : -1;

		if (idx >= 0)
			have[idx] = true;
	}
	for (int i = 0; ret == 0 && i < KEYWORDS_MAX && len + 1 < size; i++) {
		if (have[i])
			letters[len++] = (char)('a' + i);
	}
	letters[len] = '\0';
	map_free(&map);
	free(path);
	return ret;
}
