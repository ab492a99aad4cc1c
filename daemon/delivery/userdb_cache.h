/*
 * userdb_cache - Dovecot's auth cache for userdb answers, per process
 * (loft-lmtp's worker threads share it): `auth_cache_size` bytes at most,
 * least recently used answers dropped first; a found user is used for
 * `auth_cache_ttl`, a "user unknown" for `auth_cache_negative_ttl` (0: not
 * cached); a failed lookup is never cached. As Dovecot does, an expired
 * answer is still used when the userdb lookup that should replace it
 * fails, so a database restart does not defer mail for known users.
 * auth_cache_size = 0 (the default) turns the cache off.
 */
#ifndef LOFT_USERDB_CACHE_H
#define LOFT_USERDB_CACHE_H

#include "userdb.h"

enum userdb_cache_use {
	USERDB_CACHE_OFF,	/* no cache configured */
	USERDB_CACHE_HIT,	/* answered from the cache */
	USERDB_CACHE_MISS,	/* looked up (and cached if it may be) */
	USERDB_CACHE_STALE,	/* the lookup failed: an expired answer */
};

/* how a lookup was answered */
struct userdb_lookup_info {
	enum userdb_cache_use cache;
	/* the driver that decided (userdb_lookup_from), the cached answer's
	   for a hit */
	const char *driver;
};

/* userdb_lookup_cached - userdb_lookup through the cache; as
   userdb_lookup, and *info_r says how it was answered */
enum userdb_result userdb_lookup_cached(const struct loft_settings *set,
					const char *username,
					struct userdb_reply **reply_r,
					struct userdb_lookup_info *info_r,
					const char **error_r);

/* userdb_cache_clear - drop every entry (tests) */
void userdb_cache_clear(void);

#endif
