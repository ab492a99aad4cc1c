/*
 * sieve_ast - freeing the parsed tree (see sieve_ast.h).
 */
#include "sieve_ast.h"

#include <stdlib.h>

static void arg_clear(struct sieve_arg *arg)
{
	for (size_t i = 0; i < arg->nstrs; i++)
		free(arg->strs[i].data);
	free(arg->strs);
	free(arg->tag);
}

void sieve_node_clear(struct sieve_node *node)
{
	for (size_t i = 0; i < node->nargs; i++)
		arg_clear(&node->args[i]);
	free(node->args);
	for (size_t i = 0; i < node->ntests; i++)
		sieve_node_clear(&node->tests[i]);
	free(node->tests);
	for (size_t i = 0; i < node->nblock; i++)
		sieve_node_clear(&node->block[i]);
	free(node->block);
	free(node->name);
}

void sieve_ast_free(struct sieve_ast *ast)
{
	for (size_t i = 0; i < ast->ncmds; i++)
		sieve_node_clear(&ast->cmds[i]);
	free(ast->cmds);
	ast->cmds = NULL;
	ast->ncmds = 0;
}
