/*
 * stats_journal - the ring of recent delivery outcomes (see
 * stats_journal.h). Each record owns clean, capped copies of its strings;
 * the string members are copied and freed through a table of their
 * offsets, so neither can miss one.
 */
#include "stats_journal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stats_json.h"
#include "mask.h"
#include "stats_match.h"
#include "xalloc.h"

struct stats_journal {
	struct stats_delivery *ring;
	uint64_t *seqs;		/* each slot's sequence number */
	uint64_t last_seq;
	stats_journal_sink_t *sink;
	void *sink_context;
	size_t capacity;
	size_t head;		/* where the next record goes */
	size_t count;
};

/* A string member of struct stats_delivery and its JSON name. */
struct stats_journal_field {
	size_t offset;
	const char *json_name;
};

#define STATS_JOURNAL_FIELD(member, name) \
	{ offsetof(struct stats_delivery, member), name }

static const struct stats_journal_field stats_journal_fields[] = {
	STATS_JOURNAL_FIELD(protocol, "service"),
	STATS_JOURNAL_FIELD(session_id, "session"),
	STATS_JOURNAL_FIELD(user, "user"),
	STATS_JOURNAL_FIELD(msgid, "msgid"),
	STATS_JOURNAL_FIELD(from, "from"),
	STATS_JOURNAL_FIELD(envelope_from, "envelope_from"),
	STATS_JOURNAL_FIELD(rcpt, "rcpt"),
	STATS_JOURNAL_FIELD(orig_rcpt, "orig_rcpt"),
	STATS_JOURNAL_FIELD(mailbox, "mailbox"),
	STATS_JOURNAL_FIELD(result, "result"),
	STATS_JOURNAL_FIELD(enhanced_code, "enhanced_code"),
	STATS_JOURNAL_FIELD(text, "text"),
	STATS_JOURNAL_FIELD(reason, "reason"),
	STATS_JOURNAL_FIELD(sieve, "sieve"),
};

/* stats_journal_str - the string member at offset of d */
static const char **stats_journal_str(struct stats_delivery *d, size_t offset)
{
	return (const char **)(void *)((char *)d + offset);
}

/* stats_journal_cstr - the same for a const record */
static const char *stats_journal_cstr(const struct stats_delivery *d,
				      size_t offset)
{
	return *(const char *const *)(const void *)((const char *)d + offset);
}

void stats_journal_delivery_clear(struct stats_delivery *d)
{
	size_t i;

	for (i = 0; i < LOFT_N_ELEMENTS(stats_journal_fields); i++)
		free((char *)*stats_journal_str(d, stats_journal_fields[i].offset));
	memset(d, 0, sizeof(*d));
}

void stats_journal_delivery_copy(struct stats_delivery *dst,
				 const struct stats_delivery *src)
{
	size_t i, off;

	*dst = *src;
	for (i = 0; i < LOFT_N_ELEMENTS(stats_journal_fields); i++) {
		off = stats_journal_fields[i].offset;
		if (stats_journal_cstr(src, off) != NULL)
			*stats_journal_str(dst, off) =
				xstrdup(stats_journal_cstr(src, off));
	}
}

struct stats_journal *stats_journal_create(size_t capacity)
{
	struct stats_journal *journal = xcalloc(1, sizeof(*journal));

	journal->capacity = capacity > 0 ? capacity :
		STATS_JOURNAL_DEFAULT_CAPACITY;
	journal->ring = xcalloc(journal->capacity, sizeof(*journal->ring));
	journal->seqs = xcalloc(journal->capacity, sizeof(*journal->seqs));
	return journal;
}

void stats_journal_free(struct stats_journal **_journal)
{
	struct stats_journal *journal = *_journal;
	size_t i;

	if (journal == NULL)
		return;
	for (i = 0; i < journal->capacity; i++)
		stats_journal_delivery_clear(&journal->ring[i]);
	free(journal->ring);
	free(journal->seqs);
	free(journal);
	*_journal = NULL;
}

void stats_journal_set_sink(struct stats_journal *journal,
			    stats_journal_sink_t *sink, void *context)
{
	journal->sink = sink;
	journal->sink_context = context;
}

uint64_t stats_journal_add(struct stats_journal *journal,
			   const struct stats_delivery *d)
{
	struct stats_delivery *slot = &journal->ring[journal->head];
	size_t i, off;

	stats_journal_delivery_clear(slot);
	*slot = *d;
	for (i = 0; i < LOFT_N_ELEMENTS(stats_journal_fields); i++) {
		off = stats_journal_fields[i].offset;
		*stats_journal_str(slot, off) = stats_json_strdup(
			stats_journal_cstr(d, off), STATS_JSON_MAX_STRING);
	}
	journal->seqs[journal->head] = ++journal->last_seq;
	journal->head = (journal->head + 1) % journal->capacity;
	if (journal->count < journal->capacity)
		journal->count++;
	if (journal->sink != NULL)
		journal->sink(journal->sink_context, journal->last_seq, slot);
	return journal->last_seq;
}

size_t stats_journal_count(const struct stats_journal *journal)
{
	return journal->count;
}

size_t stats_journal_capacity(const struct stats_journal *journal)
{
	return journal->capacity;
}

