/* physical.c — cuts the logical DAG into stages of tasks (docs/ARCHITECTURE.md).
 *
 * Per-partition steps fuse: compile() turns the chain that produces one
 * partition into a single query of nested CTEs over "views" (the leaves:
 * input files, shuffle buckets, materialised stage outputs). Data is written
 * only at a repartition (a shuffle stage), at a gather (sql, limit, show,
 * count) and at sinks. Stages are created on demand and memoised per node,
 * so a dataset used twice is shuffled once. The plan is a pure function of
 * the script, the inputs and the seed: never of the worker count. */
#include "plan/physical.h"
#include "plan/physical_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/source.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/sb.h"

/* At most this many steps fuse into one query; a longer chain is cut by
 * materialising (see cap_depth). DuckDB binds nested CTEs recursively:
 * max_expression_depth (1000) stops a chain of ~1000, and raising it
 * overflows DuckDB's stack near 1500. Binding 256 takes ~20 ms, 990 take
 * ~210 ms. compile() recurses once per step too. */
#define FUSE_MAX 256

char *pplan_staging_dir(const char *job_dir, const char *out_dir)
{
	char *parent = fs_dirname(out_dir);
	char *real = fs_realpath(job_dir);
	uint32_t id = hash_fold32(fnv1a64(FNV1A64_INIT, real, strlen(real)));
	char *s = xasprintf("%s/.%s.pond-staging-%08x", parent, fs_basename(out_dir), id);
	free(real);
	free(parent);
	return s;
}

void tctx_init(tctx *c, planner *pl)
{
	memset(c, 0, sizeof(*c));
	c->pl = pl;
	c->memo = xcalloc(pl->lp->nnodes, sizeof(char *));
}

void tctx_release(tctx *c)
{
	sb_release(&c->ctes);
	/* none left once add_task has handed them to the task */
	for (size_t i = 0; i < c->nviews; i++)
		task_view_release(&c->views[i]);
	free(c->views);
	for (int i = 0; c->cte_steps && i < c->ncte; i++)
		free(c->cte_steps[i]);
	free(c->cte_steps);
	free(c->deps);
	for (size_t i = 0; i < c->pl->lp->nnodes; i++)
		free(c->memo[i]);
	free(c->memo);
	for (int i = 0; i < c->ncte; i++)
		free(c->cte_names[i]);
	free(c->cte_names);
}

static void add_dep(tctx *c, int stage_id)
{
	for (size_t i = 0; i < c->ndeps; i++)
		if (c->deps[i] == stage_id)
			return;
	c->deps = xrealloc(c->deps, (c->ndeps + 1) * sizeof(int));
	c->deps[c->ndeps++] = stage_id;
}

/* Adds a view to the task; returns its name (owned by the task). */
static const char *add_view(tctx *c, task_view v)
{
	v.name = xasprintf("__pond_v%zu", c->nviews);
	c->views = xgrow(c->views, c->nviews, sizeof(task_view));
	c->views[c->nviews++] = v;
	return v.name;
}

/* "job.pond:4:5: partial_sql": the script step a part of a task computes,
 * named in errors found in it. Caller frees. */
static char *step_of(const lnode *n)
{
	return xasprintf("%s:%d: %s", n->where, n->col, n->func);
}

/* Copies of the committed directories of a stage's tasks [lo, hi). */
static char **task_dirs(const stage *s, size_t lo, size_t hi, size_t *n)
{
	char **v = xcalloc(hi - lo + 1, sizeof(char *));
	for (size_t t = lo; t < hi; t++)
		v[t - lo] = xstrdup(s->tasks[t].dir);
	*n = hi - lo;
	return v;
}

/* Adds a CTE to the task's query. `n` is the script step it computes (for
 * errors that point at a line of the query), or NULL for pond's own
 * wrappers. */
