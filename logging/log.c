/*
 * log - the core of the logging library: the context every line carries
 * (service, pid, session, user), routing by level to up to three
 * destinations (files, stderr, syslog), the fallback that keeps a failed
 * log from ever failing the caller (stderr, then syslog, and a counter),
 * per-level counters, the capture hook for tests, reopen for logrotate and
 * log_fatal/log_panic. One mutex serialises the write path; each line goes
 * out in one write() so that appends from several processes never mix.
 * With a log channel (log_remote.h) each formatted line is sent to the log
 * service instead, and written here only when the channel cannot take it;
 * the log service writes what it receives with log_write_line().
 */
#include "log_private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log_remote.h"

#define LOG_SYSLOG_IDENT "loft"
#define LOG_DEFAULT_SERVICE "loft"
#define LOG_FILE_MODE 0600
/* log_path, info_log_path, debug_log_path: at most three destinations */
#define LOG_MAX_DESTS 3
/* log_hold_stderr: at most this much is held; more goes to syslog */
#define LOG_STDERR_HOLD_MAX (256 * 1024)

enum log_dest_kind { LOG_DEST_STDERR, LOG_DEST_SYSLOG, LOG_DEST_FILE };

struct log_dest {
	enum log_dest_kind kind;
	char *path;		/* LOG_DEST_FILE only */
	int fd;			/* -1: the file could not be opened */
	bool may_sigpipe;	/* fd is a pipe or socket (or stderr) */
	/* a write was cut short and could not be cut back: the next line
	   starts with a newline so it is not glued to the broken one */
	bool partial;
};

struct log_facility {
	const char *name;
	int facility;
};

static const struct log_facility log_facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static const int log_syslog_priorities[LOG_LEVEL_COUNT] = {
	LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
};

struct log_state {
	char *service;
	pid_t pid;			/* 0: look it up again (after fork) */
	enum log_format format;
	char *timestamp_fmt;		/* NULL: no timestamp */
	int facility;
	bool syslog_open;
	struct log_dest dests[LOG_MAX_DESTS];
	unsigned int dest_count;
	unsigned int level_dest[LOG_LEVEL_COUNT]; /* index into dests */
	log_capture_callback_t *capture;
	void *capture_context;
	struct strbuf line;		/* reused; data NULL until first line */
	char *last_error;		/* log_configure's *error_r */
	bool atfork_registered;
	int remote_fd;			/* the log channel, or -1 */
};

/* Until log_configure: every level to stderr, text, no timestamp. */
static struct log_state log_state = {
	.facility = LOG_MAIL,
	.dests = { { .kind = LOG_DEST_STDERR, .fd = STDERR_FILENO,
		     .may_sigpipe = true } },
	.dest_count = 1,
	.remote_fd = -1,
};
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread emits: a capture callback that logs is dropped
   instead of deadlocking. */
static __thread bool log_busy;
/* The session and user of the lines this thread writes: one event loop
   thread serves many sessions and worker threads run deliveries, so the
   context is per thread, set by whoever is working for a session. */
static __thread char log_ctx_session[96];
static __thread char log_ctx_user[512];

/* Read without the lock, hence atomics. */
static bool log_debug_config, log_debug_forced;
/* debug for this thread's current work only (loftadm debug USER on) */
static __thread bool log_debug_thread;
static log_forward_callback_t *log_forward_cb;
static void *log_forward_context;
static uint64_t log_failures;
/* why the last line could not be written where configured (log_lock) */
static char log_failure_text[256];
static uint64_t log_counts[LOG_LEVEL_COUNT];
/* lines for stderr kept back by log_hold_stderr (under log_lock) */
static bool log_stderr_holding;
static struct strbuf log_stderr_held;

static void log_stderr_flush(void);

/* log_atfork_prepare - hold the lock across fork so the child's copy is
   consistent */
static void log_atfork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

/* log_atfork_parent - release the lock taken by prepare */
static void log_atfork_parent(void)
{
	pthread_mutex_unlock(&log_lock);
}

