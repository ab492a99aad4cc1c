/*
 * test_ipc_frame - unit tests for ipc/ipc_frame and ipc/ipc_envelope: every
 * envelope type survives encode/decode unchanged, a stream of all of them
 * decodes the same however it is split (at every byte position, and byte
 * by byte), an incomplete frame stays pending, garbage (random bytes, zero
 * and oversized lengths, unpackable bodies, missing required fields, no
 * body) is an error that sticks, the encoder refuses what the decoder
 * would, and the Hello handshake check.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_frame.h"
#include "strbuf.h"

#define N_CASES(arr) (sizeof(arr) / sizeof((arr)[0]))
#define FIRST_BODY LOFT__ENVELOPE__BODY_HELLO
#define LAST_BODY LOFT__ENVELOPE__BODY_ADMIN_REPLY
#define N_BODIES (LAST_BODY - FIRST_BODY + 1)

/* storage for one sample envelope of any type, built on the stack */
struct sample {
	Loft__Envelope env;
	union {
		Loft__Hello hello;
		Loft__SessionStart session_start;
		Loft__SessionUpdate session_update;
		Loft__SessionEnd session_end;
		Loft__Delivery delivery;
		Loft__Timing timing;
		Loft__LogEvent log_event;
		Loft__Dropped dropped;
		Loft__MasterStatus master_status;
		Loft__Kick kick;
		Loft__DebugUsers debug_users;
		Loft__ConcurrencyAcquire concurrency_acquire;
		Loft__ConcurrencyReply concurrency_reply;
		Loft__ConcurrencyRelease concurrency_release;
		Loft__ReloadRequest reload_request;
		Loft__ReloadResult reload_result;
		Loft__AdminRequest admin_request;
		Loft__AdminReply admin_reply;
	} u;
	Loft__ServiceStatus service;
	Loft__ServiceStatus *services[1];
};

static char *sample_users[] = { "alice@example.org", "bob@example.org" };
static char *sample_listeners[] = { "inet:127.0.0.1:24", "unix:/run/loft/lmtp" };
static uint32_t sample_pids[] = { 101, 102, 103 };

/* build_small - the message types with only scalar fields */
static void build_small(struct sample *s, Loft__Envelope__BodyCase body)
{
	switch (body) {
	case LOFT__ENVELOPE__BODY_HELLO:
		loft__hello__init(&s->u.hello);
		s->u.hello.version = 1;
		s->u.hello.role = LOFT__ROLE__ROLE_SERVICE;
		s->u.hello.service = "lmtp";
		s->u.hello.has_pid = true;
		s->u.hello.pid = 4242;
		break;
	case LOFT__ENVELOPE__BODY_SESSION_END:
		loft__session_end__init(&s->u.session_end);
		s->u.session_end.session_id = "Ab3dEf";
		break;
	case LOFT__ENVELOPE__BODY_TIMING:
		loft__timing__init(&s->u.timing);
		s->u.timing.kind = LOFT__TIMING__KIND__KIND_STORAGE_WRITE;
		s->u.timing.seconds = 0.125;
		break;
	case LOFT__ENVELOPE__BODY_DROPPED:
		loft__dropped__init(&s->u.dropped);
		s->u.dropped.events = UINT64_C(1) << 40;
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_REPLY:
		loft__concurrency_reply__init(&s->u.concurrency_reply);
		s->u.concurrency_reply.id = 7;
		s->u.concurrency_reply.allowed = true;
		s->u.concurrency_reply.current = 3;
		break;
	case LOFT__ENVELOPE__BODY_RELOAD_REQUEST:
		loft__reload_request__init(&s->u.reload_request);
		s->u.reload_request.id = 99;
		break;
	default:
		ck_abort_msg("build_small: body %d", body);
	}
}

