#!/usr/bin/env bash
# Intermediates are verified (docs/FAULTS.md): every committed task output
# has a manifest (_manifest.json: each file, its rows and bytes) whose hash
# the journal's commit line records. A consumer reads exactly the files
# listed; one that is gone or changed stops the run (exit 1, naming it),
# never an empty bucket; --resume produces it again. Found before: a
# deleted bucket file gave 7.3M of 8M rows, exit 0.
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	local f
	for f in 0 1 2 3; do
		q "COPY (SELECT i, (hash(i) % 500)::BIGINT AS k, i * 2 AS v FROM range($f * 50000, ($f + 1) * 50000) t(i))
		   TO 'in/f$f.parquet'" >/dev/null
	done
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, hash_by='k')
df.write_parquet('out')
EOF
}

oracle() { q "SELECT count(*), sum(v), count(DISTINCT k) FROM read_parquet('in/*.parquet')"; }
result() { q "SELECT count(*), sum(v), count(DISTINCT k) FROM $(parts out)"; }

# has_commits JOBDIR PATTERN N: the journal has N commit lines of tasks
# whose id contains PATTERN (fails the test if pond has ended first).
has_commits() {
	local n
	n=$(grep -c "\"event\":\"commit\".*\"task\":\"[^\"]*$2" "$1/journal.jsonl" 2>/dev/null || true)
	[ "${n:-0}" -lt "$3" ] || return 0
	kill -0 "$POND_PID" 2>/dev/null || fail "pond ended before $3 '$2' commits"
	return 1
}

# Waits (for a state, not a time) until the journal has N commit lines of
# tasks whose id contains PATTERN.
wait_commits() { # JOBDIR PATTERN N
	wait_until "$3 '$2' commits" has_commits "$@"
}

# pond in the background, sinks held until the file "go" exists.
start_held() {
	POND_TEST_WAIT="sink:$T/go" "$POND" run job.pond --progress none -w "$W" --job-dir jd >out.txt 2>err.txt &
	POND_PID=$!
	start_watchdog "$POND_PID"
	wait_commits jd shuffle 4
}

end_held() { # EXPECTED_RC
	local rc=0
	touch go
	wait "$POND_PID" || rc=$?
	wait "$WATCHDOG" 2>/dev/null || true
	[ ! -e hung ] || fail "pond hung"
	[ "$rc" = "$1" ] || { cat err.txt >&2; fail "pond exited $rc, expected $1"; }
}

a_bucket_file() { find jd/data -path '*shuffle*' -name '*.parquet' | LC_ALL=C sort | head -n 1; }

test_deleted_bucket_file_fails_the_run() {
	make_input
	start_held
	local victim
	victim=$(a_bucket_file)
	[ -n "$victim" ] || fail "no bucket file found"
	rm "$victim"
	end_held 1
	assert_contains "names the missing file" err.txt "$(basename "$victim")"
	assert_contains "says it is gone" err.txt "which is gone"
	assert_contains "says how to finish" err.txt "--resume"
	assert_not_published out
	# --resume produces the bucket again: every row is there
	pond_ok job.pond --job-dir jd --resume
	assert_published out
	assert_same "rows after resume" "$(result)" "$(oracle)"
}

test_torn_bucket_file_fails_the_run() {
	make_input
	start_held
	local victim size
	victim=$(a_bucket_file)
	size=$(stat -c %s "$victim")
	truncate -s $((size / 2)) "$victim"
	end_held 1
	assert_contains "names the torn file" err.txt "$(basename "$victim")"
	assert_contains "says it changed" err.txt "bytes; it now has"
	assert_not_published out
	pond_ok job.pond --job-dir jd --resume
	assert_same "rows after resume" "$(result)" "$(oracle)"
}

test_resume_reproduces_deleted_intermediate() {
	make_input
	# the sinks fail (a crash, no retry): the shuffle stays committed
	POND_TEST_CRASH=sink pond_rc 1 job.pond --job-dir jd --max-attempts 1
	local victim producer
	victim=$(a_bucket_file)
	producer=$(echo "$victim" | sed -E 's|.*/(s[0-9]+-shuffle)/(t[0-9]+)/.*|\1-\2|')
	rm "$victim"
	pond_ok job.pond --job-dir jd --resume
	assert_same "rows after resume" "$(result)" "$(oracle)"
	[ "$(grep -c "\"event\":\"commit\".*\"task\":\"$producer\"" jd/journal.jsonl)" = 2 ] ||
		fail "producer $producer should have committed twice (once again on resume)"
}

test_manifest_lists_committed_files() {
	make_input
	pond_ok job.pond --job-dir jd --keep-intermediates
	local m
	for m in jd/data/*/t*/_manifest.json; do
		local dir files listed
		dir=$(dirname "$m")
		files=$(cd "$dir" && find . -type f ! -name _manifest.json | sed 's|^\./||' | LC_ALL=C sort)
		listed=$(q "SELECT unnest(from_json(json_extract(content, '\$.files'), '[\"JSON\"]'))->>0 AS f
		            FROM read_text($(sql_str "$m")) ORDER BY f")
		assert_same "manifest of $dir lists its files" "$listed" "$files"
	done
	# the journal's commit lines carry the manifests' hashes
	assert_true "commit lines have a manifest hash" \
		"$(q "SELECT bool_and(json_extract_string(json, '\$.manifest') SIMILAR TO '[0-9a-f]{16}')
		      FROM read_ndjson_objects('jd/journal.jsonl') WHERE json_extract_string(json, '\$.event') = 'commit'")"
	# and published outputs hold no manifest
	assert_missing out/_manifest.json
}

run_test deleted_bucket_file_fails_the_run_then_resume test_deleted_bucket_file_fails_the_run
run_test torn_bucket_file_fails_the_run_then_resume test_torn_bucket_file_fails_the_run
run_test resume_reproduces_deleted_intermediate test_resume_reproduces_deleted_intermediate
run_test manifest_lists_committed_files test_manifest_lists_committed_files
finish_tests
