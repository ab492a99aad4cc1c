/*
 * sieve_interp - runs a compiled script: walks the validated tree,
 * evaluates tests against the message and envelope, and hands actions to
 * sieve_result under its combination rules. Holds the run's state: the
 * variables, the imap4flags internal variable, the match budget.
 */
#include "sieve_interp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve_body.h"
#include "sieve_date.h"
#include "sieve_headers.h"
#include "sieve_include.h"
#include "sieve_vars.h"
#include "xalloc.h"

/* Pigeonhole's sieve_duplicate_default_period */
#define SIEVE_DUPLICATE_PERIOD (14 * 86400)

struct run {
	const struct sieve_script *script;
	const struct sieve_run_env *env;
	struct sieve_result *res;
	struct sieve_vars vars;
	struct sieve_flags flags;	/* imap4flags' internal variable */
	struct sieve_header_list headers;	/* with editheader's changes */
	struct sieve_vars globals;	/* include's global variables */
	/* include :once: the scripts already run */
	const struct sieve_script *ran[SIEVE_INCLUDE_MAX_SCRIPTS];
	size_t nran;
	uint64_t budget;
	char *error;
};

static int run_error(struct run *run, unsigned int line, const char *fmt, ...)
	LOFT_ATTR_FORMAT(3, 4);

static int run_error(struct run *run, unsigned int line, const char *fmt, ...)
{
	struct strbuf buf;
	va_list args;

	if (run->error == NULL) {
		strbuf_init(&buf, 64);
		strbuf_appendf(&buf, "line %u: ", line);
		va_start(args, fmt);
		strbuf_vappendf(&buf, fmt, args);
		va_end(args);
		run->error = strbuf_detach(&buf);
	}
	return -1;
}

static void trace(struct run *run, unsigned int line, const char *fmt, ...)
	LOFT_ATTR_FORMAT(3, 4);

/* format_string - one string argument for the trace, cut at 64 bytes */
static void format_string(const struct sieve_string *str, struct strbuf *out)
{
	char cut[68];

	snprintf(cut, sizeof(cut), "%.64s%s", str->data, str->len > 64 ? "..." : "");
	strbuf_putc(out, '"');
	strbuf_append_printable(out, cut);
	strbuf_putc(out, '"');
}

/* format_test - a test as written (name, tags, arguments), for the
   trace `loftadm debug` shows: why a branch was taken */
static void format_test(const struct sieve_node *node, struct strbuf *out)
{
	strbuf_append_str(out, node->name);
	for (size_t i = 0; i < node->nargs; i++) {
		const struct sieve_arg *arg = &node->args[i];

		strbuf_putc(out, ' ');
		switch (arg->type) {
		case SIEVE_ARG_NUMBER:
			strbuf_appendf(out, "%llu", (unsigned long long)arg->number);
			break;
		case SIEVE_ARG_TAG:
			if (arg->tag[0] != ':')
				strbuf_putc(out, ':');
			strbuf_append_str(out, arg->tag);
			break;
		case SIEVE_ARG_STRINGS:
			if (arg->is_list)
				strbuf_putc(out, '[');
			for (size_t n = 0; n < arg->nstrs && n < 8; n++) {
				if (n > 0)
					strbuf_append_str(out, ", ");
				format_string(&arg->strs[n], out);
			}
			if (arg->nstrs > 8)
				strbuf_append_str(out, ", ...");
			if (arg->is_list)
				strbuf_putc(out, ']');
			break;
		}
	}
}

static void trace(struct run *run, unsigned int line, const char *fmt, ...)
{
	struct strbuf buf;
	va_list args;

	if (run->env->trace == NULL)
		return;
	strbuf_init(&buf, 64);
	va_start(args, fmt);
	strbuf_vappendf(&buf, fmt, args);
	va_end(args);
	run->env->trace(run->env->context, line, buf.data);
	strbuf_free(&buf);
}

static bool uses_vars(const struct run *run)
{
	return (run->script->exts & (1u << SIEVE_EXT_VARIABLES)) != 0;
}

/* exec_block - 0 go on, 1 stop, 2 return, -1 error */
static int exec_block(struct run *run, const struct sieve_node *cmds,
		      size_t count);

/* include_command - run an included script with its own local
   variables (the globals shared); its return ends only it */
static int include_command(struct run *run, const struct sieve_node *node)
{
	const struct sieve_script *script = node->r.included, *outer = run->script;
	struct sieve_vars *saved;
	int ret;

	if (script == NULL) {
		trace(run, node->line, "include: optional script missing");
		return 0;
	}
	if ((node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_ONCE)) != 0) {
		for (size_t i = 0; i < run->nran; i++) {
			if (run->ran[i] == script)
				return 0;
		}
	}
	if (run->nran < SIEVE_INCLUDE_MAX_SCRIPTS)
		run->ran[run->nran++] = script;
	trace(run, node->line, "include %s", node->r.pos[0]->strs[0].data);
	saved = xmalloc(sizeof(*saved));
	*saved = run->vars;
	sieve_vars_init(&run->vars);
	run->vars.global = &run->globals;
	run->script = script;
	ret = exec_block(run, script->ast.cmds, script->ast.ncmds);
	run->script = outer;
	sieve_vars_free(&run->vars);
	run->vars = *saved;
	free(saved);
	return ret == 2 ? 0 : ret;
}

