/*
 * service_env - how loftd hands a service process its world.
 *
 * loftd forks and execs each service with:
 *   fd 3                 the config snapshot: a sealed memfd holding the
 *                        validated settings of this generation as config
 *                        text (settings_write, protocol blocks applied)
 *   fd 4                 the status channel: one end of a SOCK_SEQPACKET
 *                        socketpair whose other end only loftd holds, so
 *                        EOF on it means loftd is gone; the child sends
 *                        its status records on it (service_child.h)
 *   fd 5..5+N-1          the service's listeners, in config order
 *   fd 5+N               the log channel (logging/log_remote.h): the
 *                        sending end of loftd's SOCK_SEQPACKET socketpair,
 *                        or for the log service (loft-log) the receiving
 *                        end; its number is in the environment
 *   fd 2                 a pipe loftd reads: each line becomes an error
 *                        line "lmtp<PID>: Error: stderr: ..." (loft-log
 *                        keeps loftd's stderr)
 * and the environment
 *   LOFT_SERVICE=lmtp
 *   LOFT_LISTENERS=inet:lmtps:ssl:haproxy,unix:lmtp
 *                        type:name[:ssl][:haproxy] of fds 5, 6, ...;
 *                        ":ssl" marks a listener whose clients start TLS
 *                        at once (ssl = yes), ":haproxy" one whose
 *                        clients start with a PROXY protocol header
 *                        (before the TLS handshake)
 *   LOFT_LOG_FD=5+N      the log channel; log_init() sends every line
 *                        there (LOFT_LOG_SERVER_FD in loft-log instead)
 * A process started by hand has no LOFT_SERVICE and runs standalone.
 * service_env_read() checks every fd it is told about before use.
 */
#ifndef LOFT_SERVICE_ENV_H
#define LOFT_SERVICE_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"

#define SERVICE_ENV_CONFIG_FD 3
#define SERVICE_ENV_MASTER_FD 4
#define SERVICE_ENV_FIRST_LISTENER_FD 5

struct service_listener {
	int fd;
	enum listener_type type;
	char *name;
	bool haproxy;		/* a PROXY header precedes each client */
	bool ssl;		/* TLS from the first byte (after the header) */
};

struct service_env {
	char *service;
	int config_fd;
	int master_fd;
	struct service_listener *listeners;
	size_t listener_count;
};

/* service_env_read - 1 when started by loftd (env filled), 0 standalone,
   -1 with *error_r when the environment is inconsistent */
int service_env_read(struct service_env *env, const char **error_r);
void service_env_free(struct service_env *env);

/* service_env_load_settings - parse the snapshot on config_fd into set */
int service_env_load_settings(const struct service_env *env,
			      struct loft_settings *set, const char **error_r);

/* service_env_snapshot - master side: write set as config text into a new
   sealed memfd; returns the fd, or -1 with *error_r */
int service_env_snapshot(const struct loft_settings *set, const char **error_r);

/* service_env_listeners_value - master side: the LOFT_LISTENERS value for
   listeners (xmalloc'ed); ssl and haproxy are honoured for inet
   listeners */
char *service_env_listeners_value(const struct listener_settings *listeners,
				  size_t count);

#endif
