/* sqljoin.c — how the stages read a query's tables (see sqlplan_int.h,
 * docs/SQL.md "Joins"). Called by sqlshape.c before any shape is built.
 *
 * Every task of a stage runs the query's FROM as written, its tables
 * replaced by inputs, so that a join is computed inside the partition.
 * That is right when each output row is made in exactly one partition:
 * - one table split in parts (the largest), every other read whole by
 *   every task (broadcast): then every row combination is made where its
 *   split table's row is, so long as no join preserves a broadcast table's
 *   rows (a LEFT join's right side may be broadcast, never its left);
 * - or two tables joined on equal columns, both hash-partitioned on those
 *   columns (their types made one by the binder's key_casts), any join
 *   type between them, the others broadcast under the same rule; a hot
 *   key of such a join is spread over the partitions (skew.c). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"
#include "util/human.h"

/* A source's part is at most this many bytes, and there are at least
 * MIN_PARTS of them: each part's task reads every broadcast table again
 * and keeps its own partial aggregates, so on a small table four parts
 * for two workers cost 19 % more CPU than two (TPC-H SF 1,
 * docs/BENCHMARKS.md). A co-partitioned join's hash partitions are at
 * least MIN_HASH_PARTS: buckets are uneven where file groups are not, and
 * a hot key needs partitions to spread over (skew.c). */
#define PART_BYTES (128LL << 20)
#define MIN_PARTS 2
#define MIN_HASH_PARTS 4
#define MAX_PARTS 4096

static int64_t bytes_of(const lnode *src)
{
	int64_t total = 0;

	for (size_t i = 0; i < src->nfiles; i++)
		total += src->sizes[i] > 0 ? src->sizes[i] : 0;
	return total;
}

static int parts_at_least(int64_t bytes, int least)
{
	int64_t want = (bytes + PART_BYTES - 1) / PART_BYTES;
	return (int)(want < least ? least : want > MAX_PARTS ? MAX_PARTS : want);
}

/* The table read in parts without moving data: groups of its files, or
 * row ranges of its Parquet files when it has fewer files than parts. The
 * count follows the bytes only (never the workers), as a shuffle's
 * producers do, so the output does not depend on -w. NULL when the table
 * cannot be split (then one task reads it, and nothing is gained). */
static lnode *split(sqlp *p, const sql_leaf *l)
{
	lnode *src = l->src, *rp;
	int want = parts_at_least(l->bytes, MIN_PARTS);

	if (!src) /* a derived table: its stages' partitions */
		return l->node->nparts > 1 ? l->node : sql_not(p, "%s is computed by one task", l->alias);
	if (lnode_opt_bool(src, "union_by_name"))
		return sql_not(p, "%s is read with union_by_name: its parts could disagree on columns", l->alias);
	if (src->format != FMT_PARQUET && (src->nfiles < 2 || (!src->columns.n && !src->types.n)))
		return sql_not(p, "%s is one CSV/JSON file, or its files could not be read alike", l->alias);
	rp = sql_node(p, L_REPARTITION, "parts");
	rp->inputs = xcalloc(1, sizeof(lnode *));
	rp->inputs[0] = src;
	rp->ninputs = 1;
	if (src->nfiles >= (size_t)want || src->format != FMT_PARQUET) {
		rp->mode = RP_FILES;
		rp->nparts = (int)((size_t)want < src->nfiles ? (size_t)want : src->nfiles);
		sql_note(p, "%s: read in %d parts, groups of its files", l->alias, rp->nparts);
	} else {
		rp->mode = RP_ROWS;
		rp->nparts = want;
		sql_note(p, "%s: read in %d parts, row ranges of its %zu file%s", l->alias, rp->nparts, src->nfiles,
			 src->nfiles == 1 ? "" : "s");
	}
	return rp;
}

lnode *sql_split_leaf(sqlp *p, const sql_leaf *l)
{
	return split(p, l);
}
bool sql_files_split(const lnode *src, int64_t bytes)
{
	return src->format == FMT_PARQUET && !lnode_opt_bool(src, "union_by_name") &&
	       src->nfiles >= (size_t)parts_at_least(bytes, MIN_PARTS);
}

/* ---- the tables of the FROM ------------------------------------------------- */

static bool derived(shape *s, sq_table **slot);

int64_t sql_tab_bytes(const sqlp *p, const sql_tab *t)
{
	bool *seen;
	lnode **stack;
	size_t top = 0;
	int64_t total = 0;

	if (t->src)
		return bytes_of(t->src);
	/* a script's dataset: the bytes of the sources it is made from */
	seen = xcalloc(p->lp->nnodes + 1, sizeof(bool));
	stack = xcalloc(p->lp->nnodes + 1, sizeof(lnode *));
	stack[top++] = t->node;
	seen[t->node->id] = true;
	while (top) {
		const lnode *n = stack[--top];
		if (n->kind == L_SOURCE)
			total += bytes_of(n);
		for (size_t i = 0; i < n->ninputs; i++)
			if (!seen[n->inputs[i]->id]) {
				seen[n->inputs[i]->id] = true;
				stack[top++] = n->inputs[i];
			}
	}
	free(seen);
	free(stack);
	return total;
}

/* Table k: a source, or a script's dataset (its parts, columns as bound) */
void sql_init_leaf(const shape *s, sql_leaf *l, int k, const char *alias)
{
	const sql_tab *t = &s->p->tabs[k];

	*l = (sql_leaf){ .src = t->src, .node = t->src ? NULL : t->node, .alias = alias };
	l->bytes = sql_tab_bytes(s->p, t);
	for (size_t i = 0; !t->src && i < t->node->schema.n; i++)
		schema_add(&l->own, t->node->schema.cols[i].name, t->node->schema.cols[i].type);
}
static bool describe_alone(sqlp *p, const sq_query *q, schema *out);
static bool to_plandb_table(sq_table *t, void *ctx);

