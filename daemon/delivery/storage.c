/*
 * storage - the front of mailbox storage: storage_save() dispatches on
 * the mail location's type to the maildir
 * (maildir.c) or mbox (mbox.c) implementation declared in
 * storage_private.h.
 */
#include <stdlib.h>
#include <string.h>

#include "storage_private.h"
#include "xalloc.h"

enum storage_error storage_save(const struct storage_save_params *params,
				struct message *msg,
				struct storage_save_result *result_r,
				const char **error_r)
{
	memset(result_r, 0, sizeof(*result_r));
	if (params->loc == NULL) {
		*error_r = "storage_save: no mail location";
		return STORAGE_ERR_TEMP;
	}
	switch (params->loc->type) {
	case MAIL_STORAGE_MAILDIR:
		return maildir_save(params, msg, result_r, error_r);
	case MAIL_STORAGE_MBOX:
		return mbox_save(params, msg, result_r, error_r);
	}
	*error_r = "storage_save: unknown mail storage type";
	return STORAGE_ERR_TEMP;
}

void storage_save_result_free(struct storage_save_result *result)
{
	XFREE(result->path);
	XFREE(result->warning);
	result->size = result->vsize = 0;
	result->tmp_removed = 0;
}
