/*
 * settings - the setting tables, the typed value parsers, deep copy/free
 * and the config-text writer (see settings.h).
 *
 * Every table entry names a field by offset; a compile-time _Generic check
 * makes sure the field's C type matches the setting type, so the table and
 * struct loft_settings cannot drift apart silently. Values are parsed from
 * and printed back to config text with the same unit vocabulary, so what
 * settings_write() prints reads back identically through config_load().
 */
#include "settings.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "install_paths.h"
#include "strbuf.h"
#include "xalloc.h"

/* C type of a field for each setting type (used by the table check) */
#define SETTING_CTYPE_STR char *
#define SETTING_CTYPE_ENUM char *
#define SETTING_CTYPE_BOOL bool
#define SETTING_CTYPE_UINT unsigned int
#define SETTING_CTYPE_MODE unsigned int
#define SETTING_CTYPE_SIZE uint64_t
#define SETTING_CTYPE_TIME uint64_t

/* 0, or a compile error when stype.field is not of C type ctype */
#define SETTING_TYPE_CHECK(stype, field, ctype) \
	(0 * sizeof(char[_Generic(((stype *)0)->field, ctype: 1, default: -1)]))

#define SETTING_DEF(stype, T, field, def, enums, doc) \
	{ #field, SETTING_##T, \
	  offsetof(stype, field) + \
		SETTING_TYPE_CHECK(stype, field, SETTING_CTYPE_##T), \
	  def, enums, doc }

#define G(T, field, def, doc) \
	SETTING_DEF(struct loft_settings, T, field, def, NULL, doc)
#define G_ENUM(field, values, doc) \
	SETTING_DEF(struct loft_settings, ENUM, field, \
		    settings_first_enum_##field, values, doc)
#define SV(T, field, def, doc) \
	SETTING_DEF(struct service_settings, T, field, def, NULL, doc)
#define LS(T, field, def, doc) \
	SETTING_DEF(struct listener_settings, T, field, def, NULL, doc)
#define UD(T, field, def, doc) \
	SETTING_DEF(struct userdb_settings, T, field, def, NULL, doc)
#define SETTING_END { NULL, SETTING_STR, 0, NULL, NULL, NULL }

/* the default of each enum setting: the first of its values */
static const char settings_first_enum_mail_fsync[] = "optimized";
static const char settings_first_enum_lmtp_hdr_delivery_address[] = "final";
static const char settings_first_enum_log_format[] = "text";
static const char settings_first_enum_skip[] = "never";
static const char settings_first_enum_ssl[] = "no";
static const char settings_first_enum_ssl_min_protocol[] = "TLSv1.2";

const struct setting_def loft_setting_defs[] = {
	/* general */
	G(STR, base_dir, LOFT_BASE_DIR,
	  "Directory for runtime data: sockets, pid file, stats socket"),
	G(STR, hostname, "",
	  "Host name used in LMTP replies and headers (empty: the system host name)"),
	G(STR, protocols, "lmtp", "Protocols loftd serves"),
	G(STR, listen, "*, ::",
	  "Addresses inet listeners bind to when they name none (* all IPv4, "
	  ":: all IPv6; the stats service's listeners use 127.0.0.1 instead)"),
	G(STR, haproxy_trusted_networks, "",
	  "Addresses and CIDR ranges allowed to send a PROXY header to a "
	  "haproxy = yes listener (empty: none; others are disconnected)"),
	G(STR, login_trusted_networks, "",
	  "Addresses and CIDR ranges of LMTP proxies allowed to send XCLIENT "
	  "(the original client's address, the proxy's session id and the hop "
	  "count; empty: none)"),
	G(STR, mail_temp_dir, "/tmp",
	  "Directory for temporary copies of incoming mail"),

	/* TLS: Dovecot's names and meanings (the default of ssl differs:
	   Dovecot's is yes, with a certificate path loft cannot assume) */
	G_ENUM(ssl, "no:yes:required",
	       "TLS for LMTP: no, yes (STARTTLS offered; ssl = yes listeners) "
	       "or required (also refuses commands but LHLO, STARTTLS, NOOP and "
	       "QUIT before STARTTLS, except from local peers)"),
	G(STR, ssl_cert, "",
	  "PEM certificate (and chain) served: ssl_cert = </path/cert.pem"),
	G(STR, ssl_key, "", "PEM private key of ssl_cert: ssl_key = </path/key.pem"),
	G(STR, ssl_alt_cert, "",
	  "A second PEM certificate of another key type (RSA beside ECDSA)"),
	G(STR, ssl_alt_key, "", "PEM private key of ssl_alt_cert"),
	G(STR, ssl_key_password, "", "Password of an encrypted ssl_key (and ssl_alt_key)"),
	G(STR, ssl_ca, "",
	  "PEM CA certificates client certificates are verified against "
	  "(with ssl_verify_client_cert)"),
	G(BOOL, ssl_verify_client_cert, "no",
	  "Require LMTP clients to present a certificate ssl_ca verifies"),
	G_ENUM(ssl_min_protocol, "TLSv1.2:SSLv3:TLSv1:TLSv1.1:TLSv1.3:ANY:LATEST",
	       "Oldest TLS version accepted"),
	G(STR, ssl_cipher_list,
	  "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH",
	  "OpenSSL cipher list for TLS 1.2 and older"),
	G(STR, ssl_cipher_suites, "",
	  "OpenSSL TLS 1.3 cipher suites (empty: OpenSSL's default)"),
	G(STR, ssl_curve_list, "",
	  "OpenSSL key exchange groups, colon separated (empty: OpenSSL's default)"),
	G(BOOL, ssl_prefer_server_ciphers, "no",
	  "Choose the cipher by the server's order, not the client's"),
	G(STR, ssl_dh, "",
	  "PEM Diffie-Hellman parameters for DHE ciphers: ssl_dh = </path/dh.pem "
	  "(empty: OpenSSL's built-in groups)"),
	G(STR, ssl_options, "",
	  "Space-separated: no_compression (always on in loft), no_ticket "
	  "(no TLS session tickets)"),
	G(STR, ssl_client_ca_file, "",
	  "CA certificates (a PEM file) the LMTP proxy verifies its backends' "
	  "certificates against (ssl=yes, starttls=yes; with ssl_client_ca_dir "
	  "empty too: OpenSSL's default CAs)"),
	G(STR, ssl_client_ca_dir, "",
	  "A directory of hashed CA certificates (c_rehash) for the same"),
	G(BOOL, ssl_client_require_valid_cert, "yes",
	  "Refuse a backend whose certificate does not verify or does not "
	  "name its host (no: as if every route said any-cert)"),

	/* mail storage */
	G(STR, mail_home, "",
	  "Home directory of a user when the userdb gives none (%variables)"),
	G(STR, mail_location, "",
	  "Mail storage: maildir:PATH[:LAYOUT=fs][:INBOX=..] or mbox:PATH[:INBOX=FILE]"),
	G(STR, mail_uid, "", "System user mail is written as (empty: the userdb's uid)"),
	G(STR, mail_gid, "", "System group mail is written as (empty: the userdb's gid)"),
	G(UINT, first_valid_uid, "500", "Lowest uid allowed to receive mail"),
	G(UINT, last_valid_uid, "0", "Highest uid allowed to receive mail (0: no limit)"),
	G(UINT, first_valid_gid, "1", "Lowest gid allowed to receive mail"),
	G(UINT, last_valid_gid, "0", "Highest gid allowed to receive mail (0: no limit)"),
	G(STR, mail_privileged_group, "",
	  "Group that may create dotlocks in /var/mail"),
	G_ENUM(mail_fsync, "optimized:always:never",
	       "When to fsync mail: optimized, always or never"),
	G(TIME, mail_max_lock_timeout, "0",
	  "Longest wait for a mailbox lock (0: use mbox_lock_timeout)"),
	G(TIME, mbox_lock_timeout, "5 mins", "Longest wait for all mbox locks"),
	G(TIME, mbox_dotlock_change_timeout, "2 mins",
	  "Age after which an unchanged mbox dotlock is overridden"),
	G(STR, mbox_write_locks, "dotlock fcntl",
	  "Locking methods used when writing an mbox, in order"),
	G(BOOL, mail_debug, "no", "Log debug messages about mail delivery"),
	G(STR, mail_plugins, "", "Space-separated list of plugins to load"),
	G(BOOL, quota_full_tempfail, "no",
	  "Answer a full quota with a temporary instead of a permanent failure"),

	/* delivery */
	G(STR, auth_username_chars,
	  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@",
	  "Characters a recipient name may have; others are refused before "
	  "any lookup (empty: all)"),
	G(STR, auth_username_translation, "",
	  "Pairs of characters: each first one in a recipient name becomes the "
	  "second, before auth_username_chars is checked"),
	G(STR, auth_username_format, "%Lu",
	  "Recipient name as looked up in the userdb (%Lu: lower-cased)"),
	G(SIZE, auth_cache_size, "0",
	  "Memory for cached userdb lookups in each loft-lmtp (0: no cache)"),
	G(TIME, auth_cache_ttl, "1 hour",
	  "How long a cached userdb answer is used"),
	G(TIME, auth_cache_negative_ttl, "1 hour",
	  "How long a cached \"user unknown\" is used (0: not cached)"),
	G(TIME, userdb_sql_timeout, "5 secs",
	  "Longest wait for an sql userdb: connecting, a free connection and "
	  "the query together"),
	G(STR, auth_socket_path, "auth-userdb",
	  "Auth-master socket (relative to base_dir) loft-lda -d asks for its "
	  "userdb lookups when the config has a service auth or sets this; "
	  "else loft-lda reads the userdb itself"),
	G(STR, recipient_delimiter, "+",
	  "Characters separating the user from the detail part of an address"),
	G(BOOL, lda_mailbox_autocreate, "no",
	  "Create the mailbox given with -m when it does not exist"),
	G(BOOL, lda_mailbox_autosubscribe, "no",
	  "Subscribe to mailboxes created by autocreate"),
	G(STR, sendmail_path, "/usr/sbin/sendmail",
	  "Program that sends the mail Sieve's redirect, vacation and "
	  "loft-lda's rejections make (run as the recipient: PATH -i -f "
	  "SENDER -- RCPT), unless submission_host is set"),
	G(STR, submission_host, "",
	  "SMTP server host[:port] (port 25 by default) that Sieve's mail and "
	  "rejections are sent to instead of sendmail_path"),
	G(TIME, submission_timeout, "30 secs",
	  "Longest wait for submission_host: connecting and each reply"),
	G(STR, postmaster_address, "",
	  "From address of rejections and of vacation replies that name no "
	  "other (%d, %u, %n expanded; empty: postmaster@ the recipient's "
	  "domain, or the host name)"),
	G(STR, rejection_subject, "Rejected: %s",
	  "Subject of the rejection loft-lda sends without -e (%s the "
	  "message's subject)"),
	G(STR, rejection_reason,
	  "Your message to <%t> was automatically rejected:%n%r",
	  "Text of that rejection (%t recipient, %r reason, %s subject, "
	  "%n new line)"),
	G(STR, lda_original_recipient_header, "",
	  "Header to take the original recipient from when -a is not given"),
	G(STR, deliver_log_format, "msgid=%m: %$",
	  "Format of the per-delivery log line"),
	G(BOOL, lmtp_save_to_detail_mailbox, "no",
	  "Save mail for user+detail into the mailbox named detail"),
	G(BOOL, lmtp_add_received_header, "yes",
	  "Add a Received: header naming the session id"),
	G(BOOL, lmtp_rcpt_check_quota, "no",
	  "Refuse a recipient already over quota at RCPT, before the message"),
	G_ENUM(lmtp_hdr_delivery_address, "final:none:original",
	       "Address put in Delivered-To: final, none or original"),
	G(UINT, lmtp_user_concurrency_limit, "10",
	  "Parallel deliveries allowed to one user (0: no limit)"),
	G(SIZE, lmtp_max_message_size, "50M",
	  "Largest message accepted over LMTP (0: no limit)"),
	G(BOOL, lmtp_proxy, "no",
	  "Relay a recipient whose userdb answer has proxy and host fields "
	  "to that LMTP server"),
	G(UINT, lmtp_max_recipients, "500",
	  "Most recipients in one LMTP transaction (0: no limit)"),
	G(TIME, lmtp_client_idle_timeout, "5 mins",
	  "Disconnect an LMTP client idle this long (421 4.4.2)"),

	/* logging */
	G(STR, log_path, "syslog",
	  "Error log: a file, or syslog (empty also means syslog)"),
	G(STR, info_log_path, "", "Info log (empty: log_path)"),
	G(STR, debug_log_path, "", "Debug log (empty: info_log_path)"),
	G(STR, syslog_facility, "mail", "Syslog facility for syslog logging"),
	G(STR, log_timestamp, "%Y-%m-%d %H:%M:%S ",
	  "strftime prefix of file log lines"),
	G_ENUM(log_format, "text:json", "Log line format: text or json"),

	/* services and admin */
	G(UINT, default_process_limit, "100",
	  "Process limit of a service that sets none"),
	G(UINT, default_client_limit, "1000",
	  "Client limit of a service that sets none"),
	G(TIME, default_idle_kill, "1 min",
	  "Idle time after which a surplus service process exits"),
	G(SIZE, default_vsz_limit, "256M",
	  "Address space limit of a service process that sets none (0: no limit)"),
	G(STR, default_internal_user, "loft",
	  "Unprivileged user internal services run as"),
	G(STR, default_internal_group, "",
	  "Group internal services run as (empty: default_internal_user's "
	  "primary group)"),
	G(STR, default_login_user, "dovenull",
	  "Dovecot's user for login processes: loft runs none, so it only "
	  "serves $default_login_user references"),
	G(STR, http_api_key, "",
	  "Bearer token every HTTP API call needs but /metrics and /healthz (empty: the API is off)"),
	/* loft's own (Dovecot has no HTTP API Host check) */
	G(STR, http_api_allowed_hosts, "",
	  "Host header names the HTTP endpoint accepts without the key, besides localhost, 127.0.0.1, [::1] and its listener address (DNS rebinding guard)"),
	G(UINT, stats_journal_size, "10000",
	  "Delivery outcomes and recent errors loft-stats also keeps in memory: "
	  "the newest ones, served before they reach the disk journal, and "
	  "everything when there is none"),
	G(STR, state_dir, LOFT_STATE_DIR,
	  "Directory for persistent state: loft-stats' journal.db (loftd "
	  "creates it, mode 0750, owned by default_internal_user; empty: the "
	  "journal is kept in memory only)"),
	G(TIME, stats_journal_max_age, "7 days",
	  "Deliveries and recent errors older than this leave the disk journal "
	  "(0: no age limit)"),
	G(SIZE, stats_journal_max_size, "1G",
	  "Largest size of the disk journal; the oldest deliveries go first "
	  "(0: no size limit)"),
	G(STR, admin_socket_group, "",
	  "Group allowed on the admin socket (mode 0660; empty: root only, 0600)"),
	/* loft's own: loftadm -H asks the hosts of fleet { } */
	G(TIME, fleet_timeout, "10 s",
	  "How long loftadm -H waits for each host's HTTP API (connect and "
	  "answer); the hosts are asked at the same time"),
	SETTING_END
};

const struct setting_def loft_service_setting_defs[] = {
	SV(STR, executable, "",
	   "Program started for this service and its arguments; a path not "
	   "beginning with / is relative to base_dir (loft's own programs are "
	   "found beside loftd)"),
	SV(STR, type, "",
	   "Service type: \"\" or startup (one process from start-up on); "
	   "log for the log service; login, config, anvil and worker only "
	   "for Dovecot's own services"),
	SV(STR, protocol, "", "Protocol that must be enabled for the service to run"),
	SV(STR, user, "", "User the processes run as"),
	SV(STR, group, "", "Group the processes run as"),
	SV(STR, extra_groups, "", "Supplementary groups of the processes"),
	SV(STR, privileged_group, "",
	   "Group the process may switch to when it needs it (lmtp: the same "
	   "as mail_privileged_group)"),
	SV(STR, chroot, "",
	   "Directory the processes chroot into, relative to base_dir unless "
	   "absolute"),
	SV(BOOL, drop_priv_before_exec, "no",
	   "Drop privileges before exec() (not together with chroot)"),
	SV(UINT, client_limit, "0", "Clients per process (0: default_client_limit)"),
	SV(UINT, service_count, "0", "Clients a process serves before exiting (0: unlimited)"),
	SV(UINT, process_limit, "0", "Most processes (0: default_process_limit)"),
	SV(UINT, process_min_avail, "0", "Processes kept waiting for clients"),
	SV(TIME, idle_kill, "0", "Idle time before a surplus process exits (0: default_idle_kill)"),
	SV(SIZE, vsz_limit, "18446744073709551615",
	   "Address space limit (0: no limit; 18446744073709551615, the "
	   "default: default_vsz_limit)"),
	SETTING_END
};

const struct setting_def loft_listener_setting_defs[] = {
	LS(STR, path, "", "Socket or fifo path, relative to base_dir"),
	LS(MODE, mode, "0600",
	   "Permissions of the socket or fifo, octal with a leading 0 (without "
	   "one the number is decimal, as in Dovecot; 0: the listener is off)"),
	LS(STR, user, "", "Owner of the socket or fifo"),
	LS(STR, group, "", "Group of the socket or fifo"),
	LS(STR, address, "", "Addresses to bind (empty: listen)"),
	LS(UINT, port, "0", "TCP port (0: disabled)"),
	LS(BOOL, ssl, "no", "Use TLS on this listener"),
	LS(BOOL, haproxy, "no", "Expect a HAProxy PROXY header"),
	SETTING_END
};

const struct setting_def loft_userdb_setting_defs[] = {
	UD(STR, driver, "", "Userdb driver: passwd-file, static, passwd or auth"),
	UD(STR, args, "", "Driver arguments"),
	UD(STR, default_fields, "", "Fields used when the userdb gives none"),
	UD(STR, override_fields, "", "Fields that replace what the userdb gives"),
	SETTING_DEF(struct userdb_settings, ENUM, skip, settings_first_enum_skip,
		    "never:found:notfound",
		    "Skip this userdb: never, when found or when not found"),
	SETTING_END
};

#define SETTINGS_ERROR_MAX 1024
static __thread char settings_error_buf[SETTINGS_ERROR_MAX];

/* one value of any setting type, for parsing without storing */
union setting_value {
	char *str;
	bool boolean;
	unsigned int uint;
	uint64_t u64;
};

static const char *settings_error(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2);

/* settings_error - format into the module's error buffer and return it */
static const char *settings_error(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(settings_error_buf, sizeof(settings_error_buf), fmt, args);
	va_end(args);
	return settings_error_buf;
}

/* settings_field - the address of def's field inside base */
static void *settings_field(const struct setting_def *def, void *base)
{
	return (char *)base + def->offset;
}

/* settings_cfield - settings_field for read-only access */
static const void *settings_cfield(const struct setting_def *def,
				   const void *base)
{
	return (const char *)base + def->offset;
}

/* settings_parse_u64 - leading decimal digits of *pp into *value_r,
   advancing *pp; -1 on no digits or overflow */
static int settings_parse_u64(const char **pp, uint64_t *value_r)
{
	const char *p = *pp;
	uint64_t value = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int digit = (unsigned int)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*pp = p;
	*value_r = value;
	return 0;
}

/* settings_skip_space - skip spaces and tabs */
static const char *settings_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int settings_parse_size(const char *str, uint64_t *bytes_r,
			const char **error_r)
{
	const char *p = settings_skip_space(str);
	uint64_t value, mult = 1;

	if (settings_parse_u64(&p, &value) < 0)
		goto invalid;
	p = settings_skip_space(p);
	switch (tolower((unsigned char)*p)) {
	case 'b':
		p++;
		break;
	case 'k':
		mult = 1ULL << 10;
		break;
	case 'm':
		mult = 1ULL << 20;
		break;
	case 'g':
		mult = 1ULL << 30;
		break;
	case 't':
		mult = 1ULL << 40;
		break;
	default:
		break;
	}
	if (mult > 1) {
		p++;
		if (tolower((unsigned char)*p) == 'b')
			p++;
	}
	if (*settings_skip_space(p) != '\0' || value > UINT64_MAX / mult)
		goto invalid;
	*bytes_r = value * mult;
	return 0;
invalid:
	*error_r = settings_error("Invalid size: %s", str);
	return -1;
}

struct settings_time_unit {
	const char *name;
	uint64_t msecs;
};

static const struct settings_time_unit settings_time_units[] = {
	{ "ms", 1 }, { "msec", 1 }, { "msecs", 1 },
	{ "s", 1000 }, { "sec", 1000 }, { "secs", 1000 },
	{ "second", 1000 }, { "seconds", 1000 },
	{ "m", 60000 }, { "min", 60000 }, { "mins", 60000 },
	{ "minute", 60000 }, { "minutes", 60000 },
	{ "h", 3600000 }, { "hour", 3600000 }, { "hours", 3600000 },
	{ "d", 86400000 }, { "day", 86400000 }, { "days", 86400000 },
	{ "w", 604800000 }, { "week", 604800000 }, { "weeks", 604800000 },
};

int settings_parse_time(const char *str, uint64_t *msecs_r,
			const char **error_r)
{
	const char *p = settings_skip_space(str), *unit;
	uint64_t value, mult = 0;
	size_t unit_len;

	if (settings_parse_u64(&p, &value) < 0)
		goto invalid;
	p = settings_skip_space(p);
	unit = p;
	while (isalpha((unsigned char)*p))
		p++;
	unit_len = (size_t)(p - unit);
	if (unit_len == 0)
		mult = 1000;
	for (size_t i = 0; mult == 0 && i < LOFT_N_ELEMENTS(settings_time_units); i++) {
		const struct settings_time_unit *u = &settings_time_units[i];
		if (strlen(u->name) == unit_len &&
		    strncasecmp(u->name, unit, unit_len) == 0)
			mult = u->msecs;
	}
	if (mult == 0 || *settings_skip_space(p) != '\0' ||
	    value > UINT64_MAX / mult)
		goto invalid;
	*msecs_r = value * mult;
	return 0;
invalid:
	*error_r = settings_error("Invalid time: %s", str);
	return -1;
}

int settings_parse_bool(const char *str, bool *value_r, const char **error_r)
{
	if (strcasecmp(str, "yes") == 0 || strcasecmp(str, "y") == 0 ||
	    strcmp(str, "1") == 0) {
		*value_r = true;
		return 0;
	}
	if (strcasecmp(str, "no") == 0 || strcasecmp(str, "n") == 0 ||
	    strcmp(str, "0") == 0) {
		*value_r = false;
		return 0;
	}
	*error_r = settings_error("Invalid boolean value: %s (use yes or no)", str);
	return -1;
}

/* settings_parse_uint - decimal unsigned int with overflow check */
static int settings_parse_uint(const char *str, unsigned int *value_r,
			       const char **error_r)
{
	const char *p = str;
	uint64_t value;

	if (settings_parse_u64(&p, &value) < 0 || *p != '\0' ||
	    value > UINT_MAX) {
		*error_r = settings_error("Invalid number: %s", str);
		return -1;
	}
	*value_r = (unsigned int)value;
	return 0;
}

bool settings_mode_is_decimal(const char *str)
{
	return str[0] != '0';
}

/* settings_parse_mode - a file mode up to 07777, read as Dovecot reads
   it: octal with a leading 0, decimal without one ("600" is 01130) */
static int settings_parse_mode(const char *str, unsigned int *value_r,
			       const char **error_r)
{
	unsigned int mode = 0, base = settings_mode_is_decimal(str) ? 10 : 8;
	const char *p;

	for (p = str; *p >= '0' && (unsigned int)(*p - '0') < base &&
		     mode <= 07777; p++)
		mode = mode * base + (unsigned int)(*p - '0');
	if (p == str || *p != '\0' || mode > 07777) {
		*error_r = settings_error("Invalid file mode: %s", str);
		return -1;
	}
	*value_r = mode;
	return 0;
}

bool settings_name_in(const char *name, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

bool settings_value_in_list(const char *values, const char *value,
			    bool ignore_case)
{
	size_t len = strlen(value);

	for (const char *p = values; p != NULL; ) {
		const char *end = strchr(p, ':');
		size_t n = end == NULL ? strlen(p) : (size_t)(end - p);
		if (n == len && (ignore_case ? strncasecmp(p, value, len) :
				 strncmp(p, value, len)) == 0)
			return true;
		p = end == NULL ? NULL : end + 1;
	}
	return false;
}

/* settings_parse_typed - parse value per def into *v; strings are not
   copied (v->str points at value) */
static int settings_parse_typed(const struct setting_def *def,
				const char *value, union setting_value *v,
				const char **error_r)
{
	switch (def->type) {
	case SETTING_STR:
		v->str = (char *)value;
		return 0;
	case SETTING_ENUM:
		if (!settings_value_in_list(def->enum_values, value, false)) {
			*error_r = settings_error("Invalid value: %s (allowed: %s)",
						  value, def->enum_values);
			return -1;
		}
		v->str = (char *)value;
		return 0;
	case SETTING_BOOL:
		return settings_parse_bool(value, &v->boolean, error_r);
	case SETTING_UINT:
		return settings_parse_uint(value, &v->uint, error_r);
	case SETTING_MODE:
		return settings_parse_mode(value, &v->uint, error_r);
	case SETTING_SIZE:
		return settings_parse_size(value, &v->u64, error_r);
	case SETTING_TIME:
		return settings_parse_time(value, &v->u64, error_r);
	}
	*error_r = settings_error("Unknown setting type");
	return -1;
}

int setting_check_value(const struct setting_def *def, const char *value,
			const char **error_r)
{
	union setting_value v;

	return settings_parse_typed(def, value, &v, error_r);
}

int setting_parse_value(const struct setting_def *def, void *base,
			const char *value, const char **error_r)
{
	union setting_value v;
	void *field = settings_field(def, base);

	if (settings_parse_typed(def, value, &v, error_r) < 0)
		return -1;
	switch (def->type) {
	case SETTING_STR:
	case SETTING_ENUM: {
		char *copy = xstrdup(v.str);
		free(*(char **)field);
		*(char **)field = copy;
		break;
	}
	case SETTING_BOOL:
		*(bool *)field = v.boolean;
		break;
	case SETTING_UINT:
	case SETTING_MODE:
		*(unsigned int *)field = v.uint;
		break;
	case SETTING_SIZE:
	case SETTING_TIME:
		*(uint64_t *)field = v.u64;
		break;
	}
	return 0;
}

const struct setting_def *setting_find(const struct setting_def *defs,
				       const char *name)
{
	for (; defs->name != NULL; defs++) {
		if (strcmp(defs->name, name) == 0)
			return defs;
	}
	return NULL;
}

int settings_set(struct loft_settings *set, const char *name,
		 const char *value, const char **error_r)
{
	const struct setting_def *def = setting_find(loft_setting_defs, name);

	if (def == NULL) {
		*error_r = settings_error("Unknown setting: %s", name);
		return -1;
	}
	return setting_parse_value(def, set, value, error_r);
}

void settings_defs_init(const struct setting_def *defs, void *base)
{
	const char *error;

	for (; defs->name != NULL; defs++) {
		if (defs->type == SETTING_STR || defs->type == SETTING_ENUM)
			*(char **)settings_field(defs, base) = NULL;
		/* the built-in defaults are valid by construction (the unit
		   tests parse every one of them) */
		(void)setting_parse_value(defs, base, defs->default_value, &error);
	}
}

void settings_defs_free(const struct setting_def *defs, void *base)
{
	for (; defs->name != NULL; defs++) {
		if (defs->type == SETTING_STR || defs->type == SETTING_ENUM) {
			char **field = settings_field(defs, base);
			XFREE(*field);
		}
	}
}

void settings_defs_copy(const struct setting_def *defs, void *dest,
			const void *src)
{
	for (; defs->name != NULL; defs++) {
		const void *from = settings_cfield(defs, src);
		void *to = settings_field(defs, dest);

		switch (defs->type) {
		case SETTING_STR:
		case SETTING_ENUM: {
			const char *str = *(char *const *)from;
			*(char **)to = str == NULL ? NULL : xstrdup(str);
			break;
		}
		case SETTING_BOOL:
			*(bool *)to = *(const bool *)from;
			break;
		case SETTING_UINT:
		case SETTING_MODE:
			*(unsigned int *)to = *(const unsigned int *)from;
			break;
		case SETTING_SIZE:
		case SETTING_TIME:
			*(uint64_t *)to = *(const uint64_t *)from;
			break;
		}
	}
}

/* settings_strdup_or_null - xstrdup that passes NULL through */
static char *settings_strdup_or_null(const char *str)
{
	return str == NULL ? NULL : xstrdup(str);
}

void settings_init(struct loft_settings *set)
{
	memset(set, 0, sizeof(*set));
	settings_defs_init(loft_setting_defs, set);
	kvlist_init(&set->plugin);
	kvlist_init(&set->fleet);
	kvlist_init(&set->not_used);
}

/* settings_listener_free - free one listener's strings */
static void settings_listener_free(struct listener_settings *l)
{
	settings_defs_free(loft_listener_setting_defs, l);
	XFREE(l->name);
	XFREE(l->file);
}

/* settings_service_free - free one service and its listeners */
static void settings_service_free(struct service_settings *svc)
{
	settings_defs_free(loft_service_setting_defs, svc);
	for (size_t i = 0; i < svc->listener_count; i++)
		settings_listener_free(&svc->listeners[i]);
	XFREE(svc->listeners);
	svc->listener_count = 0;
	XFREE(svc->name);
	XFREE(svc->file);
}

/* settings_userdb_free - free one userdb entry */
static void settings_userdb_free(struct userdb_settings *udb)
{
	settings_defs_free(loft_userdb_setting_defs, udb);
	XFREE(udb->name);
	XFREE(udb->file);
}

void settings_free(struct loft_settings *set)
{
	settings_defs_free(loft_setting_defs, set);
	for (size_t i = 0; i < set->service_count; i++)
		settings_service_free(&set->services[i]);
	free(set->services);
	for (size_t i = 0; i < set->userdb_count; i++)
		settings_userdb_free(&set->userdbs[i]);
	free(set->userdbs);
	kvlist_free(&set->plugin);
	kvlist_free(&set->fleet);
	kvlist_free(&set->not_used);
	memset(set, 0, sizeof(*set));
}

/* settings_listener_copy - deep copy of one listener */
static void settings_listener_copy(struct listener_settings *dest,
				   const struct listener_settings *src)
{
	*dest = *src;
	settings_defs_copy(loft_listener_setting_defs, dest, src);
	dest->name = settings_strdup_or_null(src->name);
	dest->file = settings_strdup_or_null(src->file);
}

/* settings_service_copy - deep copy of one service with its listeners */
static void settings_service_copy(struct service_settings *dest,
				  const struct service_settings *src)
{
	*dest = *src;
	settings_defs_copy(loft_service_setting_defs, dest, src);
	dest->name = settings_strdup_or_null(src->name);
	dest->file = settings_strdup_or_null(src->file);
	dest->listeners = src->listener_count == 0 ? NULL :
		xcalloc(src->listener_count, sizeof(*dest->listeners));
	for (size_t i = 0; i < src->listener_count; i++)
		settings_listener_copy(&dest->listeners[i], &src->listeners[i]);
}

void settings_copy(struct loft_settings *dest, const struct loft_settings *src)
{
	*dest = *src;
	settings_defs_copy(loft_setting_defs, dest, src);
	dest->services = src->service_count == 0 ? NULL :
		xcalloc(src->service_count, sizeof(*dest->services));
	for (size_t i = 0; i < src->service_count; i++)
		settings_service_copy(&dest->services[i], &src->services[i]);
	dest->userdbs = src->userdb_count == 0 ? NULL :
		xcalloc(src->userdb_count, sizeof(*dest->userdbs));
	for (size_t i = 0; i < src->userdb_count; i++) {
		struct userdb_settings *to = &dest->userdbs[i];
		const struct userdb_settings *from = &src->userdbs[i];

		*to = *from;
		settings_defs_copy(loft_userdb_setting_defs, to, from);
		to->name = settings_strdup_or_null(from->name);
		to->file = settings_strdup_or_null(from->file);
	}
	kvlist_copy(&dest->plugin, &src->plugin);
	kvlist_copy(&dest->fleet, &src->fleet);
	kvlist_copy(&dest->not_used, &src->not_used);
}

enum mail_fsync_mode settings_mail_fsync(const struct loft_settings *set)
{
	if (set->mail_fsync != NULL && strcmp(set->mail_fsync, "always") == 0)
		return MAIL_FSYNC_ALWAYS;
	if (set->mail_fsync != NULL && strcmp(set->mail_fsync, "never") == 0)
		return MAIL_FSYNC_NEVER;
	return MAIL_FSYNC_OPTIMIZED;
}

bool setting_listener_applies(const struct setting_def *def,
			      enum listener_type type)
{
	bool inet_only = def->offset == offsetof(struct listener_settings, address) ||
		def->offset == offsetof(struct listener_settings, port) ||
		def->offset == offsetof(struct listener_settings, ssl) ||
		def->offset == offsetof(struct listener_settings, haproxy);

	return inet_only == (type == LISTENER_INET);
}

/* settings_format_units - value as "N unit" with the largest unit that
   divides it exactly; units are ordered from the largest */
static void settings_format_units(struct strbuf *out, uint64_t value,
				  const struct settings_time_unit *units,
				  size_t count, const char *plural)
{
	for (size_t i = 0; i < count; i++) {
		if (value != 0 && value % units[i].msecs == 0) {
			uint64_t n = value / units[i].msecs;
			strbuf_appendf(out, "%" PRIu64 "%s%s", n, units[i].name,
				       n != 1 ? plural : "");
			return;
		}
	}
	strbuf_appendf(out, "%" PRIu64, value);
}

static const struct settings_time_unit settings_time_format_units[] = {
	{ " week", 604800000 }, { " day", 86400000 }, { " hour", 3600000 },
	{ " min", 60000 }, { " sec", 1000 }, { " ms", 1 },
};

static const struct settings_time_unit settings_size_format_units[] = {
	{ "T", 1ULL << 40 }, { "G", 1ULL << 30 }, { "M", 1ULL << 20 },
	{ "k", 1ULL << 10 },
};

/* settings_format_typed - append a typed value as config text */
static void settings_format_typed(const struct setting_def *def,
				  const union setting_value *v,
				  struct strbuf *out)
{
	switch (def->type) {
	case SETTING_STR:
	case SETTING_ENUM:
		strbuf_append_str(out, v->str == NULL ? "" : v->str);
		break;
	case SETTING_BOOL:
		strbuf_append_str(out, v->boolean ? "yes" : "no");
		break;
	case SETTING_UINT:
		strbuf_appendf(out, "%u", v->uint);
		break;
	case SETTING_MODE:
		/* always with a leading 0: without one it reads as decimal */
		strbuf_appendf(out, "0%03o", v->uint);
		break;
	case SETTING_SIZE:
		settings_format_units(out, v->u64, settings_size_format_units,
				      LOFT_N_ELEMENTS(settings_size_format_units), "");
		break;
	case SETTING_TIME:
		if (v->u64 == 0)
			strbuf_append_str(out, "0");
		else if (v->u64 % 1000 != 0)
			strbuf_appendf(out, "%" PRIu64 " ms", v->u64);
		else
			settings_format_units(out, v->u64, settings_time_format_units,
					      LOFT_N_ELEMENTS(settings_time_format_units) - 1,
					      "s");
		break;
	}
}

/* settings_load_field - read def's field at base into a union */
static void settings_load_field(const struct setting_def *def,
				const void *base, union setting_value *v)
{
	const void *field = settings_cfield(def, base);

	switch (def->type) {
	case SETTING_STR:
	case SETTING_ENUM:
		v->str = *(char *const *)field;
		break;
	case SETTING_BOOL:
		v->boolean = *(const bool *)field;
		break;
	case SETTING_UINT:
	case SETTING_MODE:
		v->uint = *(const unsigned int *)field;
		break;
	case SETTING_SIZE:
	case SETTING_TIME:
		v->u64 = *(const uint64_t *)field;
		break;
	}
}

void setting_format_value(const struct setting_def *def, const void *base,
			  struct strbuf *out)
{
	union setting_value v;

	settings_load_field(def, base, &v);
	settings_format_typed(def, &v, out);
}

bool setting_is_default(const struct setting_def *def, const void *base)
{
	union setting_value cur, dflt;
	const char *error;

	settings_load_field(def, base, &cur);
	if (settings_parse_typed(def, def->default_value, &dflt, &error) < 0)
		return false;
	switch (def->type) {
	case SETTING_STR:
	case SETTING_ENUM:
		return strcmp(cur.str == NULL ? "" : cur.str, dflt.str) == 0;
	case SETTING_BOOL:
		return cur.boolean == dflt.boolean;
	case SETTING_UINT:
	case SETTING_MODE:
		return cur.uint == dflt.uint;
	case SETTING_SIZE:
	case SETTING_TIME:
		return cur.u64 == dflt.u64;
	}
	return false;
}

/* settings_needs_quotes - whether value cannot be written bare */
static bool settings_needs_quotes(const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || isspace((unsigned char)value[0]) ||
	    isspace((unsigned char)value[len - 1]) || value[0] == '<')
		return true;
	return strpbrk(value, "#\"'\\$\n\r\t{}") != NULL;
}

/* settings_write_quoted - value as it must appear after "key = ", or a
   section name (quoted also when it has inner spaces) */
static void settings_write_quoted(FILE *out, const char *value, bool is_name)
{
	if (!settings_needs_quotes(value) &&
	    (!is_name || strpbrk(value, " \t") == NULL)) {
		fputs(value, out);
		return;
	}
	fputc('"', out);
	for (const char *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '"':
		case '\\':
			fputc('\\', out);
			fputc(*p, out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			fputc(*p, out);
			break;
		}
	}
	fputc('"', out);
}

/* settings_write_key_value - one "indent key = value" line */
static void settings_write_key_value(FILE *out, int indent, const char *key,
				     const char *value)
{
	fprintf(out, "%*s%s = ", indent, "", key);
	settings_write_quoted(out, value, false);
	fputc('\n', out);
}

/* settings that settings_print() hides */
static const char *const settings_secrets[] = {
	"http_api_key", "ssl_key", "ssl_alt_key", "ssl_key_password",
};
static __thread bool settings_hide_secrets;

/* settings_is_secret - def holds a secret to hide from printouts */
static bool settings_is_secret(const struct setting_def *def)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(settings_secrets); i++) {
		if (strcmp(def->name, settings_secrets[i]) == 0)
			return true;
	}
	return false;
}

