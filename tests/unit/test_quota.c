/*
 * test_quota - unit tests for the quota plugin: settings parsing
 * (quota_settings), the maildirsize format (parse, write, append, count)
 * and the quota decisions and bookkeeping of quota.c on real maildirs:
 * the file Dovecot would write, grace, message limits, recalculation when
 * the file is missing, too large, over quota and stale, or carries other
 * forced limits, "?" rules taking the file's limits, ignored mailboxes,
 * and concurrent deliveries from several processes losing no update.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "kvlist.h"
#include "maildirsize.h"
#include "quota.h"
#include "quota_settings.h"
#include "strbuf.h"
#include "xalloc.h"

#define GIB (1024LL * 1024 * 1024)
#define MIB (1024LL * 1024)

static char test_dir[64];
static struct mail_location test_loc;

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void setup(void)
{
	const char *error;
	char *location;

	strcpy(test_dir, "/tmp/loft-test-quota.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	location = xasprintf("maildir:%s/Maildir", test_dir);
	ck_assert_int_eq(mail_location_parse(location, NULL, &test_loc, &error), 0);
	free(location);
}

static void teardown(void)
{
	mail_location_free(&test_loc);
	(void)nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* kv_lookup - quota_settings_lookup_t over a kvlist */
static const char *kv_lookup(const char *key, void *context)
{
	return kvlist_get(context, key);
}

/* settings_of - parse "key=value" lines (NULL-terminated) or fail */
static struct quota_settings *settings_of(const char *const *lines)
{
	struct quota_settings *set = NULL;
	const char *key = NULL, *error = NULL;
	struct kvlist kv;

	kvlist_init(&kv);
	for (; *lines != NULL; lines++) {
		const char *eq = strchr(*lines, '=');
		char *k = xstrndup(*lines, (size_t)(eq - *lines));

		kvlist_set(&kv, k, eq + 1);
		free(k);
	}
	ck_assert_msg(quota_settings_read(kv_lookup, &kv, &set, &key, &error) == 1,
		      "%s: %s", key, error);
	kvlist_free(&kv);
	return set;
}

static const char *const seed_settings[] = {
	"quota=maildir:User quota", "quota_rule=*:storage=1G",
	"quota_rule2=Trash:storage=+100M", "quota_rule3=*:messages=10000",
	"quota_grace=10%", NULL,
};

START_TEST(test_settings_seeds)
{
	struct quota_settings *set = settings_of(seed_settings);
	const struct quota_rule *rule;
	int64_t bytes, count;

	ck_assert_str_eq(set->root_name, "User quota");
	ck_assert(set->force_default_rule);
	ck_assert_int_eq(set->default_rule.bytes_limit, GIB);
	ck_assert_int_eq(set->default_rule.count_limit, 10000);
	rule = quota_settings_rule_find(set, "Trash");
	ck_assert_ptr_nonnull(rule);
	ck_assert_int_eq(rule->bytes_limit, 100 * MIB);
	ck_assert_ptr_null(quota_settings_rule_find(set, "trash"));
	quota_rule_limits(&set->grace_rule, GIB, 0, &bytes, &count);
	ck_assert_int_eq(bytes, GIB / 10);
	ck_assert_str_eq(set->exceeded_message,
			 "Quota exceeded (mailbox for user is full)");
	quota_settings_free(&set);
}
END_TEST

struct settings_case {
	const char *rule;
	int64_t bytes, count;
	bool force;
};

static const struct settings_case settings_cases[] = {
	{ "*:storage=1024", 1024 * 1024, 0, true },	/* bare number: KiB */
	{ "*:storage=10M", 10 * MIB, 0, true },
	{ "*:storage=2MB", 2 * MIB, 0, true },		/* unit's first letter */
	{ "*:bytes=100", 100, 0, true },
	{ "*:bytes=5k", 5 * 1024, 0, true },
	{ "*:messages=10:storage=1T", 1024 * GIB, 10, true },
	{ "?:storage=1G", GIB, 0, false },
	{ "*:backend=2048S,30C", 2048, 30, true },
	{ "*:backend=NOQUOTA", 0, 0, true },
	{ "*:storage=0", 0, 0, true },
};

