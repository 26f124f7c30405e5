#!/usr/bin/env bash
# corpus.sh — pond sql over a generated star schema (lib_sql.sh gen_star:
# 1.2 M sales rows in 24 Parquet files, dimensions in Parquet, CSV and
# JSON), every query of corpus.sql run with `pond sql -o` and compared with
# single-process DuckDB on the same files: the same column names and types,
# the same rows (in order under ORDER BY), doubles within 1e-9 relative.
# Then --explain: a query marked distributed must be (no "not distributed",
# and no task reads every file of the fact table), and one marked "one
# task" must say so; a `-- explain: TEXT` line after a query's header
# says what else its --explain must hold. SQL_ONLY=substring runs only the matching queries,
# SQL_EVERY=N every Nth (a sanitizer build's MPI run: the planner's C is
# checked by the whole corpus, the transport's by a sample of it);
# SQL_RUN_EVERY=N plans every query (--explain) but runs and compares every
# Nth (a sanitizer build: pond plans a query whole before any task runs,
# so --explain reaches all of the planner's C; the runtime's is the same
# for every query);
# SQL_MPI=1 runs pond under `mpirun -n 3` (rank 0 plans and schedules,
# ranks 1 and 2 run the tasks; exit 77 without mpirun).
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_sql.sh"

RUN=("$POND")
WORKERS=(-w "$W")
if [ "${SQL_MPI:-0}" = 1 ]; then
	command -v mpirun >/dev/null || { echo "corpus.sh: no mpirun: skipped"; exit 77; }
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	# loopback only, for MPI's messages and Open MPI's own bootstrap
	# (oob): not an interface another test makes and removes (mpi_netns).
	# pml ob1: what Open MPI picks here anyway; named, MPI_Init skips
	# probing UCX (0.5 s of each run)
	RUN=(timeout "$HANG_GUARD" mpirun -n 3 --oversubscribe --mca pml ob1 --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo
		"$POND")
	WORKERS=()
fi

CORPUS=$(cd "$(dirname "$0")" && pwd)/corpus.sql
WH=$(mktemp -d "${TMPDIR:-/tmp}/pond-sql-wh.XXXXXX")
trap 'rm -rf "$WH"' EXIT
FACT_FILES=24
gen_star "$WH" "$FACT_FILES" 50000
mapfile -t VIEWS < <(oracle_views "$WH")

# the largest number of fact files one task's read names (plan.json: one
# view's SQL a line; a row-range view names one file a line)
max_fact_files_per_read() {
	grep -E '"(sql|rows_sql)"|/sales/f' "$1" | awk -F'/sales/f' '{ if (NF - 1 > m) m = NF - 1 } END { print m + 0 }'
}

check_query() { # NAME EXPECT ORDERED [FLAGS...] (the query in $QUERY_FILE, EXPLAIN_SAYS, RUN_IT)
	local name=$1 expect=$2 ordered=$3 text diff
	shift 3
	sed "s|@WH@|$WH|g" "$QUERY_FILE" >q.sql
	text=$(sed -e 's/;[[:space:]]*$//' q.sql)
	local rc=0
	[ "$RUN_IT" = 1 ] || { check_explain "$expect" "$@"; return; }
	"${RUN[@]}" sql -f q.sql --tables "$WH" -o out --job-dir job "${WORKERS[@]}" --progress none "$@" >out.txt 2>err.txt </dev/null ||
		rc=$?
	[ $rc = 0 ] || { cat err.txt >&2; fail "pond sql exited $rc$([ $rc != 124 ] || echo ": killed after $HANG_GUARD s")"; }
	assert_published out
	q "${VIEWS[@]}" "COPY ($text) TO 'oracle.parquet'" >/dev/null
	diff=$(compare_result "$name" out oracle.parquet "$ordered")
	assert_empty "the result" "$diff"
	if [ "$expect" = distributed ]; then
		[ "$(max_fact_files_per_read job/plan.json)" -lt "$FACT_FILES" ] ||
			fail "a task reads every file of the fact table"
	fi
	# --explain plans as a run does, MPI or not: checked once, by sql_corpus
	[ "${SQL_MPI:-0}" = 0 ] || return 0
	check_explain "$expect" "$@"
}

check_explain() { # EXPECT [FLAGS...] (q.sql, EXPLAIN_SAYS)
	local expect=$1 rc
	shift
	"$POND" sql -f q.sql --tables "$WH" -o out2 --job-dir job2 --explain "$@" >explain.txt 2>err.txt </dev/null ||
		{ rc=$?; cat err.txt >&2; fail "pond sql --explain exited $rc"; }
	if [ "$expect" = distributed ]; then
		assert_not_contains "--explain: distributed" explain.txt "not distributed"
	else
		assert_contains "--explain: one task" explain.txt "not distributed"
	fi
	[ -z "$EXPLAIN_SAYS" ] || assert_contains "--explain" explain.txt "$EXPLAIN_SAYS"
}

# every query of the corpus becomes one test
n=0
name=
while IFS= read -r line; do
	if [[ $line =~ ^--\ ([a-z0-9_]+):\ (distributed|one\ task)(\ ordered)?(\ \|\ (.*))?$ ]]; then
		name=${BASH_REMATCH[1]}
		expect=${BASH_REMATCH[2]}
		ordered=$([ -n "${BASH_REMATCH[3]}" ] && echo 1 || echo 0)
		flags=${BASH_REMATCH[5]}
		body=
		says=
		continue
	fi
	[ -n "$name" ] || continue
	if [ -z "$body" ] && [[ $line =~ ^--\ explain:\ (.*)$ ]]; then
		says=${BASH_REMATCH[1]}
		continue
	fi
	body+="$line"$'\n'
	if [[ $line =~ \;[[:space:]]*$ ]]; then
		n=$((n + 1))
		if { [ -z "${SQL_ONLY:-}" ] || [[ $name == *"$SQL_ONLY"* ]]; } && [ $((n % ${SQL_EVERY:-1})) = 0 ]; then
			QUERY_FILE=$(mktemp "${TMPDIR:-/tmp}/pond-sql-q.XXXXXX")
			printf '%s' "$body" >"$QUERY_FILE"
			EXPLAIN_SAYS=$says
			RUN_IT=$([ $((n % ${SQL_RUN_EVERY:-1})) = 0 ] && echo 1 || echo 0)
			export QUERY_FILE EXPLAIN_SAYS RUN_IT
			eval "test_$name() { check_query $name '$expect' $ordered $flags; }"
			run_test "sql_$name" "test_$name"
			rm -f "$QUERY_FILE"
		fi
		name=
	fi
done <"$CORPUS"
echo "corpus: $n queries"
finish_tests
