/*
 * auth_list - one LIST answer, gathered then handed out (see auth_list.h).
 */
#include "auth_list.h"

#include <stdlib.h>

#include "log.h"
#include "mask.h"
#include "userdb.h"
#include "xalloc.h"

struct auth_list {
	unsigned int id;
	char *mask;
	char **names;
	size_t count, cap, pos;
	bool failed;
};

/* list_add - userdb_iterate's callback */
static void list_add(const char *username, void *context)
{
	struct auth_list *list = context;

	if (list->mask != NULL && !mask_match(list->mask, username))
		return;
	if (list->count == list->cap) {
		list->cap = list->cap == 0 ? 64 : list->cap * 2;
		list->names = xreallocarray(list->names, list->cap,
					    sizeof(*list->names));
	}
	list->names[list->count++] = xstrdup(username);
}

struct auth_list *auth_list_create(const struct loft_settings *set,
				   unsigned int id, const char *mask)
{
	struct auth_list *list = xcalloc(1, sizeof(*list));
	unsigned int skipped;
	const char *error;
	int ret;

	list->id = id;
	list->mask = mask != NULL && *mask != '\0' ? xstrdup(mask) : NULL;
	ret = userdb_iterate(set, list_add, list, &skipped, &error);
	if (ret < 0) {
		log_error("user listing failed: %s", error);
		list->failed = true;
	} else if (ret == 0) {
		log_error("user listing: no userdb can list its users "
			  "(sql, and passwd-file without variables in its path, "
			  "can)");
		list->failed = true;
	}
	return list;
}

unsigned int auth_list_id(const struct auth_list *list)
{
	return list->id;
}

bool auth_list_next(struct auth_list *list, const char **user_r)
{
	if (list->pos == list->count)
		return false;
	*user_r = list->names[list->pos++];
	return true;
}

bool auth_list_failed(const struct auth_list *list)
{
	return list->failed;
}

void auth_list_free(struct auth_list **_list)
{
	struct auth_list *list = *_list;

	if (list == NULL)
		return;
	*_list = NULL;
	for (size_t i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
	free(list->mask);
	free(list);
}