/* expand - a string argument with variables substituted, into out
   (reset first) */
static void expand(struct run *run, const struct sieve_string *str,
		   struct strbuf *out)
{
	strbuf_reset(out);
	if (uses_vars(run) && str->has_vars)
		sieve_vars_expand(&run->vars, str->data, str->len, out);
	else
		strbuf_append(out, str->data, str->len);
}

/* expand_dup - expand into a malloced string */
static char *expand_dup(struct run *run, const struct sieve_string *str)
{
	struct strbuf buf;

	strbuf_init(&buf, str->len + 1);
	expand(run, str, &buf);
	return strbuf_detach(&buf);
}

static void matcher_init(struct run *run, const struct sieve_node *node,
			 struct sieve_matcher *m)
{
	memset(m, 0, sizeof(*m));
	m->match = node->r.match;
	m->relop = node->r.relop;
	m->comparator = node->r.comparator;
	m->budget = &run->budget;
	m->capture = node->r.match == SIEVE_MATCH_MATCHES && uses_vars(run);
}

/* match_values - any value matches any key (:count: the number of
   values against the keys). 1, 0, or -1 on a runtime error */
static int match_values(struct run *run, const struct sieve_node *node,
			const struct sieve_values *values, const struct sieve_arg *keys)
{
	struct sieve_matcher m;
	struct strbuf key;
	int ret = 0;

	matcher_init(run, node, &m);
	strbuf_init(&key, 64);
	if (node->r.match == SIEVE_MATCH_COUNT) {
		char count[24];
		size_t count_len = (size_t)snprintf(count, sizeof(count), "%zu",
						    values->count);

		for (size_t k = 0; k < keys->nstrs && ret == 0; k++) {
			expand(run, &keys->strs[k], &key);
			ret = sieve_match_value(&m, count, count_len, key.data, key.len);
		}
	} else {
		for (size_t i = 0; i < values->count && ret == 0; i++) {
			for (size_t k = 0; k < keys->nstrs && ret == 0; k++) {
				expand(run, &keys->strs[k], &key);
				ret = sieve_match_value(&m, values->data[i],
							values->len[i], key.data,
							key.len);
			}
		}
	}
	strbuf_free(&key);
	if (ret < 0)
		return run_error(run, node->line,
				 "%s: matching took too much work", node->name);
	if (ret > 0 && m.capture)
		sieve_vars_set_matches(&run->vars, &m);
	return ret;
}

/* header_values - decoded values of the named headers; with :index
   only that occurrence (from the end with :last) */
static void header_values(struct run *run, const struct sieve_node *node,
			  const struct sieve_arg *names, bool decode,
			  struct sieve_values *out)
{
	const struct sieve_header_list *hdrs = &run->headers;
	const struct sieve_arg *index_arg = node->r.tag_arg[SIEVE_TAG_INDEX];
	bool last = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_LAST)) != 0;
	struct strbuf name, value;

	strbuf_init(&name, 32);
	strbuf_init(&value, 128);
	for (size_t n = 0; n < names->nstrs; n++) {
		uint64_t seen = 0, total = 0, want;

		expand(run, &names->strs[n], &name);
		for (size_t i = 0; i < hdrs->count; i++) {
			if (strcasecmp(hdrs->items[i].name, name.data) == 0)
				total++;
		}
		want = index_arg == NULL ? 0 : last ?
			(index_arg->number <= total ? total - index_arg->number + 1 : 0) :
			index_arg->number;
		if (index_arg != NULL && want == 0)
			continue;
		for (size_t i = 0; i < hdrs->count; i++) {
			if (strcasecmp(hdrs->items[i].name, name.data) != 0)
				continue;
			seen++;
			if (want != 0 && seen != want)
				continue;
			strbuf_reset(&value);
			if (decode)
				sieve_decode_mime_words(&value, hdrs->items[i].value);
			else
				strbuf_append_str(&value, hdrs->items[i].value);
			sieve_values_add(out, value.data, value.len);
		}
	}
	strbuf_free(&name);
	strbuf_free(&value);
}

/* address_part - the part of one address a test looks at; false when
   the address has no such part */
