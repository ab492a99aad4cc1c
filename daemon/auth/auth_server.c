/*
 * auth_server - loft-auth's listeners and connections (see auth_server.h).
 */
#include "auth_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept_backoff.h"
#include "auth_list.h"
#include "auth_proto.h"
#include "clock.h"
#include "log.h"
#include "strbuf.h"
#include "userdb.h"
#include "workpool.h"
#include "xalloc.h"

struct auth_listener {
	struct auth_listener *next;
	struct auth_server *server;
	int fd;
	char *name;
	struct auth_peer_policy policy;
	struct evloop_io *io;
};

struct auth_conn {
	struct auth_conn *prev, *next;
	struct auth_server *server;
	int fd;
	struct evloop_io *io;
	struct evloop_timer *idle_timer;
	char *listener;			/* its listener's name (a copy: the
					   listener may close first) */
	struct auth_peer peer;		/* groups not kept */
	bool restricted;		/* only lookups of its own uid */
	bool version_received;
	bool busy;			/* a lookup or listing is running */
	bool closed;			/* fd gone, freed when the job ends */
	struct strbuf in, out;
	size_t out_pos;			/* bytes of out already sent */
	struct auth_list *list;		/* a LIST being sent */
};

struct auth_job {
	struct auth_conn *conn;
	unsigned int id;
	char *name;			/* as looked up */
	enum auth_proto_request_cmd cmd;
	char *mask;			/* LIST */
	struct auth_list *list;		/* LIST: what was gathered */
	enum userdb_result result;
	struct userdb_reply *reply;
	char *error;
	uint64_t start_usecs;
};

struct auth_server {
	struct evloop *loop;
	const struct loft_settings *set;
	struct workpool *pool;
	struct auth_listener *listeners;
	struct auth_conn *conns;
	unsigned int conn_count, client_limit, service_count;
	uint64_t served;
	bool accepting_paused, shutting_down;
	bool retiring;			/* service_count reached */
	struct accept_backoff *backoff;
	/* restricted connections refused for their uid's count: the last
	   line logged about them, and how many since */
	uint64_t refusal_logged_msecs;
	unsigned int refusals_unlogged;
	auth_server_status_callback_t *status_cb;
	auth_server_done_callback_t *done_cb;
	void *context;
};

static void conn_input(struct auth_conn *conn);
static void conn_update_io(struct auth_conn *conn);

/* server_report - where the process stands, to the status callback */
static void server_report(struct auth_server *server)
{
	unsigned int available = 0;

	if (!server->shutting_down && !server->retiring &&
	    server->listeners != NULL && server->conn_count < server->client_limit)
		available = server->client_limit - server->conn_count;
	if (server->status_cb != NULL)
		server->status_cb(server->conn_count, available, server->served,
				  server->context);
}

/* listeners_watch - accept unless full, backing off or shutting down */
static void listeners_watch(struct auth_server *server)
{
	bool paused = server->accepting_paused ||
		accept_backoff_paused(server->backoff);

	for (struct auth_listener *l = server->listeners; l != NULL; l = l->next)
		evloop_io_set_events(l->io, paused ? 0 : EVLOOP_READ);
}

static void listeners_backoff_watch(bool watch, void *context)
{
	(void)watch;
	listeners_watch(context);
}

static void listeners_close(struct auth_server *server)
{
	while (server->listeners != NULL) {
		struct auth_listener *l = server->listeners;

		server->listeners = l->next;
		evloop_remove_io(&l->io);
		close(l->fd);
		free(l->name);
		free(l);
	}
}

/* server_check_done - the done callback once nothing is left */
static void server_check_done(struct auth_server *server)
{
	auth_server_done_callback_t *cb = server->done_cb;

	if ((!server->shutting_down && !server->retiring) ||
	    server->conns != NULL || cb == NULL)
		return;
	server->done_cb = NULL;
	cb(server->context);
}

/* conn_free - the memory of a connection whose fd is closed */
static void conn_free(struct auth_conn *conn)
{
	auth_list_free(&conn->list);
	free(conn->listener);
	strbuf_free(&conn->in);
	strbuf_free(&conn->out);
	free(conn);
}

