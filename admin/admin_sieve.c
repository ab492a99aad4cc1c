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

/* script_error - "loftadm: PATH: ERROR" on stderr; the error may quote
   the script (a user's file) or the message (a sender's bytes), so its
   control bytes are shown as \xHH, never sent to root's terminal */
static void script_error(const char *path, const char *error)
{
	struct strbuf text;

	strbuf_init(&text, strlen(error) + 16);
	strbuf_append_printable(&text, error);
	fprintf(stderr, "loftadm: %s: %s\n", path, text.data);
	strbuf_free(&text);
}

static int run_script(const struct sieve_user_settings *sset,
		      const char *rcpt, const struct strbuf *message)
{
	struct sieve_script_dirs dirs = { sset->personal_dir, sset->global_dir };
	struct sieve_compile_env cenv = { &sset->limits, sieve_dir_loader, &dirs };
	struct sieve_envelope envelope = { "MAILER-DAEMON", rcpt, rcpt };
	struct sieve_message parsed;
	char *sender;
	struct sieve_script *script;
	struct strbuf text, out;
	char *error = NULL;
	int ret;

	if (sset->active_path == NULL) {
		/* no home: no personal script, as Pigeonhole */
		printf("no active script (the user has no home)\nimplicit-keep INBOX\n");
		return EX_OK;
	}
	strbuf_init(&text, 4096);
	printf("script: %s\n", sset->active_path);
	ret = sieve_script_read(sset->active_path, &text, &error);
	if (ret < 0) {
		fprintf(stderr, "loftadm: %s\n", error);
		free(error);
		strbuf_free(&text);
		return EX_TEMPFAIL;
	}
	if (ret == 0) {
		/* no active script: Pigeonhole keeps the mail */
		printf("no active script\nimplicit-keep INBOX\n");
		strbuf_free(&text);
		return EX_OK;
	}
	if (sieve_compile_with(text.data, text.len, &cenv, &script, &error) < 0) {
		printf("compile-error\n");
		script_error(sset->active_path, error);
		free(error);
		strbuf_free(&text);
		return EX_DATAERR;
	}
	strbuf_free(&text);
	/* the envelope sender a delivery would have: the message's own */
	sieve_message_parse(&parsed, message->data, message->len);
	sender = sieve_message_sender(&parsed);
	sieve_message_free(&parsed);
	if (sender != NULL)
		envelope.mail_from = sender;
	strbuf_init(&out, 256);
	error = sieve_test_message(script, message->data, message->len, &envelope,
				   &sset->limits, NULL, true, &out);
	free(sender);
	fputs(out.data, stdout);
	if (error != NULL)
		script_error(sset->active_path, error);
	ret = error != NULL ? 1 : EX_OK;
	free(error);
	strbuf_free(&out);
	sieve_script_free(&script);
	return ret;
}

int admin_sieve_test_run(const struct admin_context *ctx, char **args,
			 size_t count)
{
	const struct loft_settings *set = admin_need_config(ctx, "sieve test");
	struct sieve_user_settings sset;
	struct delivery_user *user;
	struct strbuf message;
	struct outcome out;
	struct kvlist plugin;
	char *error;
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
	delivery_sieve_plugin(set, user, &plugin);
	ret = sieve_user_settings_get(&plugin, user->username, user->home, &sset,
				      &error);
	kvlist_free(&plugin);
	if (ret < 0) {
		fprintf(stderr, "loftadm: user %s: %s\n", user->username, error);
		free(error);
		ret = EX_TEMPFAIL;
	} else {
		ret = become_user(set, user) < 0 ? EX_TEMPFAIL :
			run_script(&sset, args[0], &message);
		sieve_user_settings_free(&sset);
	}
	strbuf_free(&message);
	delivery_user_free(&user);
	return ret;
}
