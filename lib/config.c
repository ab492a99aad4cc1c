/*
 * config - the loft.conf parser (Dovecot's syntax) that fills a
 * loft_settings snapshot through the setting tables (see config.h).
 *
 * Each file is read with one read loop into one buffer and split into
 * lines in place; a logical line (after comment removal and `\`
 * continuation) is assembled in one reused buffer, so parsing allocates
 * only for the values it stores. Settings in `protocol NAME { }` blocks
 * are checked when read but applied only after the whole file, on top of
 * the globals, and only for the protocol being loaded (Dovecot's
 * semantics). Every error is "FILE:LINE: message" with FILE the path that
 * was opened (the included file for errors inside an include).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "strbuf.h"
#include "xalloc.h"

#define CONFIG_MAX_INCLUDE_DEPTH 16
#define CONFIG_MAX_SECTION_DEPTH 8

enum config_section_type {
	CONFIG_SECTION_TOP,	/* pseudo parent: outside any section */
	CONFIG_SECTION_PROTOCOL,
	CONFIG_SECTION_SERVICE,
	CONFIG_SECTION_LISTENER,
	CONFIG_SECTION_USERDB,
	CONFIG_SECTION_PLUGIN,
};

/* a section keyword, what it opens and where it may appear */
struct config_section_kind {
	const char *keyword;
	enum config_section_type type;
	enum config_section_type parent;
	enum listener_type listener_type;
};

static const struct config_section_kind config_section_kinds[] = {
	{ "protocol", CONFIG_SECTION_PROTOCOL, CONFIG_SECTION_TOP, 0 },
	{ "service", CONFIG_SECTION_SERVICE, CONFIG_SECTION_TOP, 0 },
	{ "userdb", CONFIG_SECTION_USERDB, CONFIG_SECTION_TOP, 0 },
	{ "plugin", CONFIG_SECTION_PLUGIN, CONFIG_SECTION_TOP, 0 },
	{ "unix_listener", CONFIG_SECTION_LISTENER, CONFIG_SECTION_SERVICE, LISTENER_UNIX },
	{ "fifo_listener", CONFIG_SECTION_LISTENER, CONFIG_SECTION_SERVICE, LISTENER_FIFO },
	{ "inet_listener", CONFIG_SECTION_LISTENER, CONFIG_SECTION_SERVICE, LISTENER_INET },
};

static const char *const config_protocols[] = { "lda", "lmtp" };
static const char *const config_userdb_drivers[] = {
	"passwd-file", "static", "passwd", "sql", "auth",
};

/* an open section on the stack */
struct config_section {
	enum config_section_type type;
	size_t index;		/* service or userdb index */
	size_t listener_index;
	bool protocol_match;	/* protocol section for the loaded protocol */
	const char *file;	/* interned */
	unsigned int line;
};

/* a protocol { } setting waiting to be applied after the globals */
struct config_override {
	const struct setting_def *def;
	char *value;
	bool expand;		/* contains $references */
	const char *file;	/* interned */
	unsigned int line;
};

/* where a global setting was last assigned */
struct config_location {
	const char *file;
	unsigned int line;
};

/* one file being parsed */
struct config_file {
	const char *path;	/* interned, as opened */
	char *dir;		/* base of relative includes and <files */
	unsigned int depth;	/* include depth; 0 for the main file */
	unsigned int base_sections; /* sections open when the file started */
};

struct config_ctx {
	struct loft_settings *set;
	const char *protocol;

	struct config_section sections[CONFIG_MAX_SECTION_DEPTH];
	unsigned int section_count;

	struct config_override *overrides;
	size_t override_count, override_cap;

	char **names;		/* interned file names */
	size_t name_count, name_cap;

	struct config_location *locations; /* per loft_setting_defs entry */

	struct strbuf value;	/* the value of the current line */
	struct strbuf scratch;	/* $reference expansion */
	struct strbuf path;	/* include and <file paths */
	char *error;
};

static char *config_last_error;

static int config_error(struct config_ctx *ctx, const char *file,
			unsigned int line, const char *fmt, ...)
	LOFT_ATTR_FORMAT(4, 5);
static int config_parse_file(struct config_ctx *ctx, const char *path,
			     unsigned int depth, const char *inc_file,
			     unsigned int inc_line);

