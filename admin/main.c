/*
 * loftadm - loft's doveadm-style admin CLI (spec section 7).
 *
 * `loftadm [-c FILE] [--socket PATH] [-H HOST[,HOST...] | --fleet]
 * [-f table|flow|tab|json] COMMAND [ARGS]`. With -H or --fleet, who,
 * kick, deliveries, service status, stats dump and log errors ask those
 * hosts' HTTP APIs (admin_fleet.h) instead of the local admin socket. The config is read only to find base_dir (the admin socket is
 * base_dir/admin) and, for `user` and `deliver-test`, the userdbs and the
 * LMTP listeners; with --socket loftadm works with no config readable,
 * and a config with errors still gives its base_dir.
 * Exit codes: 0 ok, 64 usage, 67 no such user, 75 loft not running or a
 * temporary failure; when loft-stats answers, its status is the exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "admin_commands.h"
#include "admin_config.h"
#include "config.h"
#include "install_paths.h"
#include "log.h"
#include "settings.h"
#include "xalloc.h"


#define ADMIN_SOCKET_NAME "admin"

struct admin_options {
	const char *config_path;
	const char *socket_path;
	enum admin_format format;
	struct admin_fleet_target fleet;
};

/* getopt_long's code of --fleet (no short form) */
#define ADMIN_OPT_FLEET 256

/* admin_help - `help [COMMAND]` and -h: usage on stdout, exit 0; an
   unknown command's name is a usage error */
static int admin_help(int argc, char **argv)
{
	const struct admin_command *cmd;
	int words;

	if (argc == 0) {
		admin_usage(stdout, NULL);
		return EX_OK;
	}
	if ((cmd = admin_command_find(argc, argv, &words)) != NULL) {
		admin_command_usage(stdout, cmd);
		return EX_OK;
	}
	if (admin_command_group(argv[0])) {
		admin_usage(stdout, argv[0]);
		return EX_OK;
	}
	fprintf(stderr, "loftadm: unknown command: %s\n", argv[0]);
	admin_usage(stderr, NULL);
	return EX_USAGE;
}

/* admin_parse_options - the global options; the index of the command
   word, or -1 with *exit_r set (help, version, usage error) */
static int admin_parse_options(int argc, char **argv,
			       struct admin_options *opts, int *exit_r)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "host", required_argument, NULL, 'H' },
		{ "fleet", no_argument, NULL, ADMIN_OPT_FLEET },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opts->config_path = LOFT_CONFIG_PATH;
	opts->format = ADMIN_FORMAT_TABLE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:f:hH:V", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts->config_path = optarg;
			break;
		case 's':
			opts->socket_path = optarg;
			break;
		case 'H':
			opts->fleet.hosts = optarg;
			break;
		case ADMIN_OPT_FLEET:
			opts->fleet.all = true;
			break;
		case 'f':
			if (!admin_format_parse(optarg, &opts->format)) {
				fprintf(stderr, "loftadm: unknown formatter %s "
					"(table, flow, tab or json)\n", optarg);
				admin_usage(stderr, NULL);
				*exit_r = EX_USAGE;
				return -1;
			}
			break;
		case 'h':
			*exit_r = admin_help(0, NULL);
			return -1;
		case 'V':
			printf("loftadm %s\n", LOFT_VERSION);
			*exit_r = EX_OK;
			return -1;
		default:
			fprintf(stderr, "loftadm: %s: %s\n",
				optopt != 0 && strchr("cfH", optopt) != NULL ?
				"option needs a value" : "unknown option",
				argv[optind - 1]);
			admin_usage(stderr, NULL);
			*exit_r = EX_USAGE;
			return -1;
		}
	}
	if (opts->fleet.all && opts->fleet.hosts != NULL) {
		fprintf(stderr, "loftadm: -H and --fleet exclude each other\n");
		*exit_r = EX_USAGE;
		return -1;
	}
	if (optind == argc) {
		admin_usage(stderr, NULL);
		*exit_r = EX_USAGE;
		return -1;
	}
	return optind;
}

/* admin_dispatch - run the command in argv[0..] */
static int admin_dispatch(const struct admin_context *ctx, int argc,
			  char **argv)
{
	const struct admin_command *cmd;
	int words;

	if (strcmp(argv[0], "help") == 0)
		return admin_help(argc - 1, argv + 1);
	cmd = admin_command_find(argc, argv, &words);
	if (cmd != NULL)
		return admin_command_run(ctx, cmd, argc - words, argv + words);
	if (admin_command_group(argv[0])) {
		if (argc > 1)
			fprintf(stderr, "loftadm: unknown command: %s %s\n",
				argv[0], argv[1]);
		admin_usage(stderr, argv[0]);
	} else {
		fprintf(stderr, "loftadm: unknown command: %s\n", argv[0]);
		admin_usage(stderr, NULL);
	}
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	struct admin_options opts = { 0 };
	struct admin_context ctx = { 0 };
	struct loft_settings set;
	char *base_dir = NULL, *socket_path = NULL, *config_error = NULL;
	const char *error;
	int first, ret = EX_USAGE;

	log_init("loftadm");
	first = admin_parse_options(argc, argv, &opts, &ret);
	if (first < 0) {
		log_deinit();
		return ret;
	}
	ctx.config_path = opts.config_path;
	ctx.format = opts.format;
	if (opts.fleet.hosts != NULL || opts.fleet.all)
		ctx.fleet = &opts.fleet;
	if (config_load(opts.config_path, "lmtp", &set, &error) == 0) {
		ctx.set = &set;
		base_dir = xstrdup(set.base_dir);
	} else {
		config_error = xstrdup(error);
		ctx.config_error = config_error;
		/* a file the parser refuses still names base_dir: reload
		   then gets loftd's own answer, stop finds the pid file */
		if (admin_config_base_dir(opts.config_path, &base_dir) == 0)
			ctx.socket_guessed = opts.socket_path == NULL;
	}
	if (base_dir != NULL)
		socket_path = xasprintf("%s/%s", base_dir, ADMIN_SOCKET_NAME);
	ctx.base_dir = base_dir;
	ctx.socket_path = opts.socket_path != NULL ? opts.socket_path : socket_path;

	ret = admin_dispatch(&ctx, argc - first, argv + first);
	fflush(stdout);
	if (ctx.set != NULL)
		settings_free(&set);
	free(base_dir);
	free(socket_path);
	free(config_error);
	log_deinit();
	return ret;
}