static bool address_part(const struct run *run, enum sieve_addrpart part,
			 const char *raw, const char *local,
			 const char *domain, struct strbuf *out)
{
	char sep = run->env->limits->subaddress_separator;
	const char *plus;

	strbuf_reset(out);
	switch (part) {
	case SIEVE_ADDR_ALL:
		strbuf_append_str(out, raw);
		return true;
	case SIEVE_ADDR_LOCALPART:
		if (local == NULL)
			return false;
		strbuf_append_str(out, local);
		return true;
	case SIEVE_ADDR_DOMAIN:
		if (domain == NULL)
			return false;
		strbuf_append_str(out, domain);
		return true;
	case SIEVE_ADDR_USER:
	case SIEVE_ADDR_DETAIL:
		if (local == NULL)
			return false;
		plus = strchr(local, sep);
		if (part == SIEVE_ADDR_USER) {
			strbuf_append(out, local, plus == NULL ? strlen(local) :
				      (size_t)(plus - local));
			return true;
		}
		if (plus == NULL)
			return false;
		strbuf_append_str(out, plus + 1);
		return true;
	}
	return false;
}

static void address_values(struct run *run, const struct sieve_node *node,
			   struct sieve_values *out)
{
	struct sieve_values raw = { 0 };
	struct strbuf part;

	header_values(run, node, node->r.pos[0], false, &raw);
	strbuf_init(&part, 64);
	for (size_t i = 0; i < raw.count; i++) {
		size_t count;
		struct sieve_address *addrs = sieve_parse_addresses(raw.data[i], &count);

		for (size_t a = 0; a < count; a++) {
			if (address_part(run, node->r.addrpart, addrs[a].raw,
					 addrs[a].local, addrs[a].domain, &part))
				sieve_values_add(out, part.data, part.len);
		}
		sieve_addresses_free(addrs, count);
	}
	strbuf_free(&part);
	sieve_values_free(&raw);
}

static void envelope_values(struct run *run, const struct sieve_node *node,
			    struct sieve_values *out)
{
	const struct sieve_envelope *env = run->env->envelope;
	const struct sieve_arg *parts = node->r.pos[0];
	struct strbuf name, part;

	strbuf_init(&name, 16);
	strbuf_init(&part, 64);
	for (size_t i = 0; i < parts->nstrs; i++) {
		const char *addr, *at;
		char *local = NULL, *domain = NULL;

		expand(run, &parts->strs[i], &name);
		if (strcasecmp(name.data, "from") == 0)
			addr = env->mail_from;
		else if (strcasecmp(name.data, "to") == 0)
			addr = env->rcpt_to;
		else
			continue;
		if (addr == NULL)
			continue;
		if (*addr == '\0') {
			/* the null reverse-path: "" for every part */
			if (node->r.addrpart != SIEVE_ADDR_DETAIL)
				sieve_values_add(out, "", 0);
			continue;
		}
		if ((at = strrchr(addr, '@')) != NULL) {
			local = xstrndup(addr, (size_t)(at - addr));
			domain = xstrdup(at + 1);
		}
		if (address_part(run, node->r.addrpart, addr, local, domain, &part))
			sieve_values_add(out, part.data, part.len);
		free(local);
		free(domain);
	}
	strbuf_free(&name);
	strbuf_free(&part);
}

static int eval_test(struct run *run, const struct sieve_node *node);
static int add_action(struct run *run, struct sieve_action *act);
static int duplicate_test(struct run *run, const struct sieve_node *node);

/* strings_values - each expanded string of a list */
static void strings_values(struct run *run, const struct sieve_arg *arg,
			   struct sieve_values *out)
{
	struct strbuf buf;

	strbuf_init(&buf, 64);
	for (size_t i = 0; i < arg->nstrs; i++) {
		expand(run, &arg->strs[i], &buf);
		sieve_values_add(out, buf.data, buf.len);
	}
	strbuf_free(&buf);
}

/* var_flags - the flags held in the variable named by name */
static void var_flags(struct run *run, const struct sieve_string *name,
		      struct sieve_flags *flags)
{
	struct strbuf ref, value;

	strbuf_init(&ref, 32);
	strbuf_init(&value, 64);
	strbuf_append_str(&ref, "${");
	sieve_vars_expand(&run->vars, name->data, name->len, &ref);
	strbuf_putc(&ref, '}');
	sieve_vars_expand(&run->vars, ref.data, ref.len, &value);
	sieve_flags_add(flags, value.data);
	strbuf_free(&ref);
	strbuf_free(&value);
}

/* flag_values - hasflag's values: the internal variable's flags, or
   those of the named variables */
static void flag_values(struct run *run, const struct sieve_node *node,
			struct sieve_values *out)
{
	struct sieve_flags flags = { NULL, 0 };

	if (node->r.npos == 2) {
		for (size_t i = 0; i < node->r.pos[0]->nstrs; i++)
			var_flags(run, &node->r.pos[0]->strs[i], &flags);
	} else {
		sieve_flags_copy(&flags, &run->flags);
	}
	for (size_t f = 0; f < flags.count; f++)
		sieve_values_add(out, flags.flags[f], strlen(flags.flags[f]));
	sieve_flags_clear(&flags);
}

/* date_values - the date part of each dated header (date) or of now
   (currentdate), in the zone the test asks for. -1 on an invalid zone */