const char *stats_journal_msgid_key(const char *str, size_t *len_r)
{
	size_t len = strlen(str);

	if (len >= 2 && str[0] == '<' && str[len - 1] == '>') {
		*len_r = len - 2;
		return str + 1;
	}
	*len_r = len;
	return str;
}

/* stats_journal_msgid_equal - msgids equal, brackets optional */
static bool stats_journal_msgid_equal(const char *want, const char *have)
{
	size_t want_len, have_len;

	if (have == NULL)
		return false;
	want = stats_journal_msgid_key(want, &want_len);
	have = stats_journal_msgid_key(have, &have_len);
	return want_len == have_len && memcmp(want, have, want_len) == 0;
}

/* stats_journal_sender_match - envelope sender against a mask; the null
   sender (NULL, "" or "<>") reads as "" on both sides */
static bool stats_journal_sender_match(const char *want, const char *have)
{
	if (strcmp(want, "<>") == 0)
		want = "";
	if (have == NULL || strcmp(have, "<>") == 0)
		have = "";
	return mask_match(want, have);
}

bool stats_journal_match(const struct stats_delivery *d,
			 const struct stats_journal_query *q)
{
	if (d->ts_usecs < q->since_usecs)
		return false;
	if (q->until_usecs != 0 && d->ts_usecs > q->until_usecs)
		return false;
	if (q->user_mask != NULL && !mask_match(q->user_mask, d->user))
		return false;
	if (q->sender != NULL &&
	    !stats_journal_sender_match(q->sender, d->envelope_from))
		return false;
	if (q->msgid != NULL && !stats_journal_msgid_equal(q->msgid, d->msgid))
		return false;
	if (q->session_id != NULL &&
	    (d->session_id == NULL ||
	     strncmp(d->session_id, q->session_id, strlen(q->session_id)) != 0))
		return false;
	if (q->result != NULL &&
	    (d->result == NULL || strcasecmp(d->result, q->result) != 0))
		return false;
	return true;
}

json_object *stats_journal_delivery_json(const struct stats_delivery *d)
{
	json_object *obj = json_object_new_object();
	double ms = isfinite(d->duration_ms) && d->duration_ms > 0 ?
		d->duration_ms : 0.0;
	char duration[64];

	json_object_object_add(obj, "ts", stats_json_ts(d->ts_usecs));
	json_object_object_add(obj, "service", stats_json_string(d->protocol));
	json_object_object_add(obj, "pid", json_object_new_int64(d->pid));
	json_object_object_add(obj, "session", stats_json_string(d->session_id));
	json_object_object_add(obj, "user", stats_json_string(d->user));
	json_object_object_add(obj, "msgid", stats_json_string(d->msgid));
	json_object_object_add(obj, "from", stats_json_string(d->from));
	json_object_object_add(obj, "envelope_from",
			       stats_json_string(d->envelope_from));
	json_object_object_add(obj, "rcpt", stats_json_string(d->rcpt));
	json_object_object_add(obj, "orig_rcpt", stats_json_string(d->orig_rcpt));
	json_object_object_add(obj, "mailbox", stats_json_string(d->mailbox));
	json_object_object_add(obj, "size", json_object_new_uint64(d->size));
	json_object_object_add(obj, "vsize", json_object_new_uint64(d->vsize));
	json_object_object_add(obj, "result", stats_json_string(d->result));
	json_object_object_add(obj, "code", json_object_new_int64(d->code));
	json_object_object_add(obj, "enhanced_code",
			       stats_json_string(d->enhanced_code));
	json_object_object_add(obj, "text", stats_json_string(d->text));
	json_object_object_add(obj, "reason", stats_json_string(d->reason));
	if (d->sieve != NULL)
		json_object_object_add(obj, "sieve", stats_json_string(d->sieve));
	json_object_object_add(obj, "uid", d->have_uid ?
			       json_object_new_int64(d->uid) : NULL);
	snprintf(duration, sizeof(duration), "%.3f", ms);
	json_object_object_add(obj, "duration_ms",
			       json_object_new_double_s(ms, duration));
	return obj;
}

unsigned int stats_journal_query_limit(const struct stats_journal_query *q)
{
	if (q == NULL || q->limit == 0)
		return STATS_JOURNAL_DEFAULT_LIMIT;
	return q->limit < STATS_JOURNAL_MAX_LIMIT ? q->limit :
		STATS_JOURNAL_MAX_LIMIT;
}

json_object *stats_journal_query(const struct stats_journal *journal,
				 const struct stats_journal_query *q)
{
	static const struct stats_journal_query all = { .limit = 0 };
	json_object *result = json_object_new_array();
	const struct stats_delivery *d;
	size_t k, slot, limit, found = 0;

	if (q == NULL)
		q = &all;
	limit = stats_journal_query_limit(q);
	if (limit > journal->capacity)
		limit = journal->capacity;
	for (k = 0; k < journal->count && found < limit; k++) {
		slot = (journal->head + journal->capacity - 1 - k) %
			journal->capacity;
		/* numbered in order: the rest is older still */
		if (journal->seqs[slot] <= q->after_seq)
			break;
		d = &journal->ring[slot];
		if (!stats_journal_match(d, q))
			continue;
		json_object_array_add(result, stats_journal_delivery_json(d));
		found++;
	}
	return result;
}
