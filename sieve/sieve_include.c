/*
 * sieve_include - compile-time include resolution (see sieve_include.h).
 */
#include "sieve_include.h"

#include <stdlib.h>
#include <string.h>

#include "sieve_interp.h"
#include "sieve_parser.h"
#include "sieve_validate.h"
#include "strbuf.h"
#include "xalloc.h"

struct resolver {
	const struct sieve_compile_env *env;
	struct sieve_script *top;
	/* the scripts being compiled, outermost first, for cycles */
	const char *stack_names[SIEVE_INCLUDE_MAX_DEPTH + 1];
	bool stack_global[SIEVE_INCLUDE_MAX_DEPTH + 1];
	unsigned int depth;
	char *error;
};

bool sieve_include_name_valid(const char *name)
{
	if (*name == '\0' || *name == '.' || strlen(name) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '/')
			return false;
	}
	return true;
}

static int fail(struct resolver *r, const struct sieve_node *node,
		const char *what, const char *name)
{
	if (r->error == NULL)
		r->error = xasprintf("line %u: %s '%s'", node->line, what, name);
	return -1;
}

static int resolve_nodes(struct resolver *r, struct sieve_node *nodes,
			 size_t count);

/* cached - a script already compiled for (global, name) */
static struct sieve_script *cached(const struct sieve_script *top,
				   bool global, const char *name)
{
	for (size_t i = 0; i < top->nincludes; i++) {
		if (top->include_global[i] == global &&
		    strcmp(top->include_names[i], name) == 0)
			return top->includes[i];
	}
	return NULL;
}

/* load - compile one included script; 1, 0 when missing, -1 */
static int load(struct resolver *r, const struct sieve_node *node,
		bool global, const char *name, struct sieve_script **script_r)
{
	const struct sieve_limits *limits = r->env->limits;
	struct sieve_script *script;
	struct strbuf text;
	char *error = NULL;
	int ret;

	if (r->env->load == NULL)
		return 0;
	strbuf_init(&text, 1024);
	ret = r->env->load(r->env->context, global, name, &text, &error);
	if (ret <= 0) {
		strbuf_free(&text);
		if (ret < 0) {
			r->error = xasprintf("line %u: include '%s': %s", node->line,
					     name, error);
			free(error);
		}
		return ret;
	}
	if (limits->max_script_size != 0 && text.len > limits->max_script_size) {
		strbuf_free(&text);
		return fail(r, node, "included script is too large:", name);
	}
	script = xcalloc(1, sizeof(*script));
	if (sieve_parse(text.data, text.len, &script->ast, &error) < 0 ||
	    sieve_validate(&script->ast, limits->extensions, &script->exts,
			   &error) < 0) {
		r->error = xasprintf("%s: %s", name, error);
		free(error);
		sieve_ast_free(&script->ast);
		free(script);
		strbuf_free(&text);
		return -1;
	}
	strbuf_free(&text);
	*script_r = script;
	return 1;
}

static void add_cached(struct sieve_script *top, bool global, const char *name,
		       struct sieve_script *script)
{
	size_t n = top->nincludes + 1;

	top->includes = xreallocarray(top->includes, n, sizeof(*top->includes));
	top->include_names = xreallocarray(top->include_names, n,
					   sizeof(*top->include_names));
	top->include_global = xreallocarray(top->include_global, n,
					    sizeof(*top->include_global));
	top->includes[n - 1] = script;
	top->include_names[n - 1] = xstrdup(name);
	top->include_global[n - 1] = global;
	top->nincludes = n;
}

static int resolve_include(struct resolver *r, struct sieve_node *node)
{
	const char *name = node->r.pos[0]->strs[0].data;
	bool global = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_GLOBAL)) != 0;
	bool optional = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_OPTIONAL)) != 0;
	struct sieve_script *script;
	int ret;

	for (unsigned int i = 0; i < r->depth; i++) {
		if (r->stack_global[i] == global &&
		    strcmp(r->stack_names[i], name) == 0)
			return fail(r, node, "circular include of", name);
	}
	if ((script = cached(r->top, global, name)) != NULL) {
		node->r.included = script;
		return 0;
	}
	if (r->depth >= SIEVE_INCLUDE_MAX_DEPTH)
		return fail(r, node, "includes nested too deeply at", name);
	if (r->top->nincludes >= SIEVE_INCLUDE_MAX_SCRIPTS)
		return fail(r, node, "too many included scripts at", name);
	if ((ret = load(r, node, global, name, &script)) < 0)
		return -1;
	if (ret == 0) {
		if (optional)
			return 0;
		return fail(r, node, global ? "included global script does not exist:" :
			    "included personal script does not exist:", name);
	}
	r->stack_names[r->depth] = name;
	r->stack_global[r->depth] = global;
	r->depth++;
	ret = resolve_nodes(r, script->ast.cmds, script->ast.ncmds);
	r->depth--;
	if (ret < 0) {
		sieve_ast_free(&script->ast);
		free(script);
		return -1;
	}
	add_cached(r->top, global, name, script);
	node->r.included = script;
	return 0;
}

static int resolve_nodes(struct resolver *r, struct sieve_node *nodes,
			 size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (nodes[i].r.spec->id == SIEVE_CMD_INCLUDE &&
		    resolve_include(r, &nodes[i]) < 0)
			return -1;
		if (resolve_nodes(r, nodes[i].block, nodes[i].nblock) < 0)
			return -1;
	}
	return 0;
}

int sieve_include_resolve(struct sieve_script *top,
			  const struct sieve_compile_env *env, char **error_r)
{
	struct resolver r;

	if ((top->exts & (1u << SIEVE_EXT_INCLUDE)) == 0)
		return 0;
	memset(&r, 0, sizeof(r));
	r.env = env;
	r.top = top;
	if (resolve_nodes(&r, top->ast.cmds, top->ast.ncmds) < 0) {
		*error_r = r.error;
		return -1;
	}
	return 0;
}
