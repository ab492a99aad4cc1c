/*
 * test_proc_usage - unit tests for lib/proc_usage: parsing /proc/PID/stat
 * lines (command names with spaces and parentheses, short lines), and
 * reading this process's own figures.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "proc_usage.h"

/* a loft-lmtp line from a real machine: pid (comm) state ppid ... */
static const char stat_line[] =
	"4242 (loft-lmtp) S 4200 4200 4200 0 -1 4194560 1063 0 0 0 "
	"250 125 0 0 20 0 1 0 360000 17448960 1200 18446744073709551615 "
	"1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

START_TEST(test_parse_stat)
{
	struct proc_usage u;

	ck_assert_int_eq(proc_usage_parse_stat(stat_line, 100, 4096,
					       1700000000, &u), 0);
	/* (250 + 125) ticks at 100 Hz */
	ck_assert(u.cpu_seconds > 3.749 && u.cpu_seconds < 3.751);
	ck_assert_uint_eq(u.resident_bytes, 1200 * 4096);
	/* started 3600 s after boot */
	ck_assert_uint_eq(u.start_usecs, (uint64_t)(1700000000 + 3600) * 1000000);
}
END_TEST

START_TEST(test_parse_odd_names)
{
	struct proc_usage u;

	/* a command name holding ") S 1 2 3 (" must not shift the fields */
	ck_assert_int_eq(proc_usage_parse_stat(
		"7 (a) S 1 2 3 ( b) R 1 1 1 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 "
		"50 1000 3 0\n", 10, 1000, 0, &u), 0);
	ck_assert(u.cpu_seconds > 2.99 && u.cpu_seconds < 3.01);
	ck_assert_uint_eq(u.resident_bytes, 3000);
	ck_assert_uint_eq(u.start_usecs, 5000000);
	/* cut short, no parenthesis, no tick rate */
	ck_assert_int_eq(proc_usage_parse_stat("7 (a) S 1 2 3", 100, 4096, 0,
					       &u), -1);
	ck_assert_int_eq(proc_usage_parse_stat("7 a S 1 2 3", 100, 4096, 0,
					       &u), -1);
	ck_assert_int_eq(proc_usage_parse_stat(stat_line, 0, 4096, 0, &u), -1);
}
END_TEST

START_TEST(test_read_self)
{
	struct proc_usage before, after;
	uint64_t now = clock_realtime_usecs();
	int fd;

	ck_assert_int_eq(proc_usage_read(getpid(), &before), 0);
	ck_assert(before.start_usecs > 0 && before.start_usecs <= now + 1000000);
	ck_assert(now - before.start_usecs < 3600ull * 1000000);
	ck_assert(before.resident_bytes > 0);
	ck_assert(before.fds_known);
	ck_assert(before.open_fds >= 1);
	ck_assert(before.cpu_seconds >= 0);
	/* one more descriptor is seen */
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(proc_usage_read(getpid(), &after), 0);
	ck_assert_uint_eq(after.open_fds, before.open_fds + 1);
	ck_assert_uint_eq(after.start_usecs, before.start_usecs);
	close(fd);
}
END_TEST

START_TEST(test_read_gone)
{
	struct proc_usage u;

	/* above pid_max */
	ck_assert_int_eq(proc_usage_read(99999999, &u), -1);
}
END_TEST

static Suite *proc_usage_suite(void)
{
	Suite *s = suite_create("proc_usage");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_parse_odd_names);
	tcase_add_test(tc, test_read_self);
	tcase_add_test(tc, test_read_gone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proc_usage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
