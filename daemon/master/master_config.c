/*
 * master_config - loftd's configuration views (see master_config.h): one
 * read of the file, one parse per protocol, built-in services, service
 * checks and the per-view sealed snapshots handed to the children.
 */
#include "master_config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "install_paths.h"
#include "log.h"
#include "master_log.h"
#include "service_child.h"
#include "service_env.h"
#include "master_error.h"
#include "strbuf.h"
#include "tls.h"
#include "userdb.h"
#include "xalloc.h"

/* Separators of list settings (protocols, listen, executable words). */
#define MASTER_CONFIG_LIST_SEP " \t,"
#define MASTER_CONFIG_BUILTIN_FILE "<built-in>"

static char *master_config_error;

static const char *const master_config_view_protocols[] = {
	[MASTER_CONFIG_VIEW_GLOBAL] = NULL,
	[MASTER_CONFIG_VIEW_LMTP] = "lmtp",
	[MASTER_CONFIG_VIEW_LDA] = "lda",
};

/* master_config_fail - keep the formatted error and return -1 */
static int master_config_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int master_config_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;
	int ret;

	va_start(args, fmt);
	ret = master_error_vfail(&master_config_error, error_r, fmt, args);
	va_end(args);
	return ret;
}

/* master_config_read - the whole file as a string */
static int master_config_read(const char *path, char **text_r,
			      const char **error_r)
{
	struct strbuf text;
	char buf[8192];
	ssize_t ret;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return master_config_fail(error_r, "%s: Can't open config file: %s",
					  path, strerror(errno));
	strbuf_init(&text, sizeof(buf));
	while ((ret = read(fd, buf, sizeof(buf))) != 0) {
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			int err = errno;

			close(fd);
			strbuf_free(&text);
			return master_config_fail(error_r, "%s: Can't read config file: %s",
						  path, strerror(err));
		}
		strbuf_append(&text, buf, (size_t)ret);
	}
	close(fd);
	*text_r = strbuf_detach(&text);
	return 0;
}

/* master_config_in_list - whether word is in the separated list */
static bool master_config_in_list(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; *p != '\0';) {
		size_t n;

		p += strspn(p, MASTER_CONFIG_LIST_SEP);
		n = strcspn(p, MASTER_CONFIG_LIST_SEP);
		if (n == len && n > 0 && strncmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* master_config_set - store value in the field named name of defs */
static void master_config_set(const struct setting_def *defs, void *base,
			      const char *name, const char *value)
{
	const char *error;

	if (setting_parse_value(setting_find(defs, name), base, value, &error) < 0)
		log_panic("built-in setting %s: %s", name, error);
}

/* master_config_find_service - the service called name, or NULL */
static struct service_settings *
master_config_find_service(struct loft_settings *set, const char *name)
{
	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, name) == 0)
			return &set->services[i];
	}
	return NULL;
}

/* A listener of a built-in service, added when the service lacks it. */
struct master_builtin_listener {
	enum listener_type type;
	const char *name, *path, *mode;
};

/* A service loftd runs even when the file does not name it; a file's own
   block of that name keeps its settings and gains what it lacks, its
   built-in listeners included (as in Dovecot, a file's block adds to the
   defaults: `mode = 0` turns a built-in unix listener off). */
struct master_builtin_service {
	const char *name, *executable, *protocol, *type;
	const char *protocol_gate;	/* only when listed in `protocols` */
	bool file_only;			/* only when the file names it */
	struct master_builtin_listener listeners[2];
};

static const struct master_builtin_service master_builtin_services[] = {
	/* the only writer of log files and syslog: root, no listener */
	{ MASTER_LOG_SERVICE, MASTER_LOG_EXECUTABLE, "", "startup", NULL,
	  false, { { 0 } } },
	/* Dovecot's default lmtp socket, mode 0666 as there */
	{ "lmtp", MASTER_LMTP_EXECUTABLE, "lmtp", "", "lmtp", false,
	  { { LISTENER_UNIX, "lmtp", "lmtp", "0666" } } },
	/* the stats writer socket is 0666: loft-lda reports as any mail
	   user; admin is loftadm's */
	{ "stats", MASTER_STATS_EXECUTABLE, "", "startup", NULL, false,
	  { { LISTENER_UNIX, "stats-writer", "stats-writer", "0666" },
	    { LISTENER_UNIX, "admin", "admin", "0600" } } },
	/* userdb lookups over Dovecot's auth-master protocol, when the file
	   has a `service auth`; auth-userdb as Dovecot's: mode 0666, owned
	   by default_internal_user (auth_peer.h says what 0666 grants) */
	{ "auth", MASTER_AUTH_EXECUTABLE, "", "", NULL, true,
	  { { LISTENER_UNIX, "auth-userdb", "auth-userdb", "0666" } } },
};

