#!/usr/bin/env bash
# Exactness at the edges (docs/FAULTS.md, "wrong rows"): partitioning that
# never drops or splits rows, equal keys that meet whatever their types,
# file names read literally, CSV read as DuckDB reads it. Every case
# compares with single-process DuckDB on the same files.
source "$(dirname "$0")/lib.sh"

# ---- equal keys meet whatever their types ------------------------------------

# Three files whose key column is INTEGER, DOUBLE and DECIMAL: split among
# producers, each file would hash its own type; the whole source has the
# first file's type, and so must every part. Found: 16 groups, not 10.
test_key_types_differ_between_files() {
	mkdir in
	q "COPY (SELECT (i % 10)::INTEGER AS k, i AS v FROM range(300) t(i)) TO 'in/a.parquet'" >/dev/null
	q "COPY (SELECT (i % 10)::DOUBLE AS k, i AS v FROM range(300) t(i)) TO 'in/b.parquet'" >/dev/null
	q "COPY (SELECT (i % 10)::DECIMAL(10,2) AS k, i AS v FROM range(300) t(i)) TO 'in/c.parquet'" >/dev/null
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, hash_by='k')
g = partial_sql('SELECT k, count(*) AS n, sum(v) AS s FROM {0} GROUP BY k', df)
g.write_parquet('out')
EOF
	pond_ok job.pond
	assert_same "groups" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, sum(v) AS s FROM read_parquet('in/*.parquet') GROUP BY k ORDER BY ALL")"
	assert_same "types" "$(q "SELECT typeof(k) FROM $(parts out) LIMIT 1")" \
		"$(q "SELECT typeof(k) FROM read_parquet('in/*.parquet') LIMIT 1")"
}

# A join of two co-partitioned inputs whose keys are INTEGER and DOUBLE:
# both sides are hashed in the common type. Found: 121 of 1000 matches.
test_copartitioned_join_key_types_differ() {
	q "COPY (SELECT i::INTEGER AS id, 'a' || i AS a FROM range(1000) t(i)) TO 'a.parquet'" >/dev/null
	q "COPY (SELECT i::DOUBLE AS id, 'b' || i AS b FROM range(1000) t(i)) TO 'b.parquet'" >/dev/null
	q "COPY (SELECT i::DECIMAL(18,3) AS id, i * 2 AS c FROM range(0, 1000, 2) t(i)) TO 'c.parquet'" >/dev/null
	cat >job.pond <<'EOF'
a = read_parquet('a.parquet').repartition(5, hash_by='id')
b = read_parquet('b.parquet').repartition(5, hash_by='id')
c = read_parquet('c.parquet').repartition(5, hash_by='id')
j = partial_sql('SELECT {0}.id, a, b FROM {0} JOIN {1} ON {0}.id = {1}.id', a, b)
j.write_parquet('ab')
k = partial_sql('SELECT {0}.id, a, c FROM {0} JOIN {1} ON {0}.id = {1}.id', a, c)
k.write_parquet('ac')
EOF
	pond_ok job.pond
	assert_same "INTEGER = DOUBLE" "$(q "SELECT count(*), sum(hash(id, a, b)) FROM $(parts ab)")" \
		"$(q "SELECT count(*), sum(hash(x.id, a, b)) FROM 'a.parquet' x JOIN 'b.parquet' y ON x.id = y.id")"
	assert_same "INTEGER = DECIMAL" "$(q "SELECT count(*), sum(c) FROM $(parts ac)")" \
		"$(q "SELECT count(*), sum(c) FROM 'a.parquet' x JOIN 'c.parquet' y ON x.id = y.id")"
}

# ---- by= is exact ------------------------------------------------------------

