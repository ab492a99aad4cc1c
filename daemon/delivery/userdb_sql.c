/*
 * userdb_sql - the sql userdb driver: `userdb { driver = sql args = FILE }`
 * with FILE in Dovecot's dovecot-sql.conf.ext syntax (sql_conf.h), on
 * PostgreSQL (pgsql_pool.h).
 *
 * user_query's variables become query parameters (sql_query.h), never SQL
 * text. The first row's columns are the user's fields (NULL columns are
 * left out, a `userdb_` prefix is dropped, as Dovecot does); no row is
 * "user unknown"; a database that cannot answer within userdb_sql_timeout
 * is an internal (temporary) failure, never "user unknown". The file is
 * read and its queries compiled once per process (a reload starts new
 * processes). It names the database that decides uids and homes, so it is
 * trusted as a passwd-file is (owner root or mail_uid, not writable by
 * others); it holds the database password, so keep it mode 0600 as
 * Dovecot's documentation says.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_io.h"
#include "pgsql_pool.h"
#include "sql_conf.h"
#include "sql_query.h"
#include "userdb_private.h"
#include "xalloc.h"

#define USERDB_SQL_FIELD_PREFIX "userdb_"
/* a bigger file is not a query file */
#define USERDB_SQL_MAX_FILE_SIZE (256 * 1024)

struct userdb_sql {
	char *path;
	struct userdb_sql *next;
	struct sql_conf conf;
	struct sql_query user_query, iterate_query;
	struct pgsql_pool *pool;
};

static pthread_mutex_t userdb_sql_lock = PTHREAD_MUTEX_INITIALIZER;
static struct userdb_sql *userdb_sql_list;

/* sql_read - the file's text (xmalloc'ed), checked as trusted unless
   set is NULL (config time); NULL with *error_r */
