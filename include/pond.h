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
	POND_EBUSY = 8,   /* the job directory is locked by another run */
	POND_EINTR = 9,   /* stopped by pond_interrupt (SIGINT/SIGTERM) */
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
	const char *job_dir;      /* NULL = .pond/<script name>-<8 hex>, the
	                           * hex a hash of the script's path and defines */
	bool resume;              /* skip tasks the journal says are committed */
	int max_attempts;         /* per task; 0 = 3 */
	pond_progress progress;
	const char *const *defines; /* "NAME=VALUE" for ${NAME} in scripts */
	size_t ndefines;
	bool mpi;                 /* run over MPI ranks (after pond_mpi_init) */
	double task_timeout;      /* seconds a task attempt may run; 0 = no limit */
	bool speculate;           /* start stragglers again elsewhere */
	double inject_p;          /* fault injection: probability per attempt */
	uint64_t inject_seed;
	bool keep_intermediates;  /* keep shuffle/materialised data after success */
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
 * commits outputs, prints show()/count() results to stdout. Holds an
 * exclusive lock on the job directory throughout (POND_EBUSY, naming the
 * holder's pid, if another run has it). */
pond_status pond_run(pond_session *s);

/* Async-signal-safe: asks a running pond_run to stop (call it from a
 * SIGINT/SIGTERM handler). The run stops its workers, publishes nothing
 * more, and returns POND_EINTR; --resume finishes the job later. */
void pond_interrupt(void);

/* ---- MPI (docs/PIPELINES.md): the same script under mpirun / srun ----------
 * Every rank calls pond_mpi_init. Rank 0 then runs the session with
 * o.mpi = true (it schedules); the other ranks call pond_mpi_worker, which
 * serves tasks until rank 0 is done. Every rank ends with
 * pond_mpi_finalize (rank 0's releases the workers, even after an error). */
bool pond_mpi_launched(void); /* started by mpirun/mpiexec/srun? */
pond_status pond_mpi_init(int *argc, char ***argv, int *rank, int *size, char *err, size_t errlen);
int pond_mpi_worker(void);    /* 0 when released, 1 if the driver vanished */
void pond_mpi_finalize(void);

#endif
