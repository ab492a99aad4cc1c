/*
 * fuzz_auth_reply - libFuzzer target for the auth userdb driver's reply
 * parser (auth_proto_reply_parse in daemon/delivery/auth_proto.c): what
 * an auth-userdb socket answers (Dovecot's, loft-auth's, or whatever
 * listens at the configured path) decides a recipient's uid, home and
 * mail location. Input: one reply line (up to the first '\n'; NUL bytes
 * included). Checked: -1 with a message and nothing allocated, or a
 * reply whose fields are set as its kind needs (a USER or LIST reply has
 * a user name, every field a non-empty key); a USER reply formatted again
 * by the server side (auth_proto_format_user) parses back to the same
 * id, user and fields, and a FAIL reply to the same reason.
 */
#include "fuzz_util.h"

#include "auth_proto.h"
#include "strbuf.h"

/* str_null_eq - equal strings, or both NULL */
static bool str_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* reparse - line (with its LF) parsed again */
static void reparse(const struct strbuf *line, struct auth_proto_reply *again)
{
	const char *error;

	FUZZ_CHECK(line->len > 0 && line->data[line->len - 1] == '\n');
	FUZZ_CHECK(auth_proto_reply_parse(line->data, line->len - 1, again,
					  &error) == 0);
}

static void check_user_roundtrip(const struct auth_proto_reply *reply)
{
	struct auth_proto_reply again;
	struct strbuf line;

	strbuf_init(&line, 128);
	auth_proto_format_user(&line, reply->id, reply->user, &reply->fields);
	reparse(&line, &again);
	FUZZ_CHECK(again.kind == AUTH_PROTO_REPLY_USER && again.id == reply->id);
	FUZZ_CHECK(strcmp(again.user, reply->user) == 0);
	FUZZ_CHECK(again.fields.count == reply->fields.count);
	for (size_t i = 0; i < again.fields.count; i++) {
		FUZZ_CHECK(strcmp(again.fields.items[i].key,
				  reply->fields.items[i].key) == 0);
		FUZZ_CHECK(strcmp(again.fields.items[i].value,
				  reply->fields.items[i].value) == 0);
	}
	auth_proto_reply_free(&again);
	strbuf_free(&line);
}

static void check_fail_roundtrip(const struct auth_proto_reply *reply)
{
	struct auth_proto_reply again;
	struct strbuf line;

	strbuf_init(&line, 128);
	auth_proto_format_fail(&line, reply->id, reply->reason);
	reparse(&line, &again);
	FUZZ_CHECK(again.kind == AUTH_PROTO_REPLY_FAIL && again.id == reply->id);
	FUZZ_CHECK(str_null_eq(again.reason, reply->reason));
	auth_proto_reply_free(&again);
	strbuf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t len = lf == NULL ? size : (size_t)(lf - data);
	struct auth_proto_reply reply;
	const char *error = NULL;

	if (auth_proto_reply_parse((const char *)data, len, &reply, &error) < 0) {
		FUZZ_CHECK(error != NULL && *error != '\0');
		FUZZ_CHECK(reply.user == NULL && reply.reason == NULL &&
			   reply.fields.count == 0);
		return 0;
	}
	for (size_t i = 0; i < reply.fields.count; i++)
		FUZZ_CHECK(reply.fields.items[i].key[0] != '\0' &&
			   strchr(reply.fields.items[i].key, '=') == NULL);
	switch (reply.kind) {
	case AUTH_PROTO_REPLY_USER:
		FUZZ_CHECK(reply.user != NULL && reply.user[0] != '\0');
		check_user_roundtrip(&reply);
		break;
	case AUTH_PROTO_REPLY_LIST:
		FUZZ_CHECK(reply.user != NULL && reply.user[0] != '\0');
		FUZZ_CHECK(reply.fields.count == 0);
		break;
	case AUTH_PROTO_REPLY_FAIL:
		FUZZ_CHECK(reply.user == NULL);
		check_fail_roundtrip(&reply);
		break;
	default:
		FUZZ_CHECK(reply.user == NULL && reply.fields.count == 0);
		break;
	}
	auth_proto_reply_free(&reply);
	return 0;
}
