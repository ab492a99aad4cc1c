/*
 * loft-lda - local delivery agent: one message on stdin (or -p), delivered
 * to one user, the outcome told as a sysexits code.
 *
 * A drop-in for dovecot-lda in Postfix's mailbox_command or a pipe
 * transport (same flags). Order of work: read the config (protocol lda),
 * find the user, drop to the user's uid/gid when running as root, and only
 * then read the message, so that a setuid-root install never parses client
 * input with privileges. Exit codes: 0 saved, 64 usage, 67 unknown user,
 * 75 any temporary failure (config, userdb, disk, locks: the MTA retries),
 * 77 permanent refusal (quota). With -e the reason goes to stderr as one
 * line starting with the enhanced status code.
 *
 * SECURITY: when installed setuid-root and run by another user, the
 * environment is cleared, and with -c, -o or -p loft-lda first drops to
 * the caller's real uid and gid for good (as dovecot-lda does): what the
 * caller names is never read with root's rights.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "sieve_settings.h"
#include "clock.h"
#include "delivery.h"
#include "delivery_stats.h"
#include "dovecot_settings.h"
#include "install_paths.h"
#include "log.h"
#include "log_settings.h"
#include "mail_plugins.h"
#include "message.h"
#include "privileges.h"
#include "session_id.h"
#include "strbuf.h"
#include "settings.h"
#include "stats_report.h"
#include "service_child.h"
#include "userdb.h"


#define LDA_READ_BUFSIZE 65536

struct lda_options {
	const char *config_path;
	bool config_given;		/* -c */
	const char *user;		/* -d */
	const char *orig_rcpt;		/* -a */
	const char *final_rcpt;		/* -r */
	const char *sender;		/* -f */
	const char *mailbox;		/* -m */
	const char *path;		/* -p */
	bool stderr_reason;		/* -e */
	bool keep_env;			/* -k */
	bool autosubscribe;		/* -s */
	const char **overrides;		/* -o */
	size_t override_count;
};

static bool lda_stderr_reason;
/* loft-stats, when its socket is reachable: this run shows in `who` and
   its outcome in the journal; unreachable, nothing changes */
static struct stats_client *lda_stats;
/* whether base_dir/stats-writer existed: loftd runs (else loft-lda is
   used on its own and not reporting is normal) */
static bool lda_stats_expected;
static char lda_session_id[SESSION_ID_BUFSIZE];

/* lda_stats_start - announce this run as a session */
static void lda_stats_start(const struct loft_settings *set, const char *user)
{
	char *path = xasprintf("%s/stats-writer", set->base_dir);
	const char *users[1] = { user };
	struct stats_report_session session = {
		.session_id = lda_session_id, .service = "lda",
		.start_usecs = clock_realtime_usecs(), .state = "DATA",
		.users = users, .user_count = user != NULL ? 1 : 0,
	};

	lda_stats_expected = access(path, F_OK) == 0;
	lda_stats = stats_client_create(NULL, path, LOFT__ROLE__ROLE_LDA, "lda");
	free(path);
	delivery_stats_install(lda_stats, "lda");
	stats_report_session_start(lda_stats, &session);
}

/* lda_stats_finish - end the session and give the reports 50 ms; what
   loft-stats could not be handed (it is not running, or its backlog is
   full: a stopped or restarting loft-stats otherwise accepts this run's
   connection later) is said in the log, since no counter can get it */
static void lda_stats_finish(void)
{
	uint64_t lost;

	if (lda_stats == NULL)
		return;
	delivery_stats_flush_counts();
	stats_report_session_end(lda_stats, lda_session_id);
	delivery_stats_uninstall();
	(void)stats_client_flush(lda_stats, 50);
	lost = stats_client_dropped_total(lda_stats);
	if (lost > 0 && lda_stats_expected)
		log_warning("loft-stats is unreachable: %llu stats event%s of "
			    "this delivery not counted",
			    (unsigned long long)lost, lost == 1 ? "" : "s");
	stats_client_free(&lda_stats);
}

static void lda_usage(FILE *out)
{
	fprintf(out,
"Usage: loft-lda [-c <config file>] [-d <username>] [-p <path>]\n"
"                [-m <mailbox>] [-e] [-k] [-s] [-f <envelope sender>]\n"
"                [-a <original envelope recipient>]\n"
"                [-r <final envelope recipient>] [-o <setting>=<value>]\n");
}

