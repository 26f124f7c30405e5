/* sqlbuild.c — parse-tree nodes built by the planner (sqltree.h's
 * "building" functions): each is made as DuckDB's JSON for it, read by
 * sqltree.c, so a built node prints back like a parsed one. */
#include <jansson.h>
#include <stdlib.h>

#include "plan/sqltree.h"
#include "plan/sqltree_int.h"
#include "util/sb.h"

sq_expr *sq_column(const char *table, const char *name)
{
	json_t *names = table ? json_pack("[s, s]", table, name) : json_pack("[s]", name);
	return sqltree_expr_from_json(json_pack("{s:s, s:s, s:s, s:o}", "class", "COLUMN_REF", "type", "COLUMN_REF",
						"alias", "", "column_names", names));
}

static sq_expr *constant(const char *id, json_t *value)
{
	return sqltree_expr_from_json(json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:n}, s:b, s:o}}", "class", "CONSTANT",
						"type", "VALUE_CONSTANT", "alias", "", "value", "type", "id", id,
						"type_info", "is_null", 0, "value", value));
}

sq_expr *sq_int(int64_t v)
{
	return constant("BIGINT", json_integer((json_int_t)v));
}

sq_expr *sq_str(const char *v)
{
	return constant("VARCHAR", json_string(v));
}

sq_expr *sq_star(void)
{
	return sqltree_expr_from_json(json_pack("{s:s, s:s, s:s, s:s, s:[], s:[], s:b, s:n, s:[], s:[]}", "class",
						"STAR", "type", "STAR", "alias", "", "relation_name", "",
						"exclude_list", "replace_list", "columns", 0, "expr",
						"qualified_exclude_list", "rename_list"));
}

static sq_expr *call(const char *name, sq_expr **args, size_t nargs, bool op)
{
	sq_expr *e = sqltree_expr_from_json(json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:[], s:n, s:{s:s, s:[]}, s:b, s:b, s:b, s:s}", "class", "FUNCTION", "type",
		"FUNCTION", "alias", "", "function_name", name, "schema", "", "children", "filter", "order_bys", "type",
		"ORDER_MODIFIER", "orders", "distinct", 0, "is_operator", op, "export_state", 0, "catalog", ""));
	free(e->args);
	e->args = xcalloc(nargs + 1, sizeof(sq_expr *));
	for (size_t i = 0; i < nargs; i++)
		e->args[i] = args[i];
	e->nargs = nargs;
	return e;
}

sq_expr *sq_func(const char *name, sq_expr **args, size_t nargs)
{
	return call(name, args, nargs, false);
}

sq_expr *sq_func1(const char *name, sq_expr *a)
{
	return call(name, &a, 1, false);
}

sq_expr *sq_func2(const char *name, sq_expr *a, sq_expr *b)
{
	sq_expr *v[2] = { a, b };
	return call(name, v, 2, false);
}

sq_expr *sq_op(const char *op, sq_expr *a, sq_expr *b)
{
	sq_expr *v[2] = { a, b };
	return call(op, v, 2, true);
}

sq_expr *sq_compare(const char *type, sq_expr *a, sq_expr *b)
{
	sq_expr *e = sqltree_expr_from_json(json_pack("{s:s, s:s, s:s, s:n, s:n}", "class", "COMPARISON", "type", type,
						      "alias", "", "left", "right"));
	e->args = xrealloc(e->args, 3 * sizeof(sq_expr *));
	e->args[0] = a;
	e->args[1] = b;
	e->nargs = 2;
	return e;
}

sq_expr *sq_and(sq_expr *a, sq_expr *b)
{
	sq_expr *e;

	if (!a || !b)
		return a ? a : b;
	e = sqltree_expr_from_json(json_pack("{s:s, s:s, s:s, s:[]}", "class", "CONJUNCTION", "type", "CONJUNCTION_AND",
					     "alias", "", "children"));
	e->args = xrealloc(e->args, 3 * sizeof(sq_expr *));
	e->args[0] = a;
	e->args[1] = b;
	e->nargs = 2;
	return e;
}

sq_query *sq_select_new(void)
{
	json_t *j = json_pack("{s:s, s:[], s:{s:[]}, s:[], s:{s:s, s:s, s:n}, s:n, s:[], s:[], s:s, s:n, s:n, s:n}",
			      "type", "SELECT_NODE", "modifiers", "cte_map", "map", "select_list", "from_table", "type",
			      "EMPTY", "alias", "", "sample", "where_clause", "group_expressions", "group_sets",
			      "aggregate_handling", "STANDARD_HANDLING", "having", "sample", "qualify");
	return sqltree_query_from_json(j);
}

sq_table *sq_base_table(const char *name, const char *alias)
{
	return sqltree_table_from_json(json_pack("{s:s, s:s, s:n, s:s, s:s, s:[], s:s, s:n}", "type", "BASE_TABLE",
						 "alias", alias ? alias : "", "sample", "schema_name", "", "table_name",
						 name, "column_name_alias", "catalog_name", "", "at_clause"));
}

sq_table *sq_subquery_table(sq_query *q, const char *alias)
{
	sq_table *t = sqltree_table_from_json(json_pack("{s:s, s:s, s:n, s:{s:n, s:[]}, s:[]}", "type", "SUBQUERY",
							"alias", alias ? alias : "", "sample", "subquery", "node",
							"named_param_map", "column_name_alias"));
	t->subquery = q;
	return t;
}

void sq_set_alias(sq_expr *e, const char *alias)
{
	free(e->alias);
	e->alias = xstrdup(alias ? alias : "");
}

void sq_add_select(sq_query *q, sq_expr *e)
{
	q->select = xrealloc(q->select, (q->nselect + 2) * sizeof(sq_expr *));
	q->select[q->nselect++] = e;
}

void sq_add_group(sq_query *q, sq_expr *e)
{
	q->groups = xrealloc(q->groups, (q->ngroups + 2) * sizeof(sq_expr *));
	q->groups[q->ngroups++] = e;
}

void sq_add_order(sq_query *q, sq_expr *e, sq_dir dir, sq_nulls nulls)
{
	q->orders = xrealloc(q->orders, (q->norders + 2) * sizeof(sq_order));
	q->orders[q->norders++] = (sq_order){ dir, nulls, e };
	q->has_order = true;
}

void sq_drop_ctes(sq_query *q)
{
	for (size_t i = 0; i < q->nctes; i++) {
		free(q->ctes[i].name);
		sq_query_free(q->ctes[i].query);
		json_decref(q->ctes[i].raw);
	}
	q->nctes = 0;
}
