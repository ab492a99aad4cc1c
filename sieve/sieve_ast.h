/*
 * sieve_ast - the parsed form of a Sieve script: a tree of commands, each
 * with arguments (numbers, string lists, tags), an optional test or test
 * list and an optional block. Tests have the same shape without blocks.
 * The validator fills each node's `r` (what the node is, which tags it
 * carries, its positional arguments), making the tree the compiled form
 * the interpreter walks.
 */
#ifndef LOFT_SIEVE_AST_H
#define LOFT_SIEVE_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve_spec.h"

struct sieve_string {
	char *data;		/* NUL-terminated, may hold NULs */
	size_t len;
	bool has_vars;		/* "${" seen: expand at run time */
};

enum sieve_arg_type {
	SIEVE_ARG_NUMBER,
	SIEVE_ARG_STRINGS,	/* one string or a [list] */
	SIEVE_ARG_TAG,
};

struct sieve_arg {
	enum sieve_arg_type type;
	unsigned int line;
	uint64_t number;
	struct sieve_string *strs;
	size_t nstrs;
	bool is_list;
	char *tag;
};

struct sieve_script;

/* what the validator learned about a node */
struct sieve_resolved {
	const struct sieve_spec *spec;
	uint64_t tags;				/* 1 << enum sieve_tag */
	const struct sieve_arg *tag_arg[SIEVE_TAG_COUNT];
	const struct sieve_arg *pos[4];
	size_t npos;
	enum sieve_match match;
	enum sieve_relop relop;
	enum sieve_comparator comparator;
	enum sieve_addrpart addrpart;
	/* include: the compiled script it runs (NULL: :optional and
	   missing); owned by the top-level script */
	struct sieve_script *included;
};

struct sieve_node {
	char *name;
	unsigned int line;
	struct sieve_arg *args;
	size_t nargs;
	struct sieve_node *tests;
	size_t ntests;
	bool test_list;
	struct sieve_node *block;
	size_t nblock;
	bool has_block;
	struct sieve_resolved r;
};

/* a script: its top-level commands */
struct sieve_ast {
	struct sieve_node *cmds;
	size_t ncmds;
};

void sieve_ast_free(struct sieve_ast *ast);
void sieve_node_clear(struct sieve_node *node);

#endif
