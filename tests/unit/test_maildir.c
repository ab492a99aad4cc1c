/*
 * test_maildir - unit tests of maildir delivery through storage_save()
 * (daemon/delivery/maildir.c, storage.c): directory creation, file names,
 * sizes and content, folder autocreation and subscriptions, missing and
 * invalid mailboxes, unique names, usage sums, a full disk and the
 * cleanup of stale tmp/ files.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maildirsize.h"
#include "storage.h"
#include "strbuf.h"
#include "xalloc.h"

#define TEST_PREFIX "Return-Path: <s@example.org>\nDelivered-To: u@example.com\n"
#define TEST_BODY "Return-Path: <old@x>\r\nFrom: a@example.org\r\n" \
	"Subject: test\r\n\r\nline one\r\nline two\r\n"
#define TEST_BODY_STORED "From: a@example.org\nSubject: test\n\n" \
	"line one\nline two\n"

static char test_dir[64];

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

/* setup - a fresh directory for each test */
static void setup(void)
{
	strcpy(test_dir, "/tmp/loft-test-maildir.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

/* teardown - remove the test directory tree */
static void teardown(void)
{
	(void)nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* make_location - parse "maildir:<test_dir>/REST" */
static void make_location(const char *rest, struct mail_location *loc)
{
	char *str = xasprintf("maildir:%s/%s", test_dir, rest);
	const char *error = NULL;

	ck_assert_msg(mail_location_parse(str, NULL, loc, &error) == 0,
		      "parse %s: %s", str, error);
	free(str);
}

/* make_message - a finished message from text */
static struct message *make_message(const char *text, size_t len)
{
	struct message *msg = message_create(test_dir);
	const char *error = NULL;

	ck_assert_int_eq(message_append(msg, text, len, &error), 0);
	ck_assert_int_eq(message_finish(msg, &error), 0);
	return msg;
}

/* init_params - save parameters with a prefix and a fixed host */
static void init_params(struct storage_save_params *params,
			const struct mail_location *loc, const char *mailbox)
{
	memset(params, 0, sizeof(*params));
	params->loc = loc;
	params->mailbox = mailbox;
	params->fsync = MAIL_FSYNC_OPTIMIZED;
	params->hostname = "mx.example.com";
	params->prefix = TEST_PREFIX;
	params->prefix_len = strlen(TEST_PREFIX);
}

/* read_file - the whole file into out (initialised here) */
static void read_file(const char *path, struct strbuf *out)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	strbuf_init(out, 1024);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append(out, buf, (size_t)n);
	close(fd);
}

/* count_entries - files in dir other than . and .. (-1: no dir) */
static int count_entries(const char *dir)
{
	struct dirent *d;
	DIR *dirp = opendir(dir);
	int count = 0;

	if (dirp == NULL)
		return -1;
	while ((d = readdir(dirp)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			count++;
	}
	closedir(dirp);
	return count;
}

/* is_dir_mode - path is a directory with mode */
static bool is_dir_mode(const char *path, mode_t mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		(st.st_mode & 07777) == mode;
}

/* check_path - a path under test_dir exists (or not) */
static void check_path(const char *rel, bool exists)
{
	char *path = xasprintf("%s/%s", test_dir, rel);

	ck_assert_msg((access(path, F_OK) == 0) == exists,
		      "%s: exists got %d, want %d", rel, !exists, exists);
	free(path);
}

/* save_ok - save text and check the result file thoroughly */
static void save_ok(const struct storage_save_params *params,
		    const char *text, const char *stored,
		    struct storage_save_result *result)
{
	struct message *msg = make_message(text, strlen(text));
	const char *error = NULL, *base;
	regmatch_t m[7];
	struct strbuf content, want;
	struct stat st;
	regex_t re;
	unsigned long long s, w;

	ck_assert_msg(storage_save(params, msg, result, &error) == STORAGE_OK,
		      "save: %s", error);
	ck_assert_int_eq(stat(result->path, &st), 0);
	base = strrchr(result->path, '/') + 1;
	ck_assert_int_eq(regcomp(&re, "^([0-9]+)\\.M([0-9]+)P([0-9]+)\\.(.+),S=([0-9]+),W=([0-9]+)$",
				 REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, base, 7, m, 0) == 0, "bad name %s", base);
	regfree(&re);
	ck_assert_int_eq(strtol(base + m[3].rm_so, NULL, 10), getpid());
	s = strtoull(base + m[5].rm_so, NULL, 10);
	w = strtoull(base + m[6].rm_so, NULL, 10);
	read_file(result->path, &content);
	ck_assert_msg(s == (unsigned long long)st.st_size,
		      "S= got %llu, want %lld", s, (long long)st.st_size);
	ck_assert_msg(w == content.len + message_count_lf(content.data, content.len),
		      "W= got %llu, want %zu", w,
		      content.len + (size_t)message_count_lf(content.data, content.len));
	ck_assert_uint_eq(result->size, s);
	ck_assert_uint_eq(result->vsize, w);
	strbuf_init(&want, 256);
	strbuf_append(&want, params->prefix, params->prefix_len);
	strbuf_append_str(&want, stored);
	ck_assert_msg(content.len == want.len &&
		      memcmp(content.data, want.data, want.len) == 0,
		      "content got \"%s\", want \"%s\"", content.data, want.data);
	ck_assert_ptr_nonnull(strstr(result->path, "/new/"));
	strbuf_free(&content);
	strbuf_free(&want);
	message_free(&msg);
}

START_TEST(test_inbox_created)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	char *want_dir;

	make_location("a/b/Maildir", &loc);
	init_params(&params, &loc, "INBOX");
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	ck_assert(is_dir_mode(loc.root, 0700));
	check_path("a/b/Maildir/cur", true);
	check_path("a/b/Maildir/maildirfolder", false);
	want_dir = xasprintf("%s/new/", loc.root);
	ck_assert_int_eq(strncmp(result.path, want_dir, strlen(want_dir)), 0);
	ck_assert_ptr_nonnull(strstr(result.path, ".mx.example.com,S="));
	free(want_dir);
	want_dir = xasprintf("%s/tmp", loc.root);
	ck_assert_int_eq(count_entries(want_dir), 0);
	free(want_dir);
	storage_save_result_free(&result);
	ck_assert_ptr_null(result.path);
	mail_location_free(&loc);
}
END_TEST

static const enum mail_fsync_mode fsync_modes[] = {
	MAIL_FSYNC_OPTIMIZED, MAIL_FSYNC_ALWAYS, MAIL_FSYNC_NEVER,
};

START_TEST(test_fsync_modes)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;

	make_location("Maildir", &loc);
	init_params(&params, &loc, "Folder");
	params.fsync = fsync_modes[_i];
	params.autocreate = true;
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_empty_prefix_and_message)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;

	make_location("Maildir", &loc);
	init_params(&params, &loc, "INBOX");
	params.prefix = "";
	params.prefix_len = 0;
	save_ok(&params, "", "", &result);
	ck_assert_uint_eq(result.size, 0);
	storage_save_result_free(&result);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_hostname_escaped)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;

	make_location("Maildir", &loc);
	init_params(&params, &loc, "INBOX");
	params.hostname = "a/b:c";
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	ck_assert_msg(strstr(result.path, ".a\\057b\\072c,S=") != NULL,
		      "got %s", result.path);
	storage_save_result_free(&result);
	params.hostname = NULL;	/* gethostname() */
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	mail_location_free(&loc);
}
END_TEST

