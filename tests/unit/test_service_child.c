/*
 * test_service_child - unit tests for lib/service_child: the PROXY
 * protocol parser (v1 TCP4/TCP6/UNKNOWN, v2 TCP4/TCP6/UNSPEC/LOCAL, every
 * truncation of each valid header, garbage), the status record and its
 * channel (first record at once, rate limit, "full" and "idle" at once,
 * EOF = master gone), user/group lookups, the root refusal of internal
 * services and, when run as root, the privilege drop itself.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"
#include "install_paths.h"
#include "service_child.h"
#include "settings.h"
#include "xalloc.h"

#define N_CASES(arr) (sizeof(arr) / sizeof((arr)[0]))
#define V2_SIG "\r\n\r\n\0\r\nQUIT\n"
/* LMTP bytes that follow a header and must not be consumed */
#define TRAILER "LHLO x\r\n"

struct proxy_case {
	const char *name;
	const char *bytes;
	size_t len;		/* header + TRAILER */
	int want;		/* 1 or -1 */
	size_t consumed;	/* header length when want == 1 */
	unsigned int version;
	bool local;
	int family;
	const char *src_ip, *dst_ip;
	unsigned int src_port, dst_port;
};

#define STR_CASE(s) s TRAILER, sizeof(s TRAILER) - 1
#define HDR_LEN(s) (sizeof(s) - 1)

