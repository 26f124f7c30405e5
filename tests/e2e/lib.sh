# lib.sh — shared helpers of pond's end-to-end tests (sourced by each
# tests/e2e/*.sh). Every test case is a shell function run by run_test in a
# subshell with `set -euo pipefail`, inside its own mktemp directory that is
# removed afterwards (kept when E2E_KEEP=1). Results are compared with the
# oracle: duckq, a single-process DuckDB that runs the equivalent SQL on the
# same generated data. Nothing here types an expected value by hand.
#
# Environment: POND, DUCKQ (paths of the built binaries; CTest passes them),
# E2E_ONLY (a substring: run only the matching tests), E2E_KEEP=1,
# HANG_GUARD (seconds, default 300: see wait_until).
#
# No test depends on timing or on an idle machine: a test waits for a state
# (a file, a journal line, a pid, a stopped process), never for a sleep, and
# asserts no durations. Where pond's own timing would make a test racy, a
# test hook fixes it (POND_TEST_*, docs/FAULTS.md "Test hooks").

set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${POND:=$E2E_DIR/../../build/pond}"
: "${DUCKQ:=$E2E_DIR/../../build/tests/duckq}"
POND=$(cd "$(dirname "$POND")" && pwd)/$(basename "$POND")
DUCKQ=$(cd "$(dirname "$DUCKQ")" && pwd)/$(basename "$DUCKQ")
[ -x "$POND" ] || { echo "lib.sh: pond not found at $POND (set POND=)" >&2; exit 2; }
[ -x "$DUCKQ" ] || { echo "lib.sh: duckq not found at $DUCKQ (set DUCKQ=)" >&2; exit 2; }
W=${W:-2}
HANG_GUARD=${HANG_GUARD:-300}

E2E_PASS=0
E2E_FAIL=0
E2E_FAILED=()

# ---- running tests ---------------------------------------------------------

# run_test NAME FUNCTION: runs FUNCTION in a fresh directory (its cwd).
run_test() {
	local name=$1 fn=$2 dir rc t0 t1
	if [ -n "${E2E_ONLY:-}" ] && [[ $name != *"$E2E_ONLY"* ]]; then
		return 0
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/pond-e2e.XXXXXX")
	mkdir "$dir/w"
	t0=$(date +%s%N)
	(
		set -euo pipefail
		cd "$dir/w"
		T=$(pwd -P)
		export T
		"$fn"
	) >"$dir/log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	if [ $rc -eq 0 ]; then
		E2E_PASS=$((E2E_PASS + 1))
		printf 'PASS  %-52s %6d ms\n' "$name" $(((t1 - t0) / 1000000))
	else
		E2E_FAIL=$((E2E_FAIL + 1))
		E2E_FAILED+=("$name")
		printf 'FAIL  %-52s %6d ms\n' "$name" $(((t1 - t0) / 1000000))
		sed 's/^/    | /' "$dir/log" | tail -n 80
	fi
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "    (kept $dir)"
	else
		chmod -R u+rwX "$dir" 2>/dev/null
		rm -rf "$dir"
	fi
}

# Prints the summary; the script's exit status is 1 if any test failed.
finish_tests() {
	echo "---- $(basename "$0"): $E2E_PASS passed, $E2E_FAIL failed"
	if [ $E2E_FAIL -ne 0 ]; then
		printf '  failed: %s\n' "${E2E_FAILED[@]}"
		exit 1
	fi
	if [ $E2E_PASS -eq 0 ]; then
		echo "  no test ran" >&2
		exit 1
	fi
	exit 0
}

# ---- assertions (inside a test: they end it on failure) --------------------

fail() {
	echo "ASSERTION FAILED: $*" >&2
	exit 1
}

# assert_same DESC ACTUAL EXPECTED: equal text; the expected (oracle) side
# must not be empty, so that a test comparing two empty results cannot pass.
assert_same() {
	local desc=$1 actual=$2 expected=$3
	[ -n "$expected" ] || fail "$desc: the oracle returned nothing (test bug?)"
	if [ "$actual" != "$expected" ]; then
		echo "--- $desc: pond (<) vs oracle (>)" >&2
		diff <(printf '%s\n' "$actual") <(printf '%s\n' "$expected") | head -n 40 >&2
		fail "$desc: pond's result differs from the oracle's"
	fi
}

# assert_differ DESC A B
assert_differ() {
	[ "$2" != "$3" ] || fail "$1: expected different results, both are: $(printf '%s' "$2" | head -c 300)"
}

# assert_empty DESC TEXT: a query that lists violations returned none.
assert_empty() {
	[ -z "$2" ] || fail "$1: $(printf '%s' "$2" | head -n 20)"
}

# assert_true DESC TEXT: duckq printed "true".
assert_true() {
	[ "$2" = true ] || fail "$1 (got '$2')"
}