struct filename_case {
	long secs, usecs, pid;
	const char *host;
	uint64_t size, vsize;
	const char *want;
};

static const struct filename_case filename_cases[] = {
	{ 1795306179, 923272, 4607, "vm", 461, 475,
	  "1795306179.M923272P4607.vm,S=461,W=475" },
	{ 1, 0, 1, "a/b:c", 0, 0, "1.M0P1.a\\057b\\072c,S=0,W=0" },
};

START_TEST(test_filename)
{
	const struct filename_case *c = &filename_cases[_i];
	char *got = maildir_filename(c->secs, c->usecs, c->pid, c->host,
				     c->size, c->vsize);

	ck_assert_msg(strcmp(got, c->want) == 0, "got %s, want %s", got, c->want);
	free(got);
}
END_TEST

START_TEST(test_folder_autocreate)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct strbuf subs;
	char *path;

	make_location("Maildir", &loc);
	init_params(&params, &loc, "Work/Projects");
	params.autocreate = true;
	params.autosubscribe = true;
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	check_path("Maildir/.Work.Projects/cur", true);
	check_path("Maildir/.Work.Projects/new", true);
	check_path("Maildir/.Work.Projects/tmp", true);
	check_path("Maildir/.Work.Projects/maildirfolder", true);
	check_path("Maildir/subscriptions.lock", false);

	params.mailbox = "Lists";
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	/* existing folder: no second subscription line */
	params.mailbox = "Work/Projects";
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);

	path = xasprintf("%s/subscriptions", loc.root);
	read_file(path, &subs);
	ck_assert_str_eq(subs.data, "V\t2\n\nWork\tProjects\nLists\n");
	strbuf_free(&subs);
	free(path);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_subscriptions_v1)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct strbuf subs;
	char *path;
	FILE *f;

	make_location("Maildir", &loc);
	ck_assert_int_eq(mkdir(loc.root, 0700), 0);
	path = xasprintf("%s/subscriptions", loc.root);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("Old.Folder\nNoNewline", f);
	fclose(f);
	init_params(&params, &loc, "A/B");
	params.autocreate = true;
	params.autosubscribe = true;
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	read_file(path, &subs);
	ck_assert_str_eq(subs.data, "Old.Folder\nNoNewline\nA.B\n");
	strbuf_free(&subs);
	free(path);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_layout_fs)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;

	make_location("Maildir:LAYOUT=fs", &loc);
	init_params(&params, &loc, "Work/Projects");
	params.autocreate = true;
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	check_path("Maildir/Work/Projects/cur", true);
	check_path("Maildir/Work/Projects/maildirfolder", false);
	check_path("Maildir/subscriptions", false);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_notfound)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct message *msg = make_message(TEST_BODY, strlen(TEST_BODY));
	const char *error = NULL;

	make_location("Maildir", &loc);
	init_params(&params, &loc, "Missing");
	ck_assert_int_eq(storage_save(&params, msg, &result, &error),
			 STORAGE_ERR_NOTFOUND);
	ck_assert_str_eq(error, "Mailbox doesn't exist: Missing");
	ck_assert_ptr_null(result.path);
	check_path("Maildir/.Missing", false);
	message_free(&msg);
	mail_location_free(&loc);
}
END_TEST