/* settings_write_defs - the settings of one table at base; listener_type
   < 0 writes every entry, else only those that apply to that type */
static void settings_write_defs(FILE *out, int indent,
				const struct setting_def *defs,
				const void *base, bool all, bool docs,
				int listener_type, struct strbuf *buf)
{
	for (; defs->name != NULL; defs++) {
		if (listener_type >= 0 &&
		    !setting_listener_applies(defs, (enum listener_type)listener_type))
			continue;
		if (!all && setting_is_default(defs, base))
			continue;
		if (docs)
			fprintf(out, "%*s# %s\n", indent, "", defs->doc);
		if (settings_hide_secrets && settings_is_secret(defs) &&
		    !setting_is_default(defs, base)) {
			fprintf(out, "%*s%s = # hidden, use -P to show it\n",
				indent, "", defs->name);
			continue;
		}
		strbuf_reset(buf);
		setting_format_value(defs, base, buf);
		settings_write_key_value(out, indent, defs->name, buf->data);
	}
}

/* settings_write_section_open - "indent type [name] {" */
static void settings_write_section_open(FILE *out, int indent,
					const char *type, const char *name)
{
	fprintf(out, "%*s%s ", indent, "", type);
	if (name != NULL && name[0] != '\0') {
		settings_write_quoted(out, name, true);
		fputc(' ', out);
	}
	fputs("{\n", out);
}

