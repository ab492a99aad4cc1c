/*
 * test_log_remote - unit tests of the log channel: the record header and
 * its decoding, lines sent by the library instead of written (the same
 * bytes a file would get), the direct-write fallback when the channel is
 * full, closed or the line too long (counted, never blocking), the
 * receiving side's log_write_line (syslog without the timestamp, one line
 * per record), log_write_for's prefix and picking up LOFT_LOG_FD. Each
 * test runs in its own forked process (CK_FORK) with a fresh temp dir.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "log_remote.h"

#define TEST_STAMP "%%stamp "
#define TEST_STAMP_OUT "%stamp "

static char test_dir[64];
static char test_file[128];
static int test_fds[2] = { -1, -1 };	/* [0] receives, [1] sends */
static char test_captured[1024];

/* test_capture_cb - keep the last captured line */
static void test_capture_cb(enum log_level level, const char *line,
			    void *context)
{
	(void)level;
	(void)context;
	snprintf(test_captured, sizeof(test_captured), "%s", line);
}

/* test_read_file - the whole file as a string ("" when missing) */
static char *test_read_file(const char *path)
{
	char *data = xmalloc(256 * 1024);
	int fd = open(path, O_RDONLY);
	ssize_t len = fd < 0 ? 0 : read(fd, data, 256 * 1024 - 1);

	if (fd >= 0)
		close(fd);
	data[len > 0 ? len : 0] = '\0';
	return data;
}

/* test_configure - everything to test_file (or path), timestamp stamp */
static void test_configure(const char *path, const char *stamp)
{
	struct log_settings set = {
		.log_path = path,
		.syslog_facility = "mail",
		.log_timestamp = stamp,
		.format = LOG_FORMAT_TEXT,
	};
	const char *error = NULL;

	ck_assert_msg(log_configure(&set, &error) == 0, "log_configure: %s",
		      error);
}

/* test_recv - one record from the channel, NUL-terminated */
static size_t test_recv(unsigned char *buf, size_t size)
{
	ssize_t ret = recv(test_fds[0], buf, size - 1, MSG_DONTWAIT);

	ck_assert_msg(ret >= 0, "recv: %s", strerror(errno));
	buf[ret] = '\0';
	return (size_t)ret;
}

static void setup(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_log_remote.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	snprintf(test_file, sizeof(test_file), "%s/all.log", test_dir);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    test_fds), 0);
	test_captured[0] = '\0';
	unsetenv(LOG_REMOTE_ENV);
	log_init("lmtp");
	log_set_capture(test_capture_cb, NULL);
}

static void teardown(void)
{
	log_deinit();
	for (int i = 0; i < 2; i++) {
		if (test_fds[i] >= 0)
			close(test_fds[i]);
		test_fds[i] = -1;
	}
	unlink(test_file);
	rmdir(test_dir);
}

/* ---- framing ---- */

struct decode_case {
	const char *name;
	const unsigned char *data;
	size_t len;
	int ret;
	enum log_level level;
	size_t timestamp_len;
	const char *line;	/* or the error */
};

static const struct decode_case decode_cases[] = {
	{ "text line", (const unsigned char *)"\x01\x01\x00\x03" "ts line", 11,
	  0, LOG_LEVEL_INFO, 3, "ts line" },
	{ "empty line", (const unsigned char *)"\x01\x03\x00\x00", 4,
	  0, LOG_LEVEL_ERROR, 0, "" },
	{ "whole line is timestamp", (const unsigned char *)"\x01\x00\x00\x02" "ab", 6,
	  0, LOG_LEVEL_DEBUG, 2, "ab" },
	{ "short", (const unsigned char *)"\x01\x01\x00", 3,
	  -1, 0, 0, "record shorter than its header" },
	{ "version", (const unsigned char *)"\x02\x01\x00\x00" "x", 5,
	  -1, 0, 0, "unknown record version" },
	{ "level", (const unsigned char *)"\x01\x06\x00\x00" "x", 5,
	  -1, 0, 0, "unknown log level" },
	{ "timestamp past the end", (const unsigned char *)"\x01\x01\x01\x00" "x", 5,
	  -1, 0, 0, "timestamp longer than the line" },
};

START_TEST(test_decode)
{
	const struct decode_case *tc = &decode_cases[_i];
	struct log_remote_record rec;
	const char *error = NULL;
	int ret = log_remote_decode(tc->data, tc->len, &rec, &error);

	ck_assert_msg(ret == tc->ret, "%s: got %d, want %d (%s)", tc->name, ret,
		      tc->ret, error != NULL ? error : "");
	if (ret < 0) {
		ck_assert_msg(strcmp(error, tc->line) == 0, "%s: got \"%s\", want \"%s\"",
			      tc->name, error, tc->line);
		return;
	}
	ck_assert_msg(rec.level == tc->level, "%s: got level %d, want %d",
		      tc->name, rec.level, tc->level);
	ck_assert_msg(rec.timestamp_len == tc->timestamp_len,
		      "%s: got timestamp %zu, want %zu", tc->name,
		      rec.timestamp_len, tc->timestamp_len);
	ck_assert_msg(rec.len == strlen(tc->line) &&
		      memcmp(rec.line, tc->line, rec.len) == 0,
		      "%s: got \"%.*s\", want \"%s\"", tc->name, (int)rec.len,
		      rec.line, tc->line);
}
END_TEST

