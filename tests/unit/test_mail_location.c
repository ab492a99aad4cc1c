/*
 * test_mail_location - unit tests of mail_location parsing and the mapping
 * of mailbox names to paths (daemon/delivery/mail_location.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mail_location.h"
#include "xalloc.h"

struct parse_case {
	const char *location;
	const char *home;
	int ret;
	enum mail_storage_type type;
	const char *root, *inbox;
	bool layout_fs;
	const char *error;	/* substring of the error */
};

static const struct parse_case parse_cases[] = {
	{ "maildir:~/Maildir", "/home/u", 0, MAIL_STORAGE_MAILDIR,
	  "/home/u/Maildir", "/home/u/Maildir", false, NULL },
	{ "maildir:~/Maildir/", "/home/u/", 0, MAIL_STORAGE_MAILDIR,
	  "/home/u/Maildir", "/home/u/Maildir", false, NULL },
	{ "maildir:~", "/home/u", 0, MAIL_STORAGE_MAILDIR,
	  "/home/u", "/home/u", false, NULL },
	{ "maildir:/var/vmail/d/u:LAYOUT=fs", NULL, 0, MAIL_STORAGE_MAILDIR,
	  "/var/vmail/d/u", "/var/vmail/d/u", true, NULL },
	{ "maildir:/m:LAYOUT=maildir++:INDEX=/idx:CONTROL=/c:UTF-8", NULL, 0,
	  MAIL_STORAGE_MAILDIR, "/m", "/m", false, NULL },
	{ "maildir:~/M:INBOX=~/Inbox:VOLATILEDIR=/tmp/x", "/h", 0,
	  MAIL_STORAGE_MAILDIR, "/h/M", "/h/Inbox", false, NULL },
	{ "maildir:/a::b", NULL, 0, MAIL_STORAGE_MAILDIR, "/a:b", "/a:b",
	  false, NULL },
	{ "mbox:~/mail:INBOX=/var/mail/u", "/home/u", 0, MAIL_STORAGE_MBOX,
	  "/home/u/mail", "/var/mail/u", true, NULL },
	{ "mbox:/srv/mail/u", NULL, 0, MAIL_STORAGE_MBOX, "/srv/mail/u",
	  "/srv/mail/u/inbox", true, NULL },
	{ "MAILDIR:/x", NULL, 0, MAIL_STORAGE_MAILDIR, "/x", "/x", false, NULL },
	{ "maildir:~/Maildir", NULL, -1, 0, NULL, NULL, false,
	  "mail_location uses ~/ but the user has no home directory" },
	{ "maildir:~/Maildir", "", -1, 0, NULL, NULL, false, "no home directory" },
	{ "maildir:Maildir", "/h", -1, 0, NULL, NULL, false, "not absolute" },
	{ "maildir:", "/h", -1, 0, NULL, NULL, false, "empty path" },
	{ "/var/mail/u", NULL, -1, 0, NULL, NULL, false, "no storage type" },
	{ "sdbox:/x", NULL, -1, 0, NULL, NULL, false, "Unsupported mail storage" },
	{ "maildir:/x:LAYOUT=index", NULL, -1, 0, NULL, NULL, false, "LAYOUT" },
	{ "mbox:/x:LAYOUT=maildir++", NULL, -1, 0, NULL, NULL, false, "LAYOUT" },
	{ "maildir:/x:BOGUS", NULL, -1, 0, NULL, NULL, false,
	  "Unknown setting in mail_location: BOGUS" },
	{ "maildir:/x:INBOX=", NULL, -1, 0, NULL, NULL, false, "INBOX" },
	{ "maildir:/x:INBOX=rel", NULL, -1, 0, NULL, NULL, false, "not absolute" },
	{ "maildir:~user/x", "/h", -1, 0, NULL, NULL, false, "not absolute" },
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct mail_location loc;
	const char *error = NULL;
	int ret = mail_location_parse(c->location, c->home, &loc, &error);

	ck_assert_msg(ret == c->ret, "%s: got %d, want %d (%s)", c->location,
		      ret, c->ret, error != NULL ? error : "");
	if (ret < 0) {
		ck_assert_msg(strstr(error, c->error) != NULL,
			      "%s: error got \"%s\", want \"%s\"", c->location,
			      error, c->error);
		ck_assert_ptr_null(loc.root);
		return;
	}
	ck_assert_msg(loc.type == c->type, "%s: type got %d, want %d",
		      c->location, loc.type, c->type);
	ck_assert_msg(strcmp(loc.root, c->root) == 0, "%s: root got %s, want %s",
		      c->location, loc.root, c->root);
	ck_assert_msg(strcmp(loc.inbox, c->inbox) == 0,
		      "%s: inbox got %s, want %s", c->location, loc.inbox,
		      c->inbox);
	ck_assert_msg(loc.layout_fs == c->layout_fs, "%s: layout_fs got %d",
		      c->location, loc.layout_fs);
	mail_location_free(&loc);
	ck_assert_ptr_null(loc.root);
}
END_TEST

