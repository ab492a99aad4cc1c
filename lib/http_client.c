/*
 * http_client - URL and response parsing, and one request per connection
 * over a socket with a deadline (see http_client.h). The response parser
 * reads the whole buffer again on every call (the caller appends what
 * arrived): simple, and cheap for loft's answers, which are small.
 */
#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "net_connect.h"
#include "xalloc.h"

#define HTTP_CLIENT_READ_SIZE 65536
#define HTTP_CHUNK_LINE_MAX 1024
#define HTTP_MAX_INFORMATIONAL 8

static __thread struct error_slot http_client_error;

/* ---- URLs ---- */

/* http_url_port - a decimal port 1..65535 from text[0..len) */
static int http_url_port(const char *text, size_t len, unsigned int *port_r)
{
	unsigned int port = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		port = port * 10 + (unsigned int)(text[i] - '0');
	}
	if (port == 0 || port > 65535)
		return -1;
	*port_r = port;
	return 0;
}

int http_url_parse(const char *text, unsigned int default_port,
		   struct http_url *url_r, const char **error_r)
{
	const char *p = text, *host, *end, *port = NULL;
	size_t host_len, rest;

	memset(url_r, 0, sizeof(*url_r));
	if (strncasecmp(p, "https://", 8) == 0) {
		*error_r = "https is not supported: loft-stats serves plain "
			"HTTP (see loftadm(1), FLEET)";
		return -1;
	}
	if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (strstr(p, "://") != NULL) {
		*error_r = "only http:// URLs are supported";
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (*end != '\0' && strcmp(end, "/") != 0) {
		*error_r = "a URL with a path or query is not supported "
			"(loftadm asks /api/v1/...)";
		return -1;
	}
	if (memchr(p, '@', (size_t)(end - p)) != NULL) {
		*error_r = "a user part in the URL is not supported "
			"(the key comes from http_api_key)";
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (close == NULL) {
			*error_r = "missing ] after an IPv6 address";
			return -1;
		}
		host_len = (size_t)(close - host);
		if (close + 1 < end) {
			if (close[1] != ':') {
				*error_r = "unexpected text after ]";
				return -1;
			}
			port = close + 2;
		}
	} else {
		host = p;
		port = memchr(p, ':', (size_t)(end - p));
		host_len = (size_t)((port != NULL ? port : end) - host);
		if (port != NULL)
			port++;
	}
	if (host_len == 0 || host_len >= sizeof(url_r->host)) {
		*error_r = host_len == 0 ? "no host name" : "host name too long";
		return -1;
	}
	for (size_t i = 0; i < host_len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c <= ' ' || c >= 0x7f || strchr("\"'<>\\`", c) != NULL ||
		    (c == ':' && *p != '[')) {
			*error_r = "invalid character in the host name";
			return -1;
		}
	}
	memcpy(url_r->host, host, host_len);
	url_r->port = default_port;
	rest = port != NULL ? (size_t)(end - port) : 0;
	if (port != NULL && http_url_port(port, rest, &url_r->port) < 0) {
		*error_r = "invalid port (1..65535)";
		return -1;
	}
	return 0;
}

void http_url_host_header(const struct http_url *url, struct strbuf *out)
{
	if (strchr(url->host, ':') != NULL)
		strbuf_appendf(out, "[%s]:%u", url->host, url->port);
	else
		strbuf_appendf(out, "%s:%u", url->host, url->port);
}

void http_query_append(struct strbuf *path, const char *key,
		       const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	strbuf_putc(path, memchr(path->data, '?', path->len) != NULL ? '&' : '?');
	strbuf_append_str(path, key);
	strbuf_putc(path, '=');
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			strbuf_putc(path, (char)*p);
		} else {
			strbuf_putc(path, '%');
			strbuf_putc(path, hex[*p >> 4]);
			strbuf_putc(path, hex[*p & 15]);
		}
	}
}

/* ---- responses ---- */

/* The parts of a header block that decide how the body is read. */
struct http_head {
	unsigned int status;
	size_t end;		/* offset just past the blank line */
	bool chunked;
	bool has_length;
	uint64_t length;
};

/* http_line - the line starting at pos: its length without CR LF in
   *len_r and the offset after it; -1 when no LF within max bytes */
static ssize_t http_line(const char *buf, size_t len, size_t pos, size_t max,
			 size_t *len_r)
{
	size_t avail = len - pos < max ? len - pos : max;
	const char *nl = memchr(buf + pos, '\n', avail);

	if (nl == NULL)
		return -1;
	*len_r = (size_t)(nl - (buf + pos));
	if (*len_r > 0 && buf[pos + *len_r - 1] == '\r')
		(*len_r)--;
	return (ssize_t)(nl - buf) + 1;
}

