/*
 * lmtp_server - listeners, the session list and the workpool of one
 * loft-lmtp process (see lmtp_server.h).
 *
 * Listening sockets are shared by every process of the service; each
 * process accepts while it has fewer than client_limit sessions and pauses
 * its listeners otherwise, so the kernel's backlog holds the excess.
 * Clients of a haproxy listener count as sessions from accept on; their
 * PROXY header is read (peeked, then exactly its bytes consumed, so not
 * one byte of LMTP is taken) before the session is created.
 *
 * What the session module does not need to see (service_count, the status
 * callback, clients waiting for their PROXY header) lives in struct
 * lmtp_server_state, which embeds struct lmtp_server as its first member.
 */
#include "lmtp_private.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept_backoff.h"
#include "cidr.h"
#include "log.h"
#include "service_child.h"

struct lmtp_listener {
	struct lmtp_listener *next;
	struct lmtp_server *server;
	int fd;
	bool haproxy;
	bool ssl;		/* TLS from the first byte */
	struct evloop_io *io;
};

/* A client of a haproxy listener whose header has not arrived yet. */
struct lmtp_proxy_client {
	struct lmtp_proxy_client *prev, *next;
	struct lmtp_server_state *state;
	int fd;
	struct evloop_io *io;
	struct evloop_timer *timer;
	char peer_ip[128];		/* the proxy's own address */
	unsigned int peer_port;
	unsigned int session_flags;	/* LMTP_SESSION_* known at accept */
	size_t have;
	unsigned char buf[SERVICE_CHILD_PROXY_MAX_SIZE];
};

struct lmtp_server_state {
	struct lmtp_server server;	/* first: what the other modules see */
	struct lmtp_proxy_client *proxy_clients;
	unsigned int proxy_count;
	unsigned int service_count;	/* 0 = unlimited */
	uint64_t served;		/* connections accepted */
	bool service_count_reached;
	lmtp_server_idle_callback_t *done_cb;
	void *done_context;
	lmtp_server_status_callback_t *status_cb;
	void *status_context;
	/* accept() failing (out of fds): the listeners rest a while */
	struct accept_backoff *accept_backoff;
};

/* server_state - the whole server behind the shared part */
static struct lmtp_server_state *server_state(struct lmtp_server *server)
{
	return (struct lmtp_server_state *)server;
}

/* service_client_limit - client_limit of service lmtp, else the default */
static unsigned int service_client_limit(const struct loft_settings *set)
{
	return service_child_client_limit(set,
		service_child_find_service(set, "lmtp"));
}

static void listeners_backoff_watch(bool watch, void *context);

struct lmtp_server *lmtp_server_create(struct evloop *loop,
				       const struct loft_settings *set,
				       unsigned int worker_threads)
{
	struct lmtp_server_state *state = xcalloc(1, sizeof(*state));
	struct lmtp_server *server = &state->server;

	server->loop = loop;
	server->set = set;
	server->pool = workpool_create(loop, worker_threads);
	server->stats = lmtp_stats_create(server);
	server->client_limit = service_client_limit(set);
	state->accept_backoff = accept_backoff_create(loop, listeners_backoff_watch,
						      server);
	if (set->hostname != NULL && *set->hostname != '\0')
		snprintf(server->hostname, sizeof(server->hostname), "%s",
			 set->hostname);
	else if (gethostname(server->hostname, sizeof(server->hostname) - 1) < 0)
		snprintf(server->hostname, sizeof(server->hostname), "localhost");
	return server;
}

void lmtp_server_set_service(struct lmtp_server *server,
			     const struct service_settings *svc,
			     lmtp_server_idle_callback_t *done_cb,
			     void *context)
{
	struct lmtp_server_state *state = server_state(server);

	server->client_limit = service_child_client_limit(server->set, svc);
	state->service_count = svc != NULL ? svc->service_count : 0;
	state->done_cb = done_cb;
	state->done_context = context;
}

void lmtp_server_set_status_callback(struct lmtp_server *server,
				     lmtp_server_status_callback_t *cb,
				     void *context)
{
	struct lmtp_server_state *state = server_state(server);

	state->status_cb = cb;
	state->status_context = context;
}

