/*
 * path - path helpers (see path.h).
 */
#include "path.h"

#include <string.h>

#include "xalloc.h"

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}
