/*
 * master_listener - the sockets and fifos of one service, opened by loftd
 * and kept open for its whole life so that clients queue in the backlog
 * while a child is being replaced.
 *
 * One listener block may give several fds (an inet listener binds every
 * address of its list; port 0 gives none). Each fd has a key
 * ("inet:127.0.0.1:24", "unix:/run/loft/lmtp") so that a reload keeps the
 * fds whose key is unchanged: master_listeners_open() claims matching fds
 * of the old sets, master_listeners_commit() takes them over for good and
 * master_listeners_abort() gives them back.
 */
#ifndef MASTER_LISTENER_H
#define MASTER_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"

/* listen(2) backlog of every socket: as deep as the kernel allows
   (net.core.somaxconn), since loftd holds the sockets while services
   restart. A loft-lda run that reports while loft-stats is stopped or
   restarting waits in stats-writer's backlog with its events, which are
   read when loft-stats accepts it; only a full backlog loses them. */
#define MASTER_LISTENER_BACKLOG SOMAXCONN

struct master_listener {
	enum listener_type type;
	char *name;		/* the listener's name, for LOFT_LISTENERS */
	char *key;		/* identity across reloads */
	char *desc;		/* "127.0.0.1:24", "[::]:24" or the path */
	char *path;		/* unix/fifo: absolute path; inet: NULL */
	int fd;			/* -1 once handed over to a newer set */
	bool haproxy;		/* inet: clients send a PROXY header first */
	bool ssl;		/* inet: clients start TLS at once */
	bool created;		/* path was made by loftd: unlink it on close */
	bool claimed;		/* an open, uncommitted newer set uses fd */
	struct master_listener *from; /* the old listener fd was taken from */
};

struct master_listener_set {
	struct master_listener *listeners;
	size_t count;
};

/* master_listeners_open - open svc's listeners into set_r. Relative paths
   are relative to base_dir, an empty inet address means listen. Fds with
   the key of an unclaimed listener in old[0..old_count-1] are reused.
   0, or -1 with *error_r ("service(lmtp): bind(127.0.0.1:24) failed:
   Address already in use"); on -1 nothing stays open or claimed. */
int master_listeners_open(const struct service_settings *svc,
			  const char *base_dir, const char *listen,
			  struct master_listener_set *const *old,
			  size_t old_count,
			  struct master_listener_set *set_r,
			  const char **error_r);
/* master_listeners_commit - the reused fds now belong to set; the newly
   opened ones are logged (info: "service(lmtp): inet_listener lmtp:
   listening on [::]:24") */
void master_listeners_commit(const char *service,
			     struct master_listener_set *set);
/* master_listeners_abort - undo master_listeners_open (before commit) */
void master_listeners_abort(struct master_listener_set *set);
/* master_listeners_close - close every fd and unlink the paths loftd made */
void master_listeners_close(struct master_listener_set *set);

/* master_listeners_env - the LOFT_LISTENERS value (xmalloc'ed) */
char *master_listeners_env(const struct master_listener_set *set);

#endif