/* server_in_use - sessions plus clients still sending their header */
static unsigned int server_in_use(struct lmtp_server *server)
{
	return server->session_count + server_state(server)->proxy_count;
}

/* server_report - tell the status callback where the process stands */
static void server_report(struct lmtp_server *server)
{
	struct lmtp_server_state *state = server_state(server);
	unsigned int in_use = server_in_use(server);
	unsigned int available = 0;

	if (state->status_cb == NULL)
		return;
	if (!server->shutting_down && !state->service_count_reached &&
	    server->listeners != NULL && in_use < server->client_limit)
		available = server->client_limit - in_use;
	state->status_cb(in_use, available, state->served, state->status_context);
}

/* server_check_idle - run the idle callback once nothing is in use */
static void server_check_idle(struct lmtp_server *server)
{
	if (server_in_use(server) == 0 && server->idle_cb != NULL) {
		lmtp_server_idle_callback_t *cb = server->idle_cb;

		server->idle_cb = NULL;
		cb(server->idle_context);
	}
}

/* listeners_watch - watch the listeners unless client_limit is reached
   or accept() is backing off */
static void listeners_watch(struct lmtp_server *server)
{
	bool paused = server->accepting_paused ||
		accept_backoff_paused(server_state(server)->accept_backoff);

	for (struct lmtp_listener *l = server->listeners; l != NULL; l = l->next)
		evloop_io_set_events(l->io, paused ? 0 : EVLOOP_READ);
}

/* listeners_set_paused - stop/resume accepting (client_limit) */
static void listeners_set_paused(struct lmtp_server *server, bool paused)
{
	server->accepting_paused = paused;
	listeners_watch(server);
}

/* listeners_backoff_watch - the back-off's pause began or ended */
static void listeners_backoff_watch(bool watch, void *context)
{
	(void)watch;
	listeners_watch(context);
}

/* listeners_close - close every listener for good */
static void listeners_close(struct lmtp_server *server)
{
	while (server->listeners != NULL) {
		struct lmtp_listener *l = server->listeners;

		server->listeners = l->next;
		evloop_remove_io(&l->io);
		close(l->fd);
		free(l);
	}
}

void lmtp_server_socket_address(int fd, bool peer, char *ip, size_t ip_size,
				unsigned int *port_r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char port[16];
	int ret;

	*port_r = 0;
	ret = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ret < 0 || ss.ss_family == AF_UNIX ||
	    getnameinfo((struct sockaddr *)&ss, len, ip, (socklen_t)ip_size,
			port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(ip, ip_size, "local");
		return;
	}
	*port_r = (unsigned int)strtoul(port, NULL, 10);
	/* IPv4-mapped IPv6 reads better as plain IPv4 */
	if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.') != NULL)
		memmove(ip, ip + 7, strlen(ip + 7) + 1);
}

/* peer_is_local - Dovecot's "secured" without TLS: a UNIX socket, or the
   peer's address is the connection's own local address */
static bool peer_is_local(int fd, const char *peer_ip)
{
	char local_ip[128];
	unsigned int port;

	if (strcmp(peer_ip, "local") == 0)
		return true;
	lmtp_server_socket_address(fd, false, local_ip, sizeof(local_ip), &port);
	return strcmp(local_ip, peer_ip) == 0;
}

/* proxy_client_free - unlink pc (closing its fd unless handed on) */
static void proxy_client_free(struct lmtp_proxy_client *pc, bool close_fd)
{
	struct lmtp_server_state *state = pc->state;

	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		state->proxy_clients = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
	state->proxy_count--;
	evloop_remove_io(&pc->io);
	if (pc->timer != NULL)
		evloop_remove_timer(&pc->timer);
	if (close_fd)
		close(pc->fd);
	free(pc);
}

/* proxy_client_gone - pc was dropped: free its slot */
static void proxy_client_gone(struct lmtp_server *server)
{
	if (server->accepting_paused && !server->shutting_down &&
	    server_in_use(server) < server->client_limit)
		listeners_set_paused(server, false);
	server_report(server);
	server_check_idle(server);
}

