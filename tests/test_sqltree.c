/* test_sqltree.c — unit tests of pond's reading and writing of DuckDB's
 * parse trees (src/plan/sqltree.c): every query below is parsed by DuckDB
 * (json_serialize_sql), read into pond's types, written back, and must
 * print (json_deserialize_sql) exactly as DuckDB's own tree prints; then
 * trees built by pond's constructors must print as expected.
 *
 *   build/tests/test_sqltree            # exit 0 when every case passes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "plan/sqltree.h"
#include "util/sb.h"

static const char *const round_trips[] = {
	"SELECT region, sum(amount) AS s, count(*), avg(x) FILTER (WHERE x > 1) FROM 'sales/*.parquet' AS t "
	"WHERE x > 0 GROUP BY region HAVING sum(amount) > 3 ORDER BY 2 DESC NULLS FIRST LIMIT 5 OFFSET 1",
	"SELECT DISTINCT a FROM t",
	"SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC",
	"SELECT a, b FROM t GROUP BY ALL",
	"SELECT a, b, count(*) FROM t GROUP BY ROLLUP (a, b)",
	"SELECT a FROM t GROUP BY GROUPING SETS ((a), ())",
	"SELECT sum(a) OVER (PARTITION BY b ORDER BY c ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t",
	"SELECT * EXCLUDE (x), COLUMNS('a.*'), CASE WHEN a THEN 1 ELSE 2 END, a BETWEEN 1 AND 2 FROM t",
	"SELECT a IN (1, 2), a IN (SELECT 1), [1, 2], {'a': 1}, list_transform(l, x -> x + 1), t.a.b FROM t",
	"SELECT 18446744073709551615, 170141183460469231731687303715884105727, -9223372036854775808, 1.5, 2.25::DECIMAL(10,2)",
	"SELECT 'it''s', DATE '2020-01-01', NULL, true, INTERVAL 3 DAY, x::VARCHAR[] FROM t",
	"WITH c AS (SELECT 1 AS a), d(x) AS (SELECT 2) SELECT a FROM c UNION ALL SELECT x FROM d",
	"SELECT * FROM a JOIN b ON a.k = b.k LEFT JOIN c USING (k) WHERE EXISTS (SELECT 1 FROM d WHERE d.k = a.k)",
	"SELECT * FROM a SEMI JOIN b USING (k)",
	"SELECT * FROM a ANTI JOIN b ON a.k = b.k AND a.j < b.j",
	"SELECT * FROM a, b, (SELECT 1) s(x)",
	"SELECT * FROM a NATURAL JOIN b",
	"SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY b ORDER BY c) = 1",
	"SELECT a FROM t USING SAMPLE 10%",
	"SELECT a FROM t TABLESAMPLE 10%",
	"SELECT a FROM t LIMIT 10%",
	"SELECT a FROM t INTERSECT SELECT a FROM u EXCEPT SELECT a FROM v",
	"SELECT quantile_cont(x, 0.5 ORDER BY z), string_agg(s, ',' ORDER BY s DESC), count(DISTINCT y) FROM t",
	"SELECT \"weird \"\" col\", \"{0}\" FROM \"my table\"",
	"SELECT (SELECT max(a) FROM t) AS m, a FROM u WHERE a > (SELECT avg(a) FROM u)",
	"SELECT lag(a, 1, 0) OVER w FROM t WINDOW w AS (ORDER BY b)",
	"SELECT * FROM t ORDER BY ALL",
	"SELECT a FROM t WHERE a LIKE '%x%' AND b NOT IN (1, 2) OR c IS NULL",
	"PIVOT t ON c IN ('x', 'y') USING sum(v) AS s, count(*) GROUP BY k",
	"SELECT * FROM (UNPIVOT (SELECT k, a, b FROM t WHERE k > 1) ON a, b INTO NAME n VALUE v) AS u",
	"VALUES ((SELECT count(*) FROM t)), (2)",
	"SUMMARIZE SELECT a FROM t",
	"DESCRIBE t",
};

/* DuckDB's parse tree (JSON text) of q; caller frees. */
static char *serialize(duckdb_connection con, const char *q)
{
	sb sql = SB_INIT;
	duckdb_result r;
	char *out = NULL;

	sb_add(&sql, "SELECT json_serialize_sql(");
	sb_sql_str(&sql, q);
	sb_add(&sql, ")");
	if (duckdb_query(con, sb_str(&sql), &r) == DuckDBSuccess) {
		char *v = duckdb_value_varchar(&r, 0, 0);
		out = v ? xstrdup(v) : NULL;
		duckdb_free(v);
	}
	duckdb_destroy_result(&r);
	sb_release(&sql);
	return out;
}