/* lda_exit - print the reason per -e and exit with the outcome's code */
static void LOFT_ATTR_NORETURN lda_exit(const struct outcome *out)
{
	int code = outcome_exit_code(out);

	if (code != EX_OK && lda_stderr_reason) {
		/* one line: the text may quote -d, which is the caller's */
		struct strbuf line;

		strbuf_init(&line, 128);
		strbuf_append_printable(&line, out->text);
		fprintf(stderr, "%s %s\n", out->enhanced, line.data);
		strbuf_free(&line);
	}
	lda_stats_finish();
	log_deinit();
	exit(code);
}

/* lda_fail_config - configuration trouble (the file, -o) is temporary:
   the admin fixes it and the MTA's retry delivers. The reason is logged,
   so with -e it follows the status line. */
static void LOFT_ATTR_NORETURN LOFT_ATTR_FORMAT(1, 2)
lda_fail_config(const char *fmt, ...)
{
	struct outcome out;
	va_list args;

	va_start(args, fmt);
	log_vwrite(LOG_LEVEL_FATAL, NULL, fmt, args);
	va_end(args);
	outcome_tempfail(&out, "4.3.5", "System configuration error");
	lda_exit(&out);
}

static void LOFT_ATTR_NORETURN LOFT_ATTR_FORMAT(1, 2)
lda_fail_usage(const char *fmt, ...)
{
	va_list args;

	fprintf(stderr, "loft-lda: Fatal: ");
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	log_deinit();
	exit(EX_USAGE);
}

/* lda_check_address - an address from the command line has no control
   byte (a newline would start a log line or an mbox line of the
   caller's choosing) */
static void lda_check_address(const char *flag, const char *address)
{
	if (address == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)address;
	     *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			lda_fail_usage("Invalid %s address: control character "
				       "0x%02x", flag, *p);
	}
}

static void lda_parse_args(int argc, char **argv, struct lda_options *opts)
{
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->config_path = LOFT_CONFIG_PATH;
	opts->overrides = xcalloc((size_t)argc + 1, sizeof(*opts->overrides));
	while ((c = getopt(argc, argv, "a:c:d:ef:km:o:p:r:s")) != -1) {
		switch (c) {
		case 'a': opts->orig_rcpt = optarg; break;
		case 'c':
			opts->config_path = optarg;
			opts->config_given = true;
			break;
		case 'd': opts->user = optarg; break;
		case 'e': opts->stderr_reason = true; break;
		case 'f': opts->sender = optarg; break;
		case 'k': opts->keep_env = true; break;
		case 'm': opts->mailbox = optarg; break;
		case 'o': opts->overrides[opts->override_count++] = optarg; break;
		case 'p': opts->path = optarg; break;
		case 'r': opts->final_rcpt = optarg; break;
		case 's': opts->autosubscribe = true; break;
		default:
			lda_usage(stdout);
			exit(EX_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loft-lda: unexpected argument: %s\n",
			argv[optind]);
		lda_usage(stdout);
		exit(EX_USAGE);
	}
	if (opts->user != NULL && *opts->user == '\0')
		lda_fail_usage("empty -d user");
	/* addresses go into log lines, records and mbox From_ lines */
	lda_check_address("-f", opts->sender);
	lda_check_address("-r", opts->final_rcpt);
	lda_check_address("-a", opts->orig_rcpt);
	/* Postfix's -m ${extension} is empty for a plain address */
	if (opts->mailbox != NULL && *opts->mailbox == '\0')
		opts->mailbox = NULL;
}

/* lda_drop_to_caller - a set-user-ID loft-lda becomes its caller for
   good, before it reads anything the caller named; failing that, the MTA
   retries */
static void lda_drop_to_caller(void)
{
	struct outcome out;
	const char *error;

	if (privileges_drop_to_caller(&error) == 0)
		return;
	log_error("dropping privileges to uid %u failed: %s",
		  (unsigned int)getuid(), error);
	outcome_tempfail(&out, "4.3.0",
			 "Internal error occurred. Refer to server log for more information.");
	lda_exit(&out);
}

/* lda_override - one -o key=value: a loft setting, or a Dovecot setting
   loft does not use (accepted as dovecot-lda would, unless its value
   would change the delivery); 0 or -1 with *error_r */
static int lda_override(struct loft_settings *set, const char *key,
			const char *value, const char **error_r)
{
	const struct dovecot_setting *ds;

	if (setting_find(loft_setting_defs, key) != NULL ||
	    (ds = dovecot_global_setting(key)) == NULL)
		return settings_set(set, key, value, error_r);
	return dovecot_setting_check(ds, value, error_r);
}

/* lda_uses_auth_socket - whether -d lookups go to auth_socket_path
   instead of the userdb blocks: when loftd serves that socket (a `service
   auth` in the config) or the setting names another server's, so that
   loft-lda run as the mail user needs no read access to the userdb */
static bool lda_uses_auth_socket(const struct loft_settings *set)
{
	return service_child_find_service(set, "auth") != NULL ||
		strcmp(set->auth_socket_path, "auth-userdb") != 0;
}

/* lda_load_settings - config file, protocol lda, then -o overrides */
static void lda_load_settings(const struct lda_options *opts,
			      struct loft_settings *set)
{
	const char *error;

	if (config_load(opts->config_path, "lda", set, &error) < 0)
		lda_fail_config("%s", error);
	for (size_t i = 0; i < opts->override_count; i++) {
		char *key = xstrdup(opts->overrides[i]);
		char *value = strchr(key, '=');

		/* -o comes from the MTA's configuration (master.cf): a
		   mistake there must defer the mail, not bounce it */
		if (value == NULL)
			lda_fail_config("-o %s: expected setting=value",
					opts->overrides[i]);
		*value++ = '\0';
		if (lda_override(set, key, value, &error) < 0)
			lda_fail_config("-o %s: %s", opts->overrides[i], error);
		free(key);
	}
	if (opts->autosubscribe)
		set->lda_mailbox_autosubscribe = true;
	/* config_load checked the file's mail_plugins; -o may change it */
	if (mail_plugins_check(set->mail_plugins, &set->plugin, &error) < 0)
		lda_fail_config("%s", error);
	if (userdb_validate(set, &error) < 0)
		lda_fail_config("%s", error);
	if (lda_uses_auth_socket(set))
		userdb_use_auth_socket(set, set->auth_socket_path);
}


/* lda_caller - the real uid's passwd name and (home_r non-NULL) home,
   xmalloc'ed, NULL when it has no entry: who invoked us, never $USER,
   which the caller sets as it likes */
static void lda_caller(char **name_r, char **home_r)
{
	struct passwd pw, *result = NULL;
	char buf[4096];

	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &result) != 0)
		result = NULL;
	*name_r = result == NULL ? NULL : xstrdup(pw.pw_name);
	if (home_r != NULL)
		*home_r = result == NULL ? NULL : xstrdup(pw.pw_dir);
}

