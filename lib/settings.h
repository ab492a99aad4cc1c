/*
 * settings - loft's typed settings and the one table that describes them.
 *
 * The table (settings.c) is the single source of every global setting's
 * name, type, default and one-line documentation; the config parser
 * (config.c) fills a `struct loft_settings` through it, and `loftd -a/-n`
 * print it back. Sizes are bytes, times are milliseconds.
 */
#ifndef LOFT_SETTINGS_H
#define LOFT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kvlist.h"

enum setting_type {
	SETTING_STR,	/* char * */
	SETTING_BOOL,	/* bool: yes/no */
	SETTING_UINT,	/* unsigned int */
	SETTING_SIZE,	/* uint64_t bytes: 10M, 512 k, 1G */
	SETTING_TIME,	/* uint64_t milliseconds: 30 s, 5min, 100 ms */
	SETTING_ENUM,	/* char *, one of def->enum_values (':'-separated) */
	SETTING_MODE,	/* unsigned int, octal file mode: 0600 */
};

struct setting_def {
	const char *name;
	enum setting_type type;
	size_t offset;		/* into the owning struct */
	const char *default_value; /* as config text */
	const char *enum_values;   /* SETTING_ENUM only: "a:b:c", first is default */
	const char *doc;
};

enum mail_fsync_mode {
	MAIL_FSYNC_OPTIMIZED,	/* fsync the mail and the new/ directory once */
	MAIL_FSYNC_ALWAYS,	/* additionally fsync every directory touched */
	MAIL_FSYNC_NEVER,
};

/* a service's vsz_limit that means "default_vsz_limit" (Dovecot's 2^64-1) */
#define SERVICE_VSZ_LIMIT_DEFAULT UINT64_MAX

enum listener_type { LISTENER_UNIX, LISTENER_FIFO, LISTENER_INET };

struct listener_settings {
	enum listener_type type;
	char *name;		/* "lmtp", "http", ... */
	/* unix/fifo */
	char *path;		/* relative to base_dir unless absolute */
	unsigned int mode;	/* 0: the listener is off */
	bool mode_decimal;	/* written without a leading 0 (warned about) */
	char *user, *group;
	/* inet */
	char *address;		/* space/comma separated list, "*" and "::" */
	unsigned int port;	/* 0 disables */
	bool ssl, haproxy;
	/* where it was defined, for messages */
	char *file;
	unsigned int line;
};

struct service_settings {
	char *name;
	char *executable, *type, *protocol, *user, *group, *extra_groups;
	char *privileged_group;
	char *chroot;		/* relative to base_dir unless absolute */
	bool drop_priv_before_exec;
	unsigned int client_limit, service_count, process_limit;
	unsigned int process_min_avail;
	uint64_t idle_kill;	/* ms; 0 = default_idle_kill */
	uint64_t vsz_limit;	/* bytes; 0 = no limit,
				   SERVICE_VSZ_LIMIT_DEFAULT = default_vsz_limit */
	struct listener_settings *listeners;
	size_t listener_count;
	char *file;
	unsigned int line;
};

struct userdb_settings {
	char *name;
	char *driver;		/* passwd-file | static | passwd */
	char *args;
	char *default_fields, *override_fields;
	char *skip;		/* never | found | notfound */
	char *file;
	unsigned int line;
};

struct loft_settings {
	/* general */
	char *base_dir;
	char *hostname;
	char *protocols;
	char *listen;
	char *haproxy_trusted_networks;	/* "10.0.0.0/8 ::1" */
	char *login_trusted_networks;	/* XCLIENT from these */
	char *mail_temp_dir;

	/* TLS (LMTP STARTTLS and ssl = yes listeners; lib/tls.h) */
	char *ssl;			/* no | yes | required */
	char *ssl_cert, *ssl_key;	/* PEM text (`<file` reads the file) */
	char *ssl_alt_cert, *ssl_alt_key; /* a second pair (RSA + ECDSA) */
	char *ssl_key_password;
	char *ssl_ca;			/* PEM: CAs for client certificates */
	bool ssl_verify_client_cert;
	char *ssl_min_protocol;
	char *ssl_cipher_list, *ssl_cipher_suites, *ssl_curve_list;
	bool ssl_prefer_server_ciphers;
	char *ssl_dh;			/* PEM DH parameters ("": built-in) */
	char *ssl_options;		/* "no_compression no_ticket" */
	/* the LMTP proxy's TLS to backends (tls_client_create) */
	char *ssl_client_ca_file, *ssl_client_ca_dir;	/* paths */
	bool ssl_client_require_valid_cert;

