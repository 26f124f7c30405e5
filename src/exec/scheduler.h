/* scheduler.h — the driver's loop: hands ready tasks to idle workers,
 * journals commits, retries failures, reports progress. Transport-agnostic:
 * the same code drives local processes and MPI ranks. */
#ifndef POND_EXEC_SCHEDULER_H
#define POND_EXEC_SCHEDULER_H

#include <signal.h>

#include "exec/journal.h"
#include "plan/physical.h"
#include "runtime/transport.h"

typedef struct {
	int max_attempts;
	int threads;          /* per task; 0 = the worker's host share */
	int64_t memory_limit; /* bytes per task; 0 = the worker's host share */
	pond_progress progress;
	const commit_set *committed; /* --resume: tasks already committed, or NULL */
	double task_timeout;         /* seconds; 0 = none */
	bool speculate;              /* re-run stragglers elsewhere */
	double inject_p;             /* --inject-faults probability, 0 = off */
	uint64_t inject_seed;
	/* set (by a signal handler) to stop the job: sched_run then fails
	 * with POND_EINTR at once; NULL = never */
	const volatile sig_atomic_t *interrupted;
} sched_opts;

typedef struct {
	int64_t tasks, skipped, retries, rows_out, bytes_out;
	double seconds;
	bool idle; /* at the end no attempt was in flight (no cancelled twin) */
} sched_summary;

int sched_run(const pplan *pp, transport *t, const sched_opts *o, journal *j, sched_summary *sum, pond_err *err);

#endif