static int date_values(struct run *run, const struct sieve_node *node,
		       struct sieve_values *out)
{
	bool current = node->r.spec->id == SIEVE_TEST_CURRENTDATE;
	const struct sieve_arg *zone_arg = node->r.tag_arg[SIEVE_TAG_ZONE];
	bool original = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_ORIGINALZONE)) != 0;
	struct sieve_values raw = { 0 };
	struct strbuf part, buf;
	int zone = 0;

	strbuf_init(&part, 16);
	strbuf_init(&buf, 64);
	if (zone_arg != NULL) {
		/* an invalid zone is ignored, as Pigeonhole does: the date
		   stays in its own zone */
		expand(run, &zone_arg->strs[0], &buf);
		if (!sieve_zone_parse(buf.data, &zone)) {
			zone_arg = NULL;
			original = true;
		}
	}
	expand(run, &node->r.pos[current ? 0 : 1]->strs[0], &part);
	if (current) {
		struct sieve_date date = { run->env->now, 0 };

		date.zone = zone_arg != NULL ? zone : sieve_local_zone(date.when);
		if (sieve_date_part(&date, part.data, &buf))
			sieve_values_add(out, buf.data, buf.len);
	} else {
		header_values(run, node, node->r.pos[0], false, &raw);
		for (size_t i = 0; i < raw.count; i++) {
			struct sieve_date date;

			if (!sieve_date_parse(raw.data[i], &date))
				continue;
			if (zone_arg != NULL)
				date.zone = zone;
			else if (!original)
				date.zone = sieve_local_zone(date.when);
			if (sieve_date_part(&date, part.data, &buf))
				sieve_values_add(out, buf.data, buf.len);
		}
	}
	sieve_values_free(&raw);
	strbuf_free(&part);
	strbuf_free(&buf);
	return 0;
}

/* eval_match_test - the tests that match values against keys */
static int eval_match_test(struct run *run, const struct sieve_node *node)
{
	struct sieve_values values = { 0 };
	const struct sieve_arg *keys = node->r.pos[node->r.npos - 1];
	int ret;

	switch (node->r.spec->id) {
	case SIEVE_TEST_HEADER:
		header_values(run, node, node->r.pos[0], true, &values);
		break;
	case SIEVE_TEST_ADDRESS:
		address_values(run, node, &values);
		break;
	case SIEVE_TEST_ENVELOPE:
		envelope_values(run, node, &values);
		break;
	case SIEVE_TEST_STRING:
		strings_values(run, node->r.pos[0], &values);
		if (node->r.match == SIEVE_MATCH_COUNT) {
			/* :count counts the non-empty strings */
			struct sieve_values nonempty = { 0 };
			for (size_t i = 0; i < values.count; i++) {
				if (values.len[i] > 0)
					sieve_values_add(&nonempty, values.data[i], values.len[i]);
			}
			sieve_values_free(&values);
			values = nonempty;
		}
		break;
	case SIEVE_TEST_HASFLAG:
		flag_values(run, node, &values);
		break;
	case SIEVE_TEST_DATE:
	case SIEVE_TEST_CURRENTDATE:
		if (date_values(run, node, &values) < 0) {
			sieve_values_free(&values);
			return -1;
		}
		break;
	case SIEVE_TEST_BODY:
		if (sieve_body_values(run->env->msg, node, &values) < 0) {
			sieve_values_free(&values);
			return run_error(run, node->line, "body: message too complex");
		}
		break;
	default:
		return run_error(run, node->line, "test %s is not implemented",
				 node->name);
	}
	ret = match_values(run, node, &values, keys);
	sieve_values_free(&values);
	return ret;
}

