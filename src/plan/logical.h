/* logical.h — the logical plan: a DAG of datasets built by the script
 * interpreter (src/script/interp.c) and cut into stages by physical.c.
 * Every string in a node is owned by the node; nodes are owned by the plan.
 * SQL fragments stored here (read options, keys) are already escaped. */
#ifndef POND_PLAN_LOGICAL_H
#define POND_PLAN_LOGICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	L_SOURCE,      /* files read by read_parquet/read_csv/read_json: 1 partition */
	L_QUERY,       /* partial_sql(query) with no inputs: 1 partition */
	L_PARTIAL,     /* partial_sql(query, inputs...) and its shorthands */
	L_REPARTITION, /* repartition(...) and random_shuffle(...) */
	L_SQL,         /* sql(query, inputs...) over whole datasets: 1 partition */
	L_LIMIT,       /* limit(df, n): 1 partition */
} lnode_kind;

typedef enum { FMT_PARQUET, FMT_CSV, FMT_JSON } file_format;

typedef enum {
	RP_FILES,  /* files spread evenly (no data moves when reading a source) */
	RP_ROWS,   /* nearly equal row counts */
	RP_HASH,   /* hash of key columns */
	RP_EXPR,   /* user expression gives the partition index */
	RP_RANGE,  /* sampled split points over key columns */
	RP_RANDOM, /* random_shuffle: seeded hash of the whole row */
} rp_mode;

typedef struct lnode {
	int id;                 /* index in lplan.nodes */
	lnode_kind kind;
	int nparts;             /* number of partitions of this dataset */
	char *func;             /* script function that made it, for messages */
	char *where;            /* "file:line" of that call */
	char *name;             /* dataset name if bound (last binding), or NULL */

	/* L_SOURCE */
	file_format format;
	char **files;           /* absolute paths, sorted, expanded from globs */
	int64_t *sizes;
	size_t nfiles;
	char *read_args;        /* extra ", key=value" args for read_xxx(), escaped */
	char *projection;       /* select list ("*" or quoted columns) */

	/* L_QUERY, L_PARTIAL, L_SQL: query with {0}, {1}, {partition} */
	char *query;
	bool rowwise;           /* filter/map/flat_map: may be split by files */
	struct lnode **inputs;
	size_t ninputs;

	/* L_REPARTITION */
	rp_mode mode;
	char *key;              /* SQL: key expr list (hash, range) or expr (by) */
	char *key_desc;         /* what the user wrote, for messages */
	char **key_names;       /* hash_by/range_by columns, unquoted */
	size_t nkeys;

	/* L_PARTIAL after a hash shuffle, when combine.c proved it safe: the
	 * query that merges producers' partial aggregates (with {0}); the
	 * producers run `query` itself on their share before the shuffle. */
	char *combine;

	/* L_LIMIT */
	int64_t limit;
} lnode;

typedef enum { A_WRITE_PARQUET, A_WRITE_CSV, A_SHOW, A_COUNT } action_kind;

typedef struct {
	action_kind kind;
	lnode *input;
	char *where;            /* "file:line" */
	/* writes */
	char *dir;              /* absolute output directory */
	char *partition_by;     /* quoted column list, or NULL */
	char *copy_options;     /* e.g. "COMPRESSION 'zstd'" or CSV options */
	bool overwrite;         /* mode='overwrite' (else 'error') */
	/* show */
	int64_t n;
} action;

typedef struct {
	lnode **nodes;
	size_t nnodes;
	action *actions;
	size_t nactions;
	char *script_path;      /* absolute */
} lplan;

lplan *lplan_new(void);
void lplan_free(lplan *p); /* accepts NULL */
lnode *lplan_add(lplan *p, lnode_kind kind, const char *func, const char *where);
action *lplan_add_action(lplan *p, action_kind kind, lnode *input, const char *where);

const char *lnode_kind_name(lnode_kind k);
const char *rp_mode_name(rp_mode m);

#endif
