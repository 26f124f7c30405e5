/* combine.h — map-side partial aggregation ("combiner") for the common
 * shuffle-then-aggregate pattern. Called by the binder (plan/bind.c) before planning. */
#ifndef POND_PLAN_COMBINE_H
#define POND_PLAN_COMBINE_H

#include "engine/plandb.h"
#include "plan/logical.h"
#include "plan/sqltree.h"

/* Finds partial_sql(q, x.repartition(n, hash_by=K)) where q aggregates with
 * GROUP BY over the shuffle keys, and marks it so producers aggregate
 * their share before the shuffle and consumers merge the partial results
 * (lnode.combine). Asks DuckDB's parser (the plan-time DuckDB) about the
 * candidate queries. A query it cannot prove safe is left as it is; the
 * binder (bind.c) then checks that a rewrite gives the same columns. */
void combine_plan(lplan *lp, plandb *db);

/* The rewrite itself, on the parse tree (plan/sqltree.h) of q with {0}
 * replaced by __pond_in: returns the consumer's query (with {0}), or NULL
 * when the rewrite would not be exact (also for a NULL tree). Exposed for
 * tests. */
char *combine_consumer_query(sq_query *tree, char *const *keys, size_t nkeys);

/* q with {0} named __pond_in, as the rewrite's parser sees it (caller frees). */
char *combine_as_table(const char *q);

#endif
