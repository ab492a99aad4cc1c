/*
 * fuzz_lmtp_tls - libFuzzer target for the TLS side of LMTP sessions:
 * STARTTLS, `ssl = required`, the handshake on an `ssl = yes` listener,
 * and whatever a peer sends instead of (or in the middle of) a TLS
 * handshake. The real loft-lmtp server (lmtp_server, lmtp_session,
 * lmtp_tls, lib/tls with OpenSSL) listens on two loopback ports, a plain
 * one and an ssl = yes one, with ssl = required and a fixed test
 * certificate; the fuzzer is the client.
 *
 * The input's first byte picks the port (even: plain, odd: ssl = yes);
 * the rest is the client's byte stream, cut by marker bytes:
 *
 *   0xFE       send the chunk, then run the loop until nothing happens
 *   0xFF 'C'   close the connection now
 *   0xFF 0xFE/0xFF   that byte as data
 *
 * At the end the client closes and the loop runs until the session is
 * gone. Checked after every input, besides ASan, UBSan and LSan: the
 * session is gone and no descriptor leaked (a peer leaving in the middle
 * of a handshake frees everything).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "evloop.h"
#include "fuzz_util.h"
#include "lmtp_server.h"
#include "log_settings.h"
#include "settings.h"
#include "tls.h"

#define FUZZ_MARK_IDLE 0xFE
#define FUZZ_MARK_OP 0xFF
/* loop rounds before a connection must be accepted, or a pump ends */
#define FUZZ_END_ROUNDS 1000

/* a throw-away self-signed P-256 certificate for fuzzhost, for this
   target only */
static const char fuzz_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBazCCARCgAwIBAgIBTTAKBggqhkjOPQQDAjATMREwDwYDVQQDDAhmdXp6aG9z\n"
	"dDAgFw0yNjEyMDIwNzQ4MjFaGA8yMTI2MTEwODA3NDgyMVowEzERMA8GA1UEAwwI\n"
	"ZnV6emhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQdBXwZu4K7+KPvudYL\n"
	"FdAb47+WC4ltlS6a9R3t81RYRkejeuTDMtzz8hEB7RmWD3GC/ecpXYngc6w+Zsev\n"
	"t75eo1MwUTAdBgNVHQ4EFgQUq5L4fZNG3yI8roH7rRuUVib8SlYwHwYDVR0jBBgw\n"
	"FoAUq5L4fZNG3yI8roH7rRuUVib8SlYwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjO\n"
	"PQQDAgNJADBGAiEA9WOT4x7SWgG9jG7Y+bxbLC3ECzh2ID530BzsksRSKzkCIQCT\n"
	"EmUgbGPOHjfc9W8GYwViTzdc8+fH5GvC6bSnkj0zjg==\n"
	"-----END CERTIFICATE-----\n";
static const char fuzz_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRnmUm5JhiUgLtG3c\n"
	"NoMCf+4FOdnyFFVDMk9YUcfm/hWhRANCAAQdBXwZu4K7+KPvudYLFdAb47+WC4lt\n"
	"lS6a9R3t81RYRkejeuTDMtzz8hEB7RmWD3GC/ecpXYngc6w+Zsevt75e\n"
	"-----END PRIVATE KEY-----\n";

struct fuzz_env {
	struct loft_settings set;
	struct evloop *loop;
	struct lmtp_server *server;
	unsigned short ports[2];	/* plain, ssl = yes */
};

static struct fuzz_env env;

static void env_cleanup(void)
{
	if (env.server != NULL)
		lmtp_server_free(&env.server);
	if (env.loop != NULL)
		evloop_free(&env.loop);
	settings_free(&env.set);
}

