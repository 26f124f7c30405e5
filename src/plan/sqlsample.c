/* sqlsample.c — the plan-time sample of a Parquet table (see
 * sqlplan_int.h): what skew.c reads to find hot join keys and
 * sqlgroups.c to count a GROUP BY's groups.
 *
 * The sample is at most SAMPLE_FILES of the table's files, evenly spaced
 * over its sorted file list. A table of at most that many files and
 * WHOLE_ROWS rows is read whole; else about SAMPLE_ROWS rows of those
 * files: DuckDB's `TABLESAMPLE system`, which keeps whole vectors (2,048
 * rows) at random. The sample sits above
 * the Parquet scan, so the columns are still decoded; what it saves is
 * the grouping, which one plan-time thread did over every row of 8 files:
 * up to 0.47 s per query at TPC-H SF 1 (Q18), more than DuckDB's whole
 * query. The seed is fixed and a sample's query runs on one thread
 * (TABLESAMPLE repeats itself only there), so the same files give the
 * same sample, and the same plan, on every run. A table read whole has no
 * seed: its queries, and those over the files' footers, run on every
 * core (plandb_query_wide). */
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

/* The rows of the m sampled files, from their footers; -1 if unknown. */
static int64_t sampled_files_rows(sqlp *p, const lnode *src, size_t m)
{
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result r;
	int64_t rows = -1;

	sb_add(&q, "SELECT sum(num_rows) FROM parquet_file_metadata([");
	for (size_t i = 0; i < m; i++) {
		sb_add(&q, i ? ", " : "");
		sb_sql_path(&q, src->files[i * src->nfiles / m]);
	}
	sb_add(&q, "])");
	if (plandb_query_wide(p->db, sb_str(&q), true, &r, &quiet) == PDB_OK) {
		if (r.nrows == 1 && pdb_cell(&r, 0, 0))
			rows = strtoll(pdb_cell(&r, 0, 0), NULL, 10);
		pdb_result_release(&r);
	}
	sb_release(&q);
	return rows;
}

int64_t sql_source_rows(sqlp *p, const lnode *src)
{
	return src->format == FMT_PARQUET && src->nfiles ? sampled_files_rows(p, src, src->nfiles) : -1;
}

size_t sql_sample(sqlp *p, sb *b, const lnode *src, const char *cols, bool *whole, bool *seeded)
{
	size_t m = src->nfiles < SAMPLE_FILES ? src->nfiles : SAMPLE_FILES;
	int64_t rows = sampled_files_rows(p, src, m); /* unknown: all read */
	/* the whole table, or a sample: some of its files read whole would
	 * be a sample too, only a slower one (Q18's orders: 8 of 16 files,
	 * 750K rows, 0.3 s for a group count) */
	bool all = m == src->nfiles && rows >= 0 && rows <= WHOLE_ROWS;
	bool sample = !all && rows > SAMPLE_ROWS;

	for (size_t i = 0; i < m; i++) {
		sb_addf(b, "%sSELECT %s FROM (", i ? " UNION ALL " : "", cols);
		source_file_sql(b, src, i * src->nfiles / m, SRC_CAST);
		sb_add(b, ")");
		/* a seed per file: the same one would pick the same vectors */
		if (sample)
			sb_addf(b, " TABLESAMPLE system(%.6f%%) REPEATABLE (%zu)",
				100.0 * (double)SAMPLE_ROWS / (double)rows, i + 1);
	}
	if (whole)
		*whole = all;
	if (seeded)
		*seeded = sample;
	return m;
}

/* Types whose equal values are equal bytes in Parquet's statistics order
 * after a monotone cast: integers, decimals, dates, times, strings. Not
 * floats (-0.0 and 0.0 group together; NaN). */
static bool ordered_type(const char *type)
{
	static const char *const ok[] = { "TINYINT",  "SMALLINT",  "INTEGER",   "BIGINT",  "HUGEINT",
					  "UTINYINT", "USMALLINT", "UINTEGER",  "UBIGINT", "UHUGEINT",
					  "DECIMAL",  "DATE",      "TIMESTAMP", "VARCHAR" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strncasecmp(type, ok[i], strlen(ok[i])))
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
	for (size_t i = 0; i < p->ndisjoint; i++) /* Q18 asks twice */
		if (p->disjoint[i].src == src && !strcmp(p->disjoint[i].col, col->name))
			return p->disjoint[i].yes;
	/* each file's range of the column in its type (a cast is monotone:
	 * disjoint there means no value in two files), from every row
	 * group's statistics; a row group without them, or a file whose
	 * NULLs are not known to be none beside another such file, and the
	 * answer is no */
	sb_add(&q,
	       "SELECT count(*) FILTER (WHERE unknown > 0) = 0 AND count(*) FILTER (WHERE nulls > 0) <= 1 "
	       "AND coalesce(bool_and(prev IS NULL OR prev < lo), true) FROM (SELECT lo, unknown, nulls, "
	       "lag(hi) OVER (ORDER BY lo, hi) AS prev FROM (SELECT file_name, ");
	sb_addf(&q, "min(TRY_CAST(stats_min_value AS %s)) AS lo, max(TRY_CAST(stats_max_value AS %s)) AS hi, ",
		col->type, col->type);
	sb_addf(&q,
		"count(*) FILTER (WHERE TRY_CAST(stats_min_value AS %s) IS NULL OR TRY_CAST(stats_max_value AS %s) "
		"IS NULL) AS unknown, count(*) FILTER (WHERE stats_null_count IS NULL OR stats_null_count > 0) AS nulls "
		"FROM parquet_metadata([",
		col->type, col->type);
	for (size_t i = 0; i < src->nfiles; i++) {
		sb_add(&q, i ? ", " : "");
		sb_sql_path(&q, src->files[i]);
	}
	sb_add(&q, "]) WHERE path_in_schema = ");
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
