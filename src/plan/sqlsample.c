/* sqlsample.c — the plan-time sample of a Parquet table (see
 * sqlplan_int.h): what skew.c reads to find hot join keys and
 * sqlgroups.c to count a GROUP BY's groups.
 *
 * The sample reads some of the table's files, evenly spaced over its
 * sorted file list: up to SAMPLE_FILES of them for skew.c (SAMPLE_SPREAD:
 * a hot key held by a few files still shows), and only as many of those
 * as hold the rows sampled for a group count (SAMPLE_CHEAP).
 * A table of at most SAMPLE_FILES files and WHOLE_ROWS rows is read
 * whole; else about SAMPLE_ROWS rows of the files read: DuckDB's
 * `TABLESAMPLE system`, which keeps whole vectors (2,048 rows) at random.
 * The sample sits above the Parquet scan, so the columns of every file
 * read are still decoded: most of a sample's time, and why a group count
 * reads as few files as it can (TPC-H SF 1's lineitem: 1 of its 16 files,
 * not 8; Q1's count 19 → 6 ms, Q20's 34 → 12 ms). What sampling saves
 * is the grouping,
 * which one plan-time thread did over every row of 8 files: up to 0.47 s
 * per query at TPC-H SF 1 (Q18), more than DuckDB's whole query. The
 * seed is fixed and a sample's query runs on one thread (TABLESAMPLE
 * repeats itself only there), so the same files give the same sample,
 * and the same plan, on every run. A table read whole has no seed: its
 * queries, and those over the files' footers, run on every core
 * (plandb_query_wide). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/source.h"
#include "plan/sqlplan_int.h"

/* At most this many of a table's files are read. */
#define SAMPLE_FILES 8
/* A table of at most WHOLE_ROWS rows in at most SAMPLE_FILES files is
 * read whole (TPC-H's partsupp at SF 1, 800K rows, then gets an exact
 * group count); else about SAMPLE_ROWS rows of its sampled files. */
#define WHOLE_ROWS ((int64_t)1 << 20)
#define SAMPLE_ROWS ((int64_t)1 << 18)

/* File j of the m files probed of src's n: evenly spaced. */
static size_t probed_file(const lnode *src, size_t m, size_t j)
{
	return j * src->nfiles / m;
}

/* Sums rows[0..m), -1 if any is unknown. */
static int64_t sum_rows(const int64_t *rows, size_t m)
{
	int64_t total = 0;

	for (size_t j = 0; j < m; j++) {
		if (rows[j] < 0)
			return -1;
		total += rows[j];
	}
	return total;
}

/* [every file of src], as a DuckDB list of paths. */
static void all_files(sb *q, const lnode *src)
{
	sb_add(q, "[");
	for (size_t i = 0; i < src->nfiles; i++) {
		sb_add(q, i ? ", " : "");
		sb_sql_path(q, src->files[i]);
	}
	sb_add(q, "]");
}

/* src's entry of the footer cache, made on first use: the rows of the
 * files a sample may read, from their footers, in one query. */
static struct sql_footer_rows *footer_rows(sqlp *p, const lnode *src)
{
	struct sql_footer_rows *f;
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result r;

	for (size_t i = 0; i < p->nfooter_rows; i++)
		if (p->footer_rows[i].src == src)
			return &p->footer_rows[i];
	p->footer_rows = xgrow(p->footer_rows, p->nfooter_rows, sizeof(p->footer_rows[0]));
	f = &p->footer_rows[p->nfooter_rows++];
	f->src = src;
	f->m = src->nfiles < SAMPLE_FILES ? src->nfiles : SAMPLE_FILES;
	f->rows = xcalloc(f->m + 1, sizeof(int64_t));
	f->all = -2;
	for (size_t j = 0; j < f->m; j++)
		f->rows[j] = -1;
	sb_add(&q, "SELECT file_name, num_rows FROM parquet_file_metadata([");
	for (size_t j = 0; j < f->m; j++) {
		sb_add(&q, j ? ", " : "");
		sb_sql_path(&q, src->files[probed_file(src, f->m, j)]);
	}
	sb_add(&q, "])");
	if (plandb_query_wide(p->db, sb_str(&q), true, &r, &quiet) == PDB_OK) {
		/* a row per file, in no set order: matched by name */
		for (size_t i = 0; i < r.nrows; i++)
			for (size_t j = 0; j < f->m; j++)
				if (pdb_cell(&r, i, 0) && pdb_cell(&r, i, 1) &&
				    !strcmp(pdb_cell(&r, i, 0), src->files[probed_file(src, f->m, j)]))
					f->rows[j] = strtoll(pdb_cell(&r, i, 1), NULL, 10);
		pdb_result_release(&r);
	}
	sb_release(&q);
	if (f->m == src->nfiles)
		f->all = sum_rows(f->rows, f->m);
	return f;
}

