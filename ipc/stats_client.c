/*
 * stats_client - non-blocking reporting to loft-stats (see stats_client.h).
 * One ipc_conn at a time (NULL while disconnected) behind a mutex with the
 * drop counters. `dropped_pending` is what loft-stats has not been told
 * yet; `dropped_total` never goes down. A Dropped report lost with a dead
 * connection puts its count back into pending without counting it twice.
 */
#include "stats_client.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "ipc_conn.h"
#include "ipc_socket.h"
#include "xalloc.h"

struct stats_client {
	struct evloop *loop;
	char *socket_path;
	Loft__Role role;
	char *service;

	/* protects conn and the counters */
	pthread_mutex_t lock;
	struct ipc_conn *conn;
	uint64_t dropped_pending;
	uint64_t dropped_total;

	struct evloop_timer *reconnect_timer;
	uint64_t backoff_msecs;
	/* when the last hand-over reconnected at once */
	uint64_t handover_msecs;

	stats_client_handler_t *handler;
	void *handler_context;
	stats_client_connect_callback_t *connect_cb;
	void *connect_context;
};

static void stats_client_connect(struct stats_client *client, bool report);
static struct ipc_conn *stats_client_open(struct stats_client *client);
static void stats_client_install(struct stats_client *client,
				 struct ipc_conn *conn);

/* stats_client_lock - lock (also through a const pointer: readers) */
static void stats_client_lock(const struct stats_client *client)
{
	pthread_mutex_lock((pthread_mutex_t *)&client->lock);
}

/* stats_client_unlock - counterpart of stats_client_lock */
static void stats_client_unlock(const struct stats_client *client)
{
	pthread_mutex_unlock((pthread_mutex_t *)&client->lock);
}

/* stats_client_count_dropped - env did not make it (lock held) */
static void stats_client_count_dropped(struct stats_client *client,
				       const Loft__Envelope *env)
{
	bool report;
	uint64_t events = ipc_envelope_events(env, &report);

	client->dropped_pending += events;
	if (!report)
		client->dropped_total += events;
}

/* stats_client_report_dropped - queue Dropped{pending} if there is any
   and it fits (lock held, connected) */
static void stats_client_report_dropped(struct stats_client *client)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Dropped dropped = LOFT__DROPPED__INIT;
	const char *error;

	if (client->dropped_pending == 0)
		return;
	dropped.events = client->dropped_pending;
	env.body_case = LOFT__ENVELOPE__BODY_DROPPED;
	env.dropped = &dropped;
	if (ipc_conn_send(client->conn, &env, &error) == 1)
		client->dropped_pending = 0;
}

/* stats_client_lost_conn - the connection is gone: count what it still
   had queued, free it (lock held) */
static void stats_client_lost_conn(struct stats_client *client)
{
	struct ipc_outq_unsent unsent = ipc_conn_unsent(client->conn);

	client->dropped_pending += unsent.events + unsent.reported;
	client->dropped_total += unsent.events;
	ipc_conn_free(&client->conn);
}

/* stats_client_check_conn - synchronous mode: a write failure closed the
   connection (lock held) */
static void stats_client_check_conn(struct stats_client *client)
{
	if (client->loop == NULL && client->conn != NULL &&
	    ipc_conn_is_closed(client->conn))
		stats_client_lost_conn(client);
}

/* stats_client_reconnect_timeout - back-off timer */
static int64_t stats_client_reconnect_timeout(struct evloop_timer *timer,
					      void *context)
{
	struct stats_client *client = context;

	client->reconnect_timer = NULL;
	stats_client_connect(client, true);
	return EVLOOP_NOMORE;
}

/* stats_client_schedule - try again after the back-off delay */
static void stats_client_schedule(struct stats_client *client)
{
	if (client->reconnect_timer != NULL)
		return;
	client->reconnect_timer = evloop_add_timer(client->loop,
		client->backoff_msecs, stats_client_reconnect_timeout, client);
	client->backoff_msecs *= 2;
	if (client->backoff_msecs > STATS_CLIENT_BACKOFF_MAX_MSECS)
		client->backoff_msecs = STATS_CLIENT_BACKOFF_MAX_MSECS;
}

