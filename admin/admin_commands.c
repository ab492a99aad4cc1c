/*
 * admin_commands - the command table and the path every remote command
 * takes: check the arguments here (a usage error never reaches the
 * daemon), send them in canonical form (`--since 1h`, never `--since=1h`),
 * print the answer through the command's view, exit with the answer's
 * status (see admin_commands.h).
 */
#include "admin_commands.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "admin_deliver_test.h"
#include "admin_quota.h"
#include "admin_sieve.h"
#include "admin_user.h"
#include "master_control.h"
#include "settings.h"
#include "xalloc.h"

/* How an option's value is checked before it is sent. */
enum admin_option_check {
	ADMIN_CHECK_TEXT,
	ADMIN_CHECK_DURATION,	/* 1h, 30 min, 90 */
	ADMIN_CHECK_NUMBER,
	ADMIN_CHECK_RESULT,	/* saved | rejected | tempfail */
};

struct admin_option {
	const char *name;	/* "--since" */
	enum admin_option_check check;
};

/* A local command's work: args are the checked positional arguments. */
typedef int admin_local_t(const struct admin_context *ctx, char **args,
			  size_t count);

struct admin_command {
	const char *name;	/* "who", "stats dump" */
	const char *remote;	/* the admin socket command; NULL: local */
	const char *args_usage;
	const char *summary;
	const struct admin_option *options; /* ends with name NULL */
	bool flag_one;		/* accepts -1 */
	unsigned int min_args, max_args;
	const char *const *last_values;	/* allowed values of the last arg */
	const struct admin_view *view, *view_one; /* view_one: with -1 */
	admin_local_t *local;
	/* how -H asks it over HTTP; NULL: not available with -H */
	const struct admin_fleet_route *http;
};

/* The command's arguments after checking. */
struct admin_args {
	const char **remote;	/* canonical form, sent as is */
	size_t remote_count;
	char **positional;
	size_t positional_count;
};

static admin_local_t admin_stop;

/* The HTTP API's routes for the commands -H runs (spec section 7). */
static const struct admin_fleet_route admin_http_who = { "GET", "/api/v1/who" };
static const struct admin_fleet_route admin_http_kick = { "POST", "/api/v1/kick" };
static const struct admin_fleet_route admin_http_deliveries = {
	"GET", "/api/v1/deliveries",
};
static const struct admin_fleet_route admin_http_services = {
	"GET", "/api/v1/services",
};
static const struct admin_fleet_route admin_http_stats = { "GET", "/api/v1/stats" };
static const struct admin_fleet_route admin_http_errors = { "GET", "/api/v1/errors" };

static const struct admin_option admin_log_errors_options[] = {
	{ "--since", ADMIN_CHECK_DURATION }, { "--limit", ADMIN_CHECK_NUMBER },
	{ NULL, ADMIN_CHECK_TEXT },
};
static const struct admin_option admin_deliveries_options[] = {
	{ "--user", ADMIN_CHECK_TEXT }, { "--sender", ADMIN_CHECK_TEXT },
	{ "--msgid", ADMIN_CHECK_TEXT }, { "--session", ADMIN_CHECK_TEXT },
	{ "--result", ADMIN_CHECK_RESULT }, { "--since", ADMIN_CHECK_DURATION },
	{ "--until", ADMIN_CHECK_DURATION }, { "--limit", ADMIN_CHECK_NUMBER },
	{ NULL, ADMIN_CHECK_TEXT },
};
static const char *const admin_on_off[] = { "on", "off", NULL };
static const char *const admin_results[] = { "saved", "rejected", "tempfail", NULL };

/* ---- views ---- */

#define ADMIN_COLUMNS(arr) .columns = (arr), .column_count = LOFT_N_ELEMENTS(arr)

static const struct admin_column admin_who_columns[] = {
	{ "username", "username", ADMIN_COLUMN_TEXT },
	{ "#", "connections", ADMIN_COLUMN_TEXT },
	{ "service", "service", ADMIN_COLUMN_TEXT },
	{ "(pids)", "pids", ADMIN_COLUMN_PARENS },
	{ "(ips)", "ips", ADMIN_COLUMN_PARENS },
};
static const struct admin_view admin_view_who = { ADMIN_COLUMNS(admin_who_columns) };

