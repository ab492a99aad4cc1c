/*
 * privileges - permanent switch to a mail user's uid/gid (see
 * privileges.h). Order matters: groups first while still root, then the
 * gid triple, then the uid triple; afterwards we verify that root cannot be
 * regained.
 */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "userdb.h"

static __thread char privileges_error[256];

/* privileges_set_ids - the gid triple (saved_gid as the saved one), then
   the uid triple, then check that root cannot be regained; supplementary
   groups are set before. 0, or -1 with *error_r */
static int privileges_set_ids(uid_t uid, gid_t gid, gid_t saved_gid,
			      const char **error_r)
{
	if (setresgid(gid, gid, saved_gid) < 0) {
		snprintf(privileges_error, sizeof(privileges_error),
			 "setresgid(%u) failed: %s", (unsigned int)gid,
			 strerror(errno));
		*error_r = privileges_error;
		return -1;
	}
	if (setresuid(uid, uid, uid) < 0) {
		snprintf(privileges_error, sizeof(privileges_error),
			 "setresuid(%u) failed: %s", (unsigned int)uid,
			 strerror(errno));
		*error_r = privileges_error;
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(privileges_error, sizeof(privileges_error),
			 "privileges could not be dropped: root regained");
		*error_r = privileges_error;
		return -1;
	}
	return 0;
}

/* privileges_user_groups - setgroups() to user's groups (with gid) that
   are inside range; 0, or -1 with errno */
static int privileges_user_groups(const char *user, gid_t gid,
				  const struct privileges_gid_range *range)
{
	gid_t groups[256];
	int count = (int)(sizeof(groups) / sizeof(groups[0])), kept = 0;

	if (getgrouplist(user, gid, groups, &count) < 0) {
		errno = E2BIG;
		return -1;
	}
	for (int i = 0; i < count; i++) {
		if (groups[i] != gid &&
		    (groups[i] < range->first ||
		     (range->last != 0 && groups[i] > range->last)))
			continue;
		groups[kept++] = groups[i];
	}
	return setgroups((size_t)kept, groups);
}

int privileges_drop(uid_t uid, gid_t gid, const char *system_groups_user,
		    const struct privileges_gid_range *range,
		    const char *privileged_group, const char **error_r)
{
	gid_t saved_gid = gid;

	if (privileged_group != NULL && *privileged_group != '\0') {
		unsigned int pgid;
		const char *error;

		if (userdb_resolve_gid(privileged_group, &pgid, &error) < 0) {
			snprintf(privileges_error, sizeof(privileges_error),
				 "mail_privileged_group: %s", error);
			*error_r = privileges_error;
			return -1;
		}
		saved_gid = (gid_t)pgid;
	}
	if (geteuid() == 0) {
		int ret = system_groups_user != NULL ?
			privileges_user_groups(system_groups_user, gid, range) :
			setgroups(1, &gid);
		if (ret < 0) {
			snprintf(privileges_error, sizeof(privileges_error),
				 "setgroups(%u) failed: %s", (unsigned int)gid,
				 strerror(errno));
			*error_r = privileges_error;
			return -1;
		}
	}
	return privileges_set_ids(uid, gid, saved_gid, error_r);
}

int privileges_drop_to_caller(const char **error_r)
{
	/* the supplementary groups are the caller's already: exec of a
	   set-user-ID program does not change them */
	return privileges_set_ids(getuid(), getgid(), getgid(), error_r);
}

/* thread_fail - format errno into the error slot */
static int thread_fail(const char *call, unsigned int id, const char **error_r)
{
	snprintf(privileges_error, sizeof(privileges_error), "%s(%u) failed: %s",
		 call, id, strerror(errno));
	*error_r = privileges_error;
	return -1;
}

int privileges_thread_assume(uid_t uid, gid_t gid, gid_t saved_gid,
			     const char **error_r)
{
	const char *error;

	if (syscall(SYS_setgroups, 1, &gid) < 0)
		return thread_fail("setgroups", (unsigned int)gid, error_r);
	/* the real gid too: a dotlock's switch to saved_gid must be able to
	   come back to gid without root */
	if (syscall(SYS_setresgid, gid, gid, saved_gid) < 0) {
		(void)privileges_thread_restore(&error);
		return thread_fail("setresgid", (unsigned int)gid, error_r);
	}
	if (syscall(SYS_setresuid, -1, uid, -1) < 0) {
		(void)privileges_thread_restore(&error);
		return thread_fail("setresuid", (unsigned int)uid, error_r);
	}
	return 0;
}

int privileges_thread_restore(const char **error_r)
{
	if (syscall(SYS_setresuid, -1, 0, -1) < 0)
		return thread_fail("setresuid", 0, error_r);
	if (syscall(SYS_setresgid, 0, 0, 0) < 0)
		return thread_fail("setresgid", 0, error_r);
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return thread_fail("setgroups", 0, error_r);
	return 0;
}
