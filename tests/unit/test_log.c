/*
 * test_log - unit tests of the logging library: text and JSON lines,
 * routing by level, the stderr fallback and its counter, reopen after a
 * logrotate rename, deliver_log_format expansion, the debug gate, the
 * capture hook, syslog_facility validation and log_fatal/log_panic. Each
 * test runs in its own forked process (CK_FORK) with a fresh temp dir.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define TEST_CAPTURE_MAX 16

struct test_capture {
	unsigned int count;
	enum log_level levels[TEST_CAPTURE_MAX];
	char *lines[TEST_CAPTURE_MAX];
};

static char test_dir[64];
static struct test_capture test_captured;

/* test_capture_cb - keep a copy of every emitted line */
static void test_capture_cb(enum log_level level, const char *line,
			    void *context)
{
	struct test_capture *cap = context;

	ck_assert_uint_lt(cap->count, TEST_CAPTURE_MAX);
	cap->levels[cap->count] = level;
	cap->lines[cap->count] = xstrdup(line);
	cap->count++;
}

/* test_capture_clear - forget the captured lines */
static void test_capture_clear(void)
{
	for (unsigned int i = 0; i < test_captured.count; i++)
		free(test_captured.lines[i]);
	memset(&test_captured, 0, sizeof(test_captured));
}

/* test_path - a path inside this test's temp dir (static buffer per slot) */
static const char *test_path(unsigned int slot, const char *name)
{
	static char paths[4][512];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", test_dir, name);
	return paths[slot];
}

/* test_read_file - the whole file as a string ("" when missing) */
static char *test_read_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	size_t len = 0;
	char *data;

	if (fd == -1 || fstat(fd, &st) != 0) {
		if (fd != -1)
			close(fd);
		return xstrdup("");
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t ret = read(fd, data + len, (size_t)st.st_size - len);

		if (ret <= 0)
			break;
		len += (size_t)ret;
	}
	close(fd);
	data[len] = '\0';
	return data;
}

/* test_file_equals - assert the file's content */
static void test_file_equals(const char *path, const char *want)
{
	char *got = test_read_file(path);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"",
		      path, got, want);
	free(got);
}

/* test_settings - settings with no timestamp, everything to log_path */
static struct log_settings test_settings(const char *log_path)
{
	return (struct log_settings) {
		.log_path = log_path,
		.info_log_path = "",
		.debug_log_path = "",
		.syslog_facility = "mail",
		.log_timestamp = "",
		.format = LOG_FORMAT_TEXT,
	};
}

/* test_configure_ok - log_configure that must succeed */
static void test_configure_ok(const struct log_settings *set)
{
	const char *error = NULL;

	ck_assert_msg(log_configure(set, &error) == 0, "log_configure: %s",
		      error);
}

/* setup - a fresh temp dir, "lmtp" service and the capture hook */
static void setup(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	memset(&test_captured, 0, sizeof(test_captured));
	log_init("lmtp");
	log_set_capture(test_capture_cb, &test_captured);
}

/* teardown - release the logger and remove the temp dir */
static void teardown(void)
{
	DIR *dir = opendir(test_dir);
	struct dirent *d;

	log_deinit();
	test_capture_clear();
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			unlink(test_path(0, d->d_name));
	}
	if (dir != NULL)
		closedir(dir);
	rmdir(test_dir);
}

/* ---- text format ---- */

/* test_with_pid - tmpl with every "@PID@" replaced by our pid */
static void test_with_pid(char *dest, size_t size, const char *tmpl)
{
	const char *marker;
	size_t len = 0;

	dest[0] = '\0';
	while ((marker = strstr(tmpl, "@PID@")) != NULL) {
		len += (size_t)snprintf(dest + len, size - len, "%.*s%d",
					(int)(marker - tmpl), tmpl,
					(int)getpid());
		ck_assert_uint_lt(len, size);
		tmpl = marker + 5;
	}
	snprintf(dest + len, size - len, "%s", tmpl);
}

struct text_case {
	const char *user, *session, *msg, *timestamp;
	enum log_level level;
	const char *want;	/* @PID@ = our pid */
};

static const struct text_case text_cases[] = {
	{ "alice@example.com", "gk1yNcYyAmsLEgAAg+zDdQ", "msgid=<x@y>: saved",
	  "", LOG_LEVEL_INFO,
	  "lmtp(alice@example.com)<@PID@><gk1yNcYyAmsLEgAAg+zDdQ>: Info: msgid=<x@y>: saved" },
	{ NULL, "sid", "connect", "", LOG_LEVEL_INFO,
	  "lmtp<@PID@><sid>: Info: connect" },
	{ "alice", NULL, "no session", "", LOG_LEVEL_WARNING,
	  "lmtp(alice)<@PID@>: Warning: no session" },
	{ NULL, NULL, "bare", "", LOG_LEVEL_ERROR, "lmtp<@PID@>: Error: bare" },
	{ "u", "s", "line1\nline2\r\tx\x7f", "", LOG_LEVEL_ERROR,
	  "lmtp(u)<@PID@><s>: Error: line1?line2??x?" },
	{ "evil\nuser", "s", "m", "", LOG_LEVEL_INFO,
	  "lmtp(evil?user)<@PID@><s>: Info: m" },
	{ NULL, NULL, "stamped", "%%stamp ", LOG_LEVEL_INFO,
	  "%stamp lmtp<@PID@>: Info: stamped" },
	{ NULL, NULL, "8-bit \xc3\xa9 kept", "", LOG_LEVEL_DEBUG,
	  "lmtp<@PID@>: Debug: 8-bit \xc3\xa9 kept" },
};