const char *add_cte(tctx *c, const lnode *n, const char *query)
{
	char *name = xasprintf("__pond_c%d", c->ncte);
	c->cte_names = xrealloc(c->cte_names, (size_t)(c->ncte + 1) * sizeof(char *));
	c->cte_steps = xrealloc(c->cte_steps, (size_t)(c->ncte + 1) * sizeof(char *));
	c->cte_steps[c->ncte] = n ? step_of(n) : NULL;
	c->cte_names[c->ncte++] = name;
	sb_add(&c->ctes, c->ncte > 1 ? ",\n" : "WITH ");
	sb_addf(&c->ctes, "%s AS (\n%s\n)", name, query);
	return name;
}

/* Parts of a source are cast to the whole source's types (source.c). */
static unsigned part_flags(const lnode *n)
{
	return n->nfiles > 1 ? SRC_CAST : 0;
}

/* Files [lo, hi) of a source; an empty range reads the first file's schema. */
static const char *source_view(tctx *c, const lnode *n, size_t lo, size_t hi)
{
	sb b = SB_INIT;
	unsigned flags = part_flags(n) | (c->rownum ? SRC_ROWNUM : 0);

	if (lo < hi) {
		source_read_sql(&b, n, lo, hi, flags);
	} else {
		source_read_sql(&b, n, 0, 1, flags);
		sb_add(&b, " LIMIT 0");
	}
	return add_view(c, (task_view){ .kind = VIEW_SQL, .sql = sb_detach(&b), .step = step_of(n) });
}

/* SELECT of Parquet file f of source n with its file_row_number, for a
 * range of rows to be appended as a WHERE by the engine. */
static void numbered_file_sql(sb *b, const tctx *c, const lnode *n, size_t f)
{
	source_file_sql(b, n, f, part_flags(n) | SRC_ROWS | (c->rownum ? SRC_ROWNUM : 0));
}

/* Rows [k*n/K, (k+1)*n/K) of Parquet file f, where n, its row count, is
 * read from the footer when the task runs (the engine appends the
 * file_row_number range to "sql"). DuckDB skips row groups outside the
 * range, so a slice reads only its share of the file. */
static const char *slice_view(tctx *c, const lnode *n, size_t f, int k, int K)
{
	sb b = SB_INIT;

	numbered_file_sql(&b, c, n, f);
	return add_view(c, (task_view){ .kind = VIEW_SLICE,
					.sql = sb_detach(&b),
					.slice_file = xstrdup(n->files[f]),
					.step = step_of(n),
					.slice = k,
					.nslices = K });
}

stage *new_stage(planner *pl, stage_kind kind, const char *step)
{
	stage *s = xcalloc(1, sizeof(stage));

	(void)pl;
	s->id = -1; /* numbered by its first task, see register_stage */
	s->kind = kind;
	s->step = xstrdup(step);
	return s;
}

/* Stages are numbered when their first task is added: by then compiling
 * that task has created every stage it reads, so ids are in topological
 * order and `explain` reads top-down. */
static void register_stage(planner *pl, stage *s)
{
	pplan *pp = pl->pp;

	if (s->id >= 0)
		return;
	s->id = (int)pp->nstages;
	s->name = xasprintf("s%02d-%s", s->id, stage_kind_name(s->kind));
	pp->stages = xrealloc(pp->stages, (pp->nstages + 1) * sizeof(stage *));
	pp->stages[pp->nstages++] = s;
}

static char *task_dir(planner *pl, const stage *s, size_t i)
{
	return xasprintf("%s/data/%s/t%05zu", pl->o->job_dir, s->name, i);
}

/* Finishes a task: the fused query, its views, deps and output. The
 * task takes the context's views and steps. */
