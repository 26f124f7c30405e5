/* sqlplan_int.h — what the files of pond sql's planner share:
 * sqlplan.c (the driver: DuckDB's checks, the fallback, the action),
 * sqltables.c (tables as sources) and sqlshape.c (the shapes it
 * distributes). Not used outside them. */
#ifndef POND_PLAN_SQLPLAN_INT_H
#define POND_PLAN_SQLPLAN_INT_H

#include "engine/plandb.h"
#include "plan/sqlplan.h"
#include "plan/sqltree.h"
#include "util/sb.h"

/* A table the query reads: a source, {index} in the stages' queries. */
typedef struct {
	char *key;   /* "name:<lower case name>" or the read call's SQL */
	char *label; /* for --explain: "'sales.parquet'", "sales (-t)" */
	lnode *src;  /* the source, or NULL: a script's dataset (sql()), */
	lnode *node; /* … this one */
} sql_tab;

/* A -t or --tables binding: NAME and its paths. */
typedef struct {
	char *name;
	char **paths;
	size_t npaths;
	char *from; /* "-t" or "--tables" */
} sql_binding;

typedef struct {
	lplan *lp;
	plandb *db;
	pond_err *err;
	const sql_request *rq;
	sql_binding *binds;
	size_t nbinds;
	sql_tab *tabs;
	size_t ntabs;
	schema out;  /* DuckDB's DESCRIBE of the query: the result's columns */
	char **aggs; /* DuckDB's aggregate functions, sorted */
	size_t naggs;
	sb notes;        /* --explain: how the query is planned */
	size_t nsources; /* nodes [0, nsources) are the sources, bound */
	char *why;       /* why the query is not distributed, or NULL */
	struct sql_memo {
		char *key; /* a subquery's tree (sqltree_json) */
		lnode *node;
	} * memo; /* subqueries in FROM planned so far */
	size_t nmemo;
	struct sql_bound {
		const lnode *node;
		int64_t rows;
	} * bounds; /* planned queries' rows, at most (sqlgroups.c) */
	size_t nbounds;
	struct sql_disjoint {
		const lnode *src;
		char *col;
		bool yes;
	} * disjoint; /* sql_files_disjoint's answers so far */
	size_t ndisjoint;
	struct sql_footer_rows {
		const lnode *src;
		size_t m;      /* the files sql_sample may read: */
		int64_t *rows; /* their rows (-1: unknown) */
		int64_t all;   /* every file's rows; -1 unknown, -2 not asked */
	} * footer_rows;       /* the sources' rows, read once a query (sqlsample.c) */
	size_t nfooter_rows;
	struct sql_ranges {
		const lnode *src;
		char *col;
		struct sql_file_range *r; /* NULL: not known */
	} * ranges;                       /* sql_file_ranges' answers so far */
	size_t nranges;
	int depth; /* sql_shape's nesting: 0 the query itself */
	/* a script's sql() step being planned (sqlscript.c), or NULL: its
	 * stages carry its place, so that an error in them names its line */
	const lnode *site;
} sqlp;

/* A tab's size: its files' bytes, or a dataset's sources' bytes. */
int64_t sql_tab_bytes(const sqlp *p, const sql_tab *t);

/* sqltables.c */
/* The -t and --tables bindings, checked (POND_EUSAGE). */
int sql_bindings(sqlp *p);
/* Every table q reads (FROM clauses, joins, subqueries; not CTE names)
 * becomes a source, once per distinct table, and its reference in q the
 * base table "{k}" (keeping the name DuckDB would give it as an alias).
 * A read_* call pond cannot take apart stays as it is. */
int sql_tables(sqlp *p, sq_query *q);

/* A table of a query's FROM (one, or the leaves of its joins). */
typedef struct {
	lnode *src;        /* the table's source, or NULL: */
	sq_query *sub;     /* a derived table (FROM (…), a CTE): its query */
	lnode *node;       /* … planned on its own: its partitions */
	schema own;        /* … and its columns */
	const char *alias; /* its name in the query */
	lnode *in;         /* what the stages read: its parts, a hash shuffle on
			* the join keys, or the whole table (broadcast) */
	int64_t bytes;     /* its files' size (a derived table's: its tables') */
	bool filtered;     /* in ships only the rows its pushed conjuncts keep
			    * (sql_side_filter), without their own columns */
} sql_leaf;

