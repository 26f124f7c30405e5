/* logical.h — the logical plan: a DAG of datasets built by the script
 * interpreter (src/script/interp.c) and cut into stages by physical.c.
 * Every string in a node is owned by the node; nodes are owned by the plan.
 * SQL fragments stored here (keys) are already escaped; read options are
 * typed and escaped when rendered (plan/source.c). */
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
	L_PYTHON,      /* a Python function per partition (pond_python) */
} lnode_kind;

typedef enum { FMT_PARQUET, FMT_CSV, FMT_JSON } file_format;

typedef enum {
	RP_FILES,   /* files spread evenly (no data moves when reading a source) */
	RP_ROWS,    /* nearly equal row counts */
	RP_HASH,    /* hash of key columns */
	RP_EXPR,    /* user expression gives the partition index */
	RP_RANGE,   /* sampled split points over key columns */
	RP_RANDOM,  /* random_shuffle: seeded hash of the whole row */
	RP_ALIGNED, /* pond sql: spans of a source's files, one per part of
		     * another split table (plan/sqlalign.c); no data moves */
} rp_mode;

typedef enum {
	SKEW_NONE,
	SKEW_SPREAD, /* the side whose hot keys' rows are spread */
	SKEW_COPY,   /* the other side: its rows of hot keys copied to all */
} skew_role;

/* A column: a name and its DuckDB type as SQL text ("DECIMAL(18,3)"). */
typedef struct {
	char *name;
	char *type;
} column;

/* The columns of a dataset, or the columns= of a CSV/JSON source. */
typedef struct {
	column *cols;
	size_t n;
} schema;

/* One option of a read_xxx() call, typed as the script gave it (or as
 * the plan-time sniffer found it). Rendered into SQL only by
 * source_read_sql (plan/source.c), strings escaped there. */
typedef enum { OPT_BOOL, OPT_INT, OPT_STR } opt_type;

typedef struct {
	char *name;
	opt_type type;
	bool b;
	int64_t i;
	char *s;
} read_opt;

typedef struct dialect {
	read_opt *opts;
	size_t nopts;
} dialect;

typedef struct lnode {
	int id; /* index in lplan.nodes */
	lnode_kind kind;
	int nparts;    /* number of partitions of this dataset */
	char *func;    /* script function that made it, for messages */
	char *where;   /* "file:line" of that call */
	int line, col; /* its position, for file:line:col messages */
	char *name;    /* dataset name if bound (last binding), or NULL */

	/* L_SOURCE */
	file_format format;
	char **files; /* absolute paths, sorted, expanded from globs */
	int64_t *sizes;
	size_t nfiles;
	read_opt *opts; /* options passed to read_xxx() */
	size_t nopts;
	schema columns; /* CSV/JSON columns= (given; for JSON without
			 * it, the types of the whole source) */
	schema types;   /* CSV without columns=: the types DuckDB gives
			 * the whole source, so every reader of a part
			 * agrees (as columns= with dialects, else types=) */
	/* CSV without columns=: each file's dialect (delim, quote, header, …)
	 * as DuckDB sniffed it when the plan was bound, so tasks read their
	 * files without sniffing them again (sniffing costs about as much as
	 * parsing 100,000 rows). Files that agree share an entry. */
	struct dialect *dialects;
	size_t ndialects;
	int *file_dialect; /* by file; NULL when not sniffed */
	char **select;     /* read_parquet(columns=): the columns kept, or */
	size_t nselect;    /* none for all */

	/* Every node: its columns, found by binding the plan in DuckDB
	 * (plan/bind.c) before anything runs. Sources read in parts cast to
	 * these types, so every part agrees with a whole read. */
	schema schema;

	/* L_QUERY, L_PARTIAL, L_SQL: query with {0}, {1}, {partition} */
	char *query;
	bool rowwise;      /* filter/map/flat_map: may be split by files */
	bool keeps_schema; /* filter/partial_sort: the input's columns */
	struct lnode **inputs;
	size_t ninputs;

	/* L_REPARTITION */
	rp_mode mode;
	char *key;        /* SQL: key expr list (hash, range) or expr (by) */
	char *key_desc;   /* what the user wrote, for messages */
	char **key_names; /* hash_by/range_by columns, unquoted */
	size_t nkeys;
	char **key_types; /* their types (plan/bind.c); by=: the expr's */
	char **key_casts; /* hash_by: per key, a type to hash it as, or
			   * NULL: co-partitioned inputs of one query
			   * hash their keys in a common type, so that
			   * equal keys meet whatever their types */
	char *expr_type;  /* by=: the type of the expression */
	/* range_by with one key (the SQL planner's ORDER BY): partition 0
	 * holds the largest keys; NULL keys go to partition 0, not n-1 */
	bool range_desc, range_nulls_first;
	/* hash_by of one side of a co-partitioned join whose spread side has
	 * hot keys (pond sql; plan/skew.c): nhot keys, each nkeys SQL
	 * literals typed as that side's key columns (hot[i * nkeys + k]).
	 * SKEW_SPREAD: a row with a hot or a NULL key goes to a partition by
	 * a hash of the whole row; SKEW_COPY: a row with a hot key goes to
	 * every partition. */
	skew_role skew;
	char **hot;
	size_t nhot;
	/* RP_ALIGNED: part i reads files [aligned_lo[i], aligned_hi[i]) of
	 * its source (none when equal) */
	size_t *aligned_lo, *aligned_hi;

	/* L_PARTIAL after a hash shuffle, when combine.c proved it safe: the
	 * query that merges producers' partial aggregates (with {0}); the
	 * producers run `query` itself on their share before the shuffle. */
	char *combine;

	/* L_LIMIT */
	int64_t limit;

	/* L_PYTHON: the runner script and the pickled function (files; the
	 * output's columns are `schema`, given, not bound) */
	char *py_runner;
	char *py_pickle;

	/* L_SQL: the script's datasets by name where sql() was called, which
	 * the query may read as tables (the last binding of each name) */
	char **scope_names;
	struct lnode **scope_nodes;
	size_t nscope;

	/* L_SQL: already planned by sql_script_plan (a plan built call by
	 * call, src/api/dataset.c, is planned again after each call) */
	bool sql_planned;

	/* the plan-time DuckDB's table holding its columns, __pond_n<table>
	 * (its own id, or an input's it shares; plan/bind.c) */
	int table;
} lnode;

