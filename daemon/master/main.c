/*
 * loftd - loft's master process: the command line. `loftd [-c FILE] [-F]`
 * runs the master (master_daemon.c); --check, -n and -a inspect the
 * configuration (-a/-n/-h NAME...: just those settings, as doveconf
 * NAME / -n NAME / -h NAME); `stop` and `reload` act on the running instance
 * (master_control.c). Exit codes: 0 ok, 64 usage, 1 config error or
 * failed start, 75 not running.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "sieve_settings.h"
#include "install_paths.h"
#include "log.h"
#include "master_config.h"
#include "master_control.h"
#include "master_daemon.h"
#include "xalloc.h"

/* --version names build flags that change behaviour: "asan" means
   vsz_limit is not applied (AddressSanitizer reserves terabytes) */
#ifdef __SANITIZE_ADDRESS__
#  define LOFTD_BUILD_FLAG_ASAN " asan"
#else
#  define LOFTD_BUILD_FLAG_ASAN ""
#endif
/* "no-systemd": built without libsystemd, loftd sends no sd_notify
   messages and cannot run under the Type=notify unit */
#ifdef LOFT_HAVE_SYSTEMD
#  define LOFTD_BUILD_FLAG_SYSTEMD ""
#else
#  define LOFTD_BUILD_FLAG_SYSTEMD " no-systemd"
#endif
#define LOFTD_BUILD_FLAGS LOFTD_BUILD_FLAG_ASAN LOFTD_BUILD_FLAG_SYSTEMD

enum loftd_mode {
	LOFTD_MODE_RUN,
	LOFTD_MODE_CHECK,
	LOFTD_MODE_DUMP_CHANGED,
	LOFTD_MODE_DUMP_ALL,
	LOFTD_MODE_STOP,
	LOFTD_MODE_RELOAD,
};

struct loftd_options {
	const char *config_path;
	bool foreground;
	bool show_secrets;	/* -P */
	bool values_only;	/* -h NAME...: values, as doveconf -h */
	enum loftd_mode mode;
	char **names;		/* -a/-n/-h NAME...: just these settings */
	size_t name_count;
};

/* loftd_usage - the help text on out */
static void loftd_usage(FILE *out)
{
	fprintf(out,
		"Usage: loftd [-c FILE] [-F]\n"
		"       loftd [-c FILE] --check | -n | -a [-P]\n"
		"       loftd [-c FILE] -a | -n | -h [-P] SETTING...\n"
		"       loftd [-c FILE] stop | reload\n"
		"\n"
		"  -c FILE     configuration file (default %s)\n"
		"  -F          stay in the foreground\n"
		"  --check     validate the configuration and exit\n"
		"  -n          print the settings that differ from the defaults\n"
		"  -a          print all settings\n"
		"  -a SETTING...  print just these settings (name = value)\n"
		"  -h SETTING...  print just their values, one a line\n"
		"  -P          with -n/-a/-h: show secrets (http_api_key, ssl_key,\n"
		"              ssl_alt_key, ssl_key_password) too\n"
		"  stop        stop the running loftd and wait until it is gone\n"
		"  reload      validate the file, then make loftd reload it\n"
		"  -h, --help  this text\n"
		"  --version   print the version\n",
		LOFT_CONFIG_PATH);
}

/* loftd_usage_error - a bad command line: message, usage, exit 64 */
static void LOFT_ATTR_NORETURN loftd_usage_error(const char *msg)
{
	fprintf(stderr, "loftd: %s\n", msg);
	loftd_usage(stderr);
	exit(EX_USAGE);
}

/* loftd_set_mode - one mode per invocation */
static void loftd_set_mode(struct loftd_options *opts, enum loftd_mode mode)
{
	if (opts->mode != LOFTD_MODE_RUN && opts->mode != mode)
		loftd_usage_error("--check, -n, -a, stop and reload exclude each other");
	opts->mode = mode;
}

