/* test_combine.c — unit tests of the combiner's rewrite (src/plan/combine.c,
 * combine_consumer_query): each query is parsed by DuckDB's own parser
 * (json_serialize_sql, as the plan-time DuckDB does for pond) and the
 * rewritten consumer query, or the refusal (NULL), is compared with what
 * it must be. A refusal means the query runs as written: every case that
 * could change a result must be refused.
 *
 *   build/tests/test_combine            # exit 0 when every case passes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "plan/combine.h"
#include "util/sb.h"

typedef struct {
	const char *name;  /* what the case checks */
	const char *query; /* the user's partial_sql query, with {0} */
	const char *keys;  /* the shuffle's hash_by keys, comma-separated */
	const char *want;  /* the consumer's merge query, or NULL: refused */
} rewrite_case;

static const rewrite_case cases[] = {
	/* accepted shapes */
	{ "count_star_becomes_sum_bigint", "SELECT k, count(*) AS n FROM {0} GROUP BY k", "k",
	  "SELECT \"k\", sum(\"n\")::BIGINT AS \"n\" FROM {0} GROUP BY \"k\"" },
	{ "count_column_becomes_sum_bigint", "SELECT k, count(v) AS n FROM {0} GROUP BY k", "k",
	  "SELECT \"k\", sum(\"n\")::BIGINT AS \"n\" FROM {0} GROUP BY \"k\"" },
	{ "sum_min_max_merge_as_themselves", "SELECT k, sum(v) AS s, min(v) AS lo, max(v) AS hi FROM {0} GROUP BY k",
	  "k",
	  "SELECT \"k\", sum(\"s\") AS \"s\", min(\"lo\") AS \"lo\", max(\"hi\") AS \"hi\" FROM {0} GROUP BY \"k\"" },
	{ "where_stays_with_the_producers", "SELECT k, count(*) AS n FROM {0} WHERE v > 10 GROUP BY k", "k",
	  "SELECT \"k\", sum(\"n\")::BIGINT AS \"n\" FROM {0} GROUP BY \"k\"" },
	{ "more_group_columns_than_keys", "SELECT k, r, max(v) AS m FROM {0} GROUP BY k, r", "k",
	  "SELECT \"k\", \"r\", max(\"m\") AS \"m\" FROM {0} GROUP BY \"k\", \"r\"" },
	{ "two_keys", "SELECT a, b, count(*) AS n FROM {0} GROUP BY a, b", "a,b",
	  "SELECT \"a\", \"b\", sum(\"n\")::BIGINT AS \"n\" FROM {0} GROUP BY \"a\", \"b\"" },
	{ "key_names_compare_without_case", "SELECT k, count(*) AS n FROM {0} GROUP BY k", "K",
	  "SELECT \"k\", sum(\"n\")::BIGINT AS \"n\" FROM {0} GROUP BY \"k\"" },
	{ "aggregate_before_group_column", "SELECT count(*) AS n, k FROM {0} GROUP BY k", "k",
	  "SELECT sum(\"n\")::BIGINT AS \"n\", \"k\" FROM {0} GROUP BY \"k\"" },
	{ "group_column_aliased_as_itself", "SELECT k AS k, count(*) AS n FROM {0} GROUP BY k", "k",
	  "SELECT \"k\", sum(\"n\")::BIGINT AS \"n\" FROM {0} GROUP BY \"k\"" },

	/* refusals: the rewrite would not be exact, or pond cannot tell */
	{ "no_group_by", "SELECT count(*) AS n FROM {0}", "k", NULL },
	{ "group_by_is_not_a_shuffle_key", "SELECT r, count(*) AS n FROM {0} GROUP BY r", "k", NULL },
	{ "a_key_missing_from_group_by", "SELECT a, count(*) AS n FROM {0} GROUP BY a", "a,b", NULL },
	{ "group_by_expression", "SELECT k + 1 AS k1, count(*) AS n FROM {0} GROUP BY k + 1", "k", NULL },
	{ "group_column_not_selected", "SELECT count(*) AS n FROM {0} GROUP BY k", "k", NULL },
	{ "group_column_renamed", "SELECT k AS kk, count(*) AS n FROM {0} GROUP BY k", "k", NULL },
	{ "aggregate_without_alias", "SELECT k, count(*) FROM {0} GROUP BY k", "k", NULL },
	{ "avg_does_not_merge", "SELECT k, avg(v) AS a FROM {0} GROUP BY k", "k", NULL },
	{ "count_distinct", "SELECT k, count(DISTINCT v) AS n FROM {0} GROUP BY k", "k", NULL },
	{ "sum_distinct", "SELECT k, sum(DISTINCT v) AS s FROM {0} GROUP BY k", "k", NULL },
	{ "aggregate_filter", "SELECT k, count(*) FILTER (WHERE v > 1) AS n FROM {0} GROUP BY k", "k", NULL },
	{ "aggregate_order_by", "SELECT k, sum(v ORDER BY v) AS s FROM {0} GROUP BY k", "k", NULL },
	{ "expression_of_an_aggregate", "SELECT k, count(*) + 1 AS n FROM {0} GROUP BY k", "k", NULL },
	{ "non_aggregate_select_item", "SELECT k, v AS w FROM {0} GROUP BY k, v", "k", NULL },
	{ "having", "SELECT k, count(*) AS n FROM {0} GROUP BY k HAVING count(*) > 1", "k", NULL },
	{ "qualify", "SELECT k, count(*) AS n FROM {0} GROUP BY k QUALIFY row_number() OVER () = 1", "k", NULL },
	{ "window_function", "SELECT k, sum(count(*)) OVER () AS n FROM {0} GROUP BY k", "k", NULL },
	{ "order_by", "SELECT k, count(*) AS n FROM {0} GROUP BY k ORDER BY k", "k", NULL },
	{ "limit", "SELECT k, count(*) AS n FROM {0} GROUP BY k LIMIT 3", "k", NULL },
	{ "select_distinct", "SELECT DISTINCT k, count(*) AS n FROM {0} GROUP BY k", "k", NULL },
	{ "subquery_in_where", "SELECT k, count(*) AS n FROM {0} WHERE v > (SELECT avg(v) FROM {0}) GROUP BY k", "k",
	  NULL },
	{ "subquery_in_select", "SELECT k, max((SELECT 1)) AS m FROM {0} GROUP BY k", "k", NULL },
	{ "cte", "WITH t AS (SELECT * FROM {0}) SELECT k, count(*) AS n FROM t GROUP BY k", "k", NULL },
	{ "join", "SELECT a.k, count(*) AS n FROM {0} a JOIN {0} b USING (k) GROUP BY a.k", "k", NULL },
	{ "other_table", "SELECT k, count(*) AS n FROM other GROUP BY k", "k", NULL },
	{ "schema_qualified_table", "SELECT k, count(*) AS n FROM main.__pond_in GROUP BY k", "k", NULL },
	{ "table_sample", "SELECT k, count(*) AS n FROM {0} TABLESAMPLE 10% GROUP BY k", "k", NULL },
	{ "using_sample", "SELECT k, count(*) AS n FROM {0} GROUP BY k USING SAMPLE 10%", "k", NULL },
	{ "rollup", "SELECT k, count(*) AS n FROM {0} GROUP BY ROLLUP (k)", "k", NULL },
	{ "grouping_sets", "SELECT k, count(*) AS n FROM {0} GROUP BY GROUPING SETS ((k), ())", "k", NULL },
	{ "group_by_all", "SELECT k, count(*) AS n FROM {0} GROUP BY ALL", "k", NULL },
	{ "two_statements", "SELECT k, count(*) AS n FROM {0} GROUP BY k; SELECT 1", "k", NULL },
	{ "union", "SELECT k, count(*) AS n FROM {0} GROUP BY k UNION ALL SELECT k, 0 AS n FROM {0}", "k", NULL },
	{ "qualified_column", "SELECT __pond_in.k, count(*) AS n FROM {0} GROUP BY __pond_in.k", "k", NULL },
	{ "schema_qualified_function", "SELECT k, main.sum(v) AS s FROM {0} GROUP BY k", "k", NULL },
	{ "two_argument_aggregate", "SELECT k, max(v, 2) AS m FROM {0} GROUP BY k", "k", NULL },
};

