/*
 * mail_header - header fields of the mail loft writes (vacation replies),
 * as Dovecot and Pigeonhole write them: a value that is not ASCII
 * becomes RFC 2047 encoded words (Dovecot's message_header_encode: from
 * the first word that needs it to the last, Q or B, whichever is
 * shorter with Q preferred, folded at 76 columns), and a field longer
 * than 80 columns is folded at its whitespace (Pigeonhole's
 * rfc2822_header_append), so no line comes near RFC 5322's 998 limit.
 */
#ifndef LOFT_MAIL_HEADER_H
#define LOFT_MAIL_HEADER_H

#include "strbuf.h"

/* mail_header_encode - value (UTF-8, one line) encoded, appended to out */
void mail_header_encode(const char *value, struct strbuf *out);
/* mail_header_write - "Name: value\n", folded, appended to out */
void mail_header_write(struct strbuf *out, const char *name, const char *value);

#endif
