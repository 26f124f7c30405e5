/* engine.h — runs one task in DuckDB. The only layer that includes
 * duckdb.h. Called in a task child process (src/runtime/task.c). */
#ifndef POND_ENGINE_ENGINE_H
#define POND_ENGINE_ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

typedef struct {
	int64_t rows;   /* rows written (or shown/counted) */
	int64_t bytes;  /* bytes of files written */
	int64_t files;  /* files written */
	char manifest[17]; /* hash of the output's manifest (util/manifest.h) */
	/* after a failure, both malloc'ed (caller frees), or NULL: */
	char *error_sql;   /* the statement that failed */
	char *error_step;  /* the script step whose SQL it failed in */
} task_stats;

/* Error classes, so the scheduler can tell a bad input from a lack of
 * memory from a bug. Values are fixed (they cross process boundaries). */
typedef enum {
	EC_NONE = 0,
	EC_INPUT = 1,    /* bad SQL or data, a missing intermediate: deterministic,
			  * never retried */
	EC_RESOURCE = 2, /* out of memory, disk full */
	EC_INTERNAL = 3, /* anything else */
	EC_TIMEOUT = 4,  /* ran past --task-timeout and was cancelled */
	EC_LOST = 5,     /* its worker died or stopped answering */
	EC_IO = 6,       /* a file could not be read or written: retried once */
} error_class;

/* An in-memory DuckDB that runs tasks one after another (opening one costs
 * ~9 ms, more than a small task). spill_dir: where it spills. */
typedef struct engine engine;
int engine_open(engine **out, const char *spill_dir, pond_err *err);
void engine_close(engine *e); /* accepts NULL */

/* Runs `task` (a plan task plus runtime fields "attempt_dir", "threads",
 * "memory_limit"), writing its output files into attempt_dir, which must
 * exist and be empty, and their manifest (_manifest.json). Does not commit. Each task gets a fresh connection
 * and its own threads and memory limit. On error fills err with DuckDB's
 * message and the SQL concerned and sets *cls. */
int engine_run_task(engine *e, const json_t *task, task_stats *st, error_class *cls, pond_err *err);

#endif
