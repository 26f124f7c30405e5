#!/usr/bin/env bash
# safety.sh — pond deletes only what it created, two jobs never mix their
# outputs, and an interrupted run stops cleanly (docs/FAULTS.md, "Trust"):
#   - a job directory holding files pond did not make (--job-dir ., a
#     marked one with a stray file) is refused with exit 2, never cleaned;
#   - an output that holds the script, an input or the job directory, sits
#     inside an input directory or another output, or is a mount point, is
#     refused before anything runs;
#   - two jobs writing one output each publish their own complete output
#     (the later wins whole; mode='error' refuses);
#   - SIGINT/SIGTERM print "pond: interrupted: run again with --resume",
#     stop the workers, publish nothing; --resume finishes;
#   - a pipe reader of pond's output sees EOF when pond exits (the
#     background delete of intermediates holds none of pond's files);
#   - the summary's wall time counts from process start.
# Every wait is for a state (a pid file, a stopped process, an exit).
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	q "COPY (SELECT i, (hash(i) % 100)::BIGINT AS k, i % 7 AS v FROM range(8000) t(i)) TO 'in/a.parquet'" >/dev/null
	q "COPY (SELECT i, (hash(i) % 100)::BIGINT AS k, i % 7 AS v FROM range(8000, 12000) t(i)) TO 'in/b.parquet'" >/dev/null
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, hash_by='k')
partial_sql('SELECT k, count(*) AS n, sum(i)::BIGINT AS s FROM {0} GROUP BY k', df).write_parquet('out')
df.write_csv('out_csv', mode='overwrite')
EOF
}
oracle() { q "SELECT k, count(*), sum(i) FROM read_parquet('in/*.parquet') GROUP BY k ORDER BY ALL"; }
check_outputs() {
	assert_published out
	assert_same "out rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(oracle)"
	assert_exists out_csv/_SUCCESS
	assert_same "out_csv rows" "$(q "SELECT * FROM read_csv('out_csv/*.csv') ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet('in/*.parquet') ORDER BY ALL")"
	assert_no_staging out out_csv
}

# a digest of everything under the cwd except pond's own outputs
user_files() {
	find . -path ./.pond -prune -o -type f ! -name out.txt ! -name err.txt -print | LC_ALL=C sort | xargs -r sha256sum
}

# ---- pond deletes only what it created --------------------------------------

# --job-dir . in a directory with the user's data/, log/, tmp/: refused
# (exit 2, the directory and a foreign entry named), nothing deleted.
test_job_dir_dot_refused() {
	make_input
	mkdir -p data log tmp
	echo keep >data/mine.csv
	echo keep >log/app.log
	echo keep >tmp/scratch
	local before
	before=$(user_files)
	pond_rc 2 job.pond --job-dir .
	assert_contains "names the directory" err.txt "job directory $T "
	assert_matches "names a foreign entry" err.txt "holds '(data|in|job.pond|log|tmp)'"
	assert_same "nothing deleted or changed" "$(user_files)" "$before"
	assert_missing out
	pond_rc 2 job.pond --job-dir . --resume
	assert_same "nothing deleted by --resume either" "$(user_files)" "$before"
}

# A job dir pond made, then a file of the user's put in it: the next run
# (fresh or --resume) is refused naming it, and the file stays.
test_marked_job_dir_with_foreign_file_refused() {
	make_input
	pond_ok job.pond --job-dir jd
	assert_exists jd/.pond-job
	echo mine >jd/notes.txt
	rm -rf out out_csv
	pond_rc 2 job.pond --job-dir jd
	assert_contains "names the file" err.txt "holds 'notes.txt'"
	pond_rc 2 job.pond --job-dir jd --resume
	assert_same "the file stays" "$(cat jd/notes.txt)" mine
	assert_exists jd/plan.json
	rm jd/notes.txt
	pond_ok job.pond --job-dir jd
	check_outputs
}

