/*
 * admin_client - one request/reply over the admin socket, synchronously,
 * with a deadline on every step (see admin_client.h). The socket from
 * ipc_unix_connect() is non-blocking: writes and reads wait in poll().
 */
#include "admin_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "ipc_frame.h"
#include "ipc_socket.h"
#include "strbuf.h"
#include "xalloc.h"

#define ADMIN_CLIENT_READ_SIZE 65536

static __thread struct error_slot admin_client_error;

/* admin_client_fail - format *error_r, set *failure_r; returns -1 */
static int admin_client_fail(enum admin_client_failure failure,
			     enum admin_client_failure *failure_r,
			     const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(4, 5);
static int admin_client_fail(enum admin_client_failure failure,
			     enum admin_client_failure *failure_r,
			     const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	*error_r = error_slot_vset(&admin_client_error, fmt, args);
	va_end(args);
	*failure_r = failure;
	return -1;
}

/* admin_client_connect_failed - classify a failed connect. ipc_socket's
   message is "connect(PATH) failed: REASON"; the caller names the path
   itself, so only REASON is kept. A socket that exists but that we may
   not write to is a permission problem, not an absent daemon. */
static int admin_client_connect_failed(const char *path, const char *error,
				       enum admin_client_failure *failure_r,
				       const char **error_r)
{
	const char *reason = strstr(error, "failed: ");
	struct stat st;

	reason = reason != NULL ? reason + strlen("failed: ") : error;
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0 && errno == EACCES)
		return admin_client_fail(ADMIN_CLIENT_DENIED, failure_r, error_r,
					 "%s", strerror(EACCES));
	return admin_client_fail(ADMIN_CLIENT_UNREACHABLE, failure_r, error_r,
				 "%s", reason);
}

/* admin_client_wait - poll fd for events until deadline; 0 ready, or an
   errno (ETIMEDOUT when the deadline passed) */
static int admin_client_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int ret;

	for (;;) {
		left = deadline - (long long)clock_monotonic_msecs();
		if (left <= 0)
			return ETIMEDOUT;
		ret = poll(&pfd, 1, (int)left);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return errno;
	}
}

/* admin_client_write - write all of buf before deadline; 0 or an errno */
static int admin_client_write(int fd, const struct strbuf *buf,
			      long long deadline)
{
	size_t done = 0;
	ssize_t ret;
	int err;

	while (done < buf->len) {
		ret = send(fd, buf->data + done, buf->len - done, MSG_NOSIGNAL);
		if (ret > 0) {
			done += (size_t)ret;
			continue;
		}
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && errno != EAGAIN)
			return errno;
		if ((err = admin_client_wait(fd, POLLOUT, deadline)) != 0)
			return err;
	}
	return 0;
}

/* admin_client_encode - Hello and the request, framed, into out */
static int admin_client_encode(uint64_t id, const char *command,
			       const char *const *args, size_t arg_count,
			       struct strbuf *out, const char **error_r)
{
	Loft__Envelope *hello = ipc_hello_envelope(LOFT__ROLE__ROLE_ADMIN,
						   "admin", (uint32_t)getpid());
	Loft__Envelope env = LOFT__ENVELOPE__INIT;
	Loft__AdminRequest req = LOFT__ADMIN_REQUEST__INIT;
	int ret;

	req.id = id;
	req.command = (char *)command;
	req.n_args = arg_count;
	req.args = (char **)args;
	env.body_case = LOFT__ENVELOPE__BODY_ADMIN_REQUEST;
	env.admin_request = &req;
	ret = ipc_frame_encode(hello, out, error_r);
	if (ret == 0)
		ret = ipc_frame_encode(&env, out, error_r);
	ipc_envelope_free(&hello);
	return ret;
}

/* admin_client_take - *reply_r from the AdminReply in env */
static void admin_client_take(const Loft__AdminReply *msg,
			      struct admin_reply *reply_r)
{
	reply_r->status = msg->status;
	reply_r->json = msg->json != NULL ? xstrdup(msg->json) : NULL;
	reply_r->error = msg->error != NULL && msg->error[0] != '\0' ?
		xstrdup(msg->error) : NULL;
}