static const struct proxy_case proxy_cases[] = {
	{ "v1 tcp4", STR_CASE("PROXY TCP4 203.0.113.7 192.0.2.1 56324 24\r\n"), 1,
	  HDR_LEN("PROXY TCP4 203.0.113.7 192.0.2.1 56324 24\r\n"), 1, false,
	  AF_INET, "203.0.113.7", "192.0.2.1", 56324, 24 },
	{ "v1 tcp6", STR_CASE("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n"), 1,
	  HDR_LEN("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n"), 1, false,
	  AF_INET6, "2001:db8::7", "2001:db8::1", 65535, 0 },
	{ "v1 unknown", STR_CASE("PROXY UNKNOWN\r\n"), 1,
	  HDR_LEN("PROXY UNKNOWN\r\n"), 1, true, AF_UNSPEC, "", "", 0, 0 },
	{ "v1 unknown with fields", STR_CASE("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), 1,
	  HDR_LEN("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), 1, true, AF_UNSPEC,
	  "", "", 0, 0 },
	{ "v2 tcp4",
	  STR_CASE(V2_SIG "\x21\x11\x00\x0c" "\xcb\x00\x71\x07" "\xc0\x00\x02\x01"
		   "\xdc\x04" "\x00\x18"), 1, 28, 2, false, AF_INET,
	  "203.0.113.7", "192.0.2.1", 56324, 24 },
	{ "v2 tcp4 with tlv",
	  STR_CASE(V2_SIG "\x21\x11\x00\x12" "\xcb\x00\x71\x07" "\xc0\x00\x02\x01"
		   "\xdc\x04" "\x00\x18" "\x04\x00\x03" "abc"), 1, 34, 2, false,
	  AF_INET, "203.0.113.7", "192.0.2.1", 56324, 24 },
	{ "v2 tcp6",
	  STR_CASE(V2_SIG "\x21\x21\x00\x24"
		   "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"
		   "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		   "\x04\xd2" "\x00\x18"), 1, 52, 2, false, AF_INET6,
	  "2001:db8::7", "2001:db8::1", 1234, 24 },
	{ "v2 local", STR_CASE(V2_SIG "\x20\x00\x00\x00"), 1, 16, 2, true,
	  AF_UNSPEC, "", "", 0, 0 },
	{ "v2 proxy unspec", STR_CASE(V2_SIG "\x21\x00\x00\x00"), 1, 16, 2, true,
	  AF_UNSPEC, "", "", 0, 0 },
	{ "garbage", STR_CASE("GET / HTTP/1.0\r\n"), -1, 0, 0, false, 0, "", "", 0, 0 },
	{ "lower case", STR_CASE("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), -1, 0, 0,
	  false, 0, "", "", 0, 0 },
	{ "v1 bad proto", STR_CASE("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), -1, 0, 0,
	  false, 0, "", "", 0, 0 },
	{ "v1 tcp4 with v6 address", STR_CASE("PROXY TCP4 ::1 ::2 1 2\r\n"), -1, 0, 0,
	  false, 0, "", "", 0, 0 },
	{ "v1 port too big", STR_CASE("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), -1,
	  0, 0, false, 0, "", "", 0, 0 },
	{ "v1 missing field", STR_CASE("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), -1, 0, 0,
	  false, 0, "", "", 0, 0 },
	{ "v1 bare LF", STR_CASE("PROXY UNKNOWN\n"), -1, 0, 0, false, 0, "", "", 0, 0 },
	{ "v1 too long",
	  STR_CASE("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
	  -1, 0, 0, false, 0, "", "", 0, 0 },
	{ "v1 at the 107-byte limit",
	  STR_CASE("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), 1, 107, 1, true, AF_UNSPEC, "", "", 0, 0 },
	{ "v1 108 bytes",
	  STR_CASE("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), -1, 0, 0, false, 0, "", "", 0, 0 },
	{ "v2 bad version", STR_CASE(V2_SIG "\x11\x11\x00\x0c"), -1, 0, 0, false, 0,
	  "", "", 0, 0 },
	{ "v2 bad command", STR_CASE(V2_SIG "\x22\x11\x00\x0c"), -1, 0, 0, false, 0,
	  "", "", 0, 0 },
	{ "v2 udp", STR_CASE(V2_SIG "\x21\x12\x00\x0c"), -1, 0, 0, false, 0,
	  "", "", 0, 0 },
	{ "v2 short address block", STR_CASE(V2_SIG "\x21\x11\x00\x08"), -1, 0, 0,
	  false, 0, "", "", 0, 0 },
	{ "v2 too long", STR_CASE(V2_SIG "\x21\x11\xff\xff"), -1, 0, 0, false, 0,
	  "", "", 0, 0 },
	{ "v2 bad signature", STR_CASE("\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c"), -1, 0,
	  0, false, 0, "", "", 0, 0 },
};

START_TEST(test_proxy_parse)
{
	const struct proxy_case *c = &proxy_cases[_i];
	struct proxy_header hdr;
	size_t consumed = 12345;
	const char *error = NULL;
	int ret = service_child_proxy_parse((const unsigned char *)c->bytes, c->len,
					    &hdr, &consumed, &error);

	ck_assert_msg(ret == c->want, "%s: got %d, want %d (%s)", c->name, ret,
		      c->want, ret < 0 ? error : "");
	if (ret < 0) {
		ck_assert_msg(error != NULL && *error != '\0', "%s: no error text", c->name);
		return;
	}
	ck_assert_msg(consumed == c->consumed, "%s: consumed got %zu, want %zu",
		      c->name, consumed, c->consumed);
	ck_assert_msg(hdr.version == c->version, "%s: version got %u, want %u",
		      c->name, hdr.version, c->version);
	ck_assert_msg(hdr.local == c->local, "%s: local got %d", c->name, hdr.local);
	ck_assert_msg(hdr.family == c->family, "%s: family got %d, want %d",
		      c->name, hdr.family, c->family);
	ck_assert_msg(strcmp(hdr.src_ip, c->src_ip) == 0 &&
		      strcmp(hdr.dst_ip, c->dst_ip) == 0,
		      "%s: got %s -> %s, want %s -> %s", c->name, hdr.src_ip,
		      hdr.dst_ip, c->src_ip, c->dst_ip);
	ck_assert_msg(hdr.src_port == c->src_port && hdr.dst_port == c->dst_port,
		      "%s: ports got %u/%u, want %u/%u", c->name, hdr.src_port,
		      hdr.dst_port, c->src_port, c->dst_port);
}
END_TEST

/* Every strict prefix of a valid header asks for more; a prefix of an
   invalid one never claims to be complete. */
START_TEST(test_proxy_truncated)
{
	const struct proxy_case *c = &proxy_cases[_i];
	size_t full = c->want == 1 ? c->consumed : c->len;

	for (size_t len = 0; len < full; len++) {
		struct proxy_header hdr;
		size_t consumed;
		const char *error;
		int ret = service_child_proxy_parse((const unsigned char *)c->bytes,
						    len, &hdr, &consumed, &error);

		if (c->want == 1)
			ck_assert_msg(ret == 0, "%s cut at %zu: got %d, want 0 (%s)",
				      c->name, len, ret, ret < 0 ? error : "");
		else
			ck_assert_msg(ret != 1, "%s cut at %zu: got 1", c->name, len);
	}
}
END_TEST

START_TEST(test_status_record)
{
	struct service_child_status in = { 4242, 17, 1ULL << 40 }, out;
	unsigned char buf[SERVICE_CHILD_STATUS_SIZE];

	service_child_status_encode(&in, buf);
	ck_assert_int_eq(service_child_status_decode(buf, sizeof(buf), &out), 0);
	ck_assert_uint_eq(out.pid, 4242);
	ck_assert_uint_eq(out.available, 17);
	ck_assert_uint_eq(out.served, 1ULL << 40);
	ck_assert_int_eq(service_child_status_decode(buf, sizeof(buf) - 1, &out), -1);
}
END_TEST

struct channel {
	struct evloop *loop;
	int fds[2];		/* [0] child end, [1] "master" end */
	bool gone;
};

/* channel_gone - master-gone callback */
static void channel_gone(void *context)
{
	struct channel *ch = context;

	ch->gone = true;
	evloop_stop(ch->loop);
}

/* channel_stop - timer: end evloop_run */
static int64_t channel_stop(struct evloop_timer *timer, void *context)
{
	evloop_stop(context);
	return EVLOOP_NOMORE;
}

/* channel_run - run the loop for msecs */
static void channel_run(struct channel *ch, unsigned int msecs)
{
	evloop_add_timer(ch->loop, msecs, channel_stop, ch->loop);
	ck_assert_int_eq(evloop_run(ch->loop), 0);
}

/* channel_read - one record, or false when none is waiting */
static bool channel_read(struct channel *ch, struct service_child_status *st)
{
	unsigned char buf[64];
	ssize_t ret = recv(ch->fds[1], buf, sizeof(buf), MSG_DONTWAIT);

	if (ret < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		return false;
	}
	ck_assert_int_eq(service_child_status_decode(buf, (size_t)ret, st), 0);
	ck_assert_uint_eq(st->pid, (uint32_t)getpid());
	return true;
}

START_TEST(test_status_channel)
{
	struct channel ch = { .loop = evloop_create() };
	struct service_child *child;
	struct service_child_status st;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch.fds), 0);
	child = service_child_create(ch.loop, ch.fds[0], channel_gone, &ch);
	/* the first record goes out at once */
	service_child_report(child, 1, 4, 1);
	ck_assert(channel_read(&ch, &st));
	ck_assert_uint_eq(st.available, 4);
	ck_assert_uint_eq(st.served, 1);
	/* within the interval: held back, then only the latest is sent */
	service_child_report(child, 2, 3, 2);
	service_child_report(child, 2, 3, 3);
	ck_assert(!channel_read(&ch, &st));
	channel_run(&ch, SERVICE_CHILD_STATUS_INTERVAL_MSECS + 50);
	ck_assert(channel_read(&ch, &st));
	ck_assert_uint_eq(st.available, 3);
	ck_assert_uint_eq(st.served, 3);
	ck_assert(!channel_read(&ch, &st));
	/* no slot left and idle are urgent; an unchanged state is not sent */
	service_child_report(child, 5, 0, 5);
	ck_assert(channel_read(&ch, &st));
	ck_assert_uint_eq(st.available, 0);
	service_child_report(child, 0, 5, 5);
	ck_assert(channel_read(&ch, &st));
	ck_assert_uint_eq(st.available, 5);
	service_child_report(child, 0, 5, 5);
	ck_assert(!channel_read(&ch, &st));
	/* the master's end closes: reported once */
	close(ch.fds[1]);
	channel_run(&ch, 500);
	ck_assert(ch.gone);
	service_child_report(child, 1, 4, 6);
	service_child_free(&child);
	ck_assert_ptr_null(child);
	close(ch.fds[0]);
	evloop_free(&ch.loop);
}
END_TEST

struct user_case {
	const char *name;
	int want;
	uid_t uid;
	const char *error;
};

static const struct user_case user_cases[] = {
	{ "root", 0, 0, NULL },
	{ "0", 0, 0, NULL },
	{ "nobody", 0, 65534, NULL },
	{ "no-such-user-loft", -1, 0, "user no-such-user-loft does not exist" },
};

START_TEST(test_lookup_user)
{
	const struct user_case *c = &user_cases[_i];
	const char *error = NULL;
	uid_t uid = 1;
	gid_t gid;
	int ret = service_child_lookup_user(c->name, &uid, &gid, &error);

	ck_assert_msg(ret == c->want, "%s: got %d, want %d", c->name, ret, c->want);
	if (ret == 0)
		ck_assert_msg(uid == c->uid, "%s: uid got %u, want %u", c->name,
			      (unsigned int)uid, (unsigned int)c->uid);
	else
		ck_assert_str_eq(error, c->error);
}
END_TEST

START_TEST(test_lookup_group)
{
	const char *error = NULL;
	gid_t gid = 1;

	ck_assert_int_eq(service_child_lookup_group("root", &gid, &error), 0);
	ck_assert_uint_eq(gid, 0);
	ck_assert_int_eq(service_child_lookup_group("123", &gid, &error), 0);
	ck_assert_uint_eq(gid, 123);
	ck_assert_int_eq(service_child_lookup_group("no-such-group-loft", &gid, &error), -1);
	ck_assert_str_eq(error, "group no-such-group-loft does not exist");
}
END_TEST

/* add_service - a service block with user, chroot and vsz_limit */
static void add_service(struct loft_settings *set, const char *name,
			const char *user, const char *chroot_dir,
			const char *vsz_limit)
{
	const struct setting_def *defs = loft_service_setting_defs;
	struct service_settings *svc;
	const char *error;

	set->services = xreallocarray(set->services, set->service_count + 1,
				      sizeof(*set->services));
	svc = &set->services[set->service_count++];
	memset(svc, 0, sizeof(*svc));
	settings_defs_init(defs, svc);
	svc->name = xstrdup(name);
	svc->file = xstrdup("test");
	ck_assert_int_eq(setting_parse_value(setting_find(defs, "user"), svc, user, &error), 0);
	ck_assert_int_eq(setting_parse_value(setting_find(defs, "chroot"), svc,
					     chroot_dir, &error), 0);
	ck_assert_int_eq(setting_parse_value(setting_find(defs, "vsz_limit"), svc,
					     vsz_limit, &error), 0);
}

struct check_case {
	const char *service, *user;
	const char *error;	/* NULL: allowed */
};

static const struct check_case check_cases[] = {
	{ "stats", "root", "service(stats): user=root is not allowed" },
	{ "stats", "0", "service(stats): user=0 is not allowed" },
	{ "stats", "", "service(stats): user=root is not allowed" },
	{ "stats", "nobody", NULL },
	{ "lmtp", "", NULL },
	{ "lmtp", "root", NULL },
	{ "lmtp", "no-such-user-loft",
	  "service(lmtp): user=no-such-user-loft: user no-such-user-loft does not exist" },
};

START_TEST(test_check_user)
{
	const struct check_case *c = &check_cases[_i];
	struct loft_settings set;
	const char *error = NULL;
	int ret;

	settings_init(&set);
	add_service(&set, c->service, c->user, "", "0");
	ret = service_child_check_user(&set.services[0], &error);
	if (c->error == NULL)
		ck_assert_msg(ret == 0, "%s/%s: got error %s", c->service, c->user, error);
	else
		ck_assert_msg(ret == -1 && strcmp(error, c->error) == 0,
			      "%s/%s: got %d '%s', want '%s'", c->service, c->user,
			      ret, ret < 0 ? error : "", c->error);
	settings_free(&set);
}
END_TEST

/* drop_in_child - service_child_drop_privileges() in a forked child:
   the child's exit code says which check failed (0 = all good) */
static int drop_in_child(const struct loft_settings *set, const char *name)
{
	const char *error;
	struct rlimit rl;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (service_child_drop_privileges(set, name, &error) < 0)
			_exit(strcmp(error, "service(stats): user=root is not allowed") == 0 ?
			      10 : 11);
		if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534)
			_exit(2);
		if (setuid(0) == 0)
			_exit(3);
		if (getrlimit(RLIMIT_AS, &rl) < 0)
			_exit(4);
#ifndef __SANITIZE_ADDRESS__
		if (rl.rlim_cur != 512ULL * 1024 * 1024)
			_exit(5);
#endif
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_drop_privileges)
{
	struct loft_settings set;
	const char *error;

	if (geteuid() != 0)
		return;
	settings_init(&set);
	add_service(&set, "lmtp", "nobody", "/", "512M");
	add_service(&set, "stats", "root", "", "0");
	ck_assert_int_eq(drop_in_child(&set, "lmtp"), 0);
	ck_assert_int_eq(drop_in_child(&set, "stats"), 10);
	ck_assert_int_eq(service_child_drop_privileges(&set, "none", &error), -1);
	ck_assert_str_eq(error, "service(none): not in the configuration");
	settings_free(&set);
}
END_TEST

/* Dovecot's service page: vsz_limit 0 is no limit, 2^64-1 (the default)
   is default_vsz_limit; a relative chroot is relative to base_dir */
START_TEST(test_vsz_limit_and_chroot)
{
	struct loft_settings set;
	char *path;

	settings_init(&set);
	add_service(&set, "a", "", "", "0");
	add_service(&set, "b", "", "empty", "18446744073709551615");
	add_service(&set, "c", "", "/srv/jail", "1G");
	ck_assert_uint_eq(set.services[1].vsz_limit, SERVICE_VSZ_LIMIT_DEFAULT);
	ck_assert_uint_eq(service_child_vsz_limit(&set, &set.services[0]), 0);
	ck_assert_uint_eq(service_child_vsz_limit(&set, &set.services[1]),
			  256ULL << 20);
	ck_assert_uint_eq(service_child_vsz_limit(&set, &set.services[2]),
			  1ULL << 30);
	ck_assert_uint_eq(service_child_vsz_limit(&set, NULL), 256ULL << 20);
	ck_assert_ptr_null(service_child_chroot_path(&set, &set.services[0]));
	path = service_child_chroot_path(&set, &set.services[1]);
	ck_assert_str_eq(path, LOFT_BASE_DIR "/empty");
	free(path);
	path = service_child_chroot_path(&set, &set.services[2]);
	ck_assert_str_eq(path, "/srv/jail");
	free(path);
	settings_free(&set);
}
END_TEST

static Suite *service_child_suite(void)
{
	Suite *s = suite_create("service_child");
	TCase *tc = tcase_create("proxy");

	tcase_add_loop_test(tc, test_proxy_parse, 0, N_CASES(proxy_cases));
	tcase_add_loop_test(tc, test_proxy_truncated, 0, N_CASES(proxy_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("status");
	tcase_add_test(tc, test_status_record);
	tcase_add_test(tc, test_status_channel);
	suite_add_tcase(s, tc);
	tc = tcase_create("privileges");
	tcase_add_loop_test(tc, test_lookup_user, 0, N_CASES(user_cases));
	tcase_add_test(tc, test_lookup_group);
	tcase_add_loop_test(tc, test_check_user, 0, N_CASES(check_cases));
	tcase_add_test(tc, test_drop_privileges);
	tcase_add_test(tc, test_vsz_limit_and_chroot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(service_child_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
