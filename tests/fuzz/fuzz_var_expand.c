/*
 * fuzz_var_expand - libFuzzer target for `%` expansion (lib/var_expand.c)
 * of arbitrary templates with arbitrary user names and homes, as
 * mail_home, mail_location and userdb fields are expanded for whatever
 * address a client gives at RCPT. Input: template, user and home
 * separated by NUL bytes. Checked: success or an error text; the result
 * is exactly the template when it has no '%'; %u, %n, %d and %h (and
 * their long forms and %L/%U case) expand to the user, its local part,
 * its domain and the home; output is NUL-free and appended after what
 * the buffer held.
 */
#include "fuzz_util.h"

#include <ctype.h>

#include "strbuf.h"
#include "var_expand.h"

/* expand - template for vu into a fresh buffer holding a prefix; NULL
   when it failed */
static char *expand(const char *template, const struct var_expand_user *vu)
{
	struct strbuf out;
	const char *error = NULL;
	char *result;

	strbuf_init(&out, 16);
	strbuf_append_str(&out, "pre:");
	if (var_expand(&out, template, vu->table, &error) < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		strbuf_free(&out);
		return NULL;
	}
	FUZZ_CHECK(out.len >= 4 && memcmp(out.data, "pre:", 4) == 0);
	FUZZ_CHECK(strlen(out.data) == out.len);
	result = xstrdup(out.data + 4);
	strbuf_free(&out);
	return result;
}

/* check_var - template expands to want */
static void check_var(const char *template, const struct var_expand_user *vu,
		      const char *want)
{
	char *got = expand(template, vu);

	FUZZ_CHECK(got != NULL && strcmp(got, want) == 0);
	free(got);
}

/* check_lower - %L form is want in lower case */
static void check_lower(const char *template, const struct var_expand_user *vu,
			const char *want)
{
	char *got = expand(template, vu);

	FUZZ_CHECK(got != NULL && strlen(got) == strlen(want));
	for (size_t i = 0; want[i] != '\0'; i++)
		FUZZ_CHECK(got[i] == (char)tolower((unsigned char)want[i]));
	free(got);
}

/* has_dot_component - path has a "." or ".." component */
static bool has_dot_component(const char *path)
{
	for (const char *p = path; *p != '\0'; ) {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return true;
		p += len;
		if (*p == '/')
			p++;
	}
	return false;
}

/* check_path - a path made from the template and the user name never
   gains a "." or ".." component the template did not have */
static void check_path(const char *template, const char *user,
		       const char *home)
{
	const char *error;
	char *path;
	int ret = var_expand_user_string(template, user, home, true, &path,
					 &error);

	if (ret != 0)
		return;
	FUZZ_CHECK(!has_dot_component(path) || has_dot_component(template) ||
		   (*home != '\0' && has_dot_component(home)));
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *template = fuzz_field(&in, '\0');
	char *user = fuzz_field(&in, '\0');
	char *home = fuzz_field(&in, '\0');
	const char *at = strrchr(user, '@');
	struct var_expand_user vu;
	char *local, *got;

	var_expand_user_init(&vu, user, *home == '\0' ? NULL : home);
	got = expand(template, &vu);
	if (strchr(template, '%') == NULL)
		FUZZ_CHECK(got != NULL && strcmp(got, template) == 0);
	free(got);
	local = at == NULL ? xstrdup(user) : xstrndup(user, (size_t)(at - user));
	check_var("%u", &vu, user);
	check_var("%{user}", &vu, user);
	check_var("%n", &vu, local);
	check_var("%{username}", &vu, local);
	check_var("%d", &vu, at == NULL ? "" : at + 1);
	check_var("%{domain}", &vu, at == NULL ? "" : at + 1);
	check_var("%h", &vu, home);
	check_var("%%", &vu, "%");
	check_lower("%Lu", &vu, user);
	check_lower("%UL{user}", &vu, user);
	check_path(template, user, home);
	free(local);
	var_expand_user_free(&vu);
	free(template);
	free(user);
	free(home);
	return 0;
}
