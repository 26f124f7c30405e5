/* sqlgroups.c — how many groups a GROUP BY may make, estimated at plan
 * time (docs/SQL.md, "A small GROUP BY is merged by one task").
 *
 * The group keys are sorted by the table their columns read. For each
 * such table, a Parquet source, the plan-time DuckDB counts the distinct
 * values of its keys in sqlsample.c's sample of it (up to 8 files; all
 * their rows up to about 1M, else about 256K; as skew.c samples join
 * keys). When that sample was the whole table, the count is exact for
 * that table; otherwise it is taken only when the sample is saturated
 * (each distinct key seen SATURATED times on average, so few keys can be
 * missing: flags, years, nations), else the estimate is "unknown". The
 * groups are at most the product over the tables. A key that reads no
 * column counts 1; one that reads two tables, or holds a subquery or an
 * aggregate, makes the estimate unknown. A key that is a column of a
 * derived table (FROM (SELECT …)) counts as the select item it names,
 * when that is an expression over one table of files there: its values
 * are some of that expression's over the whole table (TPC-H Q7's
 * `extract(year FROM l_shipdate) AS l_year`, Q22's
 * `substring(c_phone, 1, 2) AS cntrycode`); any other column of a derived
 * table that is itself a GROUP BY counts as that table's groups (its rows,
 * estimated when it was planned: Q13's `c_count` per customer).
 *
 * A wrong estimate costs time only, never exactness: the plan it chooses
 * gives DuckDB's rows either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/source.h"
#include "plan/sqlplan_int.h"

/* A partial sample is trusted when rows ≥ SATURATED × distinct keys. */
#define SATURATED 20
/* A table of at most this many rows (its footers say) has at most as
 * many groups: bound so, not sampled (TPC-H's nation and region, a few
 * ms each of a plan that lasts tens). */
#define FEW_ROWS 1000

/* Where a key's values come from: an expression over one table of files
 * (its columns named as under `alias`). */
typedef struct {
	const lnode *src;  /* NULL: a constant (no column), or: */
	const lnode *node; /* a derived table of at most `rows` rows */
	int64_t rows;
	const char *alias;
	sq_expr *e;
} origin;

void sql_bound_rows(sqlp *p, const lnode *n, int64_t rows)
{
	p->bounds = xrealloc(p->bounds, (p->nbounds + 1) * sizeof(p->bounds[0]));
	p->bounds[p->nbounds].node = n;
	p->bounds[p->nbounds++].rows = rows;
}

int64_t sql_rows_bound(const sqlp *p, const lnode *n)
{
	for (size_t i = 0; i < p->nbounds; i++)
		if (p->bounds[i].node == n)
			return p->bounds[i].rows;
	return -1;
}

typedef struct {
	const shape *s;
	int leaf; /* the one leaf every column reads; -1 none yet, -2 several */
} leaf_finder;

static bool note_leaf(sq_expr **slot, void *ctx)
{
	leaf_finder *f = ctx;
	int l;

	if ((*slot)->kind != SQ_COLUMN)
		return true;
	l = sql_leaf_of(f->s, *slot);
	if (l < 0 || (f->leaf >= 0 && f->leaf != l))
		f->leaf = -2;
	else if (f->leaf == -1)
		f->leaf = l;
	return f->leaf != -2;
}

static bool plain(const shape *s, sq_expr *e)
{
	return !sql_has_kind(e, SQ_SUBQUERY) && !sql_has_kind(e, SQ_WINDOW) && !sql_has_kind(e, SQ_STAR) &&
	       !sql_has_agg(s->p, e);
}

/* ---- one level of derived tables: a key that is a column of FROM (…) ------------ */

typedef struct {
	const sqlp *p;
	const sq_table *from;
	const sq_table *base; /* the one table of the FROM every column reads */
	bool bad;
} base_finder;

static bool has_col(const lnode *src, const char *name)
{
	return src && schema_find(&src->schema, name);
}

static const lnode *tab_src(const sqlp *p, const sq_table *t)
{
	int k = t->name && t->name[0] == '{' ? (int)strtol(t->name + 1, NULL, 10) : -1;

	return k >= 0 && (size_t)k < p->ntabs ? p->tabs[k].src : NULL;
}

static const char *tab_alias(const sq_table *t)
{
	return t->alias && *t->alias ? t->alias : t->name;
}

/* The base table of `from` that column reference e reads (NULL: none
 * or several, or a derived table's column). */
