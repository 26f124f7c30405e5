/* plandb.h — DuckDB at plan time: binds the script's SQL against its
 * inputs' schemas, sniffs CSV/JSON sources and parses queries, before any
 * task runs. The database lives in a child process (the driver must never
 * hold a DuckDB instance itself: it forks workers), reached through one
 * request/answer per query. Plain strings in, plain strings out. */
#ifndef POND_ENGINE_PLANDB_H
#define POND_ENGINE_PLANDB_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef struct plandb plandb;

/* A query's answer: every value as text (NULL for SQL NULL). */
typedef struct {
	size_t ncols, nrows;
	char **names; /* ncols */
	char **cells; /* nrows * ncols, row-major */
} pdb_result;

/* What kind of error DuckDB reported, by value (DuckDB's error type). */
typedef enum {
	PDB_OK = 0,
	PDB_ESQL,   /* parser, binder, catalog, type errors: the SQL is wrong */
	PDB_EINPUT, /* an input file could not be read or parsed */
	PDB_EOTHER, /* anything else, including the child dying */
} pdb_error;

int plandb_open(plandb **out, pond_err *err);

/* fn(ctx) once, when a plan-time DuckDB first answers (it is open): the
 * workers' task children may open theirs then. NULL fn: none. */
void plandb_when_open(void (*fn)(void *ctx), void *ctx);
void plandb_close(plandb *db); /* accepts NULL */

/* Runs one statement. On success fills *res (if not NULL; release it with
 * pdb_result_release) and returns PDB_OK; on failure returns the kind and
 * puts DuckDB's message in err (code POND_EUSAGE). */
pdb_error plandb_query(plandb *db, const char *sql, pdb_result *res, pond_err *err);
void pdb_result_release(pdb_result *r);

/* plandb_query, on every core when `wide` (one DuckDB thread per core;
 * plan-time queries otherwise run on one): for scans of many rows or
 * footers (whole small tables, the files' statistics) whose answer does
 * not depend on the order rows arrive in. The workers are idle while the
 * driver plans. */
pdb_error plandb_query_wide(plandb *db, const char *sql, bool wide, pdb_result *res, pond_err *err);

/* Binds sql without running it (a prepared statement): DuckDB's message
 * then quotes sql itself, not a statement wrapped around it. A failure is
 * always PDB_ESQL (DuckDB's C API gives no type for it). */
pdb_error plandb_prepare(plandb *db, const char *sql, pond_err *err);

/* Cell (row, col) or NULL. */
const char *pdb_cell(const pdb_result *r, size_t row, size_t col);

/* Cell (row, col) holding a list of structs with `name` and `type` as
 * JSON text (to_json(…)::VARCHAR, e.g. sniff_csv's Columns): calls
 * add(ctx, name, type) for each, in order ("" for a missing member). */
void pdb_cell_columns(const pdb_result *r, size_t row, size_t col,
		      void (*add)(void *ctx, const char *name, const char *type), void *ctx);

#endif
