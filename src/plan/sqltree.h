/* sqltree.h — DuckDB's parse trees (json_serialize_sql) as pond's own
 * types, and back to SQL (json_deserialize_sql). The one reader of parse
 * trees: the SQL planner (sqlplan.c) and the combiner (combine.c) work on
 * these structs, never on the JSON.
 *
 * Only what pond reasons about is modelled; every other part of a node
 * (a cast's type, a window's frame, a table's sample clause, …) is kept
 * opaque in `raw` and written back as it came, so any tree round-trips.
 * Every pointer is owned by the node holding it; *_free frees a whole
 * subtree and accepts NULL. Strings are never NULL ("" when absent). */
#ifndef POND_PLAN_SQLTREE_H
#define POND_PLAN_SQLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/plandb.h"
#include "util/err.h"

typedef enum {
	SQ_OTHER,       /* any other class: its child expressions are `args` */
	SQ_COLUMN,      /* COLUMN_REF: names ("t", "a" for t.a) */
	SQ_CONSTANT,    /* CONSTANT: is_int/ival, is_str/sval when so */
	SQ_FUNCTION,    /* FUNCTION: fname(args) [DISTINCT] [ORDER BY] [FILTER] */
	SQ_WINDOW,      /* WINDOW: fname(args) OVER (PARTITION BY … ORDER BY …) */
	SQ_STAR,        /* STAR: *, t.*, * EXCLUDE (…), COLUMNS(…) */
	SQ_SUBQUERY,    /* SUBQUERY: a query; args[0] the left side of IN/ANY */
	SQ_COMPARISON,  /* COMPARISON: args[0] <type> args[1] */
	SQ_CONJUNCTION, /* CONJUNCTION: type CONJUNCTION_AND / _OR over args */
	SQ_CAST,        /* CAST: args[0], the type in raw */
} sq_kind;

typedef enum { SQ_DIR_DEFAULT, SQ_ASC, SQ_DESC } sq_dir;
typedef enum { SQ_NULLS_DEFAULT, SQ_NULLS_FIRST, SQ_NULLS_LAST } sq_nulls;

typedef struct sq_expr sq_expr;
typedef struct sq_query sq_query;
typedef struct sq_table sq_table;
typedef struct sq_slot sq_slot; /* private to sqltree.c */

typedef struct {
	sq_dir dir;
	sq_nulls nulls;
	sq_expr *e;
} sq_order;

struct sq_expr {
	sq_kind kind;
	char *cls;    /* DuckDB's class ("COMPARISON") */
	char *type;   /* DuckDB's type ("COMPARE_EQUAL", "CONJUNCTION_AND") */
	char *alias;  /* "" when none */
	char **names; /* SQ_COLUMN */
	size_t nnames;
	bool is_int, is_str, is_null; /* SQ_CONSTANT: an integer, a VARCHAR, NULL */
	int64_t ival;
	char *sval;
	char *fname;       /* SQ_FUNCTION, SQ_WINDOW: function_name */
	bool qualified;    /* SQ_FUNCTION: schema or catalog given */
	bool distinct;     /* SQ_FUNCTION */
	bool export_state; /* SQ_FUNCTION: f(x) EXPORT_STATE */
	sq_expr *filter;   /* SQ_FUNCTION: FILTER (WHERE …), or NULL */
	sq_order *orders;  /* SQ_FUNCTION: ORDER BY inside; SQ_WINDOW: the window's */
	size_t norders;
	sq_expr **partitions; /* SQ_WINDOW: PARTITION BY */
	size_t npartitions;
	sq_expr **args; /* arguments, operands; SQ_OTHER: every child */
	size_t nargs;
	sq_expr **more; /* SQ_WINDOW: frame bounds, filter, …; in raw's order */
	size_t nmore;
	char *type_id;       /* SQ_CAST: the target type's id ("BOOLEAN", "DECIMAL") */
	sq_query *subquery;  /* SQ_SUBQUERY */
	char *subquery_type; /* SQ_SUBQUERY: "EXISTS", "ANY", "SCALAR", … */
	char *subquery_cmp;  /* SQ_SUBQUERY: ANY's comparison ("COMPARE_EQUAL" for IN), in raw */
	sq_slot *slots;      /* where args (SQ_OTHER) or more sit in raw */
	void *raw;           /* the rest of the node, opaque */
};

