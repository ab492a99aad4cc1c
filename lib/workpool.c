/*
 * workpool - worker threads for blocking steps (see workpool.h). Workers
 * take jobs from a FIFO under one mutex and, once work() returned, append
 * them to a finished list; the first job to land on an empty finished
 * list writes the eventfd the loop watches. On the loop thread the eventfd
 * is drained before the finished list is taken, so a job finishing in
 * between always causes a fresh wake-up. done() callbacks then run in
 * completion order from a loop-owned ready list, which also lets
 * workpool_free() run from inside one of them.
 */
#include "workpool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xalloc.h"

struct workpool_job {
	struct workpool_job *next;
	workpool_work_t *work;
	workpool_done_t *done;
	void *context;
};

struct workpool_queue {
	struct workpool_job *head;
	struct workpool_job **tail;
};

struct workpool {
	struct evloop *loop;
	struct evloop_io *io;
	int efd;
	pthread_t *threads;
	unsigned int thread_count;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock: jobs waiting for a worker, jobs whose work is done,
	   and the order for idle workers to leave */
	struct workpool_queue jobs;
	struct workpool_queue finished;
	bool exiting;

	/* loop thread only */
	struct workpool_queue ready;
	unsigned int pending;
	bool freeing;
	/* set to true by workpool_free() for a done-callback round running
	   further up the stack */
	bool *freed_r;
};

static __thread char workpool_error_buf[256];

/* workpool_queue_init - empty queue */
static void workpool_queue_init(struct workpool_queue *queue)
{
	queue->head = NULL;
	queue->tail = &queue->head;
}

/* workpool_queue_push - append job */
static void workpool_queue_push(struct workpool_queue *queue,
				struct workpool_job *job)
{
	job->next = NULL;
	*queue->tail = job;
	queue->tail = &job->next;
}

/* workpool_queue_pop - take the first job, or NULL */
static struct workpool_job *workpool_queue_pop(struct workpool_queue *queue)
{
	struct workpool_job *job = queue->head;

	if (job != NULL) {
		queue->head = job->next;
		if (queue->head == NULL)
			queue->tail = &queue->head;
	}
	return job;
}

/* workpool_queue_move - append all of src to dst, emptying src */
static void workpool_queue_move(struct workpool_queue *dst,
				struct workpool_queue *src)
{
	if (src->head == NULL)
		return;
	*dst->tail = src->head;
	dst->tail = src->tail;
	workpool_queue_init(src);
}

/* workpool_thread - worker: run jobs until told to exit */
static void *workpool_thread(void *context)
{
	struct workpool *pool = context;
	sigset_t all;

	sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct workpool_job *job = workpool_queue_pop(&pool->jobs);

		if (job == NULL) {
			if (pool->exiting)
				break;
			pthread_cond_wait(&pool->cond, &pool->lock);
			continue;
		}
		pthread_mutex_unlock(&pool->lock);
		if (job->work != NULL)
			job->work(job->context);
		pthread_mutex_lock(&pool->lock);
		if (pool->finished.head == NULL) {
			const uint64_t one = 1;

			/* fails only if the counter would overflow, and then
			   the loop has a wake-up pending anyway */
			while (write(pool->efd, &one, sizeof(one)) < 0 &&
			       errno == EINTR)
				;
		}
		workpool_queue_push(&pool->finished, job);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* workpool_collect - move finished jobs to the loop-owned ready list */
static void workpool_collect(struct workpool *pool)
{
	uint64_t count;

	/* reset the counter first: a job finishing after this read finds
	   the finished list empty again and writes a new wake-up */
	while (read(pool->efd, &count, sizeof(count)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&pool->lock);
	workpool_queue_move(&pool->ready, &pool->finished);
	pthread_mutex_unlock(&pool->lock);
}

/* workpool_run_ready - run done callbacks of the ready list in order;
   false when one of them freed the pool */
static bool workpool_run_ready(struct workpool *pool)
{
	bool freed = false;
	bool *outer = pool->freed_r;
	struct workpool_job *job;

	pool->freed_r = &freed;
	while ((job = workpool_queue_pop(&pool->ready)) != NULL) {
		pool->pending--;
		if (job->done != NULL)
			job->done(job->context);
		free(job);
		if (freed) {
			if (outer != NULL)
				*outer = true;
			return false;
		}
	}
	pool->freed_r = outer;
	return true;
}

/* workpool_input - eventfd readable: run the done callbacks */
static void workpool_input(struct evloop_io *io, int fd, unsigned int events,
			   void *context)
{
	struct workpool *pool = context;

	workpool_collect(pool);
	(void)workpool_run_ready(pool);
}

/* workpool_wait_finished - block until a worker reports a finished job */
static void workpool_wait_finished(struct workpool *pool)
{
	struct pollfd pfd = { .fd = pool->efd, .events = POLLIN };

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
}

/* workpool_stop_threads - let workers empty the queue, then join them */
static void workpool_stop_threads(struct workpool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->exiting = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned int i = 0; i < pool->thread_count; i++)
		(void)pthread_join(pool->threads[i], NULL);
	pool->thread_count = 0;
}

/* workpool_destroy - stop threads and release everything else */
static void workpool_destroy(struct workpool *pool)
{
	workpool_stop_threads(pool);
	evloop_remove_io(&pool->io);
	if (pool->efd >= 0)
		(void)close(pool->efd);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool->threads);
	free(pool);
}

