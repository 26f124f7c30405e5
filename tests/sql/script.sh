#!/usr/bin/env bash
# script.sh — sql() in pipeline scripts planned like pond sql (docs/
# PIPELINES.md "sql"): datasets named in the query, {0}/{1} inputs, inputs
# that are shuffled or computed datasets, one partition kept for what
# reads the result; each result compared with single-process DuckDB.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_sql.sh"

WH=$(mktemp -d "${TMPDIR:-/tmp}/pond-sql-wh.XXXXXX")
trap 'rm -rf "$WH"' EXIT
gen_star "$WH" 8 20000
mapfile -t VIEWS < <(oracle_views "$WH")

test_names_and_placeholders() {
	cat >job.pond <<JOB
sales = read_parquet('$WH/sales/*.parquet')
customers = read_parquet('$WH/customers.parquet')
by_name = sql('SELECT c.segment, count(*) AS n, sum(s.amount) AS total FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment')
by_name.write_parquet('o1')
by_ph = sql('SELECT c.segment, count(*) AS n, sum(s.amount) AS total FROM {0} s JOIN {1} c USING (customer_id) GROUP BY c.segment', sales, customers)
by_ph.write_parquet('o2')
JOB
	pond_ok job.pond
	pond_cli 0 explain job.pond
	assert_not_contains "distributed" out.txt "not distributed"
	assert_contains "named tables joined" out.txt "broadcast to every task"
	local want
	want=$(q "${VIEWS[@]}" "SELECT c.segment, count(*), sum(s.amount) FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment ORDER BY ALL")
	assert_same "by name" "$(q "SELECT * FROM $(parts o1) ORDER BY ALL")" "$want"
	assert_same "by {0}" "$(q "SELECT * FROM $(parts o2) ORDER BY ALL")" "$want"
	[ "$(part_count o1)" = 1 ] || fail "sql() keeps one partition: $(part_files o1)"
}

test_shuffled_and_computed_inputs() {
	cat >job.pond <<JOB
sales = read_parquet('$WH/sales/*.parquet')
byk = sales.repartition(3, hash_by='store_id')
big = partial_sql('SELECT store_id, channel, amount FROM {0} WHERE amount > 50000', byk)
top = sql('SELECT store_id, median(amount) AS m, count(*) AS n FROM {0} GROUP BY store_id ORDER BY store_id', big)
top.write_parquet('o1')
ranked = sql('SELECT store_id, channel, amount, row_number() OVER (PARTITION BY store_id ORDER BY amount DESC) AS r FROM big QUALIFY r <= 2')
both = partial_sql('SELECT a.store_id, a.m, b.amount FROM {0} a JOIN {1} b USING (store_id) WHERE b.r = 1', top, ranked)
both.write_parquet('o2')
JOB
	pond_ok job.pond
	assert_same "median over a computed dataset" "$(q "SELECT * FROM $(parts o1)")" \
		"$(q "${VIEWS[@]}" "SELECT store_id, median(amount), count(*) FROM sales WHERE amount > 50000 GROUP BY store_id ORDER BY store_id")"
	assert_same "one partition each, then joined" "$(q "SELECT * FROM $(parts o2) ORDER BY ALL")" \
		"$(q "${VIEWS[@]}" "WITH big AS (SELECT * FROM sales WHERE amount > 50000),
			top AS (SELECT store_id, median(amount) AS m FROM big GROUP BY store_id),
			r AS (SELECT store_id, amount FROM big QUALIFY row_number() OVER (PARTITION BY store_id ORDER BY amount DESC) = 1)
			SELECT top.store_id, m, amount FROM top JOIN r USING (store_id) ORDER BY ALL")"
}

test_one_task_when_not_distributable() {
	cat >job.pond <<JOB
sales = read_parquet('$WH/sales/*.parquet')
r = sql('SELECT sale_id, row_number() OVER (ORDER BY amount DESC, sale_id) AS rn FROM {0} WHERE sale_id < 500', sales)
r.write_parquet('o1')
JOB
	pond_ok job.pond
	pond_cli 0 explain job.pond
	assert_contains "said" out.txt "not distributed: window functions without PARTITION BY"
	assert_same "rows" "$(q "SELECT * FROM $(parts o1) ORDER BY ALL")" \
		"$(q "${VIEWS[@]}" "SELECT sale_id, row_number() OVER (ORDER BY amount DESC, sale_id) FROM sales WHERE sale_id < 500 ORDER BY ALL")"
}

# PIVOT, UNPIVOT and DESCRIBE read datasets by name too (they were left
# unnamed: "Table with name sales does not exist"), as one task.
test_pivot_and_describe_of_datasets() {
	cat >job.pond <<JOB
sales = read_parquet('$WH/sales/*.parquet')
p = sql("PIVOT sales ON channel IN ('web', 'store') USING sum(amount) AS s, count(*) AS n GROUP BY store_id")
p.write_parquet('o1')
u = sql("UNPIVOT (SELECT sale_id, unit_price, amount FROM sales WHERE sale_id % 97 = 0) ON unit_price, amount INTO NAME k VALUE v")
u.write_parquet('o2')
d = sql('SELECT * FROM (DESCRIBE sales)')
d.write_parquet('o3')
JOB
	pond_ok job.pond
	assert_same "PIVOT" "$(q "SELECT * FROM $(parts o1) ORDER BY ALL")" \
		"$(q "${VIEWS[@]}" "SELECT * FROM (PIVOT sales ON channel IN ('web', 'store') USING sum(amount) AS s, count(*) AS n GROUP BY store_id) ORDER BY ALL")"
	assert_same "UNPIVOT" "$(q "SELECT * FROM $(parts o2) ORDER BY ALL")" \
		"$(q "${VIEWS[@]}" "SELECT * FROM (UNPIVOT (SELECT sale_id, unit_price, amount FROM sales WHERE sale_id % 97 = 0) ON unit_price, amount INTO NAME k VALUE v) ORDER BY ALL")"
	assert_same "DESCRIBE" "$(q "SELECT column_name, column_type FROM $(parts o3) ORDER BY ALL")" \
		"$(q "${VIEWS[@]}" "SELECT column_name, column_type FROM (DESCRIBE sales) ORDER BY ALL")"
}

# A column named like an input placeholder: sql() runs the step as written
# (pond's stages would have renamed it), its name and rows DuckDB's.
test_placeholder_named_column_kept() {
	q "COPY (SELECT i AS id, i % 3 AS \"{0}\" FROM range(1000) t(i)) TO 'ph.parquet'" >/dev/null
	cat >job.pond <<'JOB'
t = read_parquet('ph.parquet')
sql('SELECT * FROM {0} WHERE id % 7 = 1', t).write_parquet('o1')
JOB
	pond_ok job.pond
	pond_cli 0 explain job.pond
	assert_contains "said" out.txt 'not distributed: a column is named "{0}"'
	assert_same "names" "$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM $(parts o1))" | paste -sd,)" "id,{0}"
	assert_same "rows" "$(q "SELECT * FROM $(parts o1) ORDER BY ALL")" \
		"$(q "SELECT * FROM 'ph.parquet' WHERE id % 7 = 1 ORDER BY ALL")"
}

run_test sql_script_names_and_placeholders test_names_and_placeholders
run_test sql_script_shuffled_and_computed_inputs test_shuffled_and_computed_inputs
run_test sql_script_one_task_when_not_distributable test_one_task_when_not_distributable
run_test sql_script_placeholder_named_column_kept test_placeholder_named_column_kept
run_test sql_script_pivot_and_describe_of_datasets test_pivot_and_describe_of_datasets
finish_tests
