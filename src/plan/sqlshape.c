/* sqlshape.c — the shapes of a query pond sql distributes (docs/SQL.md,
 * "Shapes"), each turned into stages. Called by sqlplan.c; a shape it does
 * not know returns NULL with the reason, and the query runs as one task. */
#include <stdlib.h>
#include <string.h>

#include "plan/sqlplan_int.h"

lnode *sql_shape(sqlp *p, const sq_query *q)
{
	(void)q;
	return sql_not(p, "no shape is distributed yet");
}
