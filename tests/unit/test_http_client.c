/*
 * test_http_client - unit tests for lib/http_client: host names and URLs
 * as loftadm -H and fleet { } take them, query encoding, and the
 * response parser (Content-Length, chunked, to end of connection, 1xx
 * skipped, partial input, and what is refused); a request to a real
 * socket (a thread answering once) checks the bytes sent.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "http_client.h"

START_TEST(test_urls)
{
	static const struct {
		const char *in, *host;
		unsigned int port;
	} good[] = {
		{ "http://10.0.0.1:9191", "10.0.0.1", 9191 },
		{ "http://10.0.0.1:9191/", "10.0.0.1", 9191 },
		{ "HTTP://mx1.example.com", "mx1.example.com", 9190 },
		{ "mx1.example.com:80", "mx1.example.com", 80 },
		{ "mx1", "mx1", 9190 },
		{ "[::1]:9000", "::1", 9000 },
		{ "http://[fe80::1]", "fe80::1", 9190 },
		{ "127.0.0.2:65535", "127.0.0.2", 65535 },
	};
	static const char *const bad[] = {
		"https://mx1", "ftp://mx1", "http://mx1/api", "mx1?x=1",
		"http://user@mx1", "", "http://", ":9190", "mx1:0", "mx1:65536",
		"mx1:12a", "mx1:", "[::1", "[::1]x", "mx 1", "a:b:c", "mx1:123456",
	};
	struct http_url url;
	const char *error;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(http_url_parse(good[i].in, 9190, &url, &error) == 0,
			      "%s: %s", good[i].in, error);
		ck_assert_str_eq(url.host, good[i].host);
		ck_assert_uint_eq(url.port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		ck_assert_msg(http_url_parse(bad[i], 9190, &url, &error) < 0,
			      "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(error);
	}
}
END_TEST

START_TEST(test_host_header_and_query)
{
	struct http_url url;
	struct strbuf buf;
	const char *error;

	strbuf_init(&buf, 64);
	ck_assert_int_eq(http_url_parse("[::1]:9190", 1, &url, &error), 0);
	http_url_host_header(&url, &buf);
	ck_assert_str_eq(buf.data, "[::1]:9190");
	strbuf_reset(&buf);
	strbuf_append_str(&buf, "/api/v1/who");
	http_query_append(&buf, "mask", "user*@example.com");
	http_query_append(&buf, "since", "30 min");
	http_query_append(&buf, "msgid", "<a&b=c@x>");
	ck_assert_str_eq(buf.data, "/api/v1/who?mask=user%2A%40example.com"
			 "&since=30%20min&msgid=%3Ca%26b%3Dc%40x%3E");
	strbuf_free(&buf);
}
END_TEST

START_TEST(test_responses)
{
	static const struct {
		const char *in;
		bool eof;
		unsigned int status;
		const char *body;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]", false, 200, "[]" },
		{ "HTTP/1.0 401 Unauthorized\nContent-Length:  5 \n\n{\"e\"}", false,
		  401, "{\"e\"}" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3;x=y\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nX-T: 1\r\n\r\n", false, 200,
		  "{\"a\":1}" },
		{ "HTTP/1.1 200 OK\r\n\r\nuntil the end", true, 200, "until the end" },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		  false, 204, "" },
		{ "HTTP/1.1 503\r\ncontent-length: 0\r\n\r\n", false, 503, "" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		  false, 200, "ok" },
	};
	static const char *const incomplete[] = {
		"", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	};
	static const char *const refused[] = {
		"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 x\r\n\r\n", "HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
	};
	struct http_response resp;
	const char *error;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);

		ck_assert_msg(http_response_parse(cases[i].in, len, cases[i].eof,
						  &resp, &error) == 1,
			      "case %zu: %s", i, error);
		ck_assert_uint_eq(resp.status, cases[i].status);
		ck_assert_str_eq(resp.body, cases[i].body);
		ck_assert_uint_eq(resp.body_len, strlen(cases[i].body));
		http_response_free(&resp);
		/* every shorter read is "more needed" (cases not ended by EOF) */
		for (size_t cut = 0; !cases[i].eof && cut < len; cut++)
			ck_assert_msg(http_response_parse(cases[i].in, cut, false,
							  &resp, &error) == 0,
				      "case %zu cut %zu", i, cut);
	}
	/* a body without a length ends with the connection only */
	ck_assert_int_eq(http_response_parse("HTTP/1.1 200 OK\r\n\r\nab", 21,
					     false, &resp, &error), 0);
	for (size_t i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]); i++) {
		const char *in = incomplete[i];

		ck_assert_int_eq(http_response_parse(in, strlen(in), false,
						     &resp, &error), 0);
		error = NULL;
		ck_assert_int_lt(http_response_parse(in, strlen(in), true,
						     &resp, &error), 0);
		ck_assert_ptr_nonnull(error);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		error = NULL;
		ck_assert_msg(http_response_parse(refused[i], strlen(refused[i]),
						  false, &resp, &error) < 0,
			      "accepted %s", refused[i]);
		ck_assert_ptr_nonnull(error);
	}
}
END_TEST

