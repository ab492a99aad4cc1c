/*
 * fuzz_lmtp_session - stateful libFuzzer target for whole LMTP sessions.
 *
 * The real loft-lmtp server (lmtp_server, lmtp_session, lmtp_transaction,
 * lmtp_command, lmtp_data) serves one session per input over a socketpair;
 * userdb lookups and deliveries run on its real worker threads against a
 * passwd-file userdb and real maildirs in a private temp dir (tmpfs when
 * /dev/shm exists, mail_fsync = never). The fuzzer is the client.
 *
 * The input is the client's byte stream, cut into chunks by marker bytes:
 *
 *   0xFE       send the chunk, then run the loop until the session is idle
 *              (no job on the workers, nothing readable or writable left)
 *   0xFD       send the chunk and run one non-blocking loop round only, so
 *              the next chunk (or a disconnect) may arrive while a lookup
 *              or delivery is still running
 *   0xFF 'C'   close the client's socket (disconnect now, in any state)
 *   0xFF 'H'   shut down its write side (EOF; replies are still read)
 *   0xFF 'S'   lmtp_server_shutdown(): graceful (SIGTERM)
 *   0xFF 'Z'   lmtp_server_shutdown() at once (a second SIGTERM)
 *   0xFF 'K'   lmtp_server_kick() the session (`loftadm kick`)
 *   0xFF 0xFD/0xFE/0xFF   that byte as data
 *
 * The session's peer is 127.0.0.1, in login_trusted_networks: XCLIENT is
 * taken (its SESSION becomes the transactions' ids).
 *
 * Any other byte is data. At the end the client closes and the loop runs
 * until the session is gone.
 *
 * Sieve runs at every delivery (mail_plugins = quota sieve): a
 * sieve_before script for everyone (editheader: copies the Subject into a
 * header, deletes another), and the recipient's address chooses the
 * personal script: u1..u4 and quota@ have none, and each of the users
 * below has its own (fuzz_scripts[]) - fileinto a folder named from the
 * List-Id (a bad name fails the script: the implicit keep), discard,
 * reject, imap4flags (the message goes to cur/), more editheader,
 * fileinto :copy (two copies), redirect :copy and vacation (through
 * sendmail_path, a shell script that reads the message and drops it).
 *
 * Checked after every input, besides ASan, UBSan and LSan: the session is
 * gone and no job is left; no descriptor leaked; no file is left in a
 * maildir tmp/ or the spool dir; replies are well-formed lines and none
 * follows a 221 or 421; the reject user is never answered Saved; the
 * messages the "250 2.0.0 <rcpt> <id> Saved" replies stand for are in
 * the maildirs - per distinct id the copies its recipient's script makes,
 * in new/ or (flags) cur/ - and unless the client disconnected early
 * nothing else was stored (equal counts; at least after an XCLIENT
 * SESSION=, which a trusted peer may repeat).
 *
 * FUZZ_LMTP_SESSION_VERBOSE=1 in the environment prints every reply the
 * client read and sends the server's log to stderr, to follow a
 * reproducer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "evloop.h"
#include "lmtp_server.h"
#include "log.h"
#include "log_settings.h"
#include "settings.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CHECK - abort, which libFuzzer reports as a crash, unless cond */
#define FUZZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_lmtp_session: check failed: %s\n", #cond); \
	abort(); } } while (0)

/* after FUZZ_CHECK: fuzz_util.h keeps this one */
#include "fuzz_util.h"

#define FUZZ_MARK_IDLE 0xFE
#define FUZZ_MARK_ROUND 0xFD
#define FUZZ_MARK_OP 0xFF
/* replies kept for the Saved check; beyond this the check is skipped */
#define FUZZ_MAX_REPLIES (4 * 1024 * 1024)
#define FUZZ_WORKERS 2

struct fuzz_env {
	char dir[256];
	char vmail[300];
	char spool[300];
	struct loft_settings set;
	struct evloop *loop;
	struct lmtp_server *server;
	char session_id[64];	/* of the input's session, for 'K' */
	bool renamed;		/* XCLIENT: its transactions' ids forwarded */
};

