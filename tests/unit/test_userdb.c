/*
 * test_userdb - unit tests for the userdb (daemon/delivery/userdb*.c):
 * passwd-file line parsing, passwd-file lookups against temporary files
 * (found, unknown, missing/unreadable file, %d paths, username_format),
 * the static and passwd drivers, default_fields/override_fields
 * precedence, several userdb blocks with failures and skip=notfound,
 * config validation and uid/gid resolution.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "userdb.h"

#define MISSING_USER "loft-no-such-user-xyzzy"

static char test_dir[64];

/* dir_setup - a fresh temporary directory per test */
static void dir_setup(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/loft-test-userdb-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	chmod(path, 0700);
	return remove(path);
}

/* dir_teardown - remove the temporary directory */
static void dir_teardown(void)
{
	nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* path_in_dir - "test_dir/name" in a static buffer */
static const char *path_in_dir(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	return path;
}

/* write_file - create test_dir/name (and its directory) with content */
static void write_file(const char *name, const char *content)
{
	const char *path = path_in_dir(name);
	char *dir = strdup(path);
	FILE *file;

	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0700);
	free(dir);
	file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	fputs(content, file);
	fclose(file);
}

/* fields_join - "k=v k=v" of a kvlist; caller frees */
static char *fields_join(const struct kvlist *fields)
{
	struct strbuf buf;
	char *str;

	strbuf_init(&buf, 64);
	for (size_t i = 0; i < fields->count; i++) {
		strbuf_appendf(&buf, "%s%s=%s", i == 0 ? "" : " ",
			       fields->items[i].key, fields->items[i].value);
	}
	str = strbuf_detach(&buf);
	strbuf_free(&buf);
	return str;
}

/* block_init - a userdb block (strings are not owned) */
static void block_init(struct userdb_settings *block, const char *driver,
		       const char *args)
{
	memset(block, 0, sizeof(*block));
	block->driver = (char *)driver;
	block->args = (char *)args;
	block->file = (char *)"/etc/loft.conf";
	block->line = 12;
}

/* settings_with - settings holding only the given userdb blocks */
static void settings_with(struct loft_settings *set,
			  struct userdb_settings *blocks, size_t count)
{
	memset(set, 0, sizeof(*set));
	set->userdbs = blocks;
	set->userdb_count = count;
}

/* check_lookup - run a lookup and compare result and fields */
static void check_lookup(const struct loft_settings *set, const char *user,
			 enum userdb_result want, const char *want_fields)
{
	struct userdb_reply *reply = NULL;
	const char *error = NULL;
	enum userdb_result result;

	result = userdb_lookup(set, user, &reply, &error);
	ck_assert_msg(result == want, "lookup %s: got %d, want %d (%s)",
		      user, result, want, error == NULL ? "" : error);
	if (want != USERDB_RESULT_OK) {
		ck_assert_ptr_null(reply);
		ck_assert_ptr_nonnull(error);
		return;
	}
	char *fields = fields_join(&reply->fields);
	ck_assert_msg(strcmp(fields, want_fields) == 0,
		      "lookup %s: got fields '%s', want '%s'", user, fields,
		      want_fields);
	free(fields);
	userdb_reply_free(&reply);
	ck_assert_ptr_null(reply);
}

/* lookup_error - a lookup that must fail; returns its error */
static const char *lookup_error(const struct loft_settings *set,
				const char *user)
{
	struct userdb_reply *reply = NULL;
	const char *error = NULL;
	enum userdb_result result = userdb_lookup(set, user, &reply, &error);

	ck_assert_msg(result == USERDB_RESULT_INTERNAL_FAILURE,
		      "lookup %s: got %d, want INTERNAL_FAILURE", user, result);
	ck_assert_ptr_null(reply);
	ck_assert_ptr_nonnull(error);
	return error;
}

/* ---- passwd_file_parse_line ---- */

struct parse_case {
	const char *line;
	int ret;
	const char *user, *password, *uid, *gid, *gecos, *home, *shell;
	const char *extra;
};

