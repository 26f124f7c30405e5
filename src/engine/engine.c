/* engine.c — one task, one in-memory DuckDB: set the task's threads,
 * memory limit and spill directory, create its input views (listing
 * shuffle bucket files now that the producers have committed), then run one
 * COPY (or a small query for show/count). Paths enter SQL only through
 * sb_sql_str. Called by the task child (src/runtime/task.c). */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "engine/table.h"
#include "util/fsutil.h"
#include "util/sb.h"

struct engine {
	duckdb_database db;
};

/* One task's view of the engine: a fresh connection, so the temp views of
 * one task are never seen by the next. */
typedef struct {
	duckdb_database db;
	duckdb_connection con;
	const char *task_id;
	const char *step;
} eng;

static int64_t first_int(duckdb_result *r);

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static error_class classify(duckdb_error_type t, const char *msg)
{
	switch (t) {
	case DUCKDB_ERROR_OUT_OF_MEMORY:
		return EC_RESOURCE;
	case DUCKDB_ERROR_IO:
		if (strstr(msg, "No space left"))
			return EC_RESOURCE;
		return EC_INPUT;
	case DUCKDB_ERROR_PARSER:
	case DUCKDB_ERROR_BINDER:
	case DUCKDB_ERROR_CATALOG:
	case DUCKDB_ERROR_CONVERSION:
	case DUCKDB_ERROR_INVALID_INPUT:
	case DUCKDB_ERROR_CONSTRAINT:
	case DUCKDB_ERROR_OUT_OF_RANGE:
	case DUCKDB_ERROR_MISMATCH_TYPE:
	case DUCKDB_ERROR_INVALID_TYPE:
	case DUCKDB_ERROR_SYNTAX:
	case DUCKDB_ERROR_DIVIDE_BY_ZERO:
	case DUCKDB_ERROR_NOT_IMPLEMENTED:
		return EC_INPUT;
	default:
		return EC_INTERNAL;
	}
}

/* Runs sql; on success keeps the result in *res if res is not NULL. */
static int run(eng *e, const char *sql, duckdb_result *res, error_class *cls, pond_err *err)
{
	duckdb_result r;

	if (duckdb_query(e->con, sql, &r) != DuckDBSuccess) {
		const char *msg = duckdb_result_error(&r);
		*cls = classify(duckdb_result_error_type(&r), msg ? msg : "");
		pond_fail(err, POND_ETASK, "%s\n  SQL: %s", msg ? msg : "unknown DuckDB error", sql);
		duckdb_destroy_result(&r);
		return -1;
	}
	if (res)
		*res = r;
	else
		duckdb_destroy_result(&r);
	return 0;
}

int engine_open(engine **out, const char *spill_dir, pond_err *err)
{
	duckdb_config cfg;
	char *open_err = NULL;
	engine *e = xcalloc(1, sizeof(engine));
	int rc = 0;

	*out = NULL;
	if (duckdb_create_config(&cfg) != DuckDBSuccess) {
		free(e);
		return pond_fail(err, POND_ENOMEM, "cannot create a DuckDB config");
	}
	duckdb_set_config(cfg, "threads", "1");
	duckdb_set_config(cfg, "temp_directory", spill_dir);
	duckdb_set_config(cfg, "preserve_insertion_order", "true");
	duckdb_set_config(cfg, "enable_progress_bar", "false");
	duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
	if (duckdb_open_ext(NULL, &e->db, cfg, &open_err) != DuckDBSuccess) {
		rc = pond_fail(err, POND_ETASK, "cannot open DuckDB: %s", open_err ? open_err : "?");
		duckdb_free(open_err);
		free(e);
		e = NULL;
	}
	duckdb_destroy_config(&cfg);
	*out = e;
	return rc;
}

void engine_close(engine *e)
{
	if (!e)
		return;
	duckdb_close(&e->db);
	free(e);
}

/* Per-task settings, then a fresh connection. */
static int begin_task(eng *e, const json_t *t, error_class *cls, pond_err *err)
{
	char sql[128];
	int rc;

	if (duckdb_connect(e->db, &e->con) != DuckDBSuccess) {
		*cls = EC_INTERNAL;
		return pond_fail(err, POND_ETASK, "cannot connect to DuckDB");
	}
	snprintf(sql, sizeof(sql), "SET threads = %lld", (long long)json_integer_value(json_object_get(t, "threads")));
	rc = run(e, sql, NULL, cls, err);
	snprintf(sql, sizeof(sql), "SET memory_limit = '%lldB'",
		 (long long)json_integer_value(json_object_get(t, "memory_limit")));
	if (!rc)
		rc = run(e, sql, NULL, cls, err);
	return rc;
}

static bool is_parquet(const char *name)
{
	size_t n = strlen(name);
	return n > 8 && !strcmp(name + n - 8, ".parquet");
}

