/* sqltree.c — DuckDB's parse trees as pond's types (see sqltree.h). Called
 * by the SQL planner and the combiner. The one place that reads the JSON
 * of json_serialize_sql; it writes it back for json_deserialize_sql.
 *
 * A node keeps its JSON as `raw`, with the parts that are modelled (child
 * expressions, names, modifiers) taken out; writing a node copies raw and
 * puts the modelled parts back from the struct, so whatever pond does not
 * model survives a round trip. query_location is dropped on reading:
 * DuckDB does not need it back, and it makes equal expressions differ. */
#include "plan/sqltree.h"
#include "plan/sqltree_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/sb.h"

/* Where a child expression sits in its parent's raw JSON: keys and array
 * indexes separated by '/' ("case_checks/0/then_expr"). */
struct sq_slot {
	char *path;
};

/* Integers beyond 64 bits (a HUGEINT constant's halves, an unset
 * query_location) do not fit jansson's json_int_t: they cross jansson as
 * strings with this prefix. */
#define BIG_MARK "\x01\x02pond-bigint:"
#define BIG_MARK_JSON "\\u0001\\u0002pond-bigint:"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static sq_expr *load_expr(const json_t *j);
static sq_query *load_query(const json_t *j);
static sq_table *load_table(const json_t *j);
static json_t *dump_expr(const sq_expr *e);
static json_t *dump_query(const sq_query *q);
static json_t *dump_table(const sq_table *t);

/* ---- reading --------------------------------------------------------------- */

static sq_expr **load_list(const json_t *a, size_t *n)
{
	sq_expr **v = xcalloc(json_array_size(a) + 1, sizeof(sq_expr *));
	size_t i;
	json_t *x;

	json_array_foreach (a, i, x)
		v[i] = load_expr(x);
	*n = json_array_size(a);
	return v;
}

static sq_order *load_orders(const json_t *a, size_t *n)
{
	sq_order *v = xcalloc(json_array_size(a) + 1, sizeof(sq_order));
	size_t i;
	json_t *x;

	json_array_foreach (a, i, x) {
		const char *d = str(x, "type"), *nl = str(x, "null_order");
		v[i].dir = !strcmp(d, "ASCENDING") ? SQ_ASC : !strcmp(d, "DESCENDING") ? SQ_DESC : SQ_DIR_DEFAULT;
		v[i].nulls = !strcmp(nl, "NULLS FIRST")  ? SQ_NULLS_FIRST
			     : !strcmp(nl, "NULLS LAST") ? SQ_NULLS_LAST
							 : SQ_NULLS_DEFAULT;
		v[i].e = load_expr(json_object_get(x, "expression"));
	}
	*n = json_array_size(a);
	return v;
}

static char **load_strings(const json_t *a, size_t *n)
{
	char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
	size_t i;
	json_t *x;

	json_array_foreach (a, i, x)
		v[i] = xstrdup(json_string_value(x) ? json_string_value(x) : "");
	*n = json_array_size(a);
	return v;
}

static bool is_expr(const json_t *j)
{
	return json_is_object(j) && json_object_get(j, "class");
}

/* Every expression below j (not j itself), with its path: taken out of j
 * (set to null) into *v, its place recorded in *slots. */
static void take_slots(json_t *j, sb *path, sq_expr ***v, size_t *n, sq_slot **slots, const char *const *skip)
{
	size_t len = path->len, i;
	const char *key;
	json_t *x;

	if (json_is_object(j)) {
		void *tmp;
		json_object_foreach_safe(j, tmp, key, x)
		{
			bool skipped = false;
			for (size_t s = 0; skip && skip[s]; s++)
				skipped |= !strcmp(key, skip[s]);
			if (skipped)
				continue;
			sb_addf(path, "%s%s", len ? "/" : "", key);
			if (is_expr(x)) {
				*v = xgrow(*v, *n, sizeof(sq_expr *));
				*slots = xgrow(*slots, *n, sizeof(sq_slot));
				(*slots)[*n].path = xstrdup(sb_str(path));
				(*v)[(*n)++] = load_expr(x);
				json_object_set_new(j, key, json_null());
			} else if (json_is_object(x) || json_is_array(x)) {
				take_slots(x, path, v, n, slots, NULL);
			}
			path->len = len;
			if (path->buf)
				path->buf[len] = '\0';
		}
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, x) {
			sb_addf(path, "%s%zu", len ? "/" : "", i);
			if (is_expr(x)) {
				*v = xgrow(*v, *n, sizeof(sq_expr *));
				*slots = xgrow(*slots, *n, sizeof(sq_slot));
				(*slots)[*n].path = xstrdup(sb_str(path));
				(*v)[(*n)++] = load_expr(x);
				json_array_set_new(j, i, json_null());
			} else if (json_is_object(x) || json_is_array(x)) {
				take_slots(x, path, v, n, slots, NULL);
			}
			path->len = len;
			if (path->buf)
				path->buf[len] = '\0';
		}
	}
}

