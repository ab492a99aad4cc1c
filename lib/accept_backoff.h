/*
 * accept_backoff - what a listener does when accept() fails, typically
 * for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending
 * connection stays in the backlog and the listener stays readable, so
 * retrying at once spins at 100% CPU and logs one error per attempt. Instead, as
 * Postfix and Dovecot do, the owner stops watching its listener(s) for
 * ACCEPT_BACKOFF_MIN_MSECS, doubling up to ACCEPT_BACKOFF_MAX_MSECS while
 * the failures go on (back to the minimum after an accept succeeds), and
 * the failure is logged at most once per ACCEPT_BACKOFF_LOG_MSECS with
 * the number of failures left out.
 *
 * The module owns only the timer and the bookkeeping: the owner's
 * callback switches its watch off and on, and the owner logs.
 */
#ifndef LOFT_ACCEPT_BACKOFF_H
#define LOFT_ACCEPT_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"

#define ACCEPT_BACKOFF_MIN_MSECS 100u
#define ACCEPT_BACKOFF_MAX_MSECS 1000u
#define ACCEPT_BACKOFF_LOG_MSECS 10000u

struct accept_backoff;

/* watch the listener(s) again (true) or stop watching them (false) */
typedef void accept_backoff_watch_callback_t(bool watch, void *context);

struct accept_backoff *accept_backoff_create(struct evloop *loop,
					     accept_backoff_watch_callback_t *cb,
					     void *context);
/* accept_backoff_free - cancels the timer (the watch is left as it is);
   sets *backoff = NULL */
void accept_backoff_free(struct accept_backoff **backoff);

/* accept_backoff_failed - accept() failed (not EAGAIN/EINTR): stop
   watching now (the callback is called with false; it is called with
   true when the pause is over). Returns true when the owner should log
   the failure now, with note (filled then) after it: "not accepting for
   100 ms", or "41 more failures since the last report; not accepting
   for 1000 ms". */
bool accept_backoff_failed(struct accept_backoff *backoff, char *note,
			   size_t note_size);
/* accept_backoff_succeeded - an accept worked: the next pause starts at
   the minimum again */
void accept_backoff_succeeded(struct accept_backoff *backoff);
/* accept_backoff_paused - the listener is not being watched now */
bool accept_backoff_paused(const struct accept_backoff *backoff);

#endif
