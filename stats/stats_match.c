/*
 * stats_match - user masks, CIDR ranges and session filters for who/kick
 * and the journal queries (see stats_match.h).
 */
#include "stats_match.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error_slot.h"
#include "mask.h"
#include "session_id.h"
#include "stats_sessions.h"
#include "xalloc.h"

static __thread struct error_slot stats_match_error;

static const unsigned char stats_match_v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* stats_match_parse_ip - inet_pton for either family into addr[16];
   the family (4 or 6), or 0 when text is no address */
static unsigned int stats_match_parse_ip(const char *text, unsigned char addr[16])
{
	if (inet_pton(AF_INET, text, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return 6;
	return 0;
}

/* stats_match_parse_bits - a decimal prefix length <= max, or -1 */
static int stats_match_parse_bits(const char *text, unsigned int max)
{
	unsigned int bits = 0;

	if (*text == '\0' || strlen(text) > 3)
		return -1;
	for (; *text != '\0'; text++) {
		if (!isdigit((unsigned char)*text))
			return -1;
		bits = bits * 10 + (unsigned int)(*text - '0');
	}
	return bits <= max ? (int)bits : -1;
}

/* stats_match_prefix_equal - are the first bits bits of a and b equal? */
static bool stats_match_prefix_equal(const unsigned char *a,
				     const unsigned char *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int stats_cidr_parse(const char *text, struct stats_cidr *cidr_r,
		     const char **error_r)
{
	const char *slash = strchr(text, '/');
	char host[64];
	size_t host_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned int max_bits, i;
	int bits;

	memset(cidr_r, 0, sizeof(*cidr_r));
	if (host_len >= sizeof(host)) {
		*error_r = error_slot_set(&stats_match_error,
					  "Invalid IP address: %s", text);
		return -1;
	}
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	cidr_r->family = stats_match_parse_ip(host, cidr_r->addr);
	if (cidr_r->family == 0) {
		*error_r = error_slot_set(&stats_match_error,
					  "Invalid IP address: %s", text);
		return -1;
	}
	max_bits = cidr_r->family == 4 ? 32 : 128;
	bits = slash == NULL ? (int)max_bits :
		stats_match_parse_bits(slash + 1, max_bits);
	if (bits < 0) {
		*error_r = error_slot_set(&stats_match_error,
			"Invalid CIDR prefix length in %s (want 0..%u)",
			text, max_bits);
		return -1;
	}
	cidr_r->bits = (unsigned int)bits;
	/* clear the host bits so that equal ranges compare equal */
	for (i = cidr_r->bits; i < max_bits; i++)
		cidr_r->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return 0;
}

bool stats_cidr_match(const struct stats_cidr *cidr, const char *ip_text)
{
	unsigned char addr[16], mapped[16];
	unsigned int family;

	if (ip_text == NULL || *ip_text == '\0')
		return false;
	family = stats_match_parse_ip(ip_text, addr);
	if (family == 0)
		return false;
	if (family == 6 && cidr->family == 4) {
		if (memcmp(addr, stats_match_v4_mapped_prefix, 12) != 0)
			return false;
		return stats_match_prefix_equal(addr + 12, cidr->addr,
						cidr->bits);
	}
	if (family == 4 && cidr->family == 6) {
		memcpy(mapped, stats_match_v4_mapped_prefix, 12);
		memcpy(mapped + 12, addr, 4);
		return stats_match_prefix_equal(mapped, cidr->addr, cidr->bits);
	}
	return stats_match_prefix_equal(addr, cidr->addr, cidr->bits);
}

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
		if (p[0] != ':' || (p[1] != 'T' && p[1] != 'R') ||
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
	struct stats_cidr cidr;

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
		if (stats_cidr_parse(value, &cidr, error_r) < 0)
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
		if (stats_cidr_match(&filter->cidrs[i], session->client_ip))
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