/* build_session - session and delivery messages */
static void build_session(struct sample *s, Loft__Envelope__BodyCase body)
{
	switch (body) {
	case LOFT__ENVELOPE__BODY_SESSION_START:
		loft__session_start__init(&s->u.session_start);
		s->u.session_start.session_id = "Ab3dEf";
		s->u.session_start.service = "lmtp";
		s->u.session_start.pid = 17;
		s->u.session_start.client_ip = "192.0.2.1";
		s->u.session_start.has_client_port = true;
		s->u.session_start.client_port = 52000;
		s->u.session_start.start_usecs = UINT64_C(1700000000000000);
		s->u.session_start.state = "READY";
		s->u.session_start.n_users = N_CASES(sample_users);
		s->u.session_start.users = sample_users;
		break;
	case LOFT__ENVELOPE__BODY_SESSION_UPDATE:
		loft__session_update__init(&s->u.session_update);
		s->u.session_update.session_id = "Ab3dEf";
		s->u.session_update.state = "DATA";
		s->u.session_update.n_users = 1;
		s->u.session_update.users = sample_users;
		s->u.session_update.has_bytes_in = true;
		s->u.session_update.bytes_in = 123456;
		break;
	case LOFT__ENVELOPE__BODY_DELIVERY:
		loft__delivery__init(&s->u.delivery);
		s->u.delivery.ts_usecs = 1;
		s->u.delivery.protocol = "lmtp";
		s->u.delivery.pid = 17;
		s->u.delivery.session_id = "Ab3dEf:T1:R1";
		s->u.delivery.user = "alice";
		s->u.delivery.msgid = "<m1@example.org>";
		s->u.delivery.result = "saved";
		s->u.delivery.code = 250;
		s->u.delivery.enhanced_code = "2.0.0";
		s->u.delivery.has_duration_ms = true;
		s->u.delivery.duration_ms = 1.5;
		break;
	case LOFT__ENVELOPE__BODY_LOG_EVENT:
		loft__log_event__init(&s->u.log_event);
		s->u.log_event.ts_usecs = 2;
		s->u.log_event.level = "error";
		s->u.log_event.service = "lda";
		s->u.log_event.pid = 5;
		s->u.log_event.text = "quota exceeded";
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE:
		loft__concurrency_acquire__init(&s->u.concurrency_acquire);
		s->u.concurrency_acquire.id = 8;
		s->u.concurrency_acquire.user = "alice";
		s->u.concurrency_acquire.session_id = "Ab3dEf";
		s->u.concurrency_acquire.limit = 10;
		break;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_RELEASE:
		loft__concurrency_release__init(&s->u.concurrency_release);
		s->u.concurrency_release.user = "alice";
		s->u.concurrency_release.session_id = "Ab3dEf";
		break;
	default:
		build_small(s, body);
	}
}

/* build_sample - a filled envelope of the given body type */
static Loft__Envelope *build_sample(struct sample *s,
				    Loft__Envelope__BodyCase body)
{
	memset(s, 0, sizeof(*s));
	loft__envelope__init(&s->env);
	s->env.body_case = body;
	/* every union member pointer aliases the same storage */
	s->env.hello = &s->u.hello;
	switch (body) {
	case LOFT__ENVELOPE__BODY_MASTER_STATUS:
		loft__service_status__init(&s->service);
		s->service.name = "lmtp";
		s->service.processes = 2;
		s->service.process_limit = 4;
		s->service.client_limit = 100;
		s->service.restarts = 1;
		s->service.n_listeners = N_CASES(sample_listeners);
		s->service.listeners = sample_listeners;
		s->service.up = true;
		s->service.n_pids = N_CASES(sample_pids);
		s->service.pids = sample_pids;
		s->services[0] = &s->service;
		loft__master_status__init(&s->u.master_status);
		s->u.master_status.pid = 1;
		s->u.master_status.start_usecs = 3;
		s->u.master_status.n_services = 1;
		s->u.master_status.services = s->services;
		break;
	case LOFT__ENVELOPE__BODY_KICK:
		loft__kick__init(&s->u.kick);
		s->u.kick.n_session_ids = N_CASES(sample_users);
		s->u.kick.session_ids = sample_users;
		break;
	case LOFT__ENVELOPE__BODY_DEBUG_USERS:
		loft__debug_users__init(&s->u.debug_users);
		s->u.debug_users.n_masks = 1;
		s->u.debug_users.masks = sample_users;
		break;
	case LOFT__ENVELOPE__BODY_RELOAD_RESULT:
		loft__reload_result__init(&s->u.reload_result);
		s->u.reload_result.id = 99;
		s->u.reload_result.ok = false;
		s->u.reload_result.error = "loft.conf:3: unknown setting";
		break;
	case LOFT__ENVELOPE__BODY_ADMIN_REQUEST:
		loft__admin_request__init(&s->u.admin_request);
		s->u.admin_request.id = 5;
		s->u.admin_request.command = "kick";
		s->u.admin_request.n_args = 1;
		s->u.admin_request.args = sample_users;
		break;
	case LOFT__ENVELOPE__BODY_ADMIN_REPLY:
		loft__admin_reply__init(&s->u.admin_reply);
		s->u.admin_reply.id = 5;
		s->u.admin_reply.status = 0;
		s->u.admin_reply.json = "{\"kicked\":1}";
		break;
	default:
		build_session(s, body);
	}
	return &s->env;
}

