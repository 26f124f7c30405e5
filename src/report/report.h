/* report.h — what a job did, read back from its job directory (plan.json,
 * journal.jsonl, events.jsonl), and the two files made of it: the run
 * report (one self-contained HTML page, --report and `pond report`) and
 * DIR/trace.json (Chrome's trace format, for Perfetto). Called by the
 * session (src/api/session.c) after a run and by pond_report. The model
 * below is shared by load.c (which builds it), html.c and svg.c (the page)
 * and trace.c. */
#ifndef POND_REPORT_REPORT_H
#define POND_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/task_codec.h"
#include "report/stats.h"
#include "util/err.h"
#include "util/sb.h"

typedef enum {
	AT_OK,         /* committed its task */
	AT_DUPLICATE,  /* finished, but another attempt had committed first */
	AT_FAILED,     /* an error (the task may have been retried) */
	AT_LOST,       /* its worker died or went silent */
	AT_UNFINISHED, /* started, never ended: the run was killed */
} attempt_end;

typedef struct {
	int stage; /* index into report.stages, -1 if the plan has no such stage */
	char *task;
	int attempt;
	int lane;          /* index into report.lanes, -1 if not known */
	int run;           /* which run of the job (0 = the first) */
	double start, end; /* unix seconds (end: when the result came) */
	attempt_end how;
	bool timed_out; /* cancelled past --task-timeout */
	int cls;        /* error_class of a failure */
	char *error;    /* a failure's message */
	char *step;     /* the script step a failure was found in */
	double ms;      /* its duration, as its worker measured it */
	int64_t rows, bytes;
	task_metrics m;
} rep_attempt;

typedef struct {
	plan_stage_info info;
	size_t committed;                      /* tasks with a commit line */
	size_t attempts;                       /* attempts started */
	size_t retries;                        /* attempts beyond the first of each task */
	size_t failed;                         /* attempts that failed or were lost */
	stats_summary time;                    /* committing attempts' durations, ms */
	int64_t rows_out, bytes_out;           /* of committing attempts */
	int64_t rows_in, read, written, spill; /* sums of the measured; -1 none */
	int64_t peak_mem;                      /* the largest task's; -1 none */
	size_t profiled;                       /* committing attempts DuckDB's profiler measured
			  * (rows_in, spill, peak_mem: tiny tasks are
			  * sampled, PROFILE_MIN_MS in plan/task.h) */
	double cpu_ms;                         /* -1 none */
	int depth;                             /* its column in the plan graph */
} rep_stage;

typedef struct {
	char *label; /* "worker 0", "rank 2 on node1" */
	char *host;  /* MPI: the host ("node1"); NULL for local workers */
} rep_lane;

typedef enum {
	JOB_DONE,       /* the journal's "done" line */
	JOB_FAILED,     /* a "stopped" line: the run failed or was interrupted */
	JOB_UNFINISHED, /* neither: killed, or still running */
} job_state;

typedef struct {
	char *job_dir;
	rep_stage *stages;
	size_t nstages;
	rep_attempt *att; /* in the order they started */
	size_t natt;
	rep_lane *lanes;
	size_t nlanes;
	int runs;         /* "run" lines (at least 1) */
	double run_start; /* unix: the last run's start */
	double t0, t1;    /* unix: the first and the last time recorded */
	int workers;      /* the last run's */
	job_state state;
	char *error; /* JOB_FAILED: the run's error */
	size_t tasks, committed, unfinished;
	int64_t rows_out, bytes_out; /* written to outputs (sink stages) */
	size_t bad_lines;            /* lines that could not be read (a torn last line) */
} report;

/* Reads job_dir's plan.json (required), journal.jsonl and events.jsonl
 * (either may be missing, and a torn line is skipped). 0 with *out set
 * (free with report_free), or POND_EUSAGE (no plan: not a job directory
 * pond ran) / POND_EIO. */
int report_load(const char *job_dir, report **out, pond_err *err);
void report_free(report *r); /* accepts NULL */

/* The HTML page, written atomically (path.tmp, then rename): never half
 * written. Past 2,000 attempts the timeline is binned into at most 12,000
 * cells (20 a lane beyond 600 workers), and failures past 50 kinds are
 * counted, so the page's size follows the stages and workers, not the
 * tasks: about 460 KB for 10,000 tasks on 64 workers. */
int report_write_html(const report *r, const char *path, pond_err *err);

/* trace.json: one complete event ("ph": "X") per attempt, a process per
 * host and a thread per worker; written atomically. */
int report_write_trace(const report *r, const char *path, pond_err *err);

/* Loads job_dir and writes the page to html_path and the trace to
 * trace_path (either may be NULL: not written). */
int report_make(const char *job_dir, const char *html_path, const char *trace_path, pond_err *err);

/* ---- for html.c, svg.c ---------------------------------------------------- */

/* The stage's colour (CSS), by its index. */
const char *report_colour(int stage);
/* The SVG of the stage graph and of the timeline, appended to out. */
void report_svg_plan(const report *r, sb *out);
void report_svg_timeline(const report *r, sb *out);

#endif
