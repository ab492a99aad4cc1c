/*
 * ipc_frame - the wire format of every loft IPC channel: a 4-byte
 * big-endian length followed by one packed Envelope (loft.proto), at most
 * IPC_FRAME_MAX bytes of body. The encoder appends whole frames to a
 * strbuf; the streaming decoder takes byte chunks of any size and yields
 * complete envelopes one at a time. Decoding is strict: a declared length
 * of 0 or above IPC_FRAME_MAX (or the decoder's lower maximum), a body protobuf-c cannot unpack (including
 * missing required fields) or an envelope with no body is an error, after
 * which the decoder refuses all further input (the peer must be dropped).
 * Handshake helpers live in ipc_envelope.h, included here.
 */
#ifndef LOFT_IPC_FRAME_H
#define LOFT_IPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc_envelope.h"
#include "strbuf.h"

#define IPC_FRAME_HEADER_SIZE 4u
#define IPC_FRAME_MAX (1024u * 1024u)

struct ipc_decoder;

/* ipc_frame_encode - append env as one frame to out; 0, or -1 with
   *error_r set (thread-local, valid until this thread's next ipc_frame
   error) when env has no body, lacks a required field or packs to more
   than IPC_FRAME_MAX bytes; out is unchanged on error */
int ipc_frame_encode(const Loft__Envelope *env, struct strbuf *out,
		     const char **error_r);

/* ipc_decoder_create - a decoder taking frames of up to IPC_FRAME_MAX */
struct ipc_decoder *ipc_decoder_create(void);
/* ipc_decoder_set_max - from now on a frame whose declared length is
   above max is an error (0, or above IPC_FRAME_MAX: IPC_FRAME_MAX); a
   peer that is not trusted cannot make us buffer a megabyte */
void ipc_decoder_set_max(struct ipc_decoder *dec, size_t max);
/* ipc_decoder_free - also frees the bytes still buffered; sets *dec = NULL */
void ipc_decoder_free(struct ipc_decoder **dec);
/* ipc_decoder_feed - buffer size more bytes; 0, or -1 with *error_r set
   when the decoder is already in error (the first error is repeated) */
int ipc_decoder_feed(struct ipc_decoder *dec, const void *data, size_t size,
		     const char **error_r);
/* ipc_decoder_next - 1 with *env_r set to the next complete envelope
   (free it with ipc_envelope_free()), 0 when the buffered bytes do not
   hold a complete frame yet, -1 with *error_r set on a decode error (the
   decoder then stays in error). *error_r is valid until the decoder is
   freed. */
int ipc_decoder_next(struct ipc_decoder *dec, Loft__Envelope **env_r,
		     const char **error_r);
/* ipc_decoder_failed - a decode error happened */
bool ipc_decoder_failed(const struct ipc_decoder *dec);
/* ipc_decoder_buffered - bytes fed but not yet yielded (a partial frame) */
size_t ipc_decoder_buffered(const struct ipc_decoder *dec);

#endif