/* packed - the bare packed bytes of env (for equality checks) */
static void packed(const Loft__Envelope *env, struct strbuf *out)
{
	const char *error;

	strbuf_reset(out);
	ck_assert_msg(ipc_frame_encode(env, out, &error) == 0,
		      "encode %s: %s", ipc_envelope_body_name(env->body_case),
		      error);
}

/* append_all_samples - one frame of every body type, in order */
static void append_all_samples(struct strbuf *stream)
{
	struct sample s;
	const char *error;
	int body;

	for (body = FIRST_BODY; body <= LAST_BODY; body++)
		ck_assert_int_eq(ipc_frame_encode(build_sample(&s, body),
						  stream, &error), 0);
}

/* drain - take every complete envelope; checks each is the next body
   type in order and equals its sample; returns how many */
static int drain(struct ipc_decoder *dec, int *next_body)
{
	struct strbuf want, got;
	Loft__Envelope *env;
	struct sample s;
	const char *error;
	int ret, count = 0;

	strbuf_init(&want, 256);
	strbuf_init(&got, 256);
	while ((ret = ipc_decoder_next(dec, &env, &error)) > 0) {
		ck_assert_msg((int)env->body_case == *next_body,
			      "got body %d, want %d", env->body_case,
			      *next_body);
		packed(build_sample(&s, env->body_case), &want);
		packed(env, &got);
		ck_assert_msg(want.len == got.len &&
			      memcmp(want.data, got.data, want.len) == 0,
			      "%s differs after the round trip",
			      ipc_envelope_body_name(env->body_case));
		ipc_envelope_free(&env);
		ck_assert_ptr_null(env);
		(*next_body)++;
		count++;
	}
	ck_assert_msg(ret == 0, "decode error: %s", error);
	strbuf_free(&want);
	strbuf_free(&got);
	return count;
}

START_TEST(test_round_trip)
{
	Loft__Envelope__BodyCase body = FIRST_BODY + _i;
	struct ipc_decoder *dec = ipc_decoder_create();
	struct strbuf frame;
	struct sample s;
	const char *error;
	int next = body;
	uint32_t len;

	strbuf_init(&frame, 64);
	ck_assert_int_eq(ipc_frame_encode(build_sample(&s, body), &frame,
					  &error), 0);
	len = (uint32_t)(unsigned char)frame.data[0] << 24 |
	      (uint32_t)(unsigned char)frame.data[1] << 16 |
	      (uint32_t)(unsigned char)frame.data[2] << 8 |
	      (uint32_t)(unsigned char)frame.data[3];
	ck_assert_msg(len + IPC_FRAME_HEADER_SIZE == frame.len,
		      "got length %u, want %zu", len,
		      frame.len - IPC_FRAME_HEADER_SIZE);
	ck_assert_int_eq(ipc_decoder_feed(dec, frame.data, frame.len, &error),
			 0);
	ck_assert_int_eq(drain(dec, &next), 1);
	ck_assert_uint_eq(ipc_decoder_buffered(dec), 0);
	ck_assert_str_ne(ipc_envelope_body_name(body), "unknown");
	strbuf_free(&frame);
	ipc_decoder_free(&dec);
	ck_assert_ptr_null(dec);
}
END_TEST

