/*
 * master_listener - opening, reusing and closing a service's inet, unix
 * and fifo listeners (see master_listener.h). Every fd is close-on-exec
 * and non-blocking in the master; the children get them through dup2
 * and rely on O_NONBLOCK being set.
 */
#include "master_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "service_env.h"
#include "master_error.h"
#include "userdb.h"
#include "xalloc.h"

#define MASTER_LISTENER_ADDR_SEP " \t,"

static char *master_listener_error;

/* master_listener_fail - keep the formatted error and return -1 */
static int master_listener_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int master_listener_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;
	int ret;

	va_start(args, fmt);
	ret = master_error_vfail(&master_listener_error, error_r, fmt, args);
	va_end(args);
	return ret;
}

/* master_listener_add - a new entry at the end of set, fd -1 */
static struct master_listener *
master_listener_add(struct master_listener_set *set,
		    const struct listener_settings *l, const char *key,
		    const char *desc, const char *path)
{
	struct master_listener *ml;

	set->listeners = xreallocarray(set->listeners, set->count + 1,
				       sizeof(*set->listeners));
	ml = &set->listeners[set->count++];
	memset(ml, 0, sizeof(*ml));
	ml->type = l->type;
	ml->name = xstrdup(l->name);
	ml->key = xstrdup(key);
	ml->desc = xstrdup(desc);
	ml->path = path == NULL ? NULL : xstrdup(path);
	ml->fd = -1;
	ml->haproxy = l->type == LISTENER_INET && l->haproxy;
	ml->ssl = l->type == LISTENER_INET && l->ssl;
	return ml;
}

/* master_listener_claim - take over the fd of an unclaimed old listener
   with ml's key; true when one was found */
static bool master_listener_claim(struct master_listener *ml,
				  struct master_listener_set *const *old,
				  size_t old_count)
{
	for (size_t i = 0; i < old_count; i++) {
		for (size_t j = 0; j < old[i]->count; j++) {
			struct master_listener *o = &old[i]->listeners[j];

			if (o->fd < 0 || o->claimed || strcmp(o->key, ml->key) != 0)
				continue;
			o->claimed = true;
			ml->from = o;
			ml->fd = o->fd;
			ml->created = o->created;
			return true;
		}
	}
	return false;
}

/* master_listener_entry_free - the strings of one entry */
static void master_listener_entry_free(struct master_listener *ml)
{
	free(ml->name);
	free(ml->key);
	free(ml->desc);
	free(ml->path);
}

/* master_listener_set_owner - chmod and chown path per l */
static int master_listener_set_owner(const char *service,
				     const struct listener_settings *l,
				     const char *path, const char **error_r)
{
	unsigned int uid = (unsigned int)-1, gid = (unsigned int)-1;
	const char *error;

	if (chmod(path, l->mode) < 0)
		return master_listener_fail(error_r, "service(%s): chmod(%s, 0%o) failed: %s",
					    service, path, l->mode, strerror(errno));
	if (l->user[0] != '\0' && userdb_resolve_uid(l->user, &uid, &error) < 0)
		return master_listener_fail(error_r, "service(%s): %s: user: %s",
					    service, path, error);
	if (l->group[0] != '\0' && userdb_resolve_gid(l->group, &gid, &error) < 0)
		return master_listener_fail(error_r, "service(%s): %s: group: %s",
					    service, path, error);
	if ((uid != (unsigned int)-1 || gid != (unsigned int)-1) &&
	    chown(path, (uid_t)uid, (gid_t)gid) < 0)
		return master_listener_fail(error_r, "service(%s): chown(%s, %s, %s) failed: %s",
					    service, path, l->user, l->group,
					    strerror(errno));
	return 0;
}

/* master_listener_nonblock - O_NONBLOCK on fd (the children rely on it) */
static int master_listener_nonblock(const char *service, int fd,
				    const char *desc, const char **error_r)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return master_listener_fail(error_r, "service(%s): fcntl(%s) failed: %s",
					    service, desc, strerror(errno));
	return 0;
}

