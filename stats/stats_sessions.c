/*
 * stats_sessions - the live session table and per-user concurrency slots
 * (see stats_sessions.h).
 *
 * Sessions and concurrency records live in two chained hash tables keyed
 * by session id and by user (case-folded). Listings sort a snapshot of
 * the matching sessions, so output order never depends on hashing.
 */
#include "stats_sessions.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "stats_json.h"
#include "xalloc.h"

#define STATS_SESSIONS_INITIAL_BUCKETS 64

struct stats_hash_node {
	struct stats_hash_node *next;
	const char *key;
	unsigned int hash;
};

struct stats_hash {
	struct stats_hash_node **buckets;
	size_t size, count;
	bool icase;
};

/* A session in the table; node must stay the first member. */
struct stats_session_entry {
	struct stats_hash_node node;
	struct stats_session s;
};

/* One delivery slot: the session holding it and the connection that
   took it (released with that connection). */
struct stats_conc_slot {
	char *session_id;
	int owner;
};

/* The sessions holding a slot of one user; node must stay first. */
struct stats_conc_user {
	struct stats_hash_node node;
	char *user;
	struct stats_conc_slot *slots;
	size_t count;
};

struct stats_sessions {
	struct stats_hash sessions;
	struct stats_hash conc;
};

/* One (user, service, session) row while grouping `who` output. */
struct stats_who_row {
	const char *user;
	const struct stats_session *session;
};

/* stats_hash_key - FNV-1a over key, optionally ASCII case-folded */
static unsigned int stats_hash_key(const char *key, size_t len, bool icase)
{
	unsigned int h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		h ^= icase ? (unsigned char)tolower(c) : c;
		h *= 16777619u;
	}
	return h;
}

/* stats_hash_init - an empty table */
static void stats_hash_init(struct stats_hash *h, bool icase)
{
	h->size = STATS_SESSIONS_INITIAL_BUCKETS;
	h->buckets = xcalloc(h->size, sizeof(*h->buckets));
	h->count = 0;
	h->icase = icase;
}

/* stats_hash_find - the node for the first len bytes of key, or NULL */
static struct stats_hash_node *
stats_hash_find(const struct stats_hash *h, const char *key, size_t len)
{
	unsigned int hash = stats_hash_key(key, len, h->icase);
	struct stats_hash_node *node;

	for (node = h->buckets[hash % h->size]; node != NULL; node = node->next) {
		if (node->hash != hash || strlen(node->key) != len)
			continue;
		if (h->icase ? strncasecmp(node->key, key, len) == 0 :
		    strncmp(node->key, key, len) == 0)
			return node;
	}
	return NULL;
}

/* stats_hash_insert - link node (its key set, not yet in the table) */
static void stats_hash_insert(struct stats_hash *h, struct stats_hash_node *node)
{
	struct stats_hash_node **grown, *n, *next;
	size_t i, size;

	if (h->count >= h->size) {
		/* keep chains short: double and rehash */
		size = h->size * 2;
		grown = xcalloc(size, sizeof(*grown));
		for (i = 0; i < h->size; i++) {
			for (n = h->buckets[i]; n != NULL; n = next) {
				next = n->next;
				n->next = grown[n->hash % size];
				grown[n->hash % size] = n;
			}
		}
		free(h->buckets);
		h->buckets = grown;
		h->size = size;
	}
	node->hash = stats_hash_key(node->key, strlen(node->key), h->icase);
	node->next = h->buckets[node->hash % h->size];
	h->buckets[node->hash % h->size] = node;
	h->count++;
}

/* stats_hash_unlink - take node out of the table */
static void stats_hash_unlink(struct stats_hash *h, struct stats_hash_node *node)
{
	struct stats_hash_node **p = &h->buckets[node->hash % h->size];

	while (*p != node)
		p = &(*p)->next;
	*p = node->next;
	h->count--;
}

/* stats_sessions_id_len - length of id without its :T/:R suffixes */
static size_t stats_sessions_id_len(const char *id)
{
	return strcspn(id, ":");
}

/* stats_sessions_copy_users - clean copies of users[0..count-1] */
static char **stats_sessions_copy_users(const char *const *users, size_t count)
{
	char **copy;
	size_t i;

	if (count == 0)
		return NULL;
	copy = xcalloc(count, sizeof(*copy));
	for (i = 0; i < count; i++)
		copy[i] = stats_json_strdup(users[i] != NULL ? users[i] : "",
					    STATS_JSON_MAX_STRING);
	return copy;
}

/* stats_sessions_free_users - free a user array */
static void stats_sessions_free_users(char **users, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(users[i]);
	free(users);
}

