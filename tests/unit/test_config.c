/*
 * test_config - unit tests for lib/settings and lib/config: the setting
 * tables, the size/time/bool parsers, good configurations of every kind
 * (types, quoting, comments, continuations, includes, protocol overrides,
 * services, userdbs, plugin, $references, <file values), every error class
 * with its exact "FILE:LINE: message", and settings_write round trips.
 *
 * Config texts and expectations may contain @DIR@, replaced by a temporary
 * directory that holds the include and value files made by the fixture.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "install_paths.h"
#include "mail_plugins.h"
#include "settings.h"
#include "strbuf.h"
#include "xalloc.h"

#define MAX_EXPECT 16

static char test_dir[64];

/* the files the fixture creates under @DIR@ (NULL content: a directory) */
static const struct {
	const char *name;
	const char *content;
} fixture_files[] = {
	{ "inc_good.conf", "mail_debug = yes\nrecipient_delimiter = -\n" },
	{ "conf.d", NULL },
	{ "conf.d/10-a.conf", "first_valid_uid = 1000\n" },
	{ "conf.d/20-b.conf",
	  "first_valid_uid = 2000\nservice lmtp {\n  process_limit = 5\n}\n" },
	{ "inc_bad.conf", "# comment\n\nfoo_bar = 1\n" },
	{ "nested.conf", "mail_debug = yes\n!include inc_bad.conf\n" },
	{ "inc_unclosed.conf", "mail_debug = yes\nservice x {\n" },
	{ "inc_extra_close.conf", "}\n" },
	{ "inc_section.conf", "  process_limit = 7\n" },
	{ "inc_protocol.conf", "protocol lda {\n  mail_debug = yes\n}\n" },
	{ "recursive.conf", "!include recursive.conf\n" },
	{ "value.txt", "s3cret key\n" },
	{ "value_plain.txt", "no-newline" },
	{ "adir.conf", NULL },
	{ "main-file.conf",
	  "# a config on disk\n!include inc_good.conf\nhostname = disk\n" },
};

/* subst - s with every @DIR@ replaced by the fixture directory */
static char *subst(const char *s)
{
	struct strbuf buf;
	const char *p;
	char *result;

	strbuf_init(&buf, 64);
	while ((p = strstr(s, "@DIR@")) != NULL) {
		strbuf_append(&buf, s, (size_t)(p - s));
		strbuf_append_str(&buf, test_dir);
		s = p + 5;
	}
	strbuf_append_str(&buf, s);
	result = xstrdup(buf.data);
	strbuf_free(&buf);
	return result;
}

/* write_file - create path with content */
static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* fixture_setup - make the temporary directory and its files */
static void fixture_setup(void)
{
	strcpy(test_dir, "/tmp/loft-test-config-XXXXXX");
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	for (size_t i = 0; i < sizeof(fixture_files) / sizeof(fixture_files[0]); i++) {
		char *path = xasprintf("%s/%s", test_dir, fixture_files[i].name);
		if (fixture_files[i].content == NULL) {
			if (mkdir(path, 0700) < 0) {
				perror(path);
				abort();
			}
		} else {
			write_file(path, fixture_files[i].content);
		}
		free(path);
	}
}

/* fixture_unlink - nftw callback removing one entry */
static int fixture_unlink(const char *path, const struct stat *st, int type,
			  struct FTW *ftw)
{
	return remove(path);
}

/* fixture_teardown - remove the temporary directory */
static void fixture_teardown(void)
{
	nftw(test_dir, fixture_unlink, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- lookups for expectations ---- */

/* find_service - the service called name, or NULL */
static const struct service_settings *find_service(const struct loft_settings *set,
						   const char *name)
{
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, name) == 0)
			return &set->services[i];
	}
	return NULL;
}

/* find_listener - the listener called name in svc, or NULL */
static const struct listener_settings *
find_listener(const struct service_settings *svc, const char *name)
{
	for (size_t i = 0; svc != NULL && i < svc->listener_count; i++) {
		if (strcmp(svc->listeners[i].name, name) == 0)
			return &svc->listeners[i];
	}
	return NULL;
}

/* format_block_value - key of a block (via defs) or its pseudo keys
   name/line/file/type into out; false when the block is missing */
static bool format_block_value(struct strbuf *out, const struct setting_def *defs,
			       const void *base, const char *key, const char *name,
			       const char *file, unsigned int line, const char *type)
{
	const struct setting_def *def;

	if (base == NULL)
		return false;
	if (strcmp(key, "name") == 0)
		strbuf_append_str(out, name == NULL ? "(null)" : name);
	else if (strcmp(key, "line") == 0)
		strbuf_appendf(out, "%u", line);
	else if (strcmp(key, "file") == 0)
		strbuf_append_str(out, file);
	else if (strcmp(key, "type") == 0 && type != NULL)
		strbuf_append_str(out, type);
	else if ((def = setting_find(defs, key)) != NULL)
		setting_format_value(def, base, out);
	else
		strbuf_appendf(out, "(no setting %s)", key);
	return true;
}

static const char *const listener_type_names[] = { "unix", "fifo", "inet" };

/* format_not_used - the not-used list as "NAME@LINE|NAME@LINE..." (the
   file is the config's own in these tests) */
static void format_not_used(const struct loft_settings *set, struct strbuf *out)
{
	for (size_t i = 0; i < set->not_used.count; i++) {
		const char *where = set->not_used.items[i].value;
		const char *colon = strrchr(where, ':');

		strbuf_appendf(out, "%s%s@%s", i == 0 ? "" : "|",
			       set->not_used.items[i].key,
			       colon == NULL ? where : colon + 1);
	}
}

/* lookup_value - the value an expectation key names:
   KEY (global), not_used (format_not_used), count:services, count:userdbs, count:listeners:SVC,
   service:SVC:KEY, listener:SVC:NAME:KEY, userdb:INDEX:KEY, plugin:KEY,
   fleet:NAME, fleet (the names in order) */
static void lookup_value(const struct loft_settings *set, char *key,
			 struct strbuf *out)
{
	char *parts[4] = { NULL, NULL, NULL, NULL };
	size_t n = 0;
	char *save = NULL;

	for (char *p = strtok_r(key, ":", &save); p != NULL && n < 4;
	     p = strtok_r(NULL, ":", &save))
		parts[n++] = p;
	if (n == 1 && strcmp(key, "not_used") == 0) {
		format_not_used(set, out);
	} else if (n == 1 && strcmp(key, "fleet") == 0) {
		for (size_t i = 0; i < set->fleet.count; i++)
			strbuf_appendf(out, "%s%s", i > 0 ? "|" : "",
				       set->fleet.items[i].key);
	} else if (n == 1) {
		const struct setting_def *def = setting_find(loft_setting_defs, key);
		if (def == NULL)
			strbuf_appendf(out, "(no setting %s)", key);
		else
			setting_format_value(def, set, out);
	} else if (strcmp(parts[0], "count") == 0) {
		size_t count = strcmp(parts[1], "services") == 0 ? set->service_count :
			strcmp(parts[1], "userdbs") == 0 ? set->userdb_count :
			find_service(set, parts[2]) == NULL ? 0 :
			find_service(set, parts[2])->listener_count;
		strbuf_appendf(out, "%zu", count);
	} else if (strcmp(parts[0], "service") == 0 && n == 3) {
		const struct service_settings *svc = find_service(set, parts[1]);
		if (!format_block_value(out, loft_service_setting_defs, svc, parts[2],
					svc == NULL ? NULL : svc->name,
					svc == NULL ? NULL : svc->file,
					svc == NULL ? 0 : svc->line, NULL))
			strbuf_append_str(out, "(no service)");
	} else if (strcmp(parts[0], "listener") == 0 && n == 4) {
		const struct listener_settings *l =
			find_listener(find_service(set, parts[1]), parts[2]);
		if (!format_block_value(out, loft_listener_setting_defs, l, parts[3],
					l == NULL ? NULL : l->name,
					l == NULL ? NULL : l->file,
					l == NULL ? 0 : l->line,
					l == NULL ? NULL : listener_type_names[l->type]))
			strbuf_append_str(out, "(no listener)");
	} else if (strcmp(parts[0], "userdb") == 0 && n == 3) {
		size_t idx = strtoul(parts[1], NULL, 10);
		const struct userdb_settings *udb =
			idx < set->userdb_count ? &set->userdbs[idx] : NULL;
		if (!format_block_value(out, loft_userdb_setting_defs, udb, parts[2],
					udb == NULL ? NULL : udb->name,
					udb == NULL ? NULL : udb->file,
					udb == NULL ? 0 : udb->line, NULL))
			strbuf_append_str(out, "(no userdb)");
	} else if (strcmp(parts[0], "fleet") == 0 && n >= 2) {
		/* URLs hold ':': the key's other parts are the value's */
		const char *value = kvlist_get(&set->fleet, parts[1]);
		strbuf_append_str(out, value == NULL ? "(unset)" : value);
	} else if (strcmp(parts[0], "plugin") == 0 && n == 2) {
		const char *value = kvlist_get(&set->plugin, parts[1]);
		strbuf_append_str(out, value == NULL ? "(unset)" : value);
	} else {
		strbuf_appendf(out, "(bad expectation %s)", parts[0]);
	}
}