/* proxy_client_fail - drop pc; level: warning for a bad header, debug
   for a client that closed before sending anything */
static void proxy_client_fail(struct lmtp_proxy_client *pc,
			      enum log_level level, const char *reason)
{
	struct lmtp_server *server = &pc->state->server;

	log_set_session(NULL);
	log_set_user(NULL);
	log_write(level, NULL, "haproxy: dropping connection from %s: %s",
		  pc->peer_ip, reason);
	proxy_client_free(pc, true);
	proxy_client_gone(server);
}

/* proxy_client_done - the header is in: start the session with the
   client's address (the proxy's own for LOCAL/UNKNOWN) */
static void proxy_client_done(struct lmtp_proxy_client *pc,
			      const struct proxy_header *hdr)
{
	struct lmtp_server *server = &pc->state->server;
	char ip[128];
	unsigned int port = hdr->local ? pc->peer_port : hdr->src_port;
	unsigned int flags = pc->session_flags & ~LMTP_SESSION_LOCAL;
	int fd = pc->fd;

	snprintf(ip, sizeof(ip), "%s", hdr->local ? pc->peer_ip : hdr->src_ip);
	/* local as the connection itself, or as the header says */
	if (hdr->local ? (pc->session_flags & LMTP_SESSION_LOCAL) != 0 :
	    strcmp(hdr->src_ip, hdr->dst_ip) == 0)
		flags |= LMTP_SESSION_LOCAL;
	log_set_session(NULL);
	log_set_user(NULL);
	log_debug("haproxy: PROXY v%u header from %s: client %s:%u",
		  hdr->version, pc->peer_ip, ip, port);
	proxy_client_free(pc, false);
	lmtp_session_create(server, fd, fd, ip, port, flags);
	server_report(server);
}

/* proxy_client_input - read what belongs to the header, no more */
static void proxy_client_input(struct evloop_io *io, int fd,
			       unsigned int events, void *context)
{
	struct lmtp_proxy_client *pc = context;
	struct proxy_header hdr;
	size_t consumed;
	const char *error;
	ssize_t ret;
	int parsed;

	(void)io;
	(void)events;
	ret = recv(fd, pc->buf + pc->have, sizeof(pc->buf) - pc->have, MSG_PEEK);
	if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (ret < 0) {
		proxy_client_fail(pc, LOG_LEVEL_WARNING, strerror(errno));
		return;
	}
	if (ret == 0) {
		proxy_client_fail(pc, pc->have == 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING,
				  "connection closed before the PROXY header");
		return;
	}
	parsed = service_child_proxy_parse(pc->buf, pc->have + (size_t)ret, &hdr,
					   &consumed, &error);
	if (parsed < 0) {
		proxy_client_fail(pc, LOG_LEVEL_WARNING, error);
		return;
	}
	/* incomplete: every peeked byte is header; complete: take exactly
	   the header's bytes */
	consumed = parsed == 0 ? pc->have + (size_t)ret : consumed;
	while ((ret = recv(fd, pc->buf + pc->have, consumed - pc->have, 0)) < 0 &&
	       errno == EINTR)
		;
	if (ret != (ssize_t)(consumed - pc->have)) {
		proxy_client_fail(pc, LOG_LEVEL_WARNING, "short read of the PROXY header");
		return;
	}
	pc->have = consumed;
	if (parsed > 0)
		proxy_client_done(pc, &hdr);
	else if (pc->have == sizeof(pc->buf))
		proxy_client_fail(pc, LOG_LEVEL_WARNING, "PROXY header too long");
}

/* proxy_client_timeout - the header did not come in time */
static int64_t proxy_client_timeout(struct evloop_timer *timer, void *context)
{
	struct lmtp_proxy_client *pc = context;

	(void)timer;
	pc->timer = NULL;
	proxy_client_fail(pc, LOG_LEVEL_WARNING, "no PROXY header within 5 secs");
	return EVLOOP_NOMORE;
}

