/*
 * master_service - one configured service at run time: its resolved
 * executable, config snapshot, open listeners, limits and processes, with
 * Dovecot's service semantics:
 *
 * - process_min_avail processes with a free client slot are kept ready
 *   (a service with listeners, or of type startup, keeps at least one);
 *   when every process is full another is started, up to process_limit
 *   (default_process_limit). What a process can take is client_limit
 *   (default_client_limit); how full it is comes from its status records
 *   (service_child.h); a new process counts as empty.
 * - At process_limit with every process full, new clients wait in the
 *   listen queue; loftd watches the listeners and, when a client is
 *   actually waiting, warns "service(NAME): process_limit (N) reached,
 *   client connections are being queued" at most every
 *   MASTER_SERVICE_LIMIT_WARN_MSECS.
 * - A process idle (no session) for idle_kill (default_idle_kill) gets
 *   SIGTERM while more than the minimum of ready processes exist.
 * - A process that exits with status 0 on its own (service_count reached)
 *   is replaced without counting as a failure. A child that dies otherwise
 *   within MASTER_SERVICE_FAILED_START_MSECS of its start is a failed
 *   start, and after MASTER_SERVICE_THROTTLE_AFTER failed starts in a row
 *   the next start waits 1, 2, 4 ... MASTER_SERVICE_THROTTLE_MAX_SECS.
 *
 * A reload builds a new service list next to the old one (reusing
 * unchanged listener fds), then commits it and retires the old one (whose
 * counters pass to the new services of the same name); a failed build is aborted and leaves
 * the old list untouched.
 */
#ifndef MASTER_SERVICE_H
#define MASTER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "master_config.h"
#include "master_listener.h"
#include "master_process.h"

#define MASTER_SERVICE_FAILED_START_MSECS 2000
#define MASTER_SERVICE_THROTTLE_AFTER 3
#define MASTER_SERVICE_THROTTLE_MAX_SECS 60
#define MASTER_SERVICE_LIMIT_WARN_MSECS 30000

struct evloop;
struct evloop_io;
struct evloop_timer;
struct master_log;

/* What every service shares with the master. */
struct master_runtime {
	struct evloop *loop;
	struct master_process_list processes;
	/* the log channel and stderr capture (NULL: children keep loftd's
	   stderr and write their own logs) */
	struct master_log *log;
	bool shutting_down;
};

/* Counters kept across reloads (matched by service name). */
struct master_service_counters {
	uint64_t processes_started;
	uint64_t restarts;		/* children that died and were replaced */
	uint64_t connections_done;	/* served by processes already gone */
	uint64_t limit_warnings;	/* process_limit reached, clients queued */
	time_t last_status_time;	/* last status record, 0 = none */
	time_t last_exit_time;		/* last unexpected exit, 0 = none */
	char last_exit[160];		/* "child 123 killed with signal 9" */
};

struct master_service {
	struct master_runtime *rt;
	char *name;
	char **argv;
	int config_fd;		/* owned by the master_config */
	const struct loft_settings *drop_set; /* drop_priv_before_exec */
	struct master_listener_set listeners;
	char *listeners_env;

	unsigned int process_limit, client_limit, process_min_avail;
	unsigned int service_count;
	uint64_t idle_kill_msecs, vsz_limit;
	bool startup;		/* type = startup */

	unsigned int process_count;	/* stopping ones included */
	unsigned int failed_starts;	/* in a row */
	struct evloop_timer *throttle_timer;
	struct evloop_timer *idle_timer;
	struct evloop_io **queue_ios;	/* one per listener while armed */
	struct evloop_timer *queue_rearm_timer;
	uint64_t last_limit_warning_msecs;
	bool limit_warned;
	struct master_service_counters counters;
};

struct master_service_list {
	struct master_service **services;
	size_t count;
};

/* One service as `service status` shows it. */
struct master_service_status {
	const char *name;
	unsigned int processes;		/* running, stopping ones included */
	unsigned int processes_available; /* with a free client slot */
	unsigned int client_slots_available; /* sum over the processes */
	unsigned int process_limit, client_limit, process_min_avail;
	unsigned int service_count;	/* 0 = unlimited */
	uint64_t idle_kill_msecs, vsz_limit; /* 0 = none */
	bool throttled;
	unsigned int failed_starts;	/* in a row */
	uint64_t connections_total;	/* accepted, by live and gone processes */
	const struct master_service_counters *counters;
};

typedef void master_service_status_callback_t(
	const struct master_service_status *status, void *context);

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

/* master_services_start - start what each service keeps ready, the log
   service first */
void master_services_start(struct master_service_list *list);
/* master_services_retire - SIGTERM every process of list; they are then
   waited for but not replaced. The services of successor (NULL: none)
   take over the counters of the same-named services of list. */
void master_services_retire(struct master_service_list *list,
			    struct master_service_list *successor);
/* master_services_stop_throttling - shutting down: cancel pending
   throttled starts, idle checks and listener watches */
void master_services_stop_throttling(struct master_service_list *list);

/* master_service_process_exited - proc of service died with waitpid
   status (already logged): replace it, count a failed start, or throttle */
void master_service_process_exited(struct master_service *service,
				   const struct master_process *proc,
				   int status);

/* master_service_status_foreach - cb once per service of list, in config
   order; the status is valid during the call only */
void master_service_status_foreach(const struct master_service_list *list,
				   master_service_status_callback_t *cb,
				   void *context);

#endif