/* master_listener_socket_fail - close fd, format "what(desc) failed" */
static int master_listener_socket_fail(const char *service, int fd,
				       const char *what, const char *desc,
				       const char **error_r)
{
	int err = errno;

	if (fd >= 0)
		close(fd);
	return master_listener_fail(error_r, "service(%s): %s(%s) failed: %s",
				    service, what, desc, strerror(err));
}

/* master_listener_inet_one - bind and listen on one resolved address */
static int master_listener_inet_one(const char *service,
				    const struct listener_settings *l,
				    const struct sockaddr *sa, socklen_t salen,
				    struct master_listener_set *const *old,
				    size_t old_count,
				    struct master_listener_set *set,
				    const char **error_r)
{
	char host[NI_MAXHOST], desc[NI_MAXHOST + 16], key[NI_MAXHOST + 24];
	struct master_listener *ml;
	int fd, one = 1, ret;

	ret = getnameinfo(sa, salen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	if (ret != 0)
		return master_listener_fail(error_r, "service(%s): getnameinfo failed: %s",
					    service, gai_strerror(ret));
	snprintf(desc, sizeof(desc), sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, l->port);
	snprintf(key, sizeof(key), "inet:%s", desc);
	ml = master_listener_add(set, l, key, desc, NULL);
	if (master_listener_claim(ml, old, old_count))
		return 0;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && sa->sa_family == AF_INET6) {
		/* a host without IPv6 still serves "*, ::" on IPv4 */
		log_warning("service(%s): %s: IPv6 is not supported, skipped",
			    service, desc);
		master_listener_entry_free(ml);
		set->count--;
		return 0;
	}
	if (fd < 0)
		return master_listener_socket_fail(service, -1, "socket", desc, error_r);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return master_listener_socket_fail(service, fd, "setsockopt", desc, error_r);
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return master_listener_socket_fail(service, fd, "setsockopt", desc, error_r);
	if (bind(fd, sa, salen) < 0)
		return master_listener_socket_fail(service, fd, "bind", desc, error_r);
	if (listen(fd, MASTER_LISTENER_BACKLOG) < 0)
		return master_listener_socket_fail(service, fd, "listen", desc, error_r);
	ml->fd = fd;
	return 0;
}

/* master_listener_inet_address - one word of the address list: "*",
   "::", an IP (IPv6 optionally in brackets) or a host name */
static int master_listener_inet_address(const char *service,
					const struct listener_settings *l,
					const char *word,
					struct master_listener_set *const *old,
					size_t old_count,
					struct master_listener_set *set,
					const char **error_r)
{
	struct addrinfo hints, *res, *ai;
	char port[16], *host;
	size_t len = strlen(word);
	int ret;

	if (strcmp(word, "*") == 0)
		word = "0.0.0.0";
	if (word[0] == '[' && len > 2 && word[len - 1] == ']')
		host = xstrndup(word + 1, len - 2);
	else
		host = xstrdup(word);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", l->port);
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret != 0) {
		master_listener_fail(error_r, "service(%s): inet_listener %s: address %s: %s",
				     service, l->name, host, gai_strerror(ret));
		free(host);
		return -1;
	}
	free(host);
	ret = 0;
	for (ai = res; ai != NULL && ret == 0; ai = ai->ai_next)
		ret = master_listener_inet_one(service, l, ai->ai_addr,
					       ai->ai_addrlen, old, old_count,
					       set, error_r);
	freeaddrinfo(res);
	return ret;
}

