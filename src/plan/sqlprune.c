/* sqlprune.c — what a co-partitioned table ships through its shuffle
 * (docs/SQL.md, "Joins"): only the columns the query reads of it, and
 * only its rows that can meet the join.
 *
 * A conjunct is pushed into the table's shuffle when every row it
 * removes would have been dropped anyway:
 * - a WHERE conjunct over the table's columns alone, when no outer join
 *   above the table supplies NULLs for it (then the WHERE drops the rows
 *   it is not true on);
 * - an ON conjunct over the table's columns alone, when the table is a
 *   direct side of that join whose unmatched rows the join does not keep
 *   (either side of an inner join, the right of LEFT/SEMI/ANTI, the left
 *   of RIGHT): a row it is not true on matches nothing (TPC-H Q13's
 *   `o_comment NOT LIKE …` in a LEFT JOIN's ON).
 * Conjuncts with subqueries, window functions or volatile functions are
 * not pushed. The columns are those any column reference of the query
 * names, apart from the pushed conjuncts; a `*`, a subquery or a
 * reference to the table itself keeps them all. Once the table's input
 * is final and is such a filtered side, sql_drop_pushed takes the pushed
 * conjuncts out of the query (each is true on every row the side ships):
 * Q13's `o_comment` is then not shipped at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"

typedef struct {
	const shape *s;
	const sql_leaf *l; /* NULL: any table's column of that name */
	const schema *cols;
	bool *keep;
	bool all;
	const sq_table *from_aliases; /* without l: the FROM, whose aliases name whole rows */
	sq_expr ***skip;              /* with l: the pushed conjuncts, not counted */
	size_t nskip;
} col_use;

/* The conjuncts over one leaf alone pushed into its side: their slots in
 * the shape's query (their SQL goes to the caller's `where`). */
typedef struct {
	sq_expr ***slots;
	size_t n;
} pushed;

static bool alias_in(const sq_table *t, const char *name)
{
	if (t->kind == SQ_JOIN)
		return alias_in(t->left, name) || alias_in(t->right, name);
	return (t->alias && !strcasecmp(t->alias, name)) ||
	       (t->kind == SQ_BASE && t->name && !strcasecmp(t->name, name));
}

static void note_name(col_use *u, const char *name)
{
	for (size_t c = 0; c < u->cols->n; c++)
		if (!strcasecmp(name, u->cols->cols[c].name))
			u->keep[c] = true;
}

static bool note_use(sq_expr **slot, void *ctx)
{
	col_use *u = ctx;
	const sq_expr *e = *slot;

	for (size_t i = 0; i < u->nskip; i++)
		if (*u->skip[i] == e)
			return false;
	if (e->kind == SQ_SUBQUERY || e->kind == SQ_STAR) {
		u->all = true;
		return false;
	}
	if (e->kind != SQ_COLUMN)
		return true;
	if (!u->l) { /* a whole query's columns (sql_query_reads) */
		if (e->nnames == 1 && u->from_aliases && alias_in(u->from_aliases, e->names[0]))
			u->all = true; /* a table's whole row */
		for (size_t k = 0; k < e->nnames; k++)
			note_name(u, e->names[k]);
		return !u->all;
	}
	if (e->nnames == 1 && !strcasecmp(e->names[0], u->l->alias))
		u->all = true;
	if (e->nnames >= 2 && strcasecmp(e->names[0], u->l->alias))
		for (size_t i = 0; i < u->s->nfrom; i++)
			if (!strcasecmp(e->names[0], u->s->leaves[i].alias))
				return true; /* another table's column */
	for (size_t k = 0; k < e->nnames; k++)
		note_name(u, e->names[k]);
	return !u->all;
}

static void use_table(col_use *u, sq_table *t)
{
	if (!t || t->kind != SQ_JOIN)
		return;
	if (t->cond)
		sq_visit(&t->cond, note_use, u);
	for (size_t i = 0; i < t->nusing; i++)
		note_name(u, t->using[i]);
	if (strcmp(t->ref_type, "REGULAR") && strcmp(t->ref_type, "CROSS"))
		u->all = true; /* NATURAL, ASOF, …: columns matched by name */
	use_table(u, t->left);
	use_table(u, t->right);
}

