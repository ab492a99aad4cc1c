/*
 * stats_http_check - the verdicts of the HTTP endpoint that do not need
 * libmicrohttpd: whether an Authorization header carries the configured
 * API key (compared in constant time, so response timing does not reveal
 * how much of a guess was right), and whether a request body is one JSON
 * object sent as application/json. Kept apart from the request flow in
 * stats_http.c; both run on MHD's thread and share no state.
 */
#include "stats_http_private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define STATS_HTTP_BEARER "Bearer"
#define STATS_HTTP_JSON_TYPE "application/json"

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

/* stats_http_is_json_type - Content-Type is application/json, with or
   without parameters such as charset */
static bool stats_http_is_json_type(const char *content_type)
{
	size_t len = strlen(STATS_HTTP_JSON_TYPE);

	if (content_type == NULL)
		return false;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	if (strncasecmp(content_type, STATS_HTTP_JSON_TYPE, len) != 0)
		return false;
	content_type += len;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	return *content_type == '\0' || *content_type == ';';
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

json_object *stats_http_check_json_body(bool any_value,
					const char *content_type,
					const char *body, size_t len,
					const char **error_r)
{
	json_object *obj;

	if (!stats_http_is_json_type(content_type)) {
		*error_r = "Content-Type must be application/json";
		return NULL;
	}
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