static const struct admin_column admin_session_columns[] = {
	{ "session", "session", ADMIN_COLUMN_TEXT },
	{ "service", "service", ADMIN_COLUMN_TEXT },
	{ "pid", "pid", ADMIN_COLUMN_TEXT },
	{ "user", "user", ADMIN_COLUMN_TEXT },
	{ "ip", "ip", ADMIN_COLUMN_TEXT },
	{ "state", "state", ADMIN_COLUMN_TEXT },
	{ "age", "age_secs", ADMIN_COLUMN_AGE },
};
static const struct admin_view admin_view_who_one = { ADMIN_COLUMNS(admin_session_columns) };

static const struct admin_view admin_view_kick = {
	.rows_key = "kicked", .columns = admin_session_columns,
	.column_count = 5,	/* session service pid user ip */
	.table_empty = "no sessions matched",
};

static const struct admin_view admin_view_ok = { .table_quiet = true };

static const struct admin_column admin_stats_columns[] = {
	{ "name", "name", ADMIN_COLUMN_TEXT },
	{ "labels", "labels", ADMIN_COLUMN_LABELS },
	{ "value", "value", ADMIN_COLUMN_TEXT },
	{ "count", "count", ADMIN_COLUMN_TEXT },
	{ "sum", "sum", ADMIN_COLUMN_TEXT },
};
static const struct admin_view admin_view_stats = {
	.rows_key = "metrics", ADMIN_COLUMNS(admin_stats_columns),
};

static const struct admin_column admin_errors_columns[] = {
	{ "time", "ts", ADMIN_COLUMN_TIME },
	{ "level", "level", ADMIN_COLUMN_TEXT },
	{ "service", "service", ADMIN_COLUMN_TEXT },
	{ "session", "session", ADMIN_COLUMN_TEXT },
	{ "msg", "msg", ADMIN_COLUMN_TEXT },
};
static const struct admin_view admin_view_errors = { ADMIN_COLUMNS(admin_errors_columns) };

static const struct admin_column admin_services_columns[] = {
	{ "name", "name", ADMIN_COLUMN_TEXT },
	{ "processes", "processes", ADMIN_COLUMN_TEXT },
	{ "process_limit", "process_limit", ADMIN_COLUMN_TEXT },
	{ "client_limit", "client_limit", ADMIN_COLUMN_TEXT },
	{ "restarts", "restarts", ADMIN_COLUMN_TEXT },
	{ "listeners", "listeners", ADMIN_COLUMN_TEXT },
};
static const struct admin_column admin_backends_columns[] = {
	{ "backend", "backend", ADMIN_COLUMN_TEXT },
	{ "up", "up", ADMIN_COLUMN_TEXT },
	{ "deliveries", "deliveries", ADMIN_COLUMN_LABELS },
};
static const struct admin_view admin_view_backends = {
	.rows_key = "backends", ADMIN_COLUMNS(admin_backends_columns),
};
static const struct admin_view admin_view_services = {
	.rows_key = "services", ADMIN_COLUMNS(admin_services_columns),
	.next = &admin_view_backends,
};

static const struct admin_column admin_deliveries_columns[] = {
	{ "time", "ts", ADMIN_COLUMN_TIME },
	{ "session", "session", ADMIN_COLUMN_TEXT },
	{ "user", "user", ADMIN_COLUMN_TEXT },
	{ "rcpt", "rcpt", ADMIN_COLUMN_TEXT },
	{ "result", "result", ADMIN_COLUMN_TEXT },
	{ "code", "code", ADMIN_COLUMN_TEXT },
	{ "mailbox", "mailbox", ADMIN_COLUMN_TEXT },
	{ "msgid", "msgid", ADMIN_COLUMN_TEXT },
};
const struct admin_view admin_view_deliveries = { ADMIN_COLUMNS(admin_deliveries_columns) };

