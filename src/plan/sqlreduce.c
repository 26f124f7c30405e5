/* sqlreduce.c — a co-partitioned join's big side reduced before its
 * shuffle (docs/SQL.md, "Join reduction").
 *
 * When one side of a co-partitioned join is small (its files within
 * --broadcast-limit) but may not be broadcast (the join keeps its rows
 * unmatched: TPC-H Q4's orders, the left of a SEMI join), and the other
 * side is bigger and not kept unmatched, the big side's rows whose keys
 * meet no key of the small side make no output row. So:
 * - when the small side is filtered (else its keys could be all of the
 *   big side's, as under a foreign key), one task computes its distinct
 *   keys (after the conjuncts its own shuffle applies first: they drop
 *   only rows the query drops), a stage of its own, so that the small
 *   side is read once rather than by every producer of the big one;
 * - every producer of the big side reads them whole and keeps its rows
 *   that SEMI JOIN them on the join's equalities, as written (`=`, so the
 *   same casts as the join's ON, and a NULL key meets nothing, as in the
 *   join); the inner side of a SEMI/ANTI join ships each row once
 *   (DISTINCT): only whether a row exists matters there.
 * The keys are equalities of the ON's top-level AND, so a big-side row
 * they drop fails the ON against every small-side row, whatever the rest
 * of the ON says (NOT IN's `x = c OR c IS NULL OR x IS NULL` included).
 * FULL joins, and sides the join keeps, are not reduced. */
#include <stdlib.h>
#include <string.h>

#include "plan/sqlplan_int.h"

/* The small side's distinct keys as __pond_r0, __pond_r1, …, after its
 * filter (small_where: the conjuncts its own shuffle applies): one task. */
static lnode *key_set(shape *s, int small, const sb *small_where, char **keys, size_t n)
{
	const sql_leaf *l = &s->leaves[small];
	lnode *in = l->src ? l->src : l->node;
	sb q = SB_INIT;
	lnode *g;

	sb_add(&q, "SELECT DISTINCT ");
	for (size_t k = 0; k < n; k++) {
		sb_add(&q, k ? ", " : "");
		sb_sql_ident(&q, l->alias);
		sb_add(&q, ".");
		sb_sql_ident(&q, keys[k]);
		sb_addf(&q, " AS __pond_r%zu", k);
	}
	sb_add(&q, " FROM \"{0}\" AS ");
	sb_sql_ident(&q, l->alias);
	if (small_where->len)
		sb_addf(&q, " WHERE %s", sb_str(small_where));
	g = sql_gather(s->p, "join keys", sb_str(&q), &in, 1);
	sb_release(&q);
	return g;
}

/* The big side read in parts: a source split without moving data, or a
 * derived table's partitions. NULL when a source cannot be split (its
 * reason is not the query's: p->why is left as it was). */
static lnode *parts_of(shape *s, const sql_leaf *l)
{
	char *why = s->p->why;
	lnode *n;

	if (!l->src)
		return l->node->nparts > 1 ? l->node : NULL;
	s->p->why = NULL;
	n = sql_split_leaf(s->p, l);
	free(s->p->why);
	s->p->why = why;
	return n;
}

/* Whether the small side's keys are likely fewer than the big side's:
 * its rows filtered (conjuncts pushed into its shuffle; a derived table
 * with a WHERE, HAVING or a join). A side read whole, such as TPC-H
 * Q13's customer under orders' foreign key, would keep every big row
 * and only add a stage. A source side's filter is left in *where. */
static bool filtered(shape *s, int small, sb *where)
{
	const sql_leaf *l = &s->leaves[small];
	sb cols = SB_INIT;

	if (!l->src)
		return l->sub && (l->sub->where || l->sub->having || (l->sub->from && l->sub->from->kind == SQ_JOIN));
	(void)sql_side_filter(s, small, &cols, where);
	sb_release(&cols);
	return where->len > 0;
}

lnode *sql_reduced_side(shape *s, int big, int small, char **bkeys, char **skeys, size_t n, bool distinct)
{
	sql_leaf *l = &s->leaves[big];
	sb q = SB_INIT, cols = SB_INIT, where = SB_INIT, on = SB_INIT, small_where = SB_INIT;
	lnode *ins[2], *r;

	if (!filtered(s, small, &small_where) || !(ins[0] = parts_of(s, l))) {
		sb_release(&small_where);
		return NULL;
	}
	ins[1] = key_set(s, small, &small_where, skeys, n);
	sb_release(&small_where);
	if (!l->src || !sql_side_filter(s, big, &cols, &where)) {
		sb_reset(&cols);
		sb_sql_ident(&cols, l->alias);
		sb_add(&cols, ".*");
	}
	for (size_t k = 0; k < n; k++) {
		sb_add(&on, k ? " AND " : "");
		sb_sql_ident(&on, l->alias);
		sb_add(&on, ".");
		sb_sql_ident(&on, bkeys[k]);
		sb_addf(&on, " = __pond_keys.__pond_r%zu", k);
	}
	sb_addf(&q, "SELECT %s%s FROM \"{0}\" AS ", distinct ? "DISTINCT " : "", sb_str(&cols));
	sb_sql_ident(&q, l->alias);
	sb_addf(&q, " SEMI JOIN \"{1}\" AS __pond_keys ON %s", sb_str(&on));
	if (where.len)
		sb_addf(&q, " WHERE %s", sb_str(&where));
	if (l->src)
		l->filtered = true; /* the rows sql_side_filter keeps */
	r = sql_node(s->p, L_PARTIAL, "reduced join side");
	r->query = sb_detach(&q);
	r->inputs = xcalloc(3, sizeof(lnode *));
	r->inputs[0] = ins[0];
	r->inputs[1] = ins[1];
	r->ninputs = 2;
	r->nparts = ins[0]->nparts;
	sql_note(s->p,
		 "join reduction: %s's rows kept before the shuffle only when their keys are among %s's "
		 "(its %zu key%s computed once, distinct, by one task)%s%s%s",
		 l->alias, s->leaves[small].alias, n, n == 1 ? "" : "s", distinct ? "; each row shipped once" : "",
		 where.len ? "; its rows filtered before that by " : "", sb_str(&where));
	sb_release(&cols);
	sb_release(&where);
	sb_release(&on);
	return r;
}