/* workpool_create_failed - undo a half-built pool, report what failed */
static int workpool_create_failed(struct workpool *pool, const char *what,
				  const char *detail, const char **error_r)
{
	snprintf(workpool_error_buf, sizeof(workpool_error_buf), "%s%s",
		 what, detail);
	workpool_destroy(pool);
	*error_r = workpool_error_buf;
	return -1;
}

/* workpool_start_threads - start count workers; 0 or an errno value. All
   signals are blocked while creating them so that no worker can take a
   signal before its own pthread_sigmask() call. */
static int workpool_start_threads(struct workpool *pool, unsigned int count)
{
	sigset_t all, old;
	int err = 0;

	sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	pool->threads = xcalloc(count, sizeof(*pool->threads));
	while (pool->thread_count < count) {
		err = pthread_create(&pool->threads[pool->thread_count], NULL,
				     workpool_thread, pool);
		if (err != 0)
			break;
		pool->thread_count++;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

int workpool_try_create(struct evloop *loop, unsigned int threads,
			struct workpool **pool_r, const char **error_r)
{
	struct workpool *pool = xcalloc(1, sizeof(*pool));
	int err;

	*pool_r = NULL;
	pool->loop = loop;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	workpool_queue_init(&pool->jobs);
	workpool_queue_init(&pool->finished);
	workpool_queue_init(&pool->ready);
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0)
		return workpool_create_failed(pool, "eventfd() failed: ",
					      strerror(errno), error_r);
	err = workpool_start_threads(pool, threads == 0 ? 1 : threads);
	if (err != 0)
		return workpool_create_failed(pool, "pthread_create() failed: ",
					      strerror(err), error_r);
	pool->io = evloop_add_io(loop, pool->efd, EVLOOP_READ, workpool_input,
				 pool);
	if (evloop_io_error(pool->io) != NULL)
		return workpool_create_failed(pool, "", evloop_io_error(pool->io),
					      error_r);
	*pool_r = pool;
	return 0;
}

struct workpool *workpool_create(struct evloop *loop, unsigned int threads)
{
	struct workpool *pool;
	const char *error;

	if (workpool_try_create(loop, threads, &pool, &error) < 0) {
		char msg[320];
		int len = snprintf(msg, sizeof(msg), "Panic: workpool: %s\n",
				   error);

		/* out of fds or threads: like xmalloc(), give up loudly */
		if (len > 0)
			(void)!write(STDERR_FILENO, msg, (size_t)len < sizeof(msg) ?
				     (size_t)len : sizeof(msg) - 1);
		abort();
	}
	return pool;
}

void workpool_free(struct workpool **_pool)
{
	struct workpool *pool = *_pool;

	*_pool = NULL;
	if (pool == NULL || pool->freeing)
		return;
	pool->freeing = true;
	while (pool->pending > 0) {
		if (pool->ready.head == NULL) {
			workpool_wait_finished(pool);
			workpool_collect(pool);
		}
		(void)workpool_run_ready(pool);
	}
	if (pool->freed_r != NULL)
		*pool->freed_r = true;
	workpool_destroy(pool);
}

void workpool_submit(struct workpool *pool, workpool_work_t *work,
		     workpool_done_t *done, void *context)
{
	struct workpool_job *job = xmalloc(sizeof(*job));

	job->work = work;
	job->done = done;
	job->context = context;
	pool->pending++;
	pthread_mutex_lock(&pool->lock);
	workpool_queue_push(&pool->jobs, job);
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

unsigned int workpool_pending(const struct workpool *pool)
{
	return pool->pending;
}
