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
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dovecot_settings.h"
#include "http_client.h"
#include "mail_plugins.h"
#include "path.h"
#include "quota_settings.h"
#include "smtp_conn.h"
#include "strbuf.h"
#include "var_expand.h"
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
	CONFIG_SECTION_FLEET,	/* fleet { NAME = URL }: loftadm -H */
	CONFIG_SECTION_FOREIGN,	/* Dovecot's, not used by loft: see
				   enum config_foreign_kind */
};

/* what a foreign section is, which decides what it may hold */
enum config_foreign_kind {
	CONFIG_FOREIGN_SECTION,	/* passdb, namespace, dict...: sec->foreign */
	CONFIG_FOREIGN_SERVICE,	/* service imap { }: a service loft does not run */
	CONFIG_FOREIGN_LISTENER, /* a listener of such a service */
	CONFIG_FOREIGN_PROTOCOL, /* protocol imap { }: global settings */
	CONFIG_FOREIGN_FILTER,	/* local/remote/local_name { }: foreign
				   global settings only */
	CONFIG_FOREIGN_FREE,	/* userdb/plugin inside protocol imap { } */
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
	{ "fleet", CONFIG_SECTION_FLEET, CONFIG_SECTION_TOP, 0 },
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
	/* CONFIG_SECTION_FOREIGN */
	enum config_foreign_kind foreign_kind;
	const struct dovecot_section *foreign; /* CONFIG_FOREIGN_SECTION */
	bool applies;		/* its settings would apply to deliveries:
				   refused values are errors */
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

/* a refused Dovecot value that a loft setting may make harmless
   (dovecot_setting.unless_loft), judged after the whole file */
struct config_pending {
	const struct dovecot_setting *ds;
	char *value;
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
	struct kvlist plugin_where;	/* plugin key -> "FILE:LINE" */
	struct kvlist quota_expanded;	/* expanded values being checked */
	char quota_expand_key[64];	/* the first that did not expand */
	char quota_expand_error[256];

