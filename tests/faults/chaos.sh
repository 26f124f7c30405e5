#!/usr/bin/env bash
# chaos.sh — bounded chaos test of pond's fault tolerance (docs/FAULTS.md).
#
# One pipeline (hash shuffle + join of two shuffled inputs, range shuffle +
# sort, random shuffle; three sinks under one output dir) over six seeded
# Parquet files runs once fault-free (-w 3 --threads 1): the reference
# sha256 of every output file. Then it runs again and again (-w 3
# --threads 1) while a harness
#   - SIGKILLs random workers (children of the driver) and task children
#     (grandchildren) at random times,
#   - SIGSTOPs a worker past the 10 s heartbeat timeout,
#   - passes --inject-faults 0.2,SEED for a few seeds,
#   - SIGKILLs the driver mid-run and finishes the job with --resume,
#   - SIGSTOPs a worker for a few seconds under --speculate,
#   - SIGSTOPs a task child under --task-timeout,
#   - and all of it at once (twice; the second time the driver dies too).
# After every successful run: the same files with the same hashes as the
# fault-free run, no attempt/spill dirs (job dir tmp/ gone or empty), no
# .attempts/.publish/.pond-staging left in the output dir, no pond process
# left. After a failed run: exit 1, no _SUCCESS and no part file in any
# output, no process left; then --resume must finish with the same hashes.
#
# The random choices come from CHAOS_SEED (printed; default: the time).
# About 1 minute on 2 cores. Processes are found by parent pid and
# signalled by pid; a watchdog kills a pond run that hangs (> 120 s).
source "$(dirname "$0")/../e2e/lib.sh"

CHAOS_SEED=${CHAOS_SEED:-$(date +%s)}
echo "chaos: CHAOS_SEED=$CHAOS_SEED"

CH=$(mktemp -d "${TMPDIR:-/tmp}/pond-chaos.XXXXXX")
cleanup_chaos() {
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "    (kept $CH)"
	else
		rm -rf "$CH"
	fi
}
trap cleanup_chaos EXIT

# ---- the shared inputs, pipeline and fault-free reference --------------------

make_chaos_inputs() {
	mkdir -p "$CH/in" "$CH/ref"
	local f
	for f in 0 1 2 3 4 5; do
		q "COPY (SELECT i AS id, 'k' || (hash(i) % 5000) AS k, (hash(i * 31) % 100000) / 7.0 AS v,
		        md5(i::VARCHAR) AS sk, repeat('x', (i % 50)::INT) AS pad
		        FROM range($f * 200000, ($f + 1) * 200000) t(i)) TO $(sql_str "$CH/in/f$f.parquet")" >/dev/null
	done
	q "COPY (SELECT 'k' || i AS k, 'name ' || i AS name, i % 7 AS grp FROM range(5000) t(i))
	   TO $(sql_str "$CH/dim.parquet")" >/dev/null
	cat >"$CH/job.pond" <<'P'
# chaos.sh's pipeline: a join of two hash-shuffled inputs, a range sort,
# a random shuffle; three sinks under ${OUT}
src = read_parquet('${IN}/in/*.parquet')
dim = read_parquet('${IN}/dim.parquet')
byk = src.repartition(6, hash_by='k')
dimk = dim.repartition(6, hash_by='k')
joined = partial_sql('SELECT a.k, d.name, d.grp, count(*) AS n, sum(a.v) AS s, min(a.sk) AS first_sk
                      FROM {0} a JOIN {1} d USING (k) GROUP BY ALL ORDER BY a.k', byk, dimk)
joined.write_parquet('${OUT}/joined')
srt = src.repartition(6, range_by='sk').partial_sort('sk, id')
srt.write_parquet('${OUT}/sorted')
src.random_shuffle(4).partial_sort('id').write_parquet('${OUT}/shuffled')
P
}

make_chaos_inputs
if ! (cd "$CH/ref" && "$POND" run "$CH/job.pond" -D IN="$CH" -D OUT="$CH/ref/out" --job-dir "$CH/ref/jd" \
	-w 3 --threads 1 --progress none >out.txt 2>err.txt); then
	echo "chaos: the fault-free reference run failed:" >&2
	cat "$CH/ref/err.txt" >&2
	exit 1
fi
tree_digest "$CH/ref/out" >"$CH/ref.digest"
NTASKS=$(q "SELECT len(json_extract_string(content, '\$.stages[*].tasks[*].id')) FROM read_text($(sql_str "$CH/ref/jd/plan.json"))")
echo "chaos: reference: $(wc -l <"$CH/ref.digest") files, $NTASKS tasks"

