/*
 * admin_format - table, flow, tab and json output of a command's answer
 * (see admin_format.h). Records are first flattened into ordered
 * key/value lists; the table takes its cells straight from the JSON so
 * that each column can style its field.
 */
#include "admin_format.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlist.h"
#include "strbuf.h"
#include "xalloc.h"

static const char *const admin_format_names[] = {
	[ADMIN_FORMAT_TABLE] = "table",
	[ADMIN_FORMAT_FLOW] = "flow",
	[ADMIN_FORMAT_TAB] = "tab",
	[ADMIN_FORMAT_JSON] = "json",
};

bool admin_format_parse(const char *name, enum admin_format *format_r)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(admin_format_names); i++) {
		if (strcmp(name, admin_format_names[i]) == 0) {
			*format_r = (enum admin_format)i;
			return true;
		}
	}
	return false;
}

/* admin_format_scalar - append a scalar's text (null: nothing); other
   types as compact JSON */
static void admin_format_scalar(struct strbuf *out, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_null:
		break;
	case json_type_string:
		strbuf_append(out, json_object_get_string(value),
			      (size_t)json_object_get_string_len(value));
		break;
	case json_type_boolean:
	case json_type_int:
	case json_type_double:
		strbuf_append_str(out, json_object_get_string(value));
		break;
	case json_type_object:
	case json_type_array:
		strbuf_append_str(out, json_object_to_json_string_ext(value,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	}
}

/* admin_format_is_scalar - not an object or array */
static bool admin_format_is_scalar(json_object *value)
{
	return !json_object_is_type(value, json_type_object) &&
		!json_object_is_type(value, json_type_array);
}

/* admin_format_join - an array of scalars joined by sep, else its JSON */
static void admin_format_join(struct strbuf *out, json_object *array,
			      const char *sep)
{
	size_t n = json_object_array_length(array);

	for (size_t i = 0; i < n; i++) {
		if (!admin_format_is_scalar(json_object_array_get_idx(array, i))) {
			admin_format_scalar(out, array);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_append_str(out, sep);
		admin_format_scalar(out, json_object_array_get_idx(array, i));
	}
}

/* admin_format_value - any value as flow/tab text */
static void admin_format_value(struct strbuf *out, json_object *value)
{
	if (json_object_is_type(value, json_type_array))
		admin_format_join(out, value, ",");
	else
		admin_format_scalar(out, value);
}

/* admin_format_flatten - obj's members into list, objects as dotted keys */
static void admin_format_flatten(struct kvlist *list, const char *prefix,
				 json_object *obj)
{
	struct strbuf key, value;

	strbuf_init(&key, 64);
	strbuf_init(&value, 64);
	json_object_object_foreach(obj, name, member) {
		strbuf_reset(&key);
		if (prefix != NULL)
			strbuf_appendf(&key, "%s.", prefix);
		strbuf_append_str(&key, name);
		if (json_object_is_type(member, json_type_object)) {
			admin_format_flatten(list, key.data, member);
			continue;
		}
		strbuf_reset(&value);
		admin_format_value(&value, member);
		kvlist_set(list, key.data, value.data);
	}
	strbuf_free(&key);
	strbuf_free(&value);
}

/* admin_format_rows - the records of doc per view, as a new array of
   objects (free with json_object_put) */
static json_object *admin_format_rows(json_object *doc,
				      const struct admin_view *view)
{
	json_object *src = doc, *rows = json_object_new_array();

	if (view->rows_key != NULL &&
	    (!json_object_is_type(doc, json_type_object) ||
	     !json_object_object_get_ex(doc, view->rows_key, &src)))
		return rows;
	if (!json_object_is_type(src, json_type_array)) {
		if (json_object_is_type(src, json_type_object))
			json_object_array_add(rows, json_object_get(src));
		return rows;
	}
	for (size_t i = 0; i < json_object_array_length(src); i++) {
		json_object *row = json_object_array_get_idx(src, i);

		if (json_object_is_type(row, json_type_object)) {
			json_object_array_add(rows, json_object_get(row));
		} else if (view->scalar_key != NULL) {
			json_object *obj = json_object_new_object();

			json_object_object_add(obj, view->scalar_key,
					       json_object_get(row));
			json_object_array_add(rows, obj);
		}
	}
	return rows;
}

/* admin_format_escaped - value with backslash, tab, CR and LF escaped
   (and double quotes, when quotes), every other control byte as \xHH:
   header values (Message-ID, From) are a sender's bytes, and must not
   reach root's terminal as escape sequences */
static void admin_format_escaped(FILE *out, const char *value, bool quotes)
{
	struct strbuf buf;

	strbuf_init(&buf, strlen(value) + 16);
	for (const char *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '\\': strbuf_append_str(&buf, "\\\\"); break;
		case '\t': strbuf_append_str(&buf, "\\t"); break;
		case '\n': strbuf_append_str(&buf, "\\n"); break;
		case '\r': strbuf_append_str(&buf, "\\r"); break;
		case '"':
			strbuf_append_str(&buf, quotes ? "\\\"" : "\"");
			break;
		default: {
			/* up to the next special character, made printable */
			size_t run = strcspn(p, "\\\t\n\r\"");
			char *text = xstrndup(p, run);

			strbuf_append_printable(&buf, text);
			free(text);
			p += run - 1;
			break;
		}
		}
	}
	fputs(buf.data, out);
	strbuf_free(&buf);
}

/* admin_format_printable - value as a table cell shows it (controls as
   \xHH), xmalloc'ed */
static char *admin_format_printable(const char *value)
{
	struct strbuf buf;

	strbuf_init(&buf, strlen(value) + 1);
	strbuf_append_printable(&buf, value);
	return strbuf_detach(&buf);
}

/* admin_format_flow_value - a flow value, double-quoted with backslash
   escapes when it holds blanks, quotes or backslashes */
static void admin_format_flow_value(FILE *out, const char *value)
{
	if (value[strcspn(value, " \t\r\n\"\\")] == '\0') {
		admin_format_escaped(out, value, false);
		return;
	}
	fputc('"', out);
	admin_format_escaped(out, value, true);
	fputc('"', out);
}

/* admin_format_flow - one line per record */
static void admin_format_flow(FILE *out, json_object *rows)
{
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct kvlist list;

		kvlist_init(&list);
		admin_format_flatten(&list, NULL, json_object_array_get_idx(rows, i));
		for (size_t j = 0; j < list.count; j++) {
			fprintf(out, "%s%s=", j > 0 ? " " : "", list.items[j].key);
			admin_format_flow_value(out, list.items[j].value);
		}
		fputc('\n', out);
		kvlist_free(&list);
	}
}