# An existing empty directory may become a job dir; a fresh run into it
# again cleans only pond's entries.
test_empty_dir_becomes_job_dir() {
	make_input
	mkdir jd
	pond_ok job.pond --job-dir jd
	check_outputs
	# (.trash-<pid>: the intermediates a background process is deleting)
	assert_same "pond's entries only" "$(ls -A jd | grep -v '^\.trash-' | LC_ALL=C sort | tr '\n' ' ')" \
		".pond-job data events.jsonl journal.jsonl lock log plan.json trace.json "
}

# write_parquet('.', mode='overwrite') next to the script and its input:
# a script error at the write's position, before anything runs.
test_overwrite_output_holding_script_refused() {
	make_input
	echo "read_parquet('in/*.parquet').write_parquet('.', mode='overwrite')" >dot.pond
	local before
	before=$(user_files)
	pond_rc 2 dot.pond
	assert_matches "file:line:col and why" err.txt "dot.pond:1:[0-9]+: output directory $T contains the script"
	assert_same "nothing deleted" "$(user_files)" "$before"
	assert_missing .pond
	echo "read_parquet('in/*.parquet').write_csv('.', mode='overwrite')" >dot.pond
	pond_rc 2 dot.pond
	assert_contains "write_csv too" err.txt "contains the script"
}

# The output holds an input file, or lies inside a directory read as input,
# or inside / around another output of the script: script errors.
test_output_overlapping_inputs_or_outputs_refused() {
	make_input
	mkdir -p data
	cp in/a.parquet data/x.parquet
	echo "read_parquet('data/x.parquet').write_parquet('data', mode='overwrite')" >j1.pond
	echo "read_parquet('in/*.parquet').write_parquet('in', mode='overwrite')" >j2.pond
	echo "read_parquet('data').write_parquet('data/out')" >j3.pond
	printf "x = read_parquet('in/*.parquet')\nx.write_parquet('o')\nx.write_csv('o/inner')\n" >j4.pond
	printf "x = read_parquet('in/*.parquet')\nx.write_csv('o/inner')\nx.write_parquet('o', mode='overwrite')\n" >j5.pond
	# a read that comes after the write counts too
	printf "read_parquet('in/a.parquet').write_parquet('data/o', mode='overwrite')\nread_parquet('data').show()\n" >j6.pond
	local before
	before=$(user_files)
	pond_rc 2 j1.pond
	assert_matches "holds an input file" err.txt "j1.pond:1:[0-9]+: output directory $T/data contains $T/data/x.parquet, an input of the script \\(read at 1:14\\)"
	pond_rc 2 j2.pond
	assert_contains "a glob's file inside the output" err.txt "contains $T/in/a.parquet, an input of the script"
	pond_rc 2 j3.pond
	assert_matches "inside a walked input dir" err.txt "j3.pond:1:[0-9]+: output directory $T/data/out is inside $T/data, an input directory"
	pond_rc 2 j4.pond
	assert_matches "nested outputs" err.txt "j4.pond:3:[0-9]+: output directory $T/o/inner and the output $T/o written at j4.pond:2 are nested"
	pond_rc 2 j5.pond
	assert_contains "nested, the other way round" err.txt "are nested"
	pond_rc 2 j6.pond
	assert_contains "a later read" err.txt "is inside $T/data, an input directory"
	assert_same "nothing deleted" "$(user_files)" "$before"
	assert_missing .pond
}

# The output holds the job dir, or the job dir holds the output: refused
# before anything is made.
test_output_and_job_dir_nested_refused() {
	make_input
	sed -i "s/write_csv('out_csv'/write_csv('work'/" job.pond
	pond_rc 2 job.pond --job-dir work/jd
	assert_contains "output holds the job dir" err.txt "job.pond:3: output directory $T/work contains the job directory $T/work/jd"
	assert_missing work
	pond_rc 2 job.pond --job-dir work/..
	assert_contains "the cwd as job dir: refused" err.txt "job directory $T "
	sed -i "s/write_csv('work'/write_csv('jd\/out'/" job.pond
	pond_rc 2 job.pond --job-dir jd
	assert_contains "job dir holds the output" err.txt "job.pond:3: output directory $T/jd/out is inside the job directory $T/jd"
	assert_missing jd
	assert_missing out
}

