#!/usr/bin/env bash
# The run report (docs/REPORT.md): `pond run --report FILE.html` and
# `pond report JOBDIR` write one self-contained HTML page, and every run
# writes JOBDIR/trace.json. The numbers on the page are checked against
# single-process DuckDB reading the same journal and events (duckq), the
# page is opened in headless Chromium (it must render every stage and the
# timeline with no console message; a screenshot is kept in $SHOT_DIR),
# and the page is made of a failed run, of a killed one with a torn last
# line, and of 10,000 tasks (under 2 MB).
#
# Chromium is Debian's `chromium` (scripts/setup-test-deps.sh). Without it
# the cases that need it are skipped and, if nothing else ran, the script
# exits 77.
source "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
SHOT_DIR=${SHOT_DIR:-$(pwd)}
SHOT_DIR=$(cd "$SHOT_DIR" && pwd)

# chromium_dom HTML OUT [SHOT]: renders HTML headless; the DOM after
# rendering → OUT, Chromium's log → OUT.log; with SHOT, a screenshot.
chromium_dom() {
	local html=$1 out=$2 shot=${3:-} prof
	prof=$(mktemp -d "$T/chromium.XXXXXX")
	local flags=(--headless --disable-gpu --no-sandbox --no-first-run --disable-extensions
		--user-data-dir="$prof" --enable-logging=stderr --log-level=0 --hide-scrollbars
		--window-size=1400,2400)
	timeout "$HANG_GUARD" "$CHROMIUM" "${flags[@]}" --dump-dom "file://$html" >"$out" 2>"$out.log" ||
		{ cat "$out.log" >&2; fail "chromium could not render $html"; }
	if [ -n "$shot" ]; then
		timeout "$HANG_GUARD" "$CHROMIUM" "${flags[@]}" --screenshot="$shot" "file://$html" >/dev/null 2>>"$out.log" ||
			{ cat "$out.log" >&2; fail "chromium could not screenshot $html"; }
		[ -s "$shot" ] || fail "no screenshot at $shot"
	fi
}

# Chromium logs every console message (at --log-level=0) as CONSOLE.
assert_no_console() { # LOG
	if grep -q "CONSOLE" "$1"; then
		grep "CONSOLE" "$1" >&2
		fail "the page logged to the console"
	fi
}

need_chromium() {
	if [ -z "$CHROMIUM" ]; then
		echo "chromium is not installed (scripts/setup-test-deps.sh): skipped" >&2
		return 1
	fi
}

# attr FILE ID NAME: the data-NAME attribute of the element with id ID.
attr() {
	grep -o "id=\"$2\"[^>]*" "$1" | head -n 1 | grep -o "data-$3=\"[^\"]*\"" | sed 's/.*="\(.*\)"/\1/'
}

# The page may fetch nothing: no src= or href= anywhere, no CSS url() but
# of a fragment of itself (#arrow), no @import (the SVG namespace URI is
# a name, not a fetch).
assert_self_contained() {
	local out
	out=$(grep -oiE '(src|href)=[^ >]*|url\([^#)][^)]*\)|@import' "$1" | head -n 3 || true)
	[ -z "$out" ] || fail "$1 refers to outside resources: $out"
}

make_join_job() {
	cat >job.pond <<'EOF'
a = partial_sql('SELECT i AS k, i * 2 AS v FROM range(60000) t(i)')
b = partial_sql('SELECT i AS k, md5(i::VARCHAR) AS s FROM range(0, 60000, 3) t(i)')
ah = a.repartition(4, hash_by='k')
bh = b.repartition(4, hash_by='k')
j = partial_sql('SELECT {0}.k, v, s FROM {0} JOIN {1} USING (k)', ah, bh)
s = j.repartition(3, range_by='k').partial_sort('k')
s.write_parquet('out/sorted')
s.count()
EOF
}

