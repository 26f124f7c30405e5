#!/usr/bin/env bash
# `pond explain` (docs/PIPELINES.md): prints the logical plan and the stages with
# their task counts and shuffle boundaries, and runs nothing: no output dir,
# no job dir, no staging dir. Its stage list matches the plan.json that
# `pond run` writes for the same script.
source "$(dirname "$0")/lib.sh"

make_input() {
	mkdir -p in
	local f
	for f in 0 1 2; do
		q "COPY (SELECT i, (hash(i) % 50)::BIGINT AS k FROM range($f * 1000, ($f + 1) * 1000) t(i)) TO 'in/f$f.parquet'" >/dev/null
	done
}

test_explain_shuffle() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('in/*.parquet')
byk = df.repartition(4, hash_by='k')
agg = partial_sql('SELECT k, count(*) AS n FROM {0} GROUP BY k', byk)
agg.write_parquet('out')
agg.count()
EOF
	pond_cli 0 explain job.pond --job-dir jd
	assert_contains "logical plan" out.txt "Logical plan"
	assert_contains "physical plan" out.txt "Physical plan"
	assert_contains "a shuffle boundary" out.txt "shuffle boundary"
	assert_contains "the repartition mode and key" out.txt "hash on k"
	assert_contains "the input files" out.txt "$T/in/f0.parquet"
	assert_contains "the sink" out.txt "$T/out"
	# the fused SQL of the consumer: the user's query is there
	assert_contains "fused SQL" out.txt "GROUP BY k"
	# runs nothing
	assert_missing out
	assert_missing jd
	assert_missing .pond
	assert_no_staging out
	# the stages it lists are those pond run executes
	local stages
	stages=$(grep -oE '^Stage [^:]+: [0-9]+ tasks?' out.txt | sed -E 's/^Stage ([^:]+): ([0-9]+) tasks?/\1\t\2/')
	[ -n "$stages" ] || fail "no stage lines"
	pond_ok job.pond --job-dir jd
	assert_same "explain's stages = plan.json's stages" "$stages" \
		"$(q "SELECT json_extract_string(s, '\$.name'), json_array_length(s, '\$.tasks')
		      FROM (SELECT unnest(json_extract(content, '\$.stages[*]')) AS s FROM read_text('jd/plan.json'))")"
}

test_explain_range_and_errors() {
	make_input
	cat >job.pond <<'EOF'
df = read_parquet('${IN}/*.parquet').repartition(3, range_by='i')
df.partial_sort('i').write_parquet('out')
EOF
	pond_cli 0 explain job.pond -D IN=in
	assert_contains "a range shuffle samples" out.txt "sample"
	assert_contains "and picks split points" out.txt "splits"
	assert_contains "shuffle boundary" out.txt "shuffle boundary"
	assert_missing out
	assert_missing .pond
	# explain reports script errors like run: exit 2, file:line:col
	pond_cli 2 explain job.pond
	assert_matches "undefined define" err.txt "job\.pond:1:[0-9]+: .*IN"
	printf "x = nope()\nx.count()\n" >bad.pond
	pond_cli 2 explain bad.pond
	assert_matches "unknown function" err.txt "bad\.pond:1:5: unknown function 'nope'"
	# mode='error' is checked when running, not explaining: a non-empty
	# output dir does not stop explain
	mkdir out
	touch out/x
	pond_cli 0 explain job.pond -D IN=in
	assert_same "output untouched" "$(ls -A out)" "x"
}

run_test explain_shows_stages_and_shuffle_boundary test_explain_shuffle
run_test explain_range_shuffle_and_script_errors test_explain_range_and_errors
finish_tests