/* A leaf's columns. */
const schema *sql_leaf_cols(const sql_leaf *l);

/* One query as the shapes see it (sqlshape.c, sqljoin.c, sqlagg.c). */
typedef struct {
	sqlp *p;
	const schema *out; /* the result's columns, as DuckDB describes them */
	sq_query *w;       /* a copy of the query; its tables "{i}", i a leaf */
	sql_leaf *leaves;  /* the FROM's tables [0, nfrom), then those of
			   * subqueries, read whole by every task */
	size_t nleaves, nfrom;
	lnode **ins; /* every leaf's input, in order: {0}, {1}, … */
	/* ORDER BY: each key computed as a hidden column __pond_s<i> */
	sq_expr **keys;
	sq_order *orders; /* direction and nulls of each key (e unused) */
	size_t nkeys;
	int64_t limit, offset; /* -1: none */
	/* GROUP BY under ORDER BY/LIMIT: its groups estimated (sqlgroups.c),
	 * -1 unknown; what was counted, for --explain. A query without
	 * GROUP BY under ORDER BY: its rows at most (sqlshape.c), est_rows */
	int64_t groups_est;
	char groups_how[64];
	bool est_rows;
	/* a subquery in the select list, HAVING, QUALIFY or ORDER BY reads the
	 * query's columns (is correlated): an aggregate or window query then
	 * runs as one task (its last step sees only the shuffled columns) */
	bool correlated;
} shape;

/* sqljoin.c */
/* Gives every table of s->w's FROM its input, renames it "{i}", and
 * drops qualifiers where a column's name says its table: one table is
 * read in parts; of joined tables, the largest in parts and the others
 * broadcast when they are small and on a side a join does not preserve,
 * else two tables joined on equal columns are co-partitioned by hash.
 * False, with p->why, when no such way exists. */
bool sql_inputs(shape *s);
/* s->w's FROM with every table the plan-time DuckDB's table of its
 * source, for binding expressions over it. */
sq_table *sql_probe_from(const shape *s);
/* A per-partition node over every leaf's input. */
lnode *sql_over_inputs(shape *s, const char *role, const char *query);
/* The inputs of q, an aggregate's partial query over the FROM's leaves
 * ({0}…, nkept of them) or its final query over the shuffled states or
 * rows ({0}, nkept 1): each leaf q's subqueries read (in its expressions
 * and join conditions) becomes the next input and is renamed so in q.
 * Returns the inputs, *n of them, the first nkept NULL: the caller's. */
lnode **sql_subquery_inputs(const shape *s, sq_query *q, size_t nkept, size_t *n);
/* The leaf of the FROM a column reference reads: t.c by its alias, c by
 * the one table that has it; -1 when unknown or ambiguous. */
int sql_leaf_of(const shape *s, const sq_expr *e);

/* sqlprune.c */
/* What a shuffle of leaf `leaf` (a source) on its join keys reads: the
 * source, or a row-wise step keeping only the columns the query reads
 * and the rows that can meet the join. */
lnode *sql_pruned_side(shape *s, int leaf);
/* What leaf `leaf` (a source) ships: its columns the query reads, into
 * `cols` ("a", "b"), and the conjuncts over it alone that drop only rows
 * the query drops anyway, into `where` (empty: none). Returns how many
 * columns. */
size_t sql_side_filter(shape *s, int leaf, sb *cols, sb *where);
/* Whether every row of the query's FROM holds a row of leaf `leaf` (a
 * table of the FROM): no outer join above it supplies NULLs for it. */
bool sql_leaf_kept(const shape *s, int leaf);
/* Once every leaf's input is final: each conjunct pushed into leaf's
 * filtered side (sql_leaf.filtered) replaced in the query by 1 = 1. The
 * side shipped no column only those conjuncts read. */
