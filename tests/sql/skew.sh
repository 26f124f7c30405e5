#!/usr/bin/env bash
# skew.sh — a hot key of a co-partitioned join (docs/SQL.md "Skew"): with
# one key holding about half the fact rows, the join's results are
# DuckDB's (inner, LEFT, RIGHT, SEMI, ANTI joins, a composite key, an
# aggregate over the join, hot NULL keys), no task of the join stage gets
# more than twice its fair share of rows (events.jsonl), the
# output is byte-identical across reruns and -w, a join whose kept side
# cannot be spread (FULL) is left as it was, and a join without hot keys
# is planned as before. --broadcast-limit 0 makes every join co-partitioned.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_sql.sh"

# gen_skewed DIR [HOT_NULLS]: fact/ (8 Parquet files × 40,000 rows): half
# the rows have customer 7, 1 % a NULL customer (40 % with HOT_NULLS=1),
# the rest customers 0..4999 evenly; cust.parquet: customers 0..5999 (6000
# and up in no fact row), customer 7 twice (a many-to-many key);
# cr.parquet: (cust, region) pairs for a composite key.
gen_skewed() {
	local dir=$1 nulls=${2:-0} f null_test="hash(i, 2) % 100 = 0"
	[ "$nulls" = 1 ] && null_test="hash(i, 2) % 10 < 4"
	mkdir -p "$dir/fact"
	for f in 0 1 2 3 4 5 6 7; do
		q "COPY (SELECT i AS id,
			CASE WHEN $null_test THEN NULL WHEN hash(i, 1) % 2 = 0 THEN 7
			     ELSE (hash(i, 3) % 5000)::INTEGER END AS cust,
			'r' || (hash(i, 4) % 3) AS region,
			((hash(i, 5) % 100000) / 100.0)::DECIMAL(12,2) AS amount
			FROM range($f * 40000, ($f + 1) * 40000) t(i)) TO '$dir/fact/f$f.parquet'" >/dev/null
	done
	q "COPY (SELECT i::BIGINT AS cust, 'c' || i AS name, ['gold', 'retail', NULL][1 + i % 3] AS segment
		FROM range(0, 6000) t(i) UNION ALL SELECT 7, 'c7-again', 'gold') TO '$dir/cust.parquet'" >/dev/null
	q "COPY (SELECT (i // 2)::INTEGER AS cust, 'r' || (i % 2) AS region, i AS tag FROM range(0, 10000) t(i))
		TO '$dir/cr.parquet'" >/dev/null
}

skew_views() {
	printf "%s\n" \
		"CREATE VIEW fact AS SELECT * FROM read_parquet('$1/fact/*.parquet')" \
		"CREATE VIEW cust AS SELECT * FROM read_parquet('$1/cust.parquet')" \
		"CREATE VIEW cr AS SELECT * FROM read_parquet('$1/cr.parquet')"
}

# check NAME QUERY [pond flags]: pond sql -o against DuckDB's COPY of the
# same query (unordered); the job directory is job-NAME.
check() {
	local name=$1 qry=$2 diff
	shift 2
	pond_cli 0 sql "$qry" --tables wh --broadcast-limit 0 -o "out-$name" --job-dir "job-$name" -w "$W" \
		--progress none "$@"
	mapfile -t views < <(skew_views wh)
	q "${views[@]}" "COPY ($qry) TO 'oracle-$name.parquet'" >/dev/null
	diff=$(compare_result "$name" "out-$name" "oracle-$name.parquet" 0)
	assert_empty "$name: pond's rows are DuckDB's" "$diff"
}

explain() { # QUERY: pond sql --explain into explain.txt
	pond_cli 0 sql "$1" --tables wh --broadcast-limit 0 --explain
	mv out.txt explain.txt
}

# The most rows a task of the stage that reads both shuffles of the join
# made, over the fair share (all its rows / its tasks), as a decimal: the
# join's rows, as events.jsonl records them for every attempt (its rows_in
# is sampled: a task under 50 ms may go unprofiled, docs/REPORT.md).
join_load() {
	local job=$1 stage
	stage=$(q "SELECT s->>'name' FROM (SELECT unnest(stages::JSON[]) AS s
		FROM read_json('$job/plan.json', maximum_object_size = 1000000000))
		WHERE json_array_length(s->'deps') = 2 ORDER BY (s->>'id')::INTEGER LIMIT 1")
	[ -n "$stage" ] || fail "no stage reads two shuffles in $job/plan.json"
	q "SELECT round(max(\"rows\") / (sum(\"rows\") / count(*)), 2) FROM read_json('$job/events.jsonl')
		WHERE task LIKE '$stage-%' AND ok"
}

