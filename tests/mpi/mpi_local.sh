#!/usr/bin/env bash
# mpi_local.sh — pond under `mpirun -n 3 --oversubscribe` on one host:
# rank 0 schedules, ranks 1-2 run tasks, and every output file is
# byte-identical to a local run with -w 2 of the same script; a crashing
# task is retried on a worker rank without an MPI abort; script errors
# exit 2 on every rank without a hang.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_mpi.sh"
# loopback only, for MPI's messages and Open MPI's own bootstrap (oob):
# not an interface another test makes and removes (mpi_netns's bridge);
# pml ob1: what Open MPI picks here anyway; named, MPI_Init skips probing UCX
MPIRUN=(mpirun -n 3 --oversubscribe --mca pml ob1 --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

test_mpi_output_identical_to_local() {
	gen_inputs
	pond_ok job.pond -w 2 -D OUT=local --job-dir jl
	mv out.txt local.txt
	timeout "$HANG_GUARD" "${MPIRUN[@]}" "$POND" run job.pond -D OUT=mpi --job-dir jm --progress none >mpi.txt 2>mpierr.txt ||
		{ rc=$?; cat mpierr.txt; fail "mpirun exited $rc"; }
	assert_same "count() printed by rank 0" "$(cat mpi.txt)" "$(cat local.txt)"
	for d in joined sorted shuffled csv; do
		assert_published "mpi/$d"
	done
	assert_same_outputs local mpi
	check_against_oracle mpi
}

test_mpi_crashing_task_is_retried() {
	gen_inputs
	POND_TEST_CRASH=shuffle-t00001 timeout "$HANG_GUARD" "${MPIRUN[@]}" -x POND_TEST_CRASH "$POND" run job.pond -D OUT=mpi \
		--job-dir jm --progress plain >mpi.txt 2>err.txt || { cat err.txt; fail "mpirun failed"; }
	assert_contains "retry reported with the crash's stderr" err.txt "crashing on purpose"
	assert_published mpi/joined
	assert_same "rows after retry" "$(q "SELECT count(*) FROM $(parts mpi/sorted)")" \
		"$(q "SELECT count(*) FROM read_parquet('in/*.parquet')")"
}

test_mpi_script_error_exits_2_everywhere() {
	echo "x = read_parquet('nope/*.parquet'" > bad.pond
	set +e
	timeout "$HANG_GUARD" "${MPIRUN[@]}" "$POND" run bad.pond >o.txt 2>e.txt
	rc=$?
	set -e
	[ $rc -ne 124 ] || fail "mpirun hung"
	[ $rc -ne 0 ] || fail "expected a failure"
	assert_contains "names the script line" e.txt "bad.pond:2:1: expected ')'"
}

run_test mpi_output_identical_to_local test_mpi_output_identical_to_local
run_test mpi_crashing_task_is_retried test_mpi_crashing_task_is_retried
run_test mpi_script_error_exits_2_everywhere test_mpi_script_error_exits_2_everywhere
finish_tests
