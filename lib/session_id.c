/*
 * session_id - generate session identifiers (see session_id.h).
 */
#include "session_id.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

static const char base64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void session_id_generate(char buf[SESSION_ID_BUFSIZE])
{
	unsigned char raw[18];
	struct timeval tv;
	uint32_t pid = (uint32_t)getpid();
	static uint32_t counter;

	gettimeofday(&tv, NULL);
	uint32_t usecs = (uint32_t)tv.tv_usec, secs = (uint32_t)tv.tv_sec;
	memcpy(raw, &usecs, 4);
	memcpy(raw + 4, &secs, 4);
	memcpy(raw + 8, &pid, 4);
	counter++;
	memcpy(raw + 12, &counter, 2);
	if (getrandom(raw + 14, 4, GRND_NONBLOCK) != 4) {
		uint32_t mix = usecs * 2654435761u ^ pid ^ counter;
		memcpy(raw + 14, &mix, 4);
	}
	/* 16 bytes -> 22 base64 characters (the last group is 1 byte) */
	size_t out = 0;
	for (size_t i = 0; i < 16; i += 3) {
		uint32_t group = (uint32_t)raw[i] << 16;
		if (i + 1 < 16)
			group |= (uint32_t)raw[i + 1] << 8;
		if (i + 2 < 16)
			group |= raw[i + 2];
		buf[out++] = base64_chars[(group >> 18) & 63];
		buf[out++] = base64_chars[(group >> 12) & 63];
		if (i + 1 < 16)
			buf[out++] = base64_chars[(group >> 6) & 63];
		if (i + 2 < 16)
			buf[out++] = base64_chars[group & 63];
	}
	buf[out] = '\0';
}