/* stats_client_message - an envelope from loft-stats */
static void stats_client_message(struct ipc_conn *conn,
				 const Loft__Envelope *env, void *context)
{
	struct stats_client *client = context;

	if (env->body_case == LOFT__ENVELOPE__BODY_HELLO) {
		/* a full handshake: the next outage starts afresh */
		client->backoff_msecs = STATS_CLIENT_BACKOFF_MIN_MSECS;
		return;
	}
	if (client->handler != NULL)
		client->handler(env, client->handler_context);
}

/* stats_client_handing_over - conn, closed, was a loft-stats that
   retired in order (it ended its side after our Hello): reconnect at
   once, at most once per STATS_CLIENT_BACKOFF_MIN_MSECS */
static bool stats_client_handing_over(struct stats_client *client,
				      struct ipc_conn *conn)
{
	uint64_t now = clock_monotonic_msecs();

	if (!ipc_conn_peer_finished(conn) || ipc_conn_peer_hello(conn) == NULL ||
	    (client->handover_msecs != 0 &&
	     now - client->handover_msecs < STATS_CLIENT_BACKOFF_MIN_MSECS))
		return false;
	client->handover_msecs = now;
	return true;
}

/* stats_client_closed - loft-stats went away or broke the protocol. One
   that retired (a reload) gets what we queued until now, and the next
   event goes to the new connection, opened before the old one is let
   go: no event is lost between the two. */
static void stats_client_closed(struct ipc_conn *conn, const char *reason,
				void *context)
{
	struct stats_client *client = context;
	struct ipc_conn *next = NULL;

	(void)reason;
	if (stats_client_handing_over(client, conn))
		next = stats_client_open(client);
	stats_client_lock(client);
	(void)ipc_conn_write_rest(client->conn, STATS_CLIENT_HANDOVER_MSECS);
	stats_client_lost_conn(client);
	if (next != NULL)
		stats_client_install(client, next);
	stats_client_unlock(client);
	if (next == NULL)
		stats_client_schedule(client);
	else if (client->connect_cb != NULL)
		client->connect_cb(client, client->connect_context);
}

/* stats_client_open - a new connection to loft-stats, or NULL */
static struct ipc_conn *stats_client_open(struct stats_client *client)
{
	struct ipc_conn_settings set = {
		.role = client->role,
		.service = client->service,
		.queue_max = STATS_CLIENT_QUEUE_MAX,
		.threaded = client->loop != NULL,
		.batch_msecs = STATS_CLIENT_BATCH_MSECS,
		.on_message = stats_client_message,
		.on_close = stats_client_closed,
		.context = client,
	};
	struct ipc_conn *conn;
	const char *error;
	int fd;

	if (ipc_unix_connect(client->socket_path, client->loop == NULL ?
			     STATS_CLIENT_CONNECT_MSECS : 0, &fd, &error) < 0 ||
	    ipc_conn_create(client->loop, fd, &set, &conn, &error) < 0)
		return NULL;
	return conn;
}

/* stats_client_install - conn becomes the connection (lock held) */
static void stats_client_install(struct stats_client *client,
				 struct ipc_conn *conn)
{
	client->conn = conn;
	stats_client_report_dropped(client);
	stats_client_check_conn(client);
}

/* stats_client_connect - open a connection; in loop mode a failure
   schedules the next attempt and report calls the connect callback */
static void stats_client_connect(struct stats_client *client, bool report)
{
	struct ipc_conn *conn = stats_client_open(client);

	if (conn == NULL) {
		if (client->loop != NULL)
			stats_client_schedule(client);
		return;
	}
	stats_client_lock(client);
	stats_client_install(client, conn);
	stats_client_unlock(client);
	if (report && client->connect_cb != NULL)
		client->connect_cb(client, client->connect_context);
}