/* log_atfork_child - release the lock and forget the parent's pid */
static void log_atfork_child(void)
{
	log_state.pid = 0;
	pthread_mutex_unlock(&log_lock);
}

/* log_replace_str - free *slot and store a copy of str (NULL or "" clears) */
static void log_replace_str(char **slot, const char *str)
{
	free(*slot);
	*slot = str != NULL && str[0] != '\0' ? xstrdup(str) : NULL;
}

void log_init(const char *service)
{
	int remote_fd = log_remote_env_fd(LOG_REMOTE_ENV);

	pthread_mutex_lock(&log_lock);
	log_replace_str(&log_state.service, service);
	log_state.pid = getpid();
	/* started by loftd: lines go to the log service */
	if (remote_fd >= 0)
		log_state.remote_fd = remote_fd;
	if (!log_state.atfork_registered) {
		/* cheaper than a getpid() per line: the child handler drops
		   the cached pid */
		pthread_atfork(log_atfork_prepare, log_atfork_parent,
			       log_atfork_child);
		log_state.atfork_registered = true;
	}
	pthread_mutex_unlock(&log_lock);
}

/* log_dest_classify - what a configured path means */
static enum log_dest_kind log_dest_classify(const char *path)
{
	if (path[0] == '\0' || strcmp(path, "syslog") == 0)
		return LOG_DEST_SYSLOG;
	if (strcmp(path, "stderr") == 0 || strcmp(path, "/dev/stderr") == 0)
		return LOG_DEST_STDERR;
	return LOG_DEST_FILE;
}

/* log_open_file - open path for appending into dest->fd; -1 with errno */
static int log_open_file(struct log_dest *dest)
{
	struct stat st;
	int fd;

	fd = open(dest->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOCTTY, LOG_FILE_MODE);
	if (fd == -1)
		return -1;
	if (dest->fd != -1)
		close(dest->fd);
	dest->fd = fd;
	/* a FIFO given as log path needs the SIGPIPE guard on writes */
	dest->may_sigpipe = fstat(fd, &st) == 0 &&
		(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	return 0;
}

/* log_dests_close - close the files and go back to stderr only */
static void log_dests_close(void)
{
	for (unsigned int i = 0; i < log_state.dest_count; i++) {
		struct log_dest *dest = &log_state.dests[i];

		if (dest->kind == LOG_DEST_FILE && dest->fd != -1)
			close(dest->fd);
		XFREE(dest->path);
	}
	if (log_state.syslog_open) {
		closelog();
		log_state.syslog_open = false;
	}
	memset(log_state.dests, 0, sizeof(log_state.dests));
	log_state.dests[0].kind = LOG_DEST_STDERR;
	log_state.dests[0].fd = STDERR_FILENO;
	log_state.dests[0].may_sigpipe = true;
	log_state.dest_count = 1;
	memset(log_state.level_dest, 0, sizeof(log_state.level_dest));
}

/* log_errors_add - append one problem to the configure error list */
static void log_errors_add(struct strbuf *errors, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static void log_errors_add(struct strbuf *errors, const char *fmt, ...)
{
	va_list args;

	if (errors->len > 0)
		strbuf_append_str(errors, "; ");
	va_start(args, fmt);
	strbuf_vappendf(errors, fmt, args);
	va_end(args);
}

/* log_dest_get - the destination for path, shared with an earlier level
   that uses the same one; opens files, noting failures in errors */
static unsigned int log_dest_get(const char *path, struct strbuf *errors)
{
	enum log_dest_kind kind = log_dest_classify(path);
	struct log_dest *dest;
	unsigned int i;

	for (i = 0; i < log_state.dest_count; i++) {
		dest = &log_state.dests[i];
		if (dest->kind == kind && (kind != LOG_DEST_FILE ||
					   strcmp(dest->path, path) == 0))
			return i;
	}
	/* three paths at most, so there is always room */
	i = log_state.dest_count++;
	dest = &log_state.dests[i];
	dest->kind = kind;
	dest->fd = kind == LOG_DEST_STDERR ? STDERR_FILENO : -1;
	dest->may_sigpipe = kind == LOG_DEST_STDERR;
	if (kind == LOG_DEST_FILE) {
		dest->path = xstrdup(path);
		if (log_open_file(dest) < 0)
			log_errors_add(errors, "open(%s) failed: %s", path,
				       strerror(errno));
	}
	return i;
}

/* log_syslog_open - openlog once with the configured facility */
static void log_syslog_open(void)
{
	if (!log_state.syslog_open) {
		openlog(LOG_SYSLOG_IDENT, LOG_NDELAY, log_state.facility);
		log_state.syslog_open = true;
	}
}

/* log_parse_facility - syslog_facility name to LOG_*; -1 when unknown */
static int log_parse_facility(const char *name)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(log_facilities); i++) {
		if (strcmp(log_facilities[i].name, name) == 0)
			return log_facilities[i].facility;
	}
	return -1;
}

