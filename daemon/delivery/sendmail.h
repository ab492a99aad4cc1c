/*
 * sendmail - hand one message to the MTA through sendmail_path (Dovecot's
 * setting; default /usr/sbin/sendmail), as Dovecot's LDA and Pigeonhole
 * do for Sieve's redirect and vacation: `sendmail_path -i -f FROM --
 * RCPT`, the message on stdin, the exit status the answer. FROM "" is
 * the null sender, passed as "<>".
 *
 * The program runs with the identity of the calling thread made whole
 * (real, effective and saved ids: loft-lmtp's delivery thread has only
 * the recipient's effective uid), so the MTA sees the recipient as the
 * submitter; it gets 60 seconds.
 */
#ifndef LOFT_SENDMAIL_H
#define LOFT_SENDMAIL_H

#include <stdbool.h>
#include <stddef.h>

/* sendmail_send - 0 sent; -1 with *error_r (temporary: true when the
   program exited with EX_TEMPFAIL or could not be run to completion) */
int sendmail_send(const char *sendmail_path, const char *from,
		  const char *rcpt, const char *data, size_t size,
		  bool *temporary_r, const char **error_r);

#endif
