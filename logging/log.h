/*
 * log - loft's logging library: one line per event, in Dovecot-like text
 * or JSON, routed by level to log_path / info_log_path / debug_log_path or
 * syslog.
 *
 * Every line carries service, pid and session id, and the user once known:
 *   2026-11-21 23:00:00 lmtp(alice@example.com)<4242><SESSIONID>: Info: ...
 *   {"ts":"2026-11-21T23:00:00.123456Z","level":"info","service":"lmtp",
 *    "pid":4242,"session":"...","user":"...","event":"...","msg":"..."}
 * The level is checked before anything is formatted. A log that cannot be
 * written never fails the caller: the line goes to stderr (or syslog when
 * stderr is gone) and log_write_failures() counts it.
 *
 * A process loftd starts sends its lines to the log service instead
 * (log_remote.h), which writes them with log_write_line(); the files this
 * process opens are then only the fallback for lines the channel cannot
 * take at once.
 */
#ifndef LOFT_LOG_H
#define LOFT_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

#include "xalloc.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
	LOG_LEVEL_COUNT
};

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Where lines go; copied by log_configure. Paths: "" or "syslog" = syslog
   for log_path; "" for info/debug = fall through to the next path up. */
struct log_settings {
	const char *log_path;
	const char *info_log_path;
	const char *debug_log_path;
	const char *syslog_facility;	/* "mail", "local0".. */
	const char *log_timestamp;	/* strftime format, "%Y-%m-%d %H:%M:%S " */
	enum log_format format;
	bool debug;			/* mail_debug: emit debug lines */
};

/* The delivery record: one per recipient outcome (spec section 5). */
struct log_delivery {
	const char *msgid, *subject, *from, *envelope_from;
	const char *rcpt, *orig_rcpt, *mailbox;
	uint64_t size, vsize;
	const char *result;		/* saved | rejected | tempfail */
	int code;			/* 250, 550, 451 ... */
	const char *enhanced_code;	/* "2.0.0" */
	const char *status;		/* "saved mail to INBOX" (%$) */
	double duration_ms;
};

/* log_init - before anything else: service name ("lda", "lmtp"); until
   log_configure, lines go to stderr in text format. With LOFT_LOG_FD in
   the environment (set by loftd) every line goes to that log channel. */
void log_init(const char *service);
/* log_configure - open the files of set; 0, or -1 with *error_r. On -1
   logging still works (stderr), so callers may go on. */
int log_configure(const struct log_settings *set, const char **error_r);
/* log_release_files - with a log channel: close the log files this
   process opened (root's, before it dropped privileges); lines the channel
   cannot take go to stderr, which loftd logs. Without a channel, nothing
   changes. */
void log_release_files(void);
/* log_reopen - reopen the files (logrotate, SIGUSR1) */
void log_reopen(void);
/* log_deinit - release held stderr lines, close the files */
void log_deinit(void);

/* log_hold_stderr - keep every line meant for stderr (the stderr
   destination, and the fallback of a file that cannot be written) in
   memory, in order, until log_release_stderr(), log_deinit(), log_fatal()
   or log_panic(): a program can print its own first line first (loft-lda
   -e's status line). Past 256 KiB held, lines fall back to syslog. */
void log_hold_stderr(void);
/* log_release_stderr - write the held lines to stderr, stop holding */
void log_release_stderr(void);

/* Context carried by every line this thread writes from now on (NULL
   clears); per thread, so a worker delivering for a session sets its own. */
void log_set_session(const char *session_id);
void log_set_user(const char *user);
void log_set_debug(bool enabled);
bool log_level_enabled(enum log_level level);

void log_write(enum log_level level, const char *event, const char *fmt, ...)
	LOFT_ATTR_FORMAT(3, 4);
void log_vwrite(enum log_level level, const char *event, const char *fmt,
		va_list args) LOFT_ATTR_FORMAT(3, 0);

#define log_debug(...) do { if (log_level_enabled(LOG_LEVEL_DEBUG)) \
	log_write(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__); } while (0)
#define log_info(...) log_write(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)
/* log_fatal - environment/config problem: log and exit(status) */
void log_fatal(int status, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3) LOFT_ATTR_NORETURN;
/* log_panic - a bug: log and abort() */
void log_panic(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2) LOFT_ATTR_NORETURN;
#define LOFT_ASSERT(expr) do { if (!(expr)) \
	log_panic("file %s: line %d: assertion failed: (%s)", \
		  __FILE__, __LINE__, #expr); } while (0)

/* log_write_for - a line on behalf of another process: service (not
   NULL) and pid in its prefix, no session or user (loftd logging a
   child's stray stderr output) */
void log_write_for(enum log_level level, const char *service, pid_t pid,
		   const char *event, const char *fmt, ...)
	LOFT_ATTR_FORMAT(5, 6);

/* log_write_line - the log service's side: write a line another process
   formatted (no newline) where level goes here; syslog gets it without
   its first timestamp_len bytes. NUL, CR and LF in it become '?'. Never
   sent to a log channel; a write that fails is counted and falls back as
   any line does. */
void log_write_line(enum log_level level, const char *line, size_t len,
		    size_t timestamp_len);

/* log_delivery - the delivery line: text per deliver_log_format
   (%$ status, %m msgid, %s subject, %f from, %e envelope sender,
   %p size, %w vsize; long forms %{msgid} ...), JSON with every field. Info
   level when saved, error level for tempfail, info for rejected. */
void log_delivery(const char *deliver_log_format, const struct log_delivery *rec);
/* log_format_delivery - the deliver_log_format text alone (for tests) */
char *log_format_delivery(const char *deliver_log_format,
			  const struct log_delivery *rec);

/* log_write_failures - lines that could not be written where configured */
uint64_t log_write_failures(void);
/* log_write_failure_text - why the last failed line failed ("write(PATH)
   failed: No space left on device"), "" when none did. A line cut short
   by a full disk never stays half in its file: it is cut back, or the
   next line starts on a line of its own. */
void log_write_failure_text(char *buf, size_t size);
/* log_messages_count - lines emitted at level since start (for metrics) */
uint64_t log_messages_count(enum log_level level);
const char *log_level_name(enum log_level level); /* "Info", "Error" ... */

/* log_set_thread_debug - debug lines on for this thread's work only (a
   delivery to a user named by `loftadm debug USER on`) */
void log_set_thread_debug(bool enabled);

/* Forwarding hook: every emitted line's level and plain message (no
   prefix) go to cb, e.g. to count them and report warnings and errors to
   loft-stats. Runs under the log lock; a line cb itself logs is dropped.
   cb must not block. */
typedef void log_forward_callback_t(enum log_level level, uint64_t ts_usecs,
				    const char *session, const char *user,
				    const char *msg, void *context);
void log_set_forward(log_forward_callback_t *cb, void *context);

/* Test hook: every formatted line is also handed to cb (NULL to remove). */
typedef void log_capture_callback_t(enum log_level level, const char *line,
				    void *context);
void log_set_capture(log_capture_callback_t *cb, void *context);

#endif
