/*
 * log_remote - the record format of the log channel and its non-blocking
 * send (see log_remote.h). Which lines go to the channel and what happens
 * when it cannot take one is the core's business (log.c).
 */
#include "log_remote.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define LOG_REMOTE_TIMESTAMP_MAX 0xffff

void log_remote_encode_header(enum log_level level, size_t timestamp_len,
			      size_t line_len,
			      unsigned char buf[LOG_REMOTE_HEADER_SIZE])
{
	if (timestamp_len > line_len)
		timestamp_len = line_len;
	if (timestamp_len > LOG_REMOTE_TIMESTAMP_MAX)
		timestamp_len = LOG_REMOTE_TIMESTAMP_MAX;
	buf[0] = LOG_REMOTE_VERSION;
	buf[1] = (unsigned char)level;
	buf[2] = (unsigned char)(timestamp_len >> 8);
	buf[3] = (unsigned char)(timestamp_len & 0xff);
}

int log_remote_decode(const void *buf, size_t len,
		      struct log_remote_record *rec_r, const char **error_r)
{
	const unsigned char *p = buf;

	if (len < LOG_REMOTE_HEADER_SIZE) {
		*error_r = "record shorter than its header";
		return -1;
	}
	if (p[0] != LOG_REMOTE_VERSION) {
		*error_r = "unknown record version";
		return -1;
	}
	if (p[1] >= LOG_LEVEL_COUNT) {
		*error_r = "unknown log level";
		return -1;
	}
	if (len - LOG_REMOTE_HEADER_SIZE > LOG_REMOTE_MAX_LINE) {
		*error_r = "line too long";
		return -1;
	}
	rec_r->level = (enum log_level)p[1];
	rec_r->timestamp_len = ((size_t)p[2] << 8) | p[3];
	rec_r->line = (const char *)p + LOG_REMOTE_HEADER_SIZE;
	rec_r->len = len - LOG_REMOTE_HEADER_SIZE;
	if (rec_r->timestamp_len > rec_r->len) {
		*error_r = "timestamp longer than the line";
		return -1;
	}
	return 0;
}

int log_remote_write_record(const void *buf, size_t len,
			    const char **error_r)
{
	struct log_remote_record rec;

	if (log_remote_decode(buf, len, &rec, error_r) < 0)
		return -1;
	log_write_line(rec.level, rec.line, rec.len, rec.timestamp_len);
	return 0;
}

int log_remote_send(int fd, enum log_level level, size_t timestamp_len,
		    const char *line, size_t len)
{
	unsigned char header[LOG_REMOTE_HEADER_SIZE];
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t ret;

	if (len > LOG_REMOTE_MAX_LINE) {
		errno = EMSGSIZE;
		return -1;
	}
	log_remote_encode_header(level, timestamp_len, len, header);
	iov[0] = (struct iovec) { .iov_base = header, .iov_len = sizeof(header) };
	iov[1] = (struct iovec) { .iov_base = (void *)line, .iov_len = len };
	do {
		ret = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -1 : 0;
}

int log_remote_env_fd(const char *name)
{
	const char *value = getenv(name);
	struct stat st;
	char *end;
	long fd;
	int type = 0;
	socklen_t type_len = sizeof(type);

	if (value == NULL || *value == '\0')
		return -1;
	errno = 0;
	fd = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || fd < 0 || fd > INT_MAX)
		return -1;
	if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 ||
	    type != SOCK_SEQPACKET)
		return -1;
	return (int)fd;
}
