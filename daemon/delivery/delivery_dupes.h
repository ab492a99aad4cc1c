/*
 * delivery_dupes - what Sieve remembers between deliveries, in the user's
 * home (~/.loft.sieve-dupes): the vacation replies sent (once per sender
 * per period), the redirects made (a message forwarded to the same
 * address twice is sent once) and the ids the duplicate test tracks.
 * One line per key: "<expiry unix time> <key, %XX-escaped>"; expired
 * lines go whenever the file is written; at most 10000 lines (the ones
 * closest to expiry go first). An flock on the file orders the
 * deliveries of one user. Dovecot keeps the same in ~/.dovecot.lda-dupes,
 * in a binary format of its own: the two do not share it.
 */
#ifndef LOFT_DELIVERY_DUPES_H
#define LOFT_DELIVERY_DUPES_H

#include <time.h>

/* delivery_dupes_seen - 1 when key was marked and has not expired at
   now, 0 when not (also when there is no file), -1 with *error_r */
int delivery_dupes_seen(const char *home, const char *key, time_t now,
			const char **error_r);
/* delivery_dupes_mark - remember key until expires; 0, or -1 with
   *error_r */
int delivery_dupes_mark(const char *home, const char *key, time_t expires,
			time_t now, const char **error_r);

#endif
