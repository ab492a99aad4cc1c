/*
 * master_notify - what loftd tells its service manager (systemd's
 * Type=notify protocol, through libsystemd's sd_notify): READY=1 once
 * the listeners are open and the children started, RELOADING=1 (with
 * MONOTONIC_USEC) and READY=1 around a reload, STOPPING=1 at shutdown,
 * and a STATUS= line for `systemctl status`.
 *
 * Without $NOTIFY_SOCKET (loftd not started by systemd) every call does
 * nothing. In a build without libsystemd (LOFT_SYSTEMD=OFF, or the
 * library not found) every call does nothing either, and `loftd
 * --version` says "no-systemd": such a loftd cannot run under a
 * Type=notify unit.
 */
#ifndef MASTER_NOTIFY_H
#define MASTER_NOTIFY_H

#include "xalloc.h"

enum master_notify_event {
	MASTER_NOTIFY_READY,		/* start-up or a reload is complete */
	MASTER_NOTIFY_RELOADING,	/* a reload begins (MONOTONIC_USEC too) */
	MASTER_NOTIFY_STOPPING,		/* the shutdown begins */
};

/* master_notify - event and the formatted STATUS= line, as one message */
void master_notify(enum master_notify_event event, const char *status_fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);

#endif
