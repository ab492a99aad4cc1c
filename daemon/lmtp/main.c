/*
 * loft-lmtp - the LMTP service process.
 *
 * Started by loftd it reads the config snapshot and accepts sessions on the
 * listeners it was handed (service_env.h); started by hand with no
 * listener it serves one LMTP session on stdin/stdout with the config from
 * -c (handy for tests, inetd and fuzzing). Under loftd it drops privileges
 * per its service block once the snapshot is read and the log files are
 * open, reports its session count on the status channel (fd 4), and
 * exits after service_count connections. SIGTERM (or EOF on fd 4: loftd
 * is gone): stop accepting, finish transactions in progress, end idle
 * sessions with 421; a second SIGTERM ends the remaining sessions at once
 * (deliveries already running always complete). SIGUSR2 (loftd retires
 * the process at a reload): stop accepting, let every session end on its
 * own (QUIT, idle timeout, kick) with the settings it started with, then
 * exit, as Dovecot's old processes do. SIGUSR1 reopens the log files.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "sieve_settings.h"
#include "install_paths.h"
#include "evloop.h"
#include "lmtp_server.h"
#include "log.h"
#include "log_settings.h"
#include "service_child.h"
#include "service_env.h"
#include "settings.h"
#include "lmtp_proxy.h"
#include "tls.h"
#include "userdb.h"

/* deliveries run on these threads so fsyncs and locks never stall the
   sessions on the event loop */
#define LMTP_WORKER_THREADS 8

struct lmtp_main {
	struct evloop *loop;
	struct lmtp_server *server;
	struct service_child *child;
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
	case SIGUSR2:
		log_info("received SIGUSR2 (reload): accepting no new sessions, "
			 "exiting when the %u open ones have ended",
			 lmtp_server_session_count(ctx->server));
		lmtp_server_retire(ctx->server, lmtp_main_idle, ctx);
		break;
	default:
		break;
	}
}

/* on_master_gone - EOF on the status channel: loftd is gone */
static void on_master_gone(void *context)
{
	struct lmtp_main *ctx = context;

	log_set_session(NULL);
	log_set_user(NULL);
	log_warning("master process is gone, finishing sessions in progress");
	lmtp_main_shutdown(ctx, false);
}

/* on_status - the session count changed: tell loftd */
static void on_status(unsigned int sessions, unsigned int available,
		      uint64_t served, void *context)
{
	struct lmtp_main *ctx = context;

	if (ctx->child != NULL)
		service_child_report(ctx->child, sessions, available, served);
}

/* drop_privileges - room for client_limit clients (while we may still
   raise the hard limit), then become the service's user (loftd children
   only) */
static void drop_privileges(const struct loft_settings *set,
			    const struct service_env *env)
{
	const char *error;

	if (service_child_raise_nofile(service_child_client_limit(set,
		service_child_find_service(set, env->service != NULL ?
					   env->service : "lmtp")),
				       &error) < 0)
		log_warning("%s", error);
	if (env->service == NULL)
		return;
	if (service_child_drop_privileges(set, env->service, &error) < 0)
		log_fatal(EX_NOPERM, "%s", error);
	if (service_child_drop_note() != NULL)
		log_debug("%s", service_child_drop_note());
	/* as another user, root's log files are loft-log's to write */
	if (geteuid() != 0)
		log_release_files();
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
	const char *config_path = LOFT_CONFIG_PATH, *error;
	int c, ret;

	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* glibc gives each thread its own 64 MiB malloc arena; under the
	   service's vsz_limit (RLIMIT_AS, 256M by default) creating them
	   fails over and over, and every allocation then pays a failed
	   mmap(). Two arenas are plenty for 8 delivery workers. */
	mallopt(M_ARENA_MAX, 2);
	log_init("lmtp");
	/* the Sieve plugin's plugin { } settings are checked with the file */
	config_set_plugin_check("sieve", sieve_settings_check);
	userdb_set_service("lmtp");
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
	log_configure_from(&set);
	if (set.lmtp_proxy) {
		struct tls_client *tls_client = NULL;

		/* before dropping privileges (and a chroot): the CAs are read
		   as root, as loftd reads the ssl_* files. A bad CA path costs
		   the TLS routes their 451s, not the proxy its other
		   recipients */
		if (tls_client_create(&set, &tls_client, &error) < 0)
			log_error("TLS to proxy backends: %s", error);
		lmtp_proxy_set_tls(tls_client, tls_client == NULL ? error : NULL);
	}
	drop_privileges(&set, &env);

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = evloop_create();
	ctx.server = lmtp_server_create(ctx.loop, &set, LMTP_WORKER_THREADS);
	if (strcmp(set.ssl, "no") != 0) {
		struct tls_server *tls;

		/* loftd checked the same settings; by hand they may be bad */
		if (tls_server_create(&set, &tls, &error) < 0)
			log_fatal(EX_CONFIG, "ssl = %s: %s", set.ssl, error);
		log_debug("TLS: serving the certificate with serial %s",
			  tls_server_cert_serial(tls));
		lmtp_server_set_tls(ctx.server, tls);
	}
	evloop_add_signal(ctx.loop, SIGTERM, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGINT, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR1, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR2, on_signal, &ctx);
	if (env.service != NULL) {
		lmtp_server_set_service(ctx.server,
					service_child_find_service(&set, env.service),
					lmtp_main_idle, &ctx);
		lmtp_server_set_status_callback(ctx.server, on_status, &ctx);
		for (size_t i = 0; i < env.listener_count; i++)
			lmtp_server_listen(ctx.server, env.listeners[i].fd,
					   env.listeners[i].haproxy,
					   env.listeners[i].ssl);
		ctx.child = service_child_create(ctx.loop, env.master_fd,
						 on_master_gone, &ctx);
	} else {
		lmtp_server_on_idle(ctx.server, lmtp_main_idle, &ctx);
		lmtp_server_add_client(ctx.server, STDIN_FILENO, STDOUT_FILENO,
				       NULL, 0);
	}
	if (evloop_run(ctx.loop) < 0)
		log_error("event loop failed: %m");

	lmtp_server_free(&ctx.server);
	service_child_free(&ctx.child);
	evloop_free(&ctx.loop);
	service_env_free(&env);
	settings_free(&set);
	log_deinit();
	return EX_OK;
}
