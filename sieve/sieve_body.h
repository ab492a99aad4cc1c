/*
 * sieve_body - what the body test (RFC 5173) matches: the raw body
 * (:raw), or the decoded content of the MIME parts whose type matches
 * (:content types; :text is "text"). Walks multipart structure to a
 * bounded depth and part count; decodes base64 and quoted-printable.
 */
#ifndef LOFT_SIEVE_BODY_H
#define LOFT_SIEVE_BODY_H

#include <stddef.h>

#include "sieve_ast.h"
#include "sieve_match.h"
#include "sieve_message.h"

#define SIEVE_BODY_MAX_DEPTH 8
#define SIEVE_BODY_MAX_PARTS 256

/* sieve_body_values - the strings to match into *values_r (free with
   sieve_values_free); 0, or -1 when the structure exceeds the bounds */
int sieve_body_values(const struct sieve_message *msg,
		      const struct sieve_node *node,
		      struct sieve_values *values_r);

#endif
