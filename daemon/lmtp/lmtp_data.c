/*
 * lmtp_data - the DATA dot-unstuffing state machine and the BDAT chunk
 * reader. The decoder keeps only its line state between calls; bytes are
 * passed on as runs of the input buffer, so a call emits one run per
 * removed dot plus one for the rest. The only byte ever held back is the
 * CR of a ".\r" line start split across calls: it is message content
 * unless an LF follows, which makes the line the terminator.
 */
#include <string.h>

#include "lmtp_data.h"

void lmtp_data_decoder_init(struct lmtp_data_decoder *dec)
{
	dec->state = LMTP_DATA_STATE_LINE_START;
}

bool lmtp_data_decoder_done(const struct lmtp_data_decoder *dec)
{
	return dec->state == LMTP_DATA_STATE_DONE;
}

/* emit - pass in[start, end) on when it is not empty */
static void emit(const unsigned char *in, size_t start, size_t end,
		 lmtp_data_output_callback_t *out_cb, void *context)
{
	if (end > start)
		out_cb(context, in + start, end - start);
}

size_t lmtp_data_decode(struct lmtp_data_decoder *dec,
			const unsigned char *in, size_t len,
			lmtp_data_output_callback_t *out_cb, void *context,
			bool *done_r)
{
	size_t i = 0, run = 0;	/* in[run, i) is pending output */
	const unsigned char *lf;

	*done_r = dec->state == LMTP_DATA_STATE_DONE;
	if (*done_r || len == 0)
		return 0;
	if (dec->state == LMTP_DATA_STATE_DOT_CR && len > 0 && in[0] != '\n') {
		/* the CR held back by the previous call was content */
		out_cb(context, "\r", 1);
		dec->state = LMTP_DATA_STATE_LINE;
	}
	while (i < len) {
		switch (dec->state) {
		case LMTP_DATA_STATE_LINE:
			lf = memchr(in + i, '\n', len - i);
			if (lf == NULL) {
				i = len;
				break;
			}
			i = (size_t)(lf - in) + 1;
			dec->state = LMTP_DATA_STATE_LINE_START;
			break;
		case LMTP_DATA_STATE_LINE_START:
			if (in[i] == '.') {
				/* terminator or stuffing: the dot goes */
				emit(in, run, i, out_cb, context);
				run = ++i;
				dec->state = LMTP_DATA_STATE_DOT;
			} else {
				dec->state = LMTP_DATA_STATE_LINE;
			}
			break;
		case LMTP_DATA_STATE_DOT:
			if (in[i] == '\n') {
				dec->state = LMTP_DATA_STATE_DONE;
				*done_r = true;
				return i + 1;
			}
			if (in[i] == '\r') {
				/* in[run] is this CR: output only if no LF
				   follows */
				i++;
				dec->state = LMTP_DATA_STATE_DOT_CR;
			} else {
				dec->state = LMTP_DATA_STATE_LINE;
			}
			break;
		case LMTP_DATA_STATE_DOT_CR:
			if (in[i] == '\n') {
				dec->state = LMTP_DATA_STATE_DONE;
				*done_r = true;
				return i + 1;
			}
			dec->state = LMTP_DATA_STATE_LINE;
			break;
		case LMTP_DATA_STATE_DONE:
			break;
		}
	}
	/* a ".\r" at the very end: hold the CR back until the next call */
	emit(in, run, dec->state == LMTP_DATA_STATE_DOT_CR ? len - 1 : len,
	     out_cb, context);
	return len;
}

void lmtp_bdat_chunk_init(struct lmtp_bdat_chunk *chunk, uint64_t size)
{
	chunk->remaining = size;
}

size_t lmtp_bdat_chunk_consume(struct lmtp_bdat_chunk *chunk,
			       const unsigned char *in, size_t len,
			       lmtp_data_output_callback_t *out_cb,
			       void *context, bool *done_r)
{
	size_t n = len;

	if ((uint64_t)n > chunk->remaining)
		n = (size_t)chunk->remaining;
	if (n > 0 && out_cb != NULL)
		out_cb(context, in, n);
	chunk->remaining -= n;
	*done_r = chunk->remaining == 0;
	return n;
}
