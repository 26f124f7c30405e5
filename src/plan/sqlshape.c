/* sqlshape.c — the shapes of a query pond sql distributes (docs/SQL.md,
 * "Shapes"), each turned into stages. Called by sqlplan.c; a shape it does
 * not know returns NULL with the reason, and the query runs as one task.
 *
 * Every shape is one SELECT over one table read in parts. The rows part
 * (a scan, or an aggregation in sqlagg.c) gives partitions holding the
 * query's columns, then one hidden column __pond_s<i> per ORDER BY key;
 * sql_finish sorts (range partitions, then a sort per partition) or takes
 * the top n, and renames and casts the columns to exactly DuckDB's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"

/* ---- small helpers --------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

bool sql_is_agg(const sqlp *p, const sq_expr *e)
{
	const char *name = e->fname;

	return e->kind == SQ_FUNCTION && !e->qualified && bsearch(&name, p->aggs, p->naggs, sizeof(char *), cmp_name);
}

typedef struct {
	const sqlp *p;
	sq_kind kind;
	bool found;
} finder;

static bool find_agg(sq_expr **slot, void *ctx)
{
	finder *f = ctx;
	f->found |= sql_is_agg(f->p, *slot);
	return !f->found;
}

bool sql_has_agg(const sqlp *p, sq_expr *e)
{
	finder f = { p, SQ_OTHER, false };
	sq_visit(&e, find_agg, &f);
	return f.found;
}

static bool find_kind(sq_expr **slot, void *ctx)
{
	finder *f = ctx;
	f->found |= (*slot)->kind == f->kind;
	return !f->found;
}

void sql_conjuncts(sq_expr *e, sq_expr ***v, size_t *n)
{
	if (e->kind == SQ_CONJUNCTION && !strcmp(e->type, "CONJUNCTION_AND")) {
		for (size_t i = 0; i < e->nargs; i++)
			sql_conjuncts(e->args[i], v, n);
		return;
	}
	*v = xgrow(*v, *n, sizeof(sq_expr *));
	(*v)[(*n)++] = e;
}

static bool has_leaf(const sq_table *t, int leaf)
{
	char name[32];

	if (t->kind == SQ_JOIN)
		return has_leaf(t->left, leaf) || has_leaf(t->right, leaf);
	snprintf(name, sizeof(name), "{%d}", leaf);
	return t->kind == SQ_BASE && !strcmp(t->name, name);
}

/* The conjuncts of the ON of every join in t whose matched rows alone
 * hold leaf's rows: an inner join, or one that drops leaf's side's
 * unmatched rows (its right side under LEFT, SEMI and ANTI, its left
 * under RIGHT; TPC-H Q4's lineitem SEMI JOIN orders). */
static void leaf_on(const sq_table *t, int leaf, sq_expr ***v, size_t *n)
{
	const char *jt;

	if (!t || t->kind != SQ_JOIN)
		return;
	jt = t->join_type;
	if (t->cond && !strcmp(t->ref_type, "REGULAR") &&
	    (!strcmp(jt, "INNER") ||
	     (has_leaf(t->right, leaf) && (!strcmp(jt, "LEFT") || !strcmp(jt, "SEMI") || !strcmp(jt, "ANTI"))) ||
	     (has_leaf(t->left, leaf) && !strcmp(jt, "RIGHT"))))
		sql_conjuncts(t->cond, v, n);
	leaf_on(t->left, leaf, v, n);
	leaf_on(t->right, leaf, v, n);
}

void sql_leaf_conjuncts(const shape *s, int leaf, sq_expr ***v, size_t *n)
{
	if (s->w->where)
		sql_conjuncts(s->w->where, v, n);
	leaf_on(s->w->from, leaf, v, n);
}

bool sql_has_kind(sq_expr *e, sq_kind k)
{
	finder f = { NULL, k, false };
	sq_visit(&e, find_kind, &f);
	return f.found;
}

sq_expr *sql_bare(const sq_expr *e)
{
	sq_expr *c = sq_expr_dup(e);
	sq_set_alias(c, "");
	return c;
}