/* check_expect - assert one "key=value" expectation */
static void check_expect(const struct loft_settings *set, const char *expect,
			 size_t case_idx)
{
	char *copy = subst(expect);
	char *eq = strchr(copy, '=');
	struct strbuf got;

	ck_assert_msg(eq != NULL, "case %zu: bad expectation %s", case_idx, expect);
	*eq = '\0';
	strbuf_init(&got, 64);
	lookup_value(set, copy, &got);
	ck_assert_msg(strcmp(got.data, eq + 1) == 0,
		      "case %zu: %s: got \"%s\", want \"%s\"", case_idx, expect,
		      got.data, eq + 1);
	strbuf_free(&got);
	free(copy);
}

/* ---- good configurations ---- */

struct good_case {
	const char *text;
	const char *protocol;
	const char *expect[MAX_EXPECT];
};

#define PROTOCOL_TEXT \
	"mail_debug = no\n" \
	"protocol lda {\n" \
	"  mail_debug = yes\n" \
	"  log_path =\n" \
	"  mail_plugins = $mail_plugins fts\n" \
	"}\n" \
	"protocol lmtp {\n" \
	"  lmtp_save_to_detail_mailbox = yes\n" \
	"  mail_fsync = always\n" \
	"}\n" \
	"mail_plugins = notify\n" \
	"mail_fsync = never\n"

#define SERVICE_TEXT \
	"service lmtp {\n" \
	"  process_limit = 20\n" \
	"  idle_kill = 30 secs\n" \
	"  vsz_limit = 1G\n" \
	"  unix_listener /var/spool/postfix/private/loft-lmtp {\n" \
	"    mode = 0660\n" \
	"    user = postfix\n" \
	"  }\n" \
	"  inet_listener lmtp {\n" \
	"    address = 127.0.0.1 ::1\n" \
	"    port = 24\n" \
	"    haproxy = yes\n" \
	"  }\n" \
	"}\n" \
	"service stats {\n" \
	"  inet_listener http {\n" \
	"    port = 9190\n" \
	"  }\n" \
	"}\n" \
	"service lmtp {\n" \
	"  client_limit = 1\n" \
	"  fifo_listener lmtp-fifo {\n" \
	"  }\n" \
	"}\n"

#define DOVECOT_TEXT \
	"auth_mechanisms = plain login\n" \
	"instance_name = x\n" \
	"import_environment = TZ\n" \
	"dsync_remote_cmd = <no-such-file\n" \
	"passdb {\n" \
	"  driver = pam\n" \
	"}\n" \
	"namespace inbox {\n" \
	"  inbox = yes\n" \
	"  mailbox Drafts {\n" \
	"    special_use = \\Drafts\n" \
	"  }\n" \
	"}\n" \
	"dict {\n" \
	"  quota = sqlite:/x\n" \
	"}\n" \
	"metric m {\n" \
	"  filter = event=x\n" \
	"}\n" \
	"service imap-login {\n" \
	"  inet_listener imaps {\n" \
	"    port = 993\n" \
	"    ssl = yes\n" \
	"  }\n" \
	"}\n" \
	"protocol imap {\n" \
	"  mail_plugins = $mail_plugins imap_quota\n" \
	"  mail_max_userip_connections = 10\n" \
	"  mail_save_crlf = yes\n" \
	"}\n" \
	"protocol !indexer-worker {\n" \
	"  mail_debug = yes\n" \
	"}\n" \
	"remote 10.0.0.0/8 {\n" \
	"  auth_mechanisms = plain\n" \
	"}\n" \
	"userdb {\n" \
	"  driver = passwd\n" \
	"  result_success = return-ok\n" \
	"  auth_verbose = yes\n" \
	"}\n" \
	"mail_plugins = $mail_plugins fts\n" \
	"protocol lda {\n" \
	"  rawlog_dir = /tmp/raw\n" \
	"}\n"

#define DOVECOT_NOT_USED \
	"not_used=auth_mechanisms@1|instance_name@2|import_environment@3|" \
	"dsync_remote_cmd@4|passdb@5|" \
	"namespace inbox@8|dict@14|metric m@17|service imap-login@20|" \
	"protocol imap@26|remote 10.0.0.0/8@34|userdb: result_success@39|" \
	"userdb: auth_verbose@40|rawlog_dir@44|mail_plugins: fts@42"