START_TEST(test_settings_rules)
{
	const struct settings_case *c = &settings_cases[_i];
	char *line = xasprintf("quota_rule=%s", c->rule);
	const char *lines[] = { "quota=maildir", line, NULL };
	struct quota_settings *set = settings_of(lines);

	ck_assert_int_eq(set->default_rule.bytes_limit, c->bytes);
	ck_assert_int_eq(set->default_rule.count_limit, c->count);
	ck_assert_int_eq(set->force_default_rule, c->force);
	ck_assert_str_eq(set->root_name, "");
	quota_settings_free(&set);
	free(line);
}
END_TEST

static const char *const bad_rules[] = {
	"storage=10M", "*:storage=", "*:storage=10X", "*:volume=1",
	"*:storage=-1", "*:storage=10%", "*:storage=+1M",
	"*:storage=99999999999999999999", "*:storage=9000000000T",
	"Trash:storage=-100%", "*:backend=10Q",
};

START_TEST(test_settings_bad_rules)
{
	struct quota_settings *set = NULL;
	const char *key = NULL, *error = NULL;
	struct kvlist kv;

	kvlist_init(&kv);
	kvlist_set(&kv, "quota", "maildir:q");
	kvlist_set(&kv, "quota_rule", "*:storage=1G");
	kvlist_set(&kv, "quota_rule2", bad_rules[_i]);
	ck_assert_int_eq(quota_settings_read(kv_lookup, &kv, &set, &key, &error), -1);
	ck_assert_ptr_null(set);
	ck_assert_str_eq(key, "quota_rule2");
	ck_assert_ptr_nonnull(strstr(error, bad_rules[_i]));
	kvlist_free(&kv);
}
END_TEST

START_TEST(test_settings_other)
{
	static const char *const relative[] = {
		"quota=maildir:R:noenforcing:ignoreunlimited:hidden",
		"quota_rule=*:storage=1000B:messages=200",
		"quota_rule2=Spam:storage=-50%:messages=+10%",
		"quota_rule3=INBOX/Archive*:ignore", "quota_grace=5M",
		"quota_exceeded_message=Full, sorry", NULL,
	};
	struct quota_settings *set = settings_of(relative);
	const struct quota_rule *rule = quota_settings_rule_find(set, "Spam");
	struct quota_settings *none = NULL;
	const char *key, *error;
	struct kvlist kv;
	int64_t bytes, count;

	ck_assert(set->noenforcing && set->ignoreunlimited);
	quota_rule_limits(rule, 1000, 200, &bytes, &count);
	ck_assert_int_eq(bytes, -500);
	ck_assert_int_eq(count, 20);
	ck_assert(quota_settings_rule_find(set, "INBOX/Archive/2024")->ignore);
	quota_rule_limits(&set->grace_rule, 1000, 0, &bytes, &count);
	ck_assert_int_eq(bytes, 5 * MIB);
	ck_assert_str_eq(set->exceeded_message, "Full, sorry");
	quota_settings_free(&set);

	/* no root, another backend, unimplemented settings */
	kvlist_init(&kv);
	kvlist_set(&kv, "quota_rule", "*:storage=1G");
	ck_assert_int_eq(quota_settings_read(kv_lookup, &kv, &none, &key, &error), 0);
	kvlist_set(&kv, "quota", "");
	ck_assert_int_eq(quota_settings_read(kv_lookup, &kv, &none, &key, &error), 0);
	kvlist_set(&kv, "quota", "dict:User quota::file:/tmp/x");
	ck_assert_int_eq(quota_settings_read(kv_lookup, &kv, &none, &key, &error), -1);
	ck_assert_str_eq(key, "quota");
	kvlist_set(&kv, "quota", "maildir");
	kvlist_set(&kv, "quota_warning", "storage=95%% quota-warning 95 %u");
	ck_assert_int_eq(quota_settings_read(kv_lookup, &kv, &none, &key, &error), -1);
	ck_assert_str_eq(key, "quota_warning");
	kvlist_free(&kv);
}
END_TEST

/* ---- maildirsize ---- */

struct parse_case {
	const char *text;
	int ret;
	uint64_t bytes_limit, count_limit;
	int64_t bytes, count;
	unsigned int lines;
};