START_TEST(test_text_format)
{
	const struct text_case *tc = &text_cases[_i];
	struct log_settings set = test_settings(test_path(1, "all.log"));
	char want[512];

	set.log_timestamp = tc->timestamp;
	set.debug = true;
	test_configure_ok(&set);
	log_set_user(tc->user);
	log_set_session(tc->session);
	log_write(tc->level, NULL, "%s", tc->msg);

	test_with_pid(want, sizeof(want), tc->want);
	ck_assert_uint_eq(test_captured.count, 1);
	ck_assert_msg(strcmp(test_captured.lines[0], want) == 0,
		      "got \"%s\", want \"%s\"", test_captured.lines[0], want);
	/* the file holds exactly the captured bytes plus the newline */
	strcat(want, "\n");
	test_file_equals(test_path(1, "all.log"), want);
}
END_TEST

START_TEST(test_text_timestamp_strftime)
{
	struct log_settings set = test_settings(test_path(1, "ts.log"));
	int year, mon, day, hour, min, sec;
	char rest[64];

	set.log_timestamp = "%Y-%m-%d %H:%M:%S ";
	test_configure_ok(&set);
	log_info("hello");
	ck_assert_uint_eq(test_captured.count, 1);
	ck_assert_int_eq(sscanf(test_captured.lines[0],
				"%4d-%2d-%2d %2d:%2d:%2d %63s", &year, &mon,
				&day, &hour, &min, &sec, rest), 7);
	ck_assert_int_ge(year, 2024);
	ck_assert_msg(strncmp(rest, "lmtp<", 5) == 0, "got \"%s\"", rest);
}
END_TEST

START_TEST(test_errno_preserved)
{
	struct log_settings set = test_settings(test_path(1, "e.log"));
	char want[128];

	test_configure_ok(&set);
	errno = ENOENT;
	log_error("open(x) failed: %m");
	ck_assert_int_eq(errno, ENOENT);
	snprintf(want, sizeof(want), "lmtp<%d>: Error: open(x) failed: %s",
		 (int)getpid(), strerror(ENOENT));
	ck_assert_str_eq(test_captured.lines[0], want);
}
END_TEST

/* ---- JSON format ---- */

/* test_json_parse - parse a captured line, asserting it is one object */
static struct json_object *test_json_parse(const char *line)
{
	struct json_object *obj;

	ck_assert_msg(strchr(line, '\n') == NULL, "raw newline in \"%s\"", line);
	obj = json_tokener_parse(line);
	ck_assert_msg(obj != NULL && json_object_is_type(obj, json_type_object),
		      "not a JSON object: %s", line);
	return obj;
}

/* test_json_keys - assert the object's keys, in order */
static void test_json_keys(struct json_object *obj, const char *const *want,
			   size_t count)
{
	size_t i = 0;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		ck_assert_msg(i < count, "unexpected key %s", key);
		ck_assert_msg(strcmp(key, want[i]) == 0,
			      "key %zu: got %s, want %s", i, key, want[i]);
		i++;
	}
	ck_assert_uint_eq(i, count);
}

/* test_json_str - obj[key] as string, NULL when null */
static const char *test_json_str(struct json_object *obj, const char *key)
{
	struct json_object *val;

	ck_assert_msg(json_object_object_get_ex(obj, key, &val),
		      "missing key %s", key);
	if (val == NULL)
		return NULL;
	ck_assert_msg(json_object_is_type(val, json_type_string),
		      "%s is not a string", key);
	return json_object_get_string(val);
}

/* test_json_int - obj[key] as a JSON integer */
static int64_t test_json_int(struct json_object *obj, const char *key)
{
	struct json_object *val;

	ck_assert_msg(json_object_object_get_ex(obj, key, &val) && val != NULL &&
		      json_object_is_type(val, json_type_int),
		      "%s is not an integer", key);
	return json_object_get_int64(val);
}

static const char *const json_base_keys[] = {
	"ts", "level", "service", "pid", "session", "user", "event", "msg",
};