int64_t sql_source_rows(sqlp *p, const lnode *src)
{
	struct sql_footer_rows *f;
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result r;

	if (src->format != FMT_PARQUET || !src->nfiles)
		return -1;
	if ((f = footer_rows(p, src))->all != -2)
		return f->all;
	f->all = -1;
	sb_add(&q, "SELECT sum(num_rows) FROM parquet_file_metadata(");
	all_files(&q, src);
	sb_add(&q, ")");
	if (plandb_query_wide(p->db, sb_str(&q), true, &r, &quiet) == PDB_OK) {
		if (r.nrows == 1 && pdb_cell(&r, 0, 0))
			f->all = strtoll(pdb_cell(&r, 0, 0), NULL, 10);
		pdb_result_release(&r);
	}
	sb_release(&q);
	return f->all;
}

int64_t sql_source_rows_upto(sqlp *p, const lnode *src, int64_t limit)
{
	const struct sql_footer_rows *f;
	int64_t probed;

	if (src->format != FMT_PARQUET || !src->nfiles)
		return -1;
	f = footer_rows(p, src);
	probed = sum_rows(f->rows, f->m);
	if (probed < 0 || probed > limit) /* the probed files alone hold more */
		return -1;
	probed = sql_source_rows(p, src);
	return probed <= limit ? probed : -1;
}

size_t sql_sample(sqlp *p, sb *b, const lnode *src, const char *cols, sample_reach reach, bool *whole, bool *seeded)
{
	const struct sql_footer_rows *f = footer_rows(p, src);
	int64_t rows = sum_rows(f->rows, f->m); /* unknown: all read */
	/* the whole table, or a sample: some of its files read whole would
	 * be a sample too, only a slower one (Q18's orders: 8 of 16 files,
	 * 750K rows, 0.3 s for a group count) */
	bool all = f->m == src->nfiles && rows >= 0 && rows <= WHOLE_ROWS;
	size_t n = f->m; /* files read, of the m probed */
	bool sample;

	if (!all && reach == SAMPLE_CHEAP && rows > 0) {
		int64_t need = (SAMPLE_ROWS * (int64_t)f->m + rows - 1) / rows;
		n = need < 1 ? 1 : (size_t)need < f->m ? (size_t)need : f->m;
		rows = 0; /* those n files' rows, all known */
		for (size_t j = 0; j < n; j++)
			rows += f->rows[j * f->m / n];
	}
	sample = !all && rows > SAMPLE_ROWS;
	for (size_t j = 0; j < n; j++) {
		sb_addf(b, "%sSELECT %s FROM (", j ? " UNION ALL " : "", cols);
		source_file_sql(b, src, probed_file(src, f->m, j * f->m / n), SRC_CAST);
		sb_add(b, ")");
		/* a seed per file: the same one would pick the same vectors */
		if (sample)
			sb_addf(b, " TABLESAMPLE system(%.6f%%) REPEATABLE (%zu)",
				100.0 * (double)SAMPLE_ROWS / (double)rows, j + 1);
	}
	if (whole)
		*whole = all;
	if (seeded)
		*seeded = sample;
	return n;
}

/* A file's path and its index in its source, sorted by path. */
typedef struct {
	const char *path;
	size_t i;
} named_file;

static int by_path(const void *a, const void *b)
{
	return strcmp(((const named_file *)a)->path, ((const named_file *)b)->path);
}

/* src's files in strcmp order, for find_file. */
static named_file *files_by_name(const lnode *src)
{
	named_file *order = xcalloc(src->nfiles + 1, sizeof(named_file));

	for (size_t i = 0; i < src->nfiles; i++)
		order[i] = (named_file){ src->files[i], i };
	qsort(order, src->nfiles, sizeof(named_file), by_path);
	return order;
}