static const sq_table *base_of(const sqlp *p, const sq_table *t, const sq_expr *e, int *hits)
{
	const sq_table *x, *y;

	if (t->kind == SQ_JOIN) {
		x = base_of(p, t->left, e, hits);
		y = base_of(p, t->right, e, hits);
		return x ? x : y;
	}
	if (t->kind != SQ_BASE) {
		(*hits)++; /* could be this one's column */
		return NULL;
	}
	if (e->nnames >= 2 ? !strcasecmp(e->names[0], tab_alias(t)) && has_col(tab_src(p, t), e->names[1])
			   : has_col(tab_src(p, t), e->names[0])) {
		(*hits)++;
		return t;
	}
	return NULL;
}

static bool note_base(sq_expr **slot, void *ctx)
{
	base_finder *f = ctx;
	const sq_table *t;
	int hits = 0;

	if ((*slot)->kind != SQ_COLUMN)
		return true;
	t = base_of(f->p, f->from, *slot, &hits);
	if (!t || hits != 1 || (f->base && f->base != t))
		f->bad = true;
	else
		f->base = t;
	return !f->bad;
}

/* Key e, a column of derived leaf l: the select item it names, when that
 * is an expression over one table of files of the derived table's FROM
 * (its values then are some of that expression's over the table). */
static bool derived_origin(const shape *s, const sql_leaf *l, const sq_expr *e, origin *o)
{
	const sq_query *q = l->sub;
	const char *name = e->names[e->nnames - 1];
	sq_expr *item = NULL;
	base_finder f = { s->p, q->from, NULL, false };

	if (q->kind != SQ_SELECT || !q->from || q->nselect != l->own.n)
		return false;
	/* the derived table's columns are its select items, in order */
	for (size_t i = 0; i < q->nselect; i++)
		if (q->select[i]->kind == SQ_STAR)
			return false;
	for (size_t i = 0; !item && i < l->own.n; i++)
		if (!strcasecmp(l->own.cols[i].name, name))
			item = q->select[i];
	if (!item || !plain(s, item))
		return false;
	sq_visit(&item, note_base, &f);
	if (f.bad || !f.base)
		return false;
	*o = (origin){ .src = tab_src(s->p, f.base), .alias = tab_alias(f.base), .e = item };
	return o->src != NULL;
}

/* Where key e's values come from; false when unknown. */
static bool key_origin(const shape *s, sq_expr *e, origin *o)
{
	leaf_finder f = { s, -1 };
	const sql_leaf *l;

	*o = (origin){ .e = e };
	if (!plain(s, e))
		return false;
	sq_visit(&e, note_leaf, &f);
	if (f.leaf == -1)
		return true; /* a constant */
	if (f.leaf < 0)
		return false;
	l = &s->leaves[f.leaf];
	if (l->src) {
		*o = (origin){ .src = l->src, .alias = l->alias, .e = e };
		return true;
	}
	if (l->sub && e->kind == SQ_COLUMN && derived_origin(s, l, e, o))
		return true;
	/* else at most as many values as the derived table has rows */
	*o = (origin){ .node = l->node, .rows = l->node ? sql_rows_bound(s->p, l->node) : -1, .e = e };
	return o->rows >= 0;
}

/* Key i of the table at os[at]: one of its columns of a fixed-width type,
 * quick to read and hash. */
static bool narrow_key(const origin *os, size_t i)
{
	static const char *const wide[] = { "VARCHAR", "BLOB", "BIT", "JSON", "[", "STRUCT", "MAP", "UNION" };
	const sq_expr *e = os[i].e;
	const column *c;

	if (e->kind != SQ_COLUMN || !(c = schema_find(&os[i].src->schema, e->names[e->nnames - 1])))
		return false;
	for (size_t w = 0; w < sizeof(wide) / sizeof(wide[0]); w++)
		if (strstr(c->type, wide[w]))
			return false;
	return true;
}

static bool same_table(const origin *os, size_t at, size_t i)
{
	return os[i].src == os[at].src && os[i].alias && !strcasecmp(os[i].alias, os[at].alias);
}

/* Rows and distinct values, in the sample of the table at os[at] (its
 * files: *files), of its keys (only the narrow ones, if `narrow`). -1 if
 * the query fails. */
