/*
 * log_reader - loft-log's end of the log channel (logging/log_remote.h):
 * reads the records every service process sends and writes each line
 * where its level goes (log_write_line), in the order they arrive. EOF
 * comes only when every process holding the sending end (loftd and its
 * children) is gone.
 */
#ifndef LOG_READER_H
#define LOG_READER_H

#include <stdint.h>

struct evloop;
struct log_reader;

typedef void log_reader_eof_callback_t(void *context);

/* log_reader_create - read fd (the receiving end) on loop; cb runs once
   at EOF. The fd stays the caller's. */
struct log_reader *log_reader_create(struct evloop *loop, int fd,
				     log_reader_eof_callback_t *cb,
				     void *context);
/* log_reader_free - stop reading; sets *reader = NULL */
void log_reader_free(struct log_reader **reader);

/* log_reader_drain - write every record queued right now (before an
   exit); records still arriving after it are left for the next reader */
void log_reader_drain(struct log_reader *reader);

/* log_reader_written - records written so far */
uint64_t log_reader_written(const struct log_reader *reader);
/* log_reader_invalid - records dropped as malformed */
uint64_t log_reader_invalid(const struct log_reader *reader);

#endif
