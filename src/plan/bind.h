/* bind.h — binds the logical plan in DuckDB before anything runs. Called
 * by the session after the interpreter, before physical planning. */
#ifndef POND_PLAN_BIND_H
#define POND_PLAN_BIND_H

#include "engine/plandb.h"
#include "plan/logical.h"
#include "util/err.h"

/* For every dataset in id (topological) order: reads the schema of each
 * source (sniffing CSV/JSON ones once, so that every task reading a part
 * of them parses it the same way), binds every SQL step against its
 * inputs' schemas, checks repartition keys and sink columns. Fills each
 * node's schema, key types and, for hash shuffles feeding one query, the
 * common type their keys are hashed in. Errors name the step:
 * "file:line:col: partial_sql: Binder Error: ..." (POND_EUSAGE), or the
 * input (POND_EINPUT). `script` is the script's name for messages. */
int plan_bind(lplan *lp, plandb *db, const char *script, pond_err *err);

/* The same for nodes [first, nnodes) of a plan whose nodes before first
 * were bound by an earlier call on the same db (each keeps its own
 * table); the actions are checked again. pond sql binds its sources,
 * then the nodes it builds over them (plan/sqlplan.c). */
int plan_bind_from(lplan *lp, plandb *db, size_t first, const char *script, pond_err *err);

#endif
