/*
 * fuzz_util - what loft's libFuzzer targets share: FUZZ_CHECK (a failed
 * property aborts, which libFuzzer reports as a crash with the input),
 * the entry point's prototype, and a cursor that carves an input into the
 * pieces a target needs (bytes, small numbers, NUL-terminated fields), so
 * one input can drive a whole sequence of calls. Header-only: every
 * target is one .c file.
 */
#ifndef LOFT_FUZZ_UTIL_H
#define LOFT_FUZZ_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CHECK - abort, which libFuzzer reports as a crash, unless cond
   (a target may define its own, that says which check failed, first) */
#ifndef FUZZ_CHECK
#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)
#endif

/* The unread rest of an input. */
struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

static inline bool fuzz_empty(const struct fuzz_input *in)
{
	return in->size == 0;
}

/* fuzz_u8 - the next byte, 0 once the input is used up */
static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t c;

	if (in->size == 0)
		return 0;
	c = in->data[0];
	in->data++;
	in->size--;
	return c;
}

/* fuzz_u16 - two bytes, big-endian */
static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* fuzz_bytes - up to len bytes (fewer at the end); *len_r gets the count */
static inline const uint8_t *fuzz_bytes(struct fuzz_input *in, size_t len,
					size_t *len_r)
{
	const uint8_t *p = in->data;

	if (len > in->size)
		len = in->size;
	in->data += len;
	in->size -= len;
	*len_r = len;
	return p;
}

/* fuzz_field - the bytes up to the next sep (consumed) or the end, as an
   xmalloc'ed NUL-terminated string (NUL bytes inside cut it short, as a
   C caller would see it); free() it */
static inline char *fuzz_field(struct fuzz_input *in, uint8_t sep)
{
	const uint8_t *end = memchr(in->data, sep, in->size);
	size_t len = end == NULL ? in->size : (size_t)(end - in->data);
	char *field = xstrndup((const char *)in->data, len);

	in->data += len;
	in->size -= len;
	if (end != NULL) {
		in->data++;
		in->size--;
	}
	return field;
}

/* fuzz_chunk - a piece length chosen by the input for feeding a stream:
   1..16 bytes, or everything left when the chooser byte's top bit is set */
static inline size_t fuzz_chunk(struct fuzz_input *in, size_t left)
{
	uint8_t c = fuzz_u8(in);
	size_t n = (c & 0x80) != 0 ? left : 1 + (size_t)(c & 0x0f);

	return n < left ? n : left;
}

/* fuzz_quiet_logs - the code under test logs its warnings to /dev/null
   (at its normal levels, so every log call is still made) */
static inline void fuzz_quiet_logs(void)
{
	static bool done;
	struct log_settings set = {
		.log_path = "/dev/null", .info_log_path = "",
		.debug_log_path = "", .syslog_facility = "mail",
		.log_timestamp = "", .format = LOG_FORMAT_TEXT,
	};
	const char *error;

	if (done)
		return;
	done = true;
	log_init("fuzz");
	FUZZ_CHECK(log_configure(&set, &error) == 0);
}

/* fuzz_count_fds - open descriptors of this process (a target checks
   that an input leaked none) */
static inline unsigned int fuzz_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int count = 0;
	struct dirent *d;

	FUZZ_CHECK(dir != NULL);
	while ((d = readdir(dir)) != NULL)
		count += d->d_name[0] != '.';
	closedir(dir);
	return count;
}

#endif
