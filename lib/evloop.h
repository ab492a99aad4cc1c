/*
 * evloop - the one event loop every long-running loft process uses.
 *
 * fd readiness (read/write), one-shot or repeating timers whose callback
 * returns the next delay, signals delivered as ordinary events (signalfd),
 * and a before-sleep hook. epoll on Linux. Single-threaded: all callbacks
 * run on the thread that calls evloop_run(); other threads hand work back
 * through an eventfd registered as an io, as workpool does. Removing an io,
 * timer or signal from inside any callback is safe.
 */
#ifndef LOFT_EVLOOP_H
#define LOFT_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#define EVLOOP_READ 0x01
#define EVLOOP_WRITE 0x02
/* reported in addition to READ/WRITE: hang-up or error on the fd */
#define EVLOOP_ERROR 0x04

/* a timer callback returns the next delay in ms, or EVLOOP_NOMORE */
#define EVLOOP_NOMORE (-1)

struct evloop;
struct evloop_io;
struct evloop_timer;
struct evloop_signal;

typedef void evloop_io_callback_t(struct evloop_io *io, int fd,
				  unsigned int events, void *context);
/* A timer callback returns the next delay in ms (>= 0 re-arms the timer
   that far from now) or EVLOOP_NOMORE: the loop then removes and frees the
   timer, so the caller's pointer to it dangles and the callback must clear
   that pointer itself before returning EVLOOP_NOMORE. The return value wins
   over an evloop_timer_reset() made inside the callback; a timer that
   removed itself inside its callback stays removed whatever it returns. */
typedef int64_t evloop_timer_callback_t(struct evloop_timer *timer,
					void *context);
typedef void evloop_signal_callback_t(int signo, void *context);
typedef void evloop_hook_callback_t(void *context);

/* evloop_create - like evloop_try_create(), but a failure (the process is
   out of file descriptors or kernel memory) aborts, as xmalloc() does */
struct evloop *evloop_create(void);
/* evloop_try_create - 0, or -1 with *error_r set (valid until the next call
   from the same thread) when the epoll or signalfd cannot be created */
int evloop_try_create(struct evloop **loop_r, const char **error_r);
/* evloop_free - everything still registered is released (fds of ios are
   not closed); sets *loop = NULL. Not callable from inside evloop_run().
   It changes no kernel state shared through fork() (epoll interest list,
   signalfd mask), so a forked child may free its parent's loop safely. */
void evloop_free(struct evloop **loop);

/* evloop_run - dispatch until evloop_stop(); 0, or -1 with errno set when
   epoll_wait() fails (EINTR is retried). Not reentrant. */
int evloop_run(struct evloop *loop);
/* evloop_run_once - one iteration of evloop_run() (the before-sleep hook,
   one wait, the callbacks), waiting at most max_timeout_msecs (0: only
   what is ready now; -1: until an fd event or the next timer). Returns the
   number of callbacks run (0 when nothing was ready), or -1 with errno set
   when epoll_wait() fails. For callers that drive the loop step by step,
   such as tests and fuzzers that must know when every session is idle.
   Not callable from inside evloop_run() or a callback. */
int evloop_run_once(struct evloop *loop, int max_timeout_msecs);
/* evloop_stop - make evloop_run() return once the current round of
   callbacks is finished; callable from any callback or the hook. Each
   evloop_run() starts afresh: a stop made outside it is forgotten. */
void evloop_stop(struct evloop *loop);
/* monotonic milliseconds, cached per loop iteration (refreshed after each
   wait and again before the timers of that iteration run) */
uint64_t evloop_now_msecs(struct evloop *loop);

/* evloop_add_io - watch fd for events (EVLOOP_READ|EVLOOP_WRITE, 0 =
   registered but paused). Level-triggered. A hang-up or error is reported
   as EVLOOP_ERROR together with every event of the interest set, so a
   reader's read() sees EOF and a writer's write() the error. One io per fd.
   An fd epoll refuses (a regular file) is always ready, as with poll(); an
   fd that cannot be registered at all (bad fd, watch limit) is reported as
   EVLOOP_ERROR on the next iteration and evloop_io_error() says why. */
struct evloop_io *evloop_add_io(struct evloop *loop, int fd,
				unsigned int events,
				evloop_io_callback_t *cb, void *context);
/* evloop_io_set_events - change the interest set (0 = paused: nothing is
   reported, not even a hang-up, until events are set again) */
void evloop_io_set_events(struct evloop_io *io, unsigned int events);
/* evloop_io_error - why epoll refused this io, or NULL when it is fine */
const char *evloop_io_error(const struct evloop_io *io);
/* evloop_remove_io - unregister (does not close fd); sets *io = NULL.
   Events already collected for it in the current round are dropped. Call
   it before closing the fd. */
void evloop_remove_io(struct evloop_io **io);

/* evloop_add_timer - call cb msecs from now; timers due at the same time
   fire in the order they were armed */
struct evloop_timer *evloop_add_timer(struct evloop *loop, uint64_t msecs,
				      evloop_timer_callback_t *cb,
				      void *context);
/* evloop_timer_reset - fire msecs from now (idle timeouts) */
void evloop_timer_reset(struct evloop_timer *timer, uint64_t msecs);
/* evloop_remove_timer - cancel; sets *timer = NULL */
void evloop_remove_timer(struct evloop_timer **timer);

/* evloop_add_signal - block signo in the calling thread (the loop thread)
   and deliver it through the loop's signalfd; several callbacks may watch
   the same signal. signo must be catchable (not SIGKILL/SIGSTOP). */
struct evloop_signal *evloop_add_signal(struct evloop *loop, int signo,
					evloop_signal_callback_t *cb,
					void *context);
/* evloop_remove_signal - sets *sig = NULL; when it was the signal's last
   callback, an instance still pending is discarded and the signal is
   unblocked again (unless it was blocked before evloop_add_signal) */
void evloop_remove_signal(struct evloop_signal **sig);

/* evloop_set_before_sleep - called before every wait */
void evloop_set_before_sleep(struct evloop *loop, evloop_hook_callback_t *cb,
			     void *context);

#endif
