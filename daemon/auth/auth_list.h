/*
 * auth_list - the answer to one LIST request: the user names of the
 * userdbs that can list theirs (userdb_iterate: passwd-file blocks whose
 * path has no variables), filtered by the request's user= mask
 * (lib/mask.h), gathered on a worker thread and then handed out one by
 * one as the connection's output has room. The names are the admin's
 * file; what one listing holds is bounded by it.
 */
#ifndef LOFT_AUTH_LIST_H
#define LOFT_AUTH_LIST_H

#include <stdbool.h>

#include "settings.h"

struct auth_list;

/* auth_list_create - gather the names now (blocking: call it on a worker
   thread); mask may be NULL (all). A failure is logged and makes
   auth_list_failed() true. */
struct auth_list *auth_list_create(const struct loft_settings *set,
				   unsigned int id, const char *mask);
unsigned int auth_list_id(const struct auth_list *list);
/* auth_list_next - the next name, false when there is none left */
bool auth_list_next(struct auth_list *list, const char **user_r);
/* auth_list_failed - the listing is incomplete or impossible */
bool auth_list_failed(const struct auth_list *list);
void auth_list_free(struct auth_list **list);

#endif