static const struct parse_case parse_cases[] = {
	{ "1073741824S,10000C\n18 1\n", 1, GIB, 10000, 18, 1, 1 },
	{ "0S\n100 2\n-40 -1\n  7   1 trailing\n", 1, 0, 0, 67, 2, 3 },
	{ "10C\n5 1\n12-1\n", 1, 0, 10, 17, 0, 2 },	/* sscanf reads -1 */
	{ "100S\n5 1\n6 1", 1, 100, 0, 5, 1, 1 },	/* no LF: line dropped */
	{ "100S", 1, 0, 0, 0, 0, 0 },		/* not even the header */
	{ "", 1, 0, 0, 0, 0, 0 },
	{ "1000S\n", 1, 1000, 0, 0, 0, 0 },
	{ "1000S\n\n", 0, 1000, 0, 0, 0, 1 },	/* an empty line is broken */
	{ "1000S\nabc 1\n", 0, 1000, 0, 0, 0, 1 },
	{ "1000S\n10\n", 0, 1000, 0, 0, 0, 1 },
	{ "1000S\n10 1\n-20 -1\n", 0, 1000, 0, -10, 0, 2 },
	{ "1000S\n5 99999999999\n", 0, 1000, 0, 0, 0, 1 },
	{ "1000S,x,5C\n1 1\n", 1, 1000, 5, 1, 1, 1 },	/* bad part skipped */
	{ "0S\n9223372036854775807 1\n9223372036854775807 1\n", 0, 0, 0, 0, 0, 2 },
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct maildirsize_contents mc;
	int ret = maildirsize_parse(c->text, strlen(c->text), &mc);

	ck_assert_msg(ret == c->ret, "%d: got %d", _i, ret);
	ck_assert_uint_eq(mc.bytes_limit, c->bytes_limit);
	ck_assert_uint_eq(mc.count_limit, c->count_limit);
	if (ret == 1) {
		ck_assert_int_eq(mc.total_bytes, c->bytes);
		ck_assert_int_eq(mc.total_count, c->count);
	}
	ck_assert_uint_eq(mc.line_count, c->lines);
}
END_TEST

START_TEST(test_parse_nul)
{
	static const char text[] = "100S\n1 1\0\n2 1\n";
	struct maildirsize_contents mc;

	ck_assert_int_eq(maildirsize_parse(text, sizeof(text) - 1, &mc), -1);
}
END_TEST

/* path_of - test_dir/Maildir/rest (xmalloc'ed) */
static char *path_of(const char *rest)
{
	return xasprintf("%s/Maildir/%s", test_dir, rest);
}

