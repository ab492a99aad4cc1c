/*
 * test_stats_client - unit tests for ipc/stats_client (and ipc_conn on
 * both ends): against a real UNIX socket server on the same event loop,
 * Hello arrives first and events in order, messages from the server reach
 * the handler; with the server absent events are dropped and counted and
 * the server that appears later gets Dropped{n} right after Hello, also
 * after a disconnect, followed by what the connect callback re-announces;
 * reconnect attempts back off 100 ms doubling, reset by a handshake;
 * a server that never reads caps the queue at its byte bound while sends
 * stay fast; synchronous mode gives up within its 50 ms connect budget and
 * delivers and flushes when the server is there; sends from four threads
 * arrive whole and in per-thread order; a peer that skips the Hello is
 * dropped.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "ipc_conn.h"
#include "ipc_frame.h"
#include "ipc_socket.h"
#include "stats_client.h"

#define GUARD_MSECS 5000
#define MAX_MSGS 4096
#define MAX_PEERS 8
#define N_THREADS 4
#define PER_THREAD 500

/* what the test server kept of one received envelope */
struct received {
	Loft__Envelope__BodyCase body;
	Loft__Role role;
	uint64_t events;
	char key[64];
};

struct test_server {
	struct evloop *loop;
	char dir[64];
	char path[96];
	int listen_fd;
	struct evloop_io *listen_io;
	struct ipc_conn *peers[MAX_PEERS];
	unsigned int n_peers, accepted, closed;
	char close_reason[256];
	struct received msgs[MAX_MSGS];
	unsigned int n_msgs;
};

/* now_ms - monotonic milliseconds */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* guard_expired - a loop ran far too long */
static int64_t guard_expired(struct evloop_timer *timer, void *context)
{
	ck_abort_msg("loop still running after %d ms", GUARD_MSECS);
	return EVLOOP_NOMORE;
}

struct wait_state {
	struct evloop *loop;
	bool (*done)(void *context);
	void *context;
};

/* wait_poll - stop the loop once the condition holds */
static int64_t wait_poll(struct evloop_timer *timer, void *context)
{
	struct wait_state *w = context;

	if (w->done(w->context))
		evloop_stop(w->loop);
	return 2;
}

/* run_until - run the loop until done(context) holds (guarded) */
static void run_until(struct evloop *loop, bool (*done)(void *),
		      void *context)
{
	struct wait_state w = { loop, done, context };
	struct evloop_timer *guard, *poll;

	if (done(context))
		return;
	guard = evloop_add_timer(loop, GUARD_MSECS, guard_expired, NULL);
	poll = evloop_add_timer(loop, 1, wait_poll, &w);
	ck_assert_int_eq(evloop_run(loop), 0);
	evloop_remove_timer(&poll);
	evloop_remove_timer(&guard);
}

/* server_message - record an envelope from a client */
static void server_message(struct ipc_conn *conn, const Loft__Envelope *env,
			   void *context)
{
	struct test_server *srv = context;
	struct received *r;

	ck_assert_uint_lt(srv->n_msgs, MAX_MSGS);
	r = &srv->msgs[srv->n_msgs++];
	memset(r, 0, sizeof(*r));
	r->body = env->body_case;
	switch (env->body_case) {
	case LOFT__ENVELOPE__BODY_HELLO:
		r->role = env->hello->role;
		break;
	case LOFT__ENVELOPE__BODY_DROPPED:
		r->events = env->dropped->events;
		break;
	case LOFT__ENVELOPE__BODY_SESSION_END:
		snprintf(r->key, sizeof(r->key), "%s",
			 env->session_end->session_id);
		break;
	case LOFT__ENVELOPE__BODY_SESSION_START:
		snprintf(r->key, sizeof(r->key), "%s",
			 env->session_start->session_id);
		break;
	default:
		break;
	}
}

/* server_forget - remove a peer from the table */
static void server_forget(struct test_server *srv, struct ipc_conn *conn)
{
	unsigned int i;

	for (i = 0; i < srv->n_peers; i++) {
		if (srv->peers[i] == conn) {
			srv->peers[i] = srv->peers[--srv->n_peers];
			return;
		}
	}
	ck_abort_msg("unknown peer closed");
}