/* Collects the leaves (tables "{k}", derived tables) in order, renaming
 * each "{i}"; false for anything else in the FROM. */
static bool collect(shape *s, sq_table **slot)
{
	sq_table *t = *slot;
	sql_leaf *l;
	int k;

	if (t->kind == SQ_JOIN) {
		if (strcmp(t->ref_type, "REGULAR") && strcmp(t->ref_type, "CROSS") && strcmp(t->ref_type, "NATURAL"))
			return sql_not(s->p, "%s joins are not distributed", t->ref_type), false;
		return collect(s, &t->left) && collect(s, &t->right);
	}
	if (t->kind == SQ_SUBQUERY_REF)
		return derived(s, slot);
	if (t->kind == SQ_TABLE_OTHER)
		return sql_not(s->p, "%s in FROM is not distributed", sq_table_other_name(t)), false;
	if (t->kind != SQ_BASE || t->name[0] != '{')
		return sql_not(s->p, "the query reads a table pond does not know (a table function, CTE or view)"),
		       false;
	if (t->sample || t->ncol_aliases)
		return sql_not(s->p, "TABLESAMPLE and column aliases on a table are not distributed"), false;
	k = (int)strtol(t->name + 1, NULL, 10);
	if (k < 0 || (size_t)k >= s->p->ntabs)
		return sql_not(s->p, "the query reads a table pond does not know"), false;
	s->leaves = xgrow(s->leaves, s->nleaves, sizeof(sql_leaf));
	l = &s->leaves[s->nleaves];
	sql_init_leaf(s, l, k, t->alias);
	free(t->name);
	t->name = xasprintf("{%zu}", s->nleaves++);
	return true;
}

const schema *sql_leaf_cols(const sql_leaf *l)
{
	return l->src ? &l->src->schema : &l->own;
}

static bool has_column(const sql_leaf *l, const char *name)
{
	const schema *c = sql_leaf_cols(l);

	for (size_t i = 0; i < c->n; i++)
		if (!strcasecmp(c->cols[i].name, name))
			return true;
	return false;
}

/* The leaf a column reference reads: t.c by its alias, c by the one table
 * that has it; -1 when unknown or ambiguous. */
int sql_leaf_of(const shape *s, const sq_expr *e)
{
	int found = -1;

	if (e->kind != SQ_COLUMN)
		return -1;
	for (size_t i = 0; i < s->nfrom; i++) {
		const sql_leaf *l = &s->leaves[i];
		bool mine = e->nnames >= 2 ? !strcasecmp(e->names[0], l->alias) && has_column(l, e->names[1])
					   : has_column(l, e->names[0]);
		if (mine && found >= 0)
			return -1;
		if (mine)
			found = (int)i;
	}
	return found;
}

/* t.c -> c where c is a column of t's table and of no other, so that
 * equal expressions look equal (GROUP BY c, SELECT t.c). */
static bool unqualify(sq_expr **slot, void *ctx)
{
	const shape *s = ctx;
	sq_expr *e = *slot;
	int l;

	if (e->kind != SQ_COLUMN || e->nnames < 2 || (l = sql_leaf_of(s, e)) < 0)
		return true;
	for (size_t i = 0; i < s->nfrom; i++)
		if ((int)i != l && has_column(&s->leaves[i], e->names[1]))
			return true;
	free(e->names[0]);
	memmove(e->names, e->names + 1, (e->nnames - 1) * sizeof(char *));
	e->names[--e->nnames] = NULL;
	return true;
}

static void unqualify_all(shape *s)
{
	sq_query *q = s->w;
	sq_expr **single[] = { &q->where, &q->having, &q->limit, &q->offset };

	for (size_t i = 0; i < q->nselect; i++)
		sq_visit(&q->select[i], unqualify, s);
	for (size_t i = 0; i < q->ngroups; i++)
		sq_visit(&q->groups[i], unqualify, s);
	for (size_t i = 0; i < q->norders; i++)
		sq_visit(&q->orders[i].e, unqualify, s);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		sq_visit(single[i], unqualify, s);
}

/* ---- which table is split, which broadcast ----------------------------------- */

/* Whether a join keeps each row of its left (or right) side whole in one
 * partition when only that side is split: a join that preserves the other
 * side's rows (LEFT keeps the left's, FULL both) would repeat them. */
static bool side_ok(const sq_table *j, bool left)
{
	if (!strcmp(j->ref_type, "CROSS") || !strcmp(j->join_type, "INNER"))
		return true;
	if (!strcmp(j->join_type, "LEFT") || !strcmp(j->join_type, "SEMI") || !strcmp(j->join_type, "ANTI"))
		return left;
	if (!strcmp(j->join_type, "RIGHT"))
		return !left;
	return false; /* FULL (OUTER), MARK, SINGLE, … */
}

/* 1 when `target` (a table or join of t) is reached through sides that
 * every join above it allows to be split, 0 when not, -1 when absent. */
static int path_ok(const sq_table *t, const sq_table *target)
{
	int r;

	if (t == target)
		return 1;
	if (t->kind != SQ_JOIN)
		return -1;
	if ((r = path_ok(t->left, target)) >= 0)
		return r && side_ok(t, true);
	if ((r = path_ok(t->right, target)) >= 0)
		return r && side_ok(t, false);
	return -1;
}

