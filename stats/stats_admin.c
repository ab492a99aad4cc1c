/*
 * stats_admin - the admin socket (base_dir/admin): loftadm's requests,
 * answered through stats_ops with the same JSON as the HTTP API (the
 * protocol table is in stats/README.md).
 *
 * SECURITY: the socket is 0600 (0660 with admin_socket_group); on top of
 * that, commands that change something are refused unless the peer's uid,
 * read with SO_PEERCRED when it connects, is 0.
 */
#include "stats_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "accept_backoff.h"
#include "clock.h"
#include "ipc_socket.h"
#include "log.h"
#include "settings.h"
#include "stats_json.h"
#include "stats_match.h"

struct stats_admin_client {
	struct stats_admin_client *next;
	struct stats_server *server;
	struct ipc_conn *conn;
	uid_t uid;
	pid_t pid;
};

/* A master command asked for by a client, answered when loftd answers. */
struct admin_pending {
	struct stats_master_wait wait;
	struct stats_admin_client *client; /* NULL once it went away */
	uint64_t request_id;
};

static void admin_reply(struct stats_admin_client *client, uint64_t id,
			unsigned int status, json_object *json,
			const char *error)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__AdminReply reply = LOFT__ADMIN_REPLY__INIT;

	reply.id = id;
	reply.status = status;
	reply.json = json == NULL ? NULL :
		(char *)json_object_to_json_string_ext(json, JSON_C_TO_STRING_PLAIN);
	reply.error = (char *)error;
	env.body_case = LOFT__ENVELOPE__BODY_ADMIN_REPLY;
	env.admin_reply = &reply;
	(void)ipc_conn_send(client->conn, &env, NULL);
	if (json != NULL)
		json_object_put(json);
}

/* option_value - "--name VALUE" in args; NULL when absent. -1 when the
   value is missing or the option unknown. */
static int parse_options(char **args, size_t n, const char *const *names,
			 const char **values, size_t names_count,
			 const char **error_r)
{
	static __thread char error[160];

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < names_count; j++) {
			if (strcmp(args[i], names[j]) == 0)
				break;
		}
		if (j == names_count || i + 1 == n) {
			snprintf(error, sizeof(error), j == names_count ?
				 "unknown argument: %s" : "%s needs a value", args[i]);
			*error_r = error;
			return -1;
		}
		values[j] = args[++i];
	}
	return 0;
}

/* since_limit - --since DUR / --limit N */
static int since_limit(const char *since, const char *limit,
		       uint64_t *since_r, unsigned int *limit_r,
		       const char **error_r)
{
	char *end;

	*limit_r = 0;
	if (stats_json_parse_ago(since, since_r, error_r) < 0)
		return -1;
	if (limit != NULL) {
		errno = 0;
		unsigned long v = strtoul(limit, &end, 10);
		if (errno != 0 || *end != '\0' || v > 1000000) {
			*error_r = "--limit: not a number";
			return -1;
		}
		*limit_r = (unsigned int)v;
	}
	return 0;
}

static void master_answer(struct stats_master_wait *wait, void *context)
{
	struct admin_pending *p = context;
	json_object *result;

	if (p->client != NULL) {
		if (wait->ok) {
			result = json_object_new_object();
			json_object_object_add(result, "ok", json_object_new_boolean(true));
			admin_reply(p->client, p->request_id, EX_OK, result, NULL);
		} else {
			admin_reply(p->client, p->request_id, EX_TEMPFAIL, NULL,
				    wait->error);
		}
	}
	free(p);
}

/* admin_master - reload / log-reopen through loftd */
static void admin_master(struct stats_admin_client *client, uint64_t id,
			 const char *command)
{
	struct admin_pending *p = xcalloc(1, sizeof(*p));

	p->client = client;
	p->request_id = id;
	p->wait.callback = master_answer;
	p->wait.context = p;
	if (stats_ops_master_command(client->server, command, &p->wait) < 0) {
		free(p);
		admin_reply(client, id, EX_TEMPFAIL, NULL, "loftd is not connected");
	}
}

