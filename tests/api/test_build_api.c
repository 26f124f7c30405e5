/* test_build_api.c — the plan-building API of include/pond.h, used as an
 * outside program would (only pond.h; DuckDB for the oracle): steps made
 * and bound call by call, a mistake failing its own call and leaving the
 * session usable, a run, results fetched with types and validity, a sql()
 * step, a dataset named (pond_name) and read by name in a sql() step,
 * positions with columns and items (pond_at_col, pond_at_items) in
 * messages, an output read back as a source. Every result is compared with
 * the same query in single-process DuckDB, opened only after the last run
 * (the driver must not hold a DuckDB while it forks workers). Runs under
 * ASan in CI.
 *
 *   build/tests/test_build_api DIR     # DIR: an empty scratch directory
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "pond.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

#define OK(call, s)                                                                                         \
	do {                                                                                                \
		pond_status st_ = (call);                                                                   \
		if (st_ != POND_OK) {                                                                       \
			fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, pond_errmsg(s)); \
			exit(1);                                                                            \
		}                                                                                           \
	} while (0)

/* A fetched result as text: one line per row, cells tab-separated, NULL
 * as \N, in the result's order. */
static char *result_text(const pond_result *r)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);

	out[0] = '\0';
	for (int64_t i = 0; i < pond_result_rows(r); i++) {
		for (size_t c = 0; c < pond_result_columns(r); c++) {
			const char *v = pond_result_values(r, c)[i];
			size_t need = len + (v ? strlen(v) : 2) + 2;
			if (need >= cap) {
				cap = need * 2;
				out = realloc(out, cap);
			}
			len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "\t" : "", v ? v : "\\N");
		}
		out[len++] = '\n';
		out[len] = '\0';
	}
	return out;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* text's lines sorted (partitions come back in partition order, each
 * sorted on its own), in place. */
static char *sorted_lines(char *text)
{
	size_t n = 0, len = strlen(text);
	char **lines = calloc(len + 1, sizeof(char *)), *copy = strdup(text), *p = copy;
	size_t at = 0;

	for (char *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		lines[n++] = p;
	}
	qsort(lines, n, sizeof(char *), cmp_line);
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(text + at, len + 1 - at, "%s\n", lines[i]);
	free(lines);
	free(copy);
	return text;
}

/* The same for a query in a fresh in-memory DuckDB. */
static char *oracle(const char *sql)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);

	out[0] = '\0';
	if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess ||
	    duckdb_query(con, sql, &res) != DuckDBSuccess) {
		fprintf(stderr, "oracle failed: %s\n", sql);
		exit(1);
	}
	for (idx_t i = 0; i < duckdb_row_count(&res); i++) {
		for (idx_t c = 0; c < duckdb_column_count(&res); c++) {
			char *v = duckdb_value_is_null(&res, c, i) ? NULL : duckdb_value_varchar(&res, c, i);
			size_t need = len + (v ? strlen(v) : 2) + 2;
			if (need >= cap) {
				cap = need * 2;
				out = realloc(out, cap);
			}
			len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "\t" : "", v ? v : "\\N");
			duckdb_free(v);
		}
		out[len++] = '\n';
		out[len] = '\0';
	}
	duckdb_destroy_result(&res);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return out;
}

/* Writes d to dir/name, runs it in dir/name-job, and fetches it. */
static char *run_and_fetch(pond_session *s, pond_dataset *d, const char *dir, const char *name, int64_t *rows)
{
	char out[4096], job[4096];
	pond_result *r = NULL;
	char *text;

	snprintf(out, sizeof(out), "%s/%s", dir, name);
	snprintf(job, sizeof(job), "%s/%s-job", dir, name);
	OK(pond_write(s, d, POND_FORMAT_PARQUET, out, NULL, 0, true), s);
	OK(pond_set_job(s, job, false), s);
	OK(pond_run(s), s);
	OK(pond_fetch(s, d, out, &r), s);
	text = result_text(r);
	if (rows)
		*rows = pond_result_rows(r);
	pond_result_free(r);
	return text;
}

