/*
 * service_child - the service process's side of loftd (see
 * service_child.h): status records on fd 4 with their rate limit, the
 * master-is-gone watch, service settings lookups and the privilege drop
 * (vsz_limit, chroot, groups, user) with its checks.
 */
#include "service_child.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_slot.h"
#include "evloop.h"
#include "fd_io.h"
#include "xalloc.h"

/* Separators of the extra_groups list. */
#define SERVICE_CHILD_LIST_SEP " \t,"
#define SERVICE_CHILD_MAX_GROUPS 64
#ifdef __SANITIZE_ADDRESS__
#  define SERVICE_CHILD_ASAN 1
#else
#  define SERVICE_CHILD_ASAN 0
#endif

static __thread struct error_slot service_child_error;
static const char *service_child_note;

/* Built-in services that run as default_internal_user and never as root. */
static const char *const service_child_internal_services[] = { "stats", "auth" };

struct service_child {
	struct evloop *loop;
	int fd;
	struct evloop_io *io;
	struct evloop_timer *timer;
	service_child_master_gone_callback_t *gone_cb;
	void *gone_context;
	struct service_child_status sent, want;
	bool sent_any, broken;
	uint64_t last_send_msecs;
};

/* service_child_fail - format the error into the slot and return -1 */
static int service_child_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int service_child_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	*error_r = error_slot_vset(&service_child_error, fmt, args);
	va_end(args);
	return -1;
}

void service_child_status_encode(const struct service_child_status *status,
				 unsigned char buf[SERVICE_CHILD_STATUS_SIZE])
{
	memcpy(buf, &status->pid, 4);
	memcpy(buf + 4, &status->available, 4);
	memcpy(buf + 8, &status->served, 8);
}

int service_child_status_decode(const void *buf, size_t len,
				struct service_child_status *status_r)
{
	const unsigned char *p = buf;

	if (len != SERVICE_CHILD_STATUS_SIZE)
		return -1;
	memcpy(&status_r->pid, p, 4);
	memcpy(&status_r->available, p + 4, 4);
	memcpy(&status_r->served, p + 8, 8);
	return 0;
}

/* service_child_on_master - readable fd 4: EOF (or a reset) = loftd is
   gone; the master sends nothing else yet */
static void service_child_on_master(struct evloop_io *io, int fd,
				    unsigned int events, void *context)
{
	struct service_child *child = context;
	unsigned char buf[64];
	ssize_t ret = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	(void)io;
	(void)events;
	if (ret > 0 || (ret < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	evloop_remove_io(&child->io);
	child->broken = true;
	if (child->timer != NULL)
		evloop_remove_timer(&child->timer);
	if (child->gone_cb != NULL)
		child->gone_cb(child->gone_context);
}

/* service_child_send - send child->want now; false when the socket is
   full (try again later) */
static bool service_child_send(struct service_child *child)
{
	unsigned char buf[SERVICE_CHILD_STATUS_SIZE];
	ssize_t ret;

	if (child->broken)
		return true;
	service_child_status_encode(&child->want, buf);
	ret = send(child->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return false;
	/* any other error: loftd is gone, which the EOF watch reports */
	if (ret < 0)
		child->broken = true;
	child->sent = child->want;
	child->sent_any = true;
	child->last_send_msecs = evloop_now_msecs(child->loop);
	return true;
}

/* service_child_status_equal - whether two records say the same */
static bool service_child_status_equal(const struct service_child_status *a,
				       const struct service_child_status *b)
{
	return a->available == b->available && a->served == b->served;
}

/* service_child_timer - the rate limit is over: send the latest state */
static int64_t service_child_timer(struct evloop_timer *timer, void *context)
{
	struct service_child *child = context;

	(void)timer;
	if (child->sent_any && service_child_status_equal(&child->sent, &child->want)) {
		child->timer = NULL;
		return EVLOOP_NOMORE;
	}
	if (!service_child_send(child))
		return SERVICE_CHILD_STATUS_INTERVAL_MSECS;
	child->timer = NULL;
	return EVLOOP_NOMORE;
}

struct service_child *
service_child_create(struct evloop *loop, int master_fd,
		     service_child_master_gone_callback_t *cb, void *context)
{
	struct service_child *child = xcalloc(1, sizeof(*child));

	child->loop = loop;
	child->fd = master_fd;
	child->gone_cb = cb;
	child->gone_context = context;
	child->want.pid = (uint32_t)getpid();
	child->sent.pid = child->want.pid;
	child->io = evloop_add_io(loop, master_fd, EVLOOP_READ,
				  service_child_on_master, child);
	return child;
}

void service_child_free(struct service_child **_child)
{
	struct service_child *child = *_child;

	if (child == NULL)
		return;
	*_child = NULL;
	if (child->io != NULL)
		evloop_remove_io(&child->io);
	if (child->timer != NULL)
		evloop_remove_timer(&child->timer);
	free(child);
}

void service_child_report(struct service_child *child, unsigned int sessions,
			  unsigned int available, uint64_t served)
{
	uint64_t now = evloop_now_msecs(child->loop);
	uint64_t since = now - child->last_send_msecs;
	bool urgent = available == 0 || sessions == 0;

	child->want.available = available;
	child->want.served = served;
	if (child->broken ||
	    (child->sent_any && service_child_status_equal(&child->sent, &child->want))) {
		if (child->timer != NULL)
			evloop_remove_timer(&child->timer);
		return;
	}
	if ((urgent || !child->sent_any ||
	     since >= SERVICE_CHILD_STATUS_INTERVAL_MSECS) &&
	    service_child_send(child)) {
		if (child->timer != NULL)
			evloop_remove_timer(&child->timer);
		return;
	}
	/* rate-limited, or the socket is full: the timer sends the latest */
	if (child->timer == NULL) {
		child->timer = evloop_add_timer(child->loop,
			since >= SERVICE_CHILD_STATUS_INTERVAL_MSECS ?
			SERVICE_CHILD_STATUS_INTERVAL_MSECS :
			SERVICE_CHILD_STATUS_INTERVAL_MSECS - since,
			service_child_timer, child);
	}
}

const struct service_settings *
service_child_find_service(const struct loft_settings *set, const char *name)
{
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, name) == 0)
			return &set->services[i];
	}
	return NULL;
}