START_TEST(test_split_everywhere)
{
	struct strbuf stream;
	struct ipc_decoder *dec;
	const char *error;
	size_t split;
	int next, count;

	strbuf_init(&stream, 4096);
	append_all_samples(&stream);
	for (split = 0; split <= stream.len; split++) {
		dec = ipc_decoder_create();
		next = FIRST_BODY;
		ck_assert_int_eq(ipc_decoder_feed(dec, stream.data, split,
						  &error), 0);
		count = drain(dec, &next);
		ck_assert_int_eq(ipc_decoder_feed(dec, stream.data + split,
						  stream.len - split, &error),
				 0);
		count += drain(dec, &next);
		ck_assert_msg(count == N_BODIES, "split %zu: got %d, want %d",
			      split, count, N_BODIES);
		ck_assert_uint_eq(ipc_decoder_buffered(dec), 0);
		ipc_decoder_free(&dec);
	}
	strbuf_free(&stream);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	struct strbuf stream;
	const char *error;
	int next = FIRST_BODY, count = 0;
	size_t i, copies;

	/* many copies: the decoder's buffer compaction gets exercised */
	strbuf_init(&stream, 4096);
	for (copies = 0; copies < 20; copies++)
		append_all_samples(&stream);
	for (i = 0; i < stream.len; i++) {
		ck_assert_int_eq(ipc_decoder_feed(dec, stream.data + i, 1,
						  &error), 0);
		count += drain(dec, &next);
		if (next > LAST_BODY)
			next = FIRST_BODY;
	}
	ck_assert_int_eq(count, 20 * N_BODIES);
	strbuf_free(&stream);
	ipc_decoder_free(&dec);
}
END_TEST

START_TEST(test_truncated_pending)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	struct strbuf frame;
	Loft__Envelope *env = NULL;
	struct sample s;
	const char *error;
	size_t cut;

	strbuf_init(&frame, 256);
	ck_assert_int_eq(ipc_frame_encode(build_sample(&s,
		LOFT__ENVELOPE__BODY_DELIVERY), &frame, &error), 0);
	/* every proper prefix is "not yet", never an error */
	for (cut = 0; cut < frame.len; cut++) {
		ipc_decoder_free(&dec);
		dec = ipc_decoder_create();
		ck_assert_int_eq(ipc_decoder_feed(dec, frame.data, cut, &error),
				 0);
		ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 0);
		ck_assert(!ipc_decoder_failed(dec));
		ck_assert_msg(ipc_decoder_buffered(dec) == cut,
			      "got %zu buffered, want %zu",
			      ipc_decoder_buffered(dec), cut);
	}
	ck_assert_int_eq(ipc_decoder_feed(dec, frame.data + cut - 1, 1,
					  &error), 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 1);
	ck_assert_int_eq(env->body_case, LOFT__ENVELOPE__BODY_DELIVERY);
	ck_assert_str_eq(env->delivery->session_id, "Ab3dEf:T1:R1");
	ipc_envelope_free(&env);
	strbuf_free(&frame);
	ipc_decoder_free(&dec);
}
END_TEST

struct garbage_case {
	const char *name;
	const char *bytes;
	size_t len;
	/* fill len pseudo-random bytes instead (first byte forced high) */
	bool random;
	const char *error_part;
};

#define GARBAGE(name, bytes, part) \
	{ name, bytes, sizeof(bytes) - 1, false, part }

static const struct garbage_case garbage_cases[] = {
	GARBAGE("zero length", "\x00\x00\x00\x00", "out of range"),
	GARBAGE("one over the maximum", "\x00\x10\x00\x01", "out of range"),
	GARBAGE("huge length", "\xff\xff\xff\xff", "out of range"),
	/* field 1 (hello) claims 5 bytes, 1 follows */
	GARBAGE("truncated submessage", "\x00\x00\x00\x03\x0a\x05\x08",
		"not a valid envelope"),
	/* field 1 (hello, a message) sent as a varint */
	GARBAGE("wrong wire type", "\x00\x00\x00\x02\x08\x01",
		"not a valid envelope"),
	/* hello without its required version and role */
	GARBAGE("missing required fields", "\x00\x00\x00\x02\x0a\x00",
		"not a valid envelope"),
	/* only an unknown field 99: no body */
	GARBAGE("no body", "\x00\x00\x00\x03\x98\x06\x01", "without a known body"),
	/* a bare invalid tag (field number 0) */
	GARBAGE("field zero", "\x00\x00\x00\x02\x00\x01", "not a valid envelope"),
	/* hello with an unknown field inside (field 0 under an overlong
	   tag, which protobuf-c keeps and would write back as 0x00) */
	GARBAGE("unknown field in hello",
		"\x00\x00\x00\x0e\x0a\x0c\x08\x60\x10\x01\x1a\x03lda\x80\x00\x00",
		"does not know"),
	/* a known body next to an unknown field 99 */
	GARBAGE("unknown field beside the body",
		"\x00\x00\x00\x09\x0a\x04\x08\x01\x10\x01\x98\x06\x01", "does not know"),
	{ "random bytes", NULL, 64, true, "out of range" },
};

