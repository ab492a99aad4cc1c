/*
 * fuzz_sieve_home_files - libFuzzer target for the two files Sieve's
 * delivery reads that the user can write anything into: the tracking
 * file ~/.loft.sieve-dupes (vacation, redirect and duplicate memory) and
 * a maildir folder's dovecot-keywords. Input: a first byte choosing the
 * file, then its bytes; the keys and keywords asked for are fixed.
 *
 * Checked: nothing crashes or reads past the bytes (ASan); a lookup
 * answers -1, 0 or 1; once a key is marked it is seen, and what the
 * rewrite left is still a file the lookups read; keyword letters are
 * sorted, distinct, a..z, one at most per keyword asked for, and no
 * dotlock is left behind.
 */
#include "fuzz_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "delivery_dupes.h"
#include "fd_io.h"
#include "maildir_keywords.h"

static char fuzz_dir[64];

static void fuzz_init(void)
{
	strcpy(fuzz_dir, "/tmp/loft-fuzz-home.XXXXXX");
	FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
}

/* put - the bytes as dir/name */
static void put(const char *name, const uint8_t *data, size_t size)
{
	char *path = xasprintf("%s/%s", fuzz_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(fd_write_full(fd, data, size) == 0);
	close(fd);
	free(path);
}

static void fuzz_dupes(const uint8_t *data, size_t size)
{
	const char *error;
	time_t now = 1700000000;
	int ret;

	put(".loft.sieve-dupes", data, size);
	ret = delivery_dupes_seen(fuzz_dir, "vacation away a@example.org", now, &error);
	FUZZ_CHECK(ret >= -1 && ret <= 1);
	FUZZ_CHECK(delivery_dupes_mark(fuzz_dir, "redirect <m@x>-u-t--", now + 60,
				       now, &error) == 0);
	FUZZ_CHECK(delivery_dupes_seen(fuzz_dir, "redirect <m@x>-u-t--", now,
				       &error) == 1);
	FUZZ_CHECK(delivery_dupes_seen(fuzz_dir, "redirect <m@x>-u-t--", now + 61,
				       &error) == 0);
	ret = delivery_dupes_seen(fuzz_dir, "vacation away a@example.org", now, &error);
	FUZZ_CHECK(ret >= 0 && ret <= 1);
}

static void fuzz_keywords(const uint8_t *data, size_t size)
{
	static char *keywords[] = { "Junk", "$label1", "NonJunk", "bad name" };
	char letters[27], *path;
	const char *error;

	put("dovecot-keywords", data, size);
	if (maildir_keywords_letters(fuzz_dir, keywords, LOFT_N_ELEMENTS(keywords),
				     letters, sizeof(letters), &error) < 0)
		return;
	FUZZ_CHECK(strlen(letters) <= 3);
	for (size_t i = 0; letters[i] != '\0'; i++) {
		FUZZ_CHECK(letters[i] >= 'a' && letters[i] <= 'z');
		FUZZ_CHECK(i == 0 || letters[i] > letters[i - 1]);
	}
	/* no lock is left behind */
	path = xasprintf("%s/dovecot-keywords.lock", fuzz_dir);
	FUZZ_CHECK(access(path, F_OK) < 0);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized;

	if (!initialized) {
		fuzz_init();
		initialized = true;
	}
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_keywords(data + 1, size - 1);
	else
		fuzz_dupes(data + 1, size - 1);
	return 0;
}