/* admin_format_tab - header of every key seen (in order; with no
   records, the view's column keys), then rows */
static void admin_format_tab(FILE *out, json_object *rows,
			     const struct admin_view *view)
{
	size_t n = json_object_array_length(rows), key_count = 0;
	struct kvlist *lists = xcalloc(n > 0 ? n : 1, sizeof(*lists));
	const char **keys = NULL;

	for (size_t i = 0; i < n; i++) {
		kvlist_init(&lists[i]);
		admin_format_flatten(&lists[i], NULL, json_object_array_get_idx(rows, i));
		for (size_t j = 0; j < lists[i].count; j++) {
			size_t k;

			for (k = 0; k < key_count; k++) {
				if (strcmp(keys[k], lists[i].items[j].key) == 0)
					break;
			}
			if (k == key_count) {
				keys = xreallocarray(keys, key_count + 1, sizeof(*keys));
				keys[key_count++] = lists[i].items[j].key;
			}
		}
	}
	for (size_t c = 0; n == 0 && c < view->column_count; c++) {
		keys = xreallocarray(keys, key_count + 1, sizeof(*keys));
		keys[key_count++] = view->columns[c].key;
	}
	for (size_t k = 0; k < key_count; k++)
		fprintf(out, "%s%s", k > 0 ? "\t" : "", keys[k]);
	if (key_count > 0)
		fputc('\n', out);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < key_count; k++) {
			const char *value = kvlist_get(&lists[i], keys[k]);

			if (k > 0)
				fputc('\t', out);
			admin_format_escaped(out, value != NULL ? value : "", false);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < n; i++)
		kvlist_free(&lists[i]);
	free(lists);
	free(keys);
}

/* admin_format_age - seconds as 12s, 3m05s, 1h02m or 2d03h */
static void admin_format_age(struct strbuf *out, json_object *value)
{
	int64_t secs = json_object_get_int64(value);

	if (secs < 60)
		strbuf_appendf(out, "%llds", (long long)secs);
	else if (secs < 3600)
		strbuf_appendf(out, "%lldm%02llds", (long long)(secs / 60),
			       (long long)(secs % 60));
	else if (secs < 86400)
		strbuf_appendf(out, "%lldh%02lldm", (long long)(secs / 3600),
			       (long long)(secs % 3600 / 60));
	else
		strbuf_appendf(out, "%lldd%02lldh", (long long)(secs / 86400),
			       (long long)(secs % 86400 / 3600));
}

/* admin_format_time - "2026-11-21T23:00:00.123456Z" as local time
   "2026-11-22 00:00:00"; anything else as it is */