/* conn_close - close the fd; the memory goes now, or when a running job
   ends */
static void conn_close(struct auth_conn *conn)
{
	struct auth_server *server = conn->server;

	if (conn->closed)
		return;
	conn->closed = true;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		server->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	evloop_remove_io(&conn->io);
	if (conn->idle_timer != NULL)
		evloop_remove_timer(&conn->idle_timer);
	close(conn->fd);
	conn->fd = -1;
	server->conn_count--;
	if (!conn->busy)
		conn_free(conn);
	if (server->accepting_paused && !server->shutting_down &&
	    server->conn_count < server->client_limit) {
		server->accepting_paused = false;
		listeners_watch(server);
	}
	server_report(server);
	server_check_done(server);
}

/* conn_fail - log why (what, then detail) and close */
static void conn_fail(struct auth_conn *conn, const char *what,
		      const char *detail)
{
	log_warning("%s (pid %ld uid %u): %s%s; disconnecting", conn->listener,
		    (long)conn->peer.pid, (unsigned int)conn->peer.uid, what,
		    detail);
	conn_close(conn);
}

/* out_pending - bytes queued and not sent */
static size_t out_pending(const struct auth_conn *conn)
{
	return conn->out.len - conn->out_pos;
}

/* conn_flush - send what is queued; -1 when the connection was closed */
static int conn_flush(struct auth_conn *conn)
{
	while (out_pending(conn) > 0) {
		ssize_t ret = send(conn->fd, conn->out.data + conn->out_pos,
				   out_pending(conn), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (ret > 0) {
			conn->out_pos += (size_t)ret;
			continue;
		}
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && errno == EAGAIN)
			break;
		log_debug("%s (pid %ld): write failed: %s", conn->listener,
			  (long)conn->peer.pid, strerror(errno));
		conn_close(conn);
		return -1;
	}
	if (out_pending(conn) == 0) {
		strbuf_reset(&conn->out);
		conn->out_pos = 0;
	}
	return 0;
}

/* conn_list_fill - queue more of a LIST while the output has room */
static void conn_list_fill(struct auth_conn *conn)
{
	while (conn->list != NULL && out_pending(conn) < AUTH_SERVER_MAX_OUTPUT) {
		const char *user;
		unsigned int id = auth_list_id(conn->list);

		if (auth_list_next(conn->list, &user)) {
			auth_proto_format_list(&conn->out, id, user);
			continue;
		}
		auth_proto_format_done(&conn->out, id, auth_list_failed(conn->list));
		auth_list_free(&conn->list);
	}
}

/* conn_update_io - read when idle with room for replies, write when
   anything is queued */
static void conn_update_io(struct auth_conn *conn)
{
	unsigned int events = 0;

	if (conn->closed)
		return;
	if (!conn->busy && conn->list == NULL && !conn->server->shutting_down &&
	    out_pending(conn) < AUTH_SERVER_MAX_OUTPUT)
		events |= EVLOOP_READ;
	if (out_pending(conn) > 0)
		events |= EVLOOP_WRITE;
	evloop_io_set_events(conn->io, events);
}

/* fields_numeric - uid/gid names of reply resolved to numbers; 0 or
   -1 with *error_r */
static int fields_numeric(struct userdb_reply *reply, const char **error_r)
{
	const char *uid = kvlist_get(&reply->fields, "uid");
	const char *gid = kvlist_get(&reply->fields, "gid");
	unsigned int id;
	char num[16];

	if (uid != NULL) {
		if (userdb_resolve_uid(uid, &id, error_r) < 0)
			return -1;
		snprintf(num, sizeof(num), "%u", id);
		kvlist_set(&reply->fields, "uid", num);
	}
	if (gid != NULL) {
		if (userdb_resolve_gid(gid, &id, error_r) < 0)
			return -1;
		snprintf(num, sizeof(num), "%u", id);
		kvlist_set(&reply->fields, "gid", num);
	}
	return 0;
}

