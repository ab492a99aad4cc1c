/*
 * path - path helpers (see path.h).
 */
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error_slot.h"
#include "xalloc.h"

static __thread struct error_slot path_error;

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int path_mkdir_parents(const char *path, unsigned int mode,
		       const char **error_r)
{
	struct stat st;
	char *copy;
	int ret = 0;

	if (*path != '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	copy = xstrdup(path);
	for (char *p = copy + 1; ret == 0; p++) {
		char saved;

		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(copy, (mode_t)mode) < 0 && errno != EEXIST) {
			*error_r = error_slot_set(&path_error, "mkdir(%s) failed: %m",
						  copy);
			ret = -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return ret;
}