static const struct parse_case parse_cases[] = {
	{ "alice:{PLAIN}pw:1000:1001:Alice A:/home/alice:/bin/sh:"
	  "userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G", 1,
	  "alice", "{PLAIN}pw", "1000", "1001", "Alice A", "/home/alice",
	  "/bin/sh", "mail=maildir:~/Maildir quota_rule=*:storage=1G" },
	{ "bob:pw:1001:1002", 1,
	  "bob", "pw", "1001", "1002", NULL, NULL, NULL, "" },
	{ "carol", 1, "carol", NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "dave:::::/home/dave", 1,
	  "dave", NULL, NULL, NULL, NULL, "/home/dave", NULL, "" },
	{ "vm:x:vmail:mail::/srv/vm", 1,
	  "vm", "x", "vmail", "mail", NULL, "/srv/vm", NULL, "" },
	/* passdb-only fields dropped, well-known userdb keys kept */
	{ "eve:x:1:1::/h::nopassword allow_nets=10.0.0.0/8 user=other "
	  "mail=mbox:~/mail", 1,
	  "eve", "x", "1", "1", NULL, "/h", NULL, "mail=mbox:~/mail" },
	/* the userdb_ form wins whatever the order */
	{ "f:x:1:1::/h::userdb_mail=A mail=B", 1,
	  "f", "x", "1", "1", NULL, "/h", NULL, "mail=A" },
	{ "g:x:1:1::/h::userdb_flag quota_ignore", 1,
	  "g", "x", "1", "1", NULL, "/h", NULL, "quota_ignore=yes flag=yes" },
	/* '=' and ':' inside values, several spaces */
	{ "h:x:1:1::/h::userdb_mail=maildir:/v/h:INDEX=/i   userdb_x=a=b", 1,
	  "h", "x", "1", "1", NULL, "/h", NULL,
	  "mail=maildir:/v/h:INDEX=/i x=a=b" },
	{ "i:x:1:1::/home/i\r", 1,
	  "i", "x", "1", "1", NULL, "/home/i", NULL, "" },
	{ "j:x:1:1::/h:/bin/sh:", 1,
	  "j", "x", "1", "1", NULL, "/h", "/bin/sh", "" },
	{ "# a comment:x:1:1", 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "", 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "\r", 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ ":x:1:1", -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "k:x:1 0:1", -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "k:x:-5:1", -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "k:x:1:a/b", -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "k:x:1:1::/h::=foo", -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
	{ "k:x:1:1::/h::userdb_=x", -1,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, "" },
};

/* check_column - compare one parsed column */
static void check_column(const char *line, const char *name, const char *got,
			 const char *want)
{
	if (want == NULL) {
		ck_assert_msg(got == NULL, "%s: %s: got '%s', want NULL",
			      line, name, got);
	} else {
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			      "%s: %s: got '%s', want '%s'", line, name,
			      got == NULL ? "(null)" : got, want);
	}
}

START_TEST(test_parse_line)
{
	const struct parse_case *c = &parse_cases[_i];
	struct passwd_file_entry entry;
	const char *error = NULL;
	int ret = passwd_file_parse_line(c->line, &entry, &error);

	ck_assert_msg(ret == c->ret, "%s: got %d, want %d (%s)", c->line, ret,
		      c->ret, error == NULL ? "" : error);
	if (ret < 0) {
		ck_assert_ptr_nonnull(error);
		return;
	}
	check_column(c->line, "user", entry.user, c->user);
	check_column(c->line, "password", entry.password, c->password);
	check_column(c->line, "uid", entry.uid, c->uid);
	check_column(c->line, "gid", entry.gid, c->gid);
	check_column(c->line, "gecos", entry.gecos, c->gecos);
	check_column(c->line, "home", entry.home, c->home);
	check_column(c->line, "shell", entry.shell, c->shell);
	char *extra = fields_join(&entry.extra);
	check_column(c->line, "extra", extra, c->extra);
	free(extra);
	passwd_file_entry_free(&entry);
}
END_TEST

