/*
 * log_reader - reading the log channel in loft-log (see log_reader.h).
 * Each wake-up handles a bounded batch so that signals (SIGUSR1 reopen,
 * SIGTERM) are seen between batches even under a flood of lines.
 */
#include "log_reader.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "log_remote.h"
#include "xalloc.h"

/* records per wake-up */
#define LOG_READER_BATCH 256
/* a drain stops after this many batches even if lines keep coming */
#define LOG_READER_DRAIN_BATCHES 256
/* one byte more than a record may have, so an oversized one shows */
#define LOG_READER_BUF_SIZE (LOG_REMOTE_MAX_RECORD + 1)

struct log_reader {
	struct evloop_io *io;
	int fd;
	unsigned char *buf;
	log_reader_eof_callback_t *eof_cb;
	void *context;
	uint64_t written, invalid;
};

/* log_reader_handle - write one received record, or count and report a
   malformed one (reported at 1, 2, 4, 8 ... so a flood stays small) */
static void log_reader_handle(struct log_reader *reader, size_t len)
{
	const char *error;

	if (log_remote_write_record(reader->buf, len, &error) < 0) {
		reader->invalid++;
		if ((reader->invalid & (reader->invalid - 1)) == 0)
			log_warning("log channel: dropped an invalid record (%s); "
				    "%llu dropped so far", error,
				    (unsigned long long)reader->invalid);
		return;
	}
	reader->written++;
}

enum log_reader_state {
	LOG_READER_EMPTY,	/* nothing queued now */
	LOG_READER_MORE,	/* the batch is done, more may be queued */
	LOG_READER_END,		/* EOF, or the socket broke */
};

/* log_reader_closed - recv() gave 0: true when every sender is gone,
   false for an empty record (which a process may send, EOF it is not) */
static bool log_reader_closed(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 &&
		(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* log_reader_read - up to max records */
static enum log_reader_state log_reader_read(struct log_reader *reader,
					     unsigned int max)
{
	unsigned int count = 0;

	while (count < max) {
		ssize_t ret = recv(reader->fd, reader->buf, LOG_READER_BUF_SIZE,
				   MSG_DONTWAIT);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return LOG_READER_EMPTY;
		if (ret < 0) {
			log_error("log channel: recv() failed: %m");
			return LOG_READER_END;
		}
		if (ret == 0 && log_reader_closed(reader->fd))
			return LOG_READER_END;
		log_reader_handle(reader, (size_t)ret);
		count++;
	}
	return LOG_READER_MORE;
}

/* log_reader_eof - nobody can send any more: stop and tell the owner */
static void log_reader_eof(struct log_reader *reader)
{
	if (reader->io != NULL)
		evloop_remove_io(&reader->io);
	if (reader->eof_cb != NULL)
		reader->eof_cb(reader->context);
}

/* log_reader_ready - the channel has records (or EOF) */
static void log_reader_ready(struct evloop_io *io, int fd, unsigned int events,
			     void *context)
{
	struct log_reader *reader = context;

	(void)io;
	(void)fd;
	(void)events;
	if (log_reader_read(reader, LOG_READER_BATCH) == LOG_READER_END)
		log_reader_eof(reader);
}

struct log_reader *log_reader_create(struct evloop *loop, int fd,
				     log_reader_eof_callback_t *cb,
				     void *context)
{
	struct log_reader *reader = xcalloc(1, sizeof(*reader));

	reader->fd = fd;
	reader->buf = xmalloc(LOG_READER_BUF_SIZE);
	reader->eof_cb = cb;
	reader->context = context;
	reader->io = evloop_add_io(loop, fd, EVLOOP_READ, log_reader_ready,
				   reader);
	return reader;
}

void log_reader_free(struct log_reader **_reader)
{
	struct log_reader *reader = *_reader;

	if (reader == NULL)
		return;
	*_reader = NULL;
	if (reader->io != NULL)
		evloop_remove_io(&reader->io);
	free(reader->buf);
	free(reader);
}

void log_reader_drain(struct log_reader *reader)
{
	enum log_reader_state state;
	unsigned int batches = 0;

	if (reader->io == NULL)
		return;
	do {
		state = log_reader_read(reader, LOG_READER_BATCH);
	} while (state == LOG_READER_MORE && ++batches < LOG_READER_DRAIN_BATCHES);
	if (state == LOG_READER_END)
		log_reader_eof(reader);
}

uint64_t log_reader_written(const struct log_reader *reader)
{
	return reader->written;
}

uint64_t log_reader_invalid(const struct log_reader *reader)
{
	return reader->invalid;
}
