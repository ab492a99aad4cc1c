/*
 * sieve_result - actions and their combination rules (see sieve_result.h).
 */
#include "sieve_result.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void sieve_result_init(struct sieve_result *res)
{
	memset(res, 0, sizeof(*res));
	res->implicit_keep = true;
}

void sieve_flags_clear(struct sieve_flags *flags)
{
	for (size_t i = 0; i < flags->count; i++)
		free(flags->flags[i]);
	free(flags->flags);
	flags->flags = NULL;
	flags->count = 0;
}

static void action_free(struct sieve_action *act)
{
	free(act->target);
	sieve_flags_clear(&act->flags);
	free(act->vacation.subject);
	free(act->vacation.from);
	free(act->vacation.handle);
	free(act->handle);
	for (size_t i = 0; i < act->vacation.naddresses; i++)
		free(act->vacation.addresses[i]);
	free(act->vacation.addresses);
}

static void drop_actions(struct sieve_result *res)
{
	for (size_t i = 0; i < res->count; i++)
		action_free(&res->actions[i]);
	res->count = 0;
}

void sieve_result_free(struct sieve_result *res)
{
	drop_actions(res);
	free(res->actions);
	sieve_flags_clear(&res->keep_flags);
	sieve_header_list_free(&res->headers);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

void sieve_result_fail(struct sieve_result *res, char *error)
{
	drop_actions(res);
	sieve_header_list_free(&res->headers);
	sieve_flags_clear(&res->keep_flags);
	free(res->error);
	res->error = error;
	res->implicit_keep = true;
}

bool sieve_flags_has(const struct sieve_flags *flags, const char *flag)
{
	for (size_t i = 0; i < flags->count; i++) {
		if (strcasecmp(flags->flags[i], flag) == 0)
			return true;
	}
	return false;
}

/* each space-separated flag of list to fn */
static void each_flag(const char *list, struct sieve_flags *flags,
		      void (*fn)(struct sieve_flags *, const char *, size_t))
{
	const char *p = list;

	while (*p != '\0') {
		size_t len;

		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len > 0)
			fn(flags, p, len);
		p += len;
	}
}

/* the system flags, in the order Pigeonhole lists them */
static const char *const system_flags[] = {
	"\\flagged", "\\answered", "\\deleted", "\\seen", "\\draft",
};