	/* mail storage */
	char *mail_home;
	char *mail_location;
	char *mail_uid, *mail_gid;
	unsigned int first_valid_uid, last_valid_uid;
	unsigned int first_valid_gid, last_valid_gid;
	char *mail_privileged_group;
	char *mail_fsync;		/* enum text; see settings_mail_fsync() */
	uint64_t mail_max_lock_timeout;	/* ms, 0 = mbox_lock_timeout */
	uint64_t mbox_lock_timeout;	/* ms */
	uint64_t mbox_dotlock_change_timeout; /* ms: stale dotlock age */
	char *mbox_write_locks;		/* "dotlock fcntl" */
	bool mail_debug;
	char *mail_plugins;
	bool quota_full_tempfail;

	/* delivery */
	char *auth_username_chars;	/* allowed in a recipient name */
	char *auth_username_translation; /* "ab": 'a' becomes 'b' */
	char *auth_username_format;	/* userdb lookup key, "%Lu" */
	uint64_t auth_cache_size;	/* bytes; 0: no userdb cache */
	uint64_t auth_cache_ttl;	/* ms */
	uint64_t auth_cache_negative_ttl; /* ms; 0: unknown not cached */
	uint64_t userdb_sql_timeout;	/* ms */
	char *auth_socket_path;		/* loft-lda's auth-userdb socket */
	char *recipient_delimiter;
	bool lda_mailbox_autocreate;
	bool lda_mailbox_autosubscribe;
	char *lda_original_recipient_header;
	char *sendmail_path;
	char *submission_host;		/* "" = sendmail_path */
	uint64_t submission_timeout;	/* ms */
	char *postmaster_address;	/* "" = postmaster@DOMAIN */
	char *rejection_subject;
	char *rejection_reason;
	char *deliver_log_format;
	bool lmtp_save_to_detail_mailbox;
	bool lmtp_add_received_header;
	bool lmtp_rcpt_check_quota;
	char *lmtp_hdr_delivery_address; /* final | original | none */
	bool lmtp_proxy;		/* relay proxy=y host=H users */
	unsigned int lmtp_user_concurrency_limit;
	uint64_t lmtp_max_message_size;	/* bytes, 0 = unlimited */
	unsigned int lmtp_max_recipients; /* 0 = unlimited */
	uint64_t lmtp_client_idle_timeout; /* ms */

	/* logging */
	char *log_path, *info_log_path, *debug_log_path;
	char *syslog_facility;
	char *log_timestamp;
	char *log_format;		/* text | json */

	/* services and admin */
	unsigned int default_process_limit, default_client_limit;
	uint64_t default_idle_kill;	/* ms */
	uint64_t default_vsz_limit;	/* bytes */
	char *default_internal_user;
	char *default_internal_group;	/* "": the user's primary group */
	char *default_login_user;	/* only for $references */
	char *http_api_key;
	char *http_api_allowed_hosts;	/* more Host names for the HTTP API */
	unsigned int stats_journal_size;	/* in-memory recent window */
	char *state_dir;		/* "": no disk journal */
	uint64_t stats_journal_max_age;	/* ms; 0: no limit */
	uint64_t stats_journal_max_size;	/* bytes; 0: no limit */
	char *admin_socket_group;	/* widens base_dir/admin to 0660 */
	uint64_t fleet_timeout;		/* ms: loftadm -H, per host */

	/* sections */
	struct userdb_settings *userdbs;
	size_t userdb_count;
	struct service_settings *services;
	size_t service_count;
	struct kvlist plugin;		/* plugin { } free-form settings */
	struct kvlist fleet;		/* fleet { NAME = URL }, in file order */
	/* Dovecot settings and sections the file has that loft does not
	   use (dovecot_settings.h): "auth_mechanisms", "service imap" ...
	   -> "FILE:LINE" of the first one, in file order */
	struct kvlist not_used;
};

/* The global settings table, NULL-terminated; offsets into loft_settings. */
extern const struct setting_def loft_setting_defs[];
/* Tables for service { }, listener { } and userdb { } blocks. */
extern const struct setting_def loft_service_setting_defs[];
extern const struct setting_def loft_listener_setting_defs[];
extern const struct setting_def loft_userdb_setting_defs[];

