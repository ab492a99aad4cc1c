/*
 * test_mbox_lock - unit tests for mbox_lock: method list parsing, the NFS-safe
 * dotlock (creation, cleanup, timeout, stale removal, ownership on
 * release), fcntl/lockf/flock locks held by another process, mutual
 * exclusion between concurrent processes and between threads of one
 * process with every method (a thread that times out must not drop the
 * holder's lock), the "<pid>:<host>" dotlock content and the takeover of a
 * dead owner's dotlock, and the mail_privileged_group error paths.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mbox_lock.h"
#include "xalloc.h"

static char test_dir[] = "/tmp/loft-mbox-lock-XXXXXX";
static char *test_mbox;		/* <test_dir>/inbox */
static char *test_dotlock;	/* <test_dir>/inbox.lock */

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

/* setup - a fresh directory with an empty mbox file */
static void setup(void)
{
	int fd;

	strcpy(test_dir, "/tmp/loft-mbox-lock-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	test_mbox = xasprintf("%s/inbox", test_dir);
	test_dotlock = xasprintf("%s/inbox.lock", test_dir);
	fd = open(test_mbox, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	chmod(test_dir, 0700);
	nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	XFREE(test_mbox);
	XFREE(test_dotlock);
}

/* now_ms - monotonic milliseconds */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* count_dir_entries - entries of test_dir other than . and .. */
static unsigned int count_dir_entries(void)
{
	struct dirent *d;
	unsigned int count = 0;
	DIR *dir = opendir(test_dir);

	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			count++;
	}
	closedir(dir);
	return count;
}

/* make_dotlock - create a foreign .lock, its mtime age_secs in the past */
static ino_t make_dotlock(long age_secs)
{
	struct timeval tv[2];
	struct stat st;
	int fd = open(test_dotlock, O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
	if (age_secs > 0) {
		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= age_secs;
		tv[1] = tv[0];
		ck_assert_int_eq(utimes(test_dotlock, tv), 0);
	}
	ck_assert_int_eq(stat(test_dotlock, &st), 0);
	return st.st_ino;
}

/* try_lock - mbox_lock_acquire on test_mbox with the given settings */
static int try_lock(int fd, const char *methods, uint64_t timeout_ms,
		    const char *group, struct mbox_lock **lock_r,
		    const char **error_r)
{
	struct mbox_lock_settings set = {
		.methods = methods,
		.timeout_ms = timeout_ms,
		.stale_ms = 0,
		.privileged_group = group,
	};

	return mbox_lock_acquire(test_mbox, fd, &set, lock_r, error_r);
}

struct parse_case {
	const char *input;
	int ret;
	unsigned int count;
	enum mbox_lock_method methods[3];
};

static const struct parse_case parse_cases[] = {
	{ "dotlock fcntl", 0, 2, { MBOX_LOCK_DOTLOCK, MBOX_LOCK_FCNTL } },
	{ "fcntl dotlock", 0, 2, { MBOX_LOCK_FCNTL, MBOX_LOCK_DOTLOCK } },
	{ NULL, 0, 2, { MBOX_LOCK_DOTLOCK, MBOX_LOCK_FCNTL } },
	{ "", 0, 2, { MBOX_LOCK_DOTLOCK, MBOX_LOCK_FCNTL } },
	{ "  fcntl\t", 0, 1, { MBOX_LOCK_FCNTL } },
	{ "dotlock_try flock lockf", 0, 3,
	  { MBOX_LOCK_DOTLOCK_TRY, MBOX_LOCK_FLOCK, MBOX_LOCK_LOCKF } },
	{ "fcntl bogus", -1, 0, { 0 } },
	{ "fcntl fcntl", -1, 0, { 0 } },
	{ "dotlock dotlock_try", -1, 0, { 0 } },
	{ "dotlockx", -1, 0, { 0 } },
};

START_TEST(test_parse_methods)
{
	const struct parse_case *c = &parse_cases[_i];
	enum mbox_lock_method methods[MBOX_LOCK_METHOD_COUNT];
	unsigned int count = 99, i;
	const char *error = NULL;
	int ret = mbox_lock_parse_methods(c->input, methods, &count, &error);

	ck_assert_msg(ret == c->ret, "%s: got %d, want %d", c->input, ret, c->ret);
	if (ret < 0) {
		ck_assert_ptr_nonnull(error);
		ck_assert_msg(strstr(error, "mbox_write_locks") != NULL,
			      "got error %s", error);
		return;
	}
	ck_assert_msg(count == c->count, "%s: got %u methods, want %u",
		      c->input, count, c->count);
	for (i = 0; i < count; i++) {
		ck_assert_msg(methods[i] == c->methods[i],
			      "%s[%u]: got %d, want %d", c->input, i,
			      methods[i], c->methods[i]);
	}
}
END_TEST

START_TEST(test_dotlock_create_release)
{
	struct mbox_lock *lock;
	const char *error;
	struct stat st;

	ck_assert_int_eq(try_lock(-1, "dotlock", 1000, "", &lock, &error), 1);
	ck_assert_int_eq(stat(test_dotlock, &st), 0);
	ck_assert_msg(st.st_nlink == 1, "got nlink %lu, want 1",
		      (unsigned long)st.st_nlink);
	/* the temp file is gone: only inbox and inbox.lock */
	ck_assert_uint_eq(count_dir_entries(), 2);
	mbox_lock_release(&lock);
	ck_assert_ptr_null(lock);
	ck_assert_int_eq(stat(test_dotlock, &st), -1);
	ck_assert_uint_eq(count_dir_entries(), 1);
}
END_TEST

START_TEST(test_dotlock_timeout)
{
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	ino_t ino = make_dotlock(0);
	uint64_t start = now_ms(), elapsed;
	struct stat st;

	ck_assert_int_eq(try_lock(-1, "dotlock", 300, "", &lock, &error), 0);
	elapsed = now_ms() - start;
	ck_assert_ptr_null(lock);
	ck_assert_msg(elapsed >= 280 && elapsed < 1000,
		      "got %llu ms, want about 300",
		      (unsigned long long)elapsed);
	ck_assert_msg(strstr(error, "Timeout while waiting for lock for mbox file") != NULL &&
		      strstr(error, "dotlock") != NULL, "got error %s", error);
	ck_assert_int_eq(stat(test_dotlock, &st), 0);
	ck_assert(st.st_ino == ino);
	ck_assert_uint_eq(count_dir_entries(), 2);
}
END_TEST

START_TEST(test_dotlock_stale)
{
	struct mbox_lock *lock;
	const char *error = NULL;
	ino_t old_ino = make_dotlock(3600);
	uint64_t start = now_ms();
	struct stat st;

	ck_assert_msg(try_lock(-1, "dotlock", 5000, "", &lock, &error) == 1,
		      "got error %s", error);
	ck_assert_msg(now_ms() - start < 1000, "stale lock took too long");
	ck_assert_int_eq(stat(test_dotlock, &st), 0);
	ck_assert(st.st_ino != old_ino || st.st_mtime > time(NULL) - 60);
	mbox_lock_release(&lock);
	ck_assert_int_eq(stat(test_dotlock, &st), -1);
}
END_TEST

START_TEST(test_dotlock_release_not_ours)
{
	struct mbox_lock *lock;
	const char *error;
	struct stat st;
	ino_t foreign;

	ck_assert_int_eq(try_lock(-1, "dotlock", 1000, "", &lock, &error), 1);
	/* someone judged our lock stale and made their own, which may even
	   reuse our inode number */
	ck_assert_int_eq(unlink(test_dotlock), 0);
	foreign = make_dotlock(0);
	mbox_lock_release(&lock);
	ck_assert_int_eq(stat(test_dotlock, &st), 0);
	ck_assert(st.st_ino == foreign);
}
END_TEST

struct holder {
	pid_t pid;
	int release_fd;		/* closing it lets the child exit */
};

/* hold_start - fork a child that takes method's lock on test_mbox and
   holds it until hold_stop() */
static struct holder hold_start(const char *method)
{
	struct holder h;
	int ready[2], hold[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	h.pid = fork();
	ck_assert_int_ge(h.pid, 0);
	if (h.pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(test_mbox, O_RDWR);
		int ret = strcmp(method, "flock") == 0 ?
			flock(fd, LOCK_EX | LOCK_NB) :
			fcntl(fd, F_SETLK, &fl);

		close(ready[0]);
		close(hold[1]);
		c = ret == 0 ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	close(ready[0]);
	h.release_fd = hold[1];
	return h;
}

/* hold_stop - let the holder exit and reap it */
static void hold_stop(struct holder *h)
{
	int status;

	close(h->release_fd);
	ck_assert_int_eq(waitpid(h->pid, &status, 0), h->pid);
}

static const char *const fd_methods[] = { "fcntl", "lockf", "flock" };

START_TEST(test_fd_lock_held_elsewhere)
{
	const char *method = fd_methods[_i];
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	int fd = open(test_mbox, O_RDWR);
	struct holder h = hold_start(method);
	uint64_t start = now_ms(), elapsed;

	ck_assert_int_eq(try_lock(fd, method, 300, "", &lock, &error), 0);
	elapsed = now_ms() - start;
	ck_assert_msg(elapsed >= 280 && elapsed < 1000,
		      "%s: got %llu ms, want about 300", method,
		      (unsigned long long)elapsed);
	ck_assert_msg(strstr(error, "Timeout while waiting for lock") != NULL,
		      "got error %s", error);
	hold_stop(&h);
	ck_assert_msg(try_lock(fd, method, 300, "", &lock, &error) == 1,
		      "%s: got error %s", method, error);
	mbox_lock_release(&lock);
	close(fd);
}
END_TEST

START_TEST(test_one_deadline_for_all)
{
	/* dotlock free, fcntl held: the whole acquire still ends on time and
	   leaves no dotlock behind */
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	int fd = open(test_mbox, O_RDWR);
	struct holder h = hold_start("fcntl");
	uint64_t start = now_ms(), elapsed;
	struct stat st;

	ck_assert_int_eq(try_lock(fd, "dotlock fcntl", 300, "", &lock, &error), 0);
	elapsed = now_ms() - start;
	ck_assert_msg(elapsed >= 280 && elapsed < 1000,
		      "got %llu ms, want about 300", (unsigned long long)elapsed);
	ck_assert_msg(strstr(error, "fcntl") != NULL, "got error %s", error);
	ck_assert_int_eq(stat(test_dotlock, &st), -1);
	hold_stop(&h);
	close(fd);
}
END_TEST

#define EXCL_CHILDREN 8
#define EXCL_ROUNDS 5

/* excl_child - increment the counter in test_mbox EXCL_ROUNDS times under
   the lock, with a pause between read and write to invite races */
static void excl_child(void)
{
	struct mbox_lock *lock;
	const char *error;
	char buf[32];
	int fd, i, value;
	ssize_t n;

	fd = open(test_mbox, O_RDWR);
	if (fd < 0)
		_exit(2);
	for (i = 0; i < EXCL_ROUNDS; i++) {
		if (try_lock(fd, "dotlock fcntl", 20000, "", &lock, &error) != 1)
			_exit(3);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n < 0 ? 0 : n] = '\0';
		value = atoi(buf);
		usleep(2000);
		n = snprintf(buf, sizeof(buf), "%d\n", value + 1);
		if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
			_exit(4);
		mbox_lock_release(&lock);
	}
	_exit(0);
}

START_TEST(test_mutual_exclusion)
{
	pid_t pids[EXCL_CHILDREN];
	char buf[32] = "";
	int i, status, fd;

	for (i = 0; i < EXCL_CHILDREN; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			excl_child();
	}
	for (i = 0; i < EXCL_CHILDREN; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child %d: got status %d, want exit 0", i, status);
	}
	fd = open(test_mbox, O_RDONLY);
	ck_assert_int_ge(read(fd, buf, sizeof(buf) - 1), 1);
	close(fd);
	ck_assert_msg(atoi(buf) == EXCL_CHILDREN * EXCL_ROUNDS,
		      "got counter %d, want %d", atoi(buf),
		      EXCL_CHILDREN * EXCL_ROUNDS);
	ck_assert_uint_eq(count_dir_entries(), 1);
}
END_TEST

static const char *const thread_methods[] = {
	"dotlock", "dotlock_try", "fcntl", "lockf", "flock",
	"dotlock fcntl", "dotlock_try flock lockf",
};

struct thread_try {
	const char *methods;
	int ret;
	const char *error;
};

/* thread_try_lock - another thread of this process, with its own fd,
   tries the lock the main thread holds, and closes its fd */
static void *thread_try_lock(void *arg)
{
	struct thread_try *t = arg;
	struct mbox_lock *lock = NULL;
	int fd = open(test_mbox, O_RDWR);

	t->ret = try_lock(fd, t->methods, 300, "", &lock, &t->error);
	mbox_lock_release(&lock);
	close(fd);
	return NULL;
}

/* child_can_lock - can another process take a classic fcntl write lock
   on test_mbox right now? */
static bool child_can_lock(void)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(test_mbox, O_RDWR);

		_exit(fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

START_TEST(test_threads_exclude)
{
	struct thread_try t = { .methods = thread_methods[_i], .ret = 99 };
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	int fd = open(test_mbox, O_RDWR);
	pthread_t thread;

	ck_assert_msg(try_lock(fd, t.methods, 1000, "", &lock, &error) == 1,
		      "%s: got error %s", t.methods, error);
	ck_assert_int_eq(pthread_create(&thread, NULL, thread_try_lock, &t), 0);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_msg(t.ret == 0, "%s: another thread got %d, want 0 (timeout)",
		      t.methods, t.ret);
	ck_assert_msg(strstr(t.error, "Timeout") != NULL, "got error %s",
		      t.error);
	/* the waiter's close() left our fcntl/lockf lock in place */
	if (strstr(t.methods, "fcntl") != NULL ||
	    strstr(t.methods, "lockf") != NULL)
		ck_assert_msg(!child_can_lock(), "%s: lock lost", t.methods);
	mbox_lock_release(&lock);
	ck_assert(child_can_lock());
	/* and after the release the other thread gets it */
	ck_assert_int_eq(pthread_create(&thread, NULL, thread_try_lock, &t), 0);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_msg(t.ret == 1, "%s: got %d after release, error %s",
		      t.methods, t.ret, t.error);
	close(fd);
}
END_TEST

START_TEST(test_close_elsewhere_keeps_lock)
{
	/* quota, subscriptions or a failed open may open and close the mbox
	   in the same process while a delivery holds it */
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	int fd = open(test_mbox, O_RDWR);

	ck_assert_int_eq(try_lock(fd, "fcntl", 1000, "", &lock, &error), 1);
	close(open(test_mbox, O_RDONLY));
	ck_assert_msg(!child_can_lock(), "lock lost by another fd's close");
	mbox_lock_release(&lock);
	close(fd);
}
END_TEST

/* this_host - gethostname() */
static const char *this_host(void)
{
	static char host[256];

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	return host;
}

/* dead_pid - the pid of a process that has exited and been reaped */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* make_owned_dotlock - a foreign dotlock holding content */
static void make_owned_dotlock(const char *content, long age_secs)
{
	int fd;

	make_dotlock(age_secs);
	fd = open(test_dotlock, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
	if (age_secs > 0) {
		struct timeval tv[2];

		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= age_secs;
		tv[1] = tv[0];
		ck_assert_int_eq(utimes(test_dotlock, tv), 0);
	}
}

START_TEST(test_dotlock_content)
{
	struct mbox_lock *lock;
	const char *error;
	char buf[512], want[512];
	ssize_t n;
	int fd;

	ck_assert_int_eq(try_lock(-1, "dotlock", 1000, "", &lock, &error), 1);
	fd = open(test_dotlock, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	snprintf(want, sizeof(want), "%ld:%s", (long)getpid(), this_host());
	ck_assert_str_eq(buf, want);
	mbox_lock_release(&lock);
}
END_TEST

struct owner_case {
	const char *what;
	bool dead, other_host;
	long age_secs;
	int ret;		/* with a 400 ms timeout, stale time 2 min */
};

static const struct owner_case owner_cases[] = {
	{ "dead owner, fresh lock: taken over", true, false, 0, 1 },
	{ "live owner, old lock: waited for", false, false, 3600, 0 },
	{ "live owner, fresh lock: waited for", false, false, 0, 0 },
	{ "other host, fresh lock: waited for", true, true, 0, 0 },
	{ "other host, old lock: stale", true, true, 3600, 1 },
};

START_TEST(test_dotlock_owner)
{
	const struct owner_case *c = &owner_cases[_i];
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	char content[512];
	int ret;

	snprintf(content, sizeof(content), "%ld:%s\n",
		 c->dead ? (long)dead_pid() : (long)getppid(),
		 c->other_host ? "other.host.example" : this_host());
	make_owned_dotlock(content, c->age_secs);
	ret = try_lock(-1, "dotlock", 400, "", &lock, &error);
	ck_assert_msg(ret == c->ret, "%s: got %d, want %d (%s)", c->what, ret,
		      c->ret, error == NULL ? "" : error);
	mbox_lock_release(&lock);
}
END_TEST

#define NOBODY_ID 65534

/* run_as_nobody - fork a child that becomes uid/gid nobody, keeping
   saved_gid as its saved set-group-ID (as loft-lda does), and runs fn;
   returns fn's result: 0, or the number of the failing step */
static int run_as_nobody(gid_t saved_gid, int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(NOBODY_ID, NOBODY_ID, saved_gid) < 0 ||
		    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0)
			_exit(100);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "got status %d, want an exit", status);
	return WEXITSTATUS(status);
}

/* step_failed - report why a step of a forked check failed */
static int step_failed(int step, const char *error)
{
	fprintf(stderr, "step %d failed: %s\n", step,
		error == NULL ? "(no error)" : error);
	return step;
}

/* eacces_checks - dotlocks in a directory we may not write to */
static int eacces_checks(void)
{
	struct mbox_lock *lock = NULL;
	const char *error = NULL;

	if (try_lock(-1, "dotlock", 300, "", &lock, &error) != -1 ||
	    strstr(error, "Permission denied") == NULL ||
	    strstr(error, "mail_privileged_group") == NULL)
		return step_failed(1, error);
	if (try_lock(-1, "dotlock", 300, "loft-no-such-group", &lock,
		     &error) != -1 ||
	    strstr(error, "Unknown group name: loft-no-such-group") == NULL)
		return step_failed(2, error);
	/* dotlock_try gives up silently and holds nothing */
	if (try_lock(-1, "dotlock_try", 300, "", &lock, &error) != 1)
		return step_failed(3, error);
	mbox_lock_release(&lock);
	if (count_dir_entries() != 1)
		return step_failed(4, "a file was left behind");
	return 0;
}

START_TEST(test_dotlock_eacces)
{
	int step;

	if (geteuid() == 0) {
		ck_assert_int_eq(chmod(test_dir, 0755), 0);
		step = run_as_nobody(NOBODY_ID, eacces_checks);
	} else {
		ck_assert_int_eq(chmod(test_dir, 0555), 0);
		step = eacces_checks();
	}
	ck_assert_msg(step == 0, "got failing step %d, want 0", step);
}
END_TEST

static gid_t priv_gid;

/* privileged_checks - as nobody with the mail group saved: the dotlock is
   made and removed with the group, and the egid is restored each time */
static int privileged_checks(void)
{
	struct mbox_lock *lock = NULL;
	const char *error = NULL;
	gid_t egid = getegid();
	struct stat st;

	if (try_lock(-1, "dotlock", 1000, "mail", &lock, &error) != 1)
		return step_failed(1, error);
	if (getegid() != egid)
		return step_failed(2, "egid not restored after locking");
	if (stat(test_dotlock, &st) < 0 || st.st_gid != priv_gid)
		return step_failed(3, "lock missing or not of group mail");
	mbox_lock_release(&lock);
	if (stat(test_dotlock, &st) == 0 || getegid() != egid)
		return step_failed(4, "lock left or egid not restored");
	/* a group that is not our saved gid cannot be switched to */
	if (try_lock(-1, "dotlock", 300, "root", &lock, &error) != -1 ||
	    strstr(error, "saved set-group-ID") == NULL)
		return step_failed(5, error);
	return 0;
}

START_TEST(test_dotlock_privileged_group)
{
	struct group *grp = getgrnam("mail");
	int step;

	if (geteuid() != 0 || grp == NULL)
		return;		/* needs root to set up the identities */
	priv_gid = grp->gr_gid;
	ck_assert_int_eq(chown(test_dir, 0, priv_gid), 0);
	ck_assert_int_eq(chmod(test_dir, 0775), 0);
	step = run_as_nobody(priv_gid, privileged_checks);
	ck_assert_msg(step == 0, "got failing step %d, want 0", step);
}
END_TEST

START_TEST(test_privileged_own_group)
{
	struct group *grp = getgrgid(getegid());
	gid_t before = getegid(), old;
	const char *error = NULL;

	if (grp == NULL)
		return;
	ck_assert_msg(mbox_lock_privileged_begin(grp->gr_name, &old, &error) == 0,
		      "got error %s", error);
	ck_assert(old == before);
	ck_assert(getegid() == before);
	ck_assert_int_eq(mbox_lock_privileged_end(old), 0);
	ck_assert(getegid() == before);
}
END_TEST

static Suite *mbox_lock_suite(void)
{
	Suite *s = suite_create("mbox_lock");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_parse_methods, 0,
			    (int)LOFT_N_ELEMENTS(parse_cases));
	tcase_add_test(tc, test_dotlock_create_release);
	tcase_add_test(tc, test_dotlock_timeout);
	tcase_add_test(tc, test_dotlock_stale);
	tcase_add_test(tc, test_dotlock_release_not_ours);
	tcase_add_loop_test(tc, test_fd_lock_held_elsewhere, 0,
			    (int)LOFT_N_ELEMENTS(fd_methods));
	tcase_add_test(tc, test_one_deadline_for_all);
	tcase_add_test(tc, test_mutual_exclusion);
	tcase_add_loop_test(tc, test_threads_exclude, 0,
			    (int)LOFT_N_ELEMENTS(thread_methods));
	tcase_add_test(tc, test_close_elsewhere_keeps_lock);
	tcase_add_test(tc, test_dotlock_content);
	tcase_add_loop_test(tc, test_dotlock_owner, 0,
			    (int)LOFT_N_ELEMENTS(owner_cases));
	tcase_add_test(tc, test_dotlock_eacces);
	tcase_add_test(tc, test_dotlock_privileged_group);
	tcase_add_test(tc, test_privileged_own_group);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mbox_lock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
