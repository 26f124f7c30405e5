/* sqldecor.c — correlated subqueries over big tables decorrelated into
 * joins (docs/SQL.md, "Correlated subqueries"). Called by sql_shape on a
 * SELECT before its tables get their inputs; it only rewrites the tree,
 * into shapes sqljoin.c already distributes (a co-partitioned join of two
 * tables, one of them derived).
 *
 * A top-level WHERE conjunct holding a correlated subquery whose tables
 * are too big to be read by every task becomes a join with a derived
 * table __pond_d over the subquery's FROM, joined on the correlating
 * equalities (outer column = inner expression):
 *   [NOT] EXISTS (…)        SEMI / ANTI join, other correlated conditions
 *                           in the ON (their inner columns projected);
 *   x IN (SELECT c …)       SEMI join, x = c in the ON;
 *   x NOT IN (SELECT c …)   ANTI join matching x = c, and any row when x
 *                           or c is NULL: exactly NOT IN's NULL semantics;
 *   (SELECT agg …)          __pond_d grouped by the inner keys, one row a
 *                           group: INNER join when the subquery is an
 *                           operand of a comparison and its value over no
 *                           rows is NULL, else LEFT join, an unmatched row
 *                           getting that value (count: 0).
 * The outer FROM stays as it is when it is one table and this is its only
 * such subquery; otherwise it becomes the derived table __pond_o (every
 * column of its tables, under names no two share, WHERE the other
 * conjuncts: another subquery among them is
 * decorrelated when __pond_o is planned), its tables' qualifiers in the
 * query renamed __pond_o. Anything else stays as written, and --explain
 * says why. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"

/* ---- scopes: which table a column reference reads ------------------------- */

typedef struct {
	const char *alias;
	const schema *cols;
} dtab;

typedef struct {
	dtab *t;
	size_t n;
} scope;

static const schema *base_cols(const sqlp *p, const sq_table *t)
{
	long k;

	if (t->kind != SQ_BASE || t->name[0] != '{' || t->qualified)
		return NULL;
	k = strtol(t->name + 1, NULL, 10);
	if (k < 0 || (size_t)k >= p->ntabs)
		return NULL;
	return p->tabs[k].src ? &p->tabs[k].src->schema : &p->tabs[k].node->schema;
}

/* The tables of a FROM of plain tables and joins (every column of each
 * visible: no SEMI/ANTI, USING or NATURAL joins); false for anything else. */
static bool scope_add(const sqlp *p, const sq_table *t, scope *s)
{
	const schema *c;

	if (!t)
		return false;
	if (t->kind == SQ_JOIN) {
		if ((strcmp(t->ref_type, "REGULAR") && strcmp(t->ref_type, "CROSS")) || t->nusing ||
		    (strcmp(t->join_type, "INNER") && strcmp(t->join_type, "LEFT") && strcmp(t->join_type, "RIGHT") &&
		     strcmp(t->join_type, "OUTER")))
			return false;
		return scope_add(p, t->left, s) && scope_add(p, t->right, s);
	}
	if (!(c = base_cols(p, t)) || t->sample || t->ncol_aliases || !*t->alias)
		return false;
	s->t = xgrow(s->t, s->n, sizeof(dtab));
	s->t[s->n++] = (dtab){ t->alias, c };
	return true;
}

static const char *col_type(const dtab *t, const char *name)
{
	for (size_t i = 0; i < t->cols->n; i++)
		if (!strcasecmp(t->cols->cols[i].name, name))
			return t->cols->cols[i].type;
	return NULL;
}

static int find_alias(const scope *s, const char *alias)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->t[i].alias, alias))
			return (int)i;
	return -1;
}

/* The table of s holding the column (the only one), or -1. */
static int holder(const scope *s, const char *name, size_t *count)
{
	int found = -1;

	*count = 0;
	for (size_t i = 0; i < s->n; i++)
		if (col_type(&s->t[i], name)) {
			found = (int)i;
			++*count;
		}
	return found;
}

enum { SIDE_INNER = 1, SIDE_OUTER = 2, SIDE_BAD = 4 };

/* Which query a column reference of the subquery reads (the subquery's
 * own tables first, as SQL scopes them), and its type. */
static int ref_side(const scope *in, const scope *out, const sq_expr *e, const char **type)
{
	size_t n;
	int i;

	*type = NULL;
	if (e->nnames == 1) {
		if ((i = holder(in, e->names[0], &n)) >= 0) {
			*type = n == 1 ? col_type(&in->t[i], e->names[0]) : NULL;
			return SIDE_INNER;
		}
		if ((i = holder(out, e->names[0], &n)) >= 0 && n == 1) {
			*type = col_type(&out->t[i], e->names[0]);
			return SIDE_OUTER;
		}
		return SIDE_BAD;
	}
	if (e->nnames != 2)
		return SIDE_BAD;
	if ((i = find_alias(in, e->names[0])) >= 0)
		return (*type = col_type(&in->t[i], e->names[1])) ? SIDE_INNER : SIDE_BAD;
	if (holder(in, e->names[0], &n) >= 0) /* a struct's field */
		return SIDE_BAD;
	if ((i = find_alias(out, e->names[0])) >= 0)
		return (*type = col_type(&out->t[i], e->names[1])) ? SIDE_OUTER : SIDE_BAD;
	return SIDE_BAD;
}

typedef struct {
	const scope *in, *out;
	int sides;
} sides_walk;