static void admin_format_time(struct strbuf *out, json_object *value)
{
	const char *text = json_object_get_string(value);
	struct tm tm;
	time_t secs;
	char buf[64];

	memset(&tm, 0, sizeof(tm));
	const char *end = text != NULL ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (end == NULL || (secs = timegm(&tm)) == (time_t)-1 ||
	    localtime_r(&secs, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		admin_format_scalar(out, value);
		return;
	}
	strbuf_append_str(out, buf);
}

/* admin_format_cell - the table text of row's field per column */
static void admin_format_cell(struct strbuf *out, json_object *row,
			      const struct admin_column *col)
{
	json_object *value = NULL;

	strbuf_reset(out);
	if (!json_object_object_get_ex(row, col->key, &value) || value == NULL) {
		if (col->style == ADMIN_COLUMN_PARENS)
			strbuf_append_str(out, "()");
		return;
	}
	switch (col->style) {
	case ADMIN_COLUMN_PARENS:
		strbuf_putc(out, '(');
		if (json_object_is_type(value, json_type_array))
			admin_format_join(out, value, " ");
		else
			admin_format_scalar(out, value);
		strbuf_putc(out, ')');
		break;
	case ADMIN_COLUMN_LABELS:
		if (!json_object_is_type(value, json_type_object)) {
			admin_format_value(out, value);
			break;
		}
		json_object_object_foreach(value, name, member) {
			if (out->len > 0)
				strbuf_putc(out, ',');
			strbuf_appendf(out, "%s=", name);
			admin_format_value(out, member);
		}
		break;
	case ADMIN_COLUMN_AGE:
		admin_format_age(out, value);
		break;
	case ADMIN_COLUMN_TIME:
		admin_format_time(out, value);
		break;
	case ADMIN_COLUMN_TEXT:
		admin_format_value(out, value);
		break;
	}
}

/* admin_format_width - display width of UTF-8 text (code points) */
static size_t admin_format_width(const char *text)
{
	size_t width = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80)
			width++;
	}
	return width;
}

/* admin_format_print_line - cells padded to widths, one space apart,
   with no trailing blanks */
static void admin_format_print_line(FILE *out, char **cells,
				    const size_t *widths, size_t count,
				    struct strbuf *line)
{
	strbuf_reset(line);
	for (size_t c = 0; c < count; c++) {
		strbuf_append_str(line, cells[c]);
		for (size_t w = admin_format_width(cells[c]); w <= widths[c]; w++)
			strbuf_putc(line, ' ');
	}
	while (line->len > 0 && line->data[line->len - 1] == ' ')
		strbuf_truncate(line, line->len - 1);
	fprintf(out, "%s\n", line->data);
}

/* admin_format_columns - the aligned table of view's columns */
static void admin_format_columns(FILE *out, json_object *rows,
				 const struct admin_view *view)
{
	size_t n = json_object_array_length(rows), cols = view->column_count;
	char **cells = xcalloc((n + 1) * cols, sizeof(*cells));
	size_t *widths = xcalloc(cols, sizeof(*widths));
	struct strbuf buf;

	strbuf_init(&buf, 64);
	for (size_t c = 0; c < cols; c++)
		cells[c] = xstrdup(view->columns[c].header);
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < cols; c++) {
			admin_format_cell(&buf, json_object_array_get_idx(rows, r),
					  &view->columns[c]);
			cells[(r + 1) * cols + c] = admin_format_printable(buf.data);
		}
	}
	for (size_t i = 0; i < (n + 1) * cols; i++) {
		size_t w = admin_format_width(cells[i]);

		if (w > widths[i % cols])
			widths[i % cols] = w;
	}
	for (size_t r = 0; r <= n; r++)
		admin_format_print_line(out, cells + r * cols, widths, cols, &buf);
	for (size_t i = 0; i < (n + 1) * cols; i++)
		free(cells[i]);
	free(cells);
	free(widths);
	strbuf_free(&buf);
}

/* admin_format_vertical - `field value` per record, records apart by a
   blank line */
static void admin_format_vertical(FILE *out, json_object *rows)
{
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct kvlist list;
		size_t width = strlen("field");

		kvlist_init(&list);
		admin_format_flatten(&list, NULL, json_object_array_get_idx(rows, i));
		for (size_t j = 0; j < list.count; j++) {
			if (strlen(list.items[j].key) > width)
				width = strlen(list.items[j].key);
		}
		if (i > 0)
			fputc('\n', out);
		fprintf(out, "%-*s value\n", (int)width, "field");
		for (size_t j = 0; j < list.count; j++) {
			char *value = admin_format_printable(list.items[j].value);

			fprintf(out, "%-*s %s\n", (int)width, list.items[j].key,
				value);
			free(value);
		}
		kvlist_free(&list);
	}
}

/* admin_format_print_rows - rows (an array of records) per format and
   view; never the json format, which prints documents */
