#!/usr/bin/env bash
# cli.sh — pond sql as a command (docs/SQL.md): tables from -t, --tables,
# paths and read_* calls; the printed table and its row count; -o with
# Parquet or CSV; DuckDB's errors at plan time (exit 2); output that is
# byte-identical across reruns and worker counts; --resume; --explain.
# Results are compared with single-process DuckDB (duckq).
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_sql.sh"

small_sales() { # DIR: 6 Parquet files of 2,000 rows
	mkdir -p "$1"
	for f in 0 1 2 3 4 5; do
		q "COPY (SELECT i AS id, 'r' || (i % 5) AS region, (i * 1.25)::DECIMAL(12,2) AS amount,
			CASE WHEN i % 7 = 0 THEN NULL ELSE i % 13 END AS k
			FROM range($f * 2000, ($f + 1) * 2000) t(i)) TO '$1/s$f.parquet'" >/dev/null
	done
}

# The comparison used by corpus.sh sees a wrong value, a missing row, a
# wrong order and a wrong type.
test_compare_result_sees_differences() {
	mkdir a b c d e
	q "COPY (SELECT i AS x, i * 0.5 AS y FROM range(10) t(i)) TO 'a/part-00000.parquet'" >/dev/null
	q "COPY (SELECT i AS x, i * 0.5 AS y FROM range(10) t(i)) TO 'oracle.parquet'" >/dev/null
	q "COPY (SELECT i AS x, CASE WHEN i = 3 THEN 9 ELSE i * 0.5 END AS y FROM range(10) t(i)) TO 'b/part-00000.parquet'" >/dev/null
	q "COPY (SELECT i AS x, i * 0.5 AS y FROM range(9) t(i)) TO 'c/part-00000.parquet'" >/dev/null
	q "COPY (SELECT i AS x, i * 0.5 AS y FROM range(10) t(i) ORDER BY i DESC) TO 'd/part-00000.parquet'" >/dev/null
	q "COPY (SELECT i::INTEGER AS x, i * 0.5 AS y FROM range(10) t(i)) TO 'e/part-00000.parquet'" >/dev/null
	assert_empty "same result" "$(compare_result same a oracle.parquet 1)"
	[ -n "$(compare_result value b oracle.parquet 0)" ] || fail "a wrong value was not seen"
	[ -n "$(compare_result missing c oracle.parquet 0)" ] || fail "a missing row was not seen"
	assert_empty "unordered: the order does not matter" "$(compare_result order d oracle.parquet 0)"
	[ -n "$(compare_result order d oracle.parquet 1)" ] || fail "a wrong order was not seen"
	[ -n "$(compare_result type e oracle.parquet 0)" ] || fail "a wrong type was not seen"
}

test_print_first_rows_then_the_count() {
	small_sales data
	pond_cli 0 sql "SELECT id, region FROM 'data/*.parquet' WHERE id % 100 = 0 ORDER BY id" -w "$W" --progress none
	assert_same "rows" "$(show_rows out.txt)" "$(q "SELECT id, region FROM 'data/*.parquet' WHERE id % 100 = 0 ORDER BY id LIMIT 40")"
	assert_same "header" "$(show_header out.txt)" "$(printf 'id\tregion')"
	assert_contains "count" out.txt "120 rows (40 shown)"
	pond_cli 0 sql "SELECT id FROM 'data/*.parquet' WHERE id < 3 ORDER BY id" --max-rows 2 -w "$W" --progress none
	assert_contains "count" out.txt "3 rows (2 shown)"
	pond_cli 0 sql "SELECT count(*) AS n FROM 'data/*.parquet'" -w "$W" --progress none
	assert_same "one row" "$(show_rows out.txt)" "12000"
	assert_contains "one row" out.txt "1 row"
}

test_rejected_query_is_duckdbs_message_exit_2() {
	small_sales data
	pond_cli 2 sql "SELECT nosuch FROM 'data/*.parquet'" -o out
	assert_contains "DuckDB's message" err.txt 'Binder Error: Referenced column "nosuch" not found'
	assert_contains "quotes the query" err.txt "LINE 1: SELECT nosuch FROM"
	assert_missing out
	pond_cli 2 sql "SELEC 1 FROM 'data/*.parquet'"
	assert_contains "parser" err.txt "Parser Error"
	pond_cli 2 sql "SELECT * FROM nosuch_table"
	assert_contains "catalog" err.txt "nosuch_table"
	pond_cli 2 sql "SELECT 1; SELECT 2"
	assert_contains "one statement" err.txt "give one query, not 2 statements"
	# statements DuckDB runs that are not one query pond can plan: what
	# to write instead (were DuckDB's "Cannot prepare multiple
	# statements" and a SHOW that failed in its task, exit 1)
	pond_cli 2 sql "PIVOT 'data/*.parquet' ON region USING sum(amount)" -o out
	assert_contains "PIVOT names its values" err.txt "a PIVOT must list its values"
	assert_missing out
	pond_cli 2 sql "SHOW TABLES" -o out
	assert_contains "SHOW has no catalog" err.txt "DESCRIBE or SUMMARIZE a table or query instead"
	assert_missing out
	pond_cli 2 sql "CREATE TABLE t AS SELECT 1" -o out
	assert_contains "one query" err.txt "pond sql runs one query"
	assert_missing out
	# DuckDB cannot write this one's parse tree (it said "Table with name
	# … does not exist": pond had no tables to name)
	pond_cli 2 sql "SELECT CAST([region] AS ENUM('r0', 'r1')[]) FROM 'data/*.parquet'" -o out
	assert_contains "no parse tree" err.txt "DuckDB does not give its parse tree"
	assert_missing out
	pond_cli 2 sql "SELECT * FROM 'data/*.parquet' WHERE region = '{0}'"
	assert_contains "placeholder" err.txt "'{0}'"
}

