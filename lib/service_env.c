/*
 * service_env - both halves of the loftd -> service hand-over (see
 * service_env.h): the master writes a sealed config snapshot and names the
 * listener fds; the service reads and checks them.
 */
#include "service_env.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fd_io.h"
#include "strbuf.h"
#include "xalloc.h"

static char service_env_error[256];

static const char *listener_type_name(enum listener_type type)
{
	switch (type) {
	case LISTENER_UNIX: return "unix";
	case LISTENER_FIFO: return "fifo";
	case LISTENER_INET: return "inet";
	}
	return "unix";
}

/* service_env_fail - format the error and return -1 */
static int service_env_fail(const char **error_r, const char *fmt, ...)
	LOFT_ATTR_FORMAT(2, 3);
static int service_env_fail(const char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(service_env_error, sizeof(service_env_error), fmt, args);
	va_end(args);
	*error_r = service_env_error;
	return -1;
}

/* strip_flag - remove ":flag" from the end of name[0..*len) if it is there */
static bool strip_flag(const char *name, size_t *len, const char *flag)
{
	size_t flag_len = strlen(flag);

	if (*len <= flag_len ||
	    strncmp(name + *len - flag_len, flag, flag_len) != 0)
		return false;
	*len -= flag_len;
	return true;
}

/* parse_listener - "inet:lmtp", "inet:lmtps:ssl", "inet:lmtp:haproxy" or
   "inet:lmtps:ssl:haproxy" into l */
static int parse_listener(const char *item, int fd,
			  struct service_listener *l, const char **error_r)
{
	const char *colon = strchr(item, ':');
	size_t name_len;
	struct stat st;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (colon == NULL || colon[1] == '\0')
		return service_env_fail(error_r, "LOFT_LISTENERS: bad item '%s'", item);
	if (strncmp(item, "inet:", 5) == 0)
		l->type = LISTENER_INET;
	else if (strncmp(item, "unix:", 5) == 0)
		l->type = LISTENER_UNIX;
	else if (strncmp(item, "fifo:", 5) == 0)
		l->type = LISTENER_FIFO;
	else
		return service_env_fail(error_r, "LOFT_LISTENERS: bad type in '%s'", item);
	if (fstat(fd, &st) < 0)
		return service_env_fail(error_r, "listener fd %d (%s): %s", fd,
					item, strerror(errno));
	if (l->type != LISTENER_FIFO && !S_ISSOCK(st.st_mode))
		return service_env_fail(error_r, "listener fd %d (%s) is not a socket",
					fd, item);
	name_len = strlen(colon + 1);
	l->haproxy = strip_flag(colon + 1, &name_len, ":haproxy");
	l->ssl = strip_flag(colon + 1, &name_len, ":ssl");
	l->fd = fd;
	l->name = xstrndup(colon + 1, name_len);
	return 0;
}

/* service_env_is_seqpacket - fd is a SOCK_SEQPACKET socket */
static bool service_env_is_seqpacket(int fd)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof(type);

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		type == SOCK_SEQPACKET;
}

int service_env_read(struct service_env *env, const char **error_r)
{
	const char *service = getenv("LOFT_SERVICE");
	const char *listeners = getenv("LOFT_LISTENERS");
	struct stat st;

	memset(env, 0, sizeof(*env));
	env->config_fd = env->master_fd = -1;
	if (service == NULL || *service == '\0')
		return 0;
	env->service = xstrdup(service);
	if (fstat(SERVICE_ENV_CONFIG_FD, &st) < 0 || !S_ISREG(st.st_mode)) {
		service_env_free(env);
		return service_env_fail(error_r, "LOFT_SERVICE set but fd %d is not a config snapshot",
					SERVICE_ENV_CONFIG_FD);
	}
	env->config_fd = SERVICE_ENV_CONFIG_FD;
	if (!service_env_is_seqpacket(SERVICE_ENV_MASTER_FD)) {
		service_env_free(env);
		return service_env_fail(error_r, "LOFT_SERVICE set but fd %d is not the master status socket",
					SERVICE_ENV_MASTER_FD);
	}
	env->master_fd = SERVICE_ENV_MASTER_FD;
	if (listeners != NULL && *listeners != '\0') {
		char *copy = xstrdup(listeners), *save = NULL;
		int fd = SERVICE_ENV_FIRST_LISTENER_FD;

		for (char *item = strtok_r(copy, ",", &save); item != NULL;
		     item = strtok_r(NULL, ",", &save), fd++) {
			env->listeners = xreallocarray(env->listeners,
						       env->listener_count + 1,
						       sizeof(*env->listeners));
			if (parse_listener(item, fd,
					   &env->listeners[env->listener_count],
					   error_r) < 0) {
				free(copy);
				service_env_free(env);
				return -1;
			}
			env->listener_count++;
		}
		free(copy);
	}
	return 1;
}

void service_env_free(struct service_env *env)
{
	for (size_t i = 0; i < env->listener_count; i++)
		free(env->listeners[i].name);
	free(env->listeners);
	free(env->service);
	memset(env, 0, sizeof(*env));
	env->config_fd = env->master_fd = -1;
}

int service_env_load_settings(const struct service_env *env,
			      struct loft_settings *set, const char **error_r)
{
	struct strbuf text;
	char buf[8192];
	ssize_t ret;
	off_t offset = 0;
	int result;

	strbuf_init(&text, 8192);
	while ((ret = pread(env->config_fd, buf, sizeof(buf), offset)) != 0) {
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			strbuf_free(&text);
			return service_env_fail(error_r, "reading the config snapshot: %s",
						strerror(errno));
		}
		strbuf_append(&text, buf, (size_t)ret);
		offset += ret;
	}
	result = config_load_string("<config snapshot>", text.data, NULL, set,
				    error_r);
	strbuf_free(&text);
	return result;
}

int service_env_snapshot(const struct loft_settings *set, const char **error_r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int fd;

	if (out == NULL)
		return service_env_fail(error_r, "open_memstream: %s", strerror(errno));
	settings_write(set, out, true);
	fclose(out);
	fd = memfd_create("loft-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		free(text);
		return service_env_fail(error_r, "memfd_create: %s", strerror(errno));
	}
	if (fd_write_full(fd, text, len) < 0) {
		int err = errno;

		free(text);
		close(fd);
		return service_env_fail(error_r, "writing the config snapshot: %s",
					strerror(err));
	}
	free(text);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
		  F_SEAL_SEAL) < 0) {
		int err = errno;
		close(fd);
		return service_env_fail(error_r, "sealing the config snapshot: %s",
					strerror(err));
	}
	return fd;
}

char *service_env_listeners_value(const struct listener_settings *listeners,
				  size_t count)
{
	struct strbuf buf;

	strbuf_init(&buf, 64);
	for (size_t i = 0; i < count; i++) {
		bool inet = listeners[i].type == LISTENER_INET;

		strbuf_appendf(&buf, "%s%s:%s%s%s", i == 0 ? "" : ",",
			       listener_type_name(listeners[i].type),
			       listeners[i].name,
			       inet && listeners[i].ssl ? ":ssl" : "",
			       inet && listeners[i].haproxy ? ":haproxy" : "");
	}
	return strbuf_detach(&buf);
}