void sql_drop_pushed(shape *s, int leaf);
/* What every task of a join whose leaf `split` is read in parts reads of
 * broadcast leaf `leaf` (a source): when it is big enough and an
 * equality of the WHERE meets another filtered broadcast source, one
 * task's output of its columns the query reads, its rows filtered
 * (sql_side_filter) and reduced to those whose keys meet that source's
 * filtered rows; else NULL (it is read whole). */
lnode *sql_prefiltered_side(shape *s, int leaf, int split);
/* Marks keep[c] for each column of cols that a column reference of q (a
 * SELECT over base tables and joins of them) names, whatever its table:
 * more than q reads, never less. False when that cannot be told: a `*`, a
 * subquery, a table's whole row, a CTE, a subquery or function in FROM. */
bool sql_query_reads(sq_query *q, const schema *cols, bool *keep);

/* sqlreduce.c */
/* The input of a co-partitioned join's side `big` (its rows not kept
 * unmatched by the join) reduced before its shuffle: only its rows whose
 * keys bkeys equal the keys skeys of some row of the small side `small`
 * (those keys computed once, distinct, by one task), and, with
 * `distinct` (the inner side of a SEMI/ANTI join), each row once. NULL
 * when big cannot be read in parts. */
lnode *sql_reduced_side(shape *s, int big, int small, char **bkeys, char **skeys, size_t n, bool distinct);
/* sqlalign.c */
/* What every task of a query split on leaf `split` (in groups of its
 * Parquet files) reads of broadcast leaf `leaf`: when an equality of
 * integer columns meets the two and both tables' files have statistics
 * for them, only the span of leaf's files that can meet each part (an
 * RP_ALIGNED node); else NULL (read whole). */
lnode *sql_aligned_side(shape *s, int leaf, int split);

/* sqljoin.c: a leaf's table read in parts without moving data (NULL and
 * p->why set when it cannot be split). */
lnode *sql_split_leaf(sqlp *p, const sql_leaf *l);
/* Leaf l is table k of the query, named alias. */
void sql_init_leaf(const shape *s, sql_leaf *l, int k, const char *alias);
/* Whether a table of source src and `bytes` bytes, split, is read in
 * groups of whole files (else row ranges, or not split). */
bool sql_files_split(const lnode *src, int64_t bytes);

/* sqlsample.c */
/* How many of a table's files a sample reads. */
typedef enum {
	SAMPLE_SPREAD, /* up to 8, evenly spaced: a key found in some files only still shows (hot join keys) */
	SAMPLE_CHEAP,  /* as few of those as hold the rows sampled (a GROUP BY's group count) */
} sample_reach;
/* Writes into b the rows of a sample of Parquet table src, as
 * `SELECT cols FROM (file) [TABLESAMPLE …] UNION ALL …`: some of its files
 * (evenly spaced) and some of their rows, the same on every run. Returns
 * how many files; *whole (when not NULL) says whether that is every row
 * of src, *seeded whether a TABLESAMPLE picks rows (its query must then
 * run on one thread: not plandb_query_wide's `wide`). */
size_t sql_sample(sqlp *p, sb *b, const lnode *src, const char *cols, sample_reach reach, bool *whole, bool *seeded);
/* The rows of a Parquet source, from its files' footers (read once a
 * query); -1 when unknown. */
int64_t sql_source_rows(sqlp *p, const lnode *src);
/* The same when they are at most `limit`, else -1: the footers of all
 * its files are read only when those a sample probes hold no more. */
int64_t sql_source_rows_upto(sqlp *p, const lnode *src, int64_t limit);
/* The range of an integer column's non-NULL values in one file, from its
 * row groups' statistics: keys false when it holds none; nulls when it
 * may hold a NULL. */
typedef struct sql_file_range {
	bool keys, nulls;
	int64_t lo, hi;
} sql_file_range;
/* TINYINT … UINTEGER: types whose statistics sql_file_ranges reads as
 * BIGINT, and whose equality across them is exact. */
