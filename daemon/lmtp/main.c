/*
 * loft-lmtp - the LMTP service process.
 *
 * Started by loftd it reads the config snapshot and accepts sessions on the
 * listeners it was handed (service_env.h); started by hand with no
 * listener it serves one LMTP session on stdin/stdout with the config from
 * -c (handy for tests, inetd and fuzzing). SIGTERM (or loftd going away):
 * stop accepting, finish transactions in progress, end idle sessions with
 * 421; a second SIGTERM ends the remaining sessions at once (deliveries
 * already running always complete). SIGUSR1 reopens the log files.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "evloop.h"
#include "lmtp_server.h"
#include "log.h"
#include "service_env.h"
#include "settings.h"
#include "userdb.h"

#ifndef LOFT_DEFAULT_CONFIG
#define LOFT_DEFAULT_CONFIG "/etc/loft/loft.conf"
#endif
/* deliveries run on these threads so fsyncs and locks never stall the
   sessions on the event loop */
#define LMTP_WORKER_THREADS 8

struct lmtp_main {
	struct evloop *loop;
	struct lmtp_server *server;
	struct evloop_io *master_io;
	unsigned int term_count;
};

static void lmtp_main_idle(void *context)
{
	struct lmtp_main *ctx = context;

	evloop_stop(ctx->loop);
}

static void lmtp_main_shutdown(struct lmtp_main *ctx, bool now)
{
	lmtp_server_shutdown(ctx->server, now, lmtp_main_idle, ctx);
}

static void on_signal(int signo, void *context)
{
	struct lmtp_main *ctx = context;

	log_set_session(NULL);
	log_set_user(NULL);
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		ctx->term_count++;
		log_info("received %s, %s", signo == SIGTERM ? "SIGTERM" : "SIGINT",
			 ctx->term_count == 1 ?
			 "finishing sessions in progress" : "ending sessions now");
		lmtp_main_shutdown(ctx, ctx->term_count > 1);
		break;
	case SIGUSR1:
		log_reopen();
		break;
	default:
		break;
	}
}

/* on_master - EOF on the master pipe: loftd is gone */
static void on_master(struct evloop_io *io, int fd, unsigned int events,
		      void *context)
{
	struct lmtp_main *ctx = context;
	char buf[64];

	if (read(fd, buf, sizeof(buf)) > 0)
		return;
	log_set_session(NULL);
	log_set_user(NULL);
	log_warning("master process is gone, finishing sessions in progress");
	evloop_remove_io(&ctx->master_io);
	lmtp_main_shutdown(ctx, false);
}

static void configure_log(const struct loft_settings *set)
{
	struct log_settings log_set = {
		.log_path = set->log_path,
		.info_log_path = set->info_log_path,
		.debug_log_path = set->debug_log_path,
		.syslog_facility = set->syslog_facility,
		.log_timestamp = set->log_timestamp,
		.format = strcmp(set->log_format, "json") == 0 ?
			LOG_FORMAT_JSON : LOG_FORMAT_TEXT,
		.debug = set->mail_debug,
	};
	const char *error;

	if (log_configure(&log_set, &error) < 0)
		log_warning("%s", error);
}

static void usage(void)
{
	fprintf(stderr, "Usage: loft-lmtp [-c <config file>]\n");
	exit(EX_USAGE);
}

int main(int argc, char **argv)
{
	struct lmtp_main ctx;
	struct service_env env;
	struct loft_settings set;
	const char *config_path = LOFT_DEFAULT_CONFIG, *error;
	int c, ret;

	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_init("lmtp");
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c == 'c')
			config_path = optarg;
		else
			usage();
	}
	if (optind < argc)
		usage();

	ret = service_env_read(&env, &error);
	if (ret < 0)
		log_fatal(EX_CONFIG, "%s", error);
	if (ret > 0)
		ret = service_env_load_settings(&env, &set, &error);
	else
		ret = config_load(config_path, "lmtp", &set, &error);
	if (ret < 0)
		log_fatal(EX_CONFIG, "%s", error);
	if (userdb_validate(&set, &error) < 0)
		log_fatal(EX_CONFIG, "%s", error);
	configure_log(&set);

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = evloop_create();
	ctx.server = lmtp_server_create(ctx.loop, &set, LMTP_WORKER_THREADS);
	evloop_add_signal(ctx.loop, SIGTERM, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGINT, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR1, on_signal, &ctx);
	if (env.service != NULL) {
		for (size_t i = 0; i < env.listener_count; i++)
			lmtp_server_listen(ctx.server, env.listeners[i].fd);
		ctx.master_io = evloop_add_io(ctx.loop, env.master_fd,
					      EVLOOP_READ, on_master, &ctx);
	} else {
		lmtp_server_on_idle(ctx.server, lmtp_main_idle, &ctx);
		lmtp_server_add_client(ctx.server, STDIN_FILENO, STDOUT_FILENO,
				       NULL, 0);
	}
	if (evloop_run(ctx.loop) < 0)
		log_error("event loop failed: %m");

	if (ctx.master_io != NULL)
		evloop_remove_io(&ctx.master_io);
	lmtp_server_free(&ctx.server);
	evloop_free(&ctx.loop);
	service_env_free(&env);
	settings_free(&set);
	log_deinit();
	return EX_OK;
}
