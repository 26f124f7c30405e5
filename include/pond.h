/* pond.h — the public C API of pond, a distributed DuckDB.
 *
 * A session holds options, a loaded pipeline script and the last error.
 * The command-line tool (src/cli) uses exactly this API.
 *
 *   pond_options o;
 *   pond_session *s;
 *   bool worker;
 *   pond_options_init(&o);
 *   pond_session_new(&o, &s);                  // s is set even on error
 *   pond_status st = pond_mpi_join(s, &worker); // a no-op unless under mpirun/srun
 *   if (st == POND_OK && !worker) {
 *       st = pond_load_script(s, "job.pond");
 *       if (st == POND_OK)
 *           st = pond_run(s);
 *   }
 *   if (st != POND_OK)
 *       fprintf(stderr, "pond: %s\n", pond_errmsg(s));
 *   pond_session_free(s);
 *
 * Conventions, for every function below:
 * - A function that can fail returns a pond_status, and on failure keeps
 *   its message on the session (pond_errmsg) until the next call.
 * - Strings and options passed in are borrowed: copied when kept, never
 *   freed. Strings returned live as long as the session (pond_errmsg) or
 *   forever (pond_errstr); the caller frees nothing but the session.
 * - The library never calls exit() and installs no signal handler; the
 *   caller decides exit codes and calls pond_interrupt from its own.
 * - It is not thread-safe: one thread drives a session.
 */
#ifndef POND_H
#define POND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The functions of this header are the only symbols the library exports
 * (it is built with -fvisibility=hidden). */
#if defined(__GNUC__)
#define POND_API __attribute__((visibility("default")))
#else
#define POND_API
#endif

#define POND_VERSION "0.1.0"

/* Status codes. Values are fixed; new ones are only appended. */
typedef enum {
	POND_OK = 0,
	POND_EUSAGE = 1, /* bad command line, script syntax or semantics */
	POND_EINPUT = 2, /* a missing or unreadable input path */
	POND_ETASK = 3,  /* a task failed after all its attempts */
	POND_EIO = 4,    /* the job directory or an output could not be written */
	POND_ENOMEM = 5,
	POND_EINTERNAL = 6,
	POND_EEXISTS = 7, /* write mode='error' and the output is not empty */
	POND_EBUSY = 8,   /* the job directory is locked by another run */
	POND_EINTR = 9,   /* stopped by pond_interrupt (SIGINT/SIGTERM) */
} pond_status;

typedef enum {
	POND_PROGRESS_AUTO = 0,  /* a redrawn line on a terminal, else plain */
	POND_PROGRESS_PLAIN = 1, /* a line every few seconds */
	POND_PROGRESS_NONE = 2,
} pond_progress;

typedef struct {
	int workers;          /* local worker processes; 0 = number of cores */
	int threads;          /* DuckDB threads per task; 0 = cores/workers */
	int64_t memory_limit; /* bytes per task; 0 = 80% of RAM / workers */
	uint64_t seed;        /* job seed for sampling and random shuffles */
	const char *job_dir;  /* NULL = .pond/<script name>-<8 hex>, the
			       * hex a hash of the script's path and defines */
	bool resume;          /* skip tasks the journal says are committed */
	int max_attempts;     /* per task; 0 = 3 */
	pond_progress progress;
	const char *const *defines; /* "NAME=VALUE" for ${NAME} in scripts */
	size_t ndefines;
	bool mpi;            /* run over MPI ranks; set by pond_mpi_join */
	double task_timeout; /* seconds a task attempt may run; 0 = no limit */
	bool speculate;      /* start stragglers again elsewhere */
	double inject_p;     /* fault injection: probability per attempt */
	uint64_t inject_seed;
	bool keep_intermediates; /* keep shuffle/materialised data after success */
	const char *report;      /* --report: write the run report (one HTML
				  * file) here at the end, also when the run
				  * fails; NULL = none */
} pond_options;

typedef struct pond_session pond_session;

/* Sets the defaults: everything 0, NULL or false, seed 42. */
POND_API void pond_options_init(pond_options *o);

/* Creates a session with a copy of *o (its strings copied too) in *out;
 * free it with pond_session_free. Returns POND_OK: like the rest of the
 * library it aborts when memory runs out, so *out is always set. */
POND_API pond_status pond_session_new(const pond_options *o, pond_session **out);