START_TEST(test_header_limit)
{
	size_t len = HTTP_RESPONSE_MAX_HEADER + 100;
	char *big = malloc(len);
	struct http_response resp;
	const char *error;

	memset(big, 'a', len);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	ck_assert_int_lt(http_response_parse(big, len, false, &resp, &error), 0);
	free(big);
}
END_TEST

/* The peer of test_request: reads one request, answers, closes. */
struct peer {
	int listen_fd;
	char request[4096];
	const char *answer;
};

static void *peer_run(void *context)
{
	struct peer *p = context;
	size_t got = 0;
	ssize_t n;
	int fd = accept(p->listen_fd, NULL, NULL);

	while (fd >= 0 && got < sizeof(p->request) - 1 &&
	       (strstr(p->request, "\r\n\r\n") == NULL ||
		(strstr(p->request, "POST") == p->request &&
		 strchr(strstr(p->request, "\r\n\r\n"), '}') == NULL)) &&
	       (n = read(fd, p->request + got, sizeof(p->request) - 1 - got)) > 0)
		got += (size_t)n;
	if (fd >= 0) {
		if (p->answer != NULL)
			ck_assert_int_eq(write(fd, p->answer, strlen(p->answer)),
					 (ssize_t)strlen(p->answer));
		else	/* never answers: waits until the client gives up */
			while (read(fd, p->request, 1) > 0)
				;
		close(fd);
	}
	return NULL;
}

/* request - run req against a peer answering answer */
static int request(const struct http_request *req, const char *answer,
		   unsigned int timeout, struct peer *p,
		   struct http_response *resp, const char **error)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct http_url url;
	pthread_t thread;
	char name[64];
	int ret;

	memset(p, 0, sizeof(*p));
	p->answer = answer;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(p->listen_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(p->listen_fd, 1), 0);
	ck_assert_int_eq(getsockname(p->listen_fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(name, sizeof(name), "127.0.0.1:%u", ntohs(sin.sin_port));
	ck_assert_int_eq(http_url_parse(name, 1, &url, error), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, peer_run, p), 0);
	ret = http_client_call(&url, req, timeout, resp, error);
	pthread_join(thread, NULL);
	close(p->listen_fd);
	return ret;
}

START_TEST(test_request)
{
	struct http_request req = {
		.method = "POST", .path = "/api/v1/kick", .bearer = "k3y",
		.body = "{\"mask\":[\"a\"]}",
	};
	struct http_response resp;
	struct peer p;
	const char *error;

	ck_assert_int_eq(request(&req, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
				 "\r\n{\"kicked\":[]}", 5000, &p, &resp, &error), 0);
	ck_assert_uint_eq(resp.status, 200);
	ck_assert_str_eq(resp.body, "{\"kicked\":[]}");
	http_response_free(&resp);
	ck_assert_ptr_nonnull(strstr(p.request, "POST /api/v1/kick HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(p.request, "\r\nHost: 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(p.request, "\r\nAuthorization: Bearer k3y\r\n"));
	ck_assert_ptr_nonnull(strstr(p.request, "\r\nContent-Length: 14\r\n"));
	ck_assert_ptr_nonnull(strstr(p.request, "\r\n\r\n{\"mask\":[\"a\"]}"));

	/* a peer that never answers: the deadline */
	req.method = "GET";
	req.body = NULL;
	ck_assert_int_lt(request(&req, NULL, 300, &p, &resp, &error), 0);
	ck_assert_ptr_nonnull(strstr(error, "no answer in time"));
	/* a key that would split the header is never sent */
	req.bearer = "k\r\nX-Evil: 1";
	ck_assert_int_lt(http_client_call(&(struct http_url){ "127.0.0.1", 9 },
					  &req, 100, &resp, &error), 0);
	ck_assert_ptr_nonnull(strstr(error, "control character"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_client");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_urls);
	tcase_add_test(tc, test_host_header_and_query);
	tcase_add_test(tc, test_responses);
	tcase_add_test(tc, test_header_limit);
	tcase_add_test(tc, test_request);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