/* lda_system_user - the invoking user (no -d): its passwd name, $HOME
   else its passwd home */
static int lda_system_user(const struct loft_settings *set, const char *home,
			   struct delivery_user **user_r, struct outcome *out)
{
	char *user, *pw_home;
	int ret;

	lda_caller(&user, &pw_home);
	if (home == NULL || *home == '\0')
		home = pw_home;
	if (user == NULL) {
		log_error("cannot determine the invoking user (uid %u): "
			  "no passwd entry", (unsigned int)getuid());
		outcome_tempfail(out, "4.3.0", "Temporary user lookup failure");
		return -1;
	}
	ret = delivery_user_system(set, user, home, getuid(), getgid(),
				   user_r, out);
	free(user);
	free(pw_home);
	return ret;
}

/* lda_become_user - as root: check and take the user's uid/gid for good */
static int lda_become_user(const struct loft_settings *set,
			   const struct delivery_user *user, struct outcome *out)
{
	const char *error;

	if (geteuid() != 0) {
		if (user->have_uid && user->uid != geteuid()) {
			log_error("user %s has uid %u but loft-lda runs as uid %u "
				  "and cannot switch (run it as root or as that user)",
				  user->username, (unsigned int)user->uid,
				  (unsigned int)geteuid());
			outcome_tempfail(out, "4.3.0",
					 "Internal error occurred. Refer to server log for more information.");
			return -1;
		}
		return 0;
	}
	if (delivery_user_check_ids(set, user, out) < 0)
		return -1;
	if (privileges_drop(user->uid, user->gid,
			    kvlist_get(&user->fields, "system_groups_user"),
			    &(struct privileges_gid_range) {
				    set->first_valid_gid, set->last_valid_gid },
			    set->mail_privileged_group, &error) < 0) {
		log_error("%s", error);
		outcome_tempfail(out, "4.3.0",
				 "Internal error occurred. Refer to server log for more information.");
		return -1;
	}
	return 0;
}