# An output that is a mount point: refused before any task runs (the
# final rename could never replace it).
test_output_mount_point_refused() {
	make_input
	mkdir mnt
	if ! mount -t tmpfs -o size=1m tmpfs mnt 2>/dev/null; then
		echo "SKIP: mount -t tmpfs is not permitted here"
		return 0
	fi
	trap 'umount mnt 2>/dev/null || umount -l mnt' EXIT
	echo "read_parquet('in/*.parquet').write_parquet('mnt', mode='overwrite')" >m.pond
	pond_rc 2 m.pond --job-dir jd
	assert_matches "says why, at the write" err.txt "m.pond:1:[0-9]+: output directory $T/mnt is a mount point"
	assert_missing jd
	echo "read_parquet('in/*.parquet').write_parquet('mnt/out')" >m.pond
	pond_ok m.pond --job-dir jd
	assert_published mnt/out
}

# ---- two jobs, one output ------------------------------------------------------

# Job A (V=1) commits 7 of its 8 sink tasks and fails; job B (V=2) was
# started first and stopped after preparing. B then finishes: its output
# is all B's rows (it used to publish A's 7 part files as its own). A's
# --resume then publishes A's complete output: the later publish wins.
two_jobs_one_output() { # MODE
	local mode=$1 pid rc=0
	mkdir -p in
	q "COPY (SELECT i, (hash(i) % 1000)::BIGINT AS k FROM range(16000) t(i)) TO 'in/a.parquet'" >/dev/null
	cat >two.pond <<EOF
read_parquet('in/*.parquet').repartition(8, hash_by='k').map('i, k, \${V} AS v').write_parquet('out', mode='$mode')
EOF
	pond_bg_stopped prepared "$T/stopped" b two.pond -D V=2 --job-dir jb
	pid=$(wait_stopped "$T/stopped" "$BG")
	POND_TEST_CRASH=sink-t00003 pond_rc 1 two.pond -D V=1 --job-dir ja --max-attempts 1
	kill -CONT "$pid"
	wait "$BG" || rc=$?
	[ $rc = 0 ] || { cat b.err >&2; fail "job B exited $rc"; }
	assert_published out
	assert_same "B's output: 8 part files, all B's rows" \
		"$(part_count out) $(q "SELECT count(*), count(*) FILTER (WHERE v = 2), sum(i) FROM $(parts out)")" \
		"8 $(q "SELECT count(*), count(*), sum(i) FROM 'in/a.parquet'")"
	if [ "$mode" = overwrite ]; then
		pond_ok two.pond -D V=1 --job-dir ja --resume
		assert_same "then A's output, whole" \
			"$(part_count out) $(q "SELECT count(*), count(*) FILTER (WHERE v = 1), sum(i) FROM $(parts out)")" \
			"8 $(q "SELECT count(*), count(*), sum(i) FROM 'in/a.parquet'")"
	else
		pond_rc 2 two.pond -D V=1 --job-dir ja --resume
		assert_contains "mode='error' refuses" err.txt "is not empty (mode='error')"
		assert_same "B's output stays" "$(q "SELECT count(*) FILTER (WHERE v = 2) FROM $(parts out)")" \
			"$(q "SELECT count(*) FROM 'in/a.parquet'")"
	fi
	assert_exists out/_SUCCESS
	if [ "$mode" = overwrite ]; then
		assert_no_staging out
	else # A never published: its staging (only) waits for it
		assert_same "only A's staging is left" "$(cat "$(staging_dirs out)/.owner")" "$T/ja"
	fi
}
test_two_jobs_one_output_overwrite() { two_jobs_one_output overwrite; }
test_two_jobs_one_output_error() { two_jobs_one_output error; }

# ---- interrupts ------------------------------------------------------------------