/* Dovecot's program names of the services loft implements: a Dovecot
   config's `executable = lmtp` starts loft-lmtp */
static const struct {
	const char *dovecot, *loft;
} master_config_program_aliases[] = {
	{ "lmtp", MASTER_LMTP_EXECUTABLE },
	{ "stats", MASTER_STATS_EXECUTABLE },
	{ "log", MASTER_LOG_EXECUTABLE },
	{ "auth", MASTER_AUTH_EXECUTABLE },
};

/* loft's own programs are called loft-*: a bare name of that shape is
   looked for beside loftd */
#define MASTER_CONFIG_PROGRAM_PREFIX "loft-"

/* Service types of Dovecot's service page that belong to Dovecot's own
   processes (login, config, anvil, auth-worker), none of which loft runs */
static const char *const master_config_dovecot_only_types[] = {
	"login", "config", "anvil", "worker",
};

/* Loopback: where a stats (HTTP) inet listener without an address binds,
   whatever `listen` says */
#define MASTER_CONFIG_INTERNAL_LISTEN "127.0.0.1"

/* master_config_has_listener - svc already has a listener type+name */
static bool master_config_has_listener(const struct service_settings *svc,
				       enum listener_type type, const char *name)
{
	for (size_t i = 0; i < svc->listener_count; i++) {
		if (svc->listeners[i].type == type &&
		    strcmp(svc->listeners[i].name, name) == 0)
			return true;
	}
	return false;
}

/* master_config_add_listener - one built-in listener into svc */
static void master_config_add_listener(struct service_settings *svc,
				       const struct master_builtin_listener *bl)
{
	const struct setting_def *ldefs = loft_listener_setting_defs;
	struct listener_settings *l;

	svc->listeners = xreallocarray(svc->listeners, svc->listener_count + 1,
				       sizeof(*svc->listeners));
	l = &svc->listeners[svc->listener_count++];
	memset(l, 0, sizeof(*l));
	settings_defs_init(ldefs, l);
	l->type = bl->type;
	l->name = xstrdup(bl->name);
	l->file = xstrdup(MASTER_CONFIG_BUILTIN_FILE);
	master_config_set(ldefs, l, "path", bl->path);
	master_config_set(ldefs, l, "mode", bl->mode);
}

/* master_config_add_builtin - one built-in service into set */
static void master_config_add_builtin(struct loft_settings *set,
				      const struct master_builtin_service *b)
{
	const struct setting_def *sdefs = loft_service_setting_defs;
	struct service_settings *svc = master_config_find_service(set, b->name);

	if (svc == NULL) {
		if (b->file_only)
			return;
		if (b->protocol_gate != NULL &&
		    !master_config_in_list(set->protocols, b->protocol_gate))
			return;
		set->services = xreallocarray(set->services,
					      set->service_count + 1,
					      sizeof(*set->services));
		svc = &set->services[set->service_count++];
		memset(svc, 0, sizeof(*svc));
		settings_defs_init(sdefs, svc);
		svc->name = xstrdup(b->name);
		svc->file = xstrdup(MASTER_CONFIG_BUILTIN_FILE);
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(b->listeners); i++) {
		const struct master_builtin_listener *bl = &b->listeners[i];

		if (bl->name == NULL ||
		    master_config_has_listener(svc, bl->type, bl->name))
			continue;
		master_config_add_listener(svc, bl);
		if (strcmp(bl->name, "admin") == 0 &&
		    *set->admin_socket_group != '\0') {
			struct listener_settings *l =
				&svc->listeners[svc->listener_count - 1];

			master_config_set(loft_listener_setting_defs, l, "group",
					  set->admin_socket_group);
			master_config_set(loft_listener_setting_defs, l, "mode",
					  "0660");
		}
	}
	if (svc->executable[0] == '\0')
		master_config_set(sdefs, svc, "executable", b->executable);
	if (svc->protocol[0] == '\0' && b->protocol[0] != '\0')
		master_config_set(sdefs, svc, "protocol", b->protocol);
	if (svc->type[0] == '\0' && b->type[0] != '\0')
		master_config_set(sdefs, svc, "type", b->type);
}