/* config_error - record "FILE:LINE: message" (no LINE when 0); returns -1 */
static int config_error(struct config_ctx *ctx, const char *file,
			unsigned int line, const char *fmt, ...)
{
	struct strbuf buf;
	va_list args;

	strbuf_init(&buf, 128);
	if (line > 0)
		strbuf_appendf(&buf, "%s:%u: ", file, line);
	else
		strbuf_appendf(&buf, "%s: ", file);
	va_start(args, fmt);
	strbuf_vappendf(&buf, fmt, args);
	va_end(args);
	free(ctx->error);
	ctx->error = xstrdup(buf.data);
	strbuf_free(&buf);
	return -1;
}

/* config_intern - a copy of name that lives as long as ctx */
static const char *config_intern(struct config_ctx *ctx, const char *name)
{
	if (ctx->name_count == ctx->name_cap) {
		ctx->name_cap = ctx->name_cap == 0 ? 4 : ctx->name_cap * 2;
		ctx->names = xreallocarray(ctx->names, ctx->name_cap,
					   sizeof(*ctx->names));
	}
	ctx->names[ctx->name_count] = xstrdup(name);
	return ctx->names[ctx->name_count++];
}

/* config_resolve - path made relative to dir, into buf */
static const char *config_resolve(struct strbuf *buf, const char *dir,
				  const char *path)
{
	strbuf_reset(buf);
	if (path[0] != '/' && strcmp(dir, ".") != 0) {
		strbuf_append_str(buf, dir);
		if (buf->len > 0 && buf->data[buf->len - 1] != '/')
			strbuf_putc(buf, '/');
	}
	strbuf_append_str(buf, path);
	return buf->data;
}

/* config_read_whole - read the file at path into a NUL-terminated buffer;
   0, or -1 with *what_r ("open" or "read") and errno set */
static int config_read_whole(const char *path, char **text_r, size_t *len_r,
			     const char **what_r)
{
	struct stat st;
	size_t len = 0, cap;
	char *text;
	ssize_t ret;
	int fd, saved_errno;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*what_r = "open";
		return -1;
	}
	cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
	text = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			text = xrealloc(text, cap);
		}
		ret = read(fd, text + len, cap - len - 1);
		if (ret == 0)
			break;
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			saved_errno = errno;
			free(text);
			close(fd);
			*what_r = "read";
			errno = saved_errno;
			return -1;
		}
		len += (size_t)ret;
	}
	close(fd);
	text[len] = '\0';
	*text_r = text;
	*len_r = len;
	return 0;
}

/* config_trim_end - strip trailing whitespace of str in place */
static void config_trim_end(char *str)
{
	size_t len = strlen(str);

	while (len > 0 && isspace((unsigned char)str[len - 1]))
		str[--len] = '\0';
}

/* config_skip_space - skip whitespace */
static char *config_skip_space(char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* config_comment_start - end of the line's content: the first '#' outside
   quotes, or end */
static const char *config_comment_start(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '"' || *p == '\'') {
			char quote = *p;
			for (p++; p < end && *p != quote; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
			}
			if (p == end)
				break;
		} else if (*p == '#') {
			break;
		}
	}
	return p;
}

/* config_append_physical - add one physical line to the logical line in
   buf; true when it ends in '\' and continues on the next line */
static bool config_append_physical(struct strbuf *buf, const char *start,
				   const char *end)
{
	bool cont;

	if (end > start && end[-1] == '\r')
		end--;
	while (start < end && isspace((unsigned char)*start))
		start++;
	end = config_comment_start(start, end);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	cont = end > start && end[-1] == '\\';
	if (cont) {
		end--;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
	}
	strbuf_append(buf, start, (size_t)(end - start));
	if (cont)
		strbuf_putc(buf, ' ');
	return cont;
}

/* config_unquote - a "..." or '...' string at raw into out, with
   backslash escapes; -1 with *error_r */
static int config_unquote(const char *raw, struct strbuf *out,
			  const char **error_r)
{
	char quote = raw[0];
	const char *p;

	strbuf_reset(out);
	for (p = raw + 1; *p != quote; p++) {
		if (*p == '\0') {
			*error_r = "Missing closing quote";
			return -1;
		}
		if (*p == '\\' && p[1] != '\0') {
			p++;
			strbuf_putc(out, *p == 'n' ? '\n' : *p == 't' ? '\t' :
				    *p == 'r' ? '\r' : *p);
		} else {
			strbuf_putc(out, *p);
		}
	}
	while (isspace((unsigned char)*++p))
		;
	if (*p != '\0') {
		*error_r = "Unexpected text after closing quote";
		return -1;
	}
	return 0;
}