/* The FROM node of leaf i ("{i}"). */
static const sq_table *leaf_node(const sq_table *t, size_t i)
{
	const sq_table *x;
	char name[32];

	if (t->kind == SQ_JOIN)
		return (x = leaf_node(t->left, i)) ? x : leaf_node(t->right, i);
	snprintf(name, sizeof(name), "{%zu}", i);
	return t->kind == SQ_BASE && !strcmp(t->name, name) ? t : NULL;
}

static int64_t broadcast_limit(const sqlp *p)
{
	return p->rq->broadcast_limit;
}

/* Every table of the FROM but `a` and `b` small enough to be read by
 * every task. */
static bool others_small(const shape *s, size_t a, size_t b)
{
	for (size_t i = 0; i < s->nfrom; i++)
		if (i != a && i != b && s->leaves[i].bytes > broadcast_limit(s->p))
			return false;
	return true;
}

static void note_broadcasts(shape *s, size_t a, size_t b)
{
	sb names = SB_INIT;

	for (size_t i = 0; i < s->nfrom; i++)
		if (i != a && i != b)
			sb_addf(&names, "%s%s", names.len ? ", " : "", s->leaves[i].alias);
	if (names.len)
		sql_note(s->p, "broadcast to every task (each at most %lld bytes): %s",
			 (long long)broadcast_limit(s->p), sb_str(&names));
	sb_release(&names);
}

/* What a task reads of a table it reads whole: the source, or a derived
 * table's partitions gathered. */
static lnode *whole(shape *s, const sql_leaf *l)
{
	if (l->src)
		return l->src;
	if (l->node->nparts == 1)
		return l->node;
	return sql_gather(s->p, "derived table", "SELECT * FROM \"{0}\"", (lnode **)&l->node, 1);
}

/* The largest table in parts, every other one whole. */
static bool broadcast_all_but(shape *s, size_t d)
{
	if (!others_small(s, d, d) || path_ok(s->w->from, leaf_node(s->w->from, d)) != 1 ||
	    !(s->leaves[d].in = split(s->p, &s->leaves[d])))
		return false;
	note_broadcasts(s, d, d);
	for (size_t i = 0; i < s->nfrom; i++)
		if (i != d && !(s->leaves[i].in = sql_aligned_side(s, (int)i, (int)d)) &&
		    !(s->leaves[i].in = sql_prefiltered_side(s, (int)i, (int)d)))
			s->leaves[i].in = whole(s, &s->leaves[i]);
	return true;
}

/* ---- two tables co-partitioned on their join keys ----------------------------- */

typedef struct {
	char **a, **b; /* the key columns of the join's left and right table */
	size_t n;
} keys;

static void add_key(keys *k, const char *a, const char *b)
{
	k->a = xrealloc(k->a, (k->n + 2) * sizeof(char *));
	k->b = xrealloc(k->b, (k->n + 2) * sizeof(char *));
	k->a[k->n] = xstrdup(a);
	k->b[k->n++] = xstrdup(b);
}

static void keys_release(keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->a[i]);
		free(k->b[i]);
	}
	free(k->a);
	free(k->b);
}

/* a.x = b.y conjuncts of an ON between leaves la and lb (either order). */
static void equal_columns(const shape *s, const sq_expr *e, int la, int lb, keys *k)
{
	const sq_expr *x, *y;
	int lx, ly;

	if (e->kind == SQ_CONJUNCTION && !strcmp(e->type, "CONJUNCTION_AND")) {
		for (size_t i = 0; i < e->nargs; i++)
			equal_columns(s, e->args[i], la, lb, k);
		return;
	}
	if (e->kind != SQ_COMPARISON || strcmp(e->type, "COMPARE_EQUAL") || e->nargs != 2)
		return;
	x = e->args[0];
	y = e->args[1];
	lx = sql_leaf_of(s, x);
	ly = sql_leaf_of(s, y);
	if (lx < 0 || ly < 0 || x->nnames > 2 || y->nnames > 2)
		return;
	if (lx == la && ly == lb)
		add_key(k, x->names[x->nnames - 1], y->names[y->nnames - 1]);
	else if (lx == lb && ly == la)
		add_key(k, y->names[y->nnames - 1], x->names[x->nnames - 1]);
}

/* A hash shuffle of leaf l on cols: of `in` when not NULL (a reduced
 * side), else of the leaf's pruned source or its partitions. */
static lnode *hash_on(shape *s, const sql_leaf *l, char **cols, size_t n, int nparts, lnode *in)
{
	/* the input first: the binder binds nodes in the order they are made */
	if (!in)
		in = l->src ? sql_pruned_side(s, (int)(l - s->leaves)) : l->node;
	lnode *rp = sql_node(s->p, L_REPARTITION, "join");
	sb key = SB_INIT, desc = SB_INIT;

	rp->mode = RP_HASH;
	rp->nparts = nparts;
	rp->inputs = xcalloc(1, sizeof(lnode *));
	rp->inputs[0] = in;
	rp->ninputs = 1;
	rp->key_names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		rp->key_names[i] = xstrdup(cols[i]);
		sb_add(&key, i ? ", " : "");
		sb_sql_ident(&key, cols[i]);
		sb_addf(&desc, "%s%s.%s", i ? ", " : "", l->alias, cols[i]);
	}
	rp->nkeys = n;
	rp->key = sb_detach(&key);
	rp->key_desc = sb_detach(&desc);
	return rp;
}

/* The side of the join at j (leaves la, lb) to reduce before its shuffle
 * (sqlreduce.c), or -1: the bigger one, when the join does not keep its
 * rows unmatched and the other is within --broadcast-limit. */
