/*
 * sql_conf - Dovecot's dovecot-sql.conf.ext, the file a `userdb { driver =
 * sql args = FILE }` names: `key = value` lines, '#' comments, a value
 * continued on the next line by a trailing '\'. loft reads driver (pgsql
 * only), connect, user_query and iterate_query; the passdb keys of a file
 * shared with Dovecot (password_query, default_pass_scheme) are accepted
 * and not used (loft has no passdb); any other key is an error.
 */
#ifndef LOFT_SQL_CONF_H
#define LOFT_SQL_CONF_H

struct sql_conf {
	char *driver;
	char *connect;
	char *user_query;
	char *iterate_query;
};

/* Dovecot's defaults for a file that does not set the queries */
#define SQL_CONF_DEFAULT_USER_QUERY \
	"SELECT home, uid, gid FROM users WHERE userid = '%u'"
#define SQL_CONF_DEFAULT_ITERATE_QUERY "SELECT username AS user FROM users"

/* sql_conf_parse - text (the file's contents, named path in errors) into
   conf; 0, or -1 with *error_r "PATH:LINE: ..." */
int sql_conf_parse(const char *path, const char *text, struct sql_conf *conf_r,
		   const char **error_r);
void sql_conf_free(struct sql_conf *conf);

#endif