/* http_fail - *error_r from fmt; returns -1 */
static int http_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int http_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	*error_r = error_slot_vset(&http_client_error, fmt, args);
	va_end(args);
	return -1;
}

/* http_status_line - "HTTP/1.x NNN reason" */
static int http_status_line(const char *line, size_t len, unsigned int *status_r)
{
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
	    (len > 12 && line[12] != ' '))
		return -1;
	*status_r = 0;
	for (size_t i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		*status_r = *status_r * 10 + (unsigned int)(line[i] - '0');
	}
	return *status_r >= 100 && *status_r <= 599 ? 0 : -1;
}

/* http_trimmed - value without leading and trailing blanks */
static void http_trimmed(const char **value, size_t *len)
{
	while (*len > 0 && (**value == ' ' || **value == '\t')) {
		(*value)++;
		(*len)--;
	}
	while (*len > 0 && ((*value)[*len - 1] == ' ' || (*value)[*len - 1] == '\t'))
		(*len)--;
}

/* http_header_field - one "name: value" line into head */
static int http_header_field(const char *line, size_t len,
			     struct http_head *head, const char **error_r)
{
	const char *colon = memchr(line, ':', len), *value;
	size_t name_len, value_len;
	uint64_t length = 0;

	if (line[0] == ' ' || line[0] == '\t')
		return http_fail(error_r, "folded header line");
	if (colon == NULL || colon == line)
		return http_fail(error_r, "malformed header line");
	name_len = (size_t)(colon - line);
	for (size_t i = 0; i < name_len; i++) {
		if ((unsigned char)line[i] <= ' ' || line[i] == 0x7f)
			return http_fail(error_r, "malformed header name");
	}
	value = colon + 1;
	value_len = len - name_len - 1;
	http_trimmed(&value, &value_len);
	if (name_len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		if (value_len != 7 || strncasecmp(value, "chunked", 7) != 0)
			return http_fail(error_r, "unsupported Transfer-Encoding");
		head->chunked = true;
	} else if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		if (value_len == 0 || value_len > 19)
			return http_fail(error_r, "invalid Content-Length");
		for (size_t i = 0; i < value_len; i++) {
			if (value[i] < '0' || value[i] > '9')
				return http_fail(error_r, "invalid Content-Length");
			length = length * 10 + (uint64_t)(value[i] - '0');
		}
		if (head->has_length && head->length != length)
			return http_fail(error_r, "conflicting Content-Length headers");
		head->has_length = true;
		head->length = length;
	}
	return 0;
}

/* http_head_parse - the header block at pos: 1 with *head, 0 more
   needed, -1 error */
static int http_head_parse(const char *buf, size_t len, size_t pos,
			   struct http_head *head, const char **error_r)
{
	size_t line_len, start = pos;
	ssize_t next;

	memset(head, 0, sizeof(*head));
	next = http_line(buf, len, pos, HTTP_RESPONSE_MAX_HEADER, &line_len);
	if (next < 0)
		goto incomplete;
	if (http_status_line(buf + pos, line_len, &head->status) < 0)
		return http_fail(error_r, "not an HTTP/1.x status line");
	pos = (size_t)next;
	for (;;) {
		size_t left = HTTP_RESPONSE_MAX_HEADER - (pos - start);

		next = http_line(buf, len, pos, left, &line_len);
		if (next < 0)
			goto incomplete;
		if (line_len == 0)
			break;
		if (http_header_field(buf + pos, line_len, head, error_r) < 0)
			return -1;
		pos = (size_t)next;
	}
	head->end = (size_t)next;
	return 1;
incomplete:
	if (len - start >= HTTP_RESPONSE_MAX_HEADER)
		return http_fail(error_r, "response header over %d bytes",
				 HTTP_RESPONSE_MAX_HEADER);
	return 0;
}

/* http_hex - a chunk size (hex digits, then ";ext" or blanks) */
static int http_hex(const char *line, size_t len, uint64_t *size_r)
{
	size_t i;

	*size_r = 0;
	for (i = 0; i < len; i++) {
		char c = line[i];
		unsigned int digit;

		if (c >= '0' && c <= '9')
			digit = (unsigned int)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			digit = (unsigned int)((c | 0x20) - 'a' + 10);
		else
			break;
		*size_r = *size_r * 16 + digit;
		if (*size_r > HTTP_RESPONSE_MAX_BODY)
			return -1;
	}
	if (i == 0 || (i < len && line[i] != ';' && line[i] != ' ' &&
		       line[i] != '\t'))
		return -1;
	return 0;
}