/* lda_read_message - spool the message from fd; -1 with out on error */
static struct message *lda_read_message(const struct loft_settings *set,
					const char *path, struct outcome *out)
{
	struct message *msg = message_create(set->mail_temp_dir);
	char *buf = xmalloc(LDA_READ_BUFSIZE);
	const char *error = NULL;
	int fd = STDIN_FILENO;
	ssize_t ret;

	/* as dovecot-lda 2.3, loft-lda adds no header: what the MTA
	   prepended (Postfix pipe flags=DRhu, local's mailbox_command) is
	   stored as it came, Return-Path included */
	message_keep_return_path(msg);
	if (path != NULL && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("open(%s) failed: %m", path);
		goto fail;
	}
	for (;;) {
		ret = read(fd, buf, LDA_READ_BUFSIZE);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			log_error("read(%s) failed: %m",
				  path == NULL ? "stdin" : path);
			goto fail;
		}
		if (ret == 0)
			break;
		if (message_append(msg, buf, (size_t)ret, &error) < 0) {
			log_error("spooling the message failed: %s", error);
			goto fail;
		}
	}
	if (message_finish(msg, &error) < 0) {
		log_error("spooling the message failed: %s", error);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return msg;
fail:
	if (fd != STDIN_FILENO && fd >= 0)
		close(fd);
	free(buf);
	message_free(&msg);
	outcome_tempfail(out, "4.3.0", "Temporary failure reading the message");
	return NULL;
}

/* lda_sender - -f, else the mbox From_ line; "" for the null sender,
   NULL when unknown */
static char *lda_sender(const char *opt, const struct message *msg)
{
	const char *sender = opt != NULL ? opt : message_mbox_sender(msg);
	size_t len;

	if (sender == NULL)
		return NULL;
	len = strlen(sender);
	if (len >= 2 && sender[0] == '<' && sender[len - 1] == '>')
		return xstrndup(sender + 1, len - 2);
	return xstrdup(sender);
}

/* lda_orig_rcpt - -a, else the header lda_original_recipient_header
   names, else the user's address (dovecot-lda's order) */
static char *lda_orig_rcpt(const struct loft_settings *set,
			   const struct lda_options *opts,
			   const struct message *msg, const char *final)
{
	const char *value = opts->orig_rcpt;

	if (value == NULL && *set->lda_original_recipient_header != '\0')
		value = message_header(msg, set->lda_original_recipient_header);
	if (value == NULL)
		return xstrdup(final);
	size_t len = strlen(value);
	if (len >= 2 && value[0] == '<' && value[len - 1] == '>')
		return xstrndup(value + 1, len - 2);
	return xstrdup(value);
}

/* lda_clear_env - keep only TZ; capture HOME first */
static void lda_clear_env(char **home_r)
{
	const char *home = getenv("HOME");
	const char *tz = getenv("TZ");
	char *tz_copy = tz == NULL ? NULL : xstrdup(tz);

	*home_r = home == NULL ? NULL : xstrdup(home);
	clearenv();
	if (tz_copy != NULL) {
		setenv("TZ", tz_copy, 1);
		free(tz_copy);
	}
}

/* lda_fail_recorded - a run that ends before delivery_deliver (the user
   unknown or not found, the ids not taken, the message unread) still ends
   a recipient's chance: its outcome is logged, journaled and counted as
   a delivery's is, then told as the exit code */
static void LOFT_ATTR_NORETURN
lda_fail_recorded(const struct loft_settings *set,
		  const struct lda_options *opts, const char *user,
		  struct delivery_request *req, const struct outcome *out)
{
	/* dovecot-lda's recipients: -a (else the user), and -r, else that */
	req->orig_rcpt = opts->orig_rcpt != NULL ? opts->orig_rcpt :
		opts->user != NULL ? opts->user : user;
	req->rcpt = opts->final_rcpt != NULL ? opts->final_rcpt : req->orig_rcpt;
	req->envelope_sender = opts->sender;
	req->user = user;
	delivery_log(set, req, NULL, NULL, 0, 0, out, out->text);
	lda_exit(out);
}

