/*
 * sieve_match - comparators (i;octet, i;ascii-casemap, i;ascii-numeric;
 * RFC 4790) and match types (:is, :contains, :matches of RFC 5228, :value
 * of RFC 5231) of one value against one key. :matches records what each
 * wildcard matched (RFC 5229 match variables). Every comparison charges a
 * shared work budget; when it runs out the match fails with an error, so
 * no script can make matching take unbounded time.
 */
#ifndef LOFT_SIEVE_MATCH_H
#define LOFT_SIEVE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve_spec.h"

#define SIEVE_MATCH_VARS 10

/* the values a test matches: strings that may hold NULs */
struct sieve_values {
	char **data;
	size_t *len;
	size_t count;
};

void sieve_values_add(struct sieve_values *values, const char *data, size_t len);
void sieve_values_free(struct sieve_values *values);

struct sieve_matcher {
	enum sieve_match match;
	enum sieve_relop relop;
	enum sieve_comparator comparator;
	uint64_t *budget;		/* steps left; shared by a run */
	/* :matches captures: [0] the whole value, [1..] the wildcards */
	bool capture;
	struct {
		const char *data;
		size_t len;
	} vars[SIEVE_MATCH_VARS];
	size_t nvars;
};

/* sieve_match_value - 1 match, 0 no match, -1 budget exhausted */
int sieve_match_value(struct sieve_matcher *m, const char *value,
		      size_t vlen, const char *key, size_t klen);

/* sieve_relop_holds - cmp (<0, 0, >0) satisfies relop */
bool sieve_relop_holds(enum sieve_relop op, int cmp);

/* sieve_compare - order of a and b under a comparator */
int sieve_compare(enum sieve_comparator cmp, const char *a, size_t alen,
		  const char *b, size_t blen);

#endif
