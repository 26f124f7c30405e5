#!/usr/bin/env bash
# runpath.sh BUILD_DIR — pond never loads a library from the directory it is
# run in. An empty RUNPATH entry (CMake pads build-tree RUNPATHs with a
# trailing ':') or a relative one makes the loader search the current
# directory, so a file named libm.so.6 in a user's data directory would be
# loaded into pond. Checked two ways, for the build tree and for a
# `cmake --install` prefix: every RUNPATH entry of bin/pond and libpond.so
# is absolute or starts at $ORIGIN; and, run from a directory holding a junk
# file under the name of every library they need, bin/pond runs a job and
# `import pond` runs one too, both compared with duckq.
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
P=$work/prefix

# every entry of an ELF file's RUNPATH/RPATH: absolute, or under $ORIGIN
check_entries() {
	local f=$1 path entry
	path=$(readelf -dW "$f" | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]$/\1/p')
	[ -n "$path" ] || return 0
	IFS=: read -r -a entries <<< "$path:"
	for entry in "${entries[@]}"; do
		case "$entry" in
		/* | '$ORIGIN' | '$ORIGIN/'*) ;;
		*) echo "runpath: $f has the entry '$entry' in its RUNPATH [$path]" \
			"(empty or relative: the loader searches the current directory)"; exit 1 ;;
		esac
	done
}
for f in "$build/pond" "$build/libpond.so" "$P/bin/pond" "$P/lib/libpond.so"; do
	check_entries "$f"
done

# a directory holding junk under the name of every library pond needs
cwd=$work/cwd
mkdir "$cwd"
duckdb_lib=$(ldd "$build/pond" | awk '$1 == "libduckdb.so" { print $3 }')
for f in "$build/pond" "$build/libpond.so" "$duckdb_lib"; do
	readelf -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
done | sort -u | while read -r lib; do
	echo "not a library" > "$cwd/$lib"
done
[ -e "$cwd/libc.so.6" ] && [ -e "$cwd/libduckdb.so" ] || { echo "runpath: no NEEDED list"; exit 1; }

cd "$cwd"
mkdir data
"$DUCKQ" "COPY (SELECT i AS k, i % 5 AS g FROM range(3000) t(i)) TO 'data/in.parquet' (FORMAT parquet)" >/dev/null
want=$("$DUCKQ" "SELECT g, count(*), sum(k)::BIGINT FROM 'data/in.parquet' GROUP BY g ORDER BY g")
for pond in "$build/pond" "$P/bin/pond"; do
	rm -rf out .pond
	env -u LD_LIBRARY_PATH "$pond" sql -w 2 --progress none -o out \
		"SELECT g, count(*) AS n, sum(k)::BIGINT AS s FROM 'data/in.parquet' GROUP BY g"
	got=$("$DUCKQ" "SELECT g, n, s FROM 'out/*.parquet' ORDER BY g")
	[ "$got" = "$want" ] || { echo "runpath: $pond's result differs:"; echo "$got"; exit 1; }
done
for lib in "$build/libpond.so" "$P/lib/libpond.so"; do
	got=$(env -u LD_LIBRARY_PATH POND_LIBRARY="$lib" PYTHONPATH="$P/lib/python" /usr/bin/python3 -c "
import pond
sp = pond.init(data_root='py', num_workers=2)
d = sp.read_parquet('data/in.parquet').repartition(3, hash_by='g')
rows = sp.partial_sql('SELECT g, count(*)::BIGINT AS n, sum(k)::BIGINT AS s FROM {0} GROUP BY g', d).take_all()
print('\n'.join(f\"{r['g']}\t{r['n']}\t{r['s']}\" for r in sorted(rows, key=lambda r: r['g'])))
sp.shutdown()
")
	[ "$got" = "$want" ] || { echo "runpath: import pond over $lib differs:"; echo "$got"; exit 1; }
done
echo "runpath: no library is looked for in the current directory (build tree and installed)"
