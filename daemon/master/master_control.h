/*
 * master_control - `loftd stop` and `loftd reload`: find the running
 * master through the locked pid file in base_dir and signal it.
 */
#ifndef MASTER_CONTROL_H
#define MASTER_CONTROL_H

/* Exit code when no master is running (EX_TEMPFAIL). */
#define MASTER_CONTROL_NOT_RUNNING 75
/* How long `loftd stop` waits for the master to be gone. */
#define MASTER_CONTROL_STOP_WAIT_SECS 60

/* master_control_stop - SIGTERM the master and wait until it is gone;
   returns the exit code (0, 1 on error/timeout, 75 not running) with a
   message on stderr for the non-zero ones */
int master_control_stop(const char *base_dir);
/* master_control_reload - SIGHUP the master; exit code as above */
int master_control_reload(const char *base_dir);

#endif
