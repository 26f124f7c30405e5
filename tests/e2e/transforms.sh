#!/usr/bin/env bash
# Per-partition and whole-dataset steps of docs/PIPELINES.md: partial_sql with
# one and two inputs (co-partitioned join), a broadcast input, the
# {partition} placeholder, filter, map, flat_map, partial_sort, sql() over
# whole datasets, limit(). Compared with DuckDB running the equivalent
# query over all the rows at once.
source "$(dirname "$0")/lib.sh"

# facts: 4 files, i unique, k a key with repeats; dims: one row per k
make_facts() {
	mkdir -p in
	for f in 0 1 2 3; do
		q "COPY (SELECT i, (hash(i) % 500)::BIGINT AS k, (i * 7) % 101 AS v, 'v' || i AS s
		         FROM range($f * 2500, ($f + 1) * 2500 - $f * 300) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
	q "COPY (SELECT k::BIGINT AS k, 'name' || k AS name, k % 7 AS grp FROM range(0, 500, 2) t(k))
	   TO 'dims.parquet'" >/dev/null
	q "COPY (SELECT (hash(j) % 500)::BIGINT AS k, j AS w FROM range(3000) t(j)) TO 'other.parquet'" >/dev/null
}
FACTS="read_parquet('in/*.parquet')"

test_partial_sql_one_input() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(4, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n, sum(v)::BIGINT AS sv, min(s) AS ms FROM {0} GROUP BY k', f)
agg.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "per-partition GROUP BY after hash_by = global GROUP BY" \
		"$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, sum(v)::BIGINT AS sv, min(s) AS ms FROM $FACTS GROUP BY k ORDER BY ALL")"
	[ "$(part_count out)" = 4 ] || fail "expected 4 part files, got $(part_count out)"
}

test_partial_sql_two_inputs_join() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(5, hash_by='k')
o = read_parquet('other.parquet').repartition(5, hash_by='k')
j = partial_sql('SELECT a.i, a.k, a.v, b.w FROM {0} AS a JOIN {1} AS b ON a.k = b.k', f, o)
j.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "co-partitioned join = global join" \
		"$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT a.i, a.k, a.v, b.w FROM $FACTS AS a JOIN read_parquet('other.parquet') AS b ON a.k = b.k ORDER BY ALL")"
	[ "$(part_count out)" = 5 ] || fail "expected 5 part files, got $(part_count out)"
}

test_partial_sql_broadcast() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(3, by_rows=true)
d = read_parquet('dims.parquet')
j = partial_sql('SELECT f.i, f.k, d.name, d.grp FROM {0} AS f LEFT JOIN {1} AS d ON f.k = d.k', f, d)
j.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "join with a broadcast (1-partition) input" \
		"$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT f.i, f.k, d.name, d.grp FROM $FACTS AS f LEFT JOIN read_parquet('dims.parquet') AS d ON f.k = d.k ORDER BY ALL")"
	[ "$(part_count out)" = 3 ] || fail "expected 3 part files (the broadcast does not change the count), got $(part_count out)"
}

test_partition_placeholder() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(4, by='i % 4')
t = partial_sql('SELECT i, {partition} AS p FROM {0}', f)
t.write_parquet('out')
EOF
	pond_ok job.pond
	# by='i % 4' puts row i in partition i % 4, so {partition} must equal it
	assert_same "{partition} is the partition index" \
		"$(q "SELECT i, p FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, i % 4 AS p FROM $FACTS ORDER BY ALL")"
	# and partition p is written as part-0000p
	assert_empty "rows of partition p in part-<p>" \
		"$(q "SELECT filename, p FROM read_parquet('out/*.parquet', filename=true)
		      WHERE regexp_extract(filename, 'part-(\d+)', 1)::INT <> p LIMIT 5")"
}

test_filter() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(4)
g = f.filter('k < 120 AND s LIKE ''v1%''')
g.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "filter" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM $FACTS WHERE k < 120 AND s LIKE 'v1%' ORDER BY ALL")"
}

test_map() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(3, hash_by='i')
g = map(f, 'i, k * 2 AS k2, upper(s) AS u, v::DOUBLE / 4 AS q')
g.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "map" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, k * 2 AS k2, upper(s) AS u, v::DOUBLE / 4 AS q FROM $FACTS ORDER BY ALL")"
	assert_same "map: schema" "$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $(parts out))")" \
		"$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT i, k * 2 AS k2, upper(s) AS u, v::DOUBLE / 4 AS q FROM $FACTS)")"
}