static const struct admin_column admin_debug_columns[] = {
	{ "debug users", "user_mask", ADMIN_COLUMN_TEXT },
};
static const struct admin_view admin_view_debug = {
	.rows_key = "debug_users", .scalar_key = "user_mask",
	ADMIN_COLUMNS(admin_debug_columns),
	.table_empty = "debug logging is off for every user",
};

/* ---- the table ---- */

static const struct admin_command admin_commands[] = {
	{ "debug", "debug", "<user mask> on|off",
	  "debug logging for matching users' deliveries, at run time",
	  NULL, false, 2, 2, admin_on_off, &admin_view_debug, NULL, NULL, NULL },
	{ "deliver-test", NULL, "<user>",
	  "send a test message through the running LMTP service",
	  NULL, false, 1, 1, NULL, NULL, NULL, admin_deliver_test_run, NULL },
	{ "deliveries", "deliveries",
	  "[--user <mask>] [--sender <addr>] [--msgid <id>] [--session <id>] "
	  "[--result saved|rejected|tempfail] [--since <dur>] [--until <dur>] "
	  "[--limit <n>]",
	  "delivery outcomes from the journal (on disk: kept stats_journal_max_age)",
	  admin_deliveries_options, false, 0, 0, NULL,
	  &admin_view_deliveries, NULL, NULL, &admin_http_deliveries },
	{ "kick", "kick", "<user mask>|<ip/bits>|<session> [...]",
	  "end matching sessions (the peer gets 421 4.3.2)",
	  NULL, false, 1, UINT_MAX, NULL, &admin_view_kick, NULL, NULL,
	  &admin_http_kick },
	{ "log errors", "log-errors", "[--since <dur>] [--limit <n>]",
	  "recent warnings and errors",
	  admin_log_errors_options, false, 0, 0, NULL, &admin_view_errors,
	  NULL, NULL, &admin_http_errors },
	{ "log reopen", "log-reopen", "", "reopen the log files (logrotate)",
	  NULL, false, 0, 0, NULL, &admin_view_ok, NULL, NULL, NULL },
	{ "log test", "log-test", "", "log one line at each level",
	  NULL, false, 0, 0, NULL, &admin_view_ok, NULL, NULL, NULL },
	{ "quota get", NULL, "<user>",
	  "quota usage and limits, as doveadm quota get",
	  NULL, false, 1, 1, NULL, NULL, NULL, admin_quota_get_run, NULL },
	{ "quota recalc", NULL, "<user>",
	  "count the user's mail again and rewrite maildirsize",
	  NULL, false, 1, 1, NULL, NULL, NULL, admin_quota_recalc_run, NULL },
	{ "reload", "reload", "", "reload the configuration",
	  NULL, false, 0, 0, NULL, &admin_view_ok, NULL, NULL, NULL },
	{ "service status", "service-status", "",
	  "per service: processes, limits, restarts, listeners; the LMTP "
	  "proxy's backends: up, deliveries",
	  NULL, false, 0, 0, NULL, &admin_view_services, NULL, NULL,
	  &admin_http_services },
	{ "sieve test", NULL, "<user> <message file>",
	  "run the Sieve scripts a delivery runs on a message, print their actions",
	  NULL, false, 2, 2, NULL, NULL, NULL, admin_sieve_test_run, NULL },
	{ "stats dump", "stats-dump", "", "counters and histograms",
	  NULL, false, 0, 0, NULL, &admin_view_stats, NULL, NULL,
	  &admin_http_stats },
	{ "stats reset", "stats-reset", "", "reset the counters and histograms",
	  NULL, false, 0, 0, NULL, &admin_view_ok, NULL, NULL, NULL },
	{ "stop", NULL, "", "stop loftd and wait until it is gone",
	  NULL, false, 0, 0, NULL, NULL, NULL, admin_stop, NULL },
	{ "user", NULL, "<user>",
	  "userdb lookup: fields, uid/gid, home and mailbox path",
	  NULL, false, 1, 1, NULL, NULL, NULL, admin_user_run, NULL },
	{ "who", "who", "[-1] [<user mask>|<ip/bits>|<session> ...]",
	  "live sessions, grouped by user; -1: one line per session",
	  NULL, true, 0, UINT_MAX, NULL, &admin_view_who, &admin_view_who_one,
	  NULL, &admin_http_who },
};