bool sql_table_has(const shape *s, const char *name)
{
	for (size_t l = 0; l < s->nfrom; l++) {
		const schema *c = sql_leaf_cols(&s->leaves[l]);
		for (size_t i = 0; i < c->n; i++)
			if (!strcasecmp(c->cols[i].name, name))
				return true;
	}
	return false;
}

/* Every expression of a SELECT: select list, WHERE, GROUP BY, HAVING,
 * QUALIFY, ORDER BY, LIMIT. */
static bool any_expr(const sq_query *q, bool (*test)(sq_expr *e, const void *arg), const void *arg)
{
	sq_expr *single[] = { q->where, q->having, q->qualify, q->limit, q->offset };

	for (size_t i = 0; i < q->nselect; i++)
		if (test(q->select[i], arg))
			return true;
	for (size_t i = 0; i < q->ngroups; i++)
		if (test(q->groups[i], arg))
			return true;
	for (size_t i = 0; i < q->norders; i++)
		if (test(q->orders[i].e, arg))
			return true;
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (single[i] && test(single[i], arg))
			return true;
	return false;
}

static bool has_kind_test(sq_expr *e, const void *k)
{
	return sql_has_kind(e, *(const sq_kind *)k);
}

/* Why q is no shape pond distributes, or NULL. */
static const char *unsupported(const sq_query *q)
{
	static const sq_kind win = SQ_WINDOW;

	/* A collation belongs to an expression's type, and Parquet has none:
	 * a collated key shipped between tasks would be sorted, hashed and
	 * compared as plain VARCHAR ('abc' and 'ABC' apart under NOCASE). */
	if (q->collates)
		return "COLLATE is not distributed (a collation does not travel with the rows pond ships "
		       "between tasks)";
	if (q->kind == SQ_SETOP)
		return q->nctes          ? "CTEs over a set operation are not distributed yet"
		       : q->odd_modifier ? "LIMIT with a percentage is not distributed"
					 : NULL;
	if (q->kind != SQ_SELECT)
		return "only SELECT queries are distributed";
	if (!q->from || q->from->kind == SQ_EMPTY)
		return "the query reads no table";
	if (q->sample)
		return "samples (USING SAMPLE) are not distributed";
	if (q->odd_modifier)
		return "LIMIT with a percentage is not distributed";
	if (q->ndistinct_on)
		return "DISTINCT ON is not distributed yet";
	if (!q->plain_groups)
		return "GROUPING SETS, ROLLUP and CUBE are not distributed yet";
	if (q->qualify && !any_expr(q, has_kind_test, &win))
		return "QUALIFY without a window function";
	return NULL;
}

/* ---- ORDER BY and LIMIT ---------------------------------------------------- */

/* The expression an ORDER BY item sorts by: a select item (by position or
 * alias), or the item itself. */
static sq_expr *key_of(shape *s, const sq_expr *e)
{
	const sq_query *w = s->w;

	if (e->kind == SQ_STAR)
		return sql_not(s->p, "ORDER BY ALL is not distributed yet"), NULL;
	if (e->kind == SQ_CONSTANT && e->is_int) {
		if (e->ival < 1 || (size_t)e->ival > w->nselect)
			return sql_not(s->p, "ORDER BY %lld is not a select item", (long long)e->ival), NULL;
		for (int64_t i = 0; i < e->ival; i++)
			if (w->select[i]->kind == SQ_STAR)
				return sql_not(s->p, "ORDER BY a position after a * is not distributed"), NULL;
		return sql_bare(w->select[e->ival - 1]);
	}
	if (e->kind == SQ_COLUMN && e->nnames == 1)
		for (size_t i = 0; i < w->nselect; i++)
			if (!strcasecmp(w->select[i]->alias, e->names[0]))
				return sql_bare(w->select[i]);
	return sql_bare(e);
}

static bool const_count(const sq_expr *e, int64_t *v)
{
	if (!e) {
		*v = -1;
		return true;
	}
	if (e->kind == SQ_CONSTANT && e->is_int && e->ival >= 0) {
		*v = e->ival;
		return true;
	}
	return false;
}

