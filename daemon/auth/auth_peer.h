/*
 * auth_peer - who may ask loft-auth what: the peer-credential rule of one
 * auth-userdb listener, from the socket file's mode, owner and group and
 * the peer's SO_PEERCRED (uid, gid) and SO_PEERGROUPS (its supplementary
 * groups as they were at connect(); /proc/PID/status on kernels without
 * it).
 *
 * Dovecot's rule, applied by the server itself besides the kernel's
 * permission check on connect():
 *   - root is never restricted;
 *   - mode 0666 (Dovecot's default): the socket's owner and members of
 *     its group get every answer; anyone else is "restricted": a USER
 *     lookup succeeds only when the userdb's uid is the peer's own uid,
 *     and LIST is refused;
 *   - any other mode: the file's permission bits say who may connect at
 *     all (owner bits for the owner, group bits for members of the group,
 *     other bits for the rest, as the kernel reads them; the write bit
 *     counts), so a socket file chmod'ed wider or narrower than intended
 *     after loftd created it cannot widen access: a peer the bits do not
 *     allow is refused.
 */
#ifndef LOFT_AUTH_PEER_H
#define LOFT_AUTH_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct auth_peer_policy {
	unsigned int mode;	/* permission bits of the socket file */
	uid_t uid;		/* its owner */
	gid_t gid;		/* its group */
};

struct auth_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* supplementary groups, may be NULL */
	size_t group_count;
};

enum auth_peer_access {
	AUTH_PEER_REFUSED,
	AUTH_PEER_FULL,
	AUTH_PEER_RESTRICTED,	/* only lookups whose uid is the peer's */
};

/* auth_peer_check - what policy grants peer; *reason_r says why when
   refused or restricted */
enum auth_peer_access auth_peer_check(const struct auth_peer_policy *policy,
				      const struct auth_peer *peer,
				      const char **reason_r);

/* auth_peer_read - SO_PEERCRED of a connected UNIX socket and the peer's
   supplementary groups at connect() (*groups_r xmalloc'ed, NULL when
   unknown); 0, or
   -1 with *error_r */
int auth_peer_read(int fd, struct auth_peer *peer_r, gid_t **groups_r,
		   const char **error_r);

#endif
