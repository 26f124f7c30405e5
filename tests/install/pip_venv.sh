#!/usr/bin/env bash
# pip_venv.sh SOURCE_DIR BUILD_DIR — docs/PYTHON.md's pip install, as on a
# machine without a package index: a venv of Debian's python3 (with its
# system packages, for pandas and cloudpickle), `pip install SOURCE/python`
# --no-build-isolation (setuptools and wheel from Debian) with no index, no
# pip configuration and nothing on PYTHONPATH. Then, from a
# directory away from the sources, the installed package runs a job (a hash
# shuffle, a partial_sql, a Python map run by the venv's Python on the
# workers, take_all and to_pandas) over libpond.so named by POND_LIBRARY,
# and again over the library of a `cmake --install` prefix found through
# its bin/pond on PATH; every result compared with duckq's. Exit 77
# (skipped) when python3-venv, -setuptools or -wheel is not installed.
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
py=/usr/bin/python3
if ! "$py" -c 'import ensurepip, venv, setuptools, wheel' 2>/dev/null; then
	echo "pip_venv: SKIPPED: $py lacks venv/ensurepip, setuptools or wheel (Debian: apt-get install" \
		"python3-venv python3-setuptools python3-wheel; scripts/setup-test-deps.sh installs them)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# No index, no find-links, no configuration file of this machine's.
for v in $(env | sed -n 's/^\(PIP_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH PYTHONHOME
"$py" -m venv --system-site-packages "$work/venv"
# from a copy: setuptools leaves build/ and pond.egg-info/ beside the sources
cp -r "$src/python" "$work/pkg"
"$work/venv/bin/pip" install -q --no-build-isolation "$work/pkg"

cd "$work"
"$DUCKQ" "SELECT setseed(0.25)" \
	"COPY (SELECT i AS id, (random() * 40)::BIGINT AS g, (random() * 1000)::BIGINT AS k FROM range(20000) t(i))
	 TO 'in.parquet' (FORMAT parquet)" >/dev/null
want=$("$DUCKQ" "SELECT g, count(*), sum(k), sum(k * 2 + 1) FROM 'in.parquet' GROUP BY g ORDER BY g")

# $1: the directory the loaded libpond.so must be in.
job() {
	"$work/venv/bin/python" - "$work/venv" "$1" <<'PY'
import os
import sys

import pond

venv, libdir = sys.argv[1], sys.argv[2]
assert pond.__file__.startswith(venv + os.sep), f"pond imported from {pond.__file__}, not the venv"
assert os.path.realpath(os.path.dirname(pond._lib.lib._name)) == os.path.realpath(libdir), \
     f"loaded {pond._lib.lib._name}, not {libdir}/libpond.so"
sp = pond.init(data_root="py", num_workers=2)
d = sp.read_parquet("in.parquet").repartition(3, hash_by="g")
agg = sp.partial_sql("SELECT g, count(*)::BIGINT AS n, sum(k)::BIGINT AS s FROM {0} GROUP BY g", d).take_all()
m = d.map(lambda r: {"g": r["g"], "w": r["k"] * 2 + 1}, schema={"g": "BIGINT", "w": "BIGINT"})
frame = sp.partial_sql("SELECT g, sum(w)::BIGINT AS w FROM {0} GROUP BY g", m).to_pandas()
sp.shutdown()
w = dict(zip(frame["g"], frame["w"]))
assert len(w) == len(frame), "a group twice in to_pandas"
for r in sorted(agg, key=lambda r: r["g"]):
    print(f"{r['g']}\t{r['n']}\t{r['s']}\t{w[r['g']]}")
PY
}

lib=${POND_LIBRARY:-$build/libpond.so}
got=$(export POND_LIBRARY="$lib"; job "$(dirname "$lib")")
[ "$got" = "$want" ] || { echo "pip_venv: the job's result differs from duckq's:"; diff <(echo "$want") <(echo "$got") || true; exit 1; }

cmake --install "$build" --prefix "$work/prefix" >/dev/null
got=$(unset POND_LIBRARY LD_LIBRARY_PATH; export PATH="$work/prefix/bin:$PATH"; job "$work/prefix/lib")
[ "$got" = "$want" ] || { echo "pip_venv: the job over the installed library differs from duckq's"; exit 1; }
echo "pip_venv: pip installed the package offline into a venv; its jobs match duckq"
