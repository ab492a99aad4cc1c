/*
 * quota - Maildir++ quota at delivery time (see quota.h), after Dovecot
 * 2.3's quota.c, quota-util.c and quota-maildir.c.
 */
#include "quota.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error_slot.h"
#include "log.h"
#include "maildirsize.h"
#include "path.h"
#include "xalloc.h"

#define QUOTA_LOCK_TIMEOUT_MS 30000
#define QUOTA_LOCK_POLL_USECS 2000

struct quota_root {
	const struct quota_settings *set;
	const struct mail_location *loc;
	const char *hostname;
	char *path;		/* root/maildirsize */
	int lock_fd;		/* the maildir root, flock'ed; -1 when none */
	bool lock_exclusive;
	int fd;			/* maildirsize, open for appending; or -1 */
	/* the root's limits: the default rule's, or (rule "?") the file's */
	int64_t bytes_limit, count_limit;
	uint64_t total_bytes, total_count;
};

static __thread struct error_slot quota_error;

/* quota_lock - take the root's flock shared or exclusive, waiting up to
   QUOTA_LOCK_TIMEOUT_MS; a lock that cannot be had only costs exactness
   between loft processes, so it is a warning, never a failure */
static void quota_lock(struct quota_root *root, bool exclusive)
{
	uint64_t start = clock_monotonic_usecs();
	int op = exclusive ? LOCK_EX : LOCK_SH;

	if (root->lock_fd == -1)
		return;
	/* released first: two converting holders must not wait on each other */
	(void)flock(root->lock_fd, LOCK_UN);
	while (flock(root->lock_fd, op | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_warning("quota: flock(%s) failed: %m", root->loc->root);
			return;
		}
		if (clock_monotonic_usecs() - start >
		    (uint64_t)QUOTA_LOCK_TIMEOUT_MS * 1000) {
			log_warning("quota: flock(%s) timed out after %u s; "
				    "going on without it", root->loc->root,
				    QUOTA_LOCK_TIMEOUT_MS / 1000);
			return;
		}
		usleep(QUOTA_LOCK_POLL_USECS);
	}
	root->lock_exclusive = exclusive;
}

/* mailbox_ignored - the mailbox's rule says "ignore" */
static bool mailbox_ignored(const char *mailbox, void *context)
{
	const struct quota_root *root = context;
	const struct quota_rule *rule =
		quota_settings_rule_find(root->set, mailbox);

	return rule != NULL && rule->ignore;
}

/* fd_close - forget the open maildirsize */
static void fd_close(struct quota_root *root)
{
	if (root->fd != -1)
		close(root->fd);
	root->fd = -1;
}

/* file_usable - the file's verdict as Dovecot's maildirsize_parse: the
   header's limits are taken unless the rule is forced; then the totals,
   unless they are over a limit in a file with more than one line or
   older than MAILDIRSIZE_STALE_SECS */
static bool file_usable(struct quota_root *root,
			const struct maildirsize_contents *c, int parsed,
			time_t mtime)
{
	int64_t bytes_limit = c->bytes_limit > (uint64_t)INT64_MAX ?
		INT64_MAX : (int64_t)c->bytes_limit;
	int64_t count_limit = c->count_limit > (uint64_t)INT64_MAX ?
		INT64_MAX : (int64_t)c->count_limit;
	bool over;

	if (root->bytes_limit != bytes_limit ||
	    root->count_limit != count_limit) {
		if (root->set->force_default_rule)
			return false;	/* limits changed: rewrite */
		root->bytes_limit = bytes_limit;
		root->count_limit = count_limit;
	}
	if (parsed <= 0)
		return false;
	over = (c->total_bytes > root->bytes_limit && root->bytes_limit != 0) ||
		(c->total_count > root->count_limit && root->count_limit != 0);
	if (over && (c->line_count > 1 ||
		     mtime < time(NULL) - MAILDIRSIZE_STALE_SECS))
		return false;
	root->total_bytes = (uint64_t)c->total_bytes;
	root->total_count = (uint64_t)c->total_count;
	return true;
}

/* read_file - 1: usage known from the file (kept open for appending);
   0: it must be recalculated; -1 with *error_r */
static int read_file(struct quota_root *root, const char **error_r)
{
	char buf[MAILDIRSIZE_MAX_SIZE + 1];
	struct maildirsize_contents c;
	bool complete;
	time_t mtime;
	size_t size;
	int ret, parsed;

	fd_close(root);
	root->total_bytes = root->total_count = 0;
	ret = maildirsize_read(root->path, &root->fd, buf, &size, &complete,
			       &mtime, error_r);
	if (ret <= 0)
		return ret;
	parsed = maildirsize_parse(buf, size, &c);
	if (parsed < 0 || !file_usable(root, &c, parsed, mtime) || !complete) {
		fd_close(root);
		return 0;
	}
	return 1;
}

