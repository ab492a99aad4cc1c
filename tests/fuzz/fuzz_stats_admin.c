/*
 * fuzz_stats_admin - libFuzzer target for the admin socket's request
 * parser (stats_admin_answer in stats/stats_admin.c): loftadm's command
 * and arguments, from root or from a member of admin_socket_group,
 * against a loft-stats holding a few sessions, deliveries and errors.
 * Input: a byte choosing the caller's uid (even: 0, odd: 1000), then the
 * command and up to 16 arguments separated by '\n'. Checked: the answer
 * is a loftadm exit status (0, 64, 75, 77); 0 comes with a JSON document,
 * anything else with an error text; only reload and log-reopen are
 * handed on; a mutating command from a non-root uid is refused;
 * `log-errors --since DUR` with DUR reaching back before the epoch lists
 * the error logged at time 1.
 */
#include "fuzz_util.h"

#include <sysexits.h>

#include "clock.h"
#include "evloop.h"
#include "settings.h"
#include "stats_ops.h"
#include "stats_server.h"

#define FUZZ_MAX_ARGS 16

static struct evloop *loop;
static struct loft_settings set;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_logs();
	loop = evloop_create();
	settings_init(&set);
	set.stats_journal_size = 16;
	return 0;
}

/* populate - two sessions, a delivery and an error to find */
static void populate(struct stats_server *server)
{
	char *users[] = { "alice@example.com", "bob@example.org" };
	struct stats_session s = {
		.id = "hGoIAHg/AmuWRQAAAQDAAw", .service = "lmtp", .pid = 100,
		.client_ip = "192.0.2.7", .client_port = 4000, .state = "rcpt",
		.users = users, .user_count = 2, .start_usecs = 1,
	};
	struct stats_delivery d = {
		.ts_usecs = 1, .protocol = "lmtp", .session_id = s.id,
		.user = users[0], .rcpt = users[0], .result = "saved",
		.code = 250, .enhanced_code = "2.0.0", .mailbox = "INBOX",
	};

	pthread_mutex_lock(&server->lock);
	stats_sessions_start(server->sessions, &s);
	s.id = "9aYIAHg/AmvKRQAAAQDcEg";
	s.client_ip = "2001:db8::1";
	s.user_count = 1;
	stats_sessions_start(server->sessions, &s);
	stats_journal_add(server->journal, &d);
	(void)stats_errors_add(server->errors, 1, LOG_LEVEL_ERROR, "lmtp", 100,
			       s.id, users[0], "disk full");
	pthread_mutex_unlock(&server->lock);
}

/* check_since - "log-errors --since DUR": a DUR longer than the time
   since the epoch covers everything, the error at time 1 included */
static void check_since(const Loft__AdminRequest *req, json_object *json)
{
	uint64_t msecs;
	const char *error;

	if (strcmp(req->command, "log-errors") != 0 || req->n_args != 2 ||
	    strcmp(req->args[0], "--since") != 0 ||
	    settings_parse_time(req->args[1], &msecs, &error) < 0 ||
	    msecs <= clock_realtime_usecs() / 1000 + 1000)
		return;
	FUZZ_CHECK(json_object_array_length(json) == 1);
}

static bool mutates(const char *command)
{
	static const char *const names[] = {
		"kick", "reload", "stats-reset", "log-reopen", "debug",
	};

	for (size_t i = 0; i < LOFT_N_ELEMENTS(names); i++) {
		if (strcmp(command, names[i]) == 0)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	Loft__AdminRequest req = LOFT__ADMIN_REQUEST__INIT;
	struct stats_server *server;
	char *args[FUZZ_MAX_ARGS];
	unsigned int status;
	json_object *json;
	const char *error;
	uid_t uid = (fuzz_u8(&in) & 1) != 0 ? 1000 : 0;
	int ret;

	req.id = 7;
	req.command = fuzz_field(&in, '\n');
	req.args = args;
	while (!fuzz_empty(&in) && req.n_args < FUZZ_MAX_ARGS)
		args[req.n_args++] = fuzz_field(&in, '\n');
	server = stats_server_create(loop, &set, NULL);
	populate(server);
	ret = stats_admin_answer(server, uid, 1, &req, &status, &json, &error);
	if (ret == 0) {
		FUZZ_CHECK(uid == 0);
		FUZZ_CHECK(strcmp(req.command, "reload") == 0 ||
			   strcmp(req.command, "log-reopen") == 0);
		FUZZ_CHECK(json == NULL);
	} else {
		FUZZ_CHECK(ret == 1);
		FUZZ_CHECK(status == EX_OK || status == EX_USAGE ||
			   status == EX_TEMPFAIL || status == EX_NOPERM);
		FUZZ_CHECK((status == EX_NOPERM) == (uid != 0 &&
						     mutates(req.command)));
		if (status == EX_OK) {
			FUZZ_CHECK(json != NULL && error == NULL);
			FUZZ_CHECK(json_object_to_json_string(json) != NULL);
			check_since(&req, json);
			json_object_put(json);
		} else {
			FUZZ_CHECK(json == NULL);
			FUZZ_CHECK(error != NULL && *error != '\0');
		}
	}
	stats_server_free(&server);
	free(req.command);
	for (size_t i = 0; i < req.n_args; i++)
		free(args[i]);
	return 0;
}