jq_events() { # SQL over events.jsonl of job dir jd as table e
	q "CREATE TABLE e AS SELECT * FROM read_json_auto('jd/events.jsonl', format='newline_delimited')" "$1"
}

# ---- a real run -----------------------------------------------------------------

test_report_of_shuffle_sort_join() {
	make_join_job
	pond_ok job.pond --job-dir jd --report "$T/report.html"
	assert_exists report.html
	assert_exists jd/trace.json
	assert_self_contained report.html
	# the job's totals are the journal's and the outputs'
	assert_same "tasks committed" "$(attr report.html totals committed)" \
		"$(q "SELECT count(DISTINCT task) FROM read_json_auto('jd/journal.jsonl') WHERE event = 'commit'")"
	assert_same "attempts" "$(attr report.html totals attempts)" "$(jq_events "SELECT count(*) FROM e")"
	assert_same "rows written" "$(attr report.html totals rows-out)" \
		"$(q "SELECT count(*) FROM read_parquet('out/sorted/*.parquet')")"
	local stage med rows n
	for stage in $(q "SELECT unnest(stages).name FROM read_json_auto('jd/plan.json')"); do
		grep -q "id=\"stage-$stage\"" report.html || fail "no row for stage $stage"
		grep -q "id=\"node-$stage\"" report.html || fail "no node for stage $stage in the plan graph"
		# every stage's median and rows out, as DuckDB computes them from
		# events.jsonl (the page's median has 6 decimals)
		med=$(attr report.html "stage-$stage" median-ms)
		assert_true "median of $stage ($med ms)" "$(jq_events "SELECT abs(quantile_cont(ms, 0.5) - $med) < 1e-5
			FROM e WHERE ok AND task LIKE '$stage-t%'")"
		rows=$(jq_events "SELECT sum(rows) FROM e WHERE ok AND task LIKE '$stage-t%'")
		assert_same "rows out of $stage" "$(attr report.html "stage-$stage" rows-out)" "$rows"
	done
	# every attempt's CPU time and bytes are in events.jsonl, and DuckDB's
	# profile of at least the first task of each stage (tasks under
	# PROFILE_MIN_MS are sampled after the first)
	n=$(jq_events "SELECT count(*) FROM e WHERE ok AND (cpu_ms IS NULL OR read IS NULL OR written IS NULL)")
	assert_same "attempts without CPU or bytes" "$n" 0
	n=$(jq_events "SELECT count(*) FROM (SELECT regexp_extract(task, '^(.*)-t', 1) AS stage FROM e
		GROUP BY stage HAVING count(peak_mem) = 0 OR count(spill) = 0 OR count(rows_in) = 0)")
	assert_same "stages without DuckDB's profile" "$n" 0
	# trace.json: one complete event per attempt (events.jsonl's lines)
	assert_same "trace events" \
		"$(q "SELECT count(*) FROM (SELECT unnest(traceEvents) AS e FROM read_json_auto('jd/trace.json')) WHERE e.ph = 'X'")" \
		"$(jq_events "SELECT count(*) FROM e")"
	need_chromium || return 0
	chromium_dom "$T/report.html" dom.html "$SHOT_DIR/report-shuffle-sort-join.png"
	assert_no_console dom.html.log
	for stage in $(q "SELECT unnest(stages).name FROM read_json_auto('jd/plan.json')"); do
		grep -q "id=\"stage-$stage\"" dom.html || fail "the rendered page lacks stage $stage"
	done
	assert_contains "the timeline" dom.html 'id="timeline-svg"'
	assert_contains "the plan graph" dom.html 'id="plan-svg"'
	assert_contains "one bar per attempt" dom.html 'data-mode="bars"'
}

# ---- pond sql --report ------------------------------------------------------------