static const struct good_case good_cases[] = {
	/* 0: defaults */
	{ "", NULL, {
		"base_dir=" LOFT_BASE_DIR, "hostname=", "not_used=",
		"protocols=lmtp", "listen=*, ::", "first_valid_uid=500",
		"mail_fsync=optimized", "mbox_lock_timeout=5 mins",
		"mbox_dotlock_change_timeout=2 mins", "default_idle_kill=1 min",
		"lmtp_max_message_size=50M", "default_vsz_limit=256M",
		"log_timestamp=%Y-%m-%d %H:%M:%S ", "lmtp_add_received_header=yes",
		"lmtp_hdr_delivery_address=final", "count:services=0" } },
	/* 1: every value type and unit */
	{ "mail_debug = yes\n"
	  "quota_full_tempfail = Y\n"
	  "first_valid_uid=1000\n"
	  "lmtp_max_message_size = 10 MB\n"
	  "default_vsz_limit = 512k\n"
	  "mbox_lock_timeout = 30s\n"
	  "mbox_dotlock_change_timeout = 3 hours\n"
	  "mail_max_lock_timeout = 100 ms\n"
	  "default_idle_kill = 1 week\n"
	  "mail_fsync = always\n"
	  "log_format = json\n"
	  "lmtp_hdr_delivery_address = original\n",
	  NULL, {
		"mail_debug=yes", "quota_full_tempfail=yes", "first_valid_uid=1000",
		"lmtp_max_message_size=10M", "default_vsz_limit=512k",
		"mbox_lock_timeout=30 secs", "mbox_dotlock_change_timeout=3 hours",
		"mail_max_lock_timeout=100 ms", "default_idle_kill=1 week",
		"mail_fsync=always", "log_format=json",
		"lmtp_hdr_delivery_address=original" } },
	/* 2: quotes and comments */
	{ "hostname = \"mx # not a comment\" # a comment\n"
	  "syslog_facility = 'local1'   \n"
	  "# a full-line comment\n"
	  "   # an indented comment\n"
	  "log_timestamp = \"%b %d \"\n"
	  "recipient_delimiter = \"\"\n"
	  "deliver_log_format = \"a \\\"q\\\" \\\\ b\"\n"
	  "mail_plugins = quota# no space before the comment\n"
	  "mail_home = \"$mail_plugins\"\n"
	  "lda_original_recipient_header =\n",
	  NULL, {
		"hostname=mx # not a comment", "syslog_facility=local1",
		"log_timestamp=%b %d ", "recipient_delimiter=",
		"deliver_log_format=a \"q\" \\ b", "mail_plugins=quota",
		"mail_home=$mail_plugins", "lda_original_recipient_header=" } },
	/* 3: continuation lines */
	{ "mail_plugins = quota \\\n"
	  "   acl \\\n"
	  "\tzlib\n"
	  "mail_debug = \\\n"
	  "  yes\n",
	  NULL, { "mail_plugins=quota acl zlib", "mail_debug=yes" } },
	/* 4: $references */
	{ "mail_plugins = quota\n"
	  "mail_plugins = $mail_plugins acl\n"
	  "mail_home = /srv/$base_dir/x\n"
	  "hostname = cost $ 5\n"
	  "syslog_facility = $lmtp_max_message_size\n",
	  NULL, { "mail_plugins=quota acl", "mail_home=/srv/" LOFT_BASE_DIR "/x",
		  "hostname=cost $ 5", "syslog_facility=50M" } },
	/* 5: <file values, relative and absolute */
	{ "http_api_key = <value.txt\n"
	  "hostname = < @DIR@/value_plain.txt\n",
	  NULL, { "http_api_key=s3cret key", "hostname=no-newline" } },
	/* 6: !include, later settings win */
	{ "!include inc_good.conf\nmail_debug = no\n",
	  NULL, { "mail_debug=no", "recipient_delimiter=-" } },
	/* 7: !include with a glob, in sorted order */
	{ "!include conf.d/*.conf\n",
	  NULL, { "first_valid_uid=2000", "service:lmtp:process_limit=5",
		  "service:lmtp:file=@DIR@/conf.d/20-b.conf", "service:lmtp:line=2" } },
	/* 8: !include_try without a match */
	{ "!include_try nothing/*.conf\n!include_try missing.conf\nmail_debug = yes\n",
	  NULL, { "mail_debug=yes" } },
	/* 9: !include inside a section */
	{ "service lmtp {\n  !include inc_section.conf\n}\n",
	  NULL, { "service:lmtp:process_limit=7" } },
	/* 10-12: protocol overrides apply after all globals, per protocol */
	{ PROTOCOL_TEXT, NULL, {
		"mail_debug=no", "log_path=syslog", "mail_plugins=notify",
		"mail_fsync=never", "lmtp_save_to_detail_mailbox=no" } },
	{ PROTOCOL_TEXT, "lda", {
		"mail_debug=yes", "log_path=", "mail_plugins=notify fts",
		"mail_fsync=never", "lmtp_save_to_detail_mailbox=no" } },
	{ PROTOCOL_TEXT, "lmtp", {
		"mail_debug=no", "log_path=syslog", "mail_plugins=notify",
		"mail_fsync=always", "lmtp_save_to_detail_mailbox=yes" } },
	/* 13-14: protocol lists and a protocol block from an include */
	{ "protocol lda lmtp {\n  hostname = both\n}\n", "lmtp", { "hostname=both" } },
	{ "!include inc_protocol.conf\n", "lda", { "mail_debug=yes" } },
	/* 15: services and listeners; a service given twice merges */
	{ SERVICE_TEXT, NULL, {
		"count:services=2", "service:lmtp:process_limit=20",
		"service:lmtp:idle_kill=30 secs", "service:lmtp:vsz_limit=1G",
		"service:lmtp:client_limit=1", "service:lmtp:line=1",
		"count:listeners:lmtp=3",
		"listener:lmtp:/var/spool/postfix/private/loft-lmtp:mode=0660",
		"listener:lmtp:/var/spool/postfix/private/loft-lmtp:path=/var/spool/postfix/private/loft-lmtp",
		"listener:lmtp:/var/spool/postfix/private/loft-lmtp:user=postfix",
		"listener:lmtp:lmtp:address=127.0.0.1 ::1",
		"listener:lmtp:lmtp:port=24", "listener:lmtp:lmtp:haproxy=yes",
		"listener:lmtp:lmtp-fifo:type=fifo", "listener:lmtp:lmtp-fifo:line=22",
		"listener:stats:http:port=9190" } },
	/* 16: userdb blocks, in order */
	{ "userdb {\n"
	  "  driver = passwd-file\n"
	  "  args = scheme=CRYPT username_format=%n /etc/loft/users\n"
	  "  default_fields = uid=vmail home=/var/vmail/%d/%n\n"
	  "}\n"
	  "userdb static {\n"
	  "  driver = static\n"
	  "  args = uid=vmail gid=vmail\n"
	  "  skip = found\n"
	  "}\n",
	  NULL, {
		"count:userdbs=2", "userdb:0:driver=passwd-file",
		"userdb:0:name=passwd-file",
		"userdb:0:args=scheme=CRYPT username_format=%n /etc/loft/users",
		"userdb:0:default_fields=uid=vmail home=/var/vmail/%d/%n",
		"userdb:0:skip=never", "userdb:0:line=1", "userdb:1:name=static",
		"userdb:1:driver=static", "userdb:1:skip=found", "userdb:1:line=6" } },
	/* 17: plugin { } */
	{ "mail_home = /home/%u\n"
	  "plugin {\n"
	  "  quota = maildir:User quota\n"
	  "  quota_rule = *:storage=1G\n"
	  "  home_copy = $mail_home\n"
	  "  empty =\n"
	  "}\n",
	  NULL, {
		"plugin:quota=maildir:User quota", "plugin:quota_rule=*:storage=1G",
		"plugin:home_copy=/home/%u", "plugin:empty=" } },
	/* 18: spacing variants and CRLF line ends */
	{ "mail_debug=yes\r\nservice lmtp{\r\n\tprocess_limit=3\r\n\t}\r\nplugin{\r\n}\r\n",
	  NULL, { "mail_debug=yes", "service:lmtp:process_limit=3" } },
	/* 19: quoted section names */
	{ "service lmtp {\n  unix_listener \"/run/loft/my sock\" {\n  }\n}\n",
	  NULL, { "listener:lmtp:/run/loft/my sock:path=/run/loft/my sock",
		  "listener:lmtp:/run/loft/my sock:mode=0600" } },
	/* 20: mail_location variants and '=' inside values */
	{ "mail_location = maildir:~/Maildir:LAYOUT=fs\nmail_home = /a=b\n",
	  NULL, { "mail_location=maildir:~/Maildir:LAYOUT=fs", "mail_home=/a=b" } },
	{ "mail_location = mbox:~/mail:INBOX=/var/mail/%u\n",
	  NULL, { "mail_location=mbox:~/mail:INBOX=/var/mail/%u" } },
	/* 22: the service page: vsz_limit 0 is no limit and 2^64-1 the
	   default (default_vsz_limit); modes read as Dovecot reads them
	   (no leading 0: decimal), 0 turns a listener off */
	{ "service lmtp {\n"
	  "  vsz_limit = 0\n"
	  "  privileged_group = mail\n"
	  "  chroot = empty\n"
	  "  type = startup\n"
	  "  unix_listener a {\n    mode = 600\n  }\n"
	  "  unix_listener b {\n    mode = 0\n  }\n"
	  "  unix_listener c {\n    mode = 0666\n  }\n"
	  "}\n"
	  "service stats {\n}\n"
	  "default_internal_group = loft\n"
	  "default_login_user = dovenull2\n"
	  "service other {\n  user = $default_login_user\n}\n",
	  NULL, {
		"service:lmtp:vsz_limit=0", "service:stats:vsz_limit=18446744073709551615",
		"service:lmtp:privileged_group=mail", "service:lmtp:chroot=empty",
		"service:lmtp:type=startup",
		"listener:lmtp:a:mode=01130", "listener:lmtp:b:mode=0000",
		"listener:lmtp:c:mode=0666", "default_internal_group=loft",
		"service:other:user=dovenull2" } },
	/* 23-25: Dovecot's settings and sections loft does not use: accepted,
	   listed once, kept out of the settings; a foreign <file is not
	   read; protocol !NAME applies to every other protocol */
	{ DOVECOT_TEXT, "lmtp", { DOVECOT_NOT_USED, "count:services=0",
		"count:userdbs=1", "mail_debug=yes", "mail_plugins= fts" } },
	{ DOVECOT_TEXT, "lda", { DOVECOT_NOT_USED, "mail_debug=yes" } },
	{ DOVECOT_TEXT, NULL, { "mail_debug=no", "count:services=0" } },
	/* 26-27: a negated loft protocol */
	{ "protocol !lmtp {\n  mail_debug = yes\n}\n", "lda", { "mail_debug=yes" } },
	{ "protocol !lmtp {\n  mail_debug = yes\n}\n", "lmtp", { "mail_debug=no" } },
	/* 28: extras of loft's own blocks; a refused value at its default */
	{ "service lmtp {\n  inet_listener lmtp {\n"
	  "    reuse_port = yes\n  }\n}\nmail_save_crlf = no\n", "lmtp",
	  { "not_used=service lmtp: reuse_port@3|mail_save_crlf@6", "count:services=1" } },
	/* 29-30: a mailbox's auto = create/subscribe with lda_mailbox_autocreate
	   = yes, under which loft creates the mailbox the same way */
	{ "namespace inbox {\n  mailbox Junk {\n    auto = subscribe\n  }\n}\n"
	  "lda_mailbox_autocreate = yes\n", "lmtp", { "not_used=namespace inbox@1" } },
	{ "namespace inbox {\n  mailbox Junk {\n    auto = create\n  }\n}\n",
	  NULL, { "not_used=namespace inbox@1" } },
	/* 31: mail_plugins is only checked for a delivering protocol */
	{ "mail_plugins = sieve\n", NULL, { "mail_plugins=sieve" } },
	/* 32: protocols loft does not serve (Debian's protocols.d lines) */
	{ "protocols = $protocols imap\nprotocols = $protocols pop3\n", NULL,
	  { "protocols=lmtp imap pop3", "not_used=protocols: imap@2|protocols: pop3@2" } },
	/* 33: the ssl settings loft's TLS does not have */
	{ "ssl_client_cert = </etc/ssl/c.pem\nverbose_ssl = yes\n",
	  "lmtp", { "not_used=ssl_client_cert@1|verbose_ssl@2" } },
	/* fleet { }: loftadm -H's hosts by name, in file order */
	{ "fleet {\n  mx2 = http://10.0.0.2:9191\n  mx1 = 10.0.0.1\n"
	  "  mx3 = [::1]\n}\nfleet_timeout = 3 s\n", NULL,
	  { "fleet=mx2|mx1|mx3", "fleet:mx1=10.0.0.1", "fleet_timeout=3 secs" } },
};