static bool take_order_limit(shape *s)
{
	sq_query *w = s->w;

	s->limit = s->offset = -1;
	if (w->has_limit && (!const_count(w->limit, &s->limit) || !const_count(w->offset, &s->offset)))
		return sql_not(s->p, "LIMIT and OFFSET other than constant numbers are not distributed"), false;
	if (w->has_limit && s->limit < 0)
		return sql_not(s->p, "OFFSET without LIMIT is not distributed yet"), false;
	if (s->offset < 0)
		s->offset = 0;
	s->keys = xcalloc(w->norders + 1, sizeof(sq_expr *));
	s->orders = xcalloc(w->norders + 1, sizeof(sq_order));
	for (size_t i = 0; i < w->norders; i++) {
		if (!(s->keys[i] = key_of(s, w->orders[i].e)))
			return false;
		s->orders[i] = (sq_order){ w->orders[i].dir, w->orders[i].nulls, NULL };
		s->nkeys++;
	}
	return true;
}

void sql_add_keys(shape *s, sq_query *q, sq_visit_fn fn, void *ctx)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		sq_expr *k = sq_expr_dup(s->keys[i]);
		char *name = xasprintf("__pond_s%zu", i);
		if (fn)
			sq_visit(&k, fn, ctx);
		sq_set_alias(k, name);
		sq_add_select(q, k);
		free(name);
	}
}

/* "CAST(#1 AS T1) AS "name1", …": the query's columns by position, as
 * DuckDB names and types them. */
void sql_rename_list(sb *b, const schema *out)
{
	for (size_t i = 0; i < out->n; i++) {
		sb_addf(b, "%sCAST(#%zu AS %s) AS ", i ? ", " : "", i + 1, out->cols[i].type);
		sb_sql_ident(b, out->cols[i].name);
	}
}

/* " ORDER BY "__pond_s0" DESC NULLS FIRST, …" as the query said it. */
static void order_list(sb *b, const shape *s)
{
	static const char *const dirs[] = { "", " ASC", " DESC" };
	static const char *const nulls[] = { "", " NULLS FIRST", " NULLS LAST" };

	for (size_t i = 0; i < s->nkeys; i++)
		sb_addf(b, "%s\"__pond_s%zu\"%s%s", i ? ", " : " ORDER BY ", i, dirs[s->orders[i].dir],
			nulls[s->orders[i].nulls]);
}

/* The first sort key's range partitions, in the key's order. */
static lnode *range_on_first_key(shape *s, lnode *rel)
{
	lnode *rp = sql_node(s->p, L_REPARTITION, "order by");

	rp->mode = RP_RANGE;
	rp->nparts = rel->nparts;
	rp->inputs = xcalloc(1, sizeof(lnode *));
	rp->inputs[0] = rel;
	rp->ninputs = 1;
	rp->key = xstrdup("\"__pond_s0\"");
	rp->key_desc = xstrdup("the first ORDER BY key");
	rp->key_names = xcalloc(2, sizeof(char *));
	rp->key_names[0] = xstrdup("__pond_s0");
	rp->nkeys = 1;
	rp->range_desc = s->orders[0].dir == SQ_DESC;
	rp->range_nulls_first = s->orders[0].nulls == SQ_NULLS_FIRST;
	return rp;
}

/* At most this many groups (estimated) are sorted by one task rather
 * than range-partitioned: a second or so of one DuckDB thread, where the
 * range partitions take four stages (a sample, split points, a shuffle,
 * the sorted parts). */
#define GATHER_SORT_ROWS 1000000

/* The last step done by the one task that already makes rel (a gather
 * of this shape, e.g. a small GROUP BY merged by one task), instead of a
 * stage of its own: rel's query becomes a CTE of the step's. */
static lnode *fold_into_gather(lnode *rel, const char *step)
{
	const char *at = strstr(step, "\"{0}\"");
	char *q = xasprintf("WITH \"__pond_m\" AS (%s) %.*s\"__pond_m\"%s", rel->query, (int)(at - step), step, at + 5);

	free(rel->query);
	rel->query = q;
	return rel;
}

