/*
 * test_auth_proto - unit tests for the auth-master protocol codec
 * (daemon/delivery/auth_proto.c): Dovecot's tab-escaping, requests and
 * replies as Dovecot's auth process and its clients write them, what is
 * refused; the peer-credential rule of loft-auth's listeners
 * (daemon/auth/auth_peer.c); and userdb_lookup_name, the check a name
 * passes before any userdb sees it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "auth_peer.h"
#include "auth_proto.h"
#include "settings.h"
#include "strbuf.h"
#include "userdb.h"

START_TEST(test_request_user)
{
	static const char line[] = "USER\t7\talice@example.com\tservice=lda\tlip=127.0.0.1\tdebug";
	struct auth_proto_request req;
	const char *error;

	ck_assert_int_eq(auth_proto_request_parse(line, strlen(line), &req, &error), 0);
	ck_assert_int_eq(req.cmd, AUTH_PROTO_REQ_USER);
	ck_assert_uint_eq(req.id, 7);
	ck_assert_str_eq(req.user, "alice@example.com");
	ck_assert_str_eq(req.service, "lda");
	auth_proto_request_free(&req);
}
END_TEST

START_TEST(test_request_others)
{
	struct auth_proto_request req;
	const char *error;

	ck_assert_int_eq(auth_proto_request_parse("VERSION\t1\t0", 11, &req, &error), 0);
	ck_assert_int_eq(req.cmd, AUTH_PROTO_REQ_VERSION);
	ck_assert_uint_eq(req.major, 1);
	auth_proto_request_free(&req);
	ck_assert_int_eq(auth_proto_request_parse("LIST\t3\tuser=*@x\tservice=doveadm",
						  31, &req, &error), 0);
	ck_assert_int_eq(req.cmd, AUTH_PROTO_REQ_LIST);
	ck_assert_str_eq(req.user, "*@x");
	auth_proto_request_free(&req);
	ck_assert_int_eq(auth_proto_request_parse("LIST\t3", 6, &req, &error), 0);
	ck_assert_ptr_null(req.user);
	auth_proto_request_free(&req);
	/* escapes undone: TAB, LF, CR, \001 */
	ck_assert_int_eq(auth_proto_request_parse("PASS\t1\ta\001tb\001lc\001rd\0011", 19,
						  &req, &error), 0);
	ck_assert_str_eq(req.user, "a\tb\nc\rd\001");
	auth_proto_request_free(&req);
}
END_TEST

START_TEST(test_request_refused)
{
	static const char *const bad[] = {
		"", "HELLO", "USER", "USER\t1", "USER\tx\ta", "USER\t-1\ta",
		"USER\t99999999999\ta", "VERSION\t1", "VERSION\tx\t0",
		"USER\t1\ta\001", "USER\t1\ta\0010b", "CPID\t1",
	};
	struct auth_proto_request req;
	const char *error;
	char *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		ck_assert_msg(auth_proto_request_parse(bad[i], strlen(bad[i]), &req,
						       &error) == -1, "%s", bad[i]);
		ck_assert_ptr_nonnull(error);
		ck_assert_ptr_null(req.user);
	}
	ck_assert_int_eq(auth_proto_request_parse("USER\t1\ta\0b", 10, &req, &error), -1);
	big = malloc(AUTH_PROTO_MAX_REQUEST + 2);
	memcpy(big, "USER\t1\t", 7);
	memset(big + 7, 'a', AUTH_PROTO_MAX_REQUEST - 6);
	ck_assert_int_eq(auth_proto_request_parse(big, AUTH_PROTO_MAX_REQUEST + 1,
						  &req, &error), -1);
	ck_assert_int_eq(auth_proto_request_parse(big, AUTH_PROTO_MAX_REQUEST,
						  &req, &error), 0);
	auth_proto_request_free(&req);
	free(big);
}
END_TEST