void add_task(planner *pl, stage *s, tctx *c, const char *root, task_output output)
{
	size_t i = s->ntasks;
	sb q = SB_INIT;
	ptask *t;

	register_stage(pl, s);
	s->tasks = xgrow(s->tasks, s->ntasks, sizeof(ptask));
	t = &s->tasks[s->ntasks++];
	if (c->ncte) {
		sb_add(&q, sb_str(&c->ctes));
		sb_add(&q, "\n");
	}
	sb_addf(&q, "SELECT * FROM %s", root);
	*t = (ptask){
		.id = xasprintf("%s-t%05zu", s->name, i),
		.stage = s->id,
		.index = (int)i,
		.step = xstrdup(s->step),
		.views = c->views,
		.nviews = c->nviews,
		.with = xstrdup(sb_str(&c->ctes)),
		.query = sb_detach(&q),
		.cte_steps = c->cte_steps,
		.ncte_steps = (size_t)c->ncte,
		.output = output,
		/* sinks' outputs are published, and made durable then: their
		 * writeback starts at commit (runtime/task.c) */
		.durable = s->kind == ST_SINK,
		.dir = task_dir(pl, s, i),
		.attempts_dir = xasprintf("%s/tmp/attempts", pl->o->job_dir),
	};
	c->views = NULL;
	c->nviews = 0;
	c->cte_steps = NULL;
	for (size_t d = 0; d < c->ndeps; d++) {
		size_t k;
		for (k = 0; k < s->ndeps; k++)
			if (s->deps[k] == c->deps[d])
				break;
		if (k == s->ndeps) {
			s->deps = xrealloc(s->deps, (s->ndeps + 1) * sizeof(int));
			s->deps[s->ndeps++] = c->deps[d];
		}
	}
}

task_output output_of(output_kind kind)
{
	return (task_output){ .kind = kind };
}

/* A gather that only concatenates a computed dataset's partitions
 * (`SELECT * FROM {0}`: pond sql's derived table or subquery result read
 * whole by every task). Its readers read those partitions' files
 * instead, in order, as the gather would: one task copying them into one
 * file was a stage on the critical path (TPC-H Q21: 6M rows, 1.2 s). */
static bool pass_through(const lnode *n)
{
	const lnode *in = n->ninputs == 1 ? n->inputs[0] : NULL;

	return n->kind == L_SQL && in && in->nparts > 1 && (in->kind == L_QUERY || in->kind == L_PARTIAL) &&
	       !in->combine && n->query && !strcmp(n->query, "SELECT * FROM \"{0}\"");
}

static const char *compile_all(tctx *c, const lnode *n);
static bool computed_once(const planner *pl, const lnode *n);
static stage *ensure_materialized(planner *pl, const lnode *n);
static stage *ensure_python(planner *pl, const lnode *n);
static stage *ensure_gather(planner *pl, const lnode *n);

/* A view over bucket `bucket` (or every bucket, in order, when -1) of a
 * shuffle stage: the engine lists the files when the task runs. With
 * `pre`, the shuffle whose producers first run pre's query (combine.c). */
static const char *shuffle_view(tctx *c, const lnode *rp, int bucket, const lnode *pre)
{
	stage *s = ensure_shuffle(c->pl, rp, pre);
	task_view v = { .kind = VIEW_SHUFFLE, .bucket = bucket, .buckets = rp->nparts };

	v.dirs = task_dirs(s, 0, s->ntasks, &v.ndirs);
	if (rp->mode == RP_RANDOM)
		v.order_by = xasprintf("hash(__pond_t, %llu::UBIGINT)",
				       (unsigned long long)(c->pl->o->seed ^ 0x9e3779b97f4a7c15ULL));
	add_dep(c, s->id);
	return add_view(c, v);
}

/* A view over the materialised partitions of a stage: the engine reads
 * the files each task's manifest lists. */
const char *parts_view(tctx *c, stage *s)
{
	task_view v = { .kind = VIEW_PARTS };

	v.dirs = task_dirs(s, 0, s->ntasks, &v.ndirs);
	add_dep(c, s->id);
	return add_view(c, v);
}

/* repartition(n, by_rows=true) of a Parquet source: partition i is rows
 * [i*N/n, (i+1)*N/n) of the files read in order, N their total row count.
 * Nothing is shuffled: each task reads its row range (the engine reads the
 * files' row counts from their footers and prunes row groups). */
static bool is_rows_split(const lnode *rp)
{
	const lnode *src = rp->inputs[0];
	return rp->mode == RP_ROWS && src->kind == L_SOURCE && src->format == FMT_PARQUET && src->nfiles > 0 &&
	       !lnode_opt_bool(src, "union_by_name");
}

