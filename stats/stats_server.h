/*
 * stats_server - loft-stats' event-loop side: accepts the processes that
 * report on the stats-writer socket, folds their events into the session
 * table, metrics, journal and recent errors, answers concurrency
 * questions, routes kicks and debug masks to the services and reload
 * requests to loftd. Its HTTP endpoint (stats_api.c) reads the same state
 * under the same lock.
 */
#ifndef LOFT_STATS_SERVER_H
#define LOFT_STATS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "evloop.h"
#include "settings.h"

struct stats_server;

/* stats_server_create - with state_path (base_dir/stats-state, see
   stats_state.h) the counters, loftd's seen reload counts and the debug
   masks are those an earlier loft-stats left there; NULL keeps them in
   memory only (tests, fuzzers) */
struct stats_server *stats_server_create(struct evloop *loop,
					 const struct loft_settings *set,
					 const char *state_path);
void stats_server_free(struct stats_server **server);

/* stats_server_listen - accept reporters on a listening UNIX socket */
void stats_server_listen(struct stats_server *server, int fd);
/* stats_server_set_master - loftd's pid (our parent, when it started us;
   call it before dropping privileges): only a connection made by that
   pid with loftd's uid is the master, and only loftd's children can be
   services; without it (standalone) no connection is either */
void stats_server_set_master(struct stats_server *server, pid_t pid);
/* stats_server_await_master - run loop until loftd's first status report
   is in, at most timeout_msecs, or until *quit (a stop or loftd gone,
   set by a callback of the loop) - at start-up, before HTTP serves */
void stats_server_await_master(struct stats_server *server,
			       struct evloop *loop, int timeout_msecs,
			       const bool *quit);
/* stats_server_start_http - serve the HTTP API on listen_fd (from loftd)
   or, when it is -1, on address:port. 0 or -1 with *error_r. */
int stats_server_start_http(struct stats_server *server, int listen_fd,
			    const char *address, unsigned int port,
			    const char **error_r);

/* stats_server_busy - an HTTP request is in progress (a reload waiting
   for loftd, whose SIGTERM for this very process should not cut it off) */
bool stats_server_busy(struct stats_server *server);
/* stats_server_draining - reporters are still connected */
bool stats_server_draining(struct stats_server *server);
/* stats_server_stopping - stop accepting HTTP connections and reporters,
   and end our side of every reporter's connection so it hands over to
   the next loft-stats; what is open is still served (and read to its
   end) until the process exits */
void stats_server_stopping(struct stats_server *server);

#endif