START_TEST(test_reply_user_as_dovecot_writes_it)
{
	static const char line[] =
		"USER\t1\talice@example.com\tuid=1000\tgid=1000\thome=/home/alice"
		"\tmail=maildir:~/Mail\001tx\tnopassword\tquota_rule=*:storage=1G";
	struct auth_proto_reply reply;
	const char *error;

	ck_assert_int_eq(auth_proto_reply_parse(line, strlen(line), &reply, &error), 0);
	ck_assert_int_eq(reply.kind, AUTH_PROTO_REPLY_USER);
	ck_assert_uint_eq(reply.id, 1);
	ck_assert_str_eq(reply.user, "alice@example.com");
	ck_assert_str_eq(kvlist_get(&reply.fields, "uid"), "1000");
	ck_assert_str_eq(kvlist_get(&reply.fields, "mail"), "maildir:~/Mail\tx");
	ck_assert_str_eq(kvlist_get(&reply.fields, "nopassword"), "");
	ck_assert_str_eq(kvlist_get(&reply.fields, "quota_rule"), "*:storage=1G");
	auth_proto_reply_free(&reply);
}
END_TEST

START_TEST(test_reply_kinds)
{
	struct auth_proto_reply reply;
	const char *error;

	ck_assert_int_eq(auth_proto_reply_parse("NOTFOUND\t3", 10, &reply, &error), 0);
	ck_assert_int_eq(reply.kind, AUTH_PROTO_REPLY_NOTFOUND);
	ck_assert_uint_eq(reply.id, 3);
	auth_proto_reply_free(&reply);
	ck_assert_int_eq(auth_proto_reply_parse("FAIL\t3\treason=down", 18, &reply, &error), 0);
	ck_assert_str_eq(reply.reason, "down");
	auth_proto_reply_free(&reply);
	ck_assert_int_eq(auth_proto_reply_parse("DONE\t3\tfail", 11, &reply, &error), 0);
	ck_assert(reply.failed);
	auth_proto_reply_free(&reply);
	ck_assert_int_eq(auth_proto_reply_parse("DONE\t3\t", 7, &reply, &error), 0);
	ck_assert(!reply.failed);
	auth_proto_reply_free(&reply);
	ck_assert_int_eq(auth_proto_reply_parse("SPID\t42", 7, &reply, &error), 0);
	auth_proto_reply_free(&reply);
	/* refused: unknown, no id, no user, a field without a name */
	ck_assert_int_eq(auth_proto_reply_parse("CUID\t1", 6, &reply, &error), -1);
	ck_assert_int_eq(auth_proto_reply_parse("NOTFOUND", 8, &reply, &error), -1);
	ck_assert_int_eq(auth_proto_reply_parse("USER\t1", 6, &reply, &error), -1);
	ck_assert_int_eq(auth_proto_reply_parse("USER\t1\t", 7, &reply, &error), -1);
	ck_assert_int_eq(auth_proto_reply_parse("USER\t1\ta\t=x", 11, &reply, &error), -1);
	ck_assert_int_eq(auth_proto_reply_parse("USER\t1\ta\t", 9, &reply, &error), -1);
}
END_TEST

START_TEST(test_format_roundtrip)
{
	struct kvlist fields;
	struct strbuf out;
	struct auth_proto_reply reply;
	const char *error;

	kvlist_init(&fields);
	kvlist_set(&fields, "uid", "1000");
	kvlist_set(&fields, "note", "a\tb\nc\001");
	kvlist_set(&fields, "flag", "");
	strbuf_init(&out, 64);
	auth_proto_format_user(&out, 9, "u\tser", &fields);
	ck_assert_str_eq(out.data, "USER\t9\tu\001tser\tuid=1000\tnote=a\001tb\001lc\0011\tflag\n");
	ck_assert_int_eq(auth_proto_reply_parse(out.data, out.len - 1, &reply, &error), 0);
	ck_assert_str_eq(reply.user, "u\tser");
	ck_assert_str_eq(kvlist_get(&reply.fields, "note"), "a\tb\nc\001");
	ck_assert_str_eq(kvlist_get(&reply.fields, "flag"), "");
	auth_proto_reply_free(&reply);
	strbuf_reset(&out);
	auth_proto_format_handshake(&out, 42);
	ck_assert_str_eq(out.data, "VERSION\t1\t0\nSPID\t42\n");
	strbuf_reset(&out);
	auth_proto_format_user_request(&out, 1, "bob@example.com", "lda");
	ck_assert_str_eq(out.data, "USER\t1\tbob@example.com\tservice=lda\n");
	strbuf_free(&out);
	kvlist_free(&fields);
}
END_TEST