/* stats_sessions_entry_free - free an unlinked entry */
static void stats_sessions_entry_free(struct stats_session_entry *entry)
{
	struct stats_session *s = &entry->s;

	free(s->id);
	free(s->service);
	free(s->client_ip);
	free(s->state);
	stats_sessions_free_users(s->users, s->user_count);
	free(entry);
}

/* stats_conc_user_free - free an unlinked concurrency record */
static void stats_conc_user_free(struct stats_conc_user *cu)
{
	size_t i;

	for (i = 0; i < cu->count; i++)
		free(cu->slots[i].session_id);
	free(cu->slots);
	free(cu->user);
	free(cu);
}

/* stats_conc_remove_at - drop slot i of cu; frees cu when it was the
   last, and then returns true */
static bool stats_conc_remove_at(struct stats_sessions *table,
				 struct stats_conc_user *cu, size_t i)
{
	free(cu->slots[i].session_id);
	cu->slots[i] = cu->slots[--cu->count];
	if (cu->count > 0)
		return false;
	stats_hash_unlink(&table->conc, &cu->node);
	stats_conc_user_free(cu);
	return true;
}

/* stats_conc_find_slot - index of the slot of session id (first len
   bytes) in cu, or cu->count */
static size_t stats_conc_find_slot(const struct stats_conc_user *cu,
				   const char *id, size_t len)
{
	size_t i;

	for (i = 0; i < cu->count; i++) {
		if (strlen(cu->slots[i].session_id) == len &&
		    strncmp(cu->slots[i].session_id, id, len) == 0)
			break;
	}
	return i;
}

/* stats_conc_release - release the slots of session id (NULL: of every
   session) that owner took */
static void stats_conc_release(struct stats_sessions *table, const char *id,
			       int owner)
{
	size_t b, len = id == NULL ? 0 : stats_sessions_id_len(id), slot;
	struct stats_hash_node *node, *next;
	struct stats_conc_user *cu;

	for (b = 0; b < table->conc.size; b++) {
		for (node = table->conc.buckets[b]; node != NULL; node = next) {
			next = node->next;
			cu = (struct stats_conc_user *)node;
			if (id != NULL) {
				slot = stats_conc_find_slot(cu, id, len);
				if (slot < cu->count &&
				    cu->slots[slot].owner == owner)
					stats_conc_remove_at(table, cu, slot);
				continue;
			}
			/* removing may free cu: walk down from the end */
			for (slot = cu->count; slot > 0; slot--) {
				if (cu->slots[slot - 1].owner == owner &&
				    stats_conc_remove_at(table, cu, slot - 1))
					break;
			}
		}
	}
}

struct stats_sessions *stats_sessions_create(void)
{
	struct stats_sessions *table = xcalloc(1, sizeof(*table));

	stats_hash_init(&table->sessions, false);
	stats_hash_init(&table->conc, true);
	return table;
}

void stats_sessions_free(struct stats_sessions **_table)
{
	struct stats_sessions *table = *_table;
	struct stats_hash_node *node, *next;
	size_t b;

	if (table == NULL)
		return;
	for (b = 0; b < table->sessions.size; b++) {
		for (node = table->sessions.buckets[b]; node != NULL; node = next) {
			next = node->next;
			stats_sessions_entry_free((struct stats_session_entry *)node);
		}
	}
	for (b = 0; b < table->conc.size; b++) {
		for (node = table->conc.buckets[b]; node != NULL; node = next) {
			next = node->next;
			stats_conc_user_free((struct stats_conc_user *)node);
		}
	}
	free(table->sessions.buckets);
	free(table->conc.buckets);
	free(table);
	*_table = NULL;
}

/* stats_sessions_find - the entry of id (suffixes ignored), or NULL */
static struct stats_session_entry *
stats_sessions_find(const struct stats_sessions *table, const char *id)
{
	return (struct stats_session_entry *)
		stats_hash_find(&table->sessions, id, stats_sessions_id_len(id));
}

