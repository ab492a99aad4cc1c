/*
 * sieve_validate - semantic checks of a parsed script (see
 * sieve_validate.h).
 */
#include "sieve_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve_headers.h"
#include "sieve_include.h"
#include "sieve_message.h"
#include "strbuf.h"
#include "xalloc.h"

struct validator {
	uint32_t enabled;
	uint32_t exts;
	char *error;
};

static int fail(struct validator *v, unsigned int line, const char *fmt, ...)
	LOFT_ATTR_FORMAT(3, 4);

static int fail(struct validator *v, unsigned int line, const char *fmt, ...)
{
	va_list args;
	struct strbuf buf;

	if (v->error != NULL)
		return -1;
	strbuf_init(&buf, 64);
	strbuf_appendf(&buf, "line %u: ", line);
	va_start(args, fmt);
	strbuf_vappendf(&buf, fmt, args);
	va_end(args);
	v->error = strbuf_detach(&buf);
	return -1;
}

static bool has_ext(const struct validator *v, enum sieve_ext ext)
{
	return ext == SIEVE_EXT_CORE || (v->exts & (1u << ext)) != 0;
}

/* tag_needs - the extension a tag needs on this node: some tags are
   shared by commands of different extensions */
static enum sieve_ext tag_needs(enum sieve_id id, enum sieve_tag tag)
{
	switch (tag) {
	case SIEVE_TAG_SECONDS:
		return id == SIEVE_CMD_VACATION ? SIEVE_EXT_VACATION_SECONDS :
			SIEVE_EXT_DUPLICATE;
	case SIEVE_TAG_HANDLE:
		return id == SIEVE_CMD_VACATION ? SIEVE_EXT_VACATION :
			SIEVE_EXT_DUPLICATE;
	case SIEVE_TAG_LAST:
		return id == SIEVE_CMD_ADDHEADER || id == SIEVE_CMD_DELETEHEADER ?
			SIEVE_EXT_EDITHEADER : id == SIEVE_TEST_DUPLICATE ?
			SIEVE_EXT_DUPLICATE : SIEVE_EXT_INDEX;
	case SIEVE_TAG_INDEX:
		return id == SIEVE_CMD_DELETEHEADER ? SIEVE_EXT_EDITHEADER :
			SIEVE_EXT_INDEX;
	default:
		return sieve_tags[tag].ext;
	}
}

static bool parse_relop(const char *s, enum sieve_relop *op_r)
{
	static const char *const names[] = { "gt", "ge", "lt", "le", "eq", "ne" };

	for (size_t i = 0; i < LOFT_N_ELEMENTS(names); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*op_r = (enum sieve_relop)i;
			return true;
		}
	}
	return false;
}

/* check_tag_arg - the argument a tag takes */
static int check_tag_arg(struct validator *v, struct sieve_node *node,
			 enum sieve_tag tag, const struct sieve_arg *arg)
{
	struct sieve_resolved *r = &node->r;
	char type = sieve_tags[tag].arg;

	if (arg == NULL || arg->type == SIEVE_ARG_TAG ||
	    (type == 'n') != (arg->type == SIEVE_ARG_NUMBER) ||
	    (type == 's' && arg->is_list))
		return fail(v, node->line, "the :%s tag of %s needs a %s argument",
			    sieve_tags[tag].name, node->name,
			    type == 'n' ? "number" : type == 's' ? "string" :
			    "string list");
	r->tag_arg[tag] = arg;
	switch (tag) {
	case SIEVE_TAG_COMPARATOR: {
		const char *name = arg->strs[0].data;

		if (strcmp(name, "i;octet") == 0)
			r->comparator = SIEVE_CMP_OCTET;
		else if (strcmp(name, "i;ascii-casemap") == 0)
			r->comparator = SIEVE_CMP_CASEMAP;
		else if (strcmp(name, "i;ascii-numeric") == 0 &&
			 has_ext(v, SIEVE_EXT_NUMERIC))
			r->comparator = SIEVE_CMP_NUMERIC;
		else
			return fail(v, node->line, "unknown comparator '%s'", name);
		break;
	}
	case SIEVE_TAG_COUNT_:
	case SIEVE_TAG_VALUE:
		if (!parse_relop(arg->strs[0].data, &r->relop))
			return fail(v, node->line,
				    "invalid relational match '%s'",
				    arg->strs[0].data);
		break;
	default:
		break;
	}
	return 0;
}