START_TEST(test_good_config)
{
	const struct good_case *c = &good_cases[_i];
	struct loft_settings set;
	const char *error = NULL;
	char *name = subst("@DIR@/main.conf");
	char *text = subst(c->text);

	ck_assert_msg(config_load_string(name, text, c->protocol, &set, &error) == 0,
		      "case %d: got error %s, want success", _i, error);
	for (size_t i = 0; i < MAX_EXPECT && c->expect[i] != NULL; i++)
		check_expect(&set, c->expect[i], (size_t)_i);
	settings_free(&set);
	free(name);
	free(text);
}
END_TEST

/* a mode without a leading 0 is flagged for loftd's warning */
START_TEST(test_mode_decimal_flag)
{
	struct loft_settings set;
	const char *error = NULL;

	ck_assert_msg(config_load_string("m.conf",
		"service lmtp {\n  unix_listener a {\n    mode = 666\n  }\n"
		"  unix_listener b {\n    mode = 0666\n  }\n"
		"  unix_listener c {\n  }\n}\n", NULL, &set, &error) == 0,
		"%s", error);
	ck_assert(set.services[0].listeners[0].mode_decimal);
	ck_assert_uint_eq(set.services[0].listeners[0].mode, 666);
	ck_assert(!set.services[0].listeners[1].mode_decimal);
	ck_assert_uint_eq(set.services[0].listeners[1].mode, 0666);
	ck_assert(!set.services[0].listeners[2].mode_decimal);
	settings_free(&set);
}
END_TEST

/* ---- errors ---- */

struct error_case {
	const char *text;
	const char *protocol;
	const char *want;	/* @DIR@/main.conf is the config's own name */
};

#define M "@DIR@/main.conf"