static sq_kind kind_of(const char *cls)
{
	static const struct {
		const char *cls;
		sq_kind kind;
	} kinds[] = {
		{ "COLUMN_REF", SQ_COLUMN },
		{ "CONSTANT", SQ_CONSTANT },
		{ "FUNCTION", SQ_FUNCTION },
		{ "WINDOW", SQ_WINDOW },
		{ "STAR", SQ_STAR },
		{ "SUBQUERY", SQ_SUBQUERY },
		{ "COMPARISON", SQ_COMPARISON },
		{ "CONJUNCTION", SQ_CONJUNCTION },
		{ "CAST", SQ_CAST },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(cls, kinds[i].cls))
			return kinds[i].kind;
	return SQ_OTHER;
}

static bool is_integer_id(const char *id)
{
	static const char *const ids[] = { "TINYINT",   "SMALLINT", "INTEGER", "BIGINT", "UTINYINT",
					   "USMALLINT", "UINTEGER", "UBIGINT", NULL };
	for (int i = 0; ids[i]; i++)
		if (!strcmp(id, ids[i]))
			return true;
	return false;
}

static void load_constant(sq_expr *e, const json_t *j)
{
	const json_t *v = json_object_get(j, "value");
	const char *id = str(json_object_get(v, "type"), "id");
	const json_t *x = json_object_get(v, "value");

	e->is_null = json_is_true(json_object_get(v, "is_null"));
	if (!e->is_null && is_integer_id(id) && json_is_integer(x)) {
		e->is_int = true;
		e->ival = json_integer_value(x);
	} else if (!e->is_null && !strcmp(id, "VARCHAR") && json_is_string(x)) {
		e->is_str = true;
		free(e->sval);
		e->sval = xstrdup(json_string_value(x));
	}
}

/* The fields of a FUNCTION or WINDOW node, taken out of raw. */
static void load_call(sq_expr *e, json_t *raw)
{
	e->fname = xstrdup(str(raw, "function_name"));
	e->qualified = *str(raw, "schema") || *str(raw, "catalog");
	e->distinct = json_is_true(json_object_get(raw, "distinct"));
	e->export_state = json_is_true(json_object_get(raw, "export_state"));
	e->args = load_list(json_object_get(raw, "children"), &e->nargs);
	json_object_set_new(raw, "children", json_array());
	if (e->kind == SQ_FUNCTION) {
		e->filter = load_expr(json_object_get(raw, "filter"));
		json_object_set_new(raw, "filter", json_null());
		e->orders = load_orders(json_object_get(json_object_get(raw, "order_bys"), "orders"), &e->norders);
		json_object_set_new(json_object_get(raw, "order_bys"), "orders", json_array());
	} else {
		static const char *const skip[] = { "class",   "type",     "alias",      "function_name", "schema",
						    "catalog", "children", "partitions", "orders",        NULL };
		sb path = SB_INIT;
		e->partitions = load_list(json_object_get(raw, "partitions"), &e->npartitions);
		json_object_set_new(raw, "partitions", json_array());
		e->orders = load_orders(json_object_get(raw, "orders"), &e->norders);
		json_object_set_new(raw, "orders", json_array());
		take_slots(raw, &path, &e->more, &e->nmore, &e->slots, skip);
		sb_release(&path);
	}
}

/* Explicit operands: COMPARISON left/right, CONJUNCTION children, CAST
 * child, SUBQUERY child. */
static void load_operands(sq_expr *e, json_t *raw)
{
	if (e->kind == SQ_CONJUNCTION) {
		e->args = load_list(json_object_get(raw, "children"), &e->nargs);
		json_object_set_new(raw, "children", json_array());
		return;
	}
	e->args = xcalloc(3, sizeof(sq_expr *));
	if (e->kind == SQ_COMPARISON) {
		e->args[e->nargs++] = load_expr(json_object_get(raw, "left"));
		e->args[e->nargs++] = load_expr(json_object_get(raw, "right"));
		json_object_set_new(raw, "left", json_null());
		json_object_set_new(raw, "right", json_null());
	} else if (is_expr(json_object_get(raw, "child"))) {
		e->args[e->nargs++] = load_expr(json_object_get(raw, "child"));
		json_object_set_new(raw, "child", json_null());
	}
}

