#!/usr/bin/env bash
# install.sh BUILD_DIR — `cmake --install` into a prefix, then move the tree
# elsewhere: the moved bin/pond runs a script, and `import pond` from its
# lib/python runs a pipeline with nothing else on the path (no
# POND_LIBRARY, no LD_LIBRARY_PATH); both results compared with duckq.
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
mv "$work/prefix" "$work/moved"
P=$work/moved
for f in bin/pond lib/libpond.so lib/libduckdb.so include/pond.h lib/python/pond/__init__.py; do
	[ -e "$P/$f" ] || { echo "install: $f is missing"; exit 1; }
done
if ldd "$P/bin/pond" "$P/lib/libpond.so" | grep -q 'not found'; then
	ldd "$P/bin/pond" "$P/lib/libpond.so"
	exit 1
fi
if ldd "$P/bin/pond" | grep libduckdb | grep -vq "$P/"; then
	echo "install: bin/pond does not use the installed libduckdb.so"; exit 1
fi
cd "$work"
"$DUCKQ" "COPY (SELECT i AS k, i % 7 AS g FROM range(5000) t(i)) TO 'in.parquet' (FORMAT parquet)" >/dev/null
want=$("$DUCKQ" "SELECT g, count(*) FROM 'in.parquet' GROUP BY g ORDER BY g")
cat > job.pond <<'POND'
d = read_parquet('in.parquet').repartition(3, hash_by='g')
partial_sql('SELECT g, count(*) AS n FROM {0} GROUP BY g', d).write_parquet('out')
POND
env -u LD_LIBRARY_PATH "$P/bin/pond" run -w 2 --progress none job.pond
got=$("$DUCKQ" "SELECT g, sum(n) FROM 'out/*.parquet' GROUP BY g ORDER BY g")
[ "$got" = "$want" ] || { echo "install: bin/pond's result differs"; exit 1; }
got=$(env -u LD_LIBRARY_PATH -u POND_LIBRARY PYTHONPATH="$P/lib/python" /usr/bin/python3 -c "
import pond
sp = pond.init(data_root='py', num_workers=2)
d = sp.read_parquet('in.parquet').repartition(3, hash_by='g')
rows = sp.partial_sql('SELECT g, count(*)::BIGINT AS n FROM {0} GROUP BY g', d).take_all()
print('\n'.join(f\"{r['g']}\t{r['n']}\" for r in sorted(rows, key=lambda r: r['g'])))
sp.shutdown()
assert pond._lib.lib._name.startswith('$P'), pond._lib.lib._name
")
[ "$got" = "$want" ] || { echo "install: import pond's result differs:"; echo "$got"; exit 1; }
echo "install: the moved tree runs pond and import pond"
