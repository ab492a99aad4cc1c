/*
 * admin_user - `loftadm user USER`: the userdb lookup loft-lmtp would make
 * for USER, done locally with the config's userdb blocks, printed as the
 * resolved identity (uid, gid, home, mail location, the INBOX path loft
 * delivers to, whether the ids pass first_valid_uid and friends) and every
 * userdb field after variable expansion.
 */
#ifndef LOFT_ADMIN_USER_H
#define LOFT_ADMIN_USER_H

#include <stddef.h>

struct admin_context;

/* admin_user_run - args[0] is the user; exit code 0, 67 no such user,
   75 userdb or config failure */
int admin_user_run(const struct admin_context *ctx, char **args, size_t count);

#endif
