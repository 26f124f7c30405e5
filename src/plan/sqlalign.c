/* sqlalign.c — a broadcast table read in spans aligned with the parts of
 * the split table (docs/SQL.md, "Aligned files").
 *
 * When the query is split on Parquet table S in groups of whole files
 * and every other table is broadcast (sqljoin.c), a broadcast Parquet
 * table T that meets S by an equality S.k = T.k' (a conjunct of the
 * WHERE, or of the ON of a join that keeps only T's matched rows;
 * integer columns, compared exactly)
 * can join a row of S's part i only with its rows whose k' lies in
 * [lo_i, hi_i], the range of k over part i's files (their row groups'
 * statistics). Those rows lie in T's files whose own range of k' meets
 * [lo_i, hi_i]; so part i's task reads only the span of T's files from
 * the first to the last of those, not all of T. Every row of T outside
 * it joins no row of the part, and adds none to the result: a broadcast
 * table is never the side an outer join keeps whole (sqljoin.c), and
 * the equality holds in every row the query makes.
 *
 * It pays when T is written sorted by k', as S by k: TPC-H's orders by
 * o_orderkey, beside lineitem by l_orderkey (Q10: each task read all
 * 1.5M orders; now the half its lineitem files can meet). Not when a
 * file of either table has a row group without statistics for its key,
 * nor when no part would read fewer of T's files than all of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqlplan_int.h"

/* T is aligned only when it is at least this share of --broadcast-limit:
 * a smaller table costs little to read whole, less than the plan-time
 * questions about its files' statistics. */
#define ALIGN_SHARE 8

/* The column of leaf l that column reference e names, when it is an
 * integer column of l's Parquet source; else NULL. */
static const column *key_column(const shape *s, int l, const sq_expr *e)
{
	const column *c;

	if (e->kind != SQ_COLUMN || e->nnames > 2 || sql_leaf_of(s, e) != l)
		return NULL;
	c = schema_find(&s->leaves[l].src->schema, e->names[e->nnames - 1]);
	return c && sql_integer_type(c->type) ? c : NULL;
}

/* An equality conjunct split.k = leaf.k' of the query's WHERE, or of
 * an ON that holds in every row of leaf the query keeps: its columns. */
static bool find_equality(const shape *s, int leaf, int split, const column **k, const column **kt)
{
	sq_expr **conj = NULL;
	size_t n = 0;
	bool found = false;

	sql_leaf_conjuncts(s, leaf, &conj, &n);
	for (size_t i = 0; !found && i < n; i++) {
		const sq_expr *e = conj[i];
		if (e->kind != SQ_COMPARISON || strcmp(e->type, "COMPARE_EQUAL") || e->nargs != 2)
			continue;
		for (int side = 0; !found && side < 2; side++) {
			*k = key_column(s, split, e->args[side]);
			*kt = key_column(s, leaf, e->args[1 - side]);
			found = *k && *kt;
		}
	}
	free(conj);
	return found;
}

/* The parts' ranges of k, [lo[i], hi[i]]; false when unknown. A part
 * whose files hold no key (empty, or NULL in every row) gets lo > hi. */
static bool part_ranges(sqlp *p, const lnode *rp, const column *k, int64_t *lo, int64_t *hi)
{
	const lnode *src = rp->inputs[0];
	sql_file_range *f = sql_file_ranges(p, src, k);

	if (!f)
		return false;
	for (int i = 0; i < rp->nparts; i++) {
		size_t a, b;
		rp_files_part(rp, i, &a, &b);
		lo[i] = INT64_MAX;
		hi[i] = INT64_MIN;
		for (size_t j = a; j < b; j++)
			if (f[j].keys) {
				lo[i] = f[j].lo < lo[i] ? f[j].lo : lo[i];
				hi[i] = f[j].hi > hi[i] ? f[j].hi : hi[i];
			}
	}
	return true;
}

/* Whether some part's range of the key is at most 3/4 of the whole
 * table's: else (the split table not written sorted by it, TPC-H's
 * l_partkey) no part can skip much of T, and T's statistics are not read. */
static bool narrow(const int64_t *lo, const int64_t *hi, int nparts)
{
	int64_t all_lo = INT64_MAX, all_hi = INT64_MIN;

	for (int i = 0; i < nparts; i++)
		if (lo[i] <= hi[i]) {
			all_lo = lo[i] < all_lo ? lo[i] : all_lo;
			all_hi = hi[i] > all_hi ? hi[i] : all_hi;
		}
	for (int i = 0; i < nparts; i++)
		if (lo[i] > hi[i] || (double)hi[i] - (double)lo[i] <= 0.75 * ((double)all_hi - (double)all_lo))
			return true;
	return false;
}

lnode *sql_aligned_side(shape *s, int leaf, int split)
{
	const sql_leaf *t = &s->leaves[leaf], *d = &s->leaves[split];
	const lnode *rp = d->in;
	lnode *src = t->src;
	const column *k, *kt;
	int64_t *lo, *hi;
	size_t *from, *to, read = 0;
	const sql_file_range *f;
	lnode *n = NULL;

	if (!src || src->format != FMT_PARQUET || src->nfiles < 2 || lnode_opt_bool(src, "union_by_name") ||
	    t->bytes < s->p->rq->broadcast_limit / ALIGN_SHARE || !d->src || !rp || rp->kind != L_REPARTITION ||
	    rp->mode != RP_FILES || rp->nparts < 2 || rp->inputs[0] != d->src || d->src->format != FMT_PARQUET ||
	    !find_equality(s, leaf, split, &k, &kt))
		return NULL;
	lo = xcalloc((size_t)rp->nparts, sizeof(int64_t));
	hi = xcalloc((size_t)rp->nparts, sizeof(int64_t));
	from = xcalloc((size_t)rp->nparts, sizeof(size_t));
	to = xcalloc((size_t)rp->nparts, sizeof(size_t));
	if (!part_ranges(s->p, rp, k, lo, hi) || !narrow(lo, hi, rp->nparts) || !(f = sql_file_ranges(s->p, src, kt)))
		goto out;
	for (int i = 0; i < rp->nparts; i++) {
		bool any = false;
		for (size_t j = 0; j < src->nfiles; j++)
			if (f[j].keys && f[j].lo <= hi[i] && f[j].hi >= lo[i]) {
				from[i] = any ? from[i] : j;
				to[i] = j + 1;
				any = true;
			}
		read += to[i] - from[i];
	}
	if (read >= (size_t)rp->nparts * src->nfiles)
		goto out; /* every part would read every file */
	n = sql_node(s->p, L_REPARTITION, "aligned");
	n->mode = RP_ALIGNED;
	n->nparts = rp->nparts;
	n->inputs = xcalloc(1, sizeof(lnode *));
	n->inputs[0] = src;
	n->ninputs = 1;
	n->aligned_lo = from;
	n->aligned_hi = to;
	from = to = NULL;
	n->key_desc = xasprintf("%s.%s, meeting %s.%s", t->alias, kt->name, d->alias, k->name);
	sql_note(s->p,
		 "%s: each part of %s reads only the span of its files whose %s meets that part's %s "
		 "(%zu of %zu files a part, on average)",
		 t->alias, d->alias, kt->name, k->name, (read + (size_t)rp->nparts / 2) / (size_t)rp->nparts,
		 src->nfiles);
out:
	free(lo);
	free(hi);
	free(from);
	free(to);
	return n;
}