static bool command_mutates(const char *command)
{
	static const char *const mutating[] = {
		"kick", "reload", "stats-reset", "log-reopen", "debug",
	};

	for (size_t i = 0; i < LOFT_N_ELEMENTS(mutating); i++) {
		if (strcmp(command, mutating[i]) == 0)
			return true;
	}
	return false;
}

/* filter_args - who/kick arguments (masks, CIDRs, session ids) */
static int filter_args(char **args, size_t n, struct stats_filter *filter,
		       const char **error_r)
{
	return stats_filter_parse((const char *const *)args, n, filter, error_r);
}

int stats_admin_answer(struct stats_server *server, uid_t uid, pid_t pid,
		       const Loft__AdminRequest *req, unsigned int *status_r,
		       json_object **json_r, const char **error_r)
{
	struct stats_filter filter;
	const char *error = NULL;
	char **args = req->args;
	size_t n = req->n_args;
	json_object *result = NULL;

	*json_r = NULL;
	*error_r = NULL;
	if (command_mutates(req->command) && uid != 0) {
		log_warning("admin: refused %s from uid %u (pid %d): only root may",
			    req->command, (unsigned int)uid, (int)pid);
		*status_r = EX_NOPERM;
		*error_r = "permission denied: only root may do this";
		return 1;
	}
	if (strcmp(req->command, "who") == 0) {
		bool per_session = n > 0 && strcmp(args[0], "-1") == 0;

		if (filter_args(args + per_session, n - per_session, &filter,
				&error) < 0)
			goto usage;
		result = stats_ops_who(server, &filter, per_session);
		stats_filter_free(&filter);
	} else if (strcmp(req->command, "kick") == 0) {
		if (n == 0) {
			error = "kick needs a user mask, IP/CIDR or session id";
			goto usage;
		}
		if (filter_args(args, n, &filter, &error) < 0)
			goto usage;
		result = stats_ops_kick(server, &filter);
		stats_filter_free(&filter);
	} else if (strcmp(req->command, "reload") == 0 ||
		   strcmp(req->command, "log-reopen") == 0) {
		return 0;
	} else if (strcmp(req->command, "stats-dump") == 0) {
		result = stats_ops_stats(server);
	} else if (strcmp(req->command, "stats-reset") == 0) {
		result = stats_ops_stats_reset(server);
	} else if (strcmp(req->command, "log-errors") == 0) {
		static const char *const names[] = { "--since", "--limit" };
		const char *values[2] = { NULL, NULL };
		uint64_t since;
		unsigned int limit;

		if (parse_options(args, n, names, values, 2, &error) < 0 ||
		    since_limit(values[0], values[1], &since, &limit, &error) < 0)
			goto usage;
		result = stats_ops_errors(server, since, limit);
	} else if (strcmp(req->command, "log-test") == 0) {
		stats_ops_log_test(server);
		result = json_object_new_object();
		json_object_object_add(result, "ok", json_object_new_boolean(true));
	} else if (strcmp(req->command, "service-status") == 0) {
		result = stats_ops_services(server);
	} else if (strcmp(req->command, "deliveries") == 0) {
		static const char *const names[] = {
			"--user", "--sender", "--msgid", "--session", "--result",
			"--since", "--limit", "--until",
		};
		const char *values[8] = { NULL };
		struct stats_journal_query q = { 0 };

		if (parse_options(args, n, names, values, 8, &error) < 0 ||
		    since_limit(values[5], values[6], &q.since_usecs, &q.limit,
				&error) < 0 ||
		    stats_json_parse_ago(values[7], &q.until_usecs, &error) < 0)
			goto usage;
		q.user_mask = values[0];
		q.sender = values[1];
		q.msgid = values[2];
		q.session_id = values[3];
		q.result = values[4];
		result = stats_ops_deliveries(server, &q);
	} else if (strcmp(req->command, "debug") == 0) {
		if (n != 2 || (strcmp(args[1], "on") != 0 &&
			       strcmp(args[1], "off") != 0)) {
			error = "usage: debug USER_MASK on|off";
			goto usage;
		}
		result = stats_ops_debug(server, args[0], strcmp(args[1], "on") == 0);
	} else {
		*status_r = EX_USAGE;
		*error_r = "unknown command";
		return 1;
	}
	*status_r = EX_OK;
	*json_r = result;
	return 1;
usage:
	*status_r = EX_USAGE;
	*error_r = error;
	return 1;
}