static sq_expr *load_expr(const json_t *j)
{
	sq_expr *e;
	json_t *raw;

	if (!is_expr(j))
		return NULL;
	e = xcalloc(1, sizeof(sq_expr));
	raw = json_deep_copy(j);
	json_object_del(raw, "query_location");
	e->cls = xstrdup(str(j, "class"));
	e->type = xstrdup(str(j, "type"));
	e->alias = xstrdup(str(j, "alias"));
	e->kind = kind_of(e->cls);
	e->sval = xstrdup("");
	e->subquery_type = xstrdup("");
	e->subquery_cmp = xstrdup("");
	e->type_id = xstrdup("");
	switch (e->kind) {
	case SQ_COLUMN:
		e->names = load_strings(json_object_get(j, "column_names"), &e->nnames);
		break;
	case SQ_CONSTANT:
		load_constant(e, j);
		break;
	case SQ_FUNCTION:
	case SQ_WINDOW:
		load_call(e, raw);
		break;
	case SQ_SUBQUERY:
		e->subquery = load_query(json_object_get(json_object_get(j, "subquery"), "node"));
		json_object_set_new(json_object_get(raw, "subquery"), "node", json_null());
		free(e->subquery_type);
		e->subquery_type = xstrdup(str(j, "subquery_type"));
		free(e->subquery_cmp);
		e->subquery_cmp = xstrdup(str(j, "comparison_type"));
		load_operands(e, raw);
		break;
	case SQ_CAST:
		free(e->type_id);
		e->type_id = xstrdup(str(json_object_get(j, "cast_type"), "id"));
		load_operands(e, raw);
		break;
	case SQ_COMPARISON:
	case SQ_CONJUNCTION:
		load_operands(e, raw);
		break;
	case SQ_STAR:
	case SQ_OTHER: {
		static const char *const skip[] = { "class", "type", "alias", NULL };
		sb path = SB_INIT;
		take_slots(raw, &path, &e->args, &e->nargs, &e->slots, skip);
		sb_release(&path);
		break;
	}
	}
	if (!e->names)
		e->names = xcalloc(1, sizeof(char *));
	if (!e->fname)
		e->fname = xstrdup("");
	e->raw = raw;
	return e;
}

/* A table reference pond does not plan (PIVOT, UNPIVOT, VALUES, DESCRIBE,
 * SUMMARIZE) still reads tables: a PIVOT's source, DESCRIBE's query, a
 * subquery among VALUES' rows. They are taken out of raw, as a JOIN's
 * sides are, so that every walk of the tree sees them. */
static void load_other_table(sq_table *t, const json_t *j, json_t *raw)
{
	sb path = SB_INIT;

	if (json_is_object(json_object_get(j, "source"))) {
		t->source = load_table(json_object_get(j, "source"));
		json_object_set_new(raw, "source", json_null());
	}
	if (json_is_object(json_object_get(j, "query"))) {
		t->subquery = load_query(json_object_get(j, "query"));
		json_object_set_new(raw, "query", json_null());
	}
	take_slots(raw, &path, &t->exprs, &t->nexprs, &t->slots, NULL);
	sb_release(&path);
}

static sq_table *load_table(const json_t *j)
{
	static const char *const kinds[] = { [SQ_BASE] = "BASE_TABLE", [SQ_TABLE_FUNCTION] = "TABLE_FUNCTION",
					     [SQ_JOIN] = "JOIN",       [SQ_SUBQUERY_REF] = "SUBQUERY",
					     [SQ_EMPTY] = "EMPTY",     [SQ_TABLE_OTHER] = "" };
	sq_table *t;
	json_t *raw;
	size_t nusing;

	if (!json_is_object(j))
		return NULL;
	t = xcalloc(1, sizeof(sq_table));
	raw = json_deep_copy(j);
	json_object_del(raw, "query_location");
	t->kind = SQ_TABLE_OTHER;
	for (int k = SQ_BASE; k < SQ_TABLE_OTHER; k++)
		if (!strcmp(str(j, "type"), kinds[k]))
			t->kind = (sq_table_kind)k;
	t->alias = xstrdup(str(j, "alias"));
	t->ncol_aliases = json_array_size(json_object_get(j, "column_name_alias"));
	t->sample = json_object_get(j, "sample") && !json_is_null(json_object_get(j, "sample"));
	t->name = xstrdup(str(j, "table_name"));
	t->qualified = *str(j, "schema_name") || *str(j, "catalog_name");
	t->join_type = xstrdup(str(j, "join_type"));
	t->ref_type = xstrdup(str(j, "ref_type"));
	t->using = load_strings(json_object_get(j, "using_columns"), &nusing);
	t->nusing = nusing;
	if (t->kind == SQ_TABLE_FUNCTION) {
		t->func = load_expr(json_object_get(j, "function"));
		json_object_set_new(raw, "function", json_null());
	} else if (t->kind == SQ_JOIN) {
		t->left = load_table(json_object_get(j, "left"));
		t->right = load_table(json_object_get(j, "right"));
		t->cond = load_expr(json_object_get(j, "condition"));
		json_object_set_new(raw, "left", json_null());
		json_object_set_new(raw, "right", json_null());
		json_object_set_new(raw, "condition", json_null());
	} else if (t->kind == SQ_SUBQUERY_REF) {
		t->subquery = load_query(json_object_get(json_object_get(j, "subquery"), "node"));
		json_object_set_new(json_object_get(raw, "subquery"), "node", json_null());
	} else if (t->kind == SQ_TABLE_OTHER) {
		load_other_table(t, j, raw);
	}
	t->raw = raw;
	return t;
}

/* ORDER BY, LIMIT and DISTINCT are modelled; other modifiers stay in raw. */
static void load_modifiers(sq_query *q, json_t *raw)
{
	const json_t *mods = json_object_get(raw, "modifiers");
	json_t *odd = json_array();
	size_t i;
	json_t *m;

	json_array_foreach (mods, i, m) {
		const char *t = str(m, "type");
		if (!strcmp(t, "ORDER_MODIFIER")) {
			q->has_order = true;
			q->orders = load_orders(json_object_get(m, "orders"), &q->norders);
		} else if (!strcmp(t, "LIMIT_MODIFIER")) {
			q->has_limit = true;
			q->limit = load_expr(json_object_get(m, "limit"));
			q->offset = load_expr(json_object_get(m, "offset"));
		} else if (!strcmp(t, "DISTINCT_MODIFIER")) {
			q->distinct = true;
			q->distinct_on = load_list(json_object_get(m, "distinct_on_targets"), &q->ndistinct_on);
		} else {
			q->odd_modifier = true;
			json_array_append(odd, m);
		}
	}
	json_object_set_new(raw, "modifiers", odd);
}

