/*
 * quota_settings - parsing of the quota plugin's settings (see
 * quota_settings.h), following Dovecot 2.3's quota.c and quota-util.c.
 */
#include "quota_settings.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error_slot.h"
#include "mask.h"
#include "xalloc.h"

#define QUOTA_DEFAULT_GRACE "10%"
#define QUOTA_RULE_KEY_MAX 32

/* settings of the quota plugin that loft does not implement: naming one
   is an error (each changes what happens to mail or runs something) */
static const char *const quota_unimplemented_keys[] = {
	"quota2", "quota_warning", "quota_set", "quota_over_script",
	"quota_max_mail_size",
};

static __thread struct error_slot quota_settings_error;

#define quota_error(...) error_slot_set(&quota_settings_error, __VA_ARGS__)

/* parse_uint64 - decimal digits (at least one) at str; *end_r after them.
   false on none or overflow */
static bool parse_uint64(const char *str, uint64_t *value_r,
			 const char **end_r)
{
	uint64_t value = 0;

	if (*str < '0' || *str > '9')
		return false;
	for (; *str >= '0' && *str <= '9'; str++) {
		if (value > (UINT64_MAX - (uint64_t)(*str - '0')) / 10)
			return false;
		value = value * 10 + (uint64_t)(*str - '0');
	}
	*value_r = value;
	*end_r = str;
	return true;
}

/* parse_int64 - an optional '-' then digits, as Dovecot's
   str_parse_int64 */
static bool parse_int64(const char *str, int64_t *value_r, const char **end_r)
{
	bool negative = *str == '-';
	uint64_t value;

	if (!parse_uint64(str + (negative ? 1 : 0), &value, end_r) ||
	    value > (uint64_t)INT64_MAX)
		return false;
	*value_r = negative ? -(int64_t)value : (int64_t)value;
	return true;
}

bool quota_maildir_limit_parse(const char *str, uint64_t *bytes_r,
			       uint64_t *count_r)
{
	bool ok = true;

	*bytes_r = 0;
	*count_r = 0;
	for (;;) {
		size_t len = strcspn(str, ",");
		uint64_t value;
		const char *end;

		if (!parse_uint64(str, &value, &end) ||
		    end + 1 != str + len) {
			ok = false;
		} else if (*end == 'C') {
			if (value != 0)
				*count_r = value;
		} else if (*end == 'S') {
			if (value != 0)
				*bytes_r = value;
		} else {
			ok = false;
		}
		if (str[len] == '\0')
			break;
		str += len + 1;
	}
	return ok;
}

/* percent_of - Dovecot's limit * percent / 100, saturated instead of
   overflowing */
static int64_t percent_of(int64_t limit, int percent)
{
	int64_t whole, part = limit % 100 * percent / 100;

	if (__builtin_mul_overflow(limit / 100, (int64_t)percent, &whole) ||
	    __builtin_add_overflow(whole, part, &whole))
		return (limit < 0) != (percent < 0) ? INT64_MIN : INT64_MAX;
	return whole;
}

void quota_rule_limits(const struct quota_rule *rule, int64_t root_bytes,
		       int64_t root_count, int64_t *bytes_r, int64_t *count_r)
{
	*bytes_r = rule->bytes_percent == 0 ? rule->bytes_limit :
		percent_of(root_bytes, rule->bytes_percent);
	*count_r = rule->count_percent == 0 ? rule->count_limit :
		percent_of(root_count, rule->count_percent);
}

/* limit_unit - scale *limit by the unit at unit (Dovecot looks at its
   first character only); '%' makes it a percentage. 0 or -1 */
static int limit_unit(struct quota_settings *set, struct quota_rule *rule,
		      const char *unit, int64_t multiply, int64_t *limit,
		      const char **error_r)
{
	switch (toupper((unsigned char)*unit)) {
	case '\0': break;
	case 'B': multiply = 1; break;
	case 'K': multiply = 1024; break;
	case 'M': multiply = 1024 * 1024; break;
	case 'G': multiply = 1024LL * 1024 * 1024; break;
	case 'T': multiply = 1024LL * 1024 * 1024 * 1024; break;
	case '%':
		if (*limit <= -100 || *limit >= UINT_MAX || *limit > INT_MAX) {
			*error_r = "Invalid percentage";
			return -1;
		}
		if (rule == &set->default_rule) {
			*error_r = "Default rule can't be a percentage";
			return -1;
		}
		if (limit == &rule->bytes_limit)
			rule->bytes_percent = (int)*limit;
		else
			rule->count_percent = (int)*limit;
		multiply = 0;
		break;
	default:
		*error_r = quota_error("Unknown unit: %s", unit);
		return -1;
	}
	if (multiply != 0 && (*limit > INT64_MAX / multiply ||
			      *limit < INT64_MIN / multiply)) {
		*error_r = "Limit is too large";
		return -1;
	}
	*limit *= multiply;
	return 0;
}

