/* engine.h — runs one task in DuckDB. The only layer that includes
 * duckdb.h. Called in a task child process (src/runtime/task.c). */
#ifndef POND_ENGINE_ENGINE_H
#define POND_ENGINE_ENGINE_H

#include <stdbool.h>

#include "plan/task.h"
#include "util/err.h"

/* An in-memory DuckDB that runs tasks one after another (opening one costs
 * ~9 ms, more than a small task). spill_dir: where it spills; NULL: not
 * known yet (a task child opens DuckDB before its first task says where
 * the job is), and engine_spill_to must name it before a task runs. */
typedef struct engine engine;
int engine_open(engine **out, const char *spill_dir, pond_err *err);
void engine_close(engine *e); /* accepts NULL */

/* Spills to dir from now on (a no-op if it already does). DuckDB refuses
 * once it has spilled somewhere else: -1, and the caller opens a new
 * engine. */
int engine_spill_to(engine *e, const char *dir, pond_err *err);

/* Runs attempt `a` of task `t`: writes the output's files into
 * a->attempt_dir, which must exist and be empty, and their manifest
 * (_manifest.json). Does not commit. Each task gets a fresh connection
 * with the attempt's threads and memory limit (filled in by the worker).
 * Sets res's rows, bytes, files and manifest hash; on error fills err
 * with DuckDB's message and res's class, failing SQL and script step
 * (res->sql and res->step malloc'ed, owned by res). With `profile`,
 * DuckDB's profiler measures the output's statement: res->m's peak_mem,
 * spill and rows_in (it costs about half a millisecond a task). */
int engine_run_task(engine *e, const ptask *t, const task_attempt *a, bool profile, task_result *res, pond_err *err);

#endif