static char *sql_read(const struct loft_settings *set, const char *path,
		      const char **error_r)
{
	char *buf;
	ssize_t len;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*error_r = userdb_driver_error("open(%s) failed: %s", path,
					       strerror(errno));
		return NULL;
	}
	if (set != NULL && userdb_file_trusted(set, path, fd, error_r) < 0) {
		close(fd);
		return NULL;
	}
	buf = xmalloc(USERDB_SQL_MAX_FILE_SIZE + 1);
	len = fd_read_to_eof(fd, buf, USERDB_SQL_MAX_FILE_SIZE + 1);
	close(fd);
	if (len < 0 || len > USERDB_SQL_MAX_FILE_SIZE) {
		*error_r = len < 0 ?
			userdb_driver_error("read(%s) failed: %s", path,
					    strerror(errno)) :
			userdb_driver_error("%s: larger than 256 kB", path);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* sql_load - read and compile the file at path; NULL with *error_r */
static struct userdb_sql *sql_load(const struct loft_settings *set,
				   const char *path, const char **error_r)
{
	struct userdb_sql *db;
	const char *error;
	char *text = sql_read(set, path, error_r);
	int ret;

	if (text == NULL)
		return NULL;
	db = xcalloc(1, sizeof(*db));
	ret = sql_conf_parse(path, text, &db->conf, error_r);
	free(text);
	if (ret < 0) {
		free(db);
		return NULL;
	}
	if (sql_query_compile(db->conf.user_query, &db->user_query,
			      &error) < 0) {
		*error_r = userdb_driver_error("%s: user_query: %s", path,
					       error);
	} else if (sql_query_compile(db->conf.iterate_query,
				     &db->iterate_query, &error) < 0) {
		*error_r = userdb_driver_error("%s: iterate_query: %s", path,
					       error);
	} else if (pgsql_pool_check(db->conf.connect, &error) < 0) {
		*error_r = userdb_driver_error("%s: %s", path, error);
	} else {
		db->path = xstrdup(path);
		return db;
	}
	sql_query_free(&db->user_query);
	sql_query_free(&db->iterate_query);
	sql_conf_free(&db->conf);
	free(db);
	return NULL;
}

static void sql_unload(struct userdb_sql *db)
{
	sql_query_free(&db->user_query);
	sql_query_free(&db->iterate_query);
	sql_conf_free(&db->conf);
	free(db->path);
	free(db);
}

static int userdb_sql_validate(const char *args, const char **error_r)
{
	struct userdb_sql *db;

	if (args[0] != '/') {
		*error_r = "args must be the absolute path of the SQL "
			"configuration file";
		return -1;
	}
	db = sql_load(NULL, args, error_r);
	if (db == NULL)
		return -1;
	sql_unload(db);
	return 0;
}

/* sql_get - the loaded file for path, with its pool; NULL with *error_r */
static struct userdb_sql *sql_get(const struct loft_settings *set,
				  const char *path, const char **error_r)
{
	struct userdb_sql *db;

	pthread_mutex_lock(&userdb_sql_lock);
	for (db = userdb_sql_list; db != NULL; db = db->next) {
		if (strcmp(db->path, path) == 0)
			break;
	}
	if (db == NULL) {
		db = sql_load(set, path, error_r);
		if (db != NULL &&
		    pgsql_pool_get(db->conf.connect, &db->pool, error_r) < 0) {
			sql_unload(db);
			db = NULL;
		}
		if (db != NULL) {
			db->next = userdb_sql_list;
			userdb_sql_list = db;
		}
	}
	pthread_mutex_unlock(&userdb_sql_lock);
	return db;
}

/* row_to_reply - the first row's non-NULL columns as fields */
static void row_to_reply(const PGresult *res, struct userdb_reply *reply)
{
	int fields = PQnfields(res);

	for (int i = 0; i < fields; i++) {
		const char *key = PQfname(res, i);

		if (PQgetisnull(res, 0, i))
			continue;
		if (strncmp(key, USERDB_SQL_FIELD_PREFIX,
			    strlen(USERDB_SQL_FIELD_PREFIX)) == 0)
			key += strlen(USERDB_SQL_FIELD_PREFIX);
		if (*key != '\0')
			userdb_reply_set(reply, key, PQgetvalue(res, 0, i));
	}
}

static enum userdb_result
userdb_sql_lookup(const struct loft_settings *set, const char *args,
		  const char *username, struct userdb_reply *reply,
		  const char **error_r)
{
	char *values[SQL_QUERY_MAX_PARAMS];
	struct userdb_sql *db = sql_get(set, args, error_r);
	enum userdb_result result;
	PGresult *res;
	int ret;

	if (db == NULL)
		return USERDB_RESULT_INTERNAL_FAILURE;
	ret = sql_query_bind(&db->user_query, username, values, error_r);
	if (ret < 0)
		return userdb_expand_result(ret);
	ret = pgsql_pool_query(db->pool, db->user_query.text,
			       db->user_query.param_count,
			       (const char *const *)values,
			       (unsigned int)set->userdb_sql_timeout, &res,
			       error_r);
	sql_query_values_free(&db->user_query, values);
	if (ret < 0) {
		*error_r = userdb_driver_error("user_query failed: %s",
					       *error_r);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	result = PQntuples(res) == 0 ? USERDB_RESULT_USER_UNKNOWN :
		USERDB_RESULT_OK;
	if (result == USERDB_RESULT_OK)
		row_to_reply(res, reply);
	PQclear(res);
	return result;
}

/* column - the index of the column called name, or -1 */
static int column(const PGresult *res, const char *name)
{
	return PQfnumber(res, name);
}

/* userdb_sql_iterate - iterate_query's rows: a `user` column, or
   `username` and `domain` joined with '@' (Dovecot's two forms); 1, or
   -1 with *error_r */
static int userdb_sql_iterate(const struct loft_settings *set,
			      const char *args, userdb_iterate_callback_t *cb,
			      void *context, const char **error_r)
{
	struct userdb_sql *db = sql_get(set, args, error_r);
	int user_col, name_col, domain_col, rows;
	PGresult *res;

	if (db == NULL)
		return -1;
	if (db->iterate_query.param_count > 0) {
		*error_r = "iterate_query may not use variables";
		return -1;
	}
	if (pgsql_pool_query(db->pool, db->iterate_query.text, 0, NULL,
			     (unsigned int)set->userdb_sql_timeout, &res,
			     error_r) < 0)
		return -1;
	user_col = column(res, "user");
	name_col = column(res, "username");
	domain_col = column(res, "domain");
	if (user_col < 0 && name_col < 0) {
		PQclear(res);
		*error_r = "iterate_query returns neither a user nor a "
			"username column";
		return -1;
	}
	rows = PQntuples(res);
	for (int r = 0; r < rows; r++) {
		char *name;

		if (user_col >= 0) {
			if (!PQgetisnull(res, r, user_col))
				cb(PQgetvalue(res, r, user_col), context);
			continue;
		}
		if (PQgetisnull(res, r, name_col))
			continue;
		name = domain_col >= 0 && !PQgetisnull(res, r, domain_col) ?
			xasprintf("%s@%s", PQgetvalue(res, r, name_col),
				  PQgetvalue(res, r, domain_col)) :
			xstrdup(PQgetvalue(res, r, name_col));
		cb(name, context);
		free(name);
	}
	PQclear(res);
	return 1;
}

const struct userdb_driver userdb_driver_sql = {
	.name = "sql",
	.validate = userdb_sql_validate,
	.lookup = userdb_sql_lookup,
	.iterate = userdb_sql_iterate,
};