/* ---- passwd-file lookups ---- */

static const char passwd_file_content[] =
	"# loft test users\n"
	"\n"
	"broken:x:1 2:1\n"
	"alice:x:1000:1000::/home/alice::userdb_mail=maildir:~/Maildir\n"
	"bob:x:1001:1001::/home/bob\n"
	"Carol:x:1003:1003::/home/carol\r\n"
	"noids:x:::::\n"
	"exp@example.com:x:1004:vmail::/var/vmail/example.com/exp::"
	"userdb_mail=maildir:%h/Maildir userdb_quota_rule=*:storage=%n\n"
	"badvar:x:1:1::/h::userdb_mail=%z\n"
	"bob:x:9999:9999::/home/bob2\n"
	"last:x:7:7";

struct passwd_file_case {
	const char *user;
	enum userdb_result result;
	const char *fields;
};

static const struct passwd_file_case passwd_file_cases[] = {
	{ "alice", USERDB_RESULT_OK,
	  "uid=1000 gid=1000 home=/home/alice mail=maildir:~/Maildir" },
	/* first match wins */
	{ "bob", USERDB_RESULT_OK, "uid=1001 gid=1001 home=/home/bob" },
	{ "Carol", USERDB_RESULT_OK, "uid=1003 gid=1003 home=/home/carol" },
	{ "noids", USERDB_RESULT_OK, "" },
	{ "exp@example.com", USERDB_RESULT_OK,
	  "uid=1004 gid=vmail home=/var/vmail/example.com/exp "
	  "mail=maildir:/var/vmail/example.com/exp/Maildir "
	  "quota_rule=*:storage=exp" },
	{ "last", USERDB_RESULT_OK, "uid=7 gid=7" },
	/* case-sensitive and exact */
	{ "carol", USERDB_RESULT_USER_UNKNOWN, NULL },
	{ "ali", USERDB_RESULT_USER_UNKNOWN, NULL },
	{ "alice:x", USERDB_RESULT_USER_UNKNOWN, NULL },
	{ "# loft test users", USERDB_RESULT_USER_UNKNOWN, NULL },
	{ "", USERDB_RESULT_USER_UNKNOWN, NULL },
	{ "nobody", USERDB_RESULT_USER_UNKNOWN, NULL },
	/* the user's own line is broken: failure, not unknown */
	{ "broken", USERDB_RESULT_INTERNAL_FAILURE, NULL },
	{ "badvar", USERDB_RESULT_INTERNAL_FAILURE, NULL },
};

START_TEST(test_passwd_file_lookup)
{
	const struct passwd_file_case *c = &passwd_file_cases[_i];
	struct userdb_settings block;
	struct loft_settings set;
	char args[300];

	write_file("passwd", passwd_file_content);
	snprintf(args, sizeof(args), "%s", path_in_dir("passwd"));
	block_init(&block, "passwd-file", args);
	settings_with(&set, &block, 1);
	check_lookup(&set, c->user, c->result, c->fields);
}
END_TEST

START_TEST(test_passwd_file_missing)
{
	struct userdb_settings block;
	struct loft_settings set;
	char args[300], want[400];
	const char *error;

	snprintf(args, sizeof(args), "%s", path_in_dir("nonexistent"));
	block_init(&block, "passwd-file", args);
	settings_with(&set, &block, 1);
	error = lookup_error(&set, "alice");
	snprintf(want, sizeof(want),
		 "userdb passwd-file: open(%s) failed: No such file or directory",
		 args);
	ck_assert_msg(strcmp(error, want) == 0, "got '%s', want '%s'", error,
		      want);
	/* the error stays valid after a later successful call */
	unsigned int uid;
	ck_assert_int_eq(userdb_resolve_uid("5", &uid, &error), 0);
	error = lookup_error(&set, "alice");
	ck_assert_ptr_nonnull(strstr(error, "No such file"));
}
END_TEST

