#!/usr/bin/env bash
# slurm_srun.sh — pond under a real Slurm. Starts a throwaway one-node
# cluster (munged, slurmctld, slurmd from Debian's slurm-wlm 22.05, all in a
# private temp dir on private ports), then:
#   1. `srun --mpi=pmix -n 3 pond run` (rank 0 schedules, ranks 1-2 run
#      tasks) gives output files byte-identical to `pond run -w 2`, both
#      with --threads 1, and the joined aggregate equals DuckDB's;
#   2. an `sbatch --wait` batch script (--nodes=1 --ntasks=3, srun
#      --mpi=pmix inside, as in docs/CLUSTER.md) completes and publishes
#      every output with _SUCCESS;
#   3. plain `srun -n 3 pond run` (MpiDefault=none, so no PMIx) fails fast
#      with pond's own message asking for --mpi=pmix, without a hang.
# Everything is bounded by timeouts and torn down on exit. Needs root and
# the Slurm packages (scripts/setup-test-deps.sh); exits 77 (skipped), with
# the reason, where they are missing or the daemons cannot start.
#
# Obstacles met on the way, and what this script does about them:
# - No systemd, and the Debian packages' services are not running: the
#   daemons run in the foreground (-D, munged -F) as background jobs of this
#   script, so their pids are ours, a CTest timeout that kills the process
#   group takes them along, and their output goes to files (a daemon
#   holding CTest's stdout pipe would keep CTest waiting).
# - Authentication: Slurm 22.05 has auth/munge (and Debian still ships
#   auth/none + cred/none). A private munged with a fresh key and its own
#   socket (AuthInfo=socket=...) works. munged refuses to start when its
#   socket's directory is not searchable by everyone ("Socket is
#   inaccessible: execute permissions for all required"); the cluster
#   dir is 0700, so munged gets -f (--force). If munged cannot start, the
#   cluster falls back to auth/none + cred/none (tested: works too, but
#   listens unauthenticated while the test runs, hence only the fallback).
# - "Low socket*core*thread count, Low CPUs": with CPUs=4 on this 2-core
#   machine slurmctld set the node INVAL/DRAIN. SlurmdParameters=
#   config_overrides makes slurmd report the configured CPUs=4, so
#   `-n 3` fits without --overcommit (ranks 1-2 sleep between probes, rank
#   0 only schedules).
# - The node name must be the one slurmd believes it has: NodeName is
#   `hostname -s`, slurmd gets -N with it, and NodeAddr/SlurmctldHost's
#   address are 127.0.0.1, so nothing depends on name resolution.
# - Ports: slurmctld/slurmd get a random pair in 20000-59999 that `ss`
#   shows free, so a second run or a real Slurm on the machine does not
#   clash. srun's own ports are ephemeral.
# - No cgroups to rely on (a sandboxed kernel): ProctrackType=
#   proctrack/linuxproc, TaskPlugin=task/none, JobAcctGatherType=none.
# - The PMIx server's Unix sockets live under SlurmdSpoolDir: the cluster
#   dir is made directly in /tmp (not a long $TMPDIR) to stay well under
#   the 108-byte socket path limit.
# - pond itself: plain `srun -n 3` (no PMIx) used to reach MPI_Init, where
#   Debian's Open MPI 4.1 sees a direct launch without PMI and aborts the
#   process with its own "OMPI was not built with SLURM's PMI support"
#   banner, before pond's check (after MPI_Init) could print its advice.
#   src/runtime/mpi.c now checks before MPI_Init (test 3 guards this).
# - `sbatch --wait` polls after 2 s, then every 8 s (its sleep grows while
#   it is under MinJobAge/2): a 2-second job took 10 s. MinJobAge=4 keeps
#   it polling every 2 s, and SchedulerParameters=batch_sched_delay=0
#   starts the job sooner. The finished job's record may then be purged
#   4 s after it ends, before a `scontrol show job` on a busy machine: its
#   state is read from slurmctld's log instead.
# - Waits are for a state (a socket, `scontrol ping`, an idle node, a
#   command's exit), bounded only by HANG_GUARD (lib.sh) against a hang.
# - Batch scripts run as root with root's environment; the job dir is an
#   absolute path so the script does not depend on Slurm's working dir.
# SLURM_KEEP=1 keeps the cluster dir (logs, slurm.conf) after the run.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/../mpi/lib_mpi.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root to run slurmd (it launches the job steps)"
for c in slurmctld slurmd srun sbatch sinfo scontrol scancel squeue; do
	command -v "$c" >/dev/null 2>&1 ||
		skip "Slurm is not installed ($c not found): run bash scripts/setup-test-deps.sh"
