#!/usr/bin/env bash
# tpch.sh — the 22 TPC-H queries of bench/tpch/queries over a small
# generated TPC-H data set (bench/tpch/gen.pond at SF 0.01, or TPCH_SF),
# each run with `pond sql -o` and compared with single-process DuckDB on the
# same files: the same column names and types, the same rows (in order where
# the query orders them totally), doubles within 1e-9 relative. A
# correctness test, not a timing. TPCH_ONLY=q07 runs only the matching
# queries; TPCH_DATA=DIR reuses generated data.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_sql.sh"

TPCH=$(cd "$(dirname "$0")/../../bench/tpch" && pwd)
SF=${TPCH_SF:-0.01}
if [ -n "${TPCH_DATA:-}" ]; then
	DATA=$TPCH_DATA
else
	DATA=$(mktemp -d "${TMPDIR:-/tmp}/pond-tpch.XXXXXX")
	trap 'rm -rf "$DATA"' EXIT
fi
TABLES=(region nation supplier customer part partsupp orders lineitem)
if [ ! -f "$DATA/lineitem/_SUCCESS" ]; then
	(cd "$DATA" && "$POND" run "$TPCH/gen.pond" -D "SF=$SF" -D "OUT=$DATA" -w "$W" \
		--job-dir "$DATA/.gen" --progress none) || { echo "tpch.sh: gen.pond failed" >&2; exit 1; }
fi
VIEWS=()
for t in "${TABLES[@]}"; do
	VIEWS+=("CREATE VIEW $t AS SELECT * FROM read_parquet($(sql_str "$DATA/$t/*.parquet"))")
done

# every table has rows, and the generator's keys hold together
test_generated_data() {
	local t n
	for t in "${TABLES[@]}"; do
		n=$(q "${VIEWS[@]}" "SELECT count(*) FROM $t")
		[ "$n" -gt 0 ] || fail "table $t is empty"
	done
	assert_same "lineitem's (partkey, suppkey) are partsupp's" \
		"$(q "${VIEWS[@]}" "SELECT count(*) FROM lineitem ANTI JOIN partsupp ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey")" 0
	assert_same "orders' customers exist" \
		"$(q "${VIEWS[@]}" "SELECT count(*) FROM orders ANTI JOIN customer ON o_custkey = c_custkey")" 0
	assert_same "every order has lines" \
		"$(q "${VIEWS[@]}" "SELECT count(*) FROM orders ANTI JOIN lineitem ON o_orderkey = l_orderkey")" 0
}
run_test tpch_generated_data test_generated_data

check_query() { # FILE ORDERED
	local file=$1 ordered=$2 text diff
	text=$(sed -e 's/;[[:space:]]*$//' "$file")
	"$POND" sql -f "$file" --tables "$DATA" -o out --job-dir job -w "$W" --progress none >out.txt 2>err.txt </dev/null ||
		{ cat err.txt >&2; fail "pond sql exited $?"; }
	assert_published out
	q "${VIEWS[@]}" "COPY ($text) TO 'oracle.parquet'" >/dev/null
	diff=$(compare_result "$(basename "$file" .sql)" out oracle.parquet "$ordered")
	assert_empty "the result" "$diff"
}

for f in "$TPCH"/queries/q*.sql; do
	name=$(basename "$f" .sql)
	if [ -n "${TPCH_ONLY:-}" ] && [[ $name != *"$TPCH_ONLY"* ]]; then
		continue
	fi
	# q11 orders by a value that may tie: compared as a multiset
	ordered=1
	[ "$name" = q11 ] && ordered=0
	eval "test_$name() { check_query '$f' $ordered; }"
	run_test "tpch_$name" "test_$name"
done
finish_tests
