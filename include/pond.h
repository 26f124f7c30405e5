/* pond.h — the public C API of pond, a distributed DuckDB.
 *
 * A session holds options, a loaded pipeline script and the last error.
 * The command-line tool (src/cli) uses exactly this API.
 *
 *   pond_session *s;
 *   pond_options o; pond_options_init(&o);
 *   if (pond_session_new(&o, &s) != POND_OK) ...   // s is set even on error
 *   if (pond_load_script(s, "job.pond") != POND_OK)
 *       fprintf(stderr, "%s\n", pond_errmsg(s));
 *   pond_run(s);
 *   pond_session_free(s);
 *
 * Every function returns a pond_status; on failure the message is kept on
 * the session (pond_errmsg) until the next call. Strings passed in are
 * borrowed (copied when kept). The library never calls exit().
 */
#ifndef POND_H
#define POND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define POND_VERSION "0.1.0"

/* Status codes. Values are fixed; new ones are only appended. */
typedef enum {
	POND_OK = 0,
	POND_EUSAGE = 1,  /* bad command line, script syntax or semantics */
	POND_EINPUT = 2,  /* a missing or unreadable input path */
	POND_ETASK = 3,   /* a task failed after all its attempts */
	POND_EIO = 4,     /* the job directory or an output could not be written */
	POND_ENOMEM = 5,
	POND_EINTERNAL = 6,
	POND_EEXISTS = 7, /* write mode='error' and the output is not empty */
} pond_status;

typedef enum {
	POND_PROGRESS_AUTO = 0, /* a redrawn line on a terminal, else plain */
	POND_PROGRESS_PLAIN = 1,/* a line every few seconds */
	POND_PROGRESS_NONE = 2,
} pond_progress;

typedef struct {
	int workers;              /* local worker processes; 0 = number of cores */
	int threads;              /* DuckDB threads per task; 0 = cores/workers */
	int64_t memory_limit;     /* bytes per task; 0 = 80% of RAM / workers */
	uint64_t seed;            /* job seed for sampling and random shuffles */
	const char *job_dir;      /* NULL = .pond/<script name> */
	bool resume;              /* skip tasks the journal says are committed */
	int max_attempts;         /* per task; 0 = 3 */
	pond_progress progress;
	const char *const *defines; /* "NAME=VALUE" for ${NAME} in scripts */
	size_t ndefines;
} pond_options;

typedef struct pond_session pond_session;

void pond_options_init(pond_options *o);

/* Creates a session. *out is always set (NULL only when out of memory), so
 * pond_errmsg can explain a failure; free it with pond_session_free. */
pond_status pond_session_new(const pond_options *o, pond_session **out);
void pond_session_free(pond_session *s); /* accepts NULL */

/* The message of the last failed call ("" if none); lives until the next
 * call on the session. */
const char *pond_errmsg(const pond_session *s);

/* Parses and checks a .pond script: syntax, functions and arguments,
 * dataset names, partition counts, input paths, output directories.
 * Errors are "file:line:col: message". Nothing runs. */
pond_status pond_load_script(pond_session *s, const char *path);

/* Writes the logical plan and the physical stages (task counts, shuffle
 * boundaries, fused SQL of one task per stage) to out. */
pond_status pond_explain(pond_session *s, FILE *out);

/* Runs the loaded script: plans, schedules tasks over the workers,
 * commits outputs, prints show()/count() results to stdout. */
pond_status pond_run(pond_session *s);

/* Worker entry point for MPI ranks and internal use; returns when told to
 * stop. Not needed by library users. */
int pond_worker_main(int argc, char **argv);

#endif
