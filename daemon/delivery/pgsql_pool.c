/*
 * pgsql_pool - bounded PostgreSQL connection pools (see pgsql_pool.h).
 * Connecting and querying happen outside the pool's lock, on the calling
 * worker thread, with libpq's non-blocking calls and poll() so that every
 * step ends by the caller's deadline.
 */
#include "pgsql_pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error_slot.h"
#include "strbuf.h"
#include "xalloc.h"

#define PGSQL_POOL_DEFAULT_MAXCONNS 5
#define PGSQL_POOL_MAX_MAXCONNS 100
#define PGSQL_POOL_MAX_HOSTS 16
#define PGSQL_POOL_BACKOFF_MIN_MSECS 1000
#define PGSQL_POOL_BACKOFF_MAX_MSECS 8000

struct pgsql_host {
	char *conninfo;		/* the other words plus this host= */
	uint64_t down_until;	/* monotonic msecs: not tried before */
	uint64_t backoff_msecs;
	char *last_error;	/* why it is down */
};

struct pgsql_slot {
	PGconn *conn;		/* NULL: free to connect */
	size_t host;
	bool busy;
};

struct pgsql_pool {
	char *connect;
	struct pgsql_pool *next;

	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct pgsql_host hosts[PGSQL_POOL_MAX_HOSTS];
	size_t host_count, next_host;
	struct pgsql_slot *slots;
	size_t slot_count;
};

static pthread_mutex_t pgsql_pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pgsql_pool *pgsql_pools;
static __thread struct error_slot pgsql_pool_error;

/* word_end - the end of the libpq word at p (a value may be '...' with
   backslash escapes) */
static const char *word_end(const char *p)
{
	bool quoted = false;

	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '\'')
			quoted = !quoted;
		else if (!quoted && (*p == ' ' || *p == '\t'))
			break;
	}
	return p;
}

/* append_quoted - key='value' with libpq's escapes */
static void append_quoted(struct strbuf *buf, const char *key,
			  const char *value, size_t len)
{
	strbuf_appendf(buf, " %s='", key);
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\'' || value[i] == '\\')
			strbuf_putc(buf, '\\');
		strbuf_putc(buf, value[i]);
	}
	strbuf_putc(buf, '\'');
}

/* pool_parse - split connect into the hosts' conninfo strings and
   maxconns; 0 or -1 with *error_r */
static int pool_parse(const char *connect, char *conninfo_r[PGSQL_POOL_MAX_HOSTS],
		      size_t *host_count_r, unsigned int *maxconns_r,
		      const char **error_r)
{
	const char *hosts[PGSQL_POOL_MAX_HOSTS], *p = connect;
	size_t host_lens[PGSQL_POOL_MAX_HOSTS], count = 0;
	struct strbuf rest;
	bool has_timeout = false;
	char *end;

	*maxconns_r = PGSQL_POOL_DEFAULT_MAXCONNS;
	strbuf_init(&rest, strlen(connect) + 32);
	while (*p != '\0') {
		const char *e;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		e = word_end(p);
		if (strncmp(p, "host=", 5) == 0) {
			if (count == PGSQL_POOL_MAX_HOSTS) {
				*error_r = "too many host= entries";
				strbuf_free(&rest);
				return -1;
			}
			hosts[count] = p + 5;
			host_lens[count++] = (size_t)(e - p - 5);
		} else if (strncmp(p, "maxconns=", 9) == 0) {
			unsigned long n = strtoul(p + 9, &end, 10);

			if (end != e || n == 0 || n > PGSQL_POOL_MAX_MAXCONNS) {
				*error_r = "maxconns must be 1..100";
				strbuf_free(&rest);
				return -1;
			}
			*maxconns_r = (unsigned int)n;
		} else {
			if (memchr(p, '=', (size_t)(e - p)) == NULL) {
				*error_r = error_slot_set(&pgsql_pool_error,
					"connect: %.*s: not key=value",
					(int)(e - p), p);
				strbuf_free(&rest);
				return -1;
			}
			if (strncmp(p, "connect_timeout=", 16) == 0)
				has_timeout = true;
			strbuf_putc(&rest, ' ');
			strbuf_append(&rest, p, (size_t)(e - p));
		}
		p = e;
	}
	/* libpq waits for ever by default */
	if (!has_timeout)
		strbuf_append_str(&rest, " connect_timeout=5");
	if (count == 0) {
		conninfo_r[0] = strbuf_detach(&rest);
		*host_count_r = 1;
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		struct strbuf info;
		const char *h = hosts[i];
		size_t len = host_lens[i];

		strbuf_init(&info, rest.len + len + 16);
		strbuf_append(&info, rest.data, rest.len);
		if (len >= 2 && h[0] == '\'' && h[len - 1] == '\'')
			strbuf_appendf(&info, " host=%.*s", (int)len, h);
		else
			append_quoted(&info, "host", h, len);
		conninfo_r[i] = strbuf_detach(&info);
	}
	*host_count_r = count;
	strbuf_free(&rest);
	return 0;
}

