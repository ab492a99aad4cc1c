/*
 * stats_journal - the delivery journal's memory: a ring of the last N
 * recipient delivery outcomes reported to loft-stats (stats_journal_size),
 * behind `loftadm deliveries` and GET /api/v1/deliveries. Memory is
 * bounded: N records (fixed at create time) of at most
 * STATS_JSON_MAX_STRING bytes per string.
 *
 * Each record gets a sequence number (1, 2, ...) and is handed to an
 * optional sink, the disk journal (stats_store.h), which keeps every
 * outcome; a query then asks the ring only for what the disk does not
 * have yet (after_seq). The match and JSON functions are shared with the
 * disk journal, so both answer a query the same way.
 *
 * Not thread-safe: the stats process serialises calls with one mutex.
 */
#ifndef LOFT_STATS_JOURNAL_H
#define LOFT_STATS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define STATS_JOURNAL_DEFAULT_CAPACITY 10000
#define STATS_JOURNAL_DEFAULT_LIMIT 100

/* One delivery outcome; any string may be NULL (JSON null). */
struct stats_delivery {
	uint64_t ts_usecs;		/* wall clock, usecs since the epoch */
	const char *protocol;		/* "lmtp" | "lda" (JSON "service") */
	unsigned int pid;
	const char *session_id;		/* with :T/:R suffixes as logged */
	const char *user;
	const char *msgid;
	const char *from;		/* From: header */
	const char *envelope_from;	/* MAIL FROM / -f */
	const char *rcpt;
	const char *orig_rcpt;
	const char *mailbox;
	const char *result;		/* saved | rejected | tempfail */
	const char *enhanced_code;	/* "2.0.0" */
	const char *text;		/* reply / status text */
	const char *reason;		/* unknown_user, quota ... or NULL */
	const char *sieve;		/* the Sieve scripts and actions, or NULL */
	/* the uid the delivery ran as (the stored mail's owner); checked
	   against the kernel's for a loft-lda peer that is not root */
	bool have_uid;
	unsigned int uid;
	uint64_t size, vsize;
	unsigned int code;		/* 250, 550, 451 ... */
	double duration_ms;
};

/* A journal query; zero-initialise and set what you need. All criteria
   must match. */
struct stats_journal_query {
	const char *user_mask;	/* mask_match() on user */
	const char *sender;	/* envelope_from: mask or exact, both case-
				   insensitive ("" finds the null sender <>) */
	const char *msgid;	/* exact; surrounding <> optional on both sides */
	const char *session_id;	/* prefix: "SID" finds "SID:T1:R2" */
	const char *result;	/* exact, case-insensitive */
	uint64_t since_usecs;	/* ts_usecs >= since (0: everything) */
	uint64_t until_usecs;	/* ts_usecs <= until (0: no upper bound) */
	unsigned int limit;	/* 0: STATS_JOURNAL_DEFAULT_LIMIT; at most
				   STATS_JOURNAL_MAX_LIMIT (the ring gives
				   at most its capacity) */
	uint64_t after_seq;	/* ring only: records numbered above this */
};

#define STATS_JOURNAL_MAX_LIMIT 100000

struct stats_journal;

/* Receives each record added, numbered; d is the ring's clean copy,
   valid during the call only. Called with the caller's lock held. */
typedef void stats_journal_sink_t(void *context, uint64_t seq,
				  const struct stats_delivery *d);

/* stats_journal_create - a ring of capacity records (0: the default
   STATS_JOURNAL_DEFAULT_CAPACITY) */
struct stats_journal *stats_journal_create(size_t capacity);
/* stats_journal_free - free the journal; NULLs *journal */
void stats_journal_free(struct stats_journal **journal);
/* stats_journal_set_sink - hand every record added from now on to sink
   (NULL: none) */
void stats_journal_set_sink(struct stats_journal *journal,
			    stats_journal_sink_t *sink, void *context);
/* stats_journal_add - append a copy of d (strings cut to
   STATS_JSON_MAX_STRING bytes, invalid UTF-8 bytes replaced by '?'),
   dropping the oldest record when the ring is full; the copy goes to the
   sink. Returns the record's sequence number. */
uint64_t stats_journal_add(struct stats_journal *journal,
			   const struct stats_delivery *d);
/* stats_journal_count - records held now (at most the capacity) */
size_t stats_journal_count(const struct stats_journal *journal);
/* stats_journal_capacity - the N given at create */
size_t stats_journal_capacity(const struct stats_journal *journal);
/* stats_journal_query - the records matching q (NULL: all), newest
   first, at most q->limit, as a JSON array the caller owns. Each object
   has the fields of the JSON delivery log line: ts (RFC 3339 UTC with
   microseconds), service (= protocol), pid, session, user, msgid, from,
   envelope_from, rcpt, orig_rcpt, mailbox, size, vsize, result, code,
   enhanced_code, text, reason, duration_ms (3 decimals). */
json_object *stats_journal_query(const struct stats_journal *journal,
				 const struct stats_journal_query *q);
/* stats_journal_query_limit - how many records q asks for */
unsigned int stats_journal_query_limit(const struct stats_journal_query *q);
/* stats_journal_match - does d satisfy every criterion of q (after_seq
   aside)? */
bool stats_journal_match(const struct stats_delivery *d,
			 const struct stats_journal_query *q);
/* stats_journal_delivery_json - the JSON object of one record, as
   stats_journal_query gives it */
json_object *stats_journal_delivery_json(const struct stats_delivery *d);
/* stats_journal_delivery_copy - *dst becomes a deep copy of src (free
   with stats_journal_delivery_clear) */
void stats_journal_delivery_copy(struct stats_delivery *dst,
				 const struct stats_delivery *src);
/* stats_journal_delivery_clear - free a copy's strings, zero it */
void stats_journal_delivery_clear(struct stats_delivery *d);
/* stats_journal_msgid_key - msgid without one pair of surrounding <>
   (how msgids compare); *len_r gets its length */
const char *stats_journal_msgid_key(const char *msgid, size_t *len_r);

#endif
