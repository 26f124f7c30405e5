/* task.h — runs one task attempt in a child process and commits it.
 * Called by the worker loop (worker.c), local and MPI alike. */
#ifndef POND_RUNTIME_TASK_H
#define POND_RUNTIME_TASK_H

#include <jansson.h>

/* Runs `task` (a plan task with runtime fields set by the scheduler) in a
 * forked child that opens DuckDB, writes into its attempt directory, fsyncs
 * and renames it to the task's final directory (first finisher wins). The
 * child makes no MPI calls and never returns here. Returns the result
 * message: {"task","attempt","ok",...} — never NULL. A crash of the child
 * (signal, OOM kill) is a failed result carrying the child's stderr tail. */
json_t *task_run_isolated(const json_t *task);

#endif
