/* test_plan_golden.c — golden tests of the planner. Every script in the
 * golden directory (tests/golden/NAME.pond) is loaded through the library
 * (pond_load_script: parse, interpret, bind) against inputs this program
 * generates, and planned; `pond explain`'s output and the whole plan as
 * plan.json records it are compared with NAME.explain and NAME.plan.json.
 * Paths under the temporary directory become @TMP@, sink staging ids
 * @ID@, and input sizes and times 0, so that the files do not depend on
 * where or when the test runs.
 *
 *   build/tests/test_plan_golden tests/golden                        # check
 *   POND_GOLDEN_UPDATE=1 build/tests/test_plan_golden tests/golden   # regenerate
 *
 * A plan that changes on purpose is regenerated and the diff reviewed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/internal.h"
#include "duckdb.h"
#include "plan/task_codec.h"
#include "util/fsutil.h"
#include "util/proc.h"
#include "util/sb.h"

/* The inputs the scripts read, relative to the working directory. */
static const char *const inputs[] = {
#define PARQUET_PART(n)                                                                                      \
	"COPY (SELECT i, (hash(i) % 50)::BIGINT AS k, (i * 1.5)::DOUBLE AS v, 'r' || (i % 7) AS region "     \
	"FROM range(" #n " * 2000, (" #n " + 1) * 2000) t(i)) TO 'in/f" #n ".parquet'"
	PARQUET_PART(0), PARQUET_PART(1), PARQUET_PART(2), PARQUET_PART(3), PARQUET_PART(4),
	"COPY (SELECT i, (hash(i) % 50)::INTEGER AS k, 'x' || i AS s FROM range(0, 100) t(i)) TO 'csv/a.csv' (HEADER)",
	"COPY (SELECT i, (hash(i) % 50)::INTEGER AS k, 'x' || i AS s FROM range(100, 200) t(i)) TO 'csv/b.csv' (HEADER)",
	"COPY (SELECT i, (hash(i) % 50)::BIGINT AS k FROM range(0, 100) t(i)) TO 'js/a.json'",
	"COPY (SELECT i, (hash(i) % 50)::BIGINT AS k FROM range(100, 200) t(i)) TO 'js/b.json'",
	/* over 16 MiB in one file: cut into row slices */
	"COPY (SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s FROM range(600000) t(i)) "
	"TO 'big/b.parquet' (COMPRESSION uncompressed, ROW_GROUP_SIZE 20000)",
};

/* Writes the inputs in a child: this process must not hold a DuckDB
 * (pond forks its plan-time DuckDB from it). */
