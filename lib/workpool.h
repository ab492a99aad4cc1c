/*
 * workpool - run blocking steps (fsync, locks, userdb lookups) on worker
 * threads so they never stall the event loop's other sessions.
 *
 * A job's work function runs on a worker thread; its done function then
 * runs on the loop thread, in the loop's normal dispatch, woken through an
 * eventfd. Jobs are started in submission order; done callbacks of one
 * submitter arrive in completion order.
 */
#ifndef LOFT_WORKPOOL_H
#define LOFT_WORKPOOL_H

#include "evloop.h"

struct workpool;

typedef void workpool_work_t(void *context);
typedef void workpool_done_t(void *context);

/* workpool_create - threads workers (at least 1) reporting to loop; like
   workpool_try_create() but a failure (no eventfd, no thread) aborts, as
   xmalloc() does. Worker threads block every signal, so signals stay with
   the loop thread's signalfd. */
struct workpool *workpool_create(struct evloop *loop, unsigned int threads);
/* workpool_try_create - 0, or -1 with *error_r set (valid until the next
   call from the same thread) */
int workpool_try_create(struct evloop *loop, unsigned int threads,
			struct workpool **pool_r, const char **error_r);
/* workpool_free - finishes queued and running jobs (their done callbacks
   run, on the calling thread, in completion order; jobs those callbacks
   submit run too) and joins the threads; sets *pool = NULL before any of
   that. Callable from a done callback, not from a worker thread; free the
   pool before its loop. */
void workpool_free(struct workpool **pool);

/* workpool_submit - queue work (run on a worker) and then done (run on the
   loop thread); either may be NULL. Call from the loop thread only. */
void workpool_submit(struct workpool *pool, workpool_work_t *work,
		     workpool_done_t *done, void *context);
/* jobs submitted whose done callback has not run yet (a done callback no
   longer counts its own job) */
unsigned int workpool_pending(const struct workpool *pool);

#endif