	struct config_pending *pending;
	size_t pending_count;

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

/* config_unknown_variable - the error for $name (len bytes) that is no
   loft setting */
static int config_unknown_variable(struct config_ctx *ctx, const char *file,
				   unsigned int line, const char *name,
				   size_t len)
{
	char *copy = xstrndup(name, len);
	int ret;

	if (dovecot_global_setting(copy) != NULL)
		ret = config_error(ctx, file, line,
				   "$%s: a Dovecot setting loft does not use "
				   "has no value here", copy);
	else
		ret = config_error(ctx, file, line, "Unknown variable: $%s", copy);
	free(copy);
	return ret;
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
		if (def == NULL)
			return config_unknown_variable(ctx, file, line, start,
						       (size_t)(end - start));
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

/* config_not_used - remember that the file has what (a Dovecot setting
   or section loft does not use) at file:line; the first place counts */
static void config_not_used(struct config_ctx *ctx, const char *what,
			    const char *file, unsigned int line)
{
	char where[PATH_MAX + 16];

	if (kvlist_get(&ctx->set->not_used, what) != NULL)
		return;
	snprintf(where, sizeof(where), "%s:%u", file, line);
	kvlist_set(&ctx->set->not_used, what, where);
}

/* config_foreign_value - the value of a setting loft does not use, into
   ctx->value: unquoted, but a <file is not read and $references are not
   expanded (the value is never used; loft-lda need not be able to read
   Dovecot's private key files) */
static int config_foreign_value(struct config_ctx *ctx,
				const struct config_file *file,
				unsigned int line, const char *raw)
{
	if (config_is_quoted(raw))
		return config_unquote_at(ctx, file, line, raw);
	strbuf_reset(&ctx->value);
	strbuf_append_str(&ctx->value, raw);
	return 0;
}

/* config_dovecot_setting - key = raw for a Dovecot setting ds loft does
   not implement: refused values are errors when applies, else it is
   remembered as not used (as what) */
static int config_dovecot_setting(struct config_ctx *ctx,
				  const struct config_file *file,
				  unsigned int line,
				  const struct dovecot_setting *ds,
				  const char *raw, bool applies,
				  const char *what)
{
	const char *error;

	if (config_foreign_value(ctx, file, line, raw) < 0)
		return -1;
	if (applies && dovecot_setting_check(ds, ctx->value.data, &error) < 0) {
		struct config_pending *p;

		if (ds->unless_loft == NULL)
			return config_error(ctx, file->path, line, "%s", error);
		ctx->pending = xreallocarray(ctx->pending, ctx->pending_count + 1,
					     sizeof(*ctx->pending));
		p = &ctx->pending[ctx->pending_count++];
		p->ds = ds;
		p->value = xstrdup(ctx->value.data);
		p->file = file->path;
		p->line = line;
	}
	if (what != NULL)
		config_not_used(ctx, what, file->path, line);
	return 0;
}

/* config_not_used_key - config_dovecot_setting listed as "BLOCK: key" */
static int config_not_used_key(struct config_ctx *ctx,
			       const struct config_file *file,
			       unsigned int line,
			       const struct dovecot_setting *ds,
			       const char *raw, const char *block,
			       const char *key)
{
	char *what = xasprintf("%s: %s", block, key);
	int ret;

	ret = config_dovecot_setting(ctx, file, line, ds, raw, true, what);
	free(what);
	return ret;
}

/* config_foreign_key - key = raw inside a foreign section: the name must
   be one the section can hold; the value is checked only where refused
   values matter */
static int config_foreign_key(struct config_ctx *ctx,
			      const struct config_section *sec,
			      const struct config_file *file, unsigned int line,
			      const char *key, const char *raw)
{
	const struct dovecot_setting *ds = NULL;
	bool known = false;

	switch (sec->foreign_kind) {
	case CONFIG_FOREIGN_FREE:
		known = true;
		break;
	case CONFIG_FOREIGN_SECTION:
		if (sec->foreign->settings == NULL)
			known = true;
		else
			ds = dovecot_setting_find(sec->foreign->settings, key);
		break;
	case CONFIG_FOREIGN_SERVICE:
		known = setting_find(loft_service_setting_defs, key) != NULL ||
			dovecot_setting_find(dovecot_service_settings, key) != NULL;
		break;
	case CONFIG_FOREIGN_LISTENER:
		known = setting_find(loft_listener_setting_defs, key) != NULL ||
			dovecot_setting_find(dovecot_listener_settings, key) != NULL;
		break;
	case CONFIG_FOREIGN_PROTOCOL:
		known = setting_find(loft_setting_defs, key) != NULL ||
			dovecot_global_setting(key) != NULL;
		break;
	case CONFIG_FOREIGN_FILTER:
		if (setting_find(loft_setting_defs, key) != NULL)
			return config_error(ctx, file->path, line,
					    "%s: loft does not apply settings per "
					    "local or remote address (set it "
					    "outside the filter)", key);
		ds = dovecot_global_setting(key);
		break;
	}
	if (ds != NULL)
		return config_dovecot_setting(ctx, file, line, ds, raw,
					      sec->applies, NULL);
	if (!known)
		return config_error(ctx, file->path, line, "Unknown setting: %s", key);
	return config_foreign_value(ctx, file, line, raw);
}

/* config_dovecot_extra - key = raw in a loft userdb/service/listener
   block when key is none of that block's loft settings: one of Dovecot's
   that loft does not use (listed as "BLOCK: key"), or unknown */
static int config_dovecot_extra(struct config_ctx *ctx,
				const struct config_file *file,
				unsigned int line,
				const struct config_section *sec,
				const char *key, const char *raw)
{
	const struct dovecot_setting *extras = dovecot_userdb_settings;
	const struct dovecot_setting *ds;
	char *block;
	int ret;

	if (sec->type == CONFIG_SECTION_SERVICE)
		extras = dovecot_service_settings;
	else if (sec->type == CONFIG_SECTION_LISTENER)
		extras = dovecot_listener_settings;
	ds = dovecot_setting_find(extras, key);
	if (ds == NULL)
		return config_error(ctx, file->path, line, "Unknown setting: %s", key);
	block = sec->type == CONFIG_SECTION_USERDB ? xstrdup("userdb") :
		xasprintf("service %s", ctx->set->services[sec->index].name);
	ret = config_not_used_key(ctx, file, line, ds, raw, block, key);
	free(block);
	return ret;
}

/* config_loft_key - false when key is not a loft setting of the
   userdb/service/listener block sec but one of Dovecot's extras for it
   (an unknown key is left to the loft table's "Unknown setting") */
static bool config_loft_key(const struct config_section *sec, const char *key)
{
	const struct setting_def *defs;
	const struct dovecot_setting *extras;

	switch (sec->type) {
	case CONFIG_SECTION_USERDB:
		defs = loft_userdb_setting_defs;
		extras = dovecot_userdb_settings;
		break;
	case CONFIG_SECTION_SERVICE:
		defs = loft_service_setting_defs;
		extras = dovecot_service_settings;
		break;
	case CONFIG_SECTION_LISTENER:
		defs = loft_listener_setting_defs;
		extras = dovecot_listener_settings;
		break;
	default:
		return true;
	}
	return setting_find(defs, key) != NULL ||
		dovecot_setting_find(extras, key) == NULL;
}

/* config_fleet_member - NAME = URL in fleet { }: a host loftadm -H
   asks, by name (a URL as http_url_parse reads it, default port 9190) */
static int config_fleet_member(struct config_ctx *ctx, const char *path,
			       unsigned int line, const char *key,
			       const char *value, bool expand)
{
	struct http_url url;
	const char *error;

	if (config_final_value(ctx, path, line, value, expand, &value) < 0)
		return -1;
	if (key[strcspn(key, ",/:[]")] != '\0')
		return config_error(ctx, path, line, "fleet: %s: a host name "
				    "may not hold , / : [ or ]", key);
	if (http_url_parse(value, HTTP_API_DEFAULT_PORT, &url, &error) < 0)
		return config_error(ctx, path, line, "fleet: %s = %s: %s",
				    key, value, error);
	kvlist_set(&ctx->set->fleet, key, value);
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
	const struct dovecot_setting *ds;
	const char *value, *path = file->path;
	bool expand;

	sec = ctx->section_count == 0 ? NULL :
		&ctx->sections[ctx->section_count - 1];
	if (sec != NULL && sec->type == CONFIG_SECTION_FOREIGN)
		return config_foreign_key(ctx, sec, file, line, key, raw);
	if ((sec == NULL || sec->type == CONFIG_SECTION_PROTOCOL) &&
	    setting_find(loft_setting_defs, key) == NULL &&
	    (ds = dovecot_global_setting(key)) != NULL)
		return config_dovecot_setting(ctx, file, line, ds, raw, true, key);
	if (sec != NULL && !config_loft_key(sec, key))
		return config_dovecot_extra(ctx, file, line, sec, key, raw);
	if (config_read_value(ctx, file, line, raw, &expand) < 0)
		return -1;
	value = ctx->value.data;
	if (sec == NULL) {
		return config_set_in(ctx, path, line, loft_setting_defs, ctx->set,
				     key, value, expand, NULL);
	}
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
		    !settings_name_in(udb->driver, config_userdb_drivers,
				    LOFT_N_ELEMENTS(config_userdb_drivers)))
			return config_error(ctx, path, line,
					    "Unknown userdb driver: %s", udb->driver);
		return 0;
	case CONFIG_SECTION_PLUGIN:
		if (config_final_value(ctx, path, line, value, expand, &value) < 0)
			return -1;
		kvlist_set(&ctx->set->plugin, key, value);
		strbuf_reset(&ctx->scratch);
		strbuf_appendf(&ctx->scratch, "%s:%u", path, line);
		kvlist_set(&ctx->plugin_where, key, ctx->scratch.data);
		return 0;
	case CONFIG_SECTION_FLEET:
		return config_fleet_member(ctx, path, line, key, value, expand);
	case CONFIG_SECTION_TOP:
	case CONFIG_SECTION_FOREIGN:
		break;
	}
	return config_error(ctx, path, line, "Unknown setting: %s", key);
}

/* config_foreign_open - sec becomes a foreign section of kind; at the
   top level it is listed as not used, as "KEYWORD [NAME]" */
static void config_foreign_open(struct config_ctx *ctx, const char *file,
				unsigned int line, const char *keyword,
				const char *name, enum config_foreign_kind kind,
				bool applies, struct config_section *sec)
{
	char *what;

	sec->type = CONFIG_SECTION_FOREIGN;
	sec->foreign_kind = kind;
	sec->applies = applies;
	if (ctx->section_count > 0 &&
	    ctx->sections[ctx->section_count - 1].type == CONFIG_SECTION_FOREIGN)
		return;
	what = name[0] == '\0' ? xstrdup(keyword) :
		xasprintf("%s %s", keyword, name);
	config_not_used(ctx, what, file, line);
	free(what);
}

/* config_open_protocol - protocol [!]NAME [NAME...] {: a block for lda
   and/or lmtp (a negated name means every other protocol), or for
   protocols loft does not serve only (foreign) */
static int config_open_protocol(struct config_ctx *ctx, const char *file,
				unsigned int line, char *names,
				struct config_section *sec)
{
	char *save = NULL, *display;
	bool negated = names[0] == '!', ours = negated;
	unsigned int count = 0;

