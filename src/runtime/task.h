/* task.h — runs one task attempt in a child process and commits it.
 * Called by the worker loop (worker.c), local and MPI alike. */
#ifndef POND_RUNTIME_TASK_H
#define POND_RUNTIME_TASK_H

#include "plan/task.h"

/* Runs attempt `a` of task `t` in this worker's task child (forked on
 * first use, kept for the next task): it writes into the attempt
 * directory and renames it to the task's final directory (first finisher
 * wins). The child makes no MPI calls. Always fills *res (release it with
 * task_result_release), with the task's id, the attempt and its duration.
 * A crash of the child (signal, OOM kill) is a failed result with the
 * tail of its stderr, which goes to stderr_path. While the task runs,
 * tick(ctx) is called every second; if it returns 1 the child is killed
 * and the result is a cancelled (timeout class) failure. */
void task_run_isolated(const ptask *t, const task_attempt *a, const char *stderr_path, int (*tick)(void *), void *ctx,
		       task_result *res);

/* Starts the task child now, before any task: it opens DuckDB while the
 * driver still plans, so the first task does not wait for it (~10 ms of
 * a small query). Its stderr stays the worker's until a task names its
 * stderr_path. Nothing is said if it cannot start: the first task tries
 * again and says why. */
void task_child_prewarm(void);

/* Ends the task child (at worker exit). */
void task_child_stop(void);

#endif