START_TEST(test_json_format)
{
	struct log_settings set = test_settings(test_path(1, "j.log"));
	struct json_object *obj;
	const char *ts;
	char *file;

	set.format = LOG_FORMAT_JSON;
	set.log_timestamp = "%Y ";	/* ignored for JSON */
	test_configure_ok(&set);
	log_set_session("sess1");
	log_warning("say \"hi\"\nand\\bye\t\x01 \xff end");

	ck_assert_uint_eq(test_captured.count, 1);
	obj = test_json_parse(test_captured.lines[0]);
	test_json_keys(obj, json_base_keys, LOFT_N_ELEMENTS(json_base_keys));
	ts = test_json_str(obj, "ts");
	ck_assert_uint_eq(strlen(ts), 27);
	ck_assert_int_eq(ts[4], '-');
	ck_assert_int_eq(ts[10], 'T');
	ck_assert_int_eq(ts[19], '.');
	ck_assert_int_eq(ts[26], 'Z');
	ck_assert_str_eq(test_json_str(obj, "level"), "warning");
	ck_assert_str_eq(test_json_str(obj, "service"), "lmtp");
	ck_assert_int_eq(test_json_int(obj, "pid"), getpid());
	ck_assert_str_eq(test_json_str(obj, "session"), "sess1");
	ck_assert_ptr_null(test_json_str(obj, "user"));
	ck_assert_str_eq(test_json_str(obj, "event"), "log");
	/* escapes round-trip; the invalid UTF-8 byte became '?' */
	ck_assert_str_eq(test_json_str(obj, "msg"),
			 "say \"hi\"\nand\\bye\t\x01 ? end");
	json_object_put(obj);

	file = test_read_file(test_path(1, "j.log"));
	ck_assert_uint_eq(strlen(file), strlen(test_captured.lines[0]) + 1);
	ck_assert_int_eq(file[strlen(file) - 1], '\n');
	free(file);
}
END_TEST

START_TEST(test_json_event_and_levels)
{
	static const char *const names[LOG_LEVEL_COUNT] = {
		"debug", "info", "warning", "error", "fatal", "panic",
	};
	struct log_settings set = test_settings(test_path(1, "j.log"));

	set.format = LOG_FORMAT_JSON;
	set.debug = true;
	test_configure_ok(&set);
	log_set_user("bob");
	for (enum log_level level = 0; level < LOG_LEVEL_COUNT; level++)
		log_write(level, "auth", "level %d", (int)level);
	ck_assert_uint_eq(test_captured.count, LOG_LEVEL_COUNT);
	for (unsigned int i = 0; i < LOG_LEVEL_COUNT; i++) {
		struct json_object *obj = test_json_parse(test_captured.lines[i]);

		ck_assert_str_eq(test_json_str(obj, "level"), names[i]);
		ck_assert_str_eq(test_json_str(obj, "event"), "auth");
		ck_assert_str_eq(test_json_str(obj, "user"), "bob");
		ck_assert_ptr_null(test_json_str(obj, "session"));
		json_object_put(obj);
	}
}
END_TEST

static const struct log_delivery test_rec = {
	.msgid = "<x@y>", .subject = "Hello \"there\"", .from = "carol@example.org",
	.envelope_from = "bounce@example.org", .rcpt = "alice@example.com",
	.orig_rcpt = "alias@example.com", .mailbox = "INBOX",
	.size = 1234, .vsize = 1260, .result = "saved", .code = 250,
	.enhanced_code = "2.0.0", .status = "saved mail to INBOX",
	.duration_ms = 12.5,
};

START_TEST(test_json_delivery)
{
	static const char *const keys[] = {
		"ts", "level", "service", "pid", "session", "user", "event",
		"msg", "msgid", "from", "rcpt", "orig_rcpt", "mailbox", "size",
		"vsize", "result", "code", "enhanced_code", "duration_ms",
		"subject", "envelope_from",
	};
	struct log_settings set = test_settings(test_path(1, "j.log"));
	struct json_object *obj, *val;

	set.format = LOG_FORMAT_JSON;
	test_configure_ok(&set);
	log_set_user("alice@example.com");
	log_set_session("sid");
	log_delivery("msgid=%m: %$", &test_rec);

	ck_assert_uint_eq(test_captured.count, 1);
	ck_assert_int_eq(test_captured.levels[0], LOG_LEVEL_INFO);
	obj = test_json_parse(test_captured.lines[0]);
	test_json_keys(obj, keys, LOFT_N_ELEMENTS(keys));
	ck_assert_str_eq(test_json_str(obj, "event"), "delivery");
	ck_assert_str_eq(test_json_str(obj, "msg"),
			 "msgid=<x@y>: saved mail to INBOX");
	ck_assert_str_eq(test_json_str(obj, "msgid"), "<x@y>");
	ck_assert_str_eq(test_json_str(obj, "from"), "carol@example.org");
	ck_assert_str_eq(test_json_str(obj, "rcpt"), "alice@example.com");
	ck_assert_str_eq(test_json_str(obj, "orig_rcpt"), "alias@example.com");
	ck_assert_str_eq(test_json_str(obj, "mailbox"), "INBOX");
	ck_assert_int_eq(test_json_int(obj, "size"), 1234);
	ck_assert_int_eq(test_json_int(obj, "vsize"), 1260);
	ck_assert_str_eq(test_json_str(obj, "result"), "saved");
	ck_assert_int_eq(test_json_int(obj, "code"), 250);
	ck_assert_str_eq(test_json_str(obj, "enhanced_code"), "2.0.0");
	ck_assert(json_object_object_get_ex(obj, "duration_ms", &val));
	ck_assert(json_object_is_type(val, json_type_double));
	ck_assert(json_object_get_double(val) == 12.5);
	ck_assert_str_eq(test_json_str(obj, "subject"), "Hello \"there\"");
	ck_assert_str_eq(test_json_str(obj, "envelope_from"),
			 "bounce@example.org");
	json_object_put(obj);
}
END_TEST