/* loftd_parse_args - the command line into opts (exits on errors) */
static void loftd_parse_args(int argc, char **argv, struct loftd_options *opts)
{
	enum { OPT_CHECK = 256, OPT_VERSION, OPT_HELP };
	static const struct option long_opts[] = {
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opts->config_path = LOFT_CONFIG_PATH;
	while ((c = getopt_long(argc, argv, "c:FnaPh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c': opts->config_path = optarg; break;
		case 'F': opts->foreground = true; break;
		case 'n': loftd_set_mode(opts, LOFTD_MODE_DUMP_CHANGED); break;
		case 'a': loftd_set_mode(opts, LOFTD_MODE_DUMP_ALL); break;
		case 'P': opts->show_secrets = true; break;
		case OPT_CHECK: loftd_set_mode(opts, LOFTD_MODE_CHECK); break;
		case 'h': opts->values_only = true; break;
		case OPT_HELP:
			loftd_usage(stdout);
			exit(EX_OK);
		case OPT_VERSION:
			printf("loftd %s%s\n", LOFT_VERSION, LOFTD_BUILD_FLAGS);
			exit(EX_OK);
		default:
			loftd_usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (opts->values_only && optind == argc && opts->mode == LOFTD_MODE_RUN) {
		/* -h alone is the help; -h SETTING... is doveconf's -h */
		loftd_usage(stdout);
		exit(EX_OK);
	}
	if (opts->values_only && opts->mode == LOFTD_MODE_RUN)
		opts->mode = LOFTD_MODE_DUMP_ALL;
	if (opts->mode == LOFTD_MODE_DUMP_ALL ||
	    opts->mode == LOFTD_MODE_DUMP_CHANGED) {
		opts->names = argv + optind;
		opts->name_count = (size_t)(argc - optind);
		if (opts->values_only && opts->name_count == 0)
			loftd_usage_error("-h needs setting names");
	} else if (opts->values_only) {
		loftd_usage_error("-h goes with -a or -n and setting names");
	} else if (optind < argc) {
		if (strcmp(argv[optind], "stop") == 0)
			loftd_set_mode(opts, LOFTD_MODE_STOP);
		else if (strcmp(argv[optind], "reload") == 0)
			loftd_set_mode(opts, LOFTD_MODE_RELOAD);
		else
			loftd_usage_error("unknown command");
		if (optind + 1 < argc)
			loftd_usage_error("too many arguments");
	}
}

/* loftd_absolute - path made absolute (a detached master runs in /) */
static char *loftd_absolute(const char *path)
{
	char *cwd;
	char *abs;

	if (path[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);
	abs = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return abs;
}

/* loftd_inspect - every mode that only reads the config; exit code */
static int loftd_inspect(const struct loftd_options *opts, const char *path)
{
	struct master_config *config;
	const char *error;
	int ret = EX_OK;

	if (master_config_load(path, &config, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	switch (opts->mode) {
	case LOFTD_MODE_DUMP_CHANGED:
	case LOFTD_MODE_DUMP_ALL: {
		bool all = opts->mode == LOFTD_MODE_DUMP_ALL;

		if (opts->name_count > 0) {
			/* doveconf NAME, -n NAME, -h NAME */
			if (settings_print_named(master_config_settings(config),
						 opts->names, opts->name_count,
						 stdout, opts->values_only, !all,
						 opts->show_secrets, &error) < 0) {
				fprintf(stderr, "loftd: %s\n", error);
				ret = EX_USAGE;
			}
			break;
		}

		settings_print(all ? master_config_settings(config) :
			       &config->file_set, stdout, all, opts->show_secrets);
		/* what protocol lmtp { } / protocol lda { } change */
		settings_print_protocol(master_config_settings(config),
					&config->views[MASTER_CONFIG_VIEW_LMTP],
					"lmtp", stdout, opts->show_secrets);
		settings_print_protocol(master_config_settings(config),
					&config->views[MASTER_CONFIG_VIEW_LDA],
					"lda", stdout, opts->show_secrets);
		master_config_print_not_used(config, stdout, true);
		break;
	}
	case LOFTD_MODE_STOP:
		ret = master_control_stop(master_config_settings(config)->base_dir);
		break;
	case LOFTD_MODE_RELOAD:
		ret = master_control_reload(master_config_settings(config)->base_dir);
		break;
	case LOFTD_MODE_CHECK:
		master_config_warn(config);
		if (master_config_check_executables(config, &error) < 0) {
			fprintf(stderr, "%s\n", error);
			ret = 1;
		} else {
			master_config_print_not_used(config, stdout, false);
		}
		break;
	case LOFTD_MODE_RUN:
		break;
	}
	master_config_free(&config);
	if (fflush(stdout) != 0 && ret == EX_OK)
		ret = 1;
	return ret;
}

int main(int argc, char **argv)
{
	struct loftd_options opts = { .mode = LOFTD_MODE_RUN };
	char *path;
	int ret;

	loftd_parse_args(argc, argv, &opts);
	log_init("master");
	/* the Sieve plugin's plugin { } settings are checked with the file */
	config_set_plugin_check("sieve", sieve_settings_check);
	if (opts.mode == LOFTD_MODE_RUN) {
		path = loftd_absolute(opts.config_path);
		ret = master_daemon_run(path, opts.foreground);
		free(path);
	} else {
		ret = loftd_inspect(&opts, opts.config_path);
	}
	log_deinit();
	return ret;
}