# ---- running pond under the harness ------------------------------------------

# start_pond ARGS...: starts pond on the chaos pipeline in the background
# (output $T/out, job dir $T/jd; stdout out.txt, stderr err.txt); sets PID.
# A watchdog SIGKILLs it after 120 s and leaves a file "hung".
start_pond() {
	"$POND" run "$CH/job.pond" -D IN="$CH" -D OUT="$T/out" --job-dir "$T/jd" -w 3 --threads 1 \
		--progress plain "$@" >out.txt 2>err.txt &
	PID=$!
	start_watchdog "$PID"
	echo "chaos: started pond (pid $PID) $*"
}

# wait_pond: waits for the run started by start_pond; sets RC.
wait_pond() {
	RC=0
	wait "$PID" || RC=$?
	wait "$WATCHDOG" 2>/dev/null || true
	echo "chaos: pond (pid $PID) exited $RC"
	if [ -e hung ]; then
		tail -n 40 err.txt >&2
		fail "pond hung: the watchdog killed it after 120 s"
	fi
}

# run_pond ARGS...: start_pond + wait_pond.
run_pond() {
	start_pond "$@"
	wait_pond
}

# On the way out of a test (pass or fail): nothing of ours may keep running.
# Killing the driver by pid is enough: workers and task children die with
# their parent (PR_SET_PDEATHSIG), stopped ones too (SIGKILL).
kill_leftovers() {
	local p
	for p in ${STOPPED:-}; do kill -CONT "$p" 2>/dev/null || true; done
	[ -z "${PID:-}" ] || kill -9 "$PID" 2>/dev/null || true
}

workers() { pgrep -P "$PID" || true; }

task_children() {
	local w
	for w in $(workers); do pgrep -P "$w" || true; done
}

# alive PID: running (a zombie is dead).
alive() {
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $s != Z* ]]
}

# first_worker: once the driver has forked its 3 workers, the lowest pid
# (worker 0, which gets the first task).
first_worker() {
	local ws
	for _ in $(seq 1000); do
		ws=$(workers | sort -n)
		if [ "$(printf '%s\n' "$ws" | grep -c .)" -ge 3 ]; then
			printf '%s\n' "$ws" | head -n 1
			return 0
		fi
		sleep 0.01
	done
	fail "the driver did not start 3 workers"
}

commits() {
	local n
	n=$(grep -c '"event":"commit"' "$T/jd/journal.jsonl" 2>/dev/null) || true
	echo "${n:-0}"
}

# ---- invariants ----------------------------------------------------------------

# No pond process of this test is left (workers, task children).
assert_no_processes() {
	local left=
	for _ in $(seq 50); do
		left=$(pgrep -f -- "OUT=$T/out" || true)
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	fail "pond processes left behind: $(ps -o pid,ppid,stat,args -p "$(echo $left | tr ' ' ,)")"
}

# No attempt or spill directory, no staging/publish dir.
assert_no_attempts() {
	if [ -d jd/tmp ]; then
		assert_empty "attempt/spill dirs left in the job dir's tmp/" "$(find jd/tmp -mindepth 1 | head -n 20)"
	fi
	assert_empty "staging, attempt or publish dirs left in the output dir" \
		"$(find "$T/out" \( -name .attempts -o -name '*.pond-staging*' -o -name .publish -o -name .previous \) | head -n 20)"
}

# After a run that succeeded: identical output, clean job and output dirs.
check_success() {
	if [ "$RC" != 0 ]; then
		grep -v '^pond: \[' err.txt | tail -n 40 >&2
		fail "pond exited $RC, expected 0"
	fi
	assert_same "output files and their sha256 vs the fault-free run" "$(tree_digest "$T/out")" "$(cat "$CH/ref.digest")"
	assert_no_attempts
	assert_same "last journal line" "$(tail -n 1 jd/journal.jsonl | sed 's/.*"event":"\([a-z]*\)".*/\1/')" "done"
	assert_no_processes
}

# After a run that failed: exit 1 with a message, nothing published.
check_failed() {
	local d
	if [ "$RC" != 1 ]; then
		grep -v '^pond: \[' err.txt | tail -n 40 >&2
		fail "pond exited $RC, expected 1"
	fi
	assert_matches "the failure is explained" err.txt "task s[0-9]+-[a-z]+-t[0-9]+ failed \\([a-zA-Z/]+ error( after [0-9]+ attempts|, not retried[^)]*)?\\)"
	assert_empty "_SUCCESS after a failed run" "$(find "$T/out" -name _SUCCESS 2>/dev/null)"
	for d in joined sorted shuffled; do
		assert_not_published "$T/out/$d"
	done
	assert_no_processes
}