/* Frees the session and everything it owns; accepts NULL. A session that
 * joined an MPI job (pond_mpi_join) also leaves it here: rank 0 releases
 * the worker ranks, then every rank finalizes MPI. */
POND_API void pond_session_free(pond_session *s);

/* The message of the last failed call ("" if none); lives until the next
 * call on the session. Accepts NULL. */
POND_API const char *pond_errmsg(const pond_session *s);

/* A short description of a status ("a task failed"); never NULL, never
 * to be freed. */
POND_API const char *pond_errstr(pond_status st);

/* Parses a size as --memory-limit takes it: a positive number with an
 * optional unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (KB = 1000,
 * KiB = 1024; case-insensitive). POND_OK with *bytes set, or POND_EUSAGE.
 * Touches no session. */
POND_API pond_status pond_parse_size(const char *text, int64_t *bytes);

/* Reads, parses and checks a .pond script: syntax, functions and
 * arguments, dataset names, partition counts, input paths, output
 * directories; then binds every SQL step in a plan-time DuckDB (a child
 * process, forked and ended within the call), which reads the inputs'
 * footers and samples CSV/JSON inputs. Nothing runs and nothing is
 * written. Returns POND_OK, POND_EUSAGE (the script cannot be read, or is
 * wrong: "file:line:col: message"), POND_EINPUT (an input is missing or
 * unreadable) or POND_EINTERNAL. A loaded script replaces the previous
 * one. */
POND_API pond_status pond_load_script(pond_session *s, const char *path);

/* ---- pond sql (docs/SQL.md): one query over files, planned across workers */
typedef enum { POND_SQL_PARQUET = 0, POND_SQL_CSV = 1 } pond_sql_format;

typedef struct {
	const char *query;         /* the query's text; or NULL, and file: */
	const char *file;          /* a file holding the query (-f FILE.sql) */
	const char *const *tables; /* -t NAME=PATHS: a table name for files
				    * (PATHS comma-separated; Parquet, CSV or
				    * JSON by extension; a directory: its files) */
	size_t ntables;
	const char *tables_dir;  /* --tables DIR: every DIR/NAME.{parquet,csv,
				 * json} and DIR/NAME/ is table NAME; or NULL */
	const char *output;      /* -o DIR: write the result there (part files,
				 * then _SUCCESS); NULL: print it */
	pond_sql_format format;  /* of the output files */
	int64_t max_rows;        /* rows printed without output; 0 = 40 */
	int64_t broadcast_limit; /* --broadcast-limit: a joined table of at
				  * most this many bytes of files is read
				  * whole by every task instead of shuffled;
				  * 0 = 64 MiB, -1 = never */
} pond_sql;

/* Loads one query as pond_load_script loads a script: its tables are
 * found and read (footers, CSV samples), DuckDB binds the query, and the
 * planner cuts it into stages (or one task where it cannot), so that
 * pond_explain and pond_run then work on it. The job directory defaults
 * to .pond/<file name or "sql">-<8 hex of the query, its tables and
 * output>. Nothing runs and nothing is written. Returns POND_OK,
 * POND_EUSAGE (the file cannot be read; DuckDB rejects the query, with
 * its message; a bad table binding; an output that holds an input),
 * POND_EINPUT (a table's files are missing or unreadable) or
 * POND_EINTERNAL. Replaces a loaded script or query. */
POND_API pond_status pond_load_sql(pond_session *s, const pond_sql *q);

/* Writes the logical plan and the physical stages (task counts, shuffle
 * boundaries, the fused SQL of one task per stage) to out. Touches no
 * file. Returns POND_OK, or POND_EUSAGE when no script is loaded. */
POND_API pond_status pond_explain(pond_session *s, FILE *out);

/* Forks the local worker processes now, before a script or query is
 * loaded, so that they open DuckDB while it is planned; pond_run then uses
 * them. Optional: pond_run forks them itself otherwise. A no-op after
 * pond_mpi_join. Workers no run used end with pond_session_free. Returns
 * POND_OK or POND_EIO (cannot fork), the message in pond_errmsg. */
POND_API pond_status pond_start_workers(pond_session *s);