/* master_config_add_builtins - log, lmtp (when a protocol) and stats */
static void master_config_add_builtins(struct loft_settings *set)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(master_builtin_services); i++)
		master_config_add_builtin(set, &master_builtin_services[i]);
}

/* master_config_check_services - what the parser cannot know: every
   service can be started and every socket/fifo has a path */
static int master_config_check_services(const struct loft_settings *set,
					const char **error_r)
{
	static const char *const kinds[] = {
		[LISTENER_UNIX] = "unix_listener",
		[LISTENER_FIFO] = "fifo_listener",
		[LISTENER_INET] = "inet_listener",
	};

	const char *error;

	if (cidr_list_check(set->haproxy_trusted_networks, &error) < 0)
		return master_config_fail(error_r, "haproxy_trusted_networks: %s",
					  error);
	if (cidr_list_check(set->login_trusted_networks, &error) < 0)
		return master_config_fail(error_r, "login_trusted_networks: %s",
					  error);
	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];

		if (svc->executable[strspn(svc->executable, MASTER_CONFIG_LIST_SEP)] == '\0')
			return master_config_fail(error_r,
				"%s:%u: service(%s): executable is not set",
				svc->file, svc->line, svc->name);
		if (svc->chroot[0] != '\0' && svc->drop_priv_before_exec)
			return master_config_fail(error_r,
				"%s:%u: service(%s): drop_priv_before_exec = yes "
				"can't be used with chroot (%s)",
				svc->file, svc->line, svc->name, svc->chroot);
		for (size_t j = 0; j < svc->listener_count; j++) {
			const struct listener_settings *l = &svc->listeners[j];

			if (l->type != LISTENER_INET && l->mode != 0 &&
			    l->path[0] == '\0')
				return master_config_fail(error_r,
					"%s:%u: service(%s): %s %s: path is empty",
					l->file, l->line, svc->name,
					kinds[l->type], l->name);
		}
	}
	return 0;
}

/* master_config_auth_name_served - whether loft-auth speaks the protocol
   of the auth listener called name: Dovecot tells its sockets apart by
   the name's end, and loft-auth answers the auth-master protocol of
   "...userdb" and "...master" sockets, not the client (SASL) protocol of
   auth-client, auth-login, login/login or Postfix's private/auth */
static bool master_config_auth_name_served(const char *name)
{
	size_t len = strlen(name);

	return (len >= 6 && strcmp(name + len - 6, "userdb") == 0) ||
		(len >= 6 && strcmp(name + len - 6, "master") == 0);
}

/* master_config_auth_listeners - service auth: unix listeners only; the
   ones loft-auth cannot serve are left out (named once, in the log, when
   log_dropped) */
static int master_config_auth_listeners(struct loft_settings *set,
					bool log_dropped, const char **error_r)
{
	struct service_settings *svc = master_config_find_service(set, "auth");
	size_t kept = 0;

	for (size_t i = 0; svc != NULL && i < svc->listener_count; i++) {
		const struct listener_settings *l = &svc->listeners[i];

		if (l->type != LISTENER_UNIX)
			return master_config_fail(error_r,
				"%s:%u: service(auth): %s: loft-auth serves unix_listener "
				"only (peer credentials decide what a client may look up)",
				l->file, l->line, l->name);
	}
	for (size_t i = 0; svc != NULL && i < svc->listener_count; i++) {
		struct listener_settings *l = &svc->listeners[i];

		if (master_config_auth_name_served(l->name)) {
			/* Dovecot's default owner of auth-userdb */
			if (strcmp(l->name, "auth-userdb") == 0 && l->user[0] == '\0')
				master_config_set(loft_listener_setting_defs, l,
						  "user", set->default_internal_user);
			svc->listeners[kept++] = *l;
			continue;
		}
		if (log_dropped)
			log_info("%s:%u: service(auth): unix_listener %s is not used "
				 "by loft (loft-auth answers userdb lookups only, on "
				 "auth-userdb and auth-master sockets)",
				 l->file, l->line, l->name);
		free(l->name);
		free(l->file);
		settings_defs_free(loft_listener_setting_defs, l);
	}
	if (svc != NULL)
		svc->listener_count = kept;
	return 0;
}

