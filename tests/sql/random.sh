#!/usr/bin/env bash
# random.sh — pond sql against DuckDB on random queries (random_queries.py:
# the corpus's shapes combined at random, seeded, the same queries on every
# run) over a generated star schema (lib_sql.sh gen_star: 240K sales rows
# in 12 files). Each result must equal single-process DuckDB's (compared as
# the corpus compares: names, types, rows, their order under a total ORDER
# BY, doubles within 1e-9), and every fourth query's output files must be
# byte-identical under -w 3 and -w 2. A third of the queries run with
# --broadcast-limit 1MB and a third with 0, so that the dimensions are
# co-partitioned with the fact table, reduced, or skew-spread, instead of
# broadcast (the tables are small: 5.6 MB of sales).
#
# SQL_RANDOM_SEED (1) and SQL_RANDOM_COUNT (60) choose the queries: with
# another seed it looks for new trouble (a failure prints the query; add it
# to corpus.sql once fixed).
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_sql.sh"

SEED=${SQL_RANDOM_SEED:-1}
COUNT=${SQL_RANDOM_COUNT:-60}
WH=$(mktemp -d "${TMPDIR:-/tmp}/pond-sql-random.XXXXXX")
trap 'rm -rf "$WH"' EXIT
gen_star "$WH" 12 20000
mapfile -t VIEWS < <(oracle_views "$WH")
mapfile -t QUERIES < <(/usr/bin/python3 "$(dirname "$0")/random_queries.py" "$SEED" "$COUNT")
[ "${#QUERIES[@]}" = "$COUNT" ] || { echo "random.sh: random_queries.py gave ${#QUERIES[@]} queries" >&2; exit 1; }

# part files' bytes, in name order
output_hash() { (cd "$1" && find . -name "part-*" | LC_ALL=C sort | xargs cat | md5sum); }

check_random() { # the query in $QUERY, ORDERED, WIDE (1: -w 3 too), BROADCAST_LIMIT
	local rc=0 diff LIMIT=()
	[ -z "$BROADCAST_LIMIT" ] || LIMIT=(--broadcast-limit "$BROADCAST_LIMIT")
	echo "query: $QUERY"
	echo "flags: ${LIMIT[*]}"
	printf '%s;\n' "$QUERY" >q.sql
	q "${VIEWS[@]}" "COPY ($QUERY) TO 'oracle.parquet'" >/dev/null
	"$POND" sql -f q.sql --tables "$WH" -o out --job-dir job -w 2 --progress none "${LIMIT[@]}" >out.txt 2>err.txt </dev/null ||
		rc=$?
	[ $rc = 0 ] || { cat err.txt >&2; fail "pond sql exited $rc"; }
	assert_published out
	diff=$(compare_result random out oracle.parquet "$ORDERED")
	assert_empty "the result" "$diff"
	[ "$WIDE" = 1 ] || return 0
	"$POND" sql -f q.sql --tables "$WH" -o out3 --job-dir job3 -w 3 --progress none "${LIMIT[@]}" >out3.txt 2>err3.txt </dev/null ||
		{ rc=$?; cat err3.txt >&2; fail "pond sql -w 3 exited $rc"; }
	assert_same "-w 3's output bytes" "$(output_hash out3)" "$(output_hash out)"
}

for ((i = 0; i < COUNT; i++)); do
	ORDERED=${QUERIES[i]%%$'\t'*}
	QUERY=${QUERIES[i]#*$'\t'}
	WIDE=$((i % 4 == 0 ? 1 : 0))
	BROADCAST_LIMIT=$(case $((i % 3)) in 1) echo 1MB ;; 2) echo 0 ;; esac)
	export ORDERED QUERY WIDE BROADCAST_LIMIT
	run_test "sql_random_${SEED}_$i" check_random
done
finish_tests