/* recalc - count every folder and rewrite the file (not when a folder
   changed meanwhile: then a forced rule's file is removed, to be redone).
   reread: another process may have done it while we waited for the
   lock; never after our own message is saved (it would be counted by
   that file and by our line). 1 when written, 0 when not, -1. */
static int recalc(struct quota_root *root, bool reread, const char **error_r)
{
	struct maildirsize_usage usage;
	int ret;

	fd_close(root);
	quota_lock(root, true);
	if (reread && (ret = read_file(root, error_r)) != 0) {
		quota_lock(root, false);
		return ret < 0 ? -1 : 0;
	}
	ret = maildirsize_count(root->loc, mailbox_ignored, root, &usage,
				error_r);
	if (ret == 0) {
		root->total_bytes = usage.bytes;
		root->total_count = usage.count;
		ret = maildirsize_changed(root->loc, mailbox_ignored, root,
					  usage.last_mtime, error_r);
	}
	if (ret == 0) {
		ret = maildirsize_write(root->path, root->hostname,
					root->bytes_limit < 0 ? 0 :
					(uint64_t)root->bytes_limit,
					root->count_limit < 0 ? 0 :
					(uint64_t)root->count_limit,
					usage.bytes, usage.count, error_r);
		ret = ret == 0 ? 1 : -1;
	} else if (ret > 0) {
		ret = 0;
	}
	if (ret <= 0 && root->set->force_default_rule &&
	    unlink(root->path) < 0 && errno != ENOENT)
		log_error("quota: unlink(%s) failed: %m", root->path);
	quota_lock(root, false);
	return ret;
}

/* refresh - usage from the file, recalculated when it must be: 0 with
   *recalculated_r (a new file was written), or -1 */
static int refresh(struct quota_root *root, bool reread,
		   bool *recalculated_r, const char **error_r)
{
	const struct quota_rule *def = &root->set->default_rule;
	int ret = read_file(root, error_r);

	*recalculated_r = false;
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	if (root->bytes_limit == 0 && root->count_limit == 0 &&
	    def->bytes_limit == 0 && def->count_limit == 0 &&
	    !root->set->force_default_rule)
		return 0;	/* no quota: nothing to count for */
	ret = recalc(root, reread, error_r);
	*recalculated_r = ret > 0;
	return ret < 0 ? -1 : 0;
}

/* rule_limits - the limits of mailbox: the root's plus its rule's
   (nothing when the root is unlimited or the mailbox ignored) */
static void rule_limits(const struct quota_root *root, const char *mailbox,
			uint64_t *bytes_r, uint64_t *count_r)
{
	int64_t bytes = root->bytes_limit, count = root->count_limit;
	const struct quota_rule *rule = NULL;

	if (bytes != 0 || count != 0)
		rule = quota_settings_rule_find(root->set, mailbox);
	if (rule != NULL && rule->ignore) {
		bytes = count = 0;
	} else if (rule != NULL) {
		int64_t rule_bytes, rule_count;

		quota_rule_limits(rule, root->bytes_limit, root->count_limit,
				  &rule_bytes, &rule_count);
		if (__builtin_add_overflow(bytes, rule_bytes, &bytes))
			bytes = INT64_MAX;
		if (__builtin_add_overflow(count, rule_count, &count))
			count = INT64_MAX;
	}
	*bytes_r = bytes <= 0 ? 0 : (uint64_t)bytes;
	*count_r = count <= 0 ? 0 : (uint64_t)count;
}

/* limits_init - a "?" rule takes the file's limits (Dovecot's
   init_limits); a forced rule has them already */
static int limits_init(struct quota_root *root, const char **error_r)
{
	if (root->set->force_default_rule)
		return 0;
	return read_file(root, error_r) < 0 ? -1 : 0;
}

int quota_root_open(const struct quota_settings *set,
		    const struct mail_location *loc, const char *hostname,
		    struct quota_root **root_r, const char **error_r)
{
	struct quota_root *root;