static const char *rows_view(tctx *c, const lnode *rp, int i)
{
	const lnode *n = rp->inputs[0];
	task_view v = { .kind = VIEW_ROWS, .rows_part = i, .rows_parts = rp->nparts, .step = step_of(n) };

	v.rows_files = xcalloc(n->nfiles + 1, sizeof(char *));
	v.rows_sql = xcalloc(n->nfiles + 1, sizeof(char *));
	v.nrows_files = n->nfiles;
	for (size_t f = 0; f < n->nfiles; f++) {
		sb b = SB_INIT;
		numbered_file_sql(&b, c, n, f);
		v.rows_files[f] = xstrdup(n->files[f]);
		v.rows_sql[f] = sb_detach(&b);
	}
	return add_view(c, v);
}

/* Groups of files of a source, read as they are. Not with union_by_name:
 * a group lacking a column could not give the whole source's columns. */
static bool is_files_split(const lnode *rp)
{
	return rp->mode == RP_FILES && rp->inputs[0]->kind == L_SOURCE &&
	       !lnode_opt_bool(rp->inputs[0], "union_by_name");
}

/* n's query over its inputs, as a CTE of this task: partition i of each
 * (a one-partition input's only one), or (whole) all of each. */
static const char *query_over(tctx *c, const lnode *n, int i, bool whole)
{
	char **names = xcalloc(n->ninputs + 1, sizeof(char *));
	const char *name;
	char *q;

	for (size_t k = 0; k < n->ninputs; k++) {
		const lnode *in = n->inputs[k];
		names[k] = xstrdup(whole ? compile_all(c, in) : compile(c, in, in->nparts == 1 ? 0 : i));
	}
	q = query_substitute(n->query, names, n->ninputs, i);
	name = add_cte(c, n, q);
	for (size_t k = 0; k < n->ninputs; k++)
		free(names[k]);
	free(names);
	free(q);
	return name;
}

/* A repartition read where its files lie, no stage of its own: groups of
 * files or rows, or aligned spans (whole, an aligned node is its source:
 * the union of its parts would repeat files). */
static bool read_in_place(const lnode *rp)
{
	return is_files_split(rp) || is_rows_split(rp) || rp->mode == RP_ALIGNED;
}

static const char *compile_uncached(tctx *c, const lnode *n, int i)
{
	switch (n->kind) {
	case L_SOURCE:
		if (c->split_node == n && c->nslices > 1)
			return slice_view(c, n, c->split_lo, c->slice, c->nslices);
		if (c->split_node == n)
			return source_view(c, n, c->split_lo, c->split_hi);
		return source_view(c, n, 0, n->nfiles);
	case L_REPARTITION:
		if (is_files_split(n)) {
			/* contiguous groups of files, no data moved */
			size_t lo, hi;
			rp_files_part(n, i, &lo, &hi);
			return source_view(c, n->inputs[0], lo, hi);
		}
		if (n->mode == RP_ALIGNED) /* the span of files part i needs */
			return source_view(c, n->inputs[0], n->aligned_lo[i], n->aligned_hi[i]);
		if (is_rows_split(n))
			return rows_view(c, n, i);
		return shuffle_view(c, n, i, NULL);
	case L_SQL:
	case L_LIMIT: {
		if (pass_through(n))
			return compile_all(c, n->inputs[0]);
		/* computed once: fused into the one task reading it, with no
		 * stage and no file between them (TPC-H: the final aggregate
		 * and the sorted result in one task, ~5 ms of each query) */
		if (n->kind == L_SQL && !c->pl->gather_of[n->id] && computed_once(c->pl, n))
			return query_over(c, n, 0, true);
		stage *g = ensure_gather(c->pl, n);
		return parts_view(c, g);
	}
	case L_PYTHON: {
		/* partition i is task i's part.parquet */
		stage *s = ensure_python(c->pl, n);
		task_view v = { .kind = VIEW_PARTS };
		v.dirs = task_dirs(s, (size_t)i, (size_t)i + 1, &v.ndirs);
		add_dep(c, s->id);
		return add_view(c, v);
	}
	case L_QUERY:
	case L_PARTIAL: {
		if (n->combine) {
			/* producers already aggregated: merge their partial rows */
			char *view = xstrdup(shuffle_view(c, n->inputs[0], i, n));
			char *q = query_substitute(n->combine, &view, 1, i);
			const char *name = add_cte(c, n, q);
			free(view);
			free(q);
			return name;
		}
		return query_over(c, n, i, false);
	}
	}
	return NULL;
}