static void use_query(col_use *u, sq_query *q)
{
	sq_expr **single[] = { &q->where, &q->having, &q->qualify, &q->limit, &q->offset };

	for (size_t i = 0; i < q->nselect; i++)
		sq_visit(&q->select[i], note_use, u);
	for (size_t i = 0; i < q->ngroups; i++)
		sq_visit(&q->groups[i], note_use, u);
	for (size_t i = 0; i < q->norders; i++)
		sq_visit(&q->orders[i].e, note_use, u);
	for (size_t i = 0; i < q->ndistinct_on; i++)
		sq_visit(&q->distinct_on[i], note_use, u);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		sq_visit(single[i], note_use, u);
	if (q->nctes) /* inlined before; one left could name anything */
		u->all = true;
	use_table(u, q->from);
}

/* Whether every table of the FROM is a base table or a join of them: the
 * column references of the query are then all it reads of them. */
static bool plain_from(const sq_table *t)
{
	if (t->kind == SQ_JOIN)
		return plain_from(t->left) && plain_from(t->right);
	return t->kind == SQ_BASE;
}

bool sql_query_reads(sq_query *q, const schema *cols, bool *keep)
{
	col_use u = { NULL, NULL, cols, NULL, false, q->from, NULL, 0 };

	u.keep = keep; /* written through by use_query */
	if (q->kind != SQ_SELECT || !q->from || !plain_from(q->from))
		return false;
	use_query(&u, q);
	return !u.all;
}

/* ---- the conjuncts -------------------------------------------------------------- */

static bool volatile_name(const char *fname)
{
	static const char *const names[] = { "random", "gen_random_uuid", "uuid",   "uuidv4",
					     "uuidv7", "nextval",         "setseed" };

	for (size_t i = 0; fname && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(fname, names[i]))
			return true;
	return false;
}

static bool volatile_call(sq_expr **slot, void *ctx)
{
	bool *found = ctx;
	const sq_expr *e = *slot;

	*found |= e->kind == SQ_WINDOW || e->kind == SQ_SUBQUERY || (e->kind == SQ_FUNCTION && volatile_name(e->fname));
	return !*found;
}

/* ---- the same, looking into subqueries ---------------------------------------------- */

typedef struct {
	const sqlp *p;
	bool same;
} same_walk;

static bool query_same(same_walk *w, sq_query *q);

static bool same_node(sq_expr **slot, void *ctx)
{
	same_walk *w = ctx;
	const sq_expr *e = *slot;

	w->same &= e->kind != SQ_WINDOW && !(e->kind == SQ_FUNCTION && volatile_name(e->fname)) &&
		   !sql_is_agg(w->p, e) && (e->kind != SQ_SUBQUERY || (e->subquery && query_same(w, e->subquery)));
	return w->same;
}

static bool exprs_same(same_walk *w, sq_expr **v, size_t n)
{
	for (size_t i = 0; i < n && w->same; i++)
		sq_visit(&v[i], same_node, w);
	return w->same;
}

static bool table_same(same_walk *w, sq_table *t)
{
	if (!t)
		return true;
	if (t->sample)
		return false;
	switch (t->kind) {
	case SQ_BASE:
		return true;
	case SQ_JOIN:
		return table_same(w, t->left) && table_same(w, t->right) && exprs_same(w, &t->cond, 1);
	case SQ_SUBQUERY_REF:
		return query_same(w, t->subquery);
	case SQ_TABLE_FUNCTION: /* read_parquet(…) and the like: their arguments */
		return exprs_same(w, &t->func, 1);
	case SQ_EMPTY:
	case SQ_TABLE_OTHER:
		break;
	}
	return false;
}

/* Rows that LIMIT, OFFSET or DISTINCT ON pick, and the values aggregates
 * give (first(), a sum of doubles: the order rows come in), may differ
 * from one evaluation to the next: not the same. */
