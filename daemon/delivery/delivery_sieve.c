/*
 * delivery_sieve - scripts at delivery (see delivery_sieve.h).
 *
 * The sequence follows Pigeonhole's lda-sieve plugin: sieve_before,
 * sieve_before2, ... (each a file or a directory of *.sieve files), then
 * the personal script (`sieve`, the active script; when it does not
 * exist, sieve_default), then sieve_after, ... A script runs only while
 * the implicit keep of the ones before it stands: a script that cancels
 * it (fileinto, discard, reject, redirect without :copy) ends the
 * sequence, `stop` only ends its own script. The actions of all the
 * scripts that ran add up (a mailbox stored into twice is stored once);
 * the implicit keep of the last one goes to the default mailbox (INBOX,
 * or -m / the detail mailbox). A header edited by one script is what
 * the next scripts see and what is stored.
 *
 * Errors never lose mail: a script that does not compile or fails at
 * run time ends the sequence, its own actions dropped and the implicit
 * keep kept; the error is logged (and, for the user's own script,
 * written to the user log, Pigeonhole's ~/.dovecot.sieve.log). Only a
 * script that exists but cannot be read, or settings that cannot be
 * applied, fail the delivery, temporarily.
 */
#include "delivery_sieve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd_io.h"
#include "log.h"
#include "mail_plugins.h"
#include "sieve.h"
#include "sieve_cache.h"
#include "sieve_settings.h"
#include "delivery_sieve_send.h"

static const char *const action_names[DELIVERY_SIEVE_ACTION_COUNT] = {
	[DELIVERY_SIEVE_KEEP] = "keep",
	[DELIVERY_SIEVE_FILEINTO] = "fileinto",
	[DELIVERY_SIEVE_DISCARD] = "discard",
	[DELIVERY_SIEVE_REJECT] = "reject",
	[DELIVERY_SIEVE_REDIRECT] = "redirect",
	[DELIVERY_SIEVE_VACATION] = "vacation",
};

const char *delivery_sieve_action_name(enum delivery_sieve_action action)
{
	return action < DELIVERY_SIEVE_ACTION_COUNT ? action_names[action] : "";
}

bool delivery_sieve_enabled(const struct loft_settings *set)
{
	return mail_plugins_has(set->mail_plugins, "sieve");
}

void delivery_sieve_plugin(const struct loft_settings *set,
			   const struct delivery_user *user,
			   struct kvlist *plugin)
{
	kvlist_init(plugin);
	kvlist_copy(plugin, &set->plugin);
	for (size_t i = 0; i < user->fields.count; i++) {
		if (strncmp(user->fields.items[i].key, "sieve", 5) == 0)
			kvlist_set(plugin, user->fields.items[i].key,
				   user->fields.items[i].value);
	}
}

/* One script of the sequence. */
struct seq_script {
	char *path;
	bool user_script;	/* the personal script: errors go to the user log */
};

/* The state of one run. */
struct sieve_delivery {
	const struct loft_settings *set;
	const struct delivery_user *user;
	const struct mail_location *loc;
	const char *default_mailbox;
	struct sieve_user_settings sset;
	struct seq_script *scripts;
	size_t nscripts;
	struct strbuf data;		/* the message as the scripts see it */
	struct sieve_message parsed;
	bool edited;
	const char *script_path;	/* the one running, for the trace */
	struct delivery_sieve_plan *plan;
	delivery_sieve_execute *execute;
	void *exec_context;
	bool kept;		/* the implicit keep was stored */
	bool reject_by_mail;	/* delivery_request's */
	struct delivery_sieve_send send;	/* redirect, vacation, tracking */
	struct delivery_sieve_test *test;	/* a dry run; NULL: a delivery */
};

/* add_script - append path to the sequence */
static void add_script(struct sieve_delivery *sd, const char *path,
		       bool user_script)
{
	sd->scripts = xreallocarray(sd->scripts, sd->nscripts + 1,
				    sizeof(*sd->scripts));
	sd->scripts[sd->nscripts].path = xstrdup(path);
	sd->scripts[sd->nscripts].user_script = user_script;
	sd->nscripts++;
}

