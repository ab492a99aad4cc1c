/*
 * test_mbox - unit tests for mbox delivery through storage_save(): the
 * From_ line, ">From " quoting and separators (checked byte for byte and
 * with Python's mailbox.mbox when python3 is installed), 20 concurrent
 * deliveries into one file, lock timeouts (dotlock and fcntl), stale
 * dotlocks, an all-or-nothing append on a full disk (RLIMIT_FSIZE), the
 * repair of an append whose writer was killed half way (with every lock
 * method; left alone when others appended after it or while a live process
 * holds its journal), INBOX and mailbox creation and subscriptions.
 */
#include <check.h>
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
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail_location.h"
#include "mbox_journal.h"
#include "mbox_lock.h"
#include "message.h"
#include "storage.h"
#include "strbuf.h"
#include "xalloc.h"

static char test_dir[64];
static char *test_root;		/* <dir>/mail: the mbox root */
static char *test_inbox;	/* <dir>/inbox: INBOX outside the root */
static struct mail_location test_loc;

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

/* setup - a fresh directory and the location mbox:<dir>/mail:INBOX=<dir>/inbox */
static void setup(void)
{
	const char *error = NULL;
	char *location;

	signal(SIGXFSZ, SIG_IGN);
	strcpy(test_dir, "/tmp/loft-mbox-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	test_root = xasprintf("%s/mail", test_dir);
	test_inbox = xasprintf("%s/inbox", test_dir);
	location = xasprintf("mbox:%s:INBOX=%s", test_root, test_inbox);
	ck_assert_msg(mail_location_parse(location, NULL, &test_loc, &error) == 0,
		      "got error %s", error);
	free(location);
}

static void teardown(void)
{
	nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	mail_location_free(&test_loc);
	XFREE(test_root);
	XFREE(test_inbox);
}

/* init_params - save parameters for mailbox with the defaults of a test */
static void init_params(struct storage_save_params *p, const char *mailbox)
{
	memset(p, 0, sizeof(*p));
	p->loc = &test_loc;
	p->mailbox = mailbox;
	p->fsync = MAIL_FSYNC_OPTIMIZED;
	p->hostname = "test.example.org";
	p->lock_timeout_ms = 10000;
	p->privileged_group = "";
	p->mbox_write_locks = "dotlock fcntl";
	p->envelope_sender = "sender@example.com";
	p->prefix = "";
}

/* make_message - a finished message holding text */
static struct message *make_message(const char *text)
{
	struct message *msg = message_create(NULL);
	const char *error = NULL;

	ck_assert_msg(message_append(msg, text, strlen(text), &error) == 0,
		      "got error %s", error);
	ck_assert_msg(message_finish(msg, &error) == 0, "got error %s", error);
	return msg;
}

/* save_text - storage_save() of a message made of text */
static enum storage_error save_text(const struct storage_save_params *p,
				    const char *text,
				    struct storage_save_result *result,
				    const char **error_r)
{
	struct message *msg = make_message(text);
	enum storage_error ret = storage_save(p, msg, result, error_r);

	message_free(&msg);
	return ret;
}

/* read_file - the whole file into buf (emptied first); -1 when missing */
static int read_file(const char *path, struct strbuf *buf)
{
	char tmp[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	strbuf_reset(buf);
	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		strbuf_append(buf, tmp, (size_t)n);
	close(fd);
	return 0;
}

/* write_file - create path with content */
static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
}

/* take_string - the buffer's string; the strbuf is freed */
static char *take_string(struct strbuf *buf)
{
	char *str = strbuf_detach(buf);

	strbuf_free(buf);
	return str;
}

/* now_ms - monotonic milliseconds */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct mbox_part {
	const char *from;	/* the From_ line, without its LF */
	size_t from_len;
	const char *body;	/* message up to (not incl.) the separator */
	size_t body_len;
};

/* split_mbox - the messages of an mbox text: each starts at a "From " line
   and, when another follows, ends with an empty separator line that the
   body does not include; returns the count (all of them, up to max kept),
   or -1 when a message is not followed by the separator */
static int split_mbox(const char *data, size_t len, struct mbox_part *parts,
		      int max)
{
	const char *p = data, *end = data + len, *eol;
	struct mbox_part *cur = NULL;
	int count = 0;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol == NULL ? end : eol + 1;
		if ((size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0) {
			if (cur != NULL) {
				if (p - cur->body < 1 || p[-1] != '\n' ||
				    p - cur->body < 2 || p[-2] != '\n')
					return -1;
				cur->body_len = (size_t)(p - cur->body) - 1;
			}
			cur = count < max ? &parts[count] : NULL;
			if (cur != NULL) {
				cur->from = p;
				cur->from_len = (size_t)(eol - p) - 1;
				cur->body = eol;
			}
			count++;
		}
		p = eol;
	}
	if (cur != NULL) {
		if (end - cur->body < 1 || end[-1] != '\n' ||
		    end - cur->body < 2 || end[-2] != '\n')
			return -1;
		cur->body_len = (size_t)(end - cur->body) - 1;
	}
	return count;
}

/* python_mbox - python3's mailbox.mbox view of path into out: "<count>\n"
   then per message "<get_from()>\n<payload>\x01"; false without python3 */
static bool python_mbox(const char *path, struct strbuf *out)
{
	static const char script[] =
		"import mailbox, sys\n"
		"msgs = list(mailbox.mbox(sys.argv[1], create=False))\n"
		"sys.stdout.write('%d\\n' % len(msgs))\n"
		"for m in msgs:\n"
		"    sys.stdout.write(m.get_from() + '\\n' + m.get_payload() + '\\x01')\n";
	char *script_path, *cmd;
	char tmp[8192];
	size_t n;
	FILE *fp;

	if (system("python3 -c 'import mailbox' >/dev/null 2>&1") != 0)
		return false;
	script_path = xasprintf("%s/.dump.py", test_dir);
	write_file(script_path, script);
	cmd = xasprintf("python3 %s %s", script_path, path);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	strbuf_reset(out);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		strbuf_append(out, tmp, n);
	ck_assert_int_eq(pclose(fp), 0);
	unlink(script_path);
	free(script_path);
	free(cmd);
	return true;
}

START_TEST(test_from_line)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	struct strbuf buf;
	regex_t re;
	char year[16];
	time_t now = time(NULL);
	struct tm tm;

	init_params(&p, "INBOX");
	ck_assert_msg(save_text(&p, "Subject: x\n\nhi\n", &res, &error) == STORAGE_OK,
		      "got error %s", error);
	ck_assert_str_eq(res.path, test_inbox);
	storage_save_result_free(&res);

	strbuf_init(&buf, 256);
	ck_assert_int_eq(read_file(test_inbox, &buf), 0);
	/* Dovecot's From_ line: two spaces, zero-padded day, local time */
	ck_assert_int_eq(regcomp(&re, "^From sender@example\\.com  "
				 "(Sun|Mon|Tue|Wed|Thu|Fri|Sat) "
				 "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
				 "[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "
				 "[0-9]{4}\n", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, buf.data, 0, NULL, 0) == 0,
		      "got From_ line %s", buf.data);
	regfree(&re);
	localtime_r(&now, &tm);
	snprintf(year, sizeof(year), " %d\n", tm.tm_year + 1900);
	ck_assert_msg(strstr(buf.data, year) != NULL, "got %s, want year %s",
		      buf.data, year);
	strbuf_free(&buf);
}
END_TEST

