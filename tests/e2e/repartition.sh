#!/usr/bin/env bash
# repartition() in every mode and random_shuffle() (docs/PIPELINES.md): files,
# by_rows, hash_by (one column and a list), by='expr' (and its error),
# range_by (global order and balance, one column and a list), random_shuffle
# (same rows; seeded). Every test also checks that no row is lost or
# duplicated, against DuckDB reading the same input.
source "$(dirname "$0")/lib.sh"

# NFILES parquet files of unequal sizes; i unique, k repeated keys,
# a/b a two-column key, r a random double
make_input() {
	local nfiles=${1:-3} f
	mkdir -p in
	for ((f = 0; f < nfiles; f++)); do
		q "SELECT setseed(0.$((f + 1)))" \
		  "COPY (SELECT i, (hash(i) % 700)::BIGINT AS k, (i % 10)::INT AS a, (hash(i * 3) % 50)::INT AS b,
		                random() AS r, 'row' || i AS s
		         FROM range($f * 10000, $f * 10000 + 2000 + $f * 3001) t(i)) TO 'in/part$f.parquet'" >/dev/null
	done
}
IN="read_parquet('in/*.parquet')"

# per part file: its index and row count, one line per file
file_counts() {
	q "SELECT regexp_extract(filename, 'part-(\d+)', 1)::INT AS p, count(*) AS n
	   FROM read_parquet($(sql_str "$1/*.parquet"), filename=true) GROUP BY ALL ORDER BY p"
}

assert_same_rows() { # OUTDIR
	assert_same "$1 holds exactly the input rows" "$(q "SELECT * FROM $(parts "$1") ORDER BY ALL")" \
		"$(q "SELECT * FROM $IN ORDER BY ALL")"
}

test_files_mode() {
	make_input 6
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet', filename=true).repartition(3)
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * EXCLUDE (filename) FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM $IN ORDER BY ALL")"
	[ "$(part_count out)" = 3 ] || fail "expected 3 part files, got $(part_count out)"
	# whole files move: no input file is split over two partitions ...
	assert_empty "an input file split over partitions" \
		"$(q "SELECT filename FROM read_parquet('out/*.parquet', filename='pf') GROUP BY filename HAVING count(DISTINCT pf) > 1")"
	# ... and they are spread evenly: 6 files over 3 partitions, 2 each
	local per
	per=$(q "SELECT count(DISTINCT filename) FROM read_parquet('out/*.parquet', filename='pf') GROUP BY pf" | sort -u)
	assert_same "every partition gets the same number of files" "$per" "$(q "SELECT count(*) // 3 FROM glob('in/*.parquet')")"
}

test_by_rows() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, by_rows=true)
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same_rows out
	[ "$(part_count out)" = 4 ] || fail "expected 4 part files, got $(part_count out)"
	# nearly equal: within 1% of the average (the input files are very unequal)
	file_counts out
	assert_true "partition row counts nearly equal" \
		"$(q "SELECT max(n) - min(n) <= greatest(2, avg(n) / 100) FROM (SELECT count(*) AS n FROM read_parquet('out/*.parquet', filename=true) GROUP BY filename)")"
}

# by_rows over Parquet files moves nothing: partition i is the i-th
# contiguous run of rows of the files read in order, each run exactly
# total/n rows (±1), as DuckDB numbers them.
test_by_rows_contiguous() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(5, by_rows=true)
df.write_parquet('out')
EOF
	"$POND" explain job.pond > explain.txt
	assert_contains "no shuffle for by_rows of Parquet" explain.txt "no shuffle"
	pond_ok job.pond
	local i=0 f
	for f in $(part_files out); do
		assert_same "partition $i is rows [i*N/5, (i+1)*N/5) of the input" \
			"$(q "SELECT * FROM read_parquet($(sql_str "$f"))")" \
			"$(q "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER () - 1 AS rn FROM read_parquet('in/*.parquet'))
			      WHERE rn >= (SELECT count(*) FROM read_parquet('in/*.parquet')) * $i // 5
			        AND rn < (SELECT count(*) FROM read_parquet('in/*.parquet')) * ($i + 1) // 5")"
		i=$((i + 1))
	done
}

