/* publish.h — a sink's life outside the job directory: its staging
 * directory (owned by one job directory), the publish that swaps the
 * gathered task outputs in as the output directory, and the recovery of a
 * publish cut short by a kill. Called by the session, with the job
 * directory locked. */
#ifndef POND_EXEC_PUBLISH_H
#define POND_EXEC_PUBLISH_H

#include "plan/logical.h"
#include "plan/physical.h"
#include "util/err.h"

#include <stdbool.h>

/* First thing a run does with a sink (fresh or --resume): an earlier
 * publish of it that was cut short is finished if its new output had
 * already been swapped in, or else undone (an old output moved aside is
 * put back) and its leftovers removed. Refuses (POND_EUSAGE) a staging
 * directory that another job directory owns. */
int publish_recover(const stage *s, const char *job_dir, pond_err *err);

/* Whether the sink's staging directory is gone: every publish ends by
 * removing it, so with the sink's tasks committed in the journal and
 * _SUCCESS in the output, an earlier run published it. */
bool publish_staging_gone(const stage *s, const char *job_dir);

/* Makes the staging directory ready for the sink's tasks and marks it as
 * this job directory's; fresh: empties it first. */
int publish_prepare(const stage *s, const char *job_dir, bool fresh, pond_err *err);

/* Publishes a sink whose tasks have all committed: its files gathered in
 * one fresh tree with _SUCCESS, swapped in as the output directory by one
 * rename (mode='overwrite': an existing output moved aside first and the
 * later publish of two jobs wins whole; mode='error': refused if the
 * output is no longer empty), then the staging directory removed. Every
 * step leaves a state publish_recover recognises. */
int publish_sink(const stage *s, const char *job_dir, pond_err *err);

#endif