assert_contains() { # DESC FILE SUBSTRING
	grep -qF -- "$3" "$2" || { echo "--- $2:" >&2; head -c 3000 "$2" >&2; fail "$1: '$3' not found"; }
}

assert_matches() { # DESC FILE EXTENDED-REGEX
	grep -qE -- "$3" "$2" || { echo "--- $2:" >&2; head -c 3000 "$2" >&2; fail "$1: /$3/ not found"; }
}

assert_not_contains() { # DESC FILE SUBSTRING
	! grep -qF -- "$3" "$2" || { echo "--- $2:" >&2; head -c 3000 "$2" >&2; fail "$1: '$3' found"; }
}

assert_exists() { [ -e "$1" ] || fail "expected $1 to exist"; }
assert_missing() { [ ! -e "$1" ] || fail "expected $1 not to exist"; }

# No file named pwned (command injection) anywhere under the test dir.
assert_no_pwned() {
	local hits
	hits=$(find "$T/.." -name pwned 2>/dev/null || true)
	[ -z "$hits" ] || fail "a file named pwned was created: $hits"
	[ ! -e "$HOME/pwned" ] || fail "a file named pwned was created in \$HOME"
	[ ! -e /tmp/pwned ] || fail "a file named pwned was created in /tmp"
}

# ---- running pond ----------------------------------------------------------

# pond_ok SCRIPT [ARGS...]: pond run, must exit 0. stdout → out.txt,
# stderr → err.txt (in the cwd).
pond_ok() {
	local script=$1 rc=0
	shift
	"$POND" run "$script" --progress none -w "$W" "$@" >out.txt 2>err.txt || rc=$?
	if [ $rc -ne 0 ]; then
		echo "--- stderr:" >&2
		head -c 4000 err.txt >&2
		fail "pond run $script $* exited $rc, expected 0"
	fi
}

# pond_rc EXPECTED_RC SCRIPT [ARGS...]: pond run, must exit EXPECTED_RC.
pond_rc() {
	local want=$1 script=$2 rc=0
	shift 2
	"$POND" run "$script" --progress none -w "$W" "$@" >out.txt 2>err.txt || rc=$?
	if [ $rc -ne "$want" ]; then
		echo "--- stdout:" >&2
		head -c 2000 out.txt >&2
		echo "--- stderr:" >&2
		head -c 4000 err.txt >&2
		fail "pond run $script $* exited $rc, expected $want"
	fi
}

# pond_cli EXPECTED_RC ARGS...: any pond command line.
pond_cli() {
	local want=$1 rc=0
	shift
	"$POND" "$@" >out.txt 2>err.txt || rc=$?
	if [ $rc -ne "$want" ]; then
		echo "--- stdout:" >&2
		head -c 2000 out.txt >&2
		echo "--- stderr:" >&2
		head -c 4000 err.txt >&2
		fail "pond $* exited $rc, expected $want"
	fi
}

# ---- the oracle -------------------------------------------------------------

q() { "$DUCKQ" "$@"; }

# sql_str TEXT: TEXT as a SQL string literal.
sql_str() { printf "'%s'" "${1//\'/\'\'}"; }

# pond_str TEXT: TEXT as a .pond '…' string literal.
pond_str() { printf "'%s'" "${1//\'/\'\'}"; }

# parts DIR: SQL reading every part file of a pond output dir (parquet).
parts() { printf "read_parquet(%s)" "$(sql_str "$1/*.parquet")"; }

# part_files DIR: the part files of DIR, one per line, sorted.
part_files() { find "$1" -maxdepth 1 -name 'part-*' | LC_ALL=C sort; }

# part_count DIR
part_count() { part_files "$1" | wc -l | tr -d ' '; }

# published DIR: an output dir with _SUCCESS and at least one part file.
assert_published() {
	[ -d "$1" ] || fail "output $1 was not written"
	[ -f "$1/_SUCCESS" ] || fail "output $1 has no _SUCCESS"
	[ -n "$(find "$1" -name 'part-*' | head -n 1)" ] || fail "output $1 has no part files"
}

# assert_not_published DIR: no output dir (or an empty one), no _SUCCESS,
# no staging dir left next to it.
assert_not_published() {
	local d=$1 parent base
	parent=$(dirname "$d")
	base=$(basename "$d")
	[ ! -e "$d/_SUCCESS" ] || fail "$d/_SUCCESS exists"
	if [ -d "$d" ]; then
		[ -z "$(ls -A "$d")" ] || fail "$d is not empty: $(ls -A "$d")"
	fi
	local left
	left=$(find "$parent" -maxdepth 2 -path "$parent/.$base.pond-staging-*/.publish" 2>/dev/null)
	[ -z "$left" ] || fail "a publish dir was left: $left"
}

