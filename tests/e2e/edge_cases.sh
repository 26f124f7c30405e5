#!/usr/bin/env bash
# Edge cases around the functions of docs/PIPELINES.md: empty partitions, empty
# results, NULL keys in hash/range shuffles, a dataset used by several
# actions (shuffled once), the method form of sql()/partial_sql(), chains
# of shuffles, multi-line strings and comments in scripts. Compared with
# DuckDB on the same data.
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	q "COPY (SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE (hash(i) % 40)::BIGINT END AS k, 's' || i AS s
	         FROM range(3000) t(i)) TO 'in/a.parquet'" >/dev/null
	q "COPY (SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE (hash(i) % 40)::BIGINT END AS k, 's' || i AS s
	         FROM range(3000, 5000) t(i)) TO 'in/b.parquet'" >/dev/null
}
IN="read_parquet('in/*.parquet')"

test_empty_partitions() {
	make_input
	cat >job.pond <<'EOF'
# two distinct keys into 6 partitions: at least 4 partitions get no rows
df = read_parquet('in/*.parquet').map('i, i % 2 AS two, s').repartition(6, hash_by='two')
agg = partial_sql('SELECT two, count(*) AS n, max(s) AS ms FROM {0} GROUP BY two', df)
agg.write_parquet('out')
df.write_parquet('rows')
df.count()
EOF
	pond_ok job.pond
	assert_same "aggregate over mostly empty partitions" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i % 2 AS two, count(*) AS n, max(s) AS ms FROM $IN GROUP BY two ORDER BY ALL")"
	[ "$(part_count rows)" = 6 ] || fail "expected 6 part files (empty ones too), got $(part_count rows)"
	assert_same "rows" "$(q "SELECT * FROM $(parts rows) ORDER BY ALL")" "$(q "SELECT i, i % 2 AS two, s FROM $IN ORDER BY ALL")"
	assert_same "empty part files keep the schema" \
		"$(q "SELECT DISTINCT column_name, column_type FROM (DESCRIBE SELECT * FROM $(parts rows)) ORDER BY ALL")" \
		"$(q "SELECT DISTINCT column_name, column_type FROM (DESCRIBE SELECT i, i % 2 AS two, s FROM $IN) ORDER BY ALL")"
	assert_same "count" "$(cat out.txt)" "$(q "SELECT count(*) FROM $IN")"
}

test_empty_result() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
none = df.filter('i < 0')
none.write_parquet('out')
none.count()
none.show(3)
sorted = none.repartition(2, range_by='i')
sorted.write_parquet('out_sorted')
s = sql('SELECT count(*) AS n, sum(i) AS t FROM {0}', none)
s.write_parquet('out_sql')
EOF
	pond_ok job.pond
	assert_exists out/_SUCCESS
	assert_same "no rows written" "$(q "SELECT count(*) FROM $(parts out)")" "$(q "SELECT count(*) FROM $IN WHERE i < 0")"
	assert_same "schema kept" "$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $(parts out))")" \
		"$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $IN)")"
	assert_same "count of nothing" "$(head -n 1 out.txt)" "$(q "SELECT count(*) FROM $IN WHERE i < 0")"
	assert_contains "show of nothing" out.txt "0 rows"
	assert_exists out_sorted/_SUCCESS
	assert_same "range shuffle of nothing" "$(q "SELECT count(*) FROM $(parts out_sorted)")" "$(q "SELECT count(*) FROM $IN WHERE i < 0")"
	assert_same "sql over nothing" "$(q "SELECT * FROM $(parts out_sql)")" "$(q "SELECT count(*) AS n, sum(i) AS t FROM $IN WHERE i < 0")"
}

test_null_keys() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
h = df.repartition(4, hash_by='k')
h.write_parquet('out_hash')
agg = partial_sql('SELECT k, count(*) AS n FROM {0} GROUP BY k', h)
agg.write_parquet('out_agg')
r = df.repartition(3, range_by='k').partial_sort('k NULLS LAST, i')
r.write_parquet('out_range')
EOF
	pond_ok job.pond
	assert_same "hash: rows" "$(q "SELECT * FROM $(parts out_hash) ORDER BY ALL")" "$(q "SELECT * FROM $IN ORDER BY ALL")"
	assert_same "hash: NULL is one group" "$(q "SELECT * FROM $(parts out_agg) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n FROM $IN GROUP BY k ORDER BY ALL")"
	assert_same "range: rows" "$(q "SELECT * FROM $(parts out_range) ORDER BY ALL")" "$(q "SELECT * FROM $IN ORDER BY ALL")"
	# global order with NULL keys last
	assert_same "range: global order, NULLs last" \
		"$(q "SELECT k, i FROM read_parquet('out_range/*.parquet', filename=true, file_row_number=true) ORDER BY filename, file_row_number")" \
		"$(q "SELECT k, i FROM $IN ORDER BY k NULLS LAST, i")"
}

