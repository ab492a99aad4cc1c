/*
 * admin_config - base_dir out of a config file that the strict parser
 * refuses (see admin_config.h). Only the main file is read; sections are
 * skipped by counting braces outside quotes; the last top-level
 * assignment wins, as it does in the parser.
 */
#include "admin_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

/* admin_config_strip - the value part of a line: comment cut (a '#'
   outside quotes), blanks trimmed, one pair of double quotes removed */
static char *admin_config_strip(const char *value)
{
	struct strbuf buf;
	bool quoted = false;

	strbuf_init(&buf, 64);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted)
			break;
		strbuf_putc(&buf, *p);
	}
	while (buf.len > 0 && isspace((unsigned char)buf.data[buf.len - 1]))
		strbuf_truncate(&buf, buf.len - 1);
	if (buf.len >= 2 && buf.data[0] == '"' && buf.data[buf.len - 1] == '"') {
		char *inner = xstrndup(buf.data + 1, buf.len - 2);

		strbuf_free(&buf);
		return inner;
	}
	return strbuf_detach(&buf);
}

/* admin_config_depth - depth change of a line: '{' opens, '}' closes
   (outside quotes and comments) */
static int admin_config_depth(const char *line)
{
	bool quoted = false;
	int delta = 0;

	for (const char *p = line; *p != '\0' && (quoted || *p != '#'); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '{')
			delta++;
		else if (!quoted && *p == '}')
			delta--;
	}
	return delta;
}

int admin_config_base_dir(const char *path, char **base_dir_r)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	int depth = 0;

	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		const char *p = line + strspn(line, " \t");
		size_t key_len = strlen("base_dir");

		if (depth == 0 && strncmp(p, "base_dir", key_len) == 0) {
			const char *q = p + key_len;

			q += strspn(q, " \t");
			if (*q == '=') {
				free(found);
				found = admin_config_strip(q + 1 + strspn(q + 1, " \t"));
			}
		}
		depth += admin_config_depth(p);
		if (depth < 0)
			depth = 0;
	}
	free(line);
	fclose(f);
	if (found == NULL || found[0] == '\0') {
		struct loft_settings defaults;

		free(found);
		settings_init(&defaults);
		found = xstrdup(defaults.base_dir);
		settings_free(&defaults);
	}
	*base_dir_r = found;
	return 0;
}