struct content_case {
	const char *name;
	const char *sender;
	const char *prefix;
	const char *input;
	const char *want_from;	/* From_ line up to the date */
	const char *want;	/* what follows the From_ line */
};

static const struct content_case content_cases[] = {
	{ "plain", "a@b.c", "", "Subject: s\n\nbody\n",
	  "From a@b.c  ", "Subject: s\n\nbody\n\n" },
	{ "no final LF", "a@b.c", "", "Subject: s\n\nbody",
	  "From a@b.c  ", "Subject: s\n\nbody\n\n" },
	{ "From quoting", "a@b.c", "",
	  "Subject: s\n\nFrom me\n>From you\nFromage\n From x\nFrom\n",
	  "From a@b.c  ",
	  "Subject: s\n\n>From me\n>From you\nFromage\n From x\nFrom\n\n" },
	{ "CRLF input", "a@b.c", "", "Subject: s\r\n\r\nbody\r\nFrom x\r\n",
	  "From a@b.c  ", "Subject: s\n\nbody\n>From x\n\n" },
	{ "leading From_ line dropped", "a@b.c", "",
	  "From old@x Mon Jan  1 00:00:00 2024\nSubject: s\n\nb\n",
	  "From a@b.c  ", "Subject: s\n\nb\n\n" },
	{ "null sender", NULL, "", "Subject: s\n\nb\n",
	  "From MAILER-DAEMON  ", "Subject: s\n\nb\n\n" },
	{ "empty sender", "", "", "Subject: s\n\nb\n",
	  "From MAILER-DAEMON  ", "Subject: s\n\nb\n\n" },
	{ "sender with space", "a b@c", "", "Subject: s\n\nb\n",
	  "From a_b@c  ", "Subject: s\n\nb\n\n" },
	{ "prefix", "a@b.c", "Return-Path: <a@b.c>\nDelivered-To: u@x\n",
	  "Return-Path: <old@x>\nSubject: s\n\nb\n", "From a@b.c  ",
	  "Return-Path: <a@b.c>\nDelivered-To: u@x\nSubject: s\n\nb\n\n" },
	{ "empty body", "a@b.c", "", "Subject: s\n\n",
	  "From a@b.c  ", "Subject: s\n\n\n" },
};

START_TEST(test_content)
{
	const struct content_case *c = &content_cases[_i];
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL, *eol;
	struct strbuf buf;

	init_params(&p, "INBOX");
	p.envelope_sender = c->sender;
	p.prefix = c->prefix;
	p.prefix_len = strlen(c->prefix);
	ck_assert_msg(save_text(&p, c->input, &res, &error) == STORAGE_OK,
		      "%s: got error %s", c->name, error);

	strbuf_init(&buf, 256);
	ck_assert_int_eq(read_file(test_inbox, &buf), 0);
	ck_assert_msg(strncmp(buf.data, c->want_from, strlen(c->want_from)) == 0,
		      "%s: got From_ line %s, want %s...", c->name, buf.data,
		      c->want_from);
	eol = strchr(buf.data, '\n');
	ck_assert_ptr_nonnull(eol);
	ck_assert_msg(strcmp(eol + 1, c->want) == 0, "%s: got [%s], want [%s]",
		      c->name, eol + 1, c->want);
	ck_assert_msg(res.size == buf.len, "%s: got size %llu, want %zu",
		      c->name, (unsigned long long)res.size, buf.len);
	ck_assert_msg(res.vsize == buf.len + message_count_lf(buf.data, buf.len),
		      "%s: got vsize %llu, want %llu", c->name,
		      (unsigned long long)res.vsize,
		      (unsigned long long)(buf.len + message_count_lf(buf.data, buf.len)));
	storage_save_result_free(&res);
	strbuf_free(&buf);
}
END_TEST