	if (names[0] == '\0')
		return config_error(ctx, file, line, "Missing protocol name");
	display = xstrdup(names);
	for (char *name = strtok_r(names, " \t,", &save); name != NULL;
	     name = strtok_r(NULL, " \t,", &save)) {
		const char *base = name[0] == '!' ? name + 1 : name;
		bool loft = settings_name_in(base, config_protocols,
					   LOFT_N_ELEMENTS(config_protocols));

		if (++count > 1 && (negated || name[0] == '!')) {
			config_error(ctx, file, line, "A negated protocol "
				     "(!NAME) must be the only one: %s", display);
			free(display);
			return -1;
		}
		if (!loft && !dovecot_protocol_is_foreign(base)) {
			config_error(ctx, file, line, "Unknown protocol: %s", base);
			free(display);
			return -1;
		}
		ours = ours || loft;
		if (ctx->protocol != NULL &&
		    (strcmp(base, ctx->protocol) == 0) != negated)
			sec->protocol_match = true;
	}
	if (!ours)
		config_foreign_open(ctx, file, line, "protocol", display,
				    CONFIG_FOREIGN_PROTOCOL, false, sec);
	free(display);
	return 0;
}

/* config_open_dovecot - keyword [name] { at the top level or in a
   protocol block, when it is a Dovecot section loft does not use: 1 (sec
   filled), or 0 */
static int config_open_dovecot(struct config_ctx *ctx, const char *file,
			       unsigned int line, const char *keyword,
			       const char *name,
			       enum config_section_type parent,
			       struct config_section *sec)
{
	if (parent == CONFIG_SECTION_TOP && strcmp(keyword, "service") == 0 &&
	    dovecot_service_is_foreign(name)) {
		config_foreign_open(ctx, file, line, keyword, name,
				    CONFIG_FOREIGN_SERVICE, false, sec);
		return 1;
	}
	if (parent == CONFIG_SECTION_TOP && dovecot_is_filter(keyword)) {
		config_foreign_open(ctx, file, line, keyword, name,
				    CONFIG_FOREIGN_FILTER, true, sec);
		return 1;
	}
	if ((parent == CONFIG_SECTION_TOP || parent == CONFIG_SECTION_PROTOCOL) &&
	    (sec->foreign = dovecot_section_find(keyword, NULL)) != NULL) {
		config_foreign_open(ctx, file, line, keyword, name,
				    CONFIG_FOREIGN_SECTION, true, sec);
		return 1;
	}
	return 0;
}

/* config_open_foreign_child - keyword [name] { inside the foreign
   section parent: what that section can hold in Dovecot */
static int config_open_foreign_child(struct config_ctx *ctx, const char *file,
				     unsigned int line, const char *keyword,
				     const struct config_section *parent,
				     struct config_section *sec)
{
	enum config_foreign_kind kind = parent->foreign_kind;
	bool found = false;