# staging_dirs OUT: the staging (and staging trash) dirs pond keeps next to
# output OUT (<parent>/.<name>.pond-staging-<job id>[.trash]), one a line.
staging_dirs() {
	local parent base
	parent=$(dirname "$1")
	base=$(basename "$1")
	find "$parent" -mindepth 1 -maxdepth 1 -name ".$base.pond-staging-*" 2>/dev/null | LC_ALL=C sort
}

# assert_no_staging OUT...: nothing of a publish is left next to the outputs.
assert_no_staging() {
	local d
	for d in "$@"; do
		[ -z "$(staging_dirs "$d")" ] || fail "staging left next to $d: $(staging_dirs "$d")"
	done
}

# job_dirs: the default job directories under .pond/ of the cwd, one a line.
job_dirs() { find .pond -mindepth 1 -maxdepth 1 -type d 2>/dev/null | LC_ALL=C sort; }

# show_rows FILE: the body rows of show()'s box table as TSV.
show_rows() {
	grep '^│' "$1" | tail -n +2 | sed -e 's/^│ *//' -e 's/ *│$//' -e 's/ *│ */\t/g'
}

# show_header FILE: the header row of show()'s table as TSV.
show_header() {
	grep '^│' "$1" | head -n 1 | sed -e 's/^│ *//' -e 's/ *│$//' -e 's/ *│ */\t/g'
}

# File content digest list of a directory tree (relative paths).
tree_digest() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# wait_until DESC COMMAND...: runs COMMAND every 20 ms until it succeeds: a
# wait for a state, however slow the machine. The bound, HANG_GUARD
# seconds, only catches a hang: reaching it fails the test naming DESC.
wait_until() {
	local desc=$1 t0=$SECONDS
	shift
	until "$@"; do
		[ $((SECONDS - t0)) -lt "$HANG_GUARD" ] || fail "waited $HANG_GUARD s for $desc"
		sleep 0.02
	done
}

# start_watchdog PID: SIGKILLs PID if it still runs after HANG_GUARD
# seconds (a hang, not a slow run) and leaves a file "hung" in the cwd;
# sets WATCHDOG to the watchdog's pid (wait for it once PID has ended,
# then check for "hung").
start_watchdog() {
	local pid=$1
	rm -f hung
	(
		t0=$SECONDS
		while [ $((SECONDS - t0)) -lt "$HANG_GUARD" ]; do
			sleep 0.1
			kill -0 "$pid" 2>/dev/null || exit 0
		done
		echo hung >hung
		kill -9 "$pid"
	) >/dev/null 2>&1 &
	WATCHDOG=$!
}

# ---- stopping pond at a named point (src/util/testpoint.h) --------------------

# pond_bg_stopped POINT PIDFILE OUTPREFIX SCRIPT [ARGS...]: starts pond run
# in the background with POND_TEST_STOP_AT=POINT, stdout/stderr to
# OUTPREFIX.out/.err; BG is its pid. Then wait_stopped PIDFILE.
pond_bg_stopped() {
	local point=$1 pidfile=$2 prefix=$3 script=$4
	shift 4
	rm -f "$pidfile"
	POND_TEST_STOP_AT=$point POND_TEST_STOP_FILE=$pidfile \
		"$POND" run "$script" --progress none -w "$W" "$@" >"$prefix.out" 2>"$prefix.err" &
	BG=$!
	# a test that fails while pond is held must not leave it stopped (only
	# while it is still this shell's un-reaped child: never a reused pid)
	trap 'if jobs -p | grep -qx "$BG"; then kill -KILL "$BG" 2>/dev/null; fi' EXIT
}

# stopped PIDFILE [PID]: the process that wrote PIDFILE is stopped (and
# PIDFILE's pid is printed); fails the test if PID (the background pond)
# has ended before.
stopped() {
	local f=$1 bg=${2:-} pid
	if [ -s "$f" ]; then
		pid=$(cat "$f")
		if grep -q '^State:.*T (stopped)' "/proc/$pid/status" 2>/dev/null; then
			echo "$pid"
			return 0
		fi
	elif [ -n "$bg" ] && ! kill -0 "$bg" 2>/dev/null; then
		fail "pond (pid $bg) ended before it stopped at its test point"
	fi
	return 1
}

# wait_stopped PIDFILE [PID]: waits until the process that wrote PIDFILE
# is stopped, and prints its pid; fails early if PID (the background pond)
# has ended.
wait_stopped() {
	wait_until "a process stopped at its test point (pid file $1)" stopped "$@"
}

# gone PID: process PID no longer exists (a zombie still does).
gone() { [ ! -e "/proc/$1" ]; }

# wait_gone PID: waits until process PID no longer exists.
wait_gone() {
	wait_until "process $1 to end" gone "$1"
}