/* Appends the parquet files of dir/__pond_bucket=b/ to list (sorted). */
static void bucket_files(sb *list, size_t *nfiles, const char *dir, long long b)
{
	char *bdir = xasprintf("%s/__pond_bucket=%lld", dir, b);
	char **names;
	size_t n;

	if (fs_list(bdir, &names, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!is_parquet(names[i]))
				continue;
			char *f = xasprintf("%s/%s", bdir, names[i]);
			if ((*nfiles)++)
				sb_add(list, ", ");
			sb_sql_str(list, f);
			free(f);
		}
	}
	fs_free_list(names);
	free(bdir);
}

/* Any file with the shuffle's schema, for a bucket that received no rows. */
static char *schema_file(const json_t *dirs, long long nbuckets)
{
	size_t i;
	json_t *d;

	json_array_foreach(dirs, i, d) {
		char *f = xasprintf("%s/_empty.parquet", json_string_value(d));
		if (fs_exists(f))
			return f;
		free(f);
		for (long long b = 0; b < nbuckets; b++) {
			char *bdir = xasprintf("%s/__pond_bucket=%lld", json_string_value(d), b);
			char **names;
			size_t n;
			char *found = NULL;
			if (fs_list(bdir, &names, &n, NULL) == 0 && n)
				found = xasprintf("%s/%s", bdir, names[0]);
			fs_free_list(names);
			free(bdir);
			if (found)
				return found;
		}
	}
	return NULL;
}

static int shuffle_view_sql(const json_t *v, sb *out, pond_err *err)
{
	const json_t *dirs = json_object_get(v, "shuffle_dirs");
	long long bucket = json_integer_value(json_object_get(v, "bucket"));
	long long nb = json_integer_value(json_object_get(v, "buckets"));
	const char *order = json_string_value(json_object_get(v, "order_by"));
	sb list = SB_INIT;
	size_t nfiles = 0, i;
	json_t *d;

	for (long long b = bucket < 0 ? 0 : bucket; b < (bucket < 0 ? nb : bucket + 1); b++)
		json_array_foreach(dirs, i, d)
			bucket_files(&list, &nfiles, json_string_value(d), b);
	if (nfiles) {
		sb_addf(out, "SELECT __pond_t.* FROM read_parquet([%s], hive_partitioning=false) AS __pond_t", sb_str(&list));
		if (order)
			sb_addf(out, " ORDER BY %s", order);
	} else {
		char *f = schema_file(dirs, nb);
		if (!f) {
			sb_release(&list);
			return pond_fail(err, POND_EINTERNAL, "shuffle input has no files and no schema");
		}
		sb_add(out, "SELECT * FROM read_parquet(");
		sb_sql_str(out, f);
		sb_add(out, ", hive_partitioning=false) LIMIT 0");
		free(f);
	}
	sb_release(&list);
	return 0;
}

/* A row slice of a Parquet file: bounds from the file's row count. */
static int slice_view_sql(eng *e, const json_t *v, sb *out, error_class *cls, pond_err *err)
{
	const json_t *sl = json_object_get(v, "slice");
	long long k = json_integer_value(json_array_get(sl, 0));
	long long K = json_integer_value(json_array_get(sl, 1));
	duckdb_result r;
	sb q = SB_INIT;
	long long rows;
	int rc;

	sb_add(&q, "SELECT num_rows FROM parquet_file_metadata(");
	sb_sql_str(&q, jstr(v, "slice_file"));
	sb_add(&q, ")");
	rc = run(e, sb_str(&q), &r, cls, err);
	sb_release(&q);
	if (rc)
		return rc;
	rows = first_int(&r);
	sb_addf(out, "%s WHERE file_row_number >= %lld AND file_row_number < %lld", jstr(v, "sql"),
		rows * k / K, rows * (k + 1) / K);
	return 0;
}

/* Rows [part*N/parts, (part+1)*N/parts) of Parquet files read in order:
 * one file_row_number range per file that overlaps, in file order. */
