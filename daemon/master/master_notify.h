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

/* master_notify_ready - start-up (or a reload) is complete */
void master_notify_ready(const char *status_fmt, ...) LOFT_ATTR_FORMAT(1, 2);
/* master_notify_reloading - a reload begins (RELOADING=1, MONOTONIC_USEC) */
void master_notify_reloading(const char *status_fmt, ...) LOFT_ATTR_FORMAT(1, 2);
/* master_notify_stopping - the shutdown begins (STOPPING=1) */
void master_notify_stopping(const char *status_fmt, ...) LOFT_ATTR_FORMAT(1, 2);
/* master_notify_status - only a new STATUS= line */
void master_notify_status(const char *status_fmt, ...) LOFT_ATTR_FORMAT(1, 2);

#endif