/* The index of the file named `name` (as DuckDB gives it back: the
 * path itself), or -1. */
static long find_file(const named_file *order, size_t n, const char *name)
{
	named_file key = { name, 0 }, *hit = name ? bsearch(&key, order, n, sizeof(named_file), by_path) : NULL;

	return hit ? (long)hit->i : -1;
}

sql_file_range *sql_file_ranges(sqlp *p, const lnode *src, const column *col)
{
	struct sql_ranges *c;
	sql_file_range *r;
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result res;
	bool ok = false;

	for (size_t i = 0; i < p->nranges; i++)
		if (p->ranges[i].src == src && !strcmp(p->ranges[i].col, col->name))
			return p->ranges[i].r;
	r = xcalloc(src->nfiles + 1, sizeof(sql_file_range));
	/* a row group NULL in every row has no minimum: it holds no key */
	sb_add(&q,
	       "SELECT file_name, min(lo) FILTER (WHERE NOT nulls), max(hi) FILTER (WHERE NOT nulls), "
	       "count(*) FILTER (WHERE NOT nulls AND (lo IS NULL OR hi IS NULL)), "
	       "count(*) FILTER (WHERE some_null) FROM (SELECT file_name, "
	       "TRY_CAST(stats_min_value AS BIGINT) AS lo, TRY_CAST(stats_max_value AS BIGINT) AS hi, "
	       "coalesce(stats_null_count = num_values, false) AS nulls, "
	       "coalesce(stats_null_count > 0, true) AS some_null FROM parquet_metadata(");
	all_files(&q, src);
	sb_add(&q, ") WHERE path_in_schema = ");
	sb_sql_str(&q, col->name);
	sb_add(&q, ") GROUP BY file_name");
	/* a row per file with row groups, in no set order, found by name;
	 * every file must be found (a file not found would pass for one
	 * without keys, and be left out of what a task reads) */
	if (plandb_query_wide(p->db, sb_str(&q), true, &res, &quiet) == PDB_OK) {
		named_file *order = files_by_name(src);
		ok = res.nrows == src->nfiles;
		for (size_t i = 0; ok && i < res.nrows; i++) {
			const char *unknown = pdb_cell(&res, i, 3), *lo = pdb_cell(&res, i, 1),
				   *hi = pdb_cell(&res, i, 2);
			long j = find_file(order, src->nfiles, pdb_cell(&res, i, 0));
			ok = j >= 0 && unknown && !strcmp(unknown, "0");
			if (ok)
				r[j] = (sql_file_range){ .keys = lo && hi,
							 .nulls = pdb_cell(&res, i, 4) &&
								  strcmp(pdb_cell(&res, i, 4), "0"),
							 .lo = lo ? strtoll(lo, NULL, 10) : 0,
							 .hi = hi ? strtoll(hi, NULL, 10) : 0 };
		}
		free(order);
		pdb_result_release(&res);
	}
	sb_release(&q);
	if (!ok) {
		free(r);
		r = NULL;
	}
	p->ranges = xgrow(p->ranges, p->nranges, sizeof(p->ranges[0]));
	c = &p->ranges[p->nranges++];
	*c = (struct sql_ranges){ src, xstrdup(col->name), r };
	return r;
}

bool sql_integer_type(const char *t)
{
	static const char *const ok[] = { "TINYINT",  "SMALLINT",  "INTEGER", "BIGINT",
					  "UTINYINT", "USMALLINT", "UINTEGER" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(t, ok[i]))
			return true;
	return false;
}