/* master_config_same_socket - whether userdb auth args name the socket
   path of l (both relative to base_dir unless absolute) */
static bool master_config_same_socket(const struct loft_settings *set,
				      const char *args,
				      const struct listener_settings *l)
{
	const char *p = args, *word = NULL;
	size_t word_len = 0, base_len = strlen(set->base_dir);
	char *a, *b;
	bool same;

	/* the path is the argument without '=' (userdb_auth.c) */
	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len > 0 && memchr(p, '=', len) == NULL) {
			word = p;
			word_len = len;
		}
		p += len;
	}
	if (word == NULL)
		return false;
	a = word[0] == '/' ? xstrndup(word, word_len) :
		xasprintf("%.*s/%.*s", (int)base_len, set->base_dir,
			  (int)word_len, word);
	b = l->path[0] == '/' ? xstrdup(l->path) :
		xasprintf("%s/%s", set->base_dir, l->path);
	same = strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

/* master_config_auth_loop - a userdb auth block that asks loft-auth's own
   socket would make loft-auth ask itself until it times out */
static int master_config_auth_loop(const struct loft_settings *set,
				   const char **error_r)
{
	const struct service_settings *svc = NULL;

	for (size_t i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, "auth") == 0)
			svc = &set->services[i];
	}
	for (size_t i = 0; svc != NULL && i < set->userdb_count; i++) {
		const struct userdb_settings *u = &set->userdbs[i];

		if (u->driver == NULL || strcmp(u->driver, "auth") != 0)
			continue;
		for (size_t j = 0; j < svc->listener_count; j++) {
			if (master_config_same_socket(set, u->args == NULL ? "" :
						      u->args, &svc->listeners[j]))
				return master_config_fail(error_r,
					"%s:%u: userdb auth: %s is service auth's own "
					"socket: loft-auth would ask itself (give it "
					"the userdb it should answer from)",
					u->file != NULL ? u->file : "(config)",
					u->line, svc->listeners[j].path);
		}
	}
	return 0;
}

/* master_config_where - "FILE:LINE" of svc for messages; a built-in
   service is reported against the config file itself */
static const char *master_config_where(const char *path,
				       const struct service_settings *svc)
{
	static char buf[PATH_MAX + 32];

	if (strcmp(svc->file, MASTER_CONFIG_BUILTIN_FILE) == 0)
		snprintf(buf, sizeof(buf), "%s", path);
	else
		snprintf(buf, sizeof(buf), "%s:%u", svc->file, svc->line);
	return buf;
}

/* master_config_check_type - svc's type is one loft can give it: "" or
   startup for any service, log for the log service; Dovecot's other
   documented types belong to processes loft does not run */
static int master_config_check_type(const char *path,
				    const struct service_settings *svc,
				    const char **error_r)
{
	if (strcmp(svc->type, "") == 0 || strcmp(svc->type, "startup") == 0)
		return 0;
	if (strcmp(svc->type, "log") == 0) {
		if (strcmp(svc->name, MASTER_LOG_SERVICE) == 0)
			return 0;
		return master_config_fail(error_r,
			"%s: service(%s): type=log: only the log service is one",
			master_config_where(path, svc), svc->name);
	}
	for (size_t i = 0; i < LOFT_N_ELEMENTS(master_config_dovecot_only_types); i++) {
		if (strcmp(svc->type, master_config_dovecot_only_types[i]) == 0)
			return master_config_fail(error_r,
				"%s: service(%s): type=%s is for Dovecot's own %s "
				"processes, which loft does not run (use \"\" or startup)",
				master_config_where(path, svc), svc->name,
				svc->type, svc->type);
	}
	return master_config_fail(error_r,
		"%s: service(%s): type=%s: unknown (known: \"\", startup, log, "
		"login, config, anvil, worker)",
		master_config_where(path, svc), svc->name, svc->type);
}

