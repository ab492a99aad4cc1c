/*
 * ipc_conn - non-blocking IPC connection on the event loop (see
 * ipc_conn.h). A busy count guards the io callbacks: ipc_conn_free() from
 * inside one only marks the connection and the last callback to return
 * frees it. `closed` and `dropped` are atomics because a threaded
 * connection's senders read and bump them from other threads.
 */
#include "ipc_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "ipc_frame.h"
#include "xalloc.h"

/* bytes read per read() and read() calls per wakeup (fairness) */
#define IPC_CONN_READ_SIZE 16384u
#define IPC_CONN_READS_PER_WAKEUP 4
/* at most this much unread input is drained before a loop-less close */
#define IPC_CONN_DRAIN_MAX (64u * 1024u)

struct ipc_conn {
	struct evloop *loop;
	pthread_t loop_thread;
	int fd;
	struct evloop_io *io;
	bool want_write;
	/* threaded: other threads' sends wake the loop through this */
	int wake_fd;
	struct evloop_io *wake_io;
	atomic_bool wake_pending;	/* a wakeup is on its way */
	unsigned int batch_msecs;
	/* loop-thread sends are written once per loop iteration, so a burst
	   of events costs one write() */
	struct evloop_timer *flush_timer;

	struct ipc_outq *outq;
	struct ipc_decoder *decoder;
	Loft__Envelope *peer_hello;

	ipc_conn_message_callback_t *on_message;
	ipc_conn_close_callback_t *on_close;
	void *context;

	atomic_bool closed;
	/* the peer closed its end between two frames: what we queue may
	   still reach it (ipc_conn_write_rest) */
	atomic_bool peer_finished;
	/* ipc_conn_shutdown_output: we send nothing more */
	atomic_bool output_shut;
	atomic_uint_fast64_t dropped;
	char *close_reason;
	unsigned int busy;
	bool free_requested;
};

static __thread struct error_slot ipc_conn_error;

static void ipc_conn_io(struct evloop_io *io, int fd, unsigned int events,
			void *context);
static void ipc_conn_arm_flush(struct ipc_conn *conn, unsigned int msecs);

/* ipc_conn_destroy - release everything */
static void ipc_conn_destroy(struct ipc_conn *conn)
{
	if (conn->flush_timer != NULL)
		evloop_remove_timer(&conn->flush_timer);
	evloop_remove_io(&conn->io);
	evloop_remove_io(&conn->wake_io);
	if (conn->wake_fd >= 0)
		close(conn->wake_fd);
	close(conn->fd);
	ipc_outq_free(&conn->outq);
	ipc_decoder_free(&conn->decoder);
	ipc_envelope_free(&conn->peer_hello);
	free(conn->close_reason);
	free(conn);
}

/* ipc_conn_release - end of a callback: free a connection marked freed */
static void ipc_conn_release(struct ipc_conn *conn)
{
	if (--conn->busy == 0 && conn->free_requested)
		ipc_conn_destroy(conn);
}

/* ipc_conn_mark_closed - stop all I/O and remember why; false when the
   connection was closed already */
static bool ipc_conn_mark_closed(struct ipc_conn *conn, const char *reason)
{
	/* only one thread ever closes (the loop thread, or the serialized
	   caller without a loop), so the reason is set before the flag */
	if (atomic_load(&conn->closed))
		return false;
	conn->close_reason = xstrdup(reason);
	atomic_store(&conn->closed, true);
	evloop_remove_io(&conn->io);
	evloop_remove_io(&conn->wake_io);
	if (conn->flush_timer != NULL)
		evloop_remove_timer(&conn->flush_timer);
	return true;
}

