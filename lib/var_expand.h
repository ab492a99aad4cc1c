/*
 * var_expand - Dovecot-style %variables in paths and userdb fields.
 *
 * Short forms %u (user), %n (local part), %d (domain), %h (home), %%; long
 * forms %{user} %{username} %{domain} %{home}; modifiers %L (lower case)
 * and %U (upper case) before the key: %Ln, %L{user}. Unknown variables are
 * errors, never silently left in a path.
 *
 * Values a sender chose (the user name and its parts) are marked
 * untrusted. var_expand_path() refuses to put one into a path when it
 * contains '/' or is "." or "..", and refuses a result with a "." or ".."
 * component that the template itself did not have, so no address can
 * climb out of the folder the template names. The user name is split at
 * its last '@': %n is what comes before it, %d what comes after.
 */
#ifndef LOFT_VAR_EXPAND_H
#define LOFT_VAR_EXPAND_H

#include <stdbool.h>

#include "strbuf.h"

struct var_expand_table {
	char key;		/* 'u', or '\0' for long-only entries */
	const char *long_key;	/* "user", or NULL */
	const char *value;	/* NULL: known but unset -> expands to "" */
	bool untrusted;		/* chosen by a sender: checked in paths */
};

/* var_expand - append str with variables expanded to dest. table ends with
   an entry whose key is '\0' and long_key NULL. 0, or -1 with *error_r. */
int var_expand(struct strbuf *dest, const char *str,
	       const struct var_expand_table *table, const char **error_r);
/* var_expand_path - var_expand for a path (see above): 0, -1 for an
   error of the template, VAR_EXPAND_UNSAFE when an untrusted value may not
   go into it (a user name that cannot exist) */
#define VAR_EXPAND_UNSAFE (-2)
int var_expand_path(struct strbuf *dest, const char *str,
		    const struct var_expand_table *table, const char **error_r);

/* var_expand_user_table - fill table[6] for a user: %u user, %n/%{username}
   local part, %d/%{domain} domain, %h/%{home} home (may be NULL). The
   strings point into user/home and an internal copy kept in storage. */
struct var_expand_user {
	char *local_part;
	const char *domain;
	struct var_expand_table table[7];
};
void var_expand_user_init(struct var_expand_user *vu, const char *user,
			  const char *home);
void var_expand_user_free(struct var_expand_user *vu);

/* var_expand_user_string - str with user's and home's variables expanded
   (as a path when path is true) into *result_r (xmalloc'ed): 0, or -1 /
   VAR_EXPAND_UNSAFE (see var_expand_path) with *error_r */
int var_expand_user_string(const char *str, const char *user, const char *home,
			   bool path, char **result_r, const char **error_r);

#endif
