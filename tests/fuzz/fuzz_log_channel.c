/*
 * fuzz_log_channel - libFuzzer target for loft-log's end of the log
 * channel (daemon/log/log_reader.c over logging/log_remote.c): every
 * service process, whatever user it runs as, can send it records. The
 * input is a list of records (2-byte big-endian length, then the bytes),
 * each sent on a real SOCK_SEQPACKET socketpair and read by a log_reader.
 * Checked for each: it is written exactly when log_remote_decode accepts
 * it, else counted as invalid (an empty record included: it is not EOF);
 * a written line reaches the log as the record's line with NUL, CR and LF
 * made '?', nothing more; EOF is reported once, only after the sender
 * closed.
 */
#include "fuzz_util.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "log_reader.h"
#include "log_remote.h"
#include "strbuf.h"

static struct evloop *loop;
static struct strbuf captured;
static unsigned int eofs;

/* capture - the last line written (the reader's own warnings included) */
static void capture(enum log_level level, const char *line, void *context)
{
	(void)level;
	(void)context;
	strbuf_reset(&captured);
	strbuf_append_str(&captured, line);
}

static void on_eof(void *context)
{
	(void)context;
	eofs++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_logs();
	loop = evloop_create();
	strbuf_init(&captured, 256);
	log_set_capture(capture, NULL);
	return 0;
}

/* check_written - the line as the log got it */
static void check_written(const struct log_remote_record *rec)
{
	FUZZ_CHECK(captured.len >= rec->len);
	for (size_t i = 0; i < rec->len; i++) {
		char c = rec->line[i];
		char want = c == '\0' || c == '\r' || c == '\n' ? '?' : c;

		FUZZ_CHECK(captured.data[i] == want);
	}
	/* at most the newline the file gets */
	FUZZ_CHECK(captured.len == rec->len ||
		   (captured.len == rec->len + 1 &&
		    captured.data[rec->len] == '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct log_reader *reader;
	int fds[2];

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0);
	reader = log_reader_create(loop, fds[0], on_eof, NULL);
	eofs = 0;
	while (!fuzz_empty(&in)) {
		uint64_t written = log_reader_written(reader);
		uint64_t invalid = log_reader_invalid(reader);
		struct log_remote_record rec;
		const char *error;
		size_t len;
		const uint8_t *record = fuzz_bytes(&in, fuzz_u16(&in), &len);
		bool valid = log_remote_decode(record, len, &rec, &error) == 0;

		if (valid) {
			FUZZ_CHECK(rec.timestamp_len <= rec.len);
			FUZZ_CHECK(rec.line == (const char *)record +
				   LOG_REMOTE_HEADER_SIZE &&
				   rec.len == len - LOG_REMOTE_HEADER_SIZE);
		} else {
			FUZZ_CHECK(error != NULL && *error != '\0');
		}
		FUZZ_CHECK(send(fds[1], record, len, MSG_DONTWAIT) == (ssize_t)len);
		strbuf_reset(&captured);
		log_reader_drain(reader);
		FUZZ_CHECK(eofs == 0);
		FUZZ_CHECK(log_reader_written(reader) == written + valid);
		FUZZ_CHECK(log_reader_invalid(reader) == invalid + !valid);
		if (valid)
			check_written(&rec);
	}
	close(fds[1]);
	log_reader_drain(reader);
	FUZZ_CHECK(eofs == 1);
	log_reader_drain(reader);
	FUZZ_CHECK(eofs == 1);
	log_reader_free(&reader);
	FUZZ_CHECK(reader == NULL);
	close(fds[0]);
	return 0;
}