test_by_fraction_null_and_type_are_errors() {
	q "COPY (SELECT i AS id FROM range(100) t(i)) TO 'in.parquet'" >/dev/null
	printf "read_parquet('in.parquet').repartition(40, by='id * 0.4').write_parquet('out')\n" >job.pond
	pond_rc 1 job.pond
	assert_contains "names the fractional value" err.txt "gave partition index 0.4, which is not an integer"
	assert_contains "names the step" err.txt "job.pond:1:"
	assert_not_published out
	printf "read_parquet('in.parquet').repartition(4, by='CASE WHEN id = 50 THEN NULL ELSE id %% 4 END').write_parquet('out')\n" >job.pond
	pond_rc 1 job.pond
	assert_contains "names NULL" err.txt "gave partition index NULL"
	assert_not_published out
	printf "read_parquet('in.parquet').repartition(4, by='id::VARCHAR').write_parquet('out')\n" >job.pond
	pond_rc 2 job.pond
	assert_contains "a string is a script error" err.txt "must give an integer partition index, not a value of type VARCHAR"
	# a fraction-typed expression with whole values is fine
	printf "read_parquet('in.parquet').repartition(4, by='(id %% 4) * 1.0').write_parquet('out')\n" >job.pond
	pond_ok job.pond
	assert_same "rows" "$(q "SELECT count(*), sum(id) FROM $(parts out)")" "$(q "SELECT count(*), sum(id) FROM 'in.parquet'")"
	assert_same "partition i holds id % 4 = i" \
		"$(q "SELECT DISTINCT regexp_extract(filename, 'part-0*([0-9]+)', 1)::INT = id % 4 FROM read_parquet('out/*.parquet', filename=true)")" "true"
}

# ---- paths are literal -------------------------------------------------------

# File names with DuckDB's glob characters are read once each, as named.
# Found: a[1].parquet read as a1.parquet, b*.parquet pulling in others.
test_glob_characters_in_file_names() {
	mkdir in
	q "COPY (SELECT i, 'a[1]' AS f FROM range(0, 10) t(i)) TO 'in/a[1].parquet'" >/dev/null
	q "COPY (SELECT i, 'a1' AS f FROM range(10, 30) t(i)) TO 'in/a1.parquet'" >/dev/null
	q "COPY (SELECT i, 'b*' AS f FROM range(30, 60) t(i)) TO 'in/b*.parquet'" >/dev/null
	q "COPY (SELECT i, 'bx' AS f FROM range(60, 100) t(i)) TO 'in/bx.parquet'" >/dev/null
	q "COPY (SELECT i, 'q?' AS f FROM range(100, 150) t(i)) TO 'in/q?.parquet'" >/dev/null
	local expected
	expected=$(q "SELECT f, count(*), sum(i) FROM (SELECT i, 'a[1]' AS f FROM range(0, 10) t(i) UNION ALL
	              SELECT i, 'a1' FROM range(10, 30) t(i) UNION ALL SELECT i, 'b*' FROM range(30, 60) t(i) UNION ALL
	              SELECT i, 'bx' FROM range(60, 100) t(i) UNION ALL SELECT i, 'q?' FROM range(100, 150) t(i))
	              GROUP BY f ORDER BY f")
	cat >job.pond <<'EOF'
d = read_parquet('in', filename=true)
d.write_parquet('whole')
d.repartition(3).write_parquet('split')
d.repartition(2, hash_by='i').write_parquet('hashed')
EOF
	pond_ok job.pond
	local o
	for o in whole split hashed; do
		assert_same "$o: each file once" "$(q "SELECT f, count(*), sum(i) FROM $(parts $o) GROUP BY f ORDER BY f")" "$expected"
		assert_same "$o: filename column" \
			"$(q "SELECT DISTINCT f = replace(regexp_extract(filename, '[^/]*$'), '.parquet', '') FROM $(parts $o)")" true
	done
}

