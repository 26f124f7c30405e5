/* progress.c — progress reporting for the driver (see progress.h). */
#include "exec/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/human.h"

/* starttime, field 22 of /proc/self/stat, is in clock ticks since boot
 * (CLOCK_BOOTTIME): the age it gives is exact to a tick (10 ms). */
double progress_process_age(void)
{
	char buf[1024], *p, *end = NULL;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	unsigned long long start = 0;
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);
	int field = 2;

	if (f)
		fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	for (; p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p && field == 22)
		start = strtoull(p, &end, 10);
	if (!p || field != 22 || end == p || hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - (double)start / (double)hz;
}

void progress_init(progress *p, pond_progress mode)
{
	p->mode = mode == POND_PROGRESS_AUTO ? (isatty(2) ? POND_PROGRESS_AUTO : POND_PROGRESS_PLAIN) : (int)mode;
	p->start = p->last = clock_mono();
	p->drawn = 0;
}

void progress_update(progress *p, const char *stage, int64_t done, int64_t total, int64_t running, int64_t rows,
		     int64_t bytes, int force)
{
	double now = clock_mono(), el = now - p->start;
	char r[32], b[32], e[32], eta[32] = "?";

	if (p->mode == POND_PROGRESS_NONE)
		return;
	if (!force && now - p->last < (p->mode == POND_PROGRESS_PLAIN ? 5.0 : 0.2))
		return;
	p->last = now;
	human_count(r, sizeof(r), rows);
	human_bytes(b, sizeof(b), bytes);
	human_time(e, sizeof(e), el);
	if (done > 0 && done < total)
		human_time(eta, sizeof(eta), el / (double)done * (double)(total - done));
	else if (done >= total)
		human_time(eta, sizeof(eta), 0);
	if (p->mode == POND_PROGRESS_AUTO) {
		fprintf(stderr, "\r\033[K[%s] %lld/%lld tasks (%lld running) | %s rows out | %s | %s elapsed | ETA %s",
			stage, (long long)done, (long long)total, (long long)running, r, b, e, eta);
		p->drawn = 1;
	} else {
		fprintf(stderr, "pond: [%s] %lld/%lld tasks (%lld running), %s rows out, %s, %s elapsed, ETA %s\n",
			stage, (long long)done, (long long)total, (long long)running, r, b, e, eta);
	}
	fflush(stderr);
}

void progress_end(progress *p)
{
	if (p->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->drawn = 0;
	}
}
