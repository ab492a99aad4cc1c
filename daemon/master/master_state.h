/*
 * master_state - state_dir, where loft keeps what must outlive a restart
 * (loft-stats' delivery journal). loftd creates it at start-up, as root,
 * for the stats service's user, who writes there after its privilege drop.
 */
#ifndef LOFT_MASTER_STATE_H
#define LOFT_MASTER_STATE_H

#include "settings.h"

/* master_state_dir_create - mkdir state_dir (parents 0755, itself 0750);
   when loftd runs as root, a state_dir it creates is given to the stats
   service's user and group. Nothing to do when state_dir is empty. 0, or
   -1 with *error_r. */
int master_state_dir_create(const struct loft_settings *set,
			    const char **error_r);

#endif
