/*
 * stats_state - the mapped file of counters that outlive loft-stats (see
 * stats_state.h).
 */
#include "stats_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_slot.h"
#include "xalloc.h"

#define STATS_STATE_MAGIC "loftst01"

struct stats_state_header {
	char magic[8];
	uint64_t size;		/* of the whole mapping */
	uint64_t metrics_size;
};

struct stats_state {
	void *mem;		/* header, server part, metrics */
	size_t size;
	bool mapped;		/* else xcalloc'ed */
};

static __thread struct error_slot stats_state_error;

/* stats_state_layout_size - the mapping's size for metrics_size */
static size_t stats_state_layout_size(size_t metrics_size)
{
	return sizeof(struct stats_state_header) +
		sizeof(struct stats_state_server) + metrics_size;
}

/* stats_state_map - path mapped shared at size; NULL with *error_r */
static void *stats_state_map(const char *path, size_t size, bool *fresh_r,
			     const char **error_r)
{
	struct stats_state_header *hdr;
	struct stat st;
	void *mem;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = error_slot_set(&stats_state_error, "open(%s) failed: %m",
					  path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*error_r = error_slot_set(&stats_state_error,
					  "%s is not a regular file", path);
		close(fd);
		return NULL;
	}
	*fresh_r = (uint64_t)st.st_size != size;
	if (*fresh_r && (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)) {
		*error_r = error_slot_set(&stats_state_error,
					  "ftruncate(%s) failed: %m", path);
		close(fd);
		return NULL;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED) {
		*error_r = error_slot_set(&stats_state_error, "mmap(%s) failed: %m",
					  path);
		return NULL;
	}
	hdr = mem;
	if (memcmp(hdr->magic, STATS_STATE_MAGIC, sizeof(hdr->magic)) != 0 ||
	    hdr->size != size) {
		/* new, or written by another version: start afresh */
		memset(mem, 0, size);
		*fresh_r = true;
	}
	return mem;
}

struct stats_state *stats_state_open(const char *path, size_t metrics_size,
				     bool *fresh_r, const char **error_r)
{
	struct stats_state *state = xcalloc(1, sizeof(*state));
	struct stats_state_header *hdr;

	*error_r = NULL;
	*fresh_r = true;
	state->size = stats_state_layout_size(metrics_size);
	state->mem = path == NULL ? NULL :
		stats_state_map(path, state->size, fresh_r, error_r);
	state->mapped = state->mem != NULL;
	if (!state->mapped) {
		*fresh_r = true;
		state->mem = xcalloc(1, state->size);
	}
	hdr = state->mem;
	if (*fresh_r) {
		hdr->size = state->size;
		hdr->metrics_size = metrics_size;
		memcpy(hdr->magic, STATS_STATE_MAGIC, sizeof(hdr->magic));
	}
	return state;
}

void stats_state_close(struct stats_state **_state)
{
	struct stats_state *state = *_state;

	if (state == NULL)
		return;
	*_state = NULL;
	if (state->mapped)
		(void)munmap(state->mem, state->size);
	else
		free(state->mem);
	free(state);
}

struct stats_state_server *stats_state_server(struct stats_state *state)
{
	return (struct stats_state_server *)
		((char *)state->mem + sizeof(struct stats_state_header));
}

void *stats_state_metrics(struct stats_state *state)
{
	return (char *)stats_state_server(state) +
		sizeof(struct stats_state_server);
}
