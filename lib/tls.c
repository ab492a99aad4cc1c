/*
 * tls - the SSL_CTXs built from the ssl_* settings (a server's, and the
 * LMTP proxy's as a client), and one non-blocking connection over either
 * (see tls.h).
 *
 * Certificates, keys, CAs and DH parameters arrive as PEM text (the config
 * reader has already read each `<file`), so they are parsed from memory:
 * loftd reads the files as root and a service process needs no access to
 * them.
 */
#include "tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "evloop.h"
#include "xalloc.h"

#define TLS_SESSION_ID_CONTEXT "loft"

struct tls_server {
	SSL_CTX *ctx;
	char serial[128];
};

struct tls_client {
	SSL_CTX *ctx;
	bool require_valid_cert;
};

struct tls_conn {
	SSL *ssl;
	bool client;		/* the connecting side */
	/* what the handshake, a read or a write waits for (EVLOOP_*) */
	unsigned int handshake_events, read_events, write_events;
	bool handshake_done;
	bool failed;		/* a fatal error: no close_notify */
	char error[256];
	char desc[160];
};

static __thread char tls_error_buf[512];

static const char *tls_fail(const char *fmt, ...) LOFT_ATTR_FORMAT(1, 2);

/* tls_fail - format the message, add OpenSSL's last error (if any) and
   clear its queue; returns the text */
static const char *tls_fail(const char *fmt, ...)
{
	unsigned long err = ERR_peek_last_error();
	va_list args;
	size_t len;

	va_start(args, fmt);
	vsnprintf(tls_error_buf, sizeof(tls_error_buf), fmt, args);
	va_end(args);
	len = strlen(tls_error_buf);
	if (err != 0 && len + 3 < sizeof(tls_error_buf)) {
		snprintf(tls_error_buf + len, sizeof(tls_error_buf) - len, ": ");
		ERR_error_string_n(err, tls_error_buf + len + 2,
				   sizeof(tls_error_buf) - len - 2);
	}
	ERR_clear_error();
	return tls_error_buf;
}

/* tls_pem_hint - Dovecot's hint when a setting holds a path, not PEM */
static const char *tls_pem_hint(const char *name, const char *value)
{
	static __thread char hint[300];

	if (strstr(value, "-----BEGIN") != NULL)
		return "";
	snprintf(hint, sizeof(hint), " (You probably forgot '<' from %s=<%.200s)",
		 name, value);
	return hint;
}

/* tls_eof_expected - the PEM reader ran out of input: not an error */
static bool tls_eof_expected(void)
{
	unsigned long err = ERR_peek_last_error();

	if (ERR_GET_LIB(err) == ERR_LIB_PEM &&
	    ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return true;
	}
	return err == 0;
}

/* tls_load_cert - the certificate, then its chain, from PEM text (name:
   the setting, for messages); the first one's serial is kept */
static int tls_load_cert(struct tls_server *server, const char *name,
			 const char *pem, const char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert, *extra;
	BIGNUM *bn;
	char *hex;
	int ret = 0;

	cert = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	if (cert == NULL) {
		*error_r = tls_fail("%s: not a PEM certificate%s", name,
				    tls_pem_hint(name, pem));
		BIO_free(bio);
		return -1;
	}
	if (server->serial[0] == '\0') {
		bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), NULL);
		hex = bn == NULL ? NULL : BN_bn2hex(bn);
		snprintf(server->serial, sizeof(server->serial), "%s",
			 hex != NULL ? hex : "?");
		OPENSSL_free(hex);
		BN_free(bn);
	}
	if (SSL_CTX_use_certificate(server->ctx, cert) != 1) {
		*error_r = tls_fail("%s: certificate refused", name);
		ret = -1;
	}
	X509_free(cert);
	while (ret == 0 &&
	       (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(server->ctx, extra) != 1) {
			X509_free(extra);
			*error_r = tls_fail("%s: chain certificate refused", name);
			ret = -1;
		}
	}
	if (ret == 0 && !tls_eof_expected()) {
		*error_r = tls_fail("%s: bad chain certificate", name);
		ret = -1;
	}
	BIO_free(bio);
	return ret;
}

/* tls_password_cb - hands OpenSSL ssl_key_password; none set: fail */
static int tls_password_cb(char *buf, int size, int rwflag, void *context)
{
	const char *password = context;
	size_t len = strlen(password);

	(void)rwflag;
	if (len == 0 || len >= (size_t)size)
		return -1;
	memcpy(buf, password, len);
	return (int)len;
}

