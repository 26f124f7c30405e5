#!/usr/bin/env bash
# Spilling (docs/ARCHITECTURE.md: tasks run with a temp_directory in the job dir):
# a sort, an aggregate and a join over 10M rows x 8 BIGINT columns (640 MB
# in DuckDB's memory) each run in one task with --memory-limit 64MB, 10x
# less, and must succeed on their first attempt with the oracle's result.
# Before the spill directory's parent was created, any task that had to
# spill failed. SPILL_ROWS makes fewer rows: a sanitizer build's 3M still
# spill (3x the limit; DuckDB's spilling is not the code under test there,
# and pond's part of it is the same at any size; DuckDB itself fails a
# sort under a 32MB limit, so the limit stays).
source "$(dirname "$0")/lib.sh"
ROWS=${SPILL_ROWS:-10000000}

# One input for the three cases, made once (it takes a while).
SPILL_INPUT=$(mktemp -d "${TMPDIR:-/tmp}/pond-spill-input.XXXXXX")
trap 'rm -rf "$SPILL_INPUT"' EXIT
"$DUCKQ" "COPY (SELECT i, (hash(i) % ($ROWS // 5))::BIGINT AS k, (hash(i + 1) % 1000000000)::BIGINT AS a,
          i * 3 AS b, i * 5 AS c, i * 7 AS d, i * 11 AS e, i * 13 AS f
        FROM range($ROWS) t(i)) TO '$SPILL_INPUT/big.parquet' (ROW_GROUP_SIZE 100000)" >/dev/null

make_input() {
	ln -s "$SPILL_INPUT/big.parquet" big.parquet
}

# Every attempt of the job committed (no retry with more memory), a task
# spilled, and nothing spilled where pond was started: a task process
# opens DuckDB before its first task says where the job is, and an
# in-memory DuckDB's default spill directory is ./.tmp.
assert_spilled_no_retry() { # JOBDIR
	local fails
	fails=$(grep -c '"event":"fail"' "$1/journal.jsonl" || true)
	[ "$fails" = 0 ] || fail "$fails attempt(s) failed: $(grep '"event":"fail"' "$1/journal.jsonl" | head -c 600)"
	assert_missing .tmp
	# it did spill (DuckDB's peak temp directory size, in the task's event)
	grep -qE '"spill":[1-9]' "$1/events.jsonl" || fail "no task spilled: $(grep -o '"spill":[0-9]*' "$1/events.jsonl")"
}

# A digest of a table's rows (order-insensitive): count and sum of row hashes.
digest() { # SQL-FROM-ITEM
	q "SELECT count(*), sum(hash(t)) FROM $1 t"
}

# The digest of what single-process DuckDB writes to Parquet for a query
# (Parquet has no 128-bit integers: a sum is written as a DOUBLE).
oracle_digest() { # QUERY
	q "COPY ($1) TO 'oracle.parquet'" >/dev/null
	digest "read_parquet('oracle.parquet')"
}

test_sort_spills() {
	make_input
	printf "read_parquet('big.parquet').partial_sort('a, i').write_parquet('out')\n" >job.pond
	pond_ok job.pond --job-dir jd --memory-limit 64MB
	assert_spilled_no_retry jd
	assert_same "rows" "$(digest "$(parts out)")" "$(digest "read_parquet('big.parquet')")"
	# the order: row k of the output is row k of DuckDB's ORDER BY
	assert_same "order" \
		"$(q "SELECT sum(hash(rn, a, i)) FROM (SELECT a, i, row_number() OVER (ORDER BY file_row_number) AS rn
		      FROM read_parquet('out/part-00000.parquet', file_row_number=true))")" \
		"$(q "SELECT sum(hash(rn, a, i)) FROM (SELECT a, i, row_number() OVER (ORDER BY a, i) AS rn
		      FROM read_parquet('big.parquet'))")"
}

test_aggregate_spills() {
	make_input
	cat >job.pond <<'EOF'
d = read_parquet('big.parquet')
partial_sql('SELECT k, count(*) AS n, sum(a) AS s, max(b) AS m FROM {0} GROUP BY k', d).write_parquet('out')
EOF
	pond_ok job.pond --job-dir jd --memory-limit 64MB
	assert_spilled_no_retry jd
	assert_same "groups" "$(digest "$(parts out)")" \
		"$(oracle_digest "SELECT k, count(*) AS n, sum(a) AS s, max(b) AS m FROM 'big.parquet' GROUP BY k")"
}

test_join_spills() {
	make_input
	cat >job.pond <<'EOF'
x = read_parquet('big.parquet')
y = read_parquet('big.parquet')
partial_sql('SELECT x.i, x.k, y.a, y.c FROM {0} x JOIN {1} y ON x.k = y.i', x, y).write_parquet('out')
EOF
	pond_ok job.pond --job-dir jd --memory-limit 64MB
	assert_spilled_no_retry jd
	assert_same "joined rows" "$(digest "$(parts out)")" \
		"$(oracle_digest "SELECT x.i, x.k, y.a, y.c FROM 'big.parquet' x JOIN 'big.parquet' y ON x.k = y.i")"
}

run_test sort_10x_memory_limit_spills test_sort_spills
run_test aggregate_10x_memory_limit_spills test_aggregate_spills
run_test join_10x_memory_limit_spills test_join_spills
finish_tests
