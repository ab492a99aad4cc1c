/*
 * privileges - switching to the recipient's identity.
 *
 * The only place loft changes uid/gid for mail access. The LDA drops for
 * good before it reads the message; the mail_privileged_group is kept as
 * the saved set-group-ID so mbox dotlocks in /var/mail can still be made.
 * The LMTP service instead switches one worker thread at a time, only while
 * it writes the mailbox.
 */
#ifndef LOFT_PRIVILEGES_H
#define LOFT_PRIVILEGES_H

#include <sys/types.h>

/* The gids a user may receive mail with: first_valid_gid..last_valid_gid
   (last 0: no upper limit). */
struct privileges_gid_range {
	unsigned int first, last;
};

/* privileges_drop - become uid/gid permanently; supplementary groups are
   cleared, or set from system_groups_user when non-NULL, keeping only the
   groups inside range (as Dovecot drops the others). privileged_group
   ("" or NULL for none) stays the saved gid. 0, or -1 with *error_r. */
int privileges_drop(uid_t uid, gid_t gid, const char *system_groups_user,
		    const struct privileges_gid_range *range,
		    const char *privileged_group, const char **error_r);

/* privileges_drop_to_caller - a set-user-ID (or -group-ID) program gives
   up what it was given: real, effective and saved uid and gid all become
   the caller's real ones; the caller's supplementary groups stay. 0, or -1
   with *error_r. */
int privileges_drop_to_caller(const char **error_r);

/* privileges_thread_assume - THIS THREAD ONLY takes uid/gid (and gid as
   its only supplementary group) as effective ids, with raw syscalls (glibc
   would apply them to every thread). The process must run as root; the
   real and saved ids stay root so privileges_thread_restore() can return.
   Used by the LMTP service for the moment a mailbox is written. */
/* saved_gid is kept as the thread's saved set-group-ID, so mbox dotlocks
   can briefly take mail_privileged_group (pass gid when there is none). */
int privileges_thread_assume(uid_t uid, gid_t gid, gid_t saved_gid,
			     const char **error_r);
/* privileges_thread_restore - back to root on this thread */
int privileges_thread_restore(const char **error_r);

#endif
