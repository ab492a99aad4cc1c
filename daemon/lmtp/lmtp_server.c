/*
 * lmtp_server - listeners, the session list and the workpool of one
 * loft-lmtp process (see lmtp_server.h).
 *
 * Listening sockets are shared by every process of the service; each
 * process accepts while it has fewer than client_limit sessions and pauses
 * its listeners otherwise, so the kernel's backlog holds the excess.
 */
#include "lmtp_private.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

struct lmtp_listener {
	struct lmtp_listener *next;
	struct lmtp_server *server;
	int fd;
	struct evloop_io *io;
};

/* service_client_limit - client_limit of service lmtp, else the default */
static unsigned int service_client_limit(const struct loft_settings *set)
{
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, "lmtp") == 0 &&
		    set->services[i].client_limit > 0)
			return set->services[i].client_limit;
	}
	return set->default_client_limit > 0 ? set->default_client_limit : 1000;
}

struct lmtp_server *lmtp_server_create(struct evloop *loop,
				       const struct loft_settings *set,
				       unsigned int worker_threads)
{
	struct lmtp_server *server = xcalloc(1, sizeof(*server));

	server->loop = loop;
	server->set = set;
	server->pool = workpool_create(loop, worker_threads);
	server->client_limit = service_client_limit(set);
	if (set->hostname != NULL && *set->hostname != '\0')
		snprintf(server->hostname, sizeof(server->hostname), "%s",
			 set->hostname);
	else if (gethostname(server->hostname, sizeof(server->hostname) - 1) < 0)
		snprintf(server->hostname, sizeof(server->hostname), "localhost");
	return server;
}

static void listeners_set_paused(struct lmtp_server *server, bool paused)
{
	server->accepting_paused = paused;
	for (struct lmtp_listener *l = server->listeners; l != NULL; l = l->next)
		evloop_io_set_events(l->io, paused ? 0 : EVLOOP_READ);
}

/* peer_address - numeric address and port of a connected socket */
static void peer_address(int fd, char *ip, size_t ip_size,
			 unsigned int *port_r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char port[16];

	*port_r = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    ss.ss_family == AF_UNIX ||
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

static void listener_accept(struct evloop_io *io, int fd, unsigned int events,
			    void *context)
{
	struct lmtp_listener *l = context;
	struct lmtp_server *server = l->server;

	while (server->session_count < server->client_limit &&
	       !server->shutting_down) {
		char ip[128];
		unsigned int port;
		int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_error("accept() failed: %m");
			break;
		}
		peer_address(client, ip, sizeof(ip), &port);
		lmtp_session_create(server, client, client, ip, port);
	}
	if (server->session_count >= server->client_limit &&
	    !server->accepting_paused) {
		log_warning("client_limit (%u) reached, new connections wait",
			    server->client_limit);
		listeners_set_paused(server, true);
	}
}

void lmtp_server_listen(struct lmtp_server *server, int fd)
{
	struct lmtp_listener *l = xcalloc(1, sizeof(*l));

	l->server = server;
	l->fd = fd;
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
	lmtp_session_create(server, in_fd, out_fd, peer_ip, peer_port);
}

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

void lmtp_server_session_gone(struct lmtp_server *server,
			      struct lmtp_session *session)
{
	(void)session;
	if (server->accepting_paused && !server->shutting_down &&
	    server->session_count < server->client_limit)
		listeners_set_paused(server, false);
	if (server->session_count == 0 && server->idle_cb != NULL) {
		lmtp_server_idle_callback_t *cb = server->idle_cb;

		server->idle_cb = NULL;
		cb(server->idle_context);
	}
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
	for (session = server->sessions; session != NULL; session = next) {
		next = session->next;
		lmtp_session_shutdown(session, server->shutdown_now);
	}
	if (server->session_count == 0 && server->idle_cb != NULL) {
		server->idle_cb = NULL;
		cb(context);
	}
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

void lmtp_server_free(struct lmtp_server **_server)
{
	struct lmtp_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	listeners_close(server);
	server->idle_cb = NULL;
	for (struct lmtp_session *session = server->sessions, *next;
	     session != NULL; session = next) {
		next = session->next;
		/* a session waiting for a job is freed when the pool drains */
		if (!session->destroyed)
			lmtp_session_destroy(session, "Service stopped");
	}
	workpool_free(&server->pool);
	free(server);
}