test_hot_key_joins_equal_duckdb() {
	gen_skewed wh
	explain "SELECT f.id, c.name FROM fact f JOIN cust c USING (cust)"
	assert_contains "explain: the skew" explain.txt "skew: f has 1 hot key (each more than 1/8 of the 320000 rows sampled from 8 of its files"
	assert_contains "explain: the spread side" explain.txt "their rows and those of NULL keys spread over every partition"
	assert_contains "explain: the copied side" explain.txt "their rows copied to every partition"
	check inner "SELECT f.id, f.cust, c.name FROM fact f JOIN cust c USING (cust)"
	check left "SELECT f.id, f.cust, c.name, c.segment FROM fact f LEFT JOIN cust c ON f.cust = c.cust"
	check right "SELECT f.id, c.name FROM cust c RIGHT JOIN fact f ON c.cust = f.cust"
	check semi "SELECT f.id, f.amount FROM fact f SEMI JOIN cust c ON f.cust = c.cust"
	check anti "SELECT f.id, f.cust FROM fact f ANTI JOIN cust c ON f.cust = c.cust AND c.segment = 'gold'"
	check composite "SELECT f.id, cr.tag FROM fact f JOIN cr ON f.cust = cr.cust AND f.region = cr.region"
	check agg "SELECT c.segment, count(*) AS n, sum(f.amount) AS s, count(DISTINCT f.cust) AS d
		FROM fact f JOIN cust c USING (cust) GROUP BY ALL"
	check ordered "SELECT c.name, sum(f.amount) AS s FROM fact f JOIN cust c USING (cust)
		GROUP BY c.name ORDER BY s DESC, c.name LIMIT 20"
	explain "SELECT f.id, cr.tag FROM fact f JOIN cr ON f.cust = cr.cust AND f.region = cr.region"
	assert_contains "explain: a composite key" explain.txt "skew: f has 3 hot keys"
}

test_no_task_gets_most_of_the_join() {
	local load
	gen_skewed wh
	check inner "SELECT f.id, f.cust, c.name FROM fact f JOIN cust c USING (cust)"
	load=$(join_load job-inner)
	assert_true "inner join: the busiest task reads $load x the fair share" "$(q "SELECT $load <= 2")"
	check left "SELECT f.id, c.name FROM fact f LEFT JOIN cust c ON f.cust = c.cust"
	load=$(join_load job-left)
	assert_true "left join: the busiest task reads $load x the fair share" "$(q "SELECT $load <= 2")"
	# FULL keeps both sides' unmatched rows: not spread, the hot key's task
	# does its work alone (the measure sees it)
	explain "SELECT f.id, c.name FROM fact f FULL JOIN cust c ON f.cust = c.cust"
	assert_not_contains "FULL: no skew handling" explain.txt "skew:"
	check full "SELECT f.id, c.name FROM fact f FULL JOIN cust c ON f.cust = c.cust"
	load=$(join_load job-full)
	assert_true "FULL join: the hot key's task reads $load x the fair share" "$(q "SELECT $load > 2")"
	# a LEFT join that keeps the small side's rows spreads nothing
	explain "SELECT c.name, f.id FROM cust c LEFT JOIN fact f ON c.cust = f.cust"
	assert_not_contains "LEFT keeping the other side: no skew handling" explain.txt "skew:"
	check keep_small "SELECT c.name, f.id FROM cust c LEFT JOIN fact f ON c.cust = f.cust"
}

test_hot_null_keys_spread_kept_once() {
	local load
	gen_skewed wh 1
	explain "SELECT f.id, c.name FROM fact f LEFT JOIN cust c USING (cust)"
	assert_contains "explain: NULL keys" explain.txt "skew: f has 1 hot key and NULL keys"
	check left "SELECT f.id, f.cust, c.name FROM fact f LEFT JOIN cust c USING (cust)"
	load=$(join_load job-left)
	assert_true "the busiest task reads $load x the fair share" "$(q "SELECT $load <= 2")"
	check anti "SELECT f.id FROM fact f ANTI JOIN cust c USING (cust)"
	check inner "SELECT count(*) AS n, count(f.cust) AS k FROM fact f JOIN cust c USING (cust)"
}

test_byte_identical_across_reruns_and_workers() {
	gen_skewed wh
	# (a join's rows come in the order DuckDB's threads give them: the
	# queries order them, or aggregate)
	local qry i=0
	for qry in "SELECT f.id, f.cust, c.name FROM fact f JOIN cust c USING (cust) ORDER BY f.id, c.name" \
		"SELECT c.segment, count(*) AS n, sum(f.amount) AS s FROM fact f LEFT JOIN cust c USING (cust) GROUP BY ALL ORDER BY ALL"; do
		i=$((i + 1))
		pond_cli 0 sql "$qry" --tables wh --broadcast-limit 0 -o "a$i" -w 1 --progress none
		pond_cli 0 sql "$qry" --tables wh --broadcast-limit 0 -o "b$i" -w 3 --progress none
		pond_cli 0 sql "$qry" --tables wh --broadcast-limit 0 -o "c$i" -w 2 --progress none --job-dir "j$i"
		assert_same "$i: -w 1 and -w 3" "$(tree_digest "a$i")" "$(tree_digest "b$i")"
		assert_same "$i: again" "$(tree_digest "a$i")" "$(tree_digest "c$i")"
	done
}