/* admin_command_first_len - the length of name's first word */
static size_t admin_command_first_len(const char *name)
{
	return strcspn(name, " ");
}

const struct admin_command *admin_command_find(int argc, char **argv,
					       int *words_r)
{
	for (size_t i = 0; argc > 0 && i < LOFT_N_ELEMENTS(admin_commands); i++) {
		const char *name = admin_commands[i].name;
		size_t len = admin_command_first_len(name);

		if (strlen(argv[0]) != len || strncmp(argv[0], name, len) != 0)
			continue;
		if (name[len] == '\0') {
			*words_r = 1;
			return &admin_commands[i];
		}
		if (argc > 1 && strcmp(argv[1], name + len + 1) == 0) {
			*words_r = 2;
			return &admin_commands[i];
		}
	}
	return NULL;
}

bool admin_command_group(const char *name)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(admin_commands); i++) {
		size_t len = admin_command_first_len(admin_commands[i].name);

		if (admin_commands[i].name[len] == ' ' && strlen(name) == len &&
		    strncmp(name, admin_commands[i].name, len) == 0)
			return true;
	}
	return false;
}

void admin_usage(FILE *out, const char *group)
{
	size_t width = 0, glen = group != NULL ? strlen(group) : 0;

	fprintf(out, "usage: loftadm [-c <config>] [--socket <path>] "
		"[-H <host>[,<host>...] | --fleet]\n"
		"               [-f table|flow|tab|json] <command> [<args>]\n"
		"       loftadm help [<command>]\n"
		"       loftadm --version\n\n");
	for (size_t i = 0; i < LOFT_N_ELEMENTS(admin_commands); i++) {
		if (strlen(admin_commands[i].name) > width)
			width = strlen(admin_commands[i].name);
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(admin_commands); i++) {
		const struct admin_command *cmd = &admin_commands[i];

		if (group != NULL && (strncmp(cmd->name, group, glen) != 0 ||
				      cmd->name[glen] != ' '))
			continue;
		if (cmd->args_usage[0] == '\0')
			fprintf(out, "  %s\n", cmd->name);
		else
			fprintf(out, "  %-*s %s\n", (int)width, cmd->name,
				cmd->args_usage);
	}
}

void admin_command_usage(FILE *out, const struct admin_command *cmd)
{
	fprintf(out, "usage: loftadm %s%s%s\n  %s\n", cmd->name,
		cmd->args_usage[0] != '\0' ? " " : "", cmd->args_usage,
		cmd->summary);
}

/* admin_usage_error - a message and the command's usage on stderr: 64 */
static int admin_usage_error(const struct admin_command *cmd,
			     const char *fmt, ...) LOFT_ATTR_FORMAT(2, 3);