static int reduced_side(const shape *s, const sq_table *j, int la, int lb)
{
	int64_t lim = broadcast_limit(s->p), a = s->leaves[la].bytes, b = s->leaves[lb].bytes;

	if (side_ok(j, true) && a <= lim && b > a)
		return lb; /* the right is not kept unmatched: the left could split */
	if (side_ok(j, false) && b <= lim && a > b)
		return la;
	return -1;
}

/* The input of the join's left (or right) leaf reduced by the other's
 * keys when it is the side to reduce, else NULL (hash_on's default). */
static lnode *reduced_in(shape *s, const sq_table *j, int la, int lb, bool right, char **keys, char **okeys, size_t n)
{
	bool distinct = right && (!strcmp(j->join_type, "SEMI") || !strcmp(j->join_type, "ANTI"));

	if (reduced_side(s, j, la, lb) != (right ? lb : la))
		return NULL;
	return sql_reduced_side(s, right ? lb : la, right ? la : lb, keys, okeys, n, distinct);
}

/* The join of two tables "{a}" and "{b}" at j, hash-partitioned on its
 * equal columns, when the other tables can be broadcast. */
static bool copartition(shape *s, const sq_table *j)
{
	int la, lb, n;
	keys k = { NULL, NULL, 0 };
	bool ok;

	if (j->kind != SQ_JOIN || j->left->kind != SQ_BASE || j->right->kind != SQ_BASE)
		return false;
	la = (int)strtol(j->left->name + 1, NULL, 10);
	lb = (int)strtol(j->right->name + 1, NULL, 10);
	if (j->cond)
		equal_columns(s, j->cond, la, lb, &k);
	for (size_t i = 0; i < j->nusing; i++)
		add_key(&k, j->using[i], j -> using[i]);
	ok = k.n && others_small(s, (size_t)la, (size_t)lb) && path_ok(s->w->from, j) == 1;
	if (ok) {
		n = parts_at_least(s->leaves[la].bytes > s->leaves[lb].bytes ? s->leaves[la].bytes
									     : s->leaves[lb].bytes,
				   MIN_HASH_PARTS);
		s->leaves[la].in =
			hash_on(s, &s->leaves[la], k.a, k.n, n, reduced_in(s, j, la, lb, false, k.a, k.b, k.n));
		s->leaves[lb].in =
			hash_on(s, &s->leaves[lb], k.b, k.n, n, reduced_in(s, j, la, lb, true, k.b, k.a, k.n));
		for (size_t i = 0; i < s->nfrom; i++)
			if ((int)i != la && (int)i != lb)
				s->leaves[i].in = whole(s, &s->leaves[i]);
		sql_note(s->p, "%s and %s co-partitioned: hash of (%s) and (%s) into %d", s->leaves[la].alias,
			 s->leaves[lb].alias, s->leaves[la].in->key_desc, s->leaves[lb].in->key_desc, n);
		sql_skew(s, la, lb, side_ok(j, true), side_ok(j, false));
		note_broadcasts(s, (size_t)la, (size_t)lb);
	}
	keys_release(&k);
	return ok;
}

/* Some join of two tables in t that can be co-partitioned. */
static bool copartition_some(shape *s, const sq_table *t)
{
	if (t->kind != SQ_JOIN)
		return false;
	return copartition(s, t) || copartition_some(s, t->left) || copartition_some(s, t->right);
}

/* ---- subqueries: their tables read whole ------------------------------------------ */

/* A subquery runs inside every task, as written, over whole tables: an
 * uncorrelated one gives every task the same value, a correlated one the
 * value for each row it sees. So its tables must be small enough to be
 * read by every task. */

static bool subquery_query(shape *s, sq_query *q);
static int64_t largest_table(const shape *s, const sq_query *q);
static bool own_stage(shape *s, sq_expr *e);

typedef struct {
	shape *s;
	bool ok;
} sub_walk;

/* An uncorrelated subquery over a table of more than this many bytes is
 * planned on its own even when every task could read the table: else
 * every task of the query computes it again over the whole table (TPC-H
 * Q15's max over a GROUP BY of lineitem, Q18's IN over one, at SF 0.2 ran
 * 4 tasks x 2 stages of it). Below it (dimensions), reading the table in
 * each task is cheaper than a stage. */
#define OWN_STAGE_BYTES (16LL << 20)

/* own_stage, or nothing planned when it fails (a correlated subquery,
 * a shape that is not distributed): then the subquery runs in every task. */
static bool own_stage_if_it_can(shape *s, sq_expr *e)
{
	sqlp *p = s->p;
	size_t mark = p->lp->nnodes, notes = p->notes.len;
	char *why = p->why;

	p->why = NULL;
	if (own_stage(s, e)) {
		p->why = why;
		return true;
	}
	sql_undo(p, mark);
	free(p->why);
	p->why = why;
	p->notes.len = notes;
	if (p->notes.buf)
		p->notes.buf[notes] = '\0';
	return false;
}

static bool visit_subquery(sq_expr **slot, void *ctx)
{
	sub_walk *w = ctx;
	sq_expr *e = *slot;
	int64_t big;

	if (e->kind != SQ_SUBQUERY || !w->ok)
		return w->ok;
	big = largest_table(w->s, e->subquery);
	if (big > broadcast_limit(w->s->p))
		w->ok = sql_colocated(w->s, e) || own_stage(w->s, e);
	else if (big <= OWN_STAGE_BYTES || !own_stage_if_it_can(w->s, e))
		w->ok = subquery_query(w->s, e->subquery);
	return w->ok;
}

static bool subquery_query_exprs(shape *s, sq_expr **v, size_t n)
{
	sub_walk w = { s, true };

	for (size_t i = 0; w.ok && i < n; i++)
		sq_visit(&v[i], visit_subquery, &w);
	return w.ok;
}