/* the state of one input's connection */
struct fuzz_client {
	int fd;			/* the client's end, -1 once closed */
	bool write_shut;	/* 'H' done, or the server stopped reading */
	bool closed_early;	/* 'C' before the end of the input */
	bool shut_down;		/* the server was told to shut down */
	struct strbuf replies;
	bool replies_truncated;
};

static struct fuzz_env env;

/* The users with a personal script, and what one delivery to them
   stores: copies in new/, in cur/ (flags), and whether it is rejected. */
static const struct fuzz_script {
	const char *user;	/* local part at example.com */
	const char *script;
	unsigned int new_copies, cur_copies;
	bool rejects;
} fuzz_scripts[] = {
	{ "sfile", "require [\"fileinto\", \"mailbox\", \"variables\"];\n"
	  "if header :matches \"List-Id\" \"*<*.*>*\" {\n"
	  "  set :lower \"list\" \"${2}\";\n"
	  "  fileinto :create \"Lists/${list}\";\n"
	  "} elsif address :domain :is \"from\" \"spam.example\" {\n"
	  "  fileinto :create \"Junk\"; stop;\n"
	  "} else {\n"
	  "  fileinto :create \"Other\";\n"
	  "}\n", 1, 0, false },
	{ "sdiscard", "if size :over 0 { discard; stop; }\ndiscard;\n",
	  0, 0, false },
	{ "sreject", "require [\"reject\", \"variables\"];\n"
	  "if header :matches \"Subject\" \"*\" {\n"
	  "  reject \"not wanted: ${1}\";\n"
	  "} else {\n"
	  "  reject text:\nnot wanted,\r\n250 2.0.0 <x> y Saved\n.\n;\n"
	  "}\n", 0, 0, true },
	{ "sflags", "require [\"imap4flags\", \"variables\"];\n"
	  "addflag \"\\\\Seen\";\n"
	  "if header :matches \"Subject\" \"*\" { addflag \"${1}\"; }\n"
	  "if exists \"X-Flag\" { addflag [\"\\\\Flagged\", \"$label1\"]; }\n"
	  "keep;\n", 0, 1, false },
	{ "sedit", "require [\"editheader\", \"variables\", \"fileinto\"];\n"
	  "if header :matches \"From\" \"*\" { addheader :last \"X-From\" \"${1}\"; }\n"
	  "deleteheader :matches \"X-*\" \"*a*\";\n"
	  "deleteheader :index 1 \"Subject\";\n"
	  "addheader \"Subject\" \"edited\";\n"
	  "fileinto \"INBOX\";\n", 1, 0, false },
	{ "scopy", "require [\"fileinto\", \"copy\", \"mailbox\"];\n"
	  "fileinto :copy :create \"Copies\";\n", 2, 0, false },
	{ "ssend", "require [\"copy\", \"vacation\"];\n"
	  "redirect :copy \"elsewhere@example.net\";\n"
	  "vacation :days 1 :subject \"away\" :addresses \"ssend@example.com\" \"Away.\";\n",
	  1, 0, false },
};

/* script_of - the script whose user an address ("local[+detail]@domain",
   maybe quoted) names, or NULL (no personal script) */
static const struct fuzz_script *script_of(const char *addr, size_t len)
{
	char local[64];
	size_t n = 0;

	for (size_t i = 0; i < len && addr[i] != '@' && addr[i] != '+'; i++) {
		if (addr[i] == '"' || addr[i] == '\\')
			continue;
		if (n + 1 >= sizeof(local))
			return NULL;
		local[n++] = addr[i];
	}
	local[n] = '\0';
	for (size_t i = 0; i < LOFT_N_ELEMENTS(fuzz_scripts); i++) {
		if (strcasecmp(fuzz_scripts[i].user, local) == 0)
			return &fuzz_scripts[i];
	}
	return NULL;
}

/* write_file - create path with text, or abort */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fputs(text, f) >= 0);
	FUZZ_CHECK(fclose(f) == 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		(void)remove(path);
	return 0;
}