/* tls_load_key - the private key of the certificate loaded last (name:
   the key's setting, cert_name its certificate's) */
static int tls_load_key(SSL_CTX *ctx, const char *name, const char *cert_name,
			const char *pem, const char *password,
			const char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key;
	int ret = 0;

	key = PEM_read_bio_PrivateKey(bio, NULL, tls_password_cb,
				      (void *)password);
	BIO_free(bio);
	if (key == NULL) {
		if (strstr(pem, "ENCRYPTED") != NULL && *password == '\0')
			*error_r = tls_fail("%s: the key is encrypted and "
					    "ssl_key_password is not set", name);
		else
			*error_r = tls_fail("%s: not a PEM private key%s", name,
					    tls_pem_hint(name, pem));
		return -1;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		unsigned long err = ERR_peek_last_error();
		bool mismatch = ERR_GET_LIB(err) == ERR_LIB_X509 &&
			(ERR_GET_REASON(err) == X509_R_KEY_VALUES_MISMATCH ||
			 ERR_GET_REASON(err) == X509_R_KEY_TYPE_MISMATCH);

		*error_r = mismatch ?
			tls_fail("%s: does not match %s", name, cert_name) :
			tls_fail("%s: key refused", name);
		ret = -1;
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = tls_fail("%s: does not match %s", name, cert_name);
		ret = -1;
	}
	EVP_PKEY_free(key);
	return ret;
}

/* tls_load_ca - trust these CAs for client certificates and name them
   in the certificate request */
static int tls_load_ca(SSL_CTX *ctx, const char *pem, const char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	unsigned int count = 0;
	X509 *ca;
	int ret = 0;

	while (ret == 0 && (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, ca) != 1 ||
		    SSL_CTX_add_client_CA(ctx, ca) != 1) {
			*error_r = tls_fail("ssl_ca: certificate refused");
			ret = -1;
		}
		X509_free(ca);
		count++;
	}
	if (ret == 0 && (!tls_eof_expected() || count == 0)) {
		*error_r = tls_fail("ssl_ca: no PEM certificate%s",
				    tls_pem_hint("ssl_ca", pem));
		ret = -1;
	}
	BIO_free(bio);
	return ret;
}

static int tls_load_dh(SSL_CTX *ctx, const char *pem, const char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *dh = PEM_read_bio_Parameters(bio, NULL);

	BIO_free(bio);
	if (dh == NULL) {
		*error_r = tls_fail("ssl_dh: no PEM DH parameters%s",
				    tls_pem_hint("ssl_dh", pem));
		return -1;
	}
	if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
		EVP_PKEY_free(dh);
		*error_r = tls_fail("ssl_dh: parameters refused");
		return -1;
	}
	return 0;
}

/* tls_protocol_version - ssl_min_protocol as OpenSSL's version number (0:
   the oldest OpenSSL supports) */
static int tls_protocol_version(const char *name)
{
	static const struct { const char *name; int version; } versions[] = {
		{ "SSLv3", SSL3_VERSION }, { "TLSv1", TLS1_VERSION },
		{ "TLSv1.1", TLS1_1_VERSION }, { "TLSv1.2", TLS1_2_VERSION },
		{ "TLSv1.3", TLS1_3_VERSION }, { "LATEST", TLS1_3_VERSION },
		{ "ANY", 0 },
	};

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (strcmp(versions[i].name, name) == 0)
			return versions[i].version;
	}
	return -1;
}