int main(int argc, char **argv)
{
	struct lda_options opts;
	struct loft_settings set;
	struct delivery_user *user = NULL;
	struct delivery_request req;
	struct message *msg;
	struct outcome out;
	char *caller, *env_home, *sender, *orig_rcpt, *final_rcpt;
	bool setuid_caller = geteuid() == 0 && getuid() != 0;
	uint64_t start = clock_monotonic_usecs();

	/* a file size limit (RLIMIT_FSIZE) must fail the write, not kill us */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_init("lda");
	/* the Sieve plugin's plugin { } settings are checked with the file */
	config_set_plugin_check("sieve", sieve_settings_check);
	userdb_set_service("lda");
	lda_parse_args(argc, argv, &opts);
	lda_stderr_reason = opts.stderr_reason;
	/* Postfix reads the status code at the start of the output: log
	   lines that go to stderr wait until lda_exit has printed it */
	if (lda_stderr_reason)
		log_hold_stderr();

	if (setuid_caller) {
		/* the caller's own config, settings or message file are not
		   read with root's rights: the caller gets no root at all
		   and goes on with what its own uid may do, as dovecot-lda */
		if (opts.config_given || opts.override_count > 0 ||
		    opts.path != NULL)
			lda_drop_to_caller();
		opts.keep_env = false;
	}
	env_home = NULL;
	if (!opts.keep_env)
		lda_clear_env(&env_home);
	else if (getenv("HOME") != NULL)
		env_home = xstrdup(getenv("HOME"));
	if (opts.user == NULL && geteuid() == 0 && getuid() == 0)
		lda_fail_usage("destination user parameter (-d user) not given");

	lda_load_settings(&opts, &set);
	log_configure_from(&set);
	session_id_generate(lda_session_id);
	log_set_session(lda_session_id);
	lda_caller(&caller, NULL);
	lda_stats_start(&set, opts.user != NULL ? opts.user : caller);
	free(caller);

	memset(&req, 0, sizeof(req));
	req.protocol = "lda";
	req.session_id = lda_session_id;
	req.start_mono_usecs = start;
	/* who this run is: loft-stats takes a delivery from a loft-lda that
	   is not root only for its own uid, so an outcome before the user
	   is known says the uid that connected */
	req.have_uid = true;
	req.uid = geteuid();

	if (opts.user != NULL) {
		log_set_user(opts.user);
		if (delivery_user_lookup(&set, opts.user, &user, &out) <= 0)
			lda_fail_recorded(&set, &opts, opts.user, &req, &out);
	} else if (lda_system_user(&set, env_home, &user, &out) < 0) {
		char who[32];

		/* the invoking user; without a passwd entry, its uid */
		lda_caller(&caller, NULL);
		snprintf(who, sizeof(who), "uid %u", (unsigned int)getuid());
		lda_fail_recorded(&set, &opts, caller != NULL ? caller : who,
				  &req, &out);
	}
	log_set_user(user->username);
	if (lda_become_user(&set, user, &out) < 0)
		lda_fail_recorded(&set, &opts, user->username, &req, &out);
	/* the mail is stored as the uid we run as now */
	req.uid = geteuid();

	msg = lda_read_message(&set, opts.path, &out);
	if (msg == NULL)
		lda_fail_recorded(&set, &opts, user->username, &req, &out);

	sender = lda_sender(opts.sender, msg);
	/* dovecot-lda: the final recipient is -r, else the original one */
	orig_rcpt = lda_orig_rcpt(&set, &opts, msg, opts.user != NULL ?
				  opts.user : user->username);
	final_rcpt = xstrdup(opts.final_rcpt != NULL ? opts.final_rcpt :
			     orig_rcpt);

	req.envelope_sender = sender;
	req.user = user->username;
	req.rcpt = final_rcpt;
	req.orig_rcpt = orig_rcpt;
	req.mailbox = opts.mailbox;
	req.autocreate = set.lda_mailbox_autocreate;
	req.autosubscribe = set.lda_mailbox_autosubscribe;
	req.fallback_to_inbox = true;
	/* without -e a Sieve reject is answered with a rejection mail and
	   exit 0, as dovecot-lda does */
	req.reject_by_mail = !opts.stderr_reason;
	/* no Return-Path, no Delivered-To: dovecot-lda 2.3 adds neither in
	   any mode (-d or not, -a, -r, -f, lda_original_recipient_header);
	   the envelope sender still makes mbox's From_ line */
	delivery_deliver(&set, user, &req, msg, &out, NULL);

	message_free(&msg);
	free(sender);
	free(final_rcpt);
	free(orig_rcpt);
	free(env_home);
	free(opts.overrides);
	delivery_user_free(&user);
	settings_free(&set);
	lda_exit(&out);
}
