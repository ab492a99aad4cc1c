/*
 * lmtp_private - what the LMTP session, transaction and server modules
 * share inside daemon/lmtp. Nothing outside this folder includes it.
 */
#ifndef LOFT_LMTP_PRIVATE_H
#define LOFT_LMTP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "delivery.h"
#include "evloop.h"
#include "lmtp_command.h"
#include "lmtp_data.h"
#include "lmtp_proxy.h"
#include "lmtp_server.h"
#include "lmtp_stats.h"
#include "message.h"
#include "outcome.h"
#include "session_id.h"
#include "settings.h"
#include "strbuf.h"
#include "tls.h"
#include "workpool.h"

/* Longest command line accepted, CRLF excluded: a 4-letter verb, a space
   and 4096 bytes (what Dovecot accepts). */
#define LMTP_MAX_LINE 4101
#define LMTP_MAX_INVALID_COMMANDS 10
#define LMTP_READ_SIZE 65536
/* stop reading a client that does not read its replies */
#define LMTP_MAX_OUTPUT (1024 * 1024)

struct lmtp_server {
	struct evloop *loop;
	const struct loft_settings *set;
	struct workpool *pool;
	char hostname[256];
	struct lmtp_listener *listeners;
	struct lmtp_session *sessions;	/* doubly linked */
	unsigned int session_count;
	unsigned int client_limit;
	bool accepting_paused;
	bool shutting_down, shutdown_now;
	struct lmtp_stats *stats;
	lmtp_server_idle_callback_t *idle_cb;
	void *idle_context;
	struct tls_server *tls;		/* NULL: ssl = no */
	bool tls_required;		/* ssl = required */
	/* handshake failures logged in the current minute, and not */
	uint64_t tls_log_window_msecs;
	unsigned int tls_log_count, tls_log_suppressed;
};

struct lmtp_recipient {
	char *address;		/* as given in RCPT TO, for replies */
	char *orcpt;		/* ORCPT address or NULL */
	char *detail;		/* +detail part or NULL */
	char id[SESSION_ID_BUFSIZE + 16]; /* id in the reply and logs */
	struct delivery_user *user;
	int duplicate_of;	/* index of the identical recipient, or -1 */
	bool proxied;		/* relayed to a backend (lmtp_proxy.h) */
	char *backend;		/* proxied: "host:port" */
	struct lmtp_proxy_answer backend_answer; /* proxied: its last */
	struct outcome outcome;	/* set by the delivery job */
};

struct lmtp_transaction {
	unsigned int number;	/* 1-based within the session */
	char id[SESSION_ID_BUFSIZE + 8];
	char *mail_from;	/* "" = null sender */
	struct lmtp_recipient *rcpts;
	size_t rcpt_count, rcpt_cap;
	unsigned int rcpt_commands; /* every RCPT, accepted or not (:Rn) */
	struct message *msg;
	uint64_t data_size;
	bool too_big;		/* over lmtp_max_message_size: read, not kept */
	bool spool_failed;	/* the spool could not take the data */
	bool bdat_started;
	uint64_t start_mono_usecs;	/* MAIL FROM, for durations */
	struct lmtp_proxy *proxy;	/* lmtp_proxy = yes: the backends */
};

enum lmtp_session_state {
	LMTP_STATE_COMMAND,
	LMTP_STATE_DATA,	/* receiving DATA */
	LMTP_STATE_BDAT,	/* receiving a chunk */
	LMTP_STATE_WAIT,	/* a job runs on the workpool */
};

struct lmtp_session {
	struct lmtp_session *prev, *next;
	struct lmtp_server *server;
	char id[SESSION_ID_BUFSIZE];
	/* what transaction ids derive from: id, or the session id an
	   XCLIENT SESSION forwarded (lmtp_transaction.c) */
	char trans_base[SESSION_ID_BUFSIZE];
	int fd_in, fd_out;
	struct evloop_io *io_in, *io_out; /* the same io when fd_in == fd_out */
	struct evloop_timer *idle_timer;
	char peer_ip[64];
	unsigned int peer_port;
	char *lhlo;
	uint64_t start_usecs;		/* wall clock: who's session start */
	uint64_t bytes_in;

	enum lmtp_session_state state;
	struct strbuf in;
	size_t in_pos;
	bool skipping_long_line;
	struct strbuf out;
	size_t out_pos;

	struct lmtp_data_decoder decoder;
	uint64_t bdat_size;	/* the current chunk's declared size */
	uint64_t bdat_remaining;
	bool bdat_last;
	bool bdat_discard;	/* a refused chunk: read and drop its octets */
	char bdat_reply[160];	/* the refusal, sent once they are read */