unsigned int service_child_client_limit(const struct loft_settings *set,
					const struct service_settings *svc)
{
	if (svc != NULL && svc->client_limit > 0)
		return svc->client_limit;
	return set->default_client_limit > 0 ? set->default_client_limit : 1;
}

uint64_t service_child_vsz_limit(const struct loft_settings *set,
				 const struct service_settings *svc)
{
	if (svc != NULL && svc->vsz_limit != SERVICE_VSZ_LIMIT_DEFAULT)
		return svc->vsz_limit;
	return set->default_vsz_limit;
}

char *service_child_chroot_path(const struct loft_settings *set,
				const struct service_settings *svc)
{
	if (svc->chroot[0] == '\0')
		return NULL;
	if (svc->chroot[0] == '/')
		return xstrdup(svc->chroot);
	return xasprintf("%s/%s", set->base_dir, svc->chroot);
}

bool service_child_is_internal(const char *service_name)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(service_child_internal_services); i++) {
		if (strcmp(service_child_internal_services[i], service_name) == 0)
			return true;
	}
	return false;
}

/* service_child_number - a decimal id; false when str is not one */
static bool service_child_number(const char *str, unsigned long *value_r)
{
	char *end;

	if (*str < '0' || *str > '9')
		return false;
	errno = 0;
	*value_r = strtoul(str, &end, 10);
	return errno == 0 && *end == '\0' && *value_r < (unsigned long)(uid_t)-1;
}

int service_child_lookup_user(const char *user, uid_t *uid_r, gid_t *gid_r,
			      const char **error_r)
{
	struct passwd pw, *result = NULL;
	char buf[4096];
	unsigned long num;
	bool numeric = service_child_number(user, &num);
	int ret;

	if (numeric)
		ret = getpwuid_r((uid_t)num, &pw, buf, sizeof(buf), &result);
	else
		ret = getpwnam_r(user, &pw, buf, sizeof(buf), &result);
	if (ret != 0)
		return service_child_fail(error_r, "user %s: lookup failed: %s",
					  user, strerror(ret));
	if (result == NULL && !numeric)
		return service_child_fail(error_r, "user %s does not exist", user);
	*uid_r = result != NULL ? pw.pw_uid : (uid_t)num;
	*gid_r = result != NULL ? pw.pw_gid : (gid_t)-1;
	return 0;
}

