/*
 * perm_error - "Permission denied" explained (see perm_error.h). The
 * checks follow Dovecot's eacces_error_get() so the words are the ones
 * admins already search for: find the nearest directory of path that
 * can be stat()ed, say which permission on it (or on path) is missing,
 * and who owns it with what mode.
 */
#include "perm_error.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_slot.h"
#include "strbuf.h"
#include "xalloc.h"

#define PERM_ERROR_NAME_BUF 4096
#define PERM_ERROR_MAX_GROUPS 256

/* perm_error_user_name - uid's passwd name into buf; false if none */
static bool perm_error_user_name(uid_t uid, char *buf, size_t size)
{
	char pwbuf[PERM_ERROR_NAME_BUF];
	struct passwd pw, *result = NULL;

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &result) != 0 ||
	    result == NULL)
		return false;
	snprintf(buf, size, "%s", pw.pw_name);
	return true;
}

/* perm_error_group_name - gid's group name into buf; false if none */
static bool perm_error_group_name(gid_t gid, char *buf, size_t size)
{
	char grbuf[PERM_ERROR_NAME_BUF];
	struct group gr, *result = NULL;

	if (getgrgid_r(gid, &gr, grbuf, sizeof(grbuf), &result) != 0 ||
	    result == NULL)
		return false;
	snprintf(buf, size, "%s", gr.gr_name);
	return true;
}

/* perm_error_in_group - gid is the thread's effective or a supplementary
   group */
static bool perm_error_in_group(gid_t gid)
{
	gid_t groups[PERM_ERROR_MAX_GROUPS];
	int count;

	if (getegid() == gid)
		return true;
	count = getgroups(PERM_ERROR_MAX_GROUPS, groups);
	for (int i = 0; i < count; i++) {
		if (groups[i] == gid)
			return true;
	}
	return false;
}

/* perm_error_letter - 'r', 'w' or 'x' for R_OK, W_OK, X_OK */
static char perm_error_letter(int mode)
{
	return mode == R_OK ? 'r' : mode == W_OK ? 'w' : 'x';
}

/* perm_error_bits - whether the mode bits of path give mode to the
   thread's euid/egid; says what is missing into out when write_missing */
static bool perm_error_bits(const char *path, int mode, bool write_missing,
			    struct strbuf *out)
{
	unsigned int want = mode == R_OK ? 04 : mode == W_OK ? 02 : 01;
	unsigned int bits;
	bool group_would = false;
	struct stat st;

	if (stat(path, &st) < 0) {
		strbuf_appendf(out, " stat(%s) failed: %s", path, strerror(errno));
		return false;
	}
	if (st.st_uid == geteuid()) {
		bits = (st.st_mode >> 6) & 07;
	} else if (perm_error_in_group(st.st_gid)) {
		bits = (st.st_mode >> 3) & 07;
	} else {
		group_would = ((st.st_mode >> 3) & want) != 0;
		bits = st.st_mode & 07;
	}
	if ((bits & want) != 0)
		return true;
	if (write_missing)
		strbuf_appendf(out, " missing +%c perm: %s", perm_error_letter(mode),
			       path);
	if (group_would) {
		char name[256];

		/* the group's bits would do, but we are not in it */
		strbuf_appendf(out, ", we're not in group %u", (unsigned int)st.st_gid);
		if (perm_error_group_name(st.st_gid, name, sizeof(name)))
			strbuf_appendf(out, "(%s)", name);
	}
	return false;
}

/* perm_error_access - whether the thread may access path with mode; 0,
   or -1 with what is missing in out and errno EACCES (other errno: the
   check itself failed) */
static int perm_error_access(const char *path, int mode, struct strbuf *out)
{
	if (getuid() == geteuid()) {
		if (access(path, mode) == 0)
			return 0;
		if (errno != EACCES) {
			strbuf_appendf(out, ", access(%s, %d) failed: %s", path, mode,
				       strerror(errno));
			return -1;
		}
		strbuf_appendf(out, " missing +%c perm: %s", perm_error_letter(mode),
			       path);
		if (perm_error_bits(path, mode, false, out))
			strbuf_append_str(out, ", UNIX perms appear ok (ACL/MAC wrong?)");
		errno = EACCES;
		return -1;
	}
	/* access() judges by the real uid, which is not ours here */
	if (mode == X_OK) {
		struct stat st;
		char *probe = xasprintf("%s/test", path);
		int err = 0;

		/* a search through path works unless it says EACCES */
		if (stat(probe, &st) < 0 && errno != ENOENT && errno != ENOTDIR)
			err = errno;
		if (err == EACCES)
			strbuf_appendf(out, " missing +x perm: %s", path);
		else if (err != 0)
			strbuf_appendf(out, ", stat(%s) failed: %s", probe,
				       strerror(err));
		free(probe);
		errno = err;
		return err == 0 ? 0 : -1;
	}
	if (perm_error_bits(path, mode, true, out))
		return 0;
	errno = EACCES;
	return -1;
}

