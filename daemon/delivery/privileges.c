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
#include <unistd.h>

#include "userdb.h"

static char privileges_error[256];

int privileges_drop(uid_t uid, gid_t gid, const char *system_groups_user,
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
			initgroups(system_groups_user, gid) :
			setgroups(1, &gid);
		if (ret < 0) {
			snprintf(privileges_error, sizeof(privileges_error),
				 "setgroups(%u) failed: %s", (unsigned int)gid,
				 strerror(errno));
			*error_r = privileges_error;
			return -1;
		}
	}
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