/* rule_parse_limits - "storage=1G:messages=100" into rule */
static int rule_parse_limits(struct quota_settings *set,
			     struct quota_rule *rule, const char *limits,
			     bool relative, const char **error_r)
{
	char *copy = xstrdup(limits), *save = NULL, *arg;
	int ret = 0;

	for (arg = strtok_r(copy, ":", &save); ret == 0 && arg != NULL;
	     arg = strtok_r(NULL, ":", &save)) {
		char *value = strchr(arg, '=');
		int64_t multiply = 1, *limit;
		const char *end, *error;

		if (value == NULL)
			value = arg + strlen(arg);
		else
			*value++ = '\0';
		if (*value == '+') {
			if (!relative) {
				*error_r = "Rule limit cannot have '+'";
				ret = -1;
				break;
			}
			value++;
		}
		if (strcmp(arg, "storage") == 0) {
			multiply = 1024;
			limit = &rule->bytes_limit;
		} else if (strcmp(arg, "bytes") == 0) {
			limit = &rule->bytes_limit;
		} else if (strcmp(arg, "messages") == 0) {
			limit = &rule->count_limit;
		} else {
			*error_r = quota_error("Unknown rule limit name: %s", arg);
			ret = -1;
			break;
		}
		if (!parse_int64(value, limit, &end)) {
			*error_r = quota_error("Invalid %s limit: %s", arg, value);
			ret = -1;
		} else if (limit_unit(set, rule, end, multiply, limit,
				      &error) < 0) {
			*error_r = quota_error("Invalid rule limit value '%s=%s': %s",
					       arg, value, error);
			ret = -1;
		}
	}
	free(copy);
	if (ret == 0 && !relative &&
	    (rule->bytes_limit < 0 || rule->count_limit < 0)) {
		*error_r = rule->bytes_limit < 0 ? "Bytes limit can't be negative" :
			"Count limit can't be negative";
		ret = -1;
	}
	return ret;
}

/* rule_for_mask - the rule a mask names, added when new */
static struct quota_rule *rule_for_mask(struct quota_settings *set,
					const char *mask, size_t mask_len)
{
	struct quota_rule *rule;

	for (unsigned int i = 0; i < set->rule_count; i++) {
		if (strlen(set->rules[i].mailbox_mask) == mask_len &&
		    strncmp(set->rules[i].mailbox_mask, mask, mask_len) == 0)
			return &set->rules[i];
	}
	if (mask_len == 1 && (*mask == '?' || *mask == '*')) {
		if (*mask == '*')
			set->force_default_rule = true;
		return &set->default_rule;
	}
	set->rules = xreallocarray(set->rules, set->rule_count + 1,
				   sizeof(*set->rules));
	rule = &set->rules[set->rule_count++];
	memset(rule, 0, sizeof(*rule));
	rule->mailbox_mask = mask_len == 5 && strncasecmp(mask, "INBOX", 5) == 0 ?
		xstrdup("INBOX") : xstrndup(mask, mask_len);
	return rule;
}

/* rule_add - one quota_rule value: "<mailbox mask>:<limits>" */
static int rule_add(struct quota_settings *set, const char *def,
		    const char **error_r)
{
	const char *colon = strchr(def, ':'), *limits;
	struct quota_rule *rule;
	uint64_t bytes, count;

	if (colon == NULL) {
		*error_r = "Invalid rule";
		return -1;
	}
	rule = rule_for_mask(set, def, (size_t)(colon - def));
	limits = colon + 1;
	if (strcmp(limits, "ignore") == 0) {
		rule->ignore = true;
		return 0;
	}
	if (strncmp(limits, "backend=", 8) == 0) {
		if (strcmp(limits + 8, "NOQUOTA") == 0) {
			bytes = count = 0;
		} else if (!quota_maildir_limit_parse(limits + 8, &bytes, &count) ||
			   bytes > INT64_MAX || count > INT64_MAX) {
			*error_r = quota_error("quota-maildir: Invalid Maildir++ "
					       "quota rule \"%s\"", limits + 8);
			return -1;
		}
		rule->bytes_limit = (int64_t)bytes;
		rule->count_limit = (int64_t)count;
	} else if (rule_parse_limits(set, rule, limits,
				     rule != &set->default_rule, error_r) < 0) {
		return -1;
	}
	return 0;
}

