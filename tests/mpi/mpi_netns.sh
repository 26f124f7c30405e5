#!/usr/bin/env bash
# mpi_netns.sh — pond on three simulated hosts. Each host is a network
# namespace with its own address on a private bridge; Open MPI launches
# into them over TCP through an rsh agent that runs `ip netns exec`, and
# ranks talk to each other only over that network. The namespaces share
# this machine's files, which stand in for the cluster's shared
# filesystem. The same pipelines as the local tests must give output
# files byte-identical to a local run. Needs root (CAP_NET_ADMIN); exits
# 77 (skipped) where network namespaces cannot be made.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/lib_mpi.sh"

# a /24 no other interface uses (another run of this test may be up)
for _ in $(seq 50); do
	NET=10.231.$((RANDOM % 200 + 20))
	ip -o addr show 2>/dev/null | grep -qF " $NET." || break
done
TAG=pd$$
BR=${TAG}br

teardown() {
	for i in 1 2 3; do ip netns del "${TAG}h$i" 2>/dev/null; rm -rf "${TMPDIR:-/tmp}/${TAG}h$i"; done
	ip link del "$BR" 2>/dev/null
	true
}
trap teardown EXIT

setup_hosts() {
	ip link add "$BR" type bridge || return 1
	ip addr add "$NET.1/24" dev "$BR" && ip link set "$BR" up || return 1
	for i in 1 2 3; do
		ip netns add "${TAG}h$i" || return 1
		ip link add "${TAG}v$i" type veth peer name eth0 netns "${TAG}h$i" || return 1
		ip link set "${TAG}v$i" master "$BR" up
		ip -n "${TAG}h$i" addr add "$NET.1$i/24" dev eth0
		ip -n "${TAG}h$i" link set eth0 up
		ip -n "${TAG}h$i" link set lo up
	done
}

if ! setup_hosts 2>setup.err; then
	echo "SKIP: cannot create network namespaces here: $(cat setup.err)"
	exit 77
fi
rm -f setup.err

# The rsh agent Open MPI uses to start its daemon on a "host".
AGENT=$(mktemp "${TMPDIR:-/tmp}/pond-rsh.XXXXXX")
cat > "$AGENT" <<A
#!/bin/sh
host=\$1; shift
case "\$host" in
  $NET.11) ns=${TAG}h1;; $NET.12) ns=${TAG}h2;; $NET.13) ns=${TAG}h3;;
  *) echo "rsh agent: unknown host \$host" >&2; exit 1;;
esac
# Its own host name and temp dir, as on a real node: Open MPI daemons that
# share both collide on their session directories.
mkdir -p "${TMPDIR:-/tmp}/\$ns"
export OMPI_MCA_orte_tmpdir_base="${TMPDIR:-/tmp}/\$ns"
exec ip netns exec "\$ns" unshare --uts /bin/sh -c "hostname \$ns && \$*"
A
chmod +x "$AGENT"
trap 'teardown; rm -f "$AGENT"' EXIT
printf '%s slots=1\n' "$NET.11" "$NET.12" "$NET.13" > "${TMPDIR:-/tmp}/pond-hosts.$TAG"
HOSTS="${TMPDIR:-/tmp}/pond-hosts.$TAG"
MPIRUN=(mpirun -n 3 --hostfile "$HOSTS" --mca plm_rsh_agent "$AGENT"
	--mca btl tcp,self --mca btl_tcp_if_include "$NET.0/24" --mca oob_tcp_if_include "$NET.0/24" -x PATH)
for v in ASAN_OPTIONS UBSAN_OPTIONS; do [ -n "${!v:-}" ] && MPIRUN+=(-x "$v"); done

# Each simulated host has this machine's 2 cores to itself, so a worker
# rank alone on its host gives tasks 2 DuckDB threads, where local -w 2
# gives 1. With --threads 1 on both sides the files are byte-identical;
# with each side's defaults every file holds the same rows.
test_three_hosts_output_identical_to_local() {
	gen_inputs
	pond_ok job.pond -w 2 -D OUT=local --job-dir "$T/jl"
	mv out.txt local.txt
	timeout "$HANG_GUARD" "${MPIRUN[@]}" "$POND" run "$T/job.pond" -D OUT="$T/mpi1" --job-dir "$T/jm1" --threads 1 \
		--progress plain >mpi.txt 2>mpierr.txt || { cat mpierr.txt; fail "mpirun failed"; }
	assert_same "count() printed by rank 0" "$(cat mpi.txt)" "$(cat local.txt)"
	assert_same_outputs local mpi1
	check_against_oracle mpi1
	timeout "$HANG_GUARD" "${MPIRUN[@]}" "$POND" run "$T/job.pond" -D OUT="$T/mpi" --job-dir "$T/jm" \
		--progress plain >mpi.txt 2>mpierr.txt || { cat mpierr.txt; fail "mpirun failed"; }
	assert_same_rows_per_file local mpi
	# the work really was spread: tasks ran on ranks of two other hosts
	grep -o '"worker":"rank [0-9]* on [^"]*"' "$T/jm/journal.jsonl" | sort -u > ranks.txt
	cat ranks.txt
	[ "$(grep -c "rank 1 on" ranks.txt)" -ge 1 ] && [ "$(grep -c "rank 2 on" ranks.txt)" -ge 1 ] ||
		fail "tasks did not run on both worker hosts"
}

run_test three_hosts_output_identical_to_local test_three_hosts_output_identical_to_local
rm -f "$HOSTS"
finish_tests
