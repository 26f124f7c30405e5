#!/usr/bin/env bash
# Error paths of the language and the command line (docs/PIPELINES.md):
# script errors exit 2 with a `file:line:col:` message and run nothing (no
# job dir, no output); CLI usage errors exit 2; `pond help run` and
# `pond version` exit 0; a missing input exits 1 naming the path; a corrupt
# Parquet input exits 1 naming the file and publishes nothing.
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	q "COPY (SELECT i, i % 10 AS k FROM range(1000) t(i)) TO 'in/a.parquet'" >/dev/null
	q "COPY (SELECT i, i % 10 AS k FROM range(1000, 1500) t(i)) TO 'in/b.parquet'" >/dev/null
}

# script_error LINE COL REGEX: job.pond fails with exit 2, the message is
# "job.pond:LINE:COL: ..." matching REGEX, and nothing ran.
script_error() {
	local line=$1 col=$2 re=$3
	pond_rc 2 job.pond --job-dir jd
	assert_matches "file:line:col" err.txt "job\.pond:$line:$col: "
	assert_matches "message" err.txt "$re"
	assert_missing jd
	assert_missing out
	assert_missing .pond
	[ ! -s out.txt ] || fail "stdout should be empty: $(cat out.txt)"
}

test_syntax_error_unclosed_paren() {
	make_input
	printf "df = read_parquet('in/*.parquet'\ndf.write_parquet('out')\n" >job.pond
	pond_rc 2 job.pond --job-dir jd
	assert_matches "file:line:col" err.txt "job\.pond:[0-9]+:[0-9]+: "
	assert_missing jd
	assert_missing out
}

test_syntax_error_bad_token() {
	make_input
	printf "# a comment\ndf = = read_parquet('in/*.parquet')\ndf.write_parquet('out')\n" >job.pond
	script_error 2 6 "."
}

test_syntax_error_unterminated_string() {
	make_input
	printf "df = read_parquet('in/*.parquet')\ndf.write_parquet('out)\n" >job.pond
	pond_rc 2 job.pond --job-dir jd
	assert_matches "file:line:col" err.txt "job\.pond:2:[0-9]+: "
	assert_missing out
}

test_unknown_function() {
	make_input
	printf "df = read_parquet('in/*.parquet')\nx = df.repartiton(4)\nx.write_parquet('out')\n" >job.pond
	script_error 2 8 "unknown function 'repartiton'"
}

test_unknown_keyword() {
	make_input
	printf "df = read_parquet('in/*.parquet',\n                  colums=['i'])\ndf.write_parquet('out')\n" >job.pond
	script_error 2 19 "no argument 'colums'"
}

test_wrong_argument_type() {
	make_input
	printf "df = read_parquet('in/*.parquet')\nx = df.repartition('four')\nx.write_parquet('out')\n" >job.pond
	script_error 2 20 "must be an integer"
	printf "df = read_parquet('in/*.parquet', union_by_name='yes')\ndf.write_parquet('out')\n" >job.pond
	script_error 1 49 "must be true or false"
	printf "df = read_parquet('in/*.parquet')\ndf.write_parquet('out', compression='zip')\n" >job.pond
	script_error 2 37 "unknown compression 'zip'"
	printf "df = read_parquet(42)\ndf.write_parquet('out')\n" >job.pond
	script_error 1 19 "paths must be"
}

test_undefined_dataset() {
	make_input
	printf "df = read_parquet('in/*.parquet')\n\nlater.write_parquet('out')\n" >job.pond
	script_error 3 1 "undefined dataset 'later'"
}

test_undefined_define() {
	make_input
	printf "df = read_parquet('\${DATA}/*.parquet')\ndf.write_parquet('out')\n" >job.pond
	pond_rc 2 job.pond --job-dir jd -D OTHER=x
	assert_matches "file:line:col" err.txt "job\.pond:1:[0-9]+: "
	assert_contains "names the variable" err.txt "DATA"
	assert_missing jd
	assert_missing out
	# and with the define, it runs
	pond_ok job.pond --job-dir jd -D DATA=in
	assert_published out
}

test_partition_count_mismatch() {
	make_input
	cat >job.pond <<'EOF'
a = read_parquet('in/*.parquet').repartition(3, hash_by='k')
b = read_parquet('in/*.parquet').repartition(4, hash_by='k')
j = partial_sql('SELECT * FROM {0} JOIN {1} USING (k)',
                a, b)
j.write_parquet('out')
EOF
	script_error 4 20 "3 and 4 partitions"
}

test_placeholder_beyond_inputs() {
	make_input
	cat >job.pond <<'EOF'
a = read_parquet('in/*.parquet')
j = partial_sql('SELECT * FROM {0} JOIN {3} USING (k)', a)
j.write_parquet('out')
EOF
	script_error 2 17 "\{3\}"
	cat >job.pond <<'EOF'
j = sql('SELECT * FROM {0}')
j.write_parquet('out')
EOF
	script_error 1 9 "\{0\}"
}

