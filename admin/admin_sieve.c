/*
 * admin_sieve - `loftadm sieve test USER MESSAGE` (see admin_sieve.h).
 */
#include "admin_sieve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "admin_commands.h"
#include "delivery.h"
#include "delivery_sieve.h"
#include "mail_location.h"
#include "message.h"
#include "privileges.h"
#include "sieve.h"
#include "sieve_settings.h"
#include "strbuf.h"

#define ADMIN_SIEVE_MAX_MESSAGE (64 * 1024 * 1024)

static int read_message(const char *path, struct strbuf *out)
{
	char *error;

	if (sieve_file_load(path, ADMIN_SIEVE_MAX_MESSAGE, out, &error) < 0) {
		fprintf(stderr, "loftadm: %s\n", error);
		free(error);
		return -1;
	}
	return 0;
}

/* become_user - as root, take the user's ids for good (this process only
   reads the user's files from here on) */
static int become_user(const struct loft_settings *set,
		       const struct delivery_user *user)
{
	struct privileges_gid_range range = { set->first_valid_gid,
					      set->last_valid_gid };
	struct outcome out;
	const char *error;

	if (geteuid() != 0)
		return 0;
	if (delivery_user_check_ids(set, user, &out) < 0) {
		fprintf(stderr, "loftadm: user %s: %s\n", user->username, out.text);
		return -1;
	}
	if (privileges_drop(user->uid, user->gid, NULL, &range, NULL, &error) < 0) {
		fprintf(stderr, "loftadm: user %s: %s\n", user->username, error);
		return -1;
	}
	return 0;
}

/* print_errors - the dry run's errors (escaped lines), "loftadm: " each */
static void print_errors(const struct strbuf *errors)
{
	const char *p = errors->data, *nl;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		fprintf(stderr, "loftadm: %.*s\n", (int)(nl - p), p);
}

/* run_sequence - the delivery's Sieve sequence as a dry run: per script
   its path and actions, then what the delivery would do */
static int run_sequence(const struct loft_settings *set,
			const struct delivery_user *user, const char *rcpt,
			const struct strbuf *data)
{
	struct delivery_request req = { .protocol = "lmtp", .user = rcpt,
					.envelope_sender = "MAILER-DAEMON",
					.rcpt = rcpt };
	struct delivery_sieve_test test;
	struct delivery_sieve_plan plan;
	struct mail_location loc;
	struct sieve_message parsed;
	struct message *msg;
	struct outcome out;
	const char *error;
	char *sender;
	int ret;

	if (mail_location_parse(user->mail_location, user->home, &loc, &error) < 0) {
		fprintf(stderr, "loftadm: user %s: mail_location %s: %s\n",
			user->username, user->mail_location, error);
		return EX_TEMPFAIL;
	}
	msg = message_create(set->mail_temp_dir);
	message_keep_return_path(msg);
	if (message_append(msg, data->data, data->len, &error) < 0 ||
	    message_finish(msg, &error) < 0) {
		fprintf(stderr, "loftadm: %s\n", error);
		message_free(&msg);
		mail_location_free(&loc);
		return EX_TEMPFAIL;
	}
	/* the envelope sender a delivery would have: the message's own */
	sieve_message_parse(&parsed, data->data, data->len);
	sender = sieve_message_sender(&parsed);
	sieve_message_free(&parsed);
	if (sender != NULL)
		req.envelope_sender = sender;
	ret = delivery_sieve_test(set, user, &req, msg, &loc, &test, &plan, &out);
	fputs(test.report.data, stdout);
	print_errors(&test.errors);
	if (ret < 0) {
		ret = EX_TEMPFAIL;
	} else if (ret == 0) {
		/* nothing to run: Pigeonhole keeps the mail */
		printf("no script to run (%s)\nresult: implicit keep\n",
		       user->home == NULL ? "the user has no home" :
		       "no active script, sieve_default, sieve_before or sieve_after");
		ret = EX_OK;
	} else {
		printf("result: %s\n", plan.summary.data);
		ret = test.compile_errors > 0 ? EX_DATAERR :
			test.runtime_errors > 0 ? 1 : EX_OK;
		delivery_sieve_plan_free(&plan);
	}
	delivery_sieve_test_free(&test);
	free(sender);
	message_free(&msg);
	mail_location_free(&loc);
	return ret;
}

int admin_sieve_test_run(const struct admin_context *ctx, char **args,
			 size_t count)
{
	const struct loft_settings *set = admin_need_config(ctx, "sieve test");
	struct delivery_user *user;
	struct strbuf message;
	struct outcome out;
	int ret;

	if (set == NULL)
		return EX_TEMPFAIL;
	ret = delivery_user_lookup(set, args[0], &user, &out);
	if (ret <= 0) {
		fprintf(stderr, "loftadm: user %s: %s\n", args[0], out.text);
		return ret == 0 ? EX_NOUSER : EX_TEMPFAIL;
	}
	strbuf_init(&message, 65536);
	if (read_message(args[1], &message) < 0) {
		strbuf_free(&message);
		delivery_user_free(&user);
		return EX_NOINPUT;
	}
	ret = become_user(set, user) < 0 ? EX_TEMPFAIL :
		run_sequence(set, user, args[0], &message);
	strbuf_free(&message);
	delivery_user_free(&user);
	return ret;
}
