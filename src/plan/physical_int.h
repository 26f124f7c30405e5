/* physical_int.h — what physical.c (stages, tasks, fusion) and shuffle.c
 * (shuffle stages) share: the planner's state, one task's compilation,
 * and the helpers that build stages and tasks. Not part of any API. */
#ifndef POND_PLAN_PHYSICAL_INT_H
#define POND_PLAN_PHYSICAL_INT_H

#include "plan/logical.h"
#include "plan/physical.h"
#include "plan/task.h"
#include "util/sb.h"

typedef struct {
	const lplan *lp;
	const plan_opts *o;
	pplan *pp;
	stage **python_of;    /* by lnode id: a Python function's stage */
	stage **shuffle_of;   /* by lnode id: producer stage */
	stage **gather_of;    /* by lnode id: sql/limit gather stage */
	stage **mat_of;       /* by lnode id: materialised partitions */
	stage **combined_of;  /* by lnode id of a combined partial_sql: its
			      * shuffle, producers aggregating first */
	bool *cut;            /* by lnode id: read from mat_of (fusion cap) */
	int *readers;         /* by lnode id: the nodes and actions reading it */
	const lnode **reader; /* by lnode id: the last node reading it (NULL:
			       * an action) */
	pond_err *err;
} planner;

/* State of one task's compilation. */
typedef struct {
	planner *pl;
	sb ctes;
	int ncte;
	task_view *views;
	size_t nviews;
	int *deps;
	size_t ndeps;
	char **memo; /* by lnode id: CTE/view name for this task */
	/* When set, the source `split_node` is read from files [lo, hi) only:
	 * a shuffle producer's share of a one-partition source. */
	const lnode *split_node;
	size_t split_lo, split_hi;
	int slice, nslices; /* nslices > 1: rows slice/nslices of one file */
	bool rownum;        /* Parquet sources also give __pond_rn, the row's
			     * number in its file (for deterministic sampling) */
	char **cte_names;
	char **cte_steps; /* per CTE: "file:line:col: func", or NULL */
} tctx;

void tctx_init(tctx *c, planner *pl);
void tctx_release(tctx *c);
/* Adds a CTE computing `query` (for node n, or NULL) to the task; its name. */
const char *add_cte(tctx *c, const lnode *n, const char *query);
/* Name of a view or CTE holding partition i of n within this task. */
const char *compile(tctx *c, const lnode *n, int i);
/* A view of every task output of stage s, in task order. */
const char *parts_view(tctx *c, stage *s);
stage *new_stage(planner *pl, stage_kind kind, const char *step);
/* Adds the task c compiled (its query ends in CTE `root`) to stage s. */
void add_task(planner *pl, stage *s, tctx *c, const char *root, task_output output);
task_output output_of(output_kind kind);

/* shuffle.c: the producer stage of repartition rp (memoised); pre, when
 * set, is the combined partial_sql its producers aggregate first. */
stage *ensure_shuffle(planner *pl, const lnode *rp, const lnode *pre);

#endif