static const char *const invalid_names[] = {
	"a.b", "../x", "a//b", "/abs", "x/", "a\001b",
};

START_TEST(test_invalid_name)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct message *msg = make_message(TEST_BODY, strlen(TEST_BODY));
	const char *error = NULL;

	make_location("Maildir", &loc);
	init_params(&params, &loc, invalid_names[_i]);
	params.autocreate = true;
	ck_assert_msg(storage_save(&params, msg, &result, &error) ==
		      STORAGE_ERR_INVALID, "%s: not invalid", invalid_names[_i]);
	ck_assert_ptr_nonnull(error);
	ck_assert_int_eq(count_entries(test_dir), 0);
	message_free(&msg);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_unique_names)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct message *msg = make_message(TEST_BODY, strlen(TEST_BODY));
	const char *error = NULL;
	char *dir;
	int i;

	make_location("Maildir", &loc);
	init_params(&params, &loc, "INBOX");
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(storage_save(&params, msg, &result, &error),
				 STORAGE_OK);
		storage_save_result_free(&result);
	}
	dir = xasprintf("%s/new", loc.root);
	ck_assert_int_eq(count_entries(dir), 20);
	free(dir);
	dir = xasprintf("%s/tmp", loc.root);
	ck_assert_int_eq(count_entries(dir), 0);
	free(dir);
	message_free(&msg);
	mail_location_free(&loc);
}
END_TEST

