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
#   - stops a worker past the 10 s heartbeat timeout,
#   - passes --inject-faults 0.2,SEED for a few seeds,
#   - SIGKILLs the driver mid-run and finishes the job with --resume,
#   - stops a worker under --speculate until its task's twin commits,
#   - stops a task child under --task-timeout,
#   - and all of it at once (twice; the second time the driver dies too).
# After every successful run: the same files with the same hashes as the
# fault-free run, no attempt/spill dirs (job dir tmp/ gone or empty), no
# .attempts/.publish/.pond-staging left in the output dir, no pond process
# left. After a failed run: exit 1, no _SUCCESS and no part file in any
# output, no process left; then --resume must finish with the same hashes.
#
# The random choices come from CHAOS_SEED (printed; default: the time).
# About 2 minutes on 2 cores. Processes are found by parent pid and
# signalled by pid, or stop themselves at a named test point
# (POND_TEST_STOP_AT, src/util/testpoint.h); a watchdog kills a pond run
# that hangs (HANG_GUARD, lib.sh). Nothing here waits for a time: the
# random pauses between kills are the chaos, and every outcome they can
# lead to is checked.
source "$(dirname "$0")/../e2e/lib.sh"

CHAOS_SEED=${CHAOS_SEED:-$(date +%s)}
echo "chaos: CHAOS_SEED=$CHAOS_SEED"
# rows per input file: fewer in a sanitizer build, where every process
# runs ~3x slower, so that a run lasts about as long as in a normal build
# and the kills land at the same stages
CHAOS_ROWS=${CHAOS_ROWS:-200000}

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
		        FROM range($f * $CHAOS_ROWS, ($f + 1) * $CHAOS_ROWS) t(i)) TO $(sql_str "$CH/in/f$f.parquet")" >/dev/null
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
# A watchdog SIGKILLs it after HANG_GUARD s and leaves a file "hung".
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
		fail "pond hung: the watchdog killed it after $HANG_GUARD s"
	fi
}

# run_pond ARGS...: start_pond + wait_pond.
run_pond() {
	start_pond "$@"
	wait_pond
}

# On the way out of a test (pass or fail): nothing of ours may keep running.
# Killing the driver by pid is enough: workers and task children die with
# their parent (PR_SET_PDEATHSIG), stopped ones too (SIGKILL). Only while
# it is this shell's un-reaped child: once reaped, its pid may be another
# process's (pids wrap around, at 32768 here).
kill_leftovers() {
	if [ -n "${PID:-}" ] && jobs -p | grep -qx "$PID"; then
		kill -9 "$PID" 2>/dev/null || true
	fi
}

# by name: the driver's plan-time DuckDB (pond-plandb) is its child too,
# planning beside the workers it forked first
workers() { pgrep -P "$PID" -x pond-worker || true; }

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
dead() { ! alive "$1"; }

# three_workers: the driver has forked its 3 workers (or has ended). Its
# only child before them is its plan-time DuckDB, which it has reaped.
three_workers() { [ "$(workers | grep -c .)" -ge 3 ] || ! alive "$PID"; }

# first_worker: once the driver has forked its 3 workers, the lowest pid
# (worker 0, which gets the first task).
first_worker() {
	wait_until "the driver's 3 workers" three_workers
	alive "$PID" || fail "pond ended before it started 3 workers"
	workers | sort -n | head -n 1
}

commits() {
	local n
	n=$(grep -c '"event":"commit"' "$T/jd/journal.jsonl" 2>/dev/null) || true
	echo "${n:-0}"
}

# heartbeat_silence_at_least PID S: err.txt says worker PID sent no
# heartbeat for S s or more (the driver notices at its next turn, so the
# number printed may be higher, never lower).
heartbeat_silence_at_least() {
	local secs
	secs=$(sed -n "s/.*worker [0-9]* (pid $1) sent no heartbeat for \([0-9]*\) s; its task will run again.*/\1/p" err.txt | head -n 1)
	[ -n "$secs" ] || { cat err.txt >&2; fail "the silent worker $1 is not named"; }
	[ "$secs" -ge "$2" ] || fail "worker $1 was declared lost after $secs s of silence, before the $2 s timeout"
}