/* Partition i of a node materialised by the fusion cap: the files its
 * task's manifest lists. */
static const char *cut_view(tctx *c, const lnode *n, int i)
{
	stage *s = c->pl->mat_of[n->id];
	task_view v = { .kind = VIEW_PARTS };

	v.dirs = task_dirs(s, (size_t)i, (size_t)i + 1, &v.ndirs);
	add_dep(c, s->id);
	return add_view(c, v);
}

/* Name of a view or CTE holding partition i of n within this task. */
const char *compile(tctx *c, const lnode *n, int i)
{
	if (!c->memo[n->id])
		c->memo[n->id] = xstrdup(c->pl->cut[n->id] ? cut_view(c, n, i) : compile_uncached(c, n, i));
	return c->memo[n->id];
}

/* Materialises every partition of n as part.parquet (memoised). */
static stage *ensure_materialized(planner *pl, const lnode *n)
{
	stage *s = pl->mat_of[n->id];
	char *step;

	if (s)
		return s;
	step = xasprintf("%s %s", n->where, n->func);
	s = pl->mat_of[n->id] = new_stage(pl, ST_MAP, step);
	free(step);
	for (int i = 0; i < n->nparts; i++) {
		tctx c;
		tctx_init(&c, pl);
		add_task(pl, s, &c, compile(&c, n, i), output_of(OUT_PARQUET));
		tctx_release(&c);
	}
	return s;
}

/* read_json's columns= of a Python function's output: a struct literal. */
static char *python_columns(const lnode *n)
{
	sb b = SB_INIT;

	sb_add(&b, "{");
	for (size_t i = 0; i < n->schema.n; i++) {
		sb_add(&b, i ? ", " : "");
		sb_sql_str(&b, n->schema.cols[i].name);
		sb_add(&b, ": ");
		sb_sql_str(&b, n->schema.cols[i].type);
	}
	sb_add(&b, "}");
	return sb_detach(&b);
}

/* A Python function's stage: task i runs it over partition i of its input
 * (engine/pyrun.c) and writes part.parquet (memoised). */
static stage *ensure_python(planner *pl, const lnode *n)
{
	stage *s = pl->python_of[n->id];
	char *step;

	if (s)
		return s;
	step = xasprintf("%s %s", n->where, n->func);
	s = pl->python_of[n->id] = new_stage(pl, ST_PYTHON, step);
	free(step);
	for (int i = 0; i < n->nparts; i++) {
		task_output out = {
			.kind = OUT_PYTHON,
			.py_runner = xstrdup(n->py_runner),
			.py_pickle = xstrdup(n->py_pickle),
			.py_columns = python_columns(n),
		};
		const lnode *in = n->inputs[0];
		tctx c;
		tctx_init(&c, pl);
		add_task(pl, s, &c, compile(&c, in, in->nparts == 1 ? 0 : i), out);
		tctx_release(&c);
	}
	return s;
}

/* A name reading the whole of dataset n (every partition, in order). */
static const char *compile_all(tctx *c, const lnode *n)
{
	if (n->nparts == 1)
		return compile(c, n, 0);
	if (n->kind == L_PYTHON)
		return parts_view(c, ensure_python(c->pl, n));
	if (n->kind == L_REPARTITION && read_in_place(n))
		return compile(c, n->inputs[0], 0);
	if (n->kind == L_REPARTITION) {
		if (!c->memo[n->id])
			c->memo[n->id] = xstrdup(shuffle_view(c, n, -1, NULL));
		return c->memo[n->id];
	}
	return parts_view(c, ensure_materialized(c->pl, n));
}

/* For gathers over a multi-partition input: a first stage that shrinks each
 * partition (LIMIT n, count(*)) so the single gather task reads little. */