int stats_sessions_start(struct stats_sessions *table,
			 const struct stats_session *session)
{
	struct stats_session_entry *entry;
	struct stats_session *s;
	int ret = 1;

	entry = stats_sessions_find(table, session->id);
	if (entry != NULL && entry->s.owner != session->owner)
		return -1;
	if (entry != NULL) {
		(void)stats_sessions_end(table, session->id, session->owner);
		ret = 0;
	}
	entry = xcalloc(1, sizeof(*entry));
	s = &entry->s;
	s->id = xstrndup(session->id, stats_sessions_id_len(session->id));
	s->service = stats_json_strdup(session->service != NULL ?
				       session->service : "",
				       STATS_JSON_MAX_STRING);
	s->pid = session->pid;
	s->client_ip = stats_json_strdup(session->client_ip,
					 STATS_JSON_MAX_STRING);
	s->client_port = session->client_port;
	s->state = stats_json_strdup(session->state, STATS_JSON_MAX_STRING);
	s->users = stats_sessions_copy_users((const char *const *)session->users,
					     session->user_count);
	s->user_count = session->user_count;
	s->start_usecs = session->start_usecs;
	s->bytes_in = session->bytes_in;
	s->owner = session->owner;
	entry->node.key = s->id;
	stats_hash_insert(&table->sessions, &entry->node);
	return ret;
}

bool stats_sessions_update(struct stats_sessions *table, const char *id,
			   int owner, const char *state,
			   const char *const *users, size_t user_count,
			   uint64_t bytes_in)
{
	struct stats_session_entry *entry = stats_sessions_find(table, id);
	struct stats_session *s;

	if (entry == NULL || entry->s.owner != owner)
		return false;
	s = &entry->s;
	if (state != NULL) {
		free(s->state);
		s->state = stats_json_strdup(state, STATS_JSON_MAX_STRING);
	}
	if (users != NULL) {
		stats_sessions_free_users(s->users, s->user_count);
		s->users = stats_sessions_copy_users(users, user_count);
		s->user_count = user_count;
	}
	if (bytes_in > s->bytes_in)
		s->bytes_in = bytes_in;
	return true;
}

bool stats_sessions_end(struct stats_sessions *table, const char *id,
			int owner)
{
	struct stats_session_entry *entry = stats_sessions_find(table, id);

	stats_conc_release(table, id, owner);
	if (entry == NULL || entry->s.owner != owner)
		return false;
	stats_hash_unlink(&table->sessions, &entry->node);
	stats_sessions_entry_free(entry);
	return true;
}

size_t stats_sessions_end_owner(struct stats_sessions *table, int owner)
{
	struct stats_hash_node *node, *next;
	struct stats_session_entry *entry;
	size_t b, removed = 0;

	for (b = 0; b < table->sessions.size; b++) {
		for (node = table->sessions.buckets[b]; node != NULL; node = next) {
			next = node->next;
			entry = (struct stats_session_entry *)node;
			if (entry->s.owner != owner)
				continue;
			stats_hash_unlink(&table->sessions, node);
			stats_sessions_entry_free(entry);
			removed++;
		}
	}
	/* and the slots it took, of sessions it started or not */
	stats_conc_release(table, NULL, owner);
	return removed;
}

const struct stats_session *
stats_sessions_lookup(const struct stats_sessions *table, const char *id)
{
	struct stats_session_entry *entry = stats_sessions_find(table, id);

	return entry == NULL ? NULL : &entry->s;
}

/* stats_sessions_cmp_start - qsort: oldest first, then by id */
static int stats_sessions_cmp_start(const void *a, const void *b)
{
	const struct stats_session *sa = *(const struct stats_session *const *)a;
	const struct stats_session *sb = *(const struct stats_session *const *)b;

	if (sa->start_usecs != sb->start_usecs)
		return sa->start_usecs < sb->start_usecs ? -1 : 1;
	return strcmp(sa->id, sb->id);
}

/* stats_sessions_select - the sessions matching filter, sorted by start;
   *count_r gets their number; free() the array */
static const struct stats_session **
stats_sessions_select(const struct stats_sessions *table,
		      const struct stats_filter *filter, size_t *count_r)
{
	const struct stats_session **arr;
	struct stats_hash_node *node;
	size_t b, n = 0;

	arr = xcalloc(table->sessions.count + 1, sizeof(*arr));
	for (b = 0; b < table->sessions.size; b++) {
		for (node = table->sessions.buckets[b]; node != NULL;
		     node = node->next) {
			const struct stats_session *s =
				&((struct stats_session_entry *)node)->s;

			if (stats_filter_matches(filter, s))
				arr[n++] = s;
		}
	}
	qsort(arr, n, sizeof(*arr), stats_sessions_cmp_start);
	*count_r = n;
	return arr;
}

size_t stats_sessions_foreach(const struct stats_sessions *table,
			      const struct stats_filter *filter,
			      stats_sessions_callback_t *cb, void *context)
{
	const struct stats_session **arr;
	size_t i, n;

	arr = stats_sessions_select(table, filter, &n);
	for (i = 0; i < n; i++)
		cb(arr[i], context);
	free(arr);
	return n;
}

