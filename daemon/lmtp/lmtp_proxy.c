/*
 * lmtp_proxy - the LMTP proxy's backend side (see lmtp_proxy.h): a
 * transaction's backend connections with the recipients each accepted,
 * and the process's pool of idle connections.
 */
#include "lmtp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error_slot.h"
#include "lmtp_client.h"
#include "lmtp_xclient.h"
#include "log.h"
#include "tls.h"
#include "xalloc.h"

/* a transaction's connection to one backend */
struct lmtp_proxy_backend {
	char *host;
	unsigned int port;
	unsigned int tls;	/* LMTP_PROXY_* */
	unsigned int timeout_msecs;
	struct lmtp_client *client;	/* NULL: failed, see error */
	char error[256];
	bool mail_sent;
	bool clean;		/* no transaction open at the backend */
	uint64_t data_start;	/* clock_monotonic_usecs() of DATA */
	size_t *rcpts;		/* transaction indexes, in RCPT order */
	size_t rcpt_count;
};

struct lmtp_proxy {
	char *mail_from;
	char *lhlo_name;
	struct lmtp_xclient xclient;	/* SESSION is the transaction id */
	char local_ip[64];		/* "": a UNIX socket */
	unsigned int local_port;
	struct lmtp_proxy_backend *backends;
	size_t backend_count;
};

/* an idle pooled connection */
struct lmtp_proxy_idle {
	struct lmtp_proxy_idle *next;
	char *host;
	unsigned int port;
	unsigned int tls;
	struct lmtp_client *client;
	uint64_t since_msecs;
};

static pthread_mutex_t lmtp_proxy_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lmtp_proxy_idle *lmtp_proxy_pool;
static __thread struct error_slot lmtp_proxy_error;
/* TLS to backends: set once at start, before any worker runs */
static struct tls_client *lmtp_proxy_tls;
static char lmtp_proxy_tls_error[256] = "no TLS context";

void lmtp_proxy_set_tls(struct tls_client *client, const char *error)
{
	lmtp_proxy_tls = client;
	if (error != NULL)
		snprintf(lmtp_proxy_tls_error, sizeof(lmtp_proxy_tls_error),
			 "%s", error);
}

/* tls_field - a route's ssl or starttls field as LMTP_PROXY_* bits (flags
   when set): any value but n/no asks for TLS, any-cert without
   verification (Dovecot's values; Dovecot takes even "no" as yes) */
static unsigned int tls_field(const char *value, unsigned int flags)
{
	if (value == NULL || strcmp(value, "n") == 0 ||
	    strcmp(value, "no") == 0)
		return 0;
	return flags | (strcmp(value, "any-cert") == 0 ?
			LMTP_PROXY_ANY_CERT : 0);
}

int lmtp_proxy_route_get(const struct delivery_user *user,
			 unsigned int default_timeout_msecs,
			 struct lmtp_proxy_route *route_r,
			 const char **error_r)
{
	const char *proxy = kvlist_get(&user->fields, "proxy");
	const char *host = kvlist_get(&user->fields, "host");
	const char *port = kvlist_get(&user->fields, "port");
	const char *timeout = kvlist_get(&user->fields, "proxy_timeout");
	const char *destuser = kvlist_get(&user->fields, "destuser");
	unsigned long value;
	char *end;

	memset(route_r, 0, sizeof(*route_r));
	if (proxy == NULL || strcmp(proxy, "n") == 0 ||
	    strcmp(proxy, "no") == 0)
		return 0;
	if (host == NULL || *host == '\0') {
		*error_r = "proxy field without a host field";
		return -1;
	}
	route_r->port = LMTP_PROXY_DEFAULT_PORT;
	if (port != NULL) {
		value = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || value == 0 ||
		    value > 65535) {
			*error_r = error_slot_set(&lmtp_proxy_error,
						  "invalid port field: %s", port);
			return -1;
		}
		route_r->port = (unsigned int)value;
	}
	route_r->timeout_msecs = default_timeout_msecs;
	if (timeout != NULL) {
		value = strtoul(timeout, &end, 10);
		if (*timeout == '\0' || *end != '\0' || value == 0 ||
		    value > 3600) {
			*error_r = error_slot_set(&lmtp_proxy_error,
				"invalid proxy_timeout field: %s", timeout);
			return -1;
		}
		route_r->timeout_msecs = (unsigned int)value * 1000;
	}
	route_r->tls = tls_field(kvlist_get(&user->fields, "ssl"),
				 LMTP_PROXY_TLS) |
		tls_field(kvlist_get(&user->fields, "starttls"),
			  LMTP_PROXY_TLS | LMTP_PROXY_STARTTLS);
	route_r->host = xstrdup(host);
	route_r->destuser = destuser != NULL && *destuser != '\0' ?
		xstrdup(destuser) : NULL;
	return 1;
}