struct path_case {
	const char *location;
	const char *mailbox;
	const char *path;	/* NULL: invalid */
	const char *error;
};

static const struct path_case path_cases[] = {
	{ "maildir:/m", "INBOX", "/m", NULL },
	{ "maildir:/m", "inbox", "/m", NULL },
	{ "maildir:/m", "", "/m", NULL },
	{ "maildir:/m", "Work", "/m/.Work", NULL },
	{ "maildir:/m", "Work/Projects", "/m/.Work.Projects", NULL },
	{ "maildir:/m", "INBOX/x", "/m/.INBOX.x", NULL },
	{ "maildir:/m", "Entw\xc3\xbcrfe", "/m/.Entw\xc3\xbcrfe", NULL },
	{ "maildir:/m:INBOX=/i", "INBOX", "/i", NULL },
	{ "maildir:/m:LAYOUT=fs", "Work/Projects", "/m/Work/Projects", NULL },
	{ "maildir:/m:LAYOUT=fs", "a.b", "/m/a.b", NULL },
	{ "mbox:/m", "INBOX", "/m/inbox", NULL },
	{ "mbox:/m", "Work/Projects", "/m/Work/Projects", NULL },
	{ "maildir:/m", "a.b", NULL, "Mailbox name contains '.': a.b" },
	{ "maildir:/m", ".hidden", NULL, "Mailbox name contains '.'" },
	{ "maildir:/m", "a/../b", NULL, "'.' and '..'" },
	{ "maildir:/m:LAYOUT=fs", "..", NULL, "'.' and '..'" },
	{ "maildir:/m:LAYOUT=fs", "a/./b", NULL, "'.' and '..'" },
	{ "mbox:/m", "../etc/passwd", NULL, "'.' and '..'" },
	{ "maildir:/m", "a//b", NULL, "empty hierarchy level" },
	{ "maildir:/m", "a/", NULL, "empty hierarchy level" },
	{ "maildir:/m", "/abs", NULL, "begins with '/'" },
	{ "maildir:/m:LAYOUT=fs", "a\tb", NULL, "control characters" },
	{ "maildir:/m:LAYOUT=fs", "a\nb", NULL, "control characters" },
};

START_TEST(test_mailbox_path)
{
	const struct path_case *c = &path_cases[_i];
	struct mail_location loc;
	const char *error = NULL;
	char *path = NULL;
	int ret;

	ck_assert_int_eq(mail_location_parse(c->location, NULL, &loc, &error), 0);
	ret = mail_location_mailbox_path(&loc, c->mailbox, &path, &error);
	if (c->path == NULL) {
		ck_assert_msg(ret == -1, "%s %s: got %d (%s), want -1",
			      c->location, c->mailbox, ret, path);
		ck_assert_msg(strstr(error, c->error) != NULL,
			      "%s: error got \"%s\", want \"%s\"", c->mailbox,
			      error, c->error);
	} else {
		ck_assert_msg(ret == 0, "%s %s: got %d (%s)", c->location,
			      c->mailbox, ret, error);
		ck_assert_msg(strcmp(path, c->path) == 0,
			      "%s %s: got %s, want %s", c->location,
			      c->mailbox, path, c->path);
	}
	free(path);
	mail_location_free(&loc);
}
END_TEST

struct normalize_case {
	const char *in, *want;
	bool is_inbox;
};

static const struct normalize_case normalize_cases[] = {
	{ "INBOX", "INBOX", true },
	{ "inbox", "INBOX", true },
	{ "InBoX", "INBOX", true },
	{ "", "INBOX", true },
	{ "INBOX/Work", "Work", false },
	{ "inbox/Work/Sub", "Work/Sub", false },
	{ "INBOX/", "INBOX", false },
	{ "Work", "Work", false },
	{ "INBOXES", "INBOXES", false },
};

START_TEST(test_normalize)
{
	const struct normalize_case *c = &normalize_cases[_i];
	char *got = mail_location_normalize(c->in);

	ck_assert_msg(strcmp(got, c->want) == 0, "%s: got %s, want %s", c->in,
		      got, c->want);
	ck_assert_msg(mail_location_is_inbox(c->in) == c->is_inbox,
		      "%s: is_inbox got %d, want %d", c->in,
		      mail_location_is_inbox(c->in), c->is_inbox);
	free(got);
}
END_TEST

/* mail_location_suite - all mail_location tests */
static Suite *mail_location_suite(void)
{
	Suite *s = suite_create("mail_location");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, (int)LOFT_N_ELEMENTS(parse_cases));
	tcase_add_loop_test(tc, test_mailbox_path, 0,
			    (int)LOFT_N_ELEMENTS(path_cases));
	tcase_add_loop_test(tc, test_normalize, 0,
			    (int)LOFT_N_ELEMENTS(normalize_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mail_location_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
