#!/usr/bin/env bash
# Actions of docs/PIPELINES.md: write_parquet (part files + _SUCCESS,
# partition_by= hive dirs, compression=, mode='error' refusing a non-empty
# dir before any work, mode='overwrite' replacing), write_csv, show(df, n)
# and count(df) on stdout. Compared with DuckDB on the same data.
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	q "COPY (SELECT i, (hash(i) % 300)::BIGINT AS k, 'g' || (i % 4) AS g, i % 3 AS h, 's' || i AS s
	         FROM range(6000) t(i)) TO 'in/a.parquet'" >/dev/null
	q "COPY (SELECT i, (hash(i) % 300)::BIGINT AS k, 'g' || (i % 4) AS g, i % 3 AS h, 's' || i AS s
	         FROM range(6000, 9000) t(i)) TO 'in/b.parquet'" >/dev/null
}
IN="read_parquet('in/*.parquet')"

test_write_parquet_parts_and_success() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_published out
	# part-00000.parquet … part-00002.parquet, _SUCCESS, nothing else
	assert_same "file names" "$(ls -A out | LC_ALL=C sort)" \
		"$(q "SELECT * FROM (SELECT printf('part-%05d.parquet', i) FROM range(3) t(i) UNION ALL SELECT '_SUCCESS') ORDER BY 1 COLLATE C")"
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(q "SELECT * FROM $IN ORDER BY ALL")"
	assert_no_staging out
}

test_write_parquet_partition_by() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
df.write_parquet('out', partition_by='g')
df.write_parquet('out2', partition_by=['g', 'h'])
EOF
	pond_ok job.pond
	assert_exists out/_SUCCESS
	assert_exists out2/_SUCCESS
	assert_same "one g=<value> dir per value" "$(cd out && ls -d g=* | LC_ALL=C sort)" \
		"$(q "SELECT DISTINCT 'g=' || g FROM $IN ORDER BY 1 COLLATE C")"
	assert_same "hive read-back" \
		"$(q "SELECT i, k, g, h, s FROM read_parquet('out/*/*.parquet', hive_partitioning=true) ORDER BY ALL")" \
		"$(q "SELECT i, k, g, h, s FROM $IN ORDER BY ALL")"
	assert_same "rows of g=X only have g = X" \
		"$(q "SELECT DISTINCT regexp_extract(filename, 'g=([^/]+)/', 1) AS d, g FROM read_parquet('out/*/*.parquet', hive_partitioning=true, filename=true) ORDER BY ALL")" \
		"$(q "SELECT DISTINCT g, g FROM $IN ORDER BY ALL")"
	assert_same "two-level dirs" "$(cd out2 && ls -d g=*/h=* | LC_ALL=C sort)" \
		"$(q "SELECT DISTINCT 'g=' || g || '/h=' || h FROM $IN ORDER BY 1 COLLATE C")"
	assert_same "two-level hive read-back" \
		"$(q "SELECT i, k, g, h, s FROM read_parquet('out2/*/*/*.parquet', hive_partitioning=true) ORDER BY ALL")" \
		"$(q "SELECT i, k, g, h, s FROM $IN ORDER BY ALL")"
}