static void admin_format_print_rows(FILE *out, enum admin_format format,
				    json_object *rows,
				    const struct admin_view *view)
{
	switch (format) {
	case ADMIN_FORMAT_FLOW:
		admin_format_flow(out, rows);
		break;
	case ADMIN_FORMAT_TAB:
		admin_format_tab(out, rows, view);
		break;
	case ADMIN_FORMAT_TABLE:
		if (json_object_array_length(rows) == 0 && view->table_empty != NULL)
			fprintf(out, "%s\n", view->table_empty);
		else if (view->column_count == 0)
			admin_format_vertical(out, rows);
		else
			admin_format_columns(out, rows, view);
		break;
	case ADMIN_FORMAT_JSON:
		break;
	}
}

/* admin_format_json - doc pretty-printed */
static void admin_format_json(FILE *out, json_object *doc)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(doc,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* admin_format_next - whether view->next is to be printed after view
   (it has records in one of the answers; table and flow only), and the
   empty line before it in table format */
static bool admin_format_next(FILE *out, enum admin_format format,
			      const struct admin_host_answer *answers,
			      size_t count, const struct admin_view *view)
{
	bool any = false;

	if (view->next == NULL || format == ADMIN_FORMAT_TAB ||
	    format == ADMIN_FORMAT_JSON)
		return false;
	for (size_t i = 0; i < count && !any; i++) {
		json_object *rows;

		if (answers[i].doc == NULL)
			continue;
		rows = admin_format_rows(answers[i].doc, view->next);
		any = json_object_array_length(rows) > 0;
		json_object_put(rows);
	}
	if (any && format == ADMIN_FORMAT_TABLE)
		fputc('\n', out);
	return any;
}

void admin_format_print(FILE *out, enum admin_format format,
			json_object *doc, const struct admin_view *view)
{
	const struct admin_host_answer one = { .doc = doc };
	json_object *rows;

	if (format == ADMIN_FORMAT_JSON) {
		admin_format_json(out, doc);
		return;
	}
	if (format == ADMIN_FORMAT_TABLE && view->table_quiet)
		return;
	rows = admin_format_rows(doc, view);
	admin_format_print_rows(out, format, rows, view);
	json_object_put(rows);
	if (admin_format_next(out, format, &one, 1, view))
		admin_format_print(out, format, doc, view->next);
}

/* admin_format_host_json - [{"host": H, "answer": DOC} or {"host": H,
   "error": TEXT}, ...] */
static void admin_format_host_json(FILE *out,
				   const struct admin_host_answer *answers,
				   size_t count)
{
	json_object *all = json_object_new_array();

	for (size_t i = 0; i < count; i++) {
		json_object *item = json_object_new_object();

		json_object_object_add(item, "host",
				       json_object_new_string(answers[i].host));
		if (answers[i].doc != NULL)
			json_object_object_add(item, "answer",
					       json_object_get(answers[i].doc));
		else
			json_object_object_add(item, "error", json_object_new_string(
				answers[i].error != NULL ? answers[i].error : ""));
		json_object_array_add(all, item);
	}
	admin_format_json(out, all);
	json_object_put(all);
}

void admin_format_print_hosts(FILE *out, enum admin_format format,
			      const struct admin_host_answer *answers,
			      size_t count, const struct admin_view *view)
{
	static const struct admin_column host_column = {
		"host", "host", ADMIN_COLUMN_TEXT,
	};
	struct admin_view hosts_view = *view;
	struct admin_column *columns;
	json_object *rows;

	if (format == ADMIN_FORMAT_JSON) {
		admin_format_host_json(out, answers, count);
		return;
	}
	if (format == ADMIN_FORMAT_TABLE && view->table_quiet)
		return;
	/* every host's records, each with its host first */
	rows = json_object_new_array();
	for (size_t i = 0; i < count; i++) {
		json_object *host_rows;

		if (answers[i].doc == NULL)
			continue;
		host_rows = admin_format_rows(answers[i].doc, view);
		for (size_t r = 0; r < json_object_array_length(host_rows); r++) {
			json_object *row = json_object_new_object();

			json_object_object_add(row, "host",
					       json_object_new_string(answers[i].host));
			json_object_object_foreach(json_object_array_get_idx(host_rows, r),
						   key, value) {
				if (strcmp(key, "host") != 0)
					json_object_object_add(row, key,
							       json_object_get(value));
			}
			json_object_array_add(rows, row);
		}
		json_object_put(host_rows);
	}
	columns = xcalloc(view->column_count + 1, sizeof(*columns));
	columns[0] = host_column;
	for (size_t c = 0; c < view->column_count; c++)
		columns[c + 1] = view->columns[c];
	hosts_view.rows_key = NULL;
	hosts_view.scalar_key = NULL;
	if (view->column_count > 0) {
		hosts_view.columns = columns;
		hosts_view.column_count = view->column_count + 1;
	}
	admin_format_print_rows(out, format, rows, &hosts_view);
	free(columns);
	json_object_put(rows);
	if (admin_format_next(out, format, answers, count, view))
		admin_format_print_hosts(out, format, answers, count, view->next);
}