/* lookup_work - on a worker thread: the userdb lookup */
static void lookup_work(void *context)
{
	struct auth_job *job = context;
	const struct loft_settings *set = job->conn->server->set;
	const char *error;

	if (job->cmd == AUTH_PROTO_REQ_LIST) {
		job->list = auth_list_create(set, job->id, job->mask);
		return;
	}
	job->result = userdb_lookup(set, job->name, &job->reply, &error);
	if (job->result == USERDB_RESULT_OK &&
	    fields_numeric(job->reply, &error) < 0) {
		userdb_reply_free(&job->reply);
		job->result = USERDB_RESULT_INTERNAL_FAILURE;
	}
	if (job->result == USERDB_RESULT_INTERNAL_FAILURE)
		job->error = xstrdup(error);
}

/* reply_allowed - a restricted peer may see only its own uid */
static bool reply_allowed(const struct auth_conn *conn,
			  const struct userdb_reply *reply)
{
	const char *uid = kvlist_get(&reply->fields, "uid");
	char own[16];

	if (!conn->restricted)
		return true;
	snprintf(own, sizeof(own), "%u", (unsigned int)conn->peer.uid);
	return uid != NULL && strcmp(uid, own) == 0;
}

/* job_reply - queue the reply of a finished lookup */
static void job_reply(struct auth_conn *conn, struct auth_job *job)
{
	double ms = (double)(clock_monotonic_usecs() - job->start_usecs) / 1000.0;

	switch (job->result) {
	case USERDB_RESULT_OK:
		if (!reply_allowed(conn, job->reply)) {
			log_error("userdb lookup for %s from pid %ld uid %u: "
				  "refused: the peer may look up only its own uid "
				  "(socket %s is mode 0666 and it is neither its "
				  "owner nor in its group)", job->name,
				  (long)conn->peer.pid,
				  (unsigned int)conn->peer.uid, conn->listener);
			auth_proto_format_fail(&conn->out, job->id, NULL);
			break;
		}
		log_debug("userdb lookup for %s from pid %ld: found (%.3f ms)",
			  job->name, (long)conn->peer.pid, ms);
		auth_proto_format_user(&conn->out, job->id,
				       job->reply->username, &job->reply->fields);
		break;
	case USERDB_RESULT_USER_UNKNOWN:
		log_debug("userdb lookup for %s from pid %ld: not found (%.3f ms)",
			  job->name, (long)conn->peer.pid, ms);
		auth_proto_format_notfound(&conn->out, job->id);
		break;
	case USERDB_RESULT_INTERNAL_FAILURE:
		log_error("userdb lookup for %s failed: %s", job->name,
			  job->error);
		auth_proto_format_fail(&conn->out, job->id,
				       "Temporary user lookup failure");
		break;
	}
}

/* lookup_done - on the loop thread: answer, then read on */
static void lookup_done(void *context)
{
	struct auth_job *job = context;
	struct auth_conn *conn = job->conn;

	bool peer_gone = conn->closed;

	conn->busy = false;
	if (peer_gone) {
		conn_free(conn);
	} else if (job->cmd == AUTH_PROTO_REQ_LIST) {
		conn->list = job->list;
		job->list = NULL;
		conn_list_fill(conn);
	} else {
		job_reply(conn, job);
	}
	auth_list_free(&job->list);
	userdb_reply_free(&job->reply);
	free(job->name);
	free(job->mask);
	free(job->error);
	free(job);
	if (!peer_gone && conn_flush(conn) == 0)
		conn_input(conn);
}

/* conn_submit - run a lookup or listing for conn */
static void conn_submit(struct auth_conn *conn, enum auth_proto_request_cmd cmd,
			unsigned int id, char *name, char *mask)
{
	struct auth_job *job = xcalloc(1, sizeof(*job));

	job->conn = conn;
	job->cmd = cmd;
	job->id = id;
	job->name = name;
	job->mask = mask;
	job->start_usecs = clock_monotonic_usecs();
	conn->busy = true;
	workpool_submit(conn->server->pool, lookup_work, lookup_done, job);
}

