#!/usr/bin/env bash
# bench/run_all.sh — runs every benchmark and prints a summary table.
#
#   bench/run_all.sh                      # full size, best of 3 (~5 minutes)
#   ROWS=1000000 TASKS=100 REPEAT=1 bench/run_all.sh   # quick smoke run
#   MPI=0 bench/run_all.sh                # without the MPI comparison
#
# MPI: auto (default) also runs bench/mpi_vs_local.sh (the same pipelines
# under mpirun -n 3 against pond run -w 2) when mpirun is installed; 1
# requires it; 0 skips it. Its table is printed after the main one.
#
# Exits 1 if any benchmark fails (a command error or a verification
# failure). A missed performance target is reported, not an error.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_tools
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
export BENCH_DIR
PROVENANCE=$(pond_provenance)
snapshot_pond "$BENCH_DIR"
MPI=${MPI:-auto}
BENCHES=(hash_agg csv_agg global_sort tiny_tasks)
case $MPI in
0) ;;
1) BENCHES+=(mpi_vs_local) ;;
auto) command -v "${MPIRUN:-mpirun}" >/dev/null && BENCHES+=(mpi_vs_local) ;;
*) die "MPI must be 0, 1 or auto" ;;
esac
: >"$BENCH_DIR/results.tsv"
: >"$BENCH_DIR/mpi_results.tsv"
failed=()
for b in "${BENCHES[@]}"; do
	echo "== $b" >&2
	if ! "$BENCH_SRC/$b.sh"; then
		failed+=("$b")
	fi
done

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "pond:    $PROVENANCE"
echo "runs:    best of $REPEAT per side, $(date '+%F %T')"
printf '%-16s %9s %9s %10s %10s %5s %10s %10s\n' benchmark pond_s duckdb_s value target met pond_cpu duckdb_cpu
while IFS=$'\t' read -r name p d v t m pc dc; do
	printf '%-16s %9s %9s %10s %10s %5s %10s %10s\n' "$name" "$p" "$d" "$v" "$t" "$m" "$pc" "$dc"
done <"$BENCH_DIR/results.tsv"
if [ -s "$BENCH_DIR/mpi_results.tsv" ]; then
	echo
	echo "MPI mode (mpirun -n ${MPI_NP:-3} ${MPI_ARGS:---oversubscribe --mca btl self,vader,tcp}) against local mode (-w $((${MPI_NP:-3} - 1))), both --threads 1:"
	printf '%-16s %9s %9s %10s %10s %5s %10s %10s\n' pipeline local_s mpi_s ratio target met local_cpu mpi_cpu
	while IFS=$'\t' read -r name l m r t met lc mc; do
		printf '%-16s %9s %9s %10s %10s %5s %10s %10s\n' "$name" "$l" "$m" "$r" "$t" "$met" "$lc" "$mc"
	done <"$BENCH_DIR/mpi_results.tsv"
fi
if [ ${#failed[@]} -gt 0 ]; then
	die "failed: ${failed[*]}"
fi
