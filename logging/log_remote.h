/*
 * log_remote - the log channel between loft's service processes and the
 * log service (loft-log), which is the only writer of log files and
 * syslog while loftd runs.
 *
 * loftd creates one SOCK_SEQPACKET socketpair. Every child it starts gets
 * the sending end, its number in LOFT_LOG_FD; loft-log gets the receiving
 * end (LOFT_LOG_SERVER_FD); loftd keeps both, so lines queued while
 * loft-log is restarted wait for the next one. log_init() picks up
 * LOFT_LOG_FD by itself: from then on each line this process formats
 * (text or JSON, exactly the bytes a file would get, without the newline)
 * goes out as one record
 *
 *   byte 0     LOG_REMOTE_VERSION
 *   byte 1     the level (enum log_level)
 *   bytes 2-3  timestamp length, big-endian: how many leading bytes of
 *              the line are the log_timestamp prefix, dropped for syslog
 *   bytes 4..  the line
 *
 * sent with MSG_DONTWAIT: a channel that cannot take the line at once
 * (full, or nobody reads any more) makes the library write it directly
 * as it would without the channel, and log_write_failures() counts it.
 */
#ifndef LOFT_LOG_REMOTE_H
#define LOFT_LOG_REMOTE_H

#include <stddef.h>

#include "log.h"

/* the sending end, in every service process loftd starts */
#define LOG_REMOTE_ENV "LOFT_LOG_FD"
/* the receiving end, in loft-log only */
#define LOG_REMOTE_SERVER_ENV "LOFT_LOG_SERVER_FD"

#define LOG_REMOTE_VERSION 1
#define LOG_REMOTE_HEADER_SIZE 4
/* longer lines are written directly (and counted as failures) */
#define LOG_REMOTE_MAX_LINE (64 * 1024)
#define LOG_REMOTE_MAX_RECORD (LOG_REMOTE_HEADER_SIZE + LOG_REMOTE_MAX_LINE)

/* One decoded record; line points into the buffer given to decode and is
   not NUL-terminated. */
struct log_remote_record {
	enum log_level level;
	size_t timestamp_len;
	const char *line;
	size_t len;
};

/* log_remote_encode_header - the 4-byte header of a line; timestamp_len
   is capped at the line length and at 65535 */
void log_remote_encode_header(enum log_level level, size_t timestamp_len,
			      size_t line_len,
			      unsigned char buf[LOG_REMOTE_HEADER_SIZE]);
/* log_remote_decode - one received record: 0 with *rec_r, or -1 with
   *error_r (short, unknown version or level, timestamp past the end,
   line too long) */
int log_remote_decode(const void *buf, size_t len,
		      struct log_remote_record *rec_r, const char **error_r);

/* log_remote_write_record - decode a received record and write its line
   here (log_write_line); 0, or -1 with *error_r when it is malformed */
int log_remote_write_record(const void *buf, size_t len,
			    const char **error_r);

/* log_remote_send - send one line on fd without blocking; 0, or -1 with
   errno (EAGAIN: the channel is full; EMSGSIZE: line over
   LOG_REMOTE_MAX_LINE; ECONNREFUSED/EPIPE: nobody reads) */
int log_remote_send(int fd, enum log_level level, size_t timestamp_len,
		    const char *line, size_t len);

/* log_remote_env_fd - the fd the environment variable name holds when it
   is a SOCK_SEQPACKET socket; -1 otherwise (unset, bad number, other
   kind of fd) */
int log_remote_env_fd(const char *name);

/* log_set_remote - send every line over fd from now on (-1: write
   directly again). The fd stays the caller's. log_init() does this with
   LOFT_LOG_FD; loftd calls it for its own lines. */
void log_set_remote(int fd);
/* log_remote_fd - the channel lines go to, or -1 */
int log_remote_fd(void);

#endif