/* http_chunked - decode the chunked body at pos into out: 1 done, 0
   more needed, -1 error */
static int http_chunked(const char *buf, size_t len, size_t pos,
			struct strbuf *out, const char **error_r)
{
	size_t line_len;
	uint64_t size;
	ssize_t next;

	for (;;) {
		next = http_line(buf, len, pos, HTTP_CHUNK_LINE_MAX, &line_len);
		if (next < 0)
			return len - pos >= HTTP_CHUNK_LINE_MAX ?
				http_fail(error_r, "chunk size line too long") : 0;
		if (http_hex(buf + pos, line_len, &size) < 0 ||
		    out->len + size > HTTP_RESPONSE_MAX_BODY)
			return http_fail(error_r, "invalid chunk size");
		pos = (size_t)next;
		if (size == 0)
			break;
		if (len - pos < size + 1)
			return 0;
		strbuf_append(out, buf + pos, (size_t)size);
		pos += (size_t)size;
		if (buf[pos] == '\r') {
			if (len - pos < 2)
				return 0;
			pos++;
		}
		if (buf[pos] != '\n')
			return http_fail(error_r, "chunk not followed by CRLF");
		pos++;
	}
	/* trailers, up to the blank line */
	for (size_t trailers = 0;; trailers += line_len) {
		if (trailers > HTTP_RESPONSE_MAX_HEADER)
			return http_fail(error_r, "trailers too long");
		next = http_line(buf, len, pos, HTTP_RESPONSE_MAX_HEADER, &line_len);
		if (next < 0)
			return len - pos >= HTTP_RESPONSE_MAX_HEADER ?
				http_fail(error_r, "trailers too long") : 0;
		pos = (size_t)next;
		if (line_len == 0)
			return 1;
	}
}

/* http_body - the body after head: 1 in *resp_r, 0 more needed, -1 */
static int http_body(const char *buf, size_t len, bool eof,
		     const struct http_head *head,
		     struct http_response *resp_r, const char **error_r)
{
	size_t rest = len - head->end;
	struct strbuf body;
	int ret = 1;

	strbuf_init(&body, 256);
	if (head->status == 204 || head->status == 304) {
		/* no body */
	} else if (head->chunked) {
		ret = http_chunked(buf, len, head->end, &body, error_r);
	} else if (head->has_length) {
		if (head->length > HTTP_RESPONSE_MAX_BODY)
			ret = http_fail(error_r, "response body over %d bytes",
					HTTP_RESPONSE_MAX_BODY);
		else if (rest < head->length)
			ret = 0;
		else
			strbuf_append(&body, buf + head->end, (size_t)head->length);
	} else if (rest > HTTP_RESPONSE_MAX_BODY) {
		ret = http_fail(error_r, "response body over %d bytes",
				HTTP_RESPONSE_MAX_BODY);
	} else if (!eof) {
		ret = 0;	/* delimited by the end of the connection */
	} else {
		strbuf_append(&body, buf + head->end, rest);
	}
	if (ret == 0 && eof)
		ret = http_fail(error_r, "connection closed in the middle of the response");
	if (ret == 1) {
		resp_r->status = head->status;
		resp_r->body_len = body.len;
		resp_r->body = strbuf_detach(&body);
	} else {
		strbuf_free(&body);
	}
	return ret;
}

int http_response_parse(const char *buf, size_t len, bool eof,
			struct http_response *resp_r, const char **error_r)
{
	struct http_head head;
	size_t pos = 0;
	int ret;

	memset(resp_r, 0, sizeof(*resp_r));
	for (unsigned int i = 0;; i++) {
		ret = http_head_parse(buf, len, pos, &head, error_r);
		if (ret == 0 && eof)
			return http_fail(error_r, len == 0 ?
				"connection closed without a response" :
				"connection closed in the response header");
		if (ret <= 0)
			return ret;
		if (head.status >= 200 || head.status == 101)
			break;
		if (i == HTTP_MAX_INFORMATIONAL)
			return http_fail(error_r, "too many 1xx responses");
		pos = head.end;
	}
	if (head.status == 101)
		return http_fail(error_r, "unexpected 101 Switching Protocols");
	return http_body(buf, len, eof, &head, resp_r, error_r);
}