/* config_is_quoted - whether str starts with a quote character */
static bool config_is_quoted(const char *str)
{
	return str[0] == '"' || str[0] == '\'';
}

/* config_unquote_at - config_unquote reporting errors at file:line */
static int config_unquote_at(struct config_ctx *ctx, const struct config_file *file,
			     unsigned int line, const char *raw)
{
	const char *error;

	if (config_unquote(raw, &ctx->value, &error) < 0)
		return config_error(ctx, file->path, line, "%s", error);
	return 0;
}

/* config_read_value - the value text of a key = raw line into ctx->value:
   unquoted, read from a <file, or as is (then *expand_r tells whether it
   has $references) */
static int config_read_value(struct config_ctx *ctx,
			     const struct config_file *file, unsigned int line,
			     const char *raw, bool *expand_r)
{
	const char *path, *what;
	char *text;
	size_t len;

	*expand_r = false;
	if (config_is_quoted(raw))
		return config_unquote_at(ctx, file, line, raw);
	strbuf_reset(&ctx->value);
	if (raw[0] != '<') {
		strbuf_append_str(&ctx->value, raw);
		*expand_r = strchr(raw, '$') != NULL;
		return 0;
	}
	raw = config_skip_space((char *)raw + 1);
	if (raw[0] == '\0')
		return config_error(ctx, file->path, line,
				    "Missing file name after '<'");
	path = config_resolve(&ctx->path, file->dir, raw);
	if (config_read_whole(path, &text, &len, &what) < 0) {
		return config_error(ctx, file->path, line, "Can't %s %s: %s",
				    what, path, strerror(errno));
	}
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	strbuf_append(&ctx->value, text, len);
	free(text);
	return 0;
}

/* config_is_name_char - a character of a setting name */
static bool config_is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* config_find_global - the global setting named by len bytes of name */
static const struct setting_def *config_find_global(const char *name,
						    size_t len)
{
	for (const struct setting_def *def = loft_setting_defs;
	     def->name != NULL; def++) {
		if (strncmp(def->name, name, len) == 0 && def->name[len] == '\0')
			return def;
	}
	return NULL;
}

/* config_expand - value with each $name replaced by the current value of
   global setting name; the result lives in ctx->scratch */
static int config_expand(struct config_ctx *ctx, const char *file,
			 unsigned int line, const char *value,
			 const char **result_r)
{
	const char *p = value;

	strbuf_reset(&ctx->scratch);
	while (*p != '\0') {
		const char *start = p + 1, *end = start;
		const struct setting_def *def;

		if (*p != '$' || !config_is_name_char(*start)) {
			strbuf_putc(&ctx->scratch, *p++);
			continue;
		}
		while (config_is_name_char(*end))
			end++;
		def = config_find_global(start, (size_t)(end - start));
		if (def == NULL) {
			return config_error(ctx, file, line, "Unknown variable: $%.*s",
					    (int)(end - start), start);
		}
		setting_format_value(def, ctx->set, &ctx->scratch);
		p = end;
	}
	*result_r = ctx->scratch.data;
	return 0;
}

/* config_final_value - value, $-expanded when expand */
static int config_final_value(struct config_ctx *ctx, const char *file,
			      unsigned int line, const char *value, bool expand,
			      const char **result_r)
{
	if (!expand) {
		*result_r = value;
		return 0;
	}
	return config_expand(ctx, file, line, value, result_r);
}

/* config_store - parse value into def's field at base, expanding first */
static int config_store(struct config_ctx *ctx, const char *file,
			unsigned int line, const struct setting_def *def,
			void *base, const char *value, bool expand)
{
	const char *error;

	if (config_final_value(ctx, file, line, value, expand, &value) < 0)
		return -1;
	if (setting_parse_value(def, base, value, &error) < 0)
		return config_error(ctx, file, line, "%s: %s", def->name, error);
	if (base == ctx->set) {
		struct config_location *loc =
			&ctx->locations[def - loft_setting_defs];
		loc->file = file;
		loc->line = line;
	}
	return 0;
}