/* tls_options - ssl_options as SSL_OP_* bits; -1 for an unknown word */
static long tls_options(const char *value, const char **error_r)
{
	char *copy = xstrdup(value), *save = NULL;
	long options = 0;

	for (char *word = strtok_r(copy, " ,", &save); word != NULL;
	     word = strtok_r(NULL, " ,", &save)) {
		if (strcmp(word, "no_compression") == 0) {
			options |= SSL_OP_NO_COMPRESSION;
		} else if (strcmp(word, "no_ticket") == 0) {
			options |= SSL_OP_NO_TICKET;
		} else {
			*error_r = tls_fail("ssl_options: unknown option %s "
					    "(known: no_compression no_ticket)",
					    word);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return options;
}

/* tls_ctx_ciphers - ssl_min_protocol, ssl_cipher_list and
   ssl_cipher_suites, for either side */
static int tls_ctx_ciphers(SSL_CTX *ctx, const struct loft_settings *set,
			   const char **error_r)
{
	int version = tls_protocol_version(set->ssl_min_protocol);

	if (version < 0 || SSL_CTX_set_min_proto_version(ctx, version) != 1) {
		*error_r = tls_fail("ssl_min_protocol: %s is not supported",
				    set->ssl_min_protocol);
		return -1;
	}
	if (SSL_CTX_set_cipher_list(ctx, set->ssl_cipher_list) != 1) {
		*error_r = tls_fail("ssl_cipher_list: no usable cipher in %s",
				    set->ssl_cipher_list);
		return -1;
	}
	if (*set->ssl_cipher_suites != '\0' &&
	    SSL_CTX_set_ciphersuites(ctx, set->ssl_cipher_suites) != 1) {
		*error_r = tls_fail("ssl_cipher_suites: no usable suite in %s",
				    set->ssl_cipher_suites);
		return -1;
	}
	return 0;
}

/* tls_server_setup - everything but the certificate and key */
static int tls_server_setup(SSL_CTX *ctx, const struct loft_settings *set,
			    const char **error_r)
{
	long options = tls_options(set->ssl_options, error_r);

	if (options < 0)
		return -1;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_IGNORE_UNEXPECTED_EOF | (unsigned long)options |
			    (set->ssl_prefer_server_ciphers ?
			     SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	(void)SSL_CTX_set_session_id_context(ctx,
		(const unsigned char *)TLS_SESSION_ID_CONTEXT,
		sizeof(TLS_SESSION_ID_CONTEXT) - 1);
	if (tls_ctx_ciphers(ctx, set, error_r) < 0)
		return -1;
	if (*set->ssl_curve_list != '\0' &&
	    SSL_CTX_set1_groups_list(ctx, set->ssl_curve_list) != 1) {
		*error_r = tls_fail("ssl_curve_list: unknown group in %s",
				    set->ssl_curve_list);
		return -1;
	}
	if (*set->ssl_dh != '\0') {
		if (tls_load_dh(ctx, set->ssl_dh, error_r) < 0)
			return -1;
	} else {
		(void)SSL_CTX_set_dh_auto(ctx, 1);
	}
	if (*set->ssl_ca != '\0' && tls_load_ca(ctx, set->ssl_ca, error_r) < 0)
		return -1;
	if (set->ssl_verify_client_cert) {
		if (*set->ssl_ca == '\0') {
			*error_r = tls_fail("ssl_verify_client_cert = yes needs ssl_ca");
			return -1;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return 0;
}

/* tls_load_alt - ssl_alt_cert and ssl_alt_key, both or neither */
static int tls_load_alt(struct tls_server *server,
			const struct loft_settings *set, const char **error_r)
{
	if (*set->ssl_alt_cert == '\0' && *set->ssl_alt_key == '\0')
		return 0;
	if (*set->ssl_alt_cert == '\0' || *set->ssl_alt_key == '\0') {
		*error_r = tls_fail("ssl_alt_cert and ssl_alt_key go together");
		return -1;
	}
	if (tls_load_cert(server, "ssl_alt_cert", set->ssl_alt_cert, error_r) < 0)
		return -1;
	return tls_load_key(server->ctx, "ssl_alt_key", "ssl_alt_cert",
			    set->ssl_alt_key, set->ssl_key_password, error_r);
}

int tls_server_create(const struct loft_settings *set,
		      struct tls_server **server_r, const char **error_r)
{
	struct tls_server *server;

	if (*set->ssl_cert == '\0') {
		*error_r = tls_fail("ssl_cert is not set (ssl_cert = </path/cert.pem)");
		return -1;
	}
	if (*set->ssl_key == '\0') {
		*error_r = tls_fail("ssl_key is not set (ssl_key = </path/key.pem)");
		return -1;
	}
	ERR_clear_error();
	server = xcalloc(1, sizeof(*server));
	server->ctx = SSL_CTX_new(TLS_server_method());
	if (server->ctx == NULL) {
		*error_r = tls_fail("SSL_CTX_new() failed");
		free(server);
		return -1;
	}
	if (tls_server_setup(server->ctx, set, error_r) < 0 ||
	    tls_load_cert(server, "ssl_cert", set->ssl_cert, error_r) < 0 ||
	    tls_load_key(server->ctx, "ssl_key", "ssl_cert", set->ssl_key,
			 set->ssl_key_password, error_r) < 0 ||
	    tls_load_alt(server, set, error_r) < 0) {
		tls_server_free(&server);
		return -1;
	}
	*server_r = server;
	return 0;
}

void tls_server_free(struct tls_server **_server)
{
	struct tls_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	SSL_CTX_free(server->ctx);
	free(server);
}

const char *tls_server_cert_serial(const struct tls_server *server)
{
	return server->serial;
}

int tls_client_create(const struct loft_settings *set,
		      struct tls_client **client_r, const char **error_r)
{
	const char *file = set->ssl_client_ca_file, *dir = set->ssl_client_ca_dir;
	struct tls_client *client;
	int ret;

	ERR_clear_error();
	client = xcalloc(1, sizeof(*client));
	client->require_valid_cert = set->ssl_client_require_valid_cert;
	client->ctx = SSL_CTX_new(TLS_client_method());
	if (client->ctx == NULL) {
		*error_r = tls_fail("SSL_CTX_new() failed");
		free(client);
		return -1;
	}
	SSL_CTX_set_options(client->ctx, SSL_OP_NO_COMPRESSION |
			    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(client->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	ret = tls_ctx_ciphers(client->ctx, set, error_r);
	if (ret == 0 && *file == '\0' && *dir == '\0' &&
	    SSL_CTX_set_default_verify_paths(client->ctx) != 1) {
		*error_r = tls_fail("OpenSSL's default CA paths");
		ret = -1;
	} else if (ret == 0 && (*file != '\0' || *dir != '\0') &&
		   SSL_CTX_load_verify_locations(client->ctx,
			*file != '\0' ? file : NULL,
			*dir != '\0' ? dir : NULL) != 1) {
		*error_r = tls_fail("ssl_client_ca_%s: %s: no CA certificates "
				    "read", *file != '\0' ? "file" : "dir",
				    *file != '\0' ? file : dir);
		ret = -1;
	}
	if (ret < 0) {
		tls_client_free(&client);
		return -1;
	}
	*client_r = client;
	return 0;
}

void tls_client_free(struct tls_client **_client)
{
	struct tls_client *client = *_client;

	if (client == NULL)
		return;
	*_client = NULL;
	SSL_CTX_free(client->ctx);
	free(client);
}

bool tls_client_require_valid_cert(const struct tls_client *client)
{
	return client->require_valid_cert;
}

/* tls_conn_new - a connection's state over ctx on fd */
static struct tls_conn *tls_conn_new(SSL_CTX *ctx, int fd)
{
	struct tls_conn *conn = xcalloc(1, sizeof(*conn));

	conn->ssl = SSL_new(ctx);
	if (conn->ssl == NULL || SSL_set_fd(conn->ssl, fd) != 1)
		abort(); /* out of memory, as xmalloc() */
	conn->handshake_events = conn->read_events = EVLOOP_READ;
	conn->write_events = EVLOOP_WRITE;
	return conn;
}

struct tls_conn *tls_conn_create(struct tls_server *server, int fd)
{
	struct tls_conn *conn = tls_conn_new(server->ctx, fd);

	SSL_set_accept_state(conn->ssl);
	return conn;
}

struct tls_conn *tls_conn_create_client(struct tls_client *client, int fd,
					const char *host)
{
	struct tls_conn *conn = tls_conn_new(client->ctx, fd);
	unsigned char addr[16];
	bool numeric = host != NULL &&
		(inet_pton(AF_INET, host, addr) == 1 ||
		 inet_pton(AF_INET6, host, addr) == 1);

	conn->client = true;
	conn->handshake_events = EVLOOP_WRITE;
	SSL_set_connect_state(conn->ssl);
	if (host != NULL && !numeric)
		(void)SSL_set_tlsext_host_name(conn->ssl, host);
	if (host == NULL) {
		SSL_set_verify(conn->ssl, SSL_VERIFY_NONE, NULL);
		return conn;
	}
	/* the chain against the CAs, and the name (or address) in it */
	SSL_set_verify(conn->ssl, SSL_VERIFY_PEER, NULL);
	if (numeric) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl),
						  host) != 1)
			abort();
	} else {
		SSL_set_hostflags(conn->ssl,
				  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(conn->ssl, host) != 1)
			abort();
	}
	return conn;
}

void tls_conn_free(struct tls_conn **_conn)
{
	struct tls_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	if (conn->handshake_done && !conn->failed) {
		/* one non-blocking try; the peer may be gone already */
		(void)SSL_shutdown(conn->ssl);
	}
	ERR_clear_error();
	SSL_free(conn->ssl);
	free(conn);
}

/* tls_conn_result - what an SSL_* call that returned ret <= 0 means: 0
   would block (*events_r set, errno EAGAIN), 1 end of stream, -1 failure
   (conn->error set, errno set) */
static int tls_conn_result(struct tls_conn *conn, int ret, int saved_errno,
			   const char *what, unsigned int *events_r)
{
	int err = SSL_get_error(conn->ssl, ret);
	unsigned long ssl_err;

	switch (err) {
	case SSL_ERROR_WANT_READ:
		*events_r = EVLOOP_READ;
		errno = EAGAIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*events_r = EVLOOP_WRITE;
		errno = EAGAIN;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return 1;
	case SSL_ERROR_SYSCALL:
		conn->failed = true;
		if (ERR_peek_error() == 0) {
			snprintf(conn->error, sizeof(conn->error), "%s failed: %s",
				 what, saved_errno == 0 ? "Connection closed" :
				 strerror(saved_errno));
			ERR_clear_error();
			errno = saved_errno == 0 ? ECONNRESET : saved_errno;
			return -1;
		}
		break;
	default:
		conn->failed = true;
		break;
	}
	ssl_err = ERR_peek_last_error();
	snprintf(conn->error, sizeof(conn->error), "%s failed: ", what);
	if (ssl_err != 0) {
		size_t len = strlen(conn->error);

		ERR_error_string_n(ssl_err, conn->error + len,
				   sizeof(conn->error) - len);
	} else {
		snprintf(conn->error + strlen(conn->error),
			 sizeof(conn->error) - strlen(conn->error),
			 "SSL error %d", err);
	}
	ERR_clear_error();
	errno = EPROTO;
	return -1;
}

int tls_conn_handshake(struct tls_conn *conn, const char **error_r)
{
	int ret, result;

	const char *what = conn->client ? "SSL_connect()" : "SSL_accept()";
	long verify;

	if (conn->handshake_done)
		return 1;
	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(conn->ssl);
	if (ret == 1) {
		conn->handshake_done = true;
		return 1;
	}
	verify = SSL_get_verify_result(conn->ssl);
	result = tls_conn_result(conn, ret, errno, what,
				 &conn->handshake_events);
	if (result == 0)
		return 0;
	if (result == 1) {
		conn->failed = true;
		snprintf(conn->error, sizeof(conn->error),
			 "%s failed: Connection closed", what);
	} else if (conn->client && verify != X509_V_OK) {
		/* why the server's certificate was refused */
		snprintf(conn->error, sizeof(conn->error),
			 "%s failed: the server's certificate: %s", what,
			 X509_verify_cert_error_string(verify));
	}
	*error_r = conn->error;
	return -1;
}

ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t size)
{
	int ret, result;

	ERR_clear_error();
	errno = 0;
	ret = SSL_read(conn->ssl, buf, size > INT32_MAX ? INT32_MAX : (int)size);
	if (ret > 0) {
		conn->read_events = EVLOOP_READ;
		return ret;
	}
	result = tls_conn_result(conn, ret, errno, "SSL_read()",
				 &conn->read_events);
	if (result == 1)
		return 0;
	return -1;
}

ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t size)
{
	int ret;

	if (size == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	ret = SSL_write(conn->ssl, buf, size > INT32_MAX ? INT32_MAX : (int)size);
	if (ret > 0) {
		conn->write_events = EVLOOP_WRITE;
		return ret;
	}
	if (tls_conn_result(conn, ret, errno, "SSL_write()",
			    &conn->write_events) == 1) {
		/* the peer closed its side: nothing more can be sent */
		snprintf(conn->error, sizeof(conn->error),
			 "SSL_write() failed: Connection closed");
		errno = EPIPE;
	}
	return -1;
}

unsigned int tls_conn_events(const struct tls_conn *conn, bool reading,
			     bool writing)
{
	if (!conn->handshake_done)
		return conn->handshake_events;
	return (reading ? conn->read_events : 0) |
		(writing ? conn->write_events : 0);
}

const char *tls_conn_error(const struct tls_conn *conn)
{
	return conn->error[0] != '\0' ? conn->error : "unknown TLS error";
}

const char *tls_conn_describe(struct tls_conn *conn)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
	int alg_bits = 0, bits;

	if (cipher == NULL)
		return "no TLS";
	bits = SSL_CIPHER_get_bits(cipher, &alg_bits);
	snprintf(conn->desc, sizeof(conn->desc), "%s with cipher %s (%d/%d bits)",
		 SSL_get_version(conn->ssl), SSL_CIPHER_get_name(cipher), bits,
		 alg_bits);
	return conn->desc;
}
