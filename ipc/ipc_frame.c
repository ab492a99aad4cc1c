/*
 * ipc_frame - frame encoder and strict streaming decoder (see ipc_frame.h).
 * The decoder keeps fed bytes in one strbuf with a read offset, compacting
 * it when the consumed prefix outgrows the rest, so a stream costs at most
 * one frame plus one chunk of memory.
 */
#include "ipc_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "xalloc.h"

/* compact the decoder buffer once the consumed prefix is this large */
#define IPC_DECODER_COMPACT_MIN 4096u

struct ipc_decoder {
	struct strbuf buf;
	size_t pos;
	/* the longest frame body accepted (ipc_decoder_set_max) */
	size_t max;
	/* the first decode error, or NULL */
	char *error;
};

/* protobuf-c output sink appending to a strbuf */
struct ipc_strbuf_sink {
	ProtobufCBuffer base;
	struct strbuf *out;
};

static __thread struct error_slot ipc_frame_error;

/* ipc_sink_append - ProtobufCBuffer hook */
static void ipc_sink_append(ProtobufCBuffer *buffer, size_t len,
			    const uint8_t *data)
{
	struct ipc_strbuf_sink *sink = (struct ipc_strbuf_sink *)buffer;

	strbuf_append(sink->out, data, len);
}

int ipc_frame_encode(const Loft__Envelope *env, struct strbuf *out,
		     const char **error_r)
{
	struct ipc_strbuf_sink sink = { { ipc_sink_append }, out };
	unsigned char header[IPC_FRAME_HEADER_SIZE];
	size_t size;

	if (env->body_case == LOFT__ENVELOPE__BODY__NOT_SET) {
		*error_r = error_slot_set(&ipc_frame_error,
					  "envelope has no body");
		return -1;
	}
	if (!protobuf_c_message_check(&env->base)) {
		*error_r = error_slot_set(&ipc_frame_error,
			"%s envelope lacks a required field",
			ipc_envelope_body_name(env->body_case));
		return -1;
	}
	size = loft__envelope__get_packed_size(env);
	if (size > IPC_FRAME_MAX) {
		*error_r = error_slot_set(&ipc_frame_error,
			"%s envelope is %zu bytes, more than the %u maximum",
			ipc_envelope_body_name(env->body_case), size,
			IPC_FRAME_MAX);
		return -1;
	}
	header[0] = (unsigned char)(size >> 24);
	header[1] = (unsigned char)(size >> 16);
	header[2] = (unsigned char)(size >> 8);
	header[3] = (unsigned char)size;
	strbuf_append(out, header, sizeof(header));
	loft__envelope__pack_to_buffer(env, &sink.base);
	return 0;
}

struct ipc_decoder *ipc_decoder_create(void)
{
	struct ipc_decoder *dec = xcalloc(1, sizeof(*dec));

	strbuf_init(&dec->buf, 256);
	dec->max = IPC_FRAME_MAX;
	return dec;
}

void ipc_decoder_set_max(struct ipc_decoder *dec, size_t max)
{
	dec->max = max == 0 || max > IPC_FRAME_MAX ? IPC_FRAME_MAX : max;
}

void ipc_decoder_free(struct ipc_decoder **_dec)
{
	struct ipc_decoder *dec = *_dec;

	if (dec == NULL)
		return;
	*_dec = NULL;
	strbuf_free(&dec->buf);
	free(dec->error);
	free(dec);
}

/* ipc_decoder_fail - enter the error state; returns -1 */
static int ipc_decoder_fail(struct ipc_decoder *dec, const char **error_r,
			    const char *error)
{
	dec->error = xstrdup(error);
	strbuf_free(&dec->buf);
	strbuf_init(&dec->buf, 1);
	dec->pos = 0;
	*error_r = dec->error;
	return -1;
}

int ipc_decoder_feed(struct ipc_decoder *dec, const void *data, size_t size,
		     const char **error_r)
{
	size_t rest;

	if (dec->error != NULL) {
		*error_r = dec->error;
		return -1;
	}
	rest = dec->buf.len - dec->pos;
	if (dec->pos >= IPC_DECODER_COMPACT_MIN && dec->pos >= rest) {
		memmove(dec->buf.data, dec->buf.data + dec->pos, rest);
		strbuf_truncate(&dec->buf, rest);
		dec->pos = 0;
	}
	strbuf_append(&dec->buf, data, size);
	return 0;
}

/* ipc_frame_has_unknown_fields - whether msg or a message inside it
   carries fields its descriptor does not name (strict decoding: protobuf-c
   keeps them, even under an overlong tag, and would write them back in
   another form) */
static bool ipc_frame_has_unknown_fields(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	if (msg->n_unknown_fields > 0)
		return true;
	for (unsigned int i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *base = (const char *)msg;
		size_t count = 1;
		ProtobufCMessage *const *items;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			count = *(const size_t *)(base + f->quantifier_offset);
			items = *(ProtobufCMessage *const *const *)(base + f->offset);
		} else {
			items = (ProtobufCMessage *const *)(base + f->offset);
		}
		for (size_t j = 0; j < count; j++) {
			if (items[j] != NULL &&
			    ipc_frame_has_unknown_fields(items[j]))
				return true;
		}
	}
	return false;
}

int ipc_decoder_next(struct ipc_decoder *dec, Loft__Envelope **env_r,
		     const char **error_r)
{
	const unsigned char *p;
	Loft__Envelope *env;
	size_t avail, size;
	char error[160];

	if (dec->error != NULL) {
		*error_r = dec->error;
		return -1;
	}
	avail = dec->buf.len - dec->pos;
	if (avail < IPC_FRAME_HEADER_SIZE) {
		if (avail == 0 && dec->pos > 0) {
			strbuf_reset(&dec->buf);
			dec->pos = 0;
		}
		return 0;
	}
	p = (const unsigned char *)dec->buf.data + dec->pos;
	size = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	       (size_t)p[3];
	if (size == 0 || size > dec->max) {
		snprintf(error, sizeof(error),
			 "frame length %zu out of range (1..%zu)", size,
			 dec->max);
		return ipc_decoder_fail(dec, error_r, error);
	}
	if (avail - IPC_FRAME_HEADER_SIZE < size)
		return 0;
	env = loft__envelope__unpack(&ipc_allocator, size,
				     p + IPC_FRAME_HEADER_SIZE);
	if (env == NULL) {
		snprintf(error, sizeof(error),
			 "frame of %zu bytes is not a valid envelope", size);
		return ipc_decoder_fail(dec, error_r, error);
	}
	if (env->body_case == LOFT__ENVELOPE__BODY__NOT_SET) {
		ipc_envelope_free(&env);
		return ipc_decoder_fail(dec, error_r,
					"envelope without a known body");
	}
	if (ipc_frame_has_unknown_fields(&env->base)) {
		ipc_envelope_free(&env);
		return ipc_decoder_fail(dec, error_r,
					"envelope with fields this version does not know");
	}
	dec->pos += IPC_FRAME_HEADER_SIZE + size;
	*env_r = env;
	return 1;
}

bool ipc_decoder_failed(const struct ipc_decoder *dec)
{
	return dec->error != NULL;
}

size_t ipc_decoder_buffered(const struct ipc_decoder *dec)
{
	return dec->buf.len - dec->pos;
}