START_TEST(test_garbage)
{
	const struct garbage_case *c = &garbage_cases[_i];
	struct ipc_decoder *dec = ipc_decoder_create();
	unsigned char random_bytes[64];
	Loft__Envelope *env = NULL;
	struct strbuf valid;
	struct sample s;
	const char *error = NULL, *first_error;
	const void *bytes = c->bytes;
	uint32_t seed = 12345;
	size_t i;

	if (c->random) {
		for (i = 0; i < c->len; i++) {
			seed = seed * 1103515245u + 12345u;
			random_bytes[i] = (unsigned char)(seed >> 16);
		}
		random_bytes[0] |= 0x80;
		bytes = random_bytes;
	}
	ck_assert_int_eq(ipc_decoder_feed(dec, bytes, c->len, &error), 0);
	ck_assert_msg(ipc_decoder_next(dec, &env, &error) == -1,
		      "%s: decoded, want an error", c->name);
	ck_assert_ptr_null(env);
	ck_assert_msg(strstr(error, c->error_part) != NULL,
		      "%s: got error \"%s\", want \"%s\"", c->name, error,
		      c->error_part);
	ck_assert(ipc_decoder_failed(dec));
	first_error = error;

	/* a valid frame afterwards does not revive it */
	strbuf_init(&valid, 64);
	ck_assert_int_eq(ipc_frame_encode(build_sample(&s,
		LOFT__ENVELOPE__BODY_HELLO), &valid, &error), 0);
	ck_assert_int_eq(ipc_decoder_feed(dec, valid.data, valid.len, &error),
			 -1);
	ck_assert_str_eq(error, first_error);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), -1);
	ck_assert_ptr_null(env);
	ck_assert(ipc_decoder_failed(dec));
	strbuf_free(&valid);
	ipc_decoder_free(&dec);
}
END_TEST

START_TEST(test_error_after_valid)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	Loft__Envelope *env;
	struct strbuf stream;
	struct sample s;
	const char *error;

	/* a good frame, then a zero length: the good one still comes out */
	strbuf_init(&stream, 64);
	ck_assert_int_eq(ipc_frame_encode(build_sample(&s,
		LOFT__ENVELOPE__BODY_KICK), &stream, &error), 0);
	strbuf_append(&stream, "\0\0\0\0", 4);
	ck_assert_int_eq(ipc_decoder_feed(dec, stream.data, stream.len, &error),
			 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 1);
	ck_assert_int_eq(env->body_case, LOFT__ENVELOPE__BODY_KICK);
	ipc_envelope_free(&env);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), -1);
	strbuf_free(&stream);
	ipc_decoder_free(&dec);
}
END_TEST

START_TEST(test_encode_refuses)
{
	Loft__Envelope empty = LOFT__ENVELOPE__INIT;
	Loft__Envelope *env;
	struct strbuf out, big;
	struct sample s;
	const char *error;

	strbuf_init(&out, 16);
	strbuf_append_str(&out, "keep");

	ck_assert_int_eq(ipc_frame_encode(&empty, &out, &error), -1);
	ck_assert_str_eq(error, "envelope has no body");

	env = build_sample(&s, LOFT__ENVELOPE__BODY_DELIVERY);
	s.u.delivery.result = NULL;
	ck_assert_int_eq(ipc_frame_encode(env, &out, &error), -1);
	ck_assert_msg(strstr(error, "required") != NULL, "got \"%s\"", error);

	strbuf_init(&big, IPC_FRAME_MAX + 16);
	while (big.len < IPC_FRAME_MAX)
		strbuf_append_str(&big, "0123456789abcdef");
	env = build_sample(&s, LOFT__ENVELOPE__BODY_ADMIN_REPLY);
	s.u.admin_reply.json = big.data;
	ck_assert_int_eq(ipc_frame_encode(env, &out, &error), -1);
	ck_assert_msg(strstr(error, "maximum") != NULL, "got \"%s\"", error);

	ck_assert_uint_eq(out.len, 4);
	ck_assert_str_eq(out.data, "keep");
	strbuf_free(&big);
	strbuf_free(&out);
}
END_TEST