static bool visit_sides(sq_expr **slot, void *ctx)
{
	sides_walk *w = ctx;
	const sq_expr *e = *slot;
	const char *type;

	if (e->kind == SQ_SUBQUERY || e->kind == SQ_WINDOW || e->kind == SQ_STAR)
		w->sides |= SIDE_BAD;
	else if (e->kind == SQ_COLUMN)
		w->sides |= ref_side(w->in, w->out, e, &type);
	return true;
}

/* SIDE_* of every column e reads. */
static int sides_of(const scope *in, const scope *out, sq_expr *e)
{
	sides_walk w = { in, out, 0 };
	sq_visit(&e, visit_sides, &w);
	return w.sides;
}

/* ---- small helpers ------------------------------------------------------------ */

/* The first select item of "SELECT <text>", parsed by DuckDB. */
static sq_expr *parse_expr(sqlp *p, const char *text)
{
	char *sql = xasprintf("SELECT %s", text);
	pond_err quiet = { 0 };
	sq_query *q = NULL;
	sq_expr *e = NULL;

	if (!sqltree_parse(p->db, sql, &q, &quiet) && q->kind == SQ_SELECT && q->nselect == 1) {
		e = q->select[0];
		q->select[0] = sq_int(0);
	}
	sq_query_free(q);
	free(sql);
	return e;
}

/* left <type> JOIN right ON cond. */
static sq_table *join_of(sqlp *p, const char *type, sq_table *left, sq_table *right, sq_expr *cond)
{
	pond_err quiet = { 0 };
	sq_query *q = NULL;
	sq_table *j = NULL;

	if (!sqltree_parse(p->db, "SELECT * FROM a JOIN b ON true", &q, &quiet) && q->from &&
	    q->from->kind == SQ_JOIN) {
		j = q->from;
		q->from = NULL;
		sq_table_free(j->left);
		sq_table_free(j->right);
		sq_expr_free(j->cond);
		free(j->join_type);
		j->join_type = xstrdup(type);
		j->left = left;
		j->right = right;
		j->cond = cond;
	} else {
		sq_table_free(left);
		sq_table_free(right);
		sq_expr_free(cond);
	}
	sq_query_free(q);
	return j;
}

typedef struct {
	const sq_expr *target;
	sq_expr *with;
} replacer;

static bool visit_replace(sq_expr **slot, void *ctx)
{
	replacer *r = ctx;

	if (*slot != r->target)
		return true;
	sq_expr_free(*slot);
	*slot = r->with;
	r->with = NULL;
	return false;
}

/* The name of table i's column c in __pond_o: c, or __pond_<i>_<c> when
 * another table has a column of that name. Caller frees. */
static char *wrapped_name(const scope *out, int i, const char *c)
{
	size_t n;

	holder(out, c, &n);
	return n > 1 ? xasprintf("__pond_%d_%s", i, c) : xstrdup(c);
}

/* t.c -> __pond_o.<its name there> for every table t of the outer scope. */
static bool visit_outer_rename(sq_expr **slot, void *ctx)
{
	const scope *out = ctx;
	sq_expr *e = *slot;
	int i;

	if (e->kind == SQ_COLUMN && e->nnames == 2 && (i = find_alias(out, e->names[0])) >= 0) {
		char *name = wrapped_name(out, i, e->names[1]);
		free(e->names[0]);
		free(e->names[1]);
		e->names[0] = xstrdup("__pond_o");
		e->names[1] = name;
	}
	return true;
}

