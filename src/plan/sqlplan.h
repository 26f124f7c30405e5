/* sqlplan.h — pond sql: one DuckDB query planned across workers
 * (docs/SQL.md). Called by the session (pond_load_sql). Builds the same
 * logical plan a pipeline script would give (sources, repartitions,
 * per-partition queries, gathers, one action) and binds it, so that the
 * physical planner and a run treat it like any script's. */
#ifndef POND_PLAN_SQLPLAN_H
#define POND_PLAN_SQLPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/plandb.h"
#include "plan/logical.h"
#include "util/err.h"

typedef struct {
	const char *query;         /* the query's text */
	const char *origin;        /* where it came from, for messages ("-f x.sql") */
	const char *const *tables; /* -t NAME=PATHS (PATHS comma-separated) */
	size_t ntables;
	const char *tables_dir;  /* --tables DIR, or NULL */
	const char *output;      /* -o DIR (absolute), or NULL: print */
	bool csv;                /* --format csv */
	int64_t max_rows;        /* rows printed without -o */
	int64_t broadcast_limit; /* a joined table of at most this many bytes
				  * of files is read whole by every task; -1:
				  * none is */
} sql_request;

/* Fills the empty plan lp from the query: its tables as sources, the
 * stages' nodes (or one task over everything, when the shape is not one
 * the planner distributes), and the print or write action; lp->notes says
 * how it was planned. Forks the plan-time DuckDB and ends it within the
 * call. Errors: POND_EUSAGE (DuckDB rejects the query, with its message;
 * a bad -t or --tables; an output that holds an input), POND_EINPUT (a
 * table's files are missing or unreadable), POND_EINTERNAL. */
int sql_plan(lplan *lp, const sql_request *rq, pond_err *err);

/* sqlscript.c: a script's sql() steps. Before sql() node n is bound: the
 * dataset names its query reads become more inputs ("{k}"); -1 when its
 * query could not be printed back. */
int sql_script_names(plandb *db, lnode *n);

/* Once the script is bound: each sql() step planned like pond sql (its
 * stages added, the step a gather of their result), or left as one task;
 * lp->notes says which. The nodes are renumbered. */
int sql_script_plan(lplan *lp, plandb *db, pond_err *err);

#endif
