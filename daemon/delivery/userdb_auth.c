/*
 * userdb_auth - the `auth` userdb driver: a userdb lookup asked of an
 * auth-master socket (Dovecot's base_dir/auth-userdb, or loft-auth's),
 * speaking the protocol of auth_proto.h.
 *
 * args: `[timeout=TIME] PATH`. PATH is relative to base_dir unless it
 * starts with '/' (Dovecot's auth_socket_path rule); TIME (default
 * USERDB_AUTH_DEFAULT_TIMEOUT_MSECS, units as in the config: `5 s` written
 * `5s`) bounds the whole lookup: connect, handshake and reply. Each
 * lookup opens its own connection (lookups run on worker threads; nothing
 * is shared between them) and sends VERSION and `USER 1 <name>
 * service=<lda|lmtp>`.
 *
 * Answers: USER is found (its fields become the reply's; a different
 * user name in it renames the recipient), NOTFOUND is "user unknown".
 * Everything else is a temporary failure, never "unknown": a socket that
 * is missing or refuses, a FAIL reply, a timeout, a major version other
 * than 1, a line that does not parse, a reply for another request, a
 * line longer than AUTH_PROTO_MAX_REPLY, EOF. A name with a control
 * character is not sent: it cannot exist.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth_proto.h"
#include "clock.h"
#include "userdb_private.h"

#define USERDB_AUTH_DEFAULT_TIMEOUT_MSECS (30U * 1000)
/* how often a connect() refused with EAGAIN (backlog full) is retried */
#define USERDB_AUTH_CONNECT_RETRY_MSECS 20
#define USERDB_AUTH_REQUEST_ID 1

/* what loft tells the server it is (Dovecot's service=): "lda", "lmtp" */
static const char *userdb_auth_service = "loft";

void userdb_set_service(const char *service)
{
	userdb_auth_service = service;
}

struct userdb_auth_args {
	uint64_t timeout_msecs;
	const char *path;	/* points into the args string */
	size_t path_len;
};

/* auth_args_parse - 0, or -1 with *error_r */
static int auth_args_parse(const char *args, struct userdb_auth_args *a,
			   const char **error_r)
{
	const char *p = args, *error;

	a->timeout_msecs = USERDB_AUTH_DEFAULT_TIMEOUT_MSECS;
	a->path = NULL;
	for (;;) {
		const char *start;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - start);
		if (len > 8 && strncmp(start, "timeout=", 8) == 0) {
			char *value = xstrndup(start + 8, len - 8);
			int ret = settings_parse_time(value, &a->timeout_msecs,
						      &error);

			free(value);
			if (ret < 0 || a->timeout_msecs == 0) {
				*error_r = userdb_driver_error(
					"Invalid timeout: %.*s", (int)len, start);
				return -1;
			}
		} else if (a->path == NULL && memchr(start, '=', len) == NULL) {
			a->path = start;
			a->path_len = len;
		} else {
			*error_r = userdb_driver_error(
				"Unknown argument: %.*s (expected [timeout=TIME] PATH)",
				(int)len, start);
			return -1;
		}
	}
	if (a->path == NULL) {
		*error_r = userdb_driver_error("args: socket path is missing");
		return -1;
	}
	return 0;
}

/* auth_socket_path - PATH of args, made absolute from base_dir */
static int auth_socket_path(const struct loft_settings *set,
			    const struct userdb_auth_args *a,
			    struct sockaddr_un *sun, const char **error_r)
{
	bool relative = a->path[0] != '/';
	size_t prefix = relative ? strlen(set->base_dir) + 1 : 0;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (prefix + a->path_len >= sizeof(sun->sun_path)) {
		*error_r = userdb_driver_error("Socket path too long: %.*s",
					       (int)a->path_len, a->path);
		return -1;
	}
	if (relative) {
		memcpy(sun->sun_path, set->base_dir, prefix - 1);
		sun->sun_path[prefix - 1] = '/';
	}
	memcpy(sun->sun_path + prefix, a->path, a->path_len);
	return 0;
}

static int auth_validate(const char *args, const char **error_r)
{
	struct userdb_auth_args a;

	return auth_args_parse(args, &a, error_r);
}