/* add_locations - the scripts of sieve_before... or sieve_after...; a
   location that does not exist is skipped, as in Pigeonhole */
static int add_locations(struct sieve_delivery *sd, char **locations,
			 size_t count, char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		char **paths = NULL;
		size_t npaths = 0;
		int ret = sieve_location_scripts(locations[i], &paths, &npaths,
						 error_r);

		if (ret == 0)
			log_debug("sieve: location %s not found", locations[i]);
		for (size_t j = 0; j < npaths; j++) {
			add_script(sd, paths[j], false);
			free(paths[j]);
		}
		free(paths);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* file_exists - 1 a regular file, 0 missing, -1 with *error_r */
static int file_exists(const char *path, char **error_r)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	*error_r = xasprintf("stat(%s) failed: %s", path, strerror(errno));
	return -1;
}

/* find_scripts - the sequence: before, personal or default, after */
static int find_scripts(struct sieve_delivery *sd, char **error_r)
{
	int ret;

	if (add_locations(sd, sd->sset.before, sd->sset.nbefore, error_r) < 0)
		return -1;
	ret = sd->sset.active_path == NULL ? 0 :
		file_exists(sd->sset.active_path, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0) {
		add_script(sd, sd->sset.active_path, true);
	} else if (sd->sset.default_path != NULL) {
		ret = file_exists(sd->sset.default_path, error_r);
		if (ret < 0)
			return -1;
		if (ret > 0)
			add_script(sd, sd->sset.default_path, false);
		else
			log_debug("sieve: default script %s does not exist",
				  sd->sset.default_path);
	}
	return add_locations(sd, sd->sset.after, sd->sset.nafter, error_r);
}

/* user_log - append one error to the user's Sieve log, as Pigeonhole's
   logfile error handler does (a header line per run); never fails the
   delivery */
static void user_log(struct sieve_delivery *sd, const char *script,
		     const char *error)
{
	const char *path = sd->sset.user_log;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	struct strbuf line;
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		log_warning("sieve: cannot open user log %s: %s", path,
			    strerror(errno));
		return;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %z", &tm);
	strbuf_init(&line, 256);
	strbuf_appendf(&line, "sieve: info: started log at %s.\n", date);
	strbuf_appendf(&line, "%s: error: %s\n", script, error);
	if (fd_write_full(fd, line.data, line.len) < 0)
		log_warning("sieve: cannot write user log %s: %s", path,
			    strerror(errno));
	strbuf_free(&line);
	close(fd);
}

/* test_error - one error of a dry run: "PATH: ERROR", control bytes
   escaped */
static void test_error(struct delivery_sieve_test *test, const char *path,
		       const char *error)
{
	if (path != NULL) {
		strbuf_append_printable(&test->errors, path);
		strbuf_append_str(&test->errors, ": ");
	}
	strbuf_append_printable(&test->errors, error);
	strbuf_putc(&test->errors, '\n');
}

/* test_script - "script: PATH" in a dry run's report */
static void test_script(struct delivery_sieve_test *test, const char *path)
{
	strbuf_append_str(&test->report, "script: ");
	strbuf_append_printable(&test->report, path);
	strbuf_putc(&test->report, '\n');
}

/* script_failed - a compile or runtime error: logged, user log, counted */
static void script_failed(struct sieve_delivery *sd,
			  const struct seq_script *script, const char *what,
			  const char *error)
{
	sd->plan->script_errors++;
	if (sd->test != NULL) {
		/* a dry run: for the caller, not the logs */
		if (strcmp(what, "compiling") == 0) {
			sd->test->compile_errors++;
			test_script(sd->test, script->path);
			strbuf_append_str(&sd->test->report, "compile-error\n");
		} else {
			sd->test->runtime_errors++;
		}
		test_error(sd->test, script->path, error);
	}
	if (strcmp(what, "compiling") == 0) {
		/* it did not run: named here, with what became of it */
		if (sd->plan->scripts.len > 0)
			strbuf_append_str(&sd->plan->scripts, ", ");
		strbuf_appendf(&sd->plan->scripts, "%s (does not compile)",
			       script->path);
	}
	if (sd->test != NULL) {
		/* reported above */
	} else if (script->user_script && sd->sset.user_log != NULL) {
		user_log(sd, script->path, error);
		log_info("sieve: %s script %s failed, but implicit keep was "
			 "successful (user logfile %s may reveal additional "
			 "details)", what, script->path, sd->sset.user_log);
	} else {
		log_error("sieve: %s script %s failed, implicit keep: %s",
			  what, script->path, error);
	}
}