static bool is_int_type(const char *t)
{
	static const char *const ints[] = { "TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",  "HUGEINT",
					    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT" };

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (!strcmp(t, ints[i]))
			return true;
	return false;
}

/* __pond_x -> a copy of x. */
static bool visit_fill_x(sq_expr **slot, void *ctx)
{
	if ((*slot)->kind != SQ_COLUMN || (*slot)->nnames != 1 || strcmp((*slot)->names[0], "__pond_x"))
		return true;
	sq_expr *x = sq_expr_dup(ctx);
	sq_set_alias(x, (*slot)->alias); /* a struct_pack's field name */
	sq_expr_free(*slot);
	*slot = x;
	return false;
}

/* ---- one candidate: a conjunct and its subquery ------------------------------------ */

typedef enum { D_EXISTS, D_IN, D_SCALAR } dkind;

typedef struct {
	dkind kind;
	bool negated;
	sq_expr *sub;             /* the SUBQUERY node, inside the conjunct */
	scope in;                 /* the subquery's tables */
	sq_expr **ikeys, **okeys; /* inner expression = outer column */
	size_t nkeys;
	sq_expr **local; /* conditions on the subquery's tables alone */
	size_t nlocal;
	sq_expr **resid; /* other correlated conditions (EXISTS, IN) */
	size_t nresid;
	sq_expr **conds; /* the subquery's WHERE, flattened (borrowed) */
	size_t nconds;
} cand;

static void cand_release(cand *c)
{
	free(c->in.t);
	free(c->ikeys);
	free(c->okeys);
	free(c->local);
	free(c->resid);
	free(c->conds);
	memset(c, 0, sizeof(*c));
}

static void add_ptr(sq_expr ***v, size_t *n, sq_expr *e)
{
	*v = xgrow(*v, *n, sizeof(sq_expr *));
	(*v)[(*n)++] = e;
}

typedef struct {
	sq_expr *found;
	size_t n;
} sub_find;

static bool visit_find_sub(sq_expr **slot, void *ctx)
{
	sub_find *f = ctx;

	if ((*slot)->kind == SQ_SUBQUERY) {
		f->found = *slot;
		f->n++;
	}
	return true;
}

/* The largest table a FROM reads (its subqueries in FROM too). */
static int64_t from_bytes(const sqlp *p, const sq_table *t)
{
	int64_t a, b;
	long k;

	if (!t)
		return 0;
	if (t->kind == SQ_JOIN) {
		a = from_bytes(p, t->left);
		b = from_bytes(p, t->right);
		return a > b ? a : b;
	}
	if (t->kind == SQ_SUBQUERY_REF && t->subquery && t->subquery->kind == SQ_SELECT)
		return from_bytes(p, t->subquery->from);
	if (t->kind != SQ_BASE || t->name[0] != '{')
		return 0;
	k = strtol(t->name + 1, NULL, 10);
	return k >= 0 && (size_t)k < p->ntabs ? sql_tab_bytes(p, &p->tabs[k]) : 0;
}

/* Why the subquery's own shape cannot be decorrelated, or NULL. */
static const char *sub_shape(const sqlp *p, const cand *c, const sq_query *s)
{
	if (s->kind != SQ_SELECT || s->nctes)
		return "it is a set operation or has a WITH";
	if (s->having || s->qualify || s->sample || s->ndistinct_on || s->has_limit || s->odd_modifier ||
	    !s->plain_groups)
		return "it has HAVING, QUALIFY, LIMIT, DISTINCT ON or a sample";
	if (c->kind != D_SCALAR && (s->ngroups || s->group_all))
		return "it has a GROUP BY";
	if (c->kind == D_SCALAR && (s->ngroups || s->group_all || s->distinct))
		return "a scalar subquery with GROUP BY or DISTINCT";
	if (c->kind != D_EXISTS && s->nselect != 1)
		return "it has more than one column";
	for (size_t i = 0; i < s->nselect; i++) {
		if (sql_has_kind(s->select[i], SQ_SUBQUERY) || sql_has_kind(s->select[i], SQ_WINDOW))
			return "its select list has a subquery or a window function";
		if (c->kind != D_SCALAR && sql_has_agg(p, s->select[i]))
			return "its select list has an aggregate";
	}
	if (c->kind == D_SCALAR && !sql_has_agg(p, s->select[0]))
		return "a scalar subquery that does not aggregate (it could give more than one row)";
	if (s->where && sql_has_kind(s->where, SQ_SUBQUERY))
		return "it holds a subquery";
	return NULL;
}

/* Every table of a FROM of tables and joins named as in the plan-time
 * DuckDB; false for anything else. */
static bool plandb_names(sq_table *t, const sqlp *p)
{
	long k;

	if (t->kind == SQ_JOIN)
		return plandb_names(t->left, p) && plandb_names(t->right, p);
	if (t->kind != SQ_BASE || t->name[0] != '{')
		return false;
	k = strtol(t->name + 1, NULL, 10);
	if (k < 0 || (size_t)k >= p->ntabs)
		return false;
	free(t->name);
	t->name = xasprintf("__pond_n%d", p->tabs[k].src ? p->tabs[k].src->table : p->tabs[k].node->table);
	return true;
}

/* Whether DuckDB binds s on its own (then it is not correlated, and is
 * planned as a stage of its own); false also when pond cannot tell. */
static bool binds_alone(sqlp *p, const sq_query *s)
{
	sq_query *c = sq_query_dup(s);
	pond_err quiet = { 0 };
	char *text = plandb_names(c->from, p) ? sql_text(p, c) : NULL;
	bool ok = text && plandb_prepare(p->db, text, &quiet) == PDB_OK;

	sq_query_free(c);
	free(text);
	return ok;
}

/* 0: the conjunct is no candidate (no subquery, a small or uncorrelated
 * one); 1: c describes it; -1: it is a correlated subquery over a big
 * table that cannot be decorrelated (*why says why). */
static int analyze(sqlp *p, const scope *out, sq_expr *conj, cand *c, const char **why)
{
	sq_expr *e = conj;
	sub_find f = { NULL, 0 };
	const sq_query *s;

	memset(c, 0, sizeof(*c));
	if (e->kind == SQ_OTHER && !strcmp(e->type, "OPERATOR_NOT") && e->nargs == 1 &&
	    e->args[0]->kind == SQ_SUBQUERY) {
		c->negated = true;
		e = e->args[0];
	}
	if (e->kind == SQ_SUBQUERY && !strcmp(e->subquery_type, "EXISTS")) {
		c->kind = D_EXISTS;
	} else if (e->kind == SQ_SUBQUERY && !strcmp(e->subquery_type, "ANY") && e->nargs == 1) {
		if (strcmp(e->subquery_cmp, "COMPARE_EQUAL"))
			return 0;
		c->kind = D_IN;
	} else {
		sq_visit(&conj, visit_find_sub, &f);
		if (f.n != 1 || strcmp(f.found->subquery_type, "SCALAR"))
			return 0;
		e = f.found;
		c->kind = D_SCALAR;
		c->negated = false;
	}
	c->sub = e;
	s = e->subquery;
	if (!s || s->kind != SQ_SELECT || from_bytes(p, s->from) <= p->rq->broadcast_limit || binds_alone(p, s))
		return 0;
	if (!out->n)
		return *why = "the query's FROM is not plain tables joined (without USING, NATURAL, SEMI, ANTI)", -1;
	if (c->kind == D_IN && (sides_of(&c->in, out, e->args[0]) & ~SIDE_OUTER))
		return *why = "the left side of IN reads columns pond cannot place", -1;
	if ((*why = sub_shape(p, c, s)))
		return -1;
	if (!scope_add(p, s->from, &c->in))
		return *why = "its FROM is not plain tables joined", -1;
	if (s->where)
		sql_conjuncts(s->where, &c->conds, &c->nconds);
	for (size_t i = 0; i < c->nconds; i++) {
		sq_expr *x = c->conds[i];
		int side = sides_of(&c->in, out, x);
		if (side & SIDE_BAD)
			return *why = "it reads a column pond cannot place", -1;
		if (!(side & SIDE_OUTER)) {
			add_ptr(&c->local, &c->nlocal, x);
			continue;
		}
		if (x->kind == SQ_COMPARISON && !strcmp(x->type, "COMPARE_EQUAL") && x->nargs == 2) {
			for (int k = 0; k < 2; k++) {
				sq_expr *i_side = x->args[k], *o_side = x->args[1 - k];
				const char *it = NULL, *ot = NULL;
				if (sides_of(&c->in, out, i_side) != SIDE_INNER || o_side->kind != SQ_COLUMN ||
				    ref_side(&c->in, out, o_side, &ot) != SIDE_OUTER)
					continue;
				if (c->kind == D_SCALAR) {
					/* one group a key: keys must compare as they group */
					if (i_side->kind != SQ_COLUMN ||
					    ref_side(&c->in, out, i_side, &it) != SIDE_INNER || !it || !ot ||
					    (strcmp(it, ot) && !(is_int_type(it) && is_int_type(ot))))
						return *why = "a correlating equality between columns of other types",
						       -1;
				}
				add_ptr(&c->ikeys, &c->nkeys, i_side);
				c->nkeys--;
				add_ptr(&c->okeys, &c->nkeys, o_side);
				x = NULL;
				break;
			}
		}
		if (x && c->kind == D_SCALAR)
			return *why = "an aggregate under a correlated condition other than an equality of columns", -1;
		if (x)
			add_ptr(&c->resid, &c->nresid, x);
	}
	for (size_t i = 0; i < s->nselect; i++) {
		int side = sides_of(&c->in, out, s->select[i]);
		if (c->kind != D_EXISTS && (side & (SIDE_OUTER | SIDE_BAD)))
			return *why = "its select list reads the outer query", -1;
	}
	if (!c->nkeys)
		return *why = "it is correlated by no equality of an outer column", -1;
	return 1;
}

/* ---- the rewrite ----------------------------------------------------------------- */

typedef struct {
	const cand *c;
	const scope *out;
	bool wrap;
	sq_query *d; /* the derived table, getting __pond_r<j> items */
	sq_expr **taken;
	size_t ntaken;
} resid_walk;

/* In a condition moved to the ON: inner columns -> __pond_d.__pond_r<j>,
 * outer t.c -> __pond_o.c when the outer FROM is wrapped. */
static bool visit_resid(sq_expr **slot, void *ctx)
{
	resid_walk *w = ctx;
	sq_expr *e = *slot;
	const char *type;
	size_t j;
	char *name;

	if (e->kind != SQ_COLUMN)
		return true;
	if (ref_side(&w->c->in, w->out, e, &type) != SIDE_INNER)
		return w->wrap ? visit_outer_rename(slot, (void *)w->out) : true;
	for (j = 0; j < w->ntaken && !sq_expr_equal(w->taken[j], e); j++)
		;
	name = xasprintf("__pond_r%zu", j);
	if (j == w->ntaken) {
		sq_expr *item = sql_bare(e);
		sq_set_alias(item, name);
		sq_add_select(w->d, item);
		add_ptr(&w->taken, &w->ntaken, sq_expr_dup(e));
	}
	*slot = sq_column("__pond_d", name);
	sq_expr_free(e);
	free(name);
	return false;
}

static sq_expr *moved(sq_expr *e, resid_walk *w)
{
	sq_expr *x = sql_bare(e);
	sq_visit(&x, visit_resid, w);
	return x;
}

/* The scalar subquery's value over no rows, as text and DuckDB's type
 * (*text NULL: NULL); false when DuckDB cannot say. */
static bool empty_value(sqlp *p, const cand *c, char **text, char **type)
{
	const sq_query *s = c->sub->subquery;
	sq_query *q = sq_select_new();
	sq_expr *v = sql_bare(s->select[0]);
	pond_err quiet = { 0 };
	pdb_result r;
	char *inner, *sql;
	bool ok = false;

	sq_set_alias(v, "v");
	sq_add_select(q, v);
	sq_table_free(q->from);
	q->from = sq_table_dup(s->from);
	q->where = parse_expr(p, "false");
	*text = *type = NULL;
	inner = plandb_names(q->from, p) && q->where ? sql_text(p, q) : NULL;
	sq_query_free(q);
	if (!inner)
		return false;
	sql = xasprintf("SELECT CAST(v AS VARCHAR), typeof(v) FROM (%s)", inner);
	if (plandb_query(p->db, sql, &r, &quiet) == PDB_OK) {
		if (r.nrows == 1 && pdb_cell(&r, 0, 1)) {
			*text = pdb_cell(&r, 0, 0) ? xstrdup(pdb_cell(&r, 0, 0)) : NULL;
			*type = xstrdup(pdb_cell(&r, 0, 1));
			ok = !strpbrk(*type, "'\";");
		}
		pdb_result_release(&r);
	}
	free(sql);
	free(inner);
	return ok;
}

static bool is_plain_comparison(const sq_expr *conj, const sq_expr *sub)
{
	static const char *const cmps[] = {
		"COMPARE_EQUAL",       "COMPARE_NOTEQUAL",          "COMPARE_LESSTHAN",
		"COMPARE_GREATERTHAN", "COMPARE_LESSTHANOREQUALTO", "COMPARE_GREATERTHANOREQUALTO"
	};

	if (conj->kind != SQ_COMPARISON || conj->nargs != 2 || (conj->args[0] != sub && conj->args[1] != sub))
		return false;
	for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++)
		if (!strcmp(conj->type, cmps[i]))
			return true;
	return false;
}