/* write_plain - a file with content len bytes */
static void write_plain(const char *path, size_t len)
{
	char *data = xcalloc(1, len + 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	memset(data, 'x', len);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	free(data);
}

/* usage_of - the bytes maildirsize_count finds, or fail */
static uint64_t usage_of(const struct mail_location *loc)
{
	struct maildirsize_usage usage;
	const char *error = NULL;

	ck_assert_msg(maildirsize_count(loc, NULL, NULL, &usage, &error) == 0,
		      "usage: %s", error);
	return usage.bytes;
}

static const char *const usage_locations[] = {
	"Maildir", "Maildir:LAYOUT=fs",
};

START_TEST(test_usage)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	uint64_t total = 0;
	char *path;

	make_location(usage_locations[_i], &loc);
	ck_assert_uint_eq(usage_of(&loc), 0);	/* nothing there yet */
	init_params(&params, &loc, "INBOX");
	params.autocreate = true;
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	total += result.size;
	storage_save_result_free(&result);
	params.mailbox = "Sub/Deeper";
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	total += result.size;
	storage_save_result_free(&result);
	ck_assert_uint_eq(usage_of(&loc), total);

	/* cur/ with flags, S= trusted over the real size */
	path = xasprintf("%s/cur/1.M1P1.h,S=1000,W=1010:2,S", loc.root);
	write_plain(path, 10);
	free(path);
	/* no S=: stat size; tmp/ not counted, "." and ".." names neither,
	   but other dot files are (Dovecot's maildir_sum_dir) */
	path = xasprintf("%s/cur/2.M2P2.h:2,", loc.root);
	write_plain(path, 77);
	free(path);
	path = xasprintf("%s/tmp/3.M3P3.h", loc.root);
	write_plain(path, 5000);
	free(path);
	path = xasprintf("%s/new/..hidden", loc.root);
	write_plain(path, 5000);
	free(path);
	path = xasprintf("%s/new/.hidden", loc.root);
	write_plain(path, 33);
	free(path);
	ck_assert_uint_eq(usage_of(&loc), total + 1000 + 77 + 33);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_full_disk)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct rlimit old, lim;
	struct message *msg;
	struct strbuf big;
	const char *error = NULL;
	enum storage_error ret;
	char *dir;
	int i;

	signal(SIGXFSZ, SIG_IGN);
	strbuf_init(&big, 1 << 16);
	strbuf_append_str(&big, "Subject: big\n\n");
	for (i = 0; i < 2000; i++)
		strbuf_appendf(&big, "body line %d\n", i);
	msg = make_message(big.data, big.len);
	make_location("Maildir", &loc);
	init_params(&params, &loc, "INBOX");

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ret = storage_save(&params, msg, &result, &error);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

	ck_assert_msg(ret == STORAGE_ERR_NOSPACE, "got %d (%s), want NOSPACE",
		      ret, error);
	ck_assert_msg(strstr(error, "write(") != NULL &&
		      strstr(error, "File too large") != NULL, "error %s", error);
	ck_assert_ptr_null(result.path);
	dir = xasprintf("%s/new", loc.root);
	ck_assert_int_eq(count_entries(dir), 0);
	free(dir);
	dir = xasprintf("%s/tmp", loc.root);
	ck_assert_int_eq(count_entries(dir), 0);
	free(dir);
	strbuf_free(&big);
	message_free(&msg);
	mail_location_free(&loc);
}
END_TEST

START_TEST(test_broken_tmp)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct message *msg;
	const char *error = NULL;
	char *dir;

	msg = make_message(TEST_BODY, strlen(TEST_BODY));
	make_location("Maildir", &loc);
	init_params(&params, &loc, "INBOX");
	save_ok(&params, TEST_BODY, TEST_BODY_STORED, &result);
	storage_save_result_free(&result);
	/* a file where tmp/ should be: an I/O error, temporary */
	dir = xasprintf("%s/tmp", loc.root);
	ck_assert_int_eq(rmdir(dir), 0);
	write_plain(dir, 1);
	ck_assert_int_eq(storage_save(&params, msg, &result, &error),
			 STORAGE_ERR_TEMP);
	ck_assert_msg(strstr(error, "open(") != NULL &&
		      strstr(error, "Not a directory") != NULL, "error %s", error);
	ck_assert_ptr_null(result.path);
	free(dir);
	dir = xasprintf("%s/new", loc.root);
	ck_assert_int_eq(count_entries(dir), 1);
	free(dir);
	message_free(&msg);
	mail_location_free(&loc);
}
END_TEST

#define HOURS(n) ((time_t)(n) * 60 * 60)
#define TEST_NOBODY 65534	/* uid and gid a root test runs a save as */