/* empty_dir - remove everything below path, keeping path */
static void empty_dir(const char *path)
{
	(void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void env_cleanup(void)
{
	if (env.server != NULL)
		lmtp_server_free(&env.server);
	if (env.dir[0] != '\0') {
		empty_dir(env.dir);
		(void)rmdir(env.dir);
	}
}

/* on_log_line - keep the id of the session that just connected: its
   "Connect from" line is "... lmtp<pid><id>: Info: Connect from ..."; an
   XCLIENT line ("...: XCLIENT: client IP:PORT, session ID, ttl N") says
   the transactions' ids are the peer's from now on */
static void on_log_line(enum log_level level, const char *line, void *context)
{
	const char *id, *end;

	(void)level;
	(void)context;
	if (strstr(line, ": XCLIENT: client ") != NULL)
		env.renamed = true;
	if (strstr(line, ": Connect from ") == NULL ||
	    (id = strstr(line, "><")) == NULL)
		return;
	id += 2;
	end = strchr(id, '>');
	if (end != NULL && (size_t)(end - id) < sizeof(env.session_id))
		snprintf(env.session_id, sizeof(env.session_id), "%.*s",
			 (int)(end - id), id);
}

/* env_server - a fresh server on the shared loop */
static void env_server(void)
{
	env.server = lmtp_server_create(env.loop, &env.set, FUZZ_WORKERS);
}

/* env_init - temp dir, users, config, logging, loop and server */
static void env_init(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	unsigned int uid = geteuid() == 0 ? 65534 : (unsigned int)geteuid();
	unsigned int gid = geteuid() == 0 ? 65534 : (unsigned int)getegid();
	char path[400], *conf, *users;
	const char *error;
	bool verbose = getenv("FUZZ_LMTP_SESSION_VERBOSE") != NULL;

	signal(SIGPIPE, SIG_IGN);
	snprintf(env.dir, sizeof(env.dir), "%s/loft-fuzz-session-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(env.dir) != NULL);
	/* the workers write as the users' uid below it */
	FUZZ_CHECK(chmod(env.dir, 0755) == 0);
	atexit(env_cleanup);
	snprintf(env.vmail, sizeof(env.vmail), "%s/vmail", env.dir);
	snprintf(env.spool, sizeof(env.spool), "%s/spool", env.dir);
	FUZZ_CHECK(mkdir(env.vmail, 0755) == 0);
	FUZZ_CHECK(mkdir(env.spool, 0700) == 0);
	FUZZ_CHECK(chown(env.vmail, uid, gid) == 0);
	/* a regular file where broken@'s home should be: its deliveries
	   tempfail */
	snprintf(path, sizeof(path), "%s/notadir", env.dir);
	write_file(path, "");

	/* four plain users, one with a tiny quota, one that cannot be
	   written; anyone else is unknown */
	users = xasprintf(
		"u1@example.com::%u:%u::::\n"
		"u2@example.com::%u:%u::::\n"
		"u3@example.com::%u:%u::::\n"
		"u4@example.com::%u:%u::::\n"
		"quota@example.com::%u:%u::::userdb_quota_rule=*:storage=200\n"
		"broken@example.com::%u:%u::%s/notadir/home::\n",
		uid, gid, uid, gid, uid, gid, uid, gid, uid, gid, uid, gid,
		env.dir);
	/* the Sieve users: their scripts live outside the maildirs the
	   inputs empty (userdb sieve= field) */
	for (size_t i = 0; i < LOFT_N_ELEMENTS(fuzz_scripts); i++) {
		char *more;

		snprintf(path, sizeof(path), "%s/%s.sieve", env.dir,
			 fuzz_scripts[i].user);
		write_file(path, fuzz_scripts[i].script);
		more = xasprintf("%s%s@example.com::%u:%u::::userdb_sieve=%s\n",
				 users, fuzz_scripts[i].user, uid, gid, path);
		free(users);
		users = more;
	}
	snprintf(path, sizeof(path), "%s/passwd", env.dir);
	write_file(path, users);
	free(users);
	snprintf(path, sizeof(path), "%s/before.sieve", env.dir);
	write_file(path, "require [\"editheader\", \"variables\"];\n"
		   "if header :matches \"Subject\" \"*\" {\n"
		   "  addheader \"X-Subject\" \"${1}\";\n"
		   "}\n"
		   "deleteheader \"X-Delete-Me\";\n");
	/* redirect and vacation: read the message, send nothing */
	snprintf(path, sizeof(path), "%s/sendmail", env.dir);
	write_file(path, "#!/bin/sh\nexec cat >/dev/null\n");
	FUZZ_CHECK(chmod(path, 0755) == 0);

	conf = xasprintf(
		"base_dir = %s\n"
		"hostname = fuzzhost\n"
		"log_path = %s\n"
		"mail_home = %s/%%d/%%n\n"
		"mail_location = maildir:~/Maildir\n"
		"mail_temp_dir = %s\n"
		"mail_fsync = never\n"
		"first_valid_uid = 1\n"
		"recipient_delimiter = +\n"
		"login_trusted_networks = 127.0.0.1\n"
		"lmtp_save_to_detail_mailbox = yes\n"
		"lda_mailbox_autocreate = yes\n"
		"lmtp_max_message_size = 20k\n"
		"lmtp_max_recipients = 12\n"
		"mail_plugins = quota sieve\n"
		"lmtp_rcpt_check_quota = yes\n"
		"sendmail_path = %s/sendmail\n"
		"plugin {\n"
		"  quota = maildir:User quota\n"
		"  quota_rule = *:storage=100M\n"
		"  sieve_before = %s/before.sieve\n"
		"  sieve_extensions = +editheader\n"
		"}\n"
		"userdb {\n"
		"  driver = passwd-file\n"
		"  args = %s/passwd\n"
		"}\n", env.dir, verbose ? "/dev/stderr" : "/dev/null",
		env.vmail, env.spool, env.dir, env.dir, env.dir);
	snprintf(path, sizeof(path), "%s/loft.conf", env.dir);
	write_file(path, conf);
	free(conf);

	log_init("lmtp");
	FUZZ_CHECK(config_load(path, "lmtp", &env.set, &error) == 0);
	log_configure_from(&env.set);
	log_set_capture(on_log_line, NULL);
	env.loop = evloop_create();
	env_server();
}

/* client_drain - read what the session has answered; bytes read */
static size_t client_drain(struct fuzz_client *c)
{
	char buf[65536];
	size_t total = 0;
	ssize_t ret;

	while (c->fd >= 0 &&
	       (ret = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		total += (size_t)ret;
		if (c->replies.len + (size_t)ret <= FUZZ_MAX_REPLIES)
			strbuf_append(&c->replies, buf, (size_t)ret);
		else
			c->replies_truncated = true;
	}
	return total;
}

/* pump - one round (idle false), or rounds until the session is idle: no
   job pending, nothing ready, nothing more answered */
static void pump(struct fuzz_client *c, bool idle)
{
	for (;;) {
		bool jobs = lmtp_server_jobs_pending(env.server) > 0;
		int calls = evloop_run_once(env.loop, idle && jobs ? -1 : 0);
		size_t got;

		FUZZ_CHECK(calls >= 0);
		got = client_drain(c);
		if (!idle)
			return;
		if (calls == 0 && got == 0 &&
		    lmtp_server_jobs_pending(env.server) == 0)
			return;
	}
}

/* client_send - write all of data, running the loop while the socket is
   full; stops when the session no longer reads (it closed) */
static void client_send(struct fuzz_client *c, const uint8_t *data,
			size_t len)
{
	while (len > 0 && c->fd >= 0 && !c->write_shut) {
		ssize_t ret = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (ret > 0) {
			data += ret;
			len -= (size_t)ret;
		} else if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the session reads nothing while it waits for a job
			   or once it quits: then it must end or go on */
			pump(c, true);
			if (lmtp_server_session_count(env.server) == 0)
				c->write_shut = true;
		} else {
			FUZZ_CHECK(ret < 0 && (errno == EPIPE || errno == ECONNRESET));
			c->write_shut = true;
		}
	}
}

/* client_close - the client hangs up */
static void client_close(struct fuzz_client *c)
{
	if (c->fd < 0)
		return;
	client_drain(c);
	close(c->fd);
	c->fd = -1;
}

/* run_op - a 0xFF operation */
static void run_op(struct fuzz_client *c, uint8_t op)
{
	switch (op) {
	case 'C':
		c->closed_early = true;
		client_close(c);
		break;
	case 'H':
		if (c->fd >= 0 && !c->write_shut)
			(void)shutdown(c->fd, SHUT_WR);
		c->write_shut = true;
		break;
	case 'K':
		if (env.session_id[0] != '\0')
			lmtp_server_kick(env.server, env.session_id);
		break;
	case 'S':
	case 'Z':
		lmtp_server_shutdown(env.server, op == 'Z', NULL, NULL);
		c->shut_down = true;
		break;
	default:
		break;
	}
}

static unsigned int stored_new, stored_cur, stored_tmp;

/* count_mail - files in maildir new/, cur/ and tmp/ folders */
static int count_mail(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	const char *parent_end = path + ftw->base - 1;
	const char *parent = parent_end;

	(void)st;
	if (flag != FTW_F || ftw->base < 5)
		return 0;
	while (parent > path && parent[-1] != '/')
		parent--;
	if (parent_end - parent == 3 && strncmp(parent, "new", 3) == 0)
		stored_new++;
	else if (parent_end - parent == 3 && strncmp(parent, "cur", 3) == 0)
		stored_cur++;
	else if (parent_end - parent == 3 && strncmp(parent, "tmp", 3) == 0)
		stored_tmp++;
	return 0;
}

/* saved_ids - distinct ids of "250 2.0.0 <addr> <id> Saved" replies (a
   duplicate recipient is answered with the first one's id), and the
   copies their recipients' scripts store in new/ and cur/ */
static unsigned int saved_ids(const struct strbuf *replies,
			      unsigned int *new_r, unsigned int *cur_r)
{
	char **ids = NULL;
	size_t count = 0;
	const char *p = replies->data, *end = p + replies->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;
		size_t len = (size_t)(line_end - p);

		if (len > 0 && line_end[-1] == '\r')
			len--;
		if (len > 16 && strncmp(p, "250 2.0.0 <", 11) == 0 &&
		    memcmp(p + len - 6, " Saved", 6) == 0) {
			const char *id_end = p + len - 6, *id = id_end;
			bool seen = false;

			while (id > p && id[-1] != ' ')
				id--;
			for (size_t i = 0; i < count && !seen; i++)
				seen = strlen(ids[i]) == (size_t)(id_end - id) &&
					memcmp(ids[i], id, (size_t)(id_end - id)) == 0;
			if (!seen) {
				const char *addr = p + 11;
				const char *addr_end = memchr(addr, '>',
							      (size_t)(id - addr));
				const struct fuzz_script *script;

				FUZZ_CHECK(addr_end != NULL);
				script = script_of(addr, (size_t)(addr_end - addr));
				FUZZ_CHECK(script == NULL || !script->rejects);
				*new_r += script == NULL ? 1 : script->new_copies;
				*cur_r += script == NULL ? 0 : script->cur_copies;
				ids = xreallocarray(ids, count + 1, sizeof(*ids));
				ids[count++] = xstrndup(id, (size_t)(id_end - id));
			}
		}
		p = line_end + (eol != NULL);
	}
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
	return (unsigned int)count;
}

/* check_replies - every reply line is "NNN " or "NNN-" text CRLF, and
   nothing follows a 221 or 421 (the session's last word); cut: the client
   hung up early, the last line may be incomplete */
static void check_replies(const struct strbuf *replies, bool cut)
{
	const char *p = replies->data, *end = p + replies->len;
	bool last_word = false;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL && cut)
			break;
		FUZZ_CHECK(eol != NULL && eol - p >= 5 && eol[-1] == '\r');
		FUZZ_CHECK(p[0] >= '2' && p[0] <= '5' &&
			   p[1] >= '0' && p[1] <= '9' &&
			   p[2] >= '0' && p[2] <= '9' &&
			   (p[3] == ' ' || p[3] == '-'));
		FUZZ_CHECK(!last_word);
		last_word = strncmp(p, "221 ", 4) == 0 || strncmp(p, "421 ", 4) == 0;
		p = eol + 1;
	}
}