int main(int argc, char **argv)
{
	pond_options o;
	pond_session *s;
	pond_dataset *gen, *shuffled, *agg, *bad = NULL, *sorted, *whole, *back, *few, *named;
	const char *keys[] = { "g" };
	const char *type = NULL;
	char *got_agg, *got_sql, *got_back, *got_named, *want;
	char path[4096];
	int64_t nfew = -1;

	if (argc != 2) {
		fprintf(stderr, "usage: test_build_api DIR\n");
		return 2;
	}
	pond_options_init(&o);
	o.workers = 2;
	o.progress = POND_PROGRESS_NONE;
	pond_session_new(&o, &s);

	pond_at(s, "test_build_api.c", __LINE__);
	OK(pond_partial_sql(
		   s, "SELECT i AS k, i % 7 AS g, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS v FROM range(5000) t(i)",
		   NULL, 0, &gen),
	   s);
	OK(pond_repartition(s, gen, 3, POND_BY_HASH, keys, 1, &shuffled), s);
	CHECK(pond_dataset_partitions(shuffled) == 3, "3 partitions, not %d", pond_dataset_partitions(shuffled));
	OK(pond_partial_sql(s, "SELECT g, count(v)::BIGINT AS n, sum(v)::BIGINT AS s FROM {0} GROUP BY g", &shuffled, 1,
			    &agg),
	   s);
	CHECK(pond_dataset_columns(agg) == 3, "3 columns");
	CHECK(!strcmp(pond_dataset_column(agg, 1, &type), "n") && !strcmp(type, "BIGINT"), "column 1 is n BIGINT");

	/* a mistake fails its call, names the place, and the session goes on */
	pond_at(s, "job.py", 42);
	CHECK(pond_filter(s, agg, "no_such > 1", &bad) == POND_EUSAGE, "a bad column is POND_EUSAGE");
	CHECK(strstr(pond_errmsg(s), "job.py:42") && strstr(pond_errmsg(s), "no_such"), "message: %s", pond_errmsg(s));
	CHECK(pond_repartition(s, agg, 0, POND_BY_FILES, NULL, 0, &bad) == POND_EUSAGE, "0 partitions refused");
	CHECK(pond_repartition(s, agg, 2, POND_BY_HASH, NULL, 0, &bad) == POND_EUSAGE, "hash_by without keys");
	CHECK(bad == NULL, "no dataset from a failed call");
	snprintf(path, sizeof(path), "%s/missing/*.parquet", argv[1]);
	{
		const char *paths[] = { path };
		CHECK(pond_read(s, POND_FORMAT_PARQUET, paths, 1, NULL, 0, NULL, 0, &bad) == POND_EINPUT,
		      "a missing input is POND_EINPUT: %s", pond_errmsg(s));
	}
	/* a script's positions: the call's line:col, and a path's own */
	pond_at_col(s, "job.pond", 3, 5);
	CHECK(pond_filter(s, agg, "no_such > 1", &bad) == POND_EUSAGE, "a bad column");
	CHECK(!strncmp(pond_errmsg(s), "job.pond:3:5: filter: ", 22), "message: %s", pond_errmsg(s));
	{
		const int lines[] = { 3 }, cols[] = { 18 };
		const char *paths[] = { path };
		pond_at_items(s, lines, cols, 1);
		CHECK(pond_read(s, POND_FORMAT_PARQUET, paths, 1, NULL, 0, NULL, 0, &bad) == POND_EINPUT, "missing");
		CHECK(!strncmp(pond_errmsg(s), "job.pond:3:18: ", 15) && strstr(pond_errmsg(s), "missing"),
		      "the path's position: %s", pond_errmsg(s));
		pond_at(s, "job.py", 50);
		CHECK(pond_read(s, POND_FORMAT_PARQUET, paths, 1, NULL, 0, NULL, 0, &bad) == POND_EINPUT, "missing");
		CHECK(!strncmp(pond_errmsg(s), "job.py:50: read_parquet: ", 25), "pond_at clears the items: %s",
		      pond_errmsg(s));
	}
	CHECK(pond_name(s, agg, "") == POND_EUSAGE, "an empty name is refused");
	OK(pond_name(s, agg, "totals"), s);
	OK(pond_partial_sort(s, agg, "g", &sorted), s);

	got_agg = run_and_fetch(s, sorted, argv[1], "agg", NULL);

	/* sql() over a dataset, planned like pond sql */
	OK(pond_sql_step(s, "SELECT count(*)::BIGINT AS rows, sum(s)::BIGINT AS total FROM {0}", &agg, 1, &whole), s);
	got_sql = run_and_fetch(s, whole, argv[1], "sql", NULL);

	/* sql() naming a dataset pond_name named, without {0} */
	OK(pond_sql_step(s, "SELECT count(*)::BIGINT AS groups, min(g) AS lo FROM totals", NULL, 0, &named), s);
	got_named = run_and_fetch(s, named, argv[1], "named", NULL);

	/* an output read back as a source, with a limit */
	snprintf(path, sizeof(path), "%s/agg", argv[1]);
	{
		const char *paths[] = { path };
		OK(pond_read(s, POND_FORMAT_PARQUET, paths, 1, NULL, 0, NULL, 0, &back), s);
	}
	OK(pond_limit(s, back, 4, &few), s);
	free(run_and_fetch(s, few, argv[1], "few", &nfew));
	CHECK(nfew == 4, "limit 4 gave %lld rows", (long long)nfew);
	OK(pond_filter(s, back, "g >= 3", &few), s);
	got_back = run_and_fetch(s, few, argv[1], "back", NULL);
	pond_session_free(s);

	/* the oracle, now that no run will fork */
	want = oracle(
		"SELECT i % 7 AS g, count(v)::BIGINT, sum(v)::BIGINT FROM (SELECT i, CASE WHEN i % 5 = 0 THEN NULL "
		"ELSE i END AS v FROM range(5000) t(i)) GROUP BY g ORDER BY g");
	CHECK(!strcmp(sorted_lines(got_agg), sorted_lines(want)), "aggregate:\n%s\nwant:\n%s", got_agg, want);
	free(want);
	want =
		oracle("SELECT count(DISTINCT i % 7)::BIGINT, sum(CASE WHEN i % 5 = 0 THEN NULL ELSE i END)::BIGINT "
		       "FROM range(5000) t(i)");
	CHECK(!strcmp(got_sql, want), "sql:\n%s\nwant:\n%s", got_sql, want);
	free(want);
	want = oracle("SELECT count(DISTINCT i % 7)::BIGINT, min(i % 7) FROM range(5000) t(i)");
	CHECK(!strcmp(got_named, want), "sql by name:\n%s\nwant:\n%s", got_named, want);
	free(want);
	want = oracle(
		"SELECT i % 7 AS g, count(v)::BIGINT, sum(v)::BIGINT FROM (SELECT i, CASE WHEN i % 5 = 0 THEN NULL "
		"ELSE i END AS v FROM range(5000) t(i)) GROUP BY g HAVING g >= 3 ORDER BY g");
	CHECK(!strcmp(sorted_lines(got_back), sorted_lines(want)), "read back:\n%s\nwant:\n%s", got_back, want);
	free(want);
	free(got_agg);
	free(got_sql);
	free(got_named);
	free(got_back);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		printf("build API: every check passed\n");
	return failures ? 1 : 0;
}
