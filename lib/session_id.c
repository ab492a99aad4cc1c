/*
 * session_id - generate session identifiers (see session_id.h).
 */
#include "session_id.h"


#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "base64.h"

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
	/* 16 bytes -> 22 base64 characters, no padding */
	base64_encode_to(raw, 16, false, buf);
}
