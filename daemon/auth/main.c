/*
 * loft-auth - the auth service: answers userdb lookups on the
 * auth-userdb socket(s) of `service auth` in Dovecot's auth-master
 * protocol, from the config's userdb blocks, so that loft-lda run as the
 * mail user, doveadm and other tools written for Dovecot's socket get a
 * user's uid, gid, home and mail without reading the userdb file.
 *
 * loftd starts it (service auth, executable loft-auth, user
 * default_internal_user unless the block says otherwise) with the config
 * snapshot on fd 3, the status channel on fd 4 and the unix listeners
 * from fd 5 (lib/service_env.h). Each listener's socket file (its mode,
 * owner and group, read at start-up) decides what its peers may ask
 * (auth_peer.h). SIGTERM, a reload (SIGUSR2) and loftd going away stop
 * accepting and close idle connections; lookups in progress are answered
 * first. SIGUSR1 reopens the fallback log files.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth_server.h"
#include "evloop.h"
#include "log.h"
#include "log_settings.h"
#include "service_child.h"
#include "service_env.h"
#include "settings.h"
#include "userdb.h"
#include "xalloc.h"

struct auth_main {
	struct evloop *loop;
	struct auth_server *server;
	struct service_child *child;
};

static void on_signal(int signo, void *context)
{
	struct auth_main *ctx = context;

	if (signo == SIGUSR1) {
		/* the fallback log files, if a line had to go there */
		log_reopen();
		return;
	}
	log_debug("received %s: answering the lookups in progress, then exiting",
		  signo == SIGUSR2 ? "SIGUSR2 (reload)" : strsignal(signo));
	auth_server_shutdown(ctx->server);
}

static void on_master_gone(void *context)
{
	struct auth_main *ctx = context;

	log_info("master process is gone, stopping");
	auth_server_shutdown(ctx->server);
}

static void on_status(unsigned int sessions, unsigned int available,
		      uint64_t served, void *context)
{
	struct auth_main *ctx = context;

	if (ctx->child != NULL)
		service_child_report(ctx->child, sessions, available, served);
}

static void on_done(void *context)
{
	struct auth_main *ctx = context;

	evloop_stop(ctx->loop);
}

/* listener_policy - what the socket file of listener name grants, read
   from the file itself (loftd has set its mode and owner); a file that
   cannot be read grants root only */
static void listener_policy(const struct loft_settings *set,
			    const struct service_settings *svc,
			    const char *name, struct auth_peer_policy *policy_r)
{
	const struct listener_settings *l = NULL;
	struct stat st;
	char *path;

	policy_r->mode = 0600;
	policy_r->uid = 0;
	policy_r->gid = 0;
	for (size_t i = 0; svc != NULL && i < svc->listener_count; i++) {
		if (svc->listeners[i].type == LISTENER_UNIX &&
		    strcmp(svc->listeners[i].name, name) == 0)
			l = &svc->listeners[i];
	}
	if (l == NULL) {
		log_warning("unix_listener %s: not in the config snapshot, "
			    "serving root only", name);
		return;
	}
	path = l->path[0] == '/' ? xstrdup(l->path) :
		xasprintf("%s/%s", set->base_dir, l->path);
	if (stat(path, &st) < 0) {
		log_warning("unix_listener %s: stat(%s) failed: %m; serving "
			    "root only", name, path);
	} else {
		policy_r->mode = st.st_mode & 0777;
		policy_r->uid = st.st_uid;
		policy_r->gid = st.st_gid;
	}
	free(path);
}

int main(int argc, char **argv)
{
	const struct service_settings *svc;
	struct auth_main ctx;
	struct service_env env;
	struct loft_settings set;
	struct auth_peer_policy *policies;
	unsigned int client_limit;
	const char *error;
	int ret;

	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init("auth");
	if (argc > 1) {
		fprintf(stderr, "Usage: loft-auth (started by loftd)\n");
		return EX_USAGE;
	}
	ret = service_env_read(&env, &error);
	if (ret < 0)
		log_fatal(EX_CONFIG, "%s", error);
	if (ret == 0)
		log_fatal(EX_USAGE, "loft-auth is started by loftd (LOFT_SERVICE is not set)");
	if (service_env_load_settings(&env, &set, &error) < 0)
		log_fatal(EX_CONFIG, "%s", error);
	if (userdb_validate(&set, &error) < 0)
		log_fatal(EX_CONFIG, "%s", error);
	log_configure_from(&set);
	userdb_set_service("auth");
	svc = service_child_find_service(&set, env.service);
	client_limit = service_child_client_limit(&set, svc);
	/* the socket files are read before privileges go: base_dir may be
	   closed to the service user */
	policies = xcalloc(env.listener_count + 1, sizeof(*policies));
	for (size_t i = 0; i < env.listener_count; i++)
		listener_policy(&set, svc, env.listeners[i].name, &policies[i]);
	if (service_child_raise_nofile(client_limit, &error) < 0)
		log_warning("%s", error);
	if (service_child_drop_privileges(&set, env.service, &error) < 0)
		log_fatal(EX_NOPERM, "%s", error);
	if (service_child_drop_note() != NULL)
		log_debug("%s", service_child_drop_note());

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = evloop_create();
	ctx.server = auth_server_create(ctx.loop, &set, client_limit,
					svc != NULL ? svc->service_count : 0,
					on_status, on_done, &ctx);
	evloop_add_signal(ctx.loop, SIGTERM, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGINT, on_signal, &ctx);
	evloop_add_signal(ctx.loop, SIGUSR1, on_signal, &ctx);
	/* retired by a reload: as SIGTERM */
	evloop_add_signal(ctx.loop, SIGUSR2, on_signal, &ctx);
	ctx.child = service_child_create(ctx.loop, env.master_fd,
					 on_master_gone, &ctx);
	for (size_t i = 0; i < env.listener_count; i++) {
		if (env.listeners[i].type != LISTENER_UNIX) {
			log_error("listener %s: loft-auth serves unix listeners only",
				  env.listeners[i].name);
			continue;
		}
		auth_server_listen(ctx.server, env.listeners[i].fd,
				   env.listeners[i].name, &policies[i]);
	}
	free(policies);
	if (evloop_run(ctx.loop) < 0)
		log_error("event loop failed: %m");

	auth_server_free(&ctx.server);
	service_child_free(&ctx.child);
	evloop_free(&ctx.loop);
	service_env_free(&env);
	settings_free(&set);
	log_deinit();
	return EX_OK;
}
