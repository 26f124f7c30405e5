/* fetch.h — reads Parquet files into typed columns, in the calling
 * process (pond_fetch, src/api/dataset.c): numbers as arrays, the rest as
 * DuckDB's text for it. */
#ifndef POND_ENGINE_FETCH_H
#define POND_ENGINE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum {
	FETCH_TEXT = 0,  /* char *[] (NULL for SQL NULL): VARCHAR casts */
	FETCH_INT64 = 1, /* int64_t[]: integers that fit (not HUGEINT, UBIGINT) */
	FETCH_DOUBLE =
		2, /* double[]: DOUBLE (a FLOAT is text: its shortest text, not its double, is the value users expect) */
	FETCH_BOOL = 3, /* uint8_t[]: BOOLEAN, 0 or 1 */
} fetch_kind;

typedef struct {
	fetch_kind kind;
	char *type;     /* the column's type in the files, as DuckDB names it */
	void *data;     /* nrows values, as kind says */
	uint8_t *valid; /* nrows: 1 a value, 0 SQL NULL */
} fetch_col;

typedef struct {
	size_t ncols;
	int64_t nrows;
	fetch_col *cols;
	size_t cap; /* rows allocated */
} fetch_result;

/* Appends the rows of the Parquet files (read in order) to *r; the first
 * call on an empty r sets its columns. Opens an in-memory DuckDB for the
 * call and closes it (its threads joined) before returning, so that the
 * process forks no child with DuckDB's threads running. 0, or -1 with err
 * (POND_EINPUT: a file DuckDB cannot read, or other columns than r's). */
int engine_fetch(char *const *files, size_t nfiles, fetch_result *r, pond_err *err);

void fetch_result_release(fetch_result *r);

#endif