test_no_action() {
	make_input
	printf "df = read_parquet('in/*.parquet')\nx = df.repartition(2)\n" >job.pond
	pond_rc 2 job.pond --job-dir jd
	assert_contains "names the script" err.txt "job.pond"
	assert_contains "says there is no action" err.txt "no action"
	assert_missing jd
	# a dataset made and dropped is an error too
	printf "df = read_parquet('in/*.parquet')\ndf.repartition(2)\ndf.count()\n" >job.pond
	script_error 2 4 "never used"
}

test_other_script_errors() {
	make_input
	# an action bound to a name
	printf "df = read_parquet('in/*.parquet')\nn = df.count()\n" >job.pond
	script_error 2 8 "action"
	# missing required argument
	printf "df = read_parquet('in/*.parquet')\nx = df.repartition()\nx.count()\n" >job.pond
	script_error 2 8 "missing its argument 'n'"
	# two repartition modes
	printf "df = read_parquet('in/*.parquet')\nx = df.repartition(2, hash_by='k', range_by='i')\nx.count()\n" >job.pond
	script_error 2 45 "one of"
	# the same output dir twice
	printf "df = read_parquet('in/*.parquet')\ndf.write_parquet('out')\ndf.write_csv('out')\n" >job.pond
	script_error 3 14 "already written"
	# bad mode
	printf "df = read_parquet('in/*.parquet')\ndf.write_parquet('out', mode='append')\n" >job.pond
	script_error 2 30 "mode must be"
}

# cli RC ARGS...: a usage error exits RC (2) and prints a usage line
cli_usage_error() {
	pond_cli 2 "$@"
	assert_contains "usage printed" err.txt "usage: pond"
	assert_missing .pond
	assert_missing out
}

test_cli_errors() {
	make_input
	printf "read_parquet('in/*.parquet').write_parquet('out')\n" >job.pond
	cli_usage_error run job.pond --bogus
	assert_contains "names the option" err.txt "--bogus"
	cli_usage_error run
	assert_contains "says the script is missing" err.txt "SCRIPT"
	cli_usage_error run job.pond -w 0
	assert_contains "names the bad value" err.txt "'0'"
	cli_usage_error run job.pond -w many
	cli_usage_error run job.pond -w
	cli_usage_error run job.pond --memory-limit lots
	assert_contains "names the bad value" err.txt "'lots'"
	cli_usage_error run job.pond --memory-limit -4GB
	cli_usage_error run job.pond --progress fancy
	assert_contains "names the bad value" err.txt "'fancy'"
	cli_usage_error run job.pond --seed -1
	cli_usage_error run job.pond --threads 0
	cli_usage_error run job.pond -D NOEQUALS
	cli_usage_error run job.pond other.pond
	cli_usage_error frobnicate
	cli_usage_error help frobnicate
	pond_cli 2
	assert_contains "usage printed" err.txt "usage: pond"
	# a script that does not exist
	pond_cli 2 run nope.pond
	assert_contains "names the script" err.txt "nope.pond"
	assert_missing .pond
	# valid sizes are accepted
	pond_cli 0 run job.pond --progress none -w 2 --memory-limit 512MiB --threads 1 --seed 3
	assert_published out
}

test_cli_help_version() {
	pond_cli 0 help run
	assert_contains "run usage" out.txt "usage: pond run SCRIPT"
	assert_contains "documents -w" out.txt "-w N"
	assert_contains "documents --resume" out.txt "--resume"
	pond_cli 0 help
	assert_contains "main usage" out.txt "usage: pond COMMAND"
	pond_cli 0 help explain
	assert_contains "explain usage" out.txt "usage: pond explain"
	pond_cli 0 run --help
	assert_contains "run --help" out.txt "usage: pond run"
	pond_cli 0 version
	assert_matches "version line" out.txt '^pond [0-9]+\.[0-9]+'
	[ "$(wc -l <out.txt)" = 1 ] || fail "version prints one line"
}

test_missing_input() {
	printf "df = read_parquet('data/missing.parquet')\ndf.write_parquet('out')\n" >job.pond
	pond_rc 1 job.pond --job-dir jd
	assert_contains "names the path" err.txt "$T/data/missing.parquet"
	assert_matches "names the script position" err.txt "job\.pond:1:[0-9]+: "
	assert_missing out
	printf "df = read_csv('nodir/*.csv')\ndf.count()\n" >job.pond
	pond_rc 1 job.pond --job-dir jd
	assert_contains "names the glob" err.txt "$T/nodir/*.csv"
	mkdir empty
	printf "df = read_json('empty')\ndf.count()\n" >job.pond
	pond_rc 1 job.pond --job-dir jd
	assert_contains "names the directory" err.txt "$T/empty"
}