	sec->type = CONFIG_SECTION_FOREIGN;
	sec->applies = parent->applies;
	switch (kind) {
	case CONFIG_FOREIGN_SERVICE:
		found = strcmp(keyword, "unix_listener") == 0 ||
			strcmp(keyword, "fifo_listener") == 0 ||
			strcmp(keyword, "inet_listener") == 0;
		kind = CONFIG_FOREIGN_LISTENER;
		break;
	case CONFIG_FOREIGN_SECTION:
		sec->foreign = dovecot_section_find(keyword, parent->foreign->keyword);
		found = sec->foreign != NULL;
		break;
	case CONFIG_FOREIGN_PROTOCOL:
	case CONFIG_FOREIGN_FILTER:
		found = true;
		if (dovecot_is_filter(keyword))
			kind = CONFIG_FOREIGN_FILTER;
		else if (strcmp(keyword, "userdb") == 0 ||
			 strcmp(keyword, "plugin") == 0)
			kind = CONFIG_FOREIGN_FREE;
		else if ((sec->foreign = dovecot_section_find(keyword, NULL)) != NULL)
			kind = CONFIG_FOREIGN_SECTION;
		else
			found = strcmp(keyword, "protocol") == 0;
		break;
	case CONFIG_FOREIGN_LISTENER:
	case CONFIG_FOREIGN_FREE:
		break;
	}
	if (!found)
		return config_error(ctx, file, line,
				    "Section %s not allowed here", keyword);
	sec->foreign_kind = kind;
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
	const struct config_section *top = ctx->section_count == 0 ? NULL :
		&ctx->sections[ctx->section_count - 1];
	enum config_section_type parent = top == NULL ?
		CONFIG_SECTION_TOP : top->type;
	struct config_section sec;
	int ret = 0;

