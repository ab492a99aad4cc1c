/*
 * loft-log - the log service: the only writer of log files and syslog
 * while loftd runs.
 *
 * loftd starts it first (built-in service "log", type startup, root) with
 * the config snapshot on fd 3, its status channel on fd 4 and the
 * receiving end of the log channel named by LOFT_LOG_SERVER_FD
 * (logging/log_remote.h). Every line of loftd and of the services it
 * starts arrives there already formatted, with its level, and is written
 * where log_path / info_log_path / debug_log_path / syslog_facility send
 * that level. Its own lines (few) are written directly. SIGUSR1 reopens
 * the files (logrotate); SIGTERM writes what is queued and exits (a reload
 * or a restart leaves the rest to the next loft-log: the channel is
 * loftd's and keeps queued lines). When loftd is gone it goes on until
 * every process that can still send has closed the channel. Lines it
 * cannot write (a full disk) are counted and reported to loft-stats
 * every second (loft_log_write_failures_total, recent errors).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "evloop.h"
#include "log.h"
#include "log_reader.h"
#include "log_remote.h"
#include "log_settings.h"
#include "service_child.h"
#include "service_env.h"
#include "settings.h"
#include "stats_client.h"
#include "stats_report.h"
#include "xalloc.h"

#define LOG_MAIN_REPORT_MSECS 1000

struct log_main {
	struct evloop *loop;
	struct log_reader *reader;
	struct service_child *child;
	struct stats_client *stats;
	struct evloop_timer *report_timer;
};

/* report_failures - lines that could not be written, to loft-stats */
static int64_t report_failures(struct evloop_timer *timer, void *context)
{
	struct log_main *ctx = context;

	(void)timer;
	stats_report_log_write_failures(ctx->stats, "log");
	return LOG_MAIN_REPORT_MSECS;
}

/* on_signal - SIGUSR1 reopens, SIGTERM/SIGINT write what is queued and
   stop */
static void on_signal(int signo, void *context)
{
	struct log_main *ctx = context;

	if (signo == SIGUSR1) {
		log_reopen();
		log_debug("log files reopened");
		return;
	}
	log_reader_drain(ctx->reader);
	evloop_stop(ctx->loop);
}

/* on_channel_eof - every sender is gone */
static void on_channel_eof(void *context)
{
	struct log_main *ctx = context;

	evloop_stop(ctx->loop);
}

/* on_master_gone - EOF on the status channel: loftd is gone, its
   children may still be finishing deliveries and logging them */
static void on_master_gone(void *context)
{
	(void)context;
	log_info("master process is gone, exiting once every process "
		 "has closed the log channel");
}

/* configure - the snapshot's log settings, then the service's
   privileges (root by default: the files are root's); base_dir is
   returned (xmalloc'ed) for the stats socket */
static char *configure(const struct service_env *env)
{
	char *base_dir;
	struct loft_settings set;
	const char *error;

	if (service_env_load_settings(env, &set, &error) < 0)
		log_fatal(EX_CONFIG, "%s", error);
	log_configure_from(&set);
	if (service_child_drop_privileges(&set, env->service, &error) < 0)
		log_fatal(EX_NOPERM, "%s", error);
	if (service_child_drop_note() != NULL)
		log_debug("%s", service_child_drop_note());
	base_dir = xstrdup(set.base_dir);
	settings_free(&set);
	return base_dir;
}

int main(int argc, char **argv)
{
	struct log_main ctx;
	struct service_env env;
	const char *error;
	char *base_dir, *stats_path;
	int ret, fd, status = 0;

	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init("log");
	if (argc > 1) {
		fprintf(stderr, "Usage: loft-log (started by loftd)\n");
		return EX_USAGE;
	}
	ret = service_env_read(&env, &error);
	if (ret < 0)
		log_fatal(EX_CONFIG, "%s", error);
	if (ret == 0)
		log_fatal(EX_USAGE, "loft-log is started by loftd (LOFT_SERVICE is not set)");
	fd = log_remote_env_fd(LOG_REMOTE_SERVER_ENV);
	if (fd < 0)
		log_fatal(EX_CONFIG, "%s does not name the log channel",
			  LOG_REMOTE_SERVER_ENV);
	base_dir = configure(&env);

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = evloop_create();
	evloop_add_signal(ctx.loop, SIGTERM, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGINT, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR1, on_signal, &ctx);
	/* retired by a reload: as SIGTERM */
	evloop_add_signal(ctx.loop, SIGUSR2, on_signal, &ctx);
	ctx.reader = log_reader_create(ctx.loop, fd, on_channel_eof, &ctx);
	ctx.child = service_child_create(ctx.loop, env.master_fd,
					 on_master_gone, &ctx);
	/* one process takes every line: never ask loftd for more */
	service_child_report(ctx.child, 0, 1, 0);
	stats_path = xasprintf("%s/stats-writer", base_dir);
	ctx.stats = stats_client_create(ctx.loop, stats_path,
					LOFT__ROLE__ROLE_SERVICE, "log");
	free(stats_path);
	free(base_dir);
	ctx.report_timer = evloop_add_timer(ctx.loop, LOG_MAIN_REPORT_MSECS,
					    report_failures, &ctx);
	if (evloop_run(ctx.loop) < 0) {
		log_error("event loop failed: %m");
		status = EX_SOFTWARE;
	}

	evloop_remove_timer(&ctx.report_timer);
	stats_report_log_write_failures(ctx.stats, "log");
	(void)stats_client_flush(ctx.stats, 100);
	stats_client_free(&ctx.stats);
	service_child_free(&ctx.child);
	log_reader_free(&ctx.reader);
	evloop_free(&ctx.loop);
	service_env_free(&env);
	log_deinit();
	return status;
}