/* ---- delivery ---- */

START_TEST(test_delivery_text_levels)
{
	struct log_settings set = test_settings(test_path(1, "d.log"));
	struct log_delivery rec = test_rec;
	char want[256];

	test_configure_ok(&set);
	log_set_user("alice@example.com");
	log_set_session("sid");
	log_delivery("msgid=%m: %$", &rec);
	rec.result = "rejected";
	rec.status = "rejected: quota";
	log_delivery("msgid=%m: %$", &rec);
	rec.result = "tempfail";
	rec.status = "temporary failure";
	rec.subject = "two\nlines";
	log_delivery("%$ [%s]", &rec);

	ck_assert_uint_eq(test_captured.count, 3);
	ck_assert_int_eq(test_captured.levels[0], LOG_LEVEL_INFO);
	ck_assert_int_eq(test_captured.levels[1], LOG_LEVEL_INFO);
	ck_assert_int_eq(test_captured.levels[2], LOG_LEVEL_ERROR);
	snprintf(want, sizeof(want),
		 "lmtp(alice@example.com)<%d><sid>: Info: msgid=<x@y>: saved mail to INBOX",
		 (int)getpid());
	ck_assert_str_eq(test_captured.lines[0], want);
	snprintf(want, sizeof(want),
		 "lmtp(alice@example.com)<%d><sid>: Error: temporary failure [two?lines]",
		 (int)getpid());
	ck_assert_str_eq(test_captured.lines[2], want);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_INFO), 2);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_ERROR), 1);
}
END_TEST

struct expand_case {
	const char *format;
	const char *want;
	bool no_msgid;
};

static const struct expand_case expand_cases[] = {
	{ "msgid=%m: %$", "msgid=<x@y>: saved mail to INBOX", false },
	{ "%m|%{msgid}", "<x@y>|<x@y>", false },
	{ "%m %{msgid}", "unspecified unspecified", true },
	{ "%s|%{subject}", "Hello \"there\"|Hello \"there\"", false },
	{ "%f|%{from}", "carol@example.org|carol@example.org", false },
	{ "%e|%{from_envelope}", "bounce@example.org|bounce@example.org", false },
	{ "%p|%{size}", "1234|1234", false },
	{ "%w|%{vsize}", "1260|1260", false },
	{ "%{to_envelope}", "alice@example.com", false },
	{ "%{delivery_time}ms", "12ms", false },
	{ "100%%", "100%", false },
	{ "%x %{nosuch} %{session_time}", "%x %{nosuch} %{session_time}", false },
	{ "open %{msgid", "open %{msgid", false },
	{ "trailing %", "trailing %", false },
	{ "%%m", "%m", false },
	{ "", "", false },
	{ "plain text", "plain text", false },
};

START_TEST(test_delivery_expand)
{
	const struct expand_case *tc = &expand_cases[_i];
	struct log_delivery rec = test_rec;
	char *got;

	if (tc->no_msgid)
		rec.msgid = NULL;
	got = log_format_delivery(tc->format, &rec);
	ck_assert_msg(strcmp(got, tc->want) == 0,
		      "format \"%s\": got \"%s\", want \"%s\"", tc->format, got,
		      tc->want);
	free(got);
}
END_TEST

START_TEST(test_delivery_expand_null_fields)
{
	struct log_delivery rec = { .result = "saved" };
	char *got = log_format_delivery("[%$][%m][%s][%f][%e][%p][%{to_envelope}]",
					&rec);

	ck_assert_str_eq(got, "[][unspecified][][][][0][]");
	free(got);
	got = log_format_delivery(NULL, &test_rec);
	ck_assert_str_eq(got, "msgid=<x@y>: saved mail to INBOX");
	free(got);
}
END_TEST

/* ---- routing ---- */

