#!/usr/bin/env bash
# Task isolation and retries (docs/ARCHITECTURE.md): POND_TEST_CRASH=<substring of
# a task id> makes the first attempt of the matching tasks die of SIGSEGV
# (src/runtime/task.c). The job must still succeed with correct output,
# report the retry, and journal a "fail" line and one commit per task.
# With --max-attempts 1 the job fails (exit 1) naming the task.
# Also the warm task children: while the plan-time DuckDB opens, only one
# worker's task child opens its own (the others wait for "warm").
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	local f
	for f in 0 1 2; do
		q "COPY (SELECT i, (hash(i) % 200)::BIGINT AS k FROM range($f * 5000, ($f + 1) * 5000) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n, sum(i)::BIGINT AS s FROM {0} GROUP BY k', df)
agg.write_parquet('out')
agg.count()
EOF
}

check_output() {
	assert_published out
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, sum(i)::BIGINT AS s FROM read_parquet('in/*.parquet') GROUP BY k ORDER BY ALL")"
}

# journal lines as TSV: event, task, attempt
journal() {
	q "SELECT json_extract_string(json, '\$.event'), json_extract_string(json, '\$.task'), json_extract_string(json, '\$.attempt')
	   FROM read_ndjson_objects($(sql_str "$1/journal.jsonl"))"
}

# every task id of the plan, sorted
plan_tasks() {
	q "SELECT unnest(json_extract_string(content, '\$.stages[*].tasks[*].id')) AS id FROM read_text($(sql_str "$1/plan.json")) ORDER BY id"
}

crash_one() { # CRASH-SUBSTRING
	make_input
	local crash=$1 ntasks
	POND_TEST_CRASH=$crash pond_ok job.pond --job-dir jd --progress plain
	check_output
	assert_same "count" "$(cat out.txt)" "$(q "SELECT count(DISTINCT k) FROM read_parquet('in/*.parquet')")"
	# reported on stderr: the task, the retry, the signal
	assert_contains "stderr names the task" err.txt "$crash"
	assert_contains "stderr reports a retry" err.txt "retrying"
	assert_matches "stderr names the signal" err.txt "signal|SEGV"
	assert_matches "the summary counts the retry" err.txt "[1-9][0-9]* retried"
	# journal: a fail line for attempt 1 of the crashed task(s), then
	# exactly one commit per task of the plan
	local fails
	fails=$(journal jd | awk -F'\t' -v c="$crash" '$1 == "fail" && index($2, c) && $3 == 1')
	[ -n "$fails" ] || { journal jd >&2; fail "no fail line for $crash attempt 1"; }
	assert_same "one commit per task" "$(journal jd | awk -F'\t' '$1 == "commit" { print $2 }' | LC_ALL=C sort)" \
		"$(plan_tasks jd | LC_ALL=C sort)"
	assert_empty "a crashed task committed on attempt 1" \
		"$(journal jd | awk -F'\t' -v c="$crash" '$1 == "commit" && index($2, c) && $3 == 1')"
	# the fail line carries the crash's message
	assert_matches "journal fail line has the signal" jd/journal.jsonl '"event":"fail".*(signal|SEGV)'
	# no attempt directory left behind
	assert_missing jd/tmp
	[ -z "$(find . -name '*.a[0-9]*' -path '*attempts*')" ] || fail "attempt dirs left: $(find . -path '*attempts*')"
}

test_crash_shuffle_producer() { crash_one s00-shuffle-t00001; }
test_crash_sink() { crash_one sink-t00002; }
test_crash_every_task_once() { crash_one -t0000; }

test_crash_with_progress_none_still_journaled() {
	make_input
	POND_TEST_CRASH=sink-t00000 pond_ok job.pond --job-dir jd
	check_output
	assert_matches "journal fail line" jd/journal.jsonl '"event":"fail".*sink-t00000'
}

test_crash_no_retry_fails_job() {
	make_input
	POND_TEST_CRASH=s00-shuffle-t00000 pond_rc 1 job.pond --job-dir jd --max-attempts 1
	assert_contains "the message names the task" err.txt "s00-shuffle-t00000"
	assert_matches "the message names the signal" err.txt "signal|SEGV"
	assert_contains "the message names the script line" err.txt "job.pond:1"
	assert_not_published out
}

# Held before the plan-time DuckDB opens (its child stopped at
# plandb-start), the driver waits for its first answer: one worker has
# started its task child, the others have not (three DuckDBs opening at
# once on two cores slowed the plan's). Let go, the job runs on every
# worker and gives the right rows.
workers_with_task_child() {
	local n=0 w
	for w in $(pgrep -P "$BG" -x pond-worker); do
		pgrep -P "$w" -x pond-task >/dev/null && n=$((n + 1))
	done
	echo "$n"
}
one_warm() { [ "$(workers_with_task_child)" -ge 1 ]; }
test_other_workers_warm_after_the_plan_db_opens() {
	make_input
	pond_bg_stopped plandb-start "$T/plandb" bg job.pond --job-dir jd
	local plandb
	plandb=$(wait_stopped "$T/plandb" "$BG")
	assert_same "workers" "$(pgrep -P "$BG" -x pond-worker | wc -l)" "$W"
	wait_until "worker 0's task child" one_warm
	assert_same "task children while the plan-time DuckDB is held" "$(workers_with_task_child)" 1
	kill -CONT "$plandb"
	wait "$BG" || fail "pond run exited $?: $(head -c 2000 bg.err)"
	check_output
	assert_same "tasks ran on every worker" \
		"$(q "SELECT count(DISTINCT json_extract_string(json, '\$.worker')) FROM read_ndjson_objects($(sql_str jd/journal.jsonl)) WHERE json_extract_string(json, '\$.event') = 'start'")" "$W"
}

run_test other_workers_warm_after_the_plan_db_opens test_other_workers_warm_after_the_plan_db_opens
run_test crash_in_shuffle_producer_retried test_crash_shuffle_producer
run_test crash_in_sink_task_retried test_crash_sink
run_test crash_in_every_task_retried test_crash_every_task_once
run_test crash_journaled_with_progress_none test_crash_with_progress_none_still_journaled
run_test crash_with_max_attempts_1_fails_job test_crash_no_retry_fails_job
finish_tests
