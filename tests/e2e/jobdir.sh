#!/usr/bin/env bash
# The job directory (docs/PIPELINES.md): plan.json (valid JSON), journal.jsonl
# (one commit line per task, fsync'ed), events.jsonl (one line per
# attempt), committed outputs under data/<stage>/<task>/, no attempt dirs
# left in tmp/, default location .pond/<script name>-<hash of the script's
# path and -D values>; a run holds DIR/lock, so a second run on the same
# directory (--resume too) exits 1 at once naming the holder's pid, and runs
# with other -D values never share one; --resume re-runs only what is not
# committed: nothing after a completed run, only the failed part after a
# failed one; a changed plan is refused.
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	local f
	for f in 0 1 2; do
		q "COPY (SELECT i, (hash(i) % 300)::BIGINT AS k, 's' || i AS s FROM range($f * 4000, ($f + 1) * 4000) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n, min(s) AS ms FROM {0} GROUP BY k', df)
agg.write_parquet('out')
srt = agg.repartition(2, range_by='n').partial_sort('n, k')
srt.write_csv('out_csv')
agg.count()
EOF
}

oracle_agg() { q "SELECT k, count(*) AS n, min(s) AS ms FROM read_parquet('in/*.parquet') GROUP BY k ORDER BY ALL"; }

check_outputs() {
	assert_published out
	assert_exists out_csv/_SUCCESS
	assert_same "out rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(oracle_agg)"
	assert_same "out_csv rows" "$(q "SELECT * FROM read_csv('out_csv/*.csv') ORDER BY ALL")" "$(oracle_agg)"
	assert_same "count" "$(tail -n 1 out.txt)" "$(q "SELECT count(DISTINCT k) FROM read_parquet('in/*.parquet')")"
}

# journal/events lines: event, task, attempt
journal() {
	q "SELECT json_extract_string(json, '\$.event'), coalesce(json_extract_string(json, '\$.task'), ''), coalesce(json_extract_string(json, '\$.attempt'), '')
	   FROM read_ndjson_objects($(sql_str "$1/journal.jsonl"))"
}
plan_tasks() {
	q "SELECT unnest(json_extract_string(content, '\$.stages[*].tasks[*].id')) AS id FROM read_text($(sql_str "$1/plan.json")) ORDER BY id"
}
journal_tasks() { # JOBDIR EVENT
	journal "$1" | awk -F'\t' -v e="$2" '$1 == e { print $2 }' | LC_ALL=C sort
}