test_flat_map() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(2)
g = f.flat_map('i, unnest(range(i % 4)) AS j, unnest(string_split(s, ''1'')) AS piece')
g.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "flat_map with unnest" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, unnest(range(i % 4)) AS j, unnest(string_split(s, '1')) AS piece FROM $FACTS ORDER BY ALL")"
}

test_partial_sort() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(3, hash_by='k')
g = f.partial_sort('k, i DESC')
g.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "partial_sort keeps the rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM $FACTS ORDER BY ALL")"
	local f n=0
	while IFS= read -r f; do
		n=$((n + 1))
		assert_same "$f is sorted by k, i DESC" \
			"$(q "SELECT k, i FROM read_parquet($(sql_str "$f"), file_row_number=true) ORDER BY file_row_number")" \
			"$(q "SELECT k, i FROM read_parquet($(sql_str "$f")) ORDER BY k, i DESC")"
	done < <(part_files out)
	[ $n = 3 ] || fail "expected 3 part files, got $n"
}

test_sql_whole_dataset() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(4, hash_by='i')
o = read_parquet('other.parquet').repartition(3)
# grouped on a column the data is NOT partitioned by: needs every row
g = sql('SELECT v % 10 AS g, count(*) AS n, sum(k)::BIGINT AS sk FROM {0} GROUP BY g', f)
g.write_parquet('out_g')
# two inputs with different partition counts
j = sql('SELECT a.k, count(*) AS n FROM {0} a JOIN {1} b ON a.k = b.k GROUP BY a.k', f, o)
j.write_parquet('out_j')
EOF
	pond_ok job.pond
	assert_same "sql over one whole dataset" "$(q "SELECT * FROM $(parts out_g) ORDER BY ALL")" \
		"$(q "SELECT v % 10 AS g, count(*) AS n, sum(k)::BIGINT AS sk FROM $FACTS GROUP BY g ORDER BY ALL")"
	assert_same "sql over two whole datasets" "$(q "SELECT * FROM $(parts out_j) ORDER BY ALL")" \
		"$(q "SELECT a.k, count(*) AS n FROM $FACTS a JOIN read_parquet('other.parquet') b ON a.k = b.k GROUP BY a.k ORDER BY ALL")"
}

test_limit() {
	make_facts
	cat >job.pond <<'EOF'
f = read_parquet('in/*.parquet').repartition(4, hash_by='k')
small = limit(f, 37)
small.write_parquet('out_small')
big = f.limit(100000000)
big.write_parquet('out_big')
one = read_parquet('in/f0.parquet').limit(5)
one.write_parquet('out_one')
EOF
	pond_ok job.pond
	check_limit out_small 37 "$FACTS"
	check_limit out_big 100000000 "$FACTS"
	check_limit out_one 5 "read_parquet('in/f0.parquet')"
}

# check_limit OUT N SOURCE-SQL
check_limit() {
	local out=$1 n=$2 src=$3
	assert_same "$out: row count = min(n, total)" "$(q "SELECT count(*) FROM $(parts "$out")")" \
		"$(q "SELECT least($n, count(*)) FROM $src")"
	# every row is an input row (multiset): out ∩ input = out
	assert_same "$out: rows are a subset of the input" \
		"$(q "SELECT * FROM (SELECT * FROM $(parts "$out") INTERSECT ALL SELECT * FROM $src) ORDER BY ALL")" \
		"$(q "SELECT * FROM $(parts "$out") ORDER BY ALL")"
}

run_test partial_sql_one_input_after_hash test_partial_sql_one_input
run_test partial_sql_two_inputs_copartitioned_join test_partial_sql_two_inputs_join
run_test partial_sql_broadcast_input test_partial_sql_broadcast
run_test partial_sql_partition_placeholder test_partition_placeholder
run_test filter_predicate test_filter
run_test map_select_list test_map
run_test flat_map_unnest test_flat_map
run_test partial_sort_each_part_sorted test_partial_sort
run_test sql_over_whole_datasets test_sql_whole_dataset
run_test limit_count_and_subset test_limit
finish_tests
