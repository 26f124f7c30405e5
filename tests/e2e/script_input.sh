#!/usr/bin/env bash
# The bytes and the length of a script: a NUL byte, invalid UTF-8 and a
# byte order mark are `file:line:col:` errors (exit 2, nothing runs, in
# `pond run` and `pond explain`); `${N}` from -D stands for a number outside
# strings (repartition(${N}), limit(df, ${ROWS})), a value that is not one is
# an error; chains longer than the fusion cap, up to 100,000 statements,
# plan and run (no stack overflow, no DuckDB depth limit) and give the
# oracle's rows.
source "$(dirname "$0")/lib.sh"

IN="read_parquet('in/*.parquet')"

make_input() {
	mkdir -p in
	q "COPY (SELECT i AS a, i % 13 AS k FROM range(-300, 700) t(i)) TO 'in/a.parquet'" >/dev/null
	q "COPY (SELECT i AS a, i % 13 AS k FROM range(700, 1000) t(i)) TO 'in/b.parquet'" >/dev/null
}

# input_error LINE:COL MESSAGE: job.pond fails in run and explain with exit
# 2 and "job.pond:LINE:COL: MESSAGE", and nothing ran.
input_error() {
	local pos=$1 msg=$2
	pond_rc 2 job.pond --job-dir jd
	assert_contains "position and message" err.txt "job.pond:$pos: $msg"
	assert_missing jd
	assert_missing out
	[ ! -s out.txt ] || fail "stdout should be empty: $(cat out.txt)"
	pond_cli 2 explain job.pond --job-dir jd
	assert_contains "explain: position and message" err.txt "job.pond:$pos: $msg"
}

# A NUL byte ended the C string: the rest of the script silently vanished.
test_nul_byte() {
	make_input
	printf "df = read_parquet('in/*.parquet')\ndf.count()\ndf2 = \0df.filter('a > 0')\ndf2.write_parquet('out')\n" >job.pond
	input_error 3:7 "NUL byte in the script (is this a binary file?)"
}

test_invalid_utf8() {
	make_input
	printf "df = read_parquet('in/*.parquet')\n# ok: caf\xc3\xa9 \xff\ndf.count()\n" >job.pond
	input_error 2:12 "invalid UTF-8 (byte 0xff)"
	# Latin-1 é inside a string: the byte and the one after it
	printf "df = read_parquet('in/*.parquet')\ndf.filter('k <> ''caf\xe9''').count()\n" >job.pond
	input_error 2:22 "invalid UTF-8 (bytes 0xe9 0x27: an incomplete character)"
}

test_overlong_and_surrogate() {
	make_input
	printf "df = read_parquet('in/*.parquet')\n# \xc0\xaf\ndf.count()\n" >job.pond
	input_error 2:3 "invalid UTF-8 (bytes 0xc0 0xaf: an overlong encoding)"
	printf "df = read_parquet('in/*.parquet')\ndf.count() # \xe0\x80\xaf\n" >job.pond
	input_error 2:14 "invalid UTF-8 (bytes 0xe0 0x80 0xaf: an overlong encoding)"
	printf "df = read_parquet('in/*.parquet')\ndf.count() # \xed\xa0\x80\n" >job.pond
	input_error 2:14 "invalid UTF-8 (bytes 0xed 0xa0 0x80: a UTF-16 surrogate)"
}

test_byte_order_mark() {
	make_input
	printf "\xef\xbb\xbfdf = read_parquet('in/*.parquet')\ndf.count()\n" >job.pond
	input_error 1:1 "the script starts with a UTF-8 byte order mark; save it as UTF-8 without BOM"
}

# ${N} outside a string is a number: exactly N part files, the oracle's rows.
test_define_number_outside_string() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
df.repartition(${N}, hash_by='k').write_parquet('out')
limit(df, ${ROWS}).count()
EOF
	pond_ok job.pond -D N=5 -D ROWS=7
	assert_published out
	[ "$(part_count out)" = 5 ] || fail "expected 5 part files, got: $(part_files out)"
	assert_same "rows" "$(q "SELECT * FROM $(parts out) ORDER BY ALL")" "$(q "SELECT * FROM $IN ORDER BY ALL")"
	assert_same "limit count" "$(cat out.txt)" "$(q "SELECT count(*) FROM (SELECT * FROM $IN LIMIT 7)")"
	# the same files as with the literals written in
	sed "s/\${N}/5/; s/\${ROWS}/7/; s/'out'/'out2'/" job.pond >lit.pond
	pond_ok lit.pond
	assert_same "same files as the literal" "$(cd out2 && sha256sum part-*)" "$(cd out && sha256sum part-*)"
}