/* listen_loopback - a listening socket on 127.0.0.1, any port */
static int listen_loopback(unsigned short *port_r)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FUZZ_CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	FUZZ_CHECK(listen(fd, 16) == 0);
	FUZZ_CHECK(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

/* env_init - settings (ssl = required, the test certificate), loop and a
   server on two loopback listeners */
static void env_init(void)
{
	struct tls_server *tls;
	const char *error;
	char *conf;

	signal(SIGPIPE, SIG_IGN);
	conf = xasprintf("base_dir = /nonexistent\n"
			 "hostname = fuzzhost\n"
			 "log_path = %s\n"
			 "ssl = required\n",
			 getenv("FUZZ_LMTP_TLS_VERBOSE") != NULL ?
			 "/dev/stderr" : "/dev/null");
	log_init("lmtp");
	FUZZ_CHECK(config_load_string("fuzz.conf", conf, "lmtp", &env.set,
				      &error) == 0);
	free(conf);
	FUZZ_CHECK(settings_set(&env.set, "ssl_cert", fuzz_cert_pem, &error) == 0);
	FUZZ_CHECK(settings_set(&env.set, "ssl_key", fuzz_key_pem, &error) == 0);
	log_configure_from(&env.set);
	FUZZ_CHECK(tls_server_create(&env.set, &tls, &error) == 0);
	env.loop = evloop_create();
	env.server = lmtp_server_create(env.loop, &env.set, 1);
	lmtp_server_set_tls(env.server, tls);
	lmtp_server_listen(env.server, listen_loopback(&env.ports[0]), false, false);
	lmtp_server_listen(env.server, listen_loopback(&env.ports[1]), false, true);
	atexit(env_cleanup);
}

/* drain - read and drop what the server sent */
static void drain(int fd)
{
	char buf[16384];

	while (fd >= 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* pump - run the loop until a round does nothing */
static void pump(int fd)
{
	for (unsigned int i = 0; i < FUZZ_END_ROUNDS; i++) {
		int calls = evloop_run_once(env.loop, 0);

		FUZZ_CHECK(calls >= 0);
		drain(fd);
		if (calls == 0)
			return;
	}
}

/* client_connect - a connection the server has accepted */
static int client_connect(unsigned short port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0);
	/* from 127.0.0.2: not local, so ssl = required applies */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	FUZZ_CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	FUZZ_CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	for (unsigned int i = 0; i < FUZZ_END_ROUNDS &&
	     lmtp_server_session_count(env.server) == 0; i++)
		FUZZ_CHECK(evloop_run_once(env.loop, 100) >= 0);
	FUZZ_CHECK(lmtp_server_session_count(env.server) == 1);
	return fd;
}

/* client_send - all of data, running the loop while the socket is full;
   false once the server no longer takes any */
static bool client_send(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t ret = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (ret > 0) {
			data += ret;
			len -= (size_t)ret;
		} else if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pump(fd);
			if (lmtp_server_session_count(env.server) == 0)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* wait_gone - run the loop until the session has ended (a job on the
   worker may hold it a while), 30 s at most */
static void wait_gone(void)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (lmtp_server_session_count(env.server) > 0) {
		FUZZ_CHECK(evloop_run_once(env.loop, 100) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 30) {
			fprintf(stderr, "fuzz_lmtp_tls: session still open, "
				"%u jobs pending\n",
				lmtp_server_jobs_pending(env.server));
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *chunk;
	size_t chunk_len = 0;
	unsigned int fds_before;
	bool open = true;
	int fd;

	if (env.loop == NULL)
		env_init();
	if (size == 0)
		return 0;
	fds_before = fuzz_count_fds();
	fd = client_connect(env.ports[data[0] & 1]);
	chunk = xmalloc(size);
	for (size_t i = 1; i < size && open; i++) {
		uint8_t b = data[i];

		if (b == FUZZ_MARK_IDLE) {
			open = client_send(fd, chunk, chunk_len);
			chunk_len = 0;
			pump(fd);
		} else if (b == FUZZ_MARK_OP && i + 1 < size) {
			uint8_t op = data[++i];

			if (op == FUZZ_MARK_IDLE || op == FUZZ_MARK_OP)
				chunk[chunk_len++] = op;
			else if (op == 'C')
				open = false;
		} else {
			chunk[chunk_len++] = b;
		}
	}
	if (open && chunk_len > 0)
		(void)client_send(fd, chunk, chunk_len);
	free(chunk);
	pump(fd);
	close(fd);
	wait_gone();
	FUZZ_CHECK(fuzz_count_fds() == fds_before);
	return 0;
}
