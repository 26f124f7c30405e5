/* progress.h — the progress line on stderr: redrawn in place on a
 * terminal, a plain line every few seconds otherwise, or nothing. */
#ifndef POND_EXEC_PROGRESS_H
#define POND_EXEC_PROGRESS_H

#include <stdint.h>

#include "pond.h"

typedef struct {
	int mode; /* POND_PROGRESS_*, AUTO resolved at init */
	double start, last;
	int drawn; /* a redrawn line is on screen */
} progress;

void progress_init(progress *p, pond_progress mode);
/* Called often; draws at most a few times a second (plain: every 5 s).
 * rows and bytes are those written to outputs so far. */
void progress_update(progress *p, const char *stage, int64_t done, int64_t total, int64_t running, int64_t rows,
		     int64_t bytes, int force);
void progress_end(progress *p); /* clears a redrawn line */
/* Seconds since this process started (its kernel start time), or -1 if
 * /proc cannot say. */
double progress_process_age(void);

#endif
