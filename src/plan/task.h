/* task.h — the physical plan's vocabulary, shared by every layer below the
 * planner: a stage of tasks; a task as the views it creates, one fused
 * query and one output; the runtime fields of one attempt of a task; and
 * the result an attempt gives back. Plain structs with enums for their
 * kinds: the planner (physical.c) builds them, the scheduler dispatches
 * them, the worker and its task child run them, the engine turns them
 * into DuckDB statements. JSON exists only where they cross a boundary
 * (plan.json, the transport's frames, the journal): plan/task_codec.c.
 * Every string is owned by its struct; *_release frees what a struct
 * holds, not the struct itself. */
#ifndef POND_PLAN_TASK_H
#define POND_PLAN_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/errclass.h"

/* A view is one read-only input of a task, created as
 * CREATE TEMP VIEW <name> AS …; the task's query reads it. */
typedef enum {
	VIEW_SQL,     /* `sql` as it is: a source's files, or a group of them */
	VIEW_SLICE,   /* rows [k·n/K, (k+1)·n/K) of one Parquet file, n read
		       * from its footer when the task runs */
	VIEW_ROWS,    /* rows [i·N/n, (i+1)·N/n) of Parquet files read in
		       * order, N their total row count (by_rows, no shuffle) */
	VIEW_SHUFFLE, /* one bucket (or all, in order) of a shuffle stage's
		       * producers, listed from their manifests when it runs */
	VIEW_PARTS,   /* the committed outputs of tasks of another stage */
} view_kind;

typedef struct {
	view_kind kind;
	char *name; /* __pond_v<k> */
	char *step; /* SQL/SLICE/ROWS: the read_* call it reads for
		     * ("job.pond:1:8: read_parquet"), else NULL */
	/* VIEW_SQL: the SELECT; VIEW_SLICE: the SELECT of the file with its
	 * file_row_number, to which the engine appends the range */
	char *sql;
	/* VIEW_SLICE */
	char *slice_file;
	int slice, nslices; /* slice k of K */
	/* VIEW_ROWS: each file with its numbered SELECT */
	char **rows_files;
	char **rows_sql;
	size_t nrows_files;
	int rows_part, rows_parts; /* partition i of n */
	/* VIEW_SHUFFLE, VIEW_PARTS: the task directories read, in order */
	char **dirs;
	size_t ndirs;
	/* VIEW_SHUFFLE */
	int bucket; /* -1: every bucket, in order */
	int buckets;
	char *order_by; /* random_shuffle consumers: ORDER BY this, or NULL */
} task_view;

void task_view_release(task_view *v);

/* What a task writes into its attempt directory. */
typedef enum {
	OUT_PARQUET, /* part.parquet, uncompressed (an intermediate) */
	OUT_BUCKETS, /* __pond_bucket=B/…: a shuffle producer's output */
	OUT_SINK,    /* the user's files: part-NNNNN.<ext>, or hive directories */
	OUT_SHOW,    /* show.txt: a box-drawn table */
	OUT_COUNT,   /* count.txt: a number */
	OUT_PYTHON,  /* part.parquet: a Python function over the rows
		      * (engine/pyrun.c) */
} output_kind;

typedef struct {
	output_kind kind;
	char *prelude;      /* BUCKETS: a statement run first (range shuffles
			     * set their split points), or NULL */
	char *select;       /* BUCKETS: adds __pond_bucket to the rows */
	char *file;         /* SINK: "part-00003" */
	char *ext;          /* SINK: "parquet", "csv" */
	char *copy_options; /* SINK: "FORMAT parquet, COMPRESSION 'zstd'" */
	char *partition_by; /* SINK: quoted column list, or NULL */
	char *total;        /* SHOW: a query giving the number of rows of the
			     * whole result, said under the table, or NULL */
	char *py_runner;    /* PYTHON: the script Python runs (python/pond/
			     * _runner.py), with the pickle, the input and
			     * the output JSON lines files as arguments */
	char *py_pickle;    /* PYTHON: the pickled function, a file */
	char *py_columns;   /* PYTHON: read_json's columns= for its output,
			     * a SQL struct literal, escaped */
} task_output;

const char *output_kind_name(output_kind k); /* "parquet", "buckets", … */

/* One task of the plan: everything it needs to run, with no reference to
 * the plan around it, so that it can cross a process boundary. */
typedef struct {
	char *id;   /* "s01-map-t00002": stage name + index; the
		     * journal's key */
	int stage;  /* its stage's id */
	int index;  /* its index in the stage */
	char *step; /* the stage's script step, for messages */
	task_view *views;
	size_t nviews;
	char *with;       /* "WITH __pond_c0 AS (…), …" or "" */
	char *query;      /* with + "SELECT * FROM <root>" */
	char **cte_steps; /* per CTE: the script step it computes, or NULL
			   * for pond's own wrappers */
	size_t ncte_steps;
	task_output output;
	bool durable;       /* a sink's: writeback starts at commit */
	char *dir;          /* the final place, the commit's rename target */
	char *attempts_dir; /* where attempt directories are made */
} ptask;

