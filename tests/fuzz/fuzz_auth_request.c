/*
 * fuzz_auth_request - libFuzzer target for loft-auth's request parser
 * (auth_proto_request_parse in daemon/delivery/auth_proto.c) and the name
 * check every USER request goes through before a userdb sees it
 * (userdb_lookup_name): the auth-userdb socket is open to local users,
 * mode 0666 by default. Input: one request line (up to the first '\n';
 * NUL bytes included). Checked: -1 with a message and nothing allocated,
 * or a request whose fields are set as its command needs; a USER request
 * formatted again (auth_proto_format_user_request, tab-escaped) parses
 * back to the same id, user and service; a name the check lets through
 * has no control character, no '/' and only auth_username_chars, and
 * is what auth_username_format (%Lu) makes of it.
 */
#include "fuzz_util.h"

#include <ctype.h>

#include "auth_proto.h"
#include "settings.h"
#include "strbuf.h"
#include "userdb.h"

static struct loft_settings fuzz_set;
static bool fuzz_set_ready;

/* str_null_eq - equal strings, or both NULL */
static bool str_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* check_roundtrip - a USER request written back parses to itself */
static void check_roundtrip(const struct auth_proto_request *req)
{
	struct auth_proto_request again;
	struct strbuf line;
	const char *error;

	strbuf_init(&line, 64);
	auth_proto_format_user_request(&line, req->id, req->user, req->service);
	FUZZ_CHECK(line.len > 0 && line.data[line.len - 1] == '\n');
	if (line.len - 1 <= AUTH_PROTO_MAX_REQUEST) {
		FUZZ_CHECK(auth_proto_request_parse(line.data, line.len - 1,
						    &again, &error) == 0);
		FUZZ_CHECK(again.cmd == AUTH_PROTO_REQ_USER &&
			   again.id == req->id);
		FUZZ_CHECK(strcmp(again.user, req->user) == 0);
		FUZZ_CHECK(str_null_eq(again.service, req->service));
		auth_proto_request_free(&again);
	}
	strbuf_free(&line);
}

/* check_name - what userdb_lookup_name lets through */
static void check_name(const char *user)
{
	const char *error = NULL;
	char *name = NULL;
	int ret = userdb_lookup_name(&fuzz_set, user, &name, &error);

	if (ret <= 0) {
		FUZZ_CHECK(name == NULL && error != NULL && *error != '\0');
		return;
	}
	FUZZ_CHECK(name != NULL && strlen(name) == strlen(user));
	for (const char *p = name, *q = user; *p != '\0'; p++, q++) {
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '/');
		FUZZ_CHECK(strchr(fuzz_set.auth_username_chars, *q) != NULL);
		FUZZ_CHECK(*p == tolower((unsigned char)*q));
	}
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t len = lf == NULL ? size : (size_t)(lf - data);
	struct auth_proto_request req;
	const char *error = NULL;

	if (!fuzz_set_ready) {
		settings_init(&fuzz_set);
		fuzz_set_ready = true;
	}
	if (auth_proto_request_parse((const char *)data, len, &req, &error) < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		FUZZ_CHECK(req.user == NULL && req.service == NULL);
		return 0;
	}
	switch (req.cmd) {
	case AUTH_PROTO_REQ_VERSION:
		FUZZ_CHECK(req.user == NULL);
		break;
	case AUTH_PROTO_REQ_USER:
	case AUTH_PROTO_REQ_PASS:
		FUZZ_CHECK(req.user != NULL);
		check_roundtrip(&req);
		check_name(req.user);
		break;
	case AUTH_PROTO_REQ_LIST:
		break;
	}
	auth_proto_request_free(&req);
	return 0;
}