START_TEST(test_largest_frame)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	Loft__Envelope *env;
	struct strbuf frame, json;
	struct sample s;
	const char *error;
	size_t size;

	/* grow the JSON until the envelope is exactly IPC_FRAME_MAX */
	strbuf_init(&json, IPC_FRAME_MAX);
	strbuf_init(&frame, IPC_FRAME_MAX + 8);
	env = build_sample(&s, LOFT__ENVELOPE__BODY_ADMIN_REPLY);
	size = 64;
	do {
		while (size++ < IPC_FRAME_MAX)
			strbuf_putc(&json, 'x');
		s.u.admin_reply.json = json.data;
		size = loft__envelope__get_packed_size(env);
	} while (size < IPC_FRAME_MAX);
	ck_assert_uint_eq(size, IPC_FRAME_MAX);
	ck_assert_int_eq(ipc_frame_encode(env, &frame, &error), 0);
	ck_assert_int_eq(ipc_decoder_feed(dec, frame.data, frame.len, &error),
			 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 1);
	ck_assert_uint_eq(strlen(env->admin_reply->json), json.len);
	ipc_envelope_free(&env);
	strbuf_free(&frame);
	strbuf_free(&json);
	ipc_decoder_free(&dec);
}
END_TEST

/* a lower maximum refuses a frame by its declared length, before its
   body arrives; 0 or a maximum above IPC_FRAME_MAX mean IPC_FRAME_MAX */
START_TEST(test_lower_max)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	const unsigned char at_max[4] = { 0, 0, 0x10, 0 };	/* 4096 */
	const unsigned char over[4] = { 0, 0, 0x10, 1 };	/* 4097 */
	Loft__Envelope *env;
	const char *error;

	ipc_decoder_set_max(dec, 4096);
	ck_assert_int_eq(ipc_decoder_feed(dec, at_max, 4, &error), 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 0);
	ipc_decoder_free(&dec);

	dec = ipc_decoder_create();
	ipc_decoder_set_max(dec, 4096);
	ck_assert_int_eq(ipc_decoder_feed(dec, over, 4, &error), 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), -1);
	ck_assert_str_eq(error, "frame length 4097 out of range (1..4096)");
	ck_assert_uint_eq(ipc_decoder_buffered(dec), 0);
	ipc_decoder_free(&dec);

	dec = ipc_decoder_create();
	ipc_decoder_set_max(dec, 4096);
	ipc_decoder_set_max(dec, 0);
	ck_assert_int_eq(ipc_decoder_feed(dec, over, 4, &error), 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 0);
	ipc_decoder_set_max(dec, (size_t)IPC_FRAME_MAX * 2);
	ck_assert_int_eq(ipc_decoder_next(dec, &env, &error), 0);
	ipc_decoder_free(&dec);
}
END_TEST

struct hello_case {
	const char *name;
	Loft__Envelope__BodyCase body;
	uint32_t version;
	int want;
	const char *error_part;
};

static const struct hello_case hello_cases[] = {
	{ "current version", LOFT__ENVELOPE__BODY_HELLO, 1, 0, NULL },
	{ "version 0", LOFT__ENVELOPE__BODY_HELLO, 0, -1, "protocol version 0" },
	{ "version 2", LOFT__ENVELOPE__BODY_HELLO, 2, -1, "protocol version 2" },
	{ "delivery first", LOFT__ENVELOPE__BODY_DELIVERY, 1, -1,
	  "first message is delivery, not hello" },
	{ "dropped first", LOFT__ENVELOPE__BODY_DROPPED, 1, -1,
	  "first message is dropped" },
};

