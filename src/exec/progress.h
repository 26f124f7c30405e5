/* progress.h — the progress line on stderr: redrawn in place on a
 * terminal, a plain line every few seconds otherwise, or nothing. It
 * shows rows and bytes written to outputs (not intermediates), the time
 * since the process started (as the summary's wall time does), and an
 * estimate of the time left that stays blank until a stage has finished
 * a few tasks and then moves smoothly. The final state is drawn once,
 * at the end of a run that finished, and stays on screen. */
#ifndef POND_EXEC_PROGRESS_H
#define POND_EXEC_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "pond.h"

/* No estimate before some stage has committed this many tasks. */
#define ETA_MIN_DONE 3

typedef struct {
	int mode; /* POND_PROGRESS_*, AUTO resolved at init */
	double start, last;
	int drawn;     /* a redrawn line is on screen */
	double eta;    /* the estimate shown, seconds; < 0 none yet */
	double eta_at; /* when it was last updated (monotonic) */
} progress;

/* What a line shows. */
typedef struct {
	const char *stage;
	int64_t done, total, running;
	int64_t rows, bytes; /* written to outputs so far */
	double eta;          /* progress_eta's estimate; < 0 none */
} progress_state;

void progress_init(progress *p, pond_progress mode);
/* Whether a line would be drawn now (a few times a second; plain: every
 * 5 s), so that the caller estimates only then. */
int progress_due(const progress *p);
/* Draws st if progress_due (or force). */
void progress_update(progress *p, const progress_state *st, int force);
/* The last line of a run that finished: drawn once, kept on screen. */
void progress_final(progress *p, const progress_state *st);
void progress_end(progress *p); /* clears a redrawn line */

/* One stage, for the estimate. */
typedef struct {
	int64_t left;      /* tasks not committed yet (running ones too) */
	int64_t done;      /* tasks committed by this run */
	double done_ms;    /* their attempts' total time */
	double running_ms; /* time the running attempts have spent so far */
} eta_stage;

/* Seconds left, or -1 while no stage has committed ETA_MIN_DONE tasks in
 * this run. A stage's task left costs the mean time of its stage's
 * committed tasks (of all stages, while it has none), less what running
 * attempts have spent; a stage's work is shared by min(workers, its tasks
 * left), and stages are taken one after another (they overlap only at
 * their edges), which keeps the estimate from promising too much. */
double progress_eta(const eta_stage *st, size_t n, int workers);

/* Seconds since this process started (its kernel start time), or -1 if
 * /proc cannot say. */
double progress_process_age(void);

#endif
