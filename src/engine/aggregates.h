/* aggregates.h — DuckDB's aggregate functions, as the planner needs them
 * for every query (which calls a shape must merge or shuffle). The list
 * is made at build time from the libduckdb pond is built with
 * (gen_aggregates.c writes aggregates_built.c), because asking
 * duckdb_functions() at plan time cost 26–41 ms a query. */
#ifndef POND_ENGINE_AGGREGATES_H
#define POND_ENGINE_AGGREGATES_H

#include <stddef.h>

extern const char *const aggregates_built_version;
extern const char *const aggregates_built[]; /* sorted, NULL-terminated */

/* The built list when the libduckdb loaded now is the one pond was built
 * with (its version string), else NULL: then ask duckdb_functions(). */
const char *const *aggregates_known(void);

#endif
