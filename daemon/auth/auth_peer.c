/*
 * auth_peer - peer credentials against a listener's mode, owner and group
 * (see auth_peer.h).
 */
#include "auth_peer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error_slot.h"
#include "xalloc.h"

/* more supplementary groups than this are not read (NGROUPS_MAX is 65536) */
#define AUTH_PEER_MAX_GROUPS 65536

static struct error_slot auth_peer_error_slot;

/* peer_in_group - gid is the peer's primary or a supplementary group */
static bool peer_in_group(const struct auth_peer *peer, gid_t gid)
{
	if (peer->gid == gid)
		return true;
	for (size_t i = 0; i < peer->group_count; i++) {
		if (peer->groups[i] == gid)
			return true;
	}
	return false;
}

enum auth_peer_access auth_peer_check(const struct auth_peer_policy *policy,
				      const struct auth_peer *peer,
				      const char **reason_r)
{
	unsigned int mode = policy->mode & 0777;
	bool owner = peer->uid == policy->uid;
	bool member = peer_in_group(peer, policy->gid);

	*reason_r = NULL;
	if (peer->uid == 0)
		return AUTH_PEER_FULL;
	if (mode == 0666) {
		if (owner || member)
			return AUTH_PEER_FULL;
		*reason_r = error_slot_set(&auth_peer_error_slot,
			"mode 0666 socket: uid %u is neither its owner (%u) nor "
			"in its group (%u): only its own uid may be looked up",
			(unsigned int)peer->uid, (unsigned int)policy->uid,
			(unsigned int)policy->gid);
		return AUTH_PEER_RESTRICTED;
	}
	if (owner ? (mode & 0200) != 0 :
	    member ? (mode & 0020) != 0 : (mode & 0002) != 0)
		return AUTH_PEER_FULL;
	*reason_r = error_slot_set(&auth_peer_error_slot,
		"socket mode 0%o owner %u group %u gives uid %u gid %u no access",
		mode, (unsigned int)policy->uid, (unsigned int)policy->gid,
		(unsigned int)peer->uid, (unsigned int)peer->gid);
	return AUTH_PEER_REFUSED;
}

/* read_groups - the Groups: line of /proc/PID/status (kernels before
   4.13, without SO_PEERGROUPS); NULL when unknown */
static gid_t *read_groups(pid_t pid, size_t *count_r)
{
	char path[64], *line = NULL;
	size_t cap = 0, count = 0, alloc = 0;
	gid_t *groups = NULL;
	FILE *f;

	*count_r = 0;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		p = line + 7;
		for (;;) {
			unsigned long gid;

			errno = 0;
			gid = strtoul(p, &end, 10);
			if (end == p || errno != 0 || count == AUTH_PEER_MAX_GROUPS)
				break;
			if (count == alloc) {
				alloc = alloc == 0 ? 16 : alloc * 2;
				groups = xreallocarray(groups, alloc, sizeof(*groups));
			}
			groups[count++] = (gid_t)gid;
			p = end;
		}
		break;
	}
	free(line);
	fclose(f);
	*count_r = count;
	return groups;
}

/* peer_groups - the supplementary groups the peer had at connect()
   (SO_PEERGROUPS: no race with its pid being reused, and no /proc that
   hidepid may hide); NULL with errno when the kernel cannot say */
static gid_t *peer_groups(int fd, size_t *count_r)
{
	socklen_t len = 32 * sizeof(gid_t);
	gid_t *groups = xmalloc(len);
	int ret;

	*count_r = 0;
	ret = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (ret < 0 && errno == ERANGE &&
	    len <= AUTH_PEER_MAX_GROUPS * sizeof(gid_t)) {
		groups = xrealloc(groups, len);
		ret = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	}
	if (ret < 0) {
		int err = errno;

		free(groups);
		errno = err;
		return NULL;
	}
	*count_r = len / sizeof(gid_t);
	return groups;
}

int auth_peer_read(int fd, struct auth_peer *peer_r, gid_t **groups_r,
		   const char **error_r)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(peer_r, 0, sizeof(*peer_r));
	*groups_r = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		*error_r = error_slot_set(&auth_peer_error_slot,
			"getsockopt(SO_PEERCRED) failed: %s", strerror(errno));
		return -1;
	}
	peer_r->pid = cred.pid;
	peer_r->uid = cred.uid;
	peer_r->gid = cred.gid;
	*groups_r = peer_groups(fd, &peer_r->group_count);
	if (*groups_r == NULL && errno == ENOPROTOOPT)
		*groups_r = read_groups(cred.pid, &peer_r->group_count);
	peer_r->groups = *groups_r;
	return 0;
}
