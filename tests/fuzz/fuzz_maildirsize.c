/*
 * fuzz_maildirsize - libFuzzer target for the Maildir++ maildirsize
 * parser and the quota decisions made on what it reads: the file sits in
 * the user's maildir, so the user (an IMAP client, a shell account) can
 * write anything into it. Input: a first byte choosing the quota rule
 * (forced "*" or file-taken "?", with or without a message limit), then
 * the file's bytes.
 *
 * Checked: the parser reads only the bytes given (ASan), answers -1, 0 or
 * 1, and with 1 its sums are not negative; then, with the bytes as a real
 * maildirsize in an empty maildir, a delivery test, a count after it and
 * a `quota get` never fail, and whatever the file said, `quota recalc`
 * then finds what the (empty) maildir really holds: nothing.
 */
#include "fuzz_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlist.h"
#include "maildirsize.h"
#include "quota.h"
#include "quota_settings.h"

static char fuzz_dir[64];
static struct mail_location fuzz_loc;
static struct quota_settings *fuzz_sets[4];

static const char *kv_lookup(const char *key, void *context)
{
	return kvlist_get(context, key);
}

/* fuzz_init - a maildir in a temporary directory and four rule sets */
static void fuzz_init(void)
{
	static const char *const rules[] = {
		"*:storage=1M", "*:storage=1M:messages=100", "?:storage=1M",
		"?:messages=3",
	};
	const char *error, *key;
	char *location;

	strcpy(fuzz_dir, "/tmp/loft-fuzz-maildirsize.XXXXXX");
	FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
	location = xasprintf("maildir:%s", fuzz_dir);
	FUZZ_CHECK(mail_location_parse(location, NULL, &fuzz_loc, &error) == 0);
	free(location);
	for (size_t i = 0; i < LOFT_N_ELEMENTS(rules); i++) {
		struct kvlist kv;

		kvlist_init(&kv);
		kvlist_set(&kv, "quota", "maildir:User quota");
		kvlist_set(&kv, "quota_rule", rules[i]);
		FUZZ_CHECK(quota_settings_read(kv_lookup, &kv, &fuzz_sets[i],
					       &key, &error) == 1);
		kvlist_free(&kv);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildirsize_contents c;
	const struct quota_settings *set;
	struct quota_root *root;
	struct quota_usage usage;
	const char *error;
	char *copy, *path;
	int ret, fd;

	if (fuzz_dir[0] == '\0')
		fuzz_init();
	if (size == 0)
		return 0;
	set = fuzz_sets[data[0] % LOFT_N_ELEMENTS(fuzz_sets)];
	data++;
	size--;

	/* exactly size bytes, so a read past them is caught */
	copy = xmalloc(size == 0 ? 1 : size);
	memcpy(copy, data, size);
	ret = maildirsize_parse(copy, size, &c);
	FUZZ_CHECK(ret >= -1 && ret <= 1);
	if (ret == 1)
		FUZZ_CHECK(c.total_bytes >= 0 && c.total_count >= 0);
	free(copy);

	path = xasprintf("%s/" MAILDIRSIZE_FILENAME, fuzz_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd != -1);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);

	FUZZ_CHECK(quota_root_open(set, &fuzz_loc, "fuzz", &root, &error) == 0);
	ret = quota_root_test(root, "INBOX", 10, true, &error);
	FUZZ_CHECK(ret == QUOTA_RESULT_OK || ret == QUOTA_RESULT_OVER);
	if (ret == QUOTA_RESULT_OK)
		FUZZ_CHECK(quota_root_saved(root, "INBOX", 0, &error) == 0);
	FUZZ_CHECK(quota_root_get(root, &usage, &error) == 0);
	quota_root_close(&root);
	/* a recount of the empty maildir is the truth */
	FUZZ_CHECK(quota_root_open(set, &fuzz_loc, "fuzz", &root, &error) == 0);
	FUZZ_CHECK(quota_root_recalc(root, &error) == 0);
	FUZZ_CHECK(quota_root_get(root, &usage, &error) == 0);
	FUZZ_CHECK(usage.storage_kb.value == 0 && usage.messages.value == 0);
	quota_root_close(&root);
	(void)unlink(path);
	free(path);
	return 0;
}
