#!/usr/bin/env bash
# bench/tpch_ab.sh — two pond binaries on the TPC-H queries, interleaved
# per query with DuckDB (A, B, DuckDB, R times; the best of each), so that
# load on a shared machine hits both alike. For measuring a planner change:
#
#   POND_A=/tmp/pond-OLD/build/pond POND_B=build/pond SF=0.2 R=3 bench/tpch_ab.sh
#
# Data: $BENCH_DIR/tpch/sfSF as bench/tpch.sh generates it (run that once
# first). Results are not checked here: bench/tpch.sh checks them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SF=${SF:-0.2}
R=${R:-3}
DATA=${BENCH_DIR:-$ROOT/bench/work}/tpch/sf$SF
DUCKQ=${DUCKQ:-$ROOT/build/tests/duckq}
: "${POND_A:?POND_A=the first pond binary}" "${POND_B:?POND_B=the second pond binary}"
[ -f "$DATA/_SF" ] || { echo "no data in $DATA: run SF=$SF bench/tpch.sh first" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
VIEWS=()
for t in region nation supplier customer part partsupp orders lineitem; do
	VIEWS+=("CREATE VIEW $t AS SELECT * FROM read_parquet('${DATA//\'/\'\'}/$t/*.parquet')")
done
now() { date +%s.%N; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
run() { # SIDE QUERY-FILE: wall seconds
	local t0 side=$1 f=$2
	rm -rf "$WORK/out" "$WORK/duck.parquet"
	t0=$(now)
	if [ "$side" = duckdb ]; then
		"$DUCKQ" "SET threads = 2" "${VIEWS[@]}" \
			"COPY ($(sed -e 's/;[[:space:]]*$//' "$f")) TO '$WORK/duck.parquet' (FORMAT parquet)" >/dev/null
	else
		"$side" sql -f "$f" --tables "$DATA" -o "$WORK/out" -w 2 --progress none \
			--job-dir "$WORK/job_$(basename "$side")_$RANDOM" </dev/null >/dev/null 2>&1
	fi
	awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}
ta=0 tb=0 td=0
printf '%-6s %8s %8s %8s %8s %8s\n' query A B DuckDB A/DuckDB B/DuckDB
for f in "$ROOT"/bench/tpch/queries/q*.sql; do
	case " ${QUERIES:-$(basename "$f" .sql)} " in *" $(basename "$f" .sql) "*) ;; *) continue ;; esac
	a=99 b=99 d=99
	for _ in $(seq "$R"); do
		a=$(min "$a" "$(run "$POND_A" "$f")")
		b=$(min "$b" "$(run "$POND_B" "$f")")
		d=$(min "$d" "$(run duckdb "$f")")
	done
	ta=$(awk -v x="$ta" -v y="$a" 'BEGIN { print x + y }')
	tb=$(awk -v x="$tb" -v y="$b" 'BEGIN { print x + y }')
	td=$(awk -v x="$td" -v y="$d" 'BEGIN { print x + y }')
	awk -v q="$(basename "$f" .sql)" -v a="$a" -v b="$b" -v d="$d" \
		'BEGIN { printf "%-6s %8.3f %8.3f %8.3f %8.2f %8.2f\n", q, a, b, d, a / d, b / d }'
done
awk -v a="$ta" -v b="$tb" -v d="$td" 'BEGIN { printf "%-6s %8.3f %8.3f %8.3f %8.2f %8.2f\n", "total", a, b, d, a / d, b / d }'