test_corrupt_parquet() {
	make_input
	head -c 5000 /dev/urandom >in/c_corrupt.parquet
	printf "PAR1 this is not parquet PAR1" >>in/c_corrupt.parquet
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(2, hash_by='k')
df.write_parquet('out')
EOF
	pond_rc 1 job.pond --job-dir jd
	assert_contains "names the file" err.txt "c_corrupt.parquet"
	assert_not_published out
	assert_missing out
	# the same with a one-partition pipeline (no shuffle)
	printf "read_parquet('in/c_corrupt.parquet').write_parquet('out2')\n" >job2.pond
	pond_rc 1 job2.pond --job-dir jd2
	assert_contains "names the file" err.txt "c_corrupt.parquet"
	assert_missing out2
	assert_not_published out2
	# and a truncated real parquet file
	q "COPY (SELECT i FROM range(100000) t(i)) TO 'full.parquet'" >/dev/null
	mkdir in3
	head -c 20000 full.parquet >in3/truncated.parquet
	printf "read_parquet('in3').count()\n" >job3.pond
	pond_rc 1 job3.pond --job-dir jd3
	assert_contains "names the file" err.txt "truncated.parquet"
	[ ! -s out.txt ] || fail "nothing should be printed on stdout: $(cat out.txt)"
}

test_bad_sql_in_task() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
x = partial_sql('SELECT no_such_column FROM {0}', df)
x.write_parquet('out')
EOF
	# bound against the input's schema before anything runs: a script
	# error at the step's own line and column, with the user's SQL
	pond_rc 2 job.pond --job-dir jd
	assert_contains "names DuckDB's complaint" err.txt "no_such_column"
	assert_contains "names the step" err.txt "job.pond:2:5: partial_sql: Binder Error"
	assert_contains "quotes the user's SQL, placeholders and all" err.txt "SELECT no_such_column FROM {0}"
	assert_not_contains "no pond-made names" err.txt "__pond"
	[ "$(grep -c 'no_such_column' err.txt)" -le 3 ] || fail "the error is printed more than once"
	assert_missing jd
	assert_not_published out
}

# Every SQL step is bound against its inputs' schemas before anything runs:
# an unknown function, a type error, a missing key or partition column is
# a script error at the step's own line and column.
test_plan_time_binding_errors() {
	make_input
	printf "df = read_parquet('in/*.parquet')\nx = partial_sql('SELECT nosuchfn(i) FROM {0}', df)\nx.count()\n" >job.pond
	script_error 2 5 "partial_sql: Catalog Error: Scalar Function with name nosuchfn does not exist"
	printf "df = read_parquet('in/*.parquet')\n\ny = df.filter('i + [1, 2] > 0')\ny.count()\n" >job.pond
	script_error 3 8 "filter: Binder Error: No function matches"
	printf "df = read_parquet('in/*.parquet').repartition(3, hash_by='nokey')\ndf.count()\n" >job.pond
	script_error 1 35 "repartition: Binder Error: .*nokey"
	assert_not_contains "no pond-made SQL" err.txt "DESCRIBE"
	printf "df = read_parquet('in/*.parquet')\ndf.write_parquet('out', partition_by='nocol')\n" >job.pond
	script_error 2 4 "write_parquet: Binder Error: .*nocol"
	assert_missing out
}

# An error found while a task runs names the script step it is in (not the
# sink that the step was fused into), with DuckDB's LINE counted in the
# step's own query, once; bad data is not retried.
runtime_job() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
x = df.repartition(4, hash_by='k')
y = x.filter('i >= 0')
z = partial_sql('SELECT k,
                 CAST(CASE WHEN i % 100 = 7 THEN ''x'' ELSE i::VARCHAR END AS INTEGER) AS bad FROM {0}', y)
w = z.map('k, bad + 1 AS b')
w.write_parquet('out')
EOF
}