static int count_keys(const shape *s, const origin *os, size_t n, size_t at, bool narrow, int64_t *rows,
		      int64_t *distinct, bool *whole, size_t *files)
{
	sb b = SB_INIT, keys = SB_INIT;
	size_t k = 0;
	pond_err quiet = { 0 };
	pdb_result r;
	int rc = -1;
	bool seeded;

	sb_add(&b, "WITH __pond_r AS (");
	*files = sql_sample(s->p, &b, os[at].src, "*", SAMPLE_CHEAP, whole, &seeded);
	sb_add(&b, "), __pond_k AS (SELECT ");
	for (size_t i = at; i < n; i++) {
		char *text = NULL;
		if (!same_table(os, at, i) || (narrow && !narrow_key(os, i)))
			continue;
		if (sqltree_expr_sql(s->p->db, os[i].e, &text, &quiet))
			goto out;
		sb_addf(&b, "%s(%s) AS \"__pond_k%zu\"", k ? ", " : "", text, i);
		sb_addf(&keys, "%s\"__pond_k%zu\"", k++ ? ", " : "", i);
		free(text);
	}
	sb_add(&b, " FROM __pond_r AS ");
	sb_sql_ident(&b, os[at].alias);
	/* a 64-bit hash per row, not the rows: an estimate needs no exact
	 * equality, and DISTINCT over long strings (Q10's c_address,
	 * c_comment) took a third longer */
	sb_addf(&b, ") SELECT count(*), count(DISTINCT hash(%s)) FROM __pond_k", sb_str(&keys));
	if (plandb_query_wide(s->p->db, sb_str(&b), !seeded, &r, &quiet) != PDB_OK)
		goto out;
	if (r.nrows == 1) {
		*rows = strtoll(pdb_cell(&r, 0, 0), NULL, 10);
		*distinct = strtoll(pdb_cell(&r, 0, 1), NULL, 10);
		rc = 0;
	}
	pdb_result_release(&r);
out:
	sb_release(&b);
	sb_release(&keys);
	return rc;
}

/* The distinct values of the keys whose origin is (src, alias): exact or
 * from a saturated sample, else -1. When its narrow keys alone are
 * distinct in every sampled row, so are all its keys, and the wide ones
 * (Q10's c_name, c_address, c_comment beside c_custkey: 42 of 50 ms of
 * its plan) are not read. */
static int64_t table_groups(const shape *s, const origin *os, size_t n, size_t at, size_t *sampled, bool *exact,
			    size_t *few)
{
	const lnode *src = os[at].src;
	size_t nkeys = 0, nnarrow = 0, files = 0;
	bool whole = false, unique;
	int64_t rows = 0, distinct = 0;

	if (src->format != FMT_PARQUET || !src->nfiles || !os[at].alias)
		return -1;
	if ((rows = sql_source_rows_upto(s->p, src, FEW_ROWS)) >= 0) {
		(*few)++;
		return rows;
	}
	for (size_t i = at; i < n; i++)
		if (same_table(os, at, i)) {
			nkeys++;
			nnarrow += narrow_key(os, i);
		}
	unique = nnarrow && nnarrow < nkeys && count_keys(s, os, n, at, true, &rows, &distinct, &whole, &files) == 0 &&
		 distinct == rows;
	if (!unique && count_keys(s, os, n, at, false, &rows, &distinct, &whole, &files))
		return -1;
	*sampled += files;
	if (whole)
		return distinct;
	*exact = false;
	return distinct * SATURATED <= rows ? distinct : -1;
}

int64_t sql_group_estimate(const shape *s, sq_expr **groups, size_t n, char *how, size_t howlen)
{
	origin *os = xcalloc(n + 1, sizeof(origin));
	int64_t bound = 1;
	size_t sampled = 0, few = 0;
	bool exact = true, derived = false;
	sb h = SB_INIT;

	for (size_t i = 0; i < n && bound >= 0; i++)
		if (!key_origin(s, groups[i], &os[i]))
			bound = -1;
	for (size_t i = 0; i < n && bound >= 0; i++) {
		bool first = true;
		int64_t g;
		if (!os[i].src && !os[i].node)
			continue;
		for (size_t j = 0; j < i; j++)
			first &= os[i].node ? os[j].node != os[i].node
					    : os[j].src != os[i].src || strcasecmp(os[j].alias, os[i].alias) != 0;
		if (!first)
			continue;
		if ((g = os[i].node ? os[i].rows : table_groups(s, os, n, i, &sampled, &exact, &few)) < 0)
			bound = -1;
		else if (g && bound > INT64_MAX / g)
			bound = INT64_MAX;
		else
			bound *= g;
	}
	for (size_t i = 0; i < n; i++)
		derived |= os[i].node != NULL;
	if (sampled)
		sb_addf(&h, "%s %zu file%s", exact ? "counted in all" : "estimated from", sampled,
			sampled == 1 ? "" : "s");
	if (few)
		sb_addf(&h, "%s%s", h.len ? ", " : "", few == 1 ? "a small table's rows" : "small tables' rows");
	if (derived || !h.len)
		sb_addf(&h, "%sa derived table's rows", h.len ? ", " : "");
	snprintf(how, howlen, "%s", sb_str(&h));
	sb_release(&h);
	free(os);
	return bound;
}
