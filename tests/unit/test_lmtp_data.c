/*
 * test_lmtp_data - unit tests for daemon/lmtp/lmtp_data: a table of DATA
 * wire streams with their unstuffed message and consumed count, each fed
 * in one piece, byte by byte, split at every position and in random chunk
 * sizes; random messages round-tripped through dot-stuffing; 100 KB lines;
 * and the BDAT chunk reader.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp_data.h"
#include "strbuf.h"

struct data_case {
	const char *wire;
	size_t wire_len;
	const char *want;	/* message bytes */
	size_t want_len;
	size_t consumed;
	bool done;
};

/* S - a string literal with its length (NUL bytes included) */
#define S(lit) lit, sizeof(lit) - 1
#define DONE(wire, want) { S(wire), S(want), sizeof(wire) - 1, true }
#define DONE_AT(wire, want, n) { S(wire), S(want), n, true }
#define OPEN(wire, want) { S(wire), S(want), sizeof(wire) - 1, false }

static const struct data_case data_cases[] = {
	DONE(".\r\n", ""),
	DONE(".\n", ""),
	DONE("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n"),
	DONE("..leading\r\n.\r\n", ".leading\r\n"),
	DONE("a\r\n..\r\n.\r\n", "a\r\n.\r\n"),
	DONE("...\r\n.\r\n", "..\r\n"),
	DONE(".x\r\n.\r\n", "x\r\n"),
	DONE("line\n.\n", "line\n"),
	DONE("line\n.\r\n", "line\n"),
	DONE("line\r\n.\n", "line\r\n"),
	DONE("bare\rCR\r\n.\r\n", "bare\rCR\r\n"),
	DONE("a\r.\r\n.\r\n", "a\r.\r\n"),
	DONE(".\rx\r\n.\r\n", "\rx\r\n"),
	DONE(".\r\r\n.\r\n", "\r\r\n"),
	DONE(".\r.\r\n.\r\n", "\r.\r\n"),
	DONE("x.\r\n.\r\n", "x.\r\n"),
	DONE(" .\r\n.\r\n", " .\r\n"),
	DONE("\r\n.\r\n", "\r\n"),
	DONE("\n\n.\n", "\n\n"),
	DONE("nul:\0:\r\n\0\r\n.\r\n", "nul:\0:\r\n\0\r\n"),
	DONE("8bit caf\xc3\xa9\r\n.\r\n", "8bit caf\xc3\xa9\r\n"),
	DONE("Subject: raw bytes\r\n\r\nbare-LF line\nbare-CR line\rend\r\n"
	     "utf8: caf\xc3\xa9\r\nnul:\0:\r\n..dot-stuffed\r\nno crlf at end\r\n"
	     ".\r\n",
	     "Subject: raw bytes\r\n\r\nbare-LF line\nbare-CR line\rend\r\n"
	     "utf8: caf\xc3\xa9\r\nnul:\0:\r\n.dot-stuffed\r\nno crlf at end\r\n"),
	DONE_AT("msg\r\n.\r\nQUIT\r\n", "msg\r\n", 8),
	DONE_AT("msg\r\n.\nNOOP\n", "msg\r\n", 7),
	DONE_AT(".\r\n.\r\n", "", 3),
	DONE_AT("a\n.\n.\n", "a\n", 4),
	OPEN("", ""),
	OPEN("no end\r\n", "no end\r\n"),
	OPEN("partial", "partial"),
	OPEN("a\r\n.", "a\r\n"),
	OPEN("a\r\n..", "a\r\n."),
	OPEN("a\r\n.\r", "a\r\n"),
	OPEN("a\r\n.\r\r", "a\r\n\r\r"),
};

/* sink - collects the decoder's output */
struct sink {
	struct strbuf out;
	unsigned int calls;
};

static void sink_cb(void *context, const void *data, size_t len)
{
	struct sink *sink = context;

	ck_assert_msg(len > 0, "got an empty output call");
	strbuf_append(&sink->out, data, len);
	sink->calls++;
}

/* next_random - a small deterministic xorshift generator */
static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* chunk_fn - the size of the next chunk to feed */
typedef size_t chunk_fn_t(size_t offset, size_t left, uint32_t *state);

/* decode_chunked - feed wire to a fresh decoder in chunks, stopping once it
   reports the end; returns the total consumed */
static size_t decode_chunked(const unsigned char *wire, size_t len,
			     chunk_fn_t *chunk_fn, uint32_t *state,
			     struct sink *sink, bool *done_r)
{
	struct lmtp_data_decoder dec;
	size_t offset = 0, consumed = 0;