/* Runs the loaded script: plans it, prepares the job directory, forks the
 * local worker processes unless pond_start_workers did (or uses the MPI
 * ranks after pond_mpi_join),
 * schedules the tasks, publishes the outputs, writes the results of
 * show() and count() to stdout, and a progress line and a summary to
 * stderr (unless progress is POND_PROGRESS_NONE). It holds an exclusive
 * lock on the job directory from before it changes anything until it
 * returns, and sets SIGPIPE to be ignored (a worker that dies must not
 * kill the driver). Every worker and task process it starts has ended
 * when it returns; only a detached deletion of the intermediates may
 * still run. Returns POND_OK, POND_EUSAGE (no script loaded, a job
 * directory pond may not use, a plan that changed under --resume),
 * POND_EEXISTS (mode='error' and the output is not empty), POND_EBUSY
 * (another run holds the lock, the message names its pid), POND_EINPUT,
 * POND_ETASK (a task failed for good; the message names the script step),
 * POND_EIO (the job directory or an output could not be written, or every
 * worker was lost), POND_EINTR (pond_interrupt) or POND_EINTERNAL. A
 * failed or interrupted run is finished by running it again with
 * o.resume set. Once it holds the job directory, it writes
 * DIR/trace.json at its end, and the run report to o.report if set (see
 * pond_report), whether the run succeeded or not; o.report's directory
 * must exist (else POND_EUSAGE before anything runs), and a report that
 * cannot be written is said on stderr without changing the status. */
POND_API pond_status pond_run(pond_session *s);

/* Makes the run report of the job directory job_dir from its plan.json,
 * journal.jsonl and events.jsonl, also of a run that failed or was
 * killed: one self-contained HTML page (no network fetches) written to
 * html_path (NULL = job_dir/report.html), and job_dir/trace.json (Chrome's
 * trace format) unless a run holds the job directory's lock (it writes
 * its own at its end). Both are written atomically (a temporary file,
 * then rename). Reads the files as they are; runs nothing. The path
 * written is in *written (lives until the next call on the session; may
 * be NULL). Returns POND_OK, POND_EUSAGE (not a job directory pond has
 * run) or POND_EIO. */
POND_API pond_status pond_report(pond_session *s, const char *job_dir, const char *html_path, const char **written);

/* Async-signal-safe: asks a running pond_run to stop (call it from a
 * SIGINT/SIGTERM handler). The run stops its workers, publishes nothing
 * more, and returns POND_EINTR; --resume finishes the job later. A call
 * before pond_run makes the next run return POND_EINTR at once. */
POND_API void pond_interrupt(void);

/* ---- building a plan call by call (docs/PYTHON.md) -----------------------
 * The same plan a script makes, built from code: python/pond is a ctypes
 * layer over these functions, and the script interpreter (pond_load_script)
 * builds every script through them too. Each call checks its
 * arguments and binds its step in the plan-time DuckDB (a child process the
 * session keeps until it is freed), so a mistake fails the call that made
 * it (a script's steps are bound together at the end of pond_load_script
 * instead, which reports its first error): POND_EUSAGE (wrong SQL: DuckDB's message, quoting the query; a bad
 * argument), POND_EINPUT (missing or unreadable input files). A dataset
 * lives as long as its session; loading a script or query ends them.
 * Then pond_write adds an output and pond_run runs what was added since
 * the last pond_run (pond_set_job names the job directory; resume as
 * pond_options.resume); pond_fetch reads a written Parquet output back as
 * typed columns.
 *
 *   pond_dataset *d, *f;
 *   const char *paths[] = { "data" };
 *   pond_read(s, POND_FORMAT_PARQUET, paths, 1, NULL, 0, NULL, 0, &d);
 *   pond_filter(s, d, "v > 0", &f);
 *   pond_write(s, f, POND_FORMAT_PARQUET, "out", NULL, 0, true);
 *   pond_set_job(s, ".pond/job", false);
 *   pond_run(s);
 *   pond_fetch(s, f, "out", &r);   // pond_result_rows(r), …
 */
typedef struct pond_dataset pond_dataset;
typedef struct pond_result pond_result;

typedef enum { POND_FORMAT_PARQUET = 0, POND_FORMAT_CSV = 1, POND_FORMAT_JSON = 2 } pond_format;

/* How repartition splits (docs/PIPELINES.md). */
typedef enum {
	POND_BY_FILES = 0,  /* the input's files spread evenly */
	POND_BY_ROWS = 1,   /* nearly equal row counts */
	POND_BY_HASH = 2,   /* keys: the columns hashed */
	POND_BY_EXPR = 3,   /* keys[0]: an SQL expression giving the index */
	POND_BY_RANGE = 4,  /* keys: the columns of a sampled range split */
	POND_BY_RANDOM = 5, /* random_shuffle, seeded */
} pond_partitioning;