int service_child_lookup_group(const char *group, gid_t *gid_r,
			       const char **error_r)
{
	struct group gr, *result = NULL;
	char buf[16384];
	unsigned long num;
	int ret;

	if (service_child_number(group, &num)) {
		*gid_r = (gid_t)num;
		return 0;
	}
	ret = getgrnam_r(group, &gr, buf, sizeof(buf), &result);
	if (ret != 0)
		return service_child_fail(error_r, "group %s: lookup failed: %s",
					  group, strerror(ret));
	if (result == NULL)
		return service_child_fail(error_r, "group %s does not exist", group);
	*gid_r = gr.gr_gid;
	return 0;
}

/* service_child_groups - extra_groups as gids; count or -1 */
static int service_child_groups(const char *list, gid_t *gids, size_t max,
				const char **error_r)
{
	char *copy = xstrdup(list), *save = NULL;
	int count = 0;

	for (char *word = strtok_r(copy, SERVICE_CHILD_LIST_SEP, &save);
	     word != NULL; word = strtok_r(NULL, SERVICE_CHILD_LIST_SEP, &save)) {
		if ((size_t)count == max) {
			free(copy);
			return service_child_fail(error_r, "extra_groups: more than %zu groups",
						  max);
		}
		if (service_child_lookup_group(word, &gids[count], error_r) < 0) {
			free(copy);
			return -1;
		}
		count++;
	}
	free(copy);
	return count;
}

/* The identity a service is to run as. */
struct service_child_ids {
	bool have_user;
	uid_t uid;
	gid_t gid;		/* (gid_t)-1: keep */
	gid_t groups[SERVICE_CHILD_MAX_GROUPS];
	int group_count;	/* -1: leave the supplementary groups alone */
};

/* service_child_resolve - svc's user/group/extra_groups as ids */
static int service_child_resolve(const struct service_settings *svc,
				 struct service_child_ids *ids_r,
				 const char **error_r)
{
	const char *error;
	gid_t user_gid = (gid_t)-1;

	memset(ids_r, 0, sizeof(*ids_r));
	ids_r->gid = (gid_t)-1;
	ids_r->group_count = -1;
	if (svc->user[0] != '\0') {
		if (service_child_lookup_user(svc->user, &ids_r->uid, &user_gid,
					      &error) < 0)
			return service_child_fail(error_r, "service(%s): user=%s: %s",
						  svc->name, svc->user, error);
		ids_r->have_user = true;
	}
	if (svc->group[0] != '\0') {
		if (service_child_lookup_group(svc->group, &ids_r->gid, &error) < 0)
			return service_child_fail(error_r, "service(%s): group=%s: %s",
						  svc->name, svc->group, error);
	} else if (ids_r->have_user) {
		if (user_gid == (gid_t)-1)
			return service_child_fail(error_r,
				"service(%s): user=%s has no passwd entry: set group",
				svc->name, svc->user);
		ids_r->gid = user_gid;
	}
	if (svc->extra_groups[0] != '\0' || ids_r->have_user) {
		ids_r->group_count = service_child_groups(svc->extra_groups,
							  ids_r->groups,
							  SERVICE_CHILD_MAX_GROUPS,
							  &error);
		if (ids_r->group_count < 0)
			return service_child_fail(error_r, "service(%s): %s",
						  svc->name, error);
	}
	return 0;
}

/* service_child_root_refused - the error for an internal service that
   would run as root */
static int service_child_root_refused(const struct service_settings *svc,
				      const char **error_r)
{
	return service_child_fail(error_r, "service(%s): user=%s is not allowed",
				  svc->name, svc->user[0] != '\0' ? svc->user : "root");
}

int service_child_check_user(const struct service_settings *svc,
			     const char **error_r)
{
	struct service_child_ids ids;

	if (service_child_resolve(svc, &ids, error_r) < 0)
		return -1;
	if (service_child_is_internal(svc->name) && (!ids.have_user || ids.uid == 0))
		return service_child_root_refused(svc, error_r);
	return 0;
}

/* service_child_set_limit - one rlimit, never above the current hard one */
static int service_child_set_limit(const struct service_settings *svc,
				   int resource, const char *name,
				   uint64_t bytes, const char **error_r)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		return service_child_fail(error_r, "service(%s): getrlimit(%s) failed: %s",
					  svc->name, name, strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes)
		bytes = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)bytes;
	if (setrlimit(resource, &rl) < 0)
		return service_child_fail(error_r, "service(%s): setrlimit(%s, %llu) failed: %s",
					  svc->name, name, (unsigned long long)bytes,
					  strerror(errno));
	return 0;
}