lnode *sql_finish(shape *s, lnode *rel)
{
	sqlp *p = s->p;
	sb q = SB_INIT, order = SB_INIT;
	lnode *n;

	order_list(&order, s);
	sb_add(&q, "SELECT ");
	sql_rename_list(&q, s->out);
	sb_add(&q, " FROM \"{0}\"");
	sb_add(&q, sb_str(&order));
	if (s->nkeys && s->limit < 0 && rel->nparts > 1 && s->groups_est >= 0 && s->groups_est <= GATHER_SORT_ROWS) {
		/* few groups, aggregated per partition: one task sorts them all */
		rel = sql_gather(p, "gather", "SELECT * FROM \"{0}\"", &rel, 1);
		sql_note(p, "ORDER BY: at most ~%lld %s (%s), sorted by one task", (long long)s->groups_est,
			 s->est_rows ? "rows" : "groups", s->groups_how);
	}
	if (rel->kind == L_SQL && rel->nparts == 1) {
		/* sorted by the gather, cast where the result is written: the
		 * gather's own output holds HUGEINT as DECIMAL(38,0) */
		sb sorted = SB_INIT;
		sb_addf(&sorted, "SELECT * FROM \"{0}\"%s", sb_str(&order));
		if (s->limit >= 0)
			sb_addf(&sorted, " LIMIT %lld OFFSET %lld", (long long)s->limit, (long long)s->offset);
		n = sql_partial(p, "result", sb_str(&q), fold_into_gather(rel, sb_str(&sorted)));
		sb_release(&sorted);
	} else if (s->limit >= 0) {
		int64_t top = s->limit > INT64_MAX - s->offset ? INT64_MAX : s->limit + s->offset;
		if (rel->nparts > 1) {
			char *pre = xasprintf("SELECT * FROM \"{0}\"%s LIMIT %lld", sb_str(&order), (long long)top);
			rel = sql_partial(p, s->nkeys ? "top n per part" : "limit per part", pre, rel);
			free(pre);
		}
		sb_addf(&q, " LIMIT %lld OFFSET %lld", (long long)s->limit, (long long)s->offset);
		n = sql_gather(p, s->nkeys ? "top n" : "limit", sb_str(&q), &rel, 1);
		sql_note(p, "%s: %s per part, then one task", s->nkeys ? "ORDER BY … LIMIT" : "LIMIT",
			 s->nkeys ? "the top rows" : "the first rows");
	} else {
		if (s->nkeys && rel->nparts > 1) {
			rel = range_on_first_key(s, rel);
			sql_note(p, "ORDER BY: range partitions on the first key (%s) into %d, sorted each",
				 s->orders[0].dir == SQ_DESC ? "descending: the partitions reversed" : "ascending",
				 rel->nparts);
		}
		n = sql_partial(p, s->nkeys ? "sort" : "result", sb_str(&q), rel);
		if (n->nparts > 1)
			sql_note(p, "result: %d parts, read in order", n->nparts);
	}
	sb_release(&q);
	sb_release(&order);
	return n;
}

/* ---- rows: scans, filters, projections, DISTINCT ---------------------------- */

/* DISTINCT over rows already distinct per partition: a shuffle on a hash
 * of the whole row (equal rows meet), then DISTINCT again. */
static lnode *distinct(shape *s, lnode *n)
{
	lnode *rp = sql_node(s->p, L_REPARTITION, "distinct");

	rp->mode = RP_RANDOM;
	rp->nparts = n->nparts;
	rp->inputs = xcalloc(1, sizeof(lnode *));
	rp->inputs[0] = n;
	rp->ninputs = 1;
	sql_note(s->p, "DISTINCT: distinct per partition, hash shuffle on every column into %d, distinct", n->nparts);
	return sql_partial(s->p, "distinct", "SELECT DISTINCT * FROM \"{0}\"", rp);
}

static bool find_unnest(sq_expr **slot, void *ctx)
{
	bool *found = ctx;
	const sq_expr *e = *slot;

	*found |= e->kind == SQ_FUNCTION && (!strcasecmp(e->fname, "unnest") || !strcasecmp(e->fname, "unlist"));
	return !*found;
}

/* The columns a derived table's rows are unique on, into key (at most
 * max): its GROUP BY's, when each is a column it selects as it is (the
 * table's column at that place), and no select item makes several rows
 * of one (`*`, unnest). 0 when not known so. */