/* log_path_or - path, or fallback when NULL or empty */
static const char *log_path_or(const char *path, const char *fallback)
{
	return path != NULL && path[0] != '\0' ? path : fallback;
}

/* log_route - set up the destinations of set, noting problems in errors */
static void log_route(const struct log_settings *set, struct strbuf *errors)
{
	const char *log_path = set->log_path != NULL ? set->log_path : "";
	const char *info_path = log_path_or(set->info_log_path, log_path);
	const char *debug_path = log_path_or(set->debug_log_path, info_path);
	unsigned int main_dest, info_dest, debug_dest;

	/* log_dests_close left dests[0] as stderr; start from nothing */
	log_state.dest_count = 0;
	main_dest = log_dest_get(log_path, errors);
	info_dest = log_dest_get(info_path, errors);
	debug_dest = log_dest_get(debug_path, errors);
	log_state.level_dest[LOG_LEVEL_DEBUG] = debug_dest;
	log_state.level_dest[LOG_LEVEL_INFO] = info_dest;
	log_state.level_dest[LOG_LEVEL_WARNING] = main_dest;
	log_state.level_dest[LOG_LEVEL_ERROR] = main_dest;
	log_state.level_dest[LOG_LEVEL_FATAL] = main_dest;
	log_state.level_dest[LOG_LEVEL_PANIC] = main_dest;
	for (unsigned int i = 0; i < log_state.dest_count; i++) {
		if (log_state.dests[i].kind == LOG_DEST_SYSLOG)
			log_syslog_open();
	}
}

int log_configure(const struct log_settings *set, const char **error_r)
{
	const char *facility_name =
		log_path_or(set->syslog_facility, "mail");
	struct strbuf errors, open_errors;
	int facility, ret = 0;

	strbuf_init(&errors, 64);
	strbuf_init(&open_errors, 64);
	/* local time zone read now, before any chroot */
	tzset();
	pthread_mutex_lock(&log_lock);
	XFREE(log_state.last_error);
	log_dests_close();
	log_state.format = set->format;
	log_replace_str(&log_state.timestamp_fmt, set->log_timestamp);
	__atomic_store_n(&log_debug_config, set->debug, __ATOMIC_RELAXED);

	facility = log_parse_facility(facility_name);
	if (facility == -1) {
		log_errors_add(&errors, "Invalid syslog_facility: %s",
			       facility_name);
		facility = LOG_MAIL;
	}
	log_state.facility = facility;
	/* with a log channel the files are only the fallback: a process that
	   may not open them (an unprivileged service) does not need them */
	log_route(set, log_state.remote_fd >= 0 ? &open_errors : &errors);

	if (errors.len > 0) {
		log_state.last_error = strbuf_detach(&errors);
		*error_r = log_state.last_error;
		ret = -1;
	}
	pthread_mutex_unlock(&log_lock);
	strbuf_free(&errors);
	strbuf_free(&open_errors);
	return ret;
}