static const char *const settings_listener_sections[] = {
	[LISTENER_UNIX] = "unix_listener",
	[LISTENER_FIFO] = "fifo_listener",
	[LISTENER_INET] = "inet_listener",
};

/* settings_write_service - one service block with its listeners */
static void settings_write_service(FILE *out, const struct service_settings *svc,
				   bool all, struct strbuf *buf)
{
	settings_write_section_open(out, 0, "service", svc->name);
	settings_write_defs(out, 2, loft_service_setting_defs, svc, all, false,
			    -1, buf);
	for (size_t i = 0; i < svc->listener_count; i++) {
		const struct listener_settings *l = &svc->listeners[i];

		settings_write_section_open(out, 2,
					    settings_listener_sections[l->type],
					    l->name);
		settings_write_defs(out, 4, loft_listener_setting_defs, l, all,
				    false, (int)l->type, buf);
		fputs("  }\n", out);
	}
	fputs("}\n", out);
}

/* settings_write_free_section - NAME { key = value ... } of a free-form
   section (plugin, fleet); nothing when it is empty */
static void settings_write_free_section(FILE *out, const char *name,
					const struct kvlist *list)
{
	if (list->count == 0)
		return;
	fprintf(out, "%s {\n", name);
	for (size_t i = 0; i < list->count; i++)
		settings_write_key_value(out, 2, list->items[i].key,
					 list->items[i].value);
	fputs("}\n", out);
}