static void note_tag(struct sieve_resolved *r, enum sieve_tag tag)
{
	switch (tag) {
	case SIEVE_TAG_IS: r->match = SIEVE_MATCH_IS; break;
	case SIEVE_TAG_CONTAINS: r->match = SIEVE_MATCH_CONTAINS; break;
	case SIEVE_TAG_MATCHES: r->match = SIEVE_MATCH_MATCHES; break;
	case SIEVE_TAG_COUNT_: r->match = SIEVE_MATCH_COUNT; break;
	case SIEVE_TAG_VALUE: r->match = SIEVE_MATCH_VALUE; break;
	case SIEVE_TAG_ALL: r->addrpart = SIEVE_ADDR_ALL; break;
	case SIEVE_TAG_LOCALPART: r->addrpart = SIEVE_ADDR_LOCALPART; break;
	case SIEVE_TAG_DOMAIN: r->addrpart = SIEVE_ADDR_DOMAIN; break;
	case SIEVE_TAG_USER: r->addrpart = SIEVE_ADDR_USER; break;
	case SIEVE_TAG_DETAIL: r->addrpart = SIEVE_ADDR_DETAIL; break;
	default: break;
	}
}

/* check_arguments - tags then positional arguments */
static int check_arguments(struct validator *v, struct sieve_node *node)
{
	const struct sieve_spec *spec = node->r.spec;
	struct sieve_resolved *r = &node->r;
	size_t maxpos = strlen(spec->pos), i = 0;
	unsigned int groups = 0;

	r->match = SIEVE_MATCH_IS;
	r->comparator = SIEVE_CMP_CASEMAP;
	r->addrpart = SIEVE_ADDR_ALL;
	for (; i < node->nargs && node->args[i].type == SIEVE_ARG_TAG; i++) {
		const char *name = node->args[i].tag;
		int tag = sieve_tag_find(name);

		if (tag < 0 || (spec->tags & SIEVE_TAGBIT(tag)) == 0 ||
		    !has_ext(v, tag_needs(spec->id, (enum sieve_tag)tag)))
			return fail(v, node->line, "unknown tagged argument ':%s' for %s",
				    name, node->name);
		if ((r->tags & SIEVE_TAGBIT(tag)) != 0)
			return fail(v, node->line, "tag :%s given twice", name);
		if (sieve_tags[tag].group != SIEVE_GROUP_NONE) {
			unsigned int bit = 1u << sieve_tags[tag].group;

			if ((groups & bit) != 0)
				return fail(v, node->line, "tag :%s conflicts with an earlier tag",
					    name);
			groups |= bit;
		}
		r->tags |= SIEVE_TAGBIT(tag);
		note_tag(r, (enum sieve_tag)tag);
		if (sieve_tags[tag].arg != 0) {
			i++;
			if (check_tag_arg(v, node, (enum sieve_tag)tag,
					  i < node->nargs ? &node->args[i] : NULL) < 0)
				return -1;
		}
	}
	for (; i < node->nargs; i++) {
		const struct sieve_arg *arg = &node->args[i];

		if (arg->type == SIEVE_ARG_TAG)
			return fail(v, arg->line, "tagged argument ':%s' after positional arguments",
				    arg->tag);
		if (r->npos == maxpos)
			return fail(v, arg->line, "too many arguments for %s", node->name);
		r->pos[r->npos++] = arg;
	}
	if (r->npos < spec->min_pos)
		return fail(v, node->line, "%s needs %u argument%s", node->name,
			    spec->min_pos, spec->min_pos == 1 ? "" : "s");
	/* optional positional arguments come first */
	for (size_t k = 0; k < r->npos; k++) {
		char type = spec->pos[maxpos - r->npos + k];
		const struct sieve_arg *arg = r->pos[k];

		if ((type == 'n') != (arg->type == SIEVE_ARG_NUMBER) ||
		    (type == 's' && arg->is_list))
			return fail(v, arg->line, "argument %zu of %s must be a %s", k + 1,
				    node->name, type == 'n' ? "number" :
				    type == 's' ? "string" : "string list");
	}
	if (r->comparator == SIEVE_CMP_NUMERIC &&
	    (r->match == SIEVE_MATCH_CONTAINS || r->match == SIEVE_MATCH_MATCHES))
		return fail(v, node->line,
			    "comparator i;ascii-numeric cannot do substring matches");
	if (spec->id == SIEVE_TEST_SIZE && (r->tags & (SIEVE_TAGBIT(SIEVE_TAG_OVER) |
						       SIEVE_TAGBIT(SIEVE_TAG_UNDER))) == 0)
		return fail(v, node->line, "size needs :over or :under");
	if ((r->tags & SIEVE_TAGBIT(SIEVE_TAG_LAST)) != 0 &&
	    spec->id != SIEVE_CMD_ADDHEADER && spec->id != SIEVE_TEST_DUPLICATE &&
	    (r->tags & SIEVE_TAGBIT(SIEVE_TAG_INDEX)) == 0)
		return fail(v, node->line, ":last needs :index");
	return 0;
}

