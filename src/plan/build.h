/* build.h — the constructors of logical nodes shared by pond's two front
 * ends: the script interpreter (src/script/interp.c) and the plan-building
 * API (src/api/dataset.c, include/pond.h's pond_read … pond_write). Each
 * front end checks its own arguments (script values or C arguments); what
 * a step means — its query template, flags, keys, partition count — is
 * written once, here. */
#ifndef POND_PLAN_BUILD_H
#define POND_PLAN_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "plan/logical.h"

/* The per-partition shorthands of partial_sql. */
typedef enum { SH_FILTER, SH_MAP, SH_SORT } shorthand_kind;

/* A node of kind k made by `func` at where ("file:line"), line and col. */
lnode *build_node(lplan *lp, lnode_kind k, const char *func, const char *where, int line, int col);

/* Sets n's inputs (copied array). */
void build_inputs(lnode *n, lnode *const *inputs, size_t ninputs);

/* partial_sql's partition count: the inputs' count, all equal or 1
 * (broadcast). Returns -1 with *bad the first input that disagrees, and
 * *have the count before it. */
int build_partial_parts(lnode *n, size_t *bad, int *have);

/* filter/map/flat_map/partial_sort over n's one input: the query
 * template with arg, the rowwise and keeps_schema flags, the partitions. */
void build_shorthand(lnode *n, shorthand_kind k, const char *arg);

/* repartition(hash_by=|range_by=): the keys as quoted SQL and as names. */
void build_keys(lnode *n, rp_mode mode, const char *const *names, size_t nnames);

/* repartition(by='expr'). */
void build_expr(lnode *n, const char *expr);

#endif
