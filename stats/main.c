/*
 * loft-stats - the stats and anvil process: live sessions (who/kick),
 * per-user concurrency, counters and histograms, the delivery journal,
 * recent errors, and the HTTP endpoint.
 *
 * Started by loftd (service stats) with its listeners: the unix socket
 * stats-writer (reports from loft-lmtp, loft-lda, loftd), admin (loftadm)
 * and, when configured, the inet listener http. Started by hand with -c it
 * opens base_dir/stats-writer itself and the http listener of `service
 * stats` if the config has one. Sessions live in memory (the services
 * announce them again to a new loft-stats); counters and debug masks in
 * base_dir/stats-state (stats_state.h); deliveries and recent errors are
 * also kept on disk (state_dir/journal.db, stats_persist.h). Retired by a
 * reload (SIGUSR2) or stopped, it hands its reporters over to the next
 * loft-stats (stats_server_stopping) and exits once they have all
 * closed. Runs as default_internal_user (never root), after its sockets
 * are open.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "install_paths.h"
#include "evloop.h"
#include "ipc_socket.h"
#include "log.h"
#include "log_settings.h"
#include "service_child.h"
#include "service_env.h"
#include "settings.h"
#include "stats_private.h"
#include "stats_persist.h"
#include "stats_server.h"
#include "stats_state.h"


/* after SIGTERM, how long an HTTP reload still waiting for loftd's
   answer may keep the process (the reload itself sent the SIGTERM) */
#define STATS_MAIN_STOP_GRACE_MSECS 5000
/* how long a new loft-stats waits for loftd's first report */
#define STATS_MAIN_MASTER_WAIT_MSECS 1000
#define STATS_MAIN_STOP_POLL_MSECS 50

struct stats_main {
	struct evloop *loop;
	struct service_child *child;
	struct stats_server *server;
	char *state_path;
	struct evloop_timer *stop_timer;
	uint64_t stop_deadline;
	/* loftd went away, or the stop is done, possibly while start-up
	   drove the loop itself (waiting for loftd's first report), where
	   evloop_stop() is forgotten */
	bool quit;
};

/* stop_poll - stop once no HTTP request waits for loftd and every
   reporter has handed over (sent us its last events and closed), or at
   the deadline */
static int64_t stop_poll(struct evloop_timer *timer, void *context)
{
	struct stats_main *ctx = context;

	(void)timer;
	if ((stats_server_busy(ctx->server) ||
	     stats_server_draining(ctx->server)) &&
	    evloop_now_msecs(ctx->loop) < ctx->stop_deadline)
		return STATS_MAIN_STOP_POLL_MSECS;
	ctx->stop_timer = NULL;
	ctx->quit = true;
	evloop_stop(ctx->loop);
	return EVLOOP_NOMORE;
}

static void on_signal(int signo, void *context)
{
	struct stats_main *ctx = context;

	if (signo == SIGUSR1) {
		log_reopen();
		return;
	}
	if (ctx->stop_timer != NULL)
		return;
	stats_server_stopping(ctx->server);
	ctx->stop_deadline = evloop_now_msecs(ctx->loop) +
		STATS_MAIN_STOP_GRACE_MSECS;
	ctx->stop_timer = evloop_add_timer(ctx->loop, 0, stop_poll, ctx);
}

/* on_master_gone - EOF on the status channel: loftd is gone */
static void on_master_gone(void *context)
{
	struct stats_main *ctx = context;

	log_info("master process is gone, exiting");
	ctx->quit = true;
	evloop_stop(ctx->loop);
}


/* start_standalone - no loftd: open our own sockets */
static void start_standalone(struct stats_server *server,
			     const struct loft_settings *set)
{
	const struct listener_settings *http = stats_api_http_listener(set);
	char *path = xasprintf("%s/stats-writer", set->base_dir);
	const char *error;
	int fd;

	if (ipc_unix_listen(path, 0666, &fd, &error) < 0)
		log_fatal(EX_UNAVAILABLE, "%s: %s", path, error);
	free(path);
	stats_server_listen(server, fd);
	path = xasprintf("%s/admin", set->base_dir);
	if (ipc_unix_listen(path, 0600, &fd, &error) < 0)
		log_fatal(EX_UNAVAILABLE, "%s: %s", path, error);
	free(path);
	stats_admin_listen(server, fd);
	if (http != NULL && http->port != 0 &&
	    stats_server_start_http(server, -1, *http->address != '\0' ?
				    http->address : set->listen, http->port,
				    &error) < 0)
		log_fatal(EX_UNAVAILABLE, "http: %s", error);
}

