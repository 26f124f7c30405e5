/* engine.c — one task, one in-memory DuckDB: set the task's threads and
 * memory limit, create its input views (the files the producers' manifests
 * list, each checked), run one COPY (or a small query for show/count),
 * write the output's manifest. Paths enter SQL only through sb_sql_path
 * (read) and sb_sql_str (written). Called by the task child
 * (src/runtime/task.c). */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duckdb.h"
#include "engine/pyrun.h"
#include "engine/table.h"
#include "util/fsutil.h"
#include "util/manifest.h"
#include "util/sb.h"

struct engine {
	duckdb_database db;
	char *spill_dir; /* NULL until known */
};

/* One task's view of the engine: a fresh connection, so the temp views of
 * one task are never seen by the next. */
typedef struct {
	duckdb_database db;
	duckdb_connection con;
	const ptask *t;
	const task_attempt *a;
	char *failed_sql; /* the statement that failed, if one did */
	bool profile;     /* DuckDB's profiler on for this task */
} eng;

static int64_t first_int(duckdb_result *r);

/* Whether DuckDB's I/O error is a full disk. The one place pond reads an
 * error's text: DuckDB's C API gives an error's type but not the errno
 * behind an I/O error, and its message ends with strerror(ENOSPC) (DuckDB
 * never calls setlocale, so the text is the C locale's). Pond's own
 * writes classify by errno (util/errclass.h). */
static bool disk_full(const char *msg)
{
	return strstr(msg, "No space left on device") != NULL;
}

