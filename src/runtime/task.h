/* task.h — runs one task attempt in a child process and commits it.
 * Called by the worker loop (worker.c), local and MPI alike. */
#ifndef POND_RUNTIME_TASK_H
#define POND_RUNTIME_TASK_H

#include <jansson.h>

/* Runs `task` (a plan task with runtime fields set by the scheduler) in
 * this worker's task child (forked on first use, kept for the next task):
 * it writes into the attempt directory, fsyncs and renames it to the
 * task's final directory (first finisher wins). The child makes no MPI
 * calls. Returns the result message {"task","attempt","ok",...}, never
 * NULL. A crash of the child (signal, OOM kill) is a failed result with
 * the tail of its stderr, which goes to stderr_path. While the task runs,
 * tick(ctx) is called every second; if it returns 1 the child is killed
 * and the result is a cancelled (timeout class) failure. */
json_t *task_run_isolated(const json_t *task, const char *stderr_path, int (*tick)(void *), void *ctx);

/* Ends the task child (at worker exit). */
void task_child_stop(void);

#endif