typedef enum { SQ_BASE, SQ_TABLE_FUNCTION, SQ_JOIN, SQ_SUBQUERY_REF, SQ_EMPTY, SQ_TABLE_OTHER } sq_table_kind;

struct sq_table {
	sq_table_kind kind;
	char *alias;
	size_t ncol_aliases;    /* t(a, b): the count; the names stay in raw */
	bool sample;            /* TABLESAMPLE */
	char *name;             /* SQ_BASE */
	bool qualified;         /* SQ_BASE: schema or catalog given */
	sq_expr *func;          /* SQ_TABLE_FUNCTION: the call */
	sq_table *left, *right; /* SQ_JOIN */
	sq_expr *cond;          /* SQ_JOIN: ON, or NULL */
	char *join_type;        /* SQ_JOIN: "INNER", "LEFT", "RIGHT", "OUTER", "SEMI", "ANTI" */
	char *ref_type;         /* SQ_JOIN: "REGULAR", "NATURAL", "CROSS", "POSITIONAL", "ASOF", … */
	char **using;           /* SQ_JOIN: USING (…) */
	size_t nusing;
	sq_query *subquery; /* SQ_SUBQUERY_REF; SQ_TABLE_OTHER: DESCRIBE's or SUMMARIZE's query */
	/* SQ_TABLE_OTHER (PIVOT, UNPIVOT, VALUES, DESCRIBE …): what it reads,
	 * so that its tables are named like any other's */
	sq_table *source; /* PIVOT's or UNPIVOT's */
	sq_expr **exprs;  /* every expression in it (VALUES' rows, PIVOT's aggregates) */
	size_t nexprs;
	sq_slot *slots; /* where exprs sit in raw */
	void *raw;
};

typedef struct {
	char *name;
	size_t naliases; /* WITH t(a, b): the count; the names stay in raw */
	sq_query *query;
	void *raw;
} sq_cte;

typedef enum { SQ_SELECT, SQ_SETOP, SQ_QUERY_OTHER } sq_query_kind;

struct sq_query {
	/* modifiers, every kind */
	sq_order *orders; /* ORDER BY */
	size_t norders;
	sq_expr *limit, *offset; /* LIMIT/OFFSET, each NULL when absent */
	sq_expr **distinct_on;   /* DISTINCT ON (…) */
	size_t ndistinct_on;
	sq_cte *ctes;
	size_t nctes;
	/* SQ_SELECT */
	sq_expr **select;
	size_t nselect;
	sq_table *from;
	sq_expr *where, *having, *qualify; /* NULL when absent */
	sq_expr **groups;
	size_t ngroups;
	/* SQ_SETOP */
	char *setop; /* "UNION", "EXCEPT", "INTERSECT", "UNION_BY_NAME" */
	sq_query *left, *right;
	void *raw;
	sq_query_kind kind;
	bool has_order;    /* ORDER BY given */
	bool has_limit;    /* LIMIT or OFFSET given */
	bool distinct;     /* SELECT DISTINCT (ON) */
	bool odd_modifier; /* another modifier (LIMIT n %): kept in raw */
	bool group_all;    /* GROUP BY ALL */
	bool plain_groups; /* no GROUPING SETS/ROLLUP/CUBE: one set of every group */
	bool sample;       /* USING SAMPLE */
	bool setop_all;    /* UNION ALL, … */
	bool collates;     /* a COLLATE anywhere in it, nested queries included */
};

