#!/usr/bin/env bash
# mpi_faults.sh — faults under `mpirun -n 4` on one host (rank 0 schedules,
# ranks 1-3 run tasks; docs/FAULTS.md):
#   - a worker rank SIGKILLed mid-run ends the whole MPI job (MPI cannot
#     replace a rank); nothing is published, no process is left, and
#     `mpirun … pond run --resume` finishes with output byte-identical to a
#     local run's;
#   - a worker rank SIGSTOPped mid-run is declared lost after the 10 s
#     heartbeat timeout, abandoned (not killed: pond cannot kill a remote
#     rank), and its task re-run on another rank; the output is published
#     and identical. mpirun itself exits only once the rank is continued
#     (MPI_Finalize waits for every rank), which the test then does.
# Skipped (exit 77) without mpirun.
source "$(dirname "$0")/../e2e/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
command -v mpirun >/dev/null || { echo "SKIP: no mpirun"; exit 77; }
MPIRUN=(mpirun -n 4 --oversubscribe --mca btl self,vader,tcp --mca btl_tcp_if_include lo)

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
# (stdout mo.txt, stderr me.txt); MPID = mpirun's pid. A watchdog kills
# mpirun after 120 s (file "hung").
start_mpi() {
	"${MPIRUN[@]}" "$POND" run job.pond -D OUT=out --job-dir jd --threads 1 --progress plain "$@" >mo.txt 2>me.txt &
	MPID=$!
	start_watchdog "$MPID"
}

wait_mpi() {
	RC=0
	wait "$MPID" || RC=$?
	wait "$WATCHDOG" 2>/dev/null || true
	[ ! -e hung ] || { tail -n 30 me.txt >&2; fail "mpirun hung: killed after 120 s"; }
}

# rank_pid N: the pid of MPI rank N (a child of mpirun).
rank_pid() {
	local p
	for _ in $(seq 500); do
		for p in $(pgrep -P "$MPID" || true); do
			if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
				echo "$p"
				return 0
			fi
		done
		sleep 0.02
	done
	fail "rank $1 not found"
}

wait_journal() { # PATTERN MIN: until journal.jsonl has MIN lines matching
	local n
	for _ in $(seq 1500); do
		n=$(grep -c -- "$1" jd/journal.jsonl 2>/dev/null) || true
		[ "${n:-0}" -lt "$2" ] || return 0
		kill -0 "$MPID" 2>/dev/null || fail "mpirun ended early: $(tail -n 5 me.txt)"
		sleep 0.02
	done
	fail "journal.jsonl never had $2 lines with $1"
}

cleanup_mpi() {
	[ -z "${STOPPED:-}" ] || kill -CONT "$STOPPED" 2>/dev/null || true
	[ -z "${MPID:-}" ] || kill -9 "$MPID" 2>/dev/null || true
}

test_rank_killed_then_resume() {
	trap cleanup_mpi EXIT
	local r
	make_job
	start_mpi
	wait_journal '"event":"commit"' 6
	r=$(rank_pid 2)
	kill -9 "$r"
	echo "SIGKILL rank 2 (pid $r) after $(grep -c '"event":"commit"' jd/journal.jsonl) commits"
	wait_mpi
	[ "$RC" != 0 ] || fail "mpirun exited 0 after a rank was killed"
	assert_empty "_SUCCESS after the MPI job died" "$(find out -name _SUCCESS 2>/dev/null)"
	sleep 1
	assert_empty "processes left" "$(pgrep -f -- "$POND run job.pond -D OUT=out" || true)"
	start_mpi --resume
	wait_mpi
	[ "$RC" = 0 ] || { tail -n 30 me.txt >&2; fail "mpirun --resume exited $RC"; }
	assert_matches "the resumed run skips committed tasks" me.txt "\\([1-9][0-9]* already committed\\)"
	assert_same "output vs a local run" "$(tree_digest out)" "$(tree_digest ref)"
}

test_rank_stopped_is_abandoned() {
	trap cleanup_mpi EXIT
	local r
	make_job
	start_mpi
	wait_journal '"event":"start"' 3
	r=$(rank_pid 1)
	kill -STOP "$r"
	STOPPED=$r
	echo "SIGSTOP rank 1 (pid $r)"
	wait_journal '"event":"done"' 1
	assert_matches "the silent rank is named" me.txt "rank 1 on [^ ]+ sent no heartbeat for 1[0-9] s"
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