/* A name and a value as text: a reader option ("header", "false"), a
 * column and its type ("a", "INTEGER"), a write option. */
typedef struct {
	const char *name;
	const char *value;
} pond_kv;

/* Where the next datasets are made, for messages ("job.py", 12); file
 * NULL = "api". Messages then begin "job.py:12: ". */
POND_API void pond_at(pond_session *s, const char *file, int line);
/* pond_at with a column too (col > 0), as the script interpreter names a
 * call: messages begin "job.pond:12:5: ". */
POND_API void pond_at_col(pond_session *s, const char *file, int line, int col);
/* After pond_at_col: where the items of the next call's list are (the
 * paths of pond_read, the inputs of pond_partial_sql), so that an error
 * about item i begins "file:lines[i]:cols[i]: " instead of naming the
 * call. Copied; kept until the next pond_at or pond_at_col. */
POND_API void pond_at_items(pond_session *s, const int *lines, const int *cols, size_t n);

/* read_parquet/read_csv/read_json: paths (files, globs, directories);
 * columns: Parquet, the columns kept (values ignored); CSV/JSON, their
 * types (columns=); opts: the reader's options, typed as the script's are
 * (a bool "true"/"false", an integer, else a string). */
POND_API pond_status pond_read(pond_session *s, pond_format f, const char *const *paths, size_t npaths,
			       const pond_kv *columns, size_t ncolumns, const pond_kv *opts, size_t nopts,
			       pond_dataset **out);
/* partial_sql(query, inputs…) ({0}, {1}, {partition}); no inputs: a
 * one-partition source. pond_sql_step is sql(query, inputs…): over whole
 * datasets, which its query may also name as tables (pond_name). */
POND_API pond_status pond_partial_sql(pond_session *s, const char *query, pond_dataset *const *inputs, size_t ninputs,
				      pond_dataset **out);
POND_API pond_status pond_sql_step(pond_session *s, const char *query, pond_dataset *const *inputs, size_t ninputs,
				   pond_dataset **out);
POND_API pond_status pond_filter(pond_session *s, pond_dataset *in, const char *predicate, pond_dataset **out);
POND_API pond_status pond_map(pond_session *s, pond_dataset *in, const char *select, pond_dataset **out);
POND_API pond_status pond_flat_map(pond_session *s, pond_dataset *in, const char *select, pond_dataset **out);
POND_API pond_status pond_partial_sort(pond_session *s, pond_dataset *in, const char *order_by, pond_dataset **out);
POND_API pond_status pond_limit(pond_session *s, pond_dataset *in, int64_t n, pond_dataset **out);
/* A Python function per partition (python/pond's map, filter, flat_map,
 * map_batches of a callable): a stage of pond tasks, task i over
 * partition i of in. The task runs `PYTHON runner pickle IN OUT`
 * (PYTHON: $POND_PYTHON where the task runs, else /usr/bin/python3); IN
 * holds the partition's rows as JSON lines of text values (DuckDB's
 * VARCHAR casts, NULL as null), and the runner writes the output rows to
 * OUT as JSON lines, read with these columns (name, DuckDB type) into the
 * task's Parquet output. Exit status 1 fails the task for good (not
 * retried) with what the runner printed (the Python traceback) as its
 * error. func names the step in messages ("map"). runner and pickle are
 * files every worker can read (the job directory is a good place).
 * POND_EUSAGE: no columns, a bad type, a file that is not there. */
POND_API pond_status pond_python(pond_session *s, pond_dataset *in, const char *func, const char *runner,
				 const char *pickle, const pond_kv *columns, size_t ncolumns, pond_dataset **out);
/* repartition(n, …) by `by`; keys as pond_partitioning says; POND_BY_RANDOM
 * is random_shuffle (n 0: the input's partition count). */
POND_API pond_status pond_repartition(pond_session *s, pond_dataset *in, int n, pond_partitioning by,
				      const char *const *keys, size_t nkeys, pond_dataset **out);
/* write_parquet (f POND_FORMAT_PARQUET) or write_csv: dir gets a part file
 * per partition and _SUCCESS when the next pond_run publishes it; opts:
 * "compression", "partition_by" (once per column), CSV "header" and
 * "delim"; overwrite: mode='overwrite' (else 'error'). */