/* DuckDB's parse tree of q as pond reads it (plan/sqltree.h), or NULL if
 * it does not parse (then the combiner leaves the query alone). */
static sq_query *parse_tree(duckdb_connection con, const char *q)
{
	sb sql = SB_INIT;
	duckdb_result r;
	sq_query *tree = NULL;

	sb_add(&sql, "SELECT json_serialize_sql(");
	sb_sql_str(&sql, q);
	sb_add(&sql, ")");
	if (duckdb_query(con, sb_str(&sql), &r) == DuckDBSuccess) {
		char *text = duckdb_value_varchar(&r, 0, 0);
		pond_err err = { 0 };
		if (text && sqltree_load(text, &tree, &err))
			tree = NULL;
		duckdb_free(text);
	}
	duckdb_destroy_result(&r);
	sb_release(&sql);
	return tree;
}

/* The comma-separated keys as an array (caller frees both). */
static char **split_keys(const char *keys, size_t *n)
{
	char *copy = xstrdup(keys), *save = NULL, **v = xcalloc(8, sizeof(char *));

	*n = 0;
	for (char *k = strtok_r(copy, ",", &save); k && *n < 8; k = strtok_r(NULL, ",", &save))
		v[(*n)++] = xstrdup(k);
	free(copy);
	return v;
}

static int run_case(duckdb_connection con, const rewrite_case *c)
{
	char *q = combine_as_table(c->query), *got = NULL;
	sq_query *tree = parse_tree(con, q);
	size_t nkeys;
	char **keys = split_keys(c->keys, &nkeys);
	int ok;

	got = combine_consumer_query(tree, keys, nkeys);
	ok = c->want ? got && !strcmp(got, c->want) : !got;
	printf("%s  %s\n", ok ? "PASS" : "FAIL", c->name);
	if (!ok)
		printf("    query: %s\n    want:  %s\n    got:   %s%s\n", c->query, c->want ? c->want : "(refused)",
		       got ? got : "(refused)", tree ? "" : " (no parse tree)");
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(got);
	free(q);
	sq_query_free(tree);
	return ok;
}

int main(void)
{
	duckdb_database db;
	duckdb_connection con;
	size_t n = sizeof(cases) / sizeof(cases[0]), passed = 0;

	if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
		fprintf(stderr, "test_combine: cannot open DuckDB\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		passed += (size_t)run_case(con, &cases[i]);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	printf("%zu/%zu passed\n", passed, n);
	return passed == n ? 0 : 1;
}
