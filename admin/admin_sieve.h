/*
 * admin_sieve - `loftadm sieve test USER MESSAGE`: run USER's active Sieve
 * script on a message file without delivering it and print the actions
 * it would take (what Pigeonhole's sieve-test does for an admin asking
 * "why did my mail go to Junk?"). The user comes from the same lookup a
 * delivery makes; the script and its limits from plugin { sieve* } (and
 * userdb sieve* fields, which override them); the script is read and run
 * with the user's uid when loftadm runs as root.
 */
#ifndef LOFT_ADMIN_SIEVE_H
#define LOFT_ADMIN_SIEVE_H

#include <stddef.h>

struct admin_context;

/* admin_sieve_test_run - args: user, message file. Exit code 0 the
   script ran, 1 it failed at run time (the implicit keep is printed),
   65 it does not compile, 66 unreadable message, 67 no such user, 75
   userdb, settings or privilege failure */
int admin_sieve_test_run(const struct admin_context *ctx, char **args,
			 size_t count);

#endif