void http_response_free(struct http_response *resp)
{
	XFREE(resp->body);
	resp->body_len = 0;
}

/* ---- the socket ---- */

/* http_connect - the first address of url that accepts; fd or -1 */
static int http_connect(const struct http_url *url, uint64_t deadline,
			const char **error_r)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	char port[16];
	int fd = -1, err = 0, ret;

	snprintf(port, sizeof(port), "%u", url->port);
	ret = getaddrinfo(url->host, port, &hints, &res);
	if (ret != 0)
		return http_fail(error_r, "%s: %s", url->host, gai_strerror(ret));
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = net_connect_addr(ai, deadline);
		if (fd < 0)
			err = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return http_fail(error_r, "connect: %s", err == ETIMEDOUT ?
				 "timed out" : strerror(err));
	return fd;
}

/* http_send - all of data before deadline; 0 or an errno */
static int http_send(int fd, const char *data, size_t len, uint64_t deadline)
{
	size_t done = 0;
	ssize_t ret;

	while (done < len) {
		ret = send(fd, data + done, len - done, MSG_NOSIGNAL);
		if (ret > 0) {
			done += (size_t)ret;
		} else if (ret < 0 && errno != EINTR && errno != EAGAIN) {
			return errno;
		} else if (ret < 0 && errno == EAGAIN &&
			   net_wait_fd(fd, POLLOUT, deadline) < 0) {
			return errno;
		}
	}
	return 0;
}

/* http_receive - read until a whole response parses; 0 or -1 */
static int http_receive(int fd, uint64_t deadline, struct http_response *resp_r,
			const char **error_r)
{
	char *chunk = xmalloc(HTTP_CLIENT_READ_SIZE);
	struct strbuf in;
	bool eof = false;
	int ret = 0;

	strbuf_init(&in, HTTP_CLIENT_READ_SIZE);
	while (ret == 0) {
		ssize_t n = recv(fd, chunk, HTTP_CLIENT_READ_SIZE, 0);

		if (n > 0) {
			strbuf_append(&in, chunk, (size_t)n);
		} else if (n == 0) {
			eof = true;
		} else if (errno == EAGAIN) {
			if (net_wait_fd(fd, POLLIN, deadline) < 0) {
				ret = http_fail(error_r, "read: %s", errno == ETIMEDOUT ?
						"no answer in time" : strerror(errno));
				break;
			}
			continue;
		} else if (errno != EINTR) {
			ret = http_fail(error_r, "read: %s", strerror(errno));
			break;
		} else {
			continue;
		}
		ret = http_response_parse(in.data, in.len, eof, resp_r, error_r);
	}
	free(chunk);
	strbuf_free(&in);
	return ret < 0 ? -1 : 0;
}

int http_client_call(const struct http_url *url, const struct http_request *req,
		     unsigned int timeout_msecs, struct http_response *resp_r,
		     const char **error_r)
{
	uint64_t deadline = clock_monotonic_msecs() + timeout_msecs;
	size_t body_len = req->body != NULL ? strlen(req->body) : 0;
	struct strbuf out;
	int fd, err, ret = -1;

	memset(resp_r, 0, sizeof(*resp_r));
	for (const char *p = req->bearer; p != NULL && *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return http_fail(error_r, "the API key holds a control character");
	}
	if ((fd = http_connect(url, deadline, error_r)) < 0)
		return -1;
	strbuf_init(&out, 512);
	strbuf_appendf(&out, "%s %s HTTP/1.1\r\nHost: ", req->method, req->path);
	http_url_host_header(url, &out);
	strbuf_append_str(&out, "\r\nUser-Agent: loftadm/" LOFT_VERSION
			  "\r\nAccept: application/json\r\nConnection: close\r\n");
	if (req->bearer != NULL)
		strbuf_appendf(&out, "Authorization: Bearer %s\r\n", req->bearer);
	if (req->body != NULL)
		strbuf_appendf(&out, "Content-Type: application/json\r\n"
			       "Content-Length: %zu\r\n", body_len);
	strbuf_append_str(&out, "\r\n");
	if (req->body != NULL)
		strbuf_append(&out, req->body, body_len);
	if ((err = http_send(fd, out.data, out.len, deadline)) != 0)
		http_fail(error_r, "write: %s", err == ETIMEDOUT ?
			  "timed out" : strerror(err));
	else
		ret = http_receive(fd, deadline, resp_r, error_r);
	strbuf_free(&out);
	close(fd);
	return ret;
}