/* service_child_vsz - vsz_limit as RLIMIT_AS and RLIMIT_DATA */
static int service_child_vsz(const struct loft_settings *set,
			     const struct service_settings *svc,
			     const char **error_r)
{
	uint64_t limit = service_child_vsz_limit(set, svc);

	if (limit == 0)
		return 0;
	if (SERVICE_CHILD_ASAN) {
		/* ASan reserves terabytes of address space up front */
		service_child_note = "vsz_limit not applied: built with AddressSanitizer";
		return 0;
	}
	if (service_child_set_limit(svc, RLIMIT_AS, "RLIMIT_AS", limit, error_r) < 0 ||
	    service_child_set_limit(svc, RLIMIT_DATA, "RLIMIT_DATA", limit, error_r) < 0)
		return -1;
	return 0;
}

/* service_child_switch - chroot, groups, gid, uid; then prove root is
   gone for good */
static int service_child_switch(const struct service_settings *svc,
				const char *chroot_path,
				const struct service_child_ids *ids,
				const char **error_r)
{
	if (chroot_path != NULL) {
		if (chroot(chroot_path) < 0)
			return service_child_fail(error_r, "service(%s): chroot(%s) failed: %s",
						  svc->name, chroot_path, strerror(errno));
		if (chdir("/") < 0)
			return service_child_fail(error_r, "service(%s): chdir(/) failed: %s",
						  svc->name, strerror(errno));
	}
	if (ids->group_count >= 0 &&
	    setgroups((size_t)ids->group_count, ids->groups) < 0)
		return service_child_fail(error_r, "service(%s): setgroups() failed: %s",
					  svc->name, strerror(errno));
	if (ids->gid != (gid_t)-1 && setresgid(ids->gid, ids->gid, ids->gid) < 0)
		return service_child_fail(error_r, "service(%s): setgid(%u) failed: %s",
					  svc->name, (unsigned int)ids->gid, strerror(errno));
	if (ids->have_user && setresuid(ids->uid, ids->uid, ids->uid) < 0)
		return service_child_fail(error_r, "service(%s): setuid(%u) failed: %s",
					  svc->name, (unsigned int)ids->uid, strerror(errno));
	return 0;
}

/* service_child_verify - the process runs as ids say, root is gone */
static int service_child_verify(const struct service_settings *svc,
				const struct service_child_ids *ids,
				const char **error_r)
{
	if (ids->have_user && (getuid() != ids->uid || geteuid() != ids->uid))
		return service_child_fail(error_r, "service(%s): runs as uid %u, not %s",
					  svc->name, (unsigned int)geteuid(), svc->user);
	if (ids->gid != (gid_t)-1 && (getgid() != ids->gid || getegid() != ids->gid))
		return service_child_fail(error_r, "service(%s): runs as gid %u, not %u",
					  svc->name, (unsigned int)getegid(),
					  (unsigned int)ids->gid);
	if (ids->have_user && ids->uid != 0 &&
	    (setuid(0) == 0 || geteuid() == 0))
		return service_child_fail(error_r, "service(%s): root could be regained",
					  svc->name);
	return 0;
}

int service_child_drop_privileges(const struct loft_settings *set,
				  const char *service_name,
				  const char **error_r)
{
	const struct service_settings *svc =
		service_child_find_service(set, service_name);
	const char *dropped = getenv(SERVICE_CHILD_PRIVILEGES_ENV);
	struct service_child_ids ids;
	char *chroot_path;
	int ret;

	service_child_note = NULL;
	if (svc == NULL)
		return service_child_fail(error_r, "service(%s): not in the configuration",
					  service_name);
	if (service_child_resolve(svc, &ids, error_r) < 0)
		return -1;
	if (service_child_is_internal(svc->name) &&
	    ((ids.have_user && ids.uid == 0) || (!ids.have_user && geteuid() == 0)))
		return service_child_root_refused(svc, error_r);
	if (dropped != NULL) {
		/* loftd did it before exec: only check */
		(void)unsetenv(SERVICE_CHILD_PRIVILEGES_ENV);
		return service_child_verify(svc, &ids, error_r);
	}
	if (service_child_vsz(set, svc, error_r) < 0)
		return -1;
	if (geteuid() != 0 && (svc->chroot[0] != '\0' ||
			       (ids.have_user && ids.uid != geteuid()))) {
		return service_child_fail(error_r,
			"service(%s): can't switch to user=%s%s%s: not running as root",
			svc->name, svc->user, svc->chroot[0] != '\0' ? " chroot=" : "",
			svc->chroot);
	}
	if (geteuid() != 0)
		return service_child_verify(svc, &ids, error_r);
	chroot_path = service_child_chroot_path(set, svc);
	ret = service_child_switch(svc, chroot_path, &ids, error_r);
	free(chroot_path);
	if (ret < 0)
		return -1;
	return service_child_verify(svc, &ids, error_r);
}