test_join_without_hot_keys_planned_as_before() {
	mkdir -p wh/fact
	local f
	for f in 0 1 2 3; do
		q "COPY (SELECT i AS id, (hash(i) % 5000)::INTEGER AS cust FROM range($f * 10000, ($f + 1) * 10000) t(i))
			TO 'wh/fact/f$f.parquet'" >/dev/null
	done
	q "COPY (SELECT i::BIGINT AS cust, 'c' || i AS name FROM range(0, 5000) t(i)) TO 'wh/cust.parquet'" >/dev/null
	q "COPY (SELECT 1 AS cust, 'x' AS region, 1 AS tag) TO 'wh/cr.parquet'" >/dev/null
	explain "SELECT f.id, c.name FROM fact f JOIN cust c USING (cust)"
	assert_contains "co-partitioned" explain.txt "f and c co-partitioned: hash of (f.cust) and (c.cust) into 4"
	assert_not_contains "no skew handling" explain.txt "skew"
	assert_not_contains "plain hash buckets" explain.txt "unnest("
	check plain "SELECT f.id, c.name FROM fact f JOIN cust c USING (cust)"
}

# A side of more than about 1M rows is sampled, not read whole, while the
# query is planned (docs/SQL.md "Hot keys"): 8 files × 200,000 rows, half
# of them customer 7. The hot key is still found, from about 256K rows; a
# GROUP BY over few values is still estimated few; the plan is the same
# on every run; the join gives DuckDB's rows.
test_big_side_sampled_same_plan_every_run() {
	mkdir -p wh/fact
	local f sampled
	for f in 0 1 2 3 4 5 6 7; do
		q "COPY (SELECT i AS id, CASE WHEN hash(i, 1) % 2 = 0 THEN 7 ELSE (hash(i, 3) % 5000)::INTEGER END AS cust,
			'r' || (hash(i, 4) % 3) AS region FROM range($f * 200000, ($f + 1) * 200000) t(i))
			TO 'wh/fact/f$f.parquet'" >/dev/null
	done
	q "COPY (SELECT i::BIGINT AS cust, 'c' || i AS name FROM range(0, 5000) t(i)) TO 'wh/cust.parquet'" >/dev/null
	q "COPY (SELECT 1 AS cust, 'x' AS region, 1 AS tag) TO 'wh/cr.parquet'" >/dev/null
	explain "SELECT c.name, count(*) FROM fact f JOIN cust c USING (cust) GROUP BY ALL"
	assert_matches "the hot key, from a sample" explain.txt \
		"skew: f has 1 hot key \\(each more than 1/8 of the [0-9]+ rows sampled from 8 of its files"
	sampled=$(sed -n 's/.* of the \([0-9]*\) rows sampled.*/\1/p' explain.txt)
	if [ "$sampled" -le 128000 ] || [ "$sampled" -ge 512000 ]; then
		fail "$sampled rows sampled, not about 256K of 1,600,000"
	fi
	mv explain.txt first.txt
	explain "SELECT c.name, count(*) FROM fact f JOIN cust c USING (cust) GROUP BY ALL"
	assert_same "the same plan again" "$(cat first.txt)" "$(cat explain.txt)"
	explain "SELECT region, count(*) FROM fact GROUP BY ALL ORDER BY 1"
	assert_contains "few groups, from a sample" explain.txt "at most ~3 groups"
	check big "SELECT c.name, count(*) FROM fact f JOIN cust c USING (cust) GROUP BY ALL"
}

run_test sql_skew_hot_key_joins_equal_duckdb test_hot_key_joins_equal_duckdb
run_test sql_skew_no_task_gets_most_of_the_join test_no_task_gets_most_of_the_join
run_test sql_skew_hot_null_keys_spread_kept_once test_hot_null_keys_spread_kept_once
run_test sql_skew_byte_identical_across_reruns_and_workers test_byte_identical_across_reruns_and_workers
run_test sql_skew_join_without_hot_keys_planned_as_before test_join_without_hot_keys_planned_as_before
run_test sql_skew_big_side_sampled_same_plan_every_run test_big_side_sampled_same_plan_every_run
finish_tests