static size_t unique_key(const sql_leaf *l, const column **key, size_t max)
{
	const sq_query *q = l->sub;
	bool several = false;

	if (!q || q->kind != SQ_SELECT || !q->ngroups || q->ngroups > max || !q->plain_groups || q->group_all ||
	    q->nselect != l->own.n)
		return 0;
	for (size_t i = 0; i < q->nselect && !several; i++) {
		several = q->select[i]->kind == SQ_STAR;
		sq_visit(&q->select[i], find_unnest, &several);
	}
	if (several)
		return 0;
	for (size_t g = 0; g < q->ngroups; g++) {
		size_t j = 0;
		if (q->groups[g]->kind != SQ_COLUMN)
			return 0;
		while (j < q->nselect &&
		       !(q->select[j]->kind == SQ_COLUMN && sq_expr_equal(q->select[j], q->groups[g])))
			j++;
		if (j == q->nselect)
			return 0;
		key[g] = &l->own.cols[j];
	}
	return q->ngroups;
}

/* Whether conjunct e is leaf.k = c, c a column of the same type (no cast
 * can make unequal keys equal; not a float: NaN, -0) of a leaf other
 * than `leaf` and not in one[]. */
static bool key_equated(const shape *s, const sq_expr *e, int leaf, const column *k, const bool *one)
{
	if (e->kind != SQ_COMPARISON || strcmp(e->type, "COMPARE_EQUAL") || e->nargs != 2 ||
	    !strcmp(k->type, "FLOAT") || !strcmp(k->type, "DOUBLE"))
		return false;
	for (int side = 0; side < 2; side++) {
		const sq_expr *a = e->args[side], *b = e->args[1 - side];
		int lb = sql_leaf_of(s, b);
		const column *c;
		if (a->kind != SQ_COLUMN || a->nnames > 2 || sql_leaf_of(s, a) != leaf ||
		    strcasecmp(a->names[a->nnames - 1], k->name) || lb < 0 || lb == leaf || one[lb] || b->nnames > 2)
			continue;
		c = schema_find(sql_leaf_cols(&s->leaves[lb]), b->names[b->nnames - 1]);
		if (c && !strcmp(c->type, k->type))
			return true;
	}
	return false;
}

/* Whether each row the query makes from the other leaves holds at most
 * one row of leaf: a derived table unique on its GROUP BY columns, each
 * equal (in every row of it the query keeps) to a column of a leaf not
 * in one[] (so no two leaves are bounded by each other). */
static bool one_per_row(const shape *s, int leaf, const bool *one)
{
	const column *key[16];
	size_t nkey = unique_key(&s->leaves[leaf], key, 16), met = 0, n = 0;
	sq_expr **conj = NULL;

	if (!nkey)
		return false;
	sql_leaf_conjuncts(s, leaf, &conj, &n);
	for (size_t k = 0; k < nkey; k++)
		for (size_t i = 0; i < n; i++)
			if (key_equated(s, conj[i], leaf, key[k], one)) {
				met++;
				break;
			}
	free(conj);
	return met == nkey;
}

/* Under ORDER BY without LIMIT: the query's rows at most, the product
 * over its FROM's tables of (rows + 1) (an outer join keeps a row of one
 * side with none of the other), from Parquet footers or a derived
 * table's bound, and 1 for a derived table that holds at most one row
 * per row of the others (one_per_row: TPC-H Q15's revenue per supplier
 * beside supplier); so sql_finish sorts a few rows in one task, not in
 * the four stages of range partitions (TPC-H Q20's suppliers). */
static void estimate_rows(shape *s)
{
	int64_t bound = 1;
	bool *one;

	if (!s->nkeys || s->limit >= 0)
		return;
	one = xcalloc(s->nfrom + 1, sizeof(bool));
	for (size_t i = 0; i < s->nfrom; i++)
		one[i] = one_per_row(s, (int)i, one);
	for (size_t i = 0; i < s->nfrom && bound >= 0; i++) {
		const sql_leaf *l = &s->leaves[i];
		int64_t r = -1;
		if (one[i])
			r = 0; /* its factor 1 */
		else if (l->src)
			r = sql_source_rows(s->p, l->src);
		else if (l->node)
			r = sql_rows_bound(s->p, l->node);
		if (r < 0 || r >= INT64_MAX / 2)
			bound = -1;
		else if (bound > INT64_MAX / (r + 1))
			bound = INT64_MAX;
		else
			bound *= r + 1;
	}
	free(one);
	if (bound < 0)
		return;
	s->groups_est = bound;
	s->est_rows = true;
	snprintf(s->groups_how, sizeof(s->groups_how), "%s", "its tables' rows");
}

