#!/usr/bin/env bash
# Sources of docs/PIPELINES.md: read_parquet (paths as glob / list, columns=,
# union_by_name=, hive_partitioning=, filename=), read_csv (header, delim,
# columns= map), read_json (auto and columns=), partial_sql with no inputs.
# Each is written with write_parquet and read back, then compared with
# DuckDB running the same read on the same files.
source "$(dirname "$0")/lib.sh"

# three parquet files of different sizes: i, k, s, d
make_parquet_inputs() {
	mkdir -p in
	q "COPY (SELECT i, hash(i) % 1000 AS k, 'v' || i AS s, DATE '2024-01-01' + (i % 365)::INT AS d
	         FROM range(0, 3000) t(i)) TO 'in/a0.parquet'" >/dev/null
	q "COPY (SELECT i, hash(i) % 1000 AS k, 'v' || i AS s, DATE '2024-01-01' + (i % 365)::INT AS d
	         FROM range(3000, 3500) t(i)) TO 'in/a1.parquet'" >/dev/null
	q "COPY (SELECT i, hash(i) % 1000 AS k, 'v' || i AS s, DATE '2024-01-01' + (i % 365)::INT AS d
	         FROM range(3500, 10000) t(i)) TO 'in/a2.parquet'" >/dev/null
}

# schema of a relation: name and type per column, in order
schema_of() { q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $1)"; }

test_read_parquet_glob() {
	make_parquet_inputs
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_published out
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet('in/*.parquet') ORDER BY ALL")"
	assert_same "schema" "$(schema_of "$(parts out)")" "$(schema_of "read_parquet('in/*.parquet')")"
	# a source is one partition
	[ "$(part_count out)" = 1 ] || fail "a source should be one partition, got $(part_count out) files"
}

test_read_parquet_list_of_paths() {
	make_parquet_inputs
	cat >job.pond <<'EOF'
df = read_parquet(['in/a2.parquet', 'in/a0.parquet'])
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet(['in/a2.parquet', 'in/a0.parquet']) ORDER BY ALL")"
}

test_read_parquet_directory_path() {
	make_parquet_inputs
	cat >job.pond <<'EOF'
df = read_parquet('in')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet('in/*.parquet') ORDER BY ALL")"
}

test_read_parquet_columns() {
	make_parquet_inputs
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet', columns=['s', 'i'])
df.write_parquet('out')
one = read_parquet('in/*.parquet', columns='k')
one.write_parquet('out1')
EOF
	pond_ok job.pond
	assert_same "columns list: rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT s, i FROM read_parquet('in/*.parquet') ORDER BY ALL")"
	assert_same "columns list: schema" "$(schema_of "$(parts out)")" \
		"$(schema_of "(SELECT s, i FROM read_parquet('in/*.parquet'))")"
	assert_same "columns string: rows" "$(q "SELECT * FROM $(parts out1) ORDER BY ALL")" \
		"$(q "SELECT k FROM read_parquet('in/*.parquet') ORDER BY ALL")"
	assert_same "columns string: schema" "$(schema_of "$(parts out1)")" \
		"$(schema_of "(SELECT k FROM read_parquet('in/*.parquet'))")"
}

test_read_parquet_union_by_name() {
	mkdir in
	q "COPY (SELECT i, i * 2 AS x FROM range(100) t(i)) TO 'in/p1.parquet'" >/dev/null
	q "COPY (SELECT 'y' || i AS y, i FROM range(100, 250) t(i)) TO 'in/p2.parquet'" >/dev/null
	q "COPY (SELECT i, i * 3 AS x, 'z' AS y FROM range(250, 300) t(i)) TO 'in/p3.parquet'" >/dev/null
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet', union_by_name=true)
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT i, x, y FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, x, y FROM read_parquet('in/*.parquet', union_by_name=true) ORDER BY ALL")"
	assert_same "schema" "$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $(parts out)) ORDER BY ALL")" \
		"$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('in/*.parquet', union_by_name=true)) ORDER BY ALL")"
}

test_read_parquet_hive_partitioning() {
	q "COPY (SELECT i, i % 3 AS p, 'r' || (i % 5) AS r FROM range(600) t(i))
	   TO 'in' (FORMAT parquet, PARTITION_BY (p, r))" >/dev/null
	cat >job.pond <<'EOF'
on = read_parquet('in/*/*/*.parquet', hive_partitioning=true)
on.write_parquet('out_on')
off = read_parquet('in/*/*/*.parquet')
off.write_parquet('out_off')
EOF
	pond_ok job.pond
	assert_same "hive_partitioning=true" "$(q "SELECT i, p, r FROM $(parts out_on) ORDER BY ALL")" \
		"$(q "SELECT i, p, r FROM read_parquet('in/*/*/*.parquet', hive_partitioning=true) ORDER BY ALL")"
	assert_same "hive_partitioning=true: schema" \
		"$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM $(parts out_on)) ORDER BY ALL")" \
		"$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('in/*/*/*.parquet', hive_partitioning=true)) ORDER BY ALL")"
	assert_same "default (false): no partition columns" \
		"$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM $(parts out_off)) ORDER BY ALL")" \
		"$(q "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('in/*/*/*.parquet', hive_partitioning=false)) ORDER BY ALL")"
	assert_same "default (false): rows" "$(q "SELECT * FROM $(parts out_off) ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet('in/*/*/*.parquet', hive_partitioning=false) ORDER BY ALL")"
}