/* conn_user - a USER request */
static void conn_user(struct auth_conn *conn,
		      const struct auth_proto_request *req)
{
	const char *error;
	char *name;
	int ret = userdb_lookup_name(conn->server->set, req->user, &name, &error);

	if (ret == 0) {
		log_info("userdb lookup from pid %ld refused before any userdb: %s",
			 (long)conn->peer.pid, error);
		auth_proto_format_notfound(&conn->out, req->id);
	} else if (ret < 0) {
		log_error("userdb lookup: %s", error);
		auth_proto_format_fail(&conn->out, req->id,
				       "Temporary user lookup failure");
	} else {
		conn_submit(conn, AUTH_PROTO_REQ_USER, req->id, name, NULL);
	}
}

/* conn_request - one parsed request; -1 when the connection was closed */
static int conn_request(struct auth_conn *conn,
			const struct auth_proto_request *req)
{
	if (!conn->version_received) {
		if (req->cmd != AUTH_PROTO_REQ_VERSION ||
		    req->major != AUTH_PROTO_MAJOR) {
			conn_fail(conn, "client not compatible with this server ",
				  "(expected VERSION 1 first)");
			return -1;
		}
		conn->version_received = true;
		return 0;
	}
	switch (req->cmd) {
	case AUTH_PROTO_REQ_VERSION:
		conn_fail(conn, "VERSION sent twice", "");
		return -1;
	case AUTH_PROTO_REQ_USER:
		conn_user(conn, req);
		return 0;
	case AUTH_PROTO_REQ_PASS:
		auth_proto_format_fail(&conn->out, req->id,
				       "loft-auth has no passdb");
		return 0;
	case AUTH_PROTO_REQ_LIST:
		if (conn->restricted) {
			log_error("user listing from pid %ld uid %u refused: "
				  "socket %s is mode 0666 and the peer is "
				  "neither its owner nor in its group",
				  (long)conn->peer.pid,
				  (unsigned int)conn->peer.uid, conn->listener);
			auth_proto_format_done(&conn->out, req->id, true);
			return 0;
		}
		conn_submit(conn, AUTH_PROTO_REQ_LIST, req->id, NULL,
			    req->user != NULL ? xstrdup(req->user) : NULL);
		return 0;
	}
	return 0;
}

/* conn_input - handle the complete lines buffered, one request at a time
   while no lookup runs and the output has room */
static void conn_input(struct auth_conn *conn)
{
	if (conn->server->shutting_down) {
		/* answered what was asked: close once it is sent */
		if (!conn->busy && conn->list == NULL && out_pending(conn) == 0)
			conn_close(conn);
		else
			conn_update_io(conn);
		return;
	}
	while (!conn->closed && !conn->busy && conn->list == NULL &&
	       out_pending(conn) < AUTH_SERVER_MAX_OUTPUT) {
		struct auth_proto_request req;
		const char *error;
		char *lf = memchr(conn->in.data, '\n', conn->in.len);
		size_t len;
		int ret;

		if (lf == NULL && conn->in.len > AUTH_PROTO_MAX_REQUEST) {
			conn_fail(conn, "request line too long", "");
			return;
		}
		if (lf == NULL)
			break;
		len = (size_t)(lf - conn->in.data);
		ret = auth_proto_request_parse(conn->in.data, len, &req, &error);
		memmove(conn->in.data, lf + 1, conn->in.len - len - 1);
		strbuf_truncate(&conn->in, conn->in.len - len - 1);
		if (ret < 0) {
			conn_fail(conn, "broken request: ", error);
			return;
		}
		ret = conn_request(conn, &req);
		auth_proto_request_free(&req);
		if (ret < 0)
			return;
	}
	if (!conn->closed && conn_flush(conn) == 0)
		conn_update_io(conn);
}

