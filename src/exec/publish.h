/* publish.h — the last step of a job: moves a sink's committed task
 * outputs from its staging directory into the output directory in one
 * rename, then writes _SUCCESS. Called by the session after all tasks. */
#ifndef POND_EXEC_PUBLISH_H
#define POND_EXEC_PUBLISH_H

#include "plan/logical.h"
#include "plan/physical.h"
#include "util/err.h"

#include <stdbool.h>

/* resuming: the output may hold this job's own unfinished publish. */
int publish_sink(const stage *s, bool resuming, pond_err *err);

#endif