START_TEST(test_check_hello)
{
	const struct hello_case *c = &hello_cases[_i];
	struct sample s;
	Loft__Envelope *env = build_sample(&s, c->body);
	const char *error = NULL;
	int ret;

	if (c->body == LOFT__ENVELOPE__BODY_HELLO)
		s.u.hello.version = c->version;
	ret = ipc_check_hello(env, &error);
	ck_assert_msg(ret == c->want, "%s: got %d, want %d", c->name, ret,
		      c->want);
	if (c->error_part != NULL)
		ck_assert_msg(strstr(error, c->error_part) != NULL,
			      "%s: got \"%s\", want \"%s\"", c->name, error,
			      c->error_part);
}
END_TEST

START_TEST(test_hello_envelope)
{
	Loft__Envelope *env = ipc_hello_envelope(LOFT__ROLE__ROLE_LDA, "lda",
						 77);
	Loft__Envelope *no_service = ipc_hello_envelope(LOFT__ROLE__ROLE_STATS,
							NULL, 1);
	struct ipc_decoder *dec = ipc_decoder_create();
	Loft__Envelope *got;
	struct strbuf frame;
	const char *error;
	bool report;

	strbuf_init(&frame, 64);
	ck_assert_int_eq(ipc_check_hello(env, &error), 0);
	ck_assert_uint_eq(ipc_envelope_events(env, &report), 0);
	ck_assert(!report);
	ck_assert_int_eq(ipc_frame_encode(env, &frame, &error), 0);
	ck_assert_int_eq(ipc_frame_encode(no_service, &frame, &error), 0);
	ck_assert_int_eq(ipc_decoder_feed(dec, frame.data, frame.len, &error),
			 0);
	ck_assert_int_eq(ipc_decoder_next(dec, &got, &error), 1);
	ck_assert_int_eq(got->hello->role, LOFT__ROLE__ROLE_LDA);
	ck_assert_str_eq(got->hello->service, "lda");
	ck_assert_uint_eq(got->hello->pid, 77);
	ipc_envelope_free(&got);
	ck_assert_int_eq(ipc_decoder_next(dec, &got, &error), 1);
	ck_assert_ptr_null(got->hello->service);
	ipc_envelope_free(&got);
	ipc_envelope_free(&got);
	ipc_envelope_free(&env);
	ipc_envelope_free(&no_service);
	strbuf_free(&frame);
	ipc_decoder_free(&dec);
}
END_TEST

START_TEST(test_event_weight)
{
	struct sample s;
	bool report;

	ck_assert_uint_eq(ipc_envelope_events(build_sample(&s,
		LOFT__ENVELOPE__BODY_DELIVERY), &report), 1);
	ck_assert(!report);
	ck_assert_uint_eq(ipc_envelope_events(build_sample(&s,
		LOFT__ENVELOPE__BODY_DROPPED), &report), UINT64_C(1) << 40);
	ck_assert(report);
	ck_assert_str_eq(ipc_envelope_body_name(LOFT__ENVELOPE__BODY__NOT_SET),
			 "none");
	ck_assert_str_eq(ipc_envelope_body_name(
		LOFT__ENVELOPE__BODY_SESSION_START), "session_start");
}
END_TEST

static Suite *ipc_frame_suite(void)
{
	Suite *s = suite_create("ipc_frame");
	TCase *tc_codec = tcase_create("codec");
	TCase *tc_garbage = tcase_create("garbage");
	TCase *tc_hello = tcase_create("hello");

	tcase_add_loop_test(tc_codec, test_round_trip, 0, N_BODIES);
	tcase_add_test(tc_codec, test_split_everywhere);
	tcase_add_test(tc_codec, test_byte_by_byte);
	tcase_add_test(tc_codec, test_truncated_pending);
	tcase_add_test(tc_codec, test_encode_refuses);
	tcase_add_test(tc_codec, test_largest_frame);
	tcase_add_test(tc_codec, test_lower_max);
	tcase_add_test(tc_codec, test_event_weight);
	suite_add_tcase(s, tc_codec);
	tcase_add_loop_test(tc_garbage, test_garbage, 0,
			    N_CASES(garbage_cases));
	tcase_add_test(tc_garbage, test_error_after_valid);
	suite_add_tcase(s, tc_garbage);
	tcase_add_loop_test(tc_hello, test_check_hello, 0,
			    N_CASES(hello_cases));
	tcase_add_test(tc_hello, test_hello_envelope);
	suite_add_tcase(s, tc_hello);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ipc_frame_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
