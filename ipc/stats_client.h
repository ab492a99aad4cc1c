/*
 * stats_client - how service processes (loft-lmtp, loftd, loft-lda) report
 * to loft-stats over base_dir/stats-writer without ever holding up a
 * delivery.
 *
 * Sending never blocks: an envelope is encoded into a bounded queue
 * (STATS_CLIENT_QUEUE_MAX bytes) and written as the socket takes it; when
 * the client is not connected or the queue is full the event is dropped
 * and counted. The count dropped since the last report is sent as a
 * Dropped{events} envelope ahead of the next event that finds room (at the
 * latest right after the next Hello on a reconnect), so loft-stats can add
 * it to loft_stats_events_dropped_total. Events still queued when a
 * connection dies are counted as dropped too.
 *
 * Loop mode (loft-lmtp, loftd): connects at once; after a failure or a
 * disconnect it reconnects with back-off (100 ms doubling to 10 s, back
 * to 100 ms once loft-stats has answered with its Hello) on evloop timers,
 * and calls the connect callback after every such reconnect so the owner
 * can announce its state (live sessions) again. A loft-stats retired by a
 * reload ends its side of the connection and reads on: then the client
 * opens the next connection at once (loftd's listener holds it until the
 * new loft-stats accepts; events queue meanwhile), writes what the old
 * one still has queued into it, and only then lets it go, so a reload
 * loses no event. Messages from loft-stats
 * (Kick, DebugUsers, ConcurrencyReply, ReloadRequest) go to the handler on
 * the loop thread.
 *
 * Synchronous mode (loop == NULL: loft-lda): the connect must complete
 * within STATS_CLIENT_CONNECT_MSECS or the run stays unconnected (all
 * events dropped and counted); sends write what the socket takes and queue
 * the rest; stats_client_flush() at exit waits a bounded time for the
 * queue. Nothing from loft-stats is read or handled in this mode.
 *
 * Threads: stats_client_send(), stats_client_dropped_total(),
 * stats_client_is_connected() and stats_client_queued_bytes() may be
 * called from any thread (loft-lmtp's delivery workers). A mutex protects
 * the connection and the counters; a send from a thread other than the
 * loop thread only queues the frame and wakes the loop through an eventfd
 * registered with it, and the loop thread does the write. Everything else
 * - create, free, flush, the setters - belongs to the loop thread (or, in
 * synchronous mode, the one thread using the client). No callback is ever
 * called from inside stats_client_send().
 */
#ifndef LOFT_STATS_CLIENT_H
#define LOFT_STATS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"
#include "ipc_envelope.h"

#define STATS_CLIENT_QUEUE_MAX (1024u * 1024u)
#define STATS_CLIENT_CONNECT_MSECS 50u
#define STATS_CLIENT_BACKOFF_MIN_MSECS 100u
#define STATS_CLIENT_BACKOFF_MAX_MSECS 10000u
/* loop mode: events go out in batches at most this old, so loft-stats
   wakes a few dozen times a second rather than once per event */
#define STATS_CLIENT_BATCH_MSECS 25u
/* loop mode: how long the last events may take to reach a loft-stats
   that retires (it reads on until we close) */
#define STATS_CLIENT_HANDOVER_MSECS 100u

struct stats_client;

/* a message from loft-stats; env is freed when the callback returns */
typedef void stats_client_handler_t(const Loft__Envelope *env,
				    void *context);
/* the client (re)connected; sends made here follow Hello and Dropped */
typedef void stats_client_connect_callback_t(struct stats_client *client,
					     void *context);

/* stats_client_create - loop NULL selects synchronous mode; connects to
   socket_path (base_dir/stats-writer) and queues a Hello with role,
   service and our pid. Never fails: an unreachable loft-stats only means
   dropped events (and, with a loop, reconnect attempts). */
struct stats_client *stats_client_create(struct evloop *loop,
					 const char *socket_path,
					 Loft__Role role,
					 const char *service);
/* stats_client_free - closes the connection (what is still queued is
   lost: flush first if it matters); sets *client = NULL. No other thread
   may be sending any more (join or drain the workers first). */
void stats_client_free(struct stats_client **client);

/* stats_client_set_handler - messages from loft-stats (loop mode) */
void stats_client_set_handler(struct stats_client *client,
			      stats_client_handler_t *cb, void *context);
/* stats_client_set_connect_callback - called on the loop thread after
   every reconnect made by the back-off timer (the connect made inside
   stats_client_create() has nothing to announce yet and is not reported) */
void stats_client_set_connect_callback(struct stats_client *client,
				       stats_client_connect_callback_t *cb,
				       void *context);

/* stats_client_send - queue env for loft-stats, or drop and count it;
   never blocks, any thread. An envelope that cannot be encoded (no body,
   missing required field) is dropped and counted as well. */
void stats_client_send(struct stats_client *client, const Loft__Envelope *env);
/* stats_client_send_urgent - the same, for a message someone waits for
   (ConcurrencyAcquire, ReloadResult): written at the end of this loop
   iteration instead of with the next batch. Loop thread only. */
void stats_client_send_urgent(struct stats_client *client,
			      const Loft__Envelope *env);

/* stats_client_flush - try for at most timeout_ms to get the queue into
   the socket (loft-lda: at exit, 50 ms); 0 when it is empty, -1 when not
   (not connected, time ran out, socket error) - then just give up */
int stats_client_flush(struct stats_client *client, unsigned int timeout_ms);

/* stats_client_dropped_total - events dropped over the client's lifetime
   (reported or not) */
uint64_t stats_client_dropped_total(const struct stats_client *client);
/* stats_client_is_connected - a connection is up (handshake may still be
   in flight) */
bool stats_client_is_connected(const struct stats_client *client);
/* stats_client_queued_bytes - bytes waiting for the socket */
size_t stats_client_queued_bytes(const struct stats_client *client);

#endif
