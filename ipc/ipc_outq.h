/*
 * ipc_outq - the bounded outgoing byte queue behind an IPC connection.
 * Frames are encoded and appended whole, or refused when they would push
 * the queued bytes past the bound: nothing ever blocks and the queue never
 * grows without limit. Writing drains it into a non-blocking socket with
 * send(MSG_NOSIGNAL), so a dead peer yields EPIPE instead of SIGPIPE. The
 * queue remembers where each frame ends and how many events it carries,
 * so a connection that dies can tell how many queued events were lost.
 * All functions are thread-safe (one internal mutex).
 */
#ifndef LOFT_IPC_OUTQ_H
#define LOFT_IPC_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_envelope.h"

struct ipc_outq;

/* events carried by frames not (completely) written yet */
struct ipc_outq_unsent {
	/* events counted for the first time (ordinary envelopes) */
	uint64_t events;
	/* events of Dropped reports: already counted when they were dropped */
	uint64_t reported;
};

struct ipc_outq *ipc_outq_create(size_t max_bytes);
void ipc_outq_free(struct ipc_outq **q);

/* ipc_outq_push - encode env and queue it; 1 queued, 0 refused because
   the frame does not fit in the bound, -1 with *error_r set when env
   cannot be encoded (see ipc_frame_encode) */
int ipc_outq_push(struct ipc_outq *q, const Loft__Envelope *env,
		  const char **error_r);
/* ipc_outq_write - send queued bytes to fd until the queue is empty or
   the socket is full; 1 when the queue is empty, 0 when bytes remain
   (EAGAIN), -1 with errno set on a socket error */
int ipc_outq_write(struct ipc_outq *q, int fd);
/* ipc_outq_bytes - bytes queued, including a partly written frame */
size_t ipc_outq_bytes(struct ipc_outq *q);
/* ipc_outq_unsent - events in frames not completely written */
struct ipc_outq_unsent ipc_outq_unsent(struct ipc_outq *q);

#endif
