/*
 * sieve_parser - recursive descent over RFC 5228's grammar:
 *   commands = *command
 *   command  = identifier arguments (";" / block)
 *   arguments = *argument [test / test-list]
 *   argument = string-list / number / tag
 *   test     = identifier arguments
 */
#include "sieve_parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve_lexer.h"
#include "xalloc.h"

struct parser {
	struct sieve_lexer lex;
	struct sieve_token tok;		/* the current (lookahead) token */
	char *error;
	unsigned int depth;
};

static int fail(struct parser *p, unsigned int line, const char *what)
{
	if (p->error == NULL)
		p->error = xasprintf("line %u: %s", line, what);
	return -1;
}

static int advance(struct parser *p)
{
	const char *error = NULL;

	free(p->tok.text);
	p->tok.text = NULL;
	if (sieve_lexer_next(&p->lex, &p->tok, &error) < 0) {
		p->tok.type = SIEVE_TOK_EOF;
		return fail(p, p->tok.line, error);
	}
	return 0;
}

static int expected(struct parser *p, const char *what)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "expected %s, found %s", what,
		 sieve_token_name(p->tok.type));
	return fail(p, p->tok.line, msg);
}

/* take_string - move the current string token into *str */
static void take_string(struct parser *p, struct sieve_string *str)
{
	str->data = p->tok.text;
	str->len = p->tok.len;
	str->has_vars = memmem(str->data, str->len, "${", 2) != NULL;
	p->tok.text = NULL;
}

static int parse_string_list(struct parser *p, struct sieve_arg *arg)
{
	size_t cap = 0;

	arg->type = SIEVE_ARG_STRINGS;
	arg->line = p->tok.line;
	if (p->tok.type == SIEVE_TOK_STRING) {
		arg->strs = xcalloc(1, sizeof(*arg->strs));
		take_string(p, &arg->strs[0]);
		arg->nstrs = 1;
		return advance(p);
	}
	arg->is_list = true;
	if (advance(p) < 0)
		return -1;
	for (;;) {
		if (p->tok.type != SIEVE_TOK_STRING)
			return expected(p, "string in string list");
		if (arg->nstrs == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			arg->strs = xreallocarray(arg->strs, cap, sizeof(*arg->strs));
		}
		take_string(p, &arg->strs[arg->nstrs++]);
		if (advance(p) < 0)
			return -1;
		if (p->tok.type == SIEVE_TOK_RBRACKET)
			return advance(p);
		if (p->tok.type != SIEVE_TOK_COMMA)
			return expected(p, "',' or ']'");
		if (advance(p) < 0)
			return -1;
	}
}

static int parse_test(struct parser *p, struct sieve_node *node);

