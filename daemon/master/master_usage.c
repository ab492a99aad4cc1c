/*
 * master_usage - per-service process figures for loft-stats (see
 * master_usage.h). One entry per service name ever seen, in first-seen
 * order (loftd's own first), each holding the CPU time of its reaped
 * processes and the last /proc reading as a ready ProcessUsage message.
 */
#include "master_usage.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_usage.h"
#include "xalloc.h"

struct master_usage_entry {
	char *service;
	double reaped_cpu_seconds;
	Loft__ProcessUsage msg;		/* the last reading */
};

struct master_usage {
	struct master_usage_entry *entries;
	size_t count, cap;
	Loft__ProcessUsage **ptrs;	/* count of them, into entries */
	uint64_t sampled_msecs;
	bool sampled;
};

/* master_usage_entry - service's entry, made on first sight */
static struct master_usage_entry *
master_usage_entry(struct master_usage *usage, const char *service)
{
	struct master_usage_entry *e;
	Loft__ProcessUsage init = LOFT__PROCESS_USAGE__INIT;

	for (size_t i = 0; i < usage->count; i++) {
		if (strcmp(usage->entries[i].service, service) == 0)
			return &usage->entries[i];
	}
	if (usage->count == usage->cap) {
		usage->cap = usage->cap == 0 ? 8 : usage->cap * 2;
		usage->entries = xrealloc(usage->entries, usage->cap *
					  sizeof(*usage->entries));
		usage->ptrs = xrealloc(usage->ptrs, usage->cap *
				       sizeof(*usage->ptrs));
	}
	e = &usage->entries[usage->count++];
	memset(e, 0, sizeof(*e));
	e->service = xstrdup(service);
	e->msg = init;
	e->msg.service = e->service;
	return e;
}

struct master_usage *master_usage_create(void)
{
	struct master_usage *usage = xcalloc(1, sizeof(*usage));

	(void)master_usage_entry(usage, MASTER_USAGE_SELF);
	return usage;
}

void master_usage_free(struct master_usage **_usage)
{
	struct master_usage *usage = *_usage;

	if (usage == NULL)
		return;
	*_usage = NULL;
	for (size_t i = 0; i < usage->count; i++)
		free(usage->entries[i].service);
	free(usage->entries);
	free(usage->ptrs);
	free(usage);
}

/* timeval_seconds - tv as seconds */
static double timeval_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

void master_usage_reaped(struct master_usage *usage,
			 const struct master_process *proc,
			 const struct rusage *ru)
{
	struct master_usage_entry *e = master_usage_entry(usage,
							  proc->service_name);
	double cpu = timeval_seconds(&ru->ru_utime) +
		timeval_seconds(&ru->ru_stime);

	e->reaped_cpu_seconds += cpu;
	/* the last reading counted proc with what it had used then: add
	   only what it used since, so the sum does not count it twice
	   before the next reading */
	if (cpu > proc->cpu_seconds_read)
		e->msg.cpu_seconds += cpu - proc->cpu_seconds_read;
}

/* master_usage_add - one process's reading into e */
static void master_usage_add(struct master_usage_entry *e,
			     const struct proc_usage *u)
{
	e->msg.cpu_seconds += u->cpu_seconds;
	e->msg.resident_bytes += u->resident_bytes;
	e->msg.open_fds += u->open_fds;
	if (!e->msg.has_start_usecs || u->start_usecs < e->msg.start_usecs) {
		e->msg.has_start_usecs = true;
		e->msg.start_usecs = u->start_usecs;
	}
}

void master_usage_sample(struct master_usage *usage,
			 struct master_process_list *procs,
			 uint64_t now_msecs)
{
	struct proc_usage u;

	if (usage->sampled &&
	    now_msecs - usage->sampled_msecs < MASTER_USAGE_SAMPLE_MSECS)
		return;
	usage->sampled = true;
	usage->sampled_msecs = now_msecs;
	for (size_t i = 0; i < usage->count; i++) {
		Loft__ProcessUsage *m = &usage->entries[i].msg;

		m->cpu_seconds = usage->entries[i].reaped_cpu_seconds;
		m->resident_bytes = 0;
		m->open_fds = 0;
		m->has_start_usecs = false;
		m->start_usecs = 0;
	}
	if (proc_usage_read(getpid(), &u) == 0)
		master_usage_add(&usage->entries[0], &u);
	for (struct master_process *p = procs->head; p != NULL; p = p->next) {
		/* a process that has just died is reaped soon, its CPU time
		   counted then */
		if (proc_usage_read(p->pid, &u) < 0)
			continue;
		/* caught in the middle of its exec: read again next time */
		if (u.resident_bytes == 0)
			usage->sampled = false;
		p->cpu_seconds_read = u.cpu_seconds;
		master_usage_add(master_usage_entry(usage, p->service_name),
				 &u);
	}
}

void master_usage_refresh(struct master_usage *usage)
{
	usage->sampled = false;
}

void master_usage_fill(struct master_usage *usage, Loft__MasterStatus *msg)
{
	for (size_t i = 0; i < usage->count; i++)
		usage->ptrs[i] = &usage->entries[i].msg;
	msg->n_usage = usage->count;
	msg->usage = usage->ptrs;
}