static int eval_test(struct run *run, const struct sieve_node *node)
{
	int ret = 0;

	switch (node->r.spec->id) {
	case SIEVE_TEST_TRUE:
		ret = 1;
		break;
	case SIEVE_TEST_FALSE:
		ret = 0;
		break;
	case SIEVE_TEST_NOT:
		ret = eval_test(run, &node->tests[0]);
		if (ret >= 0)
			ret = !ret;
		break;
	case SIEVE_TEST_ALLOF:
	case SIEVE_TEST_ANYOF: {
		bool any = node->r.spec->id == SIEVE_TEST_ANYOF;

		ret = any ? 0 : 1;
		for (size_t i = 0; i < node->ntests; i++) {
			int sub = eval_test(run, &node->tests[i]);

			if (sub < 0)
				return -1;
			if (any && sub) {
				ret = 1;
				break;
			}
			if (!any && !sub) {
				ret = 0;
				break;
			}
		}
		break;
	}
	case SIEVE_TEST_EXISTS: {
		const struct sieve_arg *names = node->r.pos[0];
		struct strbuf name;

		strbuf_init(&name, 32);
		ret = 1;
		for (size_t n = 0; n < names->nstrs && ret; n++) {
			bool found = false;

			expand(run, &names->strs[n], &name);
			for (size_t i = 0; i < run->headers.count && !found; i++)
				found = strcasecmp(run->headers.items[i].name,
						   name.data) == 0;
			ret = found;
		}
		strbuf_free(&name);
		break;
	}
	case SIEVE_TEST_SIZE: {
		uint64_t limit = node->r.pos[0]->number, size = run->env->msg->size;

		ret = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_OVER)) != 0 ?
			size > limit : size < limit;
		break;
	}
	case SIEVE_TEST_MAILBOXEXISTS: {
		struct strbuf name;

		strbuf_init(&name, 32);
		ret = 1;
		for (size_t n = 0; n < node->r.pos[0]->nstrs && ret; n++) {
			expand(run, &node->r.pos[0]->strs[n], &name);
			ret = run->env->mailbox_exists != NULL &&
				run->env->mailbox_exists(run->env->context, name.data);
		}
		strbuf_free(&name);
		break;
	}
	case SIEVE_TEST_DUPLICATE:
		ret = duplicate_test(run, node);
		break;
	default:
		ret = eval_match_test(run, node);
		break;
	}
	if (ret >= 0 && run->env->trace != NULL) {
		struct strbuf src;

		strbuf_init(&src, 64);
		format_test(node, &src);
		trace(run, node->line, "%s: %s", src.data, ret ? "true" : "false");
		strbuf_free(&src);
	}
	return ret;
}

/* duplicate_test - RFC 7352: whether this message's id (Message-ID, or
   :header's, or :uniqueid) was seen under the handle; tracks it (an
   action, done only when the delivery succeeds). No id: false. */
static int duplicate_test(struct run *run, const struct sieve_node *node)
{
	const struct sieve_resolved *r = &node->r;
	const struct sieve_arg *header = r->tag_arg[SIEVE_TAG_HEADER];
	const struct sieve_arg *uniqueid = r->tag_arg[SIEVE_TAG_UNIQUEID];
	const struct sieve_arg *handle = r->tag_arg[SIEVE_TAG_HANDLE];
	const struct sieve_arg *seconds = r->tag_arg[SIEVE_TAG_SECONDS];
	struct sieve_action act;
	struct strbuf id, key;
	bool seen;

	strbuf_init(&id, 64);
	strbuf_init(&key, 64);
	if (uniqueid != NULL) {
		expand(run, &uniqueid->strs[0], &id);
	} else {
		struct strbuf name;
		const char *value = NULL;

		strbuf_init(&name, 32);
		if (header != NULL)
			expand(run, &header->strs[0], &name);
		else
			strbuf_append_str(&name, "message-id");
		for (size_t i = 0; i < run->headers.count && value == NULL; i++) {
			if (strcasecmp(run->headers.items[i].name, name.data) == 0)
				value = run->headers.items[i].value;
		}
		strbuf_free(&name);
		if (value == NULL) {
			strbuf_free(&id);
			strbuf_free(&key);
			return 0;
		}
		strbuf_append_str(&id, value);
	}
	memset(&act, 0, sizeof(act));
	act.type = SIEVE_ACT_DUPLICATE;
	act.line = node->line;
	if (handle != NULL)
		act.handle = expand_dup(run, &handle->strs[0]);
	/* the key: "h" handle NUL... kept printable: handle, a space, id */
	strbuf_appendf(&key, "%s %s", act.handle == NULL ? "-" : act.handle, id.data);
	seen = run->env->duplicate_seen != NULL &&
		run->env->duplicate_seen(run->env->context, key.data);
	act.target = strbuf_detach(&key);
	act.seconds = seconds != NULL ? seconds->number : SIEVE_DUPLICATE_PERIOD;
	act.last = (r->tags & SIEVE_TAGBIT(SIEVE_TAG_LAST)) != 0;
	strbuf_free(&id);
	if (add_action(run, &act) < 0)
		return -1;
	return seen ? 1 : 0;
}

static void flags_of_arg(struct run *run, const struct sieve_arg *arg,
			 struct sieve_flags *flags)
{
	struct sieve_values values = { 0 };

	strings_values(run, arg, &values);
	for (size_t i = 0; i < values.count; i++)
		sieve_flags_add(flags, values.data[i]);
	sieve_values_free(&values);
}

static int add_action(struct run *run, struct sieve_action *act)
{
	const struct sieve_limits *limits = run->env->limits;

	trace(run, act->line, "action: %s%s%s", sieve_action_name(act->type),
	      act->target != NULL && act->type != SIEVE_ACT_VACATION ? " " : "",
	      act->target != NULL && act->type != SIEVE_ACT_VACATION ? act->target : "");
	if (sieve_result_add(run->res, act, limits->max_redirects,
			     limits->max_actions) < 0) {
		run->error = run->res->error;
		run->res->error = NULL;
		return -1;
	}
	return 0;
}