static lnode *rows(shape *s)
{
	sqlp *p = s->p;
	sq_query *core = sq_query_dup(s->w);
	char *text;
	lnode *n;

	/* ORDER BY and LIMIT come later (sql_finish) */
	core->has_order = core->has_limit = false;
	sql_add_keys(s, core, NULL, NULL);
	text = sql_text(p, core);
	sq_query_free(core);
	if (!text)
		return NULL;
	n = sql_over_inputs(s, s->w->distinct ? "distinct per part" : "scan", text);
	free(text);
	estimate_rows(s);
	sql_note(p, "scan: filter and project each part");
	return s->w->distinct ? distinct(s, n) : n;
}

/* ---- the driver -------------------------------------------------------------- */

static void shape_release(shape *s)
{
	for (size_t i = 0; i < s->nkeys; i++)
		sq_expr_free(s->keys[i]);
	free(s->keys);
	free(s->orders);
	sq_query_free(s->w);
	for (size_t i = 0; i < s->nleaves; i++) {
		sq_query_free(s->leaves[i].sub);
		schema_release(&s->leaves[i].own);
	}
	free(s->leaves);
	free(s->ins);
}

static bool is_aggregate(const shape *s)
{
	const sq_query *w = s->w;

	if (w->ngroups || w->group_all || w->having)
		return true;
	for (size_t i = 0; i < w->nselect; i++)
		if (sql_has_agg(s->p, w->select[i]))
			return true;
	for (size_t i = 0; i < w->norders; i++)
		if (sql_has_agg(s->p, w->orders[i].e))
			return true;
	return false;
}

static const sq_kind window_kind = SQ_WINDOW;

/* ---- set operations ------------------------------------------------------------ */

/* n with `want` partitions (or kept at one, for UNION ALL): by a shuffle
 * on a hash of the whole row, always when `hash` (then equal rows of both
 * sides meet). */
static lnode *with_parts(sqlp *p, lnode *n, int want, bool hash)
{
	lnode *rp;

	if (!hash && (n->nparts == want || n->nparts == 1))
		return n;
	rp = sql_node(p, L_REPARTITION, "set operation");
	rp->mode = RP_RANDOM;
	rp->nparts = want;
	rp->inputs = xcalloc(1, sizeof(lnode *));
	rp->inputs[0] = n;
	rp->ninputs = 1;
	return rp;
}

/* The setop's ORDER BY keys: output columns by position or name, or
 * expressions over them, each a hidden column __pond_s<i> added to rel. */
static lnode *setop_keys(shape *s, lnode *rel)
{
	const sq_query *w = s->w;
	sq_query *k = sq_select_new();
	char *text;

	sq_add_select(k, sq_star());
	sq_table_free(k->from);
	k->from = sq_base_table("{0}", NULL);
	s->keys = xcalloc(w->norders + 1, sizeof(sq_expr *));
	s->orders = xcalloc(w->norders + 1, sizeof(sq_order));
	for (size_t i = 0; i < w->norders; i++) {
		const sq_expr *e = w->orders[i].e;
		if (e->kind == SQ_CONSTANT && e->is_int && e->ival >= 1 && (size_t)e->ival <= s->out->n)
			s->keys[i] = sq_column(NULL, s->out->cols[e->ival - 1].name);
		else
			s->keys[i] = sql_bare(e);
		s->orders[i] = (sq_order){ w->orders[i].dir, w->orders[i].nulls, NULL };
		s->nkeys++;
	}
	sql_add_keys(s, k, NULL, NULL);
	text = sql_text(s->p, k);
	sq_query_free(k);
	if (!text)
		return NULL;
	rel = sql_partial(s->p, "sort keys", text, rel);
	free(text);
	return rel;
}

/* UNION [ALL], INTERSECT [ALL], EXCEPT [ALL]: each side planned on its
 * own with the result's columns; UNION ALL puts partition i of both
 * sides together (a side of one partition only in partition 0), the
 * others first meet equal rows by a hash of the whole row. */