# The run just finished either succeeded (check it) or failed properly
# (check that, then --resume must finish the job with the same output).
check_success_or_resume() {
	if [ "$RC" = 0 ]; then
		check_success
		return
	fi
	check_failed
	echo "chaos: the run failed (allowed); resuming"
	run_pond --resume
	check_success
}

# ---- the tests -------------------------------------------------------------------

# The reference itself is right (so that "same as the reference" means
# something): the join+aggregate equals DuckDB's, the sorted output is in
# global order, every output holds every input row once.
test_reference_matches_duckdb() {
	local ref=$CH/ref/out
	# (sums of doubles rounded: the oracle adds them in another order)
	assert_same "joined vs DuckDB" "$(q "SELECT k, name, grp, n, round(s, 4), first_sk FROM $(parts "$ref/joined") ORDER BY k")" \
		"$(q "SELECT a.k, d.name, d.grp, count(*) AS n, round(sum(a.v), 4) AS s, min(a.sk) AS first_sk
		      FROM read_parquet($(sql_str "$CH/in/*.parquet")) a JOIN $(sql_str "$CH/dim.parquet") d USING (k)
		      GROUP BY ALL ORDER BY a.k")"
	assert_same "sorted: global order across part files" \
		"$(q "SELECT count(*), bool_and(ok) FROM (
		        SELECT (sk, id) >= lag((sk, id)) OVER (ORDER BY filename, file_row_number) IS NOT FALSE AS ok
		        FROM read_parquet($(sql_str "$ref/sorted/*.parquet"), filename=true, file_row_number=true))")" \
		"$(q "SELECT count(*), true FROM read_parquet($(sql_str "$CH/in/*.parquet"))")"
	assert_same "shuffled: every row once" \
		"$(q "SELECT count(*), count(DISTINCT id), sum(id) FROM $(parts "$ref/shuffled")")" \
		"$(q "SELECT count(*), count(DISTINCT id), sum(id) FROM read_parquet($(sql_str "$CH/in/*.parquet"))")"
	[ "$(part_count "$ref/sorted")" -ge 2 ] || fail "the sort wrote fewer than 2 files"
}