/* x IN / NOT IN's condition in the ON, c's column added to d. */
static sq_expr *in_condition(sqlp *p, const cand *c, sq_query *d, const scope *out, bool wrap)
{
	sq_expr *item = sql_bare(c->sub->subquery->select[0]), *x = sql_bare(c->sub->args[0]), *t;

	sq_set_alias(item, "__pond_c");
	sq_add_select(d, item);
	if (wrap)
		sq_visit(&x, visit_outer_rename, (void *)out);
	if (!c->negated)
		return sq_compare("COMPARE_EQUAL", x, sq_column("__pond_d", "__pond_c"));
	/* each pair of a key's rows is compared: fewer rows, once distinct,
	 * for a hot key with few values */
	d->distinct = true;
	/* NOT IN: no inner row equal to x, none NULL, and x not NULL unless
	 * there is no inner row at all; said as comparisons of one side with
	 * the other (a NULL sorts first on one side, last on the other, so it
	 * meets everything) for DuckDB's hash join to keep it */
	t = parse_expr(p,
		       "{'t': CASE WHEN __pond_x IS NULL THEN 0 ELSE 1 END, 'v': __pond_x} <= "
		       "{'t': CASE WHEN __pond_d.__pond_c IS NULL THEN 2 ELSE 1 END, 'v': __pond_d.__pond_c} AND "
		       "{'t': CASE WHEN __pond_x IS NULL THEN 2 ELSE 1 END, 'v': __pond_x} >= "
		       "{'t': CASE WHEN __pond_d.__pond_c IS NULL THEN 0 ELSE 1 END, 'v': __pond_d.__pond_c}");
	if (t)
		sq_visit(&t, visit_fill_x, x);
	sq_expr_free(x);
	return t;
}