/* conn_read - bytes from the peer into the input buffer */
static void conn_read(struct auth_conn *conn)
{
	char buf[4096];
	size_t room = AUTH_PROTO_MAX_REQUEST + 2 - conn->in.len;
	ssize_t ret;

	/* conn_input leaves no complete line behind and closes on a longer
	   one, so the buffer always has room here; never read past it */
	if (conn->in.len >= AUTH_PROTO_MAX_REQUEST + 2) {
		conn_fail(conn, "request line too long", "");
		return;
	}
	if (room > sizeof(buf))
		room = sizeof(buf);
	ret = recv(conn->fd, buf, room, MSG_DONTWAIT);
	if (ret == 0) {
		conn_close(conn);
		return;
	}
	if (ret < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(conn);
		return;
	}
	strbuf_append(&conn->in, buf, (size_t)ret);
	evloop_timer_reset(conn->idle_timer, AUTH_SERVER_IDLE_MSECS);
	conn_input(conn);
}

static void conn_io(struct evloop_io *io, int fd, unsigned int events,
		    void *context)
{
	struct auth_conn *conn = context;

	(void)io;
	(void)fd;
	/* each branch may close (and free) conn: nothing touches it after */
	if ((events & EVLOOP_WRITE) == 0) {
		conn_read(conn);
		return;
	}
	if (conn_flush(conn) < 0)
		return;
	conn_list_fill(conn);
	if (conn_flush(conn) < 0)
		return;
	/* input waiting, if any, is read in the next round */
	if (conn->list == NULL && out_pending(conn) == 0)
		conn_input(conn);
	else
		conn_update_io(conn);
}

static int64_t conn_idle(struct evloop_timer *timer, void *context)
{
	struct auth_conn *conn = context;

	(void)timer;
	if (conn->busy || conn->list != NULL)
		return AUTH_SERVER_IDLE_MSECS;
	conn->idle_timer = NULL;
	log_debug("%s (pid %ld): idle for %u s, disconnecting", conn->listener,
		  (long)conn->peer.pid, AUTH_SERVER_IDLE_MSECS / 1000);
	conn_close(conn);
	return EVLOOP_NOMORE;
}

/* restricted_room - whether a restricted peer of uid may open one more
   connection; when not, says so at most once per interval */
static bool restricted_room(struct auth_server *server, const char *listener,
			    const struct auth_peer *peer)
{
	unsigned int held = 0;
	uint64_t now;

	for (const struct auth_conn *c = server->conns; c != NULL; c = c->next) {
		if (c->restricted && !c->closed && c->peer.uid == peer->uid)
			held++;
	}
	if (held < AUTH_SERVER_RESTRICTED_PER_UID)
		return true;
	now = clock_monotonic_msecs();
	if (server->refusal_logged_msecs != 0 &&
	    now - server->refusal_logged_msecs < AUTH_SERVER_REFUSAL_LOG_MSECS) {
		server->refusals_unlogged++;
		return false;
	}
	log_warning("%s: connection from pid %ld refused: uid %u already has "
		    "%u connections (%u more refused since the last line)",
		    listener, (long)peer->pid, (unsigned int)peer->uid, held,
		    server->refusals_unlogged);
	server->refusal_logged_msecs = now;
	server->refusals_unlogged = 0;
	return false;
}

/* conn_create - a connection accepted on l, its peer checked */
static void conn_create(struct auth_listener *l, int fd)
{
	struct auth_server *server = l->server;
	struct auth_conn *conn;
	struct auth_peer peer;
	enum auth_peer_access access;
	const char *error, *reason;
	gid_t *groups;

	if (auth_peer_read(fd, &peer, &groups, &error) < 0) {
		log_error("%s: %s", l->name, error);
		close(fd);
		return;
	}
	access = auth_peer_check(&l->policy, &peer, &reason);
	free(groups);
	peer.groups = NULL;
	peer.group_count = 0;
	if (access == AUTH_PEER_REFUSED) {
		log_warning("%s: connection from pid %ld refused: %s", l->name,
			    (long)peer.pid, reason);
		close(fd);
		return;
	}
	if (access == AUTH_PEER_RESTRICTED &&
	    !restricted_room(server, l->name, &peer)) {
		close(fd);
		return;
	}
	conn = xcalloc(1, sizeof(*conn));
	conn->server = server;
	conn->fd = fd;
	conn->listener = xstrdup(l->name);
	conn->peer = peer;
	conn->restricted = access == AUTH_PEER_RESTRICTED;
	strbuf_init(&conn->in, 256);
	strbuf_init(&conn->out, 256);
	auth_proto_format_handshake(&conn->out, (unsigned int)getpid());
	conn->io = evloop_add_io(server->loop, fd, EVLOOP_READ, conn_io, conn);
	conn->idle_timer = evloop_add_timer(server->loop, AUTH_SERVER_IDLE_MSECS,
					    conn_idle, conn);
	conn->next = server->conns;
	if (server->conns != NULL)
		server->conns->prev = conn;
	server->conns = conn;
	server->conn_count++;
	if (conn_flush(conn) == 0)
		conn_update_io(conn);
}