START_TEST(test_routing_three_files)
{
	struct log_settings set = test_settings(test_path(1, "err.log"));
	char want[256];
	int pid = (int)getpid();

	set.info_log_path = test_path(2, "info.log");
	set.debug_log_path = test_path(3, "debug.log");
	set.debug = true;
	test_configure_ok(&set);
	log_debug("d1");
	log_info("i1");
	log_warning("w1");
	log_error("e1");
	log_write(LOG_LEVEL_FATAL, NULL, "f1");
	log_write(LOG_LEVEL_PANIC, NULL, "p1");

	snprintf(want, sizeof(want), "lmtp<%d>: Warning: w1\nlmtp<%d>: Error: e1\n"
		 "lmtp<%d>: Fatal: f1\nlmtp<%d>: Panic: p1\n", pid, pid, pid, pid);
	test_file_equals(test_path(1, "err.log"), want);
	snprintf(want, sizeof(want), "lmtp<%d>: Info: i1\n", pid);
	test_file_equals(test_path(2, "info.log"), want);
	snprintf(want, sizeof(want), "lmtp<%d>: Debug: d1\n", pid);
	test_file_equals(test_path(3, "debug.log"), want);
	ck_assert_uint_eq(log_write_failures(), 0);
	for (enum log_level level = 0; level < LOG_LEVEL_COUNT; level++)
		ck_assert_uint_eq(log_messages_count(level), 1);
}
END_TEST

START_TEST(test_routing_debug_follows_info)
{
	struct log_settings set = test_settings(test_path(1, "err.log"));
	char want[256];
	int pid = (int)getpid();

	set.info_log_path = test_path(2, "info.log");
	set.debug = true;
	test_configure_ok(&set);
	log_debug("d1");
	log_info("i1");
	log_error("e1");
	snprintf(want, sizeof(want), "lmtp<%d>: Debug: d1\nlmtp<%d>: Info: i1\n",
		 pid, pid);
	test_file_equals(test_path(2, "info.log"), want);
	snprintf(want, sizeof(want), "lmtp<%d>: Error: e1\n", pid);
	test_file_equals(test_path(1, "err.log"), want);
}
END_TEST

/* test_count_fds - open descriptors of this process */
static unsigned int test_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int count = 0;

	ck_assert_ptr_nonnull(dir);
	while (readdir(dir) != NULL)
		count++;
	closedir(dir);
	return count;
}

START_TEST(test_routing_shared_file)
{
	const char *path = test_path(1, "all.log");
	struct log_settings set = test_settings(path);
	unsigned int fds_before = test_count_fds();
	char want[256];
	int pid = (int)getpid();

	/* the same path spelled out for every level: still one fd */
	set.info_log_path = path;
	set.debug_log_path = path;
	test_configure_ok(&set);
	ck_assert_uint_eq(test_count_fds(), fds_before + 1);
	log_set_debug(true);
	log_error("e1");
	log_debug("d1");
	log_info("i1");
	snprintf(want, sizeof(want), "lmtp<%d>: Error: e1\nlmtp<%d>: Debug: d1\n"
		 "lmtp<%d>: Info: i1\n", pid, pid, pid);
	test_file_equals(path, want);

	/* reconfiguring closes the old descriptors */
	test_configure_ok(&set);
	ck_assert_uint_eq(test_count_fds(), fds_before + 1);
	log_deinit();
	ck_assert_uint_eq(test_count_fds(), fds_before);
}
END_TEST

START_TEST(test_file_mode)
{
	struct log_settings set = test_settings(test_path(1, "mode.log"));
	struct stat st;
	mode_t old_umask = umask(0);

	test_configure_ok(&set);
	umask(old_umask);
	ck_assert_int_eq(stat(test_path(1, "mode.log"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* test_redirect_stderr - point fd 2 at path; the saved fd */
static int test_redirect_stderr(const char *path)
{
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	return saved;
}

/* test_restore_stderr - undo test_redirect_stderr */
static void test_restore_stderr(int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
}

START_TEST(test_fallback_to_stderr)
{
	const char *bad = test_path(1, "no/such/dir/x.log");
	struct log_settings set = test_settings(bad);
	const char *error = NULL;
	char want[1024];
	int saved;

	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	ck_assert_int_eq(log_configure(&set, &error), -1);
	ck_assert_ptr_nonnull(error);
	snprintf(want, sizeof(want), "open(%s) failed: %s", bad,
		 strerror(ENOENT));
	ck_assert_str_eq(error, want);

	log_error("first");
	log_info("second");
	test_restore_stderr(saved);

	snprintf(want, sizeof(want), "lmtp<%d>: Error: first\nlmtp<%d>: Info: second\n",
		 (int)getpid(), (int)getpid());
	test_file_equals(test_path(2, "stderr.txt"), want);
	ck_assert_uint_eq(log_write_failures(), 2);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_ERROR), 1);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_INFO), 1);
	ck_assert_uint_eq(test_captured.count, 2);
}
END_TEST

START_TEST(test_fallback_only_failing_destination)
{
	struct log_settings set = test_settings(test_path(1, "err.log"));
	const char *error = NULL;
	char want[256];
	int saved;

	set.info_log_path = test_path(3, "missing/info.log");
	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	ck_assert_int_eq(log_configure(&set, &error), -1);
	log_error("to file");
	log_info("to stderr");
	test_restore_stderr(saved);

	snprintf(want, sizeof(want), "lmtp<%d>: Error: to file\n", (int)getpid());
	test_file_equals(test_path(1, "err.log"), want);
	snprintf(want, sizeof(want), "lmtp<%d>: Info: to stderr\n", (int)getpid());
	test_file_equals(test_path(2, "stderr.txt"), want);
	ck_assert_uint_eq(log_write_failures(), 1);
}
END_TEST