/* config_set_in - key = value inside a block described by defs; listener
   blocks pass their type to reject the other kind's settings */
static int config_set_in(struct config_ctx *ctx, const char *file,
			 unsigned int line, const struct setting_def *defs,
			 void *base, const char *key, const char *value,
			 bool expand, const struct listener_settings *listener)
{
	const struct setting_def *def = setting_find(defs, key);

	if (def == NULL || (listener != NULL &&
			    !setting_listener_applies(def, listener->type)))
		return config_error(ctx, file, line, "Unknown setting: %s", key);
	return config_store(ctx, file, line, def, base, value, expand);
}

/* config_in_list - whether str is one of n strings */
static bool config_in_list(const char *str, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(str, list[i]) == 0)
			return true;
	}
	return false;
}

/* config_protocol_setting - a setting inside protocol { }: checked now,
   queued when the block is for the protocol being loaded */
static int config_protocol_setting(struct config_ctx *ctx,
				   const struct config_section *sec,
				   const char *file, unsigned int line,
				   const char *key, const char *value,
				   bool expand)
{
	const struct setting_def *def = setting_find(loft_setting_defs, key);
	const char *checked, *error;
	struct config_override *ov;

	if (def == NULL)
		return config_error(ctx, file, line, "Unknown setting: %s", key);
	if (config_final_value(ctx, file, line, value, expand, &checked) < 0)
		return -1;
	if (setting_check_value(def, checked, &error) < 0)
		return config_error(ctx, file, line, "%s: %s", key, error);
	if (!sec->protocol_match)
		return 0;
	if (ctx->override_count == ctx->override_cap) {
		ctx->override_cap = ctx->override_cap == 0 ? 8 : ctx->override_cap * 2;
		ctx->overrides = xreallocarray(ctx->overrides, ctx->override_cap,
					       sizeof(*ctx->overrides));
	}
	ov = &ctx->overrides[ctx->override_count++];
	ov->def = def;
	ov->value = xstrdup(value);
	ov->expand = expand;
	ov->file = file;
	ov->line = line;
	return 0;
}

/* config_key_value - one key = raw line in the current section */
static int config_key_value(struct config_ctx *ctx, const struct config_file *file,
			    unsigned int line, const char *key, const char *raw)
{
	const struct config_section *sec;
	struct service_settings *svc;
	struct listener_settings *l;
	struct userdb_settings *udb;
	const char *value, *path = file->path;
	bool expand;

	if (config_read_value(ctx, file, line, raw, &expand) < 0)
		return -1;
	value = ctx->value.data;
	if (ctx->section_count == 0) {
		return config_set_in(ctx, path, line, loft_setting_defs, ctx->set,
				     key, value, expand, NULL);
	}
	sec = &ctx->sections[ctx->section_count - 1];
	switch (sec->type) {
	case CONFIG_SECTION_PROTOCOL:
		return config_protocol_setting(ctx, sec, path, line, key, value,
					       expand);
	case CONFIG_SECTION_SERVICE:
		return config_set_in(ctx, path, line, loft_service_setting_defs,
				     &ctx->set->services[sec->index], key, value,
				     expand, NULL);
	case CONFIG_SECTION_LISTENER:
		svc = &ctx->set->services[sec->index];
		l = &svc->listeners[sec->listener_index];
		if (config_set_in(ctx, path, line, loft_listener_setting_defs,
				  l, key, value, expand, l) < 0)
			return -1;
		/* Dovecot reads "mode = 600" as decimal; loftd warns */
		if (strcmp(key, "mode") == 0)
			l->mode_decimal = settings_mode_is_decimal(value);
		return 0;
	case CONFIG_SECTION_USERDB:
		udb = &ctx->set->userdbs[sec->index];
		if (config_set_in(ctx, path, line, loft_userdb_setting_defs, udb,
				  key, value, expand, NULL) < 0)
			return -1;
		if (strcmp(key, "driver") == 0 &&
		    !config_in_list(udb->driver, config_userdb_drivers,
				    LOFT_N_ELEMENTS(config_userdb_drivers)))
			return config_error(ctx, path, line,
					    "Unknown userdb driver: %s", udb->driver);
		return 0;
	case CONFIG_SECTION_PLUGIN:
		if (config_final_value(ctx, path, line, value, expand, &value) < 0)
			return -1;
		kvlist_set(&ctx->set->plugin, key, value);
		return 0;
	case CONFIG_SECTION_TOP:
		break;
	}
	return config_error(ctx, path, line, "Unknown setting: %s", key);
}