char *lmtp_proxy_route_name(const struct lmtp_proxy_route *route)
{
	return xasprintf(strchr(route->host, ':') != NULL ? "[%s]:%u" :
			 "%s:%u", route->host, route->port);
}

void lmtp_proxy_route_free(struct lmtp_proxy_route *route)
{
	free(route->host);
	free(route->destuser);
	memset(route, 0, sizeof(*route));
}

struct lmtp_proxy *lmtp_proxy_create(const char *mail_from,
				      const char *lhlo_name,
				      const struct lmtp_proxy_origin *origin)
{
	struct lmtp_proxy *proxy = xcalloc(1, sizeof(*proxy));
	struct lmtp_xclient *xc = &proxy->xclient;

	proxy->mail_from = xstrdup(mail_from);
	proxy->lhlo_name = xstrdup(lhlo_name);
	xc->given = LMTP_XCLIENT_TTL | LMTP_XCLIENT_SESSION;
	xc->ttl = origin->ttl;
	snprintf(xc->session, sizeof(xc->session), "%s", origin->trans_id);
	if (origin->client_ip != NULL) {
		snprintf(xc->addr, sizeof(xc->addr), "%s", origin->client_ip);
		xc->given |= LMTP_XCLIENT_ADDR;
	}
	if (origin->client_port != 0) {
		xc->port = origin->client_port;
		xc->given |= LMTP_XCLIENT_PORT;
	}
	if (origin->local_ip != NULL)
		snprintf(proxy->local_ip, sizeof(proxy->local_ip), "%s",
			 origin->local_ip);
	proxy->local_port = origin->local_port;
	return proxy;
}

/* ip_parse - a numeric IPv4 or IPv6 address into addr[16] (IPv4 as
   v4-mapped), or false */
static bool ip_parse(const char *text, unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		return true;
	}
	return inet_pton(AF_INET6, text, addr) == 1;
}

bool lmtp_proxy_route_is_self(const struct lmtp_proxy *proxy,
			      const struct lmtp_proxy_route *route)
{
	unsigned char a[16], b[16];

	return route->port == proxy->local_port && ip_parse(route->host, a) &&
		ip_parse(proxy->local_ip, b) && memcmp(a, b, sizeof(a)) == 0;
}

/* pool_take - an idle connection to host:port with tls, or NULL */
static struct lmtp_client *pool_take(const char *host, unsigned int port,
				     unsigned int tls)
{
	struct lmtp_proxy_idle **p, *idle;
	struct lmtp_client *client = NULL;

	pthread_mutex_lock(&lmtp_proxy_pool_lock);
	for (p = &lmtp_proxy_pool; *p != NULL; p = &(*p)->next) {
		if ((*p)->port == port && (*p)->tls == tls &&
		    strcmp((*p)->host, host) == 0)
			break;
	}
	idle = *p;
	if (idle != NULL)
		*p = idle->next;
	pthread_mutex_unlock(&lmtp_proxy_pool_lock);
	if (idle != NULL) {
		client = idle->client;
		free(idle->host);
		free(idle);
	}
	return client;
}

/* pool_put - keep client for reuse */
static void pool_put(const char *host, unsigned int port, unsigned int tls,
		     struct lmtp_client *client)
{
	struct lmtp_proxy_idle *idle = xcalloc(1, sizeof(*idle));

	idle->host = xstrdup(host);
	idle->port = port;
	idle->tls = tls;
	idle->client = client;
	idle->since_msecs = clock_monotonic_msecs();
	pthread_mutex_lock(&lmtp_proxy_pool_lock);
	idle->next = lmtp_proxy_pool;
	lmtp_proxy_pool = idle;
	pthread_mutex_unlock(&lmtp_proxy_pool_lock);
}

