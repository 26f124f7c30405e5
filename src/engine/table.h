/* table.h — show()'s text table, formatted from a DuckDB result whose
 * columns are all VARCHAR. Part of the engine layer (sees duckdb.h). */
#ifndef POND_ENGINE_TABLE_H
#define POND_ENGINE_TABLE_H

#include "duckdb.h"

/* Returns a malloc'ed, box-drawn table with a header row; NULL as "NULL".
 * Its last line counts the rows: r's, or `total` (when >= 0) with how
 * many of them are shown. */
char *table_format(duckdb_result *r, int64_t total);

#endif