START_TEST(test_passwd_file_unreadable)
{
	struct userdb_settings block;
	struct loft_settings set;
	char args[300];
	const char *error;

	/* a directory cannot be read as a file, even by root */
	write_file("dir/x", "");
	snprintf(args, sizeof(args), "%s", path_in_dir("dir"));
	block_init(&block, "passwd-file", args);
	settings_with(&set, &block, 1);
	error = lookup_error(&set, "alice");
	ck_assert_msg(strstr(error, args) != NULL &&
		      strstr(error, "Is a directory") != NULL,
		      "got '%s', want path and EISDIR", error);

	if (geteuid() == 0)
		return;	/* root reads mode 000 files */
	write_file("locked", "alice:x:1:1\n");
	snprintf(args, sizeof(args), "%s", path_in_dir("locked"));
	ck_assert_int_eq(chmod(args, 0), 0);
	error = lookup_error(&set, "alice");
	ck_assert_msg(strstr(error, args) != NULL &&
		      strstr(error, "Permission denied") != NULL,
		      "got '%s', want path and EACCES", error);
}
END_TEST

START_TEST(test_passwd_file_domain_path)
{
	struct userdb_settings block;
	struct loft_settings set;
	char args[300];
	const char *error;

	write_file("example.com/passwd", "jo@example.com:x:10:20::/v/jo\n");
	snprintf(args, sizeof(args), "%s/%%d/passwd", test_dir);
	block_init(&block, "passwd-file", args);
	settings_with(&set, &block, 1);
	check_lookup(&set, "jo@example.com", USERDB_RESULT_OK,
		     "uid=10 gid=20 home=/v/jo");
	check_lookup(&set, "other@example.com", USERDB_RESULT_USER_UNKNOWN,
		     NULL);
	/* no file for that domain: a failure, never "unknown" */
	error = lookup_error(&set, "jo@example.org");
	ck_assert_ptr_nonnull(strstr(error, "/example.org/passwd"));
}
END_TEST

START_TEST(test_passwd_file_username_format)
{
	struct userdb_settings block;
	struct loft_settings set;
	char args[300];

	write_file("passwd", "john:x:10:20::/home/john\nJohn:x:11:21\n");
	snprintf(args, sizeof(args), "  username_format=%%Ln   %s  ",
		 path_in_dir("passwd"));
	block_init(&block, "passwd-file", args);
	settings_with(&set, &block, 1);
	check_lookup(&set, "John@Example.COM", USERDB_RESULT_OK,
		     "uid=10 gid=20 home=/home/john");
	check_lookup(&set, "jane@example.com", USERDB_RESULT_USER_UNKNOWN,
		     NULL);
}
END_TEST

/* ---- static ---- */

START_TEST(test_static_lookup)
{
	struct userdb_settings block;
	struct loft_settings set;

	block_init(&block, "static",
		   "uid=vmail gid=vmail home=/var/vmail/%d/%n "
		   "mail=maildir:%h/Maildir allow_all_users=yes flag");
	settings_with(&set, &block, 1);
	check_lookup(&set, "Jo@ex.org", USERDB_RESULT_OK,
		     "uid=vmail gid=vmail home=/var/vmail/ex.org/Jo "
		     "mail=maildir:/var/vmail/ex.org/Jo/Maildir flag=yes");
	check_lookup(&set, "anyone", USERDB_RESULT_OK,
		     "uid=vmail gid=vmail home=/var/vmail//anyone "
		     "mail=maildir:/var/vmail//anyone/Maildir flag=yes");
}
END_TEST

START_TEST(test_static_requires_allow_all_users)
{
	static const char want[] = "/etc/loft.conf:12: userdb static: "
		"allow_all_users=yes is required (loft has no passdb)";
	struct userdb_settings block;
	struct loft_settings set;
	const char *error = NULL;

	block_init(&block, "static", "uid=1 gid=1 home=/h allow_all_users=no");
	settings_with(&set, &block, 1);
	ck_assert_int_eq(userdb_validate(&set, &error), -1);
	ck_assert_msg(strcmp(error, want) == 0, "got '%s', want '%s'",
		      error, want);
	error = lookup_error(&set, "jo");
	ck_assert_ptr_nonnull(strstr(error, "allow_all_users=yes"));
}
END_TEST

