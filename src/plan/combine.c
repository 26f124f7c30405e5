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

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/plandb.h"
#include "util/sb.h"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* The column a plain, unqualified COLUMN_REF names, or NULL. */
static const char *column_of(const json_t *e)
{
	const json_t *names = json_object_get(e, "column_names");
	if (strcmp(str(e, "class"), "COLUMN_REF") || json_array_size(names) != 1)
		return NULL;
	return json_string_value(json_array_get(names, 0));
}

static bool in_list(const char *name, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(name, v[i]))
			return true;
	return false;
}

/* The merge of a partial aggregate: count(...) -> sum, sum, min, max. */
static const char *merge_of(const json_t *f)
{
	static const char *const same[] = { "sum", "min", "max", NULL };
	const char *fn = str(f, "function_name");
	const json_t *orders = json_object_get(json_object_get(f, "order_bys"), "orders");

	if (strcmp(str(f, "class"), "FUNCTION") || json_is_true(json_object_get(f, "distinct")) ||
	    !json_is_null(json_object_get(f, "filter")) || json_array_size(orders) ||
	    json_is_true(json_object_get(f, "export_state")) || *str(f, "schema") || *str(f, "catalog"))
		return NULL;
	if (!strcmp(fn, "count_star") || (!strcmp(fn, "count") && json_array_size(json_object_get(f, "children")) == 1))
		return "sum";
	for (int i = 0; same[i]; i++)
		if (!strcmp(fn, same[i]) && json_array_size(json_object_get(f, "children")) == 1)
			return same[i];
	return NULL;
}

/* Whether any node below holds a subquery: one could read the whole
 * partition (WHERE v > (SELECT avg(v) FROM {0})), which a producer, seeing
 * only its share, would compute differently. */
static bool has_subquery(const json_t *j)
{
	const char *key;
	const json_t *v;
	size_t i;

	if (json_is_object(j)) {
		if (!strcmp(str(j, "class"), "SUBQUERY") || !strcmp(str(j, "type"), "SUBQUERY"))
			return true;
		json_object_foreach ((json_t *)j, key, v)
			if (has_subquery(v))
				return true;
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (has_subquery(v))
				return true;
	}
	return false;
}

char *combine_consumer_query(const json_t *tree, char *const *keys, size_t nkeys)
{
	const json_t *stmts = json_object_get(tree, "statements");
	const json_t *node = json_object_get(json_array_get(stmts, 0), "node");
	const json_t *from = json_object_get(node, "from_table");
	const json_t *groups = json_object_get(node, "group_expressions");
	const json_t *list = json_object_get(node, "select_list");
	char **gcols;
	size_t ng = json_array_size(groups), i;
	sb q = SB_INIT, group = SB_INIT;
	json_t *e;
	bool ok = true;

	if (json_array_size(stmts) != 1 || strcmp(str(node, "type"), "SELECT_NODE") ||
	    json_array_size(json_object_get(node, "modifiers")) ||
	    json_array_size(json_object_get(json_object_get(node, "cte_map"), "map")) ||
	    !json_is_null(json_object_get(node, "having")) || !json_is_null(json_object_get(node, "qualify")) ||
	    !json_is_null(json_object_get(node, "sample")) ||
	    strcmp(str(node, "aggregate_handling"), "STANDARD_HANDLING") || strcmp(str(from, "type"), "BASE_TABLE") ||
	    strcmp(str(from, "table_name"), "__pond_in") || *str(from, "schema_name") ||
	    !json_is_null(json_object_get(from, "sample")) || ng == 0 ||
	    json_array_size(json_object_get(node, "group_sets")) != 1 || has_subquery(node))
		return NULL;
	gcols = xcalloc(ng + 1, sizeof(char *));
	json_array_foreach (groups, i, e) {
		const char *c = column_of(e);
		if (!c) {
			ok = false;
			break;
		}
		gcols[i] = (char *)c;
	}
	/* every shuffle key must be a group column, so a group never spans
	 * two partitions */
	for (i = 0; ok && i < nkeys; i++)
		ok = in_list(keys[i], gcols, ng);
	sb_add(&q, "SELECT ");
	json_array_foreach (list, i, e) {
		const char *c = column_of(e), *alias = str(e, "alias");
		if (!ok)
			break;
		if (i)
			sb_add(&q, ", ");
		if (c && in_list(c, gcols, ng) && (!*alias || !strcasecmp(alias, c))) {
			sb_sql_ident(&q, c);
		} else if (*alias && merge_of(e)) {
			sb_addf(&q, "%s(", merge_of(e));
			sb_sql_ident(&q, alias);
			sb_add(&q, ")");
			if (!strcmp(merge_of(e), "sum") && strstr(str(e, "function_name"), "count"))
				sb_add(&q, "::BIGINT");
			sb_add(&q, " AS ");
			sb_sql_ident(&q, alias);
		} else {
			ok = false;
		}
	}
	/* the group columns (the shuffle keys among them) must come out of
	 * the producer as columns, or the merge could not group by them */
	for (i = 0; ok && i < ng; i++) {
		bool seen = false;
		size_t k;
		json_array_foreach (list, k, e) {
			const char *c = column_of(e), *alias = str(e, "alias");
			seen |= c && !strcasecmp(c, gcols[i]) && (!*alias || !strcasecmp(alias, c));
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

/* DuckDB's parse tree of q (json_serialize_sql), or NULL. */
static json_t *parse_tree(plandb *db, const char *q)
{
	sb sql = SB_INIT;
	pdb_result r;
	pond_err quiet = { 0 };
	json_t *tree = NULL;

	sb_add(&sql, "SELECT json_serialize_sql(");
	sb_sql_str(&sql, q);
	sb_add(&sql, ")");
	if (plandb_query(db, sb_str(&sql), &r, &quiet) == PDB_OK) {
		json_t *doc = pdb_cell(&r, 0, 0) ? json_loads(pdb_cell(&r, 0, 0), 0, NULL) : NULL;
		if (doc && json_is_false(json_object_get(doc, "error")))
			tree = json_incref(doc);
		json_decref(doc);
		pdb_result_release(&r);
	}
	sb_release(&sql);
	return tree;
}

void combine_plan(lplan *lp, plandb *db)
{
	for (size_t i = 0; i < lp->nnodes; i++) {
		lnode *n = lp->nodes[i];
		char *q;
		json_t *t;
		if (!candidate(n))
			continue;
		q = combine_as_table(n->query);
		t = parse_tree(db, q);
		if (t)
			n->combine = combine_consumer_query(t, n->inputs[0]->key_names, n->inputs[0]->nkeys);
		json_decref(t);
		free(q);
	}
}
