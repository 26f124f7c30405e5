/* source.h — the one place that writes the SQL reading a source's files:
 * read_parquet/read_csv/read_json over a list of paths with the source's
 * typed options. Used by the plan-time binder (bind.c) and the physical
 * planner (physical.c); every path goes through sb_sql_path. */
#ifndef POND_PLAN_SOURCE_H
#define POND_PLAN_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/logical.h"
#include "util/err.h"
#include "util/sb.h"

enum {
	SRC_ROWNUM = 1, /* also select file_row_number AS __pond_rn (Parquet) */
	SRC_ROWS = 2,   /* read with file_row_number=true so that a WHERE on
			 * file_row_number may follow (Parquet row ranges) */
	SRC_CAST = 4,   /* cast every column to the source's bound schema */
};

/* SELECT ... FROM read_xxx([files lo..hi), options). With SRC_ROWS the
 * text ends with the read call, ready for " WHERE file_row_number ...". */
void source_read_sql(sb *b, const lnode *n, size_t lo, size_t hi, unsigned flags);

/* The same for a single file f. */
void source_file_sql(sb *b, const lnode *n, size_t f, unsigned flags);

/* The type of the reader option `name` (header, delim, …), or false for a
 * name that is not one pond passes on. The options are DuckDB's own
 * (read_csv, read_json, read_parquet); DuckDB checks their values. */
bool source_opt_type(const char *name, opt_type *type);

/* Whether path names a file of format f by its extension (.parquet, .csv,
 * .json, …, also compressed with .gz). */
bool source_has_ext(const char *path, file_format f);

/* Adds the files `path` names to source n, each with its size: a file, the
 * files a glob matches, or a directory's files of n's format (walked,
 * names starting with _ or . skipped). POND_EINPUT when it names nothing
 * or cannot be read. Relative paths are made absolute. */
int source_add_path(lnode *n, const char *path, pond_err *err);

/* Sorts n's files and drops duplicates: the partitioning must not depend
 * on the order in which the file system lists things. */
void source_sort_files(lnode *n);

#endif