	struct tls_conn *tls;	/* NULL: plaintext */
	bool tls_handshaking;	/* no LMTP bytes move until it is done */
	bool starttls_pending;	/* 220 sent: TLS starts once it is flushed */
	bool local;		/* UNIX socket, or remote IP = local IP */
	bool trusted;		/* in login_trusted_networks: XCLIENT */
	/* XCLIENT TTL + 1: hops a proxied recipient may still take (0: no
	   TTL received, LMTP_PROXY_DEFAULT_TTL applies) */
	unsigned int proxy_ttl_plus_1;

	unsigned int invalid_commands;
	unsigned int transaction_count;
	struct lmtp_transaction *trans;

	bool input_closed;	/* EOF or error from the client */
	bool quit;		/* close once the output is flushed */
	bool destroyed;		/* freed after the pending job returns */
	bool kicked;		/* end with 421 4.3.2 once no job runs */
	const char *disconnect_reason;
};

/* lmtp_session.c */
/* what lmtp_session_create knows about the connection */
#define LMTP_SESSION_LOCAL 0x01	/* a local peer (ssl = required spares it) */
#define LMTP_SESSION_TLS 0x02	/* TLS from the first byte (ssl = yes listener) */
void lmtp_session_create(struct lmtp_server *server, int fd_in, int fd_out,
			 const char *peer_ip, unsigned int peer_port,
			 unsigned int flags);
void lmtp_session_destroy(struct lmtp_session *session, const char *reason);
void lmtp_session_reply(struct lmtp_session *session, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
/* lmtp_session_resume - a job finished: go on with buffered input */
void lmtp_session_resume(struct lmtp_session *session);
void lmtp_session_shutdown(struct lmtp_session *session, bool now);
/* lmtp_session_kick - `loftadm kick`: 421 4.3.2 after any delivery in
   progress has been answered; data being received is dropped */
void lmtp_session_kick(struct lmtp_session *session);
const char *lmtp_session_state_name(const struct lmtp_session *session);

/* lmtp_transaction.c */
void lmtp_transaction_begin(struct lmtp_session *session, const char *from);
void lmtp_transaction_free(struct lmtp_session *session);
/* lmtp_transaction_abort - the session ends with a reply that is out
   (a 421) while the transaction is open: every accepted recipient is
   recorded with out, as any outcome is, and the transaction ends */
void lmtp_transaction_abort(struct lmtp_session *session,
			    const struct outcome *out);
/* lmtp_transaction_rcpt - look up and accept or refuse, or refuse one
   over lmtp_max_recipients (replies and records itself;
   may go asynchronous: state WAIT until the reply is queued) */
void lmtp_transaction_rcpt(struct lmtp_session *session, const char *address,
			   const char *orcpt);
/* lmtp_transaction_data_append - message bytes as received */
void lmtp_transaction_data_append(struct lmtp_session *session,
				  const void *data, size_t len);
/* lmtp_transaction_data_end - deliver (async) and reply per recipient */
void lmtp_transaction_data_end(struct lmtp_session *session);
unsigned int lmtp_transaction_accepted(const struct lmtp_transaction *trans);

/* lmtp_tls.c */
/* lmtp_tls_begin - start the server side of a TLS handshake (an ssl = yes
   listener's client, or STARTTLS once its 220 is flushed) */
void lmtp_tls_begin(struct lmtp_session *session);
/* lmtp_tls_handshake - go on with the handshake; false when the session
   was destroyed (it failed), else tls_handshaking says whether it goes on */
bool lmtp_tls_handshake(struct lmtp_session *session);
/* lmtp_tls_abandoned - the session ends mid-handshake: count and log */
void lmtp_tls_abandoned(struct lmtp_session *session, const char *reason);
/* lmtp_tls_offered - whether LHLO advertises STARTTLS */
bool lmtp_tls_offered(const struct lmtp_session *session);
void lmtp_tls_cmd_starttls(struct lmtp_session *session, const char *param);
/* lmtp_tls_refusal - "530 5.7.0 TLS required." when ssl = required
   forbids verb before STARTTLS on this connection, else NULL */
const char *lmtp_tls_refusal(const struct lmtp_session *session,
			     enum lmtp_verb verb);

/* lmtp_server.c */
/* lmtp_server_socket_address - numeric address and port of a connected
   socket's peer, or its own local end; "local" for a UNIX socket */
void lmtp_server_socket_address(int fd, bool peer, char *ip, size_t ip_size,
				unsigned int *port_r);
void lmtp_server_session_gone(struct lmtp_server *server,
			      struct lmtp_session *session);

#endif