/* ---- passwd ---- */

START_TEST(test_passwd_driver)
{
	struct userdb_settings block;
	struct userdb_reply *reply = NULL;
	struct loft_settings set;
	const char *error = NULL;

	block_init(&block, "passwd", "");
	settings_with(&set, &block, 1);
	ck_assert_int_eq(userdb_lookup(&set, "root", &reply, &error),
			 USERDB_RESULT_OK);
	ck_assert_str_eq(reply->username, "root");
	ck_assert_str_eq(kvlist_get(&reply->fields, "uid"), "0");
	ck_assert_str_eq(kvlist_get(&reply->fields, "gid"), "0");
	ck_assert_ptr_nonnull(kvlist_get(&reply->fields, "home"));
	ck_assert_int_eq(kvlist_get(&reply->fields, "home")[0], '/');
	userdb_reply_free(&reply);
	check_lookup(&set, MISSING_USER, USERDB_RESULT_USER_UNKNOWN, NULL);
	/* the name is looked up as given, domain included */
	check_lookup(&set, "root@localhost", USERDB_RESULT_USER_UNKNOWN, NULL);
}
END_TEST

/* ---- default_fields / override_fields ---- */

START_TEST(test_field_precedence)
{
	struct userdb_settings block;
	struct userdb_reply *reply = NULL;
	struct loft_settings set;
	const char *error = NULL;
	char args[300];

	block_init(&block, "static", "home=/drv/%n uid=5 allow_all_users=yes");
	block.default_fields = (char *)"home=/def uid=1 gid=2 "
		"mail=mbox:~/mail quota_rule=*:storage=1G";
	block.override_fields = (char *)"mail=maildir:%h/Maildir gid=3";
	settings_with(&set, &block, 1);
	check_lookup(&set, "jo@ex.org", USERDB_RESULT_OK,
		     "home=/drv/jo uid=5 gid=3 mail=maildir:/drv/jo/Maildir "
		     "quota_rule=*:storage=1G");

	/* passwd-file with a user= override renaming the user */
	write_file("passwd",
		   "jo@ex.org:x:10:20::/v/jo::userdb_quota_rule=*:storage=2G\n");
	snprintf(args, sizeof(args), "%s", path_in_dir("passwd"));
	block_init(&block, "passwd-file", args);
	block.default_fields = (char *)"uid=99 mail=mbox:%h/mail";
	block.override_fields = (char *)"user=%n home=%h/sub";
	ck_assert_int_eq(userdb_lookup(&set, "jo@ex.org", &reply, &error),
			 USERDB_RESULT_OK);
	ck_assert_str_eq(reply->username, "jo");
	char *fields = fields_join(&reply->fields);
	ck_assert_str_eq(fields, "uid=10 mail=mbox:/mail gid=20 home=/v/jo/sub "
			 "quota_rule=*:storage=2G user=jo");
	free(fields);
	userdb_reply_free(&reply);
	/* default_fields of a user who is not found do not leak out */
	check_lookup(&set, "nobody@ex.org", USERDB_RESULT_USER_UNKNOWN, NULL);
}
END_TEST

/* ---- several blocks ---- */