# DESCRIBE and SUMMARIZE as the whole statement (its tables were not
# found: "Table with name … does not exist", exit 2), as DuckDB gives them.
test_describe_and_summarize_statements() {
	small_sales data
	pond_cli 0 sql "DESCRIBE 'data/*.parquet'" -o out
	q "COPY (SELECT * FROM (DESCRIBE 'data/*.parquet')) TO 'oracle.parquet'" >/dev/null
	assert_empty "DESCRIBE" "$(compare_result describe out oracle.parquet 1)"
	pond_cli 0 sql "SUMMARIZE SELECT region, amount FROM 'data/*.parquet' WHERE k > 3" -o out2
	q "COPY (SELECT * FROM (SUMMARIZE SELECT region, amount FROM 'data/*.parquet' WHERE k > 3)) TO 'oracle2.parquet'" >/dev/null
	assert_same "SUMMARIZE's rows" \
		"$(q "SELECT column_name, min, max, count FROM read_parquet('out2/part-*.parquet')")" \
		"$(q "SELECT column_name, min, max, count FROM read_parquet('oracle2.parquet')")"
}

test_missing_input_exit_1() {
	pond_cli 1 sql "SELECT * FROM t" -t t=nothere.parquet
	assert_contains "names it" err.txt "nothere.parquet"
	pond_cli 1 sql "SELECT * FROM 'none/*.parquet'"
	assert_contains "names it" err.txt "no input files match"
}

# A column named like pond's input placeholders was renamed in the result
# ({0} came out as __pond_c0, exit 0): refused, naming the table and
# column, nothing published.
test_placeholder_named_column_is_refused() {
	mkdir data
	for f in 0 1; do
		q "COPY (SELECT i AS id, i % 3 AS \"{0}\" FROM range($f * 100, ($f + 1) * 100) t(i)) TO 'data/p$f.parquet'" >/dev/null
	done
	pond_cli 1 sql "SELECT * FROM t WHERE id < 50" -t t=data -o out -w "$W" --progress none
	assert_contains "names the column" err.txt 'table t (-t) has a column named "{0}"'
	[ ! -e out ] || fail "an output was published"
	q "COPY (SELECT i AS id FROM range(100) t(i)) TO 'plain.parquet'" >/dev/null
	pond_cli 0 sql "SELECT id AS \"a{b}\" FROM 'plain.parquet' WHERE id < 5" -o out2 -w "$W" --progress none
	assert_same "braces without a placeholder are kept" \
		"$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM $(parts out2))")" "a{b}"
}

test_usage_errors_exit_2() {
	pond_cli 2 sql
	assert_contains "missing" err.txt "missing the QUERY"
	pond_cli 2 sql "SELECT 1" -f x.sql
	pond_cli 2 sql "SELECT 1" --format xml
	pond_cli 2 sql "SELECT 1" -t noequals
	pond_cli 2 sql "SELECT 1" -D A=1
	pond_cli 0 help sql
	assert_contains "help" out.txt "--tables DIR"
}

