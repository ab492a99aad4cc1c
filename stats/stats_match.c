/*
 * stats_match - user masks, CIDR ranges and session filters for who/kick
 * and the journal queries (see stats_match.h).
 */
#include "stats_match.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error_slot.h"
#include "mask.h"
#include "session_id.h"
#include "stats_sessions.h"
#include "xalloc.h"

static __thread struct error_slot stats_match_error;

/* stats_match_is_base64 - one of [A-Za-z0-9+/] */
static bool stats_match_is_base64(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

bool stats_session_id_valid(const char *text)
{
	const char *p;
	size_t i;

	for (i = 0; i < SESSION_ID_LEN; i++) {
		if (!stats_match_is_base64(text[i]))
			return false;
	}
	for (p = text + SESSION_ID_LEN; *p != '\0'; ) {
		if (p[0] != ':' || (p[1] != 'T' && p[1] != 'R' && p[1] != 'P') ||
		    !isdigit((unsigned char)p[2]))
			return false;
		for (p += 2; isdigit((unsigned char)*p); p++) ;
	}
	return true;
}

/* stats_match_looks_like_ip - should value be read as an IP/CIDR? */
static bool stats_match_looks_like_ip(const char *value)
{
	bool only_digits_dots = true, has_dot = false;
	const char *p;

	for (p = value; *p != '\0'; p++) {
		if (!isxdigit((unsigned char)*p) && *p != '.' && *p != ':' &&
		    *p != '/')
			return false;
		if (*p == '.')
			has_dot = true;
		else if (!isdigit((unsigned char)*p))
			only_digits_dots = false;
	}
	return strpbrk(value, "/:") != NULL || (only_digits_dots && has_dot);
}

/* stats_match_push_string - append xstrdup(value) to a string array */
static void stats_match_push_string(char ***arr, size_t *count,
				    const char *value, size_t len)
{
	*arr = xreallocarray(*arr, *count + 1, sizeof(**arr));
	(*arr)[(*count)++] = xstrndup(value, len);
}

int stats_filter_add(struct stats_filter *filter, enum stats_filter_kind kind,
		     const char *value, const char **error_r)
{
	struct cidr cidr;

	if (*value == '\0') {
		*error_r = error_slot_set(&stats_match_error,
					  "Empty filter argument");
		return -1;
	}
	if (kind == STATS_FILTER_AUTO) {
		if (stats_session_id_valid(value))
			kind = STATS_FILTER_SESSION;
		else if (stats_match_looks_like_ip(value))
			kind = STATS_FILTER_IP;
		else
			kind = STATS_FILTER_USER;
	}
	switch (kind) {
	case STATS_FILTER_SESSION:
		if (!stats_session_id_valid(value)) {
			*error_r = error_slot_set(&stats_match_error,
						  "Invalid session id: %s", value);
			return -1;
		}
		stats_match_push_string(&filter->session_ids,
					&filter->session_id_count, value,
					SESSION_ID_LEN);
		return 0;
	case STATS_FILTER_IP:
		if (cidr_parse(value, &cidr, error_r) < 0)
			return -1;
		filter->cidrs = xreallocarray(filter->cidrs,
					      filter->cidr_count + 1,
					      sizeof(*filter->cidrs));
		filter->cidrs[filter->cidr_count++] = cidr;
		return 0;
	case STATS_FILTER_USER:
	case STATS_FILTER_AUTO:
		break;
	}
	stats_match_push_string(&filter->masks, &filter->mask_count, value,
				strlen(value));
	return 0;
}

void stats_filter_init(struct stats_filter *filter)
{
	memset(filter, 0, sizeof(*filter));
}

/* stats_match_free_strings - free a string array and zero it */
static void stats_match_free_strings(char ***arr, size_t *count)
{
	size_t i;

	for (i = 0; i < *count; i++)
		free((*arr)[i]);
	XFREE(*arr);
	*count = 0;
}

void stats_filter_free(struct stats_filter *filter)
{
	stats_match_free_strings(&filter->masks, &filter->mask_count);
	stats_match_free_strings(&filter->session_ids,
				 &filter->session_id_count);
	XFREE(filter->cidrs);
	filter->cidr_count = 0;
}

bool stats_filter_is_empty(const struct stats_filter *filter)
{
	return filter->mask_count == 0 && filter->cidr_count == 0 &&
		filter->session_id_count == 0;
}

int stats_filter_parse(const char *const *args, size_t n,
		       struct stats_filter *filter, const char **error_r)
{
	size_t i;

	stats_filter_init(filter);
	for (i = 0; i < n; i++) {
		if (stats_filter_add(filter, STATS_FILTER_AUTO, args[i],
				     error_r) < 0) {
			stats_filter_free(filter);
			return -1;
		}
	}
	return 0;
}

/* stats_match_any_mask - does one of the masks match one of the users
   (or "" for a session without users)? */
static bool stats_match_any_mask(const struct stats_filter *filter,
				 const struct stats_session *session)
{
	size_t i, j;

	for (i = 0; i < filter->mask_count; i++) {
		if (session->user_count == 0 &&
		    mask_match(filter->masks[i], ""))
			return true;
		for (j = 0; j < session->user_count; j++) {
			if (mask_match(filter->masks[i],
					     session->users[j]))
				return true;
		}
	}
	return false;
}

/* stats_match_any_cidr - is the session's client IP in one of the ranges? */
static bool stats_match_any_cidr(const struct stats_filter *filter,
				 const struct stats_session *session)
{
	size_t i;

	for (i = 0; i < filter->cidr_count; i++) {
		if (cidr_match(&filter->cidrs[i], session->client_ip))
			return true;
	}
	return false;
}

/* stats_match_any_session_id - is the session's id (without suffixes)
   one of the filter's ids? */
static bool stats_match_any_session_id(const struct stats_filter *filter,
				       const struct stats_session *session)
{
	size_t i, len = strcspn(session->id, ":");

	for (i = 0; i < filter->session_id_count; i++) {
		if (strlen(filter->session_ids[i]) == len &&
		    strncmp(filter->session_ids[i], session->id, len) == 0)
			return true;
	}
	return false;
}

bool stats_filter_matches(const struct stats_filter *filter,
			  const struct stats_session *session)
{
	if (filter == NULL)
		return true;
	if (filter->mask_count > 0 && !stats_match_any_mask(filter, session))
		return false;
	if (filter->cidr_count > 0 && !stats_match_any_cidr(filter, session))
		return false;
	if (filter->session_id_count > 0 &&
	    !stats_match_any_session_id(filter, session))
		return false;
	return true;
}