START_TEST(test_stderr_destination)
{
	struct log_settings set = test_settings("/dev/stderr");
	char want[256];
	int saved;

	set.info_log_path = "stderr";
	set.log_timestamp = "T ";
	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	test_configure_ok(&set);
	log_info("a");
	log_error("b");
	test_restore_stderr(saved);
	snprintf(want, sizeof(want), "T lmtp<%d>: Info: a\nT lmtp<%d>: Error: b\n",
		 (int)getpid(), (int)getpid());
	test_file_equals(test_path(2, "stderr.txt"), want);
	ck_assert_uint_eq(log_write_failures(), 0);
}
END_TEST

START_TEST(test_stderr_broken_pipe)
{
	struct log_settings set = test_settings("/dev/stderr");
	int saved = dup(STDERR_FILENO), fds[2];

	/* stderr is a pipe nobody reads: no SIGPIPE, a counted failure */
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	ck_assert_int_eq(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
	close(fds[1]);
	test_configure_ok(&set);
	log_error("into the void");
	test_restore_stderr(saved);
	ck_assert_uint_eq(log_write_failures(), 1);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_ERROR), 1);
	ck_assert_uint_eq(test_captured.count, 1);
}
END_TEST

START_TEST(test_before_configure_goes_to_stderr)
{
	char want[256];
	int saved;

	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	log_info("early");
	test_restore_stderr(saved);
	snprintf(want, sizeof(want), "lmtp<%d>: Info: early\n", (int)getpid());
	test_file_equals(test_path(2, "stderr.txt"), want);
}
END_TEST

START_TEST(test_hold_stderr_until_released)
{
	const char *bad = test_path(1, "no/such/dir/x.log");
	struct log_settings set = test_settings(bad);
	const char *error = NULL;
	char want[512];
	int saved, pid = (int)getpid();

	/* held: the program's own line goes first, the log lines (the
	   stderr destination before configure, then a failed file's
	   fallback) follow in order once released */
	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	log_hold_stderr();
	log_info("early");
	ck_assert_int_eq(log_configure(&set, &error), -1);
	log_error("fell back");
	ck_assert_int_eq(write(STDERR_FILENO, "first\n", 6), 6);
	log_release_stderr();
	log_info("after");
	test_restore_stderr(saved);

	snprintf(want, sizeof(want), "first\nlmtp<%d>: Info: early\n"
		 "lmtp<%d>: Error: fell back\nlmtp<%d>: Info: after\n",
		 pid, pid, pid);
	test_file_equals(test_path(2, "stderr.txt"), want);
	ck_assert_uint_eq(test_captured.count, 3);
}
END_TEST

START_TEST(test_hold_stderr_released_by_deinit)
{
	char want[256];
	int saved;

	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	log_hold_stderr();
	log_error("kept");
	ck_assert_int_eq(write(STDERR_FILENO, "first\n", 6), 6);
	log_deinit();
	test_restore_stderr(saved);
	snprintf(want, sizeof(want), "first\nlmtp<%d>: Error: kept\n",
		 (int)getpid());
	test_file_equals(test_path(2, "stderr.txt"), want);
	log_init("lmtp");
}
END_TEST

START_TEST(test_reopen_after_rename)
{
	const char *path = test_path(1, "mail.log");
	struct log_settings set = test_settings(path);
	char want[256];
	int pid = (int)getpid();

	test_configure_ok(&set);
	log_info("before rotate");
	ck_assert_int_eq(rename(path, test_path(2, "mail.log.1")), 0);
	log_info("still old file");
	log_reopen();
	log_info("after rotate");

	snprintf(want, sizeof(want), "lmtp<%d>: Info: before rotate\n"
		 "lmtp<%d>: Info: still old file\n", pid, pid);
	test_file_equals(test_path(2, "mail.log.1"), want);
	snprintf(want, sizeof(want), "lmtp<%d>: Info: after rotate\n", pid);
	test_file_equals(path, want);
}
END_TEST

START_TEST(test_reopen_recovers_failed_open)
{
	struct log_settings set = test_settings(test_path(1, "later/x.log"));
	const char *error = NULL;
	char want[256];
	int saved;

	saved = test_redirect_stderr(test_path(2, "stderr.txt"));
	ck_assert_int_eq(log_configure(&set, &error), -1);
	log_error("lost");
	ck_assert_int_eq(mkdir(test_path(3, "later"), 0700), 0);
	log_reopen();
	log_error("found");
	test_restore_stderr(saved);

	snprintf(want, sizeof(want), "lmtp<%d>: Error: found\n", (int)getpid());
	test_file_equals(test_path(1, "later/x.log"), want);
	ck_assert_uint_eq(log_write_failures(), 1);
	unlink(test_path(1, "later/x.log"));
	rmdir(test_path(3, "later"));
}
END_TEST

/* ---- debug gate, capture, counters ---- */