static int rows_view_sql(eng *e, const json_t *v, sb *out, error_class *cls, pond_err *err)
{
	const json_t *files = json_object_get(v, "rows_files"), *sqls = json_object_get(v, "rows_sql");
	long long part = json_integer_value(json_array_get(json_object_get(v, "rows_part"), 0));
	long long parts = json_integer_value(json_array_get(json_object_get(v, "rows_part"), 1));
	size_t nf = json_array_size(files), i;
	long long *rows = xcalloc(nf + 1, sizeof(long long)), total = 0, lo, hi, start = 0;
	duckdb_result r;
	sb q = SB_INIT;
	json_t *f;
	int rc, branches = 0;

	sb_add(&q, "SELECT file_name, num_rows FROM parquet_file_metadata([");
	json_array_foreach(files, i, f) {
		sb_add(&q, i ? ", " : "");
		sb_sql_str(&q, json_string_value(f));
	}
	sb_add(&q, "])");
	rc = run(e, sb_str(&q), &r, cls, err);
	sb_release(&q);
	if (rc) {
		free(rows);
		return rc;
	}
	/* the metadata rows may come in any order: match them by name */
	for (idx_t k = 0; k < duckdb_row_count(&r); k++) {
		char *name = duckdb_value_varchar(&r, 0, k);
		json_array_foreach(files, i, f)
			if (name && !strcmp(name, json_string_value(f)))
				rows[i] = duckdb_value_int64(&r, 1, k);
		duckdb_free(name);
	}
	duckdb_destroy_result(&r);
	for (i = 0; i < nf; i++)
		total += rows[i];
	lo = total * part / parts;
	hi = total * (part + 1) / parts;
	for (i = 0; i < nf; start += rows[i], i++) {
		long long a = lo > start ? lo - start : 0, b = hi - start < rows[i] ? hi - start : rows[i];
		if (b <= a)
			continue;
		sb_addf(out, "%s(%s WHERE file_row_number >= %lld AND file_row_number < %lld)", branches++ ? " UNION ALL " : "",
			json_string_value(json_array_get(sqls, i)), a, b);
	}
	if (!branches)
		sb_addf(out, "%s LIMIT 0", json_string_value(json_array_get(sqls, 0)));
	free(rows);
	return 0;
}

static int create_views(eng *e, const json_t *t, error_class *cls, pond_err *err)
{
	size_t i;
	json_t *v;
	sb sql = SB_INIT;
	int rc = 0;

	json_array_foreach(json_object_get(t, "views"), i, v) {
		sb_reset(&sql);
		sb_addf(&sql, "CREATE TEMP VIEW %s AS ", jstr(v, "name"));
		if (json_object_get(v, "slice")) {
			if ((rc = slice_view_sql(e, v, &sql, cls, err)))
				break;
		} else if (json_object_get(v, "rows_part")) {
			if ((rc = rows_view_sql(e, v, &sql, cls, err)))
				break;
		} else if (json_object_get(v, "sql"))
			sb_add(&sql, jstr(v, "sql"));
		else if ((rc = shuffle_view_sql(v, &sql, err)))
			break;
		if ((rc = run(e, sb_str(&sql), NULL, cls, err)))
			break;
	}
	sb_release(&sql);
	return rc;
}

/* Parquet has no 128-bit integer: DuckDB would write sum()'s HUGEINT as a
 * DOUBLE and lose digits between stages. Intermediate files keep such
 * columns exact as DECIMAL(38,0) instead. Returns the query to COPY
 * (malloc'ed): `sql` itself or a wrapper around it. */
static char *exact_types(eng *e, const char *sql)
{
	duckdb_prepared_statement ps;
	sb b = SB_INIT, repl = SB_INIT;

	if (duckdb_prepare(e->con, sql, &ps) == DuckDBSuccess) {
		idx_t n = duckdb_prepared_statement_column_count(ps);
		for (idx_t c = 0; c < n; c++) {
			duckdb_type t = duckdb_prepared_statement_column_type(ps, c);
			if (t != DUCKDB_TYPE_HUGEINT && t != DUCKDB_TYPE_UHUGEINT)
				continue;
			const char *name = duckdb_prepared_statement_column_name(ps, c);
			sb_add(&repl, repl.len ? ", CAST(" : "CAST(");
			sb_sql_ident(&repl, name);
			sb_add(&repl, " AS DECIMAL(38,0)) AS ");
			sb_sql_ident(&repl, name);
		}
	}
	duckdb_destroy_prepare(&ps); /* errors show up when the COPY runs */
	if (repl.len)
		sb_addf(&b, "SELECT * REPLACE (%s) FROM (%s)", sb_str(&repl), sql);
	else
		sb_add(&b, sql);
	sb_release(&repl);
	return sb_detach(&b);
}

static int64_t first_int(duckdb_result *r)
{
	int64_t v = duckdb_row_count(r) && duckdb_column_count(r) ? duckdb_value_int64(r, 0, 0) : 0;
	duckdb_destroy_result(r);
	return v;
}

static int write_text(const char *dir, const char *name, const char *text, pond_err *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = fs_write_atomic(path, text, strlen(text), err);
	free(path);
	return rc;
}

/* Intermediate files (shuffle buckets, materialised partitions) are
 * written uncompressed: they are read once, soon, usually from the page
 * cache, and snappy cost ~40% of a shuffle producer's time in the
 * benchmarks (docs/BENCHMARKS.md). Sinks use the compression asked for. */