/* master_config_privileged_group - privileged_group is the per-service
   form of mail_privileged_group (Dovecot derives one from the other):
   the lmtp view's mail_privileged_group takes an lmtp service's value;
   a service that runs no deliveries has no use for it */
static int master_config_privileged_group(const char *path,
					  struct loft_settings *set,
					  enum master_config_view view,
					  const char **error_r)
{
	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];

		if (svc->privileged_group[0] == '\0')
			continue;
		if (master_config_service_view(svc) != MASTER_CONFIG_VIEW_LMTP)
			return master_config_fail(error_r,
				"%s: service(%s): privileged_group: only loft-lmtp "
				"uses one (for mbox dotlocks, as mail_privileged_group)",
				master_config_where(path, svc), svc->name);
		if (view != MASTER_CONFIG_VIEW_LMTP)
			continue;
		if (set->mail_privileged_group[0] == '\0')
			master_config_set(loft_setting_defs, set,
					  "mail_privileged_group",
					  svc->privileged_group);
		else if (strcmp(set->mail_privileged_group,
				svc->privileged_group) != 0)
			return master_config_fail(error_r,
				"%s: service(%s): privileged_group=%s differs from "
				"mail_privileged_group=%s",
				master_config_where(path, svc), svc->name,
				svc->privileged_group, set->mail_privileged_group);
	}
	return 0;
}

void master_config_warn(const struct master_config *config)
{
	const struct loft_settings *set = &config->file_set;

	/* Dovecot reads a listener mode without a leading 0 as a decimal
	   number: so does loftd, and it says so */
	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];

		for (size_t j = 0; j < svc->listener_count; j++) {
			const struct listener_settings *l = &svc->listeners[j];

			if (!l->mode_decimal)
				continue;
			log_warning("%s:%u: service(%s): %s: mode has no leading 0, "
				    "so it is the decimal number %u (octal %04o), as "
				    "in Dovecot; write 0%o for that mode, or the "
				    "octal mode you meant with a leading 0",
				    l->file, l->line, svc->name, l->name, l->mode,
				    l->mode, l->mode);
		}
	}
}

/* master_config_service_users - the effective user of every service
   (internal services default to default_internal_user, which must
   exist), and the checks of user/group/extra_groups: names exist, an
   internal service never runs as root */
static int master_config_service_users(const char *path,
				       struct loft_settings *set,
				       const char **error_r)
{
	const char *error;

	for (size_t i = 0; i < set->service_count; i++) {
		struct service_settings *svc = &set->services[i];
		uid_t uid;
		gid_t gid;

		if (service_child_is_internal(svc->name) && svc->user[0] == '\0') {
			if (service_child_lookup_user(set->default_internal_user,
						      &uid, &gid, &error) < 0)
				return master_config_fail(error_r,
					"%s: service(%s): default_internal_user=%s: %s "
					"(create it or set default_internal_user)",
					master_config_where(path, svc), svc->name,
					set->default_internal_user, error);
			master_config_set(loft_service_setting_defs, svc, "user",
					  set->default_internal_user);
		}
		if (service_child_is_internal(svc->name) && svc->group[0] == '\0' &&
		    set->default_internal_group[0] != '\0')
			master_config_set(loft_service_setting_defs, svc, "group",
					  set->default_internal_group);
		if (master_config_check_type(path, svc, error_r) < 0)
			return -1;
		if (service_child_check_user(svc, &error) < 0)
			return master_config_fail(error_r, "%s: %s",
						  master_config_where(path, svc), error);
	}
	return 0;
}

/* master_config_merge_not_used - add what a protocol view found not used
   (protocol lda { } blocks, its mail_plugins) to the global view's list */
static void master_config_merge_not_used(struct master_config *config,
					 const struct loft_settings *view)
{
	struct kvlist *lists[] = {
		&config->views[MASTER_CONFIG_VIEW_GLOBAL].not_used,
		&config->file_set.not_used,
	};

	for (size_t i = 0; i < view->not_used.count; i++) {
		const struct kv *kv = &view->not_used.items[i];

		for (size_t j = 0; j < LOFT_N_ELEMENTS(lists); j++) {
			if (kvlist_get(lists[j], kv->key) == NULL)
				kvlist_set(lists[j], kv->key, kv->value);
		}
	}
}

