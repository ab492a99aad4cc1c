/*
 * fuzz_lmtp_data - libFuzzer target for the DATA decoder and the BDAT chunk
 * reader. The input decoded in one piece must give the same message bytes,
 * consumed count and end as the same input fed byte by byte and in chunks
 * whose sizes the input itself chooses; the message is never longer than
 * what was consumed, and a finished stream ends in LF.
 */
#include "fuzz_util.h"

#include "lmtp_data.h"
#include "strbuf.h"

struct decoded {
	struct strbuf out;
	size_t consumed;
	bool done;
};

static void collect(void *context, const void *data, size_t len)
{
	struct strbuf *out = context;

	FUZZ_CHECK(len > 0);
	strbuf_append(out, data, len);
}

/* chunk_size - 0: all at once; 1: byte by byte; else the byte at the
   current offset picks 1..16 */
static size_t chunk_size(int mode, const uint8_t *data, size_t offset,
			 size_t size)
{
	size_t n = mode == 0 ? size - offset :
		mode == 1 ? 1 : 1 + (size_t)data[offset] % 16;

	return n < size - offset ? n : size - offset;
}

/* decode - run a fresh decoder over data, chunked as mode says */
static void decode(const uint8_t *data, size_t size, int mode,
		   struct decoded *d)
{
	struct lmtp_data_decoder dec;
	size_t offset = 0;

	strbuf_init(&d->out, size + 1);
	d->consumed = 0;
	d->done = false;
	lmtp_data_decoder_init(&dec);
	do {
		size_t n = chunk_size(mode, data, offset, size);
		size_t used = lmtp_data_decode(&dec, data + offset, n, collect,
					       &d->out, &d->done);

		FUZZ_CHECK(used == n || (d->done && used < n));
		d->consumed += used;
		offset += n;
	} while (!d->done && offset < size);
}

/* fuzz_bdat - a chunk size from the first bytes, fed in input-chosen
   pieces: exactly min(size, available) octets are passed on */
static void fuzz_bdat(const uint8_t *data, size_t size)
{
	struct lmtp_bdat_chunk chunk;
	struct strbuf out;
	uint64_t want;
	size_t offset = 0;
	bool done = false;

	if (size < 2)
		return;
	want = (uint64_t)data[0] << 8 | data[1];
	strbuf_init(&out, size);
	lmtp_bdat_chunk_init(&chunk, want);
	while (!done && offset < size) {
		size_t n = chunk_size(2, data, offset, size);

		offset += lmtp_bdat_chunk_consume(&chunk, data + offset, n,
						  collect, &out, &done);
	}
	FUZZ_CHECK(out.len == (want < size ? want : size));
	FUZZ_CHECK(memcmp(out.data, data, out.len) == 0);
	FUZZ_CHECK(done == (want <= size));
	strbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decoded whole, other;
	int mode;

	decode(data, size, 0, &whole);
	FUZZ_CHECK(whole.out.len <= whole.consumed);
	FUZZ_CHECK(!whole.done || (whole.consumed >= 2 &&
				   data[whole.consumed - 1] == '\n'));
	FUZZ_CHECK(whole.done || whole.consumed == size);
	for (mode = 1; mode <= 2; mode++) {
		decode(data, size, mode, &other);
		FUZZ_CHECK(other.done == whole.done);
		FUZZ_CHECK(other.consumed == whole.consumed);
		FUZZ_CHECK(other.out.len == whole.out.len);
		FUZZ_CHECK(memcmp(other.out.data, whole.out.data,
				  whole.out.len) == 0);
		strbuf_free(&other.out);
	}
	strbuf_free(&whole.out);
	fuzz_bdat(data, size);
	return 0;
}
