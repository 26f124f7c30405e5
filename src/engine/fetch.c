/* fetch.c — Parquet files into typed columns (see fetch.h): one DESCRIBE
 * for the types, then one SELECT casting each column to the array kind it
 * gets, read chunk by chunk. Paths enter SQL only through sb_sql_path. */
#include "engine/fetch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "util/sb.h"

static char *copy_text(const char *p, uint32_t len)
{
	char *s = xmalloc((size_t)len + 1);

	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static fetch_kind kind_of(const char *t)
{
	static const char *const ints[] = { "BOOLEAN",  "TINYINT",   "SMALLINT", "INTEGER", "BIGINT",
					    "UTINYINT", "USMALLINT", "UINTEGER", NULL };
	for (int i = 0; ints[i]; i++)
		if (!strcmp(t, ints[i]))
			return i == 0 ? FETCH_BOOL : FETCH_INT64;
	if (!strcmp(t, "DOUBLE"))
		return FETCH_DOUBLE;
	return FETCH_TEXT;
}

static size_t width(fetch_kind k)
{
	return k == FETCH_TEXT ? sizeof(char *) : k == FETCH_BOOL ? 1 : 8;
}

static int fail(duckdb_result *res, pond_err *err, const char *what)
{
	const char *m = duckdb_result_error(res);
	pond_fail(err, POND_EINPUT, "%s: %s", what, m ? m : "DuckDB failed");
	duckdb_destroy_result(res);
	return -1;
}

/* The files' columns and types; on a first call they become r's. */
static int describe(duckdb_connection con, const char *from, fetch_result *r, sb *select, pond_err *err)
{
	char *q = xasprintf("DESCRIBE SELECT * FROM %s", from);
	duckdb_result res;
	idx_t n;

	if (duckdb_query(con, q, &res) != DuckDBSuccess) {
		free(q);
		return fail(&res, err, "reading the result");
	}
	free(q);
	n = duckdb_row_count(&res);
	if (r->cols && n != r->ncols) {
		duckdb_destroy_result(&res);
		return pond_fail(err, POND_EINPUT, "the result's files have %llu columns, not %zu",
				 (unsigned long long)n, r->ncols);
	}
	if (!r->cols) {
		r->ncols = (size_t)n;
		r->cols = xcalloc(n + 1, sizeof(fetch_col));
	}
	sb_add(select, "SELECT ");
	for (idx_t c = 0; c < n; c++) {
		char *name = duckdb_value_varchar(&res, 0, c), *type = duckdb_value_varchar(&res, 1, c);
		fetch_col *col = &r->cols[c];
		if (!col->type) {
			col->type = xstrdup(type ? type : "VARCHAR");
			col->kind = kind_of(col->type);
		}
		sb_add(select, c ? ", CAST(" : "CAST(");
		sb_sql_ident(select, name ? name : "");
		sb_add(select, col->kind == FETCH_BOOL     ? " AS BOOLEAN)"
			       : col->kind == FETCH_INT64  ? " AS BIGINT)"
			       : col->kind == FETCH_DOUBLE ? " AS DOUBLE)"
							   : " AS VARCHAR)");
		duckdb_free(name);
		duckdb_free(type);
	}
	sb_addf(select, " FROM %s", from);
	duckdb_destroy_result(&res);
	return 0;
}

static void grow(fetch_result *r, size_t more)
{
	size_t cap = r->cap ? r->cap : 4096;

	if ((size_t)r->nrows + more <= r->cap)
		return;
	while (cap < (size_t)r->nrows + more)
		cap *= 2;
	for (size_t c = 0; c < r->ncols; c++) {
		r->cols[c].data = xrealloc(r->cols[c].data, cap * width(r->cols[c].kind));
		r->cols[c].valid = xrealloc(r->cols[c].valid, cap);
	}
	r->cap = cap;
}

static void take_column(fetch_col *col, duckdb_vector v, int64_t at, idx_t n)
{
	uint64_t *validity = duckdb_vector_get_validity(v);
	void *src = duckdb_vector_get_data(v);

	for (idx_t i = 0; i < n; i++)
		col->valid[at + (int64_t)i] = !validity || duckdb_validity_row_is_valid(validity, i);
	switch (col->kind) {
	case FETCH_INT64:
	case FETCH_DOUBLE:
		memcpy((char *)col->data + (size_t)at * 8, src, n * 8);
		break;
	case FETCH_BOOL:
		for (idx_t i = 0; i < n; i++)
			/* as bytes: a NULL row's byte is whatever DuckDB left there,
			 * not always 0 or 1, and loading it as a bool is undefined */
			((uint8_t *)col->data)[at + (int64_t)i] = ((const uint8_t *)src)[i] != 0;
		break;
	case FETCH_TEXT:
		for (idx_t i = 0; i < n; i++) {
			duckdb_string_t *s = &((duckdb_string_t *)src)[i];
			((char **)col->data)[at + (int64_t)i] =
				col->valid[at + (int64_t)i]
					? copy_text(duckdb_string_t_data(s), duckdb_string_t_length(*s))
					: NULL;
		}
		break;
	}
}

static int read_rows(duckdb_connection con, const char *sql, fetch_result *r, pond_err *err)
{
	duckdb_result res;
	duckdb_data_chunk chunk;

	if (duckdb_query(con, sql, &res) != DuckDBSuccess)
		return fail(&res, err, "reading the result");
	while ((chunk = duckdb_fetch_chunk(res)) != NULL) {
		idx_t n = duckdb_data_chunk_get_size(chunk);
		grow(r, n);
		for (size_t c = 0; c < r->ncols; c++)
			take_column(&r->cols[c], duckdb_data_chunk_get_vector(chunk, c), r->nrows, n);
		r->nrows += (int64_t)n;
		duckdb_destroy_data_chunk(&chunk);
	}
	duckdb_destroy_result(&res);
	return 0;
}

int engine_fetch(char *const *files, size_t nfiles, fetch_result *r, pond_err *err)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_config cfg;
	char *open_err = NULL;
	sb from = SB_INIT, select = SB_INIT;
	int rc;

	if (!nfiles)
		return 0;
	if (duckdb_create_config(&cfg) != DuckDBSuccess)
		return pond_fail(err, POND_ENOMEM, "cannot create a DuckDB config");
	duckdb_set_config(cfg, "preserve_insertion_order", "true");
	duckdb_set_config(cfg, "enable_progress_bar", "false");
	duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
	rc = duckdb_open_ext(NULL, &db, cfg, &open_err) == DuckDBSuccess ? 0 : -1;
	duckdb_destroy_config(&cfg);
	if (rc) {
		pond_fail(err, POND_EINTERNAL, "cannot open DuckDB: %s", open_err ? open_err : "?");
		duckdb_free(open_err);
		return -1;
	}
	if (duckdb_connect(db, &con) != DuckDBSuccess) {
		duckdb_close(&db);
		return pond_fail(err, POND_EINTERNAL, "cannot connect to DuckDB");
	}
	sb_add(&from, "read_parquet([");
	for (size_t i = 0; i < nfiles; i++) {
		sb_add(&from, i ? ", " : "");
		sb_sql_path(&from, files[i]);
	}
	sb_add(&from, "], hive_partitioning = false)");
	rc = describe(con, sb_str(&from), r, &select, err);
	if (!rc)
		rc = read_rows(con, sb_str(&select), r, err);
	sb_release(&from);
	sb_release(&select);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return rc;
}

void fetch_result_release(fetch_result *r)
{
	for (size_t c = 0; c < r->ncols; c++) {
		fetch_col *col = &r->cols[c];
		for (int64_t i = 0; col->kind == FETCH_TEXT && i < r->nrows; i++)
			free(((char **)col->data)[i]);
		free(col->data);
		free(col->valid);
		free(col->type);
	}
	free(r->cols);
	memset(r, 0, sizeof(*r));
}