static int check_envelope_parts(struct validator *v, struct sieve_node *node)
{
	const struct sieve_arg *parts = node->r.pos[0];

	for (size_t i = 0; i < parts->nstrs; i++) {
		const char *part = parts->strs[i].data;

		if (parts->strs[i].has_vars && has_ext(v, SIEVE_EXT_VARIABLES))
			continue;
		if (strcasecmp(part, "from") != 0 && strcasecmp(part, "to") != 0)
			return fail(v, node->line, "unknown envelope part '%s'", part);
	}
	return 0;
}

/* the headers an address test may name literally: those that hold
   address lists (RFC 5228 5.1 requires the restriction; the list is the
   one Pigeonhole accepts, so scripts compile the same in both) */
static const char *const address_headers[] = {
	"from", "to", "cc", "bcc", "sender", "resent-from", "resent-to",
	"reply-to", "resent-reply-to", "resent-sender", "resent-cc",
	"resent-bcc", "for-approval", "for-handling", "for-comment",
	"apparently-to", "errors-to", "delivered-to", "return-receipt-to",
	"x-admin", "read-receipt-to", "x-confirm-reading-to",
	"return-receipt-requested", "registered-mail-reply-requested-by",
	"mail-followup-to", "mail-reply-to", "abuse-reports-to",
	"x-complaints-to", "x-report-abuse-to", "x-beenthere",
	"x-original-from", "x-original-to",
};

static int check_address_headers(struct validator *v, struct sieve_node *node)
{
	const struct sieve_arg *names = node->r.pos[0];

	for (size_t i = 0; i < names->nstrs; i++) {
		const struct sieve_string *name = &names->strs[i];
		bool allowed = false;

		if (name->has_vars && has_ext(v, SIEVE_EXT_VARIABLES))
			continue;
		for (size_t k = 0; k < LOFT_N_ELEMENTS(address_headers) && !allowed; k++)
			allowed = strcasecmp(name->data, address_headers[k]) == 0;
		if (!allowed)
			return fail(v, node->line,
				    "specified header '%s' is not allowed for the address test",
				    name->data);
	}
	return 0;
}

static bool valid_var_name(const char *name)
{
	if (*name == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      *p == '_' || (p != name && *p >= '0' && *p <= '9')))
			return false;
	}
	return true;
}

/* var_name_of - a set target without include's "global." namespace */
static const char *var_name_of(const struct validator *v, const char *name)
{
	if (has_ext(v, SIEVE_EXT_INCLUDE) && strncasecmp(name, "global.", 7) == 0)
		return name + 7;
	return name;
}

static int check_node(struct validator *v, struct sieve_node *node, bool is_test);

static int check_children(struct validator *v, struct sieve_node *nodes,
			  size_t count, bool is_test)
{
	for (size_t i = 0; i < count; i++) {
		if (!is_test && i > 0) {
			enum sieve_id prev = nodes[i - 1].r.spec->id;
			const char *name = nodes[i].name;

			if ((strcmp(name, "elsif") == 0 || strcmp(name, "else") == 0) &&
			    prev != SIEVE_CMD_IF && prev != SIEVE_CMD_ELSIF)
				return fail(v, nodes[i].line, "%s without if", name);
		} else if (!is_test && (strcmp(nodes[i].name, "elsif") == 0 ||
					strcmp(nodes[i].name, "else") == 0)) {
			return fail(v, nodes[i].line, "%s without if", nodes[i].name);
		}
		if (check_node(v, &nodes[i], is_test) < 0)
			return -1;
	}
	return 0;
}