void log_release_files(void)
{
	pthread_mutex_lock(&log_lock);
	for (unsigned int i = 0; log_state.remote_fd >= 0 &&
	     i < log_state.dest_count; i++) {
		struct log_dest *dest = &log_state.dests[i];

		if (dest->kind != LOG_DEST_FILE)
			continue;
		if (dest->fd != -1)
			close(dest->fd);
		XFREE(dest->path);
		dest->kind = LOG_DEST_STDERR;
		dest->fd = STDERR_FILENO;
		dest->may_sigpipe = true;
		dest->partial = false;
	}
	pthread_mutex_unlock(&log_lock);
}

void log_reopen(void)
{
	pthread_mutex_lock(&log_lock);
	/* a file that fails to reopen keeps its old fd: better the
	   rotated file than none */
	for (unsigned int i = 0; i < log_state.dest_count; i++) {
		if (log_state.dests[i].kind == LOG_DEST_FILE)
			(void)log_open_file(&log_state.dests[i]);
	}
	pthread_mutex_unlock(&log_lock);
}

void log_hold_stderr(void)
{
	pthread_mutex_lock(&log_lock);
	log_stderr_holding = true;
	pthread_mutex_unlock(&log_lock);
}

void log_release_stderr(void)
{
	pthread_mutex_lock(&log_lock);
	log_stderr_flush();
	pthread_mutex_unlock(&log_lock);
}

void log_deinit(void)
{
	pthread_mutex_lock(&log_lock);
	log_stderr_flush();
	log_dests_close();
	XFREE(log_state.service);
	log_ctx_session[0] = log_ctx_user[0] = '\0';
	XFREE(log_state.timestamp_fmt);
	XFREE(log_state.last_error);
	if (log_state.line.data != NULL)
		strbuf_free(&log_state.line);
	log_state.format = LOG_FORMAT_TEXT;
	log_state.facility = LOG_MAIL;
	log_state.capture = NULL;
	log_state.capture_context = NULL;
	log_state.remote_fd = -1;
	__atomic_store_n(&log_debug_config, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&log_lock);
}

void log_set_remote(int fd)
{
	pthread_mutex_lock(&log_lock);
	log_state.remote_fd = fd;
	pthread_mutex_unlock(&log_lock);
}

int log_remote_fd(void)
{
	int fd;

	pthread_mutex_lock(&log_lock);
	fd = log_state.remote_fd;
	pthread_mutex_unlock(&log_lock);
	return fd;
}

/* log_ctx_set - copy into a thread's context slot, truncating */
static void log_ctx_set(char *slot, size_t size, const char *value)
{
	if (value == NULL) {
		slot[0] = '\0';
		return;
	}
	size_t len = strlen(value);
	if (len >= size)
		len = size - 1;
	memcpy(slot, value, len);
	slot[len] = '\0';
}

void log_set_session(const char *session_id)
{
	log_ctx_set(log_ctx_session, sizeof(log_ctx_session), session_id);
}

void log_set_user(const char *user)
{
	log_ctx_set(log_ctx_user, sizeof(log_ctx_user), user);
}

void log_set_debug(bool enabled)
{
	__atomic_store_n(&log_debug_forced, enabled, __ATOMIC_RELAXED);
}

bool log_level_enabled(enum log_level level)
{
	if (level != LOG_LEVEL_DEBUG)
		return true;
	return log_debug_thread ||
		__atomic_load_n(&log_debug_config, __ATOMIC_RELAXED) ||
		__atomic_load_n(&log_debug_forced, __ATOMIC_RELAXED);
}

void log_set_thread_debug(bool enabled)
{
	log_debug_thread = enabled;
}

void log_set_forward(log_forward_callback_t *cb, void *context)
{
	pthread_mutex_lock(&log_lock);
	log_forward_cb = cb;
	log_forward_context = context;
	pthread_mutex_unlock(&log_lock);
}

void log_set_capture(log_capture_callback_t *cb, void *context)
{
	pthread_mutex_lock(&log_lock);
	log_state.capture = cb;
	log_state.capture_context = context;
	pthread_mutex_unlock(&log_lock);
}

uint64_t log_write_failures(void)
{
	return __atomic_load_n(&log_failures, __ATOMIC_RELAXED);
}

void log_write_failure_text(char *buf, size_t size)
{
	pthread_mutex_lock(&log_lock);
	snprintf(buf, size, "%s", log_failure_text);
	pthread_mutex_unlock(&log_lock);
}

