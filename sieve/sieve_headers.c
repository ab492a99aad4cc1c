/*
 * sieve_headers - the run's view of the header fields (see sieve_headers.h).
 */
#include "sieve_headers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

void sieve_header_list_view(struct sieve_header_list *list,
			    const struct sieve_message *msg)
{
	list->items = msg->headers;
	list->count = msg->nheaders;
	list->cap = msg->nheaders;
	list->owned = false;
}

void sieve_header_list_free(struct sieve_header_list *list)
{
	if (list->owned) {
		for (size_t i = 0; i < list->count; i++) {
			free(list->items[i].name);
			free(list->items[i].value);
		}
		free(list->items);
	}
	memset(list, 0, sizeof(*list));
}

/* own - copy borrowed fields before the first change */
static void own(struct sieve_header_list *list)
{
	struct sieve_header *copy;

	if (list->owned)
		return;
	copy = xcalloc(list->count + 1, sizeof(*copy));
	for (size_t i = 0; i < list->count; i++) {
		copy[i].name = xstrdup(list->items[i].name);
		copy[i].value = xstrdup(list->items[i].value);
	}
	list->items = copy;
	list->cap = list->count + 1;
	list->owned = true;
}

void sieve_header_list_add(struct sieve_header_list *list, const char *name,
			   const char *value, bool last)
{
	struct sieve_header h;
	size_t at;

	own(list);
	if (list->count == list->cap) {
		list->cap = list->cap * 2 + 4;
		list->items = xreallocarray(list->items, list->cap, sizeof(*list->items));
	}
	h.name = xstrdup(name);
	h.value = xstrdup(value);
	/* line breaks of the value are unfolded away */
	for (char *p = h.value; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	}
	at = last ? list->count : 0;
	memmove(&list->items[at + 1], &list->items[at],
		(list->count - at) * sizeof(*list->items));
	list->items[at] = h;
	list->count++;
}

void sieve_header_list_remove(struct sieve_header_list *list, size_t index)
{
	own(list);
	free(list->items[index].name);
	free(list->items[index].value);
	memmove(&list->items[index], &list->items[index + 1],
		(list->count - index - 1) * sizeof(*list->items));
	list->count--;
}

bool sieve_header_name_valid(const char *name)
{
	if (*name == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == ':')
			return false;
	}
	return true;
}

bool sieve_header_edit_allowed(const char *name, bool delete)
{
	if (strcasecmp(name, "x-sieve-redirected-from") == 0)
		return false;
	return !delete || (strcasecmp(name, "received") != 0 &&
			   strcasecmp(name, "auto-submitted") != 0);
}