static int admin_usage_error(const struct admin_command *cmd,
			     const char *fmt, ...)
{
	va_list args;

	fputs("loftadm: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	admin_command_usage(stderr, cmd);
	return EX_USAGE;
}

/* admin_in_list - value is one of the NULL-terminated list */
static bool admin_in_list(const char *const *list, const char *value)
{
	for (; *list != NULL; list++) {
		if (strcmp(*list, value) == 0)
			return true;
	}
	return false;
}

/* admin_check_value - 0 when value suits check, else -1 with *error_r */
static int admin_check_value(enum admin_option_check check, const char *value,
			     const char **error_r)
{
	uint64_t msecs;
	char *end;

	switch (check) {
	case ADMIN_CHECK_TEXT:
		return 0;
	case ADMIN_CHECK_DURATION:
		return settings_parse_time(value, &msecs, error_r);
	case ADMIN_CHECK_NUMBER:
		errno = 0;
		if (strtoul(value, &end, 10) > 1000000 || errno != 0 ||
		    end == value || *end != '\0' || value[0] == '-') {
			*error_r = "not a number (0..1000000)";
			return -1;
		}
		return 0;
	case ADMIN_CHECK_RESULT:
		if (admin_in_list(admin_results, value))
			return 0;
		*error_r = "expected saved, rejected or tempfail";
		return -1;
	}
	return 0;
}

/* admin_find_option - the option called name (name_len bytes) */
static const struct admin_option *
admin_find_option(const struct admin_command *cmd, const char *name,
		  size_t name_len)
{
	for (const struct admin_option *o = cmd->options; o != NULL &&
		     o->name != NULL; o++) {
		if (strlen(o->name) == name_len &&
		    strncmp(o->name, name, name_len) == 0)
			return o;
	}
	return NULL;
}

/* admin_args_push - append to the canonical argument list */
static void admin_args_push(struct admin_args *a, const char *arg)
{
	a->remote = xreallocarray(a->remote, a->remote_count + 1,
				  sizeof(*a->remote));
	a->remote[a->remote_count++] = arg;
}

/* admin_parse_args - check argv against cmd into *a; 0, 1 when help was
   asked for (printed), or the usage error's exit code */
static int admin_parse_args(const struct admin_command *cmd, int argc,
			    char **argv, struct admin_args *a)
{
	bool options_done = false;
	const char *error;

	a->positional = xcalloc((size_t)argc + 1, sizeof(*a->positional));
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		const struct admin_option *opt;

		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			a->positional[a->positional_count++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			admin_command_usage(stdout, cmd);
			return 1;
		} else if (cmd->flag_one && strcmp(arg, "-1") == 0) {
			admin_args_push(a, "-1");
		} else {
			eq = strchr(arg, '=');
			opt = admin_find_option(cmd, arg, eq != NULL ?
						(size_t)(eq - arg) : strlen(arg));
			if (opt == NULL)
				return admin_usage_error(cmd, "%s: unknown option %s",
							 cmd->name, arg);
			if (eq == NULL && i + 1 == argc)
				return admin_usage_error(cmd, "%s: %s needs a value",
							 cmd->name, arg);
			value = eq != NULL ? eq + 1 : argv[++i];
			if (admin_check_value(opt->check, value, &error) < 0)
				return admin_usage_error(cmd, "%s %s: %s", cmd->name,
							 opt->name, error);
			admin_args_push(a, opt->name);
			admin_args_push(a, value);
		}
	}
	if (a->positional_count < cmd->min_args)
		return admin_usage_error(cmd, "%s: missing arguments", cmd->name);
	if (a->positional_count > cmd->max_args)
		return admin_usage_error(cmd, "%s: too many arguments", cmd->name);
	if (cmd->last_values != NULL &&
	    !admin_in_list(cmd->last_values,
			   a->positional[a->positional_count - 1]))
		return admin_usage_error(cmd, "%s: unexpected %s", cmd->name,
					 a->positional[a->positional_count - 1]);
	for (size_t i = 0; i < a->positional_count; i++)
		admin_args_push(a, a->positional[i]);
	return 0;
}

int admin_call(const struct admin_context *ctx, const char *command,
	       const char *const *args, size_t arg_count,
	       struct admin_reply *reply_r)
{
	enum admin_client_failure failure;
	const char *error;

	if (ctx->socket_path == NULL) {
		fprintf(stderr, "loftadm: %s (use -c FILE or --socket PATH)\n",
			ctx->config_error);
		return EX_TEMPFAIL;
	}
	if (admin_client_call(ctx->socket_path, command, args, arg_count,
			      reply_r, &failure, &error) == 0)
		return 0;
	switch (failure) {
	case ADMIN_CLIENT_UNREACHABLE:
		fprintf(stderr, "loftadm: loft is not running (connect to %s: %s)\n",
			ctx->socket_path, error);
		if (ctx->socket_guessed)
			fprintf(stderr, "loftadm: note: base_dir read from a config with errors: %s\n",
				ctx->config_error);
		return EX_TEMPFAIL;
	case ADMIN_CLIENT_DENIED:
		fprintf(stderr, "loftadm: connect to %s: %s (the admin socket "
			"is for root and admin_socket_group)\n",
			ctx->socket_path, error);
		return EX_NOPERM;
	case ADMIN_CLIENT_BROKEN:
		break;
	}
	fprintf(stderr, "loftadm: %s: %s\n", ctx->socket_path, error);
	return EX_TEMPFAIL;
}