test_runtime_error_names_its_step() {
	runtime_job
	pond_rc 1 job.pond --job-dir jd --progress plain
	assert_contains "the step's line and column" err.txt "job.pond:4:5: partial_sql: task s01-sink-t"
	assert_contains "DuckDB's message" err.txt "Conversion Error: Could not convert string 'x' to INT32"
	assert_contains "LINE counted in the step's query" err.txt "LINE 2:"
	assert_not_contains "not the sink's line" err.txt "job.pond:7"
	assert_not_contains "no pond-made names" err.txt "__pond"
	[ "$(grep -c 'Conversion Error' err.txt)" = 1 ] || fail "the error is printed more than once"
	assert_not_contains "not retried" err.txt "retrying"
	assert_same "one attempt per failed task" "$(grep -c '"event":"fail"' jd/journal.jsonl | tr -d ' ')" \
		"$(grep '"event":"fail"' jd/journal.jsonl | grep -o '"task":"[^"]*"' | sort -u | wc -l | tr -d ' ')"
	assert_not_published out
}

# The same for a sql() step, planned across the workers like pond sql and
# fused into the tasks that read it: the error names the sql() step's own
# line and column, not the stages pond made of it or the write.
test_runtime_error_in_sql_step_names_its_line() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
s = sql('SELECT k, CAST(CASE WHEN i % 100 = 7 THEN ''x'' ELSE i::VARCHAR END AS INTEGER) AS bad FROM {0}', df)
t = sql('SELECT k, bad + 1 AS b FROM {0}', s)
t.write_parquet('out')
EOF
	pond_rc 1 job.pond --job-dir jd --progress plain
	assert_contains "the sql() step's line and column" err.txt "job.pond:2:5: sql"
	assert_contains "DuckDB's message" err.txt "Conversion Error: Could not convert string 'x' to INT32"
	assert_not_contains "not pond sql's place" err.txt "sql:0"
	assert_not_contains "not the write's line" err.txt "job.pond:4"
	assert_not_contains "no pond-made names" err.txt "__pond"
	assert_not_published out
}

# An error DuckDB gives no position for: the fused steps are probed.
test_runtime_error_without_position() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(4, hash_by='k')
y = df.filter('i >= 0')
z = partial_sql('SELECT k, i, CASE WHEN i = 777 THEN error(''boom '' || i) ELSE 1 END AS d FROM {0}', y)
w = z.map('k, d + 1 AS e')
w.write_parquet('out')
EOF
	pond_rc 1 job.pond --job-dir jd
	assert_contains "the step" err.txt "job.pond:3:5: partial_sql: task"
	assert_contains "DuckDB's message" err.txt "boom 777"
}

# The same error from many tasks is printed once, with a count.
test_same_error_many_tasks_once() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet').repartition(8, hash_by='i')
z = partial_sql('SELECT CAST(''nope'' || i AS INTEGER) AS bad FROM {0}', df)
z.write_parquet('out')
EOF
	pond_rc 1 job.pond --job-dir jd -w 4 --threads 1
	[ "$(grep -c 'Conversion Error' err.txt)" = 1 ] || { cat err.txt >&2; fail "printed more than once"; }
	assert_contains "the step" err.txt "job.pond:2:5: partial_sql: task"
}

# The plan-time DuckDB process dies (killed at its first test point, before
# it opens DuckDB): pond says so and exits 1 (the job failed), rather
# than dying of SIGPIPE on its next request without a word.
test_plan_time_duckdb_dies() {
	make_input
	cat >job.pond <<'EOF'
z = sql('SELECT count(*) AS n FROM {0}', read_parquet('in/*.parquet'))
z.write_parquet('out')
EOF
	POND_TEST_KILL_AT=plandb-start:1 pond_rc 1 job.pond --job-dir jd
	assert_contains "said" err.txt "the plan-time DuckDB process died"
	assert_missing out
}

run_test plan_time_duckdb_dies_exit_1 test_plan_time_duckdb_dies
run_test plan_time_binding_errors_exit_2 test_plan_time_binding_errors
run_test runtime_error_names_its_step test_runtime_error_names_its_step
run_test runtime_error_in_sql_step_names_its_line test_runtime_error_in_sql_step_names_its_line
run_test runtime_error_without_position_probed test_runtime_error_without_position
run_test same_error_many_tasks_printed_once test_same_error_many_tasks_once
run_test syntax_error_unclosed_paren test_syntax_error_unclosed_paren
run_test syntax_error_bad_token_position test_syntax_error_bad_token
run_test syntax_error_unterminated_string test_syntax_error_unterminated_string
run_test unknown_function_position test_unknown_function
run_test unknown_keyword_argument_position test_unknown_keyword
run_test wrong_argument_types test_wrong_argument_type
run_test undefined_dataset test_undefined_dataset
run_test undefined_define_variable test_undefined_define
run_test partial_sql_partition_count_mismatch test_partition_count_mismatch
run_test placeholder_beyond_inputs test_placeholder_beyond_inputs
run_test script_without_action test_no_action
run_test other_script_errors test_other_script_errors
run_test cli_usage_errors_exit_2 test_cli_errors
run_test cli_help_and_version test_cli_help_version
run_test missing_input_path_exit_1 test_missing_input
run_test corrupt_parquet_input_exit_1_nothing_published test_corrupt_parquet
run_test bad_sql_is_a_script_error_exit_2 test_bad_sql_in_task
finish_tests