/* store_action - keep (mailbox NULL: INBOX) or fileinto */
static int store_action(struct run *run, const struct sieve_node *node,
			const char *mailbox)
{
	struct sieve_action act;
	const struct sieve_arg *flags = node->r.tag_arg[SIEVE_TAG_FLAGS];

	memset(&act, 0, sizeof(act));
	act.type = SIEVE_ACT_STORE;
	act.line = node->line;
	act.target = xstrdup(mailbox);
	act.copy = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_COPY)) != 0;
	act.create = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_CREATE)) != 0;
	act.keep = node->r.spec->id == SIEVE_CMD_KEEP;
	if (flags != NULL)
		flags_of_arg(run, flags, &act.flags);
	else
		sieve_flags_copy(&act.flags, &run->flags);
	return add_action(run, &act);
}

static int vacation_action(struct run *run, const struct sieve_node *node)
{
	const struct sieve_resolved *r = &node->r;
	struct sieve_action act;
	uint64_t seconds = run->env->limits->vacation_default_period;

	memset(&act, 0, sizeof(act));
	act.type = SIEVE_ACT_VACATION;
	act.line = node->line;
	act.target = expand_dup(run, &r->pos[0]->strs[0]);
	if (r->tag_arg[SIEVE_TAG_DAYS] != NULL) {
		uint64_t days = r->tag_arg[SIEVE_TAG_DAYS]->number;
		seconds = days > UINT32_MAX ? (uint64_t)UINT32_MAX * 86400 : days * 86400;
	} else if (r->tag_arg[SIEVE_TAG_SECONDS] != NULL) {
		seconds = r->tag_arg[SIEVE_TAG_SECONDS]->number;
	}
	/* sieve_vacation_min_period / max_period, as Pigeonhole clamps
	   :days and :seconds when compiling and the period once more when
	   marking the sender answered */
	if (seconds < run->env->limits->vacation_min_period)
		seconds = run->env->limits->vacation_min_period;
	else if (run->env->limits->vacation_max_period != 0 &&
		 seconds > run->env->limits->vacation_max_period)
		seconds = run->env->limits->vacation_max_period;
	act.vacation.seconds = seconds;
	if (r->tag_arg[SIEVE_TAG_SUBJECT] != NULL)
		act.vacation.subject = expand_dup(run, &r->tag_arg[SIEVE_TAG_SUBJECT]->strs[0]);
	if (r->tag_arg[SIEVE_TAG_FROM] != NULL)
		act.vacation.from = expand_dup(run, &r->tag_arg[SIEVE_TAG_FROM]->strs[0]);
	if (r->tag_arg[SIEVE_TAG_HANDLE] != NULL)
		act.vacation.handle = expand_dup(run, &r->tag_arg[SIEVE_TAG_HANDLE]->strs[0]);
	if (r->tag_arg[SIEVE_TAG_ADDRESSES] != NULL) {
		const struct sieve_arg *list = r->tag_arg[SIEVE_TAG_ADDRESSES];

		act.vacation.addresses = xcalloc(list->nstrs, sizeof(char *));
		for (size_t i = 0; i < list->nstrs; i++)
			act.vacation.addresses[i] = expand_dup(run, &list->strs[i]);
		act.vacation.naddresses = list->nstrs;
	}
	act.vacation.mime = (r->tags & SIEVE_TAGBIT(SIEVE_TAG_MIME)) != 0;
	return add_action(run, &act);
}

static int set_command(struct run *run, const struct sieve_node *node)
{
	static const struct { enum sieve_tag tag; unsigned int mod; } mods[] = {
		{ SIEVE_TAG_LOWER, SIEVE_MOD_LOWER },
		{ SIEVE_TAG_UPPER, SIEVE_MOD_UPPER },
		{ SIEVE_TAG_LOWERFIRST, SIEVE_MOD_LOWERFIRST },
		{ SIEVE_TAG_UPPERFIRST, SIEVE_MOD_UPPERFIRST },
		{ SIEVE_TAG_QUOTEWILDCARD, SIEVE_MOD_QUOTEWILDCARD },
		{ SIEVE_TAG_LENGTH, SIEVE_MOD_LENGTH },
	};
	unsigned int set = 0;
	struct strbuf value;
	int ret;

	for (size_t i = 0; i < LOFT_N_ELEMENTS(mods); i++) {
		if ((node->r.tags & SIEVE_TAGBIT(mods[i].tag)) != 0)
			set |= mods[i].mod;
	}
	strbuf_init(&value, 64);
	expand(run, &node->r.pos[1]->strs[0], &value);
	sieve_vars_modify(&value, set);
	ret = sieve_vars_set(&run->vars, node->r.pos[0]->strs[0].data,
			     value.data, value.len);
	strbuf_free(&value);
	if (ret < 0)
		return run_error(run, node->line, "too many variables");
	return 0;
}

/* flag_command - addflag/setflag/removeflag on the internal variable or
   a named one */
