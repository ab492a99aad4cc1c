/*
 * stats_http_watch - the watchdog of the HTTP endpoint and the deferred
 * requests it times out.
 *
 * One thread sleeps until the next deadline among
 *   - connections waiting for a whole request, headers and body (just
 *     opened, or done with their previous request):
 *     STATS_HTTP_HEADER_TIMEOUT_SECS later their socket is shut down, so
 *     MHD sees the end and frees the slot. MHD's own timeout counts idle
 *     time only, which a client trickling a byte every few seconds never
 *     reaches;
 *   - deferred requests (stats_http_defer): at their deadline the owner's
 *     expire hook runs and the request is resumed with WAKE_TIMEOUT.
 *
 * A new connection also makes room at once: when its address already has
 * STATS_HTTP_PER_IP_LIMIT connections waiting for their request, or all
 * connections come near STATS_HTTP_CONNECTION_LIMIT, the one that has
 * waited longest (of that address, or of any) is shut down. A slow client
 * holds a slot only while nobody needs it, so 16 slow connections from
 * 127.0.0.1 that reconnect as soon as they are cut no longer lock out a
 * Prometheus scraping from there, nor do many addresses lock out all.
 *
 * Connections are tracked through MHD's connection notices. A socket
 * stays open until its CLOSED notice, which takes watch_lock, so the
 * shutdown() here never hits a reused descriptor. Lock order: the owner's
 * lock, then watch_lock; expire hooks run with watch_lock dropped.
 */
#include "stats_http_private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"

#define STATS_HTTP_HEADER_TIMEOUT_MSECS \
	((uint64_t)STATS_HTTP_HEADER_TIMEOUT_SECS * 1000)
/* a handler past its deadline is still deferring: look again soon */
#define STATS_HTTP_WATCH_RETRY_MSECS 10

/* --- connections --- */

/* connections besides the new one before the oldest waiting one of any
   address is closed: STATS_HTTP_CONNECTION_LIMIT less room for closes
   under way and for requests in progress */
#define STATS_HTTP_WATCH_ALL_MAX (STATS_HTTP_CONNECTION_LIMIT * 7 / 8)

/* watch_make_room - fresh just connected (watch_lock held): close the
   connection waiting longest for its request, of fresh's address when it
   has STATS_HTTP_PER_IP_LIMIT of them, else of any when there are
   STATS_HTTP_WATCH_ALL_MAX connections */
static void watch_make_room(struct stats_http *http,
			    const struct stats_http_peer *fresh)
{
	struct stats_http_peer *oldest_same = NULL, *oldest = NULL, *victim;
	unsigned int same = 0, all = 0;

	for (struct stats_http_peer *p = http->peers; p != NULL; p = p->next) {
		if (p == fresh)
			continue;
		all++;
		if (!p->waiting || p->fd < 0)
			continue;
		if (oldest == NULL || p->since_msecs <= oldest->since_msecs)
			oldest = p;
		if (strcmp(p->ip, fresh->ip) != 0)
			continue;
		same++;
		if (oldest_same == NULL ||
		    p->since_msecs <= oldest_same->since_msecs)
			oldest_same = p;
	}
	victim = same >= STATS_HTTP_PER_IP_LIMIT ? oldest_same :
		all >= STATS_HTTP_WATCH_ALL_MAX ? oldest : NULL;
	if (victim == NULL)
		return;
	victim->waiting = false;
	(void)shutdown(victim->fd, SHUT_RDWR);
}

void stats_http_notify_connection(void *cls, struct MHD_Connection *connection,
				  void **socket_context,
				  enum MHD_ConnectionNotificationCode toe)
{
	struct stats_http *http = cls;
	struct stats_http_peer *peer = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(connection,
					       MHD_CONNECTION_INFO_CONNECTION_FD);
		peer = xcalloc(1, sizeof(*peer));
		peer->fd = info != NULL ? info->connect_fd : -1;
		info = MHD_get_connection_info(connection,
					       MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		stats_http_addr_text(info != NULL ? info->client_addr : NULL,
				     peer->ip);
		peer->waiting = true;
		peer->fresh = true;
		peer->since_msecs = clock_monotonic_msecs();
		pthread_mutex_lock(&http->watch_lock);
		peer->next = http->peers;
		if (peer->next != NULL)
			peer->next->prev = peer;
		http->peers = peer;
		watch_make_room(http, peer);
		pthread_cond_signal(&http->watch_cond);
		pthread_mutex_unlock(&http->watch_lock);
		*socket_context = peer;
		return;
	}
	if (peer == NULL)
		return;
	pthread_mutex_lock(&http->watch_lock);
	if (peer->prev != NULL)
		peer->prev->next = peer->next;
	else
		http->peers = peer->next;
	if (peer->next != NULL)
		peer->next->prev = peer->prev;
	pthread_mutex_unlock(&http->watch_lock);
	free(peer);
	*socket_context = NULL;
}

