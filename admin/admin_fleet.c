/*
 * admin_fleet - one command on several hosts' HTTP APIs (see
 * admin_fleet.h): resolve the host list, build the request once, ask
 * every host on its own thread (each blocking call has its own deadline,
 * so a dead host costs fleet_timeout, not fleet_timeout per host), then
 * print the answers in host order.
 */
#include "admin_fleet.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "http_client.h"
#include "strbuf.h"
#include "xalloc.h"

/* fleet_timeout when no config was read */
#define ADMIN_FLEET_DEFAULT_TIMEOUT_MSECS 10000

struct admin_fleet_host {
	char *name;		/* as the operator named it */
	struct http_url url;
	/* in: the request; out: the answer */
	const struct http_request *req;
	unsigned int timeout_msecs;
	pthread_t thread;
	bool threaded;		/* thread runs admin_fleet_ask */
	json_object *doc;
	char *error;
	int exit_code;
};

/* admin_fleet_add - item of -H (a fleet { } name or a URL) into hosts;
   0, or -1 after a message */
static int admin_fleet_add(const struct loft_settings *set, const char *item,
			   struct admin_fleet_host **hosts, size_t *count)
{
	const char *url = set != NULL ? kvlist_get(&set->fleet, item) : NULL;
	struct admin_fleet_host *host;
	const char *error;

	*hosts = xreallocarray(*hosts, *count + 1, sizeof(**hosts));
	host = &(*hosts)[*count];
	memset(host, 0, sizeof(*host));
	if (http_url_parse(url != NULL ? url : item, HTTP_API_DEFAULT_PORT,
			   &host->url, &error) < 0) {
		fprintf(stderr, "loftadm: -H %s: %s\n", item, error);
		return -1;
	}
	host->name = xstrdup(item);
	(*count)++;
	return 0;
}

/* admin_fleet_hosts - the hosts of target; 0, or an exit code after a
   message */
static int admin_fleet_hosts(const struct loft_settings *set,
			     const char *config_error,
			     const struct admin_fleet_target *target,
			     struct admin_fleet_host **hosts_r, size_t *count_r)
{
	char *list, *item, *save = NULL;
	int ret = 0;

	*hosts_r = NULL;
	*count_r = 0;
	if (target->all) {
		if (set == NULL) {
			fprintf(stderr, "loftadm: --fleet needs the config: %s\n",
				config_error);
			return EX_TEMPFAIL;
		}
		for (size_t i = 0; i < set->fleet.count; i++)
			(void)admin_fleet_add(set, set->fleet.items[i].key,
					      hosts_r, count_r);
		if (*count_r == 0) {
			fprintf(stderr, "loftadm: --fleet: the config has no "
				"fleet { } hosts\n");
			return EX_USAGE;
		}
		return 0;
	}
	list = xstrdup(target->hosts);
	for (item = strtok_r(list, ", \t", &save); item != NULL && ret == 0;
	     item = strtok_r(NULL, ", \t", &save)) {
		if (admin_fleet_add(set, item, hosts_r, count_r) < 0)
			ret = EX_USAGE;
	}
	free(list);
	if (ret == 0 && *count_r == 0) {
		fprintf(stderr, "loftadm: -H: no hosts given\n");
		ret = EX_USAGE;
	}
	return ret;
}

/* admin_fleet_request - call as an HTTP request: *path_r and *body_r
   (NULL for GET), xmalloc'ed */