/* set_times - atime and mtime of path (not following a symlink) */
static void set_times(const char *path, time_t atime, time_t mtime)
{
	struct timespec ts[2] = { { .tv_sec = atime }, { .tv_sec = mtime } };

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* tmp_path - test_dir/Maildir/tmp/name (name NULL: tmp/ itself) */
static char *tmp_path(const char *name)
{
	return name == NULL ? xasprintf("%s/Maildir/tmp", test_dir) :
		xasprintf("%s/Maildir/tmp/%s", test_dir, name);
}

/* make_tmp_file - a file in tmp/ with mtime; ctime is the real now */
static void make_tmp_file(const char *name, time_t mtime)
{
	char *path = tmp_path(name);

	write_plain(path, 5);
	set_times(path, mtime, mtime);
	free(path);
}

/* tmp_exists - name in tmp/ exists (not following symlinks) */
static bool tmp_exists(const char *name)
{
	char *path = tmp_path(name);
	struct stat st;
	bool ret = lstat(path, &st) == 0;

	free(path);
	return ret;
}

static const char *const maildir_subdirs[] = { "tmp", "new", "cur" };

/* make_maildir_tmp - test_dir/Maildir/{tmp,new,cur}; the maildir path */
static char *make_maildir_tmp(void)
{
	char *dir = xasprintf("%s/Maildir", test_dir);

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(maildir_subdirs); i++) {
		char *sub = xasprintf("%s/%s", dir, maildir_subdirs[i]);

		ck_assert_int_eq(mkdir(sub, 0700), 0);
		free(sub);
	}
	return dir;
}

/* chown_maildir - test_dir, the maildir and its subdirs to uid/gid */
static void chown_maildir(const char *dir, uid_t uid, gid_t gid)
{
	ck_assert_int_eq(chown(test_dir, uid, gid), 0);
	ck_assert_int_eq(chown(dir, uid, gid), 0);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(maildir_subdirs); i++) {
		char *sub = xasprintf("%s/%s", dir, maildir_subdirs[i]);

		ck_assert_int_eq(chown(sub, uid, gid), 0);
		free(sub);
	}
}

/* ctime can not be set back: the cleanup gets a "now" 37 hours ahead, so
   files made by the test count as old by ctime; mtimes are set around it */
START_TEST(test_tmp_cleanup_old_files)
{
	time_t real = time(NULL), now = real + HOURS(37);
	char *dir = make_maildir_tmp(), *tmp = tmp_path(NULL), *link_path;
	char *outside = xasprintf("%s/outside", test_dir), *sub;
	const char *error = NULL;
	unsigned int removed = 99;
	struct stat st;

	make_tmp_file("crashed", real - HOURS(2));
	make_tmp_file("recent-mtime", real + HOURS(2));	/* < 36 h before now */
	write_plain(outside, 5);
	set_times(outside, real - HOURS(50), real - HOURS(50));
	link_path = tmp_path("symlink");
	ck_assert_int_eq(symlink(outside, link_path), 0);
	set_times(link_path, real - HOURS(50), real - HOURS(50));
	sub = tmp_path("subdir");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	set_times(sub, real - HOURS(50), real - HOURS(50));
	/* last scanned 9 hours before now */
	set_times(tmp, now - HOURS(9), real);

	ck_assert_msg(maildir_tmp_cleanup(dir, now, &removed, &error) == 0,
		      "error %s", error);
	ck_assert_uint_eq(removed, 1);
	ck_assert(!tmp_exists("crashed"));
	ck_assert(tmp_exists("recent-mtime"));
	ck_assert(tmp_exists("symlink"));
	ck_assert(tmp_exists("subdir"));
	ck_assert_int_eq(access(outside, F_OK), 0);
	/* the scan is marked in tmp/'s atime */
	ck_assert_int_eq(stat(tmp, &st), 0);
	ck_assert_int_ge(st.st_atime, real);
	free(sub);
	free(link_path);
	free(outside);
	free(tmp);
	free(dir);
}
END_TEST

START_TEST(test_tmp_cleanup_needs_old_ctime)
{
	time_t real = time(NULL), now = real + HOURS(1);
	char *dir = make_maildir_tmp(), *tmp = tmp_path(NULL);
	const char *error = NULL;
	unsigned int removed = 99;

	/* mtime 40 hours old (a copy that kept its time), ctime fresh */
	make_tmp_file("copied", real - HOURS(40));
	set_times(tmp, now - HOURS(9), real);
	ck_assert_int_eq(maildir_tmp_cleanup(dir, now, &removed, &error), 0);
	ck_assert_uint_eq(removed, 0);
	ck_assert(tmp_exists("copied"));
	free(tmp);
	free(dir);
}
END_TEST