static bool query_same(same_walk *w, sq_query *q)
{
	sq_expr *single[] = { q->where, q->qualify };

	if (q->limit || q->offset || q->ndistinct_on || q->ngroups || q->having)
		return w->same = false;
	for (size_t i = 0; i < q->nctes && w->same; i++)
		query_same(w, q->ctes[i].query);
	for (size_t i = 0; i < q->norders && w->same; i++)
		exprs_same(w, &q->orders[i].e, 1);
	if (!w->same || !exprs_same(w, single, 2))
		return false;
	if (q->kind == SQ_SETOP)
		return query_same(w, q->left) && query_same(w, q->right);
	return w->same = q->kind == SQ_SELECT && table_same(w, q->from) && exprs_same(w, q->select, q->nselect);
}

bool sql_same_each_time(const sqlp *p, sq_expr *e)
{
	same_walk w = { p, true };

	return exprs_same(&w, &e, 1);
}

bool sql_volatile(sq_expr *e)
{
	bool found = false;

	sq_visit(&e, volatile_call, &found);
	return found;
}

typedef struct {
	const shape *s;
	int leaf;
	bool other; /* a column of another table, or one not known */
	bool any;   /* a column at all */
} only_finder;

static bool note_only(sq_expr **slot, void *ctx)
{
	only_finder *f = ctx;

	if ((*slot)->kind != SQ_COLUMN)
		return true;
	f->any = true;
	f->other |= sql_leaf_of(f->s, *slot) != f->leaf;
	return !f->other;
}

/* Whether conjunct e reads the leaf's columns and nothing else. */
static bool only_leaf(const shape *s, int leaf, sq_expr *e)
{
	only_finder f = { s, leaf, false, false };

	if (sql_volatile(e))
		return false;
	sq_visit(&e, note_only, &f);
	return f.any && !f.other;
}

static void add_conjuncts(const shape *s, int leaf, sq_expr **slot, sb *b, pushed *p)
{
	pond_err quiet = { 0 };
	char *text = NULL;
	sq_expr *e = *slot;

	if (!e)
		return;
	if (e->kind == SQ_CONJUNCTION && !strcmp(e->type, "CONJUNCTION_AND")) {
		for (size_t i = 0; i < e->nargs; i++)
			add_conjuncts(s, leaf, &e->args[i], b, p);
		return;
	}
	if (!only_leaf(s, leaf, e) || sqltree_expr_sql(s->p->db, e, &text, &quiet))
		return;
	sb_addf(b, "%s(%s)", b->len ? " AND " : "", text);
	free(text);
	p->slots = xgrow(p->slots, p->n, sizeof(sq_expr **));
	p->slots[p->n++] = slot;
}

static bool is_leaf(const sq_table *t, int leaf)
{
	char name[32];

	snprintf(name, sizeof(name), "{%d}", leaf);
	return t->kind == SQ_BASE && !strcmp(t->name, name);
}

static bool is_type(const sq_table *j, const char *type)
{
	return !strcmp(j->join_type, type);
}

/* Whether an outer join above (or at) the leaf supplies NULLs for it. */
static bool null_supplied(const sq_table *t, int leaf, bool *found)
{
	bool l, r;

	if (t->kind != SQ_JOIN) {
		*found = is_leaf(t, leaf);
		return false;
	}
	/* by the join types that do not (DuckDB says FULL, not OUTER);
	 * a SEMI/ANTI join's right side is not the WHERE's */
	l = null_supplied(t->left, leaf, found);
	if (*found)
		return l || !(is_type(t, "INNER") || is_type(t, "LEFT") || is_type(t, "SEMI") || is_type(t, "ANTI"));
	r = null_supplied(t->right, leaf, found);
	if (*found)
		return r || !(is_type(t, "INNER") || is_type(t, "RIGHT"));
	return false;
}

bool sql_leaf_kept(const shape *s, int leaf)
{
	bool found = false;

	return !null_supplied(s->w->from, leaf, &found) && found;
}

/* ON conjuncts of joins where the leaf is a direct side whose unmatched
 * rows the join drops. */
