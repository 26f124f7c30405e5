/* sqlagg.c — GROUP BY and aggregates across workers (docs/SQL.md). Called
 * by sqlshape.c for a query over one table that aggregates.
 *
 * When every aggregate can be merged, each part of the table is reduced
 * to one row per group holding each aggregate's state (count, sum, min,
 * …; avg as a sum and a count; a variance as a count, a mean and M2), the
 * states are hash-shuffled on the group keys, and a final query per
 * partition merges them and computes HAVING and the select list. A
 * variance's states merge by Chan's formula: M2 = ΣM2ᵢ + Σnᵢ(meanᵢ − mean)²,
 * the mean over the group taken by a window first. Otherwise (median,
 * count(DISTINCT), string_agg, …) the rows themselves, filtered and
 * projected, are shuffled on the group keys and the query runs as written
 * per partition. Each merged value is cast to the type the aggregate has
 * in DuckDB, so every expression over it computes as it would there. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"

typedef enum { M_SAME, M_COUNT, M_AVG, M_VAR_POP, M_VAR_SAMP, M_STDDEV_POP, M_STDDEV_SAMP } merge_kind;

/* The aggregates pond merges: how, with what, and whether DISTINCT may be
 * dropped (min(DISTINCT x) = min(x)). Every one ignores ORDER BY. */
static const struct mergeable {
	const char *name;
	const char *merge;
	merge_kind kind;
	bool idempotent;
} mergeables[] = {
	{ "count_star", "sum", M_COUNT, false },
	{ "count", "sum", M_COUNT, false },
	{ "sum", "sum", M_SAME, false },
	{ "min", "min", M_SAME, true },
	{ "max", "max", M_SAME, true },
	{ "bool_and", "bool_and", M_SAME, true },
	{ "bool_or", "bool_or", M_SAME, true },
	{ "bit_and", "bit_and", M_SAME, true },
	{ "bit_or", "bit_or", M_SAME, true },
	{ "bit_xor", "bit_xor", M_SAME, false },
	{ "avg", NULL, M_AVG, false },
	{ "mean", NULL, M_AVG, false },
	{ "var_pop", NULL, M_VAR_POP, false },
	{ "var_samp", NULL, M_VAR_SAMP, false },
	{ "variance", NULL, M_VAR_SAMP, false },
	{ "stddev_pop", NULL, M_STDDEV_POP, false },
	{ "stddev_samp", NULL, M_STDDEV_SAMP, false },
	{ "stddev", NULL, M_STDDEV_SAMP, false },
};

typedef struct {
	shape *s;
	sq_expr **groups; /* the group expressions, resolved */
	size_t ngroups;
	sq_expr **calls; /* each distinct aggregate call */
	size_t ncalls;
	const struct mergeable **how; /* per call, or NULL: cannot merge */
	char **types;                 /* per call: its type in DuckDB */
	int *scales;                  /* per avg call: its DECIMAL argument's
				       * scale, or 0 */
	sq_expr **merges;             /* per call: its merged value */
	sq_query *partial;            /* the states per part */
	bool window;                  /* a variance needs the group's mean */
	bool partitions;              /* the keys are window PARTITION BYs,
				       * not groups (sql_window) */
	sb mu;                        /* the window columns */
} agg;

/* ---- the group keys ---------------------------------------------------------- */

static void add_group(agg *a, sq_expr *e)
{
	a->groups = xrealloc(a->groups, (a->ngroups + 2) * sizeof(sq_expr *));
	a->groups[a->ngroups++] = e;
}

/* GROUP BY ALL, positions and select aliases resolved to expressions, as
 * DuckDB binds them (a name that is a column of the table is the column). */
static bool resolve_groups(agg *a)
{
	const sq_query *w = a->s->w;

	for (size_t i = 0; w->group_all && i < w->nselect; i++) {
		if (w->select[i]->kind == SQ_STAR)
			return sql_not(a->s->p, "GROUP BY ALL with * is not distributed"), false;
		if (!sql_has_agg(a->s->p, w->select[i]))
			add_group(a, sql_bare(w->select[i]));
	}
	for (size_t i = 0; i < w->ngroups; i++) {
		const sq_expr *g = w->groups[i];
		sq_expr *r = NULL;
		if (g->kind == SQ_CONSTANT && g->is_int && g->ival >= 1 && (size_t)g->ival <= w->nselect) {
			for (int64_t k = 0; k < g->ival; k++)
				if (w->select[k]->kind == SQ_STAR)
					return sql_not(a->s->p, "GROUP BY a position after a * is not distributed"),
					       false;
			r = sql_bare(w->select[g->ival - 1]);
		} else if (g->kind == SQ_COLUMN && g->nnames == 1 && !sql_table_has(a->s, g->names[0])) {
			for (size_t k = 0; !r && k < w->nselect; k++)
				if (!strcasecmp(w->select[k]->alias, g->names[0]))
					r = sql_bare(w->select[k]);
		}
		add_group(a, r ? r : sql_bare(g));
	}
	return true;
}

static int group_index(const agg *a, const sq_expr *e)
{
	for (size_t i = 0; i < a->ngroups; i++)
		if (sq_expr_equal(a->groups[i], e))
			return (int)i;
	return -1;
}

