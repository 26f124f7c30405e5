/* sqlcoloc.c — a correlated subquery that reads the same part as the
 * query (docs/SQL.md, "Co-located subqueries").
 *
 * When the query is split on Parquet table T in groups of whole files,
 * and a correlated subquery reads T alone, correlated by an equality
 * inner.c = outer.c on a column c of T that no two of T's files share a
 * value of (sql_files_disjoint: T written sorted by c), then every row of
 * T the subquery can match for an outer row of part i is in part i: the
 * equality keeps only rows whose c is the outer row's, and all of those
 * lie in the one file that row came from. So each task evaluates the
 * subquery, as written, over its own part of T: no derived table, no
 * join stage, nothing broadcast. TPC-H Q21: EXISTS and NOT EXISTS over
 * lineitem on l_orderkey, lineitem written sorted by it; one stage.
 *
 * sqldecor.c asks sql_colocatable before it decorrelates a subquery (the
 * split is not chosen yet: it predicts it as sql_inputs will choose it);
 * sqljoin.c's visit_subquery calls sql_colocated once the split is
 * there, which checks it is the one predicted and binds the subquery's
 * table to it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"

static bool any_subquery(sq_expr *e)
{
	return e && sql_has_kind(e, SQ_SUBQUERY);
}

/* The subquery's one table, "{k}" of the query's tables: k, else -1. */
static int only_table(const sqlp *p, const sq_query *q)
{
	const sq_table *t = q->from;
	long k;

	if (q->kind != SQ_SELECT || q->nctes || !t || t->kind != SQ_BASE || t->name[0] != '{' || t->qualified ||
	    t->sample || t->ncol_aliases)
		return -1;
	for (size_t i = 0; i < q->nselect; i++)
		if (any_subquery(q->select[i]))
			return -1;
	for (size_t i = 0; i < q->ngroups; i++)
		if (any_subquery(q->groups[i]))
			return -1;
	if (any_subquery(q->where) || any_subquery(q->having) || any_subquery(q->qualify))
		return -1;
	k = strtol(t->name + 1, NULL, 10);
	return k >= 0 && (size_t)k < p->ntabs ? (int)k : -1;
}

/* e names column c of the subquery's own table (alias, or no qualifier:
 * the innermost scope has c). */
static const char *inner_col(const sq_expr *e, const char *alias, const lnode *src)
{
	if (e->kind != SQ_COLUMN)
		return NULL;
	if (e->nnames == 1 && schema_find(&src->schema, e->names[0]))
		return e->names[0];
	if (e->nnames == 2 && *alias && !strcasecmp(e->names[0], alias) && schema_find(&src->schema, e->names[1]))
		return e->names[1];
	return NULL;
}

bool sql_coloc_match(sqlp *p, const sq_expr *sub, sql_coloc *out)
{
	const sq_query *q = sub->kind == SQ_SUBQUERY ? sub->subquery : NULL;
	sq_expr **conj = NULL;
	size_t n = 0;
	int k;
	bool found = false;

	memset(out, 0, sizeof(*out));
	if (!q || (k = only_table(p, q)) < 0 || !p->tabs[k].src || p->tabs[k].src->format != FMT_PARQUET || !q->where)
		return false;
	out->tab = k;
	out->src = p->tabs[k].src;
	out->inner_alias = q->from->alias;
	sql_conjuncts(q->where, &conj, &n);
	for (size_t i = 0; !found && i < n; i++) {
		const sq_expr *x = conj[i];
		if (x->kind != SQ_COMPARISON || strcmp(x->type, "COMPARE_EQUAL") || x->nargs != 2)
			continue;
		for (int a = 0; !found && a < 2; a++) {
			const sq_expr *in = x->args[a], *o = x->args[1 - a];
			const char *c = inner_col(in, out->inner_alias, out->src);
			/* the other side: outer.c, of a table the subquery does
			 * not shadow */
			if (!c || o->kind != SQ_COLUMN || o->nnames != 2 || !o->names[1] ||
			    strcasecmp(o->names[1], c) || !strcasecmp(o->names[0], out->inner_alias))
				continue;
			out->col = schema_find(&out->src->schema, c);
			out->outer_alias = o->names[0];
			found = sql_files_disjoint(p, out->src, out->col);
		}
	}
	free(conj);
	return found;
}

