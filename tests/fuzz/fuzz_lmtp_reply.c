/*
 * fuzz_lmtp_reply - libFuzzer target for the LMTP reply parser
 * (lib/lmtp_reply.c) that reads what proxied backends and submission_host send: a
 * backend may be broken or hostile. The input is a byte stream parsed
 * reply after reply, as the client reads it. Checked: a reply takes at
 * least one line and never more than given; its code is 200..599 and its
 * enhanced code, when split off, starts with the code's class digit; the
 * text is NUL-terminated within its buffer; an error has a message; and
 * every prefix of a reply's bytes answers 0 ("more needed") or the same
 * error, never a different reply (the client reads in arbitrary pieces).
 */
#include "fuzz_util.h"

#include <string.h>

#include "lmtp_reply.h"

static unsigned int lines_seen;

static void count_line(const char *text, size_t len, void *context)
{
	(void)context;
	FUZZ_CHECK(len <= LMTP_REPLY_MAX_LINE);
	FUZZ_CHECK(len == 0 || text != NULL);
	lines_seen++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *error;
	struct lmtp_reply reply, again;
	size_t pos = 0, consumed, c2;
	int ret;

	while (pos < size) {
		lines_seen = 0;
		error = NULL;
		ret = lmtp_reply_parse(buf + pos, size - pos, &reply, &consumed,
				       count_line, NULL, &error);
		if (ret < 0) {
			FUZZ_CHECK(error != NULL && *error != '\0');
			return 0;
		}
		if (ret == 0)
			return 0;
		FUZZ_CHECK(consumed > 0 && consumed <= size - pos);
		FUZZ_CHECK(reply.code >= 200 && reply.code <= 599);
		FUZZ_CHECK(reply.lines >= 1 &&
			   reply.lines <= LMTP_REPLY_MAX_LINES);
		FUZZ_CHECK(lines_seen == reply.lines);
		FUZZ_CHECK(memchr(reply.text, '\0', sizeof(reply.text)) != NULL);
		if (reply.enhanced[0] != '\0')
			FUZZ_CHECK(reply.enhanced[0] - '0' ==
				   (int)(reply.code / 100));
		/* a shorter read of the same bytes is "more needed" */
		for (size_t cut = 0; cut < consumed; cut++) {
			ret = lmtp_reply_parse(buf + pos, cut, &again, &c2,
					       NULL, NULL, &error);
			FUZZ_CHECK(ret == 0);
		}
		pos += consumed;
	}
	return 0;
}
