/*
 * man_settings - a build step: writes loft.conf(5) from its hand-written
 * template and the settings tables (lib/settings.c), so the page lists
 * every setting with its type, default and description and can never
 * drift from what loftd accepts.
 *
 *   man_settings TEMPLATE OUTPUT
 *
 * The template is roff; a line that is exactly @GLOBAL_SETTINGS@,
 * @SERVICE_SETTINGS@, @LISTENER_SETTINGS@ or @USERDB_SETTINGS@ becomes
 * that table, @VERSION@ anywhere becomes loft's version. Exit 0, or 1
 * with a message on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "xalloc.h"

struct man_table {
	const char *marker;
	const struct setting_def *defs;
};

static const struct man_table man_tables[] = {
	{ "@GLOBAL_SETTINGS@", loft_setting_defs },
	{ "@SERVICE_SETTINGS@", loft_service_setting_defs },
	{ "@LISTENER_SETTINGS@", loft_listener_setting_defs },
	{ "@USERDB_SETTINGS@", loft_userdb_setting_defs },
};

/* man_escape - text as roff running text: backslashes and hyphens
   escaped, a line never starting with a control character */
static void man_escape(FILE *out, const char *text)
{
	if (text[0] == '.' || text[0] == '\'')
		fputs("\\&", out);
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '\\': fputs("\\e", out); break;
		case '-': fputs("\\-", out); break;
		case '\n': fputc(' ', out); break;
		default: fputc(*p, out); break;
		}
	}
}

/* man_type - what values def takes, in words */
static void man_type(FILE *out, const struct setting_def *def)
{
	switch (def->type) {
	case SETTING_STR: fputs("string", out); return;
	case SETTING_BOOL: fputs("yes or no", out); return;
	case SETTING_UINT: fputs("number", out); return;
	case SETTING_SIZE: fputs("size", out); return;
	case SETTING_TIME: fputs("time", out); return;
	case SETTING_MODE: fputs("octal file mode", out); return;
	case SETTING_ENUM: {
		char *values = strdup(def->enum_values);

		fputs("one of ", out);
		for (char *p = values; p != NULL && *p != '\0';) {
			char *colon = strchr(p, ':');

			if (colon != NULL)
				*colon = '\0';
			fprintf(out, "%s\\fB", p == values ? "" : ", ");
			man_escape(out, p);
			fputs("\\fR", out);
			p = colon != NULL ? colon + 1 : NULL;
		}
		free(values);
		return;
	}
	}
}

/* man_escape_breakable - man_escape with a break point (\:) after each
   ':', so that a long list such as ssl_cipher_list's default can wrap */
static void man_escape_breakable(FILE *out, const char *text)
{
	char *copy = strdup(text);

	for (char *p = copy; p != NULL && *p != '\0';) {
		char *colon = strchr(p, ':');

		if (colon != NULL)
			*colon = '\0';
		man_escape(out, p);
		if (colon != NULL)
			fputs(":\\:", out);
		p = colon != NULL ? colon + 1 : NULL;
	}
	free(copy);
}

/* man_default - the default as config text; quoted when spaces at its
   ends would otherwise be lost, "empty" when there is none */
static void man_default(FILE *out, const struct setting_def *def)
{
	const char *value = def->default_value != NULL ? def->default_value : "";
	size_t len = strlen(value);

	if (len == 0) {
		fputs("empty", out);
		return;
	}
	/* \\% : never hyphenated, a default is copied as it is */
	fputs(value[0] == ' ' || value[len - 1] == ' ' ?
	      "\\fI\\%\\(dq" : "\\fI\\%", out);
	man_escape_breakable(out, value);
	fputs(value[0] == ' ' || value[len - 1] == ' ' ?
	      "\\(dq\\fR" : "\\fR", out);
}

/* man_write_table - one .TP entry per setting of defs */
static void man_write_table(FILE *out, const struct setting_def *defs)
{
	for (const struct setting_def *def = defs; def->name != NULL; def++) {
		fputs(".TP\n\\fB", out);
		man_escape(out, def->name);
		fputs("\\fR (", out);
		man_type(out, def);
		fputs("; default: ", out);
		man_default(out, def);
		fputs(")\n", out);
		man_escape(out, def->doc != NULL ? def->doc : "");
		fputs(".\n", out);
	}
}

/* man_write_line - one template line, @VERSION@ replaced */
static void man_write_line(FILE *out, const char *line)
{
	static const char version_marker[] = "@VERSION@";
	const char *p;

	while ((p = strstr(line, version_marker)) != NULL) {
		fwrite(line, 1, (size_t)(p - line), out);
		fputs(LOFT_VERSION, out);
		line = p + strlen(version_marker);
	}
	fputs(line, out);
}

/* man_generate - template to output; 0 or -1 (errno set) */
static int man_generate(FILE *in, FILE *out)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;

	while ((len = getline(&line, &size, in)) > 0) {
		const struct man_table *table = NULL;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		for (size_t i = 0; i < LOFT_N_ELEMENTS(man_tables); i++) {
			if (strcmp(line, man_tables[i].marker) == 0)
				table = &man_tables[i];
		}
		if (table != NULL) {
			man_write_table(out, table->defs);
		} else {
			man_write_line(out, line);
			fputc('\n', out);
		}
	}
	free(line);
	return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv)
{
	FILE *in, *out;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "Usage: man_settings TEMPLATE OUTPUT\n");
		return 64;
	}
	if ((in = fopen(argv[1], "re")) == NULL) {
		fprintf(stderr, "man_settings: open(%s) failed: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if ((out = fopen(argv[2], "we")) == NULL) {
		fprintf(stderr, "man_settings: open(%s) failed: %s\n", argv[2],
			strerror(errno));
		fclose(in);
		return 1;
	}
	ret = man_generate(in, out);
	if (ret < 0)
		fprintf(stderr, "man_settings: read(%s) failed: %s\n", argv[1],
			strerror(errno));
	fclose(in);
	if (fclose(out) != 0 && ret == 0) {
		fprintf(stderr, "man_settings: write(%s) failed: %s\n", argv[2],
			strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		(void)remove(argv[2]);
	return ret < 0 ? 1 : 0;
}