# A symbolic link loop in an input directory is an error naming it, not a
# walk that never ends.
# Glob characters in directory names: a working directory 'runs [2024]'
# under a relative pattern (it was part of the pattern: no files matched),
# a directory named with brackets given as it is (-t, read_parquet: it
# was taken for a pattern), and a pattern that matches read as DuckDB
# reads it ('a[1].parquet' is a1.parquet).
test_glob_characters_in_directory_names() {
	mkdir -p "runs [2024]/in/d [x]"
	cd "runs [2024]"
	q "COPY (SELECT i FROM range(0, 40) t(i)) TO 'in/p0.parquet'" >/dev/null
	q "COPY (SELECT i FROM range(40, 100) t(i)) TO 'in/p1.parquet'" >/dev/null
	q "COPY (SELECT i FROM range(100, 130) t(i)) TO 'in/d [x]/p2.parquet'" >/dev/null
	q "COPY (SELECT 1000 + i AS i FROM range(0, 5) t(i)) TO 'in/a[1].parquet'" >/dev/null
	q "COPY (SELECT 2000 + i AS i FROM range(0, 7) t(i)) TO 'in/a1.parquet'" >/dev/null
	cat >job.pond <<'JOB'
read_parquet('in/p*.parquet').write_parquet('o1')
read_parquet('in/d [x]').write_parquet('o2')
read_parquet('in/a[1].parquet').write_parquet('o3')
JOB
	pond_ok job.pond
	local f
	for f in "in/p*.parquet:o1" "in/d [x]/p2.parquet:o2" "in/a[1].parquet:o3"; do
		assert_same "${f#*:}" "$(q "SELECT count(*), sum(i) FROM $(parts "${f#*:}")")" \
			"$(q "SELECT count(*), sum(i) FROM '${f%:*}'")"
	done
	pond_cli 0 sql "SELECT count(*) AS n, sum(i)::BIGINT AS s FROM t" -t "t=in/d [x]" -o o4 -w "$W" --progress none
	assert_same "-t DIR" "$(q "SELECT * FROM $(parts o4)")" "$(q "SELECT count(*), sum(i) FROM 'in/d [x]/p2.parquet'")"
}

test_symlink_loop_is_an_error() {
	mkdir -p in/sub
	q "COPY (SELECT 1 AS i) TO 'in/x.parquet'" >/dev/null
	ln -s .. in/sub/loop
	printf "read_parquet('in').count()\n" >job.pond
	"$POND" run job.pond --progress none >out.txt 2>err.txt &
	local pid=$! rc=0
	start_watchdog $pid
	wait $pid || rc=$?
	wait "$WATCHDOG" 2>/dev/null || true
	[ ! -e hung ] || fail "pond hung on a symlink loop"
	[ "$rc" = 1 ] || { cat err.txt >&2; fail "exit $rc, expected 1"; }
	assert_contains "names the loop" err.txt "in/sub/loop: a symbolic link loop"
	assert_contains "at the read" err.txt "job.pond:1:"
	# a link to a directory elsewhere is followed
	rm in/sub/loop
	mkdir other
	q "COPY (SELECT 2 AS i) TO 'other/y.parquet'" >/dev/null
	ln -s "$T/other" in/sub/elsewhere
	pond_ok job.pond
	assert_same "both files" "$(cat out.txt)" "$(q "SELECT 2")"
}

# ---- CSV like DuckDB ---------------------------------------------------------

# Several CSV files are split among shuffle producers, typed as DuckDB
# types the whole read (it unifies types across files and detects each
# file's dialect). Found: one producer for all files.
test_csv_split_among_producers() {
	mkdir in
	local f
	for f in 0 1 2 3 4 5 6 7; do
		q "COPY (SELECT i, 'k' || (i % 13) AS k, (i % 97) * 0.25 AS v FROM range($f * 2000, ($f + 1) * 2000) t(i)) TO 'in/f$f.csv'" >/dev/null
	done
	# one file with fractional i (the unified type is DOUBLE), one quoted field
	printf 'i,k,v\n16000.5,"k,x",1.5\n' >in/f8.csv
	cat >job.pond <<'EOF'
c = read_csv('in/*.csv').repartition(4, hash_by='k')
g = partial_sql('SELECT k, count(*) AS n, sum(v) AS s, max(i) AS m FROM {0} GROUP BY k', c)
g.write_parquet('out')
EOF
	pond_cli 0 explain job.pond
	assert_matches "several producers" out.txt "Stage s00-shuffle: [4-9] tasks"
	pond_ok job.pond
	assert_same "groups" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, sum(v) AS s, max(i) AS m FROM read_csv('in/*.csv', header=true, delim=',') GROUP BY k ORDER BY ALL")"
}