test_hash_single() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(5, hash_by='k')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same_rows out
	[ "$(part_count out)" = 5 ] || fail "expected 5 part files, got $(part_count out)"
	assert_empty "keys found in two part files" \
		"$(q "SELECT k FROM read_parquet('out/*.parquet', filename=true) GROUP BY k HAVING count(DISTINCT filename) > 1 LIMIT 10")"
	# the keys are spread: every partition got some
	assert_empty "empty partitions" "$(file_counts out | awk '$2 == 0')"
}

test_hash_list() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, hash_by=['a', 'b'])
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same_rows out
	assert_empty "(a, b) pairs found in two part files" \
		"$(q "SELECT a, b FROM read_parquet('out/*.parquet', filename=true) GROUP BY a, b HAVING count(DISTINCT filename) > 1 LIMIT 10")"
	# hashing is on the pair, not on a alone: a single a spans partitions
	assert_true "a alone is spread over partitions" \
		"$(q "SELECT max(c) > 1 FROM (SELECT count(DISTINCT filename) AS c FROM read_parquet('out/*.parquet', filename=true) GROUP BY a)")"
}

test_by_expr() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, by='(i + a) % 3')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "every row is in part-<(i + a) % 3>" \
		"$(q "SELECT regexp_extract(filename, 'part-(\d+)', 1)::INT AS p, i FROM read_parquet('out/*.parquet', filename=true) ORDER BY ALL")" \
		"$(q "SELECT (i + a) % 3 AS p, i FROM $IN ORDER BY ALL")"
	assert_same_rows out
}

test_by_expr_out_of_range() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, by='i % 7')
df.write_parquet('out')
EOF
	pond_rc 1 job.pond --max-attempts 1
	assert_contains "the message names the expression" err.txt "i % 7"
	assert_matches "the message names the bad index" err.txt "index [3-6]"
	assert_contains "the message names the range" err.txt "[0, 3)"
	assert_matches "the message names the script line" err.txt "job.pond:1"
	assert_not_published out
}

test_by_expr_null() {
	make_input 1
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(2, by='CASE WHEN i = 17 THEN NULL ELSE 0 END')
df.write_parquet('out')
EOF
	pond_rc 1 job.pond --max-attempts 1
	assert_contains "a NULL index is named" err.txt "NULL"
	assert_not_published out
}

# range_by: part i's keys <= part i+1's; sizes within 2x of the average
check_range_order() { # OUTDIR KEY-EXPR
	local out=$1 key=$2
	assert_empty "$out: keys out of order across partitions" \
		"$(q "WITH p AS (SELECT regexp_extract(filename, 'part-(\d+)', 1)::INT AS p, min($key) AS lo, max($key) AS hi
		               FROM read_parquet($(sql_str "$out/*.parquet"), filename=true) GROUP BY ALL)
		      SELECT a.p, a.hi::VARCHAR, b.p, b.lo::VARCHAR FROM p a JOIN p b ON b.p = a.p + 1 WHERE a.hi > b.lo")"
	assert_true "$out: partition sizes within 2x of the average" \
		"$(q "SELECT max(n) <= 2 * avg(n) AND min(n) >= avg(n) / 2 FROM (SELECT count(*) AS n FROM read_parquet($(sql_str "$out/*.parquet"), filename=true) GROUP BY filename)")"
}

test_range_by() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, range_by='r')
df.write_parquet('out')
sorted = df.partial_sort('r')
sorted.write_parquet('out_sorted')
EOF
	pond_ok job.pond
	assert_same_rows out
	[ "$(part_count out)" = 4 ] || fail "expected 4 part files, got $(part_count out)"
	check_range_order out r
	# range_by + partial_sort = a global sort: the files in name order
	assert_same "global sort" \
		"$(q "SELECT r, i FROM read_parquet('out_sorted/*.parquet', filename=true, file_row_number=true) ORDER BY filename, file_row_number")" \
		"$(q "SELECT r, i FROM $IN ORDER BY r")"
}