test_dataset_used_twice_shuffled_once() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='i')
a = df.filter('i % 2 = 0')
b = df.filter('i % 2 = 1')
a.write_parquet('out_a')
b.write_parquet('out_b')
df.count()
EOF
	pond_ok job.pond --job-dir jd
	assert_same "a" "$(q "SELECT * FROM $(parts out_a) ORDER BY ALL")" "$(q "SELECT * FROM $IN WHERE i % 2 = 0 ORDER BY ALL")"
	assert_same "b" "$(q "SELECT * FROM $(parts out_b) ORDER BY ALL")" "$(q "SELECT * FROM $IN WHERE i % 2 = 1 ORDER BY ALL")"
	assert_same "count" "$(cat out.txt)" "$(q "SELECT count(*) FROM $IN")"
	# one repartition in the script: one shuffle stage in the plan
	assert_same "shuffle stages" \
		"$(q "SELECT count(*) FROM (SELECT unnest(json_extract_string(content, '\$.stages[*].kind')) AS k FROM read_text('jd/plan.json')) WHERE k = 'shuffle'")" \
		"$(grep -c 'repartition' job.pond)"
}

test_method_forms() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
other = read_parquet('in/b.parquet')
per = df.partial_sql('SELECT k, count(*) AS n FROM {0} GROUP BY k')
per.write_parquet('out_partial')
whole = df.repartition(2).sql('SELECT k, count(*) AS n FROM {0} GROUP BY k')
whole.write_parquet('out_sql')
j = df.sql('SELECT count(*) AS n FROM {0} JOIN {1} USING (i)', other)
j.write_parquet('out_join')
EOF
	pond_ok job.pond
	assert_same "df.partial_sql(q)" "$(q "SELECT * FROM $(parts out_partial) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n FROM $IN GROUP BY k ORDER BY ALL")"
	assert_same "df.sql(q)" "$(q "SELECT * FROM $(parts out_sql) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n FROM $IN GROUP BY k ORDER BY ALL")"
	assert_same "df.sql(q, other)" "$(q "SELECT * FROM $(parts out_join)")" \
		"$(q "SELECT count(*) AS n FROM $IN JOIN read_parquet('in/b.parquet') USING (i)")"
}

test_chained_shuffles() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
a = df.repartition(5, hash_by='i')
b = a.repartition(3, hash_by='k')
c = partial_sql('SELECT k, count(*) AS n, min(i) AS lo FROM {0} GROUP BY k', b)
d = c.repartition(2, range_by='n')
e = random_shuffle(d)
f = e.repartition(4, by_rows=true)
f.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows after five shuffles" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, min(i) AS lo FROM $IN GROUP BY k ORDER BY ALL")"
	[ "$(part_count out)" = 4 ] || fail "expected 4 part files"
}

test_multiline_script() {
	make_input
	cat >job.pond <<'EOF'
# comments, blank lines, calls over several lines, "double" quotes,
# a multi-line query and '' inside a string

df = read_parquet(
    "in/*.parquet",   # a comment inside a call
    columns=['i', 's'],
)

out = partial_sql('
    SELECT i,
           s || ''!'' AS bang   -- SQL comment
    FROM {0}
    WHERE i % 5 = 0
', df)
out.write_parquet("out")
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, s || '!' AS bang FROM $IN WHERE i % 5 = 0 ORDER BY ALL")"
}

run_test empty_partitions_keep_schema test_empty_partitions
run_test empty_results_through_every_stage_kind test_empty_result
run_test null_keys_in_hash_and_range test_null_keys
run_test dataset_used_twice_shuffled_once test_dataset_used_twice_shuffled_once
run_test sql_and_partial_sql_method_forms test_method_forms
run_test chained_shuffles_of_every_mode test_chained_shuffles
run_test multiline_script_strings_comments test_multiline_script
finish_tests
