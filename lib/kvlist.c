/*
 * kvlist - ordered key=value pairs (see kvlist.h).
 */
#include "kvlist.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void kvlist_init(struct kvlist *list)
{
	memset(list, 0, sizeof(*list));
}

void kvlist_free(struct kvlist *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].key);
		free(list->items[i].value);
	}
	free(list->items);
	kvlist_init(list);
}

void kvlist_copy(struct kvlist *dest, const struct kvlist *src)
{
	kvlist_init(dest);
	for (size_t i = 0; i < src->count; i++)
		kvlist_set(dest, src->items[i].key, src->items[i].value);
}

void kvlist_set(struct kvlist *list, const char *key, const char *value)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i].key, key) == 0) {
			char *copy = xstrdup(value);
			free(list->items[i].value);
			list->items[i].value = copy;
			return;
		}
	}
	if (list->count == list->cap) {
		list->cap = list->cap == 0 ? 8 : list->cap * 2;
		list->items = xreallocarray(list->items, list->cap,
					    sizeof(*list->items));
	}
	list->items[list->count].key = xstrdup(key);
	list->items[list->count].value = xstrdup(value);
	list->count++;
}

const char *kvlist_get(const struct kvlist *list, const char *key)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	}
	return NULL;
}

bool kvlist_remove(struct kvlist *list, const char *key)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i].key, key) == 0) {
			free(list->items[i].key);
			free(list->items[i].value);
			memmove(&list->items[i], &list->items[i + 1],
				(list->count - i - 1) * sizeof(*list->items));
			list->count--;
			return true;
		}
	}
	return false;
}
