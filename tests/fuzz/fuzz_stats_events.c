/*
 * fuzz_stats_events - libFuzzer target for loft-stats as a state machine:
 * up to three reporters (any process may connect to the stats-writer
 * socket, mode 0666) send frames to an in-process stats_server. Each
 * peer has its own stream decoder and must start with a Hello, as
 * ipc_conn enforces; decoded envelopes go to stats_server_peer_message,
 * the same function the event loop calls. The input is a list of steps
 *
 *   ctl, length (2 bytes, big-endian), length bytes of that peer's stream
 *
 * with ctl & 3 the peer (3 = the first again), ctl & 0x80 "the peer
 * disconnects first", ctl & 0x40 "render who, metrics and stats now".
 * Checked: the session table's count matches what who lists, only a
 * peer that said it is loftd becomes the master, every rendering works,
 * and once every peer has gone no session is left and no user holds a
 * concurrency slot.
 */
#include "fuzz_util.h"

#include <unistd.h>

#include "evloop.h"
#include "ipc_frame.h"
#include "settings.h"
#include "stats_ops.h"
#include "stats_server.h"

#define FUZZ_PEERS 3
/* users whose concurrency slots are checked at the end */
#define FUZZ_MAX_USERS 64

struct fuzz_peer {
	struct stats_peer *peer;
	struct ipc_decoder *dec;
	bool hello;
};

struct fuzz_state {
	struct stats_server *server;
	struct fuzz_peer peers[FUZZ_PEERS];
	char *users[FUZZ_MAX_USERS];
	size_t user_count;
};

static struct evloop *loop;
static struct loft_settings set;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_logs();
	loop = evloop_create();
	settings_init(&set);
	set.stats_journal_size = 32;
	return 0;
}

/* remember_user - a user that asked for a slot */
static void remember_user(struct fuzz_state *st, const char *user)
{
	if (user == NULL || st->user_count == FUZZ_MAX_USERS)
		return;
	st->users[st->user_count++] = xstrdup(user);
}

static void peer_close(struct fuzz_peer *fp, const char *reason)
{
	if (fp->peer == NULL)
		return;
	stats_server_peer_close(fp->peer, reason);
	fp->peer = NULL;
	ipc_decoder_free(&fp->dec);
	fp->hello = false;
}

/* The credentials SO_PEERCRED would give each peer: loftd itself (root,
   its pid, so it may become the master), another root process (not one
   of loftd's: it reports as a user may) and a local user. */
static const struct {
	uid_t uid;
	bool master_pid;
	pid_t pid;
} fuzz_creds[FUZZ_PEERS] = {
	{ 0, true, 0 }, { 0, false, 1 }, { 65534, false, 4242 },
};

/* peer_feed - bytes from one peer, dispatched as ipc_conn would */
static void peer_feed(struct fuzz_state *st, struct fuzz_peer *fp,
		      const uint8_t *data, size_t len)
{
	size_t i = (size_t)(fp - st->peers);
	Loft__Envelope *env;
	const char *error;
	int ret;

	if (fp->peer == NULL) {
		fp->peer = stats_server_peer_create(st->server, fuzz_creds[i].uid,
						    fuzz_creds[i].master_pid ?
						    getpid() : fuzz_creds[i].pid);
		FUZZ_CHECK(fp->peer != NULL);
		fp->dec = ipc_decoder_create();
	}
	FUZZ_CHECK(ipc_decoder_feed(fp->dec, data, len, &error) == 0);
	while ((ret = ipc_decoder_next(fp->dec, &env, &error)) == 1) {
		if (!fp->hello && ipc_check_hello(env, &error) < 0) {
			ipc_envelope_free(&env);
			peer_close(fp, "protocol error");
			return;
		}
		fp->hello = true;
		if (env->body_case == LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE)
			remember_user(st, env->concurrency_acquire->user);
		if (!stats_server_peer_message(fp->peer, env)) {
			/* dropped: loft-stats closed the connection */
			fp->peer = NULL;
			ipc_envelope_free(&env);
			ipc_decoder_free(&fp->dec);
			fp->hello = false;
			return;
		}
		ipc_envelope_free(&env);
	}
	if (ret < 0)
		peer_close(fp, "protocol error");
}

/* count_cb - stats_sessions_foreach counter */
static void count_cb(const struct stats_session *session, void *context)
{
	FUZZ_CHECK(session->id != NULL && session->service != NULL);
	(*(size_t *)context)++;
}

/* check_table - the table agrees with itself */
static void check_table(struct stats_server *server)
{
	size_t listed = 0;

	pthread_mutex_lock(&server->lock);
	FUZZ_CHECK(stats_sessions_foreach(server->sessions, NULL, count_cb,
					  &listed) == listed);
	FUZZ_CHECK(listed == stats_sessions_count(server->sessions));
	/* only loftd speaks for loftd */
	FUZZ_CHECK(server->master == NULL ||
		   server->master->role == LOFT__ROLE__ROLE_MASTER);
	pthread_mutex_unlock(&server->lock);
}

/* render - what the HTTP API and loftadm would read now */
static void render(struct stats_server *server)
{
	struct stats_filter filter;
	json_object *obj;
	bool ok;

	stats_filter_init(&filter);
	for (int per_session = 0; per_session <= 1; per_session++) {
		obj = stats_ops_who(server, &filter, per_session);
		FUZZ_CHECK(json_object_is_type(obj, json_type_array));
		FUZZ_CHECK(json_object_to_json_string(obj) != NULL);
		json_object_put(obj);
	}
	stats_filter_free(&filter);
	for (int om = 0; om <= 1; om++)
		free(stats_ops_metrics(server, om));
	obj = stats_ops_stats(server);
	FUZZ_CHECK(json_object_to_json_string(obj) != NULL);
	json_object_put(obj);
	json_object_put(stats_ops_services(server));
	json_object_put(stats_ops_healthz(server, &ok));
	json_object_put(stats_ops_errors(server, 0, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct fuzz_state st = { 0 };

	st.server = stats_server_create(loop, &set, NULL);
	/* this process plays loftd */
	stats_server_set_master(st.server, getpid());
	while (!fuzz_empty(&in)) {
		uint8_t ctl = fuzz_u8(&in);
		struct fuzz_peer *fp = &st.peers[(ctl & 3) % FUZZ_PEERS];
		size_t len;
		const uint8_t *bytes = fuzz_bytes(&in, fuzz_u16(&in), &len);

		if ((ctl & 0x80) != 0)
			peer_close(fp, (ctl & 0x20) != 0 ? "EOF" : "protocol error");
		peer_feed(&st, fp, bytes, len);
		check_table(st.server);
		if ((ctl & 0x40) != 0)
			render(st.server);
	}
	for (size_t i = 0; i < FUZZ_PEERS; i++)
		peer_close(&st.peers[i], "EOF");
	/* every session and slot belonged to a peer that is gone now */
	pthread_mutex_lock(&st.server->lock);
	FUZZ_CHECK(stats_sessions_count(st.server->sessions) == 0);
	for (size_t i = 0; i < st.user_count; i++) {
		FUZZ_CHECK(stats_sessions_concurrency_count(st.server->sessions,
							    st.users[i]) == 0);
		free(st.users[i]);
	}
	pthread_mutex_unlock(&st.server->lock);
	stats_server_free(&st.server);
	return 0;
}