static const struct error_case error_cases[] = {
	/* settings and values */
	{ "foo = bar\n", NULL, M ":1: Unknown setting: foo" },
	{ "\n\nmail_debug = maybe\n", NULL,
	  M ":3: mail_debug: Invalid boolean value: maybe (use yes or no)" },
	{ "lmtp_max_message_size = 10X\n", NULL,
	  M ":1: lmtp_max_message_size: Invalid size: 10X" },
	{ "mbox_lock_timeout = 5 fortnights\n", NULL,
	  M ":1: mbox_lock_timeout: Invalid time: 5 fortnights" },
	{ "first_valid_uid = -1\n", NULL, M ":1: first_valid_uid: Invalid number: -1" },
	{ "first_valid_uid = 4294967296\n", NULL,
	  M ":1: first_valid_uid: Invalid number: 4294967296" },
	{ "mail_fsync = sometimes\n", NULL,
	  M ":1: mail_fsync: Invalid value: sometimes (allowed: optimized:always:never)" },
	{ "mail_plugins = $nonexistent acl\n", NULL, M ":1: Unknown variable: $nonexistent" },
	{ "http_api_key = <missing.txt\n", NULL,
	  M ":1: Can't open @DIR@/missing.txt: No such file or directory" },
	{ "http_api_key = <\n", NULL, M ":1: Missing file name after '<'" },
	/* syntax */
	{ "hostname = \"abc\n", NULL, M ":1: Missing closing quote" },
	{ "# x\nhostname = 'abc\n", NULL, M ":2: Missing closing quote" },
	{ "hostname = \"abc\" def\n", NULL, M ":1: Unexpected text after closing quote" },
	{ "mail_debug\n", NULL, M ":1: Expecting '='" },
	{ "mail_debug yes\n", NULL, M ":1: Expecting '='" },
	{ "= yes\n", NULL, M ":1: Missing setting name before '='" },
	{ "mail_plugins = a \\\n  b\nfoo = \\\n bar\n", NULL, M ":3: Unknown setting: foo" },
	/* sections */
	{ "}\n", NULL, M ":1: Unexpected }" },
	{ "service lmtp {\n  process_limit = 1\n}\n  }\n", NULL, M ":4: Unexpected }" },
	{ "mail_debug = yes\nservice lmtp {\n  unix_listener x {\n  }\n", NULL,
	  M ":2: Missing }" },
	{ "service lmtp {\n  unix_listener x {\n", NULL, M ":2: Missing }" },
	{ "foo {\n}\n", NULL, M ":1: Unknown section type: foo" },
	{ "unix_listener x {\n}\n", NULL, M ":1: Section unix_listener not allowed here" },
	{ "service lmtp {\n  service x {\n  }\n}\n", NULL,
	  M ":2: Section service not allowed here" },
	{ "protocol lda {\n  plugin {\n  }\n}\n", NULL, M ":2: Section plugin not allowed here" },
	{ "plugin foo {\n}\n", NULL, M ":1: Unexpected name for plugin section: foo" },
	{ "fleet all {\n}\n", NULL, M ":1: Unexpected name for fleet section: all" },
	{ "protocol lmtp {\n  fleet {\n  }\n}\n", NULL, M ":2: Section fleet not allowed here" },
	{ "fleet {\n  mx1 = https://mx1\n}\n", NULL,
	  M ":2: fleet: mx1 = https://mx1: https is not supported: loft-stats "
	  "serves plain HTTP (see loftadm(1), FLEET)" },
	{ "fleet {\n  mx1 = mx1:99999\n}\n", NULL,
	  M ":2: fleet: mx1 = mx1:99999: invalid port (1..65535)" },
	{ "fleet {\n  a,b = mx1\n}\n", NULL,
	  M ":2: fleet: a,b: a host name may not hold , / : [ or ]" },
	{ "{\n}\n", NULL, M ":1: Missing section type before '{'" },
	/* the quota plugin's settings, with the line of the one at fault */
	{ "plugin {\n  quota = count:User quota\n}\n", NULL,
	  M ":2: quota backend count is not implemented by loft (only maildir is)" },
	{ "plugin {\n  quota = maildir:User quota\n  quota_rule = *:storage=1G\n"
	  "  quota_rule2 = Trash:storage=+1Q\n}\n", NULL,
	  M ":4: Invalid rule Trash:storage=+1Q: Invalid rule limit value "
	  "'storage=1Q': Unknown unit: Q" },
	{ "plugin {\n  quota = maildir\n  quota_rule = *:storage=-1G\n}\n", NULL,
	  M ":3: Invalid rule *:storage=-1G: Bytes limit can't be negative" },
	{ "plugin {\n  quota = maildir\n  quota_rule = *:storage=10%\n}\n", NULL,
	  M ":3: Invalid rule *:storage=10%: Invalid rule limit value "
	  "'storage=10%': Default rule can't be a percentage" },
	{ "plugin {\n  quota = maildir\n  quota_grace = lots\n}\n", NULL,
	  M ":3: Invalid quota_grace value 'lots'" },
	{ "plugin {\n  quota = maildir:q:noenforcing:bogus\n}\n", NULL,
	  M ":2: Unknown parameter for backend maildir: bogus" },
	{ "plugin {\n  quota = maildir\n  quota_warning = storage=95%% quota-warning 95 %u\n}\n",
	  NULL, M ":3: quota_warning is not implemented by loft" },
	{ "plugin {\n  quota = maildir\n  quota_exceeded_message = 100% full\n}\n",
	  NULL, M ":3: quota_exceeded_message: Unknown variable: % " },
	{ "plugin {\n  quota2 = maildir:Other\n}\n", NULL,
	  M ":2: quota2 is not implemented by loft" },
	{ "mail_location = mbox:~/mail\nmail_plugins = quota\n"
	  "plugin {\n  quota = maildir:User quota\n}\n", NULL,
	  M ":4: quota backend maildir counts Maildir only, but mail_location "
	  "is mbox:~/mail" },
	/* protocol */
	{ "protocol imapp {\n}\n", NULL, M ":1: Unknown protocol: imapp" },
	{ "protocol lda pop33 {\n}\n", "lda", M ":1: Unknown protocol: pop33" },
	{ "protocol {\n}\n", NULL, M ":1: Missing protocol name" },
	{ "protocol lda {\n  process_limit = 5\n}\n", NULL, M ":2: Unknown setting: process_limit" },
	{ "protocol lmtp {\n  mail_debug = maybe\n}\n", NULL,
	  M ":2: mail_debug: Invalid boolean value: maybe (use yes or no)" },
	{ "protocol lda {\n  mail_plugins = $nope\n}\n", "lmtp", M ":2: Unknown variable: $nope" },
	{ "", "imap", M ": Unknown protocol: imap" },
	/* services and listeners */
	{ "service {\n}\n", NULL, M ":1: Missing service name" },
	{ "service lmtp {\n  foo = 1\n}\n", NULL, M ":2: Unknown setting: foo" },
	{ "service lmtp {\n  process_limit = lots\n}\n", NULL,
	  M ":2: process_limit: Invalid number: lots" },
	{ "service lmtp {\n  unix_listener {\n  }\n}\n", NULL, M ":2: Missing listener name" },
	{ "service lmtp {\n  unix_listener x {\n    port = 24\n  }\n}\n", NULL,
	  M ":3: Unknown setting: port" },
	{ "service lmtp {\n  inet_listener lmtp {\n    mode = 0600\n  }\n}\n", NULL,
	  M ":3: Unknown setting: mode" },
	{ "service lmtp {\n  unix_listener x {\n    mode = 0999\n  }\n}\n", NULL,
	  M ":3: mode: Invalid file mode: 0999" },
	{ "service lmtp {\n  unix_listener x {\n    mode = 9999\n  }\n}\n", NULL,
	  M ":3: mode: Invalid file mode: 9999" },
	{ "service lmtp {\n  unix_listener x {\n    mode = 66a\n  }\n}\n", NULL,
	  M ":3: mode: Invalid file mode: 66a" },
	{ "service lmtp {\n  unix_listener a {\n  }\n  fifo_listener a {\n  }\n}\n", NULL,
	  M ":4: Duplicate listener name: a" },
	{ "service lmtp {\n  unix_listener a {\n  }\n}\nservice lmtp {\n  unix_listener a {\n  }\n}\n",
	  NULL, M ":6: Duplicate listener name: a" },
	{ "service lmtp {\n  inet_listener a {\n  }\n  inet_listener a {\n  }\n}\n", NULL,
	  M ":4: Duplicate listener name: a" },
	{ "service lmtp {\n  inet_listener lmtp {\n    port = 70000\n  }\n}\n", NULL,
	  M ":2: Invalid port number: 70000" },
	/* userdb */
	{ "userdb {\n  args = x\n}\n", NULL, M ":1: Missing driver in userdb section" },
	{ "\nuserdb {\n  driver = ldap\n}\n", NULL, M ":3: Unknown userdb driver: ldap" },
	{ "userdb {\n  driver = static\n  skip = always\n}\n", NULL,
	  M ":3: skip: Invalid value: always (allowed: never:found:notfound)" },
	{ "userdb {\n  driver = static\n  uid = 5\n}\n", NULL, M ":3: Unknown setting: uid" },
	/* validation after parsing */
	{ "mail_location = mdbox:~/mdbox\n", NULL,
	  M ":1: Unknown mail storage in mail_location: mdbox:~/mdbox" },
	{ "mail_location = maildir:~/M\nprotocol lda {\n  mail_location = sdbox:~/x\n}\n", "lda",
	  M ":3: Unknown mail storage in mail_location: sdbox:~/x" },
	/* includes */
	{ "!include missing.conf\n", NULL, M ":1: No such file for !include: @DIR@/missing.conf" },
	{ "# x\n!include conf.d/*.nomatch\n", NULL,
	  M ":2: No such file for !include: @DIR@/conf.d/*.nomatch" },
	{ "!bogus x\n", NULL, M ":1: Unknown directive: !bogus" },
	{ "!include\n", NULL, M ":1: Missing file name for !include" },
	{ "\n!include inc_bad.conf\n", NULL, "@DIR@/inc_bad.conf:3: Unknown setting: foo_bar" },
	{ "!include nested.conf\n", NULL, "@DIR@/inc_bad.conf:3: Unknown setting: foo_bar" },
	{ "!include inc_unclosed.conf\n", NULL, "@DIR@/inc_unclosed.conf:2: Missing }" },
	{ "service lmtp {\n!include inc_extra_close.conf\n}\n", NULL,
	  "@DIR@/inc_extra_close.conf:1: Unexpected }" },
	{ "!include recursive.conf\n", NULL,
	  "@DIR@/recursive.conf:1: Includes nested more than 16 deep (recursive include?): "
	  "@DIR@/recursive.conf" },
	{ "!include_try adir.conf\n", NULL, M ":1: Can't read @DIR@/adir.conf: Is a directory" },
	/* what loft does not implement but would change delivery */
	{ "mail_plugins = $mail_plugins mail_crypt\n", "lda",
	  M ":1: mail_plugins: mail_crypt: loft does not implement this plugin "
	  "(mail would be delivered without it)" },
	{ "mail_debug = yes\nprotocol lmtp {\n  mail_plugins = acl\n}\n", "lmtp",
	  M ":3: mail_plugins: acl: loft does not implement this plugin "
	  "(mail would be delivered without it)" },
	{ "mail_plugins = zlib\nplugin {\n  zlib_save = gz\n}\n", "lda",
	  M ":1: mail_plugins: zlib: loft does not implement this plugin with "
	  "the plugin { } settings given" },
	{ "mail_save_crlf = yes\n", NULL,
	  M ":1: mail_save_crlf = yes: loft does not implement saving mail with "
	  "CRLF line endings" },
	{ "protocol lda {\n  lmtp_client_workarounds = whitespace-before-path\n}\n", NULL,
	  M ":2: lmtp_client_workarounds = whitespace-before-path: loft does not "
	  "implement LMTP client workarounds" },
	{ "namespace {\n  prefix = INBOX.\n}\n", NULL,
	  M ":2: prefix = INBOX.: loft does not implement namespace prefixes for "
	  "mailbox names" },
	{ "namespace inbox {\n  mailbox Junk {\n    auto = create\n  }\n}\n", "lda",
	  M ":3: auto = create: loft does not implement auto-created mailboxes "
	  "without lda_mailbox_autocreate = yes (a delivery to the mailbox would "
	  "go to INBOX)" },
	{ "namespace inbox {\n  mailbox Junk {\n    auto = subscribe\n  }\n}\n"
	  "protocol lda {\n  lda_mailbox_autocreate = yes\n}\n", "lmtp",
	  M ":3: auto = subscribe: loft does not implement auto-created mailboxes "
	  "without lda_mailbox_autocreate = yes (a delivery to the mailbox would "
	  "go to INBOX)" },
	{ "userdb {\n  driver = passwd\n  result_success = continue-ok\n}\n", NULL,
	  M ":3: result_success = continue-ok: loft does not implement userdb result rules" },
	{ "remote 1.2.3.4 {\n  mail_debug = yes\n}\n", NULL,
	  M ":2: mail_debug: loft does not apply settings per local or remote "
	  "address (set it outside the filter)" },
	{ "remote 1.2.3.4 {\n  mail_save_crlf = yes\n}\n", NULL,
	  M ":2: mail_save_crlf = yes: loft does not implement saving mail with "
	  "CRLF line endings" },
	/* misspelt Dovecot names are still unknown */
	{ "auth_mechanism = plain\n", NULL, M ":1: Unknown setting: auth_mechanism" },
	{ "passdb {\n  drvier = pam\n}\n", NULL, M ":2: Unknown setting: drvier" },
	{ "service imap {\n  proces_limit = 1\n}\n", NULL,
	  M ":2: Unknown setting: proces_limit" },
	{ "protocol imap {\n  mail_debgu = yes\n}\n", NULL,
	  M ":2: Unknown setting: mail_debgu" },
	{ "mailbox Junk {\n}\n", NULL, M ":1: Unknown section type: mailbox" },
	{ "passdb {\n  userdb {\n  }\n}\n", NULL, M ":2: Section userdb not allowed here" },
	{ "protocol !imap pop3 {\n}\n", NULL,
	  M ":1: A negated protocol (!NAME) must be the only one: !imap pop3" },
	{ "protocols = lmpt\n", NULL, M ":1: protocols: Unknown protocol: lmpt" },
	{ "hostname = $auth_mechanisms\n", NULL,
	  M ":1: $auth_mechanisms: a Dovecot setting loft does not use has no value here" },
};

