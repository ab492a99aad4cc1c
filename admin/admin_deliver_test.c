/*
 * admin_deliver_test - an LMTP client for one test message, and the
 * journal lookup that follows (see admin_deliver_test.h). The LMTP
 * service is found the way loftd would open it: the first unix_listener
 * of `service lmtp` (relative to base_dir), else its first inet_listener;
 * with no such block, loftd's built-in base_dir/lmtp.
 */
#include "admin_deliver_test.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "admin_commands.h"
#include "error_slot.h"
#include "session_id.h"
#include "strbuf.h"
#include "xalloc.h"

#define ADMIN_LMTP_TIMEOUT_SECS 20
/* how long the journal entry may take to reach loft-stats */
#define ADMIN_JOURNAL_WAIT_MSECS 5000
#define ADMIN_JOURNAL_POLL_MSECS 100

/* Where the LMTP service listens. */
struct admin_lmtp_target {
	bool is_unix;
	char *path;		/* unix */
	char *host, *port;	/* inet */
	char *desc;		/* "unix:/run/loft/lmtp", "inet:127.0.0.1:24" */
};

/* One LMTP conversation: the socket, unread input and what was said. */
struct admin_lmtp {
	int fd;
	struct strbuf in;
	json_object *transcript;	/* "C: ..." and "S: ..." lines */
	char *last_reply;		/* the last reply line */
};

static __thread struct error_slot admin_deliver_test_error;

/* admin_target_service - the lmtp service block of set, or NULL */
static const struct service_settings *
admin_target_service(const struct loft_settings *set)
{
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, "lmtp") == 0 ||
		    strcmp(set->services[i].protocol, "lmtp") == 0)
			return &set->services[i];
	}
	return NULL;
}

/* admin_target_unix - target is the socket path (relative to base_dir) */
static void admin_target_unix(const struct loft_settings *set,
			      const char *path, struct admin_lmtp_target *t)
{
	t->is_unix = true;
	t->path = path[0] == '/' ? xstrdup(path) :
		xasprintf("%s/%s", set->base_dir, path);
	t->desc = xasprintf("unix:%s", t->path);
}

/* admin_target_inet - target is the first address of l (or of listen)
   and its port; a wildcard address means this host's loopback */
static void admin_target_inet(const struct loft_settings *set,
			      const struct listener_settings *l,
			      struct admin_lmtp_target *t)
{
	const char *list = l->address[0] != '\0' ? l->address : set->listen;
	size_t skip = strspn(list, " ,"), len = strcspn(list + skip, " ,");
	char *addr = xstrndup(list + skip, len);

	if (strcmp(addr, "*") == 0 || addr[0] == '\0') {
		free(addr);
		addr = xstrdup("127.0.0.1");
	} else if (strcmp(addr, "::") == 0 || strcmp(addr, "[::]") == 0) {
		free(addr);
		addr = xstrdup("::1");
	}
	t->host = addr;
	t->port = xasprintf("%u", l->port);
	t->desc = xasprintf(strchr(addr, ':') != NULL ? "inet:[%s]:%s" :
			    "inet:%s:%s", addr, t->port);
}

/* admin_target_find - where to send; 0, or -1 with *error_r */
static int admin_target_find(const struct loft_settings *set,
			     struct admin_lmtp_target *t, const char **error_r)
{
	const struct service_settings *svc = admin_target_service(set);

	memset(t, 0, sizeof(*t));
	if (svc == NULL) {
		admin_target_unix(set, "lmtp", t);
		return 0;
	}
	for (size_t i = 0; i < svc->listener_count; i++) {
		if (svc->listeners[i].type == LISTENER_UNIX) {
			admin_target_unix(set, svc->listeners[i].path, t);
			return 0;
		}
	}
	for (size_t i = 0; i < svc->listener_count; i++) {
		if (svc->listeners[i].type == LISTENER_INET &&
		    svc->listeners[i].port != 0) {
			admin_target_inet(set, &svc->listeners[i], t);
			return 0;
		}
	}
	*error_r = error_slot_set(&admin_deliver_test_error,
				  "service %s has no unix_listener or "
				  "inet_listener with a port", svc->name);
	return -1;
}

/* admin_target_free - release what admin_target_find filled */
static void admin_target_free(struct admin_lmtp_target *t)
{
	free(t->path);
	free(t->host);
	free(t->port);
	free(t->desc);
}