static void load_ctes(sq_query *q, json_t *raw)
{
	const json_t *map = json_object_get(json_object_get(raw, "cte_map"), "map");
	size_t i;
	json_t *m;

	q->ctes = xcalloc(json_array_size(map) + 1, sizeof(sq_cte));
	json_array_foreach (map, i, m) {
		const json_t *v = json_object_get(m, "value");
		sq_cte *c = &q->ctes[q->nctes++];
		c->name = xstrdup(str(m, "key"));
		c->naliases = json_array_size(json_object_get(v, "aliases"));
		c->query = load_query(json_object_get(json_object_get(v, "query"), "node"));
		c->raw = json_deep_copy(v);
		json_object_set_new(json_object_get(c->raw, "query"), "node", json_null());
	}
	json_object_set_new(json_object_get(raw, "cte_map"), "map", json_array());
}

/* Whether group_sets is [] or the one set [0, 1, …, n-1]. */
static bool plain_sets(const json_t *sets, size_t ngroups)
{
	const json_t *s = json_array_get(sets, 0);

	if (json_array_size(sets) == 0)
		return ngroups == 0;
	if (json_array_size(sets) != 1 || json_array_size(s) != ngroups)
		return false;
	for (size_t i = 0; i < ngroups; i++)
		if (json_integer_value(json_array_get(s, i)) != (json_int_t)i)
			return false;
	return true;
}

static void load_select(sq_query *q, const json_t *j, json_t *raw)
{
	static const char *const exprs[] = { "where_clause", "having", "qualify", NULL };

	q->select = load_list(json_object_get(j, "select_list"), &q->nselect);
	q->from = load_table(json_object_get(j, "from_table"));
	q->where = load_expr(json_object_get(j, "where_clause"));
	q->having = load_expr(json_object_get(j, "having"));
	q->qualify = load_expr(json_object_get(j, "qualify"));
	q->groups = load_list(json_object_get(j, "group_expressions"), &q->ngroups);
	q->group_all = !strcmp(str(j, "aggregate_handling"), "FORCE_AGGREGATES");
	q->plain_groups = plain_sets(json_object_get(j, "group_sets"), q->ngroups);
	q->sample = !json_is_null(json_object_get(j, "sample"));
	json_object_set_new(raw, "select_list", json_array());
	json_object_set_new(raw, "from_table", json_null());
	json_object_set_new(raw, "group_expressions", json_array());
	for (int i = 0; exprs[i]; i++)
		json_object_set_new(raw, exprs[i], json_null());
}

/* Whether any expression under j, nested queries included, is a COLLATE. */
static bool has_collate(const json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (has_collate(v))
				return true;
		return false;
	}
	if (!json_is_object(j))
		return false;
	if (!strcmp(str(j, "class"), "COLLATE"))
		return true;
	json_object_foreach ((json_t *)j, key, v)
		if (has_collate(v))
			return true;
	return false;
}

static sq_query *load_query(const json_t *j)
{
	sq_query *q;
	json_t *raw;

	if (!json_is_object(j))
		return NULL;
	q = xcalloc(1, sizeof(sq_query));
	q->collates = has_collate(j);
	raw = json_deep_copy(j);
	q->kind = !strcmp(str(j, "type"), "SELECT_NODE")          ? SQ_SELECT
		  : !strcmp(str(j, "type"), "SET_OPERATION_NODE") ? SQ_SETOP
								  : SQ_QUERY_OTHER;
	q->setop = xstrdup(str(j, "setop_type"));
	load_modifiers(q, raw);
	load_ctes(q, raw);
	if (q->kind == SQ_SELECT) {
		load_select(q, j, raw);
	} else if (q->kind == SQ_SETOP) {
		q->setop_all = json_is_true(json_object_get(j, "setop_all"));
		q->left = load_query(json_object_get(j, "left"));
		q->right = load_query(json_object_get(j, "right"));
		json_object_set_new(raw, "left", json_null());
		json_object_set_new(raw, "right", json_null());
	}
	if (!q->select)
		q->select = xcalloc(1, sizeof(sq_expr *));
	if (!q->groups)
		q->groups = xcalloc(1, sizeof(sq_expr *));
	q->raw = raw;
	return q;
}

