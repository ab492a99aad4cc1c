/*
 * test_perm_error - unit tests of the "Permission denied" explanations
 * (daemon/delivery/perm_error.c): the wording of Dovecot's
 * eacces_error_get() for a directory owned by someone else, a group we
 * are not in, an owner without the permission, a thread whose real uid
 * is still root (loft-lmtp's delivery threads), a relative path, and
 * other errors passed through. Each test forks (CK_FORK) and, as root,
 * becomes nobody there; the folder they share is made and removed by
 * the parent.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_slot.h"
#include "perm_error.h"
#include "strbuf.h"
#include "xalloc.h"

static char test_dir[64];
static uid_t nobody_uid;
static gid_t nobody_gid;
static char nobody_ids[128];	/* "euid=65534(nobody) egid=65534(nogroup)" */

static void setup(void)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr;

	ck_assert_ptr_nonnull(pw);
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	gr = getgrgid(nobody_gid);
	snprintf(nobody_ids, sizeof(nobody_ids), "euid=%u(nobody) egid=%u(%s)",
		 (unsigned int)nobody_uid, (unsigned int)nobody_gid,
		 gr != NULL ? gr->gr_name : "<unknown>");
	snprintf(test_dir, sizeof(test_dir), "/tmp/loft-perm-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	ck_assert_int_eq(chmod(test_dir, 0755), 0);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf %s", test_dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", test_dir);
	free(cmd);
}

/* become_nobody - all ids (real_root: only the effective ones, the real
   uid and gid stay root, as on a loft-lmtp delivery thread) */
static void become_nobody(bool real_root)
{
	ck_assert_int_eq(setgroups(0, NULL), 0);
	if (real_root) {
		ck_assert_int_eq(setresgid((gid_t)-1, nobody_gid, (gid_t)-1), 0);
		ck_assert_int_eq(setresuid((uid_t)-1, nobody_uid, (uid_t)-1), 0);
	} else {
		ck_assert_int_eq(setresgid(nobody_gid, nobody_gid, nobody_gid), 0);
		ck_assert_int_eq(setresuid(nobody_uid, nobody_uid, nobody_uid), 0);
	}
}

/* make_dir - test_dir/name with owner and mode */
static char *make_dir(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	char *path = xasprintf("%s/%s", test_dir, name);

	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chown(path, uid, gid), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

/* mkdir_error - the explanation of a failed mkdir(dir/sub) */
static char *mkdir_error(const char *dir)
{
	char *sub = xasprintf("%s/sub", dir);
	struct strbuf out;

	ck_assert_int_eq(mkdir(sub, 0700), -1);
	ck_assert_int_eq(errno, EACCES);
	strbuf_init(&out, 256);
	perm_error_append(&out, "mkdir", sub, true);
	ck_assert_int_eq(errno, EACCES);
	free(sub);
	return strbuf_detach(&out);
}

static void check_root_owned(const char *name, bool real_root)
{
	char *dir, *got, *want;

	if (geteuid() != 0)
		return;
	dir = make_dir(name, 0, 0, 0755);
	become_nobody(real_root);
	got = mkdir_error(dir);
	want = xasprintf("mkdir(%s/sub) failed: Permission denied (%s missing +w "
			 "perm: %s, dir owned by 0:0 mode=0755)", dir,
			 nobody_ids, dir);
	ck_assert_str_eq(got, want);
	if (real_root) {
		/* back to root, as the delivery thread does afterwards (and
		   LeakSanitizer needs at exit) */
		ck_assert_int_eq(setresuid((uid_t)-1, 0, (uid_t)-1), 0);
		ck_assert_int_eq(setresgid((gid_t)-1, 0, (gid_t)-1), 0);
	}
	free(got);
	free(want);
	free(dir);
}

START_TEST(test_dir_owned_by_root)
{
	check_root_owned("Maildir", false);
}
END_TEST

START_TEST(test_thread_ids_with_real_root)
{
	/* access() would answer for root here: the bits decide */
	check_root_owned("Maildir.thread", true);
}
END_TEST

START_TEST(test_not_in_group)
{
	struct group *gr = getgrnam("daemon");
	char *dir, *got, *want;

	if (geteuid() != 0 || gr == NULL)
		return;
	dir = make_dir("shared", 0, gr->gr_gid, 0770);
	become_nobody(false);
	got = mkdir_error(dir);
	want = xasprintf("mkdir(%s/sub) failed: Permission denied (%s missing +x "
			 "perm: %s, we're not in group %u(daemon), dir owned by "
			 "0:%u mode=0770)", dir, nobody_ids, dir,
			 (unsigned int)gr->gr_gid, (unsigned int)gr->gr_gid);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(dir);
}
END_TEST

START_TEST(test_owner_missing_perms)
{
	char *dir, *got, *want;

	if (geteuid() != 0)
		return;
	dir = make_dir("readonly", nobody_uid, nobody_gid, 0555);
	become_nobody(false);
	got = mkdir_error(dir);
	want = xasprintf("mkdir(%s/sub) failed: Permission denied (%s missing +w "
			 "perm: %s, dir owner missing perms)", dir, nobody_ids, dir);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(dir);
}
END_TEST

START_TEST(test_relative_path)
{
	struct strbuf out;
	char *dir, *want;

	if (geteuid() != 0)
		return;
	dir = make_dir("Maildir.relative", 0, 0, 0755);
	ck_assert_int_eq(chdir(dir), 0);
	become_nobody(false);
	strbuf_init(&out, 256);
	perm_error_append(&out, "mkdir", "tmp", true);
	want = xasprintf("mkdir(tmp) in directory %s failed: Permission denied (%s "
			 "missing +w perm: %s, dir owned by 0:0 mode=0755)", dir,
			 nobody_ids, dir);
	ck_assert_str_eq(out.data, want);
	strbuf_free(&out);
	free(want);
	free(dir);
}
END_TEST

START_TEST(test_other_errors_pass_through)
{
	static struct error_slot slot;
	const char *text;

	errno = ENOENT;
	text = perm_error_syscall(&slot, "mkdir", "/nonexistent/x", true);
	ck_assert_str_eq(text, "mkdir(/nonexistent/x) failed: No such file or directory");
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static Suite *perm_error_suite(void)
{
	Suite *s = suite_create("perm_error");
	TCase *tc = tcase_create("core");

	/* in the parent: the forked tests become nobody */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dir_owned_by_root);
	tcase_add_test(tc, test_thread_ids_with_real_root);
	tcase_add_test(tc, test_not_in_group);
	tcase_add_test(tc, test_owner_missing_perms);
	tcase_add_test(tc, test_relative_path);
	tcase_add_test(tc, test_other_errors_pass_through);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(perm_error_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
