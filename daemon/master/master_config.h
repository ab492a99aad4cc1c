/*
 * master_config - the configuration as loftd sees it: the file is read
 * once, parsed without a protocol (the master's own view) and once per
 * protocol (what an lmtp or lda service gets in its snapshot), every view
 * validated, the built-in services added, every service's effective user
 * filled in (internal services default to default_internal_user) and
 * checked, and the sealed snapshot memfds
 * made from those views on demand. A failure anywhere is one
 * "FILE:LINE: message" string, so `--check`, start-up and SIGHUP report
 * the same thing.
 */
#ifndef MASTER_CONFIG_H
#define MASTER_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "settings.h"

/* The executables of the built-in services (see master_config_argv) */
#define MASTER_LMTP_EXECUTABLE "loft-lmtp"
#define MASTER_STATS_EXECUTABLE "loft-stats"
#define MASTER_AUTH_EXECUTABLE "loft-auth"

enum master_config_view {
	MASTER_CONFIG_VIEW_GLOBAL,	/* protocol NULL */
	MASTER_CONFIG_VIEW_LMTP,
	MASTER_CONFIG_VIEW_LDA,
	MASTER_CONFIG_VIEW_COUNT
};

struct master_config {
	char *path;
	/* what the file said, without built-in services: for `loftd -n` */
	struct loft_settings file_set;
	/* each view with the built-in services added; [GLOBAL] is the
	   master's settings */
	struct loft_settings views[MASTER_CONFIG_VIEW_COUNT];
	int snapshot_fds[MASTER_CONFIG_VIEW_COUNT]; /* -1 until made */
};

/* master_config_load - read path once and parse/validate every view;
   0 with *config_r, or -1 with *error_r ("FILE:LINE: message", valid
   until the next call) */
int master_config_load(const char *path, struct master_config **config_r,
		       const char **error_r);
void master_config_free(struct master_config **config);
/* master_config_warn - log (warning) what the file says that works but
   is likely not what was meant: a listener mode without a leading 0
   (decimal, as in Dovecot). Called once the log is set up: by --check,
   at start-up and after a reload. */
void master_config_warn(const struct master_config *config);

/* master_config_not_used - the Dovecot settings and sections the file
   has that loft does not use, from every view ("auth_mechanisms" ->
   "FILE:LINE", in file order) */
const struct kvlist *master_config_not_used(const struct master_config *config);
/* master_config_print_not_used - one "FILE:LINE: NAME: not used by loft"
   line each (loftd --check); with comment, as "# " comment lines (-n) */
void master_config_print_not_used(const struct master_config *config,
				  FILE *out, bool comment);
/* master_config_log_not_used - the same as one info log line, when
   there is any */
void master_config_log_not_used(const struct master_config *config);

/* master_config_settings - the master's settings (global view) */
const struct loft_settings *
master_config_settings(const struct master_config *config);

/* master_config_service_view - which view svc's processes get: its
   `protocol`, or its name when that is "lmtp"/"lda", else global */
enum master_config_view
master_config_service_view(const struct service_settings *svc);

/* master_config_service_settings - the settings of svc's view (what its
   snapshot holds) */
const struct loft_settings *
master_config_service_settings(const struct master_config *config,
			       const struct service_settings *svc);

/* master_config_service_enabled - false when svc names a protocol that is
   not in `protocols` (Dovecot's rule: such a service is not started) */
bool master_config_service_enabled(const struct master_config *config,
				   const struct service_settings *svc);

/* master_config_snapshot - the sealed snapshot memfd of svc's view (owned
   by config, created on first use); fd or -1 with *error_r */
int master_config_snapshot(struct master_config *config,
			   const struct service_settings *svc,
			   const char **error_r);

/* master_config_argv - svc's executable split on spaces into a
   NULL-terminated argv (xmalloc'ed, free with master_config_argv_free);
   a relative argv[0] is relative to base_dir, except loft's own programs
   (a bare loft-* name, or Dovecot's names lmtp, stats, log and auth for
   loft-lmtp, loft-stats, loft-log and loft-auth), which are found in the
   services' directory: /usr/lib/loft for an installed loftd, loftd's own
   directory otherwise (build/bin) */
char **master_config_argv(const struct loft_settings *set,
			  const struct service_settings *svc);
void master_config_argv_free(char ***argv);

/* master_config_service_listen - the addresses svc's inet listeners
   without an address bind: `listen`, but loopback for the stats service
   (its HTTP API stays local unless an address is given) */
const char *master_config_service_listen(const struct loft_settings *set,
					 const struct service_settings *svc);

/* master_config_is_loft_program - whether executable is one of loft's
   own service programs (they understand SIGUSR2 as "retired by a
   reload") */
bool master_config_is_loft_program(const char *executable);

/* master_config_check_executable - loftd can start svc from executable:
   it exists and, with drop_priv_before_exec, the service's user can reach
   and execute it. 0, or -1 with *error_r ("FILE:LINE: service(NAME):
   user=U can't execute PATH ...: DIR is mode 0700 ...") */
int master_config_check_executable(const struct master_config *config,
				   const struct service_settings *svc,
				   const char *executable, const char **error_r);
/* master_config_check_executables - the same for every enabled service
   (`loftd --check`) */
int master_config_check_executables(const struct master_config *config,
				    const char **error_r);

#endif
