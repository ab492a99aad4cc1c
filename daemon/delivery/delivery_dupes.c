/*
 * delivery_dupes - the Sieve tracking file in the user's home (see
 * delivery_dupes.h). Small by construction: it is read whole and
 * rewritten in place under the lock.
 */
#include "delivery_dupes.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "error_slot.h"
#include "strbuf.h"
#include "xalloc.h"

#define DUPES_FILE ".loft.sieve-dupes"
#define DUPES_MAX_LINES 10000
#define DUPES_MAX_SIZE (4 * 1024 * 1024)
#define DUPES_KEY_MAX 1024

static __thread struct error_slot dupes_error;

/* escape - key with blanks, controls, '%' and non-ASCII as %XX, cut */
static void escape(const char *key, struct strbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)key;
	     *p != '\0' && out->len < DUPES_KEY_MAX; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '%') {
			strbuf_putc(out, '%');
			strbuf_putc(out, hex[*p >> 4]);
			strbuf_putc(out, hex[*p & 15]);
		} else {
			strbuf_putc(out, (char)*p);
		}
	}
}

/* open_locked - the file, locked; -2 when it is missing (and not
   create), -1 with *error_r */
static int open_locked(const char *home, bool create, const char **error_r)
{
	char *path = xasprintf("%s/%s", home, DUPES_FILE);
	int fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW |
		      O_CLOEXEC, 0600);

	if (fd < 0 && errno == ENOENT && !create) {
		free(path);
		return -2;
	}
	if (fd < 0 || flock(fd, create ? LOCK_EX : LOCK_SH) < 0) {
		*error_r = error_slot_set(&dupes_error, "%s(%s) failed: %s",
					  fd < 0 ? "open" : "flock", path,
					  strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

/* read_all - the file's text (bounded); 0 or -1 with *error_r */
static int read_all(int fd, struct strbuf *text, const char **error_r)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 &&
	       text->len < DUPES_MAX_SIZE)
		strbuf_append(text, buf, (size_t)n);
	if (n < 0) {
		*error_r = error_slot_set(&dupes_error, "read(%s) failed: %s",
					  DUPES_FILE, strerror(errno));
		return -1;
	}
	return 0;
}

/* line_key - the key of a line "<expiry> <key>"; NULL when malformed */
static const char *line_key(const char *line, long long *expiry_r)
{
	char *end;

	*expiry_r = strtoll(line, &end, 10);
	return end != line && *end == ' ' ? end + 1 : NULL;
}

int delivery_dupes_seen(const char *home, const char *key, time_t now,
			const char **error_r)
{
	struct strbuf text, want;
	int fd, ret = 0;

	if (home == NULL)
		return 0;
	fd = open_locked(home, false, error_r);
	if (fd < 0)
		return fd == -2 ? 0 : -1;
	strbuf_init(&text, 4096);
	strbuf_init(&want, 128);
	escape(key, &want);
	if (read_all(fd, &text, error_r) < 0)
		ret = -1;
	for (char *line = text.data, *next; ret == 0 && line != NULL &&
	     *line != '\0'; line = next) {
		long long expiry;
		const char *k;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		k = line_key(line, &expiry);
		if (k != NULL && expiry > (long long)now && strcmp(k, want.data) == 0)
			ret = 1;
	}
	strbuf_free(&text);
	strbuf_free(&want);
	close(fd);
	return ret;
}

/* keep_lines - the unexpired lines but key's, newest last, at most
   DUPES_MAX_LINES - 1 of them */
static void keep_lines(char *text, const char *key, time_t now,
		       struct strbuf *out)
{
	size_t count = 0, skip = 0;

	for (char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		count++;
		if (strchr(p, '\n') == NULL)
			break;
	}
	if (count >= DUPES_MAX_LINES)
		skip = count - DUPES_MAX_LINES + 1;
	for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
		long long expiry;
		const char *k;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		k = line_key(line, &expiry);
		if (skip > 0) {
			skip--;
			continue;
		}
		if (k == NULL || expiry <= (long long)now || strcmp(k, key) == 0)
			continue;
		strbuf_appendf(out, "%s\n", line);
	}
}

int delivery_dupes_mark(const char *home, const char *key, time_t expires,
			time_t now, const char **error_r)
{
	struct strbuf text, out, want;
	int fd, ret = 0;

	if (home == NULL)
		return 0;
	fd = open_locked(home, true, error_r);
	if (fd < 0)
		return -1;
	strbuf_init(&text, 4096);
	strbuf_init(&out, 4096);
	strbuf_init(&want, 128);
	escape(key, &want);
	if (read_all(fd, &text, error_r) < 0) {
		ret = -1;
	} else {
		keep_lines(text.data, want.data, now, &out);
		strbuf_appendf(&out, "%lld %s\n", (long long)expires, want.data);
		if (pwrite(fd, out.data, out.len, 0) != (ssize_t)out.len ||
		    ftruncate(fd, (off_t)out.len) < 0) {
			*error_r = error_slot_set(&dupes_error,
						  "write(%s/%s) failed: %s", home,
						  DUPES_FILE, strerror(errno));
			ret = -1;
		}
	}
	strbuf_free(&text);
	strbuf_free(&out);
	strbuf_free(&want);
	close(fd);
	return ret;
}
