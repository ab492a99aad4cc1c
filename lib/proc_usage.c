/*
 * proc_usage - process figures from /proc (see proc_usage.h).
 */
#include "proc_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_io.h"

/* fields of /proc/PID/stat counted from 1 (proc(5)); the text after the
   command's closing parenthesis starts with field 3 */
#define STAT_FIRST_FIELD 3
#define STAT_UTIME 14
#define STAT_STIME 15
#define STAT_STARTTIME 22
#define STAT_RSS 24

/* proc_usage_boot_secs - btime from /proc/stat (read once; it does not
   change while the machine runs); 0 when unreadable */
static uint64_t proc_usage_boot_secs(void)
{
	static uint64_t boot_secs;
	unsigned long long v;
	char line[256];
	FILE *f;

	if (boot_secs != 0)
		return boot_secs;
	if ((f = fopen("/proc/stat", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "btime %llu", &v) == 1) {
			boot_secs = v;
			break;
		}
	}
	fclose(f);
	return boot_secs;
}

int proc_usage_parse_stat(const char *line, long ticks_per_sec,
			  long page_size, uint64_t boot_secs,
			  struct proc_usage *usage_r)
{
	unsigned long long utime = 0, stime = 0, start = 0, v;
	long long rss = 0;
	const char *p = strrchr(line, ')');
	char *end;
	int field;

	memset(usage_r, 0, sizeof(*usage_r));
	if (p == NULL || ticks_per_sec <= 0)
		return -1;
	p++;
	for (field = STAT_FIRST_FIELD; field <= STAT_RSS; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return -1;
		if (field == STAT_RSS) {
			rss = strtoll(p, &end, 10);
		} else {
			v = strtoull(p, &end, 10);
			if (field == STAT_UTIME)
				utime = v;
			else if (field == STAT_STIME)
				stime = v;
			else if (field == STAT_STARTTIME)
				start = v;
		}
		/* the state (field 3) is a letter: skip any word */
		while (*end != ' ' && *end != '\0')
			end++;
		p = end;
	}
	usage_r->cpu_seconds = (double)(utime + stime) / (double)ticks_per_sec;
	usage_r->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page_size : 0;
	usage_r->start_usecs = boot_secs * 1000000 +
		(uint64_t)(start * 1000000 / (unsigned long long)ticks_per_sec);
	return 0;
}

/* proc_usage_count_fds - entries of /proc/PID/fd; -1 when unreadable */
static int proc_usage_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	/* our own count includes the descriptor reading it */
	return pid == getpid() && n > 0 ? n - 1 : n;
}

int proc_usage_read(pid_t pid, struct proc_usage *usage_r)
{
	char path[64], line[1024];
	ssize_t len;
	int fd, fds;

	memset(usage_r, 0, sizeof(*usage_r));
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	len = fd_read_to_eof(fd, line, sizeof(line) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	line[len] = '\0';
	if (proc_usage_parse_stat(line, sysconf(_SC_CLK_TCK),
				  sysconf(_SC_PAGESIZE),
				  proc_usage_boot_secs(), usage_r) < 0)
		return -1;
	fds = proc_usage_count_fds(pid);
	usage_r->fds_known = fds >= 0;
	usage_r->open_fds = fds > 0 ? (unsigned int)fds : 0;
	return 0;
}
