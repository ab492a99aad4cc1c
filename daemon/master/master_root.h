/*
 * master_root - loftd started by a user other than root: whether the
 * configuration can work that way, and if not one message that says
 * loftd needs root and why, instead of the first permission error (the
 * pid file in /run/loft) that start-up would otherwise hit.
 */
#ifndef MASTER_ROOT_H
#define MASTER_ROOT_H

#include "master_config.h"

/* master_root_check - 0 when loftd runs as root, or when nothing in
   config needs root (no service changes user, group or root directory,
   no listener is on a port below 1024 or owned by another user,
   base_dir and state_dir can be made). Else -1 with *error_r: "loftd
   needs root: it runs as uid=1000(alice) gid=1000(alice), but
   service(stats) runs as user=loft; ..." */
int master_root_check(const struct master_config *config,
		      const char **error_r);

#endif