	lmtp_data_decoder_init(&dec);
	*done_r = false;
	do {
		size_t n = chunk_fn(offset, len - offset, state);
		size_t used = lmtp_data_decode(&dec, wire + offset, n, sink_cb,
					       sink, done_r);

		ck_assert_msg(used <= n, "consumed %zu of a %zu-byte chunk",
			      used, n);
		ck_assert_msg(*done_r || used == n,
			      "consumed %zu of %zu without reaching the end",
			      used, n);
		ck_assert_msg(*done_r == lmtp_data_decoder_done(&dec),
			      "done flag and decoder disagree");
		consumed += used;
		offset += n;
	} while (!*done_r && offset < len);
	return consumed;
}

static size_t chunk_all(size_t offset, size_t left, uint32_t *state)
{
	return left;
}

static size_t chunk_one(size_t offset, size_t left, uint32_t *state)
{
	return left < 1 ? left : 1;
}

static size_t chunk_random(size_t offset, size_t left, uint32_t *state)
{
	size_t n = next_random(state) % 9;

	return n < left ? n : left;
}

/* split_at - first chunk ends at *state, then the rest */
static size_t chunk_split(size_t offset, size_t left, uint32_t *state)
{
	if (offset < *state)
		return *state - offset < left ? *state - offset : left;
	return left;
}

/* check_decode - decode with chunk_fn and compare with the case */
static void check_decode(const struct data_case *c, chunk_fn_t *chunk_fn,
			 uint32_t state, const char *how)
{
	struct sink sink = { .calls = 0 };
	size_t consumed;
	bool done;

	strbuf_init(&sink.out, 64);
	consumed = decode_chunked((const unsigned char *)c->wire, c->wire_len,
				  chunk_fn, &state, &sink, &done);
	ck_assert_msg(done == c->done, "case %.20s (%s): done got %d, want %d",
		      c->wire, how, done, c->done);
	ck_assert_msg(consumed == c->consumed,
		      "case %.20s (%s): consumed got %zu, want %zu",
		      c->wire, how, consumed, c->consumed);
	ck_assert_msg(sink.out.len == c->want_len &&
		      memcmp(sink.out.data, c->want, c->want_len) == 0,
		      "case %.20s (%s): got %zu bytes \"%s\", want %zu \"%s\"",
		      c->wire, how, sink.out.len, sink.out.data, c->want_len,
		      c->want);
	strbuf_free(&sink.out);
}

START_TEST(test_decode_cases)
{
	const struct data_case *c = &data_cases[_i];
	uint32_t seed;
	size_t split;

	check_decode(c, chunk_all, 0, "one shot");
	check_decode(c, chunk_one, 0, "byte by byte");
	for (split = 0; split <= c->wire_len; split++)
		check_decode(c, chunk_split, (uint32_t)split, "split");
	for (seed = 1; seed <= 50; seed++)
		check_decode(c, chunk_random, seed * 2654435761u, "random");
}
END_TEST

START_TEST(test_few_calls)
{
	static const char wire[] = "Subject: x\r\n\r\nline 1\r\nline 2\n.\r\n";
	struct lmtp_data_decoder dec;
	struct sink sink = { .calls = 0 };
	bool done;

	strbuf_init(&sink.out, 64);
	lmtp_data_decoder_init(&dec);
	ck_assert_uint_eq(lmtp_data_decode(&dec, (const unsigned char *)wire,
					   sizeof(wire) - 1, sink_cb, &sink,
					   &done), sizeof(wire) - 1);
	ck_assert(done);
	ck_assert_msg(sink.calls == 1, "got %u output calls, want 1",
		      sink.calls);
	/* a finished decoder consumes nothing more */
	ck_assert_uint_eq(lmtp_data_decode(&dec, (const unsigned char *)"x", 1,
					   sink_cb, &sink, &done), 0);
	ck_assert(done);
	strbuf_free(&sink.out);
}
END_TEST

/* stuff_message - the DATA wire form of msg (which ends in a line end):
   dot-stuffed, terminated, followed by a pipelined command */
static void stuff_message(const struct strbuf *msg, struct strbuf *wire)
{
	size_t i;
	bool line_start = true;

	for (i = 0; i < msg->len; i++) {
		if (line_start && msg->data[i] == '.')
			strbuf_putc(wire, '.');
		strbuf_putc(wire, msg->data[i]);
		line_start = msg->data[i] == '\n';
	}
	strbuf_append_str(wire, ".\r\nQUIT\r\n");
}