/* summary_add - one action in the plan's summary */
static void summary_add(struct delivery_sieve_plan *plan, const char *fmt,
			const char *arg)
{
	if (plan->summary.len > 0)
		strbuf_append_str(&plan->summary, ", ");
	strbuf_append_str(&plan->summary, fmt);
	if (arg != NULL) {
		strbuf_append_str(&plan->summary, " \"");
		strbuf_append_printable(&plan->summary, arg);
		strbuf_putc(&plan->summary, '"');
	}
}

/* plan_store - a store into mailbox; one already planned there takes the
   flags of this one too */
static void plan_store(struct delivery_sieve_plan *plan, const char *mailbox,
		       const struct sieve_flags *flags, bool create, bool keep)
{
	char *name = mail_location_normalize(mailbox);
	struct delivery_sieve_store *store;

	for (size_t i = 0; i < plan->count; i++) {
		store = &plan->stores[i];
		if (strcmp(store->mailbox, name) != 0)
			continue;
		for (size_t f = 0; f < flags->count; f++)
			sieve_flags_add(&store->flags, flags->flags[f]);
		store->create = store->create || create;
		store->keep = store->keep || keep;
		free(name);
		return;
	}
	plan->stores = xreallocarray(plan->stores, plan->count + 1,
				     sizeof(*plan->stores));
	store = &plan->stores[plan->count++];
	memset(store, 0, sizeof(*store));
	store->mailbox = name;
	sieve_flags_copy(&store->flags, flags);
	store->create = create;
	store->keep = keep;
}

/* plan_keep - the implicit keep into the default mailbox */
static void plan_keep(struct sieve_delivery *sd, const struct sieve_flags *flags)
{
	plan_store(sd->plan, sd->default_mailbox, flags, false, true);
	sd->plan->counts[DELIVERY_SIEVE_KEEP]++;
	summary_add(sd->plan, "implicit keep", NULL);
}

/* plan_drop_failed - after a failed execution: forget the stores from
   first on that were not done, so the implicit keep that follows is a
   store of its own */
static void plan_drop_failed(struct delivery_sieve_plan *plan, size_t first)
{
	size_t kept = first;

	for (size_t i = first; i < plan->count; i++) {
		if (plan->stores[i].done) {
			plan->stores[kept++] = plan->stores[i];
			continue;
		}
		/* not taken after all */
		plan->counts[plan->stores[i].keep ? DELIVERY_SIEVE_KEEP :
			     DELIVERY_SIEVE_FILEINTO]--;
		free(plan->stores[i].mailbox);
		sieve_flags_clear(&plan->stores[i].flags);
	}
	plan->count = kept;
}

/* rebuild - the message data with an edited header */
static void rebuild(struct sieve_delivery *sd,
		    const struct sieve_header_list *headers)
{
	struct strbuf data;

	strbuf_init(&data, sd->data.len + 256);
	for (size_t i = 0; i < headers->count; i++)
		strbuf_appendf(&data, "%s: %s\n", headers->items[i].name,
			       headers->items[i].value);
	strbuf_putc(&data, '\n');
	strbuf_append(&data, sd->data.data + sd->parsed.body_offset,
		      sd->data.len - sd->parsed.body_offset);
	sieve_message_free(&sd->parsed);
	strbuf_free(&sd->data);
	sd->data = data;
	sieve_message_parse(&sd->parsed, sd->data.data, sd->data.len);
	sd->edited = true;
}