/* root_parse - "maildir[:NAME[:PARAM[:PARAM...]]]" */
static int root_parse(struct quota_settings *set, const char *def,
		      const char **error_r)
{
	size_t backend_len = strcspn(def, ":");
	const char *name, *params;

	if (backend_len != 7 || strncmp(def, "maildir", 7) != 0) {
		*error_r = quota_error("quota backend %.*s is not implemented "
				       "by loft (only maildir is)",
				       (int)backend_len, def);
		return -1;
	}
	name = def[backend_len] == ':' ? def + backend_len + 1 : "";
	params = strchr(name, ':');
	set->root_name = params == NULL ? xstrdup(name) :
		xstrndup(name, (size_t)(params - name));
	while (params != NULL && params[1] != '\0') {
		const char *param = params + 1;
		size_t len;

		params = strchr(param, ':');
		len = params == NULL ? strlen(param) : (size_t)(params - param);
		if (len == 6 && strncmp(param, "hidden", len) == 0)
			continue;	/* IMAP GETQUOTAROOT only */
		if (len == 15 && strncmp(param, "ignoreunlimited", len) == 0)
			set->ignoreunlimited = true;
		else if (len == 11 && strncmp(param, "noenforcing", len) == 0)
			set->noenforcing = true;
		else if (len == 3 && strncmp(param, "ns=", len) == 0)
			continue;	/* the one (inbox) namespace */
		else {
			*error_r = quota_error("Unknown parameter for backend "
					       "maildir: %.*s", (int)len, param);
			return -1;
		}
	}
	return 0;
}

/* grace_parse - quota_grace: a size, or a percentage of the default rule */
static int grace_parse(struct quota_settings *set, const char *value,
		       const char **error_r)
{
	struct quota_rule *grace = &set->grace_rule;
	const char *end;

	if (!parse_int64(value, &grace->bytes_limit, &end)) {
		*error_r = quota_error("Invalid quota_grace value '%s'", value);
		return -1;
	}
	return limit_unit(set, grace, end, 1, &grace->bytes_limit, error_r);
}

/* rule_key - "quota_rule", "quota_rule2", ... for i = 1, 2, ... */
static const char *rule_key(char *buf, size_t size, unsigned int i)
{
	if (i == 1)
		snprintf(buf, size, "quota_rule");
	else
		snprintf(buf, size, "quota_rule%u", i);
	return buf;
}

int quota_settings_read(quota_settings_lookup_t *lookup, void *context,
			struct quota_settings **set_r, const char **key_r,
			const char **error_r)
{
	const char *root = lookup("quota", context), *value;
	char key[QUOTA_RULE_KEY_MAX];
	struct quota_settings *set;

	*set_r = NULL;
	for (size_t i = 0; i < LOFT_N_ELEMENTS(quota_unimplemented_keys); i++) {
		value = lookup(quota_unimplemented_keys[i], context);
		if (value != NULL && *value != '\0') {
			*key_r = quota_unimplemented_keys[i];
			*error_r = quota_error("%s is not implemented by loft",
					       quota_unimplemented_keys[i]);
			return -1;
		}
	}
	value = lookup("quota_vsizes", context);
	if (value != NULL && strcmp(value, "yes") == 0) {
		*key_r = "quota_vsizes";
		*error_r = "quota_vsizes is not implemented by loft";
		return -1;
	}
	if (root == NULL || *root == '\0')
		return 0;
	set = xcalloc(1, sizeof(*set));
	if (root_parse(set, root, error_r) < 0) {
		*key_r = "quota";
		goto failed;
	}
	for (unsigned int i = 1;; i++) {
		value = lookup(rule_key(key, sizeof(key), i), context);
		if (value == NULL)
			break;
		if (rule_add(set, value, error_r) < 0) {
			static __thread char failed_key[QUOTA_RULE_KEY_MAX];

			snprintf(failed_key, sizeof(failed_key), "%s", key);
			*key_r = failed_key;
			*error_r = quota_error("Invalid rule %s: %s", value,
					       *error_r);
			goto failed;
		}
	}
	value = lookup("quota_grace", context);
	if (grace_parse(set, value != NULL ? value : QUOTA_DEFAULT_GRACE,
			error_r) < 0) {
		*key_r = "quota_grace";
		goto failed;
	}
	value = lookup("quota_exceeded_message", context);
	set->exceeded_message = xstrdup(value != NULL ? value :
					QUOTA_DEFAULT_EXCEEDED_MESSAGE);
	*set_r = set;
	return 1;
failed:
	quota_settings_free(&set);
	return -1;
}

void quota_settings_free(struct quota_settings **_set)
{
	struct quota_settings *set = *_set;

	if (set == NULL)
		return;
	*_set = NULL;
	for (unsigned int i = 0; i < set->rule_count; i++)
		free(set->rules[i].mailbox_mask);
	free(set->rules);
	free(set->root_name);
	free(set->exceeded_message);
	free(set);
}

const struct quota_rule *
quota_settings_rule_find(const struct quota_settings *set, const char *mailbox)
{
	for (unsigned int i = 0; i < set->rule_count; i++) {
		if (mask_match_exact_case(set->rules[i].mailbox_mask, mailbox))
			return &set->rules[i];
	}
	return NULL;
}