/* Integers jansson cannot hold become marked strings, outside strings. */
static char *mark_big_ints(const char *s)
{
	sb b = SB_INIT;
	bool in_str = false;

	for (const char *p = s; *p;) {
		if (in_str) {
			if (*p == '\\' && p[1]) {
				sb_addn(&b, p, 2);
				p += 2;
				continue;
			}
			in_str = *p != '"';
		} else if (*p == '"') {
			in_str = true;
		} else if ((*p == '-' || (*p >= '0' && *p <= '9'))) {
			size_t n = strspn(p + (*p == '-'), "0123456789") + (*p == '-');
			if (n >= 19 && !strchr(".eE", p[n])) {
				sb_add(&b, "\"" BIG_MARK_JSON);
				sb_addn(&b, p, n);
				sb_add(&b, "\"");
				p += n;
				continue;
			}
			sb_addn(&b, p, n);
			p += n;
			continue;
		}
		sb_addn(&b, p++, 1);
	}
	return sb_detach(&b);
}

/* The marked strings back as the integers they were. */
static char *unmark_big_ints(const char *s)
{
	const char *mark = "\"" BIG_MARK_JSON;
	size_t mlen = strlen(mark);
	sb b = SB_INIT;

	for (const char *p = s; *p;) {
		if (!strncmp(p, mark, mlen)) {
			size_t n = strcspn(p + mlen, "\"");
			sb_addn(&b, p + mlen, n);
			p += mlen + n + 1;
			continue;
		}
		sb_addn(&b, p++, 1);
	}
	return sb_detach(&b);
}

int sqltree_load(const char *text, sq_query **out, pond_err *err)
{
	char *marked = mark_big_ints(text);
	json_error_t je;
	json_t *doc = json_loads(marked, 0, &je);
	const json_t *stmts = json_object_get(doc, "statements");
	int rc = 0;

	free(marked);
	*out = NULL;
	if (!doc) {
		rc = pond_fail(err, POND_EINTERNAL, "DuckDB's parse tree could not be read: %s", je.text);
	} else if (json_is_true(json_object_get(doc, "error"))) {
		rc = pond_fail(err, POND_EUSAGE, "%s", str(doc, "error_message"));
	} else if (json_array_size(stmts) != 1) {
		rc = pond_fail(err, POND_EUSAGE, "give one query, not %zu statements", json_array_size(stmts));
	} else {
		*out = load_query(json_object_get(json_array_get(stmts, 0), "node"));
		if (!*out)
			rc = pond_fail(err, POND_EUSAGE, "the statement is not a query");
	}
	json_decref(doc);
	return rc;
}

int sqltree_parse(plandb *db, const char *sql, sq_query **out, pond_err *err)
{
	sb q = SB_INIT;
	pdb_result r;
	int rc;

	*out = NULL;
	sb_add(&q, "SELECT json_serialize_sql(");
	sb_sql_str(&q, sql);
	sb_add(&q, ")");
	if (plandb_query(db, sb_str(&q), &r, err)) {
		sb_release(&q);
		return -1;
	}
	sb_release(&q);
	rc = pdb_cell(&r, 0, 0) ? sqltree_load(pdb_cell(&r, 0, 0), out, err)
				: pond_fail(err, POND_EINTERNAL, "json_serialize_sql gave nothing");
	pdb_result_release(&r);
	return rc;
}

/* ---- writing --------------------------------------------------------------- */

static json_t *dump_list(sq_expr *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, dump_expr(v[i]));
	return a;
}

static json_t *dump_orders(const sq_order *v, size_t n)
{
	static const char *const dirs[] = { "ORDER_DEFAULT", "ASCENDING", "DESCENDING" };
	static const char *const nulls[] = { "ORDER_DEFAULT", "NULLS FIRST", "NULLS LAST" };
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "type", dirs[v[i].dir], "null_order",
						   nulls[v[i].nulls], "expression", dump_expr(v[i].e)));
	return a;
}