START_TEST(test_error_config)
{
	const struct error_case *c = &error_cases[_i];
	struct loft_settings set;
	const char *error = NULL;
	char *name = subst(M);
	char *text = subst(c->text);
	char *want = subst(c->want);

	ck_assert_msg(config_load_string(name, text, c->protocol, &set, &error) < 0,
		      "case %d: got success, want error %s", _i, want);
	ck_assert_msg(strcmp(error, want) == 0, "case %d: got \"%s\", want \"%s\"",
		      _i, error, want);
	free(name);
	free(text);
	free(want);
}
END_TEST

START_TEST(test_load_file)
{
	struct loft_settings set;
	const char *error = NULL;
	char *path = subst("@DIR@/main-file.conf");
	char *missing = subst("@DIR@/nope.conf");
	char *want = subst("@DIR@/nope.conf: Can't open config file: "
			   "No such file or directory");

	ck_assert_msg(config_load(path, NULL, &set, &error) == 0,
		      "got error %s, want success", error);
	ck_assert_str_eq(set.hostname, "disk");
	ck_assert(set.mail_debug);
	ck_assert_str_eq(set.recipient_delimiter, "-");
	settings_free(&set);

	ck_assert_int_eq(config_load(missing, NULL, &set, &error), -1);
	ck_assert_msg(strcmp(error, want) == 0, "got \"%s\", want \"%s\"", error, want);
	free(path);
	free(missing);
	free(want);
}
END_TEST

/* ---- settings_write round trips ---- */

static const char round_trip_text[] =
	"hostname = \"mx #1\"\n"
	"log_timestamp = \"[%T] \"\n"
	"recipient_delimiter = \"\"\n"
	"deliver_log_format = \"from=$x \\\"q\\\" \\\\ y\"\n"
	"mail_location = maildir:~/Maildir:LAYOUT=fs\n"
	"lmtp_max_message_size = 100 B\n"
	"default_vsz_limit = 1536k\n"
	"mbox_lock_timeout = 90 s\n"
	"mail_max_lock_timeout = 1500ms\n"
	"default_idle_kill = 2 weeks\n"
	"mail_debug = yes\n"
	"lmtp_add_received_header = no\n"
	"first_valid_uid = 0\n"
	"mail_fsync = never\n"
	"http_api_key = <value.txt\n"
	"mail_plugins = '{curly} quota'\n"
	"userdb {\n"
	"  driver = passwd-file\n"
	"  args = /etc/loft/users\n"
	"}\n"
	"userdb special {\n"
	"  driver = static\n"
	"  args = \"uid=1 # not a comment\"\n"
	"  skip = notfound\n"
	"}\n"
	"service lmtp {\n"
	"  process_limit = 3\n"
	"  drop_priv_before_exec = yes\n"
	"  unix_listener \"/run/my sock\" {\n"
	"    mode = 0666\n"
	"  }\n"
	"  unix_listener decimal {\n"
	"    mode = 666\n"
	"  }\n"
	"  inet_listener lmtp {\n"
	"    address = 127.0.0.1\n"
	"    port = 24\n"
	"    haproxy = yes\n"
	"  }\n"
	"}\n"
	"service stats {\n"
	"}\n"
	"plugin {\n"
	"  quota = \"maildir:User quota\"\n"
	"  weird = \" lead\\ttab\"\n"
	"}\n"
	"fleet {\n"
	"  mx1 = http://10.0.0.1:9191\n"
	"}\n";

/* write_to_string - settings_write output as a malloc'ed string */
static char *write_to_string(const struct loft_settings *set, bool all)
{
	char *data = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&data, &size);

	ck_assert_ptr_nonnull(f);
	settings_write(set, f, all);
	ck_assert_int_eq(fclose(f), 0);
	return data;
}

/* reparse - parse text and return its settings_write(all) output */
static char *reparse(const char *text, bool all)
{
	struct loft_settings set;
	const char *error = NULL;
	char *out;

	ck_assert_msg(config_load_string("written.conf", text, NULL, &set, &error) == 0,
		      "written config does not parse: %s\n%s", error, text);
	out = write_to_string(&set, all);
	settings_free(&set);
	return out;
}

START_TEST(test_write_round_trip)
{
	struct loft_settings set, copy;
	const char *error = NULL;
	char *name = subst("@DIR@/rt.conf");
	char *changed, *all, *again, *copy_all;

	ck_assert_msg(config_load_string(name, round_trip_text, NULL, &set, &error) == 0,
		      "got error %s", error);
	changed = write_to_string(&set, false);
	all = write_to_string(&set, true);

	/* only non-defaults, and they read back to the same settings */
	ck_assert_ptr_null(strstr(changed, "base_dir"));
	ck_assert_msg(changed[0] != '#' && strstr(changed, "\n#") == NULL,
		      "doc comments without all:\n%s", changed);
	ck_assert_ptr_nonnull(strstr(changed, "log_timestamp = \"[%T] \"\n"));
	ck_assert_ptr_nonnull(strstr(changed, "lmtp_max_message_size = 100\n"));
	ck_assert_ptr_nonnull(strstr(changed, "fleet {\n  mx1 = http://10.0.0.1:9191\n}\n"));
	ck_assert_ptr_nonnull(strstr(changed, "mail_max_lock_timeout = 1500 ms\n"));
	ck_assert_ptr_nonnull(strstr(changed, "recipient_delimiter = \"\"\n"));
	/* a decimal mode is written in octal with its leading 0 */
	ck_assert_ptr_nonnull(strstr(changed, "    mode = 01232\n"));
	again = reparse(changed, false);
	ck_assert_msg(strcmp(again, changed) == 0, "got:\n%s\nwant:\n%s", again, changed);
	free(again);
	again = reparse(changed, true);
	ck_assert_msg(strcmp(again, all) == 0, "got:\n%s\nwant:\n%s", again, all);
	free(again);

	/* everything, with docs, reads back to the same settings */
	ck_assert_ptr_nonnull(strstr(all, "# Directory for runtime data"));
	ck_assert_ptr_nonnull(strstr(all, "base_dir = " LOFT_BASE_DIR "\n"));
	again = reparse(all, true);
	ck_assert_msg(strcmp(again, all) == 0, "got:\n%s\nwant:\n%s", again, all);
	free(again);

	/* a deep copy writes the same and frees independently */
	settings_copy(&copy, &set);
	settings_free(&set);
	copy_all = write_to_string(&copy, true);
	ck_assert_msg(strcmp(copy_all, all) == 0, "got:\n%s\nwant:\n%s", copy_all, all);
	settings_free(&copy);
	free(copy_all);
	free(changed);
	free(all);
	free(name);
}
END_TEST