START_TEST(test_append_after_missing_lf)
{
	static const char old[] = "From x  Mon Jan 01 00:00:00 2024\n\nold body";
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	struct mbox_part parts[4];
	struct strbuf buf;

	write_file(test_inbox, old);
	init_params(&p, "INBOX");
	ck_assert_msg(save_text(&p, "Subject: s\n\nnew\n", &res, &error) == STORAGE_OK,
		      "got error %s", error);
	strbuf_init(&buf, 256);
	ck_assert_int_eq(read_file(test_inbox, &buf), 0);
	ck_assert_msg(strncmp(buf.data, old, strlen(old)) == 0 &&
		      strncmp(buf.data + strlen(old), "\nFrom sender@", 13) == 0,
		      "got %s", buf.data);
	/* the LF that ends the old message counts as appended */
	ck_assert_uint_eq(res.size, buf.len - strlen(old));
	storage_save_result_free(&res);
	/* the old message ends at its own LF, so no blank separator: the
	   next From_ still starts a message */
	ck_assert_int_eq(split_mbox(buf.data + strlen(old) + 1,
				    buf.len - strlen(old) - 1, parts, 4), 1);
	strbuf_free(&buf);
}
END_TEST

START_TEST(test_python_compat)
{
	static const char *const bodies[] = {
		"first\nFrom here\n",
		"second\n>From there\n",
		"third, no final LF",
	};
	static const char *const want_payloads[] = {
		"first\n>From here\n",
		"second\n>From there\n",
		"third, no final LF\n",
	};
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL, *q;
	struct strbuf buf, out;
	char *text;
	size_t i;

	init_params(&p, "INBOX");
	for (i = 0; i < LOFT_N_ELEMENTS(bodies); i++) {
		text = xasprintf("Subject: %zu\n\n%s", i, bodies[i]);
		ck_assert_msg(save_text(&p, text, &res, &error) == STORAGE_OK,
			      "got error %s", error);
		storage_save_result_free(&res);
		free(text);
	}
	strbuf_init(&buf, 256);
	strbuf_init(&out, 256);
	if (!python_mbox(test_inbox, &out)) {
		strbuf_free(&buf);
		strbuf_free(&out);
		return;		/* no python3 here */
	}
	ck_assert_msg(strncmp(out.data, "3\n", 2) == 0, "got %s", out.data);
	q = out.data + 2;
	for (i = 0; i < LOFT_N_ELEMENTS(bodies); i++) {
		strbuf_reset(&buf);
		strbuf_appendf(&buf, "sender@example.com  ");
		ck_assert_msg(strncmp(q, buf.data, buf.len) == 0,
			      "message %zu: got from %s", i, q);
		q = strchr(q, '\n') + 1;
		ck_assert_msg(strncmp(q, want_payloads[i], strlen(want_payloads[i])) == 0 &&
			      q[strlen(want_payloads[i])] == '\x01',
			      "message %zu: got payload [%s], want [%s]", i, q,
			      want_payloads[i]);
		q += strlen(want_payloads[i]) + 1;
	}
	strbuf_free(&buf);
	strbuf_free(&out);
}
END_TEST

#define CONC_CHILDREN 20
#define CONC_LINES 2000

/* conc_body - the body of concurrent message n, as given and as stored */
static char *conc_body(int n, bool stored)
{
	struct strbuf buf;
	int i;

	strbuf_init(&buf, CONC_LINES * 48);
	for (i = 0; i < CONC_LINES; i++) {
		if (i % 500 == 250)
			strbuf_appendf(&buf, "%sFrom the middle of %d\n",
				       stored ? ">" : "", n);
		strbuf_appendf(&buf, "line %d of message %d, padding padding\n",
			       i, n);
	}
	return take_string(&buf);
}

/* conc_child - deliver message n once the parent opens the barrier */
static void LOFT_ATTR_NORETURN conc_child(int n, int barrier_fd)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	char c, *body, *text;
	enum storage_error ret;

	(void)!read(barrier_fd, &c, 1);
	init_params(&p, "INBOX");
	body = conc_body(n, false);
	text = xasprintf("Subject: msg %d\n\n%s", n, body);
	ret = save_text(&p, text, &res, &error);
	if (ret != STORAGE_OK)
		fprintf(stderr, "child %d: %s\n", n, error);
	storage_save_result_free(&res);
	free(body);
	free(text);
	_exit((int)ret);
}

