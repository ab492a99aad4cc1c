/*
 * test_message - unit tests of the message spool (daemon/delivery/message.c):
 * CRLF normalisation across appends, spilling to a temp file, header facts,
 * Return-Path and mbox From_ line removal, sizes, and mboxo escaping.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fd_io.h"
#include "message.h"
#include "strbuf.h"
#include "xalloc.h"

/* build_message - a finished message from NULL-terminated chunks */
static struct message *build_message(const char *const *chunks)
{
	struct message *msg = message_create(NULL);
	const char *error = NULL;
	size_t i;

	for (i = 0; chunks[i] != NULL; i++)
		ck_assert_msg(message_append(msg, chunks[i], strlen(chunks[i]),
					     &error) == 0, "append: %s", error);
	ck_assert_msg(message_finish(msg, &error) == 0, "finish: %s", error);
	return msg;
}

/* write_out - message_write into a memfd, read back into out */
static void write_out(struct message *msg, const char *prefix,
		      bool escape, struct strbuf *out)
{
	const char *error = NULL;
	uint64_t size = 0;
	char buf[65536];
	ssize_t n;
	int fd = memfd_create("test_message", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(message_write(msg, prefix, prefix == NULL ? 0 :
				    strlen(prefix), fd, escape, &size,
				    &error) == 0, "write: %s", error);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	strbuf_init(out, 1024);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append(out, buf, (size_t)n);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(size == out->len, "size_r: got %llu, want %zu",
		      (unsigned long long)size, out->len);
	close(fd);
}

struct write_case {
	const char *name;
	const char *chunks[6];
	bool escape;
	const char *want;
};

static const struct write_case write_cases[] = {
	{ "crlf", { "A: b\r\n\r\nbody\r\n", NULL }, false, "A: b\n\nbody\n" },
	{ "crlf split", { "A: b\r", "\n\r", "\nbody\r", "\n", NULL }, false,
	  "A: b\n\nbody\n" },
	{ "bare cr kept", { "A: b\n\nx\ry\r", NULL }, false, "A: b\n\nx\ry\r" },
	{ "bare cr split", { "A: b\n\nx\r", "y\r", "\r\n", NULL }, false,
	  "A: b\n\nx\ry\r\n" },
	{ "return-path dropped", { "Return-Path: <a@b>\nX: 1\n\nbody\n", NULL },
	  false, "X: 1\n\nbody\n" },
	{ "return-path folded", { "X: 1\nreturn-path: <a@b>\n\t(c)\n  d\nY: 2\n\nbody\n",
				  NULL }, false, "X: 1\nY: 2\n\nbody\n" },
	{ "return-path twice", { "Return-Path: <a>\nReturn-Path: <b>\nX: 1\n\n", NULL },
	  false, "X: 1\n\n" },
	{ "return-path in body kept", { "X: 1\n\nReturn-Path: <a>\n", NULL },
	  false, "X: 1\n\nReturn-Path: <a>\n" },
	{ "from line dropped", { "From sender@example.org Mon Jan  1 00:00:00 2024\n",
				 "Return-Path: <x>\nX: 1\n\nbody\n", NULL },
	  false, "X: 1\n\nbody\n" },
	{ "From: header kept", { "From: a@b\n\nbody\n", NULL }, false,
	  "From: a@b\n\nbody\n" },
	{ "header only", { "X: 1\nReturn-Path: <a>", NULL }, false, "X: 1\n" },
	{ "empty", { NULL }, false, "" },
	{ "escape", { "From x@y date\nFrom: a\n\nFrom here\nxFrom no\n>From yes\nFrom",
		      NULL }, true,
	  "From: a\n\n>From here\nxFrom no\n>From yes\nFrom\n" },
	{ "escape split", { "X: 1\n\nFr", "om ", "a\nFro", "m\n", NULL }, true,
	  "X: 1\n\n>From a\nFrom\n" },
	{ "escape adds lf", { "X: 1\n\nbody", NULL }, true, "X: 1\n\nbody\n" },
	{ "escape no body", { "X: 1\n", NULL }, true, "X: 1\n" },
};

START_TEST(test_write_cases)
{
	const struct write_case *c = &write_cases[_i];
	struct message *msg = build_message(c->chunks);
	struct strbuf out;

	write_out(msg, NULL, c->escape, &out);
	ck_assert_msg(out.len == strlen(c->want) &&
		      memcmp(out.data, c->want, out.len) == 0,
		      "%s: got \"%s\", want \"%s\"", c->name, out.data, c->want);
	if (!c->escape) {
		ck_assert_msg(message_size(msg) == out.len,
			      "%s: size got %llu, want %zu", c->name,
			      (unsigned long long)message_size(msg), out.len);
		ck_assert_msg(message_vsize(msg) ==
			      out.len + message_count_lf(out.data, out.len),
			      "%s: vsize got %llu", c->name,
			      (unsigned long long)message_vsize(msg));
	}
	strbuf_free(&out);
	message_free(&msg);
	ck_assert_ptr_null(msg);
}
END_TEST

struct header_case {
	const char *name;
	const char *input;
	const char *msgid, *subject, *from, *sender;
	const char *lookup_name, *lookup_value;
};

static const struct header_case header_cases[] = {
	{ "simple", "Message-ID: <1@x>\nSubject: hi\nFrom: A <a@x>\n\nb\n",
	  "<1@x>", "hi", "A <a@x>", NULL, "from", "A <a@x>" },
	{ "folded subject", "Subject: one\n two\n\t three  \nX-Y:  v \n\n",
	  NULL, "one two three", NULL, NULL, "x-y", "v" },
	{ "case insensitive", "message-id:<2@x>\nSUBJECT : s\n\n", "<2@x>", "s",
	  NULL, NULL, "Message-Id", "<2@x>" },
	{ "first wins", "Subject: a\nSubject: b\n\n", NULL, "a", NULL, NULL,
	  "subject", "a" },
	{ "body not header", "X: 1\n\nSubject: no\n", NULL, NULL, NULL, NULL,
	  "subject", NULL },
	{ "header-less", "\nSubject: no\n", NULL, NULL, NULL, NULL, "subject",
	  NULL },
	{ "all header", "Subject: yes", NULL, "yes", NULL, NULL, "subject",
	  "yes" },
	{ "from line", "From bounce@x.org Thu Jan  1 00:00:00 2026\nSubject: s\n\n",
	  NULL, "s", NULL, "bounce@x.org", "received", NULL },
	{ "from line only first", "X: 1\nFrom x y\n\n", NULL, NULL, NULL, NULL,
	  "x", "1" },
	{ "crlf header", "Subject: a\r\n b\r\n\r\n", NULL, "a b", NULL, NULL,
	  "subject", "a b" },
	{ "empty value", "Subject:\n\n", NULL, "", NULL, NULL, "subject", "" },
};

/* str_eq_null - equal strings or both NULL */
static bool str_eq_null(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
		(a != NULL && b != NULL && strcmp(a, b) == 0);
}

START_TEST(test_header_cases)
{
	const struct header_case *c = &header_cases[_i];
	const char *chunks[] = { c->input, NULL };
	struct message *msg = build_message(chunks);

	ck_assert_msg(str_eq_null(message_msgid(msg), c->msgid),
		      "%s: msgid got %s, want %s", c->name,
		      message_msgid(msg), c->msgid);
	ck_assert_msg(str_eq_null(message_subject(msg), c->subject),
		      "%s: subject got %s, want %s", c->name,
		      message_subject(msg), c->subject);
	ck_assert_msg(str_eq_null(message_from(msg), c->from),
		      "%s: from got %s, want %s", c->name, message_from(msg),
		      c->from);
	ck_assert_msg(str_eq_null(message_mbox_sender(msg), c->sender),
		      "%s: sender got %s, want %s", c->name,
		      message_mbox_sender(msg), c->sender);
	ck_assert_msg(str_eq_null(message_header(msg, c->lookup_name),
				  c->lookup_value),
		      "%s: %s got %s, want %s", c->name, c->lookup_name,
		      message_header(msg, c->lookup_name), c->lookup_value);
	/* cached lookups stay valid */
	ck_assert_msg(str_eq_null(message_header(msg, c->lookup_name),
				  c->lookup_value), "%s: second lookup", c->name);
	message_free(&msg);
}
END_TEST

START_TEST(test_value_cap)
{
	struct strbuf in;
	const char *chunks[2];
	struct message *msg;
	size_t i;

	strbuf_init(&in, 4096);
	strbuf_append_str(&in, "Subject: ");
	for (i = 0; i < 3000; i++)
		strbuf_putc(&in, (char)('a' + i % 26));
	strbuf_append_str(&in, "\n\n");
	chunks[0] = in.data;
	chunks[1] = NULL;
	msg = build_message(chunks);
	ck_assert_uint_eq(strlen(message_subject(msg)), 1000);
	ck_assert_int_eq(strncmp(message_subject(msg), "abcdef", 6), 0);
	message_free(&msg);
	strbuf_free(&in);
}
END_TEST

/* append_pattern - a large body with CRLF lines in irregular chunks */
static void append_pattern(struct message *msg, struct strbuf *want,
			   size_t lines)
{
	const char *error = NULL;
	struct strbuf raw;
	size_t i, off, step;

	strbuf_init(&raw, lines * 64);
	strbuf_append_str(&raw, "From x@y Thu Jan  1 00:00:00 2026\r\n"
			  "Return-Path: <x@y>\r\nSubject: big\r\n\r\n");
	strbuf_append_str(want, "Subject: big\n\n");
	for (i = 0; i < lines; i++) {
		strbuf_appendf(&raw, "line %zu with some padding text\r\n", i);
		strbuf_appendf(want, "line %zu with some padding text\n", i);
	}
	/* odd chunk sizes put CR and LF into different appends */
	for (off = 0, step = 1; off < raw.len; off += step, step = step * 7 % 9001 + 1) {
		size_t n = raw.len - off < step ? raw.len - off : step;

		ck_assert_msg(message_append(msg, raw.data + off, n, &error) == 0,
			      "append: %s", error);
	}
	ck_assert_uint_eq(message_input_size(msg), raw.len);
	strbuf_free(&raw);
}

START_TEST(test_spill)
{
	struct message *msg = message_create("/tmp");
	const char *error = NULL;
	struct strbuf want, out;

	strbuf_init(&want, 1 << 20);
	append_pattern(msg, &want, 40000);	/* about 1.3 MB */
	ck_assert_msg(message_finish(msg, &error) == 0, "finish: %s", error);
	ck_assert_str_eq(message_subject(msg), "big");
	ck_assert_str_eq(message_mbox_sender(msg), "x@y");
	ck_assert_uint_eq(message_size(msg), want.len);
	ck_assert_uint_eq(message_vsize(msg),
			  want.len + message_count_lf(want.data, want.len));
	write_out(msg, "X-Prefix: 1\n", false, &out);
	ck_assert_uint_eq(out.len, want.len + 12);
	ck_assert_int_eq(memcmp(out.data, "X-Prefix: 1\n", 12), 0);
	ck_assert_msg(memcmp(out.data + 12, want.data, want.len) == 0,
		      "spilled content differs");
	strbuf_free(&out);
	/* a second write of the same message gives the same bytes */
	write_out(msg, NULL, false, &out);
	ck_assert_uint_eq(out.len, want.len);
	ck_assert_int_eq(memcmp(out.data, want.data, want.len), 0);
	strbuf_free(&out);
	strbuf_free(&want);
	message_free(&msg);
}
END_TEST

START_TEST(test_huge_header)
{
	struct strbuf in, out;
	const char *chunks[2];
	struct message *msg;
	size_t i;

	/* 80 KiB of header: lookups see the first 64 KiB only, but the
	   remembered fields and Return-Path removal cover all of it */
	strbuf_init(&in, 90000);
	strbuf_append_str(&in, "X-Early: e\n");
	for (i = 0; i < 2000; i++)
		strbuf_appendf(&in, "X-Filler-%04zu: %s\n", i, "0123456789abcdef0123");
	strbuf_append_str(&in, "Subject: late\nReturn-Path: <rp>\n\tfolded\n"
			  "X-Late: l\n\nbody\n");
	chunks[0] = in.data;
	chunks[1] = NULL;
	msg = build_message(chunks);
	ck_assert_str_eq(message_header(msg, "x-early"), "e");
	ck_assert_ptr_null(message_header(msg, "x-late"));
	ck_assert_str_eq(message_subject(msg), "late");
	write_out(msg, NULL, false, &out);
	ck_assert_ptr_null(strstr(out.data, "Return-Path"));
	ck_assert_ptr_null(strstr(out.data, "folded"));
	ck_assert_uint_eq(out.len, in.len - strlen("Return-Path: <rp>\n\tfolded\n"));
	strbuf_free(&out);
	strbuf_free(&in);
	message_free(&msg);
}
END_TEST

START_TEST(test_spill_bad_dir)
{
	struct message *msg = message_create("/nonexistent/loft-test");
	const char *error = NULL;
	char *big = xcalloc(1, 300 * 1024);

	memset(big, 'a', 300 * 1024);
	ck_assert_int_eq(message_append(msg, big, 300 * 1024, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "/nonexistent/loft-test"));
	free(big);
	message_free(&msg);
}
END_TEST

START_TEST(test_sizes_with_prefix)
{
	const char *chunks[] = { "Return-Path: <a>\r\nX: 1\r\n\r\nb\r\n", NULL };
	struct message *msg = build_message(chunks);

	ck_assert_uint_eq(message_input_size(msg), strlen(chunks[0]));
	ck_assert_uint_eq(message_size(msg), strlen("X: 1\n\nb\n"));
	ck_assert_uint_eq(message_vsize(msg), strlen("X: 1\n\nb\n") + 3);
	ck_assert_uint_eq(message_count_lf("a\nb\n\n", 5), 3);
	ck_assert_uint_eq(message_count_lf("", 0), 0);
	message_free(&msg);
}
END_TEST

START_TEST(test_write_error)
{
	const char *chunks[] = { "X: 1\n\nbody\n", NULL };
	struct message *msg = build_message(chunks);
	const char *error = NULL;
	uint64_t size = 0;
	int fds[2];

	/* a read-only fd makes write() fail with EBADF */
	ck_assert_int_eq(pipe(fds), 0);
	errno = 0;
	ck_assert_int_eq(message_write(msg, "P: 1\n", 5, fds[0], false, &size,
				       &error), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_ptr_nonnull(error);
	close(fds[0]);
	close(fds[1]);
	message_free(&msg);
}
END_TEST

/* output_to_fd - message_write_smtp_data's output into *(int *)context */
static int output_to_fd(const void *data, size_t len, void *context)
{
	return fd_write_full(*(int *)context, data, len);
}

/* SMTP DATA content: CRLF line ends, leading dots doubled, the "."
   line at the end (after a line end added when the message has none) */
START_TEST(test_write_smtp_data)
{
	static const struct {
		const char *in, *prefix, *want;
	} cases[] = {
		{ "A: b\r\n\r\nbody\r\n", "", "A: b\r\n\r\nbody\r\n.\r\n" },
		{ "A: b\n\n.\n..x\nx.\n", "R: 1\n",
		  "R: 1\r\nA: b\r\n\r\n..\r\n...x\r\nx.\r\n.\r\n" },
		{ "A: b\n\nno end", "", "A: b\r\n\r\nno end\r\n.\r\n" },
		{ "", "", ".\r\n" },
		{ ".A: b\n", "", "..A: b\r\n.\r\n" },
	};
	char buf[256];

	for (size_t i = 0; i < LOFT_N_ELEMENTS(cases); i++) {
		const char *chunks[] = { cases[i].in, NULL };
		struct message *msg = build_message(chunks);
		const char *error = NULL;
		uint64_t size = 0;
		int fd = memfd_create("smtp", MFD_CLOEXEC);
		ssize_t n;

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(message_write_smtp_data(msg, cases[i].prefix,
			strlen(cases[i].prefix), output_to_fd, &fd, &size,
			&error), 0);
		ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
		n = read(fd, buf, sizeof(buf) - 1);
		ck_assert_int_ge(n, 0);
		buf[n] = '\0';
		ck_assert_str_eq(buf, cases[i].want);
		ck_assert_uint_eq(size, (uint64_t)n);
		close(fd);
		message_free(&msg);
	}
}
END_TEST

/* message_suite - all message tests */
static Suite *message_suite(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_write_cases, 0,
			    (int)LOFT_N_ELEMENTS(write_cases));
	tcase_add_loop_test(tc, test_header_cases, 0,
			    (int)LOFT_N_ELEMENTS(header_cases));
	tcase_add_test(tc, test_value_cap);
	tcase_add_test(tc, test_spill);
	tcase_add_test(tc, test_huge_header);
	tcase_add_test(tc, test_spill_bad_dir);
	tcase_add_test(tc, test_sizes_with_prefix);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_write_smtp_data);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(message_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
