/*
 * fuzz_config - libFuzzer target for the config parser (lib/config.c)
 * with the settings table's value parsers (lib/settings.c) and the `%`
 * expansion of the paths it yields (lib/var_expand.c): arbitrary text is
 * loaded from memory as loft.conf. Checked: an error is "FILE:LINE:
 * message" naming the file; an accepted config, written back as
 * `loftd -n` does (settings_write), loads again and writes the same
 * text (so what -n prints can be reloaded unchanged); the same text also
 * loads for the lmtp and lda protocol views; mail_home and mail_location
 * expand for a user, or fail with a message. Files: the config's
 * directory does not exist, and an input naming a file (`<file`,
 * `!include`) with a '/' in it is skipped, so no device or tree is read.
 */
#include "fuzz_util.h"

#include <stdio.h>

#include "config.h"
#include "settings.h"
#include "strbuf.h"
#include "var_expand.h"

#define FUZZ_CONFIG_NAME "/nonexistent-loft-fuzz/loft.conf"

/* written - settings_write(set, -n) as a string (free it) */
static char *written(const struct loft_settings *set)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	FUZZ_CHECK(out != NULL);
	settings_write(set, out, false);
	FUZZ_CHECK(fclose(out) == 0);
	FUZZ_CHECK(strlen(text) == len);
	return text;
}

/* check_error - "FILE:LINE: message" */
static void check_error(const char *error)
{
	FUZZ_CHECK(error != NULL);
	FUZZ_CHECK(strncmp(error, FUZZ_CONFIG_NAME, strlen(FUZZ_CONFIG_NAME)) == 0 ||
		   strstr(error, ":") != NULL);
}

/* check_expand - a path template of the config, for a user */
static void check_expand(const char *template)
{
	struct var_expand_user vu;
	struct strbuf out;
	const char *error = NULL;

	if (template == NULL)
		return;
	strbuf_init(&out, 64);
	var_expand_user_init(&vu, "Fuzz.User@Example.COM", "/home/fuzz");
	if (var_expand(&out, template, vu.table, &error) < 0)
		FUZZ_CHECK(error != NULL && *error != '\0');
	else
		FUZZ_CHECK(strlen(out.data) == out.len);
	var_expand_user_free(&vu);
	strbuf_free(&out);
}

/* names_a_path - whether text points a file directive at a path */
static bool names_a_path(const char *text)
{
	return (strchr(text, '<') != NULL || strstr(text, "!include") != NULL) &&
		strchr(text, '/') != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const protocols[] = { "lmtp", "lda" };
	struct loft_settings set, again;
	char *text = xstrndup((const char *)data, size), *first, *second;
	const char *error = NULL;

	if (names_a_path(text)) {
		free(text);
		return 0;
	}
	fuzz_quiet_logs();
	for (size_t i = 0; i < LOFT_N_ELEMENTS(protocols); i++) {
		if (config_load_string(FUZZ_CONFIG_NAME, text, protocols[i], &set,
				       &error) == 0)
			settings_free(&set);
	}
	if (config_load_string(FUZZ_CONFIG_NAME, text, NULL, &set, &error) < 0) {
		check_error(error);
		free(text);
		return 0;
	}
	check_expand(set.mail_home);
	check_expand(set.mail_location);
	first = written(&set);
	if (config_load_string(FUZZ_CONFIG_NAME, first, NULL, &again,
			       &error) < 0) {
		fprintf(stderr, "written config does not load: %s\n%s", error,
			first);
		abort();
	}
	second = written(&again);
	if (strcmp(first, second) != 0) {
		fprintf(stderr, "written twice differs:\n%s\n---\n%s", first,
			second);
		abort();
	}
	free(second);
	free(first);
	settings_free(&again);
	settings_free(&set);
	free(text);
	return 0;
}