# A query planned across workers (a partial aggregate, a shuffle, the
# merge, then an ORDER BY's range partitions) gets the same page: a row
# and a node for every stage of its plan, the output's rows.
test_report_of_pond_sql() {
	mkdir data
	local i
	for i in 0 1 2 3 4 5; do
		q "COPY (SELECT i AS k, i % 97 AS g, (i * 7) % 1000 AS v
			FROM range($i * 50000, ($i + 1) * 50000) t(i)) TO 'data/p$i.parquet' (FORMAT parquet)"
	done
	pond_cli 0 sql "SELECT g, sum(v) AS total, count(*) AS n FROM 'data/*.parquet' GROUP BY g ORDER BY total DESC, g" \
		-o out -w "$W" --job-dir jd --progress none --report "$T/sql.html"
	assert_exists sql.html
	assert_exists jd/trace.json
	assert_self_contained sql.html
	assert_same "rows written" "$(attr sql.html totals rows-out)" \
		"$(q "SELECT count(*) FROM read_parquet('out/*.parquet')")"
	assert_same "result rows" "$(q "SELECT count(*) FROM read_parquet('out/*.parquet')")" \
		"$(q "SELECT count(DISTINCT i % 97) FROM range(300000) t(i)")"
	local stage n=0
	for stage in $(q "SELECT unnest(stages).name FROM read_json_auto('jd/plan.json')"); do
		grep -q "id=\"stage-$stage\"" sql.html || fail "no row for stage $stage"
		grep -q "id=\"node-$stage\"" sql.html || fail "no node for stage $stage in the plan graph"
		n=$((n + 1))
	done
	# partial aggregates per part, then one task merging, sorting and
	# writing them: a graph of at least two stages and an edge
	[ "$n" -ge 2 ] || fail "the query was planned as $n stages; partial aggregates and their merge need 2"
	need_chromium || return 0
	chromium_dom "$T/sql.html" dom.html "$SHOT_DIR/report-pond-sql.png"
	assert_no_console dom.html.log
	assert_contains "the timeline" dom.html 'id="timeline-svg"'
	assert_contains "the plan graph" dom.html 'id="plan-svg"'
}

# The console check above would see a page's errors: a page that logs one.
test_console_check_sees_errors() {
	need_chromium || return 0
	printf '<!DOCTYPE html><html><body><script>console.error("boom")</script></body></html>\n' >bad.html
	chromium_dom "$T/bad.html" dom.html
	grep -q 'CONSOLE.*"boom"' dom.html.log || fail "a console error went unseen"
}

# ---- the progress line ------------------------------------------------------------

# The final state is drawn once, with every task done and the rows of the
# outputs (not intermediates); the summary's wall time is the run's.
test_progress_final_line_once() {
	make_join_job
	"$POND" run job.pond --progress plain -w "$W" --job-dir jd >out.txt 2>err.txt || { cat err.txt >&2; fail "pond failed"; }
	local total rows
	total=$(q "SELECT sum(len(s.tasks)) FROM (SELECT unnest(stages) AS s FROM read_json_auto('jd/plan.json'))")
	assert_same "one final line" "$(grep -c '^pond: \[done\]' err.txt)" 1
	assert_contains "all tasks done" err.txt "pond: [done] $total/$total tasks (0 running)"
	rows=$(q "SELECT count(*) FROM read_parquet('out/sorted/*.parquet')")
	# 20.0K: the rows written to the output, human_count's way
	assert_contains "rows of the output" err.txt "$(awk -v n="$rows" 'BEGIN { printf "%.1fK rows out", n / 1000 }')"
	assert_matches "the summary after it" err.txt '^pond: done: [0-9]+ tasks'
	# the final line has no estimate left to give
	assert_not_contains "no ETA in the final line" <(grep '^pond: \[done\]' err.txt) "ETA"
}

# ---- a failed run ---------------------------------------------------------------

