/*
 * master_notify - the service manager notifications (see
 * master_notify.h). One datagram per call: the state change and the
 * STATUS= line travel together, so `systemctl status` never shows a
 * status from before the state it names.
 */
#include "master_notify.h"

#include <stdarg.h>
#include <time.h>

#include "strbuf.h"

#ifdef LOFT_HAVE_SYSTEMD
#  include <systemd/sd-daemon.h>
#endif

void master_notify(enum master_notify_event event, const char *status_fmt, ...)
{
#ifdef LOFT_HAVE_SYSTEMD
	struct strbuf msg;
	struct timespec now;
	size_t status_start;
	va_list args;

	strbuf_init(&msg, 128);
	switch (event) {
	case MASTER_NOTIFY_READY:
		strbuf_append_str(&msg, "READY=1\n");
		break;
	case MASTER_NOTIFY_RELOADING:
		/* systemd (253+) matches a reload by the time it began */
		clock_gettime(CLOCK_MONOTONIC, &now);
		strbuf_appendf(&msg, "RELOADING=1\nMONOTONIC_USEC=%llu\n",
			       (unsigned long long)now.tv_sec * 1000000ULL +
			       (unsigned long long)now.tv_nsec / 1000ULL);
		break;
	case MASTER_NOTIFY_STOPPING:
		strbuf_append_str(&msg, "STOPPING=1\n");
		break;
	}
	strbuf_append_str(&msg, "STATUS=");
	status_start = msg.len;
	va_start(args, status_fmt);
	strbuf_vappendf(&msg, status_fmt, args);
	va_end(args);
	/* STATUS= is one line: a newline would start a bogus assignment */
	for (size_t i = status_start; i < msg.len; i++) {
		if (msg.data[i] == '\n')
			msg.data[i] = ' ';
	}
	/* errors are not loftd's to act on: the manager may be gone */
	(void)sd_notify(0, msg.data);
	strbuf_free(&msg);
#else
	(void)event;
	(void)status_fmt;
#endif
}
