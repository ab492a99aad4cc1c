/*
 * xalloc - allocation that never fails.
 *
 * Every allocation in loft goes through these wrappers: on exhaustion they
 * print one line to stderr and abort the process, so callers never check
 * for NULL. A delivery in flight at that moment has not been acknowledged,
 * so the MTA retries it.
 */
#ifndef LOFT_XALLOC_H
#define LOFT_XALLOC_H

#include <stddef.h>

#define LOFT_ATTR_FORMAT(fmt_idx, arg_idx) \
	__attribute__((format(printf, fmt_idx, arg_idx)))
#define LOFT_ATTR_NORETURN __attribute__((noreturn))
#define LOFT_N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xreallocarray - resize to nmemb*size, aborting on overflow */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *str);
char *xstrndup(const char *str, size_t len);
char *xasprintf(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2);

/* xfree - free *ptr and set it to NULL */
#define XFREE(ptr) do { free(ptr); (ptr) = NULL; } while (0)

#endif
