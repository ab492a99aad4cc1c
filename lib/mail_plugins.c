/*
 * mail_plugins - the mail_plugins list and the plugins loft implements
 * (see mail_plugins.h).
 */
#include "mail_plugins.h"

#include <stdio.h>
#include <string.h>

#include "xalloc.h"

/* the plugins whose settings loft honours */
static const char *const mail_plugins_implemented[] = {
	"quota",
};

/* mail_plugins_next - the next word of *list (length in *len_r), or NULL */
static const char *mail_plugins_next(const char **list, size_t *len_r)
{
	const char *p = *list + strspn(*list, " \t");
	size_t len = strcspn(p, " \t");

	if (len == 0)
		return NULL;
	*list = p + len;
	*len_r = len;
	return p;
}

bool mail_plugins_has(const char *list, const char *name)
{
	size_t name_len = strlen(name), len;
	const char *word;

	while ((word = mail_plugins_next(&list, &len)) != NULL) {
		if (len == name_len && memcmp(word, name, len) == 0)
			return true;
	}
	return false;
}

int mail_plugins_check(const char *list, const char **error_r)
{
	static __thread char error[160];
	const char *word;
	size_t len;

	while ((word = mail_plugins_next(&list, &len)) != NULL) {
		bool known = false;

		for (size_t i = 0; i < LOFT_N_ELEMENTS(mail_plugins_implemented); i++) {
			if (strlen(mail_plugins_implemented[i]) == len &&
			    memcmp(mail_plugins_implemented[i], word, len) == 0)
				known = true;
		}
		if (!known) {
			snprintf(error, sizeof(error),
				 "mail_plugins: plugin %.*s is not implemented by loft",
				 (int)(len > 64 ? 64 : len), word);
			*error_r = error;
			return -1;
		}
	}
	return 0;
}
