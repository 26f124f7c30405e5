# bench/lib.sh — helpers shared by the benchmark scripts (source it, don't run it).
#
# Environment:
#   BENCH_DIR  work directory for generated data, outputs and job dirs
#              (default: bench/work next to this file)
#   REPEAT     runs per side; the best (smallest) time is reported (default 3)
#   POND       pond binary   (default: build/pond)
#   DUCKQ      duckq binary  (default: build/tests/duckq)
#   POND_LABEL what to call the pond under test in the output (default: the
#              git revision of this checkout, and whether src/ is modified)
#
# Every script prints one summary line per result and appends it, tab
# separated, to $BENCH_DIR/results.tsv:
#   name  pond_s  duckdb_s  ratio  target  met  pond_cpu_s  duckdb_cpu_s

set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POND_ROOT=$(cd "$BENCH_SRC/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$BENCH_SRC/work}
REPEAT=${REPEAT:-3}
POND=${POND:-$POND_ROOT/build/pond}
DUCKQ=${DUCKQ:-$POND_ROOT/build/tests/duckq}

die() {
	echo "BENCH FAILED: $*" >&2
	exit 1
}

log() {
	echo "[$(date +%H:%M:%S)] $*" >&2
}

check_tools() {
	[ -x "$POND" ] || die "no pond binary at $POND (build: cmake -S . -B build && cmake --build build -j2)"
	[ -x "$DUCKQ" ] || die "no duckq binary at $DUCKQ (build: cmake --build build -j2)"
}

# pond_provenance — which source the binary under test was built from.
pond_provenance() {
	local rev dirty=""
	if [ -n "${POND_LABEL:-}" ]; then
		echo "$("$POND" version 2>/dev/null | head -1), $POND_LABEL"
		return
	fi
	rev=$(git -C "$POND_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$POND_ROOT" diff --quiet HEAD -- src include 2>/dev/null || dirty=" + uncommitted changes in src/"
	echo "$("$POND" version 2>/dev/null | head -1), source tree at $rev$dirty (binary $(date -r "$POND" '+%F %T'))"
}

# snapshot_pond DIR — copies the pond binary into DIR and uses the copy, so
# that a rebuild of build/pond during a run cannot mix two binaries.
snapshot_pond() {
	if [ -z "${POND_SNAPSHOT:-}" ]; then
		log "pond under test: $(pond_provenance)"
		cp -p "$POND" "$1/pond.bin"
		# pond finds DuckDB's library beside itself (RUNPATH $ORIGIN)
		ln -sfn "$(ldd "$POND" | awk '$1 == "libduckdb.so" { print $3 }')" "$1/libduckdb.so"
		POND=$1/pond.bin
		export POND POND_SNAPSHOT=1
	fi
}

# bench_init NAME — sets WORK=$BENCH_DIR/NAME and creates it.
bench_init() {
	check_tools
	mkdir -p "$BENCH_DIR"
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
	WORK=$BENCH_DIR/$1
	mkdir -p "$WORK"
	snapshot_pond "$WORK"
}

now() {
	date +%s.%N
}

# elapsed START [END] — seconds between two `now` stamps, 3 decimals.
elapsed() {
	local end=${2:-$(now)}
	awk -v a="$1" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

# sql_str TEXT — TEXT as a SQL string literal ('' doubles a quote).
sql_str() {
	printf "'%s'" "${1//\'/\'\'}"
}

# sql_list FILE... — a SQL list literal of the given paths.
sql_list() {
	local out="" f
	for f in "$@"; do
		out+="${out:+, }$(sql_str "$f")"
	done
	printf '[%s]' "$out"
}

# children_cpu VAR — sets VAR to the user+sys CPU seconds of all waited-for
# descendants of this shell so far (second line of bash's `times`; it must
# run in this shell, not in a $(...) subshell).
children_cpu() {
	local __f=$BENCH_DIR/.times.$$
	times >"$__f"
	printf -v "$1" '%s' "$(awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
		printf "%.3f", t }' "$__f")"
	rm -f "$__f"
}

# time_once VAR LOG CMD... — runs CMD (stdout+stderr to LOG), stores its
# wall time in seconds in VAR and the CPU seconds it used (all its
# processes) in VAR_cpu. A failing command fails the benchmark.
time_once() {
	local __var=$1 __log=$2 __t0 __t1 __rc __c0 __c1
	shift 2
	children_cpu __c0
	__t0=$(now)
	set +e
	"$@" >"$__log" 2>&1
	__rc=$?
	set -e
	__t1=$(now)
	children_cpu __c1
	if [ $__rc -ne 0 ]; then
		echo "---- $__log (last 30 lines) ----" >&2
		tail -n 30 "$__log" >&2
		die "command exited $__rc: $*"
	fi
	printf -v "$__var" '%s' "$(elapsed "$__t0" "$__t1")"
	printf -v "${__var}_cpu" '%s' "$(elapsed "$__c0" "$__c1")"
}

# best_of LABEL... — times each LABEL REPEAT times, the labels' runs
# interleaved (a b a b …) so that load from other processes hits every side
# alike. For each LABEL the caller defines the functions LABEL_prep
# (untimed, e.g. removing the previous output) and LABEL_cmd (timed); an
# optional variable LABEL_job names a pond job dir. Sets T_LABEL to the
# smallest wall time and C_LABEL to the smallest CPU time (user+sys, all
# processes; less disturbed by other load than wall time). The best run's output is kept in $WORK/LABEL.best.log
# and, with LABEL_job, its journal.jsonl and events.jsonl in
# $WORK/LABEL.best/ (a later run of the same job dir clears the job dir).
best_of() {
	local __l __t __t_cpu __i __job
	for __l in "$@"; do
		printf -v "T_$__l" '%s' ""
		printf -v "C_$__l" '%s' ""
	done
	for ((__i = 1; __i <= REPEAT; __i++)); do
		for __l in "$@"; do
			"${__l}_prep"
			time_once __t "$WORK/$__l.log" "${__l}_cmd"
			log "$__l run $__i/$REPEAT: ${__t} s (cpu ${__t_cpu} s)"
			local -n __bcpu="C_$__l"
			if [ -z "$__bcpu" ] || awk -v a="$__t_cpu" -v b="$__bcpu" 'BEGIN { exit !(a < b) }'; then
				__bcpu=$__t_cpu
			fi
			unset -n __bcpu
			local -n __best="T_$__l"
			if [ -z "$__best" ] || awk -v a="$__t" -v b="$__best" 'BEGIN { exit !(a < b) }'; then
				__best=$__t
				cp "$WORK/$__l.log" "$WORK/$__l.best.log"
				__job="${__l}_job"
				if [ -n "${!__job:-}" ]; then
					rm -rf "$WORK/$__l.best"
					mkdir -p "$WORK/$__l.best"
					cp "${!__job}/journal.jsonl" "${!__job}/events.jsonl" "$WORK/$__l.best/"
				fi
			fi
			unset -n __best
		done
	done
}

# ratio A B — A/B with 2 decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

# le A B / ge A B — numeric comparisons as exit statuses.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# report NAME POND_S DUCKDB_S VALUE TARGET MET POND_CPU DUCKDB_CPU — prints
# and records a result. VALUE is the ratio (or tasks/s); TARGET is text such
# as "<= 1.5"; the CPU columns are the smallest user+sys seconds seen.
report() {
	printf '%-16s pond %8s s (cpu %7s)   duckdb %8s s (cpu %7s)   value %8s   target %-8s  %s\n' \
		"$1" "$2" "$7" "$3" "$8" "$4" "$5" "$6"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_DIR/results.tsv"
}

# duckdb_sql SQL... — runs statements in one single-process DuckDB (duckq).
duckdb_sql() {
	"$DUCKQ" "$@"
}

# task_stats DIR — "median p90 gap" of the task attempts in DIR: the median
# and 90th percentile of the attempts' ms in DIR/events.jsonl, and the median
# idle time of a worker between the end of one attempt and the start of its
# next (DIR/journal.jsonl 'start' stamps, per worker; the scheduler round
# trip: result to the driver, journal commit, next task to the worker).
task_stats() {
	local ev=$1/events.jsonl jn=$1/journal.jsonl
	"$DUCKQ" "
	WITH s AS (SELECT task, attempt, t, worker FROM read_json_auto($(sql_str "$jn")) WHERE event = 'start'),
	     e AS (SELECT task, attempt, ms FROM read_json_auto($(sql_str "$ev"))),
	     j AS (SELECT ms, (lead(t) OVER (PARTITION BY worker ORDER BY t) - t) * 1000 - ms AS gap
	           FROM s JOIN e USING (task, attempt))
	SELECT round(median(ms), 2), round(quantile_cont(ms, 0.9), 2),
	       coalesce(round(median(gap) FILTER (WHERE gap IS NOT NULL), 2)::VARCHAR, '-') FROM j"
}

# top_tasks DIR [N] — the N slowest task attempts in DIR/events.jsonl, and
# the time summed per stage (to see where pond's time goes).
top_tasks() {
	local ev=$1/events.jsonl n=${2:-8}
	[ -f "$ev" ] || return 0
	echo "slowest task attempts ($ev): task, ms, rows, bytes"
	"$DUCKQ" "SELECT task, round(ms)::BIGINT AS ms, rows, bytes
	          FROM read_json_auto($(sql_str "$ev")) ORDER BY ms DESC LIMIT $n" |
		sed 's/^/    /'
	echo "per stage: stage, tasks, sum ms, max ms, rows"
	"$DUCKQ" "SELECT regexp_extract(task, '^(s[0-9]+-[a-z]+)', 1) AS stage, count(*),
	                 round(sum(ms))::BIGINT, round(max(ms))::BIGINT, sum(rows)
	          FROM read_json_auto($(sql_str "$ev")) GROUP BY ALL ORDER BY stage" |
		sed 's/^/    /'
}

# gen_parquet_inputs DIR STAMP FILES QUERY_FN [FORMAT]: writes
# DIR/part-0.parquet .. part-(FILES-1).parquet, file f holding
# "$(QUERY_FN lo hi)" for rows [lo, hi) = [ROWS*f/FILES, ROWS*(f+1)/FILES),
# zstd-compressed (FORMAT csv: DIR/part-f.csv with a header instead).
# Skips the work when DIR/_ROWS already says STAMP (the data is reused).
gen_parquet_inputs() {
	local dir=$1 stamp=$2 files=$3 query_fn=$4 format=${5:-parquet} stmts=() f lo hi opts
	if [ -f "$dir/_ROWS" ] && [ "$(cat "$dir/_ROWS")" = "$stamp" ]; then
		log "input: reusing $dir ($stamp)"
		return
	fi
	log "input: generating $stamp in $files $format files under $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	opts="FORMAT parquet, COMPRESSION zstd"
	[ "$format" = csv ] && opts="FORMAT csv, HEADER true"
	for ((f = 0; f < files; f++)); do
		lo=$((ROWS * f / files))
		hi=$((ROWS * (f + 1) / files))
		stmts+=("COPY ($("$query_fn" "$lo" "$hi")) TO $(sql_str "$dir/part-$f.$format") ($opts)")
	done
	duckdb_sql "SET threads = 2" "${stmts[@]}" >/dev/null
	echo "$stamp" >"$dir/_ROWS"
}

# verify_groups NAME POND_OUT DUCK_OUT ROWS — a pond GROUP BY k result
# (k, n, s) against DuckDB's, row by row (sums within 1e-9 relative);
# dies loudly on a difference.
verify_groups() {
	local name=$1 out=$2 duck=$3 rows=$4 check n_p n_d only_p only_d bad_sum total
	[ -f "$out/_SUCCESS" ] || die "$name: pond wrote no $out/_SUCCESS"
	check=$(duckdb_sql "
		WITH p AS (SELECT * FROM read_parquet($(sql_str "$out/*.parquet"))),
		     d AS (SELECT * FROM read_parquet($(sql_str "$duck")))
		SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM d),
		       (SELECT count(*) FROM (SELECT k, n FROM p EXCEPT ALL SELECT k, n FROM d)),
		       (SELECT count(*) FROM (SELECT k, n FROM d EXCEPT ALL SELECT k, n FROM p)),
		       (SELECT count(*) FROM p JOIN d USING (k)
		         WHERE abs(p.s - d.s) > 1e-9 * greatest(1, abs(d.s))),
		       (SELECT sum(n) FROM p)")
	read -r n_p n_d only_p only_d bad_sum total <<<"$check"
	log "verify $name: pond $n_p groups, duckdb $n_d groups, only-pond $only_p, only-duckdb $only_d, sum mismatches $bad_sum, total count $total"
	[ "$n_p" = "$n_d" ] && [ "$only_p" = 0 ] && [ "$only_d" = 0 ] && [ "$bad_sum" = 0 ] && [ "$total" = "$rows" ] ||
		die "$name: pond and duckdb results differ ($check)"
}