/* read_text - the whole file (xmalloc'ed) */
static char *read_text(const char *path)
{
	char buf[16384];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_msg(fd != -1, "open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
	return xstrdup(buf);
}

/* write_text - create path with text */
static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* add_mail - a message file of size bytes in folder ("" = INBOX) */
static void add_mail(const char *folder, unsigned int n, uint64_t size)
{
	char *dir = xasprintf("%s/Maildir/%s%s", test_dir, folder,
			      *folder == '\0' ? "" : "/");
	char *sub, *path;

	(void)mkdir(test_loc.root, 0700);
	(void)mkdir(dir, 0700);
	sub = xasprintf("%snew", dir);
	(void)mkdir(sub, 0700);
	free(sub);
	sub = xasprintf("%scur", dir);
	(void)mkdir(sub, 0700);
	free(sub);
	path = xasprintf("%snew/%u.M1P1.host,S=%llu,W=%llu", dir, n,
			 (unsigned long long)size, (unsigned long long)size + 1);
	write_text(path, "x");
	free(path);
	free(dir);
}

/* file_is - maildirsize holds exactly text */
static void file_is(const char *text)
{
	char *path = path_of("maildirsize"), *got = read_text(path);

	ck_assert_str_eq(got, text);
	free(got);
	free(path);
}

START_TEST(test_write_count)
{
	char *path = path_of("maildirsize");
	struct maildirsize_usage usage;
	const char *error = NULL;
	struct stat st;
	DIR *dir;
	struct dirent *d;

	/* the root is created, mode 0600 with it 0700; no temp file left */
	ck_assert_int_eq(maildirsize_write(path, "host", GIB, 10000, 18, 1,
					   &error), 0);
	file_is("1073741824S,10000C\n18 1\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(maildirsize_write(path, "host", 0, 0, 0, 0, &error), 0);
	file_is("0S\n0 0\n");
	ck_assert_int_eq(maildirsize_write(path, "host", 0, 7, 1, 2, &error), 0);
	file_is("7C\n1 2\n");
	dir = opendir(test_loc.root);
	while ((d = readdir(dir)) != NULL)
		ck_assert_msg(strncmp(d->d_name, "maildirsizehost.", 16) != 0,
			      "temp file left: %s", d->d_name);
	closedir(dir);

	add_mail("", 1, 100);
	add_mail("", 2, 200);
	add_mail(".Trash", 3, 1000);
	add_mail(".Work.Projects", 4, 30);
	ck_assert_int_eq(maildirsize_count(&test_loc, NULL, NULL, &usage,
					   &error), 0);
	ck_assert_uint_eq(usage.bytes, 1330);
	ck_assert_uint_eq(usage.count, 4);
	ck_assert_int_eq(maildirsize_changed(&test_loc, NULL, NULL,
					     usage.last_mtime, &error), 0);
	ck_assert_int_eq(maildirsize_changed(&test_loc, NULL, NULL,
					     usage.last_mtime - 1, &error), 1);
	free(path);
}
END_TEST

/* ---- quota.c ---- */

/* open_root - the seeds' quota on test_loc */
static struct quota_root *open_root(const struct quota_settings *set)
{
	struct quota_root *root = NULL;
	const char *error = NULL;

	ck_assert_msg(quota_root_open(set, &test_loc, "host", &root, &error) == 0,
		      "%s", error);
	ck_assert_ptr_nonnull(root);
	return root;
}

/* deliver - test, save a file of size bytes, count it: as delivery.c */
static enum quota_result deliver(const struct quota_settings *set,
				 const char *mailbox, uint64_t size)
{
	static unsigned int n = 1000;
	struct quota_root *root = open_root(set);
	const char *error = NULL;
	enum quota_result ret = quota_root_test(root, mailbox, size, true, &error);
	char *folder;

	ck_assert_msg(ret != QUOTA_RESULT_FAILED, "%s", error);
	if (ret == QUOTA_RESULT_OK) {
		folder = strcmp(mailbox, "INBOX") == 0 ? xstrdup("") :
			xasprintf(".%s", mailbox);
		add_mail(folder, n++, size);
		free(folder);
		ck_assert_msg(quota_root_saved(root, mailbox, size, &error) == 0,
			      "%s", error);
	}
	quota_root_close(&root);
	return ret;
}

/* look - the RCPT check on INBOX (reads, maybe recounts, saves nothing) */
static enum quota_result look(const struct quota_settings *set)
{
	struct quota_root *root = open_root(set);
	const char *error = NULL;
	enum quota_result ret = quota_root_test(root, "INBOX", 0, false, &error);

	ck_assert_msg(ret != QUOTA_RESULT_FAILED, "%s", error);
	quota_root_close(&root);
	return ret;
}

START_TEST(test_quota_seeds)
{
	static const char *const lines[] = {
		"quota=maildir:User quota", "quota_rule=*:bytes=1000",
		"quota_rule2=Trash:bytes=+500", "quota_rule3=*:messages=5",
		"quota_grace=10%", NULL,
	};
	struct quota_settings *set = settings_of(lines);
	struct quota_root *root;
	struct quota_usage usage;
	const char *error = NULL;

	/* the first look creates the file Dovecot would */
	add_mail("", 1, 300);
	ck_assert_int_eq(deliver(set, "INBOX", 400), QUOTA_RESULT_OK);
	file_is("1000S,5C\n300 1\n400 1\n");
	/* 700 used: 400 more fits only with the grace (1000 - 700 + 100) */
	ck_assert_int_eq(deliver(set, "INBOX", 401), QUOTA_RESULT_OVER);
	ck_assert_int_eq(deliver(set, "INBOX", 400), QUOTA_RESULT_OK);
	file_is("1000S,5C\n300 1\n400 1\n400 1\n");
	/* over now (1100): nothing, not even one byte; Trash has +500 */
	ck_assert_int_eq(deliver(set, "INBOX", 1), QUOTA_RESULT_OVER);
	root = open_root(set);
	ck_assert_int_eq(quota_root_test(root, "INBOX", 0, false, &error),
			 QUOTA_RESULT_OVER);
	ck_assert_int_eq(quota_root_get(root, &usage, &error), 0);
	quota_root_close(&root);
	ck_assert_uint_eq(usage.storage_kb.value, 2);	/* 1100 B, rounded up */
	ck_assert_uint_eq(usage.storage_kb.limit, 1);
	ck_assert_uint_eq(usage.messages.value, 3);
	ck_assert_uint_eq(usage.messages.limit, 5);
	/* the file over quota with more lines was recounted on the way */
	file_is("1000S,5C\n1100 3\n");
	/* Trash has 500 more */
	ck_assert_int_eq(deliver(set, "Trash", 100), QUOTA_RESULT_OK);
	file_is("1000S,5C\n1100 3\n100 1\n");
	quota_settings_free(&set);
}
END_TEST

START_TEST(test_quota_messages)
{
	static const char *const lines[] = {
		"quota=maildir", "quota_rule=*:messages=2", NULL,
	};
	struct quota_settings *set = settings_of(lines);
	struct quota_root *root;
	const char *error;

	ck_assert_int_eq(deliver(set, "INBOX", 10), QUOTA_RESULT_OK);
	root = open_root(set);
	ck_assert_int_eq(quota_root_test(root, "INBOX", 0, false, &error),
			 QUOTA_RESULT_OK);
	quota_root_close(&root);
	ck_assert_int_eq(deliver(set, "INBOX", 10), QUOTA_RESULT_OK);
	/* at the message limit the RCPT check refuses too */
	root = open_root(set);
	ck_assert_int_eq(quota_root_test(root, "INBOX", 0, false, &error),
			 QUOTA_RESULT_OVER);
	quota_root_close(&root);
	ck_assert_int_eq(deliver(set, "INBOX", 10), QUOTA_RESULT_OVER);
	file_is("2C\n0 0\n10 1\n10 1\n");
	quota_settings_free(&set);
}
END_TEST

START_TEST(test_quota_recalc_cases)
{
	static const char *const lines[] = {
		"quota=maildir", "quota_rule=*:storage=1M", NULL,
	};
	struct quota_settings *set = settings_of(lines);
	char *path = path_of("maildirsize");
	struct strbuf big;
	struct utimbuf old;

	add_mail("", 1, 5000);
	/* forced limits differ from the file's: rewritten */
	write_text(path, "2000S\n123 4\n");
	ck_assert_int_eq(look(set), QUOTA_RESULT_OK);
	file_is("1048576S\n5000 1\n");
	/* broken: rewritten */
	write_text(path, "1048576S\nnonsense\n");
	ck_assert_int_eq(look(set), QUOTA_RESULT_OK);
	file_is("1048576S\n5000 1\n");
	/* 5120 bytes or more: rewritten */
	strbuf_init(&big, 6000);
	strbuf_append_str(&big, "1048576S\n5000 1\n");
	while (big.len < MAILDIRSIZE_MAX_SIZE)
		strbuf_append_str(&big, "0 0\n");
	write_text(path, big.data);
	strbuf_free(&big);
	ck_assert_int_eq(look(set), QUOTA_RESULT_OK);
	file_is("1048576S\n5000 1\n");
	/* over quota in one line: trusted while fresh, recounted when stale */
	write_text(path, "1048576S\n2000000 2\n");
	ck_assert_int_eq(look(set), QUOTA_RESULT_OVER);
	file_is("1048576S\n2000000 2\n");
	old.actime = old.modtime = time(NULL) - MAILDIRSIZE_STALE_SECS - 5;
	ck_assert_int_eq(utime(path, &old), 0);
	ck_assert_int_eq(look(set), QUOTA_RESULT_OK);
	file_is("1048576S\n5000 1\n");
	/* a message saved before the count is counted once */
	write_text(path, "1048576S\nbroken\n");
	ck_assert_int_eq(deliver(set, "INBOX", 10), QUOTA_RESULT_OK);
	file_is("1048576S\n5000 1\n10 1\n");
	free(path);
	quota_settings_free(&set);
}
END_TEST

START_TEST(test_quota_file_limits)
{
	static const char *const lines[] = {
		"quota=maildir", "quota_rule=?:storage=1M",
		"quota_rule2=Junk:ignore", "quota_grace=0", NULL,
	};
	struct quota_settings *set = settings_of(lines);
	char *path = path_of("maildirsize");
	struct quota_root *root;
	struct quota_usage usage;
	const char *error;

	add_mail(".Junk", 1, 999999);
	add_mail("", 2, 100);
	/* "?": the file's limits win */
	write_text(path, "150S,3C\n100 1\n");
	ck_assert_int_eq(deliver(set, "INBOX", 60), QUOTA_RESULT_OVER);
	ck_assert_int_eq(deliver(set, "INBOX", 50), QUOTA_RESULT_OK);
	ck_assert_int_eq(deliver(set, "Junk", 5000), QUOTA_RESULT_OK);
	file_is("150S,3C\n100 1\n50 1\n");
	/* a recount leaves Junk out and keeps the file's limits */
	root = open_root(set);
	ck_assert_int_eq(quota_root_recalc(root, &error), 0);
	ck_assert_int_eq(quota_root_get(root, &usage, &error), 0);
	quota_root_close(&root);
	file_is("150S,3C\n150 2\n");
	ck_assert_uint_eq(usage.messages.limit, 3);
	ck_assert_uint_eq(usage.messages.value, 2);
	free(path);
	quota_settings_free(&set);
}
END_TEST

START_TEST(test_quota_unlimited)
{
	static const char *const lines[] = { "quota=maildir:U", NULL };
	static const char *const ignore_lines[] = {
		"quota=maildir:U:ignoreunlimited", NULL,
	};
	struct quota_settings *set = settings_of(lines);
	struct quota_settings *ignore = settings_of(ignore_lines);
	struct quota_root *root = NULL;
	const char *error;

	/* no limits: never refused, the usage is still kept (as Dovecot) */
	add_mail("", 1, 70);
	ck_assert_int_eq(deliver(set, "INBOX", 1 << 30), QUOTA_RESULT_OK);
	file_is("0S\n1073741894 2\n");	/* counted after the save */
	ck_assert_int_eq(quota_root_open(ignore, &test_loc, "h", &root, &error), 0);
	ck_assert_ptr_null(root);
	quota_settings_free(&set);
	quota_settings_free(&ignore);
}
END_TEST

START_TEST(test_quota_concurrent)
{
	static const char *const lines[] = {
		"quota=maildir", "quota_rule=*:storage=1G", NULL,
	};
	struct quota_settings *set = settings_of(lines);
	struct maildirsize_contents mc;
	char *path = path_of("maildirsize"), *text;
	const unsigned int procs = 8, each = 25;

	/* no file at the start: every process may want to recount */
	for (unsigned int p = 0; p < procs; p++) {
		if (fork() != 0)
			continue;
		for (unsigned int i = 0; i < each; i++) {
			struct quota_root *root = open_root(set);
			const char *error;

			if (quota_root_test(root, "INBOX", 10, true, &error) !=
			    QUOTA_RESULT_OK)
				_exit(1);
			add_mail("", p * 1000 + i, 10);
			if (quota_root_saved(root, "INBOX", 10, &error) < 0)
				_exit(2);
			quota_root_close(&root);
			/* now and then a file too large, to force recounts */
			if (i % 10 == 9 && p == 0)
				if (truncate(path, 0) < 0)
					_exit(3);
		}
		_exit(0);
	}
	for (unsigned int p = 0; p < procs; p++) {
		int status;

		ck_assert_int_ne(wait(&status), -1);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child status %d", status);
	}
	text = read_text(path);
	ck_assert_int_ge(maildirsize_parse(text, strlen(text), &mc), 0);
	ck_assert_int_eq(mc.total_count, procs * each);
	ck_assert_int_eq(mc.total_bytes, procs * each * 10);
	free(text);
	free(path);
	quota_settings_free(&set);
}
END_TEST

static Suite *quota_suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("settings");

	tcase_add_test(tc, test_settings_seeds);
	tcase_add_loop_test(tc, test_settings_rules, 0,
			    (int)LOFT_N_ELEMENTS(settings_cases));
	tcase_add_loop_test(tc, test_settings_bad_rules, 0,
			    (int)LOFT_N_ELEMENTS(bad_rules));
	tcase_add_test(tc, test_settings_other);
	tcase_add_loop_test(tc, test_parse, 0, (int)LOFT_N_ELEMENTS(parse_cases));
	tcase_add_test(tc, test_parse_nul);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_count);
	tcase_add_test(tc, test_quota_seeds);
	tcase_add_test(tc, test_quota_messages);
	tcase_add_test(tc, test_quota_recalc_cases);
	tcase_add_test(tc, test_quota_file_limits);
	tcase_add_test(tc, test_quota_unlimited);
	tcase_add_test(tc, test_quota_concurrent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(quota_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
