/*
 * fuzz_http_response - libFuzzer target for the HTTP response parser
 * (lib/http_client.c) that reads what another host sends loftadm -H: a
 * broken host, or something that is not loft at all. The first byte says
 * whether the input ends with the connection (EOF); the rest is the
 * response. Checked: a parsed response has a status 200..599 and a body
 * NUL-terminated at its length, never longer than the input or than
 * HTTP_RESPONSE_MAX_BODY; an error has a message; "more needed" never
 * comes with EOF; and, reading the same bytes as they arrive (every
 * prefix, without EOF), the parser answers "more needed" until it
 * answers once and for all: what it gives at a prefix is what it gives
 * with more bytes after it (the client stops reading at the first
 * complete answer), so a response is decided by its own bytes.
 */
#include "fuzz_util.h"

#include <string.h>

#include "http_client.h"

/* parse - one parse, the properties every answer has */
static int parse(const char *buf, size_t len, bool eof,
		 struct http_response *resp)
{
	const char *error = NULL;
	int ret = http_response_parse(buf, len, eof, resp, &error);

	FUZZ_CHECK(ret >= -1 && ret <= 1);
	if (ret < 0)
		FUZZ_CHECK(error != NULL && *error != '\0');
	if (ret == 0)
		FUZZ_CHECK(!eof);
	if (ret == 1) {
		FUZZ_CHECK(resp->status >= 200 && resp->status <= 599);
		FUZZ_CHECK(resp->body != NULL);
		FUZZ_CHECK(resp->body_len <= len &&
			   resp->body_len <= HTTP_RESPONSE_MAX_BODY);
		FUZZ_CHECK(resp->body[resp->body_len] == '\0');
	}
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	bool eof = (fuzz_u8(&in) & 1) != 0;
	const char *buf = (const char *)in.data;
	struct http_response resp, first;
	int ret, at = 0;
	size_t cut;

	ret = parse(buf, in.size, eof, &resp);
	if (ret == 1)
		http_response_free(&resp);
	/* as the bytes arrive: the first prefix that decides (quadratic:
	   only for inputs of libFuzzer's default length) */
	if (in.size > 4096)
		return 0;
	for (cut = 0; cut <= in.size; cut++) {
		at = parse(buf, cut, false, &first);
		if (at != 0)
			break;
	}
	if (at == 1) {
		/* complete at cut: the same answer with everything after */
		ret = parse(buf, in.size, false, &resp);
		FUZZ_CHECK(ret == 1 && resp.status == first.status &&
			   resp.body_len == first.body_len &&
			   memcmp(resp.body, first.body, first.body_len) == 0);
		http_response_free(&resp);
		http_response_free(&first);
	} else if (at < 0) {
		FUZZ_CHECK(parse(buf, in.size, false, &resp) < 0);
	}
	return 0;
}