/* Parses sql with DuckDB's parser (json_serialize_sql in the plan-time
 * DuckDB): exactly one statement, a query. Fails with DuckDB's parser
 * message (POND_EUSAGE). */
int sqltree_parse(plandb *db, const char *sql, sq_query **out, pond_err *err);

/* The same from json_serialize_sql's text (for tests). */
int sqltree_load(const char *text, sq_query **out, pond_err *err);

/* q as json_serialize_sql would give it (caller frees). */
char *sqltree_json(const sq_query *q);

/* q printed back as SQL by DuckDB (json_deserialize_sql). Caller frees. */
int sqltree_sql(plandb *db, const sq_query *q, char **out, pond_err *err);

/* One expression printed as SQL (without its alias). Caller frees. */
int sqltree_expr_sql(plandb *db, const sq_expr *e, char **out, pond_err *err);

/* Constructors: each returns a new node that the caller owns; those that
 * take nodes take ownership of them. */
sq_expr *sq_column(const char *table, const char *name); /* table may be NULL */
sq_expr *sq_int(int64_t v);
sq_expr *sq_str(const char *v);
sq_expr *sq_star(void);
sq_expr *sq_func(const char *name, sq_expr **args, size_t nargs); /* args copied as pointers */
sq_expr *sq_func1(const char *name, sq_expr *a);
sq_expr *sq_func2(const char *name, sq_expr *a, sq_expr *b);
sq_expr *sq_op(const char *op, sq_expr *a, sq_expr *b);        /* a + b, a * b, … */
sq_expr *sq_compare(const char *type, sq_expr *a, sq_expr *b); /* "COMPARE_EQUAL", … */
sq_expr *sq_and(sq_expr *a, sq_expr *b);                       /* either may be NULL */
sq_query *sq_select_new(void);                                 /* SELECT with nothing in it */
sq_table *sq_base_table(const char *name, const char *alias);
sq_table *sq_subquery_table(sq_query *q, const char *alias);

/* An SQ_TABLE_OTHER as the user wrote it ("PIVOT or UNPIVOT", "VALUES",
 * "DESCRIBE or SUMMARIZE", else "a table reference"), for messages. */
const char *sq_table_other_name(const sq_table *t);
/* Whether t is DuckDB's table reference of that type ("SHOW_REF", …). */
bool sq_table_is(const sq_table *t, const char *type);

void sq_set_alias(sq_expr *e, const char *alias);
void sq_add_select(sq_query *q, sq_expr *e);
void sq_add_group(sq_query *q, sq_expr *e); /* keeps plain_groups */
void sq_add_order(sq_query *q, sq_expr *e, sq_dir dir, sq_nulls nulls);
void sq_drop_ctes(sq_query *q); /* WITH … removed */

sq_expr *sq_expr_dup(const sq_expr *e);
sq_query *sq_query_dup(const sq_query *q);
sq_table *sq_table_dup(const sq_table *t);
void sq_expr_free(sq_expr *e);
void sq_query_free(sq_query *q);
void sq_table_free(sq_table *t);

/* Whether a and b are the same expression, aliases aside. */
bool sq_expr_equal(const sq_expr *a, const sq_expr *b);

/* Visits every expression at or below *slot, parents first, without
 * entering subqueries. fn may replace *slot (freeing what was there);
 * returning false stops the walk below that node. */
typedef bool (*sq_visit_fn)(sq_expr **slot, void *ctx);
void sq_visit(sq_expr **slot, sq_visit_fn fn, void *ctx);

/* Calls fn on every base table of q's FROMs, also in CTEs, set operations,
 * subqueries (their expressions included) and the table references pond
 * does not plan (a PIVOT's source), until it returns false; false then. */
typedef bool (*sq_table_fn)(sq_table *t, void *ctx);
bool sq_each_table(sq_query *q, sq_table_fn fn, void *ctx);

#endif