	*root_r = NULL;
	if (set->ignoreunlimited && set->default_rule.bytes_limit == 0 &&
	    set->default_rule.count_limit == 0)
		return 0;
	root = xcalloc(1, sizeof(*root));
	root->set = set;
	root->loc = loc;
	root->hostname = hostname;
	root->path = xasprintf("%s/" MAILDIRSIZE_FILENAME, loc->root);
	root->fd = -1;
	root->bytes_limit = set->default_rule.bytes_limit;
	root->count_limit = set->default_rule.count_limit;
	root->lock_fd = open(loc->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* a new user's first deliveries come together: without the root to
	   lock, one could count another's message and that one add its own
	   line too. The root is made as the maildir would make it. */
	if (root->lock_fd == -1 && errno == ENOENT &&
	    path_mkdir_parents(loc->root, 0700, error_r) == 0)
		root->lock_fd = open(loc->root, O_RDONLY | O_DIRECTORY |
				     O_CLOEXEC);
	if (root->lock_fd == -1 && errno != ENOENT) {
		*error_r = error_slot_set(&quota_error, "open(%s) failed: %m",
					  loc->root);
		quota_root_close(&root);
		return -1;
	}
	quota_lock(root, false);
	*root_r = root;
	return 0;
}

void quota_root_close(struct quota_root **_root)
{
	struct quota_root *root = *_root;

	if (root == NULL)
		return;
	*_root = NULL;
	fd_close(root);
	if (root->lock_fd != -1)
		close(root->lock_fd);
	free(root->path);
	free(root);
}

enum quota_result quota_root_test(struct quota_root *root, const char *mailbox,
				  uint64_t size, bool use_grace,
				  const char **error_r)
{
	uint64_t bytes_limit, count_limit, grace = 0;
	uint64_t bytes_ceil = UINT64_MAX, bytes_over = 0, count_ceil = UINT64_MAX;
	bool recalculated;

	if (mailbox_ignored(mailbox, root) || root->set->noenforcing)
		return QUOTA_RESULT_OK;
	if (limits_init(root, error_r) < 0)
		return QUOTA_RESULT_FAILED;
	rule_limits(root, mailbox, &bytes_limit, &count_limit);
	if (bytes_limit == 0 && count_limit == 0)
		return QUOTA_RESULT_OK;
	if (refresh(root, true, &recalculated, error_r) < 0)
		return QUOTA_RESULT_FAILED;
	/* the file may have brought other limits */
	rule_limits(root, mailbox, &bytes_limit, &count_limit);
	if (use_grace) {
		int64_t grace_bytes, unused;

		quota_rule_limits(&root->set->grace_rule, root->bytes_limit, 0,
				  &grace_bytes, &unused);
		grace = grace_bytes < 0 ? 0 : (uint64_t)grace_bytes;
	}
	if (bytes_limit > 0 && bytes_limit <= root->total_bytes) {
		bytes_ceil = 0;
		bytes_over = root->total_bytes - bytes_limit;
	} else if (bytes_limit > 0) {
		bytes_ceil = bytes_limit - root->total_bytes;
		bytes_ceil = bytes_ceil > UINT64_MAX - grace ? UINT64_MAX :
			bytes_ceil + grace;
	}
	if (count_limit > 0)
		count_ceil = count_limit <= root->total_count ? 0 :
			count_limit - root->total_count;
	/* Dovecot's quota_transaction_is_over() for one new message */
	if (count_ceil < 1)
		return QUOTA_RESULT_OVER;
	if (size == 0 ? bytes_over > 0 : bytes_ceil < size)
		return QUOTA_RESULT_OVER;
	return QUOTA_RESULT_OK;
}

int quota_root_saved(struct quota_root *root, const char *mailbox,
		     uint64_t size, const char **error_r)
{
	bool recalculated;
	int ret = 0;

	if (mailbox_ignored(mailbox, root))
		return 0;
	if (refresh(root, false, &recalculated, error_r) < 0)
		ret = -1;
	else if (recalculated)
		ret = 0;	/* the new file counts the message already */
	else if (root->fd == -1)
		ret = recalc(root, false, error_r) < 0 ? -1 : 0;
	else if (maildirsize_append(root->fd, root->path, (int64_t)size, 1,
				    error_r) < 0)
		ret = -1;
	if (ret < 0 && root->set->force_default_rule &&
	    unlink(root->path) < 0 && errno != ENOENT)
		log_error("quota: unlink(%s) failed: %m", root->path);
	fd_close(root);
	return ret;
}

int quota_root_get(struct quota_root *root, struct quota_usage *usage_r,
		   const char **error_r)
{
	uint64_t bytes_limit, count_limit;
	bool recalculated;

	memset(usage_r, 0, sizeof(*usage_r));
	/* reading the file also took its limits, for a "?" rule */
	if (refresh(root, true, &recalculated, error_r) < 0)
		return -1;
	rule_limits(root, "", &bytes_limit, &count_limit);
	usage_r->storage_kb.value = root->total_bytes / 1024 +
		(root->total_bytes % 1024 != 0);
	usage_r->storage_kb.limit = bytes_limit / 1024 + (bytes_limit % 1024 != 0);
	usage_r->messages.value = root->total_count;
	usage_r->messages.limit = count_limit;
	return 0;
}

int quota_root_recalc(struct quota_root *root, const char **error_r)
{
	bool recalculated;

	if (refresh(root, true, &recalculated, error_r) < 0)
		return -1;
	if (recalculated)
		return 0;
	return recalc(root, false, error_r) < 0 ? -1 : 0;
}