static void admin_fleet_request(const struct admin_fleet_call *call,
				char **path_r, char **body_r)
{
	bool get = strcmp(call->route->method, "GET") == 0;
	json_object *body = get ? NULL : json_object_new_object(), *masks;
	struct strbuf path;

	strbuf_init(&path, 128);
	strbuf_append_str(&path, call->route->path);
	for (size_t i = 0; i < call->option_count; i++) {
		const char *opt = call->options[i];

		if (strcmp(opt, "-1") == 0) {	/* who only: a GET */
			if (get)
				http_query_append(&path, "per_session", "1");
			continue;
		}
		if (i + 1 == call->option_count)
			break;	/* never: admin_commands pairs every --name */
		opt += strspn(opt, "-");
		if (get)
			http_query_append(&path, opt, call->options[i + 1]);
		else
			json_object_object_add(body, opt, json_object_new_string(
				call->options[i + 1]));
		i++;
	}
	masks = get ? NULL : json_object_new_array();
	for (size_t i = 0; i < call->positional_count; i++) {
		if (get)
			http_query_append(&path, "mask", call->positional[i]);
		else
			json_object_array_add(masks, json_object_new_string(
				call->positional[i]));
	}
	if (masks != NULL && call->positional_count > 0)
		json_object_object_add(body, "mask", masks);
	else
		json_object_put(masks);
	*path_r = strbuf_detach(&path);
	*body_r = body == NULL ? NULL : xstrdup(json_object_to_json_string_ext(
		body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
}

/* admin_fleet_status_exit - loftadm's exit code for an HTTP error */
static int admin_fleet_status_exit(unsigned int status)
{
	if (status == 401 || status == 403 || status == 421)
		return EX_NOPERM;
	if (status == 400 || status == 404 || status == 405)
		return EX_USAGE;
	return EX_TEMPFAIL;
}

/* admin_fleet_json - body as one JSON document (trailing blanks
   allowed), or NULL */
static json_object *admin_fleet_json(const char *body, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *doc = len > 0 && len <= INT_MAX ?
		json_tokener_parse_ex(tok, body, (int)len) : NULL;
	size_t end = json_tokener_get_parse_end(tok);

	json_tokener_free(tok);
	if (doc != NULL && body[end + strspn(body + end, " \t\r\n")] != '\0') {
		json_object_put(doc);
		doc = NULL;
	}
	return doc;
}

/* admin_fleet_answer - the response into host's doc, or its error */
static void admin_fleet_answer(struct admin_fleet_host *host,
			       const struct http_response *resp)
{
	json_object *doc = admin_fleet_json(resp->body, resp->body_len);
	json_object *error = NULL;

	if (resp->status == 200 && doc != NULL) {
		host->doc = doc;
		return;
	}
	if (resp->status == 200) {
		host->error = xstrdup("the answer is not JSON");
		host->exit_code = EX_TEMPFAIL;
		return;
	}
	if (doc != NULL && json_object_is_type(doc, json_type_object))
		json_object_object_get_ex(doc, "error", &error);
	host->error = xasprintf("HTTP %u: %s", resp->status, error != NULL ?
				json_object_get_string(error) : "no error message");
	host->exit_code = admin_fleet_status_exit(resp->status);
	json_object_put(doc);
}

/* admin_fleet_ask - one host's call (its thread) */
static void *admin_fleet_ask(void *context)
{
	struct admin_fleet_host *host = context;
	struct http_response resp;
	const char *error;

	if (http_client_call(&host->url, host->req, host->timeout_msecs,
			     &resp, &error) < 0) {
		host->error = xstrdup(error);
		host->exit_code = EX_TEMPFAIL;
		return NULL;
	}
	admin_fleet_answer(host, &resp);
	http_response_free(&resp);
	return NULL;
}

/* admin_fleet_key - the API key, or NULL after a message */
static const char *admin_fleet_key(const struct loft_settings *set,
				   const char *config_error)
{
	const char *key = getenv(ADMIN_FLEET_KEY_ENV);

	if (key != NULL && *key != '\0')
		return key;
	if (set != NULL && set->http_api_key[0] != '\0')
		return set->http_api_key;
	fprintf(stderr, "loftadm: -H needs the HTTP API key: %s%s\n",
		set != NULL ? "http_api_key is empty in the config" : config_error,
		" (or set " ADMIN_FLEET_KEY_ENV ")");
	return NULL;
}

/* admin_fleet_print - the answers, the errors; the exit code */
static int admin_fleet_print(struct admin_fleet_host *hosts, size_t count,
			     enum admin_format format,
			     const struct admin_fleet_call *call)
{
	struct admin_host_answer *answers = xcalloc(count, sizeof(*answers));
	size_t answered = 0;
	int ret = EX_OK;

	for (size_t i = 0; i < count; i++) {
		answers[i].host = hosts[i].name;
		answers[i].doc = hosts[i].doc;
		answers[i].error = hosts[i].error;
		answered += hosts[i].doc != NULL;
	}
	/* no table without a host that answered; json lists the errors */
	if (count == 1 && hosts[0].doc != NULL)
		admin_format_print(stdout, format, hosts[0].doc, call->view);
	else if (count > 1 && (answered > 0 || format == ADMIN_FORMAT_JSON))
		admin_format_print_hosts(stdout, format, answers, count, call->view);
	fflush(stdout);
	for (size_t i = 0; i < count; i++) {
		if (hosts[i].error == NULL)
			continue;
		fprintf(stderr, "loftadm: %s: %s: %s\n", hosts[i].name,
			call->name, hosts[i].error);
		if (ret == EX_OK)
			ret = hosts[i].exit_code;
	}
	free(answers);
	return ret;
}

int admin_fleet_run(const struct loft_settings *set, const char *config_error,
		    const struct admin_fleet_target *target,
		    enum admin_format format, const struct admin_fleet_call *call)
{
	struct admin_fleet_host *hosts;
	struct http_request req = { .method = call->route->method };
	char *path = NULL, *body = NULL;
	unsigned int timeout = ADMIN_FLEET_DEFAULT_TIMEOUT_MSECS;
	size_t count = 0;
	int ret;

	if (set != NULL && set->fleet_timeout > 0)
		timeout = set->fleet_timeout > UINT_MAX ? UINT_MAX :
			(unsigned int)set->fleet_timeout;

	ret = admin_fleet_hosts(set, config_error, target, &hosts, &count);
	if (ret == 0 && (req.bearer = admin_fleet_key(set, config_error)) == NULL)
		ret = EX_TEMPFAIL;
	if (ret == 0) {
		admin_fleet_request(call, &path, &body);
		req.path = path;
		req.body = body;
		for (size_t i = 0; i < count; i++) {
			hosts[i].req = &req;
			hosts[i].timeout_msecs = timeout;
			hosts[i].threaded = pthread_create(&hosts[i].thread,
				NULL, admin_fleet_ask, &hosts[i]) == 0;
			if (!hosts[i].threaded)
				(void)admin_fleet_ask(&hosts[i]);
		}
		for (size_t i = 0; i < count; i++) {
			if (hosts[i].threaded)
				pthread_join(hosts[i].thread, NULL);
		}
		ret = admin_fleet_print(hosts, count, format, call);
	}
	for (size_t i = 0; i < count; i++) {
		free(hosts[i].name);
		free(hosts[i].error);
		json_object_put(hosts[i].doc);
	}
	free(hosts);
	free(path);
	free(body);
	return ret;
}
