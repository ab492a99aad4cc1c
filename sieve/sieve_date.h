/*
 * sieve_date - the date extension's pieces (RFC 5260): parsing an RFC
 * 2822 date from a header value (after the last ';' for Received), moving
 * it to another time zone and extracting the date parts the date and
 * currentdate tests match ("year", "date", "iso8601", "zone", ...).
 */
#ifndef LOFT_SIEVE_DATE_H
#define LOFT_SIEVE_DATE_H

#include <stdbool.h>
#include <time.h>

#include "strbuf.h"

struct sieve_date {
	time_t when;		/* seconds since the epoch */
	int zone;		/* offset east of UTC in minutes */
};

/* sieve_date_parse - a header value's date; false if it has none */
bool sieve_date_parse(const char *value, struct sieve_date *date_r);
/* sieve_zone_parse - "+hhmm" / "-hhmm" into minutes; false if invalid */
bool sieve_zone_parse(const char *zone, int *minutes_r);
/* sieve_date_part - the part of date shown in its zone, into out; false
   for a part RFC 5260 does not define (the test then matches nothing) */
bool sieve_date_part(const struct sieve_date *date, const char *part,
		     struct strbuf *out);
/* sieve_local_zone - the local time zone's offset at when, in minutes */
int sieve_local_zone(time_t when);

#endif