/* remaining - ms left until deadline (0 when passed) */
static int remaining(uint64_t deadline)
{
	uint64_t now = clock_monotonic_msecs();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* auth_connect - a connected non-blocking socket, or -1 with *error_r */
static int auth_connect(const struct sockaddr_un *sun, uint64_t deadline,
			const char **error_r)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		*error_r = userdb_driver_error("socket() failed: %s",
					       strerror(errno));
		return -1;
	}
	while (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		struct timespec ts = {
			0, USERDB_AUTH_CONNECT_RETRY_MSECS * 1000000L
		};

		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || remaining(deadline) == 0) {
			*error_r = userdb_driver_error(
				"connect(%s) failed: %s", sun->sun_path,
				errno == EAGAIN ? "timed out (server busy)" :
				strerror(errno));
			close(fd);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

/* auth_wait - poll fd for events until deadline; 0 ready, -1 *error_r */
static int auth_wait(int fd, short events, uint64_t deadline,
		     const char *path, const char **error_r)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, remaining(deadline));
	} while (ret < 0 && errno == EINTR);
	if (ret > 0)
		return 0;
	*error_r = ret == 0 ?
		userdb_driver_error("%s: Request timed out", path) :
		userdb_driver_error("%s: poll() failed: %s", path,
				    strerror(errno));
	return -1;
}

/* auth_send - write all of buf before deadline */
static int auth_send(int fd, const struct strbuf *buf, uint64_t deadline,
		     const char *path, const char **error_r)
{
	size_t done = 0;

	while (done < buf->len) {
		ssize_t ret = send(fd, buf->data + done, buf->len - done,
				   MSG_NOSIGNAL);

		if (ret > 0) {
			done += (size_t)ret;
			continue;
		}
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && errno != EAGAIN) {
			*error_r = userdb_driver_error("%s: write failed: %s",
						       path, strerror(errno));
			return -1;
		}
		if (auth_wait(fd, POLLOUT, deadline, path, error_r) < 0)
			return -1;
	}
	return 0;
}

struct auth_reader {
	int fd;
	const char *path;
	uint64_t deadline;
	struct strbuf buf;
	size_t line_len;	/* of the line returned last, with its LF */
};

/* auth_read_line - the next line (LF replaced by NUL) in *line_r with its
   length; 0, or -1 with *error_r (EOF, timeout, too long) */
static int auth_read_line(struct auth_reader *r, const char **line_r,
			  size_t *len_r, const char **error_r)
{
	char chunk[4096];

	if (r->line_len > 0) {
		memmove(r->buf.data, r->buf.data + r->line_len,
			r->buf.len - r->line_len);
		strbuf_truncate(&r->buf, r->buf.len - r->line_len);
		r->line_len = 0;
	}
	for (;;) {
		char *lf = memchr(r->buf.data, '\n', r->buf.len);
		ssize_t ret;

		if (lf != NULL) {
			*lf = '\0';
			*line_r = r->buf.data;
			*len_r = (size_t)(lf - r->buf.data);
			r->line_len = *len_r + 1;
			return 0;
		}
		if (r->buf.len > AUTH_PROTO_MAX_REPLY) {
			*error_r = userdb_driver_error(
				"%s: Reply line longer than %u bytes", r->path,
				AUTH_PROTO_MAX_REPLY);
			return -1;
		}
		ret = recv(r->fd, chunk, sizeof(chunk), 0);
		if (ret > 0) {
			strbuf_append(&r->buf, chunk, (size_t)ret);
		} else if (ret == 0) {
			*error_r = userdb_driver_error(
				"%s: Disconnected unexpectedly", r->path);
			return -1;
		} else if (errno == EAGAIN) {
			if (auth_wait(r->fd, POLLIN, r->deadline, r->path,
				      error_r) < 0)
				return -1;
		} else if (errno != EINTR) {
			*error_r = userdb_driver_error("%s: read failed: %s",
						       r->path, strerror(errno));
			return -1;
		}
	}
}

/* auth_reply_apply - a USER reply into reply */
static void auth_reply_apply(const struct auth_proto_reply *ar,
			     const char *username, struct userdb_reply *reply)
{
	for (size_t i = 0; i < ar->fields.count; i++) {
		const struct kv *kv = &ar->fields.items[i];

		/* the name comes from the reply's user column */
		if (strcmp(kv->key, "user") != 0)
			userdb_reply_set(reply, kv->key, kv->value);
	}
	if (strcmp(ar->user, username) != 0)
		userdb_reply_set(reply, "user", ar->user);
}