/* A scalar subquery: its value __pond_v added to d, the join's type, and
 * what replaces the subquery in its conjunct. */
static bool scalar_value(sqlp *p, const cand *c, const sq_expr *conj, sq_query *d, const char **type, sq_expr **value,
			 const char **why)
{
	sq_expr *v = sql_bare(c->sub->subquery->select[0]);
	char *text = NULL, *vtype = NULL;
	sb b = SB_INIT;

	sq_set_alias(v, "__pond_v");
	sq_add_select(d, v);
	if (!empty_value(p, c, &text, &vtype)) {
		free(text);
		free(vtype);
		*why = "DuckDB could not say its value over no rows";
		return false;
	}
	*type = !text && is_plain_comparison(conj, c->sub) ? "INNER" : "LEFT";
	if (text) {
		sb_add(&b, "CASE WHEN __pond_d.__pond_k0 IS NULL THEN CAST(");
		sb_sql_str(&b, text);
		sb_addf(&b, " AS %s) ELSE __pond_d.__pond_v END", vtype);
		*value = parse_expr(p, sb_str(&b));
	} else {
		*value = sq_column("__pond_d", "__pond_v");
	}
	sb_release(&b);
	free(text);
	free(vtype);
	if (!*value)
		*why = "its value over no rows could not be written";
	return *value != NULL;
}

/* The derived table __pond_d, the ON and the join type for candidate c;
 * for a scalar subquery, *value replaces it in its conjunct. False (and
 * *why) when it cannot be built. */
