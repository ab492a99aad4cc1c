/*
 * mail_submit - hand one message that loft makes (Sieve's redirect and
 * vacation, loft-lda's rejection) to the MTA as Dovecot does: by SMTP to
 * submission_host when it is set (smtp_submit.c), else through
 * sendmail_path (sendmail.c). Also the addresses such mail is written
 * with: the postmaster's and the host's name.
 */
#ifndef LOFT_MAIL_SUBMIT_H
#define LOFT_MAIL_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"
#include "strbuf.h"

/* mail_submit - data (LF line ends) from from ("" the null sender) to
   rcpt; 0 sent, -1 with *error_r (*temporary_r: a 4xx, a timeout, a
   program that exited EX_TEMPFAIL; else permanent) */
int mail_submit(const struct loft_settings *set, const char *from,
		const char *rcpt, const char *data, size_t size,
		bool *temporary_r, const char **error_r);

/* mail_submit_hostname - hostname, else the system's name */
const char *mail_submit_hostname(const struct loft_settings *set);

/* mail_submit_postmaster - postmaster_address for user (%u %n %d
   expanded), or Dovecot's default postmaster@DOMAIN (the host name when
   the user has no domain), appended to out as an addr-spec; the display
   name, if any, in *name_r (malloced, NULL: none) */
void mail_submit_postmaster(const struct loft_settings *set, const char *user,
			    struct strbuf *out, char **name_r);

#endif