START_TEST(test_random_roundtrip)
{
	static const char alphabet[] = "..\r\r\n\nab \0\xc3";
	uint32_t state = 0xdeadbeefu;
	struct strbuf msg, wire;
	int round;

	strbuf_init(&msg, 256);
	strbuf_init(&wire, 256);
	for (round = 0; round < 2000; round++) {
		struct data_case c;
		size_t len = next_random(&state) % 60, i;

		strbuf_reset(&msg);
		strbuf_reset(&wire);
		for (i = 0; i < len; i++)
			strbuf_putc(&msg, alphabet[next_random(&state) %
						   (sizeof(alphabet) - 1)]);
		if (msg.len > 0 && msg.data[msg.len - 1] != '\n')
			strbuf_append_str(&msg, next_random(&state) % 2 ?
					  "\r\n" : "\n");
		stuff_message(&msg, &wire);

		c.wire = wire.data;
		c.wire_len = wire.len;
		c.want = msg.data;
		c.want_len = msg.len;
		c.consumed = wire.len - strlen("QUIT\r\n");
		c.done = true;
		check_decode(&c, chunk_all, 0, "random message");
		check_decode(&c, chunk_one, 0, "random message bytewise");
		check_decode(&c, chunk_random, next_random(&state) | 1,
			     "random message random chunks");
	}
	strbuf_free(&msg);
	strbuf_free(&wire);
}
END_TEST

START_TEST(test_long_lines)
{
	struct strbuf msg, wire;
	struct data_case c;
	size_t i;

	strbuf_init(&msg, 256);
	strbuf_init(&wire, 256);
	strbuf_append_str(&msg, "Subject: long\r\n\r\n");
	for (i = 0; i < 100000; i++)
		strbuf_putc(&msg, 'E');
	strbuf_append_str(&msg, "\r\n.");
	for (i = 0; i < 100000; i++)
		strbuf_putc(&msg, (char)('a' + i % 26));
	strbuf_append_str(&msg, "\r\n");
	stuff_message(&msg, &wire);

	c.wire = wire.data;
	c.wire_len = wire.len;
	c.want = msg.data;
	c.want_len = msg.len;
	c.consumed = wire.len - strlen("QUIT\r\n");
	c.done = true;
	check_decode(&c, chunk_all, 0, "100 KB lines");
	check_decode(&c, chunk_one, 0, "100 KB lines bytewise");
	check_decode(&c, chunk_random, 77, "100 KB lines random chunks");
	strbuf_free(&msg);
	strbuf_free(&wire);
}
END_TEST

START_TEST(test_bdat_chunk)
{
	static const unsigned char data[] = "0123456789BDAT 3 LAST\r\n";
	struct lmtp_bdat_chunk chunk;
	struct sink sink = { .calls = 0 };
	bool done;

	strbuf_init(&sink.out, 64);
	lmtp_bdat_chunk_init(&chunk, 10);
	ck_assert_uint_eq(lmtp_bdat_chunk_consume(&chunk, data, 4, sink_cb,
						  &sink, &done), 4);
	ck_assert(!done);
	ck_assert_uint_eq(lmtp_bdat_chunk_consume(&chunk, data + 4, 0, sink_cb,
						  &sink, &done), 0);
	ck_assert(!done);
	ck_assert_uint_eq(lmtp_bdat_chunk_consume(&chunk, data + 4,
						  sizeof(data) - 5, sink_cb,
						  &sink, &done), 6);
	ck_assert(done);
	ck_assert_uint_eq(sink.out.len, 10);
	ck_assert(memcmp(sink.out.data, "0123456789", 10) == 0);

	lmtp_bdat_chunk_init(&chunk, 0);
	ck_assert_uint_eq(lmtp_bdat_chunk_consume(&chunk, data, 5, sink_cb,
						  &sink, &done), 0);
	ck_assert(done);

	/* discarding a refused chunk */
	lmtp_bdat_chunk_init(&chunk, 7);
	ck_assert_uint_eq(lmtp_bdat_chunk_consume(&chunk, data, sizeof(data) - 1,
						  NULL, NULL, &done), 7);
	ck_assert(done);
	ck_assert_uint_eq(sink.calls, 2);

	/* a chunk larger than any buffer */
	lmtp_bdat_chunk_init(&chunk, UINT64_MAX);
	ck_assert_uint_eq(lmtp_bdat_chunk_consume(&chunk, data, 3, NULL, NULL,
						  &done), 3);
	ck_assert(!done);
	ck_assert(chunk.remaining == UINT64_MAX - 3);
	strbuf_free(&sink.out);
}
END_TEST

static Suite *lmtp_data_suite(void)
{
	Suite *s = suite_create("lmtp_data");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_decode_cases, 0,
			    LOFT_N_ELEMENTS(data_cases));
	tcase_add_test(tc, test_few_calls);
	tcase_add_test(tc, test_random_roundtrip);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_bdat_chunk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lmtp_data_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
