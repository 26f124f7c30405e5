#!/usr/bin/env bash
# publish_kill.sh — every step of publishing survives a kill (docs/FAULTS.md,
# "Driver killed while publishing").
#
# One script with three sinks: parquet mode='overwrite' over an old output,
# csv mode='error' into an empty directory, parquet partition_by= over an
# old output. A fault-free run with POND_TEST_TRACE lists every test point
# publishing passes (src/exec/publish.c: each write, rename and removal of
# publishing and of staging cleanup, for each sink). Then, for each point
# (every arrival, a run of links counted once per sink):
#   1. pond is SIGKILLed there (POND_TEST_KILL_AT=point:N; exit 137);
#   2. --resume must finish: every sink holds the oracle's rows and
#      _SUCCESS, the old outputs are gone whole, nothing of staging is left;
#   3. --resume again must succeed, run no task and change no file;
#   4. and for each step the resume took to recover (the points it passed
#      before its first task), the kill of 1. is followed by a kill at that
#      recovery step, and a third run must still finish.
# Also: a fresh run (no --resume) after a kill puts an old output that was
# moved aside back before it empties its staging directory.
# No timing: every kill happens at a named point, every wait is for an exit.
source "$(dirname "$0")/../e2e/lib.sh"

make_job() {
	mkdir -p in out/a out/b out/c/g=9
	q "COPY (SELECT i, (hash(i) % 200)::BIGINT AS k, i % 3 AS g FROM range(6000) t(i)) TO 'in/a.parquet'" >/dev/null
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
df.write_parquet('out/a', mode='overwrite')
df.filter('i % 2 = 0').write_csv('out/b')
df.write_parquet('out/c', partition_by='g', mode='overwrite')
EOF
	# earlier outputs to be replaced whole (their part file names are not
	# ones pond writes, so a leftover shows in the rows)
	q "COPY (SELECT -1 AS i, -1::BIGINT AS k, -1 AS g) TO 'out/a/part-00009.parquet'" >/dev/null
	q "COPY (SELECT -1 AS i, -1::BIGINT AS k) TO 'out/c/g=9/part-00009.parquet'" >/dev/null
	touch out/a/_SUCCESS out/c/_SUCCESS
}

check_outputs() {
	local all="read_parquet('in/a.parquet')"
	assert_published out/a
	assert_same "out/a rows" "$(q "SELECT * FROM $(parts out/a) ORDER BY ALL")" "$(q "SELECT * FROM $all ORDER BY ALL")"
	assert_exists out/b/_SUCCESS
	assert_same "out/b rows" "$(q "SELECT * FROM read_csv('out/b/*.csv') ORDER BY ALL")" \
		"$(q "SELECT * FROM $all WHERE i % 2 = 0 ORDER BY ALL")"
	assert_exists out/c/_SUCCESS
	assert_same "out/c rows" \
		"$(q "SELECT i, k, g FROM read_parquet('out/c/*/*.parquet', hive_partitioning=true) ORDER BY ALL")" \
		"$(q "SELECT i, k, g FROM $all ORDER BY ALL")"
	assert_missing out/c/g=9
	assert_no_staging out/a out/b out/c
	assert_empty "publish leftovers" "$(find out \( -name .publish -o -name .previous -o -name '*.trash' \))"
}

run_pond() { # EXPECTED-RC [NAME=VALUE...] [-- POND-ARGS...]
	local want=$1 rc=0 envs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	env "${envs[@]}" "$POND" run job.pond --job-dir jd -w "$W" --progress none "$@" >out.txt 2>err.txt || rc=$?
	if [ "$rc" != "$want" ]; then
		head -c 4000 err.txt >&2
		fail "pond run (${envs[*]} $*) exited $rc, expected $want"
	fi
}

# starts: how many task starts the journal has
starts() { grep -c '"event":"start"' jd/journal.jsonl; }

# The points a fault-free run passes while publishing; a run of the same
# point (one link per file) is counted once, at its first arrival.
list_points() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/pond-pkill.XXXXXX")
	(
		cd "$d"
		make_job
		POND_TEST_TRACE=$d/trace "$POND" run job.pond --job-dir jd -w "$W" --progress none >/dev/null 2>&1 ||
			{ echo "publish_kill.sh: the fault-free run failed" >&2; exit 1; }
		awk '/^publish-/ { n[$1]++; if ($1 != prev) print $1 ":" n[$1] } { prev = $1 }' trace
	)
	rm -rf "$d"
}

test_kill_then_resume() {
	make_job
	run_pond 137 POND_TEST_KILL_AT="$KP"
	assert_contains "killed where asked" err.txt "pond test: killed at ${KP%%:*}"
	local stale
	stale=$(find jd -maxdepth 1 -name '.trash-*')
	rm -f trace
	run_pond 0 POND_TEST_TRACE="$T/trace" -- --resume
	check_outputs
	# the killed run's trash was taken over by the resume's (deleted with it)
	for d in $stale; do assert_missing "$d"; done
	local n d
	n=$(starts)
	d=$(tree_digest out)
	run_pond 0 -- --resume
	assert_same "a second --resume runs nothing" "$(starts)" "$n"
	assert_same "and changes no output file" "$(tree_digest out)" "$d"
	# the steps the first resume took to recover, before its first task
	awk '/^prepared$/ { exit } { n[$1]++; if ($1 != prev) print $1 ":" n[$1] } { prev = $1 }' trace >recovery
	local r
	while IFS= read -r r; do
		rm -rf in out jd trace
		make_job
		run_pond 137 POND_TEST_KILL_AT="$KP"
		run_pond 137 POND_TEST_KILL_AT="$r" -- --resume
		run_pond 0 -- --resume
		check_outputs
		echo "    also killed while recovering, at $r"
	done <recovery
}

# Killed after moving the old output aside; then a fresh run (no --resume)
# that fails before it publishes: the old output is back, whole, not lost
# with the staging directory the fresh run empties. A third run finishes.
test_fresh_run_after_kill_puts_old_output_back() {
	make_job
	local old
	old=$(tree_digest out/a)
	run_pond 137 POND_TEST_KILL_AT=publish-aside:1
	assert_missing out/a
	run_pond 1 POND_TEST_CRASH=sink-t00001 -- --max-attempts 1
	assert_same "the old output is back" "$(tree_digest out/a)" "$old"
	run_pond 0
	check_outputs
}

POINTS=$(list_points) || exit 1
[ -n "$POINTS" ] || { echo "publish_kill.sh: no publish test points were passed" >&2; exit 1; }
echo "publish points: $(echo $POINTS)"
for KP in $POINTS; do
	export KP
	run_test "kill_at_$KP" test_kill_then_resume
done
run_test fresh_run_after_kill_puts_old_output_back test_fresh_run_after_kill_puts_old_output_back
finish_tests