const struct kvlist *master_config_not_used(const struct master_config *config)
{
	return &config->views[MASTER_CONFIG_VIEW_GLOBAL].not_used;
}

void master_config_print_not_used(const struct master_config *config,
				  FILE *out, bool comment)
{
	const struct kvlist *list = master_config_not_used(config);

	if (comment && list->count > 0)
		fputs("# Dovecot settings in the file that loft does not use:\n", out);
	for (size_t i = 0; i < list->count; i++) {
		const struct kv *kv = &list->items[i];

		if (comment)
			fprintf(out, "#   %s (%s)\n", kv->key, kv->value);
		else
			fprintf(out, "%s: %s: not used by loft\n", kv->value, kv->key);
	}
}

void master_config_log_not_used(const struct master_config *config)
{
	const struct kvlist *list = master_config_not_used(config);
	struct strbuf buf;

	if (list->count == 0)
		return;
	strbuf_init(&buf, 256);
	for (size_t i = 0; i < list->count; i++)
		strbuf_appendf(&buf, "%s%s (%s)", i == 0 ? "" : ", ",
			       list->items[i].key, list->items[i].value);
	log_info("Dovecot settings not used by loft: %s", buf.data);
	strbuf_free(&buf);
}

/* master_config_check_tls - TLS is served by LMTP services only, an
   ssl = yes listener needs ssl enabled, and the LMTP view's certificate,
   key and the other ssl_* settings must load (a reload with a bad
   certificate fails, so the running processes keep the old one) */
static int master_config_check_tls(const char *path,
				   const struct loft_settings *set,
				   enum master_config_view view,
				   const char **error_r)
{
	struct tls_server *tls;
	const char *error;

	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];
		bool lmtp = master_config_service_view(svc) == MASTER_CONFIG_VIEW_LMTP;

		for (size_t j = 0; j < svc->listener_count; j++) {
			const struct listener_settings *l = &svc->listeners[j];

			if (l->type != LISTENER_INET || !l->ssl)
				continue;
			if (!lmtp)
				return master_config_fail(error_r,
					"%s:%u: service(%s): inet_listener %s: "
					"ssl = yes: loft serves TLS on LMTP "
					"listeners only", l->file, l->line,
					svc->name, l->name);
			if (view == MASTER_CONFIG_VIEW_LMTP &&
			    strcmp(set->ssl, "no") == 0)
				return master_config_fail(error_r,
					"%s:%u: service(%s): inet_listener %s: "
					"ssl = yes, but ssl = no (set ssl = yes "
					"and ssl_cert/ssl_key)", l->file, l->line,
					svc->name, l->name);
		}
	}
	if (view == MASTER_CONFIG_VIEW_LMTP && set->lmtp_proxy) {
		struct tls_client *client;

		/* the CAs the proxy verifies its backends against */
		if (tls_client_create(set, &client, &error) < 0)
			return master_config_fail(error_r, "%s: %s", path,
						  error);
		tls_client_free(&client);
	}
	if (view != MASTER_CONFIG_VIEW_LMTP || strcmp(set->ssl, "no") == 0)
		return 0;
	if (tls_server_create(set, &tls, &error) < 0)
		return master_config_fail(error_r, "%s: ssl = %s: %s", path,
					  set->ssl, error);
	tls_server_free(&tls);
	return 0;
}

/* master_config_load_view - parse text for one view and validate it */
static int master_config_load_view(struct master_config *config,
				   const char *text,
				   enum master_config_view view,
				   const char **error_r)
{
	struct loft_settings *set = &config->views[view];
	const char *error;

	if (config_load_string(config->path, text,
			       master_config_view_protocols[view], set,
			       &error) < 0) {
		/* set is empty again: nothing to free */
		return master_config_fail(error_r, "%s", error);
	}
	if (userdb_validate(set, &error) < 0)
		return master_config_fail(error_r, "%s", error);
	if (view == MASTER_CONFIG_VIEW_GLOBAL)
		settings_copy(&config->file_set, set);
	else
		master_config_merge_not_used(config, set);
	master_config_add_builtins(set);
	if (master_config_auth_listeners(set, view == MASTER_CONFIG_VIEW_GLOBAL,
					 error_r) < 0 ||
	    master_config_auth_loop(set, error_r) < 0 ||
	    master_config_service_users(config->path, set, error_r) < 0 ||
	    master_config_privileged_group(config->path, set, view, error_r) < 0 ||
	    master_config_check_services(set, error_r) < 0)
		return -1;
	return master_config_check_tls(config->path, set, view, error_r);
}