/* admin_lmtp_timeouts - bound every read and write (and connect) */
static void admin_lmtp_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = ADMIN_LMTP_TIMEOUT_SECS };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* admin_lmtp_connect_unix - connect to the socket at path; fd or -1 */
static int admin_lmtp_connect_unix(const char *path, const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = "socket path too long";
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	admin_lmtp_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = strerror(errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* admin_lmtp_connect_inet - connect to host:port; fd or -1 */
static int admin_lmtp_connect_inet(const char *host, const char *port,
				   const char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, ret;

	if ((ret = getaddrinfo(host, port, &hints, &res)) != 0) {
		*error_r = gai_strerror(ret);
		return -1;
	}
	*error_r = "no address";
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			*error_r = strerror(errno);
			continue;
		}
		admin_lmtp_timeouts(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			*error_r = strerror(errno);
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* admin_lmtp_send - one command line; 0 or -1 with *error_r */
static int admin_lmtp_send(struct admin_lmtp *l, const char *line,
			   const char **error_r)
{
	char *text = xasprintf("%s\r\n", line);
	size_t done = 0, len = strlen(text);
	ssize_t ret;

	char *shown = strchr(line, '\n') == NULL ? xasprintf("C: %s", line) :
		xasprintf("C: [message, %zu bytes]", len - 2);

	json_object_array_add(l->transcript, json_object_new_string(shown));
	free(shown);
	while (done < len) {
		ret = send(l->fd, text + done, len - done, MSG_NOSIGNAL);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			*error_r = error_slot_set(&admin_deliver_test_error,
						  "write: %s", strerror(errno));
			free(text);
			return -1;
		}
		done += (size_t)ret;
	}
	free(text);
	return 0;
}

/* admin_lmtp_line - the next line without CRLF into line; 0 or -1 */
static int admin_lmtp_line(struct admin_lmtp *l, struct strbuf *line,
			   const char **error_r)
{
	char buf[4096], *nl;
	ssize_t ret;

	while ((nl = memchr(l->in.data, '\n', l->in.len)) == NULL) {
		ret = recv(l->fd, buf, sizeof(buf), 0);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			*error_r = error_slot_set(&admin_deliver_test_error, "%s",
				ret == 0 ? "connection closed" :
				errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
		strbuf_append(&l->in, buf, (size_t)ret);
	}
	size_t len = (size_t)(nl - l->in.data);

	strbuf_reset(line);
	strbuf_append(line, l->in.data, len > 0 && nl[-1] == '\r' ? len - 1 : len);
	memmove(l->in.data, nl + 1, l->in.len - len - 1);
	strbuf_truncate(&l->in, l->in.len - len - 1);
	return 0;
}

/* admin_lmtp_reply - one (multi-line) reply; its code, or -1 with
   *error_r. l->last_reply gets the final line. */
static int admin_lmtp_reply(struct admin_lmtp *l, const char **error_r)
{
	struct strbuf line;
	int code = -1;

	strbuf_init(&line, 256);
	for (;;) {
		if (admin_lmtp_line(l, &line, error_r) < 0)
			break;
		char *shown = xasprintf("S: %s", line.data);

		json_object_array_add(l->transcript, json_object_new_string(shown));
		free(shown);
		if (line.len < 3 || line.data[0] < '2' || line.data[0] > '5') {
			*error_r = error_slot_set(&admin_deliver_test_error,
						  "bad reply: %s", line.data);
			break;
		}
		if (line.len > 3 && line.data[3] == '-')
			continue;
		code = atoi(line.data);
		free(l->last_reply);
		l->last_reply = xstrdup(line.data);
		break;
	}
	strbuf_free(&line);
	return code;
}

/* admin_lmtp_command - send line (NULL: send nothing) and read the
   reply; its code or -1 */
static int admin_lmtp_command(struct admin_lmtp *l, const char *line,
			      const char **error_r)
{
	if (line != NULL && admin_lmtp_send(l, line, error_r) < 0)
		return -1;
	return admin_lmtp_reply(l, error_r);
}

/* admin_lmtp_message - the test message, CRLF-terminated lines */
static char *admin_lmtp_message(const char *host, const char *rcpt,
				const char *msgid)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	return xasprintf("From: loftadm <MAILER-DAEMON@%s>\r\n"
			 "To: <%s>\r\n"
			 "Subject: loftadm deliver-test\r\n"
			 "Date: %s\r\n"
			 "Message-ID: %s\r\n"
			 "Auto-Submitted: auto-generated\r\n"
			 "\r\n"
			 "This message was sent by `loftadm deliver-test` to check\r\n"
			 "that mail to %s is delivered. It can be deleted.\r\n"
			 ".",
			 host, rcpt, date, msgid, rcpt);
}

/* admin_lmtp_exit - the exit code of a final reply code at stage */
static int admin_lmtp_exit(int code, bool rcpt_stage, const char *reply)
{
	if (code >= 200 && code < 400)
		return EX_OK;
	if (code >= 400 && code < 500)
		return EX_TEMPFAIL;
	if (rcpt_stage && code == 550 && reply != NULL &&
	    strstr(reply, "5.1.1") != NULL)
		return EX_NOUSER;
	return EX_NOPERM;
}

/* admin_lmtp_talk - LHLO .. QUIT for one message; the exit code, with
   *sent_r telling whether the message went through DATA. l->last_reply
   is the reply that decided (QUIT's is not kept). */
static int admin_lmtp_talk(struct admin_lmtp *l, const char *host,
			   const char *rcpt, const char *msgid, bool *sent_r,
			   const char **error_r)
{
	char *lhlo = xasprintf("LHLO %s", host);
	char *rcpt_to = xasprintf("RCPT TO:<%s>", rcpt);
	char *msg = admin_lmtp_message(host, rcpt, msgid);
	const struct {
		const char *line;	/* NULL: the greeting */
		int want;		/* 0: the final reply to the message */
		bool rcpt;
	} steps[] = {
		{ NULL, 220, false }, { lhlo, 250, false },
		{ "MAIL FROM:<>", 250, false }, { rcpt_to, 250, true },
		{ "DATA", 354, false }, { msg, 0, false },
	};
	int code = 0, ret = EX_OK;

	*sent_r = false;
	for (size_t i = 0; i < LOFT_N_ELEMENTS(steps) && ret == EX_OK; i++) {
		code = admin_lmtp_command(l, steps[i].line, error_r);
		if (code < 0) {
			ret = EX_TEMPFAIL;
		} else if (steps[i].want == 0) {
			*sent_r = true;
			ret = admin_lmtp_exit(code, false, l->last_reply);
		} else if (code != steps[i].want) {
			ret = admin_lmtp_exit(code, steps[i].rcpt, l->last_reply);
			if (ret == EX_OK) {
				*error_r = error_slot_set(&admin_deliver_test_error,
					"unexpected reply: %s", l->last_reply);
				ret = EX_TEMPFAIL;
			}
		}
	}
	if (code >= 0 && l->last_reply != NULL) {
		/* a polite end, so that the server finishes the session */
		char *decided = xstrdup(l->last_reply);
		const char *ignored;

		(void)admin_lmtp_command(l, "QUIT", &ignored);
		free(l->last_reply);
		l->last_reply = decided;
	}
	free(lhlo);
	free(rcpt_to);
	free(msg);
	return ret;
}

/* admin_journal_entry - the journal record of msgid (waiting a moment
   for it to arrive), or NULL after a message on stderr */
static json_object *admin_journal_entry(const struct admin_context *ctx,
					const char *msgid)
{
	const struct timespec pause = {
		.tv_nsec = ADMIN_JOURNAL_POLL_MSECS * 1000000L,
	};
	const char *args[] = { "--msgid", msgid };
	struct admin_reply reply;
	json_object *list, *entry = NULL;

	for (int waited = 0; waited <= ADMIN_JOURNAL_WAIT_MSECS;
	     waited += ADMIN_JOURNAL_POLL_MSECS) {
		if (admin_call(ctx, "deliveries", args, LOFT_N_ELEMENTS(args),
			       &reply) != 0)
			return NULL;
		list = reply.status == 0 && reply.json != NULL ?
			json_tokener_parse(reply.json) : NULL;
		if (reply.status != 0 && reply.error != NULL)
			fprintf(stderr, "loftadm: deliveries: %s\n", reply.error);
		admin_reply_free(&reply);
		if (json_object_is_type(list, json_type_array) &&
		    json_object_array_length(list) > 0)
			entry = json_object_get(json_object_array_get_idx(list, 0));
		json_object_put(list);
		if (entry != NULL || reply.status != 0)
			return entry;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "loftadm: deliver-test: no journal entry for %s\n", msgid);
	return NULL;
}

/* admin_deliver_test_print - the outcome per ctx->format */
static void admin_deliver_test_print(const struct admin_context *ctx,
				     json_object *doc, json_object *entry)
{
	static const struct admin_view record = { .rows_key = NULL };

	if (ctx->format != ADMIN_FORMAT_TABLE) {
		admin_format_print(stdout, ctx->format, doc, &record);
		return;
	}
	json_object *transcript = NULL;

	json_object_object_get_ex(doc, "transcript", &transcript);
	printf("LMTP %s\n", json_object_get_string(
		json_object_object_get(doc, "lmtp")));
	for (size_t i = 0; i < json_object_array_length(transcript); i++)
		printf("%s\n", json_object_get_string(
			json_object_array_get_idx(transcript, i)));
	if (entry != NULL) {
		json_object *rows = json_object_new_array();

		json_object_array_add(rows, json_object_get(entry));
		printf("\n");
		admin_format_print(stdout, ctx->format, rows,
				   &admin_view_deliveries);
		json_object_put(rows);
	}
}

/* admin_host_name - hostname setting, else the system's */
static char *admin_host_name(const struct loft_settings *set)
{
	char buf[256];

	if (set->hostname[0] != '\0')
		return xstrdup(set->hostname);
	if (gethostname(buf, sizeof(buf) - 1) < 0)
		return xstrdup("localhost");
	buf[sizeof(buf) - 1] = '\0';
	return xstrdup(buf);
}

int admin_deliver_test_run(const struct admin_context *ctx, char **args,
			   size_t count)
{
	const struct loft_settings *set = admin_need_config(ctx, "deliver-test");
	struct admin_lmtp_target target;
	struct admin_lmtp l = { .fd = -1 };
	char sid[SESSION_ID_BUFSIZE], *host, *msgid;
	json_object *doc, *entry = NULL;
	const char *error = NULL;
	bool sent;
	int ret;

	if (set == NULL)
		return EX_TEMPFAIL;
	if (admin_target_find(set, &target, &error) < 0) {
		fprintf(stderr, "loftadm: deliver-test: %s\n", error);
		return EX_TEMPFAIL;
	}
	l.fd = target.is_unix ? admin_lmtp_connect_unix(target.path, &error) :
		admin_lmtp_connect_inet(target.host, target.port, &error);
	if (l.fd < 0) {
		fprintf(stderr, "loftadm: deliver-test: LMTP %s: %s\n",
			target.desc, error);
		admin_target_free(&target);
		return EX_TEMPFAIL;
	}
	host = admin_host_name(set);
	session_id_generate(sid);
	msgid = xasprintf("<loftadm-test.%s@%s>", sid, host);
	strbuf_init(&l.in, 1024);
	l.transcript = json_object_new_array();
	ret = admin_lmtp_talk(&l, host, args[0], msgid, &sent, &error);
	close(l.fd);
	if (error != NULL && !sent)
		fprintf(stderr, "loftadm: deliver-test: LMTP %s: %s\n",
			target.desc, error);
	if (sent)
		entry = admin_journal_entry(ctx, msgid);

	doc = json_object_new_object();
	json_object_object_add(doc, "lmtp", json_object_new_string(target.desc));
	json_object_object_add(doc, "msgid", json_object_new_string(msgid));
	json_object_object_add(doc, "reply", l.last_reply != NULL ?
			       json_object_new_string(l.last_reply) : NULL);
	json_object_object_add(doc, "result", json_object_new_string(
		ret == EX_OK ? "saved" : ret == EX_TEMPFAIL ? "tempfail" : "rejected"));
	json_object_object_add(doc, "transcript", l.transcript);
	json_object_object_add(doc, "delivery", json_object_get(entry));
	admin_deliver_test_print(ctx, doc, entry);
	json_object_put(doc);
	json_object_put(entry);
	free(l.last_reply);
	strbuf_free(&l.in);
	free(msgid);
	free(host);
	admin_target_free(&target);
	return ret;
}