test_tables_by_t_and_tables_dir() {
	small_sales data
	mkdir wh
	cp data/s0.parquet wh/one.parquet
	q "COPY (SELECT 'r' || i AS region, 'name ' || i AS rname FROM range(5) t(i)) TO 'wh/regions.csv' (HEADER)" >/dev/null
	mkdir wh/sales && cp data/*.parquet wh/sales/
	pond_cli 0 sql "SELECT region, count(*) AS n FROM s GROUP BY region" -t s=data -o o1 -w "$W" --progress none
	assert_same "-t DIR" "$(q "SELECT * FROM $(parts o1) ORDER BY ALL")" \
		"$(q "SELECT region, count(*) FROM 'data/*.parquet' GROUP BY region ORDER BY ALL")"
	pond_cli 0 sql "SELECT sum(amount) AS s FROM s" -t "s=data/s0.parquet,data/s1.parquet" -o o2 -w "$W" --progress none
	assert_same "-t list" "$(q "SELECT * FROM $(parts o2)")" \
		"$(q "SELECT sum(amount) FROM read_parquet(['data/s0.parquet', 'data/s1.parquet'])")"
	pond_cli 0 sql "SELECT count(*) AS a, (SELECT count(*) FROM one) AS b, (SELECT count(*) FROM regions) AS c FROM sales" \
		--tables wh -o o3 -w "$W" --progress none
	assert_same "--tables" "$(q "SELECT * FROM $(parts o3)")" "$(printf '12000\t2000\t5')"
	pond_cli 0 sql "SELECT count(*) AS n FROM Sales" --tables wh -t sales=data/s0.parquet -o o4 -w "$W" --progress none
	assert_same "-t wins over --tables, names without case" "$(q "SELECT * FROM $(parts o4)")" "2000"
	pond_cli 0 sql "SELECT count(*) AS n FROM read_parquet(['data/s0.parquet', 'data/s1.parquet'], filename=true) WHERE filename LIKE '%s1%'" \
		-o o5 -w "$W" --progress none
	assert_same "read_parquet with options" "$(q "SELECT * FROM $(parts o5)")" "2000"
}

test_csv_output() {
	small_sales data
	pond_cli 0 sql "SELECT region, sum(amount) AS s FROM 'data/*.parquet' GROUP BY region ORDER BY region" \
		-o out --format csv -w "$W" --progress none
	assert_published out
	[ -n "$(find out -name 'part-*.csv')" ] || fail "no CSV parts"
	q "COPY (SELECT region, sum(amount) AS s FROM 'data/*.parquet' GROUP BY region ORDER BY region) TO 'oracle.csv' (HEADER)" >/dev/null
	local f got
	got=$(head -n 1 "$(part_files out | head -n 1)"; for f in $(part_files out); do tail -n +2 "$f"; done)
	assert_same "the CSV text, parts in order" "$got" "$(cat oracle.csv)"
}

test_output_holding_an_input_is_refused() {
	small_sales data
	pond_cli 2 sql "SELECT * FROM 'data/*.parquet'" -o data
	assert_contains "refused" err.txt "an input of the query"
	pond_cli 2 sql "SELECT * FROM t" -t t=data -o data/out
	assert_contains "refused" err.txt "a directory of table t"
}

test_byte_identical_across_reruns_and_workers() {
	small_sales data
	local qry="SELECT region, k, count(*) AS n, sum(amount) AS s, min(id) AS lo FROM 'data/*.parquet' GROUP BY region, k ORDER BY s DESC, region, k"
	pond_cli 0 sql "$qry" -o o1 -w 1 --progress none
	pond_cli 0 sql "$qry" -o o2 -w 3 --progress none
	pond_cli 0 sql "$qry" -o o3 -w 2 --progress none --job-dir j3
	assert_same "-w 1 and -w 3" "$(tree_digest o1)" "$(tree_digest o2)"
	assert_same "again" "$(tree_digest o1)" "$(tree_digest o3)"
	qry="SELECT id, amount FROM 'data/*.parquet' WHERE k = 3 ORDER BY amount DESC"
	pond_cli 0 sql "$qry" -o o4 -w 1 --progress none
	pond_cli 0 sql "$qry" -o o5 -w 3 --progress none
	assert_same "sorted: -w 1 and -w 3" "$(tree_digest o4)" "$(tree_digest o5)"
}

test_resume_and_default_job_dir() {
	small_sales data
	local qry="SELECT region, sum(amount) AS s FROM 'data/*.parquet' GROUP BY region"
	pond_cli 0 sql "$qry" -o out -w "$W"
	[ "$(job_dirs | wc -l)" = 1 ] || fail "one default job directory: $(job_dirs)"
	[[ $(job_dirs) == .pond/sql-* ]] || fail "named sql-…: $(job_dirs)"
	pond_cli 0 sql "$qry" -o out -w "$W" --resume
	assert_contains "nothing ran again" err.txt "already committed"
	printf '%s;\n' "$qry" >report.sql
	pond_cli 0 sql -f report.sql -o out2 -w "$W" --progress none
	[ -n "$(find .pond -maxdepth 1 -name 'report-*')" ] || fail "a job directory named for the file: $(job_dirs)"
	assert_same "-f" "$(tree_digest out)" "$(tree_digest out2)"
}

test_explain_says_how() {
	small_sales data
	pond_cli 0 sql "SELECT region, sum(amount) FROM 'data/*.parquet' GROUP BY region ORDER BY 2 DESC" --explain
	assert_contains "tables" out.txt "table {0} = 'data/*.parquet': 6 Parquet files"
	assert_contains "parts" out.txt "read in 2 parts"
	# few groups (counted in all 6 files): merged and sorted by one task
	assert_contains "small group by" out.txt "GROUP BY: at most ~5 groups (counted in all 6 files)"
	assert_contains "small group by" out.txt "merged and ordered by one task"
	assert_contains "stages" out.txt "Physical plan"
	assert_missing out
	pond_cli 0 sql "SELECT region, sum(amount) FROM 'data/*.parquet' GROUP BY region" --explain
	assert_contains "group by" out.txt "hash shuffle on 1 key into 2"
	# 12,000 rows by the files' footers: sorted by one task
	pond_cli 0 sql "SELECT id, amount FROM 'data/*.parquet' ORDER BY amount DESC" --explain
	assert_contains "small order by" out.txt "ORDER BY: at most ~12001 rows (its tables' rows), sorted by one task"
	# a join of two: up to 12,001^2 rows, range partitions
	pond_cli 0 sql "SELECT a.id, b.amount FROM 'data/*.parquet' a JOIN 'data/*.parquet' b ON a.k = b.k
	                ORDER BY b.amount DESC" --explain
	assert_contains "order by" out.txt "range partitions on the first key (descending"
	# a co-partitioned side ships the columns the query reads, its rows
	# filtered by the conjuncts over it alone (here one from an ON), which
	# the join then no longer tests: b.amount is not shipped
	pond_cli 0 sql "SELECT a.region, count(b.id) FROM 'data/*.parquet' a LEFT JOIN 'data/*.parquet' b
	                ON a.id = b.id AND b.amount > 10 GROUP BY ALL" --explain --broadcast-limit 0
	assert_contains "pruned side" out.txt "b: 1 of its 4 columns shipped, rows filtered first by ((b.amount > 10))"
	assert_contains "kept side" out.txt "a: 2 of its 4 columns shipped"
	# a small side the join keeps (a LEFT join's left) filters the big one
	# by its keys before the big one's shuffle
	pond_cli 0 sql "SELECT a.region, count(b.id) FROM 'data/s0.parquet' a LEFT JOIN 'data/*.parquet' b
	                ON a.k = b.k AND a.id = b.id WHERE a.id % 2 = 0 GROUP BY ALL" --explain
	assert_contains "reduction" out.txt "join reduction: b's rows kept before the shuffle only when their keys are among a's (its 2 keys computed once"
	assert_contains "reduction stage" out.txt "(sql join keys)"
	pond_cli 0 sql "SELECT a.region FROM 'data/*.parquet' a JOIN 'data/*.parquet' b ON a.id + 1 = b.id" \
		--explain --broadcast-limit 0
	assert_contains "fallback" out.txt "not distributed: no table can be split with the others broadcast"
	pond_cli 0 sql "SELECT a.region FROM 'data/*.parquet' a JOIN 'data/*.parquet' b USING (id)" --explain \
		--broadcast-limit 0
	assert_contains "co-partitioned" out.txt "a and b co-partitioned: hash of (a.id) and (b.id) into 4"
	pond_cli 0 sql "SELECT a.region FROM 'data/*.parquet' a JOIN 'data/*.parquet' b USING (id)" --explain
	assert_contains "broadcast" out.txt "broadcast to every task"
}

# A derived table's size is the bytes of the columns it names in its
# tables' Parquet files (their footers), not the files' whole size: one
# that reads two narrow columns of a table with a wide one is broadcast
# under a limit its files exceed. Its result is DuckDB's.
test_derived_table_sized_by_the_columns_it_reads() {
	local qry="SELECT s.region, sum(d.n) AS n FROM 'data/*.parquet' s
	           JOIN (SELECT id, count(*) AS n FROM 'wide/*.parquet' WHERE k > 2 GROUP BY id) d ON s.id = d.id
	           GROUP BY ALL ORDER BY 1"
	small_sales data
	mkdir wide
	for f in 0 1 2 3; do
		q "COPY (SELECT i AS id, i % 7 AS k, md5(i::VARCHAR || 'a') || md5(i::VARCHAR || 'b') ||
			md5(i::VARCHAR || 'c') || md5(i::VARCHAR || 'd') AS pad
			FROM range($f * 3000, ($f + 1) * 3000) t(i)) TO 'wide/w$f.parquet'" >/dev/null
	done
	pond_cli 0 sql "$qry" --broadcast-limit 1MB --explain
	assert_contains "its size" out.txt "d, planned on its own:"
	assert_contains "its size" out.txt "its size: "
	assert_contains "broadcast" out.txt "broadcast to every task (each at most 1000000 bytes): d"
	pond_cli 0 sql "$qry" --broadcast-limit 1MB -o out -w "$W" --progress none
	q "COPY ($qry) TO 'oracle.parquet'" >/dev/null
	assert_empty "DuckDB's rows" "$(compare_result derived out oracle.parquet 1)"
	# a derived table with a `*` reads every column: its files' size
	pond_cli 0 sql "SELECT s.region, count(*) FROM 'data/*.parquet' s
	                JOIN (SELECT * FROM 'wide/*.parquet' WHERE k > 2) d ON s.id = d.id GROUP BY ALL" \
		--broadcast-limit 1MB --explain
	assert_not_contains "whole files" out.txt "its size: "
	assert_contains "the other broadcast" out.txt "broadcast to every task (each at most 1000000 bytes): s"
}

# A scalar subquery of an aggregate's HAVING that returns more than one row
# is DuckDB's error, also when it is planned on its own (distributed); one
# that returns no rows is NULL.
test_scalar_subquery_in_having_keeps_duckdbs_semantics() {
	local many="SELECT region, sum(amount) AS t FROM 'data/*.parquet' GROUP BY region
	            HAVING sum(amount) > (SELECT amount FROM 'data/*.parquet' WHERE id > 11990)"
	local none="SELECT region, sum(amount) AS t, (SELECT amount FROM 'data/*.parquet' WHERE id < 0) AS n
	            FROM 'data/*.parquet' GROUP BY region HAVING sum(amount) > 0 ORDER BY region"
	small_sales data
	pond_cli 0 sql "$many" --broadcast-limit 1KB --explain
	assert_not_contains "distributed" out.txt "not distributed"
	assert_contains "its own stage" out.txt "a subquery, planned on its own"
	pond_cli 1 sql "$many" --broadcast-limit 1KB -o out -w "$W" --progress none
	assert_contains "DuckDB's error" err.txt "More than one row returned by a subquery"
	q "$many" >/dev/null 2>duck.txt && fail "DuckDB accepted a scalar subquery of many rows"
	assert_contains "DuckDB's error" duck.txt "More than one row returned by a subquery"
	pond_cli 0 sql "$none" --broadcast-limit 1KB -o none -w "$W" --progress none
	q "COPY ($none) TO 'oracle.parquet'" >/dev/null
	assert_empty "no rows: NULL" "$(compare_result none none oracle.parquet 1)"
}

# A GROUP BY on a column no two files share a value of (a table written
# sorted by it) is aggregated per part, with nothing shuffled; when the
# files' ranges overlap, NULLs are in two files, or the key is a DOUBLE,
# the usual plan. Every answer is DuckDB's.
sorted_files() { # DIR KEY_SQL: 4 files of 3,000 rows, k = KEY_SQL of the row number i
	mkdir -p "$1"
	for f in 0 1 2 3; do
		q "COPY (SELECT i AS id, $2 AS k, (i % 7)::INTEGER AS g, (i * 0.25)::DECIMAL(12,2) AS amount
			FROM range($f * 3000, ($f + 1) * 3000) t(i)) TO '$1/f$f.parquet'" >/dev/null
	done
	q "COPY (SELECT i::BIGINT AS k, 'd' || (i % 3) AS label FROM range(0, 1300) t(i)) TO '$1-dim.parquet'" >/dev/null
}

# NAME QUERY has|lacks TEXT [ARG...]: --explain (with the ARGs) says TEXT
# or does not, then the result (the same ARGs) is DuckDB's
explained_check() {
	local name=$1 qry=$2 expect=$3 text=$4
	shift 4
	pond_cli 0 sql "$qry" --explain "$@"
	if [ "$expect" = has ]; then
		assert_contains "$name: planned so" out.txt "$text"
	else
		assert_not_contains "$name: not planned so" out.txt "$text"
	fi
	pond_cli 0 sql "$qry" -o "out-$name" -w "$W" --progress none "$@"
	q "COPY ($qry) TO 'oracle-$name.parquet'" >/dev/null
	assert_empty "$name: DuckDB's rows" "$(compare_result "$name" "out-$name" "oracle-$name.parquet" 1)"
}

grouped_check() { # NAME DIR QUERY EXPECT(per part|shuffled)
	local qry=${3//@T@/"'$2/*.parquet'"}
	qry=${qry//@D@/"'$2-dim.parquet'"}
	if [ "$4" = "per part" ]; then
		explained_check "$1" "$qry" has "GROUP BY: each group within one part (no two of its files share a value of k)"
	else
		explained_check "$1" "$qry" lacks "no two of its files share"
	fi
}

test_group_by_a_key_the_files_are_sorted_by() {
	local agg="SELECT k, count(*) AS n, sum(amount) AS s, median(id) AS m FROM @T@ GROUP BY k HAVING count(*) > 3 ORDER BY k NULLS FIRST"
	sorted_files sorted "(i // 10)::BIGINT"
	grouped_check sorted sorted "$agg" "per part"
	# through a join's equality of one type: the dimension's key is the file's
	grouped_check join sorted "SELECT d.k, d.label, count(*) AS n FROM @T@ f JOIN @D@ d ON f.k = d.k
		GROUP BY d.k, d.label ORDER BY n DESC, d.k LIMIT 20" "per part"
	# key 428 in files 0 and 1 (3000 / 7 is no integer)
	sorted_files overlap "(i // 7)::BIGINT"
	grouped_check overlap overlap "$agg" "shuffled"
	# NULL keys in one file: one NULL group, in that part
	sorted_files nulls1 "CASE WHEN i % 1000 = 5 AND i < 3000 THEN NULL ELSE (i // 10)::BIGINT END"
	grouped_check nulls1 nulls1 "$agg" "per part"
	# NULL keys in two files, in two parts: their group would be made twice
	sorted_files nulls2 "CASE WHEN i % 1000 = 5 AND (i < 3000 OR i >= 9000) THEN NULL ELSE (i // 10)::BIGINT END"
	grouped_check nulls2 nulls2 "$agg" "shuffled"
	sorted_files dbl "(i // 10)::DOUBLE"
	grouped_check double dbl "$agg" "shuffled"
	# nested keys: Parquet keeps statistics of a LIST's elements and a
	# STRUCT's fields, none of the column itself (every file holds every
	# list here; the LIST was taken as disjoint, its groups made per part)
	sorted_files list "[i % 3, i % 2]::BIGINT[]"
	grouped_check list list "$agg" "shuffled"
	sorted_files strlist "['a' || (i % 3)]"
	grouped_check strlist strlist "$agg" "shuffled"
	sorted_files struct "{'a': i % 3}"
	grouped_check struct struct "$agg" "shuffled"
}

coloc_check() { # NAME DIR QUERY EXPECT(same part|not): every table but the files "big"
	local qry=${3//@T@/"'$2/*.parquet'"}
	qry=${qry//@D@/"'$2-dim.parquet'"}
	if [ "$4" = "same part" ]; then
		explained_check "$1" "$qry" has "a correlated subquery's table read in the same part as f1" \
			--broadcast-limit 10000
	else
		explained_check "$1" "$qry" lacks "read in the same part as" --broadcast-limit 10000
	fi
}

# A correlated subquery over the split table, correlated on a column no
# two of its files share a value of, is evaluated by each task over its
# own part (TPC-H Q21's shape); on any other column, or files that share
# values, it is decorrelated as before. Every result is DuckDB's. (One
# correlated inequality per EXISTS: DuckDB 1.5.2 answers no row to an
# EXISTS correlated by an equality and two inequalities, where pond's
# decorrelated join gives the rows a count(*) subquery finds.)
test_correlated_subquery_on_the_key_the_files_are_sorted_by() {
	local exists="SELECT g, count(*) AS n, sum(amount) AS s FROM @T@ f1
		WHERE EXISTS (SELECT * FROM @T@ f2 WHERE f2.k = f1.k AND f2.g > f1.g)
		  AND NOT EXISTS (SELECT * FROM @T@ f3 WHERE f3.k = f1.k AND f3.amount > f1.amount + 1)
		GROUP BY g ORDER BY g"
	sorted_files sorted "(i // 10)::BIGINT"
	coloc_check exists sorted "$exists" "same part"
	coloc_check scalar sorted "SELECT id, amount FROM @T@ f1
		WHERE amount > (SELECT avg(amount) FROM @T@ f2 WHERE f1.k = f2.k) ORDER BY id" "same part"
	coloc_check in sorted "SELECT g, count(*) AS n FROM @T@ f1
		WHERE g IN (SELECT g FROM @T@ f2 WHERE f2.k = f1.k AND f2.id > f1.id) GROUP BY g ORDER BY g" "same part"
	# with a dimension broadcast beside it (small enough)
	coloc_check dim sorted "SELECT d.label, count(*) AS n FROM @T@ f1 JOIN @D@ d ON f1.k = d.k
		WHERE NOT EXISTS (SELECT * FROM @T@ f2 WHERE f2.k = f1.k AND f2.g = 6) GROUP BY d.label ORDER BY d.label" "same part"
	# in the select list (not a WHERE conjunct): not co-located
	coloc_check select_list sorted "SELECT id, (SELECT count(*) FROM @T@ f2 WHERE f2.k = f1.k AND f2.g > f1.g) AS c
		FROM @T@ f1 WHERE id % 50 = 0 ORDER BY id" "not"
	# correlated on g, which every file holds: decorrelated
	coloc_check other_key sorted "SELECT count(*) AS n FROM @T@ f1
		WHERE EXISTS (SELECT * FROM @T@ f2 WHERE f2.g = f1.g AND f2.k > f1.k + 250)" "not"
	# key 428 in files 0 and 1
	sorted_files overlap "(i // 7)::BIGINT"
	coloc_check overlap overlap "$exists" "not"
	# beside a subquery over another big table, decorrelated: the rest
	# of the query becomes a derived table, where it is co-located
	coloc_check mixed sorted "SELECT g, count(*) AS n FROM @T@ f1
		WHERE EXISTS (SELECT * FROM @T@ f2 WHERE f2.k = f1.k AND f2.g > f1.g)
		  AND NOT EXISTS (SELECT * FROM 'overlap/*.parquet' o WHERE o.k = f1.k AND o.g = f1.g + 1)
		GROUP BY g ORDER BY g" "same part"
	# NULL keys in one file: they match nothing either way
	sorted_files nulls1 "CASE WHEN i % 1000 = 5 AND i < 3000 THEN NULL ELSE (i // 10)::BIGINT END"
	coloc_check nulls1 nulls1 "$exists" "same part"
}

key_files() { # DIR NFILES KEY_SQL: NFILES files of 1,200 rows over them, k2 = KEY_SQL of the row number i
	mkdir -p "$1"
	for ((f = 0; f < $2; f++)); do
		q "COPY (SELECT $3 AS k2, 'g' || (i % 4) AS g2, (i % 9)::INTEGER AS w
			FROM range($f * 1200 // $2, ($f + 1) * 1200 // $2) t(i)) TO '$1/t$f.parquet'" >/dev/null
	done
}

aligned_check() { # NAME QUERY EXPECT(aligned|not) DIR: @T@ the split table (sorted/), @K@ DIR's
	local qry=${2//@T@/"'sorted/*.parquet'"}
	qry=${qry//@K@/"'$4/*.parquet'"}
	pond_cli 0 sql "$qry" --explain --broadcast-limit 40000
	assert_contains "$1: split" out.txt "f: read in 2 parts, groups of its files"
	if [ "$3" = aligned ]; then
		explained_check "$1" "$qry" has "t: each part of f reads only the span of its files whose k2 meets that part's k" \
			--broadcast-limit 40000
	else
		explained_check "$1" "$qry" lacks "reads only the span of its files" --broadcast-limit 40000
	fi
}

# A broadcast table joined to the split one on an integer key both are
# written sorted by is read by each task only in the span of its files
# that can meet its part (TPC-H's orders beside lineitem), whatever the
# join (inner, or one that drops its unmatched rows); unsorted, or a key
# of another type, and it is read whole. Every result is DuckDB's.
test_broadcast_table_aligned_with_the_split_one() {
	local agg="SELECT t.g2, count(*) AS n, sum(f.amount) AS s, sum(t.w) AS w FROM @T@ f JOIN @K@ t ON f.k = t.k2
		GROUP BY t.g2 ORDER BY t.g2"
	sorted_files sorted "(i // 10)::BIGINT"
	# 3 files of keys 0-399, 400-799, 800-1199 against parts of keys 0-599 and 600-1199
	key_files keyed 3 "i::INTEGER"
	aligned_check join "$agg" aligned keyed
	aligned_check where "SELECT f.g, count(*) AS n, max(t.k2) AS m FROM @T@ f, @K@ t
		WHERE t.k2 = f.k AND t.w > 2 AND f.id % 3 = 0 GROUP BY f.g ORDER BY f.g" aligned keyed
	aligned_check rows "SELECT f.id, t.k2, t.g2 FROM @T@ f JOIN @K@ t ON f.k = t.k2 WHERE f.id % 97 = 0 ORDER BY f.id" \
		aligned keyed
	# NULL keys, and keys no row of the split table has (beyond 1199)
	key_files nulls 4 "CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 2)::BIGINT END"
	aligned_check nulls "$agg" aligned nulls
	# joins that keep only t's matched rows: f's unmatched ones stay whole in their part
	aligned_check left "SELECT count(*) AS n, count(t.k2) AS matched, sum(t.w) AS w FROM @T@ f
		LEFT JOIN @K@ t ON f.k = t.k2 AND t.w > 3" aligned nulls
	aligned_check right "SELECT f.g, count(t.g2) AS n FROM @K@ t RIGHT JOIN @T@ f ON t.k2 = f.k GROUP BY f.g ORDER BY f.g" \
		aligned keyed
	aligned_check semi "SELECT f.g, count(*) AS n FROM @T@ f SEMI JOIN @K@ t ON f.k = t.k2 AND t.w > 5
		GROUP BY f.g ORDER BY f.g" aligned keyed
	aligned_check anti "SELECT count(*) AS n, sum(f.amount) AS s FROM @T@ f ANTI JOIN @K@ t ON f.k = t.k2 AND t.w > 5" \
		aligned nulls
	# file names with DuckDB's glob characters: found by name all the same
	mkdir globbed
	cp keyed/t0.parquet 'globbed/t[0].parquet'
	cp keyed/t1.parquet 'globbed/t*1.parquet'
	cp keyed/t2.parquet 'globbed/t?2.parquet'
	aligned_check globbed "$agg" aligned globbed
	key_files shuffled 3 "((i * 7919) % 1200)::INTEGER"
	aligned_check shuffled "$agg" not shuffled
	key_files dbl 3 "i::DOUBLE"
	aligned_check double "$agg" not dbl
}

# Under ORDER BY, a derived table unique on its GROUP BY key, equated to
# a column of the same type of another table (in every row of it the
# query keeps), adds no factor to the rows the query can make: a few
# rows, sorted by one task. Not so for two such tables equated to each
# other, a key of another type, or the side a LEFT JOIN keeps. Every
# answer is DuckDB's.
test_rows_bounded_by_a_table_unique_on_its_key() {
	local per_k="(SELECT k, count(*) AS n, sum(amount) AS s FROM 'sorted/*.parquet' GROUP BY k)"
	# the dimension's 1,300 rows (+ 1) times 1: one task sorts them
	local one="ORDER BY: at most ~1301 rows (its tables' rows), sorted by one task"
	local range="ORDER BY: range partitions"
	sorted_files sorted "(i // 10)::BIGINT"
	explained_check where "SELECT d.k, d.label, t.n, t.s FROM 'sorted-dim.parquet' d, $per_k t
		WHERE d.k = t.k AND t.n > 5 ORDER BY t.s DESC, d.k" has "$one"
	explained_check left "SELECT d.k, t.n FROM 'sorted-dim.parquet' d LEFT JOIN $per_k t ON d.k = t.k
		ORDER BY t.n NULLS FIRST, d.k" has "$one"
	# its rows kept unmatched: 1,201 × 1,301 of them, more than one task sorts
	explained_check kept "SELECT t.k, d.label FROM $per_k t LEFT JOIN 'sorted-dim.parquet' d ON t.k = d.k
		ORDER BY t.k" has "$range"
	# each unique, equal to the other: one of them counts (its 1,200 groups, + 1)
	sorted_files mixed "((i * 7919) % 1200)::BIGINT"
	explained_check each_other "SELECT a.k, a.n, b.m FROM (SELECT k, count(*) AS n FROM 'mixed/*.parquet' GROUP BY k) a
		JOIN (SELECT k, max(id) AS m FROM 'mixed/*.parquet' GROUP BY k) b ON a.k = b.k ORDER BY a.k" \
		has "ORDER BY: at most ~1201 rows"
	# an INTEGER key equal to a BIGINT: its 7 groups count (1,301 × 8)
	explained_check other_type "SELECT d.k, t.n FROM 'sorted-dim.parquet' d
		JOIN (SELECT g, count(*) AS n FROM 'sorted/*.parquet' GROUP BY g) t ON d.k = t.g ORDER BY d.k" \
		has "ORDER BY: at most ~10408 rows"
	# unnest makes several rows of a group
	explained_check unnest "SELECT d.k, t.x FROM 'sorted-dim.parquet' d
		JOIN (SELECT k, unnest(list(id)) AS x FROM 'sorted/*.parquet' GROUP BY k) t ON d.k = t.k ORDER BY d.k, t.x" \
		has "$range"
	# unique on (k, g), equal on k alone
	explained_check two_keys "SELECT d.k, t.g, t.n FROM 'sorted-dim.parquet' d
		JOIN (SELECT k, g, count(*) AS n FROM 'sorted/*.parquet' GROUP BY k, g) t ON d.k = t.k ORDER BY d.k, t.g" \
		has "$range"
}

run_test sql_compare_result_sees_differences test_compare_result_sees_differences
run_test sql_print_first_rows_then_the_count test_print_first_rows_then_the_count
run_test sql_rejected_query_is_duckdbs_message_exit_2 test_rejected_query_is_duckdbs_message_exit_2
run_test sql_describe_and_summarize_statements test_describe_and_summarize_statements
run_test sql_missing_input_exit_1 test_missing_input_exit_1
run_test sql_placeholder_named_column_is_refused test_placeholder_named_column_is_refused
run_test sql_usage_errors_exit_2 test_usage_errors_exit_2
run_test sql_tables_by_t_and_tables_dir test_tables_by_t_and_tables_dir
run_test sql_csv_output test_csv_output
run_test sql_output_holding_an_input_is_refused test_output_holding_an_input_is_refused
run_test sql_byte_identical_across_reruns_and_workers test_byte_identical_across_reruns_and_workers
run_test sql_resume_and_default_job_dir test_resume_and_default_job_dir
run_test sql_explain_says_how test_explain_says_how
run_test sql_derived_table_sized_by_the_columns_it_reads test_derived_table_sized_by_the_columns_it_reads
run_test sql_scalar_subquery_in_having_keeps_duckdbs_semantics test_scalar_subquery_in_having_keeps_duckdbs_semantics
run_test sql_group_by_a_key_the_files_are_sorted_by test_group_by_a_key_the_files_are_sorted_by
run_test sql_correlated_subquery_on_the_key_the_files_are_sorted_by test_correlated_subquery_on_the_key_the_files_are_sorted_by
run_test sql_broadcast_table_aligned_with_the_split_one test_broadcast_table_aligned_with_the_split_one
run_test sql_rows_bounded_by_a_table_unique_on_its_key test_rows_bounded_by_a_table_unique_on_its_key
finish_tests