# ---- invariants ----------------------------------------------------------------

no_processes() { ! pgrep -f -- "OUT=$T/out" >/dev/null; }

# No pond process of this test is left (workers, task children): they
# end with the driver, which has exited; wait for the kernel to reap them.
assert_no_processes() {
	local left
	(wait_until "pond's processes to end" no_processes) || {
		left=$(pgrep -f -- "OUT=$T/out" | paste -sd,)
		fail "pond processes left behind: $(ps -o pid,ppid,stat,args -p "$left")"
	}
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

# chaos_kills N LABEL: once the driver has forked its workers, N times,
# after a random 0.1-0.6 s, SIGKILLs a random worker or task child of the
# running pond. (Not before: the driver's one child until then is its
# plan-time DuckDB, which is not a worker.) Appends each killed worker
# that the driver must report to "reported", and counts kills in
# "killed". The driver must report a worker killed while more tasks were
# left than the other two workers can hold: at least one of them is then
# dispatched after the kill, and the driver polls the dead worker's
# socket, at EOF, on each turn before that.
chaos_kills() {
	local n=$1 label=$2 k v role victims in_loop
	wait_until "the driver's 3 workers" three_workers
	for ((k = 0; k < n; k++)); do
		sleep "0.$((RANDOM % 6 + 1))"
		alive "$PID" || break
		mapfile -t victims < <(workers; task_children)
		[ ${#victims[@]} -gt 0 ] || continue
		v=${victims[RANDOM % ${#victims[@]}]}
		role="task child"
		[ "$(ps -o ppid= -p "$v" 2>/dev/null | tr -d ' ')" != "$PID" ] || role=worker
		in_loop=$(($(commits) < NTASKS - 3))
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
		# (killed just as its heartbeat timeout ran out, the worker may
		# be reported silent rather than dead: a loss all the same)
		assert_matches "the loss of worker $v is reported" err.txt \
			"worker [0-9]+ \\(pid $v\\) (died|sent no heartbeat)"
	done
	: >reported
}

# (a) Random SIGKILLs of workers and task children, four runs of four. A
# killed worker is replaced and its task re-run without counting an
# attempt; a killed task child costs one attempt (--max-attempts 5 keeps
# the job alive; if it still fails, it must fail cleanly and --resume
# finish it). One sink task waits until the kills are done
# (POND_TEST_WAIT), so that however fast the machine, the job is still
# running when they land.
test_random_kills() {
	trap kill_leftovers EXIT
	local run
	for run in 1 2 3 4; do
		RANDOM=$((CHAOS_SEED + run))
		rm -rf out jd go
		POND_TEST_WAIT="s06-sink-t00005:$T/go" start_pond --max-attempts 5
		chaos_kills 4 "run $run"
		touch go
		wait_pond
		grep -v '^pond: \[' err.txt | sed 's/^/    err: /' | head -n 20
		assert_losses_reported
		check_success_or_resume
	done
	[ -s killed ] || fail "the harness killed nothing"
}

# Everything at once, twice: --inject-faults, --speculate and
# --task-timeout on, a worker SIGSTOPped, random SIGKILLs. Round 1 SIGCONTs
# the worker after the kills; in round 2 the driver is SIGKILLed too (held
# at its 8th commit line, with the worker still stopped) and --resume,
# under faults and kills again, must finish the job. (If the faults fail
# the job before its 8th commit, the round checks that failure instead.)
held_or_ended() { [ -s "$T/held" ] || ! alive "$PID"; }

test_everything_at_once() {
	trap kill_leftovers EXIT
	local round w flags hold
	for round in 1 2; do
		RANDOM=$((CHAOS_SEED + 10 + round))
		rm -rf out jd "$T/held"
		flags=(--speculate --task-timeout 30 --max-attempts 6)
		hold=
		[ "$round" = 1 ] || hold=commit:8
		POND_TEST_STOP_AT=$hold POND_TEST_STOP_FILE=$T/held \
			start_pond --inject-faults "0.1,$((CHAOS_SEED % 1000 + round))" "${flags[@]}"
		w=$(first_worker)
		kill -STOP "$w"
		echo "chaos: round $round: SIGSTOP worker $w"
		if [ "$round" = 1 ]; then
			chaos_kills 3 "round $round"
			kill -CONT "$w" 2>/dev/null || true
			echo "chaos: round $round: SIGCONT worker $w"
		else
			wait_until "the driver held at its 8th commit" held_or_ended
			if [ -s "$T/held" ]; then
				wait_stopped "$T/held" >/dev/null
				chaos_kills 1 "round $round"
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

# (b) A worker stopped for good while it holds a task (it stops itself as
# it is sent the first attempt of the first task, POND_TEST_STOP_AT): the
# driver hears no heartbeat for 10 s (the real timeout), says so, kills and
# replaces it, and re-runs its task.
test_stopped_worker_replaced() {
	trap kill_leftovers EXIT
	local w
	POND_TEST_STOP_AT=worker-s00-shuffle-t00000.a1 POND_TEST_STOP_FILE=$T/stopped start_pond
	w=$(wait_stopped "$T/stopped" "$PID")
	echo "chaos: worker $w stopped holding s00-shuffle-t00000"
	wait_pond
	check_success
	heartbeat_silence_at_least "$w" 10
	! alive "$w" || fail "the stopped worker $w was not killed"
	assert_matches "events.jsonl records the lost attempt" jd/events.jsonl \
		'"task":"s00-shuffle-t00000","attempt":1,.*"error":"sent no heartbeat[^"]*","class":5'
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
# finishes with the reference's output. Seed 136 at 0.1 kills attempt 1
# of s02-sink-t00004 (mid-query), s05-shuffle-t00001 (before its commit),
# s06-sink-t00002 (after it) and s08-sink-t00003 (at start): all in stages
# that wait for others, so whichever dies first, the stage it waited for
# has committed, whatever the timing (a seed that also hits a first-stage
# task can fail the job before anything commits).
test_failed_run_then_resume() {
	trap kill_leftovers EXIT
	local c
	run_pond --inject-faults 0.1,136 --max-attempts 1
	check_failed
	assert_matches "a task is named at its script line" err.txt \
		"job\\.pond:[0-9]+[^ ]* [a-z_]+.*: task s0[2568]-[a-z]+-t[0-9]+ failed"
	c=$(grep '"event":"commit"' jd/journal.jsonl | sed 's/.*"task":"\([^"]*\)".*/\1/' | sort -u | wc -l)
	[ "$c" -ge 4 ] || fail "only $c tasks committed before the failure (seed 136 no longer spares the first stages?)"
	run_pond --resume
	check_success
	assert_matches "the resumed run skips every committed task" err.txt "\\($c already committed\\)"
}

# (d) The driver is SIGKILLed mid-run (held at its 10th commit line,
# POND_TEST_STOP_AT=commit:10, while its workers go on): its workers and
# task children die with it, nothing is published; --resume re-runs only
# what the journal does not show committed and gives the reference's
# output.
test_driver_killed_then_resume() {
	trap kill_leftovers EXIT
	local procs p c n1 before skipped
	POND_TEST_STOP_AT=commit:10 POND_TEST_STOP_FILE=$T/stopped start_pond
	p=$(wait_stopped "$T/stopped" "$PID")
	[ "$p" = "$PID" ] || fail "the process stopped ($p) is not the driver ($PID)"
	c=$(commits)
	[ "$c" -ge 10 ] || fail "the driver stopped at its 10th commit with $c commit lines in the journal"
	procs="$(workers) $(task_children)"
	kill -9 "$PID"
	echo "chaos: SIGKILL driver $PID after $c commits; its processes: $procs"
	wait_pond
	[ "$RC" = 137 ] || fail "the driver exited $RC after SIGKILL"
	for p in $procs; do
		(wait_until "process $p to die with the driver" dead "$p") || fail "process $p outlived the killed driver"
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

# --speculate: the worker sent the first attempt of s00-shuffle-t00000
# stops itself there (POND_TEST_STOP_AT) and stays stopped until the
# driver has started a second attempt of that task elsewhere and that
# twin has committed; then it is continued, and its own attempt is
# cancelled or discarded (the sinks that read the task's output wait
# for that, POND_TEST_WAIT, so that the job cannot end first). The
# output is the reference's. The straggler rule (3x its stage's median,
# over 2 s) is met however slow the machine, since the stopped attempt
# never ends; the heartbeat timeout is lifted (POND_TEST_HEARTBEAT_TIMEOUT)
# so that the stopped worker is not declared lost first, which on a
# loaded machine it could be.
straggler_said() { grep -q 's00-shuffle-t00000 is a straggler' err.txt || ! alive "$PID"; }
twin_committed() { grep -q '"event":"commit".*"task":"s00-shuffle-t00000"' jd/journal.jsonl || ! alive "$PID"; }
first_reported() { grep -q '"task":"s00-shuffle-t00000","attempt":1,' jd/events.jsonl || ! alive "$PID"; }

test_speculate_with_stopped_worker() {
	trap kill_leftovers EXIT
	local w first
	POND_TEST_STOP_AT=worker-s00-shuffle-t00000.a1 POND_TEST_STOP_FILE=$T/stopped POND_TEST_HEARTBEAT_TIMEOUT=3600 \
		POND_TEST_WAIT="s02-sink:$T/go" start_pond --speculate
	w=$(wait_stopped "$T/stopped" "$PID")
	echo "chaos: worker $w stopped holding s00-shuffle-t00000"
	wait_until "the straggler's second attempt" straggler_said
	wait_until "the second attempt's commit" twin_committed
	alive "$PID" || { cat err.txt >&2; fail "pond ended with a worker stopped"; }
	kill -CONT "$w"
	echo "chaos: SIGCONT worker $w"
	wait_until "the first attempt's end" first_reported
	touch go
	wait_pond
	check_success
	assert_matches "a second attempt was started" err.txt "task s00-shuffle-t00000 is a straggler; starting a second attempt"
	assert_matches "the twin (attempt 2) committed" jd/journal.jsonl '"event":"commit".*"task":"s00-shuffle-t00000","attempt":2,'
	first=$(grep '"task":"s00-shuffle-t00000","attempt":1,' jd/events.jsonl)
	[[ $first == *'"class":4,'* || $first == *'"duplicate":true'* ]] ||
		fail "the first attempt was neither cancelled nor discarded: $first"
	assert_not_contains "the worker was not declared lost" err.txt "sent no heartbeat"
}

# --task-timeout: a task child stopped mid-job hangs its task (its worker
# still sends heartbeats): the one running attempt 1 of s00-shuffle-t00001
# stops itself as it starts it (POND_TEST_STOP_AT). Past the timeout the
# driver cancels it: the worker kills the child, the attempt fails with
# class timeout, the task is retried, and the job succeeds. The timeout
# applies to that attempt only (POND_TEST_TIMEOUT_ATTEMPTS): on a loaded
# machine an honest attempt, the retry too, can run longer than any
# timeout a test can wait for.
test_task_timeout_cancels_hung_task() {
	trap kill_leftovers EXIT
	local g
	POND_TEST_STOP_AT=child-s00-shuffle-t00001.a1 POND_TEST_STOP_FILE=$T/stopped \
		POND_TEST_TIMEOUT_ATTEMPTS=s00-shuffle-t00001.a1 start_pond --task-timeout 2
	g=$(wait_stopped "$T/stopped" "$PID")
	echo "chaos: task child $g stopped running s00-shuffle-t00001"
	wait_pond
	check_success
	assert_matches "journal has a timeout line" jd/journal.jsonl '"event":"timeout".*"task":"s00-shuffle-t00001","attempt":1'
	assert_matches "the timed-out attempt failed with class timeout" jd/journal.jsonl \
		'"event":"fail".*"task":"s00-shuffle-t00001","attempt":1,"class":"timeout"'
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
