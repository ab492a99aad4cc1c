/*
 * kvlist - an ordered list of key=value string pairs.
 *
 * Used for userdb fields, `plugin { }` settings and similar small maps where
 * order matters and lookups are few. Setting an existing key replaces its
 * value in place.
 */
#ifndef LOFT_KVLIST_H
#define LOFT_KVLIST_H

#include <stdbool.h>
#include <stddef.h>

struct kv {
	char *key;
	char *value;
};

struct kvlist {
	struct kv *items;
	size_t count;
	size_t cap;
};

void kvlist_init(struct kvlist *list);
void kvlist_free(struct kvlist *list);
void kvlist_copy(struct kvlist *dest, const struct kvlist *src);
/* kvlist_set - add key or replace its value */
void kvlist_set(struct kvlist *list, const char *key, const char *value);
/* kvlist_get - the value of key, or NULL */
const char *kvlist_get(const struct kvlist *list, const char *key);
bool kvlist_remove(struct kvlist *list, const char *key);

#endif
