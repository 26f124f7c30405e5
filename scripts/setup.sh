#!/usr/bin/env bash
# Installs what pond needs to build, on a fresh Debian 12 machine:
# Debian packages (compiler, CMake, jansson, Open MPI) and DuckDB from npm
# (libduckdb.so from @duckdb/node-bindings-linux-x64, duckdb.h from
# duckdb@1.4.4), unpacked into the git-ignored folder third_party/duckdb/.
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.5.2-r.1"
DUCKDB_HDR_PKG="duckdb@1.4.4"
DEST=third_party/duckdb

need=()
for p in build-essential cmake pkg-config libjansson-dev openmpi-bin libopenmpi-dev npm clang; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# npm may come from elsewhere (e.g. nodesource); only install it if missing.
if command -v npm >/dev/null 2>&1; then
  need=("${need[@]/npm}")
fi
need=($(printf '%s\n' "${need[@]}" | grep -v '^$' || true))
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

stamp="$DEST/.installed-$(echo "$DUCKDB_LIB_PKG $DUCKDB_HDR_PKG" | tr '/@ ' '___')"
if [ ! -f "$stamp" ]; then
  echo "setup: fetching DuckDB ($DUCKDB_LIB_PKG, header from $DUCKDB_HDR_PKG) from npm"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$DUCKDB_LIB_PKG" "$DUCKDB_HDR_PKG" >/dev/null 2>&1)
  rm -rf "$DEST"
  mkdir -p "$DEST/lib" "$DEST/include"
  tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp" package/libduckdb.so
  mv "$tmp/package/libduckdb.so" "$DEST/lib/"
  tar -xzf "$tmp"/duckdb-1.4.4.tgz -C "$tmp" package/src/duckdb/src/include/duckdb.h
  mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$DEST/include/"
  touch "$stamp"
fi
