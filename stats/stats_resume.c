/*
 * stats_resume - concurrency questions held until the slots held before
 * this loft-stats are known again (see stats_resume.h). The expected
 * pids are a small array (loftd's loft-lmtp processes); the questions a
 * FIFO list, oldest first.
 */
#include "stats_resume.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

struct stats_resume {
	uint64_t start_msecs;
	bool expect_set;	/* loftd's first status came */
	bool over;		/* the wait ended, for good */
	uint64_t expect_end_msecs;
	uint32_t *pids;		/* not heard from yet */
	size_t pid_count;
	struct stats_resume_question *head, **tail;
	size_t held;
};

struct stats_resume *stats_resume_create(uint64_t now_msecs)
{
	struct stats_resume *resume = xcalloc(1, sizeof(*resume));

	resume->start_msecs = now_msecs;
	resume->tail = &resume->head;
	return resume;
}

void stats_resume_question_free(struct stats_resume_question **_question)
{
	struct stats_resume_question *q = *_question;

	if (q == NULL)
		return;
	*_question = NULL;
	free(q->user);
	free(q->session_id);
	free(q);
}

void stats_resume_free(struct stats_resume **_resume)
{
	struct stats_resume *resume = *_resume;

	if (resume == NULL)
		return;
	*_resume = NULL;
	while (resume->head != NULL) {
		struct stats_resume_question *q = resume->head;

		resume->head = q->next;
		stats_resume_question_free(&q);
	}
	free(resume->pids);
	free(resume);
}

void stats_resume_expect(struct stats_resume *resume, const uint32_t *pids,
			 size_t count, uint64_t now_msecs)
{
	if (resume->expect_set)
		return;
	resume->expect_set = true;
	resume->expect_end_msecs = now_msecs + STATS_RESUME_WAIT_MSECS;
	resume->pids = xcalloc(count + 1, sizeof(*pids));
	for (size_t i = 0; i < count; i++) {
		size_t j;

		/* a pid listed twice is waited for once */
		for (j = 0; j < resume->pid_count && resume->pids[j] != pids[i]; j++)
			;
		if (j == resume->pid_count && pids[i] != 0)
			resume->pids[resume->pid_count++] = pids[i];
	}
}

void stats_resume_heard(struct stats_resume *resume, uint32_t pid)
{
	for (size_t i = 0; i < resume->pid_count; i++) {
		if (resume->pids[i] == pid) {
			resume->pids[i] = resume->pids[--resume->pid_count];
			return;
		}
	}
}

size_t stats_resume_expected(const struct stats_resume *resume,
			     uint32_t *pids_r, size_t max)
{
	for (size_t i = 0; i < resume->pid_count && i < max; i++)
		pids_r[i] = resume->pids[i];
	return resume->pid_count;
}

/* stats_resume_end_msecs - when the wait ends at the latest */
static uint64_t stats_resume_end_msecs(const struct stats_resume *resume)
{
	return resume->expect_set ? resume->expect_end_msecs :
		resume->start_msecs + STATS_RESUME_START_MSECS;
}

bool stats_resume_waiting(struct stats_resume *resume, uint64_t now_msecs)
{
	if (resume->over)
		return false;
	if ((resume->expect_set && resume->pid_count == 0) ||
	    now_msecs >= stats_resume_end_msecs(resume))
		resume->over = true;
	return !resume->over;
}

void stats_resume_hold(struct stats_resume *resume, int owner, uint64_t id,
		       const char *user, const char *session_id,
		       unsigned int limit, uint64_t now_msecs)
{
	struct stats_resume_question *q = xcalloc(1, sizeof(*q));

	q->owner = owner;
	q->id = id;
	q->user = xstrdup(user);
	q->session_id = xstrdup(session_id);
	q->limit = limit;
	q->since_msecs = now_msecs;
	*resume->tail = q;
	resume->tail = &q->next;
	resume->held++;
}

/* same_session - a and b name the same session (suffixes ignored) */
static bool same_session(const char *a, const char *b)
{
	size_t len = strcspn(a, ":");

	return len == strcspn(b, ":") && strncmp(a, b, len) == 0;
}

size_t stats_resume_forget(struct stats_resume *resume, int owner,
			   const char *session_id, const char *user)
{
	struct stats_resume_question **p = &resume->head;
	size_t n = 0;

	while (*p != NULL) {
		struct stats_resume_question *q = *p;

		if (q->owner != owner ||
		    (session_id != NULL && !same_session(q->session_id, session_id)) ||
		    (user != NULL && strcasecmp(q->user, user) != 0)) {
			p = &q->next;
			continue;
		}
		*p = q->next;
		stats_resume_question_free(&q);
		resume->held--;
		n++;
	}
	/* the tail moves with what was dropped */
	resume->tail = &resume->head;
	while (*resume->tail != NULL)
		resume->tail = &(*resume->tail)->next;
	return n;
}

struct stats_resume_question *stats_resume_next(struct stats_resume *resume,
						uint64_t now_msecs)
{
	struct stats_resume_question *q = resume->head;

	if (q == NULL || (stats_resume_waiting(resume, now_msecs) &&
			  now_msecs < q->since_msecs + STATS_RESUME_HOLD_MSECS))
		return NULL;
	resume->head = q->next;
	if (resume->head == NULL)
		resume->tail = &resume->head;
	resume->held--;
	q->next = NULL;
	return q;
}

size_t stats_resume_held(const struct stats_resume *resume)
{
	return resume->held;
}

uint64_t stats_resume_due_msecs(const struct stats_resume *resume)
{
	uint64_t end = stats_resume_end_msecs(resume);
	uint64_t hold;

	if (resume->head == NULL)
		return 0;
	if (resume->over)
		return resume->head->since_msecs;
	hold = resume->head->since_msecs + STATS_RESUME_HOLD_MSECS;
	return hold < end ? hold : end;
}