/* check_outcome - what the session left behind matches what it said */
static void check_outcome(const struct fuzz_client *c)
{
	DIR *dir;
	struct dirent *d;
	unsigned int want_new = 0, want_cur = 0;

	stored_new = stored_cur = stored_tmp = 0;
	(void)nftw(env.vmail, count_mail, 16, FTW_PHYS);
	FUZZ_CHECK(stored_tmp == 0);
	dir = opendir(env.spool);
	FUZZ_CHECK(dir != NULL);
	while ((d = readdir(dir)) != NULL)
		FUZZ_CHECK(d->d_name[0] == '.');
	closedir(dir);
	if (c->replies_truncated)
		return;
	check_replies(&c->replies, c->closed_early);
	(void)saved_ids(&c->replies, &want_new, &want_cur);
	/* a trusted peer may give the same XCLIENT SESSION twice: then two
	   transactions may answer with one id */
	FUZZ_CHECK(want_new <= stored_new);
	FUZZ_CHECK(want_cur <= stored_cur);
	if (!c->closed_early && !env.renamed) {
		FUZZ_CHECK(want_new == stored_new);
		FUZZ_CHECK(want_cur == stored_cur);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client c = { .fd = -1 };
	struct strbuf chunk;
	unsigned int fds_before;
	int sv[2];

	if (env.loop == NULL)
		env_init();
	fds_before = fuzz_count_fds();
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	c.fd = sv[1];
	strbuf_init(&c.replies, 1024);
	strbuf_init(&chunk, 1024);
	env.session_id[0] = '\0';
	env.renamed = false;
	lmtp_server_add_client(env.server, sv[0], sv[0], "127.0.0.1", 2525);
	FUZZ_CHECK(env.session_id[0] != '\0');
	pump(&c, true);

	for (size_t i = 0; i < size; i++) {
		uint8_t b = data[i];

		if (b == FUZZ_MARK_IDLE || b == FUZZ_MARK_ROUND) {
			client_send(&c, (const uint8_t *)chunk.data, chunk.len);
			strbuf_reset(&chunk);
			pump(&c, b == FUZZ_MARK_IDLE);
		} else if (b == FUZZ_MARK_OP && i + 1 < size) {
			uint8_t op = data[++i];

			if (op == FUZZ_MARK_IDLE || op == FUZZ_MARK_ROUND ||
			    op == FUZZ_MARK_OP) {
				strbuf_putc(&chunk, (char)op);
				continue;
			}
			client_send(&c, (const uint8_t *)chunk.data, chunk.len);
			strbuf_reset(&chunk);
			run_op(&c, op);
		} else {
			strbuf_putc(&chunk, (char)b);
		}
	}
	client_send(&c, (const uint8_t *)chunk.data, chunk.len);
	strbuf_free(&chunk);
	pump(&c, true);
	/* everything answered has been read: now hang up and let the
	   session end */
	client_close(&c);
	pump(&c, true);
	FUZZ_CHECK(lmtp_server_session_count(env.server) == 0);
	FUZZ_CHECK(lmtp_server_jobs_pending(env.server) == 0);
	if (getenv("FUZZ_LMTP_SESSION_VERBOSE") != NULL)
		fprintf(stderr, "%.*s", (int)c.replies.len, c.replies.data);
	check_outcome(&c);
	strbuf_free(&c.replies);
	if (c.shut_down) {
		/* a server that was shut down takes no more sessions */
		lmtp_server_free(&env.server);
		env_server();
	}
	FUZZ_CHECK(fuzz_count_fds() == fds_before);
	empty_dir(env.vmail);
	return 0;
}