static stage *ensure_prereduce(planner *pl, const lnode *n, const char *wrap, const char *step)
{
	stage *s = new_stage(pl, ST_MAP, step);
	for (int i = 0; i < n->nparts; i++) {
		tctx c;
		char *q;
		tctx_init(&c, pl);
		q = xasprintf(wrap, compile(&c, n, i));
		add_task(pl, s, &c, add_cte(&c, NULL, q), output_of(OUT_PARQUET));
		free(q);
		tctx_release(&c);
	}
	return s;
}

/* Who reads each node an action needs (ids are topological: a node's
 * readers come after it). */
static void count_readers(planner *pl)
{
	const lplan *lp = pl->lp;

	pl->readers = xcalloc(lp->nnodes + 1, sizeof(int));
	pl->reader = xcalloc(lp->nnodes + 1, sizeof(lnode *));
	for (size_t i = 0; i < lp->nactions; i++)
		pl->readers[lp->actions[i].input->id]++;
	for (size_t i = lp->nnodes; i-- > 0;) {
		const lnode *n = lp->nodes[i];
		for (size_t k = 0; pl->readers[i] && k < n->ninputs; k++) {
			pl->readers[n->inputs[k]->id]++;
			pl->reader[n->inputs[k]->id] = n;
		}
	}
}

/* Whether one task computes n, once, when n is compiled into the tasks
 * that read it: n is read by one action or node, and that node is an
 * sql() step (a gather, one task, or itself fused into the one task that
 * reads it) or a one-partition partial_sql computed once (by a stage of
 * its own, or by the one task reading it). A reader of several partitions
 * is not: each of its tasks would compute n again (TPC-H Q11's subquery
 * total, read whole by every part of the main aggregate). */
static bool computed_once(const planner *pl, const lnode *n)
{
	for (;;) {
		const lnode *r = pl->reader[n->id];
		if (pl->readers[n->id] != 1)
			return false;
		if (!r || r->kind == L_SQL)
			return true;
		if ((r->kind != L_QUERY && r->kind != L_PARTIAL) || r->combine || r->nparts != 1)
			return false;
		if (pl->cut[r->id] || pl->mat_of[r->id])
			return true;
		n = r;
	}
}

static stage *ensure_gather(planner *pl, const lnode *n)
{
	stage *s = pl->gather_of[n->id];
	char *step;
	tctx c;

	if (s)
		return s;
	tctx_init(&c, pl);
	step = xasprintf("%s %s", n->where, n->func);
	if (n->kind == L_SQL) {
		const char *root = query_over(&c, n, 0, true);
		s = new_stage(pl, ST_GATHER, step);
		add_task(pl, s, &c, root, output_of(OUT_PARQUET));
	} else { /* L_LIMIT */
		const lnode *in = n->inputs[0];
		char *wrap = xasprintf("SELECT * FROM %%s LIMIT %lld", (long long)n->limit);
		char *q;
		const char *src;
		if (in->nparts == 1) {
			src = compile(&c, in, 0);
		} else {
			stage *pre = ensure_prereduce(pl, in, wrap, step);
			src = parts_view(&c, pre);
		}
		q = xasprintf(wrap, src);
		s = new_stage(pl, ST_GATHER, step);
		add_task(pl, s, &c, add_cte(&c, NULL, q), output_of(OUT_PARQUET));
		free(q);
		free(wrap);
	}
	pl->gather_of[n->id] = s;
	free(step);
	tctx_release(&c);
	return s;
}

/* pond sql's printed result: the first n rows of the whole result (its
 * partitions materialised, read in order) and the number of rows. */
static void plan_print(planner *pl, const action *a)
{
	const lnode *n = a->input;
	bool gather = n->kind == L_SQL || n->kind == L_LIMIT;
	stage *in = gather ? ensure_gather(pl, n) : ensure_materialized(pl, n);
	char *step = xasprintf("%s print", a->where);
	stage *s = new_stage(pl, ST_SHOW, step);
	task_output out = output_of(OUT_SHOW);
	const char *v;
	char *q;
	tctx c;

	tctx_init(&c, pl);
	v = parts_view(&c, in);
	q = xasprintf("SELECT * FROM %s LIMIT %lld", v, (long long)a->n);
	out.total = xasprintf("SELECT count(*) FROM %s", v);
	s->act = a;
	add_task(pl, s, &c, add_cte(&c, NULL, q), out);
	free(q);
	free(step);
	tctx_release(&c);
}