/* close_idle - close pooled connections idle for LMTP_PROXY_IDLE_SECS */
static void close_idle(void)
{
	uint64_t now = clock_monotonic_msecs();
	struct lmtp_proxy_idle **p, *idle, *expired = NULL;

	pthread_mutex_lock(&lmtp_proxy_pool_lock);
	for (p = &lmtp_proxy_pool; *p != NULL;) {
		idle = *p;
		if (now - idle->since_msecs < LMTP_PROXY_IDLE_SECS * 1000ULL) {
			p = &idle->next;
			continue;
		}
		*p = idle->next;
		idle->next = expired;
		expired = idle;
	}
	pthread_mutex_unlock(&lmtp_proxy_pool_lock);
	while (expired != NULL) {
		idle = expired;
		expired = idle->next;
		lmtp_client_free(&idle->client);
		free(idle->host);
		free(idle);
	}
}

/* backend_find - the transaction's backend for route, added if new */
static struct lmtp_proxy_backend *
backend_find(struct lmtp_proxy *proxy, const struct lmtp_proxy_route *route)
{
	struct lmtp_proxy_backend *b;

	for (size_t i = 0; i < proxy->backend_count; i++) {
		b = &proxy->backends[i];
		if (b->port == route->port && b->tls == route->tls &&
		    strcmp(b->host, route->host) == 0)
			return b;
	}
	proxy->backends = xreallocarray(proxy->backends,
					proxy->backend_count + 1,
					sizeof(*proxy->backends));
	b = &proxy->backends[proxy->backend_count++];
	memset(b, 0, sizeof(*b));
	b->host = xstrdup(route->host);
	b->port = route->port;
	b->tls = route->tls;
	b->timeout_msecs = route->timeout_msecs;
	b->clean = true;
	return b;
}

/* backend_fail - the connection is unusable: close it, keep why */
static void backend_fail(struct lmtp_proxy_backend *b, const char *error)
{
	log_error("proxy: %s:%u: %s", b->host, b->port, error);
	snprintf(b->error, sizeof(b->error), "%s", error);
	lmtp_client_free(&b->client);
	b->clean = false;
}

/* outcome_from_reply - a recipient's outcome from its backend reply */
static void outcome_from_reply(struct outcome *out,
			       const struct lmtp_reply *reply)
{
	enum outcome_result result = reply->code / 100 == 2 ? OUTCOME_SAVED :
		reply->code / 100 == 5 ? OUTCOME_REJECTED : OUTCOME_TEMPFAIL;
	const char *enhanced = reply->enhanced[0] != '\0' ? reply->enhanced :
		result == OUTCOME_SAVED ? "2.0.0" :
		result == OUTCOME_REJECTED ? "5.0.0" : "4.0.0";
	enum outcome_reason reason = strncmp(enhanced, "5.1.1", 5) == 0 ?
		OUTCOME_REASON_UNKNOWN_USER : OUTCOME_REASON_OTHER;

	outcome_set(out, result, result == OUTCOME_SAVED ?
		    OUTCOME_REASON_NONE : reason, (int)reply->code, enhanced,
		    "%s", reply->text);
	/* a 3xx or other odd code is no answer */
	if (reply->code / 100 != 2 && reply->code / 100 != 4 &&
	    reply->code / 100 != 5)
		outcome_tempfail(out, "4.4.0", "Remote server sent an "
				 "invalid reply (%u)", reply->code);
}

/* backend_xclient - XCLIENT to a backend that offers it, with the
   session id "<transaction id>:P<n>" for the transaction's nth backend;
   -1 with *error_r when the connection failed (a refusal is logged and
   the transaction goes on without) */
static int backend_xclient(struct lmtp_proxy *proxy,
			   struct lmtp_proxy_backend *b, const char **error_r)
{
	struct lmtp_xclient xc = proxy->xclient;
	struct lmtp_reply reply;
	char *line;
	int ret;

	char id[sizeof(xc.session) + 24];

	/* a chain of proxies grows the id: the backend takes 63 bytes */
	snprintf(id, sizeof(id), "%s:P%zu", proxy->xclient.session,
		 (size_t)(b - proxy->backends) + 1);
	snprintf(xc.session, sizeof(xc.session), "%.*s",
		 (int)sizeof(xc.session) - 1, id);
	line = lmtp_xclient_format(&xc, lmtp_client_xclient_offered(b->client));
	if (line == NULL)
		return 0;
	ret = lmtp_client_xclient(b->client, line, proxy->lhlo_name, &reply,
				  error_r);
	free(line);
	if (ret == 0)
		log_warning("proxy: %s:%u: XCLIENT refused: %u %s", b->host,
			    b->port, reply.code, reply.text);
	return ret < 0 ? -1 : 0;
}

/* answered - the backend answered, start (clock_monotonic_usecs) was
   when the command was sent */
