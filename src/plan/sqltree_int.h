/* sqltree_int.h — between sqltree.c, the one reader of DuckDB's parse
 * trees, and sqlbuild.c, whose constructors write a node's JSON and have
 * sqltree.c read it. Each takes (steals) j. */
#ifndef POND_PLAN_SQLTREE_INT_H
#define POND_PLAN_SQLTREE_INT_H

#include <jansson.h>

#include "plan/sqltree.h"

sq_expr *sqltree_expr_from_json(json_t *j);
sq_table *sqltree_table_from_json(json_t *j);
sq_query *sqltree_query_from_json(json_t *j);

#endif
