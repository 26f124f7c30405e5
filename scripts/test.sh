#!/usr/bin/env bash
# README command 2: lint the sources (scripts/lint.sh), then build pond and
# run the whole test suite, twice: a normal build, then an AddressSanitizer
# + UBSan build. Then fuzzes the script parser briefly (FUZZ_SECONDS,
# default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

bash scripts/setup.sh             # DuckDB, which lint's clang-tidy reads
bash scripts/setup-test-deps.sh   # Slurm + munge for tests/slurm; the linters; chromium

echo "== lint"
bash scripts/lint.sh

echo "== build and test"
bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j2

echo "== AddressSanitizer + UBSan build and test"
bash scripts/build.sh build-asan -DPOND_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2

echo "== fuzz the script parser for ${FUZZ_SECONDS:-30} s"
mkdir -p build/fuzz/corpus
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc src/script/parser.c tests/fuzz/fuzz_parser.c \
  -include src/util/banned.h -o build/fuzz/fuzz_parser
build/fuzz/fuzz_parser -max_total_time="${FUZZ_SECONDS:-30}" build/fuzz/corpus tests/fuzz/corpus 2>&1 | tail -2
echo "fuzz: no crash"
