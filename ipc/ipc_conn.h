/*
 * ipc_conn - one non-blocking IPC connection: a socket fd, a bounded
 * outgoing queue and a strict frame decoder, driven by the event loop.
 *
 * Creating a connection queues our Hello first. The first frame the peer
 * sends must be a Hello of the current protocol version; it is checked,
 * then handed to on_message like every later envelope (and kept:
 * ipc_conn_peer_hello()). A frame that does not fit in the queue is
 * dropped and counted: sending never blocks and the queue never grows past
 * its byte bound. EOF, a socket error, a decode error or a bad handshake
 * closes the connection and calls on_close once, from the loop; the owner
 * then frees it (ipc_conn_free() is safe inside any callback of the
 * connection).
 *
 * Threads: everything runs on the loop thread (the one that created the
 * connection), except ipc_conn_send() on a connection created with
 * `threaded`: other threads may call it concurrently; their frames are
 * queued under a mutex and the loop is woken through an eventfd to write
 * them. The owner must make sure the connection is not freed while another
 * thread is inside ipc_conn_send() (stats_client holds its own lock).
 *
 * Without a loop (loop == NULL: a short-lived process such as loft-lda),
 * ipc_conn_send() writes at once what the socket takes and keeps the rest
 * queued for ipc_conn_flush(); nothing is read and no callback is called -
 * a write error just marks the connection closed (ipc_conn_is_closed()).
 * Calls on a loop-less connection must not overlap (the owner serializes
 * them).
 */
#ifndef LOFT_IPC_CONN_H
#define LOFT_IPC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"
#include "ipc_envelope.h"
#include "ipc_outq.h"

#define IPC_CONN_QUEUE_DEFAULT (1024u * 1024u)

struct ipc_conn;

/* an envelope from the peer; it is freed when the callback returns */
typedef void ipc_conn_message_callback_t(struct ipc_conn *conn,
					 const Loft__Envelope *env,
					 void *context);
/* the connection closed: EOF, socket error or protocol violation */
typedef void ipc_conn_close_callback_t(struct ipc_conn *conn,
				       const char *reason, void *context);

struct ipc_conn_settings {
	/* what our Hello says; pid is getpid() */
	Loft__Role role;
	const char *service;
	/* outgoing queue bound in bytes; 0: IPC_CONN_QUEUE_DEFAULT */
	size_t queue_max;
	/* longest frame accepted from the peer; 0: IPC_FRAME_MAX */
	size_t frame_max;
	/* ipc_conn_send() may be called from other threads (needs a loop) */
	bool threaded;
	/* loop mode: queued frames are written this long after the first
	   one (0: at the end of the current loop iteration), so a busy
	   sender wakes its peer a few times a second, not per event */
	unsigned int batch_msecs;
	ipc_conn_message_callback_t *on_message;
	ipc_conn_close_callback_t *on_close;
	void *context;
};

/* ipc_conn_create - take over the connected non-blocking socket fd (it is
   closed by ipc_conn_free, also on error) and queue our Hello; 0 with
   *conn_r set, or -1 with *error_r set (thread-local, valid until this
   thread's next ipc_conn error) when the eventfd of a threaded connection
   cannot be created */
int ipc_conn_create(struct evloop *loop, int fd,
		    const struct ipc_conn_settings *set,
		    struct ipc_conn **conn_r, const char **error_r);
/* ipc_conn_free - close the socket, drop what is queued; sets *conn = NULL.
   No callback is called afterwards. */
void ipc_conn_free(struct ipc_conn **conn);

/* ipc_conn_send - encode and queue env, and start writing it; never
   blocks and never calls a callback. 1 queued, 0 dropped and counted (the
   queue is full or the connection closed), -1 with *error_r set when env
   cannot be encoded (no body, missing required field, over IPC_FRAME_MAX);
   that is counted as dropped too. */
int ipc_conn_send(struct ipc_conn *conn, const Loft__Envelope *env,
		  const char **error_r);
/* ipc_conn_flush - wait up to timeout_ms for the queue to drain into the
   socket (loop thread, or any thread without a loop); 0 when it is empty,
   -1 when time ran out or the socket failed */
int ipc_conn_flush(struct ipc_conn *conn, unsigned int timeout_ms);
/* ipc_conn_wait_peer_hello - loop thread, loop not running: read (and
   dispatch) what the peer sends until its Hello is in, for up to
   timeout_ms; 0 once it is, -1 on timeout or close (on_close may have
   freed the connection then) */
int ipc_conn_wait_peer_hello(struct ipc_conn *conn, unsigned int timeout_ms);
/* ipc_conn_flush_soon - write what is queued at the end of this loop
   iteration instead of after batch_msecs (a request someone waits for);
   loop thread only */
void ipc_conn_flush_soon(struct ipc_conn *conn);

/* Hand-over (a retiring loft-stats, its reporters): the side that goes
   away calls ipc_conn_shutdown_output() and keeps reading; its peer sees
   EOF between two frames (ipc_conn_peer_finished() in on_close), may go
   on queueing (sends on such a closed connection are still taken) and
   writes the rest with ipc_conn_write_rest() before it frees the
   connection, so nothing it sent is lost. */
/* ipc_conn_shutdown_output - write what is queued (no waiting), then
   shutdown(SHUT_WR): from now on nothing is sent (sends are dropped and
   counted), input goes on until the peer closes; loop thread only */
void ipc_conn_shutdown_output(struct ipc_conn *conn);
/* ipc_conn_peer_finished - the connection closed because the peer ended
   its side between two frames */
bool ipc_conn_peer_finished(const struct ipc_conn *conn);
/* ipc_conn_write_rest - after such a close, write what is queued for up
   to timeout_ms (loop thread); 0 when all of it went, -1 otherwise (or
   when the peer did not finish in order) */
int ipc_conn_write_rest(struct ipc_conn *conn, unsigned int timeout_ms);

/* ipc_conn_set_frame_max - the longest frame accepted from the peer from
   now on (0: IPC_FRAME_MAX), e.g. once its Hello proved who it is; loop
   thread only */
void ipc_conn_set_frame_max(struct ipc_conn *conn, size_t max);

bool ipc_conn_is_closed(const struct ipc_conn *conn);
/* ipc_conn_close_reason - why it closed, or NULL while open */
const char *ipc_conn_close_reason(const struct ipc_conn *conn);
/* ipc_conn_peer_hello - the peer's checked Hello, NULL before it came */
const Loft__Hello *ipc_conn_peer_hello(const struct ipc_conn *conn);
/* ipc_conn_dropped - frames refused by ipc_conn_send() so far */
uint64_t ipc_conn_dropped(const struct ipc_conn *conn);
/* ipc_conn_queued_bytes - bytes waiting for the socket */
size_t ipc_conn_queued_bytes(const struct ipc_conn *conn);
/* ipc_conn_unsent - events in frames not completely written (lost when
   the connection is closed) */
struct ipc_outq_unsent ipc_conn_unsent(const struct ipc_conn *conn);

#endif