static json_t *dump_strings(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Puts x (stolen) at path in j. */
static void put_slot(json_t *j, const char *path, json_t *x)
{
	char *p = xstrdup(path), *save = NULL;
	char *step = strtok_r(p, "/", &save);

	while (step) {
		char *next = strtok_r(NULL, "/", &save);
		bool index = json_is_array(j);
		size_t i = index ? strtoul(step, NULL, 10) : 0;
		if (!next) {
			if (index)
				json_array_set_new(j, i, x);
			else
				json_object_set_new(j, step, x);
			x = NULL;
			break;
		}
		j = index ? json_array_get(j, i) : json_object_get(j, step);
		step = next;
	}
	json_decref(x); /* a path that went nowhere (not expected) */
	free(p);
}

static void dump_slots(json_t *j, sq_expr *const *v, const sq_slot *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_slot(j, slots[i].path, dump_expr(v[i]));
}

static json_t *dump_expr(const sq_expr *e)
{
	json_t *j;

	if (!e)
		return json_null();
	j = json_deep_copy(e->raw);
	json_object_set_new(j, "class", json_string(e->cls));
	json_object_set_new(j, "type", json_string(e->type));
	json_object_set_new(j, "alias", json_string(e->alias));
	switch (e->kind) {
	case SQ_COLUMN:
		json_object_set_new(j, "column_names", dump_strings(e->names, e->nnames));
		break;
	case SQ_FUNCTION:
		json_object_set_new(j, "function_name", json_string(e->fname));
		json_object_set_new(j, "children", dump_list(e->args, e->nargs));
		json_object_set_new(j, "filter", dump_expr(e->filter));
		json_object_set_new(json_object_get(j, "order_bys"), "orders", dump_orders(e->orders, e->norders));
		json_object_set_new(j, "distinct", json_boolean(e->distinct));
		break;
	case SQ_WINDOW:
		json_object_set_new(j, "function_name", json_string(e->fname));
		json_object_set_new(j, "children", dump_list(e->args, e->nargs));
		json_object_set_new(j, "partitions", dump_list(e->partitions, e->npartitions));
		json_object_set_new(j, "orders", dump_orders(e->orders, e->norders));
		dump_slots(j, e->more, e->slots, e->nmore);
		break;
	case SQ_SUBQUERY:
		json_object_set_new(json_object_get(j, "subquery"), "node", dump_query(e->subquery));
		json_object_set_new(j, "subquery_type", json_string(e->subquery_type));
		if (e->nargs)
			json_object_set_new(j, "child", dump_expr(e->args[0]));
		break;
	case SQ_COMPARISON:
		json_object_set_new(j, "left", dump_expr(e->nargs > 0 ? e->args[0] : NULL));
		json_object_set_new(j, "right", dump_expr(e->nargs > 1 ? e->args[1] : NULL));
		break;
	case SQ_CONJUNCTION:
		json_object_set_new(j, "children", dump_list(e->args, e->nargs));
		break;
	case SQ_CAST:
		json_object_set_new(j, "child", dump_expr(e->nargs ? e->args[0] : NULL));
		break;
	case SQ_STAR:
	case SQ_OTHER:
		dump_slots(j, e->args, e->slots, e->nargs);
		break;
	case SQ_CONSTANT:
		break;
	}
	return j;
}

static json_t *dump_table(const sq_table *t)
{
	json_t *j;

	if (!t)
		return json_null();
	j = json_deep_copy(t->raw);
	json_object_set_new(j, "alias", json_string(t->alias));
	switch (t->kind) {
	case SQ_BASE:
		json_object_set_new(j, "table_name", json_string(t->name));
		break;
	case SQ_TABLE_FUNCTION:
		json_object_set_new(j, "function", dump_expr(t->func));
		break;
	case SQ_JOIN:
		json_object_set_new(j, "left", dump_table(t->left));
		json_object_set_new(j, "right", dump_table(t->right));
		json_object_set_new(j, "condition", dump_expr(t->cond));
		json_object_set_new(j, "join_type", json_string(t->join_type));
		json_object_set_new(j, "ref_type", json_string(t->ref_type));
		json_object_set_new(j, "using_columns", dump_strings(t->using, t->nusing));
		break;
	case SQ_SUBQUERY_REF:
		json_object_set_new(json_object_get(j, "subquery"), "node", dump_query(t->subquery));
		break;
	case SQ_TABLE_OTHER:
		if (t->source)
			json_object_set_new(j, "source", dump_table(t->source));
		if (t->subquery)
			json_object_set_new(j, "query", dump_query(t->subquery));
		dump_slots(j, t->exprs, t->slots, t->nexprs);
		break;
	case SQ_EMPTY:
		break;
	}
	return j;
}

static json_t *dump_modifiers(const sq_query *q)
{
	json_t *a = json_array();
	size_t i;
	json_t *m;

	if (q->distinct)
		json_array_append_new(a, json_pack("{s:s, s:o}", "type", "DISTINCT_MODIFIER", "distinct_on_targets",
						   dump_list(q->distinct_on, q->ndistinct_on)));
	if (q->has_order)
		json_array_append_new(a, json_pack("{s:s, s:o}", "type", "ORDER_MODIFIER", "orders",
						   dump_orders(q->orders, q->norders)));
	if (q->has_limit)
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "type", "LIMIT_MODIFIER", "limit",
						   dump_expr(q->limit), "offset", dump_expr(q->offset)));
	json_array_foreach (json_object_get(q->raw, "modifiers"), i, m)
		json_array_append(a, m);
	return a;
}

static json_t *dump_ctes(const sq_query *q)
{
	json_t *map = json_array();

	for (size_t i = 0; i < q->nctes; i++) {
		const sq_cte *c = &q->ctes[i];
		json_t *v = json_deep_copy(c->raw);
		json_object_set_new(json_object_get(v, "query"), "node", dump_query(c->query));
		json_array_append_new(map, json_pack("{s:s, s:o}", "key", c->name, "value", v));
	}
	return json_pack("{s:o}", "map", map);
}