static int flag_command(struct run *run, const struct sieve_node *node)
{
	enum sieve_id id = node->r.spec->id;
	const struct sieve_arg *list = node->r.pos[node->r.npos - 1];
	struct sieve_flags change = { NULL, 0 };

	flags_of_arg(run, list, &change);
	if (node->r.npos == 2) {
		const struct sieve_string *name = &node->r.pos[0]->strs[0];
		struct sieve_flags cur = { NULL, 0 };
		struct strbuf var, flat;
		int ret;

		if (id != SIEVE_CMD_SETFLAG)
			var_flags(run, name, &cur);
		for (size_t i = 0; i < change.count; i++) {
			if (id == SIEVE_CMD_REMOVEFLAG)
				sieve_flags_remove(&cur, change.flags[i]);
			else
				sieve_flags_add(&cur, change.flags[i]);
		}
		strbuf_init(&flat, 64);
		for (size_t i = 0; i < cur.count; i++)
			strbuf_appendf(&flat, "%s%s", i > 0 ? " " : "", cur.flags[i]);
		strbuf_init(&var, 32);
		sieve_vars_expand(&run->vars, name->data, name->len, &var);
		ret = sieve_vars_set(&run->vars, var.data, flat.data, flat.len);
		strbuf_free(&var);
		strbuf_free(&flat);
		sieve_flags_clear(&cur);
		sieve_flags_clear(&change);
		if (ret < 0)
			return run_error(run, node->line, "too many variables");
		return 0;
	}
	if (id == SIEVE_CMD_SETFLAG)
		sieve_flags_clear(&run->flags);
	for (size_t i = 0; i < change.count; i++) {
		if (id == SIEVE_CMD_REMOVEFLAG)
			sieve_flags_remove(&run->flags, change.flags[i]);
		else
			sieve_flags_add(&run->flags, change.flags[i]);
	}
	sieve_flags_clear(&change);
	return 0;
}

/* addheader - RFC 5293: a field first (or :last) */
static int addheader_command(struct run *run, const struct sieve_node *node)
{
	char *name = expand_dup(run, &node->r.pos[0]->strs[0]);
	char *value = expand_dup(run, &node->r.pos[1]->strs[0]);
	int ret = 0;

	if (!sieve_header_name_valid(name))
		ret = run_error(run, node->line, "addheader: invalid field name");
	else if (strlen(name) + strlen(value) + 2 > SIEVE_EDITHEADER_MAX_SIZE)
		ret = run_error(run, node->line, "addheader: field too large");
	else if (!sieve_header_edit_allowed(name, false))
		trace(run, node->line, "addheader: adding %s is not allowed", name);
	else
		sieve_header_list_add(&run->headers, name, value,
				      (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_LAST)) != 0);
	free(name);
	free(value);
	return ret;
}

/* deleteheader - RFC 5293: the named fields (the :index one), or those
   whose value matches one of the patterns */
static int deleteheader_command(struct run *run, const struct sieve_node *node)
{
	const struct sieve_arg *index_arg = node->r.tag_arg[SIEVE_TAG_INDEX];
	const struct sieve_arg *patterns = node->r.npos == 2 ? node->r.pos[1] : NULL;
	bool last = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_LAST)) != 0;
	char *name = expand_dup(run, &node->r.pos[0]->strs[0]);
	struct sieve_header_list *hdrs = &run->headers;
	uint64_t total = 0, seen = 0, want = 0;
	int ret = 0;

	if (!sieve_header_name_valid(name) || !sieve_header_edit_allowed(name, true)) {
		trace(run, node->line, "deleteheader: deleting %s is not allowed", name);
		free(name);
		return 0;
	}
	for (size_t i = 0; i < hdrs->count; i++)
		total += strcasecmp(hdrs->items[i].name, name) == 0;
	if (index_arg != NULL) {
		want = last ? (index_arg->number <= total ?
			       total - index_arg->number + 1 : 0) : index_arg->number;
		if (want == 0 || want > total) {
			free(name);
			return 0;
		}
	}
	for (size_t i = 0; i < hdrs->count && ret >= 0; ) {
		bool remove = false;

		if (strcasecmp(hdrs->items[i].name, name) != 0) {
			i++;
			continue;
		}
		seen++;
		if (want == 0 || seen == want) {
			remove = true;
			if (patterns != NULL) {
				struct sieve_values one = { 0 };
				struct strbuf decoded;

				strbuf_init(&decoded, 64);
				sieve_decode_mime_words(&decoded, hdrs->items[i].value);
				sieve_values_add(&one, decoded.data, decoded.len);
				ret = match_values(run, node, &one, patterns);
				remove = ret > 0;
				sieve_values_free(&one);
				strbuf_free(&decoded);
			}
		}
		if (remove)
			sieve_header_list_remove(hdrs, i);
		else
			i++;
	}
	free(name);
	return ret < 0 ? -1 : 0;
}