void stats_http_watch_request(struct stats_http *http,
			      struct MHD_Connection *connection,
			      enum stats_http_watch_state state)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection,
					MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct stats_http_peer *peer = info != NULL ? info->socket_context : NULL;

	if (peer == NULL)
		return;
	pthread_mutex_lock(&http->watch_lock);
	switch (state) {
	case STATS_HTTP_WATCH_WAITING:
		peer->waiting = true;
		peer->since_msecs = clock_monotonic_msecs();
		pthread_cond_signal(&http->watch_cond);
		break;
	case STATS_HTTP_WATCH_BEGUN:
		/* the deadline set when it began waiting still holds */
		peer->fresh = false;
		break;
	case STATS_HTTP_WATCH_BUSY:
		peer->fresh = false;
		peer->waiting = false;
		break;
	}
	pthread_mutex_unlock(&http->watch_lock);
}

unsigned int stats_http_watch_fresh(struct stats_http *http)
{
	unsigned int n = 0;

	pthread_mutex_lock(&http->watch_lock);
	for (const struct stats_http_peer *p = http->peers; p != NULL; p = p->next) {
		if (p->fresh)
			n++;
	}
	pthread_mutex_unlock(&http->watch_lock);
	return n;
}

/* watch_peers - shut down connections past their header deadline; the
   next deadline into *next_r */
static void watch_peers(struct stats_http *http, uint64_t now,
			uint64_t *next_r)
{
	for (struct stats_http_peer *p = http->peers; p != NULL; p = p->next) {
		uint64_t due = p->since_msecs + STATS_HTTP_HEADER_TIMEOUT_MSECS;

		if (!p->waiting)
			continue;
		if (due > now) {
			if (due < *next_r)
				*next_r = due;
			continue;
		}
		p->waiting = false;
		if (p->fd >= 0)
			(void)shutdown(p->fd, SHUT_RDWR);
	}
}

/* --- deferred requests --- */

void stats_http_watch_unlink(struct stats_http_conn *conn)
{
	struct stats_http *http = conn->http;

	if (conn->defer_prev != NULL)
		conn->defer_prev->defer_next = conn->defer_next;
	else if (http->deferred == conn)
		http->deferred = conn->defer_next;
	else
		return;		/* not linked */
	if (conn->defer_next != NULL)
		conn->defer_next->defer_prev = conn->defer_prev;
	conn->defer_prev = conn->defer_next = NULL;
}

void *stats_http_defer(const struct stats_http_request *req, size_t state_size,
		       unsigned int timeout_msecs, stats_http_expire_t *expire,
		       stats_http_state_free_t *state_free)
{
	struct stats_http_conn *conn = req->impl;
	struct stats_http *http = conn->http;
	struct stats_http_deferral *d = conn->deferral;

	if (d == NULL) {
		d = xcalloc(1, sizeof(*d) + state_size); /* @UNSAFE */
		d->conn = conn;
		d->expire = expire;
		d->state_free = state_free;
		conn->deferral = d;
	}
	pthread_mutex_lock(&http->watch_lock);
	conn->phase = STATS_HTTP_DEFER_ASKED;
	conn->wake = STATS_HTTP_WAKE_NONE;
	conn->deadline_msecs = clock_monotonic_msecs() + timeout_msecs;
	conn->defer_prev = NULL;
	conn->defer_next = http->deferred;
	if (conn->defer_next != NULL)
		conn->defer_next->defer_prev = conn;
	http->deferred = conn;
	pthread_cond_signal(&http->watch_cond);
	pthread_mutex_unlock(&http->watch_lock);
	return d->state;
}