test_range_by_list() {
	make_input 3
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, range_by=['a', 'k'])
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same_rows out
	check_range_order out "row(a, k)"
}

test_range_by_skewed_ints() {
	# many duplicates of few keys: balance can't be perfect, order must be
	mkdir in
	q "COPY (SELECT i, (i % 97) * (i % 3) AS k FROM range(30000) t(i)) TO 'in/s.parquet'" >/dev/null
	cat >job.pond <<'EOF'
df = read_parquet('in/s.parquet').repartition(4, range_by='k')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(q "SELECT * FROM read_parquet('in/s.parquet') ORDER BY ALL")"
	assert_empty "keys out of order across partitions" \
		"$(q "WITH p AS (SELECT regexp_extract(filename, 'part-(\d+)', 1)::INT AS p, min(k) AS lo, max(k) AS hi
		               FROM read_parquet('out/*.parquet', filename=true) GROUP BY ALL)
		      SELECT a.p, a.hi, b.p, b.lo FROM p a JOIN p b ON b.p = a.p + 1 WHERE a.hi > b.lo")"
}

# which part file every row went to
assignment() { q "SELECT i, regexp_extract(filename, 'part-(\d+)', 1)::INT FROM read_parquet($(sql_str "$1/*.parquet"), filename=true) ORDER BY ALL"; }

test_random_shuffle() {
	make_input 4
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4)
sh = random_shuffle(df)
sh.write_parquet('${OUT}')
EOF
	pond_ok job.pond -D OUT=out1 --job-dir j1
	pond_ok job.pond -D OUT=out2 --job-dir j2
	pond_ok job.pond -D OUT=out3 --job-dir j3 --seed 7
	assert_same_rows out1
	assert_same_rows out3
	[ "$(part_count out1)" = 4 ] || fail "expected 4 part files, got $(part_count out1)"
	# same seed: identical files
	local f
	[ "$(cd out1 && ls)" = "$(cd out2 && ls)" ] || fail "same seed, different file lists"
	for f in out1/*; do
		cmp "$f" "out2/$(basename "$f")" || fail "same seed, $f differs"
	done
	# a different seed: a different assignment of rows to partitions
	assert_differ "--seed changes the assignment" "$(assignment out1)" "$(assignment out3)"
	# it does move rows: the assignment is not the input's file grouping
	assert_true "rows of one input file end up in several partitions" \
		"$(q "SELECT min(c) > 1 FROM (SELECT count(DISTINCT filename) AS c FROM read_parquet('out1/*.parquet', filename=true) GROUP BY i // 10000)")"
	# uniform: every partition within 2x of the average
	assert_true "partition sizes within 2x of the average" \
		"$(q "SELECT max(n) <= 2 * avg(n) AND min(n) >= avg(n) / 2 FROM (SELECT count(*) AS n FROM read_parquet('out1/*.parquet', filename=true) GROUP BY filename)")"
}

run_test repartition_files_mode_moves_whole_files test_files_mode
run_test repartition_by_rows_equal_counts test_by_rows
run_test repartition_by_rows_parquet_contiguous_no_shuffle test_by_rows_contiguous
run_test repartition_hash_by_column_colocates_keys test_hash_single
run_test repartition_hash_by_list_colocates_pairs test_hash_list
run_test repartition_by_expr_places_rows test_by_expr
run_test repartition_by_expr_out_of_range_fails test_by_expr_out_of_range
run_test repartition_by_expr_null_fails test_by_expr_null
run_test repartition_range_by_global_order_balanced test_range_by
run_test repartition_range_by_list_order test_range_by_list
run_test repartition_range_by_duplicate_keys_order test_range_by_skewed_ints
run_test random_shuffle_same_rows_seeded test_random_shuffle
finish_tests