/* admin_client_read_reply - read frames until the AdminReply with id;
   1 with *reply_r, or -1 with *error_r */
static int admin_client_read_reply(int fd, uint64_t id, long long deadline,
				   struct admin_reply *reply_r,
				   const char **error_r)
{
	struct ipc_decoder *dec = ipc_decoder_create();
	char *buf = xmalloc(ADMIN_CLIENT_READ_SIZE);
	Loft__Envelope *env = NULL;
	const char *error;
	int ret = 0, err;

	while (ret == 0) {
		ret = ipc_decoder_next(dec, &env, &error);
		if (ret < 0) {
			*error_r = error_slot_set(&admin_client_error,
						  "bad reply: %s", error);
			break;
		}
		if (ret > 0) {
			if (env->body_case == LOFT__ENVELOPE__BODY_ADMIN_REPLY &&
			    env->admin_reply->id == id) {
				admin_client_take(env->admin_reply, reply_r);
			} else if (env->body_case == LOFT__ENVELOPE__BODY_HELLO &&
				   ipc_check_hello(env, &error) < 0) {
				*error_r = error_slot_set(&admin_client_error,
							  "%s", error);
				ret = -1;
			} else {
				ret = 0;	/* Hello, or not ours: next frame */
			}
			ipc_envelope_free(&env);
			continue;
		}
		ssize_t len = recv(fd, buf, ADMIN_CLIENT_READ_SIZE, 0);

		if (len > 0) {
			(void)ipc_decoder_feed(dec, buf, (size_t)len, &error);
		} else if (len == 0) {
			*error_r = error_slot_set(&admin_client_error,
				"loft-stats closed the connection without answering");
			ret = -1;
		} else if (errno == EAGAIN) {
			err = admin_client_wait(fd, POLLIN, deadline);
			if (err == ETIMEDOUT) {
				*error_r = error_slot_set(&admin_client_error,
					"no answer within %u secs",
					ADMIN_CLIENT_REPLY_MSECS / 1000);
				ret = -1;
			} else if (err != 0) {
				*error_r = error_slot_set(&admin_client_error,
					"poll: %s", strerror(err));
				ret = -1;
			}
		} else if (errno != EINTR) {
			*error_r = error_slot_set(&admin_client_error,
						  "read: %s", strerror(errno));
			ret = -1;
		}
	}
	free(buf);
	ipc_decoder_free(&dec);
	return ret;
}

int admin_client_call(const char *socket_path, const char *command,
		      const char *const *args, size_t arg_count,
		      struct admin_reply *reply_r,
		      enum admin_client_failure *failure_r,
		      const char **error_r)
{
	uint64_t id = ((uint64_t)getpid() << 16) ^ (uint64_t)time(NULL);
	struct strbuf out;
	const char *error;
	long long deadline;
	int fd, ret, err;

	memset(reply_r, 0, sizeof(*reply_r));
	if (ipc_unix_connect(socket_path, ADMIN_CLIENT_CONNECT_MSECS, &fd,
			     &error) < 0)
		return admin_client_connect_failed(socket_path, error,
						   failure_r, error_r);
	deadline = (long long)clock_monotonic_msecs() + ADMIN_CLIENT_REPLY_MSECS;
	strbuf_init(&out, 256);
	if (admin_client_encode(id, command, args, arg_count, &out, &error) < 0) {
		ret = admin_client_fail(ADMIN_CLIENT_BROKEN, failure_r, error_r,
					"%s", error);
	} else if ((err = admin_client_write(fd, &out, deadline)) != 0) {
		ret = admin_client_fail(ADMIN_CLIENT_BROKEN, failure_r, error_r,
					"write: %s", strerror(err));
	} else if (admin_client_read_reply(fd, id, deadline, reply_r,
					   &error) < 0) {
		ret = admin_client_fail(ADMIN_CLIENT_BROKEN, failure_r, error_r,
					"%s", error);
	} else {
		ret = 0;
	}
	strbuf_free(&out);
	close(fd);
	return ret;
}

void admin_reply_free(struct admin_reply *reply)
{
	XFREE(reply->json);
	XFREE(reply->error);
}
