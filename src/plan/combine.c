/* combine.c — map-side partial aggregation (see combine.h).
 *
 *   agg = partial_sql('SELECT k, count(*) AS n, sum(v) AS s FROM {0}
 *                      GROUP BY k', df.repartition(8, hash_by='k'))
 *
 * ships every row of df through the shuffle. When the shuffle keys are
 * among the GROUP BY columns, every row of a group goes to the same
 * partition, so each producer may run the query on its own share first
 * and ship one row per group; the consumer then merges the partial rows:
 * count -> sum of counts, sum -> sum, min -> min, max -> max. The result
 * per partition is the same set of rows. Only queries whose parse tree
 * has exactly that shape are rewritten: a plain SELECT of the group
 * columns and aliased aggregates from {0}, optional WHERE, GROUP BY plain
 * columns; no HAVING, DISTINCT, FILTER, ORDER BY, LIMIT, window or CTE. */
#include "plan/combine.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/sqltree.h"
#include "util/sb.h"

/* The column a plain, unqualified column reference names, or NULL. */
static const char *column_of(const sq_expr *e)
{
	return e->kind == SQ_COLUMN && e->nnames == 1 ? e->names[0] : NULL;
}

static bool in_list(const char *name, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(name, v[i]))
			return true;
	return false;
}

/* The merge of a partial aggregate: count(...) -> sum, sum, min, max. */
static const char *merge_of(const sq_expr *f)
{
	static const char *const same[] = { "sum", "min", "max", NULL };

	if (f->kind != SQ_FUNCTION || f->distinct || f->filter || f->norders || f->export_state || f->qualified)
		return NULL;
	if (!strcmp(f->fname, "count_star") || (!strcmp(f->fname, "count") && f->nargs == 1))
		return "sum";
	for (int i = 0; same[i]; i++)
		if (!strcmp(f->fname, same[i]) && f->nargs == 1)
			return same[i];
	return NULL;
}

static bool note_subquery(sq_expr **slot, void *found)
{
	if ((*slot)->kind == SQ_SUBQUERY)
		*(bool *)found = true;
	return true;
}

/* Whether any expression holds a subquery: one could read the whole
 * partition (WHERE v > (SELECT avg(v) FROM {0})), which a producer, seeing
 * only its share, would compute differently. */
static bool has_subquery(sq_query *q)
{
	bool found = false;

	for (size_t i = 0; i < q->nselect; i++)
		sq_visit(&q->select[i], note_subquery, &found);
	for (size_t i = 0; i < q->ngroups; i++)
		sq_visit(&q->groups[i], note_subquery, &found);
	sq_visit(&q->where, note_subquery, &found);
	return found;
}

/* The one plain SELECT … FROM __pond_in [WHERE …] GROUP BY … this rewrite
 * knows, with nothing else around it. */
static bool plain_shape(sq_query *q)
{
	const sq_table *from = q->from;

	return q->kind == SQ_SELECT && !q->has_order && !q->has_limit && !q->distinct && !q->odd_modifier &&
	       !q->nctes && !q->having && !q->qualify && !q->sample && !q->group_all && q->plain_groups &&
	       q->ngroups > 0 && from && from->kind == SQ_BASE && !strcmp(from->name, "__pond_in") &&
	       !from->qualified && !from->sample && !has_subquery(q);
}

/* Appends select item e's merge to the consumer's query; false if it has
 * none. */
static bool add_item(sb *q, const sq_expr *e, char *const *gcols, size_t ng)
{
	const char *c = column_of(e), *alias = e->alias;

	if (c && in_list(c, gcols, ng) && (!*alias || !strcasecmp(alias, c))) {
		sb_sql_ident(q, c);
		return true;
	}
	if (!*alias || !merge_of(e))
		return false;
	sb_addf(q, "%s(", merge_of(e));
	sb_sql_ident(q, alias);
	sb_add(q, ")");
	if (!strcmp(merge_of(e), "sum") && strstr(e->fname, "count"))
		sb_add(q, "::BIGINT");
	sb_add(q, " AS ");
	sb_sql_ident(q, alias);
	return true;
}

char *combine_consumer_query(sq_query *tree, char *const *keys, size_t nkeys)
{
	char **gcols;
	size_t ng, i;
	sb q = SB_INIT, group = SB_INIT;
	bool ok = true;

	if (!tree || !plain_shape(tree))
		return NULL;
	ng = tree->ngroups;
	gcols = xcalloc(ng + 1, sizeof(char *));
	for (i = 0; ok && i < ng; i++) {
		gcols[i] = (char *)column_of(tree->groups[i]);
		ok = gcols[i] != NULL;
	}
	/* every shuffle key must be a group column, so a group never spans
	 * two partitions */
	for (i = 0; ok && i < nkeys; i++)
		ok = in_list(keys[i], gcols, ng);
	sb_add(&q, "SELECT ");
	for (i = 0; ok && i < tree->nselect; i++) {
		sb_add(&q, i ? ", " : "");
		ok = add_item(&q, tree->select[i], gcols, ng);
	}
	/* the group columns (the shuffle keys among them) must come out of
	 * the producer as columns, or the merge could not group by them */
	for (i = 0; ok && i < ng; i++) {
		bool seen = false;
		for (size_t k = 0; k < tree->nselect; k++) {
			const sq_expr *e = tree->select[k];
			const char *c = column_of(e);
			seen |= c && !strcasecmp(c, gcols[i]) && (!*e->alias || !strcasecmp(e->alias, c));
		}
		ok = seen;
	}
	for (i = 0; ok && i < ng; i++) {
		sb_add(&group, i ? ", " : "");
		sb_sql_ident(&group, gcols[i]);
	}
	if (ok)
		sb_addf(&q, " FROM {0} GROUP BY %s", sb_str(&group));
	free(gcols);
	sb_release(&group);
	if (!ok) {
		sb_release(&q);
		return NULL;
	}
	return sb_detach(&q);
}

static bool candidate(const lnode *n)
{
	const lnode *rp = n->ninputs == 1 ? n->inputs[0] : NULL;
	return n->kind == L_PARTIAL && !n->rowwise && rp && rp->kind == L_REPARTITION && rp->mode == RP_HASH &&
	       rp->nkeys > 0 && !strstr(n->query, "{partition}");
}

/* The query with {0} named __pond_in, as the parser will see it. */
char *combine_as_table(const char *q)
{
	sb b = SB_INIT;
	for (const char *p = q; *p;) {
		if (!strncmp(p, "{0}", 3)) {
			sb_add(&b, "__pond_in");
			p += 3;
		} else {
			sb_addn(&b, p++, 1);
		}
	}
	return sb_detach(&b);
}

void combine_plan(lplan *lp, plandb *db)
{
	for (size_t i = 0; i < lp->nnodes; i++) {
		lnode *n = lp->nodes[i];
		pond_err quiet = { 0 };
		sq_query *t = NULL;
		char *q;
		if (!candidate(n))
			continue;
		q = combine_as_table(n->query);
		/* a plan bound in two calls (plan_bind_from) meets a node twice */
		free(n->combine);
		n->combine = NULL;
		if (sqltree_parse(db, q, &t, &quiet) == 0)
			n->combine = combine_consumer_query(t, n->inputs[0]->key_names, n->inputs[0]->nkeys);
		sq_query_free(t);
		free(q);
	}
}
