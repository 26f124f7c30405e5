/* sqlparse.h — DuckDB's own SQL parser, for the planner's rewrites. */
#ifndef POND_ENGINE_SQLPARSE_H
#define POND_ENGINE_SQLPARSE_H

#include <jansson.h>
#include <stddef.h>

/* Parses each query with json_serialize_sql() in a short-lived child
 * process: the driver must never hold a DuckDB instance itself, since it
 * forks workers. Returns a JSON array with, for each query, its parse tree
 * or null (a query DuckDB cannot parse, or any failure): callers treat
 * null as "no rewrite". Never NULL. */
json_t *engine_parse_queries(const char *const *queries, size_t n);

#endif