int admin_print_reply(const struct admin_context *ctx, const char *name,
		      const struct admin_reply *reply,
		      const struct admin_view *view)
{
	json_object *doc = NULL;
	int status = (int)reply->status;

	if (reply->json != NULL && reply->json[0] != '\0') {
		doc = json_tokener_parse(reply->json);
		if (doc == NULL) {
			fprintf(stderr, "loftadm: %s: the answer is not JSON\n", name);
			return status != 0 ? status : EX_TEMPFAIL;
		}
		admin_format_print(stdout, ctx->format, doc, view);
		json_object_put(doc);
	}
	if (reply->error != NULL)
		fprintf(stderr, "loftadm: %s: %s\n", name, reply->error);
	else if (status != 0)
		fprintf(stderr, "loftadm: %s failed (status %d)\n", name, status);
	fflush(stdout);
	return status;
}

const struct loft_settings *admin_need_config(const struct admin_context *ctx,
					      const char *name)
{
	if (ctx->set == NULL)
		fprintf(stderr, "loftadm: %s needs the config: %s\n", name,
			ctx->config_error);
	return ctx->set;
}

/* admin_remote - a command answered by loft-stats */
static int admin_remote(const struct admin_context *ctx,
			const struct admin_command *cmd,
			const struct admin_args *a)
{
	const struct admin_view *view = cmd->view;
	struct admin_reply reply;
	int ret;

	if (cmd->view_one != NULL && a->remote_count > 0 &&
	    strcmp(a->remote[0], "-1") == 0)
		view = cmd->view_one;
	if (ctx->fleet != NULL) {
		struct admin_fleet_call call = {
			.name = cmd->name, .route = cmd->http,
			.options = a->remote,
			.option_count = a->remote_count - a->positional_count,
			.positional = a->positional,
			.positional_count = a->positional_count, .view = view,
		};

		return admin_fleet_run(ctx->set, ctx->config_error, ctx->fleet,
				       ctx->format, &call);
	}
	ret = admin_call(ctx, cmd->remote, a->remote, a->remote_count, &reply);
	if (ret != 0)
		return ret;
	ret = admin_print_reply(ctx, cmd->name, &reply, view);
	admin_reply_free(&reply);
	return ret;
}

/* admin_stop - `loftd stop`: SIGTERM the master found through
   base_dir/master.pid and wait until it is gone. base_dir comes from the
   config, or without one from --socket's directory. */
static int admin_stop(const struct admin_context *ctx, char **args,
		      size_t count)
{
	const char *slash;
	char *base_dir;
	int ret;

	if (ctx->base_dir != NULL) {
		base_dir = xstrdup(ctx->base_dir);
	} else if (ctx->socket_path != NULL) {
		slash = strrchr(ctx->socket_path, '/');
		base_dir = slash == NULL ? xstrdup(".") : slash == ctx->socket_path ?
			xstrdup("/") : xstrndup(ctx->socket_path,
					       (size_t)(slash - ctx->socket_path));
	} else {
		fprintf(stderr, "loftadm: stop: %s\n", ctx->config_error);
		return EX_TEMPFAIL;
	}
	ret = master_control_stop(base_dir);
	free(base_dir);
	return ret;
}

int admin_command_run(const struct admin_context *ctx,
		      const struct admin_command *cmd, int argc, char **argv)
{
	struct admin_args a = { 0 };
	int ret = admin_parse_args(cmd, argc, argv, &a);

	if (ret == 1)
		ret = EX_OK;
	else if (ret == 0 && ctx->fleet != NULL && cmd->http == NULL)
		ret = admin_usage_error(cmd, "%s: not available with -H or "
			"--fleet (it works on this host only)", cmd->name);
	else if (ret == 0 && cmd->local != NULL)
		ret = cmd->local(ctx, a.positional, a.positional_count);
	else if (ret == 0)
		ret = admin_remote(ctx, cmd, &a);
	free(a.remote);
	free(a.positional);
	return ret;
}