test_report_of_failed_run_names_the_error_escaped() {
	cat >job.pond <<'EOF'
d = partial_sql('SELECT i FROM range(100) t(i)').repartition(2, hash_by='i')
bad = partial_sql('SELECT CAST(CASE WHEN i > 50 THEN ''<b>x</b>'' ELSE i::VARCHAR END AS INTEGER) AS y FROM {0}', d)
bad.write_parquet('out')
EOF
	pond_rc 1 job.pond --job-dir jd --report "$T/report.html"
	assert_exists report.html
	assert_exists jd/trace.json
	assert_contains "the state" report.html 'id="job-state">failed<'
	# the error, from the journal's "stopped" line and events.jsonl, escaped
	assert_contains "the job's error" report.html 'id="job-error"'
	assert_contains "the error, escaped" report.html '&lt;b&gt;x&lt;/b&gt;'
	assert_not_contains "no raw markup from the job" report.html '<b>x</b>'
	assert_same "failed attempts" "$(attr report.html totals failed)" \
		"$(jq_events "SELECT count(*) FROM e WHERE NOT ok")"
	# pond report makes the same page again from the job directory
	pond_cli 0 report jd
	assert_same "pond report prints the page's path" "$(cat out.txt)" "$T/jd/report.html"
	assert_contains "the state" jd/report.html 'id="job-state">failed<'
	if need_chromium; then
		chromium_dom "$T/report.html" dom.html
		assert_no_console dom.html.log
		assert_contains "the failure" dom.html 'id="failures"'
	fi
}

test_report_flag_needs_an_existing_directory() {
	make_join_job
	pond_rc 2 job.pond --job-dir jd --report "$T/nowhere/r.html"
	assert_contains "names the directory" err.txt "$T/nowhere"
	assert_missing jd
}

# ---- a killed run -------------------------------------------------------------

journal_has_start() { grep -q "\"event\":\"start\".*\"task\":\"[^\"]*$1\"" jd/journal.jsonl 2>/dev/null; }

test_report_of_killed_run_with_torn_line() {
	make_join_job
	# a sink task is held (POND_TEST_WAIT) until the driver is killed: its
	# attempt started and never ends
	POND_TEST_WAIT="sink-t00001:$T/never" "$POND" run job.pond --progress none -w "$W" --job-dir jd \
		>run.out 2>run.err &
	local pid=$!
	trap 'if jobs -p | grep -qx "$pid"; then kill -KILL "$pid" 2>/dev/null; fi' EXIT
	wait_until "the held sink task to start" journal_has_start sink-t00001
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	# a line cut short, as a kill during a write can leave it
	printf '{"event":"start","t":17' >>jd/journal.jsonl
	printf '{"ok":true,"rows":' >>jd/events.jsonl
	pond_cli 0 report jd -o "$T/killed.html"
	assert_same "prints the page's path" "$(cat out.txt)" "$T/killed.html"
	assert_exists jd/trace.json
	assert_contains "no end recorded" killed.html 'id="job-state">no end recorded'
	[ "$(attr killed.html totals unfinished)" -ge 1 ] || fail "the held attempt is not shown unfinished"
	assert_contains "the torn lines" killed.html "2 unreadable lines skipped"
	assert_same "attempts: the finished ones and the unfinished" "$(attr killed.html totals attempts)" \
		"$(q "SELECT count(*) FROM read_json_auto('jd/journal.jsonl', ignore_errors=true) WHERE event = 'start'")"
	if need_chromium; then
		chromium_dom "$T/killed.html" dom.html
		assert_no_console dom.html.log
		assert_contains "the timeline" dom.html 'id="timeline-svg"'
	fi
}

