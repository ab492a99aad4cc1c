/*
 * http_client - a small HTTP/1.1 client for loft's own HTTP API (loftadm
 * asking other hosts' loft-stats, `loftadm -H`): one request per
 * connection (`Connection: close`), plain HTTP, with one deadline over
 * connect, write and read. The parsers are separate from the socket so
 * that they can be tested and fuzzed on bytes: http_url_parse reads an
 * operator's host name or URL, http_response_parse what a peer sends
 * (which may be anything: a broken host, or not loft at all).
 */
#ifndef LOFT_HTTP_CLIENT_H
#define LOFT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* The HTTP API's port when a fleet host or -H names none (the port of
   the documented `inet_listener http`). */
#define HTTP_API_DEFAULT_PORT 9190

/* Largest response header block and body accepted. */
#define HTTP_RESPONSE_MAX_HEADER (64 * 1024)
#define HTTP_RESPONSE_MAX_BODY (64 * 1024 * 1024)

struct http_url {
	char host[256];		/* name or address, IPv6 without brackets */
	unsigned int port;
};

/* http_url_parse - "http://HOST[:PORT][/]", "HOST[:PORT]", "[V6]:PORT"
   or "[V6]"; a missing port is default_port. 0, or -1 with *error_r
   (https, a path, a user part, a bad port). */
int http_url_parse(const char *text, unsigned int default_port,
		   struct http_url *url_r, const char **error_r);

/* http_url_host_header - the Host header value for url ("[::1]:9190") */
void http_url_host_header(const struct http_url *url, struct strbuf *out);

/* http_query_append - "&key=value" ("?" for the first) with value
   percent-encoded, appended to a path */
void http_query_append(struct strbuf *path, const char *key,
		       const char *value);

struct http_response {
	unsigned int status;	/* 200..599 */
	char *body;		/* decoded (chunked), NUL-terminated, xmalloc'ed */
	size_t body_len;
};

/* http_response_parse - one response from buf[0..len); eof: the peer
   closed after len bytes. 1 with *resp_r filled (free with
   http_response_free), 0 when more bytes are needed (never when eof), or
   -1 with *error_r when buf cannot be (the start of) a response. Informational
   (1xx) responses before it are skipped. */
int http_response_parse(const char *buf, size_t len, bool eof,
			struct http_response *resp_r, const char **error_r);
void http_response_free(struct http_response *resp);

struct http_request {
	const char *method;	/* "GET", "POST" */
	const char *path;	/* with its query, already encoded */
	const char *bearer;	/* Authorization: Bearer KEY, or NULL */
	const char *body;	/* JSON, or NULL */
};

/* http_client_call - connect to url, send req, read the response; all
   within timeout_msecs. 0 with *resp_r, or -1 with *error_r (valid until
   this thread's next http_client error). */
int http_client_call(const struct http_url *url, const struct http_request *req,
		     unsigned int timeout_msecs, struct http_response *resp_r,
		     const char **error_r);

#endif
