/*
 * master_state - creating state_dir (see master_state.h). An existing
 * state_dir is left as the admin made it: a packaged /var/lib/loft, or a
 * folder that was given to someone else on purpose.
 */
#include "master_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_slot.h"
#include "service_child.h"
#include "xalloc.h"

static __thread struct error_slot master_state_error;

/* master_state_user - the stats service's user (default_internal_user
   unless the service names one) */
static const char *master_state_user(const struct loft_settings *set)
{
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, "stats") == 0 &&
		    set->services[i].user[0] != '\0')
			return set->services[i].user;
	}
	return set->default_internal_user;
}

/* master_state_mkdirs - mkdir -p the parents of dir, mode 0755 */
static int master_state_mkdirs(const char *dir, const char **error_r)
{
	char *copy = xstrdup(dir);
	int ret = 0;

	for (char *p = copy + 1; ret == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			*error_r = error_slot_set(&master_state_error,
						  "mkdir(%s) failed: %s", copy,
						  strerror(errno));
			ret = -1;
		}
		*p = '/';
	}
	free(copy);
	return ret;
}

int master_state_dir_create(const struct loft_settings *set,
			    const char **error_r)
{
	const char *dir = set->state_dir, *error;
	uid_t uid;
	gid_t gid;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	if (master_state_mkdirs(dir, error_r) < 0)
		return -1;
	if (mkdir(dir, 0750) < 0) {
		if (errno == EEXIST)
			return 0;
		*error_r = error_slot_set(&master_state_error,
					  "state_dir: mkdir(%s) failed: %s", dir,
					  strerror(errno));
		return -1;
	}
	if (geteuid() != 0)
		return 0;
	if (service_child_lookup_user(master_state_user(set), &uid, &gid,
				      &error) < 0) {
		*error_r = error_slot_set(&master_state_error, "state_dir: %s",
					  error);
		return -1;
	}
	if (chown(dir, uid, gid) < 0) {
		*error_r = error_slot_set(&master_state_error,
					  "state_dir: chown(%s, %s) failed: %s",
					  dir, master_state_user(set),
					  strerror(errno));
		return -1;
	}
	return 0;
}