POND_API pond_status pond_write(pond_session *s, pond_dataset *in, pond_format f, const char *dir, const pond_kv *opts,
				size_t nopts, bool overwrite);

/* show(n) and count(): pond_run prints the first n rows of in (0 to
 * 1000000), or its row count, to stdout, in the order they were added. */
POND_API pond_status pond_show(pond_session *s, pond_dataset *in, int64_t n);
POND_API pond_status pond_count(pond_session *s, pond_dataset *in);

/* Names d (a script's `name = ...`): --explain shows the name, and a later
 * pond_sql_step may name d as a table in its query (FROM name) besides
 * {0}, {1}…; naming another dataset the same later shadows it for the
 * steps after. */
POND_API pond_status pond_name(pond_session *s, pond_dataset *d, const char *name);

/* A dataset's partitions, and its columns as the binder found them. */
POND_API int pond_dataset_partitions(const pond_dataset *d);
POND_API size_t pond_dataset_columns(const pond_dataset *d);
POND_API const char *pond_dataset_column(const pond_dataset *d, size_t i, const char **type);

/* The job directory of the next pond_run (copied) and whether it resumes. */
POND_API pond_status pond_set_job(pond_session *s, const char *job_dir, bool resume);

/* Reads the Parquet files pond_write wrote for d into dir (its part
 * files in order: partition 0's rows first; or dir names one part file)
 * into *out: d's column names, the files' types (Parquet has no HUGEINT:
 * DuckDB writes it as DOUBLE) and the values, read in this process by a
 * DuckDB opened and closed within the call. Numbers come as arrays
 * (pond_result_kind, pond_result_data), everything else as DuckDB's text
 * for it. Free with pond_result_free. POND_EINPUT (dir has no output, or
 * unreadable files), POND_EUSAGE. */
POND_API pond_status pond_fetch(pond_session *s, const pond_dataset *d, const char *dir, pond_result **out);
POND_API int64_t pond_result_rows(const pond_result *r);
POND_API size_t pond_result_columns(const pond_result *r);
POND_API const char *pond_result_name(const pond_result *r, size_t col);
POND_API const char *pond_result_type(const pond_result *r, size_t col);

/* How a column's values are held. */
typedef enum {
	POND_VALUES_TEXT = 0,   /* pond_result_values only */
	POND_VALUES_INT64 = 1,  /* int64_t[rows]: BOOLEAN excepted, integers up to
				 * BIGINT and UINTEGER */
	POND_VALUES_DOUBLE = 2, /* double[rows]: DOUBLE */
	POND_VALUES_BOOL = 3,   /* uint8_t[rows], 0 or 1: BOOLEAN */
} pond_values;
POND_API pond_values pond_result_kind(const pond_result *r, size_t col);
/* The array of a column whose kind is not POND_VALUES_TEXT (else NULL);
 * a NULL row's slot holds no meaningful value. Lives with r. */
POND_API const void *pond_result_data(const pond_result *r, size_t col);
/* Per row, 1 for a value and 0 for SQL NULL; lives with r. */
POND_API const uint8_t *pond_result_valid(const pond_result *r, size_t col);
/* Column col's values as text, one per row (NULL: SQL NULL), of any kind
 * (made on first call for a typed column); lives with r. */
POND_API const char *const *pond_result_values(const pond_result *r, size_t col);
POND_API void pond_result_free(pond_result *r); /* accepts NULL */

/* ---- MPI (docs/CLUSTER.md): the same script under mpirun / srun ----------
 * Joins the MPI job when the process was started by mpirun, mpiexec or
 * srun; otherwise returns POND_OK with *worker false and does nothing.
 * Call it once per process, after pond_session_new and before
 * pond_load_script. Under MPI every rank calls it:
 * - rank 0 returns POND_OK with *worker false, and the session then runs
 *   over the other ranks (over local workers if it is the only rank);
 * - every other rank serves tasks until rank 0 is done, then returns with
 *   *worker true: POND_OK when released, POND_EIO when rank 0 vanished.
 *   It must not load or run a script; it frees the session and exits.
 * Errors: POND_EUSAGE (srun started several tasks without an MPI launch,
 * e.g. no --mpi=pmix), POND_EINTERNAL (MPI_Init failed). MPI is finalized
 * when the session is freed. */
POND_API pond_status pond_mpi_join(pond_session *s, bool *worker);

#ifdef __cplusplus
}
#endif

#endif