int pgsql_pool_check(const char *connect, const char **error_r)
{
	char *conninfo[PGSQL_POOL_MAX_HOSTS];
	size_t count;
	unsigned int maxconns;
	char *err = NULL;
	PQconninfoOption *opts;
	int ret = 0;

	if (pool_parse(connect, conninfo, &count, &maxconns, error_r) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		opts = ret == 0 ? PQconninfoParse(conninfo[i], &err) : NULL;
		if (ret == 0 && opts == NULL) {
			*error_r = error_slot_set(&pgsql_pool_error,
				"connect: %s", err != NULL ? err :
				"out of memory");
			PQfreemem(err);
			ret = -1;
		}
		PQconninfoFree(opts);
		free(conninfo[i]);
	}
	return ret;
}

int pgsql_pool_get(const char *connect, struct pgsql_pool **pool_r,
		   const char **error_r)
{
	char *conninfo[PGSQL_POOL_MAX_HOSTS];
	struct pgsql_pool *pool;
	unsigned int maxconns;
	size_t count;

	pthread_mutex_lock(&pgsql_pools_lock);
	for (pool = pgsql_pools; pool != NULL; pool = pool->next) {
		if (strcmp(pool->connect, connect) == 0)
			break;
	}
	if (pool == NULL) {
		if (pgsql_pool_check(connect, error_r) < 0 ||
		    pool_parse(connect, conninfo, &count, &maxconns,
			       error_r) < 0) {
			pthread_mutex_unlock(&pgsql_pools_lock);
			return -1;
		}
		pool = xcalloc(1, sizeof(*pool));
		pool->connect = xstrdup(connect);
		pthread_mutex_init(&pool->lock, NULL);
		pthread_cond_init(&pool->freed, NULL);
		for (size_t i = 0; i < count; i++)
			pool->hosts[i].conninfo = conninfo[i];
		pool->host_count = count;
		pool->slot_count = count * maxconns;
		pool->slots = xcalloc(pool->slot_count, sizeof(*pool->slots));
		pool->next = pgsql_pools;
		pgsql_pools = pool;
	}
	pthread_mutex_unlock(&pgsql_pools_lock);
	*pool_r = pool;
	return 0;
}

/* remaining - msecs to deadline, 0 when past */
static int remaining(uint64_t deadline)
{
	uint64_t now = clock_monotonic_msecs();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* wait_socket - poll conn's socket for events until deadline; 1 ready,
   0 timed out, -1 error */
static int wait_socket(PGconn *conn, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = events };
	int ret;

	if (pfd.fd < 0)
		return -1;
	do {
		ret = poll(&pfd, 1, remaining(deadline));
	} while (ret < 0 && errno == EINTR);
	return ret;
}

/* host_connect - a connection to host h by deadline, or NULL with
   *error_r */
