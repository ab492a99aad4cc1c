/*
 * master_service - one configured service at run time: its resolved
 * executable, config snapshot, open listeners and a fixed pool of
 * processes (max(1, process_min_avail), at most process_limit) that is
 * refilled when a child dies, with start-up throttling: a child that dies
 * within MASTER_SERVICE_FAILED_START_MSECS of its start is a failed start,
 * and after MASTER_SERVICE_THROTTLE_AFTER failed starts in a row the next
 * start waits 1, 2, 4 ... MASTER_SERVICE_THROTTLE_MAX_SECS seconds.
 *
 * A reload builds a new service list next to the old one (reusing
 * unchanged listener fds), then commits it and retires the old one; a
 * failed build is aborted and leaves the old list untouched.
 */
#ifndef MASTER_SERVICE_H
#define MASTER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master_config.h"
#include "master_listener.h"
#include "master_process.h"

#define MASTER_SERVICE_FAILED_START_MSECS 2000
#define MASTER_SERVICE_THROTTLE_AFTER 3
#define MASTER_SERVICE_THROTTLE_MAX_SECS 60

struct evloop;
struct evloop_timer;

/* What every service shares with the master. */
struct master_runtime {
	struct evloop *loop;
	struct master_process_list processes;
	int master_fd;		/* read end of the master pipe */
	bool shutting_down;
};

struct master_service {
	struct master_runtime *rt;
	char *name;
	char **argv;
	int config_fd;		/* owned by the master_config */
	struct master_listener_set listeners;
	char *listeners_env;
	unsigned int process_target;
	unsigned int process_count;
	unsigned int failed_starts;	/* in a row */
	struct evloop_timer *throttle_timer;
};

struct master_service_list {
	struct master_service **services;
	size_t count;
};

/* master_services_create - a service for every enabled service of config,
   listeners opened (fds of old reused; old may be NULL). 0, or -1 with
   *error_r and nothing left open or claimed. */
int master_services_create(struct master_runtime *rt,
			   struct master_config *config,
			   struct master_service_list *old,
			   struct master_service_list *list_r,
			   const char **error_r);
/* master_services_commit - the reused listener fds belong to list now */
void master_services_commit(struct master_service_list *list);
/* master_services_abort - undo master_services_create */
void master_services_abort(struct master_service_list *list);
/* master_services_free - close listeners (unlinking what loftd made) and
   free; the services' processes must have been retired first */
void master_services_free(struct master_service_list *list);

/* master_services_start - fill every pool */
void master_services_start(struct master_service_list *list);
/* master_services_retire - SIGTERM every process of list; they are then
   waited for but not replaced */
void master_services_retire(struct master_service_list *list);
/* master_services_stop_throttling - cancel pending throttled starts */
void master_services_stop_throttling(struct master_service_list *list);

/* master_service_process_exited - proc of service died (already logged):
   count a failed start and refill the pool, or throttle */
void master_service_process_exited(struct master_service *service,
				   const struct master_process *proc);

#endif