/* edited_message - the edited data as the message the stores write;
   0, or -1 with *error_r */
static int edited_message(struct sieve_delivery *sd, const char **error_r)
{
	struct message *msg = message_create(sd->set->mail_temp_dir);

	message_keep_return_path(msg);
	if (message_append(msg, sd->data.data, sd->data.len, error_r) < 0 ||
	    message_finish(msg, error_r) < 0) {
		message_free(&msg);
		return -1;
	}
	message_free(&sd->plan->edited);
	sd->plan->edited = msg;
	return 0;
}

/* take_result - add one script's stores, discard and reject to the
   plan (the mail it sends comes after its stores: send_result) */
static void take_result(struct sieve_delivery *sd, const struct sieve_result *res)
{
	struct delivery_sieve_plan *plan = sd->plan;

	for (size_t i = 0; i < res->count; i++) {
		const struct sieve_action *act = &res->actions[i];

		switch (act->type) {
		case SIEVE_ACT_STORE:
			plan_store(plan, act->keep ? sd->default_mailbox :
				   act->target, &act->flags, act->create,
				   act->keep);
			plan->counts[act->keep ? DELIVERY_SIEVE_KEEP :
				     DELIVERY_SIEVE_FILEINTO]++;
			summary_add(plan, act->keep ? "keep" : "fileinto",
				    act->keep ? NULL : act->target);
			break;
		case SIEVE_ACT_DISCARD:
			plan->counts[DELIVERY_SIEVE_DISCARD]++;
			summary_add(plan, "discard", NULL);
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			plan->reject = true;
			free(plan->reason);
			plan->reason = xstrdup(act->target);
			plan->counts[DELIVERY_SIEVE_REJECT]++;
			summary_add(plan, sieve_action_name(act->type), act->target);
			break;
		case SIEVE_ACT_VACATION:
		case SIEVE_ACT_REDIRECT:
		case SIEVE_ACT_DUPLICATE:
			break;
		}
	}
	if (res->headers.owned)
		rebuild(sd, &res->headers);
}

/* send_result - the redirects and vacation replies of one script, once
   its stores are done, and the ids its duplicate tests track; false
   when a redirect could not be handed over (the script fails) */
static bool send_result(struct sieve_delivery *sd, struct sieve_result *res,
			char **error_r)
{
	struct delivery_sieve_plan *plan = sd->plan;
	const char *error, *why;

	for (size_t i = 0; i < res->count; i++) {
		const struct sieve_action *act = &res->actions[i];
		int ret;

		switch (act->type) {
		case SIEVE_ACT_REDIRECT:
			ret = delivery_sieve_send_redirect(&sd->send, act, &why,
							   &error);
			if (ret < 0) {
				*error_r = xasprintf("line %u: failed to redirect "
						     "to <%s>: %s", act->line,
						     act->target, error);
				log_error("sieve: %s", *error_r);
				return false;
			}
			plan->counts[DELIVERY_SIEVE_REDIRECT]++;
			if (ret > 0) {
				summary_add(plan, "redirect", act->target);
				break;
			}
			/* not sent: the implicit keep stands (Pigeonhole) */
			summary_add(plan, "redirect", act->target);
			strbuf_appendf(&plan->summary, " (%s)", why);
			res->implicit_keep = true;
			break;
		case SIEVE_ACT_VACATION:
			ret = delivery_sieve_send_vacation(&sd->send, act, &why,
							   &error);
			if (ret > 0)
				plan->counts[DELIVERY_SIEVE_VACATION]++;
			if (ret < 0)
				log_error("sieve: vacation reply to <%s> failed: %s",
					  sd->send.envelope->mail_from, error);
			summary_add(plan, ret > 0 ? "vacation sent" : ret < 0 ?
				    "vacation failed" : why, NULL);
			break;
		case SIEVE_ACT_DUPLICATE:
			delivery_sieve_send_track(&sd->send, act->target,
						  act->seconds);
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			if (!sd->reject_by_mail)
				break;
			why = NULL;
			ret = delivery_sieve_send_reject(&sd->send, act->target,
							 &why, &error);
			if (ret < 0) {
				plan->reject = false;
				*error_r = xasprintf("line %u: failed to send "
						     "the rejection to <%s>: %s",
						     act->line,
						     sd->send.envelope->mail_from,
						     error);
				log_error("sieve: %s", *error_r);
				return false;
			}
			plan->reject_mailed = true;
			summary_add(plan, ret > 0 ? "rejection sent" : why, NULL);
			break;
		default:
			break;
		}
	}
	return true;
}