static PGconn *host_connect(const struct pgsql_host *h, uint64_t deadline,
			    const char **error_r)
{
	PGconn *conn = PQconnectStart(h->conninfo);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (conn == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		int ret = wait_socket(conn, st == PGRES_POLLING_READING ?
				      POLLIN : POLLOUT, deadline);

		if (ret <= 0) {
			*error_r = ret == 0 ? "connecting timed out" :
				"connecting failed";
			PQfinish(conn);
			return NULL;
		}
		st = PQconnectPoll(conn);
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		*error_r = error_slot_set(&pgsql_pool_error, "%s",
					  PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	if (PQsetnonblocking(conn, 1) != 0) {
		*error_r = "PQsetnonblocking failed";
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* pool_connect - connect slot to the first host that is not resting,
   starting at the next one in turn (lock not held); 0 or -1 */
static int pool_connect(struct pgsql_pool *pool, struct pgsql_slot *slot,
			uint64_t deadline, const char **error_r)
{
	const char *error = "every host is down";
	size_t first;

	pthread_mutex_lock(&pool->lock);
	first = pool->next_host;
	pool->next_host = (pool->next_host + 1) % pool->host_count;
	pthread_mutex_unlock(&pool->lock);
	for (size_t k = 0; k < pool->host_count; k++) {
		size_t i = (first + k) % pool->host_count;
		struct pgsql_host *h = &pool->hosts[i];
		uint64_t now = clock_monotonic_msecs();
		PGconn *conn;
		bool resting;

		pthread_mutex_lock(&pool->lock);
		resting = h->down_until > now;
		if (resting)
			error = error_slot_set(&pgsql_pool_error,
				"not retried for %u ms after: %s",
				(unsigned int)(h->down_until - now),
				h->last_error != NULL ? h->last_error : "?");
		pthread_mutex_unlock(&pool->lock);
		if (resting)
			continue;
		conn = host_connect(h, deadline, &error);
		pthread_mutex_lock(&pool->lock);
		if (conn != NULL) {
			h->backoff_msecs = 0;
			h->down_until = 0;
			slot->conn = conn;
			slot->host = i;
		} else {
			h->backoff_msecs = h->backoff_msecs == 0 ?
				PGSQL_POOL_BACKOFF_MIN_MSECS :
				h->backoff_msecs * 2;
			if (h->backoff_msecs > PGSQL_POOL_BACKOFF_MAX_MSECS)
				h->backoff_msecs = PGSQL_POOL_BACKOFF_MAX_MSECS;
			h->down_until = clock_monotonic_msecs() +
				h->backoff_msecs;
			free(h->last_error);
			h->last_error = xstrdup(error);
			/* the slot's error text, not the slot's host */
			error = error_slot_set(&pgsql_pool_error, "%s",
					       h->last_error);
		}
		pthread_mutex_unlock(&pool->lock);
		if (conn != NULL)
			return 0;
	}
	*error_r = error;
	return -1;
}

/* pool_acquire - a slot marked busy, connected or to be connected by
   the caller; NULL when none freed up by deadline */
static struct pgsql_slot *pool_acquire(struct pgsql_pool *pool,
				       uint64_t deadline)
{
	struct pgsql_slot *free_slot, *idle;
	struct timespec ts;
	uint64_t usecs;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		free_slot = idle = NULL;
		for (size_t i = 0; i < pool->slot_count && idle == NULL; i++) {
			struct pgsql_slot *s = &pool->slots[i];

			if (s->busy)
				continue;
			if (s->conn != NULL)
				idle = s;
			else if (free_slot == NULL)
				free_slot = s;
		}
		if (idle != NULL || free_slot != NULL)
			break;
		if (remaining(deadline) == 0) {
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		usecs = (uint64_t)ts.tv_nsec / 1000 +
			(uint64_t)remaining(deadline) * 1000;
		ts.tv_sec += (time_t)(usecs / 1000000);
		ts.tv_nsec = (long)(usecs % 1000000) * 1000;
		pthread_cond_timedwait(&pool->freed, &pool->lock, &ts);
	}
	if (idle == NULL)
		idle = free_slot;
	idle->busy = true;
	pthread_mutex_unlock(&pool->lock);
	return idle;
}

/* pool_release - give slot back; drop closes its connection */
static void pool_release(struct pgsql_pool *pool, struct pgsql_slot *slot,
			 bool drop)
{
	PGconn *conn = NULL;

	pthread_mutex_lock(&pool->lock);
	if (drop) {
		conn = slot->conn;
		slot->conn = NULL;
	}
	slot->busy = false;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
	if (conn != NULL)
		PQfinish(conn);
}

/* cancel - ask the server to stop the running query (best effort) */
static void cancel(PGconn *conn)
{
	PGcancel *c = PQgetCancel(conn);
	char buf[256];

	if (c != NULL) {
		(void)PQcancel(c, buf, sizeof(buf));
		PQfreeCancel(c);
	}
}

/* run_query - send the query on conn and wait for its result by
   deadline; 0 with *result_r, or -1 with *error_r */
static int run_query(PGconn *conn, const char *text, size_t param_count,
		     const char *const *values, uint64_t deadline,
		     PGresult **result_r, const char **error_r)
{
	PGresult *res, *first = NULL;
	int ret;

	if (PQsendQueryParams(conn, text, (int)param_count, NULL, values,
			      NULL, NULL, 0) == 0) {
		*error_r = error_slot_set(&pgsql_pool_error, "%s",
					  PQerrorMessage(conn));
		return -1;
	}
	while ((ret = PQflush(conn)) == 1) {
		if (wait_socket(conn, POLLOUT, deadline) <= 0)
			goto timeout;
	}
	if (ret < 0)
		goto failed;
	for (;;) {
		while (PQisBusy(conn)) {
			ret = wait_socket(conn, POLLIN, deadline);
			if (ret == 0)
				goto timeout;
			if (ret < 0 || PQconsumeInput(conn) == 0)
				goto failed;
		}
		res = PQgetResult(conn);
		if (res == NULL)
			break;
		if (first == NULL)
			first = res;
		else
			PQclear(res);
	}
	if (first == NULL || PQresultStatus(first) != PGRES_TUPLES_OK) {
		*error_r = error_slot_set(&pgsql_pool_error, "%s",
			first != NULL ? PQresultErrorMessage(first) :
			"no result");
		PQclear(first);
		return -1;
	}
	*result_r = first;
	return 0;
timeout:
	cancel(conn);
	PQclear(first);
	*error_r = "query timed out";
	return -1;
failed:
	PQclear(first);
	*error_r = error_slot_set(&pgsql_pool_error, "%s",
				  PQerrorMessage(conn));
	return -1;
}

/* trim_newline - libpq's messages end in a newline */
static const char *trim_newline(const char *msg)
{
	size_t len = strlen(msg);

	if (len > 0 && msg[len - 1] == '\n')
		msg = error_slot_set(&pgsql_pool_error, "%.*s", (int)len - 1,
				     msg);
	return msg;
}

int pgsql_pool_query(struct pgsql_pool *pool, const char *text,
		     size_t param_count, const char *const *values,
		     unsigned int timeout_msecs, PGresult **result_r,
		     const char **error_r)
{
	uint64_t deadline = clock_monotonic_msecs() + timeout_msecs;
	const char *error = "no free connection in time";
	struct pgsql_slot *slot;
	bool reused, broken;
	int ret = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		slot = pool_acquire(pool, deadline);
		if (slot == NULL)
			break;
		reused = slot->conn != NULL;
		if (!reused && pool_connect(pool, slot, deadline, &error) < 0) {
			pool_release(pool, slot, true);
			break;
		}
		ret = run_query(slot->conn, text, param_count, values,
				deadline, result_r, &error);
		broken = ret < 0 && (PQstatus(slot->conn) != CONNECTION_OK ||
				     PQtransactionStatus(slot->conn) !=
				     PQTRANS_IDLE);
		pool_release(pool, slot, broken);
		/* a connection the server closed while it sat idle: once
		   more on a new one */
		if (ret == 0 || !broken || !reused || remaining(deadline) == 0)
			break;
	}
	if (ret < 0)
		*error_r = trim_newline(error);
	return ret;
}