test_job_dir_contents() {
	make_input
	pond_ok job.pond --job-dir jd
	check_outputs
	assert_true "plan.json is valid JSON" "$(q "SELECT json_valid(content) FROM read_text('jd/plan.json')")"
	assert_true "plan.json has stages with tasks" \
		"$(q "SELECT json_array_length(content, '\$.stages') > 1 FROM read_text('jd/plan.json')")"
	assert_true "journal.jsonl: every line is JSON" \
		"$(q "SELECT bool_and(json_valid(line)) FROM (SELECT unnest(string_split(trim(content, chr(10)), chr(10))) AS line FROM read_text('jd/journal.jsonl'))")"
	assert_true "events.jsonl: every line is JSON" \
		"$(q "SELECT bool_and(json_valid(line)) FROM (SELECT unnest(string_split(trim(content, chr(10)), chr(10))) AS line FROM read_text('jd/events.jsonl'))")"
	local tasks
	tasks=$(plan_tasks jd | LC_ALL=C sort)
	assert_same "journal: one commit line per task" "$(journal_tasks jd commit)" "$tasks"
	assert_same "journal: one start line per task" "$(journal_tasks jd start)" "$tasks"
	assert_same "events: one ok attempt per task" \
		"$(q "SELECT json_extract_string(json, '\$.task') FROM read_ndjson_objects('jd/events.jsonl') WHERE json_extract(json, '\$.ok')::BOOLEAN" | LC_ALL=C sort)" \
		"$tasks"
	assert_true "events have timings, rows and bytes" \
		"$(q "SELECT bool_and(json_extract(json, '\$.ms') IS NOT NULL AND json_extract(json, '\$.rows') IS NOT NULL AND json_extract(json, '\$.bytes') IS NOT NULL) FROM read_ndjson_objects('jd/events.jsonl')")"
	assert_same "journal ends with done" "$(journal jd | tail -n 1 | cut -f1)" "done"
	# committed outputs of non-sink tasks live in data/<stage>/<task>; after
	# success only show()/count() results stay (intermediates are dropped)
	local d missing="" kept=""
	while IFS= read -r d; do
		[[ $d == "$T/jd/data/"* ]] || fail "task dir outside data/: $d"
		case "$d" in
		*-show/* | *-count/*) [ -d "$d" ] || missing+="$d " ;;
		*) [ ! -e "$d" ] || kept+="$d " ;;
		esac
	done < <(q "SELECT unnest(json_extract_string(content, '\$.stages[*].tasks[*].dir')) AS d FROM read_text('jd/plan.json')" | grep -v pond-staging)
	[ -z "$missing" ] || fail "show/count results missing: $missing"
	[ -z "$kept" ] || fail "intermediates kept after success: $kept"
	# no attempt dir or spill file left, no staging next to the outputs
	assert_missing jd/tmp
	assert_no_staging out out_csv
}

test_default_job_dir() {
	make_input
	cp job.pond "my job.pond"
	pond_ok "my job.pond"
	local jd
	jd=$(job_dirs)
	[[ $jd =~ ^\.pond/my\ job-[0-9a-f]{8}$ ]] || fail "default job dir is '$jd', not .pond/my job-<8 hex>"
	assert_exists "$jd/plan.json"
	assert_exists "$jd/journal.jsonl"
	assert_exists "$jd/events.jsonl"
	assert_exists "$jd/.pond-job"
	assert_exists "$jd/lock"
	check_outputs
}

# The default job dir is a function of the script's path and its -D values:
# the same script named another way, or with its -D flags in another order,
# gets the same one; other values get another.
test_default_job_dir_per_parameters() {
	make_input
	sed -i "s/'out'/'out\${X}'/; s/'out_csv'/'out_csv\${X}'/; 1s/^/# \${Y}\n/" job.pond
	pond_ok job.pond -D X=1 -D Y=a
	local one
	one=$(job_dirs)
	[ "$(printf '%s\n' "$one" | wc -l)" = 1 ] || fail "expected one job dir, got: $one"
	rm -rf out1 out_csv1
	pond_ok ./job.pond -D Y=a -D X=1
	rm -rf out1 out_csv1
	pond_ok "$T/job.pond" -D X=0 -D Y=a -D X=1
	assert_same "same script, same values: same job dir" "$(job_dirs)" "$one"
	pond_ok job.pond -D X=2 -D Y=a
	assert_same "other values: another job dir" "$(job_dirs | wc -l)" 2
	pond_ok job.pond -D X=3 -D Y=a -D Z=unused
	assert_same "an extra -D: another job dir" "$(job_dirs | wc -l)" 3
}

# A run holds DIR/lock: a second run on the directory, with or without
# --resume, exits 1 at once naming the holder's pid (the holder is stopped
# at a test point, so "at once" cannot be a race); explain needs no lock;
# the holder then finishes as if nothing happened.
test_locked_job_dir_refuses_second_run() {
	make_input
	pond_bg_stopped prepared "$T/stopped" first job.pond
	local pid rc=0
	pid=$(wait_stopped "$T/stopped" "$BG")
	assert_same "the stopped process is the run" "$pid" "$BG"
	pond_rc 1 job.pond
	assert_contains "names the holder's pid" err.txt "pid $pid"
	assert_contains "says why" err.txt "in use by another pond run"
	pond_rc 1 job.pond --resume
	assert_contains "--resume too" err.txt "pid $pid"
	pond_cli 0 explain job.pond
	assert_missing out
	kill -CONT "$pid"
	wait "$BG" || rc=$?
	[ $rc = 0 ] || { cat first.err >&2; fail "the lock holder exited $rc"; }
	cp first.out out.txt
	check_outputs
	pond_ok job.pond --resume
	check_outputs
}

# The lock dies with its holder: after kill -9 of a run (its workers hold
# no copy of the lock), --resume starts right away and finishes.
test_lock_released_when_holder_killed() {
	make_input
	pond_bg_stopped commit:2 "$T/stopped" first job.pond
	local pid
	pid=$(wait_stopped "$T/stopped" "$BG")
	kill -KILL "$pid"
	wait "$BG" || true
	pond_ok job.pond --resume
	check_outputs
}

# daily.pond -D DAY=1 and -D DAY=2 from one directory at the same time:
# each publishes its own day's rows (they used to share .pond/daily: one
# run's rows went out under the other's output, or a bucket was lost).
test_parallel_runs_with_other_defines() {
	mkdir -p in
	q "COPY (SELECT i, i % 3 AS day, (hash(i) % 50)::BIGINT AS k FROM range(30000) t(i)) TO 'in/f.parquet'" >/dev/null
	cat >daily.pond <<'EOF'
df = read_parquet('in/*.parquet').filter('day = ${DAY}').repartition(4, hash_by='k')
partial_sql('SELECT k, count(*) AS n, sum(i)::BIGINT AS s FROM {0} GROUP BY k', df).write_parquet('out/day${DAY}', mode='overwrite')
EOF
	pond_bg_stopped commit:2 "$T/stopped" day1 daily.pond -D DAY=1
	local pid rc=0 d
	pid=$(wait_stopped "$T/stopped" "$BG")
	pond_ok daily.pond -D DAY=2
	kill -CONT "$pid"
	wait "$BG" || rc=$?
	[ $rc = 0 ] || { cat day1.err >&2; fail "DAY=1 exited $rc"; }
	for d in 1 2; do
		assert_published "out/day$d"
		assert_same "day $d rows" "$(q "SELECT * FROM read_parquet('out/day$d/*.parquet') ORDER BY ALL")" \
			"$(q "SELECT k, count(*), sum(i) FROM 'in/f.parquet' WHERE day = $d GROUP BY k ORDER BY ALL")"
	done
	assert_same "two job dirs" "$(job_dirs | wc -l)" 2
}

test_fresh_run_resets_job_dir() {
	make_input
	pond_ok job.pond --job-dir jd
	touch jd/data/stray
	sed -i "s/'out'/'out2'/; s/'out_csv'/'out2_csv'/" job.pond
	pond_ok job.pond --job-dir jd
	assert_missing jd/data/stray
	assert_same "journal of the second run only: one commit per task" "$(journal_tasks jd commit)" \
		"$(plan_tasks jd | LC_ALL=C sort)"
}

test_resume_after_complete_run() {
	make_input
	pond_ok job.pond --job-dir jd
	check_outputs
	tree_digest out >digest1
	tree_digest out_csv >>digest1
	local starts
	starts=$(journal_tasks jd start | wc -l)
	pond_ok job.pond --job-dir jd --resume --progress plain
	# nothing re-ran: no new start lines; the summary says so
	assert_same "no task started again" "$(journal_tasks jd start | wc -l)" "$starts"
	assert_matches "summary: all already committed" err.txt "done: ([0-9]+) tasks \(\1 already committed\)"
	check_outputs
	tree_digest out >digest2
	tree_digest out_csv >>digest2
	assert_same "same output files" "$(cat digest2)" "$(cat digest1)"
}

test_resume_after_failed_run() {
	make_input
	# the first attempt of every sink task of out_csv crashes and no retry
	# is allowed: the job fails after committing the rest
	POND_TEST_CRASH=sink-t00001 pond_rc 1 job.pond --job-dir jd --max-attempts 1
	assert_missing out_csv/_SUCCESS
	local before after rerun
	before=$(journal_tasks jd commit)
	[ -n "$before" ] || fail "the failed run committed nothing"
	pond_ok job.pond --job-dir jd --resume --progress plain
	check_outputs
	after=$(journal_tasks jd commit)
	assert_same "every task committed exactly once over both runs" "$after" "$(plan_tasks jd | LC_ALL=C sort)"
	# the resumed run started only tasks not committed by the first
	rerun=$(journal jd | awk -F'\t' 'seen && $1 == "start" { print $2 } $1 == "fail" { seen = 1 }' | LC_ALL=C sort -u)
	assert_empty "tasks re-run although committed" "$(comm -12 <(printf '%s\n' "$rerun") <(printf '%s\n' "$before"))"
	assert_matches "summary counts the skipped tasks" err.txt "already committed"
}

# task ids of the stages whose step matches a LIKE pattern
stage_tasks() { # JOBDIR PATTERN
	q "SELECT unnest(json_extract_string(s, '\$.tasks[*].id')) AS id
	   FROM (SELECT unnest(json_extract(content, '\$.stages[*]')) AS s FROM read_text($(sql_str "$1/plan.json")))
	   WHERE json_extract_string(s, '\$.step') LIKE $(sql_str "$2") ORDER BY id"
}

stage_deps_tasks() { # JOBDIR PATTERN: tasks of the stages the matching stage reads
	q "WITH st AS (SELECT unnest(json_extract(content, '\$.stages[*]')) AS s FROM read_text($(sql_str "$1/plan.json"))),
	        deps AS (SELECT unnest(json_extract(s, '\$.deps[*]'))::INT AS d FROM st WHERE json_extract_string(s, '\$.step') LIKE $(sql_str "$2"))
	   SELECT unnest(json_extract_string(s, '\$.tasks[*].id')) AS id FROM st WHERE json_extract(s, '\$.id')::INT IN (SELECT d FROM deps) ORDER BY id"
}

test_resume_after_output_deleted() {
	make_input
	pond_ok job.pond --job-dir jd
	local n
	n=$(journal jd | wc -l)
	rm -rf out
	pond_ok job.pond --job-dir jd --resume
	check_outputs
	# only the tasks of the deleted output's sink (script line 3) ran again,
	# and those of the stages it reads (dropped after the first success)
	assert_same "re-run tasks" \
		"$(journal jd | tail -n +$((n + 1)) | awk -F'\t' '$1 == "start" { print $2 }' | LC_ALL=C sort)" \
		"$( (stage_tasks jd '%job.pond:3 write_parquet'; stage_deps_tasks jd '%job.pond:3 write_parquet') | LC_ALL=C sort)"
}

test_resume_refuses_changed_plan() {
	make_input
	pond_ok job.pond --job-dir jd
	sed -i "s/repartition(3/repartition(4/" job.pond
	rm -rf out out_csv
	pond_rc 2 job.pond --job-dir jd --resume
	assert_contains "says the plan changed" err.txt "plan changed"
	assert_missing out
}

test_resume_without_job_dir_runs_all() {
	make_input
	pond_ok job.pond --job-dir jd --resume
	check_outputs
	assert_same "one commit per task" "$(journal_tasks jd commit)" "$(plan_tasks jd | LC_ALL=C sort)"
}

run_test job_dir_plan_journal_events_data test_job_dir_contents
run_test job_dir_defaults_to_dot_pond_script_hash test_default_job_dir
run_test default_job_dir_per_script_path_and_defines test_default_job_dir_per_parameters
run_test locked_job_dir_second_run_exits_1_naming_pid test_locked_job_dir_refuses_second_run
run_test lock_released_when_holder_killed test_lock_released_when_holder_killed
run_test parallel_runs_with_other_defines_do_not_mix test_parallel_runs_with_other_defines
run_test fresh_run_resets_job_dir test_fresh_run_resets_job_dir
run_test resume_after_complete_run_reruns_nothing test_resume_after_complete_run
run_test resume_after_failed_run_reruns_rest_only test_resume_after_failed_run
run_test resume_after_output_deleted_republishes test_resume_after_output_deleted
run_test resume_refuses_changed_plan test_resume_refuses_changed_plan
run_test resume_without_previous_run_runs_all test_resume_without_job_dir_runs_all
finish_tests