/* The expressions of a SELECT that may hold subqueries. */
static bool select_exprs(shape *s, sq_query *q)
{
	sq_expr **single[] = { &q->where, &q->having, &q->qualify };
	bool ok = subquery_query_exprs(s, q->select, q->nselect) && subquery_query_exprs(s, q->groups, q->ngroups);

	for (size_t i = 0; ok && i < sizeof(single) / sizeof(single[0]); i++)
		ok = subquery_query_exprs(s, single[i], 1);
	for (size_t i = 0; ok && i < q->norders; i++)
		ok = subquery_query_exprs(s, &q->orders[i].e, 1);
	return ok;
}

/* Each table "{k}" of a subquery's FROM becomes a leaf read whole. */
static bool subquery_from(shape *s, sq_table *t)
{
	sql_leaf *l;
	int k;

	if (!t)
		return true;
	if (t->kind == SQ_JOIN)
		return subquery_from(s, t->left) && subquery_from(s, t->right) &&
		       (!t->cond || subquery_query_exprs(s, &t->cond, 1));
	if (t->kind == SQ_SUBQUERY_REF)
		return subquery_query(s, t->subquery);
	if (t->kind == SQ_TABLE_OTHER && (t->source || t->subquery || t->nexprs))
		/* its tables would be read under names no leaf has */
		return sql_not(s->p, "%s in a subquery is not distributed", sq_table_other_name(t)), false;
	if (t->kind != SQ_BASE || t->name[0] != '{')
		return true; /* a CTE's name, a call DuckDB reads itself */
	k = (int)strtol(t->name + 1, NULL, 10);
	if (k < 0 || (size_t)k >= s->p->ntabs)
		return true;
	s->leaves = xgrow(s->leaves, s->nleaves, sizeof(sql_leaf));
	l = &s->leaves[s->nleaves];
	sql_init_leaf(s, l, k, t->alias);
	l->in = whole(s, l);
	if (l->bytes > broadcast_limit(s->p))
		return sql_not(s->p, "a subquery reads %s, too big to be read by every task (%lld bytes)", t->alias,
			       (long long)l->bytes),
		       false;
	free(t->name);
	t->name = xasprintf("{%zu}", s->nleaves++);
	sql_note(s->p, "a subquery's table read whole by every task: %s", l->alias);
	return true;
}

static bool subquery_query(shape *s, sq_query *q)
{
	bool ok = true;

	if (!q)
		return true;
	for (size_t i = 0; ok && i < q->nctes; i++)
		ok = subquery_query(s, q->ctes[i].query);
	if (ok && q->kind == SQ_SETOP)
		ok = subquery_query(s, q->left) && subquery_query(s, q->right);
	if (ok && q->kind == SQ_SELECT)
		ok = subquery_from(s, q->from) && select_exprs(s, q);
	return ok;
}

/* ---- subqueries over big tables: their own stages --------------------------------- */

typedef struct {
	const shape *s;
	int64_t max;
} largest;

static bool note_size(sq_table *t, void *ctx)
{
	largest *l = ctx;
	int k = t->name[0] == '{' ? (int)strtol(t->name + 1, NULL, 10) : -1;

	if (k >= 0 && (size_t)k < l->s->p->ntabs && sql_tab_bytes(l->s->p, &l->s->p->tabs[k]) > l->max)
		l->max = sql_tab_bytes(l->s->p, &l->s->p->tabs[k]);
	return true;
}

/* The size of the largest table q reads (0: none). */
static int64_t largest_table(const shape *s, const sq_query *q)
{
	largest l = { s, 0 };
	sq_each_table((sq_query *)q, note_size, &l);
	return l.max;
}

static bool to_plandb_table(sq_table *t, void *ctx)
{
	const sqlp *p = ctx;
	int k = t->name[0] == '{' ? (int)strtol(t->name + 1, NULL, 10) : -1;

	if (k >= 0 && (size_t)k < p->ntabs) {
		free(t->name);
		t->name = xasprintf("__pond_n%d", p->tabs[k].src ? p->tabs[k].src->table : p->tabs[k].node->table);
	}
	return true;
}

/* DuckDB's columns of q on its own, over the sources' tables: false when q
 * does not bind alone (it reads columns of the query around it). */
static bool describe_alone(sqlp *p, const sq_query *q, schema *out)
{
	sq_query *c = sq_query_dup(q);
	pond_err quiet = { 0 };
	pdb_result r;
	char *text, *sql;
	bool ok = false;

	sq_each_table(c, to_plandb_table, p);
	text = sql_text(p, c);
	sq_query_free(c);
	if (!text)
		return false;
	sql = xasprintf("DESCRIBE (%s)", text);
	if (plandb_query(p->db, sql, &r, &quiet) == PDB_OK) {
		for (size_t i = 0; i < r.nrows; i++)
			schema_add(out, pdb_cell(&r, i, 0), pdb_cell(&r, i, 1));
		pdb_result_release(&r);
		ok = true;
	}
	free(sql);
	free(text);
	return ok;
}

/* An uncorrelated subquery over a big table: planned as a query of its
 * own, its result gathered and read whole by every task in its place. */