START_TEST(test_concurrent)
{
	struct mbox_part parts[CONC_CHILDREN + 1];
	bool seen[CONC_CHILDREN] = { false };
	pid_t pids[CONC_CHILDREN];
	int barrier[2], i, n, count, status;
	struct strbuf buf, out;
	char *want;

	ck_assert_int_eq(pipe(barrier), 0);
	for (i = 0; i < CONC_CHILDREN; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			close(barrier[1]);
			conc_child(i, barrier[0]);
		}
	}
	close(barrier[0]);
	close(barrier[1]);	/* all children start at once */
	for (i = 0; i < CONC_CHILDREN; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child %d: got status %d, want exit 0", i, status);
	}

	strbuf_init(&buf, 1024);
	ck_assert_int_eq(read_file(test_inbox, &buf), 0);
	count = split_mbox(buf.data, buf.len, parts, CONC_CHILDREN + 1);
	ck_assert_msg(count == CONC_CHILDREN, "got %d messages, want %d",
		      count, CONC_CHILDREN);
	for (i = 0; i < count; i++) {
		ck_assert_msg(parts[i].from_len > 26 &&
			      strncmp(parts[i].from, "From sender@example.com  ", 25) == 0,
			      "message %d: got From_ line %.*s", i,
			      (int)parts[i].from_len, parts[i].from);
		ck_assert_msg(sscanf(parts[i].body, "Subject: msg %d\n", &n) == 1 &&
			      n >= 0 && n < CONC_CHILDREN && !seen[n],
			      "message %d: bad or repeated subject", i);
		seen[n] = true;
		want = conc_body(n, true);
		ck_assert_msg(parts[i].body_len == strlen("Subject: msg \n\n") +
			      (n >= 10 ? 2 : 1) + strlen(want) &&
			      memcmp(strstr(parts[i].body, "\n\n") + 2, want,
				     strlen(want)) == 0,
			      "message %d (msg %d): body differs", i, n);
		free(want);
	}
	strbuf_init(&out, 1024);
	if (python_mbox(test_inbox, &out))
		ck_assert_msg(atoi(out.data) == CONC_CHILDREN,
			      "python read %d messages, want %d",
			      atoi(out.data), CONC_CHILDREN);
	strbuf_free(&out);
	strbuf_free(&buf);
}
END_TEST

static const char old_mbox[] = "From x  Mon Jan 01 00:00:00 2024\n\nold\n\n";

START_TEST(test_dotlock_timeout)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	struct strbuf before, after;
	char *lock_path = xasprintf("%s.lock", test_inbox);
	uint64_t start, elapsed;
	enum storage_error ret;

	write_file(test_inbox, old_mbox);
	write_file(lock_path, "");
	init_params(&p, "INBOX");
	p.lock_timeout_ms = 300;
	start = now_ms();
	ret = save_text(&p, "Subject: s\n\nb\n", &res, &error);
	elapsed = now_ms() - start;
	ck_assert_msg(ret == STORAGE_ERR_TEMP, "got %d, want STORAGE_ERR_TEMP", ret);
	ck_assert_msg(elapsed >= 280 && elapsed < 1000,
		      "got %llu ms, want about 300", (unsigned long long)elapsed);
	ck_assert_msg(strstr(error, "Timeout while waiting for lock for mbox file") != NULL &&
		      strstr(error, "dotlock") != NULL, "got error %s", error);
	ck_assert_ptr_null(res.path);
	strbuf_init(&before, 64);
	strbuf_init(&after, 64);
	ck_assert_int_eq(read_file(test_inbox, &after), 0);
	ck_assert_str_eq(after.data, old_mbox);
	ck_assert_int_eq(read_file(lock_path, &before), 0);
	strbuf_free(&before);
	strbuf_free(&after);
	free(lock_path);
}
END_TEST

START_TEST(test_stale_dotlock)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	struct timeval tv[2];
	struct mbox_part parts[3];
	struct strbuf buf;
	char *lock_path = xasprintf("%s.lock", test_inbox);

	write_file(test_inbox, old_mbox);
	write_file(lock_path, "");
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 3600;
	tv[1] = tv[0];
	ck_assert_int_eq(utimes(lock_path, tv), 0);
	init_params(&p, "INBOX");
	ck_assert_msg(save_text(&p, "Subject: s\n\nb\n", &res, &error) == STORAGE_OK,
		      "got error %s", error);
	storage_save_result_free(&res);
	ck_assert_int_eq(access(lock_path, F_OK), -1);
	strbuf_init(&buf, 256);
	ck_assert_int_eq(read_file(test_inbox, &buf), 0);
	ck_assert_int_eq(split_mbox(buf.data, buf.len, parts, 3), 2);
	strbuf_free(&buf);
	free(lock_path);
}
END_TEST