static int make_inputs(void)
{
	pid_t pid = proc_fork();
	int status = 0;

	if (pid == 0) {
		duckdb_database db;
		duckdb_connection con;
		if (fs_mkdir_p("in", NULL) || fs_mkdir_p("csv", NULL) || fs_mkdir_p("js", NULL) || fs_mkdir_p("big", NULL) ||
		    duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
			_exit(1);
		for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
			duckdb_result r;
			if (duckdb_query(con, inputs[i], &r) != DuckDBSuccess) {
				fprintf(stderr, "test_plan_golden: %s: %s\n", inputs[i], duckdb_result_error(&r));
				_exit(1);
			}
			duckdb_destroy_result(&r);
		}
		duckdb_disconnect(&con);
		duckdb_close(&db);
		_exit(0);
	}
	return pid > 0 && proc_reap(pid, &status) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* text with every `from` replaced by `to`. Caller frees. */
static char *replace_all(const char *text, const char *from, const char *to)
{
	sb b = SB_INIT;
	size_t n = strlen(from);

	for (const char *p = text; *p;) {
		if (n && !strncmp(p, from, n)) {
			sb_add(&b, to);
			p += n;
		} else {
			sb_addn(&b, p++, 1);
		}
	}
	return sb_detach(&b);
}

/* text with what follows each `key` up to `stop` (a set of characters)
 * replaced by `to`. Caller frees. */
static char *replace_after(const char *text, const char *key, const char *stop, const char *to)
{
	sb b = SB_INIT;
	size_t n = strlen(key);

	for (const char *p = text; *p;) {
		if (!strncmp(p, key, n)) {
			sb_addn(&b, p, n);
			sb_add(&b, to);
			p += n;
			p += strcspn(p, stop);
		} else {
			sb_addn(&b, p++, 1);
		}
	}
	return sb_detach(&b);
}

/* What may differ between two runs of the test, made constant. */
static char *normalize(char *text, const char *tmp)
{
	char *a = replace_all(text, tmp, "@TMP@");
	char *b = replace_after(a, "pond-staging-", "/\",\n", "@ID@");
	char *c = replace_after(b, "\"mtime_ns\": ", ",\n}", "0");
	char *d = replace_after(c, "\"size\": ", ",\n}", "0");

	free(text);
	free(a);
	free(b);
	free(c);
	return d;
}

/* Compares text with the golden file, or writes it there when updating. */
static int check(const char *golden, const char *text, bool update)
{
	char *want = NULL;
	int ok;

	if (update) {
		pond_err err = { 0 };
		if (fs_write(golden, text, strlen(text), &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 0;
		}
		return 1;
	}
	ok = fs_read(golden, &want, NULL, NULL) == 0 && !strcmp(want, text);
	if (!ok) {
		char *got = xasprintf("%s.got", golden);
		fs_write(got, text, strlen(text), NULL);
		printf("    %s differs: diff %s %s\n", golden, golden, got);
		free(got);
	}
	free(want);
	return ok;
}

/* Loads golden/NAME.pond (copied here, so that messages and plans name
 * it relatively) and checks its explain output and plan. */
static int run_script(const char *golden, const char *name, const char *tmp, bool update)
{
	char *src = xasprintf("%s/%s.pond", golden, name), *local = xasprintf("%s.pond", name);
	char *text = NULL, *explained = NULL, *planned = NULL;
	size_t len = 0;
	pond_options o;
	pond_session *s = NULL;
	pplan *pp = NULL;
	FILE *mem;
	int ok = 0;

	pond_options_init(&o);
	o.job_dir = "jd";
	pond_session_new(&o, &s);
	if (fs_read(src, &text, &len, NULL) || fs_write(local, text, len, NULL) || pond_load_script(s, local) ||
	    session_plan(s, &pp)) {
		printf("    %s: %s\n", name, pond_errmsg(s));
		goto out;
	}
	mem = open_memstream(&explained, &len);
	pond_explain(s, mem);
	fclose(mem);
	planned = normalize(codec_plan(pp), tmp);
	explained = normalize(explained, tmp);
	{
		char *ex = xasprintf("%s/%s.explain", golden, name), *pj = xasprintf("%s/%s.plan.json", golden, name);
		int a = check(ex, explained, update), b = check(pj, planned, update);
		ok = a && b;
		free(ex);
		free(pj);
	}
out:
	pplan_free(pp);
	pond_session_free(s);
	free(text);
	free(explained);
	free(planned);
	free(src);
	free(local);
	return ok;
}

/* The names of the *.pond scripts in dir, sorted. */
static char **scripts(const char *dir, size_t *n)
{
	char **names = NULL, **v;
	size_t all = 0;

	*n = 0;
	if (fs_list(dir, &names, &all, NULL))
		return xcalloc(1, sizeof(char *));
	v = xcalloc(all + 1, sizeof(char *));
	for (size_t i = 0; i < all; i++) {
		size_t len = strlen(names[i]);
		if (len > 5 && !strcmp(names[i] + len - 5, ".pond"))
			v[(*n)++] = xasprintf("%.*s", (int)(len - 5), names[i]);
	}
	fs_free_list(names);
	return v;
}

int main(int argc, char **argv)
{
	bool update = getenv("POND_GOLDEN_UPDATE") && *getenv("POND_GOLDEN_UPDATE");
	char tmpl[] = "/tmp/pond-golden.XXXXXX", *golden, *tmp;
	size_t n, passed = 0;
	char **names;

	if (argc != 2 || !mkdtemp(tmpl)) {
		fprintf(stderr, "usage: test_plan_golden GOLDEN_DIR (POND_GOLDEN_UPDATE=1 to regenerate)\n");
		return 2;
	}
	golden = fs_abspath(argv[1]);
	tmp = fs_realpath(tmpl);
	names = scripts(golden, &n);
	if (chdir(tmp) || make_inputs()) {
		fprintf(stderr, "test_plan_golden: cannot make the inputs in %s\n", tmp);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		int ok = run_script(golden, names[i], tmp, update);
		printf("%s  %s\n", ok ? (update ? "WROTE" : "PASS ") : "FAIL ", names[i]);
		passed += (size_t)ok;
		free(names[i]);
	}
	printf("%zu/%zu %s\n", passed, n, update ? "regenerated" : "passed");
	if (chdir("/") == 0)
		fs_rm_rf(tmp, NULL);
	free(names);
	free(golden);
	free(tmp);
	return n && passed == n ? 0 : 1;
}