/* config_open_protocol - protocol NAME [NAME...] { */
static int config_open_protocol(struct config_ctx *ctx, const char *file,
				unsigned int line, char *names,
				struct config_section *sec)
{
	char *save = NULL;

	if (names[0] == '\0')
		return config_error(ctx, file, line, "Missing protocol name");
	for (char *name = strtok_r(names, " \t", &save); name != NULL;
	     name = strtok_r(NULL, " \t", &save)) {
		if (!config_in_list(name, config_protocols,
				    LOFT_N_ELEMENTS(config_protocols)))
			return config_error(ctx, file, line,
					    "Unknown protocol: %s", name);
		if (ctx->protocol != NULL && strcmp(name, ctx->protocol) == 0)
			sec->protocol_match = true;
	}
	return 0;
}

/* config_open_service - service NAME {: a new or an earlier service */
static int config_open_service(struct config_ctx *ctx, const char *file,
			       unsigned int line, const char *name,
			       struct config_section *sec)
{
	struct loft_settings *set = ctx->set;
	struct service_settings *svc;

	if (name[0] == '\0')
		return config_error(ctx, file, line, "Missing service name");
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, name) == 0) {
			sec->index = i;
			return 0;
		}
	}
	set->services = xreallocarray(set->services, set->service_count + 1,
				      sizeof(*set->services));
	sec->index = set->service_count++;
	svc = &set->services[sec->index];
	memset(svc, 0, sizeof(*svc));
	settings_defs_init(loft_service_setting_defs, svc);
	svc->name = xstrdup(name);
	svc->file = xstrdup(file);
	svc->line = line;
	return 0;
}

/* config_open_listener - a unix/fifo/inet listener inside the service on
   top of the stack */
static int config_open_listener(struct config_ctx *ctx, const char *file,
				unsigned int line, const char *name,
				enum listener_type type,
				struct config_section *sec)
{
	const struct config_section *parent =
		&ctx->sections[ctx->section_count - 1];
	struct service_settings *svc = &ctx->set->services[parent->index];
	struct listener_settings *l;
	const char *error;

	if (name[0] == '\0')
		return config_error(ctx, file, line, "Missing listener name");
	/* as in Dovecot, unix_listener lmtp and inet_listener lmtp coexist:
	   inet names and unix/fifo paths are two separate name spaces */
	for (size_t i = 0; i < svc->listener_count; i++) {
		if ((svc->listeners[i].type == LISTENER_INET) ==
		    (type == LISTENER_INET) &&
		    strcmp(svc->listeners[i].name, name) == 0)
			return config_error(ctx, file, line,
					    "Duplicate listener name: %s", name);
	}
	svc->listeners = xreallocarray(svc->listeners, svc->listener_count + 1,
				       sizeof(*svc->listeners));
	sec->index = parent->index;
	sec->listener_index = svc->listener_count++;
	l = &svc->listeners[sec->listener_index];
	memset(l, 0, sizeof(*l));
	settings_defs_init(loft_listener_setting_defs, l);
	l->type = type;
	l->name = xstrdup(name);
	l->file = xstrdup(file);
	l->line = line;
	if (type != LISTENER_INET)
		(void)setting_parse_value(setting_find(loft_listener_setting_defs,
						       "path"), l, name, &error);
	return 0;
}

/* config_open_userdb - userdb [NAME] {: one more entry, in order */
static void config_open_userdb(struct config_ctx *ctx, const char *file,
			       unsigned int line, const char *name,
			       struct config_section *sec)
{
	struct loft_settings *set = ctx->set;
	struct userdb_settings *udb;

	set->userdbs = xreallocarray(set->userdbs, set->userdb_count + 1,
				     sizeof(*set->userdbs));
	sec->index = set->userdb_count++;
	udb = &set->userdbs[sec->index];
	memset(udb, 0, sizeof(*udb));
	settings_defs_init(loft_userdb_setting_defs, udb);
	udb->name = name[0] == '\0' ? NULL : xstrdup(name);
	udb->file = xstrdup(file);
	udb->line = line;
}