/* mailbox_exists - the mailboxexists test */
static bool mailbox_exists(void *context, const char *name)
{
	struct sieve_delivery *sd = context;
	char *normalized = mail_location_normalize(name), *path, *cur;
	const char *error;
	struct stat st;
	bool exists = false;

	if (mail_location_is_inbox(normalized)) {
		free(normalized);
		return true;
	}
	if (mail_location_mailbox_path(sd->loc, normalized, &path, &error) == 0) {
		if (sd->loc->type == MAIL_STORAGE_MAILDIR) {
			cur = xasprintf("%s/cur", path);
			exists = stat(cur, &st) == 0 && S_ISDIR(st.st_mode);
			free(cur);
		} else {
			exists = stat(path, &st) == 0 && S_ISREG(st.st_mode);
		}
		free(path);
	}
	free(normalized);
	return exists;
}

/* duplicate_seen - the duplicate test, from the user's tracking file */
static bool duplicate_seen(void *context, const char *key)
{
	struct sieve_delivery *sd = context;

	return delivery_sieve_send_seen(&sd->send, key);
}

/* trace - `loftadm debug USER on` and mail_debug: each test and action */
static void trace(void *context, unsigned int line, const char *text)
{
	struct sieve_delivery *sd = context;

	if (line == 0)
		log_debug("sieve: %s: %s", sd->script_path, text);
	else
		log_debug("sieve: %s: line %u: %s", sd->script_path, line, text);
}

/* run_one - compile (through the cache) and run one script; 1 the
   sequence goes on, 0 it ends, -1 a temporary failure (*error_r) */
