#!/usr/bin/env bash
# Installs dependencies (scripts/setup.sh) and builds pond into build/.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dir=${1:-build}
shift || true
werror=OFF
[ "${CI:-}" = true ] && werror=ON
cmake -S . -B "$dir" -DPOND_WERROR=$werror "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
