/*
 * admin_deliver_test - `loftadm deliver-test USER`: the one-step "is
 * delivery working" check. Sends a small message with a unique Message-ID
 * to USER through the running LMTP service (found from the config's
 * `service lmtp` listeners), prints the LMTP conversation, then looks the
 * Message-ID up in loft-stats' delivery journal and prints the entry.
 */
#ifndef LOFT_ADMIN_DELIVER_TEST_H
#define LOFT_ADMIN_DELIVER_TEST_H

#include <stddef.h>

struct admin_context;

/* admin_deliver_test_run - args[0] is the recipient; exit code 0 saved,
   67 unknown user, 75 tempfail or LMTP unreachable, 77 other permanent
   refusals */
int admin_deliver_test_run(const struct admin_context *ctx, char **args,
			   size_t count);

#endif
