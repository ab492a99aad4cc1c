/*
 * stats_match - the selectors behind `who`, `kick`, the deliveries query
 * and `debug USER_MASK`: Dovecot-style user masks, IPv4/IPv6 CIDR ranges,
 * and a filter built from a command line's mixed arguments (user masks,
 * IPs/CIDRs and session ids) that selects sessions of the session table.
 */
#ifndef LOFT_STATS_MATCH_H
#define LOFT_STATS_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

struct stats_session;

/* User masks: mask_match() in lib/mask.h. */

/* stats_session_id_valid - is text a session id: 22 base64 characters
   ([A-Za-z0-9+/]), optionally followed by ":T<n>" / ":R<n>" / ":P<n>"
   (a transaction an LMTP proxy relayed, lmtp_proxy.h) suffixes */
bool stats_session_id_valid(const char *text);

/* How stats_filter_add reads a value. */
enum stats_filter_kind {
	STATS_FILTER_AUTO,	/* classify as described at stats_filter_parse */
	STATS_FILTER_USER,	/* a user mask */
	STATS_FILTER_IP,	/* an IP or CIDR */
	STATS_FILTER_SESSION,	/* a session id */
};

/* A session filter. Within one kind the entries are alternatives (OR);
   the kinds that are present must all match (AND), like doveadm's
   "user mask and IP" filter. An empty filter matches every session.
   Initialise with stats_filter_init (or = { 0 }), free with
   stats_filter_free. */
struct stats_filter {
	char **masks;
	size_t mask_count;
	struct cidr *cidrs;
	size_t cidr_count;
	char **session_ids;	/* without :T/:R suffixes */
	size_t session_id_count;
};

void stats_filter_init(struct stats_filter *filter);
/* stats_filter_free - release the entries; the filter is empty again */
void stats_filter_free(struct stats_filter *filter);
/* stats_filter_is_empty - true when the filter has no entries at all */
bool stats_filter_is_empty(const struct stats_filter *filter);

/* stats_filter_add - add one value of kind (STATS_FILTER_AUTO: classify
   it). A session id's ":T<n>"/":R<n>" suffixes are dropped, so
   "SID:T1:R2" selects session SID. 0, or -1 with *error_r on an empty
   value, a bad CIDR or (for STATS_FILTER_SESSION) a malformed id. */
int stats_filter_add(struct stats_filter *filter, enum stats_filter_kind kind,
		     const char *value, const char **error_r);
/* stats_filter_parse - initialise filter from args[0..n-1], each
   classified as: a session id when stats_session_id_valid() says so; else
   an IP/CIDR when it consists only of hex digits, '.', ':' and '/' and
   contains '/' or ':' or is a dotted number (then it must parse, so
   "10.0.0.0/33" is an error, not a user mask); else a user mask. A user
   name that happens to be 22 base64 characters reads as a session id: use
   stats_filter_add with STATS_FILTER_USER for such values. On -1 the
   filter is left empty (nothing to free). */
int stats_filter_parse(const char *const *args, size_t n,
		       struct stats_filter *filter, const char **error_r);
/* stats_filter_matches - does session pass the filter (a NULL filter
   passes everything)? User masks are
   tried against each of the session's users (a session without users
   only matches masks that match ""), CIDRs against client_ip, session ids
   against the id without its suffixes. */
bool stats_filter_matches(const struct stats_filter *filter,
			  const struct stats_session *session);

#endif
