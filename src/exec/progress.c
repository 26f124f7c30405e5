/* progress.c — progress reporting for the driver (see progress.h). */
#include "exec/progress.h"

#include <math.h>
#include <stdbool.h>
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
	double age = progress_process_age();

	p->mode = mode == POND_PROGRESS_AUTO ? (isatty(2) ? POND_PROGRESS_AUTO : POND_PROGRESS_PLAIN) : (int)mode;
	p->last = clock_mono();
	/* elapsed counts from the process's start, like the summary's wall */
	p->start = age >= 0 ? p->last - age : p->last;
	p->drawn = 0;
	p->eta = -1;
	p->eta_at = 0;
}

int progress_due(const progress *p)
{
	return p->mode != POND_PROGRESS_NONE && clock_mono() - p->last >= (p->mode == POND_PROGRESS_PLAIN ? 5.0 : 0.2);
}

double progress_eta(const eta_stage *st, size_t n, int workers)
{
	int64_t done = 0;
	double ms = 0, left = 0;
	bool ready = false;

	for (size_t i = 0; i < n; i++) {
		done += st[i].done;
		ms += st[i].done_ms;
		ready |= st[i].done >= ETA_MIN_DONE;
	}
	if (!ready || workers < 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		double mean = st[i].done ? st[i].done_ms / (double)st[i].done : ms / (double)done;
		double work = (double)st[i].left * mean - st[i].running_ms;
		int64_t share = st[i].left < workers ? st[i].left : workers;
		if (st[i].left > 0 && work > 0)
			left += work / (double)share;
	}
	return left / 1e3;
}

/* The estimate shown moves towards the new one (by a time constant of
 * 5 s) and counts down in between, so that it does not jump about as
 * tasks of uneven length finish. */
static double smooth(progress *p, double eta)
{
	double now = clock_mono(), dt = now - p->eta_at;

	if (eta < 0)
		return p->eta;
	if (p->eta < 0) {
		p->eta = eta;
	} else {
		double a = 1 - exp(-dt / 5.0), down = p->eta - dt;
		p->eta = (1 - a) * (down > 0 ? down : 0) + a * eta;
	}
	p->eta_at = now;
	return p->eta;
}

static void draw(progress *p, const progress_state *st, bool final)
{
	double el = clock_mono() - p->start, eta = final ? 0 : smooth(p, st->eta);
	char r[32], b[32], e[32], left[48] = "";

	human_count(r, sizeof(r), st->rows);
	human_bytes(b, sizeof(b), st->bytes);
	human_time(e, sizeof(e), el);
	if (!final && eta >= 0) {
		char t[32];
		human_time(t, sizeof(t), eta);
		snprintf(left, sizeof(left), p->mode == POND_PROGRESS_AUTO ? " | ETA %s" : ", ETA %s", t);
	} else if (!final) {
		snprintf(left, sizeof(left), p->mode == POND_PROGRESS_AUTO ? " | ETA -" : ", ETA -");
	}
	if (p->mode == POND_PROGRESS_AUTO) {
		fprintf(stderr, "\r\033[K[%s] %lld/%lld tasks (%lld running) | %s rows out | %s | %s elapsed%s%s",
			st->stage, (long long)st->done, (long long)st->total, (long long)st->running, r, b, e, left,
			final ? "\n" : "");
		p->drawn = !final;
	} else {
		fprintf(stderr, "pond: [%s] %lld/%lld tasks (%lld running), %s rows out, %s, %s elapsed%s\n", st->stage,
			(long long)st->done, (long long)st->total, (long long)st->running, r, b, e, left);
	}
	fflush(stderr);
}

void progress_update(progress *p, const progress_state *st, int force)
{
	if (p->mode == POND_PROGRESS_NONE || (!force && !progress_due(p)))
		return;
	p->last = clock_mono();
	draw(p, st, false);
}

void progress_final(progress *p, const progress_state *st)
{
	if (p->mode == POND_PROGRESS_NONE)
		return;
	p->last = clock_mono();
	draw(p, st, true);
}

void progress_end(progress *p)
{
	if (p->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->drawn = 0;
	}
}