/* settings_init - fill set with every default from the table */
void settings_init(struct loft_settings *set);
void settings_free(struct loft_settings *set);
void settings_copy(struct loft_settings *dest, const struct loft_settings *src);

/* setting_find - the definition named name in defs, or NULL */
const struct setting_def *setting_find(const struct setting_def *defs,
				       const char *name);
/* setting_parse_value - parse value per def into the struct at base;
   0 or -1 with *error_r ("Invalid size: 10X") */
int setting_parse_value(const struct setting_def *def, void *base,
			const char *value, const char **error_r);
/* settings_set - set a global setting by name ("mail_fsync", "always");
   used for -o overrides. 0, or -1 with *error_r */
int settings_set(struct loft_settings *set, const char *name,
		 const char *value, const char **error_r);

/* Value parsers, exposed for tests and for the programs' own flags. */
int settings_parse_size(const char *str, uint64_t *bytes_r, const char **error_r);
int settings_parse_time(const char *str, uint64_t *msecs_r, const char **error_r);
int settings_parse_bool(const char *str, bool *value_r, const char **error_r);
/* settings_mode_is_decimal - a mode value without a leading 0, which
   Dovecot (and so loft) reads as a decimal number */
bool settings_mode_is_decimal(const char *str);

enum mail_fsync_mode settings_mail_fsync(const struct loft_settings *set);

/* settings_name_in - name is one of the count strings of names */
bool settings_name_in(const char *name, const char *const *names, size_t count);

/* settings_value_in_list - value is one of the ':'-separated values
   ("a:b:c", as enum_values; "" is the empty value) */
bool settings_value_in_list(const char *values, const char *value,
			    bool ignore_case);

/* Table-generic helpers, for any of the four tables above (base is the
   struct the table's offsets point into). */
struct strbuf;
/* settings_defs_init - set every field named in defs to its default */
void settings_defs_init(const struct setting_def *defs, void *base);
/* settings_defs_free - free the string fields named in defs (zeroing them) */
void settings_defs_free(const struct setting_def *defs, void *base);
/* settings_defs_copy - deep-copy the fields named in defs from src */
void settings_defs_copy(const struct setting_def *defs, void *dest,
			const void *src);
/* setting_check_value - 0 when value is valid for def (nothing is stored),
   or -1 with *error_r */
int setting_check_value(const struct setting_def *def, const char *value,
			const char **error_r);
/* setting_format_value - append the value as canonical config text,
   unquoted ("50M", "5 mins", "yes", "0600") */
void setting_format_value(const struct setting_def *def, const void *base,
			  struct strbuf *out);
/* setting_is_default - whether the value equals def's default */
bool setting_is_default(const struct setting_def *def, const void *base);
/* setting_listener_applies - whether a loft_listener_setting_defs entry
   belongs in a listener of type (path/mode/user/group for unix and fifo,
   address/port/ssl/haproxy for inet) */
bool setting_listener_applies(const struct setting_def *def,
			      enum listener_type type);

/* settings_write - print settings as valid config text: all of them, or
   only those that differ from the defaults; with '# doc' comments when all */
void settings_write(const struct loft_settings *set, FILE *out, bool all);
/* settings_print - settings_write for people (loftd -n/-a): secrets
   (http_api_key) are replaced by "# hidden, use -P to show it" unless
   show_secrets */
void settings_print(const struct loft_settings *set, FILE *out, bool all,
		    bool show_secrets);
/* settings_print_named - the global settings named in names, in that
   order: "name = value" lines as `doveconf NAME` prints them, or with
   values_only just the values, one a line (`doveconf -h NAME`);
   changed_only leaves out those at their default (`doveconf -n NAME`).
   Secrets are hidden as in settings_print; values_only refuses them.
   0, or -1 with *error_r ("Unknown setting: x") before anything is
   printed. */
int settings_print_named(const struct loft_settings *set,
			 char *const *names, size_t count, FILE *out,
			 bool values_only, bool changed_only,
			 bool show_secrets, const char **error_r);
/* settings_print_protocol - "protocol NAME { ... }" with the global
   settings whose value in view differs from base (nothing when none do);
   secrets hidden as in settings_print */
void settings_print_protocol(const struct loft_settings *base,
			     const struct loft_settings *view,
			     const char *protocol, FILE *out,
			     bool show_secrets);

#endif