/* The SQL DuckDB prints for a parse tree; caller frees. */
static char *deserialize(duckdb_connection con, const char *json)
{
	sb sql = SB_INIT;
	duckdb_result r;
	char *out = NULL;

	sb_add(&sql, "SELECT json_deserialize_sql(");
	sb_sql_str(&sql, json);
	sb_add(&sql, ")");
	if (duckdb_query(con, sb_str(&sql), &r) == DuckDBSuccess) {
		char *v = duckdb_value_varchar(&r, 0, 0);
		out = v ? xstrdup(v) : NULL;
		duckdb_free(v);
	} else {
		out = xasprintf("(error: %s)", duckdb_result_error(&r));
	}
	duckdb_destroy_result(&r);
	sb_release(&sql);
	return out;
}

static int round_trip(duckdb_connection con, const char *q)
{
	char *json = serialize(con, q), *want = json ? deserialize(con, json) : NULL, *again = NULL, *got = NULL;
	sq_query *t = NULL, *copy = NULL;
	pond_err err = { 0 };
	int ok;

	if (json && sqltree_load(json, &t, &err) == 0) {
		copy = sq_query_dup(t);
		again = sqltree_json(copy);
		got = deserialize(con, again);
	}
	ok = want && got && !strcmp(want, got);
	printf("%s  round trip: %s\n", ok ? "PASS" : "FAIL", q);
	if (!ok)
		printf("    want: %s\n    got:  %s\n    %s\n", want ? want : "(none)", got ? got : "(none)", err.msg);
	sq_query_free(t);
	sq_query_free(copy);
	free(json);
	free(want);
	free(again);
	free(got);
	return ok;
}

static int check(duckdb_connection con, const char *name, sq_query *q, const char *want)
{
	char *json = sqltree_json(q), *got = deserialize(con, json);
	int ok = !strcmp(got, want);

	printf("%s  %s\n", ok ? "PASS" : "FAIL", name);
	if (!ok)
		printf("    want: %s\n    got:  %s\n", want, got);
	free(json);
	free(got);
	sq_query_free(q);
	return ok;
}

/* SELECT k AS "g", sum(v) + 1 AS "a b" FROM "{0}" AS t WHERE k = 'x' GROUP BY k ORDER BY 2 DESC */
static int built(duckdb_connection con)
{
	sq_query *q = sq_select_new();
	sq_expr *s = sq_op("+", sq_func1("sum", sq_column(NULL, "v")), sq_int(1));
	int ok = 1;

	sq_set_alias(s, "a b");
	sq_add_select(q, sq_column("t", "k"));
	sq_set_alias(q->select[0], "g");
	sq_add_select(q, s);
	sq_table_free(q->from);
	q->from = sq_base_table("{0}", "t");
	q->where = sq_compare("COMPARE_EQUAL", sq_column(NULL, "k"), sq_str("x"));
	sq_add_group(q, sq_column(NULL, "k"));
	sq_add_order(q, sq_int(2), SQ_DESC, SQ_NULLS_DEFAULT);
	ok &= check(
		con, "built_select", q,
		"SELECT t.k AS g, (sum(v) + 1) AS \"a b\" FROM \"{0}\" AS t WHERE (k = 'x') GROUP BY k ORDER BY 2 DESC");
	q = sq_select_new();
	sq_add_select(q, sq_star());
	q->from = (sq_table_free(q->from), sq_subquery_table(sq_select_new(), "s"));
	sq_add_select(q->from->subquery, sq_int(7));
	ok &= check(con, "built_subquery", q, "SELECT * FROM (SELECT 7) AS s");
	return ok;
}

int main(void)
{
	duckdb_database db;
	duckdb_connection con;
	size_t n = sizeof(round_trips) / sizeof(round_trips[0]), passed = 0;

	if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
		fprintf(stderr, "test_sqltree: cannot open DuckDB\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		passed += (size_t)round_trip(con, round_trips[i]);
	passed += (size_t)built(con);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	printf("%zu/%zu passed\n", passed, n + 1);
	return passed == n + 1 ? 0 : 1;
}
