/*
 * stats_http_check - the verdicts of the HTTP endpoint that do not need
 * libmicrohttpd: whether an Authorization header carries the configured
 * API key (compared in constant time, so response timing does not reveal
 * how much of a guess was right), whether a Host header names this
 * endpoint (DNS rebinding), and whether a request body is one JSON
 * object (whatever its Content-Type: the key, not the type, is what keeps
 * other sites out). Kept apart from the request flow in stats_http.c;
 * both run on MHD's threads and share no state.
 */
#include "stats_http_private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define STATS_HTTP_BEARER "Bearer"

/* stats_http_secret_equal_n - constant-time comparison: the loop covers
   the longer of both and never exits early, every byte's difference is
   accumulated, and a length mismatch is folded into the same result */
static bool stats_http_secret_equal_n(const char *given, size_t given_len,
				      const char *secret, size_t secret_len)
{
	size_t n = given_len > secret_len ? given_len : secret_len;
	volatile unsigned char diff = given_len != secret_len;

	for (size_t i = 0; i < n; i++) {
		unsigned char a = i < given_len ? (unsigned char)given[i] : 0;
		unsigned char b = i < secret_len ? (unsigned char)secret[i] : 0;

		diff |= a ^ b;
	}
	return diff == 0;
}

bool stats_http_secret_equal(const char *given, const char *secret)
{
	return stats_http_secret_equal_n(given, strlen(given), secret,
					 strlen(secret));
}

/* stats_http_bearer_token - the token of "Bearer <token>" (scheme case-
   insensitive, surrounding blanks skipped), or NULL for another scheme */
static const char *stats_http_bearer_token(const char *value, size_t *len_r)
{
	size_t scheme_len = strlen(STATS_HTTP_BEARER);
	size_t len;

	while (*value == ' ' || *value == '\t')
		value++;
	if (strncasecmp(value, STATS_HTTP_BEARER, scheme_len) != 0 ||
	    (value[scheme_len] != ' ' && value[scheme_len] != '\t'))
		return NULL;
	value += scheme_len;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	*len_r = len;
	return value;
}

enum stats_http_auth_result
stats_http_check_auth(const char *authorization, const char *api_key,
		      stats_http_extra_auth_t *extra_auth, void *context)
{
	const char *token;
	size_t token_len;

	if (*api_key == '\0' && extra_auth == NULL)
		return STATS_HTTP_AUTH_DISABLED;
	if (authorization == NULL)
		return STATS_HTTP_AUTH_MISSING;
	if (*api_key != '\0' &&
	    (token = stats_http_bearer_token(authorization, &token_len)) != NULL &&
	    stats_http_secret_equal_n(token, token_len, api_key, strlen(api_key)))
		return STATS_HTTP_AUTH_OK;
	if (extra_auth != NULL && extra_auth(authorization, context))
		return STATS_HTTP_AUTH_OK;
	return STATS_HTTP_AUTH_INVALID;
}

/* stats_http_parse_json - strict parse of exactly one JSON value that
   fills the whole body (blanks around it allowed) */
static json_object *stats_http_parse_json(const char *body, size_t len,
					  const char **error_r)
{
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	json_object *obj;
	size_t end;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL) {
		*error_r = jerr == json_tokener_continue ?
			"unexpected end of input" :
			json_tokener_error_desc(jerr);
		return NULL;
	}
	while (end < len && isspace((unsigned char)body[end]))
		end++;
	if (end < len) {
		json_object_put(obj);
		*error_r = "trailing data after the JSON value";
		return NULL;
	}
	return obj;
}

json_object *stats_http_check_json_body(bool any_value, const char *body,
					size_t len, const char **error_r)
{
	json_object *obj;

	if (memchr(body, '\0', len) != NULL) {
		*error_r = "NUL byte in body";
		return NULL;
	}
	obj = stats_http_parse_json(body, len, error_r);
	if (obj == NULL)
		return NULL;
	if (!any_value && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*error_r = "not a JSON object";
		return NULL;
	}
	return obj;
}

/* --- Host names --- */

/* stats_http_host_name - the name part of a Host value (name, name:port,
   [v6] or [v6]:port) into *name_r and *len_r; false when malformed */
static bool stats_http_host_name(const char *host, const char **name_r,
				 size_t *len_r)
{
	const char *end, *port;

	if (*host == '[') {
		end = strchr(host, ']');
		if (end == NULL)
			return false;
		*name_r = host + 1;
		*len_r = (size_t)(end - host - 1);
		port = end + 1;
	} else {
		port = strchr(host, ':');
		if (port == NULL)
			port = host + strlen(host);
		*name_r = host;
		*len_r = (size_t)(port - host);
	}
	if (*port == ':') {
		port++;
		if (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
		    strlen(port) > 5)
			return false;
	} else if (*port != '\0') {
		return false;
	}
	return *len_r > 0;
}

/* stats_http_name_is - name (len bytes) is want, case-insensitively */
static bool stats_http_name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

bool stats_http_check_host(const char *host, const char *local_ip,
			   char *const *names)
{
	static const char *const always[] = { "localhost", "127.0.0.1", "::1" };
	const char *name;
	size_t len;

	if (host == NULL)
		return true;	/* HTTP/1.0: not a browser */
	if (!stats_http_host_name(host, &name, &len))
		return false;
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		if (stats_http_name_is(name, len, always[i]))
			return true;
	}
	if (*local_ip != '\0' && stats_http_name_is(name, len, local_ip))
		return true;
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		if (stats_http_name_is(name, len, names[i]))
			return true;
	}
	return false;
}

char **stats_http_split_names(const char *list)
{
	char **names = xcalloc(1, sizeof(*names));
	size_t count = 0;

	while (list != NULL && *list != '\0') {
		size_t len = strcspn(list, " \t,");
		const char *name = list;

		list += len;
		list += strspn(list, " \t,");
		if (len > 1 && name[0] == '[' && name[len - 1] == ']') {
			name++;
			len -= 2;
		}
		if (len == 0 || (len == 1 && *name == '*'))
			continue;
		names = xreallocarray(names, count + 2, sizeof(*names));
		names[count++] = xstrndup(name, len);
		names[count] = NULL;
	}
	return names;
}

void stats_http_free_names(char **names)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}