test_read_parquet_filename() {
	make_parquet_inputs
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet', filename=true)
df.write_parquet('out')
EOF
	pond_ok job.pond
	# pond makes paths absolute; the oracle reads the same absolute paths
	assert_same "filename column" "$(q "SELECT filename, i, k FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT filename, i, k FROM read_parquet($(sql_str "$T/in/*.parquet"), filename=true) ORDER BY ALL")"
}

make_csv() {
	# ints, floats, strings with commas (quoted), dates, a NULL
	q "COPY (SELECT i AS id, round(i / 7.0, 3) AS ratio, 'name, ' || (i % 13) AS name,
	               DATE '2023-03-01' + (i % 100)::INT AS day, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 10 END AS digit
	         FROM range(2000) t(i)) TO 'in.csv' (HEADER true)" >/dev/null
}

test_read_csv_header_autodetect() {
	make_csv
	cat >job.pond <<'EOF'
df = read_csv('in.csv')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM read_csv('in.csv') ORDER BY ALL")"
	assert_same "detected types" "$(schema_of "$(parts out)")" "$(schema_of "read_csv('in.csv')")"
}

test_read_csv_delim_no_header() {
	q "COPY (SELECT i, 'a;b' || i AS s, i * 1.5 AS f FROM range(500) t(i))
	   TO 'in.txt' (FORMAT csv, HEADER false, DELIMITER '|')" >/dev/null
	cat >job.pond <<'EOF'
df = read_csv('in.txt', header=false, delim='|')
df.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT * FROM read_csv('in.txt', header=false, delim='|') ORDER BY ALL")"
	assert_same "schema" "$(schema_of "$(parts out)")" "$(schema_of "read_csv('in.txt', header=false, delim='|')")"
}

test_read_csv_columns_map() {
	make_csv
	cat >job.pond <<'EOF'
df = read_csv('in.csv', columns={'id': 'VARCHAR', 'ratio': 'DOUBLE', 'name': 'VARCHAR',
                                 'day': 'VARCHAR', 'digit': 'SMALLINT'})
df.write_parquet('out')
EOF
	pond_ok job.pond
	local oracle="read_csv('in.csv', header=true, columns={'id': 'VARCHAR', 'ratio': 'DOUBLE', 'name': 'VARCHAR', 'day': 'VARCHAR', 'digit': 'SMALLINT'})"
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(q "SELECT * FROM $oracle ORDER BY ALL")"
	assert_same "types from the map" "$(schema_of "$(parts out)")" "$(schema_of "$oracle")"
	# and they are not what auto-detection gives
	assert_differ "columns= changes the types" "$(schema_of "$(parts out)")" "$(schema_of "read_csv('in.csv')")"
}

test_read_json() {
	mkdir in
	q "COPY (SELECT i, 'j' || i AS s, i % 2 = 0 AS even, [i, i + 1] AS l, {'a': i, 'b': 'x' || i} AS st
	         FROM range(700) t(i)) TO 'in/a.json'" >/dev/null
	q "COPY (SELECT i, 'j' || i AS s, i % 2 = 0 AS even, [i] AS l, {'a': i, 'b': 'y'} AS st
	         FROM range(700, 1000) t(i)) TO 'in/b.jsonl'" >/dev/null
	cat >job.pond <<'EOF'
df = read_json(['in/a.json', 'in/b.jsonl'])
df.write_parquet('out')
typed = read_json('in/a.json', columns={'i': 'INTEGER', 's': 'VARCHAR'})
typed.write_parquet('out_typed')
EOF
	pond_ok job.pond
	assert_same "rows" \
		"$(q "SELECT i, s, even, l::VARCHAR, st::VARCHAR FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, s, even, l::VARCHAR, st::VARCHAR FROM read_json(['in/a.json', 'in/b.jsonl']) ORDER BY ALL")"
	assert_same "schema" "$(schema_of "$(parts out)")" "$(schema_of "read_json(['in/a.json', 'in/b.jsonl'])")"
	local oracle="read_json('in/a.json', columns={'i': 'INTEGER', 's': 'VARCHAR'})"
	assert_same "columns=: rows" "$(q "SELECT * FROM $(parts out_typed) ORDER BY ALL")" \
		"$(q "SELECT * FROM $oracle ORDER BY ALL")"
	assert_same "columns=: schema" "$(schema_of "$(parts out_typed)")" "$(schema_of "$oracle")"
}

test_partial_sql_without_inputs() {
	cat >job.pond <<'EOF'
gen = partial_sql('SELECT i, i * i AS sq, ''it''''s '' || i AS s FROM range(5000) t(i)')
gen.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT i, i * i AS sq, 'it''s ' || i AS s FROM range(5000) t(i) ORDER BY ALL")"
	[ "$(part_count out)" = 1 ] || fail "partial_sql without inputs should be one partition"
}

run_test read_parquet_glob_one_partition test_read_parquet_glob
run_test read_parquet_list_of_paths test_read_parquet_list_of_paths
run_test read_parquet_directory_path test_read_parquet_directory_path
run_test read_parquet_columns_projection test_read_parquet_columns
run_test read_parquet_union_by_name test_read_parquet_union_by_name
run_test read_parquet_hive_partitioning_on_and_off test_read_parquet_hive_partitioning
run_test read_parquet_filename_column test_read_parquet_filename
run_test read_csv_header_and_type_detection test_read_csv_header_autodetect
run_test read_csv_delim_and_no_header test_read_csv_delim_no_header
run_test read_csv_columns_map_sets_types test_read_csv_columns_map
run_test read_json_auto_and_columns test_read_json
run_test partial_sql_without_inputs_is_a_source test_partial_sql_without_inputs
finish_tests
