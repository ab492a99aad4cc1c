/*
 * admin_commands - loftadm's command table (spec section 7): names, usage
 * lines, argument checking, and running a command. Most commands are
 * answered by loft-stats over the admin socket and printed through the
 * formatters; `user`, `deliver-test` and `stop` work locally (with the
 * config, the LMTP service and the master's pid file).
 */
#ifndef LOFT_ADMIN_COMMANDS_H
#define LOFT_ADMIN_COMMANDS_H

#include <stdio.h>

#include "admin_client.h"
#include "admin_fleet.h"
#include "admin_format.h"
#include "settings.h"

/* What every command may use; filled by main. */
struct admin_context {
	const char *config_path;
	const struct loft_settings *set; /* NULL: the config was not read */
	const char *config_error;	 /* why set is NULL */
	const char *base_dir;		 /* NULL: unknown (no readable config) */
	const char *socket_path;	 /* NULL: no --socket and no config */
	bool socket_guessed;		 /* from a config the parser refused */
	/* -H/--fleet: ask these hosts' HTTP APIs; NULL: the local host */
	const struct admin_fleet_target *fleet;
	enum admin_format format;
};

struct admin_command;

/* admin_command_find - the command named by argv[0] (and argv[1] for the
   two-word ones: "stats dump"); *words_r tells how many words the name
   took. NULL when none matches. */
const struct admin_command *admin_command_find(int argc, char **argv,
					       int *words_r);
/* admin_command_group - whether name is the first word of two-word
   commands ("stats", "log", "service") */
bool admin_command_group(const char *name);

/* admin_usage - loftadm's usage and the command list; with group, only
   that group's commands */
void admin_usage(FILE *out, const char *group);
/* admin_command_usage - "usage: loftadm NAME ARGS" and its summary */
void admin_command_usage(FILE *out, const struct admin_command *cmd);

/* admin_command_run - check argv (the words after the command name) and
   run it; returns loftadm's exit code, having printed any message */
int admin_command_run(const struct admin_context *ctx,
		      const struct admin_command *cmd, int argc, char **argv);

/* admin_call - a request over the admin socket with the messages every
   command shares: 0 with *reply_r (free with admin_reply_free()), else
   the exit code after a message on stderr (75 when loft is not running) */
int admin_call(const struct admin_context *ctx, const char *command,
	       const char *const *args, size_t arg_count,
	       struct admin_reply *reply_r);

/* admin_print_reply - print reply (status and error included) per view;
   returns the exit code (the reply's status) */
int admin_print_reply(const struct admin_context *ctx, const char *name,
		      const struct admin_reply *reply,
		      const struct admin_view *view);

/* admin_need_config - the settings for a command that needs them, or
   NULL after a message on stderr (the caller exits 75) */
const struct loft_settings *admin_need_config(const struct admin_context *ctx,
					      const char *name);

/* Views shared with the local commands. */
extern const struct admin_view admin_view_deliveries;

#endif
