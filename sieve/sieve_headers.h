/*
 * sieve_headers - the header fields a run sees: at first the message's
 * own (borrowed), copied on the first editheader change (RFC 5293) so
 * later tests see the edits and the delivery can write the edited
 * header. Also which field names may be added or deleted.
 */
#ifndef LOFT_SIEVE_HEADERS_H
#define LOFT_SIEVE_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "sieve_message.h"

/* Pigeonhole's sieve_editheader_max_header_size default */
#define SIEVE_EDITHEADER_MAX_SIZE 2048

struct sieve_header_list {
	struct sieve_header *items;
	size_t count, cap;
	bool owned;		/* items are ours (edited), not the message's */
};

/* sieve_header_list_view - borrow msg's fields */
void sieve_header_list_view(struct sieve_header_list *list,
			    const struct sieve_message *msg);
void sieve_header_list_free(struct sieve_header_list *list);
/* sieve_header_list_add - a field first, or last */
void sieve_header_list_add(struct sieve_header_list *list, const char *name,
			   const char *value, bool last);
void sieve_header_list_remove(struct sieve_header_list *list, size_t index);

/* sieve_header_name_valid - RFC 5322 field-name: printable ASCII but ':' */
bool sieve_header_name_valid(const char *name);
/* sieve_header_edit_allowed - Received and Auto-Submitted may not be
   deleted, X-Sieve-Redirected-From neither added nor deleted */
bool sieve_header_edit_allowed(const char *name, bool delete);

#endif
