/*
 * master_log - the log channel loftd owns and the stderr pipes of its
 * children (see master_log.h). Everything is non-blocking: a child that
 * floods its stderr costs loftd reads, never a wait, and a line the
 * channel cannot take is written by loftd itself (the log library's
 * fallback).
 */
#include "master_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "log_remote.h"
#include "master_error.h"
#include "master_process.h"
#include "strbuf.h"
#include "xalloc.h"

/* bytes read from a pipe per wake-up: other pipes get their turn */
#define MASTER_LOG_PIPE_READS 16
#define MASTER_LOG_PIPE_CHUNK 4096
/* records master_log_direct() writes at most */
#define MASTER_LOG_DIRECT_MAX 100000

struct master_log {
	struct evloop *loop;
	int recv_fd;		/* the receiving end: loft-log's */
	int send_fd;		/* the sending end: every other child's */
};

struct master_log_pipe {
	struct evloop_io *io;
	int fd;
	char *service;
	pid_t pid;
	struct strbuf line;	/* the line being read, without '\n' */
	bool cutting;		/* past MASTER_LOG_STDERR_LINE_MAX: skip to '\n' */
};

static char *master_log_error;

/* master_log_fail - keep the formatted error and return -1 */
static int master_log_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int master_log_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;
	int ret;

	va_start(args, fmt);
	ret = master_error_vfail(&master_log_error, error_r, fmt, args);
	va_end(args);
	return ret;
}

int master_log_create(struct evloop *loop, struct master_log **log_r,
		      const char **error_r)
{
	struct master_log *log;
	int fds[2], size = MASTER_LOG_CHANNEL_BUFFER;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return master_log_fail(error_r, "log channel: socketpair() failed: %s",
				       strerror(errno));
	/* root may go past net.core.wmem_max; the queue is what waits
	   while loft-log restarts */
	if (setsockopt(fds[1], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	log = xcalloc(1, sizeof(*log));
	log->loop = loop;
	log->recv_fd = fds[0];
	log->send_fd = fds[1];
	log_set_remote(log->send_fd);
	*log_r = log;
	return 0;
}

void master_log_direct(struct master_log *log)
{
	unsigned char *buf;
	const char *error;
	ssize_t ret;

	if (log_remote_fd() == log->send_fd)
		log_set_remote(-1);
	buf = xmalloc(LOG_REMOTE_MAX_RECORD + 1);
	for (unsigned int i = 0; i < MASTER_LOG_DIRECT_MAX; i++) {
		ret = recv(log->recv_fd, buf, LOG_REMOTE_MAX_RECORD + 1,
			   MSG_DONTWAIT);
		if (ret < 0 && errno == EINTR)
			continue;
		/* 0 is an empty record, never EOF: loftd holds the sender */
		if (ret < 0)
			break;
		if (log_remote_write_record(buf, (size_t)ret, &error) < 0)
			log_warning("log channel: dropped an invalid record (%s)",
				    error);
	}
	free(buf);
}

void master_log_free(struct master_log **_log)
{
	struct master_log *log = *_log;

	if (log == NULL)
		return;
	*_log = NULL;
	master_log_direct(log);
	close(log->recv_fd);
	close(log->send_fd);
	free(log);
	XFREE(master_log_error);
}

bool master_log_is_service(const char *service_name)
{
	return strcmp(service_name, MASTER_LOG_SERVICE) == 0;
}

void master_log_child_channel(const struct master_log *log,
			      const char *service_name, int *fd_r,
			      const char **env_r)
{
	if (master_log_is_service(service_name)) {
		*fd_r = log->recv_fd;
		*env_r = LOG_REMOTE_SERVER_ENV;
	} else {
		*fd_r = log->send_fd;
		*env_r = LOG_REMOTE_ENV;
	}
}

/* master_log_pipe_emit - one complete (or cut) line of the child's
   stderr, as an error line on its behalf; empty lines are skipped */
static void master_log_pipe_emit(struct master_log_pipe *capture)
{
	struct strbuf *line = &capture->line;

	if (line->len > 0 && line->data[line->len - 1] == '\r')
		strbuf_truncate(line, line->len - 1);
	if (line->len > 0)
		log_write_for(LOG_LEVEL_ERROR, capture->service, capture->pid,
			      "stderr", "stderr: %s", line->data);
	strbuf_reset(line);
}

/* master_log_pipe_feed - split data into lines */
static void master_log_pipe_feed(struct master_log_pipe *capture,
				 const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t part = nl != NULL ? (size_t)(nl - data) : len;

		if (!capture->cutting) {
			size_t room = MASTER_LOG_STDERR_LINE_MAX -
				capture->line.len;

			strbuf_append(&capture->line, data,
				      part < room ? part : room);
			if (part >= room) {
				/* at the limit: log what fits, drop the
				   rest of the line */
				master_log_pipe_emit(capture);
				capture->cutting = nl == NULL;
			} else if (nl != NULL) {
				master_log_pipe_emit(capture);
			}
		} else if (nl != NULL) {
			capture->cutting = false;
		}
		if (nl == NULL)
			break;
		data = nl + 1;
		len -= part + 1;
	}
}

/* master_log_pipe_read - read what is there; false at EOF or error */
static bool master_log_pipe_read(struct master_log_pipe *capture)
{
	char buf[MASTER_LOG_PIPE_CHUNK];

	for (unsigned int i = 0; i < MASTER_LOG_PIPE_READS; i++) {
		ssize_t ret = read(capture->fd, buf, sizeof(buf));

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (ret <= 0)
			return false;
		master_log_pipe_feed(capture, buf, (size_t)ret);
	}
	return true;
}

/* master_log_pipe_ready - the child wrote to stderr (or closed it) */
static void master_log_pipe_ready(struct evloop_io *io, int fd,
				  unsigned int events, void *context)
{
	struct master_log_pipe *capture = context;

	(void)io;
	(void)fd;
	(void)events;
	if (!master_log_pipe_read(capture)) {
		/* EOF, every writer closed it: a last partial line too */
		if (capture->line.len > 0 && !capture->cutting)
			master_log_pipe_emit(capture);
		evloop_remove_io(&capture->io);
	}
}

void master_log_capture(struct master_log *log, struct master_process *proc)
{
	struct master_log_pipe *capture = xcalloc(1, sizeof(*capture));

	capture->fd = proc->stderr_fd;
	capture->service = xstrdup(proc->service_name);
	capture->pid = proc->pid;
	strbuf_init(&capture->line, 256);
	capture->io = evloop_add_io(log->loop, capture->fd, EVLOOP_READ,
				    master_log_pipe_ready, capture);
	proc->stderr_pipe = capture;
}

void master_log_pipe_close(struct master_log_pipe **_capture)
{
	struct master_log_pipe *capture = *_capture;

	if (capture == NULL)
		return;
	*_capture = NULL;
	if (capture->io != NULL) {
		/* bounded: a grandchild may still hold the write end */
		(void)master_log_pipe_read(capture);
		evloop_remove_io(&capture->io);
	}
	if (capture->line.len > 0 && !capture->cutting)
		master_log_pipe_emit(capture);
	strbuf_free(&capture->line);
	free(capture->service);
	free(capture);
}