struct stats_client *stats_client_create(struct evloop *loop,
					 const char *socket_path,
					 Loft__Role role, const char *service)
{
	struct stats_client *client = xcalloc(1, sizeof(*client));

	client->loop = loop;
	client->socket_path = xstrdup(socket_path);
	client->role = role;
	client->service = service == NULL ? NULL : xstrdup(service);
	client->backoff_msecs = STATS_CLIENT_BACKOFF_MIN_MSECS;
	pthread_mutex_init(&client->lock, NULL);
	stats_client_connect(client, false);
	return client;
}

void stats_client_free(struct stats_client **_client)
{
	struct stats_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	if (client->reconnect_timer != NULL)
		evloop_remove_timer(&client->reconnect_timer);
	ipc_conn_free(&client->conn);
	pthread_mutex_destroy(&client->lock);
	free(client->socket_path);
	free(client->service);
	free(client);
}

void stats_client_set_handler(struct stats_client *client,
			      stats_client_handler_t *cb, void *context)
{
	client->handler = cb;
	client->handler_context = context;
}

void stats_client_set_connect_callback(struct stats_client *client,
				       stats_client_connect_callback_t *cb,
				       void *context)
{
	client->connect_cb = cb;
	client->connect_context = context;
}

void stats_client_send(struct stats_client *client, const Loft__Envelope *env)
{
	const char *error;

	stats_client_lock(client);
	if (client->conn == NULL) {
		stats_client_count_dropped(client, env);
	} else {
		stats_client_report_dropped(client);
		if (ipc_conn_send(client->conn, env, &error) != 1)
			stats_client_count_dropped(client, env);
		stats_client_check_conn(client);
	}
	stats_client_unlock(client);
}

void stats_client_send_urgent(struct stats_client *client,
			      const Loft__Envelope *env)
{
	stats_client_send(client, env);
	stats_client_lock(client);
	if (client->conn != NULL && client->loop != NULL)
		ipc_conn_flush_soon(client->conn);
	stats_client_unlock(client);
}

int stats_client_flush(struct stats_client *client, unsigned int timeout_ms)
{
	struct ipc_conn *conn;
	int ret;

	if (client->loop != NULL) {
		/* the loop thread alone frees the connection, so it may
		   wait without the lock that worker threads' sends need.
		   First loft-stats' Hello: it is sent once loft-stats has
		   looked at who we are (a connection opened by a hand-over
		   may wait in the listener's queue), and a process that is
		   gone by then could not be told from a stranger */
		uint64_t deadline = clock_monotonic_msecs() + timeout_ms, now;

		stats_client_lock(client);
		conn = client->conn;
		stats_client_unlock(client);
		if (conn != NULL && ipc_conn_peer_hello(conn) == NULL &&
		    ipc_conn_wait_peer_hello(conn, timeout_ms) < 0) {
			stats_client_lock(client);
			conn = client->conn;
			stats_client_unlock(client);
		}
		now = clock_monotonic_msecs();
		return conn == NULL ? -1 : ipc_conn_flush(conn,
			now < deadline ? (unsigned int)(deadline - now) : 0);
	}
	stats_client_lock(client);
	ret = client->conn == NULL ? -1 :
	      ipc_conn_flush(client->conn, timeout_ms);
	stats_client_check_conn(client);
	stats_client_unlock(client);
	return ret;
}

uint64_t stats_client_dropped_total(const struct stats_client *client)
{
	uint64_t total;

	stats_client_lock(client);
	total = client->dropped_total;
	stats_client_unlock(client);
	return total;
}

bool stats_client_is_connected(const struct stats_client *client)
{
	bool connected;

	stats_client_lock(client);
	connected = client->conn != NULL;
	stats_client_unlock(client);
	return connected;
}

size_t stats_client_queued_bytes(const struct stats_client *client)
{
	size_t bytes;

	stats_client_lock(client);
	bytes = client->conn == NULL ? 0 : ipc_conn_queued_bytes(client->conn);
	stats_client_unlock(client);
	return bytes;
}
