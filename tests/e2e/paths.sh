#!/usr/bin/env bash
# Hostile file names (docs/ARCHITECTURE.md: "File paths and names are always
# escaped"): spaces, single and double quotes, $(touch pwned), é and 日本 in
# input file names, in the input directory, in the output dir and in the
# job dir. Data must be read and written correctly, through shuffles and
# every reader/writer, and no file named pwned may appear.
source "$(dirname "$0")/lib.sh"

NASTY="a b 'q' \"dq\" \$(touch pwned) \`touch pwned\` é 日本"

make_inputs() { # DIR
	local d=$1
	mkdir -p "$d"
	q "COPY (SELECT i, (hash(i) % 100)::BIGINT AS k, 'été ' || i AS s FROM range(0, 3000) t(i))
	   TO $(sql_str "$d/one $NASTY.parquet")" >/dev/null
	q "COPY (SELECT i, (hash(i) % 100)::BIGINT AS k, '日本 ' || i AS s FROM range(3000, 4000) t(i))
	   TO $(sql_str "$d/two 'x'.parquet")" >/dev/null
	q "COPY (SELECT i, 'c' || i AS c FROM range(500) t(i)) TO $(sql_str "$d/three $NASTY.csv")" >/dev/null
	q "COPY (SELECT i, 'j' || i AS j FROM range(400) t(i)) TO $(sql_str "$d/four $NASTY.json")" >/dev/null
}

# the script, with every path written as a '…' literal ('' for ')
write_script() { # INDIR OUTDIR
	local in=$1 out=$2
	cat >"job $NASTY.pond" <<EOF
pq = read_parquet($(pond_str "$in/*.parquet"), filename=true)
pq = pq.repartition(3, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n, min(s) AS ms FROM {0} GROUP BY k', pq)
agg.write_parquet($(pond_str "$out"))
pq.write_csv($(pond_str "$out csv"), partition_by='k')
files = read_parquet([$(pond_str "$in/one $NASTY.parquet"), $(pond_str "$in/two 'x'.parquet")]).repartition(2, range_by='i')
files.write_parquet($(pond_str "$out sorted"))
c = read_csv($(pond_str "$in/three $NASTY.csv"))
c.write_parquet($(pond_str "$out from csv"))
j = read_json($(pond_str "$in/four $NASTY.json"))
j.write_parquet($(pond_str "$out from json"))
pq.count()
EOF
}

check_outputs() { # INDIR OUTDIR
	local in=$1 out=$2 pin
	# pond makes input paths absolute (the filename= column shows them)
	[[ $in == /* ]] || in="$(pwd -P)/$in"
	pin="read_parquet($(sql_str "$in/*.parquet"), filename=true)"
	assert_published "$out"
	assert_same "aggregate through a shuffle" "$(q "SELECT * FROM $(parts "$out") ORDER BY ALL")" \
		"$(q "SELECT k, count(*) AS n, min(s) AS ms FROM $pin GROUP BY k ORDER BY ALL")"
	assert_same "filename= column holds the hostile paths" \
		"$(q "SELECT i, k::BIGINT, s, filename FROM read_csv($(sql_str "$out csv/*/*.csv"), hive_partitioning=true) ORDER BY ALL")" \
		"$(q "SELECT i, k, s, filename FROM $pin ORDER BY ALL")"
	assert_exists "$out csv/_SUCCESS"
	assert_same "range shuffle" "$(q "SELECT * FROM $(parts "$out sorted") ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet([$(sql_str "$in/one $NASTY.parquet"), $(sql_str "$in/two 'x'.parquet")]) ORDER BY ALL")"
	assert_same "csv input" "$(q "SELECT * FROM $(parts "$out from csv") ORDER BY ALL")" \
		"$(q "SELECT * FROM read_csv($(sql_str "$in/three $NASTY.csv")) ORDER BY ALL")"
	assert_same "json input" "$(q "SELECT * FROM $(parts "$out from json") ORDER BY ALL")" \
		"$(q "SELECT * FROM read_json($(sql_str "$in/four $NASTY.json")) ORDER BY ALL")"
	assert_same "count" "$(cat out.txt)" "$(q "SELECT count(*) FROM $pin")"
}

test_hostile_names_everywhere() {
	local in="$T/in $NASTY" out="$T/out $NASTY" jd="$T/job $NASTY"
	make_inputs "$in"
	write_script "$in" "$out"
	pond_ok "job $NASTY.pond" --job-dir "$jd"
	check_outputs "$in" "$out"
	assert_exists "$jd/plan.json"
	assert_exists "$jd/journal.jsonl"
	assert_no_pwned
}

test_hostile_names_relative_and_default_job_dir() {
	# relative paths in the script, the job dir defaulting to
	# .pond/<script name>-<hash> (the script's name is hostile too)
	mkdir "sub $NASTY"
	cd "sub $NASTY"
	make_inputs "in $NASTY"
	write_script "in $NASTY" "out $NASTY"
	pond_ok "job $NASTY.pond"
	check_outputs "in $NASTY" "out $NASTY"
	assert_same "one default job dir, named after the script" "$(job_dirs | sed 's/-[0-9a-f]\{8\}$//')" ".pond/job $NASTY"
	assert_exists "$(job_dirs)/plan.json"
	assert_no_pwned
}

test_hostile_names_through_defines() {
	# ${NAME} substitution of hostile values, and a glob over a hostile dir
	local in="$T/in $NASTY"
	make_inputs "$in"
	cat >job.pond <<'EOF'
df = read_parquet('${IN}/*.parquet').repartition(2, hash_by='k')
df.write_parquet('${OUT}')
df.filter('s LIKE ''${PAT}%''').write_parquet('${OUT} filtered')
EOF
	pond_ok job.pond -D "IN=$in" -D "OUT=$T/o $NASTY" -D "PAT=日本" --job-dir "$T/j $NASTY"
	assert_published "$T/o $NASTY"
	assert_same "rows" "$(q "SELECT * FROM $(parts "$T/o $NASTY") ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet($(sql_str "$in/*.parquet")) ORDER BY ALL")"
	assert_same "filtered rows" "$(q "SELECT * FROM $(parts "$T/o $NASTY filtered") ORDER BY ALL")" \
		"$(q "SELECT * FROM read_parquet($(sql_str "$in/*.parquet")) WHERE s LIKE '日本%' ORDER BY ALL")"
	assert_no_pwned
}

test_hostile_names_explain_and_errors() {
	local in="$T/in $NASTY"
	make_inputs "$in"
	write_script "$in" "$T/out $NASTY"
	pond_cli 0 explain "job $NASTY.pond" --job-dir "$T/jd $NASTY"
	assert_contains "explain shows the input path" out.txt "$in"
	assert_missing "$T/jd $NASTY"
	assert_missing "$T/out $NASTY"
	# a missing hostile input is named exactly
	cat >bad.pond <<EOF
read_parquet($(pond_str "$T/nope $NASTY.parquet")).count()
EOF
	pond_rc 1 bad.pond
	assert_contains "missing input named" err.txt "$T/nope $NASTY.parquet"
	assert_no_pwned
}

run_test hostile_names_in_inputs_outputs_job_dir test_hostile_names_everywhere
run_test hostile_names_relative_paths_default_job_dir test_hostile_names_relative_and_default_job_dir
run_test hostile_names_through_defines test_hostile_names_through_defines
run_test hostile_names_in_explain_and_errors test_hostile_names_explain_and_errors
finish_tests