static void on_conjuncts(const shape *s, int leaf, sq_table *t, sb *b, pushed *p)
{
	bool left, right, inner;

	if (t->kind != SQ_JOIN)
		return;
	left = is_leaf(t->left, leaf);
	right = is_leaf(t->right, leaf);
	inner = !strcmp(t->join_type, "INNER") && !strcmp(t->ref_type, "REGULAR");
	if (t->cond && ((left && (inner || !strcmp(t->join_type, "RIGHT"))) ||
			(right && (inner || !strcmp(t->join_type, "LEFT") || !strcmp(t->join_type, "SEMI") ||
				   !strcmp(t->join_type, "ANTI")))))
		add_conjuncts(s, leaf, &t->cond, b, p);
	on_conjuncts(s, leaf, t->left, b, p);
	on_conjuncts(s, leaf, t->right, b, p);
}

/* The conjuncts over leaf alone whose false rows the query drops anyway
 * (the header's two kinds), into *p and as SQL into `where`. */
static void pushable(shape *s, int leaf, sb *where, pushed *p)
{
	bool found = false;

	if (!null_supplied(s->w->from, leaf, &found) && found)
		add_conjuncts(s, leaf, &s->w->where, where, p);
	on_conjuncts(s, leaf, s->w->from, where, p);
}

size_t sql_side_filter(shape *s, int leaf, sb *cols, sb *where)
{
	const sql_leaf *l = &s->leaves[leaf];
	const schema *sc = sql_leaf_cols(l);
	col_use u = { s, l, sc, xcalloc(sc->n + 1, sizeof(bool)), false, NULL, NULL, 0 };
	pushed p = { NULL, 0 };
	size_t kept = 0;

	pushable(s, leaf, where, &p);
	u.skip = p.slots;
	u.nskip = p.n;
	use_query(&u, s->w);
	free(p.slots);
	for (size_t c = 0; c < sc->n; c++) {
		if (!u.keep[c] && !u.all)
			continue;
		sb_add(cols, kept++ ? ", " : "");
		sb_sql_ident(cols, sc->cols[c].name);
	}
	free(u.keep);
	return kept;
}

lnode *sql_pruned_side(shape *s, int leaf)
{
	const sql_leaf *l = &s->leaves[leaf];
	size_t ncols = sql_leaf_cols(l)->n;
	sb where = SB_INIT, cols = SB_INIT, q = SB_INIT;
	size_t kept = sql_side_filter(s, leaf, &cols, &where);
	lnode *n = l->src;

	if (kept && (kept < ncols || where.len)) {
		sb_addf(&q, "SELECT %s FROM \"{0}\" AS ", sb_str(&cols));
		sb_sql_ident(&q, l->alias);
		if (where.len)
			sb_addf(&q, " WHERE %s", sb_str(&where));
		n = sql_partial(s->p, "join side", sb_str(&q), l->src);
		n->rowwise = true; /* split by files among the shuffle's producers */
		s->leaves[leaf].filtered = true;
		sql_note(s->p, "%s: %zu of its %zu columns shipped%s%s", l->alias, kept, ncols,
			 where.len ? ", rows filtered first by " : "", sb_str(&where));
	}
	sb_release(&where);
	sb_release(&cols);
	sb_release(&q);
	return n;
}

/* ---- a broadcast side filtered once ------------------------------------------ */

/* A broadcast source big enough whose rows are reduced
 * by the keys of another filtered broadcast source is filtered once, by
 * a task of its own, rather than by every task of the join: TPC-H Q3's
 * orders (35 MB) were scanned, filtered and built into a hash table of
 * 727K rows by each of lineitem's parts, 0.85 of a task's 1.0 s;
 * filtered once and reduced by customer's keys it is 145K rows (Q3
 * 2.04 -> 1.40 s). Its own conditions alone reduce too little for the
 * stage they cost (Q21's orders, half of them 'F': 4.85 -> 5.82 s; Q5's
 * and Q10's date ranges gained under 0.2 s). Below a quarter of
 * --broadcast-limit (16 MB by default), the stage costs more than it
 * saves. */
#define PREFILTER_SHARE 4

/* `x IN (SELECT y FROM "{k}" AS j WHERE j's filter)` for each top-level
 * WHERE equality x = y of a column of leaf `leaf` and one of another
 * broadcast source j that is filtered: a row of leaf whose x is not
 * among those y meets no row of j the query keeps. Both sides must be
 * ones no outer join supplies NULLs for. Adds j's source to *in. */
