/*
 * admin_config - what loftadm needs from loft.conf: the settings when the
 * file is valid, and otherwise still base_dir, so that `loftadm reload`
 * reaches the running loftd (which keeps its old config and answers with
 * the error) and `loftadm stop` finds the pid file after someone broke
 * the file.
 */
#ifndef LOFT_ADMIN_CONFIG_H
#define LOFT_ADMIN_CONFIG_H

#include "settings.h"

/* admin_config_base_dir - a lenient scan of the file at path (not its
   includes) for a top-level `base_dir = VALUE`; 0 with *base_dir_r
   (xmalloc'ed; the built-in default when the file sets none), or -1 when
   the file cannot be read */
int admin_config_base_dir(const char *path, char **base_dir_r);

#endif