static int check_node(struct validator *v, struct sieve_node *node, bool is_test)
{
	const struct sieve_spec *spec = sieve_spec_find(node->name, is_test);

	if (spec == NULL || !has_ext(v, spec->ext))
		return fail(v, node->line, "unknown %s '%s'%s",
			    is_test ? "test" : "command", node->name,
			    spec == NULL ? "" : " (its extension is not required)");
	node->r.spec = spec;
	if (spec->id == SIEVE_CMD_REQUIRE)
		return fail(v, node->line, "require is only allowed at the start of the script");
	if (check_arguments(v, node) < 0)
		return -1;
	if (spec->tests == 0 && node->ntests > 0)
		return fail(v, node->line, "%s takes no test", node->name);
	if (spec->tests == 1 && (node->ntests != 1 || node->test_list))
		return fail(v, node->line, "%s needs one test", node->name);
	if (spec->tests == 2 && !node->test_list)
		return fail(v, node->line, "%s needs a test list", node->name);
	if (spec->block != node->has_block)
		return fail(v, node->line, spec->block ? "%s needs a block" :
			    "%s takes no block", node->name);
	if (spec->id == SIEVE_TEST_ENVELOPE && check_envelope_parts(v, node) < 0)
		return -1;
	if (spec->id == SIEVE_CMD_REDIRECT &&
	    (!node->r.pos[0]->strs[0].has_vars || !has_ext(v, SIEVE_EXT_VARIABLES)) &&
	    !sieve_address_valid(node->r.pos[0]->strs[0].data))
		return fail(v, node->line, "specified redirect address '%s' is invalid",
			    node->r.pos[0]->strs[0].data);
	if ((spec->id == SIEVE_CMD_ADDHEADER || spec->id == SIEVE_CMD_DELETEHEADER) &&
	    !(node->r.pos[0]->strs[0].has_vars && has_ext(v, SIEVE_EXT_VARIABLES)) &&
	    !sieve_header_name_valid(node->r.pos[0]->strs[0].data))
		return fail(v, node->line, "%s: specified field name '%s' is invalid",
			    node->name, node->r.pos[0]->strs[0].data);
	if (spec->id == SIEVE_TEST_ADDRESS && check_address_headers(v, node) < 0)
		return -1;
	if (spec->id == SIEVE_CMD_GLOBAL && !has_ext(v, SIEVE_EXT_VARIABLES))
		return fail(v, node->line, "global needs the variables extension");
	if (spec->id == SIEVE_CMD_INCLUDE &&
	    !sieve_include_name_valid(node->r.pos[0]->strs[0].data))
		return fail(v, node->line, "invalid script name '%s'",
			    node->r.pos[0]->strs[0].data);
	if (spec->id == SIEVE_CMD_SET && !valid_var_name(var_name_of(v, node->r.pos[0]->strs[0].data)))
		return fail(v, node->line, "invalid variable name '%s'",
			    node->r.pos[0]->strs[0].data);
	if (check_children(v, node->tests, node->ntests, true) < 0)
		return -1;
	return check_children(v, node->block, node->nblock, false);
}

static int check_require(struct validator *v, struct sieve_node *node)
{
	if (node->nargs != 1 || node->args[0].type != SIEVE_ARG_STRINGS ||
	    node->ntests > 0 || node->has_block)
		return fail(v, node->line, "require needs one string list");
	node->r.spec = sieve_spec_find("require", false);
	for (size_t i = 0; i < node->args[0].nstrs; i++) {
		enum sieve_ext ext;
		const char *name = node->args[0].strs[i].data;

		if (!sieve_ext_find(name, &ext) ||
		    (ext != SIEVE_EXT_CORE && (v->enabled & (1u << ext)) == 0))
			return fail(v, node->line, "unknown extension '%s'", name);
		v->exts |= 1u << ext;
	}
	return 0;
}

