/*
 * lmtp_data - streaming decoders for a message's bytes after DATA and BDAT.
 * The DATA decoder removes dot-stuffing and finds the terminating "."
 * line in input split at any byte boundary; the BDAT reader passes on
 * exactly a chunk's octets. Both are pure: they consume buffers the session
 * read and hand the message bytes to a callback.
 */
#ifndef LOFT_LMTP_DATA_H
#define LOFT_LMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* receives decoded message bytes */
typedef void lmtp_data_output_callback_t(void *context, const void *data,
					 size_t len);

enum lmtp_data_state {
	LMTP_DATA_STATE_LINE_START,	/* at the start of a line */
	LMTP_DATA_STATE_LINE,		/* inside a line */
	LMTP_DATA_STATE_DOT,		/* after a line-start '.' */
	LMTP_DATA_STATE_DOT_CR,		/* after a line-start ".\r" */
	LMTP_DATA_STATE_DONE,		/* the terminating line is consumed */
};

struct lmtp_data_decoder {
	enum lmtp_data_state state;	/* private */
};

/* lmtp_data_decoder_init - start decoding a message (at a line start) */
void lmtp_data_decoder_init(struct lmtp_data_decoder *dec);
/* lmtp_data_decode - consume input and pass the unstuffed message bytes to
   out_cb(context, data, len), in as few calls as possible. Line ends are
   LF or CRLF and are kept as they came (the line end before the
   terminating "." belongs to the message's last line); a bare CR is
   content; a line "." followed by CRLF or LF ends the data; a line
   starting with "." loses that dot. Returns the number of bytes of `in`
   consumed: all of them unless the terminating line ended inside `in`, in
   which case *done_r is set and the bytes after it (the next command) are
   not consumed. Works for any split of the input into calls. */
size_t lmtp_data_decode(struct lmtp_data_decoder *dec,
			const unsigned char *in, size_t len,
			lmtp_data_output_callback_t *out_cb, void *context,
			bool *done_r);
/* lmtp_data_decoder_done - whether the terminating line has been seen */
bool lmtp_data_decoder_done(const struct lmtp_data_decoder *dec);

/* one BDAT chunk's octets still to come */
struct lmtp_bdat_chunk {
	uint64_t remaining;
};

/* lmtp_bdat_chunk_init - expect size octets (BDAT <size>) */
void lmtp_bdat_chunk_init(struct lmtp_bdat_chunk *chunk, uint64_t size);
/* lmtp_bdat_chunk_consume - pass up to the chunk's remaining octets of
   `in` to out_cb (NULL: discard them, e.g. after a refused BDAT) and
   return how many were consumed; *done_r is set once the whole chunk has
   been consumed (at once for a 0-octet chunk) */
size_t lmtp_bdat_chunk_consume(struct lmtp_bdat_chunk *chunk,
			       const unsigned char *in, size_t len,
			       lmtp_data_output_callback_t *out_cb,
			       void *context, bool *done_r);

#endif