/* config_section_open - "keyword [name] {" */
static int config_section_open(struct config_ctx *ctx,
			       const struct config_file *file, unsigned int line,
			       const char *keyword, char *name)
{
	const struct config_section_kind *kind = NULL;
	enum config_section_type parent = ctx->section_count == 0 ?
		CONFIG_SECTION_TOP : ctx->sections[ctx->section_count - 1].type;
	struct config_section sec;
	int ret = 0;

	for (size_t i = 0; i < LOFT_N_ELEMENTS(config_section_kinds); i++) {
		if (strcmp(config_section_kinds[i].keyword, keyword) == 0)
			kind = &config_section_kinds[i];
	}
	if (kind == NULL)
		return config_error(ctx, file->path, line,
				    "Unknown section type: %s", keyword);
	if (kind->parent != parent || ctx->section_count == CONFIG_MAX_SECTION_DEPTH)
		return config_error(ctx, file->path, line,
				    "Section %s not allowed here", keyword);
	if (config_is_quoted(name)) {
		if (config_unquote_at(ctx, file, line, name) < 0)
			return -1;
		name = ctx->value.data;
	}
	memset(&sec, 0, sizeof(sec));
	sec.type = kind->type;
	sec.file = file->path;
	sec.line = line;
	switch (kind->type) {
	case CONFIG_SECTION_PROTOCOL:
		ret = config_open_protocol(ctx, file->path, line, name, &sec);
		break;
	case CONFIG_SECTION_SERVICE:
		ret = config_open_service(ctx, file->path, line, name, &sec);
		break;
	case CONFIG_SECTION_LISTENER:
		ret = config_open_listener(ctx, file->path, line, name,
					   kind->listener_type, &sec);
		break;
	case CONFIG_SECTION_USERDB:
		config_open_userdb(ctx, file->path, line, name, &sec);
		break;
	case CONFIG_SECTION_PLUGIN:
		if (name[0] != '\0')
			ret = config_error(ctx, file->path, line,
					   "Unexpected name for plugin section: %s",
					   name);
		break;
	case CONFIG_SECTION_TOP:
		break;
	}
	if (ret == 0)
		ctx->sections[ctx->section_count++] = sec;
	return ret;
}

/* config_section_close - "}" */
static int config_section_close(struct config_ctx *ctx,
				const struct config_file *file, unsigned int line)
{
	const struct config_section *sec;

	if (ctx->section_count <= file->base_sections)
		return config_error(ctx, file->path, line, "Unexpected }");
	sec = &ctx->sections[ctx->section_count - 1];
	if (sec->type == CONFIG_SECTION_USERDB) {
		struct userdb_settings *udb = &ctx->set->userdbs[sec->index];

		if (udb->driver[0] == '\0')
			return config_error(ctx, sec->file, sec->line,
					    "Missing driver in userdb section");
		if (udb->name == NULL)
			udb->name = xstrdup(udb->driver);
	}
	ctx->section_count--;
	return 0;
}

/* config_include - parse every file matching pattern */
static int config_include(struct config_ctx *ctx, const struct config_file *file,
			  unsigned int line, const char *pattern, bool try)
{
	glob_t g;
	int ret;

	if (file->depth >= CONFIG_MAX_INCLUDE_DEPTH)
		return config_error(ctx, file->path, line,
				    "Includes nested more than %d deep "
				    "(recursive include?): %s",
				    CONFIG_MAX_INCLUDE_DEPTH, pattern);
	ret = glob(pattern, GLOB_BRACE, NULL, &g);
	if (ret == GLOB_NOMATCH) {
		globfree(&g);
		if (try)
			return 0;
		return config_error(ctx, file->path, line,
				    "No such file for !include: %s", pattern);
	}
	if (ret != 0) {
		globfree(&g);
		return config_error(ctx, file->path, line,
				    "glob(%s) failed", pattern);
	}
	ret = 0;
	for (size_t i = 0; i < g.gl_pathc && ret == 0; i++)
		ret = config_parse_file(ctx, g.gl_pathv[i], file->depth + 1,
					file->path, line);
	globfree(&g);
	return ret;
}

