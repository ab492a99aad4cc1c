/*
 * admin_format - doveadm's output formatters for loftadm: `table` (aligned
 * columns under a header, for people), `flow` (one `key=value ...` line per
 * record), `tab` (a header line of field names, then tab-separated rows)
 * and `json` (the answer document, pretty-printed as it came).
 *
 * Every command's answer is a JSON document; an admin_view says where its
 * records are and which columns the table shows. flow and tab show every
 * field of every record: nested objects become dotted keys
 * (`labels.protocol`), arrays of scalars comma-joined values.
 */
#ifndef LOFT_ADMIN_FORMAT_H
#define LOFT_ADMIN_FORMAT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum admin_format {
	ADMIN_FORMAT_TABLE,
	ADMIN_FORMAT_FLOW,
	ADMIN_FORMAT_TAB,
	ADMIN_FORMAT_JSON,
};

/* How a table cell shows its field. */
enum admin_column_style {
	ADMIN_COLUMN_TEXT,	/* scalar as is; array comma-joined */
	ADMIN_COLUMN_PARENS,	/* array as "(a b)", as in doveadm who */
	ADMIN_COLUMN_LABELS,	/* object as k=v,k2=v2 */
	ADMIN_COLUMN_AGE,	/* seconds as 12s, 3m05s, 1h02m, 2d03h */
	ADMIN_COLUMN_TIME,	/* RFC 3339 UTC as local YYYY-MM-DD HH:MM:SS */
};

struct admin_column {
	const char *header;
	const char *key;
	enum admin_column_style style;
};

struct admin_view {
	/* the member holding the records; NULL: the document itself (an
	   array of records, or one object = one record) */
	const char *rows_key;
	/* records that are plain strings become {scalar_key: string} */
	const char *scalar_key;
	/* table columns; none: a vertical `field value` table per record */
	const struct admin_column *columns;
	size_t column_count;
	/* table format prints nothing (answers like {"ok": true}) */
	bool table_quiet;
	/* table format prints this line instead of an empty table, or NULL */
	const char *table_empty;
	/* NULL, or a further section of the same document (service status:
	   the proxy's backends), printed after this one by table (after an
	   empty line) and flow when it has records; tab prints one table,
	   json has it all */
	const struct admin_view *next;
};

/* admin_format_parse - "table", "flow", "tab" or "json"; false if none */
bool admin_format_parse(const char *name, enum admin_format *format_r);

/* admin_format_print - write doc per format and view to out */
void admin_format_print(FILE *out, enum admin_format format,
			json_object *doc, const struct admin_view *view);

/* One host's answer for admin_format_print_hosts. */
struct admin_host_answer {
	const char *host;	/* as the operator named it */
	json_object *doc;	/* the answer, or NULL: the host failed */
	const char *error;	/* why doc is NULL */
};

/* admin_format_print_hosts - several hosts' answers as one: the table,
   flow and tab formats show every host's records with a first field
   `host` (hosts without an answer are left out: the caller reports
   them); json prints [{"host": H, "answer": DOC} | {"host": H,
   "error": TEXT}, ...] */
void admin_format_print_hosts(FILE *out, enum admin_format format,
			      const struct admin_host_answer *answers,
			      size_t count, const struct admin_view *view);

#endif
