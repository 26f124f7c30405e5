#!/usr/bin/env bash
# mpi_faults.sh — faults under `mpirun -n 4` on one host (rank 0 schedules,
# ranks 1-3 run tasks; docs/FAULTS.md):
#   - a worker rank SIGKILLed mid-run (rank 0 held at its 6th commit line,
#     so the job cannot go on) ends the whole MPI job (MPI cannot
#     replace a rank); nothing is published, no process is left, and
#     `mpirun … pond run --resume` finishes with output byte-identical to a
#     local run's;
#   - a worker rank stopped mid-run, holding a task (it stops itself as it
#     is sent the task, POND_TEST_STOP_AT), is declared lost after the 10 s
#     heartbeat timeout, abandoned (not killed: pond cannot kill a remote
#     rank), and its task re-run on another rank; the output is published
#     and identical. mpirun itself exits only once the rank is continued
#     (MPI_Finalize waits for every rank), which the test then does.
# Every wait is for a state (a journal line, a stopped or ended process);
# HANG_GUARD (lib.sh) only catches a hang. Skipped (exit 77) without mpirun.
source "$(dirname "$0")/../e2e/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
command -v mpirun >/dev/null || { echo "SKIP: no mpirun"; exit 77; }
# loopback only, for MPI's messages and Open MPI's own bootstrap (oob):
# not an interface another test makes and removes (mpi_netns's bridge);
# pml ob1: what Open MPI picks here anyway; named, MPI_Init skips probing UCX
MPIRUN=(mpirun -n 4 --oversubscribe --mca pml ob1 --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

make_job() {
	mkdir -p in
	local f
	for f in 0 1 2 3; do
		q "COPY (SELECT i AS id, 'k' || (hash(i) % 2000) AS k, md5(i::VARCHAR) AS sk
		        FROM range($f * 150000, ($f + 1) * 150000) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
	cat >job.pond <<'P'
src = read_parquet('in/*.parquet')
agg = partial_sql('SELECT k, count(*) AS n, min(sk) AS lo FROM {0} GROUP BY k ORDER BY k', src.repartition(6, hash_by='k'))
agg.write_parquet('${OUT}/agg')
src.repartition(6, range_by='sk').partial_sort('sk').write_parquet('${OUT}/sorted')
P
	pond_ok job.pond -D OUT=ref --job-dir jref -w 3 --threads 1
}

# start_mpi ARGS...: mpirun … pond run job.pond ARGS in the background
# (stdout mo.txt, stderr me.txt); MPID = mpirun's pid. The POND_TEST_*
# hooks set go to every rank. A watchdog kills mpirun after HANG_GUARD s
# (file "hung").
start_mpi() {
	local v x=()
	for v in POND_TEST_STOP_AT POND_TEST_STOP_FILE; do
		[ -z "${!v:-}" ] || x+=(-x "$v")
	done
	"${MPIRUN[@]}" "${x[@]}" "$POND" run job.pond -D OUT=out --job-dir jd --threads 1 --progress plain "$@" \
		>mo.txt 2>me.txt &
	MPID=$!
	start_watchdog "$MPID"
}

wait_mpi() {
	RC=0
	wait "$MPID" || RC=$?
	wait "$WATCHDOG" 2>/dev/null || true
	[ ! -e hung ] || { tail -n 30 me.txt >&2; fail "mpirun hung: killed after $HANG_GUARD s"; }
}

# rank_of PID: the MPI rank of process PID.
rank_of() {
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p'
}

# rank_pid N: the pid of MPI rank N (a child of mpirun), once it runs.
find_rank() {
	local p
	for p in $(pgrep -P "$MPID" || true); do
		[ "$(rank_of "$p")" != "$1" ] || { echo "$p"; return 0; }
	done
	return 1
}
rank_pid() { wait_until "MPI rank $1" find_rank "$1"; }

journal_has() { # PATTERN MIN: journal.jsonl has MIN lines matching
	local n
	n=$(grep -c -- "$1" jd/journal.jsonl 2>/dev/null) || true
	[ "${n:-0}" -ge "$2" ] && return 0
	kill -0 "$MPID" 2>/dev/null || fail "mpirun ended early: $(tail -n 5 me.txt)"
	return 1
}
wait_journal() { wait_until "$2 journal lines with $1" journal_has "$@"; }

# no_ranks_left: no pond process of this test runs any more.
no_ranks_left() { ! pgrep -f -- "$POND run job.pond -D OUT=out" >/dev/null; }

# On the way out of a test: a stopped rank is continued (killing mpirun
# would leave it stopped) and mpirun killed, only while mpirun is this
# shell's un-reaped child (after that, the pids may be other processes').
cleanup_mpi() {
	[ -n "${MPID:-}" ] && jobs -p | grep -qx "$MPID" || return 0
	[ -z "${STOPPED:-}" ] || kill -CONT "$STOPPED" 2>/dev/null || true
	kill -9 "$MPID" 2>/dev/null || true
}

test_rank_killed_then_resume() {
	trap cleanup_mpi EXIT
	local r r0
	make_job
	POND_TEST_STOP_AT=commit:6 POND_TEST_STOP_FILE=$T/stopped start_mpi
	r0=$(wait_stopped "$T/stopped" "$MPID")
	STOPPED=$r0
	[ "$(rank_of "$r0")" = 0 ] || fail "the process stopped at the 6th commit (pid $r0) is not rank 0"
	r=$(rank_pid 2)
	kill -9 "$r"
	echo "SIGKILL rank 2 (pid $r) after $(grep -c '"event":"commit"' jd/journal.jsonl) commits"
	# rank 0 stays stopped: mpirun, seeing rank 2 die, ends every rank (a
	# stopped one too), so the job cannot go on to publish
	wait_mpi
	STOPPED=
	[ "$RC" != 0 ] || fail "mpirun exited 0 after a rank was killed"
	assert_empty "_SUCCESS after the MPI job died" "$(find out -name _SUCCESS 2>/dev/null)"
	(wait_until "every rank to end" no_ranks_left) ||
		fail "processes left: $(pgrep -f -- "$POND run job.pond -D OUT=out" | paste -sd' ')"
	start_mpi --resume
	wait_mpi
	[ "$RC" = 0 ] || { tail -n 30 me.txt >&2; fail "mpirun --resume exited $RC"; }
	assert_matches "the resumed run skips committed tasks" me.txt "\\([1-9][0-9]* already committed\\)"
	assert_same "output vs a local run" "$(tree_digest out)" "$(tree_digest ref)"
}

test_rank_stopped_is_abandoned() {
	trap cleanup_mpi EXIT
	local r n secs
	make_job
	POND_TEST_STOP_AT=worker-s00-shuffle-t00001.a1 POND_TEST_STOP_FILE=$T/stopped start_mpi
	r=$(wait_stopped "$T/stopped" "$MPID")
	STOPPED=$r
	n=$(rank_of "$r")
	echo "rank $n (pid $r) stopped holding s00-shuffle-t00001"
	wait_journal '"event":"done"' 1
	# the driver notices at its next turn: the silence it prints may be
	# longer than the 10 s timeout, never shorter
	secs=$(sed -n "s/.*rank $n on [^ ]* sent no heartbeat for \([0-9]*\) s.*/\1/p" me.txt | head -n 1)
	[ -n "$secs" ] || { cat me.txt >&2; fail "the silent rank $n is not named"; }
	[ "$secs" -ge 10 ] || fail "rank $n was declared lost after $secs s, before the 10 s timeout"
	assert_contains "and not replaced" me.txt "MPI cannot replace a rank"
	assert_same "output vs a local run" "$(tree_digest out)" "$(tree_digest ref)"
	kill -CONT "$r"
	STOPPED=
	wait_mpi
	[ "$RC" = 0 ] || { tail -n 30 me.txt >&2; fail "mpirun exited $RC"; }
}

run_test mpi_rank_sigkilled_then_resume test_rank_killed_then_resume
run_test mpi_rank_sigstopped_is_abandoned test_rank_stopped_is_abandoned
finish_tests