static void plan_action(planner *pl, const action *a)
{
	const lnode *n = a->input;
	stage *s;
	tctx c;

	if (a->kind == A_PRINT) {
		plan_print(pl, a);
		return;
	}
	if (a->kind == A_WRITE_PARQUET || a->kind == A_WRITE_CSV) {
		char *staging = pplan_staging_dir(pl->o->job_dir, a->dir);
		char *step = xasprintf("%s %s", a->where, a->kind == A_WRITE_PARQUET ? "write_parquet" : "write_csv");
		s = new_stage(pl, ST_SINK, step);
		free(step);
		s->act = a;
		for (int i = 0; i < n->nparts; i++) {
			task_output out = {
				.kind = OUT_SINK,
				.copy_options = xstrdup(a->copy_options),
				.file = xasprintf("part-%05d", i),
				.ext = xstrdup(a->kind == A_WRITE_PARQUET ? "parquet" : "csv"),
				.partition_by = a->partition_by ? xstrdup(a->partition_by) : NULL,
			};
			ptask *t;
			tctx_init(&c, pl);
			add_task(pl, s, &c, compile(&c, n, i), out);
			/* sinks commit next to their output, on its file system */
			t = &s->tasks[i];
			free(t->dir);
			free(t->attempts_dir);
			t->dir = xasprintf("%s/t%05d", staging, i);
			t->attempts_dir = xasprintf("%s/.attempts", staging);
			tctx_release(&c);
		}
		free(staging);
		return;
	}
	/* show / count: one task; multi-partition inputs are pre-reduced */
	{
		bool show = a->kind == A_SHOW;
		char *wrap = show ? xasprintf("SELECT * FROM %%s LIMIT %lld", (long long)a->n)
				  : xstrdup("SELECT count(*) AS n FROM %s");
		char *step = xasprintf("%s %s", a->where, show ? "show" : "count");
		const char *src;
		char *q;
		tctx_init(&c, pl);
		if (n->nparts == 1) {
			q = xasprintf(wrap, compile(&c, n, 0));
		} else {
			stage *pre = ensure_prereduce(pl, n, wrap, step);
			src = parts_view(&c, pre);
			q = show ? xasprintf(wrap, src) : xasprintf("SELECT sum(n)::BIGINT AS n FROM %s", src);
		}
		s = new_stage(pl, show ? ST_SHOW : ST_COUNT, step);
		s->act = a;
		add_task(pl, s, &c, add_cte(&c, NULL, q), output_of(show ? OUT_SHOW : OUT_COUNT));
		free(q);
		free(wrap);
		free(step);
		tctx_release(&c);
	}
}

/* Makes n's stage now, bottom-up, so that compiling n later recurses no
 * further: returns false when n has no stage of its own to make (a shuffle
 * read only by combined consumers, which get cut instead). */
static bool cut_at(planner *pl, const lnode *n, bool read_plainly)
{
	switch (n->kind) {
	case L_SOURCE:
		return false;
	case L_QUERY:
	case L_PARTIAL:
		ensure_materialized(pl, n);
		pl->cut[n->id] = true; /* only now: the stage compiled n itself */
		return true;
	case L_REPARTITION:
		if (!read_plainly || read_in_place(n))
			return false;
		ensure_shuffle(pl, n, NULL);
		return true;
	case L_SQL:
	case L_LIMIT:
		if (pass_through(n))
			ensure_materialized(pl, n->inputs[0]);
		else
			ensure_gather(pl, n);
		return true;
	case L_PYTHON:
		ensure_python(pl, n);
		return true;
	}
	return false;
}