START_TEST(test_fcntl_held)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	int ready[2], hold[2], status;
	struct strbuf buf;
	char *lock_path;
	uint64_t start, elapsed;
	enum storage_error ret;
	pid_t pid;
	char c;

	write_file(test_inbox, old_mbox);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(test_inbox, O_RDWR);

		c = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		close(hold[1]);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');

	init_params(&p, "INBOX");
	p.lock_timeout_ms = 300;
	start = now_ms();
	ret = save_text(&p, "Subject: s\n\nb\n", &res, &error);
	elapsed = now_ms() - start;
	close(hold[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(ret == STORAGE_ERR_TEMP, "got %d, want STORAGE_ERR_TEMP", ret);
	ck_assert_msg(elapsed >= 280 && elapsed < 1000,
		      "got %llu ms, want about 300", (unsigned long long)elapsed);
	ck_assert_msg(strstr(error, "fcntl") != NULL, "got error %s", error);
	/* the dotlock taken before the fcntl wait was released */
	lock_path = xasprintf("%s.lock", test_inbox);
	ck_assert_int_eq(access(lock_path, F_OK), -1);
	free(lock_path);
	strbuf_init(&buf, 64);
	ck_assert_int_eq(read_file(test_inbox, &buf), 0);
	ck_assert_str_eq(buf.data, old_mbox);
	strbuf_free(&buf);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

static const rlim_t nospace_extras[] = { 0, 1, 10, 100, 3000 };

START_TEST(test_full_disk)
{
	/* an mbox without a final LF, so even the fix-up LF is rolled back */
	static const char old[] = "From x  Mon Jan 01 00:00:00 2024\n\nold";
	rlim_t extra = nospace_extras[_i];
	struct strbuf after, body;
	char error_text[512] = "";
	int errpipe[2], status;
	ssize_t n;
	pid_t pid;

	write_file(test_inbox, old);
	strbuf_init(&body, 8192);
	strbuf_append_str(&body, "Subject: big\n\n");
	while (body.len < 5000)
		strbuf_append_str(&body, "a line of the body that fills the disk\n");
	ck_assert_int_eq(pipe(errpipe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { strlen(old) + extra, strlen(old) + extra };
		struct storage_save_params p;
		struct storage_save_result res;
		const char *error = "";
		enum storage_error ret;

		signal(SIGXFSZ, SIG_IGN);
		init_params(&p, "INBOX");
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(99);
		ret = save_text(&p, body.data, &res, &error);
		(void)!write(errpipe[1], error, strlen(error));
		_exit((int)ret);
	}
	close(errpipe[1]);
	n = read(errpipe[0], error_text, sizeof(error_text) - 1);
	error_text[n < 0 ? 0 : n] = '\0';
	close(errpipe[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) &&
		      WEXITSTATUS(status) == STORAGE_ERR_NOSPACE,
		      "limit +%lu: got status %d, want exit %d (%s)",
		      (unsigned long)extra, status, STORAGE_ERR_NOSPACE,
		      error_text);
	ck_assert_msg(strstr(error_text, test_inbox) != NULL &&
		      strstr(error_text, "File too large") != NULL,
		      "got error %s", error_text);
	strbuf_init(&after, 64);
	ck_assert_int_eq(read_file(test_inbox, &after), 0);
	ck_assert_msg(after.len == strlen(old) && strcmp(after.data, old) == 0,
		      "limit +%lu: got %zu bytes [%s], want the old file",
		      (unsigned long)extra, after.len, after.data);
	strbuf_free(&after);
	strbuf_free(&body);
}
END_TEST

struct mailbox_case {
	const char *name;
	const char *mailbox;
	bool autocreate, autosubscribe;
	const char *setup_file;	/* under the root, made before */
	const char *setup_dir;
	enum storage_error want;
	const char *want_error;	/* substring */
	const char *want_file;	/* under the root, holding the message */
	const char *want_subs;	/* .subscriptions content, NULL: absent */
};

static const struct mailbox_case mailbox_cases[] = {
	{ "missing", "Work", false, false, NULL, NULL,
	  STORAGE_ERR_NOTFOUND, "Mailbox doesn't exist: Work", NULL, NULL },
	{ "autocreate", "Work", true, false, NULL, NULL,
	  STORAGE_OK, NULL, "Work", NULL },
	{ "autocreate nested, subscribe", "Work/Projects", true, true, NULL,
	  NULL, STORAGE_OK, NULL, "Work/Projects", "Work/Projects\n" },
	{ "existing", "Archive", false, true, "Archive", NULL,
	  STORAGE_OK, NULL, "Archive", NULL },
	{ "parent is an mbox file", "Archive/Sub", true, false, "Archive", NULL,
	  STORAGE_ERR_NOTFOUND, "Mailbox doesn't exist: Archive/Sub", NULL,
	  NULL },
	{ "directory", "Dir", true, false, NULL, "Dir",
	  STORAGE_ERR_NOTFOUND, "Mailbox isn't selectable: Dir", NULL, NULL },
	{ "dot name", ".hidden", true, false, NULL, NULL,
	  STORAGE_ERR_INVALID, "begins with '.'", NULL, NULL },
	{ "subscriptions name", ".subscriptions", true, false, NULL, NULL,
	  STORAGE_ERR_INVALID, "begins with '.'", NULL, NULL },
	{ "lock name", "foo.lock", true, false, NULL, NULL,
	  STORAGE_ERR_INVALID, "ends with '.lock'", NULL, NULL },
	{ "nested lock name", "a.lock/b", true, false, NULL, NULL,
	  STORAGE_ERR_INVALID, "ends with '.lock'", NULL, NULL },
	{ "dot-dot", "a/../b", true, false, NULL, NULL,
	  STORAGE_ERR_INVALID, "Invalid mailbox name", NULL, NULL },
};

#define DEAD_HEAD "From dead@example.com  Mon Jan 01 00:00:00 2024\n"

/* die_mid_append - a child that locks the INBOX as mbox_save does,
   records its append in the journal, writes the From_ line and partial,
   and is killed there */
static void die_mid_append(const char *methods, const char *partial)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mbox_lock_settings set = {
			.methods = methods, .timeout_ms = 5000, .journal = true,
		};
		struct mbox_journal_record rec;
		struct mbox_lock *lock;
		const char *error;
		struct stat st;
		int fd = open(test_inbox, O_RDWR | O_APPEND);

		if (fd < 0 || mbox_lock_acquire(test_inbox, fd, &set, &lock,
						&error) != 1 ||
		    mbox_lock_journal(lock) == NULL || fstat(fd, &st) < 0)
			_exit(2);
		mbox_journal_record_init(&rec);
		rec.dev = (uint64_t)st.st_dev;
		rec.ino = (uint64_t)st.st_ino;
		rec.size = (uint64_t)st.st_size;
		rec.head_len = strlen(DEAD_HEAD);
		memcpy(rec.head, DEAD_HEAD, rec.head_len);
		if (mbox_journal_write(mbox_lock_journal(lock), &rec, false,
				       &error) < 0 ||
		    write(fd, DEAD_HEAD, strlen(DEAD_HEAD)) < 0 ||
		    write(fd, partial, strlen(partial)) < 0)
			_exit(3);
		raise(SIGKILL);
		_exit(4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "got status %d, want killed", status);
}

/* save_ok - save text into INBOX with methods; the result's notice */
static char *save_ok(const char *methods, const char *text,
		     uint64_t timeout_ms)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	enum storage_error ret;
	char *notice;

	init_params(&p, "INBOX");
	p.mbox_write_locks = methods;
	p.lock_timeout_ms = timeout_ms;
	ret = save_text(&p, text, &res, &error);
	ck_assert_msg(ret == STORAGE_OK, "%s: got %d (%s)", methods, ret,
		      error == NULL ? "" : error);
	notice = res.warning;
	res.warning = NULL;
	storage_save_result_free(&res);
	return notice;
}

static const char *const repair_methods[] = {
	"dotlock fcntl", "fcntl", "lockf", "flock", "dotlock", "dotlock_try",
};

START_TEST(test_dead_writer_repaired)
{
	const char *methods = repair_methods[_i];
	struct strbuf before, after;
	char *notice, *journal = NULL;
	struct stat st;

	notice = save_ok(methods, "Subject: first\n\nbody one\n", 10000);
	ck_assert_ptr_null(notice);
	strbuf_init(&before, 256);
	strbuf_init(&after, 256);
	ck_assert_int_eq(read_file(test_inbox, &before), 0);
	die_mid_append(methods, "Subject: half\n\nthe first li");
	/* a dotlock of the dead writer is taken over at once: the stale
	   time is 2 minutes, the timeout 5 s */
	notice = save_ok(methods, "Subject: second\n\nbody two\n", 5000);
	ck_assert_msg(notice != NULL && strstr(notice, "truncated") != NULL &&
		      strstr(notice, test_inbox) != NULL,
		      "%s: got notice %s", methods, notice);
	free(notice);
	ck_assert_int_eq(read_file(test_inbox, &after), 0);
	ck_assert_msg(after.len > before.len &&
		      memcmp(after.data, before.data, before.len) == 0 &&
		      strncmp(after.data + before.len,
			      "From sender@example.com ", 24) == 0 &&
		      strstr(after.data, "dead@") == NULL &&
		      strstr(after.data, "half") == NULL &&
		      strstr(after.data + before.len, "body two\n\n") != NULL,
		      "%s: got [%s]", methods, after.data);
	journal = mbox_journal_path(test_inbox);
	ck_assert_int_eq(stat(journal, &st), -1);
	free(journal);
	journal = xasprintf("%s.lock", test_inbox);
	ck_assert_int_eq(stat(journal, &st), -1);
	free(journal);
	strbuf_free(&before);
	strbuf_free(&after);
}
END_TEST

START_TEST(test_dead_writer_others_appended)
{
	/* another MDA (not knowing the journal) appended after the half
	   message: nothing is cut, its message stays */
	static const char other[] =
		"\nFrom other@example.com  Mon Jan 01 00:00:01 2024\n"
		"Subject: other\n\nkept\n\n";
	struct strbuf after;
	char *notice;
	int fd;

	write_file(test_inbox, "");
	die_mid_append("fcntl", "Subject: half\n\nthe first li");
	fd = open(test_inbox, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, other, strlen(other)),
			 (ssize_t)strlen(other));
	close(fd);
	notice = save_ok("fcntl", "Subject: second\n\nbody two\n", 5000);
	ck_assert_msg(notice != NULL && strstr(notice, "left as is") != NULL,
		      "got notice %s", notice);
	free(notice);
	strbuf_init(&after, 256);
	ck_assert_int_eq(read_file(test_inbox, &after), 0);
	ck_assert_msg(strncmp(after.data, DEAD_HEAD, strlen(DEAD_HEAD)) == 0 &&
		      strstr(after.data, other) != NULL &&
		      strstr(after.data, "body two") != NULL,
		      "got [%s]", after.data);
	strbuf_free(&after);
	/* the journal is settled: the next delivery has nothing to say */
	notice = save_ok("fcntl", "Subject: third\n\nbody three\n", 5000);
	ck_assert_ptr_null(notice);
}
END_TEST