# chaos_kills N LABEL: N times, after a random 0.1-0.6 s, SIGKILLs a random
# worker or task child of the running pond. Appends each killed worker
# that the driver must report (killed while tasks were left) to
# "reported", and counts kills in "killed".
chaos_kills() {
	local n=$1 label=$2 k v role victims in_loop
	for ((k = 0; k < n; k++)); do
		sleep "0.$((RANDOM % 6 + 1))"
		alive "$PID" || break
		mapfile -t victims < <(workers; task_children)
		[ ${#victims[@]} -gt 0 ] || continue
		v=${victims[RANDOM % ${#victims[@]}]}
		role="task child"
		[ "$(ps -o ppid= -p "$v" 2>/dev/null | tr -d ' ')" != "$PID" ] || role=worker
		in_loop=$(($(commits) < NTASKS - 1))
		if kill -9 "$v" 2>/dev/null; then
			echo "chaos: $label: SIGKILL $role $v (commits so far: $(commits)/$NTASKS)"
			echo "$v" >>killed
			[ "$role" != worker ] || [ "$in_loop" != 1 ] || echo "$v" >>reported
		fi
	done
}

# Every worker in "reported" is named in err.txt as dead.
assert_losses_reported() {
	local v
	for v in $(cat reported 2>/dev/null); do
		assert_matches "the loss of worker $v is reported" err.txt "worker [0-9]+ \\(pid $v\\) died"
	done
	: >reported
}

# (a) Random SIGKILLs of workers and task children, four runs of four. A
# killed worker is replaced and its task re-run without counting an
# attempt; a killed task child costs one attempt (--max-attempts 5 keeps
# the job alive; if it still fails, it must fail cleanly and --resume
# finish it).
test_random_kills() {
	trap kill_leftovers EXIT
	local run
	for run in 1 2 3 4; do
		RANDOM=$((CHAOS_SEED + run))
		rm -rf out jd
		start_pond --max-attempts 5
		chaos_kills 4 "run $run"
		wait_pond
		grep -v '^pond: \[' err.txt | sed 's/^/    err: /' | head -n 20
		assert_losses_reported
		check_success_or_resume
	done
	[ -s killed ] || fail "the harness killed nothing"
}

# Everything at once, twice: --inject-faults, --speculate and
# --task-timeout on, a worker SIGSTOPped, random SIGKILLs. Round 1 SIGCONTs
# the worker after the kills; in round 2 the driver is SIGKILLed too (with
# the worker still stopped) and --resume, under faults and kills again,
# must finish the job.
test_everything_at_once() {
	trap kill_leftovers EXIT
	local round w flags
	for round in 1 2; do
		RANDOM=$((CHAOS_SEED + 10 + round))
		rm -rf out jd
		flags=(--speculate --task-timeout 30 --max-attempts 6)
		start_pond --inject-faults "0.1,$((CHAOS_SEED % 1000 + round))" "${flags[@]}"
		w=$(first_worker)
		kill -STOP "$w"
		STOPPED=$w
		echo "chaos: round $round: SIGSTOP worker $w"
		if [ "$round" = 1 ]; then
			chaos_kills 3 "round $round"
			kill -CONT "$w" 2>/dev/null || true
			echo "chaos: round $round: SIGCONT worker $w"
		else
			for _ in $(seq 1000); do
				[ "$(commits)" -lt 8 ] && alive "$PID" || break
				sleep 0.02
			done
			chaos_kills 1 "round $round"
			if alive "$PID"; then
				echo "chaos: round $round: SIGKILL driver $PID after $(commits) commits"
				kill -9 "$PID"
				wait_pond
				[ "$RC" = 137 ] || fail "the driver exited $RC after SIGKILL"
				assert_empty "_SUCCESS after the driver was killed" "$(find "$T/out" -name _SUCCESS 2>/dev/null)"
				: >reported
				start_pond --resume --inject-faults "0.1,$((CHAOS_SEED % 1000 + 7))" "${flags[@]}"
				chaos_kills 2 "round $round, resumed"
			fi
		fi
		wait_pond
		grep -v '^pond: \[' err.txt | sed 's/^/    err: /' | head -n 20
		assert_losses_reported
		check_success_or_resume
	done
}

# (b) A worker SIGSTOPped for good (right after it is forked, so it holds a
# task): the driver hears no heartbeat for 10 s, says so, kills and
# replaces it, and re-runs its task.
test_stopped_worker_replaced() {
	trap kill_leftovers EXIT
	local w
	start_pond
	w=$(first_worker)
	kill -STOP "$w"
	STOPPED=$w
	echo "chaos: SIGSTOP worker $w"
	wait_pond
	check_success
	assert_matches "the silent worker is named" err.txt "worker [0-9]+ \\(pid $w\\) sent no heartbeat for 1[0-9] s; its task will run again"
	! alive "$w" || fail "the stopped worker $w was not killed"
	assert_matches "events.jsonl records the lost attempt" jd/events.jsonl '"error":"sent no heartbeat[^"]*","class":5'
}

# (c) --inject-faults 0.2,SEED: seeded crashes at start, mid-query, after
# writing before commit, after commit before reporting. Whatever the seed,
# the output is the reference's (or the job fails cleanly and --resume,
# without faults, finishes it).
test_inject_faults() {
	trap kill_leftovers EXIT
	local seed
	for seed in 1 2 3; do
		rm -rf out jd
		run_pond --inject-faults "0.2,$seed"
		echo "chaos: seed $seed: $(grep -c '"event":"fail"' jd/journal.jsonl) failed attempts, $(tail -n 1 err.txt)"
		assert_matches "faults were injected (seed $seed)" jd/journal.jsonl '"event":"fail"'
		grep -q 'injected fault' jd/log/*.stderr || fail "no injected fault in the task logs"
		check_success_or_resume
	done
}

# A run that fails (every injected fault is final with --max-attempts 1)
# publishes nothing; --resume without faults keeps its commits and
# finishes with the reference's output.
test_failed_run_then_resume() {
	trap kill_leftovers EXIT
	run_pond --inject-faults 0.3,7 --max-attempts 1
	check_failed
	assert_matches "a task and its step are named" err.txt "job.pond:[0-9]+[^ ]* [a-z_]+.*: task s[0-9]+-[a-z]+-t[0-9]+ failed"
	run_pond --resume
	check_success
	assert_matches "the resumed run skips committed tasks" err.txt "\\([1-9][0-9]* already committed\\)"
}

# (d) The driver is SIGKILLed mid-run: its workers and task children die
# with it, nothing is published; --resume re-runs only what the journal
# does not show committed and gives the reference's output.
test_driver_killed_then_resume() {
	trap kill_leftovers EXIT
	local procs p c n1 before skipped
	start_pond
	for _ in $(seq 600); do
		c=$(commits)
		[ "$c" -lt 10 ] || break
		sleep 0.02
	done
	[ "$c" -ge 10 ] || fail "fewer than 10 commits after 12 s"
	procs="$(workers) $(task_children)"
	kill -9 "$PID"
	echo "chaos: SIGKILL driver $PID after $c commits; its processes: $procs"
	wait_pond
	[ "$RC" = 137 ] || fail "the driver exited $RC after SIGKILL"
	for p in $procs; do
		for _ in $(seq 50); do alive "$p" || break; sleep 0.1; done
		! alive "$p" || fail "process $p outlived the killed driver"
	done
	assert_empty "_SUCCESS after the driver was killed" "$(find "$T/out" -name _SUCCESS 2>/dev/null)"
	n1=$(wc -l <jd/journal.jsonl)
	before=$(head -n "$n1" jd/journal.jsonl | grep '"event":"commit"' | sed 's/.*"task":"\([^"]*\)".*/\1/' | sort -u)
	run_pond --resume
	check_success
	skipped=$(sed -n 's/.*(\([0-9]*\) already committed).*/\1/p' err.txt)
	[ -n "$skipped" ] && [ "$skipped" -ge "$c" ] ||
		fail "the summary should count at least $c already committed tasks: $(tail -n 1 err.txt)"
	# no task committed before the kill was started again
	for p in $before; do
		! tail -n +"$((n1 + 1))" jd/journal.jsonl | grep -q "\"event\":\"start\".*\"task\":\"$p\"" ||
			fail "committed task $p ran again after --resume"
	done
}

# --speculate: worker 0 is SIGSTOPped (holding its first task) until the
# driver starts a second attempt of that task elsewhere, then SIGCONTed
# (before the heartbeat timeout). The first commit wins; the output is
# the reference's.
test_speculate_with_stopped_worker() {
	trap kill_leftovers EXIT
	local w
	start_pond --speculate
	w=$(first_worker)
	kill -STOP "$w"
	STOPPED=$w
	echo "chaos: SIGSTOP worker $w"
	for _ in $(seq 80); do
		! grep -q 'is a straggler' err.txt || break
		sleep 0.1
	done
	sleep 0.5
	kill -CONT "$w"
	echo "chaos: SIGCONT worker $w"
	wait_pond
	check_success
	assert_matches "a second attempt was started" err.txt "task s[0-9]+-[a-z]+-t[0-9]+ is a straggler; starting a second attempt"
	assert_not_contains "the worker was not declared lost" err.txt "sent no heartbeat"
}

# --task-timeout: a task child SIGSTOPped mid-job hangs its task (its
# worker still sends heartbeats). Past the timeout the driver cancels it:
# the worker kills the child, the attempt fails with class timeout, the
# task is retried elsewhere, and the job succeeds.
test_task_timeout_cancels_hung_task() {
	trap kill_leftovers EXIT
	local g=
	start_pond --task-timeout 4
	sleep 0.5
	for _ in $(seq 500); do
		g=$(task_children | head -n 1)
		[ -z "$g" ] || break
		sleep 0.01
	done
	[ -n "$g" ] || fail "no task child found"
	kill -STOP "$g"
	STOPPED=$g
	echo "chaos: SIGSTOP task child $g"
	wait_pond
	check_success
	assert_matches "journal has a timeout line" jd/journal.jsonl '"event":"timeout"'
	assert_matches "the timed-out attempt failed with class timeout" jd/journal.jsonl '"event":"fail".*"class":"timeout"'
	assert_contains "stderr says it was cancelled" err.txt "cancelled by the driver"
	! alive "$g" || fail "the hung task child $g was not killed"
}

run_test reference_matches_duckdb test_reference_matches_duckdb
run_test random_sigkill_of_workers_and_task_children test_random_kills
run_test stopped_worker_replaced_after_heartbeat_timeout test_stopped_worker_replaced
run_test inject_faults_three_seeds test_inject_faults
run_test failed_run_publishes_nothing_then_resume test_failed_run_then_resume
run_test driver_sigkilled_then_resume test_driver_killed_then_resume
run_test speculate_with_stopped_worker test_speculate_with_stopped_worker
run_test task_timeout_cancels_hung_task test_task_timeout_cancels_hung_task
run_test everything_at_once test_everything_at_once
finish_tests