/* ---- the aggregate calls ------------------------------------------------------ */

static const struct mergeable *mergeable_of(const sq_expr *c)
{
	for (size_t i = 0; i < sizeof(mergeables) / sizeof(mergeables[0]); i++) {
		const struct mergeable *m = &mergeables[i];
		size_t want = !strcmp(m->name, "count_star") ? 0 : 1;
		if (strcasecmp(c->fname, m->name))
			continue;
		if (!strcmp(m->name, "count") && c->nargs == 0)
			want = 0;
		if (c->nargs != want || c->export_state || (c->distinct && !m->idempotent))
			return NULL;
		return m;
	}
	return NULL;
}

static int call_index(const agg *a, const sq_expr *e)
{
	for (size_t i = 0; i < a->ncalls; i++)
		if (sq_expr_equal(a->calls[i], e))
			return (int)i;
	return -1;
}

static bool collect_call(sq_expr **slot, void *ctx)
{
	agg *a = ctx;

	if (!sql_is_agg(a->s->p, *slot))
		return true;
	if (call_index(a, *slot) < 0) {
		a->calls = xrealloc(a->calls, (a->ncalls + 2) * sizeof(sq_expr *));
		a->calls[a->ncalls++] = sql_bare(*slot);
	}
	return false; /* an aggregate inside an aggregate is DuckDB's error */
}

static void collect_calls(agg *a)
{
	const sq_query *w = a->s->w;
	sq_expr *having = w->having;

	for (size_t i = 0; i < w->nselect; i++)
		sq_visit(&w->select[i], collect_call, a);
	sq_visit(&having, collect_call, a);
	for (size_t i = 0; i < a->s->nkeys; i++)
		sq_visit(&a->s->keys[i], collect_call, a);
	a->how = xcalloc(a->ncalls + 1, sizeof(*a->how));
	a->types = xcalloc(a->ncalls + 1, sizeof(char *));
	a->scales = xcalloc(a->ncalls + 1, sizeof(int));
	a->merges = xcalloc(a->ncalls + 1, sizeof(sq_expr *));
	for (size_t i = 0; i < a->ncalls; i++)
		a->how[i] = mergeable_of(a->calls[i]);
}

static bool is_avg(const agg *a, size_t i)
{
	return a->how[i] && a->how[i]->kind == M_AVG;
}

static sq_expr *state_call(const sq_expr *c, const char *fname);

/* An avg merges as a sum and a count when its argument is a number; its
 * DECIMAL scale (see plan_call) when it is a DECIMAL of a scale up to 18,
 * else 0; -1 for anything else (a DATE, a TIMESTAMP: no sum() of them,
 * so the rows are shuffled by the keys instead). */