/* ipc_conn_close - close and tell the owner (loop callbacks only) */
static void ipc_conn_close(struct ipc_conn *conn, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static void ipc_conn_close(struct ipc_conn *conn, const char *fmt, ...)
{
	char reason[ERROR_SLOT_SIZE];
	va_list args;

	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	if (ipc_conn_mark_closed(conn, reason) && !conn->free_requested &&
	    conn->on_close != NULL)
		conn->on_close(conn, conn->close_reason, conn->context);
}

/* ipc_conn_want_write - keep the io's WRITE interest in step */
static void ipc_conn_want_write(struct ipc_conn *conn, bool want)
{
	if (conn->io == NULL || conn->want_write == want)
		return;
	conn->want_write = want;
	evloop_io_set_events(conn->io, EVLOOP_READ |
				       (want ? EVLOOP_WRITE : 0u));
}

/* ipc_conn_write_out - write what is queued (calling thread must own the
   socket: the loop thread, or anyone without a loop); the outq result */
static int ipc_conn_write_out(struct ipc_conn *conn)
{
	int ret, err;
	char reason[ERROR_SLOT_SIZE];

	if (atomic_load(&conn->output_shut)) {
		ipc_conn_want_write(conn, false);
		return 1;
	}
	ret = ipc_outq_write(conn->outq, conn->fd);
	err = errno;

	if (ret < 0 && conn->loop == NULL) {
		snprintf(reason, sizeof(reason), "write failed: %s",
			 strerror(err));
		(void)ipc_conn_mark_closed(conn, reason);
	}
	/* with a loop, a failed socket is reported to the io callback
	   (hang-up), which closes the connection from there */
	ipc_conn_want_write(conn, ret != 1);
	errno = err;
	return ret;
}

/* ipc_conn_dispatch - hand one decoded envelope to the owner; the first
   must be the peer's Hello. false when the connection closed. */
static bool ipc_conn_dispatch(struct ipc_conn *conn, Loft__Envelope *env)
{
	const char *error;

	if (conn->peer_hello == NULL) {
		if (ipc_check_hello(env, &error) < 0) {
			ipc_envelope_free(&env);
			ipc_conn_close(conn, "protocol error: %s", error);
			return false;
		}
		conn->peer_hello = env;
		if (conn->on_message != NULL)
			conn->on_message(conn, env, conn->context);
	} else {
		if (conn->on_message != NULL)
			conn->on_message(conn, env, conn->context);
		ipc_envelope_free(&env);
	}
	return !conn->free_requested && !atomic_load(&conn->closed);
}

/* ipc_conn_input - feed one chunk to the decoder and dispatch what is
   complete; false when the connection closed */
static bool ipc_conn_input(struct ipc_conn *conn, const void *data,
			   size_t size)
{
	Loft__Envelope *env;
	const char *error;
	int ret;

	if (ipc_decoder_feed(conn->decoder, data, size, &error) < 0) {
		ipc_conn_close(conn, "protocol error: %s", error);
		return false;
	}
	while ((ret = ipc_decoder_next(conn->decoder, &env, &error)) > 0) {
		if (!ipc_conn_dispatch(conn, env))
			return false;
	}
	if (ret < 0) {
		ipc_conn_close(conn, "protocol error: %s", error);
		return false;
	}
	return true;
}

/* ipc_conn_read - read what the socket has (a bounded amount) */
static void ipc_conn_read(struct ipc_conn *conn)
{
	char buf[IPC_CONN_READ_SIZE];
	ssize_t n;
	int i;

	for (i = 0; i < IPC_CONN_READS_PER_WAKEUP; i++) {
		n = recv(conn->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			ipc_conn_close(conn, "read failed: %s",
				       strerror(errno));
			return;
		}
		if (n == 0 && ipc_decoder_buffered(conn->decoder) > 0) {
			ipc_conn_close(conn, "connection closed by peer "
				       "inside a frame");
			return;
		}
		if (n == 0) {
			atomic_store(&conn->peer_finished, true);
			ipc_conn_close(conn, "connection closed by peer");
			return;
		}
		if (!ipc_conn_input(conn, buf, (size_t)n))
			return;
	}
}

/* ipc_conn_io - socket readiness */
static void ipc_conn_io(struct evloop_io *io, int fd, unsigned int events,
			void *context)
{
	struct ipc_conn *conn = context;

	/* input first: what a peer sent before it went away still counts */
	conn->busy++;
	if ((events & (EVLOOP_READ | EVLOOP_ERROR)) != 0)
		ipc_conn_read(conn);
	if (!atomic_load(&conn->closed) && !conn->free_requested &&
	    (events & EVLOOP_WRITE) != 0 && ipc_conn_write_out(conn) < 0)
		ipc_conn_close(conn, "write failed: %s", strerror(errno));
	ipc_conn_release(conn);
}

/* ipc_conn_wake - another thread queued frames: write them */
static void ipc_conn_wake(struct evloop_io *io, int fd, unsigned int events,
			  void *context)
{
	struct ipc_conn *conn = context;
	uint64_t count;

	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	/* cleared after the eventfd is consumed and before the queue is
	   written: a frame pushed after this point wakes us again, one
	   pushed before it goes out with this write */
	atomic_store(&conn->wake_pending, false);
	ipc_conn_arm_flush(conn, conn->batch_msecs);
}

int ipc_conn_create(struct evloop *loop, int fd,
		    const struct ipc_conn_settings *set,
		    struct ipc_conn **conn_r, const char **error_r)
{
	struct ipc_conn *conn;
	Loft__Envelope *hello;
	const char *error;

	conn = xcalloc(1, sizeof(*conn));
	conn->loop = loop;
	conn->loop_thread = pthread_self();
	conn->fd = fd;
	conn->wake_fd = -1;
	conn->outq = ipc_outq_create(set->queue_max != 0 ? set->queue_max :
				     IPC_CONN_QUEUE_DEFAULT);
	conn->decoder = ipc_decoder_create();
	ipc_decoder_set_max(conn->decoder, set->frame_max);
	conn->on_message = set->on_message;
	conn->on_close = set->on_close;
	conn->context = set->context;
	conn->batch_msecs = set->batch_msecs;
	atomic_init(&conn->closed, false);
	atomic_init(&conn->peer_finished, false);
	atomic_init(&conn->output_shut, false);
	atomic_init(&conn->dropped, 0);
	if (loop != NULL && set->threaded) {
		conn->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (conn->wake_fd < 0) {
			*error_r = error_slot_set(&ipc_conn_error,
				"eventfd() failed: %s", strerror(errno));
			ipc_conn_destroy(conn);
			return -1;
		}
		conn->wake_io = evloop_add_io(loop, conn->wake_fd,
					      EVLOOP_READ, ipc_conn_wake,
					      conn);
	}
	if (loop != NULL)
		conn->io = evloop_add_io(loop, fd, EVLOOP_READ, ipc_conn_io,
					 conn);
	hello = ipc_hello_envelope(set->role, set->service,
				   (uint32_t)getpid());
	(void)ipc_conn_send(conn, hello, &error);
	ipc_envelope_free(&hello);
	*conn_r = conn;
	return 0;
}

/* ipc_conn_drain_input - read and discard what the peer sent, so closing
   does not turn into a connection reset on its side */
static void ipc_conn_drain_input(struct ipc_conn *conn)
{
	char buf[IPC_CONN_READ_SIZE];
	size_t total = 0;
	ssize_t n;

	while (total < IPC_CONN_DRAIN_MAX &&
	       (n = recv(conn->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

void ipc_conn_free(struct ipc_conn **_conn)
{
	struct ipc_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	if (conn->loop == NULL)
		ipc_conn_drain_input(conn);
	if (conn->busy > 0) {
		conn->free_requested = true;
		evloop_remove_io(&conn->io);
		evloop_remove_io(&conn->wake_io);
		return;
	}
	ipc_conn_destroy(conn);
}

/* ipc_conn_flush_timer - write what this loop iteration queued */
static int64_t ipc_conn_flush_timer(struct evloop_timer *timer, void *context)
{
	struct ipc_conn *conn = context;

	(void)timer;
	conn->flush_timer = NULL; /* freed by returning EVLOOP_NOMORE */
	/* a failed socket closes from the io callback, after what the peer
	   sent before it went away has been read */
	(void)ipc_conn_write_out(conn);
	return EVLOOP_NOMORE;
}

/* ipc_conn_arm_flush - write the queue in msecs (loop thread) */
static void ipc_conn_arm_flush(struct ipc_conn *conn, unsigned int msecs)
{
	if (conn->flush_timer == NULL)
		conn->flush_timer = evloop_add_timer(conn->loop, msecs,
						     ipc_conn_flush_timer, conn);
	else if (msecs == 0)
		evloop_timer_reset(conn->flush_timer, 0);
}

void ipc_conn_flush_soon(struct ipc_conn *conn)
{
	if (conn->loop != NULL && !atomic_load(&conn->closed))
		ipc_conn_arm_flush(conn, 0);
}

/* ipc_conn_on_loop_thread - the caller may touch the socket and the loop */
static bool ipc_conn_on_loop_thread(const struct ipc_conn *conn)
{
	return conn->loop == NULL ||
	       pthread_equal(conn->loop_thread, pthread_self());
}

int ipc_conn_send(struct ipc_conn *conn, const Loft__Envelope *env,
		  const char **error_r)
{
	static const uint64_t one = 1;
	int ret;

	if (atomic_load(&conn->output_shut) ||
	    (atomic_load(&conn->closed) &&
	     !atomic_load(&conn->peer_finished))) {
		atomic_fetch_add(&conn->dropped, 1);
		return 0;
	}
	ret = ipc_outq_push(conn->outq, env, error_r);
	if (ret <= 0) {
		atomic_fetch_add(&conn->dropped, 1);
		return ret;
	}
	if (atomic_load(&conn->closed))
		; /* for ipc_conn_write_rest: no io to wake any more */
	else if (conn->loop == NULL)
		(void)ipc_conn_write_out(conn);
	else if (ipc_conn_on_loop_thread(conn)) {
		if (conn->flush_timer == NULL)
			conn->flush_timer = evloop_add_timer(conn->loop, 0,
							     ipc_conn_flush_timer,
							     conn);
	} else if (!atomic_exchange(&conn->wake_pending, true)) {
		/* fails only with the counter saturated: a wakeup is
		   pending anyway */
		(void)!write(conn->wake_fd, &one, sizeof(one));
	}
	return 1;
}

/* ipc_conn_drain_output - write the queue into the socket for up to
   timeout_ms, also after a close when even_closed; 0 when it is empty */
static int ipc_conn_drain_output(struct ipc_conn *conn,
				 unsigned int timeout_ms, bool even_closed)
{
	long long deadline = (long long)clock_monotonic_msecs() + timeout_ms, left;
	struct pollfd pfd = { .fd = conn->fd, .events = POLLOUT };
	int ret;

	for (;;) {
		if (atomic_load(&conn->closed) && !even_closed)
			return -1;
		ret = ipc_conn_write_out(conn);
		if (ret != 0)
			return ret > 0 ? 0 : -1;
		left = deadline - (long long)clock_monotonic_msecs();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
}

int ipc_conn_flush(struct ipc_conn *conn, unsigned int timeout_ms)
{
	return ipc_conn_drain_output(conn, timeout_ms, false);
}

int ipc_conn_wait_peer_hello(struct ipc_conn *conn, unsigned int timeout_ms)
{
	long long deadline = (long long)clock_monotonic_msecs() + timeout_ms, left;
	struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
	bool gone;

	while (conn->peer_hello == NULL) {
		if (atomic_load(&conn->closed))
			return -1;
		left = deadline - (long long)clock_monotonic_msecs();
		if (left <= 0 || (poll(&pfd, 1, (int)left) < 0 && errno != EINTR))
			return -1;
		/* as the io callback would: on_close may free conn */
		conn->busy++;
		ipc_conn_read(conn);
		gone = conn->free_requested || atomic_load(&conn->closed);
		ipc_conn_release(conn);
		if (gone)
			return -1;
	}
	return 0;
}

bool ipc_conn_peer_finished(const struct ipc_conn *conn)
{
	return atomic_load(&conn->peer_finished);
}

int ipc_conn_write_rest(struct ipc_conn *conn, unsigned int timeout_ms)
{
	if (!atomic_load(&conn->peer_finished))
		return -1;
	return ipc_conn_drain_output(conn, timeout_ms, true);
}

void ipc_conn_shutdown_output(struct ipc_conn *conn)
{
	if (atomic_load(&conn->closed) || atomic_load(&conn->output_shut))
		return;
	(void)ipc_outq_write(conn->outq, conn->fd);
	atomic_store(&conn->output_shut, true);
	(void)shutdown(conn->fd, SHUT_WR);
	ipc_conn_want_write(conn, false);
}

void ipc_conn_set_frame_max(struct ipc_conn *conn, size_t max)
{
	ipc_decoder_set_max(conn->decoder, max);
}

bool ipc_conn_is_closed(const struct ipc_conn *conn)
{
	return atomic_load(&conn->closed);
}

const char *ipc_conn_close_reason(const struct ipc_conn *conn)
{
	return atomic_load(&conn->closed) ? conn->close_reason : NULL;
}

const Loft__Hello *ipc_conn_peer_hello(const struct ipc_conn *conn)
{
	return conn->peer_hello == NULL ? NULL : conn->peer_hello->hello;
}

uint64_t ipc_conn_dropped(const struct ipc_conn *conn)
{
	return atomic_load(&conn->dropped);
}

size_t ipc_conn_queued_bytes(const struct ipc_conn *conn)
{
	return ipc_outq_bytes(conn->outq);
}

struct ipc_outq_unsent ipc_conn_unsent(const struct ipc_conn *conn)
{
	return ipc_outq_unsent(conn->outq);
}
