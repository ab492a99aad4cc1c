/*
 * auth_proto - Dovecot's auth-master ("auth-userdb") line protocol, as
 * spoken on base_dir/auth-userdb by Dovecot 2.x and by loft-auth: the
 * codec only, no I/O. loft-auth parses requests and formats replies with
 * it; the `auth` userdb driver formats requests and parses replies.
 *
 *   server: VERSION TAB 1 TAB 0      then  SPID TAB <pid>
 *   client: VERSION TAB 1 TAB 0
 *   client: USER TAB <id> TAB <user> [TAB service=lda ...]
 *   server: USER TAB <id> TAB <user> TAB uid=... TAB home=...
 *         | NOTFOUND TAB <id>
 *         | FAIL TAB <id> [TAB reason=...]
 *   client: LIST TAB <id> [TAB user=<mask>] [TAB service=...]
 *   server: LIST TAB <id> TAB <user> (repeated)  then  DONE TAB <id> [TAB fail]
 *   client: PASS TAB <id> TAB <user> ...   (passdb; loft-auth answers FAIL)
 *
 * Lines end with LF. Values use Dovecot's tab-escaping: \001 followed by
 * '1' (\001), 't' (TAB), 'r' (CR), 'l' (LF) or '0' (NUL, refused here).
 * A field without '=' is a boolean whose value is the empty string.
 * Parsers never read past len, refuse NUL bytes and return -1 with an
 * error (for the log) on anything they do not understand.
 */
#ifndef LOFT_AUTH_PROTO_H
#define LOFT_AUTH_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "kvlist.h"
#include "strbuf.h"

#define AUTH_PROTO_MAJOR 1
#define AUTH_PROTO_MINOR 0
/* longest request line loft-auth accepts (without the LF); a peer that
   sends more is disconnected */
#define AUTH_PROTO_MAX_REQUEST 4096
/* longest reply line the client accepts */
#define AUTH_PROTO_MAX_REPLY 65536

/* auth_proto_escape - append str tab-escaped */
void auth_proto_escape(struct strbuf *out, const char *str);

enum auth_proto_request_cmd {
	AUTH_PROTO_REQ_VERSION,
	AUTH_PROTO_REQ_USER,
	AUTH_PROTO_REQ_LIST,
	AUTH_PROTO_REQ_PASS,
};

struct auth_proto_request {
	enum auth_proto_request_cmd cmd;
	unsigned int major, minor;	/* VERSION */
	unsigned int id;		/* USER, LIST, PASS */
	char *user;		/* USER, PASS: the name; LIST: user= mask or NULL */
	char *service;		/* service= parameter, or NULL */
};

/* auth_proto_request_parse - one request line (without its LF). 0 with
   *req_r filled (free with auth_proto_request_free), or -1 with *error_r
   and nothing allocated. */
int auth_proto_request_parse(const char *line, size_t len,
			     struct auth_proto_request *req_r,
			     const char **error_r);
void auth_proto_request_free(struct auth_proto_request *req);

enum auth_proto_reply_kind {
	AUTH_PROTO_REPLY_VERSION,
	AUTH_PROTO_REPLY_SPID,
	AUTH_PROTO_REPLY_USER,
	AUTH_PROTO_REPLY_NOTFOUND,
	AUTH_PROTO_REPLY_FAIL,
	AUTH_PROTO_REPLY_LIST,
	AUTH_PROTO_REPLY_DONE,
};

struct auth_proto_reply {
	enum auth_proto_reply_kind kind;
	unsigned int major, minor;	/* VERSION */
	unsigned int id;		/* all but VERSION and SPID */
	char *user;		/* USER, LIST */
	struct kvlist fields;	/* USER: key=value fields, in order */
	char *reason;		/* FAIL: reason=, or NULL */
	bool failed;		/* DONE: the iteration failed */
};

/* auth_proto_reply_parse - one reply line (without its LF). 0 with
   *reply_r filled (free with auth_proto_reply_free), or -1 with *error_r
   and nothing allocated. */
int auth_proto_reply_parse(const char *line, size_t len,
			   struct auth_proto_reply *reply_r,
			   const char **error_r);
void auth_proto_reply_free(struct auth_proto_reply *reply);

/* Server replies, each one line with its LF appended to out. */
void auth_proto_format_handshake(struct strbuf *out, unsigned int pid);
/* fields with an empty value are written as a bare key */
void auth_proto_format_user(struct strbuf *out, unsigned int id,
			    const char *user, const struct kvlist *fields);
void auth_proto_format_notfound(struct strbuf *out, unsigned int id);
/* reason may be NULL */
void auth_proto_format_fail(struct strbuf *out, unsigned int id,
			    const char *reason);
void auth_proto_format_list(struct strbuf *out, unsigned int id,
			    const char *user);
void auth_proto_format_done(struct strbuf *out, unsigned int id, bool failed);

/* Client requests. */
void auth_proto_format_version(struct strbuf *out);
/* auth_proto_format_user_request - USER with service= (may be NULL) */
void auth_proto_format_user_request(struct strbuf *out, unsigned int id,
				    const char *user, const char *service);

#endif
