/* aggregates.c — the build-time list of DuckDB's aggregate functions,
 * when it is the loaded library's (see aggregates.h). */
#include "engine/aggregates.h"

#include <string.h>

#include "duckdb.h"

const char *const *aggregates_known(void)
{
	return strcmp(duckdb_library_version(), aggregates_built_version) ? NULL : aggregates_built;
}