static bool own_stage(shape *s, sq_expr *e)
{
	sqlp *p = s->p;
	schema out = { NULL, 0 };
	lnode *r;
	sq_query *q;
	sql_leaf *l;
	char *name;

	if (!describe_alone(p, e->subquery, &out))
		return sql_not(p,
			       "a correlated subquery over a table too big to be read by every task is not "
			       "distributed yet"),
		       false;
	sql_note(p, "a subquery, planned on its own:");
	r = sql_shape(p, e->subquery, &out);
	schema_release(&out);
	if (!r)
		return false;
	if (r->nparts > 1)
		r = sql_gather(p, "subquery result", "SELECT * FROM \"{0}\"", &r, 1);
	sql_note(p, "its result read whole by every task");
	s->leaves = xgrow(s->leaves, s->nleaves, sizeof(sql_leaf));
	l = &s->leaves[s->nleaves];
	*l = (sql_leaf){ .alias = "subquery", .in = r };
	name = xasprintf("{%zu}", s->nleaves++);
	q = sq_select_new();
	sq_add_select(q, sq_star());
	sq_table_free(q->from);
	q->from = sq_base_table(name, NULL);
	sq_query_free(e->subquery);
	e->subquery = q;
	free(name);
	return true;
}

/* The join conditions of the query's own FROM. */
static bool from_conditions(shape *s, sq_table *t)
{
	if (t->kind != SQ_JOIN)
		return true;
	return from_conditions(s, t->left) && from_conditions(s, t->right) &&
	       (!t->cond || subquery_query_exprs(s, &t->cond, 1));
}

typedef struct {
	sqlp *p;
	bool correlated;
} corr_walk;

static bool note_correlated(sq_expr **slot, void *ctx)
{
	corr_walk *c = ctx;
	schema out = { NULL, 0 };

	if ((*slot)->kind == SQ_SUBQUERY && !c->correlated)
		c->correlated = !describe_alone(c->p, (*slot)->subquery, &out);
	schema_release(&out);
	return !c->correlated;
}

/* Whether a subquery in the select list, HAVING, QUALIFY or ORDER BY does
 * not bind alone (reads the query's columns): looked at before they are
 * planned. */
static bool outer_correlated(shape *s)
{
	sq_query *w = s->w;
	corr_walk c = { s->p, false };

	for (size_t i = 0; i < w->nselect; i++)
		sq_visit(&w->select[i], note_correlated, &c);
	sq_visit(&w->having, note_correlated, &c);
	sq_visit(&w->qualify, note_correlated, &c);
	for (size_t i = 0; i < w->norders; i++)
		sq_visit(&w->orders[i].e, note_correlated, &c);
	return c.correlated;
}

static bool subquery_tables(shape *s)
{
	s->correlated = outer_correlated(s);
	return select_exprs(s, s->w) && from_conditions(s, s->w->from);
}

/* ---- derived tables and CTEs ----------------------------------------------------- */

typedef struct {
	const shape *s;
	int64_t total;
	sq_query *q; /* the derived table's query, or NULL: whole files */
} sizes;

/* Footers read to tell which share of a table's bytes its columns take. */
#define FOOTER_FILES 8

/* The bytes of source src in the columns keep marks: their share of the
 * compressed column chunks in the footers of up to FOOTER_FILES of its
 * files, times all its files' bytes; -1 when not known. */
static int64_t column_bytes(const sqlp *p, const lnode *src, const bool *keep)
{
	size_t m = src->nfiles < FOOTER_FILES ? src->nfiles : FOOTER_FILES, k = 0;
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result r;
	double part, all;

	sb_add(&q, "SELECT sum(total_compressed_size) FILTER (WHERE split_part(path_in_schema, ', ', 1) IN (");
	for (size_t c = 0; c < src->schema.n; c++)
		if (keep[c]) {
			sb_add(&q, k++ ? ", " : "");
			sb_sql_str(&q, src->schema.cols[c].name);
		}
	if (!k)
		sb_add(&q, "NULL");
	sb_add(&q, ")), sum(total_compressed_size) FROM parquet_metadata([");
	for (size_t i = 0; i < m; i++) {
		sb_add(&q, i ? ", " : "");
		sb_sql_path(&q, src->files[i * src->nfiles / m]);
	}
	sb_add(&q, "])");
	if (plandb_query_wide(p->db, sb_str(&q), true, &r, &quiet) != PDB_OK) {
		sb_release(&q);
		return -1;
	}
	sb_release(&q);
	part = r.nrows == 1 && pdb_cell(&r, 0, 0) ? strtod(pdb_cell(&r, 0, 0), NULL) : 0;
	all = r.nrows == 1 && pdb_cell(&r, 0, 1) ? strtod(pdb_cell(&r, 0, 1), NULL) : 0;
	pdb_result_release(&r);
	if (all <= 0)
		return -1;
	return (int64_t)((double)bytes_of(src) * (part / all));
}

/* The bytes a derived table q reads of table k: the columns q names, as
 * DuckDB reads only those (TPC-H Q21's l1 names 4 of lineitem's 16
 * columns, 32 of its 146 MB). The files' bytes when that cannot be
 * told: not Parquet, a script's dataset, a `*` or subquery in q. */
static int64_t read_bytes(const sqlp *p, int k, sq_query *q)
{
	const sql_tab *t = &p->tabs[k];
	int64_t n = -1;
	bool *keep;

	if (!t->src || t->src->format != FMT_PARQUET || !t->src->nfiles || !t->src->schema.n)
		return sql_tab_bytes(p, t);
	keep = xcalloc(t->src->schema.n + 1, sizeof(bool));
	if (sql_query_reads(q, &t->src->schema, keep))
		n = column_bytes(p, t->src, keep);
	free(keep);
	return n >= 0 ? n : sql_tab_bytes(p, t);
}

static bool add_size(sq_table *t, void *ctx)
{
	sizes *z = ctx;
	int k = t->name[0] == '{' ? (int)strtol(t->name + 1, NULL, 10) : -1;

	if (k >= 0 && (size_t)k < z->s->p->ntabs)
		z->total += z->q ? read_bytes(z->s->p, k, z->q) : sql_tab_bytes(z->s->p, &z->s->p->tabs[k]);
	return true;
}