int master_config_load(const char *path, struct master_config **config_r,
		       const char **error_r)
{
	struct master_config *config = xcalloc(1, sizeof(*config));
	char *text;
	int ret = 0;

	/* the settings stay zeroed until parsed: config_load_string and
	   settings_copy fill empty structs, settings_free accepts them */
	config->path = xstrdup(path);
	for (size_t i = 0; i < MASTER_CONFIG_VIEW_COUNT; i++)
		config->snapshot_fds[i] = -1;
	if (master_config_read(path, &text, error_r) < 0) {
		master_config_free(&config);
		return -1;
	}
	for (size_t i = 0; i < MASTER_CONFIG_VIEW_COUNT && ret == 0; i++)
		ret = master_config_load_view(config, text, (enum master_config_view)i,
					      error_r);
	free(text);
	if (ret < 0) {
		master_config_free(&config);
		return -1;
	}
	*config_r = config;
	return 0;
}

void master_config_free(struct master_config **_config)
{
	struct master_config *config = *_config;

	if (config == NULL)
		return;
	*_config = NULL;
	settings_free(&config->file_set);
	for (size_t i = 0; i < MASTER_CONFIG_VIEW_COUNT; i++) {
		settings_free(&config->views[i]);
		if (config->snapshot_fds[i] >= 0)
			close(config->snapshot_fds[i]);
	}
	free(config->path);
	free(config);
}

const struct loft_settings *
master_config_settings(const struct master_config *config)
{
	return &config->views[MASTER_CONFIG_VIEW_GLOBAL];
}

/* master_config_protocol - the protocol svc belongs to, or NULL */
static const char *master_config_protocol(const struct service_settings *svc)
{
	if (svc->protocol[0] != '\0')
		return svc->protocol;
	if (strcmp(svc->name, "lmtp") == 0 || strcmp(svc->name, "lda") == 0)
		return svc->name;
	return NULL;
}

enum master_config_view
master_config_service_view(const struct service_settings *svc)
{
	const char *protocol = master_config_protocol(svc);

	for (size_t i = 0; protocol != NULL && i < MASTER_CONFIG_VIEW_COUNT; i++) {
		if (master_config_view_protocols[i] != NULL &&
		    strcmp(master_config_view_protocols[i], protocol) == 0)
			return (enum master_config_view)i;
	}
	return MASTER_CONFIG_VIEW_GLOBAL;
}

bool master_config_service_enabled(const struct master_config *config,
				   const struct service_settings *svc)
{
	const char *protocol = master_config_protocol(svc);

	return protocol == NULL ||
		master_config_in_list(master_config_settings(config)->protocols,
				      protocol);
}

const struct loft_settings *
master_config_service_settings(const struct master_config *config,
			       const struct service_settings *svc)
{
	return &config->views[master_config_service_view(svc)];
}

int master_config_snapshot(struct master_config *config,
			   const struct service_settings *svc,
			   const char **error_r)
{
	enum master_config_view view = master_config_service_view(svc);
	const char *error;
	int fd;

	if (config->snapshot_fds[view] >= 0)
		return config->snapshot_fds[view];
	if (view == MASTER_CONFIG_VIEW_LMTP) {
		fd = service_env_snapshot(&config->views[view], &error);
	} else {
		/* only LMTP serves TLS: the other services never see the
		   private key */
		struct loft_settings keyless;

		settings_copy(&keyless, &config->views[view]);
		(void)settings_set(&keyless, "ssl_key", "", &error);
		(void)settings_set(&keyless, "ssl_key_password", "", &error);
		fd = service_env_snapshot(&keyless, &error);
		settings_free(&keyless);
	}
	if (fd < 0)
		return master_config_fail(error_r, "service(%s): %s", svc->name, error);
	config->snapshot_fds[view] = fd;
	return fd;
}

/* master_config_service_dir - where a service's executable named without
   a '/' is: an installed loftd (one running from LOFT_SBINDIR) finds it in
   LOFT_PKGLIBEXECDIR (/usr/lib/loft), any other loftd (build/bin, a
   test's staged copy) next to its own binary */
