/*
 * admin_sieve - `loftadm sieve test USER MESSAGE`: run the Sieve scripts a
 * delivery to USER runs (sieve_before..., the active script or
 * sieve_default, sieve_after...; delivery_sieve_test, the delivery's own
 * sequence as a dry run) on a message file without delivering it, and
 * print each script with its actions and what the delivery would do (what
 * Pigeonhole's sieve-test does for an admin asking "why did my mail go to
 * Junk?"). The user comes from the same lookup a delivery makes; the
 * scripts and limits from plugin { sieve* } (and userdb sieve* fields,
 * which override them); they are read and run with the user's uid when
 * loftadm runs as root. Nothing is stored, sent or remembered.
 */
#ifndef LOFT_ADMIN_SIEVE_H
#define LOFT_ADMIN_SIEVE_H

#include <stddef.h>

struct admin_context;

/* admin_sieve_test_run - args: user, message file. Exit code 0 the
   scripts ran, 1 one failed at run time (its implicit keep is printed),
   65 one does not compile, 66 unreadable message, 67 no such user, 75
   userdb, settings, unreadable script or privilege failure */
int admin_sieve_test_run(const struct admin_context *ctx, char **args,
			 size_t count);

#endif