static lnode *setop(shape *s)
{
	sqlp *p = s->p;
	const sq_query *w = s->w;
	bool all = w->setop_all, is_union = !strcmp(w->setop, "UNION");
	lnode *in[2], *n;
	char *q;

	if (strcmp(w->setop, "UNION") && strcmp(w->setop, "INTERSECT") && strcmp(w->setop, "EXCEPT"))
		return sql_not(p, "%s is not distributed", w->setop);
	sql_note(p, "%s%s of two queries, each planned on its own:", w->setop, all ? " ALL" : "");
	if (!(in[0] = sql_shape(p, w->left, s->out)) || !(in[1] = sql_shape(p, w->right, s->out)))
		return NULL;
	int parts = in[0]->nparts > in[1]->nparts ? in[0]->nparts : in[1]->nparts;
	bool hash = !is_union && parts > 1;
	in[0] = with_parts(p, in[0], parts, hash);
	in[1] = with_parts(p, in[1], parts, hash);
	q = xasprintf("SELECT * FROM \"{0}\"%s %s%s SELECT * FROM \"{1}\"%s",
		      in[0]->nparts == 1 && parts > 1 ? " WHERE {partition} = 0" : "",
		      is_union ? "UNION ALL" : w->setop, is_union || !all ? "" : " ALL",
		      in[1]->nparts == 1 && parts > 1 ? " WHERE {partition} = 0" : "");
	n = sql_node(p, L_PARTIAL, w->setop);
	n->query = q;
	n->inputs = xcalloc(2, sizeof(lnode *));
	n->inputs[0] = in[0];
	n->inputs[1] = in[1];
	n->ninputs = 2;
	n->nparts = parts;
	sql_note(p, "%s%s: %s", w->setop, all ? " ALL" : "",
		 is_union ? "partitions side by side" : "both sides hash-shuffled on every column, per partition");
	if (is_union && !all)
		n = distinct(s, n);
	return n;
}

lnode *sql_shape(sqlp *p, const sq_query *q, const schema *out)
{
	shape s = { .p = p, .out = out, .groups_est = -1 };
	const char *why = unsupported(q);
	lnode *n = NULL;

	if (why)
		return sql_not(p, "%s", why);
	p->depth++;
	s.w = sq_query_dup(q);
	sql_decorrelate(p, s.w); /* correlated subqueries over big tables: joins */
	if (q->kind == SQ_SETOP) {
		s.limit = s.offset = -1;
		if (s.w->has_limit && (!const_count(s.w->limit, &s.limit) || !const_count(s.w->offset, &s.offset)))
			n = sql_not(p, "LIMIT and OFFSET other than constant numbers are not distributed");
		else if ((n = setop(&s)) && s.w->has_order)
			n = setop_keys(&s, n);
		s.offset = s.offset < 0 ? 0 : s.offset;
	} else if (sql_inputs(&s) && take_order_limit(&s)) {
		bool aggregate = is_aggregate(&s);
		bool windowed = any_expr(s.w, has_kind_test, &window_kind);
		if (aggregate && s.correlated)
			n = sql_not(p,
				    "a correlated subquery in an aggregate's select list, HAVING or ORDER BY is "
				    "not distributed yet");
		else if (windowed && s.correlated)
			n = sql_not(p,
				    "a correlated subquery in a window query's select list, QUALIFY or ORDER BY is not "
				    "distributed yet");
		else if (aggregate && windowed)
			n = sql_not(p, "window functions over aggregates are not distributed yet");
		else if (windowed && s.w->distinct)
			n = sql_not(p, "DISTINCT with window functions is not distributed yet");
		else
			n = windowed ? sql_window(&s) : aggregate ? sql_aggregate(&s) : rows(&s);
		if (n && aggregate && s.w->distinct)
			n = distinct(&s, n);
	}
	if (n)
		n = sql_finish(&s, n);
	if (n && s.groups_est >= 0)
		sql_bound_rows(p, n, s.limit >= 0 && s.limit < s.groups_est ? s.limit : s.groups_est);
	shape_release(&s);
	p->depth--;
	return n;
}