static int avg_scale(const char *type)
{
	static const char *const numbers[] = { "TINYINT",   "SMALLINT", "INTEGER", "BIGINT",   "HUGEINT", "UTINYINT",
					       "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT",   "DOUBLE" };
	const char *comma = type ? strchr(type, ',') : NULL;
	char *end;
	long scale;

	if (!type)
		return -1;
	if (!strncmp(type, "DECIMAL(", 8) && comma) {
		scale = strtol(comma + 1, &end, 10);
		return *end == ')' && scale >= 0 && scale <= 18 ? (int)scale : 0;
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (!strcmp(type, numbers[i]))
			return 0;
	return -1;
}

/* Each call's type in DuckDB: DESCRIBE of them over the table; after them,
 * the type of each avg's argument (any_value() of it: the DESCRIBE is of
 * aggregates). */
static bool call_types(agg *a)
{
	sqlp *p = a->s->p;
	sq_query *q = sq_select_new();
	char *text, *sql;
	pdb_result r;
	pond_err quiet = { 0 };
	size_t navg = 0;
	bool ok = false;

	for (size_t i = 0; i < a->ncalls; i++)
		sq_add_select(q, sq_expr_dup(a->calls[i]));
	for (size_t i = 0; i < a->ncalls; i++)
		if (is_avg(a, i)) {
			sq_add_select(q, state_call(a->calls[i], "any_value"));
			navg++;
		}
	sq_table_free(q->from);
	q->from = sql_probe_from(a->s);
	text = sql_text(p, q);
	sql = text ? xasprintf("DESCRIBE (%s)", text) : NULL;
	if (sql && plandb_query(p->db, sql, &r, &quiet) == PDB_OK) {
		ok = r.nrows == a->ncalls + navg;
		for (size_t i = 0; ok && i < a->ncalls; i++)
			a->types[i] = xstrdup(pdb_cell(&r, i, 1) ? pdb_cell(&r, i, 1) : "");
		for (size_t i = 0, k = a->ncalls; ok && i < a->ncalls; i++) {
			if (!is_avg(a, i))
				continue;
			a->scales[i] = avg_scale(pdb_cell(&r, k++, 1));
			if (a->scales[i] < 0) {
				a->how[i] = NULL;
				a->scales[i] = 0;
			}
		}
		pdb_result_release(&r);
	}
	if (!ok)
		sql_not(p, "DuckDB could not type the aggregates (%s)", quiet.msg);
	free(sql);
	free(text);
	sq_query_free(q);
	return ok;
}

/* ---- the states and their merges ---------------------------------------------- */

/* Another aggregate over c's argument, with c's FILTER; no DISTINCT (only
 * dropped where it changes nothing) and no ORDER BY. */
static sq_expr *state_call(const sq_expr *c, const char *fname)
{
	sq_expr *e = sql_bare(c);

	free(e->fname);
	e->fname = xstrdup(fname);
	e->distinct = false;
	for (size_t i = 0; i < e->norders; i++)
		sq_expr_free(e->orders[i].e);
	e->norders = 0;
	return e;
}

/* Adds a state column to the partial query; returns its name's index. */
static size_t add_state(agg *a, sq_expr *e)
{
	size_t j = a->partial->nselect - a->ngroups;
	char *name = xasprintf("__pond_a%zu", j);

	sq_set_alias(e, name);
	sq_add_select(a->partial, e);
	free(name);
	return j;
}

static void state_col(sb *b, size_t j)
{
	sb_addf(b, "\"__pond_a%zu\"", j);
}

/* The group keys as a window's PARTITION BY (or nothing: the whole). */
static void partition_by(sb *b, const agg *a)
{
	sb_add(b, "OVER (");
	for (size_t i = 0; i < a->ngroups; i++)
		sb_addf(b, "%s\"__pond_g%zu\"", i ? ", " : "PARTITION BY ", i);
	sb_add(b, ")");
}

/* Call i's states, and the SQL of its merge into b. */
static void plan_call(agg *a, size_t i, sb *b)
{
	const sq_expr *c = a->calls[i];
	const struct mergeable *m = a->how[i];
	size_t j, n, mean, m2;

	if (m->kind == M_SAME || m->kind == M_COUNT) {
		j = add_state(a, state_call(c, c->fname));
		sb_addf(b, "CAST(%s(", m->merge);
		state_col(b, j);
		sb_addf(b, ") AS %s)", a->types[i]);
		return;
	}
	if (m->kind == M_AVG && a->scales[i]) {
		/* DuckDB's avg of a DECIMAL divides the sum's unscaled integer
		 * by count × 10^scale; the sum cast to DOUBLE first is rounded
		 * twice, and differs in its last bit for up to 1 group in 6 (a row
		 * compared with an average is then kept by one, not the other).
		 * The unscaled sum, exact: floor(S) × 10^s + (S − floor(S)) × 10^s,
		 * each part within HUGEINT for any DECIMAL(38, s) */
		char *sum;
		long long f = 1;
		for (int d = 0; d < a->scales[i]; d++)
			f *= 10;
		j = add_state(a, state_call(c, "sum"));
		n = add_state(a, state_call(c, "count"));
		sum = xasprintf("sum(\"__pond_a%zu\")", j);
		sb_addf(b,
			"CAST(CAST(CAST(floor(%s) AS HUGEINT) * %lld + CAST((%s - floor(%s)) * %lld AS HUGEINT) AS DOUBLE)"
			" / nullif(CAST(sum(\"__pond_a%zu\") AS DOUBLE) * CAST(%lld AS DOUBLE), 0) AS %s)",
			sum, f, sum, sum, f, n, f, a->types[i]);
		free(sum);
		return;
	}
	if (m->kind == M_AVG) {
		j = add_state(a, state_call(c, "sum"));
		n = add_state(a, state_call(c, "count"));
		sb_add(b, "CAST(CAST(sum(");
		state_col(b, j);
		sb_add(b, ") AS DOUBLE) / nullif(sum(");
		state_col(b, n);
		sb_addf(b, "), 0) AS %s)", a->types[i]);
		return;
	}
	/* variances: n, mean and M2 = var_pop * n per part; the group's mean
	 * by a window (the "mu" columns), then Chan's merge */
	n = add_state(a, state_call(c, "count"));
	mean = add_state(a, state_call(c, "avg"));
	m2 = add_state(a, sq_op("*", state_call(c, "var_pop"), state_call(c, "count")));
	a->window = true;
	sb_addf(&a->mu, ", sum(\"__pond_a%zu\" * \"__pond_a%zu\") ", n, mean);
	partition_by(&a->mu, a);
	sb_addf(&a->mu, " / nullif(sum(\"__pond_a%zu\") ", n);
	partition_by(&a->mu, a);
	sb_addf(&a->mu, ", 0) AS \"__pond_mu%zu\"", i);
	sb_addf(b,
		"CAST(%s((sum(\"__pond_a%zu\") + sum(\"__pond_a%zu\" * (\"__pond_a%zu\" - \"__pond_mu%zu\") * "
		"(\"__pond_a%zu\" - \"__pond_mu%zu\"))) / nullif(sum(\"__pond_a%zu\")%s, 0)) AS %s)",
		m->kind == M_STDDEV_POP || m->kind == M_STDDEV_SAMP ? "sqrt" : "", m2, n, mean, i, mean, i, n,
		m->kind == M_VAR_SAMP || m->kind == M_STDDEV_SAMP ? " - 1" : "", a->types[i]);
}

/* The partial query (group keys, then states) and every call's merge. */
static bool plan_merges(agg *a)
{
	const sq_query *w = a->s->w;
	sb sel = SB_INIT;
	sq_query *parsed = NULL;
	pond_err quiet = { 0 };

	a->partial = sq_select_new();
	sq_table_free(a->partial->from);
	a->partial->from = sq_table_dup(w->from);
	a->partial->where = sq_expr_dup(w->where);
	for (size_t i = 0; i < a->ngroups; i++) {
		sq_expr *g = sq_expr_dup(a->groups[i]);
		char *name = xasprintf("__pond_g%zu", i);
		sq_set_alias(g, name);
		sq_add_select(a->partial, g);
		sq_add_group(a->partial, sq_expr_dup(a->groups[i]));
		free(name);
	}
	a->partial->plain_groups = true;
	sb_add(&sel, "SELECT ");
	for (size_t i = 0; i < a->ncalls; i++) {
		sb_add(&sel, i ? ", " : "");
		plan_call(a, i, &sel);
	}
	if (sqltree_parse(a->s->p->db, sb_str(&sel), &parsed, &quiet) || parsed->nselect != a->ncalls) {
		sq_query_free(parsed);
		sb_release(&sel);
		return sql_not(a->s->p, "DuckDB could not read pond's merge of the aggregates (%s)", quiet.msg), false;
	}
	for (size_t i = 0; i < a->ncalls; i++) {
		a->merges[i] = parsed->select[i];
		parsed->select[i] = NULL;
	}
	sq_query_free(parsed);
	sb_release(&sel);
	return true;
}

/* ---- the final query ------------------------------------------------------------ */

struct colset;

typedef struct {
	agg *a;
	bool merge;                /* aggregates become their merges (else they stay) */
	const struct colset *cols; /* the shipped columns, for rows */
} rewriter;

static int shipped(const struct colset *c, const sq_expr *e);

/* Group expressions become their key columns; aggregate calls their
 * merges. Whatever else is computed over those, as the query says. */
static bool rewrite(sq_expr **slot, void *ctx)
{
	rewriter *r = ctx;
	sq_expr *e = *slot, *by = NULL;
	int g = group_index(r->a, e);

	if (g >= 0) {
		char *name = xasprintf("__pond_g%d", g);
		by = sq_column(NULL, name);
		free(name);
	} else if (r->merge && sql_is_agg(r->a->s->p, e)) {
		by = sq_expr_dup(r->a->merges[call_index(r->a, e)]);
	} else if (r->cols && (g = shipped(r->cols, e)) >= 0) {
		char *name = xasprintf("__pond_c%d", g);
		by = sq_column(NULL, name);
		free(name);
	} else {
		return true;
	}
	sq_set_alias(by, e->alias);
	sq_expr_free(e);
	*slot = by;
	return false;
}

/* The final query and its inputs: {0} the shuffled states or rows (set
 * by the caller), then the inputs of the subqueries it holds. */
typedef struct {
	char *text;
	lnode **ins;
	size_t nins;
} final;

static void final_release(final *f)
{
	free(f->text);
	free(f->ins);
}

/* The final query per partition of fin->ins[0], or by one task (gather);
 * its subqueries' inputs read whole. */
static lnode *final_node(sqlp *p, const char *role, const final *fin, bool gather)
{
	if (fin->nins > 1)
		sql_note(p, "the subqueries of its select list, HAVING or ORDER BY: %zu input%s read whole by %s",
			 fin->nins - 1, fin->nins == 2 ? "" : "s", gather ? "the final task" : "every final task");
	return gather ? sql_gather(p, role, fin->text, fin->ins, fin->nins)
		      : sql_partial_over(p, role, fin->text, fin->ins, fin->nins);
}

/* q (its tables the FROM's leaves) per part: its inputs those leaves', then
 * those of the subqueries it holds (not those only the final query reads,
 * which would make it wait for their stages). */
static lnode *per_part(shape *s, const char *role, sq_query *q)
{
	size_t n;
	lnode **ins = sql_subquery_inputs(s, q, s->nfrom, &n), *node = NULL;
	char *text = sql_text(s->p, q);

	for (size_t i = 0; i < s->nfrom; i++)
		ins[i] = s->ins[i];
	if (text)
		node = sql_partial_over(s->p, role, text, ins, n);
	free(text);
	free(ins);
	return node;
}

/* The query over partition i of the shuffled states (merge), or of the
 * shuffled rows carrying cols. */
static bool final_query(agg *a, bool merge, const struct colset *cols, final *out)
{
	shape *s = a->s;
	sq_query *f = sq_query_dup(s->w);
	rewriter r = { a, merge, cols };

	f->has_order = f->has_limit = f->distinct = false;
	f->group_all = false;
	f->plain_groups = true;
	sq_expr_free(f->where);
	f->where = NULL;
	for (size_t i = 0; i < f->ngroups; i++)
		sq_expr_free(f->groups[i]);
	f->ngroups = 0;
	for (size_t i = 0; !a->partitions && i < a->ngroups; i++) {
		char *name = xasprintf("__pond_g%zu", i);
		sq_add_group(f, sq_column(NULL, name));
		free(name);
	}
	for (size_t i = 0; i < f->nselect; i++)
		sq_visit(&f->select[i], rewrite, &r);
	sq_visit(&f->having, rewrite, &r);
	sq_visit(&f->qualify, rewrite, &r);
	sql_add_keys(s, f, rewrite, &r);
	sq_table_free(f->from); /* the shuffled states or rows */
	f->from = sq_base_table("{0}", NULL);
	if (merge && a->window) {
		char *inner = xasprintf("SELECT *%s FROM \"{0}\"", sb_str(&a->mu));
		sq_query *in = NULL;
		pond_err quiet = { 0 };
		if (sqltree_parse(s->p->db, inner, &in, &quiet) == 0) {
			sq_table_free(f->from);
			f->from = sq_subquery_table(in, "__pond_p");
		}
		free(inner);
	}
	out->ins = sql_subquery_inputs(s, f, 1, &out->nins);
	out->text = sql_text(s->p, f);
	sq_query_free(f);
	return out->text != NULL;
}

/* A hash shuffle of n on the group keys, into as many partitions. */
static lnode *shuffle_on_keys(agg *a, lnode *n)
{
	lnode *rp = sql_node(a->s->p, L_REPARTITION, "group by");
	sb key = SB_INIT;

	rp->mode = RP_HASH;
	rp->nparts = n->nparts;
	rp->inputs = xcalloc(1, sizeof(lnode *));
	rp->inputs[0] = n;
	rp->ninputs = 1;
	rp->key_names = xcalloc(a->ngroups + 1, sizeof(char *));
	for (size_t i = 0; i < a->ngroups; i++) {
		rp->key_names[i] = xasprintf("__pond_g%zu", i);
		sb_addf(&key, "%s\"__pond_g%zu\"", i ? ", " : "", i);
	}
	rp->nkeys = a->ngroups;
	rp->key = sb_detach(&key);
	rp->key_desc = xstrdup("the GROUP BY keys");
	return rp;
}

/* The states of at most this many groups × parts are merged by one task
 * (about a second of one DuckDB thread) when the query sorts or limits
 * its groups: that one task then also sorts them, where a shuffle would
 * take a stage and the range partitions of ORDER BY four more (docs/SQL.md,
 * "A small GROUP BY is merged by one task"). */
#define GATHER_STATES 2000000

/* The groups estimated at plan time (s->groups_est), when the query
 * sorts or limits them (sql_finish sorts few groups in one task), or is
 * a derived table or subquery (a bound on its rows for a GROUP BY over
 * it: TPC-H Q13's per-customer counts grouped again). */
static void estimate_groups(agg *a)
{
	shape *s = a->s;

	if (s->nkeys || s->limit >= 0 || s->p->depth > 1)
		s->groups_est =
			a->ngroups ? sql_group_estimate(s, a->groups, a->ngroups, s->groups_how, sizeof(s->groups_how))
				   : 1;
}

/* Few enough groups that one task merges their partial aggregates in no
 * time, however the parts were cut. */
#define FEW_GROUPS 10000

static bool any_call_subquery(agg *a);

/* Whether merged() will have one task merge the groups' states (every
 * aggregate merges, the query sorts or limits, few groups): then whether
 * each file holds whole groups changes nothing worth asking. */
static bool one_task_merges(agg *a)
{
	const shape *s = a->s;

	for (size_t i = 0; i < a->ncalls; i++)
		if (!a->how[i])
			return false;
	return !any_call_subquery(a) && (s->nkeys || s->limit >= 0) && s->groups_est >= 0 &&
	       s->groups_est <= FEW_GROUPS;
}

/* Whether the groups are few enough to be merged and ordered by one task. */
static bool small_result(agg *a, int nparts)
{
	shape *s = a->s;

	if (!s->nkeys && s->limit < 0)
		return false;
	if (nparts <= 1)
		return true;
	if (s->groups_est < 0 || s->groups_est > GATHER_STATES / nparts)
		return false;
	sql_note(s->p,
		 "GROUP BY: at most ~%lld groups (%s): partial aggregates per part, merged and ordered by one task",
		 (long long)s->groups_est, s->groups_how);
	return true;
}

/* Merged: states per part, shuffled on the keys (or gathered), merged. */
static lnode *merged(agg *a)
{
	sqlp *p = a->s->p;
	final fin = { 0 };
	lnode *n = NULL;

	if (!plan_merges(a) || !(n = per_part(a->s, "partial aggregate", a->partial)))
		return NULL;
	if (!final_query(a, true, NULL, &fin)) {
		final_release(&fin);
		return NULL;
	}
	if (a->ngroups && !small_result(a, n->nparts)) {
		fin.ins[0] = shuffle_on_keys(a, n);
		n = final_node(p, "final aggregate", &fin, false);
		sql_note(p, "GROUP BY: partial aggregates per part, hash shuffle on %zu key%s into %d, merged",
			 a->ngroups, a->ngroups == 1 ? "" : "s", n->nparts);
	} else {
		fin.ins[0] = n;
		n = final_node(p, "final aggregate", &fin, true);
		if (!a->ngroups)
			sql_note(p, "aggregate: partial aggregates per part, merged by one task");
	}
	final_release(&fin);
	return n;
}

/* ---- groups each within one partition ------------------------------------------ */

/* Whether each group lies within one partition of the inputs: two tables
 * co-partitioned on their join keys (sqljoin.c) and the GROUP BY naming
 * every key column of one of them whose rows no outer join makes NULL
 * (TPC-H Q13's count per c_custkey over customer LEFT JOIN orders, both
 * hashed on the customer key). Equal keys hash alike (the hash is of the
 * keys cast to their common type), so a group's rows all come from one
 * partition of that table; every other table is whole in every task. Not
 * when a hot key's rows are spread over the partitions (skew.c). */
static const lnode *partitioned_by_groups(const agg *a)
{
	const shape *s = a->s;
	const lnode *found = NULL;

	for (size_t l = 0; l < s->nleaves; l++) {
		const lnode *rp = s->leaves[l].in;
		if (rp && rp->kind == L_REPARTITION && rp->mode == RP_HASH && rp->skew != SKEW_NONE)
			return NULL;
	}
	for (size_t l = 0; !found && l < s->nfrom; l++) {
		const lnode *rp = s->leaves[l].in;
		bool all = rp && rp->kind == L_REPARTITION && rp->mode == RP_HASH && rp->nkeys > 0 &&
			   sql_leaf_kept(s, (int)l);
		for (size_t k = 0; all && k < rp->nkeys; k++) {
			bool named = false;
			for (size_t g = 0; !named && g < a->ngroups; g++) {
				const sq_expr *e = a->groups[g];
				named = e->kind == SQ_COLUMN && sql_leaf_of(s, e) == (int)l &&
					!strcasecmp(e->names[e->nnames - 1], rp->key_names[k]);
			}
			all = named;
		}
		if (all)
			found = rp;
	}
	return found;
}

/* The column of leaf l that column reference e reads, or NULL. */
static const column *column_of(const shape *s, int l, const sq_expr *e)
{
	const schema *sc = sql_leaf_cols(&s->leaves[l]);

	for (size_t c = 0; e->kind == SQ_COLUMN && c < sc->n; c++)
		if (!strcasecmp(sc->cols[c].name, e->names[e->nnames - 1]))
			return &sc->cols[c];
	return NULL;
}

/* The column of the split leaf that group key e is, or equals by a
 * top-level equality of two columns of one type in the WHERE or an inner
 * join's ON (TPC-H Q18's o_orderkey = l_orderkey: every row the query
 * keeps has both, equal). */
static const column *split_key(const shape *s, int split, const sq_expr *e, sq_expr **conj, size_t nconj)
{
	int l = e->kind == SQ_COLUMN ? sql_leaf_of(s, e) : -1;
	const column *mine = l >= 0 ? column_of(s, l, e) : NULL;

	if (!mine || l == split)
		return mine;
	for (size_t i = 0; i < nconj; i++) {
		const sq_expr *c = conj[i];
		if (c->kind != SQ_COMPARISON || strcmp(c->type, "COMPARE_EQUAL") || c->nargs != 2)
			continue;
		for (int k = 0; k < 2; k++) {
			const sq_expr *x = c->args[k], *y = c->args[1 - k];
			const column *theirs;
			if (x->kind != SQ_COLUMN || y->kind != SQ_COLUMN || sql_leaf_of(s, x) != l ||
			    column_of(s, l, x) != mine || sql_leaf_of(s, y) != split)
				continue;
			theirs = column_of(s, split, y);
			if (theirs && !strcasecmp(theirs->type, mine->type))
				return theirs;
		}
	}
	return NULL;
}

/* The top-level conjuncts of every inner join's ON in t. Each holds on
 * every row the query makes that has the split leaf's row, when no
 * outer join supplies NULLs for that leaf: such a join's tables are
 * then never padded either (the leaf is one of them, or the equality
 * would not name it). */
static void inner_on(sq_table *t, sq_expr ***v, size_t *n)
{
	if (!t || t->kind != SQ_JOIN)
		return;
	if (t->cond && !strcmp(t->join_type, "INNER") && !strcmp(t->ref_type, "REGULAR"))
		sql_conjuncts(t->cond, v, n);
	inner_on(t->left, v, n);
	inner_on(t->right, v, n);
}

/* Whether each group lies within one part of the split table: it is read
 * in groups of whole Parquet files, and a group key is (or equals) one of
 * its columns that no two files share a value of (sql_files_disjoint: a
 * table written sorted by it). The column's name into *key. */
static bool parts_by_groups(const agg *a, const char **key)
{
	const shape *s = a->s;
	sq_expr **conj = NULL;
	size_t nconj = 0;
	int split = -1;
	bool found = false;

	for (size_t l = 0; l < s->nleaves; l++) {
		const lnode *rp = s->leaves[l].in;
		if (rp && rp->kind == L_REPARTITION && rp->mode == RP_FILES && rp->nparts > 1 && s->leaves[l].src &&
		    rp->inputs[0] == s->leaves[l].src && (size_t)l < s->nfrom)
			split = (int)l;
	}
	if (split < 0 || !sql_leaf_kept(s, split))
		return false;
	if (s->w->where)
		sql_conjuncts(s->w->where, &conj, &nconj);
	inner_on(s->w->from, &conj, &nconj);
	for (size_t g = 0; !found && g < a->ngroups; g++) {
		const column *c = split_key(s, split, a->groups[g], conj, nconj);
		if (c && sql_files_disjoint(s->p, s->leaves[split].src, c)) {
			*key = c->name;
			found = true;
		}
	}
	free(conj);
	return found;
}

/* The query as written per partition: its groups are whole there. */
static lnode *per_partition(agg *a, const char *why)
{
	shape *s = a->s;
	sq_query *core = sq_query_dup(s->w);
	char *text;
	lnode *n = NULL;

	/* ORDER BY and LIMIT come later (sql_finish), DISTINCT after (sql_shape) */
	core->has_order = core->has_limit = core->distinct = false;
	sql_add_keys(s, core, NULL, NULL);
	text = sql_text(s->p, core);
	sq_query_free(core);
	if (text) {
		n = sql_over_inputs(s, "aggregate", text);
		sql_note(s->p, "GROUP BY: each group within one %s: aggregated there, nothing shuffled", why);
	}
	free(text);
	return n;
}

/* ---- rows shuffled on the keys ------------------------------------------------ */

/* The column references the query reads (each once), which the rows
 * carry as __pond_c<i> through the shuffle. */
typedef struct colset {
	const shape *s;
	sq_expr **refs;
	size_t nrefs;
} colset;

static int ref_index(const colset *c, const sq_expr *e)
{
	for (size_t i = 0; i < c->nrefs; i++)
		if (sq_expr_equal(c->refs[i], e))
			return (int)i;
	return -1;
}

/* A reference to a table's column: c, or t.c for a table t of the query
 * (a lambda's parameter is neither). */
static bool is_table_ref(const shape *s, const sq_expr *e)
{
	if (e->kind != SQ_COLUMN)
		return false;
	if (e->nnames == 1)
		return sql_table_has(s, e->names[0]);
	for (size_t i = 0; i < s->nfrom; i++)
		if (!strcasecmp(s->leaves[i].alias, e->names[0]))
			return true;
	return sql_table_has(s, e->names[0]);
}

static bool note_ref(sq_expr **slot, void *ctx)
{
	colset *c = ctx;

	if (!is_table_ref(c->s, *slot) || ref_index(c, *slot) >= 0)
		return true;
	c->refs = xrealloc(c->refs, (c->nrefs + 2) * sizeof(sq_expr *));
	c->refs[c->nrefs++] = sql_bare(*slot);
	return false;
}

/* The shipped column holding reference e, or -1. */
static int shipped(const colset *c, const sq_expr *e)
{
	return is_table_ref(c->s, e) ? ref_index(c, e) : -1;
}

/* A copy of e in q's select list, named PREFIX<i>. */
static void add_numbered(sq_query *q, const sq_expr *e, const char *prefix, size_t i)
{
	sq_expr *c = sq_expr_dup(e);
	char *name = xasprintf("%s%zu", prefix, i);
	sq_set_alias(c, name);
	sq_add_select(q, c);
	free(name);
}

/* The rows each part ships: the references the query reads and the group
 * keys, filtered by WHERE. */
static sq_query *rows_query(agg *a, const colset *cols)
{
	shape *s = a->s;
	sq_query *rq = sq_select_new();

	for (size_t i = 0; i < cols->nrefs; i++)
		add_numbered(rq, cols->refs[i], "__pond_c", i);
	for (size_t i = 0; i < a->ngroups; i++)
		add_numbered(rq, a->groups[i], "__pond_g", i);
	sq_table_free(rq->from);
	rq->from = sq_table_dup(s->w->from);
	rq->where = sq_expr_dup(s->w->where);
	return rq;
}

/* Rows: each part filtered to the columns the query reads and its group
 * keys, shuffled on the keys; the query as written per partition, its
 * columns read from the shipped ones. */
static lnode *shuffled_rows(agg *a)
{
	shape *s = a->s;
	sqlp *p = s->p;
	sq_query *w = s->w;
	colset cols = { s, NULL, 0 };
	final fin = { 0 };
	sq_query *rq;
	lnode *n = NULL, *rows;
	const char *name = "?"; /* the first aggregate that does not merge */

	for (size_t i = a->ncalls; i-- > 0;)
		if (!a->how[i])
			name = a->calls[i]->fname;
	if (!a->ngroups)
		return sql_not(p, "aggregates that do not merge (%s) over the whole table are not distributed yet",
			       name);
	for (size_t i = 0; i < w->nselect; i++)
		if (w->select[i]->kind == SQ_STAR)
			return sql_not(p, "* in an aggregate query is not distributed");
	/* the final query reads the shipped columns in place of the tables' */
	for (size_t i = 0; i < w->nselect; i++)
		sq_visit(&w->select[i], note_ref, &cols);
	sq_visit(&w->having, note_ref, &cols);
	sq_visit(&w->qualify, note_ref, &cols);
	for (size_t i = 0; i < s->nkeys; i++)
		sq_visit(&s->keys[i], note_ref, &cols);
	rq = rows_query(a, &cols);
	rows = per_part(s, "rows per part", rq);
	sq_query_free(rq);
	if (rows && final_query(a, false, &cols, &fin)) {
		fin.ins[0] = shuffle_on_keys(a, rows);
		n = final_node(p, a->partitions ? "windows" : "aggregate", &fin, false);
		if (a->partitions)
			sql_note(p,
				 "window functions: rows hash-shuffled on their PARTITION BY (%zu key%s) into %d, "
				 "computed per partition",
				 a->ngroups, a->ngroups == 1 ? "" : "s", n->nparts);
		else
			sql_note(p,
				 "GROUP BY with aggregates that do not merge (%s): rows hash-shuffled on %zu key%s "
				 "into %d, aggregated per partition",
				 name, a->ngroups, a->ngroups == 1 ? "" : "s", n->nparts);
	}
	for (size_t i = 0; i < cols.nrefs; i++)
		sq_expr_free(cols.refs[i]);
	free(cols.refs);
	final_release(&fin);
	return n;
}

/* ---- window functions ------------------------------------------------------------ */

typedef struct {
	agg *a;
	bool first, same;
} windows;

/* Every window's PARTITION BY must hold the same keys: the first one's. */
static bool note_window(sq_expr **slot, void *ctx)
{
	windows *w = ctx;
	const sq_expr *e = *slot;

	if (e->kind != SQ_WINDOW)
		return true;
	if (w->first) {
		for (size_t i = 0; i < e->npartitions; i++)
			if (group_index(w->a, e->partitions[i]) < 0)
				add_group(w->a, sql_bare(e->partitions[i]));
		w->first = false;
	} else {
		w->same &= e->npartitions == w->a->ngroups;
		for (size_t i = 0; i < e->npartitions; i++)
			w->same &= group_index(w->a, e->partitions[i]) >= 0;
	}
	return true;
}

static void agg_release(agg *a);

lnode *sql_window(shape *s)
{
	agg a = { .s = s, .partitions = true };
	windows w = { &a, true, true };
	lnode *n = NULL;

	for (size_t i = 0; i < s->w->nselect; i++)
		sq_visit(&s->w->select[i], note_window, &w);
	sq_visit(&s->w->qualify, note_window, &w);
	for (size_t i = 0; i < s->nkeys; i++)
		sq_visit(&s->keys[i], note_window, &w);
	if (!a.ngroups)
		sql_not(s->p, "window functions without PARTITION BY are not distributed yet");
	else if (!w.same)
		sql_not(s->p, "window functions with different PARTITION BYs are not distributed yet");
	else
		n = shuffled_rows(&a);
	agg_release(&a);
	return n;
}

/* ---- the driver ------------------------------------------------------------------ */

static void agg_release(agg *a)
{
	for (size_t i = 0; i < a->ngroups; i++)
		sq_expr_free(a->groups[i]);
	free(a->groups);
	for (size_t i = 0; i < a->ncalls; i++) {
		sq_expr_free(a->calls[i]);
		free(a->types ? a->types[i] : NULL);
		sq_expr_free(a->merges ? a->merges[i] : NULL);
	}
	free(a->calls);
	free(a->how);
	free(a->types);
	free(a->scales);
	free(a->merges);
	sq_query_free(a->partial);
	sb_release(&a->mu);
}

static bool any_call_subquery(agg *a)
{
	for (size_t i = 0; i < a->ncalls; i++)
		if (sql_has_kind(a->calls[i], SQ_SUBQUERY))
			return true;
	return false;
}

lnode *sql_aggregate(shape *s)
{
	agg a = { .s = s };
	lnode *n = NULL;
	bool all_merge = true, estimated = false;
	const lnode *rp;
	const char *key = NULL;

	if (resolve_groups(&a)) {
		char *why = NULL;
		collect_calls(&a);
		if (a.ngroups && (rp = partitioned_by_groups(&a)))
			why = xasprintf("partition of the join (hashed on %s)", rp->key_desc);
		/* the groups' count sizes a merge (none here), a sort of them
		 * and what reads them; under a LIMIT only the merge would use
		 * it (TPC-H Q18, Q3: two samples, 0.1-0.3 s of planning). When
		 * it is known first and the groups are few, whether each file
		 * holds whole groups changes nothing worth the files' footers
		 * (TPC-H Q1: two reads of 16 footers, 16 ms) */
		if (!why && s->limit < 0) {
			estimate_groups(&a);
			estimated = true;
		}
		if (!why && a.ngroups && !one_task_merges(&a) && parts_by_groups(&a, &key))
			why = xasprintf("part (no two of its files share a value of %s)", key);
		if (!estimated && (!why || s->limit < 0))
			estimate_groups(&a);
		if (why) {
			n = per_partition(&a, why);
			free(why);
			agg_release(&a);
			return n;
		}
		for (size_t i = 0; i < a.ncalls; i++)
			all_merge &= a.how[i] != NULL;
		if (all_merge && any_call_subquery(&a)) {
			/* its type is DuckDB's over the leaves (call_types) */
			sql_not(s->p, "a subquery in a merged aggregate's argument is not distributed yet");
		} else if (!all_merge || call_types(&a)) {
			/* call_types finds the avg of a DATE, which does not merge */
			for (size_t i = 0; i < a.ncalls; i++)
				all_merge &= a.how[i] != NULL;
			n = all_merge ? merged(&a) : shuffled_rows(&a);
		}
	}
	agg_release(&a);
	return n;
}