START_TEST(test_multiple_userdbs)
{
	struct userdb_settings blocks[2];
	struct loft_settings set;
	char missing[300], found[300];
	const char *error;

	write_file("passwd", "jo:x:10:20::/v/jo\n");
	snprintf(found, sizeof(found), "%s", path_in_dir("passwd"));
	snprintf(missing, sizeof(missing), "%s", path_in_dir("missing"));

	/* first fails, second finds the user */
	block_init(&blocks[0], "passwd-file", missing);
	block_init(&blocks[1], "passwd-file", found);
	settings_with(&set, blocks, 2);
	check_lookup(&set, "jo", USERDB_RESULT_OK, "uid=10 gid=20 home=/v/jo");
	/* first fails, second does not know the user: the failure wins */
	error = lookup_error(&set, "ann");
	ck_assert_ptr_nonnull(strstr(error, missing));

	/* first does not know the user, second answers for everyone */
	block_init(&blocks[0], "passwd-file", found);
	block_init(&blocks[1], "static", "uid=1 gid=1 allow_all_users=yes");
	check_lookup(&set, "ann", USERDB_RESULT_OK, "uid=1 gid=1");
	check_lookup(&set, "jo", USERDB_RESULT_OK, "uid=10 gid=20 home=/v/jo");
	/* skip=notfound: not consulted after "unknown" ... */
	blocks[1].skip = (char *)"notfound";
	check_lookup(&set, "ann", USERDB_RESULT_USER_UNKNOWN, NULL);
	/* ... but consulted after a failure */
	blocks[0].args = missing;
	check_lookup(&set, "ann", USERDB_RESULT_OK, "uid=1 gid=1");

	/* both unknown */
	block_init(&blocks[0], "passwd-file", found);
	block_init(&blocks[1], "passwd", "");
	check_lookup(&set, MISSING_USER, USERDB_RESULT_USER_UNKNOWN, NULL);
}
END_TEST

START_TEST(test_no_userdb)
{
	struct loft_settings set;
	const char *error;

	settings_with(&set, NULL, 0);
	error = lookup_error(&set, "jo");
	ck_assert_str_eq(error, "No userdb configured");
}
END_TEST

/* ---- validation ---- */

struct validate_case {
	const char *driver, *args, *default_fields, *override_fields, *skip;
	/* NULL: valid; else the expected error's beginning */
	const char *error;
};