START_TEST(test_tmp_cleanup_at_most_every_8_hours)
{
	time_t real = time(NULL), now = real + HOURS(37);
	char *dir = make_maildir_tmp(), *tmp = tmp_path(NULL);
	const char *error = NULL;
	unsigned int removed = 99;

	make_tmp_file("crashed", real - HOURS(2));
	/* scanned 7 hours before now: not again yet, no readdir */
	set_times(tmp, now - HOURS(7), real);
	ck_assert_int_eq(maildir_tmp_cleanup(dir, now, &removed, &error), 0);
	ck_assert_uint_eq(removed, 0);
	ck_assert(tmp_exists("crashed"));
	set_times(tmp, now - HOURS(8) - 1, real);
	ck_assert_int_eq(maildir_tmp_cleanup(dir, now, &removed, &error), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert(!tmp_exists("crashed"));
	/* no tmp/ at all: nothing to do, the delivery makes it */
	ck_assert_int_eq(rmdir(tmp), 0);
	ck_assert_int_eq(maildir_tmp_cleanup(dir, now, &removed, &error), 0);
	free(tmp);
	free(dir);
}
END_TEST

/* a tmp/ the mail user may write but not list: the cleanup fails, the
   save succeeds and says why in its warning. Root may list anything, so
   the save runs in a child as nobody then. */
START_TEST(test_tmp_cleanup_failure_save_succeeds)
{
	struct storage_save_params params;
	struct storage_save_result result;
	struct mail_location loc;
	struct message *msg;
	char *dir = make_maildir_tmp(), *tmp = tmp_path(NULL);
	const char *error = NULL;
	int status;
	pid_t pid;

	msg = make_message(TEST_BODY, strlen(TEST_BODY));
	make_location("Maildir", &loc);
	init_params(&params, &loc, "INBOX");
	set_times(tmp, time(NULL) - HOURS(9), time(NULL));
	ck_assert_int_eq(chmod(tmp, 0300), 0);
	if (geteuid() == 0)
		chown_maildir(dir, TEST_NOBODY, TEST_NOBODY);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		enum storage_error ret;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
				       setresgid(TEST_NOBODY, TEST_NOBODY,
						 TEST_NOBODY) < 0 ||
				       setresuid(TEST_NOBODY, TEST_NOBODY,
						 TEST_NOBODY) < 0))
			_exit(2);
		ret = storage_save(&params, msg, &result, &error);
		if (ret != STORAGE_OK || result.path == NULL)
			_exit(3);
		if (result.warning == NULL ||
		    strstr(result.warning, "opendir(") == NULL ||
		    strstr(result.warning, "Permission denied") == NULL)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
	free(tmp);
	tmp = xasprintf("%s/new", dir);
	ck_assert_int_eq(count_entries(tmp), 1);
	free(tmp);
	free(dir);
	message_free(&msg);
	mail_location_free(&loc);
}
END_TEST

/* maildir_suite - all maildir tests */
static Suite *maildir_suite(void)
{
	Suite *s = suite_create("maildir");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_inbox_created);
	tcase_add_loop_test(tc, test_fsync_modes, 0,
			    (int)LOFT_N_ELEMENTS(fsync_modes));
	tcase_add_test(tc, test_empty_prefix_and_message);
	tcase_add_test(tc, test_hostname_escaped);
	tcase_add_loop_test(tc, test_filename, 0,
			    (int)LOFT_N_ELEMENTS(filename_cases));
	tcase_add_test(tc, test_folder_autocreate);
	tcase_add_test(tc, test_subscriptions_v1);
	tcase_add_test(tc, test_layout_fs);
	tcase_add_test(tc, test_notfound);
	tcase_add_loop_test(tc, test_invalid_name, 0,
			    (int)LOFT_N_ELEMENTS(invalid_names));
	tcase_add_test(tc, test_unique_names);
	tcase_add_loop_test(tc, test_usage, 0,
			    (int)LOFT_N_ELEMENTS(usage_locations));
	tcase_add_test(tc, test_full_disk);
	tcase_add_test(tc, test_broken_tmp);
	tcase_add_test(tc, test_tmp_cleanup_old_files);
	tcase_add_test(tc, test_tmp_cleanup_needs_old_ctime);
	tcase_add_test(tc, test_tmp_cleanup_at_most_every_8_hours);
	tcase_add_test(tc, test_tmp_cleanup_failure_save_succeeds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(maildir_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
