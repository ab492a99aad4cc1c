/*
 * xalloc - allocation wrappers that abort on exhaustion (see xalloc.h).
 */
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* xalloc_oom - report and abort; uses write(2) since stdio may allocate */
static void LOFT_ATTR_NORETURN xalloc_oom(size_t size)
{
	char msg[96];
	int len = snprintf(msg, sizeof(msg),
			   "Fatal: out of memory allocating %zu bytes\n", size);
	if (len > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)len);
	abort();
}

void *xmalloc(size_t size)
{
	void *ptr = malloc(size == 0 ? 1 : size);
	if (ptr == NULL)
		xalloc_oom(size);
	return ptr;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *ptr = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);
	if (ptr == NULL)
		xalloc_oom(nmemb * size);
	return ptr;
}

void *xrealloc(void *ptr, size_t size)
{
	void *new_ptr = realloc(ptr, size == 0 ? 1 : size);
	if (new_ptr == NULL)
		xalloc_oom(size);
	return new_ptr;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		xalloc_oom(SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

char *xstrdup(const char *str)
{
	return xstrndup(str, strlen(str));
}

char *xstrndup(const char *str, size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, str, len);
	copy[len] = '\0';
	return copy;
}

char *xasprintf(const char *fmt, ...)
{
	va_list args;
	char *str;

	va_start(args, fmt);
	if (vasprintf(&str, fmt, args) < 0)
		xalloc_oom(strlen(fmt));
	va_end(args);
	return str;
}