static bool build(sqlp *p, const cand *c, sq_expr *conj, const scope *out, bool wrap, sq_table **right, sq_expr **on,
		  const char **type, sq_expr **value, const char **why)
{
	const sq_query *s = c->sub->subquery;
	sq_query *d = sq_select_new();
	resid_walk w = { c, out, wrap, d, NULL, 0 };
	sq_expr *cond = NULL;

	*value = NULL;
	sq_table_free(d->from);
	d->from = sq_table_dup(s->from);
	for (size_t i = 0; i < c->nlocal; i++)
		d->where = sq_and(d->where, sql_bare(c->local[i]));
	for (size_t i = 0; i < c->nkeys; i++) {
		char *name = xasprintf("__pond_k%zu", i);
		sq_expr *k = sql_bare(c->ikeys[i]), *o = sql_bare(c->okeys[i]);
		if (c->kind == D_SCALAR)
			sq_add_group(d, sql_bare(c->ikeys[i]));
		sq_set_alias(k, name);
		sq_add_select(d, k);
		if (wrap)
			sq_visit(&o, visit_outer_rename, (void *)out);
		cond = sq_and(cond, sq_compare("COMPARE_EQUAL", o, sq_column("__pond_d", name)));
		free(name);
	}
	for (size_t i = 0; i < c->nresid; i++)
		cond = sq_and(cond, moved(c->resid[i], &w));
	if (c->kind == D_IN) {
		sq_expr *t = in_condition(p, c, d, out, wrap);
		if (!t)
			goto fail;
		cond = sq_and(cond, t);
	}
	if (c->kind == D_EXISTS) {
		*type = c->negated ? "ANTI" : "SEMI";
		if (!d->nselect)
			sq_add_select(d, sq_int(1));
	} else if (c->kind == D_IN) {
		*type = c->negated ? "ANTI" : "SEMI";
	} else if (!scalar_value(p, c, conj, d, type, value, why)) {
		goto fail;
	}
	for (size_t i = 0; i < w.ntaken; i++)
		sq_expr_free(w.taken[i]);
	free(w.taken);
	*right = sq_subquery_table(d, "__pond_d");
	*on = cond;
	return true;
fail:
	for (size_t i = 0; i < w.ntaken; i++)
		sq_expr_free(w.taken[i]);
	free(w.taken);
	sq_query_free(d);
	sq_expr_free(cond);
	return false;
}

/* ---- the keys an outer row can have ---------------------------------------------- */

/* __pond_d matters only for keys some outer row carries. When an outer
 * key column's table T is small and the outer WHERE filters T by
 * conjuncts over T alone, each such key is one of T's rows passing them;
 * so __pond_d's FROM gets `SEMI JOIN T ON <inner key> = <T's key> AND
 * <those conjuncts>`. That keeps every inner row whose keys an outer row
 * can meet, whatever the join (INNER, LEFT, SEMI, ANTI: a row it drops
 * meets no outer row), and T, small, is broadcast. DuckDB computes a
 * correlated subquery the same way, for the outer rows' keys only (its
 * DELIM_JOIN); TPC-H Q17's per-part average over lineitem then runs for
 * Brand#23's MED BOX parts, not all 200K. Done when the subquery reads
 * one table (see keys_filter). */

typedef struct {
	const scope *in, *out;
	int t; /* the outer table the columns must read */
	bool bad;
} only_walk;

/* Whether column reference e reads outer table w->t, and would read it
 * inside __pond_d too (no inner table has a column or alias of its name). */
static bool visit_only(sq_expr **slot, void *ctx)
{
	only_walk *w = ctx;
	const sq_expr *e = *slot;
	size_t n;

	if (e->kind != SQ_COLUMN)
		return true;
	if (e->nnames == 1)
		w->bad |= holder(w->out, e->names[0], &n) != w->t || n != 1 || holder(w->in, e->names[0], &n) >= 0;
	else
		w->bad |= e->nnames != 2 || find_alias(w->out, e->names[0]) != w->t;
	return !w->bad;
}

static bool reads_only(const scope *in, const scope *out, int t, sq_expr *e)
{
	only_walk w = { in, out, t, false };

	sq_visit(&e, visit_only, &w);
	return !w.bad;
}

typedef struct {
	const dtab *t;
	bool shadowed;
} shadow_walk;

static bool visit_shadowed(sq_expr **slot, void *ctx)
{
	shadow_walk *w = ctx;
	const sq_expr *e = *slot;

	w->shadowed |= e->kind == SQ_COLUMN && e->nnames == 1 && col_type(w->t, e->names[0]);
	return !w->shadowed;
}

/* Whether no inner key names a column of t unqualified (beside t in
 * __pond_d's FROM, it could be ambiguous). */
static bool keys_stay_inner(const cand *c, const dtab *t)
{
	shadow_walk w = { t, false };

	for (size_t i = 0; i < c->nkeys && !w.shadowed; i++)
		sq_visit(&c->ikeys[i], visit_shadowed, &w);
	return !w.shadowed;
}

typedef struct {
	sqlp *p;
	bool alone;
} alone_walk;

static bool visit_alone(sq_expr **slot, void *ctx)
{
	alone_walk *w = ctx;

	if ((*slot)->kind == SQ_SUBQUERY)
		w->alone &= (*slot)->subquery && binds_alone(w->p, (*slot)->subquery);
	return w->alone;
}

/* Whether outer conjunct e may be copied into the SEMI join's ON: the same
 * value each time, and every subquery in it uncorrelated (TPC-H Q20's
 * `ps_partkey IN (SELECT p_partkey FROM part WHERE …)`): reads_only does
 * not look into a subquery, which must then read nothing of the outer
 * query's. */
static bool copyable(sqlp *p, sq_expr *e)
{
	alone_walk w = { p, true };

	if (!sql_volatile(e))
		return true;
	if (!sql_same_each_time(p, e))
		return false;
	sq_visit(&e, visit_alone, &w);
	return w.alone;
}

/* The outer table a key column reads, or -1. */
static int key_table(const scope *out, const sq_expr *o)
{
	size_t n;
	int i;

	if (o->nnames == 1)
		return (i = holder(out, o->names[0], &n)) >= 0 && n == 1 ? i : -1;
	return o->nnames == 2 ? find_alias(out, o->names[0]) : -1;
}

static const sq_table *find_table(const sq_table *t, const char *alias)
{
	const sq_table *x;

	if (t->kind == SQ_JOIN)
		return (x = find_table(t->left, alias)) ? x : find_table(t->right, alias);
	return t->kind == SQ_BASE && !strcasecmp(t->alias, alias) ? t : NULL;
}