START_TEST(test_journal_held_by_live_process)
{
	/* a live writer that does not honour our locks keeps its journal
	   locked: never cut what it writes, tempfail instead */
	static const char content[] = "From x  Mon Jan 01 00:00:00 2024\n"
		"\nold\n\nFrom live@example.com  Mon Jan 01 00:00:00 2024\n";
	struct storage_save_params p;
	struct storage_save_result res;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct strbuf after;
	const char *error = NULL;
	char *journal = mbox_journal_path(test_inbox);
	char *record;
	struct stat st;
	int fd;

	write_file(test_inbox, content);
	ck_assert_int_eq(stat(test_inbox, &st), 0);
	record = xasprintf("1:%s\n%llu %llu 14 0\n", "host",
			   (unsigned long long)st.st_dev,
			   (unsigned long long)st.st_ino);
	write_file(journal, record);
	fd = open(journal, O_RDWR);
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	init_params(&p, "INBOX");
	p.lock_timeout_ms = 300;
	ck_assert_int_eq(save_text(&p, "Subject: x\n\ny\n", &res, &error),
			 STORAGE_ERR_TEMP);
	ck_assert_msg(strstr(error, "journal") != NULL, "got error %s", error);
	storage_save_result_free(&res);
	strbuf_init(&after, 256);
	ck_assert_int_eq(read_file(test_inbox, &after), 0);
	ck_assert_str_eq(after.data, content);
	strbuf_free(&after);
	close(fd);
	free(record);
	free(journal);
}
END_TEST