void stats_http_resume(void *state)
{
	struct stats_http_deferral *d = (void *)((unsigned char *)state -
		offsetof(struct stats_http_deferral, state));
	struct stats_http_conn *conn = d->conn;
	struct stats_http *http = conn->http;

	pthread_mutex_lock(&http->watch_lock);
	switch (conn->phase) {
	case STATS_HTTP_DEFER_SUSPENDED:
		MHD_resume_connection(conn->connection);
		/* fall through */
	case STATS_HTTP_DEFER_ASKED:
		/* still in the handler: it runs again at once */
		stats_http_watch_unlink(conn);
		conn->phase = STATS_HTTP_DEFER_WOKEN;
		conn->wake = STATS_HTTP_WAKE_RESUMED;
		break;
	case STATS_HTTP_DEFER_NONE:
	case STATS_HTTP_DEFER_EXPIRING:
	case STATS_HTTP_DEFER_WOKEN:
		break;		/* its wait already ended */
	}
	pthread_mutex_unlock(&http->watch_lock);
}

void stats_http_watch_expire(struct stats_http_conn *conn,
			     enum stats_http_wake wake)
{
	struct stats_http *http = conn->http;
	struct stats_http_deferral *d = conn->deferral;
	bool suspended = conn->phase == STATS_HTTP_DEFER_SUSPENDED;

	conn->phase = STATS_HTTP_DEFER_EXPIRING;
	stats_http_watch_unlink(conn);
	pthread_mutex_unlock(&http->watch_lock);
	if (d->expire != NULL)
		d->expire(d->state, wake, http->context);
	pthread_mutex_lock(&http->watch_lock);
	conn->phase = STATS_HTTP_DEFER_WOKEN;
	conn->wake = wake;
	if (suspended)
		MHD_resume_connection(conn->connection);
}

/* watch_deferred - expire the first deferred request past its deadline
   (true: watch_lock was dropped, look again), else the next deadline
   into *next_r */
static bool watch_deferred(struct stats_http *http, uint64_t now,
			   uint64_t *next_r)
{
	for (struct stats_http_conn *c = http->deferred; c != NULL;
	     c = c->defer_next) {
		uint64_t due = c->deadline_msecs;

		if (due <= now && c->phase == STATS_HTTP_DEFER_SUSPENDED) {
			stats_http_watch_expire(c, STATS_HTTP_WAKE_TIMEOUT);
			return true;
		}
		if (due <= now)
			due = now + STATS_HTTP_WATCH_RETRY_MSECS;
		if (due < *next_r)
			*next_r = due;
	}
	return false;
}

/* --- the thread --- */

/* watch_wait - sleep on watch_cond until next (ms, monotonic) or a signal */
static void watch_wait(struct stats_http *http, uint64_t next)
{
	struct timespec ts;

	if (next == UINT64_MAX) {
		pthread_cond_wait(&http->watch_cond, &http->watch_lock);
		return;
	}
	ts.tv_sec = (time_t)(next / 1000);
	ts.tv_nsec = (long)(next % 1000) * 1000000L;
	(void)pthread_cond_timedwait(&http->watch_cond, &http->watch_lock, &ts);
}

/* watch_main - the watchdog thread */
static void *watch_main(void *context)
{
	struct stats_http *http = context;

	pthread_mutex_lock(&http->watch_lock);
	while (!http->stopping) {
		uint64_t now = clock_monotonic_msecs(), next = UINT64_MAX;

		watch_peers(http, now, &next);
		if (watch_deferred(http, now, &next))
			continue;
		watch_wait(http, next);
	}
	pthread_mutex_unlock(&http->watch_lock);
	return NULL;
}

int stats_http_watch_start(struct stats_http *http)
{
	pthread_condattr_t attr;
	int ret;

	pthread_mutex_init(&http->watch_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&http->watch_cond, &attr);
	pthread_condattr_destroy(&attr);
	ret = pthread_create(&http->watch_thread, NULL, watch_main, http);
	if (ret != 0)
		return -ret;
	http->watch_running = true;
	return 0;
}

void stats_http_watch_stop(struct stats_http *http)
{
	struct stats_http_conn *c;

	pthread_mutex_lock(&http->watch_lock);
	http->stopping = true;
	pthread_cond_signal(&http->watch_cond);
	pthread_mutex_unlock(&http->watch_lock);
	if (http->watch_running) {
		pthread_join(http->watch_thread, NULL);
		http->watch_running = false;
	}
	/* requests still deferring (in their handler) see stopping and do
	   not suspend; the suspended ones are ended here */
	pthread_mutex_lock(&http->watch_lock);
	for (c = http->deferred; c != NULL; ) {
		if (c->phase != STATS_HTTP_DEFER_SUSPENDED) {
			c = c->defer_next;
			continue;
		}
		stats_http_watch_expire(c, STATS_HTTP_WAKE_STOPPING);
		c = http->deferred;
	}
	pthread_mutex_unlock(&http->watch_lock);
}
