/*
 * storage_private - the per-format functions behind storage.h: storage.c
 * dispatches storage_save() on the location's type to the
 * maildir_* (maildir.c) and mbox_* (mbox.c) implementations declared here.
 * Not for use outside daemon/delivery.
 */
#ifndef LOFT_STORAGE_PRIVATE_H
#define LOFT_STORAGE_PRIVATE_H

#include <stdint.h>

#include "storage.h"

/* mbox_save - append msg to the mbox file of params->mailbox */
enum storage_error mbox_save(const struct storage_save_params *params, struct message *msg, struct storage_save_result *result_r, const char **error_r);
/* maildir_save - deliver msg into the maildir of params->mailbox */
enum storage_error maildir_save(const struct storage_save_params *params,
				struct message *msg,
				struct storage_save_result *result_r,
				const char **error_r);

#endif