static error_class classify(duckdb_error_type t, const char *msg)
{
	switch (t) {
	case DUCKDB_ERROR_OUT_OF_MEMORY:
		return EC_RESOURCE;
	case DUCKDB_ERROR_IO:
		return disk_full(msg) ? EC_NOSPACE : EC_IO; /* a read may fail once and work again */
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
		pond_fail(err, POND_ETASK, "%s", msg ? msg : "unknown DuckDB error");
		free(e->failed_sql);
		e->failed_sql = xstrdup(sql);
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
	/* "": no spilling until engine_spill_to names where (an in-memory
	 * DuckDB's default is ./.tmp, in the worker's directory) */
	duckdb_set_config(cfg, "temp_directory", spill_dir ? spill_dir : "");
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
	if (e && spill_dir)
		e->spill_dir = xstrdup(spill_dir);
	*out = e;
	return rc;
}

void engine_close(engine *e)
{
	if (!e)
		return;
	duckdb_close(&e->db);
	free(e->spill_dir);
	free(e);
}

int engine_spill_to(engine *e, const char *dir, pond_err *err)
{
	duckdb_connection con;
	duckdb_result r;
	sb sql = SB_INIT;
	int rc = 0;

	if (e->spill_dir && !strcmp(e->spill_dir, dir))
		return 0;
	if (duckdb_connect(e->db, &con) != DuckDBSuccess)
		return pond_fail(err, POND_ETASK, "cannot connect to DuckDB");
	sb_add(&sql, "SET temp_directory = ");
	sb_sql_str(&sql, dir);
	if (duckdb_query(con, sb_str(&sql), &r) != DuckDBSuccess) {
		const char *msg = duckdb_result_error(&r);
		rc = pond_fail(err, POND_ETASK, "cannot spill to %s: %s", dir, msg ? msg : "?");
	} else {
		free(e->spill_dir);
		e->spill_dir = xstrdup(dir);
	}
	duckdb_destroy_result(&r);
	duckdb_disconnect(&con);
	sb_release(&sql);
	return rc;
}

/* The metrics DuckDB's profiler keeps for a task (task_metrics): only
 * the query-level ones, so that no operator is timed. Profiling settings
 * are the connection's, so every task sets them again. */
#define PROFILING                                                                              \
	"PRAGMA enable_profiling = 'no_output'; SET custom_profiling_settings = "              \
	"'{\"SYSTEM_PEAK_BUFFER_MEMORY\": \"true\", \"SYSTEM_PEAK_TEMP_DIR_SIZE\": \"true\", " \
	"\"CUMULATIVE_ROWS_SCANNED\": \"true\"}'"

/* A fresh connection, then the attempt's threads and memory limit and
 * profiling, in one call (each call costs a round through the parser). */
static int begin_task(eng *e, error_class *cls, pond_err *err)
{
	char sql[512];

	if (duckdb_connect(e->db, &e->con) != DuckDBSuccess) {
		*cls = EC_INTERNAL;
		return pond_fail(err, POND_ETASK, "cannot connect to DuckDB");
	}
	snprintf(sql, sizeof(sql), "SET threads = %lld; SET memory_limit = '%lldB'%s", (long long)e->a->threads,
		 (long long)e->a->memory_limit, e->profile ? "; " PROFILING : "");
	return run(e, sql, NULL, cls, err);
}

/* One query-level metric of the last statement, or -1. */
static int64_t metric(duckdb_profiling_info p, const char *key)
{
	duckdb_value v = duckdb_profiling_info_get_value(p, key);
	int64_t x = v ? duckdb_get_int64(v) : -1;

	if (v)
		duckdb_destroy_value(&v);
	return x;
}

/* What DuckDB's profiler measured of the task's main statement. */
static void take_profile(eng *e, task_metrics *m)
{
	duckdb_profiling_info p = duckdb_get_profiling_info(e->con);

	if (!p)
		return;
	m->peak_mem = metric(p, "SYSTEM_PEAK_BUFFER_MEMORY");
	m->spill = metric(p, "SYSTEM_PEAK_TEMP_DIR_SIZE");
	m->rows_in = metric(p, "CUMULATIVE_ROWS_SCANNED");
}

static bool is_parquet(const char *name)
{
	size_t n = strlen(name);
	return n > 8 && !strcmp(name + n - 8, ".parquet");
}

/* "s01-shuffle-t00003", the id of the task that committed dir. */
static char *task_of_dir(const char *dir)
{
	char *parent = fs_dirname(dir);
	char *id = xasprintf("task %s-%s", fs_basename(parent), fs_basename(dir));
	free(parent);
	return id;
}

static int lost_input(error_class *cls, pond_err *err)
{
	*cls = EC_INPUT;
	return pond_wrap(err,
			 "an intermediate output is missing or damaged (run again with --resume to produce it "
			 "again)");
}

/* The manifests of the committed outputs a view reads, one per producer
 * directory. A missing manifest stops the task: reading around it would
 * lose rows. */
static int read_inputs(const task_view *v, manifest **out, error_class *cls, pond_err *err)
{
	manifest *m = xcalloc(v->ndirs + 1, sizeof(manifest));

	*out = m;
	for (size_t i = 0; i < v->ndirs; i++)
		if (manifest_read(v->dirs[i], &m[i], NULL, err))
			return lost_input(cls, err);
	return 0;
}

/* File k of producer dir's manifest, checked: there, with its size. */
static int checked_file(const char *dir, const manifest *m, size_t k, error_class *cls, pond_err *err)
{
	manifest one = { &m->files[k], 1 };
	char *who = task_of_dir(dir);
	int rc = manifest_check(dir, &one, who, err);

	free(who);
	return rc ? lost_input(cls, err) : 0;
}

static void free_inputs(manifest *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		manifest_release(&m[i]);
	free(m);
}

/* The Parquet files of bucket b (every bucket if b < 0) of the producers,
 * in producer order, as a list of path literals, each checked; *schema
 * gets a Parquet file of the shuffle for a bucket that received no rows. */
static int bucket_list(const task_view *v, const manifest *m, long long b, sb *list, size_t *nfiles, char **schema,
		       error_class *cls, pond_err *err)
{
	char prefix[64];
	size_t plen;

	snprintf(prefix, sizeof(prefix), "__pond_bucket=%lld/", b);
	plen = strlen(prefix);
	for (size_t i = 0; i < v->ndirs; i++) {
		for (size_t k = 0; k < m[i].n; k++) {
			const char *rel = m[i].files[k].path;
			bool mine = b < 0 ? !strncmp(rel, "__pond_bucket=", 14) : !strncmp(rel, prefix, plen);
			char *f;
			if (!is_parquet(rel) || (!mine && *schema))
				continue;
			if (checked_file(v->dirs[i], &m[i], k, cls, err))
				return -1;
			f = xasprintf("%s/%s", v->dirs[i], rel);
			if (!*schema)
				*schema = xstrdup(f);
			if (mine) {
				if ((*nfiles)++)
					sb_add(list, ", ");
				sb_sql_path(list, f);
			}
			free(f);
		}
	}
	return 0;
}

static int shuffle_view_sql(const task_view *v, sb *out, error_class *cls, pond_err *err)
{
	sb list = SB_INIT;
	size_t nfiles = 0;
	char *schema = NULL;
	manifest *m;
	int rc = read_inputs(v, &m, cls, err);

	if (!rc && v->bucket < 0)
		for (long long b = 0; !rc && b < v->buckets; b++)
			rc = bucket_list(v, m, b, &list, &nfiles, &schema, cls, err);
	else if (!rc)
		rc = bucket_list(v, m, v->bucket, &list, &nfiles, &schema, cls, err);
	if (rc) {
		/* reported */
	} else if (nfiles) {
		sb_addf(out, "SELECT __pond_t.* FROM read_parquet([%s], hive_partitioning=false) AS __pond_t",
			sb_str(&list));
		if (v->order_by)
			sb_addf(out, " ORDER BY %s", v->order_by);
	} else if (schema) {
		sb_add(out, "SELECT * FROM read_parquet(");
		sb_sql_path(out, schema);
		sb_add(out, ", hive_partitioning=false) LIMIT 0");
	} else {
		*cls = EC_INTERNAL;
		rc = pond_fail(err, POND_EINTERNAL, "shuffle input has no files and no schema");
	}
	free(schema);
	free_inputs(m, v->ndirs);
	sb_release(&list);
	return rc;
}

/* The part files of materialised partitions, in partition order. */
static int parts_view_sql(const task_view *v, sb *out, error_class *cls, pond_err *err)
{
	size_t nfiles = 0;
	manifest *m;
	sb list = SB_INIT;
	int rc = read_inputs(v, &m, cls, err);

	for (size_t i = 0; !rc && i < v->ndirs; i++) {
		for (size_t k = 0; !rc && k < m[i].n; k++) {
			char *f;
			if (!is_parquet(m[i].files[k].path))
				continue;
			if ((rc = checked_file(v->dirs[i], &m[i], k, cls, err)))
				break;
			f = xasprintf("%s/%s", v->dirs[i], m[i].files[k].path);
			if (nfiles++)
				sb_add(&list, ", ");
			sb_sql_path(&list, f);
			free(f);
		}
	}
	if (!rc && !nfiles) {
		*cls = EC_INTERNAL;
		rc = pond_fail(err, POND_EINTERNAL, "materialised partitions have no files");
	}
	if (!rc)
		sb_addf(out, "SELECT * FROM read_parquet([%s], hive_partitioning=false)", sb_str(&list));
	free_inputs(m, v->ndirs);
	sb_release(&list);
	return rc;
}

/* A row slice of a Parquet file: bounds from the file's row count. */
static int slice_view_sql(eng *e, const task_view *v, sb *out, error_class *cls, pond_err *err)
{
	long long k = v->slice, K = v->nslices;
	duckdb_result r;
	sb q = SB_INIT;
	long long rows;
	int rc;

	sb_add(&q, "SELECT num_rows FROM parquet_file_metadata(");
	sb_sql_path(&q, v->slice_file);
	sb_add(&q, ")");
	rc = run(e, sb_str(&q), &r, cls, err);
	sb_release(&q);
	if (rc)
		return rc;
	rows = first_int(&r);
	sb_addf(out, "%s WHERE file_row_number >= %lld AND file_row_number < %lld", v->sql, rows * k / K,
		rows * (k + 1) / K);
	return 0;
}

/* Rows [part*N/parts, (part+1)*N/parts) of Parquet files read in order:
 * one file_row_number range per file that overlaps, in file order. */
static int rows_view_sql(eng *e, const task_view *v, sb *out, error_class *cls, pond_err *err)
{
	long long part = v->rows_part, parts = v->rows_parts;
	size_t nf = v->nrows_files, i;
	long long *rows = xcalloc(nf + 1, sizeof(long long)), total = 0, lo, hi, start = 0;
	duckdb_result r;
	sb q = SB_INIT;
	int rc, branches = 0;

	sb_add(&q, "SELECT file_name, num_rows FROM parquet_file_metadata([");
	for (i = 0; i < nf; i++) {
		sb_add(&q, i ? ", " : "");
		sb_sql_path(&q, v->rows_files[i]);
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
		for (i = 0; name && i < nf; i++)
			if (!strcmp(name, v->rows_files[i]))
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
		sb_addf(out, "%s(%s WHERE file_row_number >= %lld AND file_row_number < %lld)",
			branches++ ? " UNION ALL " : "", v->rows_sql[i], a, b);
	}
	if (!branches)
		sb_addf(out, "%s LIMIT 0", nf ? v->rows_sql[0] : "SELECT 1");
	free(rows);
	return 0;
}

static int view_sql(eng *e, const task_view *v, sb *out, error_class *cls, pond_err *err)
{
	switch (v->kind) {
	case VIEW_SQL:
		sb_add(out, v->sql);
		return 0;
	case VIEW_SLICE:
		return slice_view_sql(e, v, out, cls, err);
	case VIEW_ROWS:
		return rows_view_sql(e, v, out, cls, err);
	case VIEW_SHUFFLE:
		return shuffle_view_sql(v, out, cls, err);
	case VIEW_PARTS:
		return parts_view_sql(v, out, cls, err);
	}
	*cls = EC_INTERNAL;
	return pond_fail(err, POND_EINTERNAL, "unknown view kind %d", (int)v->kind);
}

static int create_views(eng *e, error_class *cls, pond_err *err)
{
	sb sql = SB_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < e->t->nviews; i++) {
		const task_view *v = &e->t->views[i];
		sb_reset(&sql);
		sb_addf(&sql, "CREATE TEMP VIEW %s AS ", v->name);
		rc = view_sql(e, v, &sql, cls, err);
		if (!rc)
			rc = run(e, sb_str(&sql), NULL, cls, err);
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

/* COPY (exact(query)) TO part.parquet: a materialised partition. */
static int out_parquet(eng *e, sb *sql, task_result *res, error_class *cls, pond_err *err)
{
	char *exact = exact_types(e, e->t->query);
	char *path = xasprintf("%s/part.parquet", e->a->attempt_dir);
	duckdb_result r;
	int rc;

	sb_addf(sql, "COPY (%s) TO ", exact);
	sb_sql_str(sql, path);
	sb_add(sql, " (FORMAT parquet, COMPRESSION uncompressed)");
	if (!(rc = run(e, sb_str(sql), &r, cls, err)))
		res->rows = first_int(&r);
	free(exact);
	free(path);
	return rc;
}

/* A shuffle producer: one pass writes __pond_bucket=B/ directories. */
static int out_buckets(eng *e, sb *sql, task_result *res, error_class *cls, pond_err *err)
{
	const char *adir = e->a->attempt_dir;
	char *full = xasprintf("%s\n%s", e->t->with, e->t->output.select);
	char *exact = exact_types(e, full), *path;
	duckdb_result r;
	int rc;

	sb_addf(sql, "COPY (%s) TO ", exact);
	free(exact);
	free(full);
	sb_sql_str(sql, adir);
	sb_add(sql,
	       " (FORMAT parquet, COMPRESSION uncompressed, PARTITION_BY (__pond_bucket), OVERWRITE_OR_IGNORE true)");
	if ((rc = run(e, sb_str(sql), &r, cls, err)))
		return rc;
	if ((res->rows = first_int(&r)) > 0)
		return 0;
	/* keep the schema for consumers whose buckets are all empty */
	path = xasprintf("%s/_empty.parquet", adir);
	exact = exact_types(e, e->t->query);
	sb_reset(sql);
	sb_addf(sql, "COPY (SELECT * FROM (%s) LIMIT 0) TO ", exact);
	sb_sql_str(sql, path);
	sb_add(sql, " (FORMAT parquet)");
	rc = run(e, sb_str(sql), NULL, cls, err);
	free(exact);
	free(path);
	return rc;
}

/* The user's files, with the compression and options the script chose. */
static int out_sink(eng *e, sb *sql, task_result *res, error_class *cls, pond_err *err)
{
	const task_output *o = &e->t->output;
	const char *adir = e->a->attempt_dir;
	duckdb_result r;
	int rc;

	sb_addf(sql, "COPY (%s) TO ", e->t->query);
	if (o->partition_by) {
		char *pattern = xasprintf("%s-{i}", o->file);
		sb_sql_str(sql, adir);
		sb_addf(sql, " (%s, PARTITION_BY (%s), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN ", o->copy_options,
			o->partition_by);
		sb_sql_str(sql, pattern);
		sb_add(sql, ")");
		free(pattern);
	} else {
		char *path = xasprintf("%s/%s.%s", adir, o->file, o->ext);
		sb_sql_str(sql, path);
		sb_addf(sql, " (%s)", o->copy_options);
		free(path);
	}
	if (!(rc = run(e, sb_str(sql), &r, cls, err)))
		res->rows = first_int(&r);
	return rc;
}

static int out_show(eng *e, sb *sql, task_result *res, error_class *cls, pond_err *err)
{
	duckdb_result r;
	char *text;
	int64_t total = -1;
	int rc;

	if (e->t->output.total) { /* the whole result's size, said under the table */
		if ((rc = run(e, e->t->output.total, &r, cls, err)))
			return rc;
		total = first_int(&r);
	}
	sb_addf(sql, "SELECT COLUMNS(*)::VARCHAR FROM (%s)", e->t->query);
	if ((rc = run(e, sb_str(sql), &r, cls, err)))
		return rc;
	text = table_format(&r, total);
	res->rows = (int64_t)duckdb_row_count(&r);
	duckdb_destroy_result(&r);
	rc = write_text(e->a->attempt_dir, "show.txt", text, err);
	free(text);
	return rc;
}

static int out_count(eng *e, sb *sql, task_result *res, error_class *cls, pond_err *err)
{
	duckdb_result r;
	char buf[64];
	int rc;

	(void)sql;
	if ((rc = run(e, e->t->query, &r, cls, err)))
		return rc;
	res->rows = first_int(&r);
	snprintf(buf, sizeof(buf), "%lld\n", (long long)res->rows);
	return write_text(e->a->attempt_dir, "count.txt", buf, err);
}

/* A Python function over the partition: its rows as JSON lines of text
 * values (DuckDB's VARCHAR casts, as the package converts them), the
 * runner (pyrun.c), then its JSON lines typed by the step's columns into
 * part.parquet. The JSON files are removed before the manifest lists the
 * attempt's files. */
static int out_python(eng *e, sb *sql, task_result *res, error_class *cls, pond_err *err)
{
	const task_output *o = &e->t->output;
	const char *adir = e->a->attempt_dir;
	char *in = xasprintf("%s/py-input.jsonl", adir), *out = xasprintf("%s/py-output.jsonl", adir);
	char *part = xasprintf("%s/part.parquet", adir);
	duckdb_result r;
	int rc;

	sb_addf(sql, "COPY (SELECT COLUMNS(*)::VARCHAR FROM (%s)) TO ", e->t->query);
	sb_sql_str(sql, in);
	sb_add(sql, " (FORMAT json)");
	rc = run(e, sb_str(sql), NULL, cls, err);
	if (!rc)
		rc = pyrun(o, in, out, adir, cls, err);
	if (!rc) {
		sb_reset(sql);
		sb_add(sql, "COPY (SELECT * FROM read_json(");
		sb_sql_path(sql, out);
		sb_addf(sql, ", format = 'newline_delimited', columns = %s)) TO ", o->py_columns);
		sb_sql_str(sql, part);
		sb_add(sql, " (FORMAT parquet, COMPRESSION uncompressed)");
		if (!(rc = run(e, sb_str(sql), &r, cls, err)))
			res->rows = first_int(&r);
	}
	unlink(in);
	unlink(out);
	free(in);
	free(out);
	free(part);
	return rc;
}

/* One statement per output kind (docs/ARCHITECTURE.md, section 6).
 * Intermediate files (shuffle buckets, materialised partitions) are
 * written uncompressed: they are read once, soon, usually from the page
 * cache, and snappy cost ~40% of a shuffle producer's time in the
 * benchmarks (docs/BENCHMARKS.md). Sinks use the compression asked for. */
static int (*const writers[])(eng *, sb *, task_result *, error_class *, pond_err *) = {
	[OUT_PARQUET] = out_parquet, [OUT_BUCKETS] = out_buckets, [OUT_SINK] = out_sink,
	[OUT_SHOW] = out_show,       [OUT_COUNT] = out_count,     [OUT_PYTHON] = out_python,
};

static int run_output(eng *e, task_result *res, error_class *cls, pond_err *err)
{
	const task_output *o = &e->t->output;
	sb sql = SB_INIT;
	int rc = 0;

	if (o->kind > OUT_PYTHON) {
		*cls = EC_INTERNAL;
		return pond_fail(err, POND_EINTERNAL, "unknown output kind %d", (int)o->kind);
	}
	if (o->prelude)
		rc = run(e, o->prelude, NULL, cls, err);
	if (!rc)
		rc = writers[o->kind](e, &sql, res, cls, err);
	if (!rc && e->profile)
		take_profile(e, &res->m);
	sb_release(&sql);
	return rc;
}

/* Lists what the attempt wrote in its manifest: every file with its size
 * and, for Parquet files, the row count from its footer (one query). */
static int write_manifest(eng *e, const char *adir, task_result *st, error_class *cls, pond_err *err)
{
	char **rel;
	size_t n, nparquet = 0;
	manifest m = { NULL, 0 };
	sb q = SB_INIT;
	duckdb_result r;
	int rc = fs_walk(adir, &rel, &n, err);

	for (size_t i = 0; !rc && i < n; i++) {
		char *p = xasprintf("%s/%s", adir, rel[i]);
		/* a lone text output (CSV part, show, count) has the task's rows */
		manifest_add(&m, rel[i], is_parquet(rel[i]) ? 0 : n == 1 ? st->rows : -1, fs_size(p));
		if (is_parquet(rel[i])) {
			sb_add(&q, nparquet++ ? ", " : "SELECT file_name, num_rows FROM parquet_file_metadata([");
			sb_sql_path(&q, p);
		}
		free(p);
	}
	if (!rc && nparquet) {
		sb_add(&q, "])");
		rc = run(e, sb_str(&q), &r, cls, err);
		for (idx_t k = 0; !rc && k < duckdb_row_count(&r); k++) {
			char *name = duckdb_value_varchar(&r, 0, k);
			for (size_t i = 0; name && i < m.n; i++) {
				size_t len = strlen(name), rl = strlen(m.files[i].path);
				/* file_name is the path as read: match its tail */
				if (len > rl && !strcmp(name + len - rl, m.files[i].path) && name[len - rl - 1] == '/')
					m.files[i].rows = duckdb_value_int64(&r, 1, k);
			}
			duckdb_free(name);
		}
		if (!rc)
			duckdb_destroy_result(&r);
	}
	if (!rc)
		rc = manifest_write(adir, &m, st->manifest, err);
	st->files = (int64_t)m.n;
	st->bytes = manifest_bytes(&m);
	fs_free_list(rel);
	manifest_release(&m);
	sb_release(&q);
	return rc;
}

/* DuckDB's "LINE n:" context quotes the statement that failed: pond's,
 * not the user's, when it is not inside a step's own query. Dropped. */
static void drop_context(pond_err *err)
{
	char *at = strstr(err->msg, "\n\nLINE ");
	if (at)
		*at = '\0';
}

/* DuckDB's "LINE n:" in an error points into the statement pond built:
 * which script step's CTE holds that line? Rewrites the line number to
 * count from the start of that step's own query. Returns the step (owned
 * by the task) or NULL. */
static const char *locate_step(const ptask *t, const char *sql, pond_err *err)
{
	char *at = strstr(err->msg, "LINE "), *end;
	long line = at ? strtol(at + 5, &end, 10) : 0;
	long cte_line = 0, start = 0;
	int k = -1;
	char tail[sizeof(err->msg)];

	if (!sql || line <= 0 || *end != ':')
		return NULL;
	/* the line on which each CTE's body starts: after "__pond_cK AS (" */
	for (size_t i = 0; i < t->ncte_steps; i++) {
		char marker[48];
		const char *p;
		long l = 1;
		snprintf(marker, sizeof(marker), "__pond_c%zu AS (\n", i);
		p = strstr(sql, marker);
		if (!p)
			break;
		for (const char *q = sql; q < p; q++)
			l += *q == '\n';
		if (l + 1 > line)
			break;
		k = (int)i;
		start = l + 1;
	}
	if (k < 0 || !t->cte_steps[k])
		return NULL;
	cte_line = line - start + 1;
	snprintf(tail, sizeof(tail), "%s", end);
	snprintf(at, sizeof(err->msg) - (size_t)(at - err->msg), "LINE %ld%s", cte_line, tail);
	return t->cte_steps[k];
}

/* Forces every column of every row of `rel` (a view or CTE): count(*)
 * alone would let DuckDB skip computing the columns. */
static int probe(eng *e, const char *with, const char *rel)
{
	char *sql = xasprintf("%s%sSELECT count(*) FROM %s __pond_t WHERE __pond_t IS NOT NULL", with,
			      *with ? "\n" : "", rel);
	duckdb_result r;
	int rc = duckdb_query(e->con, sql, &r) == DuckDBSuccess ? 0 : -1;

	duckdb_destroy_result(&r);
	free(sql);
	return rc;
}

/* A task fused from several script steps failed on bad data, and DuckDB's
 * message does not say where: evaluate the steps' parts in order (sources
 * first, then each CTE) and blame the first one that fails. Runs only on
 * that failure path; one part alone needs no probing. */
static const char *blame_step(eng *e, const ptask *t)
{
	const char *only = NULL;
	size_t n = 0;

	for (size_t i = 0; i < t->nviews; i++)
		if (t->views[i].step)
			n++, only = t->views[i].step;
	for (size_t i = 0; i < t->ncte_steps; i++)
		if (t->cte_steps[i])
			n++, only = t->cte_steps[i];
	if (n <= 1)
		return only;
	for (size_t i = 0; i < t->nviews; i++)
		if (t->views[i].step && probe(e, "", t->views[i].name))
			return t->views[i].step;
	for (size_t i = 0; i < t->ncte_steps; i++) {
		char name[32];
		snprintf(name, sizeof(name), "__pond_c%zu", i);
		if (t->cte_steps[i] && probe(e, t->with, name))
			return t->cte_steps[i];
	}
	return NULL;
}

int engine_run_task(engine *en, const ptask *t, const task_attempt *a, bool profile, task_result *res, pond_err *err)
{
	eng e = { en->db, NULL, t, a, NULL, profile };
	error_class cls = EC_NONE;
	int rc;

	rc = begin_task(&e, &cls, err);
	if (!rc)
		rc = create_views(&e, &cls, err);
	if (!rc)
		rc = run_output(&e, res, &cls, err);
	if (!rc)
		rc = write_manifest(&e, a->attempt_dir, res, &cls, err);
	if (rc && cls == EC_NONE) /* pond's own write failed: its errno says why */
		cls = error_class_of_errno(err->errnum, EC_INTERNAL);
	if (rc && e.failed_sql) {
		const char *step = locate_step(t, e.failed_sql, err);
		if (!step)
			drop_context(err);
		if (!step && cls == EC_INPUT && e.con)
			step = blame_step(&e, t);
		res->step = step ? xstrdup(step) : NULL;
		res->sql = e.failed_sql;
		e.failed_sql = NULL;
	}
	res->cls = rc ? cls : EC_NONE;
	free(e.failed_sql);
	if (e.con)
		duckdb_disconnect(&e.con);
	return rc;
}
