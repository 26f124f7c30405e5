# lib_mpi.sh — shared by the MPI tests: generated inputs, a pipeline that
# exercises every kind of shuffle, and a byte-for-byte comparison of two
# runs' outputs. Sourced after tests/e2e/lib.sh.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Writes in/*.parquet and job.pond (outputs under ${OUT}) in the cwd.
gen_inputs() {
	mkdir -p in
	for f in 0 1 2 3 4 5; do
		q "COPY (SELECT i AS id, 'k' || (hash(i) % 97) AS k, (hash(i * 31) % 100000) / 7.0 AS v,
		        md5(i::VARCHAR)[1:10] AS sk
		        FROM range($f * 20000, ($f + 1) * 20000) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
	q "COPY (SELECT 'k' || i AS k, 'name ' || i AS name FROM range(97) t(i)) TO 'in_dim.parquet'" >/dev/null
	cat > job.pond <<'P'
src = read_parquet('in/*.parquet')
dim = read_parquet('in_dim.parquet')
byk = src.repartition(4, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n, sum(v) AS s FROM {0} GROUP BY k', byk)
joined = partial_sql('SELECT a.k, d.name, a.n FROM {0} a JOIN {1} d USING (k)', agg, dim)
joined.write_parquet('${OUT}/joined')
srt = src.repartition(3, range_by='sk').partial_sort('sk, id')
srt.write_parquet('${OUT}/sorted')
src.random_shuffle(5).write_parquet('${OUT}/shuffled')
src.repartition(4, by_rows=true).filter('v > 100').write_csv('${OUT}/csv')
src.count()
P
}

# assert_same_outputs A B: every file under A/ and B/ identical, same names.
assert_same_outputs() {
	local a=$1 b=$2 f
	(cd "$a" && find . -type f | LC_ALL=C sort) > a.lst
	(cd "$b" && find . -type f | LC_ALL=C sort) > b.lst
	assert_same "file list of $b" "$(cat b.lst)" "$(cat a.lst)"
	while read -r f; do cmp "$a/$f" "$b/$f" || fail "$b/$f differs from $a/$f"; done < a.lst
}

# assert_same_rows_per_file A B: the same files, each holding the same rows
# (in any order). DuckDB's parallel aggregation and joins emit rows in an
# order that depends on thread timing, so runs with different per-task
# thread counts agree on what each file holds, not on its bytes.
assert_same_rows_per_file() {
	local a=$1 b=$2 f
	(cd "$a" && find . -type f | LC_ALL=C sort) > a.lst
	(cd "$b" && find . -type f | LC_ALL=C sort) > b.lst
	assert_same "file list of $b" "$(cat b.lst)" "$(cat a.lst)"
	while read -r f; do
		case "$f" in
		*.parquet)
			assert_same "rows of $b/$f" "$(q "SELECT * FROM read_parquet($(sql_str "$b/$f")) ORDER BY ALL")" \
				"$(q "SELECT * FROM read_parquet($(sql_str "$a/$f")) ORDER BY ALL")" ;;
		*.csv)
			assert_same "rows of $b/$f" "$(LC_ALL=C sort "$b/$f")" "$(LC_ALL=C sort "$a/$f")" ;;
		esac
	done < a.lst
}

# check_against_oracle DIR: the joined aggregate equals DuckDB's.
check_against_oracle() {
	assert_same "join+aggregate vs DuckDB" \
		"$(q "SELECT k, name, n FROM $(parts "$1/joined") ORDER BY k")" \
		"$(q "SELECT k, name, count(*) FROM read_parquet('in/*.parquet') JOIN 'in_dim.parquet' USING (k)
		      GROUP BY k, name ORDER BY k")"
}