/* config_directive - !include PATH or !include_try GLOB */
static int config_directive(struct config_ctx *ctx, const struct config_file *file,
			    unsigned int line, char *text)
{
	char *arg = text, *pattern;
	bool try;
	int ret;

	while (*arg != '\0' && !isspace((unsigned char)*arg))
		arg++;
	if (*arg != '\0')
		*arg++ = '\0';
	arg = config_skip_space(arg);
	if (strcmp(text, "!include") == 0)
		try = false;
	else if (strcmp(text, "!include_try") == 0)
		try = true;
	else
		return config_error(ctx, file->path, line,
				    "Unknown directive: %s", text);
	if (arg[0] == '\0')
		return config_error(ctx, file->path, line,
				    "Missing file name for %s", text);
	if (config_is_quoted(arg)) {
		if (config_unquote_at(ctx, file, line, arg) < 0)
			return -1;
		arg = ctx->value.data;
	}
	/* the buffers in ctx are reused by the included files */
	pattern = xstrdup(config_resolve(&ctx->path, file->dir, arg));
	ret = config_include(ctx, file, line, pattern, try);
	free(pattern);
	return ret;
}

/* config_parse_line - one logical line, trimmed at the start */
static int config_parse_line(struct config_ctx *ctx, const struct config_file *file,
			     char *text, unsigned int line)
{
	char *key_end, *p;
	size_t len;

	config_trim_end(text);
	if (text[0] == '\0')
		return 0;
	if (strcmp(text, "}") == 0)
		return config_section_close(ctx, file, line);
	if (text[0] == '!')
		return config_directive(ctx, file, line, text);

	key_end = text;
	while (*key_end != '\0' && !isspace((unsigned char)*key_end) &&
	       *key_end != '=' && *key_end != '{')
		key_end++;
	p = config_skip_space(key_end);
	if (*p == '=') {
		char *value = config_skip_space(p + 1);
		if (key_end == text)
			return config_error(ctx, file->path, line,
					    "Missing setting name before '='");
		*key_end = '\0';
		return config_key_value(ctx, file, line, text, value);
	}
	len = strlen(p);
	if (len > 0 && p[len - 1] == '{') {
		if (key_end == text)
			return config_error(ctx, file->path, line,
					    "Missing section type before '{'");
		p[len - 1] = '\0';
		*key_end = '\0';
		config_trim_end(p);
		return config_section_open(ctx, file, line, text, p);
	}
	return config_error(ctx, file->path, line, "Expecting '='");
}

/* config_parse_text - every line of one file's text */
static int config_parse_text(struct config_ctx *ctx, const struct config_file *file,
			     const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned int line = 0, start_line = 0;
	struct strbuf logical;
	int ret = 0;

	strbuf_init(&logical, 256);
	while (p < end && ret == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl == NULL ? end : nl;
		bool cont;

		line++;
		if (start_line == 0)
			start_line = line;
		cont = config_append_physical(&logical, p, eol);
		p = nl == NULL ? end : nl + 1;
		if (cont && p < end)
			continue;
		ret = config_parse_line(ctx, file, logical.data, start_line);
		strbuf_reset(&logical);
		start_line = 0;
	}
	strbuf_free(&logical);
	if (ret == 0 && ctx->section_count > file->base_sections) {
		const struct config_section *sec =
			&ctx->sections[ctx->section_count - 1];
		ret = config_error(ctx, sec->file, sec->line, "Missing }");
	}
	return ret;
}

/* config_parse_named_text - parse text as the file path at depth */
static int config_parse_named_text(struct config_ctx *ctx, const char *path,
				   unsigned int depth, const char *text,
				   size_t len)
{
	struct config_file file;
	int ret;

	file.path = config_intern(ctx, path);
	file.dir = path_dirname(path);
	file.depth = depth;
	file.base_sections = ctx->section_count;
	ret = config_parse_text(ctx, &file, text, len);
	free(file.dir);
	return ret;
}

/* config_parse_file - read and parse path; errors opening it are reported
   at the including line (inc_file NULL: the main file) */
static int config_parse_file(struct config_ctx *ctx, const char *path,
			     unsigned int depth, const char *inc_file,
			     unsigned int inc_line)
{
	const char *what;
	char *text;
	size_t len;
	int ret;

	if (config_read_whole(path, &text, &len, &what) < 0) {
		if (inc_file == NULL)
			return config_error(ctx, path, 0, "Can't %s config file: %s",
					    what, strerror(errno));
		return config_error(ctx, inc_file, inc_line, "Can't %s %s: %s",
				    what, path, strerror(errno));
	}
	ret = config_parse_named_text(ctx, path, depth, text, len);
	free(text);
	return ret;
}

