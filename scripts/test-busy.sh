#!/usr/bin/env bash
# test-busy.sh — the timing-sensitive test scripts, ROUNDS times in a row,
# with one CPU hog per core running beside them: no test may depend on
# timing or on an idle machine (tests/e2e/lib.sh). Stops at the first
# failing round.
# Usage: scripts/test-busy.sh [BUILD_DIR (build)] [ROUNDS (5)]
# e.g. scripts/test-busy.sh build-asan 5 (ASAN_OPTIONS as in scripts/test.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-5}
export POND=$PWD/$build/pond DUCKQ=$PWD/$build/tests/duckq
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if grep -q '^POND_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
# what kills, stops or waits for processes: every fault script, the MPI
# and Slurm tests, and the end-to-end scripts with a background pond
scripts=(tests/faults/chaos.sh tests/faults/failures.sh tests/faults/publish_kill.sh tests/faults/mpi_faults.sh
	tests/mpi/mpi_local.sh tests/mpi/mpi_netns.sh tests/slurm/slurm_srun.sh
	tests/e2e/retry.sh tests/e2e/intermediates.sh tests/e2e/jobdir.sh tests/e2e/safety.sh tests/e2e/exactness.sh)

hogs=()
stop_hogs() {
	local p
	for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
}
trap stop_hogs EXIT
for _ in $(seq "$(nproc)"); do
	(while :; do :; done) &
	hogs+=($!)
done
echo "test-busy: $build, $rounds rounds, ${#hogs[@]} CPU hogs (pids ${hogs[*]})"

for ((r = 1; r <= rounds; r++)); do
	t0=$SECONDS
	for s in "${scripts[@]}"; do
		ts=$SECONDS
		# a skip (77: no mount, no namespaces, no Slurm) is not a failure
		bash "$s" >"/tmp/test-busy.$$.log" 2>&1
		rc=$?
		if [ $rc != 0 ] && [ $rc != 77 ]; then
			cat "/tmp/test-busy.$$.log"
			rm -f "/tmp/test-busy.$$.log"
			echo "test-busy: round $r: $s FAILED (exit $rc)"
			exit 1
		fi
		printf 'test-busy: round %d: %-32s %s %4d s\n' "$r" "$s" "$([ $rc = 0 ] && echo pass || echo skip)" \
			$((SECONDS - ts))
	done
	echo "test-busy: round $r passed in $((SECONDS - t0)) s"
done
rm -f "/tmp/test-busy.$$.log"
echo "test-busy: $rounds rounds passed"
