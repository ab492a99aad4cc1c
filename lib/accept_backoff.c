/*
 * accept_backoff - pause a listener whose accept() fails for want of
 * resources, instead of spinning (see accept_backoff.h).
 */
#include "accept_backoff.h"

#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

struct accept_backoff {
	struct evloop *loop;
	accept_backoff_watch_callback_t *cb;
	void *context;
	struct evloop_timer *timer;	/* set while paused */
	unsigned int delay_msecs;	/* the next pause */
	bool logged;
	uint64_t last_log_msecs;
	unsigned int suppressed;
};

struct accept_backoff *accept_backoff_create(struct evloop *loop,
					     accept_backoff_watch_callback_t *cb,
					     void *context)
{
	struct accept_backoff *backoff = xcalloc(1, sizeof(*backoff));

	backoff->loop = loop;
	backoff->cb = cb;
	backoff->context = context;
	backoff->delay_msecs = ACCEPT_BACKOFF_MIN_MSECS;
	return backoff;
}

void accept_backoff_free(struct accept_backoff **_backoff)
{
	struct accept_backoff *backoff = *_backoff;

	if (backoff == NULL)
		return;
	*_backoff = NULL;
	if (backoff->timer != NULL)
		evloop_remove_timer(&backoff->timer);
	free(backoff);
}

/* accept_backoff_resume - the pause is over: watch again */
static int64_t accept_backoff_resume(struct evloop_timer *timer, void *context)
{
	struct accept_backoff *backoff = context;

	(void)timer;
	backoff->timer = NULL;
	backoff->cb(true, backoff->context);
	return EVLOOP_NOMORE;
}

bool accept_backoff_failed(struct accept_backoff *backoff, char *note,
			   size_t note_size)
{
	uint64_t now = evloop_now_msecs(backoff->loop);
	unsigned int delay = backoff->delay_msecs;

	if (backoff->timer == NULL) {
		/* paused first: the callback may ask accept_backoff_paused() */
		backoff->timer = evloop_add_timer(backoff->loop, delay,
						  accept_backoff_resume, backoff);
		backoff->delay_msecs = delay * 2 > ACCEPT_BACKOFF_MAX_MSECS ?
			ACCEPT_BACKOFF_MAX_MSECS : delay * 2;
		backoff->cb(false, backoff->context);
	}
	if (backoff->logged &&
	    now - backoff->last_log_msecs < ACCEPT_BACKOFF_LOG_MSECS) {
		backoff->suppressed++;
		return false;
	}
	if (backoff->suppressed == 0)
		snprintf(note, note_size, "not accepting for %u ms", delay);
	else
		snprintf(note, note_size, "%u more failures since the last "
			 "report; not accepting for %u ms", backoff->suppressed,
			 delay);
	backoff->suppressed = 0;
	backoff->logged = true;
	backoff->last_log_msecs = now;
	return true;
}

void accept_backoff_succeeded(struct accept_backoff *backoff)
{
	backoff->delay_msecs = ACCEPT_BACKOFF_MIN_MSECS;
}

bool accept_backoff_paused(const struct accept_backoff *backoff)
{
	return backoff->timer != NULL;
}