# While a run holds the job directory, pond report reads it as it is and
# leaves trace.json to the run; the run, interrupted, still writes its
# --report, naming the interruption.
test_report_of_live_then_interrupted_run() {
	make_join_job
	POND_TEST_WAIT="sink-t00001:$T/never" "$POND" run job.pond --progress none -w "$W" --job-dir jd \
		--report "$T/run.html" >run.out 2>run.err &
	local pid=$! rc=0
	trap 'if jobs -p | grep -qx "$pid"; then kill -KILL "$pid" 2>/dev/null; fi' EXIT
	wait_until "the held sink task to start" journal_has_start sink-t00001
	pond_cli 0 report jd -o "$T/live.html"
	assert_contains "a live run has no end yet" live.html 'id="job-state">no end recorded'
	assert_missing jd/trace.json
	kill -INT "$pid"
	wait "$pid" || rc=$?
	assert_same "pond died of SIGINT" "$rc" 130
	assert_exists jd/trace.json
	assert_contains "the run's own report" run.html 'id="job-state">failed<'
	assert_contains "says it was interrupted" run.html "interrupted"
	assert_same "the journal's last line" "$(tail -n 1 jd/journal.jsonl | sed 's/.*"event":"\([a-z]*\)".*/\1/')" stopped
}

test_report_refuses_what_is_not_a_job_dir() {
	mkdir plain
	pond_cli 2 report plain
	assert_contains "says why" err.txt "not a pond job directory"
	pond_cli 2 report missing
	assert_missing missing
}

# ---- 10,000 tasks ----------------------------------------------------------------