static void answered(struct lmtp_proxy_answer *answer, uint64_t start)
{
	answer->answered = true;
	answer->seconds = (double)(clock_monotonic_usecs() - start) / 1e6;
}

/* backend_connect - a new connection to the backend, with TLS as its
   route asks; 0, or -1 with *error_r */
static int backend_connect(struct lmtp_proxy *proxy,
			   struct lmtp_proxy_backend *b, const char **error_r)
{
	struct lmtp_client_tls tls = {
		.ctx = lmtp_proxy_tls,
		.starttls = (b->tls & LMTP_PROXY_STARTTLS) != 0,
		.verify_host = b->host,
	};

	if ((b->tls & LMTP_PROXY_TLS) != 0 && lmtp_proxy_tls == NULL) {
		*error_r = error_slot_set(&lmtp_proxy_error, "TLS: %s",
					  lmtp_proxy_tls_error);
		return -1;
	}
	if ((b->tls & LMTP_PROXY_ANY_CERT) != 0 ||
	    ((b->tls & LMTP_PROXY_TLS) != 0 &&
	     !tls_client_require_valid_cert(lmtp_proxy_tls)))
		tls.verify_host = NULL;
	if (lmtp_client_connect(b->host, b->port, proxy->lhlo_name,
				b->timeout_msecs,
				(b->tls & LMTP_PROXY_TLS) != 0 ? &tls : NULL,
				&b->client, error_r) < 0)
		return -1;
	if ((b->tls & LMTP_PROXY_TLS) != 0)
		log_info("proxy: %s:%u: TLS: %s%s", b->host, b->port,
			 lmtp_client_tls_describe(b->client),
			 tls.verify_host == NULL ? " (certificate not checked)" :
			 "");
	return 0;
}

/* backend_mail - a connection with MAIL FROM accepted, or false with
   b->error and, when the backend refused MAIL, its answer in *out and
   answer_r->answered set (a pooled connection the backend closed is replaced
   once) */
static bool backend_mail(struct lmtp_proxy *proxy, struct lmtp_proxy_backend *b,
			 struct outcome *out, struct lmtp_proxy_answer *answer_r)
{
	struct lmtp_reply reply;
	const char *error;
	uint64_t start;
	char *line;
	bool pooled;
	int ret;

	if (b->mail_sent)
		return b->client != NULL;
	b->mail_sent = true;
	line = xasprintf("MAIL FROM:<%s>", proxy->mail_from);
	for (int attempt = 0; attempt < 2; attempt++) {
		b->client = pool_take(b->host, b->port, b->tls);
		pooled = b->client != NULL;
		if (!pooled && backend_connect(proxy, b, &error) < 0) {
			backend_fail(b, error);
			break;
		}
		ret = backend_xclient(proxy, b, &error);
		start = clock_monotonic_usecs();
		if (ret == 0)
			ret = lmtp_client_command(b->client, line, &reply,
						  &error);
		if (ret == 0 && reply.code / 100 == 2) {
			b->clean = false;
			free(line);
			return true;
		}
		if (ret == 0) {
			/* the backend's own answer for the recipient */
			outcome_from_reply(out, &reply);
			answered(answer_r, start);
			backend_fail(b, "MAIL FROM refused");
			free(line);
			return false;
		}
		backend_fail(b, error);
		if (!pooled)
			break;
	}
	free(line);
	return false;
}

/* unreachable - the 451 of a recipient whose backend cannot answer */
static void unreachable(struct outcome *out)
{
	outcome_tempfail(out, "4.4.0", "Remote server not answering");
}

bool lmtp_proxy_rcpt(struct lmtp_proxy *proxy,
		     const struct lmtp_proxy_route *route, size_t index,
		     const char *address, struct outcome *out,
		     struct lmtp_proxy_answer *answer_r)
{
	struct lmtp_proxy_backend *b = backend_find(proxy, route);
	struct lmtp_reply reply;
	const char *error;
	uint64_t start;
	char *line;
	int ret;

	unreachable(out);
	memset(answer_r, 0, sizeof(*answer_r));
	if (!backend_mail(proxy, b, out, answer_r))
		return false;
	line = xasprintf("RCPT TO:<%s>", address);
	start = clock_monotonic_usecs();
	ret = lmtp_client_command(b->client, line, &reply, &error);
	free(line);
	if (ret < 0) {
		backend_fail(b, error);
		return false;
	}
	outcome_from_reply(out, &reply);
	answered(answer_r, start);
	if (reply.code / 100 != 2)
		return false;
	b->rcpts = xreallocarray(b->rcpts, b->rcpt_count + 1,
				 sizeof(*b->rcpts));
	b->rcpts[b->rcpt_count++] = index;
	return true;
}

