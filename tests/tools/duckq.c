/* duckq: the tests' single-process DuckDB oracle. Runs each argument as one
 * SQL statement in a fresh in-memory database and prints the last result as
 * tab-separated rows (NULL as \N). Exit 1 with DuckDB's message on error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: duckq SQL [SQL...]\n");
		return 2;
	}
	if (duckdb_open(NULL, &db) != DuckDBSuccess ||
	    duckdb_connect(db, &con) != DuckDBSuccess) {
		fprintf(stderr, "duckq: cannot open DuckDB\n");
		return 1;
	}
	for (int a = 1; a < argc && status == 0; a++) {
		duckdb_result res;
		if (duckdb_query(con, argv[a], &res) != DuckDBSuccess) {
			fprintf(stderr, "duckq: %s\n", duckdb_result_error(&res));
			status = 1;
		} else if (a == argc - 1) {
			idx_t ncol = duckdb_column_count(&res);
			idx_t nrow = duckdb_row_count(&res);
			for (idx_t r = 0; r < nrow; r++) {
				for (idx_t c = 0; c < ncol; c++) {
					char *v = duckdb_value_is_null(&res, c, r)
							  ? NULL
							  : duckdb_value_varchar(&res, c, r);
					printf("%s%s", c ? "\t" : "", v ? v : "\\N");
					duckdb_free(v);
				}
				printf("\n");
			}
		}
		duckdb_destroy_result(&res);
	}
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return status;
}