size_t stats_sessions_count(const struct stats_sessions *table)
{
	return table->sessions.count;
}

size_t stats_sessions_count_service(const struct stats_sessions *table,
				    const char *service)
{
	struct stats_hash_node *node;
	size_t b, n = 0;

	for (b = 0; b < table->sessions.size; b++) {
		for (node = table->sessions.buckets[b]; node != NULL;
		     node = node->next) {
			if (strcmp(((struct stats_session_entry *)node)->s.service,
				   service) == 0)
				n++;
		}
	}
	return n;
}

/* stats_sessions_str_or_empty - str, or "" for NULL */
static const char *stats_sessions_str_or_empty(const char *str)
{
	return str != NULL ? str : "";
}

/* stats_sessions_session_json - one per-session `who -1` object */
static json_object *stats_sessions_session_json(const struct stats_session *s,
						uint64_t now_usecs)
{
	json_object *obj = json_object_new_object(), *users;
	size_t i;

	json_object_object_add(obj, "session", json_object_new_string(s->id));
	json_object_object_add(obj, "service",
			       json_object_new_string(s->service));
	json_object_object_add(obj, "pid", json_object_new_int64(s->pid));
	json_object_object_add(obj, "user", json_object_new_string(
		s->user_count > 0 ? s->users[0] : ""));
	users = json_object_new_array();
	for (i = 0; i < s->user_count; i++)
		json_object_array_add(users, json_object_new_string(s->users[i]));
	json_object_object_add(obj, "users", users);
	json_object_object_add(obj, "ip", json_object_new_string(
		stats_sessions_str_or_empty(s->client_ip)));
	json_object_object_add(obj, "port",
			       json_object_new_int64(s->client_port));
	json_object_object_add(obj, "state", json_object_new_string(
		stats_sessions_str_or_empty(s->state)));
	json_object_object_add(obj, "start", stats_json_ts(s->start_usecs));
	json_object_object_add(obj, "age_secs", json_object_new_uint64(
		now_usecs > s->start_usecs ?
		(now_usecs - s->start_usecs) / 1000000 : 0));
	json_object_object_add(obj, "bytes_in",
			       json_object_new_uint64(s->bytes_in));
	return obj;
}

/* stats_sessions_cmp_row - qsort: by user, then service, then start */
static int stats_sessions_cmp_row(const void *a, const void *b)
{
	const struct stats_who_row *ra = a, *rb = b;
	int ret;

	if ((ret = strcmp(ra->user, rb->user)) != 0)
		return ret;
	if ((ret = strcmp(ra->session->service, rb->session->service)) != 0)
		return ret;
	return stats_sessions_cmp_start(&ra->session, &rb->session);
}

/* stats_sessions_cmp_uint - qsort: unsigned ints ascending */
static int stats_sessions_cmp_uint(const void *a, const void *b)
{
	unsigned int ua = *(const unsigned int *)a, ub = *(const unsigned int *)b;

	return ua < ub ? -1 : ua > ub;
}

/* stats_sessions_cmp_str - qsort: strings ascending */
static int stats_sessions_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* stats_sessions_group_json - the `who` object for rows[0..n-1], which
   share user and service */
static json_object *stats_sessions_group_json(const struct stats_who_row *rows,
					      size_t n)
{
	json_object *obj = json_object_new_object(), *pids, *ips;
	unsigned int *pid_arr = xcalloc(n, sizeof(*pid_arr));
	const char **ip_arr = xcalloc(n, sizeof(*ip_arr));
	size_t i, ip_count = 0;

	for (i = 0; i < n; i++) {
		pid_arr[i] = rows[i].session->pid;
		if (rows[i].session->client_ip != NULL &&
		    rows[i].session->client_ip[0] != '\0')
			ip_arr[ip_count++] = rows[i].session->client_ip;
	}
	qsort(pid_arr, n, sizeof(*pid_arr), stats_sessions_cmp_uint);
	qsort(ip_arr, ip_count, sizeof(*ip_arr), stats_sessions_cmp_str);

	json_object_object_add(obj, "username",
			       json_object_new_string(rows[0].user));
	json_object_object_add(obj, "connections", json_object_new_uint64(n));
	json_object_object_add(obj, "service",
			       json_object_new_string(rows[0].session->service));
	pids = json_object_new_array();
	for (i = 0; i < n; i++) {
		if (i == 0 || pid_arr[i] != pid_arr[i - 1])
			json_object_array_add(pids,
					      json_object_new_int64(pid_arr[i]));
	}
	json_object_object_add(obj, "pids", pids);
	ips = json_object_new_array();
	for (i = 0; i < ip_count; i++) {
		if (i == 0 || strcmp(ip_arr[i], ip_arr[i - 1]) != 0)
			json_object_array_add(ips,
					      json_object_new_string(ip_arr[i]));
	}
	json_object_object_add(obj, "ips", ips);
	free(pid_arr);
	free(ip_arr);
	return obj;
}