static const struct validate_case validate_cases[] = {
	{ "passwd-file", "/etc/loft/passwd", NULL, NULL, NULL, NULL },
	{ "passwd-file", "username_format=%Ln /etc/%d/passwd",
	  "mail=maildir:~/Maildir", "home=%h/x", "notfound", NULL },
	{ "static", "uid=1 gid=1 home=/v/%d/%n allow_all_users=yes",
	  NULL, NULL, "never", NULL },
	{ "passwd", "", NULL, NULL, NULL, NULL },
	{ "passwd", "blocking=no", NULL, NULL, "", NULL },
	{ "passwd-file", "", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb passwd-file: Missing passwd-file path" },
	{ "passwd-file", "username_format=%u", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb passwd-file: Missing passwd-file path" },
	{ "passwd-file", "/etc/%z/passwd", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb passwd-file: path /etc/%z/passwd: " },
	{ "ldap", "/etc/ldap.conf", NULL, NULL, NULL,
	  "/etc/loft.conf:12: Unknown userdb driver: ldap" },
	{ NULL, "", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb: driver is not set" },
	{ "static", "uid=1 gid=1", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb static: allow_all_users=yes is required" },
	{ "static", "home=%z allow_all_users=yes", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb static: Field home=%z: " },
	{ "passwd", "foo=bar", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb passwd: Unknown setting: foo" },
	{ "passwd", "blocking=maybe", NULL, NULL, NULL,
	  "/etc/loft.conf:12: userdb passwd: Invalid blocking=maybe" },
	{ "passwd", "", "home=%z", NULL, NULL,
	  "/etc/loft.conf:12: userdb passwd: default_fields: Field home=%z: " },
	{ "passwd", "", NULL, "=x", NULL,
	  "/etc/loft.conf:12: userdb passwd: override_fields: Field without a name" },
	{ "passwd", "", NULL, NULL, "sometimes",
	  "/etc/loft.conf:12: userdb passwd: Invalid skip: sometimes" },
};

START_TEST(test_validate)
{
	const struct validate_case *c = &validate_cases[_i];
	struct userdb_settings blocks[2];
	struct loft_settings set;
	const char *error = NULL;
	int ret;

	/* a valid block first: errors name the broken one */
	block_init(&blocks[0], "passwd", "");
	blocks[0].line = 3;
	block_init(&blocks[1], c->driver, c->args);
	blocks[1].default_fields = (char *)c->default_fields;
	blocks[1].override_fields = (char *)c->override_fields;
	blocks[1].skip = (char *)c->skip;
	settings_with(&set, blocks, 2);
	ret = userdb_validate(&set, &error);
	if (c->error == NULL) {
		ck_assert_msg(ret == 0, "%s %s: got -1 (%s), want 0",
			      c->driver, c->args, error);
		return;
	}
	ck_assert_msg(ret == -1, "%s %s: got %d, want -1", c->driver, c->args,
		      ret);
	ck_assert_msg(strncmp(error, c->error, strlen(c->error)) == 0,
		      "%s %s: got '%s', want '%s...'", c->driver, c->args,
		      error, c->error);
}
END_TEST

/* ---- uid/gid resolution ---- */

struct resolve_case {
	bool gid;
	const char *str;
	int ret;
	unsigned int id;
	const char *error;
};

static const struct resolve_case resolve_cases[] = {
	{ false, "0", 0, 0, NULL },
	{ false, "1000", 0, 1000, NULL },
	{ false, "root", 0, 0, NULL },
	{ false, MISSING_USER, -1, 0, "Unknown user name: " MISSING_USER },
	{ false, "4294967295", -1, 0, "Unknown user name: 4294967295" },
	{ false, "", -1, 0, "Empty uid" },
	{ true, "42", 0, 42, NULL },
	{ true, "root", 0, 0, NULL },
	{ true, MISSING_USER, -1, 0, "Unknown group name: " MISSING_USER },
	{ true, "", -1, 0, "Empty gid" },
};

START_TEST(test_resolve)
{
	const struct resolve_case *c = &resolve_cases[_i];
	const char *error = NULL;
	unsigned int id = 12345;
	int ret;

	ret = c->gid ? userdb_resolve_gid(c->str, &id, &error) :
		userdb_resolve_uid(c->str, &id, &error);
	ck_assert_msg(ret == c->ret, "'%s': got %d, want %d (%s)", c->str,
		      ret, c->ret, error == NULL ? "" : error);
	if (ret == 0) {
		ck_assert_msg(id == c->id, "'%s': got %u, want %u", c->str,
			      id, c->id);
	} else {
		ck_assert_msg(strcmp(error, c->error) == 0,
			      "'%s': got '%s', want '%s'", c->str, error,
			      c->error);
	}
}
END_TEST

static Suite *userdb_suite(void)
{
	Suite *s = suite_create("userdb");
	TCase *tc;

	tc = tcase_create("parse_line");
	tcase_add_loop_test(tc, test_parse_line, 0,
			    (int)LOFT_N_ELEMENTS(parse_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("passwd_file");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_loop_test(tc, test_passwd_file_lookup, 0,
			    (int)LOFT_N_ELEMENTS(passwd_file_cases));
	tcase_add_test(tc, test_passwd_file_missing);
	tcase_add_test(tc, test_passwd_file_unreadable);
	tcase_add_test(tc, test_passwd_file_domain_path);
	tcase_add_test(tc, test_passwd_file_username_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("drivers");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_static_lookup);
	tcase_add_test(tc, test_static_requires_allow_all_users);
	tcase_add_test(tc, test_passwd_driver);
	tcase_add_test(tc, test_field_precedence);
	tcase_add_test(tc, test_multiple_userdbs);
	tcase_add_test(tc, test_no_userdb);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_loop_test(tc, test_validate, 0,
			    (int)LOFT_N_ELEMENTS(validate_cases));
	tcase_add_loop_test(tc, test_resolve, 0,
			    (int)LOFT_N_ELEMENTS(resolve_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(userdb_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
