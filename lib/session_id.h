/*
 * session_id - the identifier that ties one session's log lines, stats
 * events, journal entries and the LMTP 250 reply together.
 *
 * Like Dovecot's: 16 bytes (time, pid, randomness) in base64 without
 * padding, 22 characters. Transactions and recipients append ":T<n>" and
 * ":R<n>" suffixes; an LMTP proxy's nth backend of a transaction derives
 * its transaction's ids from "<transaction id>:P<n>" (XCLIENT SESSION).
 */
#ifndef LOFT_SESSION_ID_H
#define LOFT_SESSION_ID_H

#include <stddef.h>

#define SESSION_ID_LEN 22
#define SESSION_ID_BUFSIZE 64

/* session_id_generate - write a fresh NUL-terminated id into buf[SESSION_ID_BUFSIZE] */
void session_id_generate(char buf[SESSION_ID_BUFSIZE]);

#endif