static int run_one(struct sieve_delivery *sd, const struct seq_script *script,
		   bool last, const struct sieve_envelope *envelope,
		   bool *keep_r, struct sieve_flags *keep_flags, char **error_r)
{
	struct sieve_script_dirs dirs = { sd->sset.personal_dir,
					  sd->sset.global_dir };
	struct sieve_cache_ref *ref;
	struct sieve_run_env env;
	struct sieve_result res;
	const char *error_str;
	char *error = NULL;
	size_t first;
	bool hit, keep_planned;
	int ret = 1;

	switch (sieve_cache_get(script->path, &sd->sset.limits, &dirs, &ref,
				&hit, &error)) {
	case SIEVE_CACHE_OK:
		break;
	case SIEVE_CACHE_MISSING:
		/* removed since it was found: nothing to run */
		return 1;
	case SIEVE_CACHE_READ_ERROR:
		*error_r = error;
		return -1;
	case SIEVE_CACHE_COMPILE_ERROR:
		script_failed(sd, script, "compiling", error);
		free(error);
		*keep_r = true;
		return 0;
	}
	log_debug("sieve: running %s (%s)", script->path,
		  hit ? "cached" : "compiled");
	if (sd->plan->scripts.len > 0)
		strbuf_append_str(&sd->plan->scripts, ", ");
	strbuf_append_str(&sd->plan->scripts, script->path);
	memset(&env, 0, sizeof(env));
	env.msg = &sd->parsed;
	env.envelope = envelope;
	env.limits = &sd->sset.limits;
	env.mailbox_exists = mailbox_exists;
	env.duplicate_seen = duplicate_seen;
	env.trace = log_level_enabled(LOG_LEVEL_DEBUG) ? trace : NULL;
	env.context = sd;
	env.now = time(NULL);
	sd->script_path = script->path;
	sieve_result_init(&res);
	sieve_run(sieve_cache_script(ref), &env, &res);
	if (sd->test != NULL) {
		test_script(sd->test, script->path);
		sieve_result_format(&res, &sd->test->report);
	}
	first = sd->plan->count;
	if (res.error == NULL)
		take_result(sd, &res);
	/* the last script's implicit keep is executed with its actions:
	   they all fit the quota, or none is stored (Pigeonhole's one
	   transaction) */
	keep_planned = res.error == NULL && res.implicit_keep && last;
	if (keep_planned)
		plan_keep(sd, &res.keep_flags);
	if (res.error == NULL && res.headers.owned && sd->test == NULL &&
	    edited_message(sd, &error_str) < 0) {
		*error_r = xstrdup(error_str);
		ret = -1;
	} else if (res.error == NULL &&
		   sd->execute(sd->exec_context, sd->plan, first) < 0) {
		plan_drop_failed(sd->plan, first);
		res.error = xstrdup("storing the message failed");
	} else if (res.error == NULL && !send_result(sd, &res, &res.error)) {
		/* the stores stand; the message is kept as well */
	} else if (keep_planned) {
		/* (a redirect not sent may have restored the implicit keep
		   after the stores: run_sequence stores it) */
		sd->kept = true;
	}
	if (ret < 0) {
		/* a temporary failure: nothing more */
	} else if (res.error != NULL) {
		script_failed(sd, script, "running", res.error);
		*keep_r = true;
		sieve_flags_clear(keep_flags);
		ret = 0;
	} else {
		*keep_r = res.implicit_keep;
		sieve_flags_clear(keep_flags);
		sieve_flags_copy(keep_flags, &res.keep_flags);
		ret = res.implicit_keep ? 1 : 0;
	}
	sieve_result_free(&res);
	sieve_cache_release(&ref);
	return ret;
}

/* run_sequence - every script in turn; 0, or -1 with *error_r */
static int run_sequence(struct sieve_delivery *sd,
			const struct delivery_request *req, char **error_r)
{
	struct sieve_envelope envelope = {
		.mail_from = req->envelope_sender == NULL ? "" :
			req->envelope_sender,
		.rcpt_to = req->rcpt,
		.orig_rcpt_to = req->orig_rcpt,
	};
	struct sieve_flags keep_flags = { 0 };
	bool keep = true;
	int ret = 1;

	sd->send.set = sd->set;
	sd->send.sieve = &sd->sset.send;
	sd->send.user = sd->user->username;
	sd->send.home = sd->user->home;
	sd->reject_by_mail = req->reject_by_mail;
	sd->send.envelope = &envelope;
	sd->send.msg = &sd->parsed;
	sd->send.now = time(NULL);
	sd->send.dry_run = sd->test != NULL;

	for (size_t i = 0; i < sd->nscripts && ret > 0; i++)
		ret = run_one(sd, &sd->scripts[i], i + 1 == sd->nscripts,
			      &envelope, &keep, &keep_flags, error_r);
	if (ret >= 0 && keep && !sd->kept) {
		size_t first = sd->plan->count;

		plan_keep(sd, &keep_flags);
		/* its failure is the delivery's: the caller sees no store */
		(void)sd->execute(sd->exec_context, sd->plan, first);
	}
	sieve_flags_clear(&keep_flags);
	return ret < 0 ? -1 : 0;
}

/* run_all - settings, scripts and the sequence for sd (set, user, loc,
   default_mailbox, plan, execute and test set); as delivery_sieve_run */
static int run_all(struct sieve_delivery *sd, const struct delivery_request *req,
		   struct message *msg, const struct strbuf *prefix,
		   struct outcome *out)
{
	struct delivery_sieve_plan *plan = sd->plan;
	struct kvlist plugin;
	const char *error_str;
	char *error = NULL;
	int ret;