void ptask_release(ptask *t);

typedef enum {
	ST_MAP,     /* materialise partitions as part.parquet */
	ST_SHUFFLE, /* producer: one bucket directory per destination */
	ST_SAMPLE,  /* range shuffle: sample keys */
	ST_SPLITS,  /* range shuffle: choose n-1 split points */
	ST_GATHER,  /* sql()/limit(): one task over whole datasets */
	ST_SINK,    /* write_parquet / write_csv into the staging dir */
	ST_SHOW,    /* show(): a text table */
	ST_COUNT,   /* count(): a number */
	ST_PYTHON,  /* a Python function (map, filter, … of a callable) */
} stage_kind;

struct action; /* plan/logical.h */

typedef struct {
	int id;
	stage_kind kind;
	char *name; /* "s03-shuffle" */
	char *step; /* "job.pond:5 repartition(hash_by=k)" */
	int *deps;  /* stage ids that must finish first */
	size_t ndeps;
	ptask *tasks; /* owned */
	size_t ntasks;
	const struct action *act; /* for sinks, show, count */
} stage;

const char *stage_kind_name(stage_kind k);

/* The runtime fields of one attempt of a task: set by the scheduler when
 * it dispatches the task, completed by the worker (its host's share of
 * threads and memory). */
typedef struct {
	int attempt;          /* 1, 2, …: one more at every dispatch */
	char *attempt_dir;    /* <attempts_dir>/<id>.a<attempt>: written, then
			       * renamed to the task's dir */
	char *temp_dir;       /* <job>/tmp/spill/<id>.a<attempt>: its parent
			       * holds the task child's spill directory */
	char *log_dir;        /* <job>/log: the worker's .log and .stderr */
	int64_t threads;      /* DuckDB threads; 0 = the worker's host share */
	int64_t memory_limit; /* bytes; 0 = the worker's host share */
	int threads_div;      /* after a resource failure: divide the threads, */
	double memory_mul;    /* multiply the memory (0 = neither) */
	double inject_p;      /* --inject-faults: probability, 0 = off */
	uint64_t inject_seed;
} task_attempt;

void task_attempt_release(task_attempt *a);

/* What an attempt cost, measured in its task process: -1 where not
 * measured (a crash, a failed statement, an older events.jsonl). DuckDB's
 * profiling of the task's main statement gives peak_mem, spill and
 * rows_in; the process's own counters give cpu_ms (getrusage: every DuckDB
 * thread, Parquet writing included) and read/written (/proc/self/io rchar
 * and wchar: DuckDB's total_bytes_read/written count only a database
 * file's I/O, which an in-memory database has none of). */
typedef struct {
	double cpu_ms;       /* user + system CPU time */
	int64_t peak_mem;    /* DuckDB's peak buffer memory (system_peak_buffer_memory) */
	int64_t spill;       /* DuckDB's peak temp directory size: bytes spilled */
	int64_t rows_in;     /* rows scanned (cumulative_rows_scanned) */
	int64_t read_bytes;  /* bytes read by the process (files, spill) */
	int64_t write_bytes; /* bytes written (outputs, spill) */
} task_metrics;

/* DuckDB's profiler costs about half a millisecond a task, which tasks
 * of a few milliseconds would feel: after a task of a stage ran under
 * PROFILE_MIN_MS in a task process, the next tasks of that stage there run
 * without it (peak_mem, spill, rows_in -1), but one in PROFILE_SAMPLE, so
 * that a stage of tiny tasks still has some measured (runtime/task.c).
 * CPU time and bytes read and written are always measured: they cost
 * microseconds. */
#define PROFILE_MIN_MS 50.0
#define PROFILE_SAMPLE 16

#define TASK_METRICS_NONE ((task_metrics){ -1, -1, -1, -1, -1, -1 })

/* How an attempt ended, as the task child, the worker and the scheduler
 * see it. */
typedef struct {
	char *task; /* the task's id */
	int attempt;
	bool ok;
	bool duplicate;    /* ok, but another attempt had committed first;
			    * manifest is that output's */
	bool crashed;      /* the task child died without a result */
	int64_t rows;      /* rows written (or shown, counted) */
	int64_t bytes;     /* bytes of the files written */
	int64_t files;     /* files written */
	char manifest[17]; /* ok: the hash of the output's manifest */
	error_class cls;   /* failed: why */
	char *error;       /* failed: the message */
	char *sql;         /* failed: the statement that failed, or NULL */
	char *step;        /* failed: the script step it failed in, or NULL */
	double ms;         /* the attempt's duration, as the worker saw it */
	task_metrics m;    /* what it cost (set by the task child) */
} task_result;

void task_result_release(task_result *r);

#endif
