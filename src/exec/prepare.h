/* prepare.h — everything a run does before its first task: refuse a job
 * directory or an output it may not use, take the job directory's lock,
 * settle a publish an earlier run left cut short, and either clean the
 * job directory (a fresh run) or decide which committed outputs --resume
 * may keep. Called by the session (src/api/session.c). */
#ifndef POND_EXEC_PREPARE_H
#define POND_EXEC_PREPARE_H

#include <stdbool.h>

#include "exec/jobdir.h"
#include "exec/journal.h"
#include "plan/physical.h"
#include "util/err.h"

typedef struct {
	bool resume;        /* --resume */
	const char *script; /* the script's path, for messages */
} prepare_opts;

typedef struct {
	jobdir *jd;           /* holds the lock until prepared_release */
	bool resumed;         /* plan.json was this plan's: resuming */
	commit_set committed; /* resuming: the tasks whose outputs are kept */
	bool *published;      /* by stage id: a sink an earlier run of this
			       * job published (resuming only) */
} prepared;

/* Makes the job directory ready for pp, or fails with nothing run:
 * POND_EUSAGE (a directory pond may not clean, an output inside the job
 * directory or holding it, a changed plan under --resume), POND_EEXISTS
 * (mode='error' and the output is not empty), POND_EBUSY (another run
 * holds the lock), POND_EIO. On success *out holds the lock; release it
 * with prepared_release, also after a failure. */
int prepare_run(const pplan *pp, const prepare_opts *o, prepared *out, pond_err *err);
void prepared_release(prepared *p); /* releases the lock last */

#endif