/* proxy_client_start - wait for the PROXY header of a new client */
static void proxy_client_start(struct lmtp_server *server, int fd,
			       const char *ip, unsigned int port,
			       unsigned int session_flags)
{
	struct lmtp_server_state *state = server_state(server);
	struct lmtp_proxy_client *pc = xcalloc(1, sizeof(*pc));

	pc->state = state;
	pc->fd = fd;
	snprintf(pc->peer_ip, sizeof(pc->peer_ip), "%s", ip);
	pc->peer_port = port;
	pc->session_flags = session_flags;
	pc->io = evloop_add_io(server->loop, fd, EVLOOP_READ,
			       proxy_client_input, pc);
	pc->timer = evloop_add_timer(server->loop, LMTP_SERVER_PROXY_TIMEOUT_MSECS,
				     proxy_client_timeout, pc);
	pc->next = state->proxy_clients;
	if (pc->next != NULL)
		pc->next->prev = pc;
	state->proxy_clients = pc;
	state->proxy_count++;
}

/* proxy_clients_close - drop every client still sending its header */
static void proxy_clients_close(struct lmtp_server *server)
{
	struct lmtp_server_state *state = server_state(server);

	while (state->proxy_clients != NULL)
		proxy_client_free(state->proxy_clients, true);
}

/* server_count_served - one more connection; at service_count the
   listeners close and the process ends with its last session */
static void server_count_served(struct lmtp_server *server)
{
	struct lmtp_server_state *state = server_state(server);

	state->served++;
	if (state->service_count == 0 || state->served < state->service_count)
		return;
	log_debug("service_count (%u) reached, no more connections",
		  state->service_count);
	state->service_count_reached = true;
	listeners_close(server);
	if (server->idle_cb == NULL && state->done_cb != NULL) {
		server->idle_cb = state->done_cb;
		server->idle_context = state->done_context;
	}
}

/* accept_failed - accept() failed with err (out of fds, typically): the
   listeners rest, and the error is logged at most once per interval */
static void accept_failed(struct lmtp_server *server, int err)
{
	char note[128];

	if (accept_backoff_failed(server_state(server)->accept_backoff, note,
				  sizeof(note)))
		log_error("accept() failed: %s (%s)", strerror(err), note);
}

/* listener_accept - take clients while slots are free */
static void listener_accept(struct evloop_io *io, int fd, unsigned int events,
			    void *context)
{
	struct lmtp_listener *l = context;
	struct lmtp_server *server = l->server;
	struct lmtp_server_state *state = server_state(server);
	bool haproxy = l->haproxy;
	bool ssl = l->ssl;

	while (server_in_use(server) < server->client_limit &&
	       !server->shutting_down && !state->service_count_reached) {
		char ip[128];
		unsigned int port, flags;
		int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				accept_failed(server, errno);
			break;
		}
		accept_backoff_succeeded(state->accept_backoff);
		lmtp_server_socket_address(client, true, ip, sizeof(ip), &port);
		flags = (peer_is_local(client, ip) ? LMTP_SESSION_LOCAL : 0) |
			(ssl ? LMTP_SESSION_TLS : 0);
		/* may close the listeners (and free l): l is not used after */
		server_count_served(server);
		if (ssl && server->tls == NULL) {
			/* never plaintext on a TLS port (loftd refuses such
			   a config; this is loft-lmtp started by hand) */
			log_error("dropping connection from %s: the listener "
				  "has ssl = yes, but TLS is not configured", ip);
			close(client);
		} else if (haproxy && !cidr_list_match(server->set->haproxy_trusted_networks,
						ip)) {
			/* Dovecot's rule: only listed proxies may say who
			   the client is */
			log_warning("haproxy: dropping connection from %s: not in "
				    "haproxy_trusted_networks", ip);
			close(client);
		} else if (haproxy) {
			proxy_client_start(server, client, ip, port, flags);
		}
		else
			lmtp_session_create(server, client, client, ip, port, flags);
	}
	if (server_in_use(server) >= server->client_limit &&
	    !server->accepting_paused && server->listeners != NULL) {
		log_debug("client_limit (%u) reached, new connections wait",
			  server->client_limit);
		listeners_set_paused(server, true);
	}
	server_report(server);
}