# SIGINT or SIGTERM while tasks run (the driver is held at its first
# commit, then signalled and let go): the message, death by that signal,
# every worker gone, nothing published; --resume finishes.
interrupted() { # SIGNAL EXIT-CODE
	local sig=$1 want=$2 pid rc=0 w workers
	make_input
	pond_bg_stopped commit:1 "$T/stopped" run job.pond --job-dir jd
	pid=$(wait_stopped "$T/stopped" "$BG")
	workers=$(pgrep -P "$pid" || true)
	[ -n "$workers" ] || fail "no workers found under pond (pid $pid)"
	kill "-$sig" "$pid"
	kill -CONT "$pid"
	wait "$BG" || rc=$?
	[ "$rc" = "$want" ] || { cat run.err >&2; fail "pond exited $rc after SIG$sig, expected $want"; }
	assert_contains "the message" run.err "pond: interrupted: run again with --resume"
	for w in $workers; do
		wait_gone "$w"
	done
	assert_not_published out
	assert_not_published out_csv
	assert_missing out
	pond_ok job.pond --job-dir jd --resume --progress plain
	assert_matches "resume kept the committed work" err.txt "already committed"
	check_outputs
}
test_sigint_stops_cleanly() { interrupted INT 130; }
test_sigterm_stops_cleanly() { interrupted TERM 143; }

# pond run … | cat: the reader sees EOF when pond exits, although the
# background delete of intermediates still runs (held stopped at its test
# point). It keeps none of pond's descriptors.
test_pipe_reader_sees_eof() {
	make_input
	(
		POND_TEST_STOP_AT=remove-later POND_TEST_STOP_FILE=$T/remover \
			"$POND" run job.pond --job-dir jd -w "$W" --progress plain 2>&1 | cat >log.txt
	) &
	local pipeline=$! rm_pid
	trap '[ -s "$T/remover" ] && kill -KILL "$(cat "$T/remover")" 2>/dev/null || true' EXIT
	start_watchdog $pipeline
	wait $pipeline || fail "the pipeline failed"
	wait "$WATCHDOG" || true
	assert_missing hung
	assert_contains "pond's output reached the reader" log.txt "pond: done:"
	check_outputs
	rm_pid=$(wait_stopped "$T/remover")
	assert_same "the remover's descriptors: /dev/null only" \
		"$(find "/proc/$rm_pid/fd" -mindepth 1 -printf '%l\n' | LC_ALL=C sort -u)" "/dev/null"
	kill -CONT "$rm_pid"
	wait_gone "$rm_pid"
	rm -f "$T/remover"
	assert_empty "its trash is gone" "$(find jd -maxdepth 1 -name '.trash-*')"
}

# The background delete of intermediates outlives pond, so nothing can
# wait for its writes: it writes no trace line (which, late, recreated the
# trace file while faults/publish_kill.sh removed its directory, under
# load). Held at its test point, then let go, it leaves the trace as pond
# left it.
test_background_remover_writes_no_trace() {
	make_input
	trap '[ -s "$T/remover" ] && kill -KILL "$(cat "$T/remover")" 2>/dev/null || true' EXIT
	POND_TEST_TRACE=$T/trace POND_TEST_STOP_AT=remove-later POND_TEST_STOP_FILE=$T/remover \
		"$POND" run job.pond --job-dir jd -w "$W" --progress none >out.txt 2>err.txt ||
		fail "pond run exited $?: $(head -c 2000 err.txt)"
	local rm_pid
	rm_pid=$(wait_stopped "$T/remover")
	assert_contains "pond's own points are traced" "$T/trace" "prepared"
	kill -CONT "$rm_pid"
	wait_gone "$rm_pid"
	rm -f "$T/remover"
	assert_not_contains "no line from the remover" "$T/trace" "remove-later"
	assert_empty "its trash is gone" "$(find jd -maxdepth 1 -name '.trash-*')"
}

# Publishing moves each sink's emptied staging directory into the job
# directory's trash rather than removing it file by file: held at the
# background remover's point, the outputs are whole, nothing of staging
# is next to them, and the staging trees wait in the trash; let go, the
# trash is gone.
test_published_staging_waits_in_the_job_trash() {
	make_input
	trap '[ -s "$T/remover" ] && kill -KILL "$(cat "$T/remover")" 2>/dev/null || true' EXIT
	POND_TEST_STOP_AT=remove-later POND_TEST_STOP_FILE=$T/remover \
		"$POND" run job.pond --job-dir jd -w "$W" --progress none >out.txt 2>err.txt ||
		fail "pond run exited $?: $(head -c 2000 err.txt)"
	local rm_pid
	rm_pid=$(wait_stopped "$T/remover")
	check_outputs
	assert_same "both staging trees in the trash" "$(find jd -mindepth 2 -maxdepth 2 -path 'jd/.trash-*/publish-*' | wc -l)" 2
	kill -CONT "$rm_pid"
	wait_gone "$rm_pid"
	rm -f "$T/remover"
	assert_empty "the trash is gone" "$(find jd -maxdepth 1 -name '.trash-*')"
}

