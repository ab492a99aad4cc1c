/*
 * stats_resume - a new loft-stats (a reload, a restart after a crash)
 * holds concurrency questions until the slots held before it are known
 * again. Every loft-lmtp announces its sessions and held slots when it
 * connects, then sends Announced; loftd's first status lists the
 * loft-lmtp processes that exist (those retired by the reload
 * included). Until each of them has said Announced, or is gone, a
 * question (ConcurrencyAcquire with a limit) waits here instead of being
 * answered from a table that lacks some held slots (one RCPT too many
 * allowed, or a re-announced slot pushing the count over the limit after
 * a new one was granted). The wait is bounded and fails open, as loft
 * does when loft-stats is slow: it ends STATS_RESUME_WAIT_MSECS after
 * the first status (STATS_RESUME_START_MSECS after the start when none
 * comes), and no question waits longer than STATS_RESUME_HOLD_MSECS, well
 * under loft-lmtp's own LMTP_STATS_CONCURRENCY_MSECS (500) after which it
 * would allow every RCPT at once.
 *
 * Not thread-safe: loft-stats calls it under its one lock.
 */
#ifndef LOFT_STATS_RESUME_H
#define LOFT_STATS_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_RESUME_WAIT_MSECS 300
#define STATS_RESUME_START_MSECS 1000
#define STATS_RESUME_HOLD_MSECS 300

/* the service whose processes hold slots (loft-lmtp's Hello says it) */
#define STATS_RESUME_SERVICE "lmtp"

struct stats_resume;

/* one question held: what ConcurrencyAcquire asked, and who */
struct stats_resume_question {
	struct stats_resume_question *next;
	int owner;		/* the asking connection (stats_peer.owner) */
	uint64_t id;
	char *user, *session_id;
	unsigned int limit;
	uint64_t since_msecs;	/* held since (monotonic) */
};

/* stats_resume_create - waiting from now_msecs (monotonic) on */
struct stats_resume *stats_resume_create(uint64_t now_msecs);
void stats_resume_free(struct stats_resume **resume);

/* stats_resume_expect - loftd's first status: the pids to hear from
   (later calls change nothing); the wait ends STATS_RESUME_WAIT_MSECS
   after now_msecs at the latest */
void stats_resume_expect(struct stats_resume *resume, const uint32_t *pids,
			 size_t count, uint64_t now_msecs);
/* stats_resume_heard - pid announced what it holds, or is gone */
void stats_resume_heard(struct stats_resume *resume, uint32_t pid);
/* stats_resume_expected - pids not heard from yet, at most max of them
   into pids_r; how many there are */
size_t stats_resume_expected(const struct stats_resume *resume,
			     uint32_t *pids_r, size_t max);
/* stats_resume_waiting - questions must wait now */
bool stats_resume_waiting(struct stats_resume *resume, uint64_t now_msecs);

/* stats_resume_hold - keep a question until stats_resume_next gives it
   back (copies the strings) */
void stats_resume_hold(struct stats_resume *resume, int owner, uint64_t id,
		       const char *user, const char *session_id,
		       unsigned int limit, uint64_t now_msecs);
/* stats_resume_forget - drop owner's held questions for session_id
   (:T/:R suffixes ignored; NULL: all of owner's) and user (NULL: any,
   compared case-insensitively): the session ended, the slot was given
   back, the connection went. How many were dropped. */
size_t stats_resume_forget(struct stats_resume *resume, int owner,
			   const char *session_id, const char *user);
/* stats_resume_next - the oldest held question to answer now (the wait
   is over, or it waited STATS_RESUME_HOLD_MSECS), unlinked: free it with
   stats_resume_question_free; NULL when none */
struct stats_resume_question *stats_resume_next(struct stats_resume *resume,
						uint64_t now_msecs);
void stats_resume_question_free(struct stats_resume_question **question);
/* stats_resume_held - questions held now */
size_t stats_resume_held(const struct stats_resume *resume);
/* stats_resume_due_msecs - when (monotonic) to look again: the end of
   the wait or the oldest question's limit, whichever comes first; 0 when
   nothing is held */
uint64_t stats_resume_due_msecs(const struct stats_resume *resume);

#endif
