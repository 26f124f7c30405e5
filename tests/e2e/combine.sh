#!/usr/bin/env bash
# combine.sh — map-side partial aggregation (src/plan/combine.c): when a
# hash shuffle feeds a GROUP BY over the shuffle keys, producers aggregate
# their share first. The rewrite must never change a result: each case
# compares pond with DuckDB, and checks with `pond explain` whether the
# combiner was used, so a query it must not touch is seen to be left alone.
source "$(dirname "$0")/lib.sh"

gen() {
	mkdir -p in
	for f in 0 1 2 3; do
		q "COPY (SELECT i AS id, 'g' || (hash(i) % 50) AS g, (hash(i) % 7)::INTEGER AS h,
		        CASE WHEN i % 11 = 0 THEN NULL ELSE (hash(i * 3) % 1000)::INTEGER END AS v,
		        (hash(i * 5) % 10000) / 100.0 AS d
		        FROM range($f * 5000, ($f + 1) * 5000) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
}

# run_case QUERY KEYS EXPECT(combined|plain): QUERY over {0} (pond) and
# over the input files (oracle); KEYS the hash_by argument.
run_case() {
	local query=$1 keys=$2 expect=$3
	cat > job.pond <<P
t = read_parquet('in/*.parquet').repartition(4, hash_by=$keys)
r = partial_sql($(pond_str "$query"), t)
r.write_parquet('out', mode='overwrite')
P
	"$POND" explain job.pond > explain.txt
	if [ "$expect" = combined ]; then
		assert_contains "combiner used" explain.txt "combined with"
	else
		assert_not_contains "combiner not used" explain.txt "combined with"
	fi
	pond_ok job.pond
	local oracle=${query//\{0\}/read_parquet(\'in/*.parquet\')}
	assert_same "result of: $query" \
		"$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM ($oracle) ORDER BY ALL")"
}

test_combine_count_sum_min_max() {
	gen
	run_case "SELECT g, count(*) AS n, count(v) AS nv, sum(v)::BIGINT AS s0, min(d) AS lo, max(d) AS hi FROM {0} GROUP BY g" "'g'" plain
	run_case "SELECT g, count(*) AS n, count(v) AS nv, min(d) AS lo, max(v) AS hi FROM {0} WHERE d > 10 GROUP BY g" "'g'" combined
}

test_combine_group_superset_of_keys() {
	gen
	run_case "SELECT g, h, count(*) AS n, max(v) AS m FROM {0} GROUP BY g, h" "'g'" combined
	run_case "SELECT g, h, count(*) AS n FROM {0} GROUP BY g, h" "['g', 'h']" combined
}

test_combine_exact_integer_sums() {
	gen
	cat > job.pond <<'P'
t = read_parquet('in/*.parquet').repartition(4, hash_by='g')
r = partial_sql('SELECT g, sum(v) AS s FROM {0} GROUP BY g', t)
sql('SELECT sum(s)::VARCHAR AS total FROM {0}', r).show()
P
	"$POND" explain job.pond > explain.txt
	assert_contains "combiner used" explain.txt "combined with"
	pond_ok job.pond
	assert_contains "exact total" out.txt "$(q "SELECT sum(v)::VARCHAR FROM read_parquet('in/*.parquet')")"
}

test_combine_refuses_unsafe_queries() {
	gen
	# shuffle key not a group column: a group spans partitions, so each
	# partition has its own groups (per-partition semantics): left alone,
	# and its per-partition counts still add up to the input
	cat > job.pond <<'P'
t = read_parquet('in/*.parquet').repartition(4, hash_by='g')
partial_sql('SELECT h, count(*) AS n FROM {0} GROUP BY h', t).write_parquet('out', mode='overwrite')
P
	"$POND" explain job.pond > explain.txt
	assert_not_contains "combiner not used" explain.txt "combined with"
	pond_ok job.pond
	assert_same "per-partition counts add up" \
		"$(q "SELECT h, sum(n) FROM $(parts out) GROUP BY h ORDER BY h")" \
		"$(q "SELECT h, count(*) FROM read_parquet('in/*.parquet') GROUP BY h ORDER BY h")"
	# HAVING, DISTINCT, an unaliased aggregate, avg, an expression of aggregates
	run_case "SELECT g, count(*) AS n FROM {0} GROUP BY g HAVING count(*) > 390" "'g'" plain
	run_case "SELECT g, count(DISTINCT h) AS n FROM {0} GROUP BY g" "'g'" plain
	run_case "SELECT g, count(*) FROM {0} GROUP BY g" "'g'" plain
	run_case "SELECT g, avg(h) AS a FROM {0} GROUP BY g" "'g'" plain
	run_case "SELECT g, max(d) - min(d) AS spread FROM {0} GROUP BY g" "'g'" plain
	run_case "SELECT g, count(*) AS n FROM {0} GROUP BY g ORDER BY n DESC, g" "'g'" plain
	run_case "SELECT g AS grp, count(*) AS n FROM {0} GROUP BY g" "'g'" plain
	# a group column the query does not select: the merge could not group by it
	run_case "SELECT g, count(*) AS n FROM {0} GROUP BY g, h" "'g'" plain
	# a subquery sees the whole partition; a producer would see its share
	cat > job.pond <<'P'
t = read_parquet('in/*.parquet').repartition(4, hash_by='g')
partial_sql('SELECT g, count(*) AS n FROM {0} WHERE h > (SELECT avg(h) FROM {0}) GROUP BY g', t).write_parquet('out', mode='overwrite')
P
	"$POND" explain job.pond > explain.txt
	assert_not_contains "combiner not used with a subquery" explain.txt "combined with"
}

run_test combine_count_sum_min_max test_combine_count_sum_min_max
run_test combine_group_superset_of_keys test_combine_group_superset_of_keys
run_test combine_exact_integer_sums test_combine_exact_integer_sums
run_test combine_refuses_unsafe_queries test_combine_refuses_unsafe_queries
finish_tests