/* The fusion cap, before any action is planned. compile() recurses once
 * per node down to the nearest existing stage, so walking the nodes in
 * topological order (ids are, after interp's renumber) and giving a node
 * its stage when that depth reaches FUSE_MAX bounds both the recursion
 * and the CTEs of a fused query. Only nodes an action reads count. */
static void cap_depth(planner *pl)
{
	const lplan *lp = pl->lp;
	bool *used = xcalloc(lp->nnodes + 1, sizeof(bool));
	bool *plain = xcalloc(lp->nnodes + 1, sizeof(bool)); /* not only by combined consumers */
	int *depth = xcalloc(lp->nnodes + 1, sizeof(int));

	for (size_t i = 0; i < lp->nactions; i++)
		used[lp->actions[i].input->id] = plain[lp->actions[i].input->id] = true;
	for (size_t i = lp->nnodes; i-- > 0;) {
		const lnode *n = lp->nodes[i];
		for (size_t k = 0; used[i] && k < n->ninputs; k++) {
			used[n->inputs[k]->id] = true;
			plain[n->inputs[k]->id] |= !n->combine;
		}
	}
	for (size_t i = 0; i < lp->nnodes; i++) {
		const lnode *n = lp->nodes[i];
		int d = 0;
		for (size_t k = 0; k < n->ninputs; k++)
			d = depth[n->inputs[k]->id] > d ? depth[n->inputs[k]->id] : d;
		depth[i] = d + 1;
		if (used[i] && depth[i] >= FUSE_MAX && cut_at(pl, n, plain[i]))
			depth[i] = 1;
	}
	free(used);
	free(plain);
	free(depth);
}

/* What the inputs looked like: --resume refuses a job whose inputs
 * changed since. */
static void record_inputs(const lplan *lp, pplan *pp)
{
	for (size_t i = 0; i < lp->nnodes; i++) {
		const lnode *n = lp->nodes[i];
		for (size_t f = 0; n->kind == L_SOURCE && f < n->nfiles; f++) {
			struct stat st;
			bool ok = stat(n->files[f], &st) == 0;
			pp->inputs = xgrow(pp->inputs, pp->ninputs, sizeof(plan_input));
			pp->inputs[pp->ninputs++] = (plan_input){
				.path = xstrdup(n->files[f]),
				.size = ok ? st.st_size : -1,
				.mtime_ns = ok ? st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec : -1,
			};
		}
	}
}

int pplan_build(const lplan *lp, const plan_opts *o, pplan **out, pond_err *err)
{
	planner pl = { .lp = lp, .o = o, .pp = xcalloc(1, sizeof(pplan)), .err = err };

	pl.pp->job_dir = xstrdup(o->job_dir);
	pl.pp->seed = o->seed;
	pl.python_of = xcalloc(lp->nnodes + 1, sizeof(stage *));
	pl.shuffle_of = xcalloc(lp->nnodes + 1, sizeof(stage *));
	pl.gather_of = xcalloc(lp->nnodes + 1, sizeof(stage *));
	pl.mat_of = xcalloc(lp->nnodes + 1, sizeof(stage *));
	pl.combined_of = xcalloc(lp->nnodes + 1, sizeof(stage *));
	pl.cut = xcalloc(lp->nnodes + 1, sizeof(bool));
	count_readers(&pl);
	record_inputs(lp, pl.pp);
	cap_depth(&pl);
	for (size_t i = 0; i < lp->nactions; i++)
		plan_action(&pl, &lp->actions[i]);
	free(pl.cut);
	free(pl.readers);
	free(pl.reader);
	free(pl.python_of);
	free(pl.shuffle_of);
	free(pl.gather_of);
	free(pl.mat_of);
	free(pl.combined_of);
	*out = pl.pp;
	return 0;
}

void pplan_free(pplan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstages; i++) {
		stage *s = p->stages[i];
		for (size_t t = 0; t < s->ntasks; t++)
			ptask_release(&s->tasks[t]);
		free(s->tasks);
		free(s->deps);
		free(s->name);
		free(s->step);
		free(s);
	}
	free(p->stages);
	free(p->job_dir);
	plan_inputs_free(p->inputs, p->ninputs);
	free(p);
}

void plan_inputs_free(plan_input *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