bool sql_integer_type(const char *t);
/* Per file of Parquet source src (in its order), the range of integer
 * column col (TINYINT … UINTEGER); NULL when a row group with a non-NULL
 * value lacks statistics for it. Read once a query. */
sql_file_range *sql_file_ranges(sqlp *p, const lnode *src, const column *col);
/* Whether no value of column col (of src's schema) is in two of src's
 * Parquet files, by their row groups' statistics: each file's [min, max]
 * cast to the column's type, none overlapping, NULLs in one file at most
 * (a table written sorted or partitioned by the column: TPC-H's lineitem
 * by l_orderkey). No when any statistic is missing. */
bool sql_files_disjoint(sqlp *p, const lnode *src, const column *col);

/* sqlcoloc.c */
/* A correlated subquery over one Parquet table T, correlated by an
 * equality inner.c = outer.c on a column c no two of T's files share a
 * value of (so each task may evaluate it over the part of T it reads). */
typedef struct {
	int tab;                 /* T: "{tab}" */
	const lnode *src;        /* T's source */
	const char *inner_alias; /* the subquery's name for T ("" when none) */
	const column *col;       /* c */
	const char *outer_alias; /* the outer table of outer.c */
} sql_coloc;
/* Whether the SQ_SUBQUERY sub is one; *out says how. */
bool sql_coloc_match(sqlp *p, const sq_expr *sub, sql_coloc *out);
/* Whether it is one, and `outer` (its query) will be split on the outer
 * table in groups of whole files of T (as sql_inputs splits): then it is
 * left correlated, not decorrelated. */
bool sql_colocatable(sqlp *p, const sq_query *outer, const sq_expr *sub);
/* Once the split is made (sql_inputs): when sub, a WHERE conjunct's
 * subquery, is one and the query's table of outer.c is read in groups of
 * T's whole files, its table becomes a leaf read in that same part. */
bool sql_colocated(shape *s, sq_expr *sub);

/* sqlgroups.c */
/* At most how many groups the n group keys make, from the distinct keys
 * counted in (a sample of) the files of the tables they read; -1 when
 * unknown. `how` says what was counted, for --explain. */
int64_t sql_group_estimate(const shape *s, sq_expr **groups, size_t n, char *how, size_t howlen);
/* Node n (a planned derived table or subquery) has at most `rows` rows. */
void sql_bound_rows(sqlp *p, const lnode *n, int64_t rows);
/* That bound of node n, or -1. */
int64_t sql_rows_bound(const sqlp *p, const lnode *n);

/* skew.c */
/* The join of leaves la and lb, co-partitioned (their inputs hash
 * shuffles): when the side it may spread (left_ok: the left side's rows
 * may be split, right_ok: the right's; the larger when both) is a Parquet
 * source with hot keys in a sample, both shuffles get them (lnode.skew),
 * and --explain says so. */
void sql_skew(shape *s, int la, int lb, bool left_ok, bool right_ok);

/* sqlshape.c */
/* Builds the stages of q (its tables already "{k}") on the sources, and
 * returns the node whose partitions, read in order, are the result with
 * exactly the columns `out` (DuckDB's DESCRIBE of q), or NULL with
 * p->why set when q has no shape the planner distributes. */
lnode *sql_shape(sqlp *p, const sq_query *q, const schema *out);

/* Whether e is a call of one of DuckDB's aggregate functions. */
bool sql_is_agg(const sqlp *p, const sq_expr *e);
/* Whether an aggregate call is anywhere in e (not in subqueries). */
bool sql_has_agg(const sqlp *p, sq_expr *e);
/* Whether e is, or holds, a node of kind k. */
bool sql_has_kind(sq_expr *e, sq_kind k);
/* Appends to *v the conjuncts of e's top-level AND (e itself when it is
 * none); the nodes are e's, borrowed. */
void sql_conjuncts(sq_expr *e, sq_expr ***v, size_t *n);
/* Appends to *v the conjuncts that hold in every row of the query
 * holding a row of leaf `leaf`: the WHERE's, and those of the ON of each
 * join whose matched rows alone hold leaf's rows (inner; leaf's side
 * dropped unmatched). The caller frees *v, not the conjuncts. */