static json_t *dump_query(const sq_query *q)
{
	json_t *j;

	if (!q)
		return json_null();
	j = json_deep_copy(q->raw);
	json_object_set_new(j, "modifiers", dump_modifiers(q));
	json_object_set_new(j, "cte_map", dump_ctes(q));
	if (q->kind == SQ_SELECT) {
		json_object_set_new(j, "select_list", dump_list(q->select, q->nselect));
		json_object_set_new(j, "from_table", dump_table(q->from));
		json_object_set_new(j, "where_clause", dump_expr(q->where));
		json_object_set_new(j, "group_expressions", dump_list(q->groups, q->ngroups));
		if (q->plain_groups) {
			json_t *set = json_array();
			for (size_t i = 0; i < q->ngroups; i++)
				json_array_append_new(set, json_integer((json_int_t)i));
			json_object_set_new(j, "group_sets", q->ngroups ? json_pack("[o]", set) : json_array());
			if (!q->ngroups)
				json_decref(set);
		}
		json_object_set_new(j, "aggregate_handling",
				    json_string(q->group_all ? "FORCE_AGGREGATES" : "STANDARD_HANDLING"));
		json_object_set_new(j, "having", dump_expr(q->having));
		json_object_set_new(j, "qualify", dump_expr(q->qualify));
	} else if (q->kind == SQ_SETOP) {
		json_object_set_new(j, "setop_type", json_string(q->setop));
		json_object_set_new(j, "setop_all", json_boolean(q->setop_all));
		json_object_set_new(j, "left", dump_query(q->left));
		json_object_set_new(j, "right", dump_query(q->right));
	}
	return j;
}

/* The JSON text of j (stolen), big integers put back. */
static char *dump_text(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *t = unmark_big_ints(s ? s : "null");

	free(s);
	json_decref(j);
	return t;
}

char *sqltree_json(const sq_query *q)
{
	json_t *stmt = json_pack("{s:o, s:[]}", "node", dump_query(q), "named_param_map");
	return dump_text(json_pack("{s:b, s:[o]}", "error", 0, "statements", stmt));
}

int sqltree_sql(plandb *db, const sq_query *q, char **out, pond_err *err)
{
	char *json = sqltree_json(q);
	sb sql = SB_INIT;
	pdb_result r;
	int rc = 0;

	*out = NULL;
	sb_add(&sql, "SELECT json_deserialize_sql(");
	sb_sql_str(&sql, json);
	sb_add(&sql, ")");
	free(json);
	if (plandb_query(db, sb_str(&sql), &r, err)) {
		sb_release(&sql);
		return -1;
	}
	sb_release(&sql);
	if (pdb_cell(&r, 0, 0))
		*out = xstrdup(pdb_cell(&r, 0, 0));
	else
		rc = pond_fail(err, POND_EINTERNAL, "json_deserialize_sql gave nothing");
	pdb_result_release(&r);
	return rc;
}

int sqltree_expr_sql(plandb *db, const sq_expr *e, char **out, pond_err *err)
{
	sq_query *q = sq_select_new();
	sq_expr *c = sq_expr_dup(e);
	int rc;

	sq_set_alias(c, "");
	sq_add_select(q, c);
	rc = sqltree_sql(db, q, out, err);
	sq_query_free(q);
	if (!rc && !strncmp(*out, "SELECT ", 7))
		memmove(*out, *out + 7, strlen(*out + 7) + 1);
	return rc;
}

/* ---- nodes from JSON, for sqlbuild.c's constructors --------------------------- */

sq_expr *sqltree_expr_from_json(json_t *j)
{
	sq_expr *e = load_expr(j);
	json_decref(j);
	return e;
}

sq_table *sqltree_table_from_json(json_t *j)
{
	sq_table *t = load_table(j);
	json_decref(j);
	return t;
}

sq_query *sqltree_query_from_json(json_t *j)
{
	sq_query *q = load_query(j);
	json_decref(j);
	return q;
}

/* ---- copying, comparing, freeing ------------------------------------------ */

sq_expr *sq_expr_dup(const sq_expr *e)
{
	return e ? sqltree_expr_from_json(dump_expr(e)) : NULL;
}

sq_query *sq_query_dup(const sq_query *q)
{
	json_t *j;
	sq_query *c;

	if (!q)
		return NULL;
	j = dump_query(q);
	c = load_query(j);
	json_decref(j);
	return c;
}

const char *sq_table_other_name(const sq_table *t)
{
	static const char *const names[][2] = { { "PIVOT", "PIVOT or UNPIVOT" },
						{ "EXPRESSION_LIST", "VALUES" },
						{ "SHOW_REF", "DESCRIBE or SUMMARIZE" } };
	const char *type = str(t->raw, "type");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(type, names[i][0]))
			return names[i][1];
	return "a table reference";
}

bool sq_table_is(const sq_table *t, const char *type)
{
	return t && !strcmp(str(t->raw, "type"), type);
}

sq_table *sq_table_dup(const sq_table *t)
{
	return t ? sqltree_table_from_json(dump_table(t)) : NULL;
}

