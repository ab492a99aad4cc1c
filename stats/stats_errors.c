/*
 * stats_errors - the ring of recent warnings and errors (see
 * stats_errors.h).
 */
#include "stats_errors.h"

#include <stdlib.h>
#include <string.h>

#include "stats_json.h"
#include "xalloc.h"

struct stats_error_entry {
	uint64_t seq;
	uint64_t ts_usecs;
	enum log_level level;
	unsigned int pid;
	char *service, *session, *user, *text;
};

struct stats_errors {
	struct stats_error_entry *ring;
	uint64_t last_seq;
	stats_errors_sink_t *sink;
	void *sink_context;
	size_t capacity;
	size_t head;		/* where the next entry goes */
	size_t count;
};

/* stats_errors_clear - free the strings of a ring slot */
static void stats_errors_clear(struct stats_error_entry *e)
{
	free(e->service);
	free(e->session);
	free(e->user);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

struct stats_errors *stats_errors_create(size_t capacity)
{
	struct stats_errors *errors = xcalloc(1, sizeof(*errors));

	errors->capacity = capacity > 0 ? capacity :
		STATS_ERRORS_DEFAULT_CAPACITY;
	errors->ring = xcalloc(errors->capacity, sizeof(*errors->ring));
	return errors;
}

void stats_errors_free(struct stats_errors **_errors)
{
	struct stats_errors *errors = *_errors;
	size_t i;

	if (errors == NULL)
		return;
	for (i = 0; i < errors->capacity; i++)
		stats_errors_clear(&errors->ring[i]);
	free(errors->ring);
	free(errors);
	*_errors = NULL;
}

void stats_errors_set_sink(struct stats_errors *errors,
			   stats_errors_sink_t *sink, void *context)
{
	errors->sink = sink;
	errors->sink_context = context;
}

/* stats_errors_record - the entry as a record (pointing into it) */
static struct stats_error_record
stats_errors_record(const struct stats_error_entry *e)
{
	struct stats_error_record r = {
		.ts_usecs = e->ts_usecs, .level = e->level,
		.service = e->service, .pid = e->pid, .session = e->session,
		.user = e->user, .text = e->text,
	};

	return r;
}

bool stats_errors_add(struct stats_errors *errors, uint64_t ts_usecs,
		      enum log_level level, const char *service,
		      unsigned int pid, const char *session, const char *user,
		      const char *text)
{
	struct stats_error_entry *e;

	if (level < LOG_LEVEL_WARNING || level >= LOG_LEVEL_COUNT)
		return false;
	e = &errors->ring[errors->head];
	stats_errors_clear(e);
	e->ts_usecs = ts_usecs;
	e->level = level;
	e->pid = pid;
	e->service = stats_json_strdup(service, STATS_JSON_MAX_STRING);
	e->session = stats_json_strdup(session, STATS_JSON_MAX_STRING);
	e->user = stats_json_strdup(user, STATS_JSON_MAX_STRING);
	e->text = stats_json_strdup(text != NULL ? text : "",
				    STATS_JSON_MAX_STRING);
	e->seq = ++errors->last_seq;
	errors->head = (errors->head + 1) % errors->capacity;
	if (errors->count < errors->capacity)
		errors->count++;
	if (errors->sink != NULL) {
		struct stats_error_record r = stats_errors_record(e);

		errors->sink(errors->sink_context, e->seq, &r);
	}
	return true;
}

size_t stats_errors_count(const struct stats_errors *errors)
{
	return errors->count;
}

json_object *stats_errors_record_json(const struct stats_error_record *e)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "ts", stats_json_ts(e->ts_usecs));
	json_object_object_add(obj, "level", json_object_new_string(
		stats_json_level_name(e->level)));
	json_object_object_add(obj, "service", stats_json_string(e->service));
	json_object_object_add(obj, "pid", json_object_new_int64(e->pid));
	json_object_object_add(obj, "session", stats_json_string(e->session));
	json_object_object_add(obj, "user", stats_json_string(e->user));
	json_object_object_add(obj, "msg", stats_json_string(e->text));
	return obj;
}

json_object *stats_errors_query(const struct stats_errors *errors,
				uint64_t since_usecs, unsigned int limit)
{
	return stats_errors_query_after(errors, since_usecs, limit, 0);
}

json_object *stats_errors_query_after(const struct stats_errors *errors,
				      uint64_t since_usecs, unsigned int limit,
				      uint64_t after_seq)
{
	struct stats_error_record r;
	json_object *result = json_object_new_array();
	const struct stats_error_entry *e;
	size_t k, max, found = 0;

	max = limit > 0 ? limit : STATS_ERRORS_DEFAULT_LIMIT;
	if (max > errors->capacity)
		max = errors->capacity;
	for (k = 0; k < errors->count && found < max; k++) {
		e = &errors->ring[(errors->head + errors->capacity - 1 - k) %
				  errors->capacity];
		/* numbered in order: the rest is older still */
		if (e->seq <= after_seq)
			break;
		if (e->ts_usecs < since_usecs)
			continue;
		r = stats_errors_record(e);
		json_object_array_add(result, stats_errors_record_json(&r));
		found++;
	}
	return result;
}