/* config_apply_overrides - the loaded protocol's settings, in order */
static int config_apply_overrides(struct config_ctx *ctx)
{
	for (size_t i = 0; i < ctx->override_count; i++) {
		const struct config_override *ov = &ctx->overrides[i];

		if (config_store(ctx, ov->file, ov->line, ov->def, ctx->set,
				 ov->value, ov->expand) < 0)
			return -1;
	}
	return 0;
}

/* config_validate - checks that need the complete settings */
static int config_validate(struct config_ctx *ctx)
{
	const struct loft_settings *set = ctx->set;
	const char *loc = set->mail_location;

	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];

		for (size_t j = 0; j < svc->listener_count; j++) {
			const struct listener_settings *l = &svc->listeners[j];
			if (l->type == LISTENER_INET && l->port > 65535)
				return config_error(ctx, l->file, l->line,
						    "Invalid port number: %u",
						    l->port);
		}
	}
	if (loc[0] != '\0' && strncmp(loc, "maildir:", 8) != 0 &&
	    strncmp(loc, "mbox:", 5) != 0) {
		const struct setting_def *def =
			setting_find(loft_setting_defs, "mail_location");
		const struct config_location *where =
			&ctx->locations[def - loft_setting_defs];
		return config_error(ctx, where->file, where->line,
				    "Unknown mail storage in mail_location: %s",
				    loc);
	}
	return 0;
}

/* config_ctx_init - a context filling set */
static void config_ctx_init(struct config_ctx *ctx, struct loft_settings *set,
			    const char *protocol)
{
	size_t count = 0;

	memset(ctx, 0, sizeof(*ctx));
	while (loft_setting_defs[count].name != NULL)
		count++;
	ctx->set = set;
	ctx->protocol = protocol;
	ctx->locations = xcalloc(count, sizeof(*ctx->locations));
	strbuf_init(&ctx->value, 256);
	strbuf_init(&ctx->scratch, 256);
	strbuf_init(&ctx->path, 256);
}

/* config_ctx_deinit - free everything but the error */
static void config_ctx_deinit(struct config_ctx *ctx)
{
	for (size_t i = 0; i < ctx->override_count; i++)
		free(ctx->overrides[i].value);
	free(ctx->overrides);
	for (size_t i = 0; i < ctx->name_count; i++)
		free(ctx->names[i]);
	free(ctx->names);
	free(ctx->locations);
	strbuf_free(&ctx->value);
	strbuf_free(&ctx->scratch);
	strbuf_free(&ctx->path);
}

/* config_load_common - config_load / config_load_string; text NULL reads
   the file name */
static int config_load_common(const char *name, const char *text,
			      const char *protocol, struct loft_settings *set,
			      const char **error_r)
{
	struct config_ctx ctx;
	int ret;

	XFREE(config_last_error);
	settings_init(set);
	config_ctx_init(&ctx, set, protocol);
	if (protocol != NULL &&
	    !config_in_list(protocol, config_protocols,
			    LOFT_N_ELEMENTS(config_protocols)))
		ret = config_error(&ctx, name, 0, "Unknown protocol: %s", protocol);
	else if (text == NULL)
		ret = config_parse_file(&ctx, name, 0, NULL, 0);
	else
		ret = config_parse_named_text(&ctx, name, 0, text, strlen(text));
	if (ret == 0)
		ret = config_apply_overrides(&ctx);
	if (ret == 0)
		ret = config_validate(&ctx);
	if (ret < 0) {
		settings_free(set);
		config_last_error = ctx.error;
		ctx.error = NULL;
		*error_r = config_last_error;
	}
	config_ctx_deinit(&ctx);
	return ret;
}

int config_load(const char *path, const char *protocol,
		struct loft_settings *set, const char **error_r)
{
	return config_load_common(path, NULL, protocol, set, error_r);
}

int config_load_string(const char *name, const char *text,
		       const char *protocol, struct loft_settings *set,
		       const char **error_r)
{
	return config_load_common(name, text, protocol, set, error_r);
}