static void semi_filters(shape *s, int leaf, int split, sb *where, sb *by, lnode ***in, size_t *nin)
{
	sq_expr **conj = NULL;
	size_t n = 0;
	bool found = false;

	if (!s->w->where || null_supplied(s->w->from, leaf, &found) || !found)
		return;
	sql_conjuncts(s->w->where, &conj, &n);
	for (size_t c = 0; c < n; c++) {
		sq_expr *e = conj[c];
		if (e->kind != SQ_COMPARISON || strcmp(e->type, "COMPARE_EQUAL") || e->nargs != 2)
			continue;
		for (int k = 0; k < 2; k++) {
			sq_expr *mine = e->args[k], *theirs = e->args[1 - k];
			int j = sql_leaf_of(s, theirs);
			sb jwhere = SB_INIT, jcols = SB_INIT;
			char *x = NULL, *y = NULL;
			pond_err quiet = { 0 };
			if (sql_leaf_of(s, mine) != leaf || j < 0 || j == leaf || j == split || !s->leaves[j].src)
				continue;
			found = false;
			if (null_supplied(s->w->from, j, &found) || !found)
				continue;
			sql_side_filter(s, j, &jcols, &jwhere);
			if (jwhere.len && !sqltree_expr_sql(s->p->db, mine, &x, &quiet) &&
			    !sqltree_expr_sql(s->p->db, theirs, &y, &quiet)) {
				sb_addf(where, "%s(%s IN (SELECT %s FROM \"{%zu}\" AS ", where->len ? " AND " : "", x,
					y, *nin);
				sb_sql_ident(where, s->leaves[j].alias);
				sb_addf(where, " WHERE %s))", sb_str(&jwhere));
				sb_addf(by, "%s%s", by->len ? ", " : "", s->leaves[j].alias);
				*in = xgrow(*in, *nin, sizeof(lnode *));
				(*in)[(*nin)++] = s->leaves[j].src;
			}
			free(x);
			free(y);
			sb_release(&jwhere);
			sb_release(&jcols);
		}
	}
	free(conj);
}

lnode *sql_prefiltered_side(shape *s, int leaf, int split)
{
	const sql_leaf *l = &s->leaves[leaf];
	sb where = SB_INIT, cols = SB_INIT, q = SB_INIT, by = SB_INIT;
	lnode **in, *n = NULL;
	size_t nin = 1, own;

	if (!l->src || l->bytes < s->p->rq->broadcast_limit / PREFILTER_SHARE)
		return NULL;
	in = xcalloc(1, sizeof(lnode *));
	in[0] = l->src;
	sql_side_filter(s, leaf, &cols, &where);
	own = where.len;
	semi_filters(s, leaf, split, &where, &by, &in, &nin);
	if (by.len) {
		sb_addf(&q, "SELECT %s FROM \"{0}\" AS ", sb_str(&cols));
		sb_sql_ident(&q, l->alias);
		sb_addf(&q, " WHERE %s", sb_str(&where));
		n = sql_gather(s->p, "broadcast side", sb_str(&q), in, nin);
		s->leaves[leaf].filtered = true;
		sql_note(s->p, "%s: filtered once by one task, then broadcast (%skeys met by %s)", l->alias,
			 own ? "its own conditions; " : "", sb_str(&by));
	}
	free(in);
	sb_release(&by);
	sb_release(&where);
	sb_release(&cols);
	sb_release(&q);
	return n;
}

/* ---- the pushed conjuncts out of the query ------------------------------------ */

void sql_drop_pushed(shape *s, int leaf)
{
	sb where = SB_INIT;
	pushed p = { NULL, 0 };

	pushable(s, leaf, &where, &p);
	for (size_t i = 0; i < p.n; i++) {
		/* true on every row the side ships: 1 = 1, folded by DuckDB */
		sq_expr_free(*p.slots[i]);
		*p.slots[i] = sq_compare("COMPARE_EQUAL", sq_int(1), sq_int(1));
	}
	free(p.slots);
	sb_release(&where);
}