START_TEST(test_peer_rule)
{
	static const gid_t groups[] = { 50, 60 };
	struct auth_peer_policy p0666 = { 0666, 100, 200 };
	struct auth_peer_policy p0600 = { 0600, 100, 200 };
	struct auth_peer_policy p0660 = { 0660, 100, 200 };
	struct auth_peer root = { 1, 0, 0, NULL, 0 };
	struct auth_peer owner = { 1, 100, 999, NULL, 0 };
	struct auth_peer member = { 1, 300, 999, groups, 2 };
	struct auth_peer other = { 1, 300, 999, NULL, 0 };
	const char *reason;

	p0660.gid = 60;
	ck_assert_int_eq(auth_peer_check(&p0666, &root, &reason), AUTH_PEER_FULL);
	ck_assert_int_eq(auth_peer_check(&p0666, &owner, &reason), AUTH_PEER_FULL);
	ck_assert_int_eq(auth_peer_check(&p0666, &other, &reason), AUTH_PEER_RESTRICTED);
	ck_assert_ptr_nonnull(reason);
	ck_assert_int_eq(auth_peer_check(&p0600, &owner, &reason), AUTH_PEER_FULL);
	ck_assert_int_eq(auth_peer_check(&p0600, &other, &reason), AUTH_PEER_REFUSED);
	ck_assert_int_eq(auth_peer_check(&p0600, &root, &reason), AUTH_PEER_FULL);
	/* supplementary groups count */
	ck_assert_int_eq(auth_peer_check(&p0660, &member, &reason), AUTH_PEER_FULL);
	ck_assert_int_eq(auth_peer_check(&p0660, &other, &reason), AUTH_PEER_REFUSED);
	/* the owner gets the owner bits only, as the kernel reads them */
	p0660.mode = 0060;
	ck_assert_int_eq(auth_peer_check(&p0660, &owner, &reason), AUTH_PEER_REFUSED);
}
END_TEST

START_TEST(test_lookup_name)
{
	struct loft_settings set;
	const char *error;
	char *name;

	settings_init(&set);
	ck_assert_int_eq(userdb_lookup_name(&set, "Alice@Example.COM", &name, &error), 1);
	ck_assert_str_eq(name, "alice@example.com");
	free(name);
	ck_assert_int_eq(userdb_lookup_name(&set, "../x", &name, &error), 0);
	ck_assert_ptr_null(name);
	ck_assert_int_eq(userdb_lookup_name(&set, "", &name, &error), 0);
	/* control characters are refused even when every character is allowed */
	free(set.auth_username_chars);
	set.auth_username_chars = strdup("");
	ck_assert_int_eq(userdb_lookup_name(&set, "a/b", &name, &error), 1);
	free(name);
	ck_assert_int_eq(userdb_lookup_name(&set, "a\tb", &name, &error), 0);
	ck_assert_int_eq(userdb_lookup_name(&set, "a\x7f", &name, &error), 0);
	settings_free(&set);
}
END_TEST

static Suite *auth_proto_suite(void)
{
	Suite *s = suite_create("auth_proto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_request_user);
	tcase_add_test(tc, test_request_others);
	tcase_add_test(tc, test_request_refused);
	tcase_add_test(tc, test_reply_user_as_dovecot_writes_it);
	tcase_add_test(tc, test_reply_kinds);
	tcase_add_test(tc, test_format_roundtrip);
	tcase_add_test(tc, test_peer_rule);
	tcase_add_test(tc, test_lookup_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(auth_proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