uint64_t log_messages_count(enum log_level level)
{
	if ((unsigned int)level >= LOG_LEVEL_COUNT)
		return 0;
	return __atomic_load_n(&log_counts[level], __ATOMIC_RELAXED);
}

/* log_write_all - write all of data to fd; 0, or -1 */
static int log_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t ret = write(fd, data, len);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return -1;
		data += ret;
		len -= (size_t)ret;
	}
	return 0;
}

/* log_syslog_line - send line (without newline) to syslog */
static void log_syslog_line(enum log_level level, const char *line)
{
	log_syslog_open();
	syslog(log_syslog_priorities[level], "%s", line);
}

/* log_write_guarded - log_write_all for a pipe or socket: a reader that
   went away gives EPIPE instead of a SIGPIPE that kills the process */
static int log_write_guarded(int fd, const char *data, size_t len)
{
	static const struct timespec no_wait = { 0, 0 };
	sigset_t pipe_set, old_set;
	int ret, saved_errno;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	ret = log_write_all(fd, data, len);
	saved_errno = errno;
	if (ret < 0 && errno == EPIPE && !sigismember(&old_set, SIGPIPE)) {
		/* consume the SIGPIPE our write raised */
		while (sigtimedwait(&pipe_set, NULL, &no_wait) == -1 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	errno = saved_errno;
	return ret;
}

/* log_stderr_write - a line for stderr: written, or held back while
   log_hold_stderr is on; -1 when neither was possible */
static int log_stderr_write(const char *data, size_t len)
{
	if (!log_stderr_holding)
		return log_write_guarded(STDERR_FILENO, data, len);
	if (log_stderr_held.len + len > LOG_STDERR_HOLD_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if (log_stderr_held.data == NULL)
		strbuf_init(&log_stderr_held, 1024);
	strbuf_append(&log_stderr_held, data, len);
	return 0;
}

/* log_stderr_flush - write what was held and stop holding (lock held) */
static void log_stderr_flush(void)
{
	if (!log_stderr_holding)
		return;
	log_stderr_holding = false;
	if (log_stderr_held.data == NULL)
		return;
	if (log_stderr_held.len > 0 &&
	    log_write_guarded(STDERR_FILENO, log_stderr_held.data,
			      log_stderr_held.len) < 0)
		__atomic_fetch_add(&log_failures, 1, __ATOMIC_RELAXED);
	strbuf_free(&log_stderr_held);
}

/* log_file_cut_back - a line of which only written bytes reached the
   file (disk full): truncate them away when nothing was appended after
   them, else have the next line start on a line of its own */
static void log_file_cut_back(struct log_dest *dest, size_t written)
{
	off_t end = lseek(dest->fd, 0, SEEK_CUR);
	struct stat st;

	if (end >= (off_t)written && fstat(dest->fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == end &&
	    ftruncate(dest->fd, end - (off_t)written) == 0)
		return;
	dest->partial = true;
}

/* log_file_write - the whole line appended to a file, never half of it:
   0, or -1 with errno */
static int log_file_write(struct log_dest *dest, const char *data, size_t len)
{
	size_t done = 0;
	int saved_errno;

	if (dest->partial) {
		if (log_write_all(dest->fd, "\n", 1) < 0)
			return -1;
		dest->partial = false;
	}
	while (done < len) {
		ssize_t ret = write(dest->fd, data + done, len - done);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				errno = ENOSPC;
			break;
		}
		done += (size_t)ret;
	}
	if (done == len)
		return 0;
	saved_errno = errno;
	if (done > 0)
		log_file_cut_back(dest, done);
	errno = saved_errno;
	return -1;
}

/* log_dest_write - the whole line to dest; 0, or -1 with the reason
   kept for log_write_failure_text() */
static int log_dest_write(struct log_dest *dest, const char *data, size_t len)
{
	int ret;

	if (dest->fd == -1) {
		snprintf(log_failure_text, sizeof(log_failure_text),
			 "%s: not open", dest->path != NULL ? dest->path : "stderr");
		return -1;
	}
	if (dest->kind == LOG_DEST_STDERR)
		return log_stderr_write(data, len);
	if (dest->may_sigpipe)
		ret = log_write_guarded(dest->fd, data, len);
	else
		ret = log_file_write(dest, data, len);
	if (ret < 0)
		snprintf(log_failure_text, sizeof(log_failure_text),
			 "write(%s) failed: %s",
			 dest->path != NULL ? dest->path : "stderr",
			 strerror(errno));
	return ret;
}

/* log_deliver - write the NUL-terminated line (no newline yet) to dest,
   falling back to stderr and then syslog; syslog gets it without its
   first timestamp_len bytes. false when it could not go to dest. */
static bool log_deliver(enum log_level level, struct log_dest *dest,
			struct strbuf *line, size_t timestamp_len)
{
	size_t len = line->len;
	bool written, fell_back = false;

	if (dest->kind == LOG_DEST_SYSLOG) {
		log_syslog_line(level, line->data + timestamp_len);
		return true;
	}
	strbuf_putc(line, '\n');
	written = log_dest_write(dest, line->data, line->len) == 0;
	if (!written) {
		fell_back = true;
		written = dest->kind != LOG_DEST_STDERR &&
			log_stderr_write(line->data, line->len) == 0;
	}
	strbuf_truncate(line, len);
	if (!written)
		log_syslog_line(level, line->data + timestamp_len);
	return !fell_back;
}

/* log_output - the formatted line to the log channel, or to dest when
   there is none or it cannot take the line now; one failure counted at
   most */
static void log_output(enum log_level level, struct log_dest *dest,
		       struct strbuf *line, size_t timestamp_len)
{
	bool ok;

	if (log_state.remote_fd >= 0 &&
	    log_remote_send(log_state.remote_fd, level, timestamp_len,
			    line->data, line->len) == 0)
		return;
	ok = log_deliver(level, dest, line, timestamp_len);
	if (!ok || log_state.remote_fd >= 0)
		__atomic_fetch_add(&log_failures, 1, __ATOMIC_RELAXED);
}

/* log_captured - what the capture hook sees of a line: without its
   timestamp when dest is syslog */
static const char *log_captured(const struct log_dest *dest,
				const struct strbuf *line, size_t timestamp_len)
{
	return dest->kind == LOG_DEST_SYSLOG ? line->data + timestamp_len :
		line->data;
}

/* log_line_buffer - the reused line buffer, emptied (lock held) */
static struct strbuf *log_line_buffer(void)
{
	if (log_state.line.data == NULL)
		strbuf_init(&log_state.line, 256);
	strbuf_reset(&log_state.line);
	return &log_state.line;
}

/* log_emit_as - format and route one line; service NULL: this process's
   own line with this thread's session and user, else a line on behalf of
   process (service, pid) without them */
static void log_emit_as(enum log_level level, const char *service, pid_t pid,
			const char *event, const char *msg,
			const struct log_delivery *delivery)
{
	int saved_errno = errno;
	struct log_dest *dest;
	struct log_line line;
	struct strbuf *buf;
	size_t timestamp_len = 0;

	if ((unsigned int)level >= LOG_LEVEL_COUNT)
		level = LOG_LEVEL_ERROR;
	if (log_busy)
		return;
	pthread_mutex_lock(&log_lock);
	log_busy = true;
	if (log_state.pid == 0)
		log_state.pid = getpid();
	line = (struct log_line) {
		.level = level,
		.service = service != NULL ? service :
			log_state.service != NULL ? log_state.service :
			LOG_DEFAULT_SERVICE,
		.pid = service != NULL ? pid : log_state.pid,
		.session = service != NULL || log_ctx_session[0] == '\0' ?
			NULL : log_ctx_session,
		.user = service != NULL || log_ctx_user[0] == '\0' ?
			NULL : log_ctx_user,
		.event = event,
		.msg = msg,
		.delivery = delivery,
	};
	clock_gettime(CLOCK_REALTIME, &line.now);
	dest = &log_state.dests[log_state.level_dest[level]];

	buf = log_line_buffer();
	/* the timestamp is always made: the log service may route the line
	   to a file even where this process would use syslog */
	if (log_state.format == LOG_FORMAT_JSON)
		log_json_format(buf, &line);
	else
		timestamp_len = log_text_format(buf, &line,
						log_state.timestamp_fmt);
	log_output(level, dest, buf, timestamp_len);
	__atomic_fetch_add(&log_counts[level], 1, __ATOMIC_RELAXED);

	/* under the lock so captured lines keep their order; a callback
	   that logs is dropped by log_busy */
	if (log_state.capture != NULL)
		log_state.capture(level, log_captured(dest, buf, timestamp_len),
				  log_state.capture_context);
	if (log_forward_cb != NULL) {
		uint64_t usecs = (uint64_t)line.now.tv_sec * 1000000 +
			(uint64_t)line.now.tv_nsec / 1000;
		log_forward_cb(level, usecs, line.session, line.user, msg,
			       log_forward_context);
	}
	log_busy = false;
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

void log_emit(enum log_level level, const char *event, const char *msg,
	      const struct log_delivery *delivery)
{
	log_emit_as(level, NULL, 0, event, msg, delivery);
}

/* log_append_one_line - append data with NUL, CR and LF as '?': a
   received record stays one line */
static void log_append_one_line(struct strbuf *dest, const char *data,
				size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\0' && data[i] != '\n' && data[i] != '\r')
			continue;
		strbuf_append(dest, data + start, i - start);
		strbuf_putc(dest, '?');
		start = i + 1;
	}
	strbuf_append(dest, data + start, len - start);
}

void log_write_line(enum log_level level, const char *line, size_t len,
		    size_t timestamp_len)
{
	int saved_errno = errno;
	struct log_dest *dest;
	struct strbuf *buf;

	if ((unsigned int)level >= LOG_LEVEL_COUNT)
		level = LOG_LEVEL_ERROR;
	if (timestamp_len > len)
		timestamp_len = len;
	if (log_busy)
		return;
	pthread_mutex_lock(&log_lock);
	log_busy = true;
	dest = &log_state.dests[log_state.level_dest[level]];
	buf = log_line_buffer();
	log_append_one_line(buf, line, len);
	if (!log_deliver(level, dest, buf, timestamp_len))
		__atomic_fetch_add(&log_failures, 1, __ATOMIC_RELAXED);
	if (log_state.capture != NULL)
		log_state.capture(level, log_captured(dest, buf, timestamp_len),
				  log_state.capture_context);
	log_busy = false;
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

void log_write_for(enum log_level level, const char *service, pid_t pid,
		   const char *event, const char *fmt, ...)
{
	struct strbuf msg;
	va_list args;

	if (!log_level_enabled(level))
		return;
	strbuf_init(&msg, 256);
	va_start(args, fmt);
	strbuf_vappendf(&msg, fmt, args);
	va_end(args);
	log_emit_as(level, service, pid, event, msg.data, NULL);
	strbuf_free(&msg);
}

void log_vwrite(enum log_level level, const char *event, const char *fmt,
		va_list args)
{
	int saved_errno = errno;
	struct strbuf msg;

	if (!log_level_enabled(level))
		return;
	strbuf_init(&msg, 256);
	/* %m in fmt must see the caller's errno */
	errno = saved_errno;
	strbuf_vappendf(&msg, fmt, args);
	log_emit(level, event, msg.data, NULL);
	strbuf_free(&msg);
	errno = saved_errno;
}

void log_write(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list args;

	if (!log_level_enabled(level))
		return;
	va_start(args, fmt);
	log_vwrite(level, event, fmt, args);
	va_end(args);
}

void log_fatal(int status, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	log_vwrite(LOG_LEVEL_FATAL, NULL, fmt, args);
	va_end(args);
	log_release_stderr();
	exit(status);
}

void log_panic(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	log_vwrite(LOG_LEVEL_PANIC, NULL, fmt, args);
	va_end(args);
	log_release_stderr();
	abort();
}