/* service_child_exec_blocker - in a child that has become the service's
   user: "" when path can be executed, else why not, naming the first
   directory that can't be searched (checked with access(), so ACLs and
   groups count as the kernel counts them) */
static void service_child_exec_blocker(const char *path, char *buf, size_t size)
{
	char *prefix = xstrdup(path);
	struct stat st;

	buf[0] = '\0';
	for (char *slash = strchr(prefix + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (access(prefix, X_OK) < 0) {
			if (errno == EACCES && stat(prefix, &st) == 0)
				snprintf(buf, size, "%s is mode %04o, owner uid %u gid %u: "
					 "no search permission", prefix,
					 (unsigned int)(st.st_mode & 07777),
					 (unsigned int)st.st_uid, (unsigned int)st.st_gid);
			else
				snprintf(buf, size, "%s: %s", prefix, strerror(errno));
			free(prefix);
			return;
		}
		*slash = '/';
	}
	free(prefix);
	if (access(path, X_OK) < 0)
		snprintf(buf, size, "%s: %s", path, strerror(errno));
}

int service_child_check_exec(const struct service_settings *svc,
			     const char *path, const char **error_r)
{
	struct service_child_ids ids;
	char why[PATH_MAX + 128];
	const char *error;
	ssize_t len;
	int fds[2], status;
	pid_t pid;

	if (access(path, X_OK) < 0)
		return service_child_fail(error_r, "service(%s): executable %s: %s",
					  svc->name, path, strerror(errno));
	if (!svc->drop_priv_before_exec || geteuid() != 0)
		return 0;
	if (service_child_resolve(svc, &ids, error_r) < 0)
		return -1;
	if (pipe(fds) < 0)
		return service_child_fail(error_r, "service(%s): pipe() failed: %s",
					  svc->name, strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return service_child_fail(error_r, "service(%s): fork() failed: %s",
					  svc->name, strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		/* chroot with drop_priv_before_exec is refused earlier */
		if (service_child_switch(svc, NULL, &ids, &error) < 0)
			snprintf(why, sizeof(why), "%s", error);
		else
			service_child_exec_blocker(path, why, sizeof(why));
		(void)fd_write_full(fds[1], why, strlen(why));
		_exit(0);
	}
	close(fds[1]);
	len = fd_read_to_eof(fds[0], why, sizeof(why) - 1);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (len < 0)
		return service_child_fail(error_r, "service(%s): checking %s: %s",
					  svc->name, path, strerror(errno));
	why[len] = '\0';
	if (len == 0)
		return 0;
	return service_child_fail(error_r,
		"service(%s): user=%s can't execute %s with "
		"drop_priv_before_exec = yes: %s (install loft where that user "
		"can reach it, or drop drop_priv_before_exec)",
		svc->name, svc->user[0] != '\0' ? svc->user : "root",
		path, why);
}

const char *service_child_drop_note(void)
{
	return service_child_note;
}

int service_child_raise_nofile(unsigned int client_limit, const char **error_r)
{
	rlim_t needed = (rlim_t)client_limit + SERVICE_CHILD_NOFILE_RESERVE;
	struct rlimit rl, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return service_child_fail(error_r, "getrlimit(RLIMIT_NOFILE) failed: %s",
					  strerror(errno));
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= needed)
		return 0;
	want.rlim_cur = needed;
	want.rlim_max = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < needed ?
		needed : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		return 1;
	/* the hard limit stays: take all of it */
	want.rlim_cur = rl.rlim_max;
	want.rlim_max = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &want);
	return service_child_fail(error_r,
		"RLIMIT_NOFILE is %llu, client_limit=%u needs %llu: raising it "
		"failed (%s); raise the hard limit loftd starts with "
		"(ulimit -Hn, LimitNOFILE=) or lower client_limit",
		(unsigned long long)rl.rlim_max, client_limit,
		(unsigned long long)needed, strerror(errno));
}