struct header_case {
	enum log_level level;
	size_t timestamp_len, line_len;
	unsigned char want[LOG_REMOTE_HEADER_SIZE];
};

static const struct header_case header_cases[] = {
	{ LOG_LEVEL_WARNING, 20, 100, { 1, 2, 0, 20 } },
	{ LOG_LEVEL_PANIC, 300, 1000, { 1, 5, 1, 44 } },
	/* capped at the line, then at 16 bits */
	{ LOG_LEVEL_INFO, 50, 10, { 1, 1, 0, 10 } },
	{ LOG_LEVEL_INFO, 70000, 70000, { 1, 1, 0xff, 0xff } },
};

START_TEST(test_header)
{
	const struct header_case *tc = &header_cases[_i];
	unsigned char got[LOG_REMOTE_HEADER_SIZE];

	log_remote_encode_header(tc->level, tc->timestamp_len, tc->line_len, got);
	ck_assert_msg(memcmp(got, tc->want, sizeof(got)) == 0,
		      "case %d: got %02x %02x %02x %02x, want %02x %02x %02x %02x",
		      _i, got[0], got[1], got[2], got[3], tc->want[0],
		      tc->want[1], tc->want[2], tc->want[3]);
}
END_TEST

/* ---- the sending side ---- */

START_TEST(test_sent_not_written_same_bytes)
{
	unsigned char buf[1024];
	struct log_remote_record rec;
	const char *error;
	char *direct, *received;
	size_t len;

	test_configure(test_file, TEST_STAMP);
	log_set_remote(test_fds[1]);
	log_set_session("S1");
	log_warning("over the channel");
	received = test_read_file(test_file);
	ck_assert_msg(received[0] == '\0', "got \"%s\" in the file, want nothing",
		      received);
	free(received);
	ck_assert_uint_eq(log_write_failures(), 0);

	len = test_recv(buf, sizeof(buf));
	ck_assert_int_eq(log_remote_decode(buf, len, &rec, &error), 0);
	ck_assert_int_eq(rec.level, LOG_LEVEL_WARNING);
	ck_assert_uint_eq(rec.timestamp_len, strlen(TEST_STAMP_OUT));
	/* the receiving side writes it; then the same line written directly:
	   the file holds the same bytes twice */
	log_set_remote(-1);
	ck_assert_int_eq(log_remote_write_record(buf, len, &error), 0);
	log_warning("over the channel");
	direct = test_read_file(test_file);
	len = strlen(direct) / 2;
	ck_assert_msg(strlen(direct) == 2 * len &&
		      strncmp(direct, direct + len, len) == 0,
		      "got \"%s\", want the same line twice", direct);
	ck_assert_msg(strncmp(direct, TEST_STAMP_OUT "lmtp<", 12) == 0 &&
		      strstr(direct, "><S1>: Warning: over the channel\n") != NULL,
		      "got \"%s\"", direct);
	free(direct);
}
END_TEST

START_TEST(test_full_channel_falls_back)
{
	unsigned char buf[LOG_REMOTE_MAX_RECORD];
	int size = 4096;
	unsigned int sent = 0;
	char *file;

	ck_assert_int_eq(setsockopt(test_fds[1], SOL_SOCKET, SO_SNDBUF, &size,
				    sizeof(size)), 0);
	test_configure(test_file, "");
	log_set_remote(test_fds[1]);
	while (log_remote_send(test_fds[1], LOG_LEVEL_INFO, 0, "filler", 6) == 0)
		sent++;
	ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK,
		      "got errno %d, want EAGAIN", errno);
	ck_assert_uint_gt(sent, 0);
	/* never blocks: the line goes to the file and is counted */
	log_error("channel full");
	file = test_read_file(test_file);
	ck_assert_msg(strstr(file, ": Error: channel full\n") != NULL,
		      "got \"%s\"", file);
	free(file);
	ck_assert_uint_eq(log_write_failures(), 1);
	/* the queue is intact: every filler is still there, in order */
	for (unsigned int i = 0; i < sent; i++) {
		size_t len = test_recv(buf, sizeof(buf));

		ck_assert_uint_eq(len, LOG_REMOTE_HEADER_SIZE + 6);
	}
	/* room again: back over the channel */
	log_info("room again");
	ck_assert_uint_eq(log_write_failures(), 1);
	ck_assert_uint_eq(test_recv(buf, sizeof(buf)),
			  LOG_REMOTE_HEADER_SIZE + strlen(test_captured));
}
END_TEST