/* hex_value - one hex digit, -1 if none */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct strbuf *out, uint32_t cp)
{
	if (cp < 0x80) {
		strbuf_putc(out, (char)cp);
	} else if (cp < 0x800) {
		strbuf_putc(out, (char)(0xc0 | (cp >> 6)));
		strbuf_putc(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_putc(out, (char)(0xe0 | (cp >> 12)));
		strbuf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_putc(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_putc(out, (char)(0xf0 | (cp >> 18)));
		strbuf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_putc(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* decode_encoded - one ${hex:...} or ${unicode:...} starting at p (after
   "${"); the bytes into out and the position after '}', or NULL */
static const char *decode_encoded(const char *p, const char *end,
				  struct strbuf *out)
{
	bool unicode;
	size_t start_len = out->len;

	if ((size_t)(end - p) >= 4 && strncasecmp(p, "hex:", 4) == 0) {
		unicode = false;
		p += 4;
	} else if ((size_t)(end - p) >= 8 && strncasecmp(p, "unicode:", 8) == 0) {
		unicode = true;
		p += 8;
	} else {
		return NULL;
	}
	for (;;) {
		uint32_t value = 0;
		size_t digits = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p < end && *p == '}')
			return p + 1;
		while (p < end && hex_value(*p) >= 0) {
			if (digits++ > 8)
				break;
			value = value * 16 + (uint32_t)hex_value(*p);
			p++;
		}
		if (digits == 0 || (!unicode && digits != 2 && digits != 1) ||
		    (unicode && (value > 0x10ffff ||
				 (value >= 0xd800 && value <= 0xdfff)))) {
			strbuf_truncate(out, start_len);
			return NULL;
		}
		if (unicode)
			put_utf8(out, value);
		else
			strbuf_putc(out, (char)value);
	}
}

void sieve_decode_encoded_characters(struct sieve_string *str)
{
	struct strbuf out;
	const char *p = str->data, *end = str->data + str->len;

	if (memmem(str->data, str->len, "${", 2) == NULL)
		return;
	strbuf_init(&out, str->len + 1);
	while (p < end) {
		const char *next;

		if (p + 1 < end && p[0] == '$' && p[1] == '{' &&
		    (next = decode_encoded(p + 2, end, &out)) != NULL) {
			p = next;
			continue;
		}
		strbuf_putc(&out, *p++);
	}
	free(str->data);
	str->len = out.len;
	str->data = strbuf_detach(&out);
	str->has_vars = memmem(str->data, str->len, "${", 2) != NULL;
}

static void decode_node(struct sieve_node *node)
{
	for (size_t i = 0; i < node->nargs; i++) {
		for (size_t k = 0; k < node->args[i].nstrs; k++)
			sieve_decode_encoded_characters(&node->args[i].strs[k]);
	}
	for (size_t i = 0; i < node->ntests; i++)
		decode_node(&node->tests[i]);
	for (size_t i = 0; i < node->nblock; i++)
		decode_node(&node->block[i]);
}

int sieve_validate(struct sieve_ast *ast, uint32_t enabled, uint32_t *exts_r,
		   char **error_r)
{
	struct validator v = { enabled, 0, NULL };
	size_t i = 0;

	for (; i < ast->ncmds && strcmp(ast->cmds[i].name, "require") == 0; i++) {
		if (check_require(&v, &ast->cmds[i]) < 0)
			goto failed;
	}
	if ((v.exts & (1u << SIEVE_EXT_ENCODED_CHARACTER)) != 0) {
		for (size_t k = i; k < ast->ncmds; k++)
			decode_node(&ast->cmds[k]);
	}
	/* vacation-seconds implies vacation (RFC 6131) */
	if ((v.exts & (1u << SIEVE_EXT_VACATION_SECONDS)) != 0)
		v.exts |= 1u << SIEVE_EXT_VACATION;
	if (i < ast->ncmds &&
	    check_children(&v, &ast->cmds[i], ast->ncmds - i, false) < 0)
		goto failed;
	*exts_r = v.exts;
	return 0;
failed:
	*error_r = v.error;
	return -1;
}
