/*
 * sieve_cache - compiled scripts kept per process (see sieve_cache.h).
 * A short list under one mutex: a delivery looks up one to a few scripts,
 * and the stat() calls that validate an entry are the cost of a hit.
 */
#include "sieve_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "xalloc.h"

#define SIEVE_CACHE_MAX_ENTRIES 512

/* what a file looked like when it was read; exists false: it was missing */
struct file_id {
	char *path;
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct sieve_cache_ref {
	struct sieve_cache_ref *next;
	char *path;
	uid_t uid;
	uint32_t extensions;
	size_t max_size;
	char *personal, *global;
	struct file_id *files;	/* files[0]: the script itself */
	size_t nfiles;
	struct sieve_script *script;	/* NULL: error says why not */
	char *error;
	unsigned int refcount;
	bool listed;
	uint64_t last_used;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sieve_cache_ref *cache_head;
static unsigned int cache_count;
static uint64_t cache_clock;

/* file_id_set - fill id from st (NULL: missing) */
static void file_id_set(struct file_id *id, const char *path,
			const struct stat *st)
{
	memset(id, 0, sizeof(*id));
	id->path = xstrdup(path);
	if (st == NULL)
		return;
	id->exists = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
}

/* file_id_same - the file still looks as recorded */
static bool file_id_same(const struct file_id *id)
{
	struct stat st;

	if (stat(id->path, &st) < 0)
		return !id->exists && errno == ENOENT;
	return id->exists && st.st_dev == id->dev && st.st_ino == id->ino &&
		st.st_size == id->size &&
		st.st_mtim.tv_sec == id->mtime.tv_sec &&
		st.st_mtim.tv_nsec == id->mtime.tv_nsec &&
		st.st_ctim.tv_sec == id->ctime.tv_sec &&
		st.st_ctim.tv_nsec == id->ctime.tv_nsec;
}

static bool str_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void entry_free(struct sieve_cache_ref *entry)
{
	for (size_t i = 0; i < entry->nfiles; i++)
		free(entry->files[i].path);
	free(entry->files);
	sieve_script_free(&entry->script);
	free(entry->error);
	free(entry->path);
	free(entry->personal);
	free(entry->global);
	free(entry);
}

/* entry_unlist - take entry out of the list (locked); freed now when no
   delivery uses it, else by its last release */
static void entry_unlist(struct sieve_cache_ref **prev)
{
	struct sieve_cache_ref *entry = *prev;

	*prev = entry->next;
	entry->listed = false;
	cache_count--;
	if (entry->refcount == 0)
		entry_free(entry);
}

/* evict - room for one more entry: drop the least recently used one
   nobody holds (locked) */
static void evict(void)
{
	struct sieve_cache_ref **victim = NULL;

	for (struct sieve_cache_ref **p = &cache_head; *p != NULL; p = &(*p)->next) {
		if ((*p)->refcount == 0 &&
		    (victim == NULL || (*p)->last_used < (*victim)->last_used))
			victim = p;
	}
	if (victim != NULL)
		entry_unlist(victim);
}

/* The include loader of a compile: reads NAME.sieve from the directories
   and records each file it looked at. */
struct cache_loader {
	const struct sieve_script_dirs *dirs;
	struct file_id *files;
	size_t nfiles;
};

static int cache_load(void *context, bool global, const char *name,
		      struct strbuf *text, char **error_r)
{
	struct cache_loader *cl = context;
	const char *dir = global ? cl->dirs->global : cl->dirs->personal;
	struct stat st;
	char *path;
	bool exists;
	int ret;

	if (dir == NULL)
		return 0;
	path = xasprintf("%s/%s.sieve", dir, name);
	exists = stat(path, &st) == 0;
	cl->files = xreallocarray(cl->files, cl->nfiles + 1, sizeof(*cl->files));
	file_id_set(&cl->files[cl->nfiles++], path, exists ? &st : NULL);
	ret = sieve_script_read(path, text, error_r);
	free(path);
	return ret;
}

/* lookup - a valid entry for the key, referenced (locked); a stale one
   is dropped on the way */
static struct sieve_cache_ref *lookup(const char *path, uid_t uid,
				      const struct sieve_limits *limits,
				      const struct sieve_script_dirs *dirs)
{
	for (struct sieve_cache_ref **p = &cache_head; *p != NULL; p = &(*p)->next) {
		struct sieve_cache_ref *entry = *p;
		bool valid = true;

		if (entry->uid != uid || strcmp(entry->path, path) != 0 ||
		    entry->extensions != limits->extensions ||
		    entry->max_size != limits->max_script_size ||
		    !str_same(entry->personal, dirs->personal) ||
		    !str_same(entry->global, dirs->global))
			continue;
		for (size_t i = 0; i < entry->nfiles && valid; i++)
			valid = file_id_same(&entry->files[i]);
		if (!valid) {
			entry_unlist(p);
			return NULL;
		}
		entry->refcount++;
		entry->last_used = ++cache_clock;
		return entry;
	}
	return NULL;
}

/* compile_entry - read and compile path into a new entry */
static struct sieve_cache_ref *compile_entry(const char *path,
					     const struct stat *st,
					     const struct sieve_limits *limits,
					     const struct sieve_script_dirs *dirs,
					     char **error_r)
{
	struct cache_loader cl = { .dirs = dirs };
	struct sieve_compile_env env = { limits, cache_load, &cl };
	struct sieve_cache_ref *entry;
	struct strbuf text;
	int ret;

	cl.files = xcalloc(1, sizeof(*cl.files));
	file_id_set(&cl.files[0], path, st);
	cl.nfiles = 1;
	strbuf_init(&text, 4096);
	ret = sieve_script_read(path, &text, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = xasprintf("%s: %s", path, strerror(ENOENT));
		strbuf_free(&text);
		for (size_t i = 0; i < cl.nfiles; i++)
			free(cl.files[i].path);
		free(cl.files);
		return NULL;
	}
	entry = xcalloc(1, sizeof(*entry));
	entry->path = xstrdup(path);
	entry->uid = geteuid();
	entry->extensions = limits->extensions;
	entry->max_size = limits->max_script_size;
	entry->personal = dirs->personal == NULL ? NULL : xstrdup(dirs->personal);
	entry->global = dirs->global == NULL ? NULL : xstrdup(dirs->global);
	if (sieve_compile_with(text.data, text.len, &env, &entry->script,
			       &entry->error) < 0)
		entry->script = NULL;
	entry->files = cl.files;
	entry->nfiles = cl.nfiles;
	strbuf_free(&text);
	return entry;
}

enum sieve_cache_result
sieve_cache_get(const char *path, const struct sieve_limits *limits,
		const struct sieve_script_dirs *dirs,
		struct sieve_cache_ref **ref_r, bool *hit_r, char **error_r)
{
	struct sieve_cache_ref *entry;
	struct stat st;

	*ref_r = NULL;
	*hit_r = false;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SIEVE_CACHE_MISSING;
		*error_r = xasprintf("stat(%s) failed: %s", path, strerror(errno));
		return SIEVE_CACHE_READ_ERROR;
	}
	pthread_mutex_lock(&cache_lock);
	entry = lookup(path, geteuid(), limits, dirs);
	pthread_mutex_unlock(&cache_lock);
	if (entry != NULL) {
		*hit_r = true;
	} else {
		entry = compile_entry(path, &st, limits, dirs, error_r);
		if (entry == NULL)
			return SIEVE_CACHE_READ_ERROR;
		pthread_mutex_lock(&cache_lock);
		if (cache_count >= SIEVE_CACHE_MAX_ENTRIES)
			evict();
		entry->refcount = 1;
		entry->listed = true;
		entry->last_used = ++cache_clock;
		entry->next = cache_head;
		cache_head = entry;
		cache_count++;
		pthread_mutex_unlock(&cache_lock);
	}
	if (entry->script == NULL) {
		*error_r = xstrdup(entry->error);
		sieve_cache_release(&entry);
		return SIEVE_CACHE_COMPILE_ERROR;
	}
	*ref_r = entry;
	return SIEVE_CACHE_OK;
}

const struct sieve_script *sieve_cache_script(const struct sieve_cache_ref *ref)
{
	return ref->script;
}

void sieve_cache_release(struct sieve_cache_ref **_ref)
{
	struct sieve_cache_ref *ref = *_ref;
	bool free_it;

	if (ref == NULL)
		return;
	*_ref = NULL;
	pthread_mutex_lock(&cache_lock);
	free_it = --ref->refcount == 0 && !ref->listed;
	pthread_mutex_unlock(&cache_lock);
	if (free_it)
		entry_free(ref);
}

void sieve_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (struct sieve_cache_ref **p = &cache_head; *p != NULL; ) {
		if ((*p)->refcount == 0)
			entry_unlist(p);
		else
			p = &(*p)->next;
	}
	pthread_mutex_unlock(&cache_lock);
}
