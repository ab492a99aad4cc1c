/*
 * lmtp_xclient - Postfix's XCLIENT command as Dovecot's LMTP uses it
 * between a proxy and its backends: "XCLIENT ADDR=192.0.2.1 PORT=4711
 * SESSION=<id> TTL=4" says who the original client is, which session id
 * the backend should take, and how many more proxy hops are allowed.
 *
 * Values are xtext (RFC 3461: "+HH" for '+', '=', space and controls);
 * "[UNAVAILABLE]" and "[TEMPUNAVAIL]" mean "not known". The parser reads
 * peer bytes and is strict and bounded: ADDR an IPv4 or IPv6 address
 * (optionally "IPV6:"-prefixed), PORT 1..65535, TTL a number, SESSION 1
 * to SESSION_ID_BUFSIZE-1 characters of [A-Za-z0-9+/:]. Other attributes
 * (PROTO, HELO, LOGIN, TIMEOUT, FORWARD, ...) are skipped, as Dovecot
 * skips those it does not use. Who may send it is the session's business
 * (login_trusted_networks).
 */
#ifndef LOFT_LMTP_XCLIENT_H
#define LOFT_LMTP_XCLIENT_H

#include <stdbool.h>

#include "session_id.h"

/* the attributes loft understands, as a mask (what a server offers) */
#define LMTP_XCLIENT_ADDR 0x01
#define LMTP_XCLIENT_PORT 0x02
#define LMTP_XCLIENT_TTL 0x04
#define LMTP_XCLIENT_SESSION 0x08
/* what loft-lmtp advertises in LHLO to trusted clients */
#define LMTP_XCLIENT_CAPABILITY "XCLIENT ADDR PORT SESSION TTL"

struct lmtp_xclient {
	unsigned int given;		/* LMTP_XCLIENT_* that were set */
	char addr[64];			/* numeric IPv4/IPv6 */
	unsigned int port;
	unsigned int ttl;
	char session[SESSION_ID_BUFSIZE];
};

/* lmtp_xclient_parse - params (the text after "XCLIENT ") into *xc_r;
   0, or -1 with *error_r, the text of a 501 5.5.4 reply ("Invalid ADDR
   parameter") */
int lmtp_xclient_parse(const char *params, struct lmtp_xclient *xc_r,
		       const char **error_r);

/* lmtp_xclient_format - "XCLIENT ..." (xmalloc'ed) with the attributes of
   xc that are given and in offered (a mask), or NULL when none is */
char *lmtp_xclient_format(const struct lmtp_xclient *xc, unsigned int offered);

/* lmtp_xclient_offered - the mask of attribute names in an LHLO
   capability line's text ("XCLIENT ADDR PORT ..."); 0 for other lines.
   A bare "XCLIENT" offers nothing, as Dovecot's client reads it. */
unsigned int lmtp_xclient_offered(const char *text, unsigned int len);

#endif