/* parse_arguments - *argument [test / test-list] into node */
static int parse_arguments(struct parser *p, struct sieve_node *node)
{
	size_t cap = 0;

	for (;;) {
		struct sieve_arg *arg;

		if (p->tok.type != SIEVE_TOK_STRING &&
		    p->tok.type != SIEVE_TOK_LBRACKET &&
		    p->tok.type != SIEVE_TOK_NUMBER &&
		    p->tok.type != SIEVE_TOK_TAG)
			break;
		if (node->nargs == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			node->args = xreallocarray(node->args, cap, sizeof(*node->args));
		}
		arg = &node->args[node->nargs++];
		memset(arg, 0, sizeof(*arg));
		arg->line = p->tok.line;
		if (p->tok.type == SIEVE_TOK_NUMBER) {
			arg->type = SIEVE_ARG_NUMBER;
			arg->number = p->tok.number;
			if (advance(p) < 0)
				return -1;
		} else if (p->tok.type == SIEVE_TOK_TAG) {
			arg->type = SIEVE_ARG_TAG;
			arg->tag = p->tok.text;
			p->tok.text = NULL;
			if (advance(p) < 0)
				return -1;
		} else if (parse_string_list(p, arg) < 0) {
			return -1;
		}
	}
	if (p->tok.type == SIEVE_TOK_IDENT) {
		node->tests = xcalloc(1, sizeof(*node->tests));
		node->ntests = 1;
		return parse_test(p, &node->tests[0]);
	}
	if (p->tok.type == SIEVE_TOK_LPAREN) {
		size_t tcap = 0;

		node->test_list = true;
		if (advance(p) < 0)
			return -1;
		for (;;) {
			if (p->tok.type != SIEVE_TOK_IDENT)
				return expected(p, "test");
			if (node->ntests == tcap) {
				tcap = tcap == 0 ? 4 : tcap * 2;
				node->tests = xreallocarray(node->tests, tcap,
							    sizeof(*node->tests));
			}
			memset(&node->tests[node->ntests], 0, sizeof(*node->tests));
			if (parse_test(p, &node->tests[node->ntests++]) < 0)
				return -1;
			if (p->tok.type == SIEVE_TOK_RPAREN)
				return advance(p);
			if (p->tok.type != SIEVE_TOK_COMMA)
				return expected(p, "',' or ')'");
			if (advance(p) < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_test(struct parser *p, struct sieve_node *node)
{
	int ret;

	if (++p->depth > SIEVE_MAX_NESTING)
		return fail(p, p->tok.line, "tests nested too deeply");
	node->name = p->tok.text;
	node->line = p->tok.line;
	p->tok.text = NULL;
	ret = advance(p) < 0 ? -1 : parse_arguments(p, node);
	p->depth--;
	return ret;
}

static int parse_commands(struct parser *p, struct sieve_node **cmds_r,
			  size_t *ncmds_r, bool in_block);

static int parse_command(struct parser *p, struct sieve_node *node)
{
	node->name = p->tok.text;
	node->line = p->tok.line;
	p->tok.text = NULL;
	if (advance(p) < 0 || parse_arguments(p, node) < 0)
		return -1;
	if (p->tok.type == SIEVE_TOK_SEMICOLON)
		return advance(p);
	if (p->tok.type != SIEVE_TOK_LBRACE)
		return expected(p, "';' or '{'");
	if (++p->depth > SIEVE_MAX_NESTING)
		return fail(p, p->tok.line, "blocks nested too deeply");
	node->has_block = true;
	if (advance(p) < 0 ||
	    parse_commands(p, &node->block, &node->nblock, true) < 0)
		return -1;
	p->depth--;
	return advance(p);	/* the '}' */
}

static int parse_commands(struct parser *p, struct sieve_node **cmds_r,
			  size_t *ncmds_r, bool in_block)
{
	size_t cap = 0;

	for (;;) {
		if (p->tok.type == (in_block ? SIEVE_TOK_RBRACE : SIEVE_TOK_EOF))
			return 0;
		if (p->tok.type != SIEVE_TOK_IDENT)
			return expected(p, in_block ? "command or '}'" : "command");
		if (*ncmds_r == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*cmds_r = xreallocarray(*cmds_r, cap, sizeof(**cmds_r));
		}
		memset(&(*cmds_r)[*ncmds_r], 0, sizeof(**cmds_r));
		if (parse_command(p, &(*cmds_r)[(*ncmds_r)++]) < 0)
			return -1;
	}
}

int sieve_parse(const char *text, size_t len, struct sieve_ast *ast_r,
		char **error_r)
{
	struct parser p;

	memset(&p, 0, sizeof(p));
	memset(ast_r, 0, sizeof(*ast_r));
	sieve_lexer_init(&p.lex, text, len);
	if (advance(&p) < 0 ||
	    parse_commands(&p, &ast_r->cmds, &ast_r->ncmds, false) < 0) {
		free(p.tok.text);
		sieve_ast_free(ast_r);
		*error_r = p.error;
		return -1;
	}
	free(p.tok.text);
	return 0;
}