/* start_service - the listeners loftd handed us; the HTTP one's fd is
   returned (-1: none), for start_http */
static int start_service(struct stats_server *server,
			 const struct service_env *env)
{
	int http_fd = -1;

	for (size_t i = 0; i < env->listener_count; i++) {
		const struct service_listener *l = &env->listeners[i];

		if (strcmp(l->name, "stats-writer") == 0)
			stats_server_listen(server, l->fd);
		else if (strcmp(l->name, "admin") == 0)
			stats_admin_listen(server, l->fd);
		else if (strcmp(l->name, "http") == 0)
			http_fd = l->fd;
	}
	return http_fd;
}

/* start_http - serve HTTP once loftd's first report (waiting in the
   stats-writer backlog) is in or a moment has passed, so the first scrape
   already knows every service */
static void start_http(struct stats_main *ctx, int http_fd)
{
	const char *error;

	stats_server_await_master(ctx->server, ctx->loop,
				  STATS_MAIN_MASTER_WAIT_MSECS, &ctx->quit);
	if (ctx->quit)
		return;
	if (http_fd >= 0 &&
	    stats_server_start_http(ctx->server, http_fd, NULL, 0, &error) < 0)
		log_fatal(EX_UNAVAILABLE, "http: %s", error);
}

int main(int argc, char **argv)
{
	struct stats_main ctx;
	struct service_env env;
	struct loft_settings set;
	struct stats_server *server;
	const char *config_path = LOFT_CONFIG_PATH, *error;
	char *state_path;
	int c, ret, http_fd = -1;

	signal(SIGPIPE, SIG_IGN);
	/* the journal and the counters name users and senders: every file
	   loft-stats makes (journal.db and its -wal/-shm, stats-state) is
	   its own user's only, from the moment it exists */
	umask(077);
	log_init("stats");
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c') {
			fprintf(stderr, "Usage: loft-stats [-c <config file>]\n");
			return EX_USAGE;
		}
		config_path = optarg;
	}
	ret = service_env_read(&env, &error);
	if (ret < 0)
		log_fatal(EX_CONFIG, "%s", error);
	ret = ret > 0 ? service_env_load_settings(&env, &set, &error) :
		config_load(config_path, NULL, &set, &error);
	if (ret < 0)
		log_fatal(EX_CONFIG, "%s", error);
	log_configure_from(&set);

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = evloop_create();
	/* blocked before the HTTP thread starts, so it inherits the mask
	   and the signals come to the loop */
	evloop_add_signal(ctx.loop, SIGTERM, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGINT, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR1, on_signal, &ctx);
	/* retired by a reload: loft-stats has no sessions to finish */
	evloop_add_signal(ctx.loop, SIGUSR2, on_signal, &ctx);
	state_path = xasprintf("%s/%s", set.base_dir, STATS_STATE_FILE);
	server = stats_server_create(ctx.loop, &set, state_path);
	free(state_path);
	ctx.server = server;
	if (env.service != NULL) {
		/* the master is the process that started us */
		stats_server_set_master(server, getppid());
		http_fd = start_service(server, &env);
		if (service_child_raise_nofile(service_child_client_limit(&set,
			service_child_find_service(&set, env.service)), &error) < 0)
			log_warning("%s", error);
		if (service_child_drop_privileges(&set, env.service, &error) < 0)
			log_fatal(EX_NOPERM, "%s", error);
		if (service_child_drop_note() != NULL)
			log_debug("%s", service_child_drop_note());
		/* root's log files are loft-log's to write, not ours */
		log_release_files();
		ctx.child = service_child_create(ctx.loop, env.master_fd,
						 on_master_gone, &ctx);
		/* one process serves every reporter: never ask for more */
		service_child_report(ctx.child, 0, 1, 0);
	} else {
		start_standalone(server, &set);
	}
	/* as the internal user: the journal file is its own; before the
	   loop first runs (start_http's wait for loftd), so that no
	   delivery reported meanwhile is left out of it */
	stats_persist_open(server);
	if (env.service != NULL)
		start_http(&ctx, http_fd);
	if (!ctx.quit && evloop_run(ctx.loop) < 0)
		log_error("event loop failed: %m");

	if (ctx.stop_timer != NULL)
		evloop_remove_timer(&ctx.stop_timer);
	service_child_free(&ctx.child);
	stats_server_free(&server);
	evloop_free(&ctx.loop);
	service_env_free(&env);
	settings_free(&set);
	log_deinit();
	return EX_OK;
}
