/*
 * master_root - what in the configuration needs root (see master_root.h).
 */
#include "master_root.h"

#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "service_child.h"
#include "strbuf.h"
#include "xalloc.h"

static char *master_root_error;

/* master_root_reason - one more "why" */
static void master_root_reason(struct strbuf *why, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static void master_root_reason(struct strbuf *why, const char *fmt, ...)
{
	va_list args;

	strbuf_append_str(why, why->len == 0 ? "" : "; ");
	va_start(args, fmt);
	strbuf_vappendf(why, fmt, args);
	va_end(args);
}

/* master_root_other_user - user names (or numbers) a uid other than ours */
static bool master_root_other_user(const char *user)
{
	uid_t uid;
	gid_t gid;
	const char *error;

	return user[0] != '\0' &&
		(service_child_lookup_user(user, &uid, &gid, &error) < 0 ||
		 uid != geteuid());
}

/* master_root_other_group - group names a gid other than ours */
static bool master_root_other_group(const char *group)
{
	gid_t gid;
	const char *error;

	return group[0] != '\0' &&
		(service_child_lookup_group(group, &gid, &error) < 0 ||
		 gid != getegid());
}

/* master_root_service - what svc would need root for */
static void master_root_service(const struct service_settings *svc,
				struct strbuf *why)
{
	if (master_root_other_user(svc->user))
		master_root_reason(why, "service(%s) runs as user=%s",
				   svc->name, svc->user);
	else if (master_root_other_group(svc->group))
		master_root_reason(why, "service(%s) runs as group=%s",
				   svc->name, svc->group);
	if (svc->extra_groups[0] != '\0')
		master_root_reason(why, "service(%s) has extra_groups=%s",
				   svc->name, svc->extra_groups);
	if (svc->chroot[0] != '\0')
		master_root_reason(why, "service(%s) chroots to %s", svc->name,
				   svc->chroot);
	for (size_t i = 0; i < svc->listener_count; i++) {
		const struct listener_settings *l = &svc->listeners[i];

		if (l->type == LISTENER_INET && l->port > 0 && l->port < 1024)
			master_root_reason(why, "service(%s) listens on port %u",
					   svc->name, l->port);
		else if (l->type != LISTENER_INET &&
			 (master_root_other_user(l->user) ||
			  master_root_other_group(l->group)))
			master_root_reason(why, "service(%s) gives its listener %s "
					   "to user=%s group=%s", svc->name,
					   l->name, l->user, l->group);
	}
}

/* master_root_dir - dir (base_dir, state_dir) exists and is writable, or
   its nearest existing parent is */
static void master_root_dir(const char *setting, const char *dir,
			    struct strbuf *why)
{
	char *path = xstrdup(dir);

	while (access(path, F_OK) < 0 && errno == ENOENT &&
	       strcmp(path, "/") != 0) {
		char *parent = path_dirname(path);

		free(path);
		path = parent;
	}
	if (access(path, W_OK | X_OK) < 0) {
		if (strcmp(path, dir) == 0)
			master_root_reason(why, "%s %s is not writable", setting,
					   dir);
		else
			master_root_reason(why, "%s %s can't be created in %s",
					   setting, dir, path);
	}
	free(path);
}

/* master_root_identity - "uid=1000(alice) gid=1000(alice)" */
static void master_root_identity(struct strbuf *out)
{
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());

	strbuf_appendf(out, "uid=%u", (unsigned int)geteuid());
	if (pw != NULL)
		strbuf_appendf(out, "(%s)", pw->pw_name);
	strbuf_appendf(out, " gid=%u", (unsigned int)getegid());
	if (gr != NULL)
		strbuf_appendf(out, "(%s)", gr->gr_name);
}

int master_root_check(const struct master_config *config,
		      const char **error_r)
{
	const struct loft_settings *set = master_config_settings(config);
	struct strbuf why;
	int ret = 0;

	if (geteuid() == 0)
		return 0;
	strbuf_init(&why, 256);
	for (size_t i = 0; i < set->service_count; i++) {
		if (master_config_service_enabled(config, &set->services[i]))
			master_root_service(&set->services[i], &why);
	}
	master_root_dir("base_dir", set->base_dir, &why);
	if (set->state_dir[0] != '\0')
		master_root_dir("state_dir", set->state_dir, &why);
	if (why.len > 0) {
		struct strbuf msg;

		strbuf_init(&msg, 512);
		strbuf_append_str(&msg, "loftd needs root: it runs as ");
		master_root_identity(&msg);
		strbuf_appendf(&msg, ", but %s. Started as root, loftd opens "
			       "the listeners, base_dir and the logs, then runs "
			       "each service as its own user (start it as root, "
			       "e.g. systemctl start loft)", why.data);
		free(master_root_error);
		master_root_error = strbuf_detach(&msg);
		*error_r = master_root_error;
		ret = -1;
	}
	strbuf_free(&why);
	return ret;
}
