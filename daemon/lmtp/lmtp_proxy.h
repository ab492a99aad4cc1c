/*
 * lmtp_proxy - relaying recipients to backend LMTP servers (Dovecot's
 * `lmtp_proxy = yes`): a recipient whose userdb answer has `proxy` and
 * `host=H` (`port=P`, default 24; `destuser=U` to rename it; and
 * `proxy_timeout=SECS`) is sent on to H instead of being delivered here.
 *
 * One lmtp_proxy belongs to one transaction and is used by one worker
 * thread at a time (the session waits for each job): RCPT opens or reuses
 * the connection to the recipient's backend, sends MAIL FROM the first
 * time and RCPT TO, and its reply is the recipient's; DATA streams the
 * spooled message once to each backend that accepted recipients and reads
 * one reply per recipient, in order. The backends store side by side:
 * each gets its copy in turn and starts on it while the next one's is
 * sent, and the replies are read only then. A backend that cannot be reached, is
 * slow or answers garbage costs only its own recipients a 451. Connections
 * whose transaction ended cleanly are kept for reuse by the process (idle
 * ones are closed after LMTP_PROXY_IDLE_SECS).
 *
 * TLS to a backend as Dovecot's proxy: `ssl=yes` (TLS from the start) or
 * `starttls=yes` (STARTTLS after LHLO), the certificate verified against
 * ssl_client_ca_file/ssl_client_ca_dir and the `host` field; the value
 * `any-cert` skips that (as does ssl_client_require_valid_cert = no).
 * Connections are kept and reused per host, port and TLS mode.
 *
 * A backend that offers XCLIENT in LHLO (loft-lmtp does to addresses in
 * its login_trusted_networks) is told, before each transaction, the
 * client's address and port, a session id derived from the proxy's
 * transaction id, and the hops left (TTL), as Dovecot's proxy does.
 */
#ifndef LOFT_LMTP_PROXY_H
#define LOFT_LMTP_PROXY_H

#include <stdbool.h>

#include "delivery.h"
#include "message.h"
#include "outcome.h"

#define LMTP_PROXY_DEFAULT_PORT 24
#define LMTP_PROXY_IDLE_SECS 30
/* proxy hops allowed when the client sent no XCLIENT TTL (Dovecot's) */
#define LMTP_PROXY_DEFAULT_TTL 5

/* a route's TLS (Dovecot's PROXY_SSL_FLAG_*) */
#define LMTP_PROXY_TLS 0x01		/* ssl or starttls */
#define LMTP_PROXY_STARTTLS 0x02	/* starttls: after LHLO */
#define LMTP_PROXY_ANY_CERT 0x04	/* any-cert: no verification */

struct lmtp_proxy_route {
	char *host;
	unsigned int port;
	unsigned int tls;		/* LMTP_PROXY_* */
	char *destuser;		/* the recipient at the backend, or NULL */
	unsigned int timeout_msecs;
};

/* lmtp_proxy_route_get - whether user's fields ask for proxying; then
   *route_r is filled (free with lmtp_proxy_route_free). A proxy field
   without a usable host or port is a temporary failure: -1 with *error_r */
int lmtp_proxy_route_get(const struct delivery_user *user,
			 unsigned int default_timeout_msecs,
			 struct lmtp_proxy_route *route_r,
			 const char **error_r);
void lmtp_proxy_route_free(struct lmtp_proxy_route *route);

struct lmtp_proxy;
struct tls_client;

/* lmtp_proxy_set_tls - the process's TLS context for backends (owned
   from now on); NULL with error: why there is none, and TLS routes get a
   451 naming it */
void lmtp_proxy_set_tls(struct tls_client *client, const char *error);

/* what the proxy forwards with XCLIENT to backends that offer it */
struct lmtp_proxy_origin {
	const char *client_ip;	/* numeric, or NULL (a UNIX socket) */
	unsigned int client_port;
	/* the proxy's transaction id: backend n (1-based, in the order of
	   first use) takes "<trans_id>:P<n>" as its session id */
	const char *trans_id;
	unsigned int ttl;	/* hops left after this one */
	/* the address and port the client connected to (NULL: a UNIX
	   socket): a route there loops to this very server */
	const char *local_ip;
	unsigned int local_port;
};

struct lmtp_proxy *lmtp_proxy_create(const char *mail_from,
				      const char *lhlo_name,
				      const struct lmtp_proxy_origin *origin);
/* lmtp_proxy_free - keep clean connections for reuse, close the rest
   (and pooled ones idle for LMTP_PROXY_IDLE_SECS) */
void lmtp_proxy_free(struct lmtp_proxy **proxy);

/* whether a backend gave a recipient's reply, and how long it took: the
   RCPT TO command for a refused recipient, from the DATA command to the
   recipient's reply (the message streamed included) for an accepted one */
struct lmtp_proxy_answer {
	bool answered;		/* false: a 451 of the proxy's own */
	double seconds;		/* answered only */
};

/* lmtp_proxy_rcpt - RCPT TO address (as the backend should see it) at
   route's backend for the transaction's recipient number index; *out is
   the backend's answer (answer_r->answered), or a 451 when it cannot give
   one. Returns whether the backend accepted the recipient. */
bool lmtp_proxy_rcpt(struct lmtp_proxy *proxy,
		     const struct lmtp_proxy_route *route, size_t index,
		     const char *address, struct outcome *out,
		     struct lmtp_proxy_answer *answer_r);

/* lmtp_proxy_data - the message (with prefix, e.g. a Received: header,
   LF endings) to every backend; outs[index] of each proxied recipient
   gets its backend's reply (answers[index].answered), or a 451 */
void lmtp_proxy_data(struct lmtp_proxy *proxy, struct message *msg,
		     const char *prefix, struct outcome *const *outs,
		     struct lmtp_proxy_answer *answers);

/* lmtp_proxy_route_is_self - whether route leads back to the address and
   port this transaction's client connected to (Dovecot's "Proxying loops
   to itself"; only a numeric host is compared, as Dovecot does) */
bool lmtp_proxy_route_is_self(const struct lmtp_proxy *proxy,
			      const struct lmtp_proxy_route *route);

/* lmtp_proxy_route_name - "host:port" (xmalloc'ed), the backend's name
   in records and metrics */
char *lmtp_proxy_route_name(const struct lmtp_proxy_route *route);

#endif