# read_csv takes DuckDB's options; each case equals DuckDB's read_csv with
# the same options.
csv_case() { # NAME FILE POND-OPTIONS SQL-OPTIONS
	printf "read_csv('%s'%s).write_parquet('out_%s')\n" "$2" "$3" "$1" >"job_$1.pond"
	pond_ok "job_$1.pond"
	assert_same "$1" "$(q "SELECT * FROM $(parts "out_$1") ORDER BY ALL")" \
		"$(q "SELECT * FROM read_csv('$2'$4) ORDER BY ALL")"
}

test_csv_options() {
	printf 'a,b\n1,x\n2,y\nbad,z\n4,w\n' >bad.csv
	printf 'a,b,c\n1,x\n2,y,3\n' >short.csv
	printf 'a;b\n1;NA\n2;y\n' >semi.csv
	printf 'title\na,b\n1,x\n' >skip.csv
	printf 'a\tb\n1\tx\n2\ty\n' >tabs.tsv
	printf 'd,e\n01/02/2024,x\n31/12/2023,y\n' >dates.csv
	printf "a,b\n1,'x,y'\n2,'it\\\\'s'\n" >quotes.csv
	printf 'a,b\n7,x\n8,y\n' | gzip >zipped.csv.gz
	csv_case ignore_errors bad.csv ", columns={'a': 'INTEGER', 'b': 'VARCHAR'}, ignore_errors=true" \
		", header=true, delim=',', columns={'a': 'INTEGER', 'b': 'VARCHAR'}, ignore_errors=true"
	csv_case null_padding short.csv ", null_padding=true" ", header=true, delim=',', null_padding=true"
	csv_case nullstr semi.csv ", delim=';', nullstr='NA'" ", header=true, delim=';', nullstr='NA'"
	csv_case skip skip.csv ", skip=1" ", header=true, delim=',', skip=1"
	csv_case all_varchar semi.csv ", delim=';', all_varchar=true" ", header=true, delim=';', all_varchar=true"
	csv_case dateformat dates.csv ", dateformat='%d/%m/%Y'" ", header=true, delim=',', dateformat='%d/%m/%Y'"
	csv_case quote_escape quotes.csv ", quote='''', escape='\\'" ", header=true, delim=',', quote='''', escape='\'"
	csv_case tab tabs.tsv ", delim='\\t'" ", header=true, delim='\\t'"
	csv_case compression zipped.csv.gz ", compression='gzip'" ", header=true, delim=',', compression='gzip'"
	csv_case strict_mode short.csv ", strict_mode=false, null_padding=true" \
		", header=true, delim=',', strict_mode=false, null_padding=true"
	# a bad option value is DuckDB's error, at the read, before anything runs
	printf "read_csv('bad.csv', compression='rar').count()\n" >job_bad.pond
	pond_rc 1 job_bad.pond
	assert_contains "at the read" err.txt "job_bad.pond:1:1: read_csv:"
}

run_test key_types_differ_between_files test_key_types_differ_between_files
run_test copartitioned_join_key_types_differ test_copartitioned_join_key_types_differ
run_test by_fraction_null_and_type_are_errors test_by_fraction_null_and_type_are_errors
run_test glob_characters_in_file_names test_glob_characters_in_file_names
run_test glob_characters_in_directory_names test_glob_characters_in_directory_names
run_test symlink_loop_is_an_error test_symlink_loop_is_an_error
run_test csv_split_among_producers test_csv_split_among_producers
run_test csv_options_like_duckdb test_csv_options
finish_tests