/* server_closed - a client went away */
static void server_closed(struct ipc_conn *conn, const char *reason,
			  void *context)
{
	struct test_server *srv = context;

	srv->closed++;
	snprintf(srv->close_reason, sizeof(srv->close_reason), "%s", reason);
	server_forget(srv, conn);
	ipc_conn_free(&conn);
}

/* server_accept - new client */
static void server_accept(struct evloop_io *io, int fd, unsigned int events,
			  void *context)
{
	struct test_server *srv = context;
	struct ipc_conn_settings set = {
		.role = LOFT__ROLE__ROLE_STATS,
		.service = "stats",
		.on_message = server_message,
		.on_close = server_closed,
		.context = srv,
	};
	const char *error;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	ck_assert_uint_lt(srv->n_peers, MAX_PEERS);
	ck_assert_int_eq(ipc_conn_create(srv->loop, cfd, &set,
					 &srv->peers[srv->n_peers], &error), 0);
	srv->n_peers++;
	srv->accepted++;
}

/* server_init - a temp dir for the socket; not listening yet */
static void server_init(struct test_server *srv, struct evloop *loop)
{
	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->listen_fd = -1;
	snprintf(srv->dir, sizeof(srv->dir), "/tmp/loft-ipc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(srv->dir));
	snprintf(srv->path, sizeof(srv->path), "%s/stats-writer", srv->dir);
}

/* server_listen - start accepting (accept = false: listen only) */
static void server_listen(struct test_server *srv, bool accept)
{
	const char *error;

	ck_assert_msg(ipc_unix_listen(srv->path, 0600, &srv->listen_fd,
				      &error) == 0, "%s", error);
	if (accept)
		srv->listen_io = evloop_add_io(srv->loop, srv->listen_fd,
					       EVLOOP_READ, server_accept, srv);
}

/* server_deinit - close everything, remove the socket and dir */
static void server_deinit(struct test_server *srv)
{
	while (srv->n_peers > 0)
		ipc_conn_free(&srv->peers[--srv->n_peers]);
	evloop_remove_io(&srv->listen_io);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	(void)unlink(srv->path);
	ck_assert_int_eq(rmdir(srv->dir), 0);
}

/* send_session_end - one small event keyed by id */
static void send_session_end(struct stats_client *client, const char *id)
{
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionEnd end = LOFT__SESSION_END__INIT;

	end.session_id = (char *)id;
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_END;
	env.session_end = &end;
	stats_client_send(client, &env);
}

/* send_numbered - send_session_end with id prefix-n */
static void send_numbered(struct stats_client *client, const char *prefix,
			  unsigned int n)
{
	char id[64];

	snprintf(id, sizeof(id), "%s-%u", prefix, n);
	send_session_end(client, id);
}

/* assert_msg - msgs[i] is body with key (key NULL: not checked) */
static void assert_msg(const struct test_server *srv, unsigned int i,
		       Loft__Envelope__BodyCase body, const char *key)
{
	ck_assert_msg(i < srv->n_msgs, "message %u missing (%u arrived)", i,
		      srv->n_msgs);
	ck_assert_msg(srv->msgs[i].body == body,
		      "message %u: got %s, want %s", i,
		      ipc_envelope_body_name(srv->msgs[i].body),
		      ipc_envelope_body_name(body));
	if (key != NULL)
		ck_assert_msg(strcmp(srv->msgs[i].key, key) == 0,
			      "message %u: got key %s, want %s", i,
			      srv->msgs[i].key, key);
}

struct count_wait {
	struct test_server *srv;
	unsigned int n_msgs;
};

/* have_msgs - done() for run_until: enough messages arrived */
static bool have_msgs(void *context)
{
	struct count_wait *w = context;

	return w->srv->n_msgs >= w->n_msgs;
}

/* wait_msgs - run the loop until srv has n messages */
static void wait_msgs(struct test_server *srv, unsigned int n)
{
	struct count_wait w = { srv, n };

	run_until(srv->loop, have_msgs, &w);
}

/* client_disconnected - done() for run_until */
static bool client_disconnected(void *context)
{
	return !stats_client_is_connected(context);
}

struct handler_log {
	unsigned int kicks;
	char first_kicked[64];
};

/* client_handler - messages from the server */
static void client_handler(const Loft__Envelope *env, void *context)
{
	struct handler_log *log = context;

	ck_assert_int_eq(env->body_case, LOFT__ENVELOPE__BODY_KICK);
	if (log->kicks++ == 0)
		snprintf(log->first_kicked, sizeof(log->first_kicked), "%s",
			 env->kick->session_ids[0]);
}

/* have_kick - done() for run_until */
static bool have_kick(void *context)
{
	const struct handler_log *log = context;

	return log->kicks > 0;
}

START_TEST(test_hello_and_order)
{
	struct evloop *loop = evloop_create();
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Kick kick = LOFT__KICK__INIT;
	char *ids[] = { "sess-1" };
	struct handler_log log = { 0 };
	struct test_server srv;
	struct stats_client *client;
	const char *error;
	char id[64];
	unsigned int i;

	server_init(&srv, loop);
	server_listen(&srv, true);
	client = stats_client_create(loop, srv.path, LOFT__ROLE__ROLE_SERVICE,
				     "lmtp");
	stats_client_set_handler(client, client_handler, &log);
	ck_assert(stats_client_is_connected(client));
	for (i = 0; i < 100; i++)
		send_numbered(client, "ev", i);
	wait_msgs(&srv, 101);
	ck_assert_uint_eq(srv.n_msgs, 101);
	assert_msg(&srv, 0, LOFT__ENVELOPE__BODY_HELLO, NULL);
	ck_assert_int_eq(srv.msgs[0].role, LOFT__ROLE__ROLE_SERVICE);
	for (i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "ev-%u", i);
		assert_msg(&srv, i + 1, LOFT__ENVELOPE__BODY_SESSION_END, id);
	}
	ck_assert_ptr_nonnull(ipc_conn_peer_hello(srv.peers[0]));
	ck_assert_str_eq(ipc_conn_peer_hello(srv.peers[0])->service, "lmtp");

	/* the server talks back: Kick reaches the handler */
	kick.n_session_ids = 1;
	kick.session_ids = ids;
	env.body_case = LOFT__ENVELOPE__BODY_KICK;
	env.kick = &kick;
	ck_assert_int_eq(ipc_conn_send(srv.peers[0], &env, &error), 1);
	run_until(loop, have_kick, &log);
	ck_assert_str_eq(log.first_kicked, "sess-1");
	ck_assert_uint_eq(stats_client_dropped_total(client), 0);

	stats_client_free(&client);
	ck_assert_ptr_null(client);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

struct reconnect_state {
	struct test_server *srv;
	unsigned int connects;
	unsigned int want;	/* for reconnects_done */
};

/* on_reconnect - re-announce the one live session */
static void on_reconnect(struct stats_client *client, void *context)
{
	struct reconnect_state *st = context;
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionStart start = LOFT__SESSION_START__INIT;

	st->connects++;
	start.session_id = "live-1";
	start.service = "lmtp";
	start.pid = (uint32_t)getpid();
	start.start_usecs = 1;
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_START;
	env.session_start = &start;
	stats_client_send(client, &env);
}

/* reconnects_done - done() for run_until: the connect callback ran
   st->want times */
static bool reconnects_done(void *context)
{
	const struct reconnect_state *st = context;

	return st->connects >= st->want;
}

/* reporting_client - a loop-mode loft-lmtp client of srv that
   re-announces one session on every reconnect, counted in st */
static struct stats_client *reporting_client(struct test_server *srv,
					     struct reconnect_state *st)
{
	struct stats_client *client;

	st->srv = srv;
	client = stats_client_create(srv->loop, srv->path,
				     LOFT__ROLE__ROLE_SERVICE, "lmtp");
	stats_client_set_connect_callback(client, on_reconnect, st);
	return client;
}

START_TEST(test_absent_then_dropped_report)
{
	struct evloop *loop = evloop_create();
	struct reconnect_state st = { 0 };
	struct test_server srv;
	struct stats_client *client;
	unsigned int i;

	server_init(&srv, loop);
	client = reporting_client(&srv, &st);
	ck_assert(!stats_client_is_connected(client));
	for (i = 0; i < 5; i++)
		send_numbered(client, "lost", i);
	ck_assert_uint_eq(stats_client_dropped_total(client), 5);

	/* the server appears; the back-off timer finds it */
	server_listen(&srv, true);
	wait_msgs(&srv, 3);
	send_numbered(client, "after", 0);
	wait_msgs(&srv, 4);
	assert_msg(&srv, 0, LOFT__ENVELOPE__BODY_HELLO, NULL);
	assert_msg(&srv, 1, LOFT__ENVELOPE__BODY_DROPPED, NULL);
	ck_assert_uint_eq(srv.msgs[1].events, 5);
	assert_msg(&srv, 2, LOFT__ENVELOPE__BODY_SESSION_START, "live-1");
	assert_msg(&srv, 3, LOFT__ENVELOPE__BODY_SESSION_END, "after-0");
	ck_assert_uint_eq(st.connects, 1);

	/* the server ends the connection after the handshake (as a
	   loft-stats retired by a reload does): the client reconnects at
	   once and re-announces; what it sends then waits in the new
	   connection instead of being lost */
	ipc_conn_free(&srv.peers[0]);
	srv.n_peers = 0;
	st.want = 2;
	run_until(loop, reconnects_done, &st);
	for (i = 0; i < 3; i++)
		send_numbered(client, "gap", i);
	wait_msgs(&srv, 8);
	assert_msg(&srv, 4, LOFT__ENVELOPE__BODY_HELLO, NULL);
	assert_msg(&srv, 5, LOFT__ENVELOPE__BODY_SESSION_START, "live-1");
	assert_msg(&srv, 6, LOFT__ENVELOPE__BODY_SESSION_END, "gap-0");
	assert_msg(&srv, 7, LOFT__ENVELOPE__BODY_SESSION_END, "gap-1");
	ck_assert_uint_eq(srv.accepted, 2);
	ck_assert_uint_eq(stats_client_dropped_total(client), 5);

	stats_client_free(&client);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

/* stop_timer - stop the loop given as context */
static int64_t stop_timer(struct evloop_timer *timer, void *context)
{
	evloop_stop(context);
	return EVLOOP_NOMORE;
}

/* run_for - run the loop for msecs */
static void run_for(struct evloop *loop, uint64_t msecs)
{
	(void)evloop_add_timer(loop, msecs, stop_timer, loop);
	ck_assert_int_eq(evloop_run(loop), 0);
}

/* test_handover - a server that retires (ipc_conn_shutdown_output) and
   reads on gets every event the client sent until it noticed, including
   those sent after the end of the server's side; later ones go to the
   next connection; nothing is dropped */
START_TEST(test_handover)
{
	struct evloop *loop = evloop_create();
	struct reconnect_state st = { 0 };
	struct test_server srv;
	struct stats_client *client;
	unsigned int i;

	server_init(&srv, loop);
	server_listen(&srv, true);
	client = reporting_client(&srv, &st);
	wait_msgs(&srv, 1);
	ipc_conn_shutdown_output(srv.peers[0]);
	/* sent before the client's loop sees the end: the old connection */
	for (i = 0; i < 3; i++)
		send_numbered(client, "late", i);
	st.want = 1;
	run_until(loop, reconnects_done, &st);
	for (i = 0; i < 2; i++)
		send_numbered(client, "next", i);
	wait_msgs(&srv, 8);
	ck_assert_uint_eq(srv.accepted, 2);
	ck_assert_uint_eq(stats_client_dropped_total(client), 0);
	assert_msg(&srv, 1, LOFT__ENVELOPE__BODY_SESSION_END, "late-0");
	assert_msg(&srv, 3, LOFT__ENVELOPE__BODY_SESSION_END, "late-2");
	assert_msg(&srv, 4, LOFT__ENVELOPE__BODY_HELLO, NULL);
	assert_msg(&srv, 5, LOFT__ENVELOPE__BODY_SESSION_START, "live-1");
	assert_msg(&srv, 6, LOFT__ENVELOPE__BODY_SESSION_END, "next-0");
	assert_msg(&srv, 7, LOFT__ENVELOPE__BODY_SESSION_END, "next-1");
	stats_client_free(&client);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

START_TEST(test_backoff)
{
	struct evloop *loop = evloop_create();
	struct test_server srv;
	struct stats_client *client;
	uint64_t start, elapsed;

	/* attempts at 0, 100, 300, 700 and 1500 ms: a server that appears
	   at 750 ms is found at 1500 ms */
	server_init(&srv, loop);
	start = now_ms();
	client = stats_client_create(loop, srv.path, LOFT__ROLE__ROLE_MASTER,
				     "master");
	run_for(loop, 750);
	ck_assert(!stats_client_is_connected(client));
	server_listen(&srv, true);
	wait_msgs(&srv, 1);
	elapsed = now_ms() - start;
	ck_assert_msg(elapsed >= 1450 && elapsed < 1700,
		      "got connected after %llu ms, want ~1500",
		      (unsigned long long)elapsed);
	/* a server that ends the connection after the handshake (a
	   loft-stats retiring) is reconnected to at once... */
	run_for(loop, 20);
	start = now_ms();
	ipc_conn_free(&srv.peers[0]);
	srv.n_peers = 0;
	wait_msgs(&srv, 2);
	elapsed = now_ms() - start;
	ck_assert_msg(elapsed < 80, "got reconnected after %llu ms, want at once",
		      (unsigned long long)elapsed);
	/* ...but not twice within 100 ms: the handshake reset the
	   back-off, so the next attempt comes after 100 ms */
	run_for(loop, 20);
	start = now_ms();
	ipc_conn_free(&srv.peers[0]);
	srv.n_peers = 0;
	run_until(loop, client_disconnected, client);
	wait_msgs(&srv, 3);
	elapsed = now_ms() - start;
	ck_assert_msg(elapsed >= 80 && elapsed < 250,
		      "got reconnected after %llu ms, want ~100",
		      (unsigned long long)elapsed);
	stats_client_free(&client);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

/* send_delivery - one ~1 KiB Delivery event */
static void send_delivery(struct stats_client *client, unsigned int n)
{
	static char text[1024];
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__Delivery d = LOFT__DELIVERY__INIT;
	char id[32];

	if (text[0] == '\0')
		memset(text, 't', sizeof(text) - 1);
	snprintf(id, sizeof(id), "d-%u", n);
	d.ts_usecs = n;
	d.protocol = "lmtp";
	d.pid = 1;
	d.session_id = id;
	d.result = "saved";
	d.code = 250;
	d.enhanced_code = "2.0.0";
	d.text = text;
	env.body_case = LOFT__ENVELOPE__BODY_DELIVERY;
	env.delivery = &d;
	stats_client_send(client, &env);
}

START_TEST(test_queue_bound)
{
	struct evloop *loop = evloop_create();
	struct test_server srv;
	struct stats_client *client;
	uint64_t start, elapsed, dropped;
	size_t queued;
	unsigned int i;

	/* listening, never accepting nor reading: the socket buffer fills,
	   then the queue, then events are dropped */
	server_init(&srv, loop);
	server_listen(&srv, false);
	client = stats_client_create(loop, srv.path, LOFT__ROLE__ROLE_SERVICE,
				     "lmtp");
	ck_assert(stats_client_is_connected(client));
	start = now_ms();
	for (i = 0; i < 10000; i++)
		send_delivery(client, i);
	elapsed = now_ms() - start;
	queued = stats_client_queued_bytes(client);
	dropped = stats_client_dropped_total(client);
	ck_assert_msg(elapsed < 500, "10000 sends took %llu ms",
		      (unsigned long long)elapsed);
	ck_assert_msg(queued <= STATS_CLIENT_QUEUE_MAX,
		      "got %zu queued, want at most %u", queued,
		      STATS_CLIENT_QUEUE_MAX);
	ck_assert_msg(queued > STATS_CLIENT_QUEUE_MAX - 2048,
		      "got %zu queued, want the queue full", queued);
	ck_assert_msg(dropped > 5000 && dropped < 10000,
		      "got %llu dropped", (unsigned long long)dropped);
	/* dropping stays cheap and counted */
	send_delivery(client, 10000);
	ck_assert_uint_eq(stats_client_dropped_total(client), dropped + 1);
	ck_assert_int_eq(stats_client_flush(client, 20), -1);
	stats_client_free(&client);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

START_TEST(test_sync_no_server)
{
	struct stats_client *client;
	char path[] = "/tmp/loft-ipc-absent/stats-writer";
	uint64_t start, elapsed;
	unsigned int i;

	start = now_ms();
	client = stats_client_create(NULL, path, LOFT__ROLE__ROLE_LDA, "lda");
	ck_assert(!stats_client_is_connected(client));
	for (i = 0; i < 10; i++)
		send_numbered(client, "lda", i);
	ck_assert_int_eq(stats_client_flush(client, 50), -1);
	elapsed = now_ms() - start;
	ck_assert_msg(elapsed < 60, "took %llu ms",
		      (unsigned long long)elapsed);
	ck_assert_uint_eq(stats_client_dropped_total(client), 10);
	stats_client_free(&client);
}
END_TEST

START_TEST(test_sync_backlog_full)
{
	struct evloop *loop = evloop_create();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct test_server srv;
	struct stats_client *client;
	uint64_t start, elapsed;
	int fillers[16], n_fill = 0, fd;

	/* a server whose accept backlog is full and stays full */
	server_init(&srv, loop);
	server_listen(&srv, false);
	ck_assert_int_eq(listen(srv.listen_fd, 0), 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", srv.path);
	while (n_fill < 16) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			close(fd);
			break;
		}
		fillers[n_fill++] = fd;
	}
	ck_assert_int_lt(n_fill, 16);

	start = now_ms();
	client = stats_client_create(NULL, srv.path, LOFT__ROLE__ROLE_LDA,
				     "lda");
	elapsed = now_ms() - start;
	ck_assert(!stats_client_is_connected(client));
	ck_assert_msg(elapsed >= 40 && elapsed < 100,
		      "connect gave up after %llu ms, want ~%u",
		      (unsigned long long)elapsed, STATS_CLIENT_CONNECT_MSECS);
	send_numbered(client, "lda", 0);
	ck_assert_uint_eq(stats_client_dropped_total(client), 1);
	stats_client_free(&client);
	while (n_fill > 0)
		close(fillers[--n_fill]);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

/* peer_gone - done() for run_until: the server saw a close */
static bool peer_gone(void *context)
{
	const struct test_server *srv = context;

	return srv->closed > 0;
}

START_TEST(test_sync_delivers)
{
	struct evloop *loop = evloop_create();
	struct test_server srv;
	struct stats_client *client;
	char id[64];
	unsigned int i;

	server_init(&srv, loop);
	server_listen(&srv, true);
	client = stats_client_create(NULL, srv.path, LOFT__ROLE__ROLE_LDA,
				     "lda");
	ck_assert(stats_client_is_connected(client));
	for (i = 0; i < 50; i++)
		send_numbered(client, "lda", i);
	ck_assert_int_eq(stats_client_flush(client, 50), 0);
	ck_assert_uint_eq(stats_client_queued_bytes(client), 0);
	stats_client_free(&client);

	/* the server (same thread) reads it all after the LDA has exited */
	run_until(loop, peer_gone, &srv);
	ck_assert_uint_eq(srv.n_msgs, 51);
	assert_msg(&srv, 0, LOFT__ENVELOPE__BODY_HELLO, NULL);
	ck_assert_int_eq(srv.msgs[0].role, LOFT__ROLE__ROLE_LDA);
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "lda-%u", i);
		assert_msg(&srv, i + 1, LOFT__ENVELOPE__BODY_SESSION_END, id);
	}
	ck_assert_str_eq(srv.close_reason, "connection closed by peer");
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

struct sender {
	struct stats_client *client;
	unsigned int index;
};

/* sender_thread - PER_THREAD numbered events from a worker thread */
static void *sender_thread(void *context)
{
	struct sender *s = context;
	char prefix[16];
	unsigned int i;

	snprintf(prefix, sizeof(prefix), "t%u", s->index);
	for (i = 0; i < PER_THREAD; i++)
		send_numbered(s->client, prefix, i);
	return NULL;
}

START_TEST(test_threads)
{
	struct evloop *loop = evloop_create();
	struct sender senders[N_THREADS];
	pthread_t threads[N_THREADS];
	unsigned int next[N_THREADS] = { 0 };
	struct test_server srv;
	struct stats_client *client;
	unsigned int i, t, n;

	server_init(&srv, loop);
	server_listen(&srv, true);
	client = stats_client_create(loop, srv.path, LOFT__ROLE__ROLE_SERVICE,
				     "lmtp");
	for (t = 0; t < N_THREADS; t++) {
		senders[t].client = client;
		senders[t].index = t;
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
						sender_thread, &senders[t]), 0);
	}
	wait_msgs(&srv, 1 + N_THREADS * PER_THREAD);
	for (t = 0; t < N_THREADS; t++)
		ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
	ck_assert_uint_eq(srv.n_msgs, 1 + N_THREADS * PER_THREAD);
	ck_assert_uint_eq(srv.closed, 0);
	ck_assert_uint_eq(stats_client_dropped_total(client), 0);
	assert_msg(&srv, 0, LOFT__ENVELOPE__BODY_HELLO, NULL);
	for (i = 1; i < srv.n_msgs; i++) {
		ck_assert_int_eq(srv.msgs[i].body,
				 LOFT__ENVELOPE__BODY_SESSION_END);
		ck_assert_int_eq(sscanf(srv.msgs[i].key, "t%u-%u", &t, &n), 2);
		ck_assert_uint_lt(t, N_THREADS);
		ck_assert_msg(n == next[t], "thread %u: got %u, want %u", t,
			      n, next[t]);
		next[t]++;
	}
	stats_client_free(&client);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

START_TEST(test_peer_without_hello)
{
	struct evloop *loop = evloop_create();
	struct test_server srv;
	struct strbuf frame;
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__SessionEnd end = LOFT__SESSION_END__INIT;
	const char *error;
	int fd;

	server_init(&srv, loop);
	server_listen(&srv, true);
	ck_assert_int_eq(ipc_unix_connect(srv.path, 50, &fd, &error), 0);
	end.session_id = "x";
	env.body_case = LOFT__ENVELOPE__BODY_SESSION_END;
	env.session_end = &end;
	strbuf_init(&frame, 64);
	ck_assert_int_eq(ipc_frame_encode(&env, &frame, &error), 0);
	ck_assert_int_eq(write(fd, frame.data, frame.len), (ssize_t)frame.len);
	run_until(loop, peer_gone, &srv);
	ck_assert_uint_eq(srv.n_msgs, 0);
	ck_assert_msg(strstr(srv.close_reason, "not hello") != NULL,
		      "got \"%s\"", srv.close_reason);
	strbuf_free(&frame);
	close(fd);
	server_deinit(&srv);
	evloop_free(&loop);
}
END_TEST

static Suite *stats_client_suite(void)
{
	Suite *s = suite_create("stats_client");
	TCase *tc_loop = tcase_create("loop");
	TCase *tc_sync = tcase_create("sync");

	tcase_add_test(tc_loop, test_hello_and_order);
	tcase_add_test(tc_loop, test_absent_then_dropped_report);
	tcase_add_test(tc_loop, test_queue_bound);
	tcase_add_test(tc_loop, test_backoff);
	tcase_add_test(tc_loop, test_handover);
	tcase_add_test(tc_loop, test_threads);
	tcase_add_test(tc_loop, test_peer_without_hello);
	suite_add_tcase(s, tc_loop);
	tcase_add_test(tc_sync, test_sync_no_server);
	tcase_add_test(tc_sync, test_sync_backlog_full);
	tcase_add_test(tc_sync, test_sync_delivers);
	suite_add_tcase(s, tc_sync);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_client_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