/* The base tables of a FROM of tables joined INNER or CROSS; false for
 * anything else. */
static bool outer_tables(const sq_table *t, const sq_table ***v, size_t *n)
{
	if (!t)
		return false;
	if (t->kind == SQ_JOIN)
		return (!strcmp(t->ref_type, "CROSS") ||
			(!strcmp(t->ref_type, "REGULAR") && !t->nusing && !strcmp(t->join_type, "INNER"))) &&
		       outer_tables(t->left, v, n) && outer_tables(t->right, v, n);
	if (t->kind != SQ_BASE || t->name[0] != '{')
		return false;
	*v = xgrow(*v, *n, sizeof(sq_table *));
	(*v)[(*n)++] = t;
	return true;
}

/* The bytes of the query's table t names ("{k}"). */
static int64_t bytes_of_tab(sqlp *p, const sq_table *t)
{
	return sql_tab_bytes(p, &p->tabs[strtol(t->name + 1, NULL, 10)]);
}

bool sql_colocatable(sqlp *p, const sq_query *outer, const sq_expr *sub)
{
	sql_coloc m;
	const sq_table **v = NULL;
	size_t n = 0;
	int split = -1;
	int64_t big;
	bool ok;

	if (!sql_coloc_match(p, sub, &m) || !outer_tables(outer->from, &v, &n)) {
		free(v);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i]->alias, m.outer_alias))
			split = (int)i;
	/* as sql_inputs will split: the largest table, every other one small
	 * enough to broadcast, read in groups of whole files */
	ok = split >= 0 && p->tabs[strtol(v[split]->name + 1, NULL, 10)].src == m.src;
	big = ok ? bytes_of_tab(p, v[split]) : 0;
	ok = ok && sql_files_split(m.src, big);
	for (size_t i = 0; ok && i < n; i++)
		if ((int)i != split)
			ok = bytes_of_tab(p, v[i]) <= p->rq->broadcast_limit && bytes_of_tab(p, v[i]) < big;
	free(v);
	return ok;
}

typedef struct {
	const sq_expr *e;
	bool found;
} expr_find;

static bool find_expr(sq_expr **slot, void *ctx)
{
	expr_find *f = ctx;
	f->found |= *slot == f->e;
	return !f->found;
}

/* Only a subquery of the WHERE: it is evaluated on the rows of the part,
 * before any aggregate merges parts. */
bool sql_colocated(shape *s, sq_expr *e)
{
	expr_find f = { e, false };
	sql_coloc m;
	sq_table *t;
	sql_leaf *l;
	const lnode *rp;
	int d = -1;

	sq_visit(&s->w->where, find_expr, &f);
	if (!f.found || !sql_coloc_match(s->p, e, &m))
		return false;
	for (size_t i = 0; i < s->nfrom; i++)
		if (!strcasecmp(s->leaves[i].alias, m.outer_alias))
			d = (int)i;
	rp = d >= 0 ? s->leaves[d].in : NULL;
	if (!rp || rp->kind != L_REPARTITION || rp->mode != RP_FILES || rp->nparts < 2 || rp->ninputs != 1 ||
	    rp->inputs[0] != m.src || s->leaves[d].src != m.src)
		return false;
	t = e->subquery->from;
	s->leaves = xgrow(s->leaves, s->nleaves, sizeof(sql_leaf));
	l = &s->leaves[s->nleaves];
	sql_init_leaf(s, l, m.tab, t->alias);
	l->in = s->leaves[d].in;
	free(t->name);
	t->name = xasprintf("{%zu}", s->nleaves++);
	sql_note(
		s->p,
		"a correlated subquery's table read in the same part as %s: %s (no two of its files share a value of %s, the key it is correlated on)",
		s->leaves[d].alias, *l->alias ? l->alias : "its table", m.col->name);
	return true;
}
