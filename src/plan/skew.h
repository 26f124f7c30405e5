/* skew.h — a hot key of a co-partitioned join (pond sql; docs/SQL.md
 * "Skew"): the planner finds the hot keys of the spread side by a sample
 * (sql_skew, sqlplan_int.h), the physical planner writes the buckets of
 * both sides' shuffles: the spread side's rows of a hot key over every
 * partition by a hash of the whole row, the other side's rows of it
 * copied to every partition. */
#ifndef POND_PLAN_SKEW_H
#define POND_PLAN_SKEW_H

#include <stddef.h>

#include "plan/logical.h"
#include "util/sb.h"

/* SQL adding __pond_bucket to the rows of `src` (a CTE name) for rp, a
 * hash shuffle with rp->skew set, run by producer `producer`; `seed` the
 * seed of every hash shuffle's hash. A row of the SKEW_COPY side may get
 * several rows, one per partition. */
void skew_bucket_select(sb *b, const lnode *rp, const char *src, size_t producer, unsigned long long seed);

#endif
