/*
 * ipc_outq - bounded outgoing frame queue (see ipc_outq.h). Bytes live in
 * one strbuf with a write offset; a parallel array records each queued
 * frame's end (as an offset in the whole stream) and its event weight, and
 * loses its head entries as their last bytes are written.
 */
#include "ipc_outq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipc_frame.h"
#include "strbuf.h"
#include "xalloc.h"

/* compact the byte buffer once the written prefix is this large */
#define IPC_OUTQ_COMPACT_MIN 65536u
/* largest single send() */
#define IPC_OUTQ_SEND_MAX 65536u

struct ipc_outq_frame {
	uint64_t end;
	uint64_t events;
	bool report;
};

struct ipc_outq {
	pthread_mutex_t lock;
	size_t max_bytes;
	struct strbuf buf;
	/* buf.data[pos..len) is unwritten; its first byte is stream offset
	   written */
	size_t pos;
	uint64_t written;
	struct ipc_outq_frame *frames;
	size_t frames_head, frames_count, frames_cap;
};

struct ipc_outq *ipc_outq_create(size_t max_bytes)
{
	struct ipc_outq *q = xcalloc(1, sizeof(*q));

	pthread_mutex_init(&q->lock, NULL);
	q->max_bytes = max_bytes;
	strbuf_init(&q->buf, 1024);
	return q;
}

void ipc_outq_free(struct ipc_outq **_q)
{
	struct ipc_outq *q = *_q;

	if (q == NULL)
		return;
	*_q = NULL;
	pthread_mutex_destroy(&q->lock);
	strbuf_free(&q->buf);
	free(q->frames);
	free(q);
}

/* ipc_outq_add_frame - record a frame ending at stream offset end */
static void ipc_outq_add_frame(struct ipc_outq *q, uint64_t end,
			       const Loft__Envelope *env)
{
	struct ipc_outq_frame *frame;

	if (q->frames_head > 0 && q->frames_head + q->frames_count ==
				  q->frames_cap) {
		memmove(q->frames, q->frames + q->frames_head,
			q->frames_count * sizeof(*q->frames));
		q->frames_head = 0;
	}
	if (q->frames_count == q->frames_cap) {
		q->frames_cap = q->frames_cap == 0 ? 64 : q->frames_cap * 2;
		q->frames = xreallocarray(q->frames, q->frames_cap,
					  sizeof(*q->frames));
	}
	frame = &q->frames[q->frames_head + q->frames_count++];
	frame->end = end;
	frame->events = ipc_envelope_events(env, &frame->report);
}

int ipc_outq_push(struct ipc_outq *q, const Loft__Envelope *env,
		  const char **error_r)
{
	struct strbuf frame;
	size_t pending;
	int ret = 0;

	strbuf_init(&frame, 256);
	if (ipc_frame_encode(env, &frame, error_r) < 0) {
		strbuf_free(&frame);
		return -1;
	}
	pthread_mutex_lock(&q->lock);
	pending = q->buf.len - q->pos;
	if (frame.len <= q->max_bytes && pending <= q->max_bytes - frame.len) {
		if (q->pos == q->buf.len) {
			strbuf_reset(&q->buf);
			q->pos = 0;
		}
		strbuf_append(&q->buf, frame.data, frame.len);
		ipc_outq_add_frame(q, q->written + (q->buf.len - q->pos), env);
		ret = 1;
	}
	pthread_mutex_unlock(&q->lock);
	strbuf_free(&frame);
	return ret;
}

/* ipc_outq_consumed - n more bytes were written */
static void ipc_outq_consumed(struct ipc_outq *q, size_t n)
{
	size_t rest;

	q->pos += n;
	q->written += n;
	while (q->frames_count > 0 &&
	       q->frames[q->frames_head].end <= q->written) {
		q->frames_head++;
		q->frames_count--;
	}
	if (q->frames_count == 0)
		q->frames_head = 0;
	rest = q->buf.len - q->pos;
	if (rest == 0) {
		strbuf_reset(&q->buf);
		q->pos = 0;
	} else if (q->pos >= IPC_OUTQ_COMPACT_MIN && q->pos >= rest) {
		memmove(q->buf.data, q->buf.data + q->pos, rest);
		strbuf_truncate(&q->buf, rest);
		q->pos = 0;
	}
}

int ipc_outq_write(struct ipc_outq *q, int fd)
{
	int ret = 1, err = 0;
	ssize_t n;
	size_t len;

	pthread_mutex_lock(&q->lock);
	while (q->pos < q->buf.len) {
		len = q->buf.len - q->pos;
		if (len > IPC_OUTQ_SEND_MAX)
			len = IPC_OUTQ_SEND_MAX;
		n = send(fd, q->buf.data + q->pos, len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			ret = err == EAGAIN || err == EWOULDBLOCK ? 0 : -1;
			break;
		}
		ipc_outq_consumed(q, (size_t)n);
	}
	pthread_mutex_unlock(&q->lock);
	if (ret < 0)
		errno = err;
	return ret;
}

size_t ipc_outq_bytes(struct ipc_outq *q)
{
	size_t bytes;

	pthread_mutex_lock(&q->lock);
	bytes = q->buf.len - q->pos;
	pthread_mutex_unlock(&q->lock);
	return bytes;
}

struct ipc_outq_unsent ipc_outq_unsent(struct ipc_outq *q)
{
	struct ipc_outq_unsent unsent = { 0, 0 };
	const struct ipc_outq_frame *frame;
	size_t i;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < q->frames_count; i++) {
		frame = &q->frames[q->frames_head + i];
		if (frame->report)
			unsent.reported += frame->events;
		else
			unsent.events += frame->events;
	}
	pthread_mutex_unlock(&q->lock);
	return unsent;
}
