/*
 * master_pidfile - base_dir/master.pid: who the running master is.
 *
 * The file holds the master's pid and carries an fcntl write lock for the
 * master's whole life; the lock, not the pid, says whether a master runs
 * (a stale file with a reused pid does not block a start). It is written
 * to a temporary name, locked and renamed into place, all under a flock
 * on base_dir, so readers never see a partial file and two masters
 * starting at once cannot both win.
 */
#ifndef MASTER_PIDFILE_H
#define MASTER_PIDFILE_H

#include <stdbool.h>
#include <sys/types.h>

#define MASTER_PIDFILE_NAME "master.pid"

struct master_pidfile;

/* master_pidfile_create - create base_dir (0755) if missing and take the
   pid file; 0, or -1 with *error_r ("loftd is already running with PID
   123 (read from /run/loft/master.pid)") */
int master_pidfile_create(const char *base_dir,
			  struct master_pidfile **pidfile_r,
			  const char **error_r);
/* master_pidfile_remove - unlink the file and release the lock */
void master_pidfile_remove(struct master_pidfile **pidfile);

/* master_pidfile_check - 1 when a master holds base_dir's pid file
   (*pid_r; with fd_r, an fd to poll master_pidfile_held on, else closed),
   0 when none does, -1 with *error_r */
int master_pidfile_check(const char *base_dir, pid_t *pid_r, int *fd_r,
			 const char **error_r);
/* master_pidfile_held - whether a process still holds the lock on fd */
bool master_pidfile_held(int fd);

#endif