START_TEST(test_mailbox)
{
	const struct mailbox_case *c = &mailbox_cases[_i];
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	enum storage_error ret;
	struct strbuf buf;
	struct stat st;
	char *path;

	ck_assert_int_eq(mkdir(test_root, 0700), 0);
	if (c->setup_file != NULL) {
		path = xasprintf("%s/%s", test_root, c->setup_file);
		write_file(path, "");
		free(path);
	}
	if (c->setup_dir != NULL) {
		path = xasprintf("%s/%s", test_root, c->setup_dir);
		ck_assert_int_eq(mkdir(path, 0700), 0);
		free(path);
	}
	init_params(&p, c->mailbox);
	p.autocreate = c->autocreate;
	p.autosubscribe = c->autosubscribe;
	ret = save_text(&p, "Subject: s\n\nb\n", &res, &error);
	ck_assert_msg(ret == c->want, "%s: got %d, want %d (%s)", c->name, ret,
		      c->want, ret == STORAGE_OK ? "" : error);
	if (c->want_error != NULL) {
		ck_assert_msg(strstr(error, c->want_error) != NULL,
			      "%s: got error %s, want %s", c->name, error,
			      c->want_error);
	}
	strbuf_init(&buf, 256);
	if (c->want_file != NULL) {
		path = xasprintf("%s/%s", test_root, c->want_file);
		ck_assert_str_eq(res.path, path);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_msg((st.st_mode & 0777) == 0600 || c->setup_file != NULL,
			      "%s: got mode %o, want 0600", c->name,
			      st.st_mode & 0777);
		ck_assert_int_eq(read_file(path, &buf), 0);
		ck_assert_msg(strncmp(buf.data, "From sender@example.com  ", 25) == 0,
			      "%s: got %s", c->name, buf.data);
		free(path);
	}
	storage_save_result_free(&res);
	path = xasprintf("%s/.subscriptions", test_root);
	if (c->want_subs == NULL) {
		ck_assert_int_eq(read_file(path, &buf), -1);
	} else {
		ck_assert_int_eq(read_file(path, &buf), 0);
		ck_assert_str_eq(buf.data, c->want_subs);
	}
	free(path);
	strbuf_free(&buf);
}
END_TEST

/* save_subscribed - save into mailbox with autocreate + autosubscribe and
   return the subscriptions file afterwards */
static void save_subscribed(const char *mailbox, struct strbuf *subs_r)
{
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	char *path = xasprintf("%s/.subscriptions", test_root);

	init_params(&p, mailbox);
	p.autocreate = true;
	p.autosubscribe = true;
	ck_assert_msg(save_text(&p, "Subject: s\n\nb\n", &res, &error) == STORAGE_OK,
		      "%s: got error %s", mailbox, error);
	storage_save_result_free(&res);
	ck_assert_int_eq(read_file(path, subs_r), 0);
	free(path);
}

START_TEST(test_subscriptions)
{
	char *path = xasprintf("%s/.subscriptions", test_root);
	struct strbuf subs;

	strbuf_init(&subs, 128);
	ck_assert_int_eq(mkdir(test_root, 0700), 0);
	write_file(path, "Existing\nWork/A");
	save_subscribed("Work/A", &subs);
	ck_assert_str_eq(subs.data, "Existing\nWork/A");
	save_subscribed("New", &subs);
	ck_assert_str_eq(subs.data, "Existing\nWork/A\nNew\n");
	/* New exists now: not created, not subscribed again */
	save_subscribed("New", &subs);
	ck_assert_str_eq(subs.data, "Existing\nWork/A\nNew\n");

	/* Dovecot 2.3's version 2 format keeps its TAB separators */
	write_file(path, "V\t2\n\nC\tD\n");
	save_subscribed("C/D", &subs);
	ck_assert_str_eq(subs.data, "V\t2\n\nC\tD\n");
	save_subscribed("E/F", &subs);
	ck_assert_str_eq(subs.data, "V\t2\n\nC\tD\nE\tF\n");
	strbuf_free(&subs);
	free(path);
}
END_TEST

/* save_with_location - save to INBOX of another location string */
static enum storage_error save_with_location(const char *location,
					     const char **error_r)
{
	struct mail_location loc;
	struct storage_save_params p;
	struct storage_save_result res;
	enum storage_error ret;
	const char *error = NULL;

	ck_assert_msg(mail_location_parse(location, NULL, &loc, &error) == 0,
		      "got error %s", error);
	init_params(&p, "INBOX");
	p.loc = &loc;
	ret = save_text(&p, "Subject: s\n\nb\n", &res, error_r);
	storage_save_result_free(&res);
	mail_location_free(&loc);
	return ret;
}

START_TEST(test_inbox_created)
{
	char *location = xasprintf("mbox:%s/home/mail", test_dir);
	char *path = xasprintf("%s/home/mail/inbox", test_dir);
	const char *error = NULL;
	struct stat st;

	ck_assert_msg(save_with_location(location, &error) == STORAGE_OK,
		      "got error %s", error);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0600, "got mode %o, want 0600",
		      st.st_mode & 0777);
	free(path);
	path = xasprintf("%s/home/mail", test_dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0700, "got mode %o, want 0700",
		      st.st_mode & 0777);
	free(path);
	free(location);
}
END_TEST