typedef enum {
	A_WRITE_PARQUET,
	A_WRITE_CSV,
	A_SHOW,
	A_COUNT,
	A_PRINT, /* pond sql without -o: the first n rows and the row count */
} action_kind;

typedef struct action {
	action_kind kind;
	lnode *input;
	char *where;   /* "file:line" */
	int line, col; /* position of the call */
	/* writes */
	char *dir;          /* absolute output directory */
	char *partition_by; /* quoted column list, or NULL */
	char *copy_options; /* e.g. "COMPRESSION 'zstd'" or CSV options */
	bool overwrite;     /* mode='overwrite' (else 'error') */
	/* show */
	int64_t n;
} action;

typedef struct {
	lnode **nodes;
	size_t nnodes;
	action *actions;
	size_t nactions;
	char *script_path; /* absolute */
	char *notes;       /* pond sql: how the query was planned, for
			    * explain (plan/sqlplan.c), or NULL */
} lplan;

lplan *lplan_new(void);
void schema_release(schema *s);
void schema_add(schema *s, const char *name, const char *type);
/* The column of that name, as SQL matches names (any case), or NULL. */
const column *schema_find(const schema *s, const char *name);
bool schema_equal(const schema *a, const schema *b);         /* names and types, in order */
const read_opt *lnode_opt(const lnode *n, const char *name); /* or NULL */
bool lnode_opt_bool(const lnode *n, const char *name);       /* false if absent */
/* Adds or replaces an option; s is copied. */
void lnode_set_opt(lnode *n, const char *name, opt_type type, bool b, int64_t i, const char *s);
/* The same on a list of options. */
void opts_set(read_opt **opts, size_t *nopts, const char *name, opt_type type, bool b, int64_t i, const char *s);
void opts_release(read_opt *opts, size_t nopts);

/* The first {k} (k digits) or {partition} in s, or NULL; *len is its
 * length. */
const char *query_placeholder(const char *s, size_t *len);
/* Replaces {k} in query by names[k] and {partition} by the index, and
 * drops a trailing ';' (the query becomes a CTE). Caller frees. */
char *query_substitute(const char *query, char *const *names, size_t nnames, int partition);

void lplan_free(lplan *p); /* accepts NULL */
/* Drops every action (a plan built call by call runs one at a time). */
void lplan_clear_actions(lplan *p);
/* Frees nodes [n, nnodes): back to the first n nodes (pond sql drops
 * stages it built and plans another way). */
void lplan_truncate(lplan *p, size_t n);
/* Renumbers the nodes inputs-first (a walk with its own stack: chains can
 * be 100,000 long), so ids are topological, as the binder and planner
 * need. */
void lplan_renumber(lplan *p);
lnode *lplan_add(lplan *p, lnode_kind kind, const char *func, const char *where);
action *lplan_add_action(lplan *p, action_kind kind, lnode *input, const char *where);

const char *lnode_kind_name(lnode_kind k);
const char *rp_mode_name(rp_mode m);
/* Part i of RP_FILES node rp over a source: its files [*lo, *hi), a
 * contiguous group, the groups as even as the count allows. */
void rp_files_part(const lnode *rp, int i, size_t *lo, size_t *hi);

#endif
