#!/usr/bin/env bash
# One large Parquet file (~60 MB, several row groups): a single-file source
# is still shuffled by several producers (docs/ARCHITECTURE.md: "P scales with the
# input ... never 1"), and every row arrives exactly once — through hash,
# range and by_rows shuffles, with a projection and a filter fused in front.
# Row sets are compared with the oracle through exact fingerprints (count
# and sum of row hashes) or full sorted results where they are small.
source "$(dirname "$0")/lib.sh"

make_big() {
	q "SELECT setseed(0.25)" \
	  "COPY (SELECT i, (hash(i) % 50000)::BIGINT AS k, random() AS r, random() AS r2
	         FROM range(2500000) t(i)) TO 'big.parquet' (ROW_GROUP_SIZE 100000)" >/dev/null
}

# fingerprint SQL-RELATION: row count and the sum of row hashes
fingerprint() { q "SELECT count(*), sum(hash(i, k, r))::HUGEINT FROM $1"; }

# number of tasks of the first stage of KIND in jd/plan.json
stage_tasks() {
	q "SELECT json_array_length(s, '\$.tasks') FROM (SELECT unnest(json_extract(content, '\$.stages[*]')) AS s FROM read_text('jd/plan.json'))
	   WHERE json_extract_string(s, '\$.kind') = $(sql_str "$1") LIMIT 1"
}

test_big_file_hash_shuffle() {
	make_big
	cat >job.pond <<'EOF'
df = read_parquet('big.parquet', columns=['i', 'k', 'r'])
h = df.filter('i % 3 <> 1').repartition(4, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n, sum(i)::BIGINT AS s, min(r) AS mr FROM {0} GROUP BY k', h)
agg.write_parquet('out')
h.write_parquet('rows')
EOF
	pond_ok job.pond --job-dir jd
	local np
	np=$(stage_tasks shuffle)
	[ "$np" -gt 1 ] || fail "one 60 MB file should be read by several producers, got $np"
	assert_same "aggregate" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, sum(i)::BIGINT AS s, min(r) AS mr FROM read_parquet('big.parquet') WHERE i % 3 <> 1 GROUP BY k ORDER BY ALL")"
	assert_same "every row exactly once" "$(fingerprint "$(parts rows)")" \
		"$(fingerprint "(SELECT * FROM read_parquet('big.parquet') WHERE i % 3 <> 1)")"
	assert_same "projection" "$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM $(parts rows))")" \
		"$(printf 'i\nk\nr')"
	assert_empty "keys in two part files" \
		"$(q "SELECT k FROM read_parquet('rows/*.parquet', filename=true) GROUP BY k HAVING count(DISTINCT filename) > 1 LIMIT 5")"
}

test_big_file_range_sort() {
	make_big
	cat >job.pond <<'EOF'
df = read_parquet('big.parquet')
s = df.repartition(3, range_by='r').partial_sort('r')
s.write_parquet('out')
EOF
	pond_ok job.pond --job-dir jd
	assert_same "every row exactly once" "$(fingerprint "$(parts out)")" "$(fingerprint "read_parquet('big.parquet')")"
	assert_empty "rows out of global order" \
		"$(q "SELECT * FROM (SELECT filename, file_row_number, r, lag(r) OVER (ORDER BY filename, file_row_number) AS prev
		      FROM read_parquet('out/*.parquet', filename=true, file_row_number=true)) WHERE r < prev LIMIT 5")"
	assert_true "partition sizes within 2x of the average" \
		"$(q "SELECT max(n) <= 2 * avg(n) AND min(n) >= avg(n) / 2 FROM (SELECT count(*) AS n FROM read_parquet('out/*.parquet', filename=true) GROUP BY filename)")"
}

test_big_file_by_rows() {
	make_big
	cat >job.pond <<'EOF'
df = read_parquet('big.parquet').repartition(5, by_rows=true)
df.write_parquet('out')
EOF
	pond_ok job.pond --job-dir jd
	assert_same "every row exactly once" "$(fingerprint "$(parts out)")" "$(fingerprint "read_parquet('big.parquet')")"
	assert_true "partition row counts nearly equal (within 1%)" \
		"$(q "SELECT max(n) - min(n) <= avg(n) / 100 FROM (SELECT count(*) AS n FROM read_parquet('out/*.parquet', filename=true) GROUP BY filename)")"
}

run_test big_single_file_hash_shuffle_many_producers test_big_file_hash_shuffle
run_test big_single_file_range_sort test_big_file_range_sort
run_test big_single_file_by_rows_balanced test_big_file_by_rows
finish_tests