void sql_leaf_conjuncts(const shape *s, int leaf, sq_expr ***v, size_t *n);
/* Whether e may give another value each time it is evaluated (random(),
 * nextval(), …), or holds a subquery or window function pond does not
 * look into: a conjunct pond may not copy or move. */
bool sql_volatile(sq_expr *e);
/* Whether e, evaluated again on the same row, gives the same value: no
 * volatile call, window or aggregate function in it or in any subquery it
 * holds (looked into, FROM and all), nor a subquery with LIMIT, OFFSET,
 * DISTINCT ON, GROUP BY, HAVING or TABLESAMPLE. */
bool sql_same_each_time(const sqlp *p, sq_expr *e);
/* " AS alias" free: e's copy without its alias. */
sq_expr *sql_bare(const sq_expr *e);
/* Whether a table of the query has a column of this name. */
bool sql_table_has(const shape *s, const char *name);
/* The hidden sort keys as select items "k AS __pond_s<i>", rewritten by
 * fn (NULL: as they are), appended to q. */
void sql_add_keys(shape *s, sq_query *q, sq_visit_fn fn, void *ctx);
/* "CAST(#1 AS T1) AS "name1", …": the query's columns by position, named
 * and typed as DuckDB's DESCRIBE of the query says (intermediate files
 * hold HUGEINT as DECIMAL(38,0)). */
void sql_rename_list(sb *b, const schema *out);
/* The last steps on rel (whose partitions hold the query's columns, then
 * the hidden sort keys): ORDER BY, LIMIT, and the columns renamed and
 * cast to exactly DuckDB's. */
lnode *sql_finish(shape *s, lnode *rel);

/* sqlagg.c */
/* Window functions that share their PARTITION BY: rows shuffled on it,
 * the query as written per partition; or NULL (p->why set). */
lnode *sql_window(shape *s);
/* GROUP BY and aggregates over the table's parts: the node of the
 * aggregated rows, or NULL (p->why set). */
lnode *sql_aggregate(shape *s);

/* sqldecor.c */
/* Rewrites q (a SELECT, its tables "{k}") so that one correlated
 * subquery over a big table in a WHERE conjunct becomes a join (SEMI,
 * ANTI, or with an aggregated derived table); the others then sit in a
 * derived table, rewritten when it is planned. False when nothing was
 * rewritten (p->why says why when a subquery could not be). */
bool sql_decorrelate(sqlp *p, sq_query *q);

/* sqlplan.c: helpers the others share */
/* DuckDB's aggregate functions into p->aggs. */
int sql_load_aggregates(sqlp *p);
/* The first column of s named with a {k} or {partition} in it, or NULL:
 * pond's stage SQL substitutes those in its whole text. */
const char *sql_placeholder_column(const schema *s);
/* Drops the nodes from `mark` on, and their tables in DuckDB. */
void sql_undo(sqlp *p, size_t mark);
/* Forgets the subqueries planned (p->memo). */
void sql_forget(sqlp *p);
/* A new node of pond sql's plan: its role as func ("partial aggregate"). */
lnode *sql_node(sqlp *p, lnode_kind kind, const char *role);
/* A per-partition query over one input. */
lnode *sql_partial(sqlp *p, const char *role, const char *query, lnode *in);
/* A per-partition query over several inputs: as many partitions as the
 * one with the most, those of one partition read whole. */
lnode *sql_partial_over(sqlp *p, const char *role, const char *query, lnode **in, size_t nin);
/* One task over the whole of its inputs. */
lnode *sql_gather(sqlp *p, const char *role, const char *query, lnode **in, size_t nin);
/* q printed back as SQL, or NULL (and p->why set) if DuckDB cannot. */
char *sql_text(sqlp *p, const sq_query *q);
/* Says why the query is not distributed (the first reason wins); returns
 * NULL for `return sql_not(...)`. */
lnode *sql_not(sqlp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sql_note(sqlp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