/* stats_sessions_grouped_json - the `who` array grouped by user+service */
static json_object *stats_sessions_grouped_json(const struct stats_session **arr,
						size_t n)
{
	json_object *result = json_object_new_array();
	struct stats_who_row *rows = NULL;
	size_t i, j, row_count = 0, start;

	for (i = 0; i < n; i++) {
		size_t users = arr[i]->user_count > 0 ? arr[i]->user_count : 1;

		rows = xreallocarray(rows, row_count + users, sizeof(*rows));
		for (j = 0; j < users; j++) {
			rows[row_count].user = arr[i]->user_count > 0 ?
				arr[i]->users[j] : "";
			rows[row_count++].session = arr[i];
		}
	}
	if (row_count > 1)
		qsort(rows, row_count, sizeof(*rows), stats_sessions_cmp_row);
	for (start = 0; start < row_count; start = i) {
		for (i = start + 1; i < row_count; i++) {
			if (strcmp(rows[i].user, rows[start].user) != 0 ||
			    strcmp(rows[i].session->service,
				   rows[start].session->service) != 0)
				break;
		}
		json_object_array_add(result, stats_sessions_group_json(
			rows + start, i - start));
	}
	free(rows);
	return result;
}

json_object *stats_sessions_who_json(const struct stats_sessions *table,
				     const struct stats_filter *filter,
				     bool per_session, uint64_t now_usecs)
{
	const struct stats_session **arr;
	json_object *result;
	size_t i, n;

	if (now_usecs == 0)
		now_usecs = clock_realtime_usecs();
	arr = stats_sessions_select(table, filter, &n);
	if (per_session) {
		result = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(result, stats_sessions_session_json(
				arr[i], now_usecs));
	} else {
		result = stats_sessions_grouped_json(arr, n);
	}
	free(arr);
	return result;
}

bool stats_sessions_concurrency_acquire(struct stats_sessions *table,
					const char *user, const char *session_id,
					int owner, unsigned int limit,
					unsigned int *current_r)
{
	size_t len = stats_sessions_id_len(session_id), slot = 0;
	const struct stats_session_entry *entry;
	struct stats_conc_user *cu;
	unsigned int held;

	cu = (struct stats_conc_user *)
		stats_hash_find(&table->conc, user, strlen(user));
	held = cu == NULL ? 0 : (unsigned int)cu->count;
	entry = stats_sessions_find(table, session_id);
	if (cu != NULL)
		slot = stats_conc_find_slot(cu, session_id, len);
	if (current_r != NULL)
		*current_r = held;
	if (entry != NULL && entry->s.owner != owner)
		return false;	/* another connection's session */
	if (cu != NULL && slot < cu->count)
		/* this session already holds its one slot of user */
		return cu->slots[slot].owner == owner;
	if (limit != 0 && held >= limit)
		return false;
	if (cu == NULL) {
		cu = xcalloc(1, sizeof(*cu));
		cu->user = xstrdup(user);
		cu->node.key = cu->user;
		stats_hash_insert(&table->conc, &cu->node);
	}
	cu->slots = xreallocarray(cu->slots, cu->count + 1, sizeof(*cu->slots));
	cu->slots[cu->count].session_id = xstrndup(session_id, len);
	cu->slots[cu->count++].owner = owner;
	if (current_r != NULL)
		*current_r = held + 1;
	return true;
}

void stats_sessions_concurrency_release(struct stats_sessions *table,
					const char *user,
					const char *session_id, int owner)
{
	size_t len = stats_sessions_id_len(session_id), slot;
	struct stats_conc_user *cu;

	cu = (struct stats_conc_user *)
		stats_hash_find(&table->conc, user, strlen(user));
	if (cu == NULL)
		return;
	slot = stats_conc_find_slot(cu, session_id, len);
	if (slot < cu->count && cu->slots[slot].owner == owner)
		(void)stats_conc_remove_at(table, cu, slot);
}

unsigned int stats_sessions_concurrency_count(const struct stats_sessions *table,
					      const char *user)
{
	const struct stats_conc_user *cu = (const struct stats_conc_user *)
		stats_hash_find(&table->conc, user, strlen(user));

	return cu == NULL ? 0 : (unsigned int)cu->count;
}