void lmtp_server_listen(struct lmtp_server *server, int fd, bool haproxy,
			bool ssl)
{
	struct lmtp_listener *l = xcalloc(1, sizeof(*l));

	l->server = server;
	l->fd = fd;
	l->haproxy = haproxy;
	l->ssl = ssl;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	l->io = evloop_add_io(server->loop, fd, EVLOOP_READ, listener_accept, l);
	l->next = server->listeners;
	server->listeners = l;
}

void lmtp_server_add_client(struct lmtp_server *server, int in_fd, int out_fd,
			    const char *peer_ip, unsigned int peer_port)
{
	(void)fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
	if (out_fd != in_fd)
		(void)fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
	lmtp_session_create(server, in_fd, out_fd, peer_ip, peer_port,
			    peer_ip == NULL || peer_is_local(in_fd, peer_ip) ?
			    LMTP_SESSION_LOCAL : 0);
}

void lmtp_server_set_tls(struct lmtp_server *server, struct tls_server *tls)
{
	tls_server_free(&server->tls);
	server->tls = tls;
	server->tls_required = tls != NULL &&
		strcmp(server->set->ssl, "required") == 0;
}

void lmtp_server_session_gone(struct lmtp_server *server,
			      struct lmtp_session *session)
{
	(void)session;
	if (server->accepting_paused && !server->shutting_down &&
	    server_in_use(server) < server->client_limit)
		listeners_set_paused(server, false);
	server_report(server);
	server_check_idle(server);
}

void lmtp_server_kick(struct lmtp_server *server, const char *session_id)
{
	for (struct lmtp_session *session = server->sessions; session != NULL;
	     session = session->next) {
		if (!session->destroyed && strcmp(session->id, session_id) == 0) {
			lmtp_session_kick(session);
			return;
		}
	}
}

void lmtp_server_retire(struct lmtp_server *server,
			lmtp_server_idle_callback_t *cb, void *context)
{
	struct lmtp_server_state *state = server_state(server);

	if (server->shutting_down || state->service_count_reached)
		return;
	/* as when service_count is reached: no more connections */
	state->service_count_reached = true;
	listeners_close(server);
	server->idle_cb = cb;
	server->idle_context = context;
	server_report(server);
	server_check_idle(server);
}

void lmtp_server_shutdown(struct lmtp_server *server, bool now,
			  lmtp_server_idle_callback_t *cb, void *context)
{
	struct lmtp_session *session, *next;

	server->shutting_down = true;
	server->shutdown_now = server->shutdown_now || now;
	server->idle_cb = cb;
	server->idle_context = context;
	listeners_close(server);
	proxy_clients_close(server);
	for (session = server->sessions; session != NULL; session = next) {
		next = session->next;
		lmtp_session_shutdown(session, server->shutdown_now);
	}
	server_report(server);
	server_check_idle(server);
}

void lmtp_server_on_idle(struct lmtp_server *server,
			 lmtp_server_idle_callback_t *cb, void *context)
{
	server->idle_cb = cb;
	server->idle_context = context;
}

unsigned int lmtp_server_session_count(const struct lmtp_server *server)
{
	return server->session_count;
}

unsigned int lmtp_server_jobs_pending(const struct lmtp_server *server)
{
	return workpool_pending(server->pool);
}

void lmtp_server_free(struct lmtp_server **_server)
{
	struct lmtp_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	listeners_close(server);
	proxy_clients_close(server);
	server->idle_cb = NULL;
	server_state(server)->status_cb = NULL;
	for (struct lmtp_session *session = server->sessions, *next;
	     session != NULL; session = next) {
		next = session->next;
		/* a session waiting for a job is freed when the pool drains */
		if (!session->destroyed)
			lmtp_session_destroy(session, "Service stopped");
	}
	workpool_free(&server->pool);
	lmtp_stats_free(&server->stats);
	accept_backoff_free(&server_state(server)->accept_backoff);
	tls_server_free(&server->tls);
	free(server_state(server));
}
