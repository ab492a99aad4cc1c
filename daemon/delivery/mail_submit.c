/*
 * mail_submit - SMTP or sendmail for the mail loft sends (see
 * mail_submit.h).
 */
#include "mail_submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sendmail.h"
#include "smtp_submit.h"
#include "var_expand.h"
#include "xalloc.h"

#define DOVECOT_POSTMASTER_DEFAULT "postmaster@%{if;%d;ne;;%d;%{hostname}}"

int mail_submit(const struct loft_settings *set, const char *from,
		const char *rcpt, const char *data, size_t size,
		bool *temporary_r, const char **error_r)
{
	if (set->submission_host[0] != '\0')
		return smtp_submit(set->submission_host,
				   mail_submit_hostname(set),
				   (unsigned int)set->submission_timeout, from,
				   rcpt, data, size, temporary_r, error_r);
	return sendmail_send(set->sendmail_path, from, rcpt, data, size,
			     temporary_r, error_r);
}

const char *mail_submit_hostname(const struct loft_settings *set)
{
	static __thread char name[256];

	if (set->hostname[0] != '\0')
		return set->hostname;
	if (name[0] == '\0' && (gethostname(name, sizeof(name) - 1) < 0 ||
				name[0] == '\0'))
		snprintf(name, sizeof(name), "localhost");
	return name;
}

void mail_submit_postmaster(const struct loft_settings *set, const char *user,
			    struct strbuf *out, char **name_r)
{
	const char *at = user != NULL ? strrchr(user, '@') : NULL;
	const char *error, *lt, *gt;
	char *value;

	*name_r = NULL;
	/* Dovecot's default, as doveconf -a prints it, means the same */
	if (set->postmaster_address[0] == '\0' ||
	    strcmp(set->postmaster_address, DOVECOT_POSTMASTER_DEFAULT) == 0 ||
	    var_expand_user_string(set->postmaster_address,
				   user != NULL ? user : "", NULL, false,
				   &value, &error) < 0) {
		strbuf_appendf(out, "postmaster@%s", at != NULL && at[1] != '\0' ?
			       at + 1 : mail_submit_hostname(set));
		return;
	}
	lt = strchr(value, '<');
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (gt == NULL) {
		strbuf_append_str(out, value);
	} else {
		size_t len = (size_t)(lt - value);

		strbuf_append(out, lt + 1, (size_t)(gt - lt - 1));
		while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
			len--;
		if (len > 0)
			*name_r = xstrndup(value, len);
	}
	free(value);
}