/* master_listener_inet - every address of an inet listener */
static int master_listener_inet(const char *service,
				const struct listener_settings *l,
				const char *listen,
				struct master_listener_set *const *old,
				size_t old_count, struct master_listener_set *set,
				const char **error_r)
{
	char *list = xstrdup(l->address[0] != '\0' ? l->address : listen);
	char *save = NULL;
	int ret = 0;

	if (l->port == 0) {
		free(list);
		return 0;
	}
	for (char *word = strtok_r(list, MASTER_LISTENER_ADDR_SEP, &save);
	     word != NULL && ret == 0;
	     word = strtok_r(NULL, MASTER_LISTENER_ADDR_SEP, &save))
		ret = master_listener_inet_address(service, l, word, old,
						   old_count, set, error_r);
	free(list);
	return ret;
}

/* master_listener_unix_alive - whether something accepts on path */
static bool master_listener_unix_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return true;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
		(errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return alive;
}

/* master_listener_unix_bind - bind fd to sun; a stale socket nothing
   answers on is unlinked first, a live one is an error */
static int master_listener_unix_bind(const char *service, int fd,
				     const struct sockaddr_un *sun,
				     const char **error_r)
{
	struct stat st;
	mode_t old_umask;
	int ret;

	for (int attempt = 0;; attempt++) {
		/* no window in which the socket has looser permissions
		   than its mode setting */
		old_umask = umask(0777);
		ret = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
		umask(old_umask);
		if (ret == 0)
			return 0;
		if (errno != EADDRINUSE || attempt > 0 ||
		    lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
			break;
		if (master_listener_unix_alive(sun)) {
			close(fd);
			return master_listener_fail(error_r,
				"service(%s): Socket already exists: %s "
				"(another process is listening on it)",
				service, sun->sun_path);
		}
		if (unlink(sun->sun_path) < 0 && errno != ENOENT)
			break;
	}
	return master_listener_socket_fail(service, fd, "bind", sun->sun_path,
					   error_r);
}

/* master_listener_unix_open - a listening unix socket at path */
static int master_listener_unix_open(const char *service, const char *path,
				     int *fd_r, const char **error_r)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return master_listener_fail(error_r, "service(%s): unix socket path too long: %s",
					    service, path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return master_listener_socket_fail(service, -1, "socket", path, error_r);
	if (master_listener_unix_bind(service, fd, &sun, error_r) < 0)
		return -1;
	if (listen(fd, MASTER_LISTENER_BACKLOG) < 0) {
		unlink(path);
		return master_listener_socket_fail(service, fd, "listen", path, error_r);
	}
	*fd_r = fd;
	return 0;
}

/* master_listener_fifo_open - make the fifo (unless there is one) and
   open it read-write, so the reader never sees EOF between writers */
static int master_listener_fifo_open(const char *service, const char *path,
				     bool *created_r, int *fd_r,
				     const char **error_r)
{
	struct stat st;
	int fd;

	*created_r = mkfifo(path, 0600) == 0;
	if (!*created_r) {
		if (errno != EEXIST)
			return master_listener_socket_fail(service, -1, "mkfifo", path, error_r);
		if (lstat(path, &st) < 0)
			return master_listener_socket_fail(service, -1, "lstat", path, error_r);
		if (!S_ISFIFO(st.st_mode))
			return master_listener_fail(error_r,
				"service(%s): %s exists and is not a fifo",
				service, path);
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		master_listener_socket_fail(service, -1, "open", path, error_r);
		if (*created_r)
			unlink(path);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* master_listener_path - a unix or fifo listener */
static int master_listener_path(const char *service,
				const struct listener_settings *l,
				const char *base_dir,
				struct master_listener_set *const *old,
				size_t old_count, struct master_listener_set *set,
				const char **error_r)
{
	char *path = l->path[0] == '/' ? xstrdup(l->path) :
		xasprintf("%s/%s", base_dir, l->path);
	char *key = xasprintf("%s:%s", l->type == LISTENER_UNIX ? "unix" : "fifo",
			      path);
	struct master_listener *ml = master_listener_add(set, l, key, path, path);
	int ret = 0;

	free(key);
	free(path);
	if (!master_listener_claim(ml, old, old_count)) {
		if (l->type == LISTENER_UNIX) {
			ret = master_listener_unix_open(service, ml->path, &ml->fd,
							error_r);
			ml->created = ret == 0;
		} else {
			ret = master_listener_fifo_open(service, ml->path,
							&ml->created, &ml->fd,
							error_r);
		}
	}
	if (ret == 0)
		ret = master_listener_set_owner(service, l, ml->path, error_r);
	return ret;
}

int master_listeners_open(const struct service_settings *svc,
			  const char *base_dir, const char *listen,
			  struct master_listener_set *const *old,
			  size_t old_count,
			  struct master_listener_set *set_r,
			  const char **error_r)
{
	int ret = 0;

	memset(set_r, 0, sizeof(*set_r));
	for (size_t i = 0; i < svc->listener_count && ret == 0; i++) {
		const struct listener_settings *l = &svc->listeners[i];

		if (l->type == LISTENER_INET)
			ret = master_listener_inet(svc->name, l, listen, old,
						   old_count, set_r, error_r);
		else if (l->mode == 0)
			/* Dovecot's service page: mode 0 disables it */
			log_debug("service(%s): %s: mode = 0, not listening",
				  svc->name, l->name);
		else
			ret = master_listener_path(svc->name, l, base_dir, old,
						   old_count, set_r, error_r);
	}
	for (size_t i = 0; i < set_r->count && ret == 0; i++) {
		struct master_listener *ml = &set_r->listeners[i];

		ret = master_listener_nonblock(svc->name, ml->fd, ml->desc, error_r);
	}
	if (ret < 0)
		master_listeners_abort(set_r);
	return ret;
}

void master_listeners_commit(const char *service,
			     struct master_listener_set *set)
{
	static const char *const kinds[] = {
		[LISTENER_UNIX] = "unix_listener",
		[LISTENER_FIFO] = "fifo_listener",
		[LISTENER_INET] = "inet_listener",
	};

	for (size_t i = 0; i < set->count; i++) {
		struct master_listener *ml = &set->listeners[i];

		if (ml->from == NULL) {
			/* newly opened: every address loftd listens on is
			   logged once, at start-up or by the reload that
			   added it */
			log_info("service(%s): %s %s: listening on %s%s",
				 service, kinds[ml->type], ml->name, ml->desc,
				 ml->ssl ? " (TLS)" : "");
			continue;
		}
		ml->from->fd = -1;
		ml->from->created = false;
		ml->from->claimed = false;
		ml->from = NULL;
	}
}

/* master_listeners_release - close or give back every fd, free the set */
static void master_listeners_release(struct master_listener_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		struct master_listener *ml = &set->listeners[i];

		if (ml->from != NULL) {
			ml->from->claimed = false;
		} else if (ml->fd >= 0) {
			close(ml->fd);
			if (ml->created && ml->path != NULL)
				unlink(ml->path);
		}
		master_listener_entry_free(ml);
	}
	free(set->listeners);
	memset(set, 0, sizeof(*set));
}

void master_listeners_abort(struct master_listener_set *set)
{
	master_listeners_release(set);
}

void master_listeners_close(struct master_listener_set *set)
{
	/* a committed set has no borrowed fds: everything is closed */
	master_listeners_release(set);
}

char *master_listeners_env(const struct master_listener_set *set)
{
	struct listener_settings *tmp = xcalloc(set->count + 1, sizeof(*tmp));
	char *value;

	for (size_t i = 0; i < set->count; i++) {
		tmp[i].type = set->listeners[i].type;
		tmp[i].name = set->listeners[i].name;
		tmp[i].haproxy = set->listeners[i].haproxy;
		tmp[i].ssl = set->listeners[i].ssl;
	}
	value = service_env_listeners_value(tmp, set->count);
	free(tmp);
	return value;
}