# A job directory as a run of 10,000 tasks over 64 workers would leave it:
# three stages whose tasks interleave (the worst case for the binned
# timeline: neighbouring cells rarely look alike), task times from 50 ms
# to 1 s with a straggler in 500 (3 s), 40 attempts failed and retried.
synth_job() {
	mkdir jd
	printf 'This is a pond job directory.\n' >jd/.pond-job
	q "COPY (SELECT [
		{'id': 0, 'name': 's00-shuffle', 'kind': 'shuffle', 'step': 'big.pond:2 repartition(3334, hash_by=k)',
		 'deps': []::INT[], 'tasks': [{'id': 's00-shuffle-t' || lpad(i::VARCHAR, 5, '0')} FOR i IN range(3334)]},
		{'id': 1, 'name': 's01-map', 'kind': 'map', 'step': 'big.pond:3 partial_sql',
		 'deps': []::INT[], 'tasks': [{'id': 's01-map-t' || lpad(i::VARCHAR, 5, '0')} FOR i IN range(3333)]},
		{'id': 2, 'name': 's02-sink', 'kind': 'sink', 'step': 'big.pond:4 write_parquet',
		 'deps': [0, 1], 'tasks': [{'id': 's02-sink-t' || lpad(i::VARCHAR, 5, '0')} FOR i IN range(3333)]}
		] AS stages, 42 AS seed) TO 'jd/plan.json' (FORMAT json)" >/dev/null
	q "CREATE TABLE a AS
		WITH t AS (SELECT i, ['s00-shuffle', 's01-map', 's02-sink'][i % 3 + 1] || '-t'
		                     || lpad((i // 3)::VARCHAR, 5, '0') AS task,
		                  CASE WHEN i % 500 = 7 THEN 3.0 ELSE 0.05 + (hash(i) % 1000) / 1000 END AS secs
		           FROM range(10000) r(i)),
		     att AS (SELECT i, task, 1 AS attempt, i % 250 = 3 AS bad, secs FROM t
		            UNION ALL SELECT i, task, 2, false, secs FROM t WHERE i % 250 = 3)
		SELECT *, row_number() OVER (ORDER BY i, attempt) - 1 AS n FROM att" \
		"COPY (SELECT NOT bad AS ok, CASE WHEN bad THEN 0 ELSE 1000 END AS rows, 4096 AS bytes, task, attempt,
		       secs * 1000 AS ms, secs * 900 AS cpu_ms, 1048576 AS peak_mem, 0 AS spill, 1000 AS rows_in,
		       8192 AS read, 4096 AS written,
		       CASE WHEN bad THEN 'Conversion Error: <synthetic> failure' || chr(10) || 'in ' || task END AS error,
		       CASE WHEN bad THEN 1 END AS class,
		       1.8e9 + (n // 64) * 0.6 AS start, (n % 64)::INT AS worker,
		       'worker ' || (n % 64) || ' (pid ' || (1000 + n % 64) || ')' AS \"where\",
		       1.8e9 + (n // 64) * 0.6 + secs AS t
		       FROM a ORDER BY n) TO 'jd/events.jsonl' (FORMAT json)" \
		"COPY (SELECT * FROM (
		SELECT 'run' AS event, 1.8e9 - 1 AS t, NULL AS task, NULL::INT AS attempt, NULL AS worker, 64 AS workers
		UNION ALL SELECT 'start', 1.8e9 + (n // 64) * 0.6, task, attempt,
		       'worker ' || (n % 64) || ' (pid ' || (1000 + n % 64) || ')', NULL FROM a
		UNION ALL SELECT 'commit', 1.8e9 + (n // 64) * 0.6 + secs, task, attempt, NULL, NULL FROM a WHERE NOT bad
		UNION ALL SELECT 'done', 1.8e9 + 200, NULL, NULL, NULL, NULL) ORDER BY t)
		TO 'jd/journal.jsonl' (FORMAT json)" >/dev/null
}

test_report_of_10000_tasks_is_under_2mb() {
	synth_job
	pond_cli 0 report jd -o "$T/big.html"
	local size
	size=$(stat -c %s big.html)
	echo "10,000 tasks: report of $size bytes"
	[ "$size" -lt 2000000 ] || fail "the report of 10,000 tasks is $size bytes, over 2 MB"
	assert_same "attempts" "$(attr big.html totals attempts)" \
		"$(q "SELECT count(*) FROM read_json_auto('jd/events.jsonl')")"
	assert_same "lanes" "$(attr big.html totals lanes)" 64
	assert_same "committed" "$(attr big.html totals committed)" \
		"$(q "SELECT count(DISTINCT task) FROM read_json_auto('jd/journal.jsonl') WHERE event = 'commit'")"
	assert_same "skew of s01-map (stragglers)" "$(attr big.html stage-s01-map skew)" \
		"$(q "SELECT (max(ms) > 1.5 * quantile_cont(ms, 0.75) AND max(ms) > 1000)::INT
		      FROM read_json_auto('jd/events.jsonl') WHERE ok AND task LIKE 's01-map-t%'")"
	assert_contains "binned, not 10,000 bars" big.html 'data-mode="binned"'
	assert_contains "failures grouped" big.html "more attempts of this stage with the same error"
	assert_not_contains "escaped" big.html '<synthetic>'
	assert_exists jd/trace.json
	if need_chromium; then
		chromium_dom "$T/big.html" dom.html "$SHOT_DIR/report-10000-tasks.png"
		assert_no_console dom.html.log
		assert_contains "the timeline" dom.html 'id="timeline-svg"'
	fi
}

run_test report_of_shuffle_sort_join test_report_of_shuffle_sort_join
run_test report_of_pond_sql test_report_of_pond_sql
run_test console_check_sees_errors test_console_check_sees_errors
run_test progress_final_line_once test_progress_final_line_once
run_test report_of_failed_run_names_the_error_escaped test_report_of_failed_run_names_the_error_escaped
run_test report_flag_needs_an_existing_directory test_report_flag_needs_an_existing_directory
run_test report_of_killed_run_with_torn_line test_report_of_killed_run_with_torn_line
run_test report_of_live_then_interrupted_run test_report_of_live_then_interrupted_run
run_test report_refuses_what_is_not_a_job_dir test_report_refuses_what_is_not_a_job_dir
run_test report_of_10000_tasks_is_under_2mb test_report_of_10000_tasks_is_under_2mb
if [ -z "$CHROMIUM" ] && [ "$E2E_FAIL" = 0 ]; then
	echo "---- $(basename "$0"): $E2E_PASS passed; the Chromium checks were skipped (no chromium)"
	exit 77
fi
finish_tests
