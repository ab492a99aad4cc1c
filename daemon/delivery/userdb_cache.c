/*
 * userdb_cache - the process's userdb answer cache (see userdb_cache.h):
 * a chained hash table on the lookup name and a least-recently-used list,
 * under one mutex. The lookup itself runs outside the lock, so a slow
 * userdb never holds up answers from the cache.
 */
#include "userdb_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

#define USERDB_CACHE_BUCKETS 4096

struct userdb_cache_entry {
	struct userdb_cache_entry *hash_next;
	struct userdb_cache_entry *lru_prev, *lru_next;	/* prev: newer */
	char *name;
	enum userdb_result result;	/* OK or USER_UNKNOWN */
	const char *driver;		/* that answered (static) */
	struct userdb_reply *reply;	/* OK only */
	uint64_t expires_msecs;		/* monotonic */
	size_t size;
};

static pthread_mutex_t userdb_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct userdb_cache_entry *userdb_cache_buckets[USERDB_CACHE_BUCKETS];
static struct userdb_cache_entry *userdb_cache_newest, *userdb_cache_oldest;
static size_t userdb_cache_bytes;

static unsigned int name_hash(const char *name)
{
	unsigned int h = 5381;

	for (; *name != '\0'; name++)
		h = h * 33 + (unsigned char)*name;
	return h % USERDB_CACHE_BUCKETS;
}

/* reply_copy - a deep copy of reply */
static struct userdb_reply *reply_copy(const struct userdb_reply *reply)
{
	struct userdb_reply *copy = xcalloc(1, sizeof(*copy));

	copy->username = xstrdup(reply->username);
	kvlist_copy(&copy->fields, &reply->fields);
	return copy;
}

/* entry_size - what an entry is charged against auth_cache_size */
static size_t entry_size(const char *name, const struct userdb_reply *reply)
{
	size_t size = sizeof(struct userdb_cache_entry) + strlen(name) + 1;

	if (reply == NULL)
		return size;
	size += sizeof(*reply) + strlen(reply->username) + 1;
	for (size_t i = 0; i < reply->fields.count; i++)
		size += sizeof(struct kv) + strlen(reply->fields.items[i].key) +
			strlen(reply->fields.items[i].value) + 2;
	return size;
}

static void lru_unlink(struct userdb_cache_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		userdb_cache_newest = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		userdb_cache_oldest = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_newest(struct userdb_cache_entry *e)
{
	e->lru_next = userdb_cache_newest;
	if (userdb_cache_newest != NULL)
		userdb_cache_newest->lru_prev = e;
	userdb_cache_newest = e;
	if (userdb_cache_oldest == NULL)
		userdb_cache_oldest = e;
}

/* find - the entry for name (lock held), or NULL */
static struct userdb_cache_entry *find(const char *name)
{
	struct userdb_cache_entry *e = userdb_cache_buckets[name_hash(name)];

	while (e != NULL && strcmp(e->name, name) != 0)
		e = e->hash_next;
	return e;
}

/* drop - remove e from the table and the list and free it (lock held) */
static void drop(struct userdb_cache_entry *e)
{
	struct userdb_cache_entry **p = &userdb_cache_buckets[name_hash(e->name)];

	while (*p != e)
		p = &(*p)->hash_next;
	*p = e->hash_next;
	lru_unlink(e);
	userdb_cache_bytes -= e->size;
	userdb_reply_free(&e->reply);
	free(e->name);
	free(e);
}

/* store - remember result for name, replacing what was there and
   dropping the least recently used entries past max_bytes (lock held) */
static void store(const char *name, enum userdb_result result,
		  const char *driver, const struct userdb_reply *reply,
		  uint64_t ttl_msecs, uint64_t max_bytes)
{
	struct userdb_cache_entry *e = find(name);
	size_t size = entry_size(name, reply);

	if (e != NULL)
		drop(e);
	if (size > max_bytes)
		return;
	while (userdb_cache_oldest != NULL &&
	       userdb_cache_bytes + size > max_bytes)
		drop(userdb_cache_oldest);
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(name);
	e->result = result;
	e->driver = driver;
	e->reply = reply != NULL ? reply_copy(reply) : NULL;
	e->expires_msecs = clock_monotonic_msecs() + ttl_msecs;
	e->size = size;
	e->hash_next = userdb_cache_buckets[name_hash(name)];
	userdb_cache_buckets[name_hash(name)] = e;
	lru_push_newest(e);
	userdb_cache_bytes += size;
}

/* cached - the entry's answer for a caller (lock held) */
static enum userdb_result cached(struct userdb_cache_entry *e,
				 struct userdb_reply **reply_r,
				 const char **driver_r)
{
	lru_unlink(e);
	lru_push_newest(e);
	*driver_r = e->driver;
	if (e->result == USERDB_RESULT_OK)
		*reply_r = reply_copy(e->reply);
	return e->result;
}

enum userdb_result userdb_lookup_cached(const struct loft_settings *set,
					const char *username,
					struct userdb_reply **reply_r,
					struct userdb_lookup_info *info_r,
					const char **error_r)
{
	struct userdb_cache_entry *e;
	enum userdb_result result;
	uint64_t ttl;

	*reply_r = NULL;
	info_r->cache = USERDB_CACHE_OFF;
	if (set->auth_cache_size == 0)
		return userdb_lookup_from(set, username, reply_r,
					  &info_r->driver, error_r);

	pthread_mutex_lock(&userdb_cache_lock);
	e = find(username);
	if (e != NULL && e->expires_msecs > clock_monotonic_msecs()) {
		result = cached(e, reply_r, &info_r->driver);
		pthread_mutex_unlock(&userdb_cache_lock);
		info_r->cache = USERDB_CACHE_HIT;
		if (result == USERDB_RESULT_USER_UNKNOWN)
			*error_r = "User not found (cached)";
		return result;
	}
	pthread_mutex_unlock(&userdb_cache_lock);

	info_r->cache = USERDB_CACHE_MISS;
	result = userdb_lookup_from(set, username, reply_r, &info_r->driver,
				    error_r);
	pthread_mutex_lock(&userdb_cache_lock);
	if (result == USERDB_RESULT_INTERNAL_FAILURE) {
		/* an expired answer beats a deferral */
		e = find(username);
		if (e != NULL && e->result == USERDB_RESULT_OK) {
			result = cached(e, reply_r, &info_r->driver);
			info_r->cache = USERDB_CACHE_STALE;
		}
	} else {
		ttl = result == USERDB_RESULT_OK ? set->auth_cache_ttl :
			set->auth_cache_negative_ttl;
		if (ttl > 0)
			store(username, result, info_r->driver, *reply_r, ttl,
			      set->auth_cache_size);
	}
	pthread_mutex_unlock(&userdb_cache_lock);
	return result;
}

void userdb_cache_clear(void)
{
	pthread_mutex_lock(&userdb_cache_lock);
	while (userdb_cache_oldest != NULL)
		drop(userdb_cache_oldest);
	pthread_mutex_unlock(&userdb_cache_lock);
}