void settings_write(const struct loft_settings *set, FILE *out, bool all)
{
	struct strbuf buf;

	strbuf_init(&buf, 128);
	settings_write_defs(out, 0, loft_setting_defs, set, all, all, -1, &buf);
	for (size_t i = 0; i < set->userdb_count; i++) {
		settings_write_section_open(out, 0, "userdb", set->userdbs[i].name);
		settings_write_defs(out, 2, loft_userdb_setting_defs,
				    &set->userdbs[i], all, false, -1, &buf);
		fputs("}\n", out);
	}
	for (size_t i = 0; i < set->service_count; i++)
		settings_write_service(out, &set->services[i], all, &buf);
	settings_write_free_section(out, "plugin", &set->plugin);
	settings_write_free_section(out, "fleet", &set->fleet);
	strbuf_free(&buf);
}

void settings_print(const struct loft_settings *set, FILE *out, bool all,
		    bool show_secrets)
{
	settings_hide_secrets = !show_secrets;
	settings_write(set, out, all);
	settings_hide_secrets = false;
}

int settings_print_named(const struct loft_settings *set,
			 char *const *names, size_t count, FILE *out,
			 bool values_only, bool changed_only,
			 bool show_secrets, const char **error_r)
{
	struct strbuf buf;

	for (size_t i = 0; i < count; i++) {
		const struct setting_def *def =
			setting_find(loft_setting_defs, names[i]);

		if (def == NULL) {
			*error_r = settings_error("Unknown setting: %s", names[i]);
			return -1;
		}
		if (values_only && !show_secrets && settings_is_secret(def)) {
			*error_r = settings_error("%s is hidden, use -P to show it",
						  names[i]);
			return -1;
		}
	}
	strbuf_init(&buf, 128);
	for (size_t i = 0; i < count; i++) {
		const struct setting_def *def =
			setting_find(loft_setting_defs, names[i]);

		if (changed_only && setting_is_default(def, set))
			continue;
		strbuf_reset(&buf);
		setting_format_value(def, set, &buf);
		if (values_only)
			fprintf(out, "%s\n", buf.data);
		else if (!show_secrets && settings_is_secret(def) &&
			 !setting_is_default(def, set))
			fprintf(out, "%s = # hidden, use -P to show it\n", def->name);
		else
			fprintf(out, "%s = %s\n", def->name, buf.data);
	}
	strbuf_free(&buf);
	return 0;
}

void settings_print_protocol(const struct loft_settings *base,
			     const struct loft_settings *view,
			     const char *protocol, FILE *out,
			     bool show_secrets)
{
	struct strbuf a, b;
	bool opened = false;

	strbuf_init(&a, 64);
	strbuf_init(&b, 64);
	for (const struct setting_def *def = loft_setting_defs; def->name != NULL;
	     def++) {
		strbuf_reset(&a);
		strbuf_reset(&b);
		setting_format_value(def, base, &a);
		setting_format_value(def, view, &b);
		if (strcmp(a.data, b.data) == 0)
			continue;
		if (!opened) {
			fprintf(out, "protocol %s {\n", protocol);
			opened = true;
		}
		if (!show_secrets && settings_is_secret(def))
			fprintf(out, "  %s = # hidden, use -P to show it\n", def->name);
		else
			settings_write_key_value(out, 2, def->name, b.data);
	}
	if (opened)
		fputs("}\n", out);
	strbuf_free(&a);
	strbuf_free(&b);
}