START_TEST(test_inbox_spool_must_exist)
{
	char *location = xasprintf("mbox:%s/mail:INBOX=%s/spool/user",
				   test_dir, test_dir);
	char *spool = xasprintf("%s/spool", test_dir);
	const char *error = NULL;

	ck_assert_int_eq(save_with_location(location, &error), STORAGE_ERR_TEMP);
	ck_assert_msg(strstr(error, "No such file or directory") != NULL,
		      "got error %s", error);
	ck_assert_int_eq(access(spool, F_OK), -1);
	/* once the spool directory exists the INBOX file is created */
	ck_assert_int_eq(mkdir(spool, 0755), 0);
	ck_assert_msg(save_with_location(location, &error) == STORAGE_OK,
		      "got error %s", error);
	free(spool);
	free(location);
}
END_TEST

#define NOBODY_ID 65534

/* spool_child - as uid/gid nobody with group mail kept as saved gid (as
   loft-lda runs), deliver to INBOX in a root:mail 0775 spool; exits with
   the storage result, 50 when the egid was not restored */
static void LOFT_ATTR_NORETURN spool_child(const char *location,
					   gid_t mail_gid, const char *group)
{
	struct mail_location loc;
	struct storage_save_params p;
	struct storage_save_result res;
	const char *error = NULL;
	enum storage_error ret;

	if (setgroups(0, NULL) < 0 ||
	    setresgid(NOBODY_ID, NOBODY_ID, mail_gid) < 0 ||
	    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0 ||
	    mail_location_parse(location, NULL, &loc, &error) < 0)
		_exit(99);
	init_params(&p, "INBOX");
	p.loc = &loc;
	p.privileged_group = group;
	p.lock_timeout_ms = 1000;
	ret = save_text(&p, "Subject: s\n\nb\n", &res, &error);
	if (ret != STORAGE_OK)
		fprintf(stderr, "spool delivery: %s\n", error);
	if (getegid() != NOBODY_ID)
		_exit(50);
	_exit((int)ret);
}

/* run_spool_child - spool_child in a child process; its exit status */
static int run_spool_child(const char *location, gid_t mail_gid,
			   const char *group)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		spool_child(location, mail_gid, group);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "got status %d, want an exit", status);
	return WEXITSTATUS(status);
}

START_TEST(test_var_mail_privileged)
{
	struct group *grp = getgrnam("mail");
	char *spool, *inbox, *location;
	struct stat st;
	int ret;

	if (geteuid() != 0 || grp == NULL)
		return;		/* needs root to set up the identities */
	spool = xasprintf("%s/spool", test_dir);
	inbox = xasprintf("%s/nobody", spool);
	location = xasprintf("mbox:%s/nobody-mail:INBOX=%s", test_dir, inbox);
	ck_assert_int_eq(chmod(test_dir, 0755), 0);
	ck_assert_int_eq(mkdir(spool, 0775), 0);
	ck_assert_int_eq(chown(spool, 0, grp->gr_gid), 0);
	ck_assert_int_eq(chmod(spool, 0775), 0);

	/* without mail_privileged_group neither file nor dotlock can be made */
	ret = run_spool_child(location, grp->gr_gid, "");
	ck_assert_msg(ret == STORAGE_ERR_TEMP, "got %d, want STORAGE_ERR_TEMP", ret);
	ck_assert_int_eq(access(inbox, F_OK), -1);

	/* with it the INBOX is created and dotlocked with the mail group */
	ret = run_spool_child(location, grp->gr_gid, "mail");
	ck_assert_msg(ret == STORAGE_OK, "got %d, want STORAGE_OK", ret);
	ck_assert_int_eq(stat(inbox, &st), 0);
	ck_assert(st.st_uid == NOBODY_ID && st.st_gid == grp->gr_gid);
	ck_assert_int_gt(st.st_size, 0);
	ck_assert_uint_eq((unsigned int)(st.st_mode & 0777), 0600);

	/* the INBOX exists now; the dotlock still needs the group */
	ret = run_spool_child(location, grp->gr_gid, "");
	ck_assert_msg(ret == STORAGE_ERR_TEMP, "got %d, want STORAGE_ERR_TEMP", ret);
	ret = run_spool_child(location, grp->gr_gid, "mail");
	ck_assert_msg(ret == STORAGE_OK, "got %d, want STORAGE_OK", ret);
	free(location);
	free(inbox);
	free(spool);
}
END_TEST

static Suite *mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_from_line);
	tcase_add_loop_test(tc, test_content, 0,
			    (int)LOFT_N_ELEMENTS(content_cases));
	tcase_add_test(tc, test_append_after_missing_lf);
	tcase_add_test(tc, test_python_compat);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_dotlock_timeout);
	tcase_add_test(tc, test_stale_dotlock);
	tcase_add_test(tc, test_fcntl_held);
	tcase_add_loop_test(tc, test_full_disk, 0,
			    (int)LOFT_N_ELEMENTS(nospace_extras));
	tcase_add_loop_test(tc, test_mailbox, 0,
			    (int)LOFT_N_ELEMENTS(mailbox_cases));
	tcase_add_loop_test(tc, test_dead_writer_repaired, 0,
			    (int)LOFT_N_ELEMENTS(repair_methods));
	tcase_add_test(tc, test_dead_writer_others_appended);
	tcase_add_test(tc, test_journal_held_by_live_process);
	tcase_add_test(tc, test_subscriptions);
	tcase_add_test(tc, test_inbox_created);
	tcase_add_test(tc, test_inbox_spool_must_exist);
	tcase_add_test(tc, test_var_mail_privileged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mbox_suite());
	int failed;

	signal(SIGXFSZ, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