START_TEST(test_closed_or_too_long_falls_back)
{
	char *big = xmalloc(LOG_REMOTE_MAX_LINE + 2);
	char *file;

	memset(big, 'b', LOG_REMOTE_MAX_LINE + 1);
	big[LOG_REMOTE_MAX_LINE + 1] = '\0';
	test_configure(test_file, "");
	log_set_remote(test_fds[1]);
	log_info("%s", big);
	ck_assert_uint_eq(log_write_failures(), 1);
	free(big);
	/* nobody reads any more: EPIPE, not SIGPIPE */
	close(test_fds[0]);
	test_fds[0] = -1;
	log_info("reader gone");
	ck_assert_uint_eq(log_write_failures(), 2);
	file = test_read_file(test_file);
	ck_assert_msg(strstr(file, ": Info: bbbb") != NULL &&
		      strstr(file, ": Info: reader gone\n") != NULL,
		      "got \"%.80s...\"", file);
	free(file);
}
END_TEST

/* ---- the receiving side ---- */

START_TEST(test_write_line)
{
	char *file;

	test_configure(test_file, "");
	log_write_line(LOG_LEVEL_INFO, "STAMP a\nb\0c", 11, 6);
	file = test_read_file(test_file);
	ck_assert_str_eq(file, "STAMP a?b?c\n");
	free(file);
	ck_assert_str_eq(test_captured, "STAMP a?b?c");
	/* syslog: the same line without its timestamp */
	test_configure("syslog", "");
	log_write_line(LOG_LEVEL_ERROR, "STAMP to syslog", 15, 6);
	ck_assert_str_eq(test_captured, "to syslog");
	ck_assert_uint_eq(log_write_failures(), 0);
}
END_TEST

START_TEST(test_write_for)
{
	char want[128];
	char *file;

	test_configure(test_file, "");
	log_set_session("mine");
	log_set_user("me");
	log_write_for(LOG_LEVEL_ERROR, "stats", 4242, "stderr", "stderr: %s",
		      "boom");
	log_info("own line");
	file = test_read_file(test_file);
	snprintf(want, sizeof(want),
		 "stats<4242>: Error: stderr: boom\nlmtp(me)<%d><mine>: Info: own line\n",
		 (int)getpid());
	ck_assert_str_eq(file, want);
	free(file);
}
END_TEST

/* ---- the environment ---- */

START_TEST(test_env_fd)
{
	char value[16];
	int dgram[2], file_fd;

	ck_assert_int_eq(log_remote_env_fd(LOG_REMOTE_ENV), -1);
	setenv(LOG_REMOTE_ENV, "not a number", 1);
	ck_assert_int_eq(log_remote_env_fd(LOG_REMOTE_ENV), -1);
	file_fd = open(test_dir, O_RDONLY | O_DIRECTORY);
	snprintf(value, sizeof(value), "%d", file_fd);
	setenv(LOG_REMOTE_ENV, value, 1);
	ck_assert_int_eq(log_remote_env_fd(LOG_REMOTE_ENV), -1);
	close(file_fd);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram), 0);
	snprintf(value, sizeof(value), "%d", dgram[1]);
	setenv(LOG_REMOTE_ENV, value, 1);
	ck_assert_int_eq(log_remote_env_fd(LOG_REMOTE_ENV), -1);
	close(dgram[0]);
	close(dgram[1]);
	snprintf(value, sizeof(value), "%d", test_fds[1]);
	setenv(LOG_REMOTE_ENV, value, 1);
	ck_assert_int_eq(log_remote_env_fd(LOG_REMOTE_ENV), test_fds[1]);
	/* log_init picks it up */
	ck_assert_int_eq(log_remote_fd(), -1);
	log_init("stats");
	ck_assert_int_eq(log_remote_fd(), test_fds[1]);
	unsetenv(LOG_REMOTE_ENV);
}
END_TEST

START_TEST(test_configure_remote_ignores_unopenable_files)
{
	struct log_settings set = {
		.log_path = "/nonexistent-loft-dir/x.log",
		.syslog_facility = "mail",
	};
	const char *error = NULL;

	ck_assert_int_eq(log_configure(&set, &error), -1);
	log_set_remote(test_fds[1]);
	error = NULL;
	ck_assert_msg(log_configure(&set, &error) == 0, "got error %s", error);
	set.syslog_facility = "nosuch";
	ck_assert_int_eq(log_configure(&set, &error), -1);
	ck_assert_str_eq(error, "Invalid syslog_facility: nosuch");
}
END_TEST

static Suite *log_remote_suite(void)
{
	Suite *s = suite_create("log_remote");
	TCase *tc = tcase_create("log_remote");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_decode, 0, LOFT_N_ELEMENTS(decode_cases));
	tcase_add_loop_test(tc, test_header, 0, LOFT_N_ELEMENTS(header_cases));
	tcase_add_test(tc, test_sent_not_written_same_bytes);
	tcase_add_test(tc, test_full_channel_falls_back);
	tcase_add_test(tc, test_closed_or_too_long_falls_back);
	tcase_add_test(tc, test_write_line);
	tcase_add_test(tc, test_write_for);
	tcase_add_test(tc, test_env_fd);
	tcase_add_test(tc, test_configure_remote_ignores_unopenable_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_remote_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
