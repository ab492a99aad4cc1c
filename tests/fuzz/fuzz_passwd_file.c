/*
 * fuzz_passwd_file - libFuzzer target for the passwd-file userdb line
 * parser (passwd_file_parse_line in daemon/delivery/userdb_passwd_file.c):
 * the file is the admin's, but its lines are often generated from
 * user-supplied data (sign-up forms, provisioning scripts). Input: one
 * line (up to the first '\n'). Checked: 1, 0 (blank or comment, nothing
 * filled) or -1 with a message and nothing left allocated; a parsed entry
 * has a user, no ':' in any column, uid/gid that are not empty, and its
 * columns joined with ':' parse back to the same columns; every extra
 * field has a non-empty key and passes (or is refused by) the userdb
 * field checks with a message.
 */
#include "fuzz_util.h"

#include "strbuf.h"
#include "userdb.h"
#include "userdb_private.h"

/* str_null_eq - equal strings, or both NULL */
static bool str_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static char **column(struct passwd_file_entry *e, size_t i)
{
	char **columns[] = {
		&e->user, &e->password, &e->uid, &e->gid, &e->gecos, &e->home,
		&e->shell,
	};

	return columns[i];
}

#define FUZZ_COLUMNS 7

/* check_rejoined - the columns written as a line parse to themselves */
static void check_rejoined(struct passwd_file_entry *entry)
{
	struct passwd_file_entry again;
	struct strbuf line;
	const char *error;

	strbuf_init(&line, 64);
	for (size_t i = 0; i < FUZZ_COLUMNS; i++) {
		const char *col = *column(entry, i);

		FUZZ_CHECK(col == NULL || (*col != '\0' && strchr(col, ':') == NULL));
		if (col != NULL)
			strbuf_append_str(&line, col);
		strbuf_putc(&line, ':');
	}
	FUZZ_CHECK(passwd_file_parse_line(line.data, &again, &error) == 1);
	for (size_t i = 0; i < FUZZ_COLUMNS; i++)
		FUZZ_CHECK(str_null_eq(*column(entry, i), *column(&again, i)));
	FUZZ_CHECK(again.extra.count == 0);
	passwd_file_entry_free(&again);
	strbuf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *line = fuzz_field(&in, '\n');
	struct passwd_file_entry entry;
	const char *error = NULL;
	int ret = passwd_file_parse_line(line, &entry, &error);

	if (ret < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		FUZZ_CHECK(entry.user == NULL && entry.extra.count == 0);
	} else if (ret == 0) {
		FUZZ_CHECK(entry.user == NULL && entry.extra.count == 0);
	} else {
		FUZZ_CHECK(ret == 1 && entry.user != NULL);
		check_rejoined(&entry);
		for (size_t i = 0; i < entry.extra.count; i++) {
			FUZZ_CHECK(entry.extra.items[i].key != NULL &&
				   *entry.extra.items[i].key != '\0');
			FUZZ_CHECK(entry.extra.items[i].value != NULL);
		}
		if (userdb_fields_validate(&entry.extra, &error) < 0)
			FUZZ_CHECK(error != NULL && *error != '\0');
	}
	passwd_file_entry_free(&entry);
	free(line);
	return 0;
}