/* data_begin - DATA to one backend that accepted recipients, whose
   answers default to our 451; false when there is nothing to send */
static bool data_begin(struct lmtp_proxy_backend *b,
		       struct outcome *const *outs,
		       struct lmtp_proxy_answer *answers)
{
	const char *error;

	for (size_t k = 0; k < b->rcpt_count; k++) {
		unreachable(outs[b->rcpts[k]]);
		memset(&answers[b->rcpts[k]], 0, sizeof(*answers));
	}
	if (b->client == NULL || b->rcpt_count == 0)
		return false;
	b->data_start = clock_monotonic_usecs();
	if (lmtp_client_send(b->client, "DATA", &error) < 0) {
		backend_fail(b, error);
		return false;
	}
	return true;
}

/* data_send - the backend's 354 and the message; false when it refused
   DATA (every recipient gets its answer) or failed */
static bool data_send(struct lmtp_proxy_backend *b, struct message *msg,
		      const char *prefix, struct outcome *const *outs,
		      struct lmtp_proxy_answer *answers)
{
	struct lmtp_reply reply;
	const char *error = NULL;
	uint64_t size;

	if (lmtp_client_read_reply(b->client, &reply, &error) < 0) {
		backend_fail(b, error);
		return false;
	}
	if (reply.code != 354) {
		for (size_t k = 0; k < b->rcpt_count; k++) {
			outcome_from_reply(outs[b->rcpts[k]], &reply);
			answered(&answers[b->rcpts[k]], b->data_start);
		}
		backend_fail(b, "DATA refused");
		return false;
	}
	if (message_write_smtp_data(msg, prefix, strlen(prefix),
				    lmtp_client_write, b->client, &size,
				    &error) < 0) {
		/* the spool unreadable, or the connection failed */
		backend_fail(b, *lmtp_client_error(b->client) != '\0' ?
			     lmtp_client_error(b->client) : error);
		return false;
	}
	return true;
}

/* data_replies - a reply for each of the backend's recipients; on a
   failure the rest keep their 451 */
static void data_replies(struct lmtp_proxy_backend *b,
			 struct outcome *const *outs,
			 struct lmtp_proxy_answer *answers)
{
	struct lmtp_reply reply;
	const char *error;

	for (size_t i = 0; i < b->rcpt_count; i++) {
		if (lmtp_client_read_reply(b->client, &reply, &error) < 0) {
			backend_fail(b, error);
			return;
		}
		outcome_from_reply(outs[b->rcpts[i]], &reply);
		answered(&answers[b->rcpts[i]], b->data_start);
	}
	b->clean = true;
}

/* The backends work side by side: DATA goes to each, then each gets its
   copy of the message in turn and starts storing it while the next one's
   is sent, and only then are the replies read. A transaction takes about
   the slowest backend's time, not the sum of all. */
void lmtp_proxy_data(struct lmtp_proxy *proxy, struct message *msg,
		     const char *prefix, struct outcome *const *outs,
		     struct lmtp_proxy_answer *answers)
{
	struct lmtp_proxy_backend *b;
	bool *sent = xcalloc(proxy->backend_count + 1, sizeof(*sent));

	for (size_t i = 0; i < proxy->backend_count; i++)
		sent[i] = data_begin(&proxy->backends[i], outs, answers);
	for (size_t i = 0; i < proxy->backend_count; i++) {
		b = &proxy->backends[i];
		sent[i] = sent[i] && data_send(b, msg, prefix, outs, answers);
	}
	for (size_t i = 0; i < proxy->backend_count; i++) {
		if (sent[i])
			data_replies(&proxy->backends[i], outs, answers);
	}
	free(sent);
}

void lmtp_proxy_free(struct lmtp_proxy **_proxy)
{
	struct lmtp_proxy *proxy = *_proxy;

	if (proxy == NULL)
		return;
	*_proxy = NULL;
	for (size_t i = 0; i < proxy->backend_count; i++) {
		struct lmtp_proxy_backend *b = &proxy->backends[i];

		if (b->client != NULL && b->clean)
			pool_put(b->host, b->port, b->tls, b->client);
		else
			lmtp_client_free(&b->client);
		free(b->host);
		free(b->rcpts);
	}
	free(proxy->backends);
	free(proxy->mail_from);
	free(proxy->lhlo_name);
	free(proxy);
	close_idle();
}