# compression of every column chunk of the files under DIR
codecs() { q "SELECT DISTINCT compression FROM parquet_metadata($(sql_str "$1/*.parquet"))"; }

test_write_parquet_compression() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(2)
df.write_parquet('out_default')
df.write_parquet('out_gzip', compression='gzip')
df.write_parquet('out_snappy', compression='snappy')
df.write_parquet('out_uncompressed', compression='uncompressed')
EOF
	pond_ok job.pond
	# the oracle: DuckDB writing the same rows with the same codec
	local c
	for c in zstd gzip snappy uncompressed; do
		local dir=out_$c
		[ $c = zstd ] && dir=out_default
		mkdir -p "ref_$c"
		q "COPY (SELECT * FROM $IN) TO 'ref_$c/x.parquet' (FORMAT parquet, COMPRESSION $c)" >/dev/null
		assert_same "$dir codec" "$(codecs "$dir")" "$(codecs "ref_$c")"
		assert_same "$dir rows" "$(q "SELECT * FROM $(parts "$dir") ORDER BY ALL")" "$(q "SELECT * FROM $IN ORDER BY ALL")"
	done
	assert_differ "codecs differ" "$(codecs out_gzip)" "$(codecs out_snappy)"
}

test_mode_error_refuses_before_work() {
	make_input
	mkdir out
	echo "precious" >out/keep.txt
	touch -d '2001-01-01' out/keep.txt out
	local before
	before=$(stat -c '%n %s %Y %i' out out/keep.txt; ls -A out; sha256sum out/keep.txt)
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
df.write_parquet('fine')
df.write_parquet('out')
EOF
	pond_rc 2 job.pond --job-dir jd
	assert_contains "the message names the output dir" err.txt "$T/out"
	assert_contains "the message says why" err.txt "not empty"
	assert_matches "the message names the script line" err.txt "job.pond:3"
	assert_same "the output dir is untouched" "$(stat -c '%n %s %Y %i' out out/keep.txt; ls -A out; sha256sum out/keep.txt)" "$before"
	# before any work: no job dir, and the other sink was not written
	assert_missing jd
	assert_missing fine
	assert_no_staging fine out
}

test_mode_error_accepts_empty_dir() {
	make_input
	mkdir out
	cat >job.pond <<'EOF'
read_parquet('in/*.parquet').write_parquet('out', mode='error')
EOF
	pond_ok job.pond
	assert_published out
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(q "SELECT * FROM $IN ORDER BY ALL")"
}

test_mode_overwrite_replaces() {
	make_input
	cat >job1.pond <<'EOF'
df = read_parquet('in/*.parquet').filter('i % 2 = 0').repartition(4, hash_by='k')
df.write_parquet('out', mode='overwrite')
EOF
	cat >job2.pond <<'EOF'
df = read_parquet('in/*.parquet').filter('${COND}').repartition(2, hash_by='k')
df.write_parquet('out', mode='overwrite')
EOF
	pond_ok job1.pond --job-dir jd
	[ "$(part_count out)" = 4 ] || fail "first run: expected 4 parts"
	echo stale >out/stale.txt
	pond_ok job2.pond -D 'COND=i % 2 = 1' --job-dir jd
	assert_published out
	assert_same "only the new files are left" "$(ls -A out | LC_ALL=C sort)" \
		"$(q "SELECT * FROM (SELECT printf('part-%05d.parquet', i) FROM range(2) t(i) UNION ALL SELECT '_SUCCESS') ORDER BY 1 COLLATE C")"
	assert_same "the new rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM $IN WHERE i % 2 = 1 ORDER BY ALL")"
	assert_no_staging out
}

test_write_csv() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(3, hash_by='k')
df.write_csv('out')
df.write_csv('out_semi', header=false, delim=';')
EOF
	pond_ok job.pond
	assert_exists out/_SUCCESS
	assert_same "file names" "$(cd out && ls part-* | LC_ALL=C sort)" \
		"$(q "SELECT printf('part-%05d.csv', i) FROM range(3) t(i) ORDER BY 1")"
	assert_same "csv read-back" "$(q "SELECT * FROM read_csv('out/part-*.csv') ORDER BY ALL")" \
		"$(q "SELECT * FROM $IN ORDER BY ALL")"
	assert_same "header line" "$(head -n 1 out/part-00000.csv)" \
		"$(q "SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM $IN)")"
	assert_same "no header, ';'" \
		"$(q "SELECT * FROM read_csv('out_semi/part-*.csv', header=false, delim=';',
		        columns={'i': 'BIGINT', 'k': 'BIGINT', 'g': 'VARCHAR', 'h': 'BIGINT', 's': 'VARCHAR'}) ORDER BY ALL")" \
		"$(q "SELECT * FROM $IN ORDER BY ALL")"
}

test_show() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
top = sql('SELECT i, k, g, s FROM {0} ORDER BY k DESC, i LIMIT 100', df)
top.show(7)
top.show()
parts = df.repartition(3, hash_by='k')
parts.show(5)
EOF
	pond_ok job.pond
	# three tables, in script order
	[ "$(grep -c '^┌' out.txt)" = 3 ] || fail "expected 3 tables on stdout"
	csplit -s -z -f tbl out.txt '/^┌/' '{*}'
	assert_same "show(7): header" "$(show_header tbl00)" "$(printf 'i\tk\tg\ts')"
	assert_same "show(7): rows" "$(show_rows tbl00)" \
		"$(q "SELECT i, k, g, s FROM $IN ORDER BY k DESC, i LIMIT 7")"
	assert_same "show() shows 20" "$(show_rows tbl01)" \
		"$(q "SELECT i, k, g, s FROM $IN ORDER BY k DESC, i LIMIT 20")"
	# a 3-partition dataset: 5 rows, each an input row
	assert_same "show(5) of 3 partitions: 5 rows" "$(show_rows tbl02 | wc -l | tr -d ' ')" \
		"$(q "SELECT least(5, count(*)) FROM $IN")"
	local rows
	rows=$(show_rows tbl02 | sed 's/\t/,/g')
	assert_same "show(5): rows are input rows" \
		"$(q "SELECT count(*) FROM $IN WHERE (i || ',' || k || ',' || g || ',' || h || ',' || s) IN
		      (SELECT unnest(string_split($(sql_str "$rows"), chr(10))))")" \
		"$(q "SELECT least(5, count(*)) FROM $IN")"
	assert_contains "row count line" tbl00 "7 rows"
}

test_count() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
df.count()
df.repartition(4, hash_by='k').filter('k % 7 = 3').count()
partial_sql('SELECT * FROM range(0)').count()
EOF
	pond_ok job.pond
	assert_same "count lines" "$(cat out.txt)" \
		"$(q "SELECT (SELECT count(*) FROM $IN) || chr(10) || (SELECT count(*) FROM $IN WHERE k % 7 = 3) || chr(10) || (SELECT count(*) FROM range(0))")"
}

run_test write_parquet_part_files_and_success test_write_parquet_parts_and_success
run_test write_parquet_partition_by_hive_dirs test_write_parquet_partition_by
run_test write_parquet_compression_codecs test_write_parquet_compression
run_test write_mode_error_refuses_nonempty_before_work test_mode_error_refuses_before_work
run_test write_mode_error_accepts_empty_dir test_mode_error_accepts_empty_dir
run_test write_mode_overwrite_replaces_output test_mode_overwrite_replaces
run_test write_csv_header_and_delim test_write_csv
run_test show_n_rows_values test_show
run_test count_prints_row_count test_count
finish_tests
