/*
 * admin_fleet - `loftadm -H HOST[,HOST...]` and `loftadm --fleet`: a
 * command answered by other hosts' loft-stats over their HTTP API (spec
 * section 7) instead of the local admin socket. The hosts are asked at
 * the same time, each within fleet_timeout; the answers are printed as
 * one, with a first column `host` when more than one host was asked. A
 * host that fails (down, slow, wrong key) gets an error line on stderr
 * and the others still answer; the exit code is then the first failing
 * host's (75 unreachable or a server error, 77 refused credentials, 64
 * a request the host calls bad).
 *
 * Hosts are names of the config's `fleet { NAME = URL }` or URLs
 * (`http://ADDR:PORT`, `ADDR:PORT`, `ADDR`; port 9190 by default). The
 * key is $LOFT_HTTP_API_KEY, else the config's http_api_key: one key
 * for the whole fleet.
 */
#ifndef LOFT_ADMIN_FLEET_H
#define LOFT_ADMIN_FLEET_H

#include <stddef.h>

#include "admin_format.h"
#include "settings.h"

/* The environment variable that overrides http_api_key for -H. */
#define ADMIN_FLEET_KEY_ENV "LOFT_HTTP_API_KEY"

/* How a command is asked over HTTP: GET sends each "--name VALUE"
   option as ?name=VALUE, "-1" as per_session=1 and the positional
   arguments as repeated ?mask=; POST sends {"name": VALUE, ...,
   "mask": [ARGS]}. */
struct admin_fleet_route {
	const char *method;	/* "GET" or "POST" */
	const char *path;	/* "/api/v1/who" */
};

/* What to run on every host: the checked arguments of the command. */
struct admin_fleet_call {
	const char *name;	/* the command's name, for messages */
	const struct admin_fleet_route *route;
	const char *const *options;	/* "-1", or "--name", "VALUE" pairs */
	size_t option_count;
	char *const *positional;
	size_t positional_count;
	const struct admin_view *view;
};

/* The hosts to ask, from main's -H/--fleet. */
struct admin_fleet_target {
	const char *hosts;	/* -H's comma-separated list, or NULL */
	bool all;		/* --fleet: every member of fleet { } */
};

/* admin_fleet_run - run call on the hosts of target; set may be NULL
   (no config read: URLs and $LOFT_HTTP_API_KEY only). Prints the
   answers and the errors; returns loftadm's exit code. */
int admin_fleet_run(const struct loft_settings *set, const char *config_error,
		    const struct admin_fleet_target *target,
		    enum admin_format format, const struct admin_fleet_call *call);

#endif
