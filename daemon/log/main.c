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
 * every process that can still send has closed the channel.
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

struct log_main {
	struct evloop *loop;
	struct log_reader *reader;
	struct service_child *child;
};

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
   privileges (root by default: the files are root's) */
static void configure(const struct service_env *env)
{
	struct loft_settings set;
	const char *error;

	if (service_env_load_settings(env, &set, &error) < 0)
		log_fatal(EX_CONFIG, "%s", error);
	log_configure_from(&set);
	if (service_child_drop_privileges(&set, env->service, &error) < 0)
		log_fatal(EX_NOPERM, "%s", error);
	if (service_child_drop_note() != NULL)
		log_debug("%s", service_child_drop_note());
	settings_free(&set);
}

int main(int argc, char **argv)
{
	struct log_main ctx;
	struct service_env env;
	const char *error;
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
	configure(&env);

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = evloop_create();
	evloop_add_signal(ctx.loop, SIGTERM, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGINT, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR1, on_signal, &ctx);
	ctx.reader = log_reader_create(ctx.loop, fd, on_channel_eof, &ctx);
	ctx.child = service_child_create(ctx.loop, env.master_fd,
					 on_master_gone, &ctx);
	/* one process takes every line: never ask loftd for more */
	service_child_report(ctx.child, 0, 1, 0);
	if (evloop_run(ctx.loop) < 0) {
		log_error("event loop failed: %m");
		status = EX_SOFTWARE;
	}

	service_child_free(&ctx.child);
	log_reader_free(&ctx.reader);
	evloop_free(&ctx.loop);
	service_env_free(&env);
	log_deinit();
	return status;
}