/* exec_command - 0 go on, 1 stop, 2 return, -1 error */
static int exec_command(struct run *run, const struct sieve_node *node)
{
	struct sieve_action act;
	char *arg;

	memset(&act, 0, sizeof(act));
	act.line = node->line;
	switch (node->r.spec->id) {
	case SIEVE_CMD_STOP:
		trace(run, node->line, "stop");
		return 1;
	case SIEVE_CMD_KEEP:
		return store_action(run, node, "INBOX");
	case SIEVE_CMD_DISCARD:
		act.type = SIEVE_ACT_DISCARD;
		return add_action(run, &act);
	case SIEVE_CMD_FILEINTO:
		arg = expand_dup(run, &node->r.pos[0]->strs[0]);
		if (!sieve_mailbox_name_valid(arg)) {
			int ret = run_error(run, node->line, "invalid mailbox name");
			free(arg);
			return ret;
		}
		int ret = store_action(run, node, arg);
		free(arg);
		return ret;
	case SIEVE_CMD_REDIRECT:
		arg = expand_dup(run, &node->r.pos[0]->strs[0]);
		if (!sieve_address_valid(arg)) {
			int err = run_error(run, node->line,
					    "specified redirect address is invalid");
			free(arg);
			return err;
		}
		act.type = SIEVE_ACT_REDIRECT;
		act.target = arg;
		act.copy = (node->r.tags & SIEVE_TAGBIT(SIEVE_TAG_COPY)) != 0;
		return add_action(run, &act);
	case SIEVE_CMD_REJECT:
	case SIEVE_CMD_EREJECT:
		act.type = node->r.spec->id == SIEVE_CMD_REJECT ?
			SIEVE_ACT_REJECT : SIEVE_ACT_EREJECT;
		act.target = expand_dup(run, &node->r.pos[0]->strs[0]);
		return add_action(run, &act);
	case SIEVE_CMD_VACATION:
		return vacation_action(run, node);
	case SIEVE_CMD_SET:
		return set_command(run, node);
	case SIEVE_CMD_ADDFLAG:
	case SIEVE_CMD_SETFLAG:
	case SIEVE_CMD_REMOVEFLAG:
		return flag_command(run, node);
	case SIEVE_CMD_INCLUDE:
		return include_command(run, node);
	case SIEVE_CMD_RETURN:
		trace(run, node->line, "return");
		return 2;
	case SIEVE_CMD_GLOBAL:
		for (size_t i = 0; i < node->r.pos[0]->nstrs; i++)
			sieve_vars_declare_global(&run->vars, node->r.pos[0]->strs[i].data);
		return 0;
	case SIEVE_CMD_ADDHEADER:
		return addheader_command(run, node);
	case SIEVE_CMD_DELETEHEADER:
		return deleteheader_command(run, node);
	default:
		return run_error(run, node->line, "command %s is not implemented",
				 node->name);
	}
}

static int exec_block(struct run *run, const struct sieve_node *cmds,
		      size_t count)
{
	bool taken = false;

	for (size_t i = 0; i < count; i++) {
		const struct sieve_node *node = &cmds[i];
		enum sieve_id id = node->r.spec->id;
		int ret;

		if (id == SIEVE_CMD_REQUIRE)
			continue;
		if (id == SIEVE_CMD_IF || id == SIEVE_CMD_ELSIF || id == SIEVE_CMD_ELSE) {
			if (id != SIEVE_CMD_IF && taken)
				continue;
			if (id == SIEVE_CMD_ELSE) {
				ret = 1;
			} else if ((ret = eval_test(run, &node->tests[0])) < 0) {
				return -1;
			}
			taken = ret > 0;
			if (!taken)
				continue;
			ret = exec_block(run, node->block, node->nblock);
		} else {
			ret = exec_command(run, node);
		}
		if (ret != 0)
			return ret;
	}
	return 0;
}

void sieve_interp_run(const struct sieve_script *script,
		      const struct sieve_run_env *env, struct sieve_result *res)
{
	struct run run;

	memset(&run, 0, sizeof(run));
	run.script = script;
	run.env = env;
	run.res = res;
	run.budget = env->limits->max_match_steps;
	sieve_vars_init(&run.vars);
	sieve_vars_init(&run.globals);
	if ((script->exts & (1u << SIEVE_EXT_INCLUDE)) != 0)
		run.vars.global = &run.globals;
	sieve_header_list_view(&run.headers, env->msg);
	if (exec_block(&run, script->ast.cmds, script->ast.ncmds) < 0) {
		trace(&run, 0, "error: %s", run.error);
		sieve_result_fail(res, run.error);
		run.error = NULL;
	} else {
		if (res->implicit_keep)
			sieve_flags_copy(&res->keep_flags, &run.flags);
		if (run.headers.owned) {
			/* the edited header goes to the delivery */
			res->headers = run.headers;
			memset(&run.headers, 0, sizeof(run.headers));
		}
	}
	sieve_header_list_free(&run.headers);
	free(run.error);
	sieve_flags_clear(&run.flags);
	sieve_vars_free(&run.vars);
	sieve_vars_free(&run.globals);
}
