/*
 * perm_error - the text of a "Permission denied" on a mail path, worded
 * as Dovecot's eacces_error_get(): who we are and what is missing, so the
 * admin sees at once why a delivery defers:
 *
 *   mkdir(/home/u/Maildir/tmp) failed: Permission denied
 *   (euid=1000(u) egid=1000(u) missing +w perm: /home/u/Maildir,
 *   dir owned by 0:0 mode=0755)
 *
 * It looks at the identity of the calling thread (the LMTP service
 * switches one thread at a time), so it judges by the permission bits,
 * not by access(), when the real uid is not the effective one.
 */
#ifndef LOFT_PERM_ERROR_H
#define LOFT_PERM_ERROR_H

#include <stdbool.h>

struct error_slot;
struct strbuf;

/* perm_error_append - "func(path) failed: Permission denied (...)" onto
   out. creating: func makes path (mkdir, open with O_CREAT, link,
   rename), so path's directory needs +w rather than path itself. errno
   is left as it was. */
void perm_error_append(struct strbuf *out, const char *func, const char *path,
		       bool creating);

/* perm_error_syscall - "func(path) failed: <strerror(errno)>" in slot,
   explained as above when errno is EACCES; the slot's text. errno is
   left as it was. */
const char *perm_error_syscall(struct error_slot *slot, const char *func,
			       const char *path, bool creating);

#endif
