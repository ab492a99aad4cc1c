/*
 * fuzz_ipc_frame - libFuzzer target for the IPC frame codec (ipc_frame.c)
 * and envelope decoding (ipc_envelope.c) as loftd, loft-stats and
 * loftadm's peers meet them: the input is a byte stream from a peer. It is
 * decoded three times - in one piece, byte by byte, and in pieces whose
 * sizes the input chooses - and all three must yield the same envelopes,
 * the same error state and the same partial frame. Every envelope must
 * re-encode (ipc_frame_encode) to a frame whose header is its packed size
 * and that decodes to an envelope packing to the same bytes; after an
 * error the decoder refuses everything. ipc_check_hello and
 * ipc_envelope_events are run on what comes out.
 */
#include "fuzz_util.h"

#include "ipc_frame.h"
#include "strbuf.h"

/* the envelopes of one decode, each re-encoded as a frame */
struct decoded {
	struct strbuf frames;
	size_t count;
	bool failed;
	size_t buffered;
};

/* check_roundtrip - env re-encodes, and the frame decodes to the same */
static void check_roundtrip(const Loft__Envelope *env, struct strbuf *frames)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	struct strbuf frame, again;
	Loft__Envelope *copy = NULL;
	const char *error;
	size_t size;
	bool report;

	FUZZ_CHECK(env->body_case != LOFT__ENVELOPE__BODY__NOT_SET);
	FUZZ_CHECK(strcmp(ipc_envelope_body_name(env->body_case), "unknown") != 0);
	(void)ipc_envelope_events(env, &report);
	FUZZ_CHECK(report == (env->body_case == LOFT__ENVELOPE__BODY_DROPPED));
	if (ipc_check_hello(env, &error) < 0)
		FUZZ_CHECK(error != NULL && *error != '\0');
	strbuf_init(&frame, 64);
	if (ipc_frame_encode(env, &frame, &error) < 0) {
		/* only a body grown past the limit may fail to re-encode */
		FUZZ_CHECK(loft__envelope__get_packed_size(env) > IPC_FRAME_MAX);
		FUZZ_CHECK(frame.len == 0);
		strbuf_free(&frame);
		ipc_decoder_free(&dec);
		return;
	}
	FUZZ_CHECK(frame.len >= IPC_FRAME_HEADER_SIZE);
	size = (size_t)(unsigned char)frame.data[0] << 24 |
	       (size_t)(unsigned char)frame.data[1] << 16 |
	       (size_t)(unsigned char)frame.data[2] << 8 |
	       (size_t)(unsigned char)frame.data[3];
	FUZZ_CHECK(size == frame.len - IPC_FRAME_HEADER_SIZE);
	FUZZ_CHECK(size == loft__envelope__get_packed_size(env));
	FUZZ_CHECK(ipc_decoder_feed(dec, frame.data, frame.len, &error) == 0);
	FUZZ_CHECK(ipc_decoder_next(dec, &copy, &error) == 1);
	FUZZ_CHECK(ipc_decoder_buffered(dec) == 0);
	FUZZ_CHECK(copy->body_case == env->body_case);
	strbuf_init(&again, frame.len);
	FUZZ_CHECK(ipc_frame_encode(copy, &again, &error) == 0);
	FUZZ_CHECK(again.len == frame.len &&
		   memcmp(again.data, frame.data, frame.len) == 0);
	strbuf_append(frames, frame.data, frame.len);
	strbuf_free(&again);
	strbuf_free(&frame);
	ipc_envelope_free(&copy);
	FUZZ_CHECK(copy == NULL);
	ipc_decoder_free(&dec);
	FUZZ_CHECK(dec == NULL);
}

/* drain - every envelope the decoder has now */
static void drain(struct ipc_decoder *dec, struct decoded *d)
{
	Loft__Envelope *env;
	const char *error;
	int ret;

	while ((ret = ipc_decoder_next(dec, &env, &error)) == 1) {
		check_roundtrip(env, &d->frames);
		ipc_envelope_free(&env);
		d->count++;
	}
	if (ret < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		FUZZ_CHECK(ipc_decoder_failed(dec));
	}
}

/* decode - feed data: whole (mode 0), byte by byte (1) or in pieces the
   input chooses (2) */
static void decode(const uint8_t *data, size_t size, int mode,
		   struct decoded *d)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	struct fuzz_input chooser = { data, size };
	const char *error;
	size_t offset = 0;

	strbuf_init(&d->frames, 64);
	d->count = 0;
	while (offset < size && !ipc_decoder_failed(dec)) {
		size_t n = mode == 0 ? size : mode == 1 ? 1 :
			fuzz_chunk(&chooser, size - offset);

		if (n > size - offset || n == 0)
			n = size - offset;
		FUZZ_CHECK(ipc_decoder_feed(dec, data + offset, n, &error) == 0);
		offset += n;
		drain(dec, d);
	}
	d->failed = ipc_decoder_failed(dec);
	d->buffered = ipc_decoder_buffered(dec);
	if (d->failed) {
		/* the first error sticks, also for more input */
		FUZZ_CHECK(d->buffered == 0);
		FUZZ_CHECK(ipc_decoder_feed(dec, "x", 1, &error) < 0);
	} else {
		FUZZ_CHECK(d->buffered < IPC_FRAME_HEADER_SIZE + IPC_FRAME_MAX);
	}
	ipc_decoder_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decoded whole, other;

	decode(data, size, 0, &whole);
	for (int mode = 1; mode <= 2; mode++) {
		decode(data, size, mode, &other);
		FUZZ_CHECK(other.count == whole.count);
		FUZZ_CHECK(other.failed == whole.failed);
		FUZZ_CHECK(other.failed || other.buffered == whole.buffered);
		FUZZ_CHECK(other.frames.len == whole.frames.len &&
			   memcmp(other.frames.data, whole.frames.data,
				  whole.frames.len) == 0);
		strbuf_free(&other.frames);
	}
	strbuf_free(&whole.frames);
	return 0;
}