	memset(plan, 0, sizeof(*plan));
	strbuf_init(&plan->summary, 64);
	strbuf_init(&plan->scripts, 64);
	delivery_sieve_plugin(sd->set, sd->user, &plugin);
	ret = sieve_user_settings_get(&plugin, sd->user->username, sd->user->home,
				      &sd->sset, &error);
	kvlist_free(&plugin);
	if (ret < 0) {
		log_error("sieve: %s", error);
		if (sd->test != NULL)
			test_error(sd->test, NULL, error);
		free(error);
		outcome_tempfail(out, "4.3.5", "System configuration error");
		delivery_sieve_plan_free(plan);
		return -1;
	}
	if (sd->set->recipient_delimiter[0] != '\0')
		sd->sset.limits.subaddress_separator = sd->set->recipient_delimiter[0];
	ret = find_scripts(sd, &error);
	if (ret == 0 && sd->nscripts == 0) {
		log_debug("sieve: no scripts to execute");
		ret = 0;
		goto out;
	}
	strbuf_init(&sd->data, message_size(msg) + prefix->len + 1);
	if (ret == 0 && message_render(msg, prefix->data, prefix->len, &sd->data,
				       &error_str) < 0) {
		error = xstrdup(error_str);
		ret = -1;
	}
	if (ret == 0) {
		sieve_message_parse(&sd->parsed, sd->data.data, sd->data.len);
		ret = run_sequence(sd, req, &error);
	}
	sieve_message_free(&sd->parsed);
	strbuf_free(&sd->data);
	if (ret < 0) {
		log_error("sieve: %s", error);
		if (sd->test != NULL)
			test_error(sd->test, NULL, error);
		outcome_tempfail(out, "4.3.0", "Temporarily unable to access "
				 "necessary Sieve scripts");
	} else {
		ret = 1;
	}
out:
	free(error);
	for (size_t i = 0; i < sd->nscripts; i++)
		free(sd->scripts[i].path);
	free(sd->scripts);
	sieve_user_settings_free(&sd->sset);
	if (ret <= 0)
		delivery_sieve_plan_free(plan);
	return ret;
}

int delivery_sieve_run(const struct loft_settings *set,
		       const struct delivery_user *user,
		       const struct delivery_request *req, struct message *msg,
		       const struct strbuf *prefix,
		       const struct mail_location *loc,
		       const char *default_mailbox,
		       delivery_sieve_execute *execute, void *context,
		       struct delivery_sieve_plan *plan, struct outcome *out)
{
	struct sieve_delivery sd = {
		.set = set, .user = user, .loc = loc,
		.default_mailbox = default_mailbox, .plan = plan,
		.execute = execute, .exec_context = context,
	};

	return run_all(&sd, req, msg, prefix, out);
}

/* test_execute - a dry run's executor: every store counts as done */
static int test_execute(void *context, struct delivery_sieve_plan *plan,
			size_t first)
{
	(void)context;
	for (size_t i = first; i < plan->count; i++)
		plan->stores[i].done = true;
	return 0;
}

int delivery_sieve_test(const struct loft_settings *set,
			const struct delivery_user *user,
			const struct delivery_request *req, struct message *msg,
			const struct mail_location *loc,
			struct delivery_sieve_test *test,
			struct delivery_sieve_plan *plan, struct outcome *out)
{
	struct sieve_delivery sd = {
		.set = set, .user = user, .loc = loc,
		.default_mailbox = req->mailbox != NULL ? req->mailbox : "INBOX",
		.plan = plan, .execute = test_execute, .test = test,
	};
	struct strbuf prefix;
	int ret;

	memset(test, 0, sizeof(*test));
	strbuf_init(&test->report, 256);
	strbuf_init(&test->errors, 64);
	strbuf_init(&prefix, 1);
	ret = run_all(&sd, req, msg, &prefix, out);
	strbuf_free(&prefix);
	return ret;
}

void delivery_sieve_test_free(struct delivery_sieve_test *test)
{
	strbuf_free(&test->report);
	strbuf_free(&test->errors);
}

