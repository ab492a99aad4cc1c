/*
 * stats_peer - who may say what on the stats-writer socket (see
 * stats_peer.h): the permission table, the /proc parent check, the
 * service users and the per-uid complaint limiter.
 */
#include "stats_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_child.h"
#include "xalloc.h"

bool stats_peer_may_send(enum stats_peer_trust trust,
			 Loft__Envelope__BodyCase body)
{
	switch (body) {
	case LOFT__ENVELOPE__BODY_LOG_EVENT:
	case LOFT__ENVELOPE__BODY_LOG_WRITE_FAILURES:
	case LOFT__ENVELOPE__BODY_DROPPED:
		return trust != STATS_PEER_PENDING;
	case LOFT__ENVELOPE__BODY_SESSION_START:
	case LOFT__ENVELOPE__BODY_SESSION_UPDATE:
	case LOFT__ENVELOPE__BODY_SESSION_END:
	case LOFT__ENVELOPE__BODY_DELIVERY:
	case LOFT__ENVELOPE__BODY_TIMING:
	case LOFT__ENVELOPE__BODY_ANNOUNCED:
		return trust == STATS_PEER_USER || trust == STATS_PEER_SERVICE;
	case LOFT__ENVELOPE__BODY_CONCURRENCY_ACQUIRE:
	case LOFT__ENVELOPE__BODY_CONCURRENCY_RELEASE:
	case LOFT__ENVELOPE__BODY_TLS_HANDSHAKE:
		return trust == STATS_PEER_SERVICE;
	case LOFT__ENVELOPE__BODY_MASTER_STATUS:
	case LOFT__ENVELOPE__BODY_RELOAD_RESULT:
		return trust == STATS_PEER_MASTER;
	default:
		/* Hello is handled before this; everything else goes the
		   other way (Kick, DebugUsers, replies) or to the admin
		   socket */
		return false;
	}
}

const char *stats_peer_delivery_refusal(enum stats_peer_trust trust,
					uid_t peer_uid, bool has_uid,
					uint32_t uid)
{
	if (trust != STATS_PEER_USER || peer_uid == 0 || !has_uid)
		return NULL;
	return uid != (uint32_t)peer_uid ? "reported a delivery of another uid" :
		NULL;
}

const char *stats_peer_trust_name(enum stats_peer_trust trust)
{
	switch (trust) {
	case STATS_PEER_USER:
		return "user";
	case STATS_PEER_SERVICE:
		return "service";
	case STATS_PEER_MASTER:
		return "master";
	case STATS_PEER_PENDING:
		break;
	}
	return "unidentified";
}

/* proc_stat - pid's state letter and parent from /proc/PID/stat; 0, or
   -1 when it cannot be read (no such process) */
static int proc_stat(pid_t pid, char *state_r, pid_t *ppid_r)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;
	long ppid;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything, so look
	   after its last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %c %ld", state_r, &ppid) != 2)
		return -1;
	*ppid_r = (pid_t)ppid;
	return 0;
}

int stats_peer_parent_pid(pid_t pid, pid_t *ppid_r)
{
	char state;

	return proc_stat(pid, &state, ppid_r);
}

bool stats_peer_process_alive(pid_t pid)
{
	char state;
	pid_t ppid;

	/* a zombie (Z) or dead (X) process serves nobody any more */
	return pid > 0 && proc_stat(pid, &state, &ppid) == 0 &&
		state != 'Z' && state != 'X';
}

int stats_peer_process_uid(pid_t pid, uid_t *uid_r)
{
	char path[64], line[256];
	unsigned long real, effective;
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Uid: %lu %lu", &real, &effective) == 2) {
			*uid_r = (uid_t)effective;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

struct stats_peer_uid {
	char *service;
	uid_t uid;
};

struct stats_peer_uids {
	struct stats_peer_uid *items;
	size_t count;
};

struct stats_peer_uids *stats_peer_uids_create(const struct loft_settings *set,
					       uid_t master_uid)
{
	struct stats_peer_uids *uids = xcalloc(1, sizeof(*uids));
	const char *error;
	gid_t gid;

	uids->items = xcalloc(set->service_count + 1, sizeof(*uids->items));
	for (size_t i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];
		struct stats_peer_uid *item = &uids->items[uids->count];

		/* an empty user keeps loftd's identity */
		item->uid = master_uid;
		if (svc->user[0] != '\0' &&
		    service_child_lookup_user(svc->user, &item->uid, &gid,
					      &error) < 0)
			continue;	/* loftd could not start it either */
		item->service = xstrdup(svc->name);
		uids->count++;
	}
	return uids;
}

void stats_peer_uids_free(struct stats_peer_uids **_uids)
{
	struct stats_peer_uids *uids = *_uids;

	if (uids == NULL)
		return;
	*_uids = NULL;
	for (size_t i = 0; i < uids->count; i++)
		free(uids->items[i].service);
	free(uids->items);
	free(uids);
}

bool stats_peer_uids_match(const struct stats_peer_uids *uids,
			   const char *service, uid_t uid)
{
	for (size_t i = 0; i < uids->count; i++) {
		if (strcmp(uids->items[i].service, service) == 0)
			return uids->items[i].uid == uid;
	}
	return false;
}

struct stats_peer_log {
	uid_t uid;
	bool used;
	uint64_t last_msecs;
	unsigned int suppressed;
};

struct stats_peer_logs {
	struct stats_peer_log items[STATS_PEER_LOG_UIDS];
};

struct stats_peer_logs *stats_peer_logs_create(void)
{
	return xcalloc(1, sizeof(struct stats_peer_logs));
}

void stats_peer_logs_free(struct stats_peer_logs **logs)
{
	free(*logs);
	*logs = NULL;
}

bool stats_peer_logs_allow(struct stats_peer_logs *logs, uid_t uid,
			   uint64_t now_msecs, unsigned int *suppressed_r)
{
	struct stats_peer_log *e = NULL, *oldest = &logs->items[0];

	for (size_t i = 0; i < STATS_PEER_LOG_UIDS; i++) {
		struct stats_peer_log *item = &logs->items[i];

		if (item->used && item->uid == uid) {
			e = item;
			break;
		}
		if (!item->used || (oldest->used &&
				    item->last_msecs < oldest->last_msecs))
			oldest = item;
	}
	if (e == NULL) {
		/* a new uid takes a free entry or the one quiet longest */
		e = oldest;
		e->used = true;
		e->uid = uid;
		e->suppressed = 0;
		e->last_msecs = now_msecs;
		*suppressed_r = 0;
		return true;
	}
	if (now_msecs - e->last_msecs < STATS_PEER_LOG_MSECS) {
		e->suppressed++;
		return false;
	}
	*suppressed_r = e->suppressed;
	e->suppressed = 0;
	e->last_msecs = now_msecs;
	return true;
}