static bool selected(const sq_query *q, const sq_expr *e)
{
	for (size_t i = 0; i < q->nselect; i++)
		if (sq_expr_equal(q->select[i], e))
			return true;
	return false;
}

/* d's FROM semi-joined with one small outer table's filtered keys, when
 * one qualifies; its name, or NULL. */
static const char *keys_filter(sqlp *p, const cand *c, sq_query *d, const sq_table *from, sq_expr **conj, size_t nconj,
			       size_t pick, const scope *out)
{
	/* one table: `a, b SEMI JOIN t ON …` would be read back as
	 * `a, (b SEMI JOIN t ON …)`, and the ON could not see a */
	if (d->from->kind != SQ_BASE)
		return NULL;
	for (size_t k = 0; k < c->nkeys; k++) {
		int t = key_table(out, c->okeys[k]);
		const sq_table *base = t >= 0 ? find_table(from, out->t[t].alias) : NULL;
		sq_expr *on = NULL, *filter = NULL;
		sq_table *j;

		if (!base || find_alias(&c->in, out->t[t].alias) >= 0 ||
		    sql_tab_bytes(p, &p->tabs[strtol(base->name + 1, NULL, 10)]) > p->rq->broadcast_limit ||
		    !keys_stay_inner(c, &out->t[t]))
			continue;
		for (size_t i = 0; i < nconj; i++)
			if (i != pick && reads_only(&c->in, out, t, conj[i]) && copyable(p, conj[i]))
				filter = sq_and(filter, sq_expr_dup(conj[i]));
		if (!filter)
			continue;
		for (size_t i = 0; i < c->nkeys; i++)
			if (key_table(out, c->okeys[i]) == t)
				on = sq_and(on,
					    sq_compare("COMPARE_EQUAL", sql_bare(c->ikeys[i]), sql_bare(c->okeys[i])));
		if (sql_volatile(filter)) {
			/* a subquery in an ON is not planned: the table filtered
			 * in a derived table of its own, planned on its own,
			 * with the key columns alone (the rest of a row may be
			 * most of the table: partsupp's ps_comment) */
			sq_query *f = sq_select_new();
			for (size_t i = 0; i < c->nkeys; i++)
				if (key_table(out, c->okeys[i]) == t && !selected(f, c->okeys[i]))
					sq_add_select(f, sql_bare(c->okeys[i]));
			sq_table_free(f->from);
			f->from = sq_table_dup(base);
			f->where = filter;
			j = join_of(p, "SEMI", d->from, sq_subquery_table(f, out->t[t].alias), on);
		} else {
			j = join_of(p, "SEMI", d->from, sq_table_dup(base), sq_and(on, filter));
		}
		if (!j) /* it took d's FROM: put the subquery's back */
			d->from = sq_table_dup(c->sub->subquery->from);
		else
			d->from = j;
		return j ? out->t[t].alias : NULL;
	}
	return NULL;
}

/* ---- the driver --------------------------------------------------------------------- */

/* Whether the outer FROM can become __pond_o (every column of its
 * tables, under names no two share): no WITH, no * and no subquery
 * elsewhere in the query (they would still name its tables). */
static const char *wrap_refusal(const sq_query *q)
{
	sq_expr **single[] = { &((sq_query *)q)->having, &((sq_query *)q)->qualify };

	if (q->nctes)
		return "the query has a WITH";
	for (size_t i = 0; i < q->nselect; i++)
		if (sql_has_kind(q->select[i], SQ_STAR) || sql_has_kind(q->select[i], SQ_SUBQUERY))
			return "its select list has a * or a subquery";
	for (size_t i = 0; i < q->ngroups; i++)
		if (sql_has_kind(q->groups[i], SQ_SUBQUERY))
			return "its GROUP BY has a subquery";
	for (size_t i = 0; i < q->norders; i++)
		if (sql_has_kind(q->orders[i].e, SQ_SUBQUERY))
			return "its ORDER BY has a subquery";
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (*single[i] && sql_has_kind(*single[i], SQ_SUBQUERY))
			return "its HAVING or QUALIFY has a subquery";
	return NULL;
}

static void rename_outer(sq_query *q, const scope *out)
{
	sq_expr **single[] = { &q->where, &q->having, &q->qualify };

	for (size_t i = 0; i < q->nselect; i++) {
		sq_expr *e = q->select[i];
		/* a column keeps its name (ORDER BY, GROUP BY may use it) */
		if (e->kind == SQ_COLUMN && !*e->alias)
			sq_set_alias(e, e->names[e->nnames - 1]);
		sq_visit(&q->select[i], visit_outer_rename, (void *)out);
	}
	for (size_t i = 0; i < q->ngroups; i++)
		sq_visit(&q->groups[i], visit_outer_rename, (void *)out);
	for (size_t i = 0; i < q->norders; i++)
		sq_visit(&q->orders[i].e, visit_outer_rename, (void *)out);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		sq_visit(single[i], visit_outer_rename, (void *)out);
}

/* __pond_o: every column of the outer FROM's tables, under a name no
 * other has, filtered by where (taken). */