START_TEST(test_write_defaults)
{
	struct loft_settings set;
	char *changed, *all;

	settings_init(&set);
	changed = write_to_string(&set, false);
	ck_assert_msg(strcmp(changed, "") == 0, "got \"%s\", want \"\"", changed);
	all = write_to_string(&set, true);
	ck_assert_ptr_nonnull(strstr(all, "log_timestamp = \"%Y-%m-%d %H:%M:%S \"\n"));
	ck_assert_ptr_nonnull(strstr(all, "default_idle_kill = 1 min\n"));
	ck_assert_ptr_nonnull(strstr(all, "lmtp_max_message_size = 50M\n"));
	ck_assert_ptr_nonnull(strstr(all, "mail_fsync = optimized\n"));
	free(changed);
	free(all);
	settings_free(&set);
}
END_TEST

/* ---- tables and value parsers ---- */

/* every field of struct loft_settings but the sections, in order */
static const char *const global_names[] = {
	"base_dir", "hostname", "protocols", "listen",
	"haproxy_trusted_networks", "login_trusted_networks",
	"mail_temp_dir",
	"ssl", "ssl_cert", "ssl_key", "ssl_alt_cert", "ssl_alt_key",
	"ssl_key_password", "ssl_ca",
	"ssl_verify_client_cert", "ssl_min_protocol", "ssl_cipher_list",
	"ssl_cipher_suites", "ssl_curve_list", "ssl_prefer_server_ciphers", "ssl_dh",
	"ssl_options", "ssl_client_ca_file", "ssl_client_ca_dir",
	"ssl_client_require_valid_cert",
	"mail_home", "mail_location", "mail_uid", "mail_gid",
	"first_valid_uid", "last_valid_uid", "first_valid_gid", "last_valid_gid",
	"mail_privileged_group", "mail_fsync", "mail_max_lock_timeout",
	"mbox_lock_timeout", "mbox_dotlock_change_timeout", "mbox_write_locks",
	"mail_debug", "mail_plugins", "quota_full_tempfail",
	"auth_username_chars", "auth_username_translation",
	"auth_username_format", "auth_cache_size", "auth_cache_ttl",
	"auth_cache_negative_ttl", "userdb_sql_timeout", "auth_socket_path",
	"recipient_delimiter",
	"lda_mailbox_autocreate", "lda_mailbox_autosubscribe",
	"sendmail_path", "submission_host", "submission_timeout",
	"postmaster_address", "rejection_subject", "rejection_reason",
	"lda_original_recipient_header", "deliver_log_format",
	"lmtp_save_to_detail_mailbox", "lmtp_add_received_header",
	"lmtp_rcpt_check_quota", "lmtp_hdr_delivery_address", "lmtp_user_concurrency_limit",
	"lmtp_max_message_size", "lmtp_proxy", "lmtp_max_recipients",
	"lmtp_client_idle_timeout", "log_path",
	"info_log_path", "debug_log_path", "syslog_facility", "log_timestamp",
	"log_format", "default_process_limit", "default_client_limit",
	"default_idle_kill", "default_vsz_limit", "default_internal_user",
	"default_internal_group", "default_login_user", "http_api_key", "http_api_allowed_hosts", "stats_journal_size",
	"state_dir", "stats_journal_max_age", "stats_journal_max_size",
	"admin_socket_group", "fleet_timeout",
};

/* ---- mail_plugins ---- */

START_TEST(test_mail_plugins)
{
	struct kvlist plugin;
	const char *error = NULL, *pos, *name;

	ck_assert(mail_plugins_has(" quota sieve", "sieve"));
	ck_assert(mail_plugins_has("quota,sieve", "quota"));
	ck_assert(!mail_plugins_has("quota_clone", "quota"));
	ck_assert(!mail_plugins_has("", "quota"));
	ck_assert_int_eq(mail_plugins_check("", NULL, &error), 0);
	ck_assert_int_eq(mail_plugins_check(" fts  fts_solr,notify mail_log", NULL,
					    &error), 0);
	ck_assert_int_eq(mail_plugins_check("fts sieve", NULL, &error), 0);
	ck_assert_int_eq(mail_plugins_check("fts mail_crypt", NULL, &error), -1);
	ck_assert_str_eq(error, "mail_plugins: mail_crypt: loft does not implement this "
			 "plugin (mail would be delivered without it)");
	kvlist_init(&plugin);
	ck_assert_int_eq(mail_plugins_check("zlib", &plugin, &error), 0);
	kvlist_set(&plugin, "zlib_save", "gz");
	ck_assert_int_eq(mail_plugins_check("zlib", &plugin, &error), -1);
	kvlist_free(&plugin);
	/* the accepted ones loft does not run, in order */
	pos = "fts acl notify";
	name = mail_plugins_not_used(&pos);
	ck_assert_str_eq(name, "fts");
	name = mail_plugins_not_used(&pos);
	ck_assert_str_eq(name, "notify");
	ck_assert_ptr_null(mail_plugins_not_used(&pos));
}
END_TEST

START_TEST(test_global_table)
{
	size_t n = 0;

	for (; loft_setting_defs[n].name != NULL; n++) {
		ck_assert_msg(n < sizeof(global_names) / sizeof(global_names[0]),
			      "extra setting %s", loft_setting_defs[n].name);
		ck_assert_msg(strcmp(loft_setting_defs[n].name, global_names[n]) == 0,
			      "entry %zu: got %s, want %s", n,
			      loft_setting_defs[n].name, global_names[n]);
	}
	ck_assert_msg(n == sizeof(global_names) / sizeof(global_names[0]),
		      "got %zu settings, want %zu", n,
		      sizeof(global_names) / sizeof(global_names[0]));
}
END_TEST

static const struct setting_def *const all_tables[] = {
	loft_setting_defs, loft_service_setting_defs, loft_listener_setting_defs,
	loft_userdb_setting_defs,
};

START_TEST(test_table_defaults)
{
	const struct setting_def *defs = all_tables[_i];

	for (; defs->name != NULL; defs++) {
		const char *error = NULL;
		ck_assert_msg(defs->doc != NULL && defs->doc[0] != '\0',
			      "%s has no doc", defs->name);
		ck_assert_msg(defs->default_value != NULL, "%s has no default",
			      defs->name);
		ck_assert_msg(setting_check_value(defs, defs->default_value, &error) == 0,
			      "%s: default %s: %s", defs->name, defs->default_value,
			      error);
		ck_assert_msg(defs->type != SETTING_ENUM ||
			      strncmp(defs->enum_values, defs->default_value,
				      strlen(defs->default_value)) == 0,
			      "%s: default is not the first enum value", defs->name);
	}
}
END_TEST

struct u64_case {
	const char *str;
	int ret;
	uint64_t want;
};

static const struct u64_case size_cases[] = {
	{ "0", 0, 0 }, { "100", 0, 100 }, { "100 B", 0, 100 }, { "100b", 0, 100 },
	{ "512k", 0, 512ULL << 10 }, { "512K", 0, 512ULL << 10 },
	{ "10M", 0, 10ULL << 20 }, { "10 M", 0, 10ULL << 20 },
	{ "10MB", 0, 10ULL << 20 }, { "10 mb", 0, 10ULL << 20 },
	{ "1G", 0, 1ULL << 30 }, { "2 GB", 0, 2ULL << 30 }, { "3T", 0, 3ULL << 40 },
	{ "16777215T", 0, 16777215ULL << 40 },
	{ "", -1, 0 }, { "M", -1, 0 }, { "10X", -1, 0 }, { "10 MBB", -1, 0 },
	{ "-1", -1, 0 }, { "1.5M", -1, 0 }, { "16777216T", -1, 0 },
	{ "18446744073709551616", -1, 0 },
};