bool sq_expr_equal(const sq_expr *a, const sq_expr *b)
{
	json_t *x, *y;
	bool same;

	if (!a || !b)
		return a == b;
	x = dump_expr(a);
	y = dump_expr(b);
	json_object_set_new(x, "alias", json_string(""));
	json_object_set_new(y, "alias", json_string(""));
	same = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

static void free_list(sq_expr **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sq_expr_free(v[i]);
	free(v);
}

static void free_orders(sq_order *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sq_expr_free(v[i].e);
	free(v);
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sq_expr_free(sq_expr *e)
{
	size_t nslots;

	if (!e)
		return;
	nslots = e->kind == SQ_WINDOW ? e->nmore : e->kind == SQ_STAR || e->kind == SQ_OTHER ? e->nargs : 0;
	for (size_t i = 0; e->slots && i < nslots; i++)
		free(e->slots[i].path);
	free(e->slots);
	free(e->cls);
	free(e->type);
	free(e->alias);
	free_strings(e->names, e->nnames);
	free(e->sval);
	free(e->fname);
	sq_expr_free(e->filter);
	free_orders(e->orders, e->norders);
	free_list(e->partitions, e->npartitions);
	free_list(e->args, e->nargs);
	free_list(e->more, e->nmore);
	sq_query_free(e->subquery);
	free(e->subquery_type);
	free(e->subquery_cmp);
	free(e->type_id);
	json_decref(e->raw);
	free(e);
}

void sq_table_free(sq_table *t)
{
	if (!t)
		return;
	free(t->alias);
	free(t->name);
	sq_expr_free(t->func);
	sq_table_free(t->left);
	sq_table_free(t->right);
	sq_expr_free(t->cond);
	free(t->join_type);
	free(t->ref_type);
	free_strings(t->using, t->nusing);
	sq_query_free(t->subquery);
	sq_table_free(t->source);
	for (size_t i = 0; i < t->nexprs; i++) {
		sq_expr_free(t->exprs[i]);
		free(t->slots[i].path);
	}
	free(t->exprs);
	free(t->slots);
	json_decref(t->raw);
	free(t);
}

void sq_query_free(sq_query *q)
{
	if (!q)
		return;
	free_orders(q->orders, q->norders);
	sq_expr_free(q->limit);
	sq_expr_free(q->offset);
	free_list(q->distinct_on, q->ndistinct_on);
	for (size_t i = 0; i < q->nctes; i++) {
		free(q->ctes[i].name);
		sq_query_free(q->ctes[i].query);
		json_decref(q->ctes[i].raw);
	}
	free(q->ctes);
	free_list(q->select, q->nselect);
	sq_table_free(q->from);
	sq_expr_free(q->where);
	sq_expr_free(q->having);
	sq_expr_free(q->qualify);
	free_list(q->groups, q->ngroups);
	free(q->setop);
	sq_query_free(q->left);
	sq_query_free(q->right);
	json_decref(q->raw);
	free(q);
}

/* ---- walking --------------------------------------------------------------- */

static void visit_list(sq_expr **v, size_t n, sq_visit_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++)
		sq_visit(&v[i], fn, ctx);
}

void sq_visit(sq_expr **slot, sq_visit_fn fn, void *ctx)
{
	sq_expr *e;

	if (!*slot || !fn(slot, ctx))
		return;
	e = *slot;
	visit_list(e->args, e->nargs, fn, ctx);
	if (e->filter)
		sq_visit(&e->filter, fn, ctx);
	for (size_t i = 0; i < e->norders; i++)
		sq_visit(&e->orders[i].e, fn, ctx);
	visit_list(e->partitions, e->npartitions, fn, ctx);
	visit_list(e->more, e->nmore, fn, ctx);
}

typedef struct {
	sq_table_fn fn;
	void *ctx;
	bool ok;
} table_walk;

static bool tables_in_expr(sq_expr **slot, void *c)
{
	table_walk *w = c;

	if ((*slot)->kind == SQ_SUBQUERY && w->ok)
		w->ok = sq_each_table((*slot)->subquery, w->fn, w->ctx);
	return w->ok;
}

static bool each_from_table(sq_table *t, table_walk *w)
{
	if (!t || !w->ok)
		return w->ok;
	if (t->kind == SQ_JOIN) {
		if (t->cond)
			sq_visit(&t->cond, tables_in_expr, w);
		return each_from_table(t->left, w) && each_from_table(t->right, w);
	}
	if (t->kind == SQ_SUBQUERY_REF)
		return (w->ok = sq_each_table(t->subquery, w->fn, w->ctx));
	if (t->kind == SQ_TABLE_OTHER) {
		visit_list(t->exprs, t->nexprs, tables_in_expr, w);
		if (w->ok && t->subquery)
			w->ok = sq_each_table(t->subquery, w->fn, w->ctx);
		return each_from_table(t->source, w);
	}
	return (w->ok = t->kind != SQ_BASE || w->fn(t, w->ctx));
}

bool sq_each_table(sq_query *q, sq_table_fn fn, void *ctx)
{
	table_walk w = { fn, ctx, true };
	sq_expr **single[] = { &q->where, &q->having, &q->qualify };

	for (size_t i = 0; w.ok && i < q->nctes; i++)
		w.ok = sq_each_table(q->ctes[i].query, fn, ctx);
	if (q->kind == SQ_SETOP)
		return w.ok && sq_each_table(q->left, fn, ctx) && sq_each_table(q->right, fn, ctx);
	if (q->kind != SQ_SELECT || !w.ok || !each_from_table(q->from, &w))
		return w.ok;
	visit_list(q->select, q->nselect, tables_in_expr, &w);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		sq_visit(single[i], tables_in_expr, &w);
	visit_list(q->groups, q->ngroups, tables_in_expr, &w);
	for (size_t i = 0; i < q->norders; i++)
		sq_visit(&q->orders[i].e, tables_in_expr, &w);
	return w.ok;
}
