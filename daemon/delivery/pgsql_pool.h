/*
 * pgsql_pool - PostgreSQL connections for the sql userdb, one pool per
 * distinct `connect` string in a process, shared by its worker threads.
 *
 * The connect string is Dovecot's: libpq's `key=value` words, where
 * several `host=` words name servers tried in turn (the next lookup after
 * a failure starts at the next one) and `maxconns=N` (default 5) bounds
 * the connections per host. Every wait is bounded by the timeout given
 * (connecting, waiting for a free connection, the query itself); a query
 * that times out is cancelled and its connection closed. A connection
 * found broken when reused (the server restarted) is replaced and the
 * query tried once more. A host that refused a connection is not tried
 * again for a second (doubling up to 8), so a database that is down does
 * not cost every lookup a connect attempt, nor fill the log.
 */
#ifndef LOFT_PGSQL_POOL_H
#define LOFT_PGSQL_POOL_H

#include <stddef.h>

#include <libpq-fe.h>

struct pgsql_pool;

/* pgsql_pool_get - the process's pool for connect (made on first use; it
   lives until exit); 0, or -1 with *error_r for a connect string that
   cannot be parsed */
int pgsql_pool_get(const char *connect, struct pgsql_pool **pool_r,
		   const char **error_r);

/* pgsql_pool_check - parse connect as pgsql_pool_get would (config
   time); 0, or -1 with *error_r */
int pgsql_pool_check(const char *connect, const char **error_r);

/* pgsql_pool_query - run text with its parameters; on 0 *result_r is a
   PGRES_TUPLES_OK result (PQclear it), else -1 with *error_r: the
   database could not answer now (a temporary failure, never "no rows") */
int pgsql_pool_query(struct pgsql_pool *pool, const char *text,
		     size_t param_count, const char *const *values,
		     unsigned int timeout_msecs, PGresult **result_r,
		     const char **error_r);

#endif