	if (ctx->section_count == CONFIG_MAX_SECTION_DEPTH)
		return config_error(ctx, file->path, line,
				    "Section %s not allowed here", keyword);
	if (config_is_quoted(name)) {
		if (config_unquote_at(ctx, file, line, name) < 0)
			return -1;
		name = ctx->value.data;
	}
	memset(&sec, 0, sizeof(sec));
	sec.file = file->path;
	sec.line = line;
	if (parent == CONFIG_SECTION_FOREIGN) {
		ret = config_open_foreign_child(ctx, file->path, line, keyword,
						top, &sec);
		if (ret == 0)
			ctx->sections[ctx->section_count++] = sec;
		return ret;
	}
	if (config_open_dovecot(ctx, file->path, line, keyword, name, parent,
				&sec) > 0) {
		ctx->sections[ctx->section_count++] = sec;
		return 0;
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(config_section_kinds); i++) {
		if (strcmp(config_section_kinds[i].keyword, keyword) == 0)
			kind = &config_section_kinds[i];
	}
	if (kind == NULL)
		return config_error(ctx, file->path, line,
				    "Unknown section type: %s", keyword);
	if (kind->parent != parent)
		return config_error(ctx, file->path, line,
				    "Section %s not allowed here", keyword);
	sec.type = kind->type;
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
	case CONFIG_SECTION_FLEET:
		if (name[0] != '\0')
			ret = config_error(ctx, file->path, line,
					   "Unexpected name for %s section: %s",
					   keyword, name);
		break;
	case CONFIG_SECTION_TOP:
	case CONFIG_SECTION_FOREIGN:
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

/* config_location_of - where the global setting name was last set */
static const struct config_location *
config_location_of(const struct config_ctx *ctx, const char *name)
{
	const struct setting_def *def = setting_find(loft_setting_defs, name);

	return &ctx->locations[def - loft_setting_defs];
}

/* config_validate_plugins - mail_plugins as the loaded protocol has it:
   a plugin loft lacks is an error where mail_plugins was set; the ones it
   accepts without running are listed as not used */
static int config_validate_plugins(struct config_ctx *ctx)
{
	const struct config_location *where =
		config_location_of(ctx, "mail_plugins");
	const char *list = ctx->set->mail_plugins, *pos = list, *name, *error;

	if (ctx->protocol != NULL &&
	    mail_plugins_check(list, &ctx->set->plugin, &error) < 0)
		return config_error(ctx, where->file, where->line, "%s", error);
	while ((name = mail_plugins_not_used(&pos)) != NULL) {
		char *what = xasprintf("mail_plugins: %s", name);

		config_not_used(ctx, what, where->file, where->line);
		free(what);
	}
	return 0;
}

static const char *config_plugin_check_name;
static config_plugin_check_t *config_plugin_check;

void config_set_plugin_check(const char *plugin, config_plugin_check_t *check)
{
	config_plugin_check_name = plugin;
	config_plugin_check = check;
}

/* config_validate_plugin_check - the registered plugin's settings, with
   the line of the one at fault */
static int config_validate_plugin_check(struct config_ctx *ctx)
{
	const char *key = NULL, *where;
	char *error = NULL;
	int ret;

	if (config_plugin_check == NULL || ctx->protocol == NULL ||
	    !mail_plugins_has(ctx->set->mail_plugins, config_plugin_check_name))
		return 0;
	if (config_plugin_check(&ctx->set->plugin, &key, &error) == 0)
		return 0;
	where = key == NULL ? NULL : kvlist_get(&ctx->plugin_where, key);
	ret = config_error(ctx, where != NULL ? where : "plugin", 0, "%s", error);
	free(error);
	return ret;
}

/* config_quota_lookup - a plugin { } value for quota_settings_read,
   with %% and the variables expanded for a sample user */
static const char *config_quota_lookup(const char *key, void *context)
{
	struct config_ctx *ctx = context;
	const char *value = kvlist_get(&ctx->set->plugin, key), *error;
	char *expanded;

	if (value == NULL || strchr(value, '%') == NULL)
		return value;
	if (var_expand_user_string(value, "user@example.com", "/home/user",
				   false, &expanded, &error) < 0) {
		if (ctx->quota_expand_key[0] == '\0') {
			snprintf(ctx->quota_expand_key,
				 sizeof(ctx->quota_expand_key), "%s", key);
			snprintf(ctx->quota_expand_error,
				 sizeof(ctx->quota_expand_error), "%s: %s",
				 key, error);
		}
		return value;
	}
	kvlist_set(&ctx->quota_expanded, key, expanded);
	free(expanded);
	return kvlist_get(&ctx->quota_expanded, key);
}

/* config_validate_quota - the quota plugin's settings, with the line of
   the one at fault */
static int config_validate_quota(struct config_ctx *ctx)
{
	const struct loft_settings *set = ctx->set;
	struct quota_settings *quota;
	const char *key, *error, *where;
	int ret;

	ret = quota_settings_read(config_quota_lookup, ctx, &quota, &key, &error);
	if (ret >= 0 && ctx->quota_expand_key[0] != '\0') {
		/* a value no delivery could expand */
		quota_settings_free(&quota);
		key = ctx->quota_expand_key;
		error = ctx->quota_expand_error;
		ret = -1;
	}
	if (ret < 0) {
		where = kvlist_get(&ctx->plugin_where, key);
		return config_error(ctx, where != NULL ? where : "plugin", 0,
				    "%s", error);
	}
	quota_settings_free(&quota);
	if (ret > 0 && mail_plugins_has(set->mail_plugins, "quota") &&
	    strncmp(set->mail_location, "mbox:", 5) == 0) {
		where = kvlist_get(&ctx->plugin_where, "quota");
		return config_error(ctx, where, 0, "quota backend maildir counts "
				    "Maildir only, but mail_location is %s",
				    set->mail_location);
	}
	return 0;
}

/* config_validate_protocols - every word of `protocols` is lmtp, none or
   a Dovecot protocol loft does not serve (listed as not used) */
static int config_validate_protocols(struct config_ctx *ctx)
{
	const struct config_location *where = config_location_of(ctx, "protocols");
	char *copy = xstrdup(ctx->set->protocols), *save = NULL;
	int ret = 0;

	for (char *name = strtok_r(copy, " \t,", &save); name != NULL && ret == 0;
	     name = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(name, "lmtp") == 0 || strcmp(name, "none") == 0)
			continue;
		if (dovecot_protocol_is_foreign(name)) {
			char *what = xasprintf("protocols: %s", name);

			config_not_used(ctx, what, where->file, where->line);
			free(what);
		} else {
			ret = config_error(ctx, where->file, where->line,
					   "protocols: Unknown protocol: %s", name);
		}
	}
	free(copy);
	return ret;
}

/* config_validate_pending - the refused Dovecot values that wait for a
   loft setting: an error when the loaded protocol's value of that
   setting is not yes */
static int config_validate_pending(struct config_ctx *ctx)
{
	struct strbuf buf;
	const char *error;
	int ret = 0;

	if (ctx->protocol == NULL)
		return 0;
	strbuf_init(&buf, 16);
	for (size_t i = 0; i < ctx->pending_count && ret == 0; i++) {
		const struct config_pending *p = &ctx->pending[i];

		strbuf_reset(&buf);
		setting_format_value(setting_find(loft_setting_defs,
						  p->ds->unless_loft),
				     ctx->set, &buf);
		if (strcmp(buf.data, "yes") != 0 &&
		    dovecot_setting_check(p->ds, p->value, &error) < 0)
			ret = config_error(ctx, p->file, p->line, "%s", error);
	}
	strbuf_free(&buf);
	return ret;
}

/* config_validate_send - the settings of the mail loft sends:
   submission_host's host[:port], the variables of postmaster_address
   (Dovecot's own default as doveconf prints it is accepted) and of the
   rejection texts */
static int config_validate_send(struct config_ctx *ctx)
{
	static const struct var_expand_table rejection_vars[] = {
		{ 'n', "crlf", "", false }, { 'r', "reason", "", false },
		{ 's', "subject", "", false }, { 't', "to", "", false },
		{ '\0', NULL, NULL, false },
	};
	const struct loft_settings *set = ctx->set;
	const char *names[] = { "rejection_subject", "rejection_reason" };
	const char *values[] = { set->rejection_subject, set->rejection_reason };
	const struct config_location *where;
	const char *error;
	unsigned int port;
	struct strbuf buf;
	char *host, *expanded;

	if (set->submission_host[0] != '\0') {
		if (smtp_conn_parse_host(set->submission_host, 25, &host,
					 &port) < 0) {
			where = config_location_of(ctx, "submission_host");
			return config_error(ctx, where->file, where->line,
					    "submission_host: invalid host[:port] '%s'",
					    set->submission_host);
		}
		free(host);
	}
	if (strcmp(set->postmaster_address,
		   "postmaster@%{if;%d;ne;;%d;%{hostname}}") != 0) {
		if (var_expand_user_string(set->postmaster_address,
					   "user@example.com", NULL, false,
					   &expanded, &error) < 0) {
			where = config_location_of(ctx, "postmaster_address");
			return config_error(ctx, where->file, where->line,
					    "postmaster_address: %s", error);
		}
		free(expanded);
	}
	strbuf_init(&buf, 64);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(names); i++) {
		strbuf_reset(&buf);
		if (var_expand(&buf, values[i], rejection_vars, &error) < 0) {
			strbuf_free(&buf);
			where = config_location_of(ctx, names[i]);
			return config_error(ctx, where->file, where->line,
					    "%s: %s", names[i], error);
		}
	}
	strbuf_free(&buf);
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
	if (config_validate_plugins(ctx) < 0 || config_validate_protocols(ctx) < 0 ||
	    config_validate_pending(ctx) < 0 || config_validate_send(ctx) < 0)
		return -1;
	if (loc[0] != '\0' && strncmp(loc, "maildir:", 8) != 0 &&
	    strncmp(loc, "mbox:", 5) != 0) {
		const struct config_location *where =
			config_location_of(ctx, "mail_location");
		return config_error(ctx, where->file, where->line,
				    "Unknown mail storage in mail_location: %s",
				    loc);
	}
	if (config_validate_plugin_check(ctx) < 0)
		return -1;
	return config_validate_quota(ctx);
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
	kvlist_init(&ctx->plugin_where);
	kvlist_init(&ctx->quota_expanded);
	strbuf_init(&ctx->value, 256);
	strbuf_init(&ctx->scratch, 256);
	strbuf_init(&ctx->path, 256);
}

/* config_ctx_deinit - free everything but the error */
static void config_ctx_deinit(struct config_ctx *ctx)
{
	for (size_t i = 0; i < ctx->override_count; i++)
		free(ctx->overrides[i].value);
	for (size_t i = 0; i < ctx->pending_count; i++)
		free(ctx->pending[i].value);
	free(ctx->pending);
	free(ctx->overrides);
	for (size_t i = 0; i < ctx->name_count; i++)
		free(ctx->names[i]);
	free(ctx->names);
	free(ctx->locations);
	kvlist_free(&ctx->plugin_where);
	kvlist_free(&ctx->quota_expanded);
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
	    !settings_name_in(protocol, config_protocols,
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