static void admin_request(struct stats_admin_client *client,
			  const Loft__AdminRequest *req)
{
	unsigned int status;
	json_object *json;
	const char *error;

	if (stats_admin_answer(client->server, client->uid, client->pid, req,
			       &status, &json, &error) == 0)
		admin_master(client, req->id, req->command);
	else
		admin_reply(client, req->id, status, json, error);
}

static void admin_message(struct ipc_conn *conn, const Loft__Envelope *env,
			  void *context)
{
	struct stats_admin_client *client = context;

	(void)conn;
	if (env->body_case == LOFT__ENVELOPE__BODY_HELLO)
		return;
	if (env->body_case != LOFT__ENVELOPE__BODY_ADMIN_REQUEST) {
		log_warning("admin: unexpected %s message from pid %d",
			    ipc_envelope_body_name(env->body_case), (int)client->pid);
		return;
	}
	admin_request(client, env->admin_request);
}

/* client_free - unlink; pending master commands forget it */
static void client_free(struct stats_admin_client *client)
{
	struct stats_server *server = client->server;

	for (struct stats_admin_client **p = &server->admins; *p != NULL;
	     p = &(*p)->next) {
		if (*p == client) {
			*p = client->next;
			break;
		}
	}
	pthread_mutex_lock(&server->lock);
	for (struct stats_master_wait *w = server->master_waits; w != NULL;
	     w = w->next) {
		if (w->callback == master_answer &&
		    ((struct admin_pending *)w->context)->client == client)
			((struct admin_pending *)w->context)->client = NULL;
	}
	pthread_mutex_unlock(&server->lock);
	ipc_conn_free(&client->conn);
	free(client);
}

static void admin_close(struct ipc_conn *conn, const char *reason,
			void *context)
{
	(void)conn;
	(void)reason;
	client_free(context);
}

static void admin_accept(struct evloop_io *io, int fd, unsigned int events,
			 void *context)
{
	struct stats_server *server = context;
	const char *error;
	int sock, ret;

	(void)io;
	(void)events;
	while ((ret = ipc_accept(fd, &sock, &error)) > 0) {
		struct ipc_conn_settings cs = {
			.role = LOFT__ROLE__ROLE_STATS, .service = "stats",
			.on_message = admin_message, .on_close = admin_close,
		};
		struct stats_admin_client *client;
		struct ucred cred;
		socklen_t len = sizeof(cred);

		accept_backoff_succeeded(server->admin_backoff);
		if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_error("admin: SO_PEERCRED failed: %m");
			close(sock);
			continue;
		}
		client = xcalloc(1, sizeof(*client));
		client->server = server;
		client->uid = cred.uid;
		client->pid = cred.pid;
		cs.context = client;
		if (ipc_conn_create(server->loop, sock, &cs, &client->conn,
				    &error) < 0) {
			log_error("admin: %s", error);
			free(client);
			continue;
		}
		client->next = server->admins;
		server->admins = client;
	}
	if (ret < 0)
		stats_server_accept_failed(server->admin_backoff, "admin", error);
}

/* admin_watch - the accept back-off pauses and resumes the listener */
static void admin_watch(bool watch, void *context)
{
	struct stats_server *server = context;

	if (server->admin_io != NULL)
		evloop_io_set_events(server->admin_io, watch ? EVLOOP_READ : 0);
}

void stats_admin_listen(struct stats_server *server, int fd)
{
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	server->admin_fd = fd;
	server->admin_io = evloop_add_io(server->loop, fd, EVLOOP_READ,
					 admin_accept, server);
	server->admin_backoff = accept_backoff_create(server->loop,
						      admin_watch, server);
}

void stats_admin_close_all(struct stats_server *server)
{
	if (server->admin_io != NULL)
		evloop_remove_io(&server->admin_io);
	accept_backoff_free(&server->admin_backoff);
	while (server->admins != NULL)
		client_free(server->admins);
}