/* A subquery planned before in this query (a CTE named twice): its
 * stages serve both, so it is computed once. */
static lnode *planned_before(const sqlp *p, const sq_query *q)
{
	char *key = sqltree_json(q);
	lnode *n = NULL;

	for (size_t i = 0; !n && i < p->nmemo; i++)
		if (!strcmp(p->memo[i].key, key))
			n = p->memo[i].node;
	free(key);
	return n;
}

static void remember(sqlp *p, const sq_query *q, lnode *n)
{
	p->memo = xgrow(p->memo, p->nmemo, sizeof(*p->memo));
	p->memo[p->nmemo].key = sqltree_json(q);
	p->memo[p->nmemo++].node = n;
}

/* A subquery in FROM, planned as a query of its own: its stages'
 * partitions are the leaf's rows. Its size, for a broadcast, is that of
 * the tables it reads (an upper bound for a scan). */
static bool derived(shape *s, sq_table **slot)
{
	sq_table *t = *slot;
	sizes z = { s, 0, NULL };
	sql_leaf l = { 0 };
	int64_t files;
	char *name;

	if (t->ncol_aliases || t->sample)
		return sql_not(s->p, "column aliases or a sample on a subquery in FROM are not distributed"), false;
	l.sub = sq_query_dup(t->subquery);
	if (!describe_alone(s->p, l.sub, &l.own)) {
		sq_query_free(l.sub);
		schema_release(&l.own);
		return sql_not(s->p, "a subquery in FROM that reads the tables around it (LATERAL) is not distributed"),
		       false;
	}
	sq_each_table(l.sub, add_size, &z);
	files = z.total;
	z.total = 0;
	z.q = l.sub;
	sq_each_table(l.sub, add_size, &z);
	l.bytes = z.total;
	if (!(l.node = planned_before(s->p, l.sub))) {
		sql_note(s->p, "%s, planned on its own:", *t->alias ? t->alias : "a subquery in FROM");
		if (l.bytes < files) {
			char rd[32], all[32];
			human_bytes(rd, sizeof(rd), l.bytes);
			human_bytes(all, sizeof(all), files);
			sql_note(s->p, "its size: %s, the columns it names of its tables' %s of Parquet", rd, all);
		}
		if ((l.node = sql_shape(s->p, l.sub, &l.own)))
			remember(s->p, l.sub, l.node);
	} else {
		sql_note(s->p, "%s: the same subquery as before, its stages shared",
			 *t->alias ? t->alias : "a subquery");
	}
	if (!l.node) {
		sq_query_free(l.sub);
		schema_release(&l.own);
		return false;
	}
	name = xasprintf("{%zu}", s->nleaves);
	*slot = sq_base_table(name, t->alias);
	sq_table_free(t);
	free(name);
	l.alias = (*slot)->alias;
	s->leaves = xgrow(s->leaves, s->nleaves, sizeof(sql_leaf));
	s->leaves[s->nleaves++] = l;
	return true;
}

static const sq_cte *cte_of(const sq_query *q, const char *name)
{
	for (size_t i = 0; i < q->nctes; i++)
		if (!strcasecmp(q->ctes[i].name, name))
			return &q->ctes[i];
	return NULL;
}

static void inline_ctes(shape *s, sq_table **slot);

static bool inline_ctes_in_expr(sq_expr **slot, void *ctx);

static void inline_ctes_in_exprs(shape *s, sq_query *q);

/* The query's CTEs named in a subquery q (in a FROM or an expression) are
 * inlined there too, since the CTEs are dropped: Q15's
 * `WHERE v = (SELECT max(v) FROM cte)`. A subquery with CTEs of its own is
 * left as it is (its names could shadow): it then does not bind, and the
 * query falls back. */
static void inline_ctes_query(shape *s, sq_query *q)
{
	if (q->nctes)
		return;
	if (q->kind == SQ_SETOP) {
		inline_ctes_query(s, q->left);
		inline_ctes_query(s, q->right);
	}
	if (q->kind != SQ_SELECT)
		return;
	if (q->from)
		inline_ctes(s, &q->from);
	inline_ctes_in_exprs(s, q);
}

/* ... and in the subqueries of q's select list, WHERE, HAVING, QUALIFY. */
static void inline_ctes_in_exprs(shape *s, sq_query *q)
{
	sq_expr **single[] = { &q->where, &q->having, &q->qualify };

	for (size_t i = 0; i < q->nselect; i++)
		sq_visit(&q->select[i], inline_ctes_in_expr, s);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (*single[i])
			sq_visit(single[i], inline_ctes_in_expr, s);
}

static bool inline_ctes_in_expr(sq_expr **slot, void *ctx)
{
	if ((*slot)->kind == SQ_SUBQUERY && (*slot)->subquery)
		inline_ctes_query(ctx, (*slot)->subquery);
	return true;
}

/* A CTE the FROM names becomes that subquery in its place (planned as a
 * derived table); so does one named in a derived table or a join's
 * condition. */
static void inline_ctes(shape *s, sq_table **slot)
{
	sq_table *t = *slot;
	const sq_cte *c;

	if (t->kind == SQ_JOIN) {
		inline_ctes(s, &t->left);
		inline_ctes(s, &t->right);
		if (t->cond)
			sq_visit(&t->cond, inline_ctes_in_expr, s);
	} else if (t->kind == SQ_SUBQUERY_REF && t->subquery) {
		inline_ctes_query(s, t->subquery);
	} else if (t->kind == SQ_BASE && !t->qualified && (c = cte_of(s->w, t->name)) && !c->naliases) {
		/* not walked again: a recursive CTE would not end */
		*slot = sq_subquery_table(sq_query_dup(c->query), *t->alias ? t->alias : t->name);
		sq_table_free(t);
	}
}

