/*
 * master_daemon - the running master: start-up (config, pid file,
 * listeners, daemonizing), the event loop with its signals (SIGCHLD reaps
 * and replaces children, SIGHUP reloads, SIGUSR1 reopens logs,
 * SIGTERM/SIGINT shut down) and the orderly exit.
 */
#ifndef MASTER_DAEMON_H
#define MASTER_DAEMON_H

#include <stdbool.h>

/* How long a shutdown waits for the children before SIGKILL. */
#define MASTER_DAEMON_SHUTDOWN_SECS 30

/* master_daemon_run - run loftd with the config at path (absolute); in
   the foreground or detached. Returns the exit code: 0 after a clean
   shutdown, 1 when start-up failed (the reason is on stderr and in the
   log). */
int master_daemon_run(const char *config_path, bool foreground);

#endif