void delivery_sieve_plan_free(struct delivery_sieve_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		free(plan->stores[i].mailbox);
		sieve_flags_clear(&plan->stores[i].flags);
	}
	free(plan->stores);
	free(plan->reason);
	message_free(&plan->edited);
	strbuf_free(&plan->summary);
	strbuf_free(&plan->scripts);
	memset(plan, 0, sizeof(*plan));
}

void delivery_sieve_outcome(const struct delivery_sieve_plan *plan,
			    struct outcome *out)
{
	struct outcome_sieve *sieve = &out->sieve;
	size_t len = 0;

	snprintf(sieve->summary, sizeof(sieve->summary), "%s: %s",
		 plan->scripts.len > 0 ? plan->scripts.data : "(no script ran)",
		 plan->summary.data);
	sieve->actions[0] = '\0';
	for (unsigned int a = 0; a < DELIVERY_SIEVE_ACTION_COUNT; a++) {
		for (unsigned int n = 0; n < plan->counts[a]; n++) {
			int ret = snprintf(sieve->actions + len,
					   sizeof(sieve->actions) - len, "%s%s",
					   len > 0 ? " " : "", action_names[a]);

			if (ret < 0 || (size_t)ret >= sizeof(sieve->actions) - len) {
				sieve->actions[len] = '\0';
				break;
			}
			len += (size_t)ret;
		}
	}
	sieve->script_errors = plan->script_errors;
}

/* the system flags: IMAP name, maildir letter, mbox header and letter */
static const struct {
	const char *name;
	char maildir;
	bool status;		/* Status: (else X-Status:) */
	char mbox;
} system_flags[] = {
	{ "\\Draft", 'D', false, 'T' },
	{ "\\Flagged", 'F', false, 'F' },
	{ "\\Answered", 'R', false, 'A' },
	{ "\\Seen", 'S', true, 'R' },
	{ "\\Deleted", 'T', false, 'D' },
};

/* is_system_flag - name is one of the flags above */
static bool is_system_flag(const char *name)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(system_flags); i++) {
		if (strcasecmp(system_flags[i].name, name) == 0)
			return true;
	}
	return false;
}

void delivery_sieve_maildir_flags(const struct sieve_flags *flags,
				  char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; i < LOFT_N_ELEMENTS(system_flags) && len + 1 < size; i++) {
		if (sieve_flags_has(flags, system_flags[i].name))
			buf[len++] = system_flags[i].maildir;
	}
	buf[len] = '\0';
}

size_t delivery_sieve_keywords(const struct sieve_flags *flags, char **out,
			       size_t max)
{
	size_t count = 0;

	for (size_t i = 0; i < flags->count && count < max; i++) {
		if (!is_system_flag(flags->flags[i]) && flags->flags[i][0] != '\\')
			out[count++] = flags->flags[i];
	}
	return count;
}

void delivery_sieve_mbox_flags(const struct sieve_flags *flags,
			       struct strbuf *out)
{
	struct strbuf status, xstatus, keywords;

	strbuf_init(&status, 8);
	strbuf_init(&xstatus, 8);
	strbuf_init(&keywords, 64);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(system_flags); i++) {
		if (sieve_flags_has(flags, system_flags[i].name))
			strbuf_putc(system_flags[i].status ? &status : &xstatus,
				    system_flags[i].mbox);
	}
	for (size_t i = 0; i < flags->count; i++) {
		if (is_system_flag(flags->flags[i]) || flags->flags[i][0] == '\\')
			continue;
		if (keywords.len > 0)
			strbuf_putc(&keywords, ' ');
		strbuf_append_str(&keywords, flags->flags[i]);
	}
	if (status.len > 0)
		strbuf_appendf(out, "Status: %sO\n", status.data);
	if (xstatus.len > 0)
		strbuf_appendf(out, "X-Status: %s\n", xstatus.data);
	if (keywords.len > 0)
		strbuf_appendf(out, "X-Keywords: %s\n", keywords.data);
	strbuf_free(&status);
	strbuf_free(&xstatus);
	strbuf_free(&keywords);
}