static int system_flag_rank(const char *flag)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(system_flags); i++) {
		if (strcmp(flag, system_flags[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* flag_valid - a system flag IMAP knows (not \Recent) or a keyword
   atom (RFC 3501) */
static bool flag_valid(const char *flag)
{
	if (flag[0] == '\\')
		return system_flag_rank(flag) >= 0;
	for (const char *p = flag; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

static void add_one(struct sieve_flags *flags, const char *flag, size_t len)
{
	char *copy = xstrndup(flag, len);

	if (copy[0] == '\\') {
		for (char *c = copy; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	if (!flag_valid(copy) || sieve_flags_has(flags, copy) ||
	    flags->count >= 256) {
		free(copy);
		return;
	}
	flags->flags = xreallocarray(flags->flags, flags->count + 1,
				     sizeof(*flags->flags));
	flags->flags[flags->count++] = copy;
}

static void remove_one(struct sieve_flags *flags, const char *flag, size_t len)
{
	for (size_t i = 0; i < flags->count; i++) {
		if (strlen(flags->flags[i]) == len &&
		    strncasecmp(flags->flags[i], flag, len) == 0) {
			free(flags->flags[i]);
			memmove(&flags->flags[i], &flags->flags[i + 1],
				(flags->count - i - 1) * sizeof(*flags->flags));
			flags->count--;
			return;
		}
	}
}

void sieve_flags_add(struct sieve_flags *flags, const char *list)
{
	each_flag(list, flags, add_one);
}

void sieve_flags_remove(struct sieve_flags *flags, const char *list)
{
	each_flag(list, flags, remove_one);
}

void sieve_flags_copy(struct sieve_flags *dst, const struct sieve_flags *src)
{
	sieve_flags_clear(dst);
	for (size_t i = 0; i < src->count; i++)
		add_one(dst, src->flags[i], strlen(src->flags[i]));
}

const char *sieve_action_name(enum sieve_action_type type)
{
	switch (type) {
	case SIEVE_ACT_STORE: return "fileinto";
	case SIEVE_ACT_DISCARD: return "discard";
	case SIEVE_ACT_REDIRECT: return "redirect";
	case SIEVE_ACT_REJECT: return "reject";
	case SIEVE_ACT_EREJECT: return "ereject";
	case SIEVE_ACT_VACATION: return "vacation";
	case SIEVE_ACT_DUPLICATE: return "duplicate";
	}
	return "?";
}

static bool delivers(const struct sieve_action *act)
{
	return act->type == SIEVE_ACT_STORE || act->type == SIEVE_ACT_REDIRECT;
}

static bool is_reject(const struct sieve_action *act)
{
	return act->type == SIEVE_ACT_REJECT || act->type == SIEVE_ACT_EREJECT;
}

static int conflict(struct sieve_result *res, struct sieve_action *act,
		    const char *what, unsigned int other_line)
{
	char *error = xasprintf("line %u: %s (the other action is at line %u)",
				act->line, what, other_line);

	action_free(act);
	sieve_result_fail(res, error);
	return -1;
}

int sieve_result_add(struct sieve_result *res, struct sieve_action *act,
		     unsigned int max_redirects, unsigned int max_actions)
{
	/* sieve_max_redirects = 0: Pigeonhole's redirect command fails
	   before anything is added */
	if (act->type == SIEVE_ACT_REDIRECT && max_redirects == 0) {
		char *error = xasprintf("line %u: local policy prohibits the use of a redirect action",
					act->line);
		action_free(act);
		sieve_result_fail(res, error);
		return -1;
	}
	for (size_t i = 0; i < res->count; i++) {
		struct sieve_action *old = &res->actions[i];

		if (is_reject(act) && is_reject(old))
			return conflict(res, act, "duplicate reject/ereject action not allowed", old->line);
		if (act->type == SIEVE_ACT_VACATION && old->type == SIEVE_ACT_VACATION)
			return conflict(res, act, "duplicate vacation action not allowed", old->line);
		if (act->type == SIEVE_ACT_DUPLICATE && old->type == SIEVE_ACT_DUPLICATE &&
		    strcmp(act->target, old->target) == 0)
			return conflict(res, act, "the same duplicate is tracked twice", old->line);
		if ((is_reject(act) && (delivers(old) || old->type == SIEVE_ACT_VACATION)) ||
		    (is_reject(old) && (delivers(act) || act->type == SIEVE_ACT_VACATION)))
			return conflict(res, act, "reject/ereject conflicts with another action", old->line);
		if (old->type == act->type &&
		    (act->type == SIEVE_ACT_DISCARD ||
		     ((act->type == SIEVE_ACT_STORE || act->type == SIEVE_ACT_REDIRECT) &&
		      strcmp(old->target, act->target) == 0))) {
			/* the same action again is dropped, with no effect
			   on the implicit keep (as Pigeonhole does) */
			action_free(act);
			return 0;
		}
	}
	/* Pigeonhole's order: the total (0: no limit), the redirects */
	if (max_actions > 0 && res->count >= max_actions) {
		char *error = xasprintf("line %u: total number of actions exceeds policy limit (%zu > %u)",
					act->line, res->count + 1, max_actions);
		action_free(act);
		sieve_result_fail(res, error);
		return -1;
	}
	if (act->type == SIEVE_ACT_REDIRECT && ++res->redirects > max_redirects) {
		char *error = xasprintf("line %u: number of redirect actions exceeds policy limit (%zu > %u)",
					act->line, res->redirects, max_redirects);
		action_free(act);
		sieve_result_fail(res, error);
		return -1;
	}
	if (act->type != SIEVE_ACT_VACATION && act->type != SIEVE_ACT_DUPLICATE &&
	    !act->copy)
		res->implicit_keep = false;
	if (res->count == res->cap) {
		res->cap = res->cap == 0 ? 8 : res->cap * 2;
		res->actions = xreallocarray(res->actions, res->cap, sizeof(*res->actions));
	}
	res->actions[res->count++] = *act;
	memset(act, 0, sizeof(*act));
	return 0;
}

/* format_flags - system flags first in their fixed order, then the
   keywords as they were added */
static void format_flag(struct strbuf *out, const char *flag, bool *first)
{
	if (!*first)
		strbuf_putc(out, ',');
	*first = false;
	strbuf_append_printable(out, flag);
}

static void format_flags(struct strbuf *out, const struct sieve_flags *flags)
{
	bool first = true;

	if (flags->count == 0)
		return;
	strbuf_append_str(out, " flags=");
	for (size_t rank = 0; rank < LOFT_N_ELEMENTS(system_flags); rank++) {
		if (sieve_flags_has(flags, system_flags[rank]))
			format_flag(out, system_flags[rank], &first);
	}
	for (size_t i = 0; i < flags->count; i++) {
		if (system_flag_rank(flags->flags[i]) < 0)
			format_flag(out, flags->flags[i], &first);
	}
}

void sieve_result_format(const struct sieve_result *res, struct strbuf *out)
{
	if (res->error != NULL)
		strbuf_append_str(out, "error\n");
	for (size_t i = 0; i < res->count; i++) {
		const struct sieve_action *act = &res->actions[i];

		switch (act->type) {
		case SIEVE_ACT_STORE:
			strbuf_append_str(out, "store ");
			strbuf_append_printable(out, act->target);
			format_flags(out, &act->flags);
			if (act->create)
				strbuf_append_str(out, " create");
			if (act->copy)
				strbuf_append_str(out, " copy");
			break;
		case SIEVE_ACT_DISCARD:
			strbuf_append_str(out, "discard");
			break;
		case SIEVE_ACT_REDIRECT:
			strbuf_append_str(out, "redirect ");
			strbuf_append_printable(out, act->target);
			if (act->copy)
				strbuf_append_str(out, " copy");
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			strbuf_append_str(out, sieve_action_name(act->type));
			strbuf_putc(out, ' ');
			strbuf_append_printable(out, act->target);
			break;
		case SIEVE_ACT_VACATION:
			strbuf_appendf(out, "vacation seconds=%llu",
				       (unsigned long long)act->vacation.seconds);
			if (act->vacation.subject != NULL) {
				strbuf_append_str(out, " subject=");
				strbuf_append_printable(out, act->vacation.subject);
			}
			if (act->vacation.from != NULL) {
				strbuf_append_str(out, " from=");
				strbuf_append_printable(out, act->vacation.from);
			}
			break;
		case SIEVE_ACT_DUPLICATE:
			strbuf_append_str(out, act->last ? "duplicate-track last" :
					  "duplicate-track");
			if (act->handle != NULL) {
				strbuf_append_str(out, " handle=");
				strbuf_append_printable(out, act->handle);
			}
			break;
		}
		strbuf_putc(out, '\n');
	}
	if (res->implicit_keep) {
		strbuf_append_str(out, "implicit-keep INBOX");
		format_flags(out, &res->keep_flags);
		strbuf_putc(out, '\n');
	}
}