/* check_u64_case - run one size/time parser case; errors must read
   "<prefix><input>" */
static void check_u64_case(int (*parse)(const char *, uint64_t *, const char **),
			   const char *prefix, const struct u64_case *c)
{
	uint64_t got = 0;
	const char *error = NULL;
	int ret = parse(c->str, &got, &error);
	size_t prefix_len = strlen(prefix);

	ck_assert_msg(ret == c->ret, "%s: got ret %d, want %d", c->str, ret, c->ret);
	if (ret == 0)
		ck_assert_msg(got == c->want, "%s: got %llu, want %llu", c->str,
			      (unsigned long long)got, (unsigned long long)c->want);
	else
		ck_assert_msg(strncmp(error, prefix, prefix_len) == 0 &&
			      strcmp(error + prefix_len, c->str) == 0,
			      "%s: got error %s, want %s%s", c->str, error, prefix,
			      c->str);
}

START_TEST(test_parse_size)
{
	check_u64_case(settings_parse_size, "Invalid size: ", &size_cases[_i]);
}
END_TEST

static const struct u64_case time_cases[] = {
	{ "0", 0, 0 }, { "30", 0, 30000 }, { "100 ms", 0, 100 }, { "100ms", 0, 100 },
	{ "5 msec", 0, 5 }, { "5 msecs", 0, 5 }, { "30s", 0, 30000 },
	{ "30 sec", 0, 30000 }, { "30 secs", 0, 30000 }, { "1 second", 0, 1000 },
	{ "2 seconds", 0, 2000 }, { "5m", 0, 300000 }, { "5min", 0, 300000 },
	{ "5 mins", 0, 300000 }, { "1 minute", 0, 60000 }, { "2 minutes", 0, 120000 },
	{ "1h", 0, 3600000 }, { "1 hour", 0, 3600000 }, { "2 hours", 0, 7200000 },
	{ "1d", 0, 86400000 }, { "1 day", 0, 86400000 }, { "3 days", 0, 259200000 },
	{ "1w", 0, 604800000 }, { "1 week", 0, 604800000 },
	{ "2 weeks", 0, 1209600000 }, { "5 MINS", 0, 300000 },
	{ "", -1, 0 }, { "s", -1, 0 }, { "5 fortnights", -1, 0 }, { "5 s x", -1, 0 },
	{ "1.5s", -1, 0 }, { "-5", -1, 0 }, { "30000000000000000 weeks", -1, 0 },
};

START_TEST(test_parse_time)
{
	check_u64_case(settings_parse_time, "Invalid time: ", &time_cases[_i]);
}
END_TEST

struct bool_case {
	const char *str;
	int ret;
	bool want;
};

static const struct bool_case bool_cases[] = {
	{ "yes", 0, true }, { "YES", 0, true }, { "Yes", 0, true }, { "y", 0, true },
	{ "Y", 0, true }, { "1", 0, true }, { "no", 0, false }, { "NO", 0, false },
	{ "n", 0, false }, { "N", 0, false }, { "0", 0, false },
	{ "true", -1, false }, { "", -1, false }, { "yess", -1, false },
	{ " yes", -1, false }, { "2", -1, false },
};

START_TEST(test_parse_bool)
{
	const struct bool_case *c = &bool_cases[_i];
	bool got = !c->want;
	const char *error = NULL;
	int ret = settings_parse_bool(c->str, &got, &error);
	char want_error[128];

	ck_assert_msg(ret == c->ret, "%s: got ret %d, want %d", c->str, ret, c->ret);
	if (ret == 0) {
		ck_assert_msg(got == c->want, "%s: got %d, want %d", c->str, got, c->want);
	} else {
		snprintf(want_error, sizeof(want_error),
			 "Invalid boolean value: %s (use yes or no)", c->str);
		ck_assert_msg(strcmp(error, want_error) == 0, "%s: got %s, want %s",
			      c->str, error, want_error);
	}
}
END_TEST

struct set_case {
	const char *name;
	const char *value;
	const char *want;	/* formatted value, or the error */
};

static const struct set_case set_cases[] = {
	{ "mail_fsync", "always", "always" },
	{ "mail_fsync", "never", "never" },
	{ "mail_fsync", "Always", "Invalid value: Always (allowed: optimized:always:never)" },
	{ "first_valid_uid", "4294967295", "4294967295" },
	{ "first_valid_uid", "4294967296", "Invalid number: 4294967296" },
	{ "first_valid_uid", "", "Invalid number: " },
	{ "first_valid_uid", "12a", "Invalid number: 12a" },
	{ "lmtp_max_message_size", "1048576", "1M" },
	{ "lmtp_max_message_size", "1049600", "1025k" },
	{ "default_idle_kill", "90", "90 secs" },
	{ "default_idle_kill", "120 s", "2 mins" },
	{ "default_idle_kill", "1 ms", "1 ms" },
	{ "default_idle_kill", "24 hours", "1 day" },
	{ "lda_mailbox_autocreate", "y", "yes" },
	{ "log_format", "json", "json" },
	{ "no_such_setting", "x", "Unknown setting: no_such_setting" },
};

START_TEST(test_settings_set)
{
	const struct set_case *c = &set_cases[_i];
	struct loft_settings set;
	struct strbuf got;
	const char *error = NULL;

	settings_init(&set);
	strbuf_init(&got, 32);
	if (settings_set(&set, c->name, c->value, &error) < 0)
		strbuf_append_str(&got, error);
	else
		setting_format_value(setting_find(loft_setting_defs, c->name), &set, &got);
	ck_assert_msg(strcmp(got.data, c->want) == 0, "%s=%s: got \"%s\", want \"%s\"",
		      c->name, c->value, got.data, c->want);
	strbuf_free(&got);
	settings_free(&set);
}
END_TEST

START_TEST(test_mail_fsync)
{
	struct loft_settings set;
	const char *error;

	settings_init(&set);
	ck_assert_int_eq(settings_mail_fsync(&set), MAIL_FSYNC_OPTIMIZED);
	ck_assert_int_eq(settings_set(&set, "mail_fsync", "always", &error), 0);
	ck_assert_int_eq(settings_mail_fsync(&set), MAIL_FSYNC_ALWAYS);
	ck_assert_int_eq(settings_set(&set, "mail_fsync", "never", &error), 0);
	ck_assert_int_eq(settings_mail_fsync(&set), MAIL_FSYNC_NEVER);
	settings_free(&set);
}
END_TEST

#define N_CASES(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc_settings = tcase_create("settings");
	TCase *tc_config = tcase_create("config");

	tcase_add_test(tc_settings, test_global_table);
	tcase_add_test(tc_settings, test_mail_plugins);
	tcase_add_loop_test(tc_settings, test_table_defaults, 0, N_CASES(all_tables));
	tcase_add_loop_test(tc_settings, test_parse_size, 0, N_CASES(size_cases));
	tcase_add_loop_test(tc_settings, test_parse_time, 0, N_CASES(time_cases));
	tcase_add_loop_test(tc_settings, test_parse_bool, 0, N_CASES(bool_cases));
	tcase_add_loop_test(tc_settings, test_settings_set, 0, N_CASES(set_cases));
	tcase_add_test(tc_settings, test_mail_fsync);
	tcase_add_test(tc_settings, test_write_defaults);
	suite_add_tcase(s, tc_settings);

	tcase_add_unchecked_fixture(tc_config, fixture_setup, fixture_teardown);
	tcase_add_loop_test(tc_config, test_good_config, 0, N_CASES(good_cases));
	tcase_add_test(tc_config, test_mode_decimal_flag);
	tcase_add_loop_test(tc_config, test_error_config, 0, N_CASES(error_cases));
	tcase_add_test(tc_config, test_load_file);
	tcase_add_test(tc_config, test_write_round_trip);
	suite_add_tcase(s, tc_config);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
