/*
 * service_child - what every service process started by loftd shares: the
 * status channel to the master on fd 4, dropping privileges per its
 * `service` block, and the HAProxy PROXY protocol header parser for
 * listeners with `haproxy = yes`; plus the small pieces loftd needs to
 * agree with them (the status record, user/group lookups, which services
 * are internal).
 *
 * Status channel: fd 4 is one end of a SOCK_SEQPACKET socketpair per
 * child; only the master holds the other end, so EOF on it means loftd is
 * gone. The child sends one fixed 16-byte record per change of its session
 * count: {pid, available client slots, connections served so far}, native
 * byte order (both ends run on the same host). Records are rate-limited to
 * one per SERVICE_CHILD_STATUS_INTERVAL_MSECS, except that a change to
 * "no slot available" or "idle" goes out at once; the latest state is
 * always sent eventually. Sending never blocks: a full socket is retried
 * by timer.
 *
 * Privileges: a service calls service_child_drop_privileges() once it has
 * read its snapshot and opened its log files. With drop_priv_before_exec
 * loftd has done it before exec and says so in LOFT_PRIVILEGES_DROPPED;
 * the call then only checks the result.
 */
#ifndef LOFT_SERVICE_CHILD_H
#define LOFT_SERVICE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "settings.h"

struct evloop;

#define SERVICE_CHILD_STATUS_SIZE 16
#define SERVICE_CHILD_STATUS_INTERVAL_MSECS 100
/* set by loftd in a child whose privileges it dropped before exec */
#define SERVICE_CHILD_PRIVILEGES_ENV "LOFT_PRIVILEGES_DROPPED"

/* One status record, as sent on fd 4. */
struct service_child_status {
	uint32_t pid;
	uint32_t available;	/* client slots free for new connections */
	uint64_t served;	/* connections accepted since the start */
};

/* service_child_status_encode - the record's wire form */
void service_child_status_encode(const struct service_child_status *status,
				 unsigned char buf[SERVICE_CHILD_STATUS_SIZE]);
/* service_child_status_decode - 0, or -1 when len is not a record's size */
int service_child_status_decode(const void *buf, size_t len,
				struct service_child_status *status_r);

/* --- the child's end of the channel --- */

struct service_child;
typedef void service_child_master_gone_callback_t(void *context);

/* service_child_create - watch master_fd on loop (cb runs once when loftd
   is gone) and send status records on it */
struct service_child *
service_child_create(struct evloop *loop, int master_fd,
		     service_child_master_gone_callback_t *cb, void *context);
/* service_child_free - the fd is not closed; sets *child = NULL */
void service_child_free(struct service_child **child);
/* service_child_report - the process now has sessions sessions, available
   free slots (0 while it accepts no more) and served connections in all;
   sent at once or within SERVICE_CHILD_STATUS_INTERVAL_MSECS */
void service_child_report(struct service_child *child, unsigned int sessions,
			  unsigned int available, uint64_t served);

/* --- settings --- */

/* service_child_find_service - the service block called name, or NULL */
const struct service_settings *
service_child_find_service(const struct loft_settings *set, const char *name);
/* service_child_client_limit - svc's client_limit, else
   default_client_limit (svc may be NULL) */
unsigned int service_child_client_limit(const struct loft_settings *set,
					const struct service_settings *svc);
/* service_child_vsz_limit - svc's vsz_limit, else default_vsz_limit, in
   bytes (0 = unlimited) */
uint64_t service_child_vsz_limit(const struct loft_settings *set,
				 const struct service_settings *svc);
/* service_child_chroot_path - svc's chroot as a path (relative to
   base_dir unless absolute, as in Dovecot), NULL when it has none;
   free() the result */
char *service_child_chroot_path(const struct loft_settings *set,
				const struct service_settings *svc);
/* service_child_is_internal - whether the built-in service name runs as
   default_internal_user by default and never as root (stats, auth) */
bool service_child_is_internal(const char *service_name);

/* --- privileges --- */

/* service_child_lookup_user - a user name or number: its uid and primary
   gid (*gid_r is (gid_t)-1 for a number without passwd entry). 0, or -1
   with *error_r */
int service_child_lookup_user(const char *user, uid_t *uid_r, gid_t *gid_r,
			      const char **error_r);
/* service_child_lookup_group - a group name or number */
int service_child_lookup_group(const char *group, gid_t *gid_r,
			       const char **error_r);
/* service_child_check_user - what loftd checks at start-up for svc: user,
   group and extra_groups exist, an internal service does not run as
   root. 0, or -1 with *error_r ("service(stats): user=root is not
   allowed") */
int service_child_check_user(const struct service_settings *svc,
			     const char **error_r);

/* service_child_drop_privileges - apply service_name's vsz_limit
   (RLIMIT_AS and RLIMIT_DATA; skipped in an AddressSanitizer build),
   chroot, extra_groups, group and user, and verify root cannot be
   regained. An empty user keeps the process's identity. 0, or -1 with
   *error_r. */
int service_child_drop_privileges(const struct loft_settings *set,
				  const char *service_name,
				  const char **error_r);
/* service_child_check_exec - whether loftd can start svc from path: path
   is executable, and with drop_priv_before_exec (as root) svc's user,
   groups and chroot can reach and execute it (checked in a forked child
   that becomes that user). 0, or -1 with *error_r naming the user and the
   directory that blocks the path. */
int service_child_check_exec(const struct service_settings *svc,
			     const char *path, const char **error_r);
/* descriptors a service keeps besides one per client: config, logs,
   listeners, the stats connection, files of deliveries in progress */
#define SERVICE_CHILD_NOFILE_RESERVE 64u

/* service_child_raise_nofile - raise RLIMIT_NOFILE to client_limit +
   SERVICE_CHILD_NOFILE_RESERVE: the soft limit, and the hard one too when
   allowed (root with CAP_SYS_RESOURCE; call it before dropping
   privileges). 1 raised, 0 already enough, -1 with *error_r when the
   limit stays lower (then it is as high as the hard limit allows, and
   the error says what to change) */
int service_child_raise_nofile(unsigned int client_limit,
			       const char **error_r);

/* service_child_drop_note - after service_child_drop_privileges: a note
   worth a debug line ("vsz_limit not applied: ...") or NULL */
const char *service_child_drop_note(void);

/* --- HAProxy PROXY protocol (service_child_proxy.c) --- */

/* Longest header accepted: v1 is at most 107 bytes; v2 carries a 16-byte
   header and addresses/TLVs, cut off here. */
#define SERVICE_CHILD_PROXY_MAX_SIZE 4096
#define SERVICE_CHILD_PROXY_V1_MAX 107

struct proxy_header {
	unsigned int version;	/* 1 or 2 */
	/* true for v2 LOCAL, v2 UNSPEC and v1 UNKNOWN: keep the address of
	   the connection itself */
	bool local;
	int family;		/* AF_INET, AF_INET6; AF_UNSPEC when local */
	char src_ip[48], dst_ip[48];
	unsigned int src_port, dst_port;
};

/* service_child_proxy_parse - a PROXY header (v1 text or v2 binary) at the
   start of buf: 1 complete (*hdr_r filled, *consumed_r = its length),
   0 buf is a valid beginning but incomplete, -1 invalid (*error_r). Never
   asks for bytes past the header: on 0, every byte of buf is header. */
int service_child_proxy_parse(const unsigned char *buf, size_t len,
			      struct proxy_header *hdr_r, size_t *consumed_r,
			      const char **error_r);

#endif