static int test_side_effects;

/* test_side_effect - an argument whose evaluation is visible */
static int test_side_effect(void)
{
	return ++test_side_effects;
}

START_TEST(test_debug_gating)
{
	struct log_settings set = test_settings(test_path(1, "g.log"));

	test_configure_ok(&set);
	ck_assert(!log_level_enabled(LOG_LEVEL_DEBUG));
	ck_assert(log_level_enabled(LOG_LEVEL_INFO));
	log_debug("hidden %d", test_side_effect());
	log_write(LOG_LEVEL_DEBUG, NULL, "hidden too");
	ck_assert_int_eq(test_side_effects, 0);
	ck_assert_uint_eq(test_captured.count, 0);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_DEBUG), 0);

	log_set_debug(true);
	log_debug("shown %d", test_side_effect());
	ck_assert_int_eq(test_side_effects, 1);
	log_set_debug(false);
	log_debug("hidden again");

	set.debug = true;
	test_configure_ok(&set);
	log_debug("mail_debug");
	ck_assert_uint_eq(test_captured.count, 2);
	ck_assert_int_eq(test_captured.levels[0], LOG_LEVEL_DEBUG);
	ck_assert_ptr_nonnull(strstr(test_captured.lines[0], ": Debug: shown 1"));
	ck_assert_ptr_nonnull(strstr(test_captured.lines[1], ": Debug: mail_debug"));
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_DEBUG), 2);
}
END_TEST

START_TEST(test_capture_removed)
{
	struct log_settings set = test_settings(test_path(1, "c.log"));

	test_configure_ok(&set);
	log_info("one");
	log_set_capture(NULL, NULL);
	log_info("two");
	ck_assert_uint_eq(test_captured.count, 1);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_INFO), 2);
}
END_TEST

/* test_logging_capture_cb - a capture hook that itself logs */
static void test_logging_capture_cb(enum log_level level, const char *line,
				    void *context)
{
	unsigned int *calls = context;

	(*calls)++;
	log_error("from inside the hook: %s", line);
}

START_TEST(test_capture_reentrancy)
{
	struct log_settings set = test_settings(test_path(1, "c.log"));
	unsigned int calls = 0;

	test_configure_ok(&set);
	log_set_capture(test_logging_capture_cb, &calls);
	log_info("outer");
	ck_assert_uint_eq(calls, 1);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_ERROR), 0);
}
END_TEST

START_TEST(test_pid_after_fork)
{
	const char *path = test_path(1, "fork.log");
	struct log_settings set = test_settings(path);
	char want[256];
	int status;
	pid_t child;

	test_configure_ok(&set);
	log_set_capture(NULL, NULL);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		log_info("child");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	log_info("parent");
	snprintf(want, sizeof(want), "lmtp<%d>: Info: child\nlmtp<%d>: Info: parent\n",
		 (int)child, (int)getpid());
	test_file_equals(path, want);
}
END_TEST

#define TEST_THREADS 4
#define TEST_THREAD_LINES 200

/* test_thread_main - log TEST_THREAD_LINES numbered lines */
static void *test_thread_main(void *context)
{
	int id = *(int *)context;

	for (int i = 0; i < TEST_THREAD_LINES; i++)
		log_info("thread %d line %d %s", id, i,
			 "padding padding padding padding padding padding");
	return NULL;
}

START_TEST(test_threads_whole_lines)
{
	const char *path = test_path(1, "threads.log");
	struct log_settings set = test_settings(path);
	pthread_t threads[TEST_THREADS];
	int ids[TEST_THREADS], next[TEST_THREADS] = { 0 };
	char prefix[64], *data, *line, *saveptr = NULL;
	unsigned int lines = 0;

	test_configure_ok(&set);
	log_set_capture(NULL, NULL);
	for (int i = 0; i < TEST_THREADS; i++) {
		ids[i] = i;
		ck_assert_int_eq(pthread_create(&threads[i], NULL,
						test_thread_main, &ids[i]), 0);
	}
	for (int i = 0; i < TEST_THREADS; i++)
		pthread_join(threads[i], NULL);

	/* every line whole, and each thread's lines in its own order */
	snprintf(prefix, sizeof(prefix), "lmtp<%d>: Info: thread ", (int)getpid());
	data = test_read_file(path);
	for (line = strtok_r(data, "\n", &saveptr); line != NULL;
	     line = strtok_r(NULL, "\n", &saveptr)) {
		int id, n, end = 0;

		ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0,
			      "bad line \"%s\"", line);
		ck_assert_int_eq(sscanf(line + strlen(prefix),
					"%d line %d padding padding padding "
					"padding padding padding%n", &id, &n,
					&end), 2);
		ck_assert_int_eq(line[strlen(prefix) + (size_t)end], '\0');
		ck_assert(id >= 0 && id < TEST_THREADS);
		ck_assert_int_eq(n, next[id]);
		next[id]++;
		lines++;
	}
	free(data);
	ck_assert_uint_eq(lines, TEST_THREADS * TEST_THREAD_LINES);
	ck_assert_uint_eq(log_messages_count(LOG_LEVEL_INFO),
			  TEST_THREADS * TEST_THREAD_LINES);
}
END_TEST

