/*
 * sieve_cache - the compiled scripts of this process, so a delivery does
 * not parse a script each time. An entry is keyed by the script's path,
 * the reading uid (a script one user could read is never handed to
 * another without the file system asking) and the compile settings
 * (extensions, size limit, include directories); it is used only while
 * the script and every file its includes read (or found missing) keep
 * their device, inode, size, mtime and ctime. Compile errors are cached
 * too. Thread-safe: loft-lmtp's delivery threads share it; a script in
 * use stays alive until released even when its entry is replaced.
 */
#ifndef LOFT_SIEVE_CACHE_H
#define LOFT_SIEVE_CACHE_H

#include <stdbool.h>

#include "sieve.h"
#include "sieve_settings.h"

struct sieve_cache_ref;

enum sieve_cache_result {
	SIEVE_CACHE_OK,		/* *ref_r: the compiled script */
	SIEVE_CACHE_MISSING,	/* the file does not exist */
	SIEVE_CACHE_READ_ERROR,	/* *error_r: it could not be read */
	SIEVE_CACHE_COMPILE_ERROR, /* *error_r: it does not compile */
};

/* sieve_cache_get - the script at path compiled with limits, includes
   read from dirs; *hit_r says whether the cache answered. *error_r is
   malloced. */
enum sieve_cache_result
sieve_cache_get(const char *path, const struct sieve_limits *limits,
		const struct sieve_script_dirs *dirs,
		struct sieve_cache_ref **ref_r, bool *hit_r, char **error_r);
const struct sieve_script *sieve_cache_script(const struct sieve_cache_ref *ref);
void sieve_cache_release(struct sieve_cache_ref **ref);
/* sieve_cache_clear - drop every unused entry (tests, shutdown) */
void sieve_cache_clear(void);

#endif
