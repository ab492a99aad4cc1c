/*
 * sieve_match - comparators and match types (see sieve_match.h).
 */
#include "sieve_match.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void sieve_values_add(struct sieve_values *values, const char *data, size_t len)
{
	size_t n = values->count + 1;

	values->data = xreallocarray(values->data, n, sizeof(*values->data));
	values->len = xreallocarray(values->len, n, sizeof(*values->len));
	values->data[values->count] = xstrndup(data, len);
	values->len[values->count] = len;
	values->count = n;
}

void sieve_values_free(struct sieve_values *values)
{
	for (size_t i = 0; i < values->count; i++)
		free(values->data[i]);
	free(values->data);
	free(values->len);
	memset(values, 0, sizeof(*values));
}

static unsigned char fold(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

static bool char_eq(enum sieve_comparator cmp, unsigned char a, unsigned char b)
{
	return cmp == SIEVE_CMP_OCTET ? a == b : fold(a) == fold(b);
}

/* numeric value of leading digits; false for "positive infinity" */
static bool numeric(const char *s, size_t len, const char **digits_r,
		    size_t *ndigits_r)
{
	size_t i = 0;

	if (len == 0 || s[0] < '0' || s[0] > '9')
		return false;
	while (i < len && s[i] == '0')
		i++;
	*digits_r = s + i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	*ndigits_r = (size_t)(s + i - *digits_r);
	return true;
}

int sieve_compare(enum sieve_comparator cmp, const char *a, size_t alen,
		  const char *b, size_t blen)
{
	if (cmp == SIEVE_CMP_NUMERIC) {
		const char *da, *db;
		size_t na, nb;
		bool ha = numeric(a, alen, &da, &na), hb = numeric(b, blen, &db, &nb);

		if (!ha || !hb)
			return ha == hb ? 0 : ha ? -1 : 1;
		if (na != nb)
			return na < nb ? -1 : 1;
		int c = memcmp(da, db, na);
		return c < 0 ? -1 : c > 0;
	}
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++) {
		unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];

		if (cmp == SIEVE_CMP_CASEMAP) {
			ca = fold(ca);
			cb = fold(cb);
		}
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}

bool sieve_relop_holds(enum sieve_relop op, int cmp)
{
	switch (op) {
	case SIEVE_REL_GT: return cmp > 0;
	case SIEVE_REL_GE: return cmp >= 0;
	case SIEVE_REL_LT: return cmp < 0;
	case SIEVE_REL_LE: return cmp <= 0;
	case SIEVE_REL_EQ: return cmp == 0;
	case SIEVE_REL_NE: return cmp != 0;
	}
	return false;
}

static bool charge(struct sieve_matcher *m, uint64_t steps)
{
	if (*m->budget < steps) {
		*m->budget = 0;
		return false;
	}
	*m->budget -= steps;
	return true;
}

static int contains(struct sieve_matcher *m, const char *v, size_t vlen,
		    const char *k, size_t klen)
{
	if (klen == 0)
		return 1;
	if (klen > vlen)
		return 0;
	if (!charge(m, (uint64_t)(vlen - klen + 1) * klen))
		return -1;
	for (size_t i = 0; i + klen <= vlen; i++) {
		size_t j = 0;

		while (j < klen && char_eq(m->comparator, (unsigned char)v[i + j],
					   (unsigned char)k[j]))
			j++;
		if (j == klen)
			return 1;
	}
	return 0;
}

/* utf8_len - bytes of the character starting at s (1 for invalid) */
static size_t utf8_len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	if (n > left)
		return 1;
	for (size_t i = 1; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	}
	return n;
}

/* glob - :matches with '*', '?' and '\' escapes. Backtracking returns
   only to the last '*', which keeps it O(value * key) and makes each star
   match as little as it can, left to right. */
static int glob(struct sieve_matcher *m, const char *v, size_t vlen,
		const char *k, size_t klen)
{
	size_t vi = 0, ki = 0, star_k = (size_t)-1, star_v = 0;
	size_t star_var = 0, nvars = 1;
	/* capture start and length of each wildcard */
	size_t starts[SIEVE_MATCH_VARS], lens[SIEVE_MATCH_VARS];

	while (vi < vlen || ki < klen) {
		if (!charge(m, 1))
			return -1;
		if (ki < klen && k[ki] == '*') {
			star_k = ki++;
			star_v = vi;
			star_var = nvars;
			if (nvars < SIEVE_MATCH_VARS) {
				starts[nvars] = vi;
				lens[nvars] = 0;
				nvars++;
			}
			continue;
		}
		if (vi < vlen && ki < klen) {
			if (k[ki] == '?') {
				size_t n = m->comparator == SIEVE_CMP_OCTET ? 1 :
					utf8_len(v + vi, vlen - vi);
				if (nvars < SIEVE_MATCH_VARS) {
					starts[nvars] = vi;
					lens[nvars] = n;
					nvars++;
				}
				vi += n;
				ki++;
				continue;
			}
			size_t kc = ki;
			if (k[kc] == '\\' && kc + 1 < klen)
				kc++;
			if (char_eq(m->comparator, (unsigned char)v[vi],
				    (unsigned char)k[kc])) {
				vi++;
				ki = kc + 1;
				continue;
			}
		}
		if (star_k == (size_t)-1 || star_v >= vlen)
			return 0;
		/* let the last star take one more character */
		star_v++;
		vi = star_v;
		ki = star_k + 1;
		nvars = star_var < SIEVE_MATCH_VARS ? star_var + 1 : nvars;
		if (star_var < SIEVE_MATCH_VARS)
			lens[star_var] = star_v - starts[star_var];
	}
	if (m->capture) {
		m->vars[0].data = v;
		m->vars[0].len = vlen;
		for (size_t i = 1; i < nvars; i++) {
			m->vars[i].data = v + starts[i];
			m->vars[i].len = lens[i];
		}
		m->nvars = nvars;
	}
	return 1;
}

int sieve_match_value(struct sieve_matcher *m, const char *value,
		      size_t vlen, const char *key, size_t klen)
{
	switch (m->match) {
	case SIEVE_MATCH_IS:
		if (!charge(m, vlen < klen ? vlen + 1 : klen + 1))
			return -1;
		return sieve_compare(m->comparator, value, vlen, key, klen) == 0;
	case SIEVE_MATCH_CONTAINS:
		return contains(m, value, vlen, key, klen);
	case SIEVE_MATCH_MATCHES:
		return glob(m, value, vlen, key, klen);
	case SIEVE_MATCH_VALUE:
	case SIEVE_MATCH_COUNT:
		if (!charge(m, vlen < klen ? vlen + 1 : klen + 1))
			return -1;
		return sieve_relop_holds(m->relop, sieve_compare(m->comparator, value,
								 vlen, key, klen));
	}
	return 0;
}