# A job directory on another file system than the outputs (tmpfs here):
# the staging trees cannot be moved into its trash, and are removed at
# once instead.
test_job_dir_on_another_file_system() {
	local shm=/dev/shm
	if [ ! -d "$shm" ] || [ "$(stat -c %d "$shm")" = "$(stat -c %d .)" ]; then
		echo "    (skipped: no second file system at $shm)"
		return 0
	fi
	make_input
	local jd
	jd=$(mktemp -d "$shm/pond-jd.XXXXXX")
	rmdir "$jd"
	POND_TEST_TRACE=$T/trace "$POND" run job.pond --job-dir "$jd" -w "$W" --progress none >out.txt 2>err.txt ||
		{ rm -rf "$jd"; fail "pond run exited $?: $(head -c 2000 err.txt)"; }
	rm -rf "$jd"
	check_outputs
	assert_contains "staging removed where it was" "$T/trace" "publish-trash"
	assert_not_contains "not moved" "$T/trace" "publish-binned"
}

# The summary's time covers the whole process: here the run is held before
# its first task for at least PAUSE seconds (which the scheduler loop
# never sees), and the time printed is no less, and no more than the
# process's life as measured from outside.
test_summary_counts_wall_time_from_start() {
	make_input
	local pause=2 t0 t1 pid rc=0 secs
	t0=$(date +%s%N)
	pond_bg_stopped prepared "$T/stopped" run job.pond --job-dir jd --progress plain
	pid=$(wait_stopped "$T/stopped" "$BG")
	sleep "$pause" # a pause the process is known to spend, not a wait for a state
	kill -CONT "$pid"
	wait "$BG" || rc=$?
	t1=$(date +%s%N)
	[ $rc = 0 ] || { cat run.err >&2; fail "pond exited $rc"; }
	secs=$(sed -n 's/^pond: done: .*, \([0-9.]*\) s, [0-9]* workers$/\1/p' run.err)
	[ -n "$secs" ] || { cat run.err >&2; fail "no summary line"; }
	awk -v s="$secs" -v p="$pause" -v t=$(((t1 - t0) / 1000000)) \
		'BEGIN { exit !(s >= p && s * 1000 <= t + 20) }' ||
		fail "summary says $secs s; the process was held $pause s and lived $(((t1 - t0) / 1000000)) ms"
}

run_test job_dir_dot_refused_nothing_deleted test_job_dir_dot_refused
run_test marked_job_dir_with_foreign_file_refused test_marked_job_dir_with_foreign_file_refused
run_test empty_dir_becomes_job_dir test_empty_dir_becomes_job_dir
run_test overwrite_output_holding_script_refused test_overwrite_output_holding_script_refused
run_test output_overlapping_inputs_or_outputs_refused test_output_overlapping_inputs_or_outputs_refused
run_test output_and_job_dir_nested_refused test_output_and_job_dir_nested_refused
run_test output_mount_point_refused test_output_mount_point_refused
run_test two_jobs_one_output_overwrite_later_wins_whole test_two_jobs_one_output_overwrite
run_test two_jobs_one_output_mode_error_refuses test_two_jobs_one_output_error
run_test sigint_stops_workers_publishes_nothing test_sigint_stops_cleanly
run_test sigterm_stops_workers_publishes_nothing test_sigterm_stops_cleanly
run_test pipe_reader_sees_eof_when_pond_exits test_pipe_reader_sees_eof
run_test background_remover_writes_no_trace test_background_remover_writes_no_trace
run_test published_staging_waits_in_the_job_trash test_published_staging_waits_in_the_job_trash
run_test job_dir_on_another_file_system test_job_dir_on_another_file_system
run_test summary_wall_time_from_process_start test_summary_counts_wall_time_from_start
finish_tests