/* perm_error_identity - " (euid=1000(u) egid=1000(u)"; *user_r and
   *group_r get the names ("" when there are none) */
static void perm_error_identity(struct strbuf *out, char *user, size_t user_size,
				char *group, size_t group_size)
{
	strbuf_appendf(out, " failed: Permission denied (euid=%u", (unsigned int)geteuid());
	if (perm_error_user_name(geteuid(), user, user_size)) {
		strbuf_appendf(out, "(%s)", user);
	} else {
		user[0] = '\0';
		strbuf_append_str(out, "(<unknown>)");
	}
	strbuf_appendf(out, " egid=%u", (unsigned int)getegid());
	if (perm_error_group_name(getegid(), group, group_size)) {
		strbuf_appendf(out, "(%s)", group);
	} else {
		group[0] = '\0';
		strbuf_append_str(out, "(<unknown>)");
	}
}

/* perm_error_parent - the directory part of path ("/" for "/x") */
static char *perm_error_parent(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return NULL;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

void perm_error_append(struct strbuf *out, const char *func, const char *path,
		       bool creating)
{
	int saved_errno = errno, missing = 0, ret = -1;
	char user[256], group[256], owner[256];
	char *abs = NULL, *dir = NULL, *prev;
	struct stat st;

	strbuf_appendf(out, "%s(%s)", func, path);
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		if (cwd != NULL) {
			strbuf_appendf(out, " in directory %s", cwd);
			abs = xasprintf("%s/%s", cwd, path);
			path = abs;
			free(cwd);
		}
	}
	perm_error_identity(out, user, sizeof(user), group, sizeof(group));

	/* the nearest directory above path that can be looked at */
	prev = xstrdup(path);
	while (strcmp(prev, "/") != 0) {
		free(dir);
		if ((dir = perm_error_parent(prev)) == NULL)
			break;
		if ((ret = stat(dir, &st)) == 0)
			break;
		if (strcmp(dir, "/") == 0 ||
		    !(errno == EACCES || (errno == ENOENT && creating))) {
			strbuf_appendf(out, " stat(%s) failed: %s", dir, strerror(errno));
			break;
		}
		free(prev);
		prev = xstrdup(dir);
	}
	if (ret == 0) {
		if (perm_error_access(dir, X_OK, out) < 0) {
			missing = errno == EACCES ? 01 : 0;
		} else if (creating && perm_error_access(dir, W_OK, out) < 0) {
			missing = errno == EACCES ? 02 : 0;
		} else if (strcmp(prev, path) == 0 &&
			   perm_error_access(path, R_OK, out) < 0) {
			/* said what is missing */
		} else if (!creating && perm_error_access(path, W_OK, out) < 0) {
			/* may be wrong when func needed no write access;
			   which it needed is not known here */
			missing = errno == EACCES ? 02 : 0;
		} else {
			strbuf_append_str(out, " UNIX perms appear ok (ACL/MAC wrong?)");
		}
		if (st.st_uid != geteuid()) {
			if (user[0] != '\0' &&
			    perm_error_user_name(st.st_uid, owner, sizeof(owner)) &&
			    strcmp(owner, user) == 0)
				strbuf_appendf(out, ", conflicting dir uid=%u(%s)",
					       (unsigned int)st.st_uid, user);
			else
				strbuf_appendf(out, ", dir owned by %u:%u mode=0%o",
					       (unsigned int)st.st_uid,
					       (unsigned int)st.st_gid,
					       (unsigned int)(st.st_mode & 0777));
		} else if (missing != 0 &&
			   (((st.st_mode >> 6) & 07) & (unsigned int)missing) == 0) {
			strbuf_append_str(out, ", dir owner missing perms");
		}
		if (group[0] != '\0' && st.st_gid != getegid() &&
		    perm_error_group_name(st.st_gid, owner, sizeof(owner)) &&
		    strcmp(owner, group) == 0)
			strbuf_appendf(out, ", conflicting dir gid=%u(%s)",
				       (unsigned int)st.st_gid, group);
	}
	strbuf_putc(out, ')');
	free(prev);
	free(dir);
	free(abs);
	errno = saved_errno;
}

const char *perm_error_syscall(struct error_slot *slot, const char *func,
			       const char *path, bool creating)
{
	int saved_errno = errno;
	struct strbuf msg;
	const char *text;

	if (saved_errno != EACCES)
		return error_slot_set(slot, "%s(%s) failed: %s", func, path,
				      strerror(saved_errno));
	strbuf_init(&msg, 256);
	perm_error_append(&msg, func, path, creating);
	text = error_slot_set(slot, "%s", msg.data);
	strbuf_free(&msg);
	errno = saved_errno;
	return text;
}