/* server_served - one more connection; at service_count accept no more
   and exit once the connections open have ended */
static void server_served(struct auth_server *server)
{
	server->served++;
	if (server->service_count == 0 || server->served < server->service_count)
		return;
	server->retiring = true;
	listeners_close(server);
	log_debug("service_count %u reached: exiting once the %u open "
		  "connections have ended", server->service_count,
		  server->conn_count);
}

static void listener_io(struct evloop_io *io, int fd, unsigned int events,
			void *context)
{
	struct auth_listener *l = context;
	struct auth_server *server = l->server;
	char note[128];
	int cfd;

	(void)io;
	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		if (accept_backoff_failed(server->backoff, note, sizeof(note)))
			log_error("%s: accept() failed: %s; %s", l->name,
				  strerror(errno), note);
		return;
	}
	accept_backoff_succeeded(server->backoff);
	conn_create(l, cfd);
	if (server->conn_count >= server->client_limit) {
		server->accepting_paused = true;
		listeners_watch(server);
	}
	/* l is freed when service_count closes the listeners */
	server_served(server);
	server_report(server);
	server_check_done(server);
}

struct auth_server *auth_server_create(struct evloop *loop,
				       const struct loft_settings *set,
				       unsigned int client_limit,
				       unsigned int service_count,
				       auth_server_status_callback_t *status_cb,
				       auth_server_done_callback_t *done_cb,
				       void *context)
{
	struct auth_server *server = xcalloc(1, sizeof(*server));

	server->loop = loop;
	server->set = set;
	server->client_limit = client_limit == 0 ? 1 : client_limit;
	server->service_count = service_count;
	server->status_cb = status_cb;
	server->done_cb = done_cb;
	server->context = context;
	server->pool = workpool_create(loop, AUTH_SERVER_WORKER_THREADS);
	server->backoff = accept_backoff_create(loop, listeners_backoff_watch,
						server);
	return server;
}

void auth_server_listen(struct auth_server *server, int fd, const char *name,
			const struct auth_peer_policy *policy)
{
	struct auth_listener *l = xcalloc(1, sizeof(*l));

	l->server = server;
	l->fd = fd;
	l->name = xstrdup(name);
	l->policy = *policy;
	l->io = evloop_add_io(server->loop, fd, EVLOOP_READ, listener_io, l);
	l->next = server->listeners;
	server->listeners = l;
	server_report(server);
}

void auth_server_shutdown(struct auth_server *server)
{
	struct auth_conn *conn, *next;

	if (server->shutting_down)
		return;
	server->shutting_down = true;
	listeners_close(server);
	for (conn = server->conns; conn != NULL; conn = next) {
		next = conn->next;
		if (!conn->busy && conn->list == NULL)
			conn_close(conn);
	}
	server_report(server);
	server_check_done(server);
}

void auth_server_free(struct auth_server **_server)
{
	struct auth_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	server->done_cb = NULL;
	server->status_cb = NULL;
	server->shutting_down = true;
	listeners_close(server);
	/* lookups still running finish first: their done callbacks free
	   the connections closed below */
	while (server->conns != NULL)
		conn_close(server->conns);
	workpool_free(&server->pool);
	accept_backoff_free(&server->backoff);
	free(server);
}
