/*
 * admin_client - loftadm's side of the admin socket (base_dir/admin): one
 * synchronous call per run. Connect (bounded), send Hello{ROLE_ADMIN} and
 * one AdminRequest{id, command, args}, then read frames until the
 * AdminReply with that id arrives (bounded), skipping loft-stats' Hello.
 * The protocol is described in stats/README.md.
 */
#ifndef LOFT_ADMIN_CLIENT_H
#define LOFT_ADMIN_CLIENT_H

#include <stddef.h>

/* How long a connect may take, and how long the answer (a reload waits
   for loftd, which can take a while). */
#define ADMIN_CLIENT_CONNECT_MSECS 2000
#define ADMIN_CLIENT_REPLY_MSECS 20000

struct admin_reply {
	unsigned int status;	/* loftadm's exit code: 0, 64, 67, 75 */
	char *json;		/* the answer document, or NULL */
	char *error;		/* a message for the operator, or NULL */
};

/* Why a call got no reply. */
enum admin_client_failure {
	ADMIN_CLIENT_UNREACHABLE,	/* no socket, refused, connect timeout */
	ADMIN_CLIENT_DENIED,		/* the socket's mode keeps us out */
	ADMIN_CLIENT_BROKEN,		/* connected, then timeout/garbage/EOF */
};

/* admin_client_call - run command with args over the admin socket at
   socket_path. 0 with *reply_r filled (free with admin_reply_free()), or
   -1 with *failure_r and *error_r (for UNREACHABLE and DENIED the bare
   reason, e.g. "No such file or directory"; valid until this thread's
   next admin_client error). */
int admin_client_call(const char *socket_path, const char *command,
		      const char *const *args, size_t arg_count,
		      struct admin_reply *reply_r,
		      enum admin_client_failure *failure_r,
		      const char **error_r);
void admin_reply_free(struct admin_reply *reply);

#endif
