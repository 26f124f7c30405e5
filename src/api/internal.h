/* internal.h — entry points of the session for pond's own tests (the
 * planner's golden tests, tests/test_plan_golden.c): not part of the
 * public API, not exported from the library. */
#ifndef POND_API_INTERNAL_H
#define POND_API_INTERNAL_H

#include "engine/plandb.h"
#include "plan/logical.h"
#include "plan/physical.h"
#include "pond.h"
#include "util/err.h"

/* A session (include/pond.h); session.c and dataset.c share it. */
struct pond_session {
	pond_options o;
	char **defines; /* owned copies of o.defines */
	pond_err err;
	lplan *lp;
	char *script_path;
	double t0;               /* when the session was made (clock_mono) */
	bool mpi_joined;         /* pond_mpi_join: leave the MPI job when freed */
	struct transport *early; /* pond_start_workers: for the next pond_run */
	char *written;           /* pond_report's page */
	char *sql_job_dir;       /* pond_load_sql: the default job directory */
	/* a plan built call by call (dataset.c): */
	bool built; /* lp was built by pond_read … pond_write */
	plandb *db; /* the plan-time DuckDB its steps were bound in */
	char *site; /* pond_at: where the next steps are made */
	int site_line;
	int site_col;  /* pond_at_col; 0: none */
	int *item_pos; /* pond_at_items: line, col of each list item */
	size_t nitems;
	char **names;         /* pond_name: names given to datasets ... */
	pond_dataset **named; /* ... and the datasets, in the order named */
	size_t nnamed;
	bool loading; /* pond_load_script is interpreting a script: steps
		       * are made, and bound together at its end */
};

/* Ends a plan built call by call: its plan-time DuckDB and datasets. */
void session_drop_built(pond_session *s);

/* The physical plan pond_run would run for the loaded script, as
 * pond_explain prints it; free it with pplan_free. POND_EUSAGE when no
 * script is loaded. */
pond_status session_plan(pond_session *s, pplan **out);

#endif
