#!/usr/bin/env bash
# lint.sh — static checks of pond's C sources; exits 1 on any finding, 2
# when a tool or DuckDB is missing (scripts/setup.sh, then
# scripts/setup-test-deps.sh). scripts/test.sh runs it first.
#  1. clang-tidy with .clang-tidy, over build-lint/compile_commands.json
#     (configured here; nothing is built);
#  2. cppcheck (warning, performance, portability);
#  3. sizes: no function in src/ over 100 lines, no file over 1,200;
#  4. JSON is read (json_object_get, json_loads, json_unpack, …) in at most
#     4 files of src/: the one codec (plan/task_codec.c), manifests
#     (util/manifest.c), the plan-time DuckDB's replies (engine/plandb.c)
#     and DuckDB's parse trees (plan/sqltree.c);
#  5. clang-format --dry-run --Werror over src/ and include/.
# Usage: scripts/lint.sh [JOBS (2)]; clang-tidy, the slow step, takes
# about 3 minutes on 2 busy cores.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-2}
MAX_FUNC_LINES=100
MAX_FILE_LINES=1200
MAX_JSON_FILES=4

for t in clang-tidy cppcheck clang-format cmake; do
	if ! command -v "$t" >/dev/null; then
		echo "lint: $t is not installed: run scripts/setup-test-deps.sh" >&2
		exit 2
	fi
done
if [ ! -f third_party/duckdb/include/duckdb.h ]; then
	echo "lint: DuckDB's header is missing: run scripts/setup.sh" >&2
	exit 2
fi

mapfile -t srcs < <(find src -name '*.c' | sort)
mapfile -t hdrs < <(find src include -name '*.h' | sort)
failed=()
t0=$SECONDS

step() {
	echo "== lint: $1"
	ts=$SECONDS
}
done_step() { # NAME RC
	if [ "$2" != 0 ]; then
		failed+=("$1")
		echo "lint: $1: FAILED ($((SECONDS - ts)) s)"
	else
		echo "lint: $1: clean ($((SECONDS - ts)) s)"
	fi
}

step "clang-tidy (${#srcs[@]} files, $jobs jobs)"
rc=0
mkdir -p build-lint
if ! cmake -S . -B build-lint -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DBUILD_TESTING=OFF >build-lint/configure.log 2>&1; then
	cat build-lint/configure.log
	rc=1
fi
if [ $rc = 0 ]; then
	# one file a process; a file's diagnostics only when it has findings
	printf '%s\n' "${srcs[@]}" | nice xargs -P"$jobs" -n1 sh -c \
		'out=$(clang-tidy -quiet -p build-lint "$0" 2>&1) || { printf "%s\n" "$out" | grep -v " warnings\? generated\.$"; exit 1; }' ||
		rc=1
fi
done_step clang-tidy $rc

step cppcheck
# readdir: readdir_r, which it suggests, is deprecated (glibc, POSIX
# 2024); each DIR stream is read by one thread.
nice cppcheck -q -j"$jobs" --std=c11 -D_GNU_SOURCE -Isrc -Iinclude \
	--library=posix --library=scripts/jansson.cfg \
	--enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
	--suppress=missingIncludeSystem --suppress=readdirCalled src
done_step cppcheck $?

step "sizes (functions <= $MAX_FUNC_LINES lines, files <= $MAX_FILE_LINES)"
# A function runs from its `{` alone on a line to the next `}` alone on a
# line (.clang-format's Linux braces: nothing else puts `{` there); its
# name is on the last line before it that starts at column 0.
out=$(awk -v max="$MAX_FUNC_LINES" '
	FNR == 1 { start = 0 }
	/^[A-Za-z_]/ { sig = $0; sigat = FNR }
	/^\{$/ { start = FNR; name = sig; line = sigat }
	/^\}$/ && start {
		n = FNR - start + 1
		if (n > max)
			printf "%s:%d: %s: %d lines, more than %d\n", FILENAME, line, name, n, max
		start = 0
	}' "${srcs[@]}")
for f in "${srcs[@]}" "${hdrs[@]}"; do
	n=$(wc -l <"$f")
	[ "$n" -gt $MAX_FILE_LINES ] && out+=$'\n'"$f: $n lines, more than $MAX_FILE_LINES"
done
out=$(printf '%s' "$out" | sed '/^$/d')
[ -n "$out" ] && printf '%s\n' "$out"
done_step sizes "$([ -z "$out" ] && echo 0 || echo 1)"

step "JSON read in at most $MAX_JSON_FILES files of src/"
mapfile -t readers < <(grep -lE 'json_(object_get|array_get|load[a-z_]*|unpack[a-z_]*|array_foreach|object_foreach)\b|json_[a-z]+_value\(' -r src | sort)
rc=0
if [ "${#readers[@]}" -gt $MAX_JSON_FILES ]; then
	echo "lint: ${#readers[@]} files read JSON (${readers[*]}): decode in plan/task_codec.c and pass structs"
	rc=1
fi
done_step json $rc

step clang-format
clang-format --dry-run --Werror "${srcs[@]}" "${hdrs[@]}"
done_step clang-format $?

if [ "${#failed[@]}" -gt 0 ]; then
	echo "lint: FAILED: ${failed[*]} ($((SECONDS - t0)) s)"
	exit 1
fi
echo "lint: clean ($((SECONDS - t0)) s)"