/* ---- the driver ------------------------------------------------------------------ */

bool sql_inputs(shape *s)
{
	size_t big = 0;

	inline_ctes(s, &s->w->from);
	inline_ctes_in_exprs(s, s->w);
	sq_drop_ctes(s->w); /* inlined; elsewhere they would not bind */
	if (!collect(s, &s->w->from))
		return false;
	s->nfrom = s->nleaves;
	unqualify_all(s);
	for (size_t i = 1; i < s->nleaves; i++)
		if (s->leaves[i].bytes > s->leaves[big].bytes)
			big = i;
	if (s->nleaves == 1) {
		if (!(s->leaves[0].in = split(s->p, &s->leaves[0])))
			return false;
	} else if (!broadcast_all_but(s, big)) {
		char *why = s->p->why; /* the split table's reason, if any */
		s->p->why = NULL;
		if (!copartition_some(s, s->w->from)) {
			s->p->why = why;
			return sql_not(s->p,
				       "no table can be split with the others broadcast (at most %lld bytes, "
				       "on a side no join preserves), nor two tables joined on equal columns "
				       "co-partitioned",
				       (long long)broadcast_limit(s->p)),
			       false;
		}
		free(why);
	}
	if (!subquery_tables(s))
		return false;
	s->ins = xcalloc(s->nleaves + 1, sizeof(lnode *));
	for (size_t i = 0; i < s->nleaves; i++) {
		s->ins[i] = s->leaves[i].in;
		if (s->leaves[i].filtered)
			sql_drop_pushed(s, (int)i);
	}
	return true;
}

static void rename_leaves(const shape *s, sq_table **slot)
{
	sq_table *t = *slot;
	const sql_leaf *l;

	if (t->kind == SQ_JOIN) {
		rename_leaves(s, &t->left);
		rename_leaves(s, &t->right);
		return;
	}
	l = &s->leaves[strtol(t->name + 1, NULL, 10)];
	if (l->src || !l->sub) { /* a source, a script's dataset */
		free(t->name);
		t->name = xasprintf("__pond_n%d", l->src ? l->src->table : l->node->table);
	} else { /* the derived table's query, over the sources' tables */
		*slot = sq_subquery_table(sq_query_dup(l->sub), t->alias);
		sq_each_table((*slot)->subquery, to_plandb_table, s->p);
		sq_table_free(t);
	}
}

sq_table *sql_probe_from(const shape *s)
{
	sq_table *t = sq_table_dup(s->w->from);
	rename_leaves(s, &t);
	return t;
}

lnode *sql_over_inputs(shape *s, const char *role, const char *query)
{
	lnode *n = sql_node(s->p, L_PARTIAL, role);

	n->query = xstrdup(query);
	n->inputs = xcalloc(s->nleaves + 1, sizeof(lnode *));
	n->ninputs = s->nleaves;
	for (size_t i = 0; i < s->nleaves; i++) {
		n->inputs[i] = s->ins[i];
		if (s->ins[i]->nparts > n->nparts)
			n->nparts = s->ins[i]->nparts;
	}
	return n;
}

/* ---- an aggregate's final query: its subqueries' inputs ---------------------------- */

typedef struct {
	const shape *s;
	int *map; /* per leaf: its input's index in the node, or -1 */
	lnode **ins;
	size_t nins;
} relabel;

static bool relabel_table(sq_table *t, void *ctx)
{
	relabel *r = ctx;
	int k = t->name[0] == '{' ? (int)strtol(t->name + 1, NULL, 10) : -1;

	if (k < 0 || (size_t)k >= r->s->nleaves)
		return true;
	if (r->map[k] < 0) {
		r->map[k] = (int)r->nins;
		r->ins[r->nins++] = r->s->leaves[k].in;
	}
	free(t->name);
	t->name = xasprintf("{%d}", r->map[k]);
	return true;
}

static bool relabel_expr(sq_expr **slot, void *ctx)
{
	if ((*slot)->kind == SQ_SUBQUERY)
		sq_each_table((*slot)->subquery, relabel_table, ctx);
	return true;
}

/* The join conditions of a FROM (its tables are the caller's). */
static void relabel_conditions(sq_table *t, relabel *r)
{
	if (!t || t->kind != SQ_JOIN)
		return;
	if (t->cond)
		sq_visit(&t->cond, relabel_expr, r);
	relabel_conditions(t->left, r);
	relabel_conditions(t->right, r);
}

lnode **sql_subquery_inputs(const shape *s, sq_query *q, size_t nkept, size_t *n)
{
	relabel r = { s, xcalloc(s->nleaves + 1, sizeof(int)), xcalloc(nkept + s->nleaves + 1, sizeof(lnode *)),
		      nkept };
	sq_expr **single[] = { &q->where, &q->having, &q->qualify };

	for (size_t i = 0; i < s->nleaves; i++)
		r.map[i] = -1;
	for (size_t i = 0; i < q->nselect; i++)
		sq_visit(&q->select[i], relabel_expr, &r);
	for (size_t i = 0; i < q->ngroups; i++)
		sq_visit(&q->groups[i], relabel_expr, &r);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		sq_visit(single[i], relabel_expr, &r);
	for (size_t i = 0; i < q->norders; i++)
		sq_visit(&q->orders[i].e, relabel_expr, &r);
	relabel_conditions(q->from, &r);
	free(r.map);
	*n = r.nins;
	return r.ins;
}