static sq_table *wrapped_from(sq_table *from, sq_expr *where, const scope *out)
{
	sq_query *inner = sq_select_new();

	for (size_t t = 0; t < out->n; t++)
		for (size_t k = 0; k < out->t[t].cols->n; k++) {
			const char *c = out->t[t].cols->cols[k].name;
			sq_expr *col = sq_column(out->t[t].alias, c);
			char *name = wrapped_name(out, (int)t, c);
			sq_set_alias(col, name);
			sq_add_select(inner, col);
			free(name);
		}
	sq_table_free(inner->from);
	inner->from = from;
	inner->where = where;
	return sq_subquery_table(inner, "__pond_o");
}

/* q's FROM becomes the join j (its left side still empty) with the
 * FROM, or __pond_o, on the left; its WHERE the conjuncts that stay: all
 * but the subquery's, which a scalar subquery's value replaces. Takes j
 * and value. */
static void rewrite(sq_query *q, sq_expr **conj, size_t nconj, size_t pick, const cand *first, bool wrap,
		    const scope *out, sq_table *j, sq_expr *value)
{
	sq_expr *where = NULL, *kept = NULL;

	for (size_t i = 0; i < nconj; i++) {
		if (i != pick) {
			where = sq_and(where, sq_expr_dup(conj[i]));
		} else if (first->kind == D_SCALAR) {
			/* the copy's subquery node: the only one in it */
			sub_find f = { NULL, 0 };
			replacer r = { NULL, value };
			kept = sq_expr_dup(conj[i]);
			sq_visit(&kept, visit_find_sub, &f);
			r.target = f.found;
			sq_visit(&kept, visit_replace, &r);
			value = r.with;
		}
	}
	sq_expr_free(value);
	if (wrap) {
		j->left = wrapped_from(q->from, where, out);
		where = NULL;
	} else {
		j->left = q->from;
	}
	q->from = j;
	sq_expr_free(q->where);
	q->where = sq_and(where, kept);
	if (wrap)
		rename_outer(q, out);
}

static const char *const kind_names[] = { "EXISTS", "IN", "a scalar aggregate" };

static void refuse(sqlp *p, const char *why)
{
	sql_not(p,
		"a correlated subquery over a table too big to be read by every task could not be "
		"decorrelated into a join: %s",
		why);
}

bool sql_decorrelate(sqlp *p, sq_query *q)
{
	sq_expr **conj = NULL, *value = NULL, *on = NULL;
	size_t nconj = 0, pick = 0, ncand = 0, ncoloc = 0;
	scope out = { NULL, 0 };
	cand c = { 0 }, first = { 0 };
	const char *why = NULL, *type = NULL, *semi;
	sq_table *right = NULL, *j;
	bool wrap, done = false;

	if (q->kind != SQ_SELECT || !q->where || !q->from)
		return false;
	if (!scope_add(p, q->from, &out)) {
		free(out.t);
		out = (scope){ NULL, 0 }; /* every outer column unknown: nothing decorrelates */
	}
	sql_conjuncts(q->where, &conj, &nconj);
	for (size_t i = 0; i < nconj; i++) {
		const char *w = NULL;
		sub_find f = { NULL, 0 };
		int r;
		sq_visit(&conj[i], visit_find_sub, &f);
		if (f.n == 1 && sql_colocatable(p, q, f.found)) {
			ncoloc++; /* each task evaluates it over its own part */
			continue;
		}
		r = analyze(p, &out, conj[i], &c, &w);
		if (r < 0 && !why)
			why = w;
		if (r > 0 && !ncand++) {
			pick = i;
			first = c;
			continue;
		}
		cand_release(&c);
	}
	if (!ncand) {
		if (why)
			refuse(p, why);
		goto out;
	}
	/* a co-located subquery needs its table split by files: with a join
	 * in the FROM it would be hashed, so it goes into __pond_o too */
	wrap = q->from->kind != SQ_BASE || ncand + ncoloc > 1;
	if (wrap && (why = wrap_refusal(q))) {
		refuse(p, why);
		goto out;
	}
	if (first.kind == D_SCALAR && !wrap)
		for (size_t i = 0; i < q->nselect; i++)
			if (sql_has_kind(q->select[i], SQ_STAR)) {
				refuse(p, "the query's select list has a *");
				goto out;
			}
	if (!build(p, &first, conj[pick], &out, wrap, &right, &on, &type, &value, &why)) {
		refuse(p, why ? why : "its join could not be written");
		goto out;
	}
	semi = keys_filter(p, &first, right->subquery, q->from, conj, nconj, pick, &out);
	j = join_of(p, type, NULL, right, on); /* takes right and on */
	right = NULL;
	on = NULL;
	if (!j) {
		refuse(p, "its join could not be written");
		goto out;
	}
	rewrite(q, conj, nconj, pick, &first, wrap, &out, j, value);
	value = NULL;
	sql_note(p, "%s%s (correlated, over a big table): decorrelated into %s %s join with it on %zu key%s%s",
		 first.negated ? "NOT " : "", kind_names[first.kind], strchr("AEIOU", type[0]) ? "an" : "a", type,
		 first.nkeys, first.nkeys == 1 ? "" : "s", wrap ? ", the rest of the query a derived table" : "");
	if (semi)
		sql_note(p, "  its rows only for keys of %s's rows the query keeps (a SEMI join with it, broadcast)",
			 semi);
	done = true;
out:
	sq_expr_free(value);
	sq_expr_free(on);
	sq_table_free(right);
	cand_release(&first);
	free(conj);
	free(out.t);
	return done;
}