static int by_lo(const void *a, const void *b)
{
	const sql_file_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* sql_files_disjoint of an integer column, from sql_file_ranges (which
 * the aligned reading of a join asks too: TPC-H's l_orderkey). */
static bool ranges_disjoint(sqlp *p, const lnode *src, const column *col)
{
	const sql_file_range *f = sql_file_ranges(p, src, col);
	sql_file_range *keyed;
	size_t n = 0, nulls = 0;
	bool yes = true;

	if (!f)
		return false;
	keyed = xcalloc(src->nfiles + 1, sizeof(sql_file_range));
	for (size_t j = 0; j < src->nfiles; j++) {
		nulls += f[j].nulls;
		if (f[j].keys)
			keyed[n++] = f[j];
	}
	qsort(keyed, n, sizeof(keyed[0]), by_lo);
	for (size_t j = 1; yes && j < n; j++)
		yes = keyed[j - 1].hi < keyed[j].lo;
	free(keyed);
	return yes && nulls <= 1;
}

/* Types whose equal values are equal bytes in Parquet's statistics order
 * after a monotone cast: integers, decimals, dates, timestamps, strings.
 * Not floats (-0.0 and 0.0 group together; NaN), and nothing nested: a
 * LIST's or STRUCT's statistics are those of its elements or fields
 * ("BIGINT[]" once passed for BIGINT, and a file of lists [0, 1] and
 * [1, 0] looked disjoint from one of [2, 3]). */
static bool ordered_type(const char *type)
{
	static const char *const ok[] = { "TINYINT",
					  "SMALLINT",
					  "INTEGER",
					  "BIGINT",
					  "HUGEINT",
					  "UTINYINT",
					  "USMALLINT",
					  "UINTEGER",
					  "UBIGINT",
					  "UHUGEINT",
					  "DATE",
					  "TIMESTAMP",
					  "TIMESTAMP_S",
					  "TIMESTAMP_MS",
					  "TIMESTAMP_NS",
					  "VARCHAR",
					  "TIMESTAMP WITH TIME ZONE" };

	if (!strncasecmp(type, "DECIMAL(", 8))
		return !strpbrk(type, "[]");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcasecmp(type, ok[i]))
			return true;
	return false;
}

bool sql_files_disjoint(sqlp *p, const lnode *src, const column *col)
{
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result r;
	bool yes = false;

	if (src->format != FMT_PARQUET || src->nfiles < 2 || !ordered_type(col->type))
		return false;
	if (sql_integer_type(col->type))
		return ranges_disjoint(p, src, col);
	for (size_t i = 0; i < p->ndisjoint; i++) /* Q18 asks twice */
		if (p->disjoint[i].src == src && !strcmp(p->disjoint[i].col, col->name))
			return p->disjoint[i].yes;
	/* each file's range of the column in its type (a cast is monotone:
	 * disjoint there means no value in two files), from every row
	 * group's statistics; a row group without them, or a file whose
	 * NULLs are not known to be none beside another such file, and the
	 * answer is no */
	/* every file has a row group of the column: statistics found for
	 * none must not pass for no overlap */
	sb_addf(&q,
		"SELECT count(*) = %zu AND count(*) FILTER (WHERE unknown > 0) = 0 AND count(*) FILTER (WHERE nulls > "
		"0) <= 1 AND coalesce(bool_and(prev IS NULL OR prev < lo), true) FROM (SELECT lo, unknown, nulls, "
		"lag(hi) OVER (ORDER BY lo, hi) AS prev FROM (SELECT file_name, ",
		src->nfiles);
	sb_addf(&q, "min(TRY_CAST(stats_min_value AS %s)) AS lo, max(TRY_CAST(stats_max_value AS %s)) AS hi, ",
		col->type, col->type);
	sb_addf(&q,
		"count(*) FILTER (WHERE TRY_CAST(stats_min_value AS %s) IS NULL OR TRY_CAST(stats_max_value AS %s) "
		"IS NULL) AS unknown, count(*) FILTER (WHERE stats_null_count IS NULL OR stats_null_count > 0) AS nulls "
		"FROM parquet_metadata(",
		col->type, col->type);
	all_files(&q, src);
	sb_add(&q, ") WHERE path_in_schema = ");
	sb_sql_str(&q, col->name);
	sb_add(&q, " GROUP BY file_name))");
	if (plandb_query_wide(p->db, sb_str(&q), true, &r, &quiet) == PDB_OK) {
		yes = r.nrows == 1 && pdb_cell(&r, 0, 0) && !strcmp(pdb_cell(&r, 0, 0), "true");
		pdb_result_release(&r);
	}
	sb_release(&q);
	p->disjoint = xgrow(p->disjoint, p->ndisjoint, sizeof(p->disjoint[0]));
	p->disjoint[p->ndisjoint++] = (struct sql_disjoint){ src, xstrdup(col->name), yes };
	return yes;
}