done

SL=$(mktemp -d /tmp/pond-slurm.XXXXXX)
chmod 700 "$SL"
PIDS=()
CTLD_UP=
teardown() {
	local p i
	if [ -n "$CTLD_UP" ]; then
		timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null
		for i in $(seq 50); do
			[ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break
			sleep 0.2
		done
	fi
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 50); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${SLURM_KEEP:-}" ] || rm -rf "$SL"
	true
}
trap teardown EXIT

# wait_daemon CHECK...: waits until CHECK succeeds (0), or the daemon last
# started has exited (1), or HANG_GUARD s have passed (2).
wait_daemon() {
	local t0=$SECONDS
	until "$@"; do
		kill -0 "${PIDS[-1]}" 2>/dev/null || return 1
		[ $((SECONDS - t0)) -lt "$HANG_GUARD" ] || return 2
		sleep 0.2
	done
}

# a free TCP port pair
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
for i in $(seq 20); do
	CPORT=$((20000 + RANDOM % 40000))
	DPORT=$((CPORT + 1))
	port_free $CPORT && port_free $DPORT && break
done

NODE=$(hostname -s)
mkdir -p "$SL/state" "$SL/spool" "$SL/munge"
chmod 700 "$SL/munge"

# munge with a private key and socket; auth/none if that cannot start
AUTH="AuthType=auth/none
CredType=cred/none"
if command -v munged >/dev/null && command -v mungekey >/dev/null &&
	mungekey -c -k "$SL/munge/munge.key" >"$SL/munged.out" 2>&1; then
	munged -F -f -S "$SL/munge/sock" --key-file="$SL/munge/munge.key" --log-file="$SL/munged.log" \
		--pid-file="$SL/munge/munged.pid" --seed-file="$SL/munge/seed" >>"$SL/munged.out" 2>&1 &
	PIDS+=($!)
	wait_daemon test -S "$SL/munge/sock" || true
	if [ -S "$SL/munge/sock" ] && echo x | munge -S "$SL/munge/sock" | unmunge -S "$SL/munge/sock" >/dev/null 2>&1; then
		AUTH="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SL/munge/sock"
	else
		echo "note: munged did not start ($(cat "$SL/munged.out" "$SL/munged.log" 2>/dev/null | tail -n 2 | tr '\n' ' ')); using auth/none"
	fi
fi

export SLURM_CONF=$SL/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=pondtest
# job ids of this cluster's own: another run's cluster on this machine
# (a second test suite) must not share a job's paths (PMIx's, by id)
FirstJobId=$(( ($$ % 40000) * 100 + 1 ))
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CPORT
SlurmdPort=$DPORT
SlurmUser=root
SlurmdUser=root
$AUTH
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/slurmctld.log
SlurmdLogFile=$SL/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
MinJobAge=4
SchedulerParameters=batch_sched_delay=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=10 State=UP OverSubscribe=YES
EOF

daemon_failed() { # REASON DAEMON
	echo "SKIP: $1"
	for f in "$2.out" "$2.log"; do
		[ -s "$SL/$f" ] && { echo "--- $f:"; tail -n 15 "$SL/$f"; }
	done
	exit 77
}

ctld_answers() { timeout 60 scontrol ping 2>/dev/null | grep -q UP; }
node_idle() { [ "$(timeout 60 sinfo -h -N -o %T 2>/dev/null)" = idle ]; }

slurmctld -D -f "$SLURM_CONF" >"$SL/slurmctld.out" 2>&1 &
PIDS+=($!)
rc=0
wait_daemon ctld_answers || rc=$?
[ $rc != 1 ] || daemon_failed "slurmctld exited at start" slurmctld
[ $rc != 2 ] || daemon_failed "slurmctld did not answer within $HANG_GUARD s" slurmctld
CTLD_UP=1

slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$SL/slurmd.out" 2>&1 &
PIDS+=($!)
rc=0
wait_daemon node_idle || rc=$?
[ $rc != 1 ] || daemon_failed "slurmd exited at start" slurmd
[ $rc != 2 ] || daemon_failed "node $NODE is not idle after $HANG_GUARD s (sinfo: '$(timeout 60 sinfo -h -N -o '%T %E' 2>/dev/null)')" slurmd
timeout 60 srun --mpi=list 2>&1 | grep -qw pmix || skip "Slurm has no PMIx plugin (srun --mpi=list: $(srun --mpi=list 2>&1 | tr '\n' ' '))"
echo "slurm: $(sinfo -V), node $NODE idle, ports $CPORT/$DPORT, $(grep ^AuthType "$SLURM_CONF")"

# Open MPI: shared memory and loopback TCP only, as in mpi_local.sh.
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo

test_srun_pmix_output_identical_to_local() {
	gen_inputs
	pond_ok job.pond -w 2 --threads 1 -D OUT=local --job-dir jl
	mv out.txt local.txt
	rc=0
	timeout "$HANG_GUARD" srun --mpi=pmix -n 3 --time=10 "$POND" run job.pond --threads 1 -D OUT=srun --job-dir js \
		--progress plain >srun.txt 2>srunerr.txt || rc=$?
	[ $rc -eq 0 ] || { cat srunerr.txt; fail "srun --mpi=pmix exited $rc"; }
	assert_same "count() printed once, by rank 0" "$(cat srun.txt)" "$(cat local.txt)"
	assert_contains "rank 0 reports the run" srunerr.txt "pond: done:"
	# the tasks ran on MPI worker ranks 1 and 2, not in local workers
	assert_exists js/log/rank-1.log
	assert_exists js/log/rank-2.log
	for d in joined sorted shuffled csv; do
		assert_published "srun/$d"
	done
	assert_same_outputs local srun
	check_against_oracle srun
}

test_sbatch_batch_script() {
	gen_inputs
	cat >job.sbatch <<EOF
#!/bin/bash
#SBATCH --job-name=pond-test
#SBATCH --nodes=1
#SBATCH --ntasks=3
#SBATCH --time=00:10:00
#SBATCH --output=$T/pond-%j.log
cd "$T"                     # the "shared filesystem"
srun --mpi=pmix "$POND" run job.pond \\
     --job-dir $T/.pond/job --progress plain -D OUT=$T/batch
EOF
	rc=0
	timeout "$HANG_GUARD" sbatch --wait --parsable job.sbatch >sb.txt 2>sberr.txt || rc=$?
	[ $rc -eq 0 ] || { cat sberr.txt pond-*.log 2>/dev/null; fail "sbatch --wait exited $rc"; }
	id=$(cut -d';' -f1 sb.txt)
	# (not `scontrol show job`: the record may be purged by now)
	assert_contains "the job's exit status" "$SL/slurmctld.log" "_job_complete: JobId=$id WEXITSTATUS 0"
	assert_contains "the job completed" "$SL/slurmctld.log" "_job_complete: JobId=$id done"
	assert_contains "count() in the job's log" "pond-$id.log" \
		"$(q "SELECT count(*) FROM read_parquet('in/*.parquet')")"
	assert_contains "rank 0 reports the run" "pond-$id.log" "pond: done:"
	for d in joined sorted shuffled csv; do
		assert_published "batch/$d"
	done
	check_against_oracle batch
}

test_srun_without_pmix_fails_clearly() {
	gen_inputs
	set +e
	timeout "$HANG_GUARD" srun -n 3 --time=10 "$POND" run job.pond -D OUT=nopmix --job-dir jn >o.txt 2>e.txt
	rc=$?
	set -e
	[ $rc -ne 124 ] || fail "srun without --mpi=pmix hung"
	[ $rc -ne 0 ] || fail "expected a failure"
	assert_contains "pond's advice" e.txt 'run `srun --mpi=pmix pond run ...`'
	assert_not_contains "pond spoke before Open MPI aborted" e.txt "An error occurred in MPI_Init"
	assert_missing nopmix
}

run_test slurm_srun_pmix_output_identical_to_local test_srun_pmix_output_identical_to_local
run_test slurm_sbatch_batch_script test_sbatch_batch_script
run_test slurm_srun_without_pmix_fails_clearly test_srun_without_pmix_fails_clearly
finish_tests