/* auth_converse - handshake and one USER request on fd */
static enum userdb_result auth_converse(struct auth_reader *r,
					const char *username,
					struct userdb_reply *reply,
					const char **error_r)
{
	struct auth_proto_reply ar;
	struct strbuf req;
	const char *line, *error;
	size_t len;
	bool have_version = false;
	enum userdb_result result = USERDB_RESULT_INTERNAL_FAILURE;

	strbuf_init(&req, 128);
	auth_proto_format_version(&req);
	auth_proto_format_user_request(&req, USERDB_AUTH_REQUEST_ID, username,
				       userdb_auth_service);
	if (auth_send(r->fd, &req, r->deadline, r->path, error_r) < 0) {
		strbuf_free(&req);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	strbuf_free(&req);

	for (;;) {
		if (auth_read_line(r, &line, &len, error_r) < 0)
			return USERDB_RESULT_INTERNAL_FAILURE;
		if (auth_proto_reply_parse(line, len, &ar, &error) < 0) {
			*error_r = userdb_driver_error("%s: %s in reply", r->path,
						       error);
			return USERDB_RESULT_INTERNAL_FAILURE;
		}
		if (ar.kind == AUTH_PROTO_REPLY_VERSION && !have_version) {
			have_version = true;
			if (ar.major == AUTH_PROTO_MAJOR) {
				auth_proto_reply_free(&ar);
				continue;
			}
			*error_r = userdb_driver_error(
				"%s: Auth protocol version mismatch (%u vs %u)",
				r->path, ar.major, AUTH_PROTO_MAJOR);
			break;
		}
		if (ar.kind == AUTH_PROTO_REPLY_SPID && have_version) {
			auth_proto_reply_free(&ar);
			continue;
		}
		if (!have_version || ar.id != USERDB_AUTH_REQUEST_ID) {
			*error_r = userdb_driver_error("%s: Unexpected input: %s",
						       r->path, have_version ?
						       "reply to another request" :
						       "no VERSION handshake");
			break;
		}
		if (ar.kind == AUTH_PROTO_REPLY_USER) {
			auth_reply_apply(&ar, username, reply);
			result = USERDB_RESULT_OK;
		} else if (ar.kind == AUTH_PROTO_REPLY_NOTFOUND) {
			result = USERDB_RESULT_USER_UNKNOWN;
		} else if (ar.kind == AUTH_PROTO_REPLY_FAIL) {
			*error_r = userdb_driver_error("%s: Lookup failed%s%s",
				r->path, ar.reason != NULL ? ": " : "",
				ar.reason != NULL ? ar.reason : "");
		} else {
			*error_r = userdb_driver_error(
				"%s: Unexpected reply to USER", r->path);
		}
		break;
	}
	auth_proto_reply_free(&ar);
	return result;
}

/* has_control - whether name has a byte the protocol or a userdb must
   never see */
static bool has_control(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}

static enum userdb_result auth_lookup(const struct loft_settings *set,
				      const char *args, const char *username,
				      struct userdb_reply *reply,
				      const char **error_r)
{
	struct userdb_auth_args a;
	struct sockaddr_un sun;
	struct auth_reader r;
	enum userdb_result result;

	if (auth_args_parse(args, &a, error_r) < 0 ||
	    auth_socket_path(set, &a, &sun, error_r) < 0)
		return USERDB_RESULT_INTERNAL_FAILURE;
	if (has_control(username) || username[0] == '\0')
		return USERDB_RESULT_USER_UNKNOWN;
	memset(&r, 0, sizeof(r));
	r.path = sun.sun_path;
	r.deadline = clock_monotonic_msecs() + a.timeout_msecs;
	r.fd = auth_connect(&sun, r.deadline, error_r);
	if (r.fd < 0)
		return USERDB_RESULT_INTERNAL_FAILURE;
	strbuf_init(&r.buf, 1024);
	result = auth_converse(&r, username, reply, error_r);
	strbuf_free(&r.buf);
	close(r.fd);
	return result;
}

const struct userdb_driver userdb_driver_auth = {
	.name = "auth",
	.validate = auth_validate,
	.lookup = auth_lookup,
};