test_define_not_a_number() {
	make_input
	printf "df = read_parquet('in/*.parquet')\ndf.repartition(\${N}, hash_by='k').write_parquet('out')\n" >job.pond
	pond_rc 2 job.pond -D N=abc --job-dir jd
	assert_contains "message" err.txt "job.pond:2:16: \${N} is 'abc', but outside a string it must be a number (or true/false); write '\${N}' for a string"
	assert_missing jd
	assert_missing out
	pond_rc 2 job.pond --job-dir jd
	assert_contains "undefined" err.txt "job.pond:2:16: undefined parameter \${N} (pass -D N=...)"
}

# 100,000 statements rebinding x: planned and run without a stack overflow
# (it was a SIGSEGV), counting what the oracle counts. CHAIN sets another
# count: the ASan build runs 20,000 (no code path recurses with the length
# of a chain, so the stack used does not grow with it; under ASan DuckDB's
# planning of the 100,000 steps alone takes minutes).
CHAIN=${CHAIN:-100000}
test_chain_100k_statements() {
	make_input
	{
		echo "x = read_parquet('in/*.parquet')"
		for ((i = 0; i < CHAIN; i++)); do
			echo "x = x.filter('a >= 0')"
		done
		echo "x.count()"
	} >job.pond
	local t0 t1
	t0=$(date +%s%N)
	pond_ok job.pond
	t1=$(date +%s%N)
	echo "pond run of $CHAIN chained filters: $(((t1 - t0) / 1000000)) ms"
	assert_same "count" "$(cat out.txt)" "$(q "SELECT count(*) FROM $IN WHERE a >= 0")"
	pond_cli 0 explain job.pond --job-dir jd
	assert_contains "explain lists the last dataset" out.txt "#$CHAIN filter"
}

# Chains longer than the fusion cap (256 steps; DuckDB refused ~1,000 CTEs
# in one query) before a shuffle, over 3 partitions into a sink and under
# sql(): the materialised cuts give the oracle's rows, none twice (a shuffle
# must not split the source under a cut among producers).
test_long_chains_cut() {
	make_input
	{
		echo "x = read_parquet('in/*.parquet')"
		for ((i = 0; i < 1200; i++)); do echo "x = x.filter('a >= $((i - 900))')"; done
		echo "x.repartition(4, hash_by='k').write_parquet('out1')"
		echo "y = read_parquet('in/*.parquet').repartition(3, hash_by='k')"
		for ((i = 0; i < 1200; i++)); do echo "y = y.map('a + 1 AS a, k')"; done
		echo "y.write_parquet('out2')"
		echo "y.sql('SELECT k, count(*) AS n, sum(a) AS s FROM {0} GROUP BY k').write_parquet('out3')"
	} >job.pond
	pond_ok job.pond
	assert_same "filtered then shuffled" "$(q "SELECT * FROM $(parts out1) ORDER BY ALL")" \
		"$(q "SELECT * FROM $IN WHERE a >= 299 ORDER BY ALL")"
	[ "$(part_count out2)" = 3 ] || fail "expected 3 part files, got: $(part_files out2)"
	assert_same "1200 maps" "$(q "SELECT * FROM $(parts out2) ORDER BY ALL")" \
		"$(q "SELECT a + 1200 AS a, k FROM $IN ORDER BY ALL")"
	assert_same "sql over the cut chain" "$(q "SELECT * FROM $(parts out3) ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, sum(a + 1200) AS s FROM $IN GROUP BY k ORDER BY ALL")"
	pond_cli 0 explain job.pond --job-dir jd
	[ "$(grep -c '^Stage s[0-9]*-map' out.txt)" -ge 3 ] || fail "expected the chains cut into map stages"
}

run_test nul_byte_is_an_error_at_its_position test_nul_byte
run_test invalid_utf8_is_an_error_at_its_position test_invalid_utf8
run_test overlong_utf8_and_surrogates_are_errors test_overlong_and_surrogate
run_test byte_order_mark_is_an_error test_byte_order_mark
run_test define_is_a_number_outside_strings test_define_number_outside_string
run_test define_not_a_number_is_an_error test_define_not_a_number
run_test long_chains_cut_by_materialising test_long_chains_cut
run_test chain_of_100k_statements_runs test_chain_100k_statements
finish_tests
