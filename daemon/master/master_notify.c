/*
 * master_notify - the service manager notifications (see
 * master_notify.h). One datagram per call: the state change and the
 * STATUS= line travel together, so `systemctl status` never shows a
 * status from before the state it names.
 */
#include "master_notify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "strbuf.h"

#ifdef LOFT_HAVE_SYSTEMD
#  include <systemd/sd-daemon.h>
#endif

/* master_notify_send - state lines (may be "") and the formatted
   status, as one notification */
static void master_notify_send(const char *state, const char *fmt,
			       va_list args) LOFT_ATTR_FORMAT(2, 0);
static void master_notify_send(const char *state, const char *fmt,
			       va_list args)
{
#ifdef LOFT_HAVE_SYSTEMD
	struct strbuf msg;
	size_t status_start;

	strbuf_init(&msg, 128);
	strbuf_appendf(&msg, "%sSTATUS=", state);
	status_start = msg.len;
	strbuf_vappendf(&msg, fmt, args);
	/* STATUS= is one line: a newline would start a bogus assignment */
	for (size_t i = status_start; i < msg.len; i++) {
		if (msg.data[i] == '\n')
			msg.data[i] = ' ';
	}
	/* errors are not loftd's to act on: the manager may be gone */
	(void)sd_notify(0, msg.data);
	strbuf_free(&msg);
#else
	(void)state;
	(void)fmt;
	(void)args;
#endif
}

void master_notify_ready(const char *status_fmt, ...)
{
	va_list args;

	va_start(args, status_fmt);
	master_notify_send("READY=1\n", status_fmt, args);
	va_end(args);
}

void master_notify_reloading(const char *status_fmt, ...)
{
	struct timespec now;
	char state[96];
	va_list args;

	/* systemd (253+) matches a reload by the time it began */
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu\n",
		 (unsigned long long)now.tv_sec * 1000000ULL +
		 (unsigned long long)now.tv_nsec / 1000ULL);
	va_start(args, status_fmt);
	master_notify_send(state, status_fmt, args);
	va_end(args);
}

void master_notify_stopping(const char *status_fmt, ...)
{
	va_list args;

	va_start(args, status_fmt);
	master_notify_send("STOPPING=1\n", status_fmt, args);
	va_end(args);
}

void master_notify_status(const char *status_fmt, ...)
{
	va_list args;

	va_start(args, status_fmt);
	master_notify_send("", status_fmt, args);
	va_end(args);
}
