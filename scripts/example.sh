#!/usr/bin/env bash
# README command 1: build pond and run the quickstart example on all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build
echo "+ build/pond run examples/quickstart.pond"
build/pond run examples/quickstart.pond
echo "Output: $(ls out/quickstart/stats | tr '\n' ' ')"