static char *master_config_service_dir(void)
{
	char buf[PATH_MAX], sbindir[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	const char *dir;

	if (len <= 0)
		return xstrdup(".");
	buf[len] = '\0';
	dir = dirname(buf);
	/* /proc/self/exe has symlinks resolved (merged /usr: /sbin) */
	if (strcmp(dir, LOFT_SBINDIR) == 0 ||
	    (realpath(LOFT_SBINDIR, sbindir) != NULL && strcmp(dir, sbindir) == 0))
		return xstrdup(LOFT_PKGLIBEXECDIR);
	return xstrdup(dir);
}

/* master_config_program - the path of an executable's first word: as
   it is when absolute; loft's own programs (a bare "loft-*" name, or
   Dovecot's name for one) beside loftd; anything else relative to
   base_dir (Dovecot's rule) */
static char *master_config_program(const struct loft_settings *set,
				   const char *word)
{
	const char *program = NULL;
	char *dir, *path;

	if (word[0] == '/')
		return xstrdup(word);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(master_config_program_aliases); i++) {
		if (strcmp(word, master_config_program_aliases[i].dovecot) == 0)
			program = master_config_program_aliases[i].loft;
	}
	if (program == NULL && strchr(word, '/') == NULL &&
	    strncmp(word, MASTER_CONFIG_PROGRAM_PREFIX,
		    strlen(MASTER_CONFIG_PROGRAM_PREFIX)) == 0)
		program = word;
	if (program == NULL)
		return xasprintf("%s/%s", set->base_dir, word);
	dir = master_config_service_dir();
	path = xasprintf("%s/%s", dir, program);
	free(dir);
	return path;
}

char **master_config_argv(const struct loft_settings *set,
			  const struct service_settings *svc)
{
	char *copy = xstrdup(svc->executable), *save = NULL;
	char **argv = NULL;
	size_t count = 0;

	for (char *word = strtok_r(copy, MASTER_CONFIG_LIST_SEP, &save);
	     word != NULL; word = strtok_r(NULL, MASTER_CONFIG_LIST_SEP, &save)) {
		argv = xreallocarray(argv, count + 2, sizeof(*argv));
		argv[count] = count == 0 ? master_config_program(set, word) :
			xstrdup(word);
		argv[++count] = NULL;
	}
	free(copy);
	if (argv == NULL)
		argv = xcalloc(1, sizeof(*argv));
	return argv;
}

const char *master_config_service_listen(const struct loft_settings *set,
					 const struct service_settings *svc)
{
	return service_child_is_internal(svc->name) ?
		MASTER_CONFIG_INTERNAL_LISTEN : set->listen;
}

bool master_config_is_loft_program(const char *executable)
{
	static const char *const programs[] = {
		MASTER_LMTP_EXECUTABLE, MASTER_STATS_EXECUTABLE,
		MASTER_LOG_EXECUTABLE,
	};
	const char *slash = strrchr(executable, '/');
	const char *base = slash != NULL ? slash + 1 : executable;

	for (size_t i = 0; i < LOFT_N_ELEMENTS(programs); i++) {
		if (strcmp(base, programs[i]) == 0)
			return true;
	}
	return false;
}

int master_config_check_executable(const struct master_config *config,
				   const struct service_settings *svc,
				   const char *executable, const char **error_r)
{
	const char *error;

	if (service_child_check_exec(svc, executable, &error) < 0)
		return master_config_fail(error_r, "%s: %s",
					  master_config_where(config->path, svc),
					  error);
	return 0;
}

int master_config_check_executables(const struct master_config *config,
				    const char **error_r)
{
	const struct loft_settings *set = master_config_settings(config);
	int ret = 0;

	for (size_t i = 0; i < set->service_count && ret == 0; i++) {
		const struct service_settings *svc = &set->services[i];
		char **argv;

		if (!master_config_service_enabled(config, svc))
			continue;
		argv = master_config_argv(set, svc);
		ret = master_config_check_executable(config, svc, argv[0], error_r);
		master_config_argv_free(&argv);
	}
	return ret;
}

void master_config_argv_free(char ***_argv)
{
	char **argv = *_argv;

	if (argv == NULL)
		return;
	*_argv = NULL;
	for (size_t i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}
