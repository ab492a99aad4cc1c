/*
 * quota_settings - Dovecot's quota plugin settings, parsed as its
 * quota-util.c parses them: the root (`quota = maildir:User quota`),
 * the rules (`quota_rule = *:storage=1G`, `quota_rule2 =
 * Trash:storage=+100M`, ... up to the first missing number), the grace
 * (`quota_grace`, default 10% of the default rule) and the refusal text
 * (`quota_exceeded_message`).
 *
 * Values come through a lookup callback, so the delivery core can put a
 * user's userdb fields before the `plugin { }` block (userdb fields
 * override plugin settings, as in Dovecot) and the config check can look
 * at the block alone. Only the `maildir` backend exists; settings of the
 * plugin that loft does not implement (more roots, warnings, quota_set,
 * quota_over_script, ...) are errors naming the setting. No I/O here.
 */
#ifndef LOFT_QUOTA_SETTINGS_H
#define LOFT_QUOTA_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#define QUOTA_DEFAULT_EXCEEDED_MESSAGE \
	"Quota exceeded (mailbox for user is full)"

struct quota_rule {
	char *mailbox_mask;	/* NULL: the default rule ("*" or "?") */
	int64_t bytes_limit, count_limit;
	/* percentages of the default rule's limits (0: none) */
	int bytes_percent, count_percent;
	bool ignore;		/* mailbox not counted in quota */
};

struct quota_settings {
	char *root_name;	/* "User quota" */
	struct quota_rule default_rule;
	/* the default rule was given as "*": its limits win over the
	   limits a maildirsize file carries ("?": the file's win) */
	bool force_default_rule;
	struct quota_rule *rules;
	unsigned int rule_count;
	struct quota_rule grace_rule;	/* bytes_limit: the grace in bytes */
	char *exceeded_message;
	bool noenforcing;	/* count, never refuse */
	bool ignoreunlimited;	/* no bookkeeping for unlimited users */
};

/* the value of a setting (key "quota_rule2"), or NULL when unset */
typedef const char *quota_settings_lookup_t(const char *key, void *context);

/* quota_settings_read - 1 with *set_r; 0 when no quota root is configured
   (`quota` unset or empty); -1 with *key_r (the setting at fault) and
   *error_r (static storage) */
int quota_settings_read(quota_settings_lookup_t *lookup, void *context,
			struct quota_settings **set_r, const char **key_r,
			const char **error_r);
void quota_settings_free(struct quota_settings **set);

/* quota_rule_limits - a rule's limits, its percentages taken of the
   root's limits (the default rule's, or those of a maildirsize file) */
void quota_rule_limits(const struct quota_rule *rule, int64_t root_bytes,
		       int64_t root_count, int64_t *bytes_r, int64_t *count_r);

/* quota_settings_rule_find - the first mailbox rule whose mask matches
   mailbox (case-sensitive wildcards), or NULL */
const struct quota_rule *
quota_settings_rule_find(const struct quota_settings *set, const char *mailbox);

/* quota_maildir_limit_parse - a Maildir++ limit "1000S,50C" (either part,
   0 = unlimited): false when a part does not parse (the others are still
   used, as Dovecot does) */
bool quota_maildir_limit_parse(const char *str, uint64_t *bytes_r,
			       uint64_t *count_r);

#endif