/* ---- syslog_facility ---- */

struct facility_case {
	const char *name;
	int ret;
};

static const struct facility_case facility_cases[] = {
	{ "mail", 0 }, { "daemon", 0 }, { "user", 0 }, { "local0", 0 },
	{ "local3", 0 }, { "local7", 0 }, { "", 0 }, { NULL, 0 },
	{ "bogus", -1 }, { "local8", -1 }, { "MAIL", -1 },
};

START_TEST(test_syslog_facility)
{
	const struct facility_case *tc = &facility_cases[_i];
	struct log_settings set = test_settings(test_path(1, "f.log"));
	const char *error = NULL;
	char want[128];
	int ret;

	set.syslog_facility = tc->name;
	ret = log_configure(&set, &error);
	ck_assert_msg(ret == tc->ret, "facility \"%s\": got %d, want %d",
		      tc->name, ret, tc->ret);
	if (tc->ret == 0)
		return;
	snprintf(want, sizeof(want), "Invalid syslog_facility: %s", tc->name);
	ck_assert_str_eq(error, want);
	/* logging goes on with the mail facility and the configured file */
	log_info("still works");
	ck_assert_uint_eq(test_captured.count, 1);
	ck_assert_uint_eq(log_write_failures(), 0);
}
END_TEST

START_TEST(test_syslog_line_has_no_timestamp)
{
	struct log_settings set = test_settings("syslog");
	char want[128];

	set.log_timestamp = "%Y ";
	set.syslog_facility = "local5";
	test_configure_ok(&set);
	log_info("via syslog");
	snprintf(want, sizeof(want), "lmtp<%d>: Info: via syslog", (int)getpid());
	ck_assert_str_eq(test_captured.lines[0], want);
	ck_assert_uint_eq(log_write_failures(), 0);
}
END_TEST

/* ---- fatal / panic ---- */

START_TEST(test_fatal_exits)
{
	struct log_settings set = test_settings(test_path(1, "fatal.log"));

	test_configure_ok(&set);
	log_fatal(75, "config broken: %s", "x");
}
END_TEST

START_TEST(test_fatal_logged)
{
	const char *path = test_path(1, "fatal.log");
	struct log_settings set = test_settings(path);
	char want[128];
	int status;
	pid_t child;

	test_configure_ok(&set);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		log_fatal(75, "config broken");
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 75);
	snprintf(want, sizeof(want), "lmtp<%d>: Fatal: config broken\n", (int)child);
	test_file_equals(path, want);
}
END_TEST

START_TEST(test_panic_aborts)
{
	struct log_settings set = test_settings(test_path(1, "panic.log"));

	test_configure_ok(&set);
	LOFT_ASSERT(1 + 1 == 3);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_text_format, 0, LOFT_N_ELEMENTS(text_cases));
	tcase_add_test(tc, test_text_timestamp_strftime);
	tcase_add_test(tc, test_errno_preserved);
	tcase_add_test(tc, test_json_format);
	tcase_add_test(tc, test_json_event_and_levels);
	tcase_add_test(tc, test_json_delivery);
	tcase_add_test(tc, test_delivery_text_levels);
	tcase_add_loop_test(tc, test_delivery_expand, 0,
			    LOFT_N_ELEMENTS(expand_cases));
	tcase_add_test(tc, test_delivery_expand_null_fields);
	tcase_add_test(tc, test_routing_three_files);
	tcase_add_test(tc, test_routing_debug_follows_info);
	tcase_add_test(tc, test_routing_shared_file);
	tcase_add_test(tc, test_file_mode);
	tcase_add_test(tc, test_fallback_to_stderr);
	tcase_add_test(tc, test_fallback_only_failing_destination);
	tcase_add_test(tc, test_stderr_destination);
	tcase_add_test(tc, test_stderr_broken_pipe);
	tcase_add_test(tc, test_before_configure_goes_to_stderr);
	tcase_add_test(tc, test_hold_stderr_until_released);
	tcase_add_test(tc, test_hold_stderr_released_by_deinit);
	tcase_add_test(tc, test_reopen_after_rename);
	tcase_add_test(tc, test_reopen_recovers_failed_open);
	tcase_add_test(tc, test_debug_gating);
	tcase_add_test(tc, test_capture_removed);
	tcase_add_test(tc, test_capture_reentrancy);
	tcase_add_test(tc, test_pid_after_fork);
	tcase_add_test(tc, test_threads_whole_lines);
	tcase_add_loop_test(tc, test_syslog_facility, 0,
			    LOFT_N_ELEMENTS(facility_cases));
	tcase_add_test(tc, test_syslog_line_has_no_timestamp);
	tcase_add_exit_test(tc, test_fatal_exits, 75);
	tcase_add_test(tc, test_fatal_logged);
	tcase_add_test_raise_signal(tc, test_panic_aborts, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
