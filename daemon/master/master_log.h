/*
 * master_log - loftd's side of the log service (daemon/log/, built-in
 * service "log"):
 *
 * - the log channel (logging/log_remote.h): one SOCK_SEQPACKET socketpair
 *   made at start-up. loftd keeps both ends for its whole life, so lines
 *   queue while loft-log is (re)started; each loft-log gets the receiving
 *   end (LOFT_LOG_SERVER_FD), every other child the sending end
 *   (LOFT_LOG_FD), placed after its listeners. loftd sends its own lines
 *   there too.
 * - stray stderr: every child but loft-log gets a pipe as fd 2. loftd
 *   reads it and logs each line at error level on the child's behalf,
 *   "lmtp<4242>: Error: stderr: <text>"; lines over
 *   MASTER_LOG_STDERR_LINE_MAX bytes are cut there.
 * - the end: once no loft-log runs any more (shutdown), loftd writes its
 *   own lines again and writes what is still queued in the channel.
 */
#ifndef MASTER_LOG_H
#define MASTER_LOG_H

#include <stdbool.h>

#define MASTER_LOG_SERVICE "log"
#define MASTER_LOG_EXECUTABLE "loft-log"
#define MASTER_LOG_STDERR_LINE_MAX 8192
/* send buffer of the channel: what queues while loft-log is away */
#define MASTER_LOG_CHANNEL_BUFFER (4 * 1024 * 1024)

struct evloop;
struct master_log;
struct master_log_pipe;
struct master_process;

/* master_log_create - the channel, attached to loftd's own logging; 0,
   or -1 with *error_r */
int master_log_create(struct evloop *loop, struct master_log **log_r,
		      const char **error_r);
/* master_log_free - master_log_direct(), close the channel; every
   process's pipe must be closed already. Sets *log = NULL. */
void master_log_free(struct master_log **log);

/* master_log_is_service - whether service_name is the log service */
bool master_log_is_service(const char *service_name);

/* master_log_child_channel - the end of the channel a child of
   service_name gets and the environment variable naming it */
void master_log_child_channel(const struct master_log *log,
			      const char *service_name, int *fd_r,
			      const char **env_r);

/* master_log_capture - read proc's stderr pipe (proc->stderr_fd) from now
   on; proc->stderr_pipe is set */
void master_log_capture(struct master_log *log, struct master_process *proc);
/* master_log_pipe_close - the process is gone: log what its pipe still
   holds (a last partial line too) and stop reading; the fd is not
   closed. Sets *capture = NULL. */
void master_log_pipe_close(struct master_log_pipe **capture);

/* master_log_direct - no loft-log will read any more: loftd writes its
   own lines from now on, and writes what the channel still holds */
void master_log_direct(struct master_log *log);

#endif