static int run_output(eng *e, const json_t *t, task_stats *st, error_class *cls, pond_err *err)
{
	const json_t *o = json_object_get(t, "output");
	const char *kind = jstr(o, "kind"), *adir = jstr(t, "attempt_dir");
	const char *query = jstr(t, "query");
	duckdb_result r;
	sb sql = SB_INIT;
	char *path = NULL;
	int rc = 0;

	if (!strcmp(kind, "parquet")) {
		char *exact = exact_types(e, query);
		path = xasprintf("%s/part.parquet", adir);
		sb_addf(&sql, "COPY (%s) TO ", exact);
		free(exact);
		sb_sql_str(&sql, path);
		sb_add(&sql, " (FORMAT parquet, COMPRESSION uncompressed)");
		if (!(rc = run(e, sb_str(&sql), &r, cls, err)))
			st->rows = first_int(&r);
	} else if (!strcmp(kind, "buckets")) {
		char *full = xasprintf("%s\n%s", jstr(t, "with"), jstr(o, "select"));
		char *exact = exact_types(e, full);
		sb_addf(&sql, "COPY (%s) TO ", exact);
		free(exact);
		free(full);
		sb_sql_str(&sql, adir);
		sb_add(&sql, " (FORMAT parquet, COMPRESSION uncompressed, PARTITION_BY (__pond_bucket), OVERWRITE_OR_IGNORE true)");
		if (!(rc = run(e, sb_str(&sql), &r, cls, err)))
			st->rows = first_int(&r);
		if (!rc && st->rows == 0) {
			/* keep the schema for consumers whose buckets are all empty */
			path = xasprintf("%s/_empty.parquet", adir);
			sb_reset(&sql);
			char *exact = exact_types(e, query);
			sb_addf(&sql, "COPY (SELECT * FROM (%s) LIMIT 0) TO ", exact);
			free(exact);
			sb_sql_str(&sql, path);
			sb_add(&sql, " (FORMAT parquet)");
			rc = run(e, sb_str(&sql), NULL, cls, err);
		}
	} else if (!strcmp(kind, "sink")) {
		const char *pby = json_string_value(json_object_get(o, "partition_by"));
		sb_addf(&sql, "COPY (%s) TO ", query);
		if (pby) {
			char *pattern = xasprintf("%s-{i}", jstr(o, "file"));
			sb_sql_str(&sql, adir);
			sb_addf(&sql, " (%s, PARTITION_BY (%s), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN ",
				jstr(o, "copy_options"), pby);
			sb_sql_str(&sql, pattern);
			sb_add(&sql, ")");
			free(pattern);
		} else {
			path = xasprintf("%s/%s.%s", adir, jstr(o, "file"), jstr(o, "ext"));
			sb_sql_str(&sql, path);
			sb_addf(&sql, " (%s)", jstr(o, "copy_options"));
		}
		if (!(rc = run(e, sb_str(&sql), &r, cls, err)))
			st->rows = first_int(&r);
	} else if (!strcmp(kind, "show")) {
		sb_addf(&sql, "SELECT COLUMNS(*)::VARCHAR FROM (%s)", query);
		if (!(rc = run(e, sb_str(&sql), &r, cls, err))) {
			char *text = table_format(&r);
			st->rows = (int64_t)duckdb_row_count(&r);
			duckdb_destroy_result(&r);
			rc = write_text(adir, "show.txt", text, err);
			free(text);
		}
	} else if (!strcmp(kind, "count")) {
		if (!(rc = run(e, query, &r, cls, err))) {
			char buf[64];
			st->rows = first_int(&r);
			snprintf(buf, sizeof(buf), "%lld\n", (long long)st->rows);
			rc = write_text(adir, "count.txt", buf, err);
		}
	} else {
		*cls = EC_INTERNAL;
		rc = pond_fail(err, POND_EINTERNAL, "unknown output kind '%s'", kind);
	}
	free(path);
	sb_release(&sql);
	return rc;
}

static int64_t tree_bytes(const char *dir)
{
	char **rel;
	size_t n;
	int64_t total = 0;

	if (fs_walk(dir, &rel, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++) {
			char *p = xasprintf("%s/%s", dir, rel[i]);
			int64_t s = fs_size(p);
			total += s > 0 ? s : 0;
			free(p);
		}
	fs_free_list(rel);
	return total;
}

int engine_run_task(engine *en, const json_t *task, task_stats *st, error_class *cls, pond_err *err)
{
	eng e = { en->db, NULL, jstr(task, "id"), jstr(task, "step") };
	int rc;

	memset(st, 0, sizeof(*st));
	*cls = EC_NONE;
	rc = begin_task(&e, task, cls, err);
	if (!rc)
		rc = create_views(&e, task, cls, err);
	if (!rc)
		rc = run_output(&e, task, st, cls, err);
	if (!rc)
		st->bytes = tree_bytes(jstr(task, "attempt_dir"));
	if (e.con)
		duckdb_disconnect(&e.con);
	return rc;
}
