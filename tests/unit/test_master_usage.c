/*
 * test_master_usage - unit tests for daemon/master/master_usage: loftd's
 * own figures under "master", children summed per service name, the
 * start time of the oldest, and the CPU time of a reaped child kept in
 * its service's sum without being counted twice before the next reading.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "master_usage.h"

/* cpu_msecs - CPU time this process has used */
static uint64_t cpu_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* spawn - a child of service name that burns msecs of CPU time, then
   says so on a pipe and sleeps, linked into list (only the fields
   master_usage reads); returns once the child has burnt its CPU, however
   busy the machine is */
static struct master_process *spawn(struct master_process_list *list,
				    const char *name, unsigned int msecs)
{
	struct master_process *p = calloc(1, sizeof(*p));
	int fds[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		volatile unsigned long spin = 0;

		close(fds[0]);
		while (cpu_msecs() < msecs)
			spin++;
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	p->pid = pid;
	p->service_name = (char *)name;
	p->next = list->head;
	list->head = p;
	list->count++;
	return p;
}

/* find - the figures of service in a report, or NULL */
static const Loft__ProcessUsage *find(const Loft__MasterStatus *msg,
				      const char *service)
{
	for (size_t i = 0; i < msg->n_usage; i++) {
		if (strcmp(msg->usage[i]->service, service) == 0)
			return msg->usage[i];
	}
	return NULL;
}

/* reap - kill and wait4 p, unlinking it from list */
static void reap(struct master_usage *usage, struct master_process_list *list,
		 struct master_process *p)
{
	struct rusage ru;
	int status;

	kill(p->pid, SIGKILL);
	ck_assert_int_eq(wait4(p->pid, &status, 0, &ru), p->pid);
	master_usage_reaped(usage, p, &ru);
	for (struct master_process **pp = &list->head; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	list->count--;
	free(p);
}

START_TEST(test_per_service)
{
	struct master_usage *usage = master_usage_create();
	struct master_process_list list = { NULL, 0 };
	Loft__MasterStatus msg = LOFT__MASTER_STATUS__INIT;
	const Loft__ProcessUsage *self, *lmtp, *stats;
	struct master_process *a, *b, *c;

	a = spawn(&list, "lmtp", 0);
	usleep(20000);
	b = spawn(&list, "lmtp", 0);
	c = spawn(&list, "stats", 0);
	usleep(50000);
	master_usage_sample(usage, &list, 1000);
	master_usage_fill(usage, &msg);
	ck_assert_uint_eq(msg.n_usage, 3);
	ck_assert_str_eq(msg.usage[0]->service, MASTER_USAGE_SELF);
	self = find(&msg, MASTER_USAGE_SELF);
	lmtp = find(&msg, "lmtp");
	stats = find(&msg, "stats");
	ck_assert_ptr_nonnull(lmtp);
	ck_assert_ptr_nonnull(stats);
	ck_assert(self->resident_bytes > 0 && self->open_fds > 0);
	/* two processes' worth, the oldest one's start */
	ck_assert(lmtp->open_fds > stats->open_fds);
	ck_assert(lmtp->has_start_usecs && stats->has_start_usecs);
	ck_assert(lmtp->start_usecs <= stats->start_usecs);
	ck_assert(lmtp->start_usecs <= clock_realtime_usecs());
	reap(usage, &list, a);
	reap(usage, &list, b);
	reap(usage, &list, c);
	/* read again at once: not yet due */
	master_usage_sample(usage, &list, 2000);
	master_usage_fill(usage, &msg);
	ck_assert(find(&msg, "lmtp")->has_start_usecs);
	/* due: nothing of lmtp runs, its entry stays without a start */
	master_usage_sample(usage, &list, 1000 + MASTER_USAGE_SAMPLE_MSECS);
	master_usage_fill(usage, &msg);
	lmtp = find(&msg, "lmtp");
	ck_assert(!lmtp->has_start_usecs);
	ck_assert_uint_eq(lmtp->resident_bytes, 0);
	ck_assert_uint_eq(lmtp->open_fds, 0);
	master_usage_free(&usage);
	ck_assert_ptr_null(usage);
}
END_TEST

START_TEST(test_reaped_cpu_stays)
{
	struct master_usage *usage = master_usage_create();
	struct master_process_list list = { NULL, 0 };
	Loft__MasterStatus msg = LOFT__MASTER_STATUS__INIT;
	struct master_process *p;
	double live, after_reap, after_read;

	p = spawn(&list, "lmtp", 300);
	master_usage_sample(usage, &list, 1000);
	master_usage_fill(usage, &msg);
	live = find(&msg, "lmtp")->cpu_seconds;
	/* it burnt 300 ms of CPU, then only sleeps */
	ck_assert_msg(live >= 0.29, "a child that spun 300 ms used %g s", live);
	reap(usage, &list, p);
	master_usage_fill(usage, &msg);
	after_reap = find(&msg, "lmtp")->cpu_seconds;
	/* not counted twice, not lost */
	ck_assert_msg(after_reap >= live && after_reap < live + 0.05,
		      "live %g, after the reap %g", live, after_reap);
	master_usage_sample(usage, &list, 1000 + MASTER_USAGE_SAMPLE_MSECS);
	master_usage_fill(usage, &msg);
	after_read = find(&msg, "lmtp")->cpu_seconds;
	ck_assert_msg(after_read >= after_reap - 1e-9 &&
		      after_read < after_reap + 1e-9,
		      "after the reap %g, read again %g", after_reap, after_read);
	master_usage_free(&usage);
}
END_TEST

static Suite *master_usage_suite(void)
{
	Suite *s = suite_create("master_usage");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_per_service);
	tcase_add_test(tc, test_reaped_cpu_stays);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(master_usage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
