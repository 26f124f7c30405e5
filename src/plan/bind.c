/* bind.c — the plan bound in DuckDB before any task runs (see bind.h).
 *
 * Every dataset gets an empty table __pond_n<id> in the plan-time DuckDB
 * with exactly its columns: a source's from reading its files (LIMIT 0:
 * footers and a CSV sample, no data), a query's from running it over its
 * inputs' empty tables. A wrong column, function or type is found here,
 * once, at the step that has it, instead of in every task. What is learnt
 * is kept on the nodes for the physical planner: source schemas (parts of
 * a source are cast to them), CSV dialects (so that producers reading
 * different files parse them alike), key types. */
#include "plan/bind.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "plan/combine.h"
#include "plan/source.h"
#include "plan/sqlplan.h"
#include "util/sb.h"

typedef struct {
	lplan *lp;
	plandb *db;
	pond_err *err;
	const char *script; /* file name for messages */
	int *table;         /* by node id: the id whose table holds its
			     * columns (its own, or an input's when it keeps
			     * them: a filter, a sort, a repartition) */
} binder;

static char *table_of(const binder *bd, const lnode *n)
{
	return xasprintf("__pond_n%d", bd->table[n->id]);
}

/* DuckDB's message, with pond's table names put back as the user's
 * placeholders ({0}, {1}) and the caret under the LINE context moved to
 * match. */
static char *tidy(const binder *bd, const char *msg, const lnode *n)
{
	sb b = SB_INIT;
	const char *caret_line = NULL;
	int shift = 0;

	for (const char *p = msg; *p;) {
		size_t k;
		if (!strncmp(p, "__pond_n", 8)) {
			for (k = 0; k < n->ninputs; k++) {
				char *t = table_of(bd, n->inputs[k]);
				size_t len = strlen(t);
				if (!strncmp(p, t, len) && !isdigit((unsigned char)p[len])) {
					char ph[24];
					const char *line_start = p;
					snprintf(ph, sizeof(ph), "{%zu}", k);
					sb_add(&b, ph);
					/* a replacement left of the caret moves it */
					while (line_start > msg && line_start[-1] != '\n')
						line_start--;
					if (!strncmp(line_start, "LINE ", 5)) {
						const char *next = strchr(p, '\n');
						const char *caret = next ? strchr(next + 1, '^') : NULL;
						if (caret && (size_t)(caret - (next + 1)) > (size_t)(p - line_start)) {
							shift += (int)(len - strlen(ph));
							caret_line = next + 1;
						}
					}
					p += len;
					free(t);
					break;
				}
				free(t);
			}
			if (k < n->ninputs)
				continue;
		}
		if (p == caret_line && shift > 0) {
			/* drop `shift` spaces before the caret */
			int skipped = 0;
			while (*p == ' ' && skipped < shift)
				p++, skipped++;
			caret_line = NULL;
			continue;
		}
		sb_addn(&b, p, 1);
		p++;
	}
	while (b.len && b.buf[b.len - 1] == '\n')
		b.buf[--b.len] = '\0';
	return sb_detach(&b);
}

/* Fails at node n's call: "file:line:col: func: message". */
static int fail_node(binder *bd, const lnode *n, pond_status code, const char *msg)
{
	char *m = tidy(bd, msg, n);

	/* only a query's text is the user's: elsewhere (a source's read, a
	 * key check) DuckDB's LINE context would quote pond's SQL */
	if (n->kind != L_QUERY && n->kind != L_PARTIAL && n->kind != L_SQL && strstr(m, "\n\nLINE "))
		*strstr(m, "\n\nLINE ") = '\0';
	if (n->line > 0)
		pond_fail(bd->err, code, "%s:%d:%d: %s: %s", bd->script, n->line, n->col, n->func, m);
	else /* pond sql's nodes have no script position */
		pond_fail(bd->err, code, "%s: %s: %s", bd->script, n->func, m);
	free(m);
	return -1;
}

static int fail_action(binder *bd, const action *a, const char *what, const char *msg)
{
	char *m = xstrdup(msg); /* msg may be bd->err's own */

	if (strstr(m, "\n\nLINE ")) /* quotes pond's SQL */
		*strstr(m, "\n\nLINE ") = '\0';
	pond_fail(bd->err, POND_EUSAGE, "%s:%d:%d: %s: %s", bd->script, a->line, a->col, what, m);
	free(m);
	return -1;
}

/* The columns of a table or query, as DuckDB describes them. */
static pdb_error describe(binder *bd, const char *what, schema *out)
{
	char *sql = xasprintf("DESCRIBE %s", what);
	pdb_result r;
	pdb_error e = plandb_query(bd->db, sql, &r, bd->err);

	free(sql);
	if (e)
		return e;
	schema_release(out);
	for (size_t i = 0; i < r.nrows; i++)
		schema_add(out, pdb_cell(&r, i, 0), pdb_cell(&r, i, 1));
	pdb_result_release(&r);
	return PDB_OK;
}

/* Creates n's empty table from `query` and takes its schema. On failure
 * the message is that of the bare query, so that it quotes the query and
 * not the statement pond wrapped around it. */
static pdb_error define(binder *bd, lnode *n, const char *query)
{
	char *t = xasprintf("__pond_n%d", n->id);
	/* one round trip: DuckDB answers with the last statement's result */
	char *sql = xasprintf("CREATE TEMP TABLE %s AS SELECT * FROM (%s) LIMIT 0; DESCRIBE %s", t, query, t);
	pdb_result r;
	pdb_error e = plandb_query(bd->db, sql, &r, bd->err);

	if (e) {
		pond_err first = *bd->err;
		if (plandb_prepare(bd->db, query, bd->err) == PDB_OK)
			*bd->err = first;
	} else {
		schema_release(&n->schema);
		for (size_t i = 0; i < r.nrows; i++)
			schema_add(&n->schema, pdb_cell(&r, i, 0), pdb_cell(&r, i, 1));
		pdb_result_release(&r);
	}
	free(sql);
	free(t);
	return e;
}

/* n's empty table from a schema already known (no file read again). */
static pdb_error define_from(binder *bd, lnode *n, const schema *sc)
{
	sb q = SB_INIT;
	pdb_error e;

	sb_addf(&q, "CREATE TEMP TABLE __pond_n%d (", n->id);
	for (size_t i = 0; i < sc->n; i++) {
		sb_add(&q, i ? ", " : "");
		sb_sql_ident(&q, sc->cols[i].name);
		sb_addf(&q, " %s", sc->cols[i].type);
	}
	sb_add(&q, ")");
	e = plandb_query(bd->db, sb_str(&q), NULL, bd->err);
	sb_release(&q);
	return e;
}

/* sniff_csv prints an empty quote, escape or comment as "(empty)". */
static const char *sniffed(const char *v)
{
	return v && !strcmp(v, "(empty)") ? "" : v;
}

static void add_column(void *cols, const char *name, const char *type)
{
	schema_add(cols, name, type);
}

/* The dialect and columns DuckDB detects in one CSV file, as it would
 * when reading it among the source's files (the same options). */
static int sniff_file(binder *bd, const lnode *n, size_t f, dialect *d, schema *cols)
{
	static const char *const text[][2] = {
		{ "Delimiter", "delim" },           { "Quote", "quote" },     { "Escape", "escape" },
		{ "NewLineDelimiter", "new_line" }, { "Comment", "comment" },
	};
	sb q = SB_INIT;
	pdb_result r;
	int rc = 0;

	sb_add(&q,
	       "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, DateFormat, "
	       "TimestampFormat, to_json(Columns)::VARCHAR FROM sniff_csv(");
	sb_sql_path(&q, n->files[f]);
	for (size_t i = 0; i < n->nopts; i++) {
		const read_opt *o = &n->opts[i];
		if (!strcmp(o->name, "hive_partitioning") || !strcmp(o->name, "parallel"))
			continue; /* read options, not sniffing ones */
		sb_addf(&q, ", %s=", o->name);
		if (o->type == OPT_BOOL)
			sb_add(&q, o->b ? "true" : "false");
		else if (o->type == OPT_INT)
			sb_addf(&q, "%lld", (long long)o->i);
		else
			sb_sql_str(&q, o->s);
	}
	sb_add(&q, ")");
	if (plandb_query(bd->db, sb_str(&q), &r, bd->err)) {
		sb_release(&q);
		return -1;
	}
	sb_release(&q);
	if (r.nrows != 1) {
		pdb_result_release(&r);
		return pond_fail(bd->err, POND_EINPUT, "sniff_csv gave no answer");
	}
	for (size_t k = 0; k < sizeof(text) / sizeof(text[0]); k++)
		opts_set(&d->opts, &d->nopts, text[k][1], OPT_STR, false, 0,
			 sniffed(pdb_cell(&r, 0, k)) ? sniffed(pdb_cell(&r, 0, k)) : "");
	opts_set(&d->opts, &d->nopts, "skip", OPT_INT, false,
		 pdb_cell(&r, 0, 5) ? strtoll(pdb_cell(&r, 0, 5), NULL, 10) : 0, NULL);
	opts_set(&d->opts, &d->nopts, "header", OPT_BOOL, pdb_cell(&r, 0, 6) && !strcmp(pdb_cell(&r, 0, 6), "true"), 0,
		 NULL);
	for (size_t k = 7; k <= 8; k++)
		if (pdb_cell(&r, 0, k) && *pdb_cell(&r, 0, k))
			opts_set(&d->opts, &d->nopts, k == 7 ? "dateformat" : "timestampformat", OPT_STR, false, 0,
				 pdb_cell(&r, 0, k));
	opts_set(&d->opts, &d->nopts, "auto_detect", OPT_BOOL, false, 0, NULL);
	pdb_cell_columns(&r, 0, 9, add_column, cols);
	pdb_result_release(&r);
	return rc;
}

static bool same_dialect(const dialect *a, const dialect *b)
{
	if (a->nopts != b->nopts)
		return false;
	for (size_t i = 0; i < a->nopts; i++) {
		const read_opt *x = &a->opts[i], *y = &b->opts[i];
		if (strcmp(x->name, y->name) || x->type != y->type || x->b != y->b || x->i != y->i ||
		    strcmp(x->s ? x->s : "", y->s ? y->s : ""))
			return false;
	}
	return true;
}

static bool same_schema_types(const schema *a, const schema *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->cols[i].type, b->cols[i].type))
			return false;
	return a->n == b->n;
}

static bool same_names(const schema *a, const schema *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name))
			return false;
	return true;
}

/* A CSV source without columns=: each file's dialect, fixed for the
 * tasks, and the types of the whole source (DuckDB's own unification,
 * from DESCRIBE, when the files' types differ). Returns 1 (and pins
 * nothing) when the files do not share their column names: such a source
 * is read as DuckDB reads it, by one task. */
static int pin_dialects(binder *bd, lnode *n, schema *whole)
{
	int *fd = xcalloc(n->nfiles + 1, sizeof(int));
	dialect *ds = NULL;
	size_t nd = 0;
	schema first = { NULL, 0 };
	bool same_types = true;
	int rc = 0;

	for (size_t f = 0; rc == 0 && f < n->nfiles; f++) {
		dialect d = { NULL, 0 };
		schema cols = { NULL, 0 };
		size_t k;
		if (sniff_file(bd, n, f, &d, &cols)) {
			rc = -1;
		} else if (f == 0) {
			first = cols;
			cols = (schema){ NULL, 0 };
		} else if (!same_names(&first, &cols)) {
			rc = 1;
		} else {
			same_types = same_types && same_schema_types(&first, &cols);
		}
		schema_release(&cols);
		for (k = 0; k < nd && !same_dialect(&ds[k], &d); k++)
			;
		if (k == nd) {
			ds = xrealloc(ds, (nd + 1) * sizeof(dialect));
			ds[nd++] = d;
		} else {
			opts_release(d.opts, d.nopts);
		}
		fd[f] = (int)k;
	}
	if (rc == 0 && !same_types) {
		/* the files disagree on types: DuckDB's unification decides */
		sb q = SB_INIT;
		schema u = { NULL, 0 };
		sb_add(&q, "(");
		source_read_sql(&q, n, 0, n->nfiles, 0);
		sb_add(&q, ")");
		rc = describe(bd, sb_str(&q), &u) ? -1 : same_names(&first, &u) ? 0 : 1;
		schema_release(&first);
		first = u;
		sb_release(&q);
	}
	if (rc == 0) {
		n->dialects = ds;
		n->ndialects = nd;
		n->file_dialect = fd;
		for (size_t i = 0; i < first.n; i++) {
			schema_add(&n->types, first.cols[i].name, first.cols[i].type);
			schema_add(whole, first.cols[i].name, first.cols[i].type);
		}
	} else {
		for (size_t k = 0; k < nd; k++)
			opts_release(ds[k].opts, ds[k].nopts);
		free(ds);
		free(fd);
	}
	schema_release(&first);
	return rc;
}

/* Whether a CSV/JSON source's parsing may be fixed for its parts: not
 * with columns= (fixed already), nor when extra columns (filename, hive
 * keys) or union_by_name mix in: such sources are read by one task. */
static bool pinnable(const lnode *n)
{
	return !n->columns.n && !lnode_opt_bool(n, "filename") && !lnode_opt_bool(n, "hive_partitioning") &&
	       !lnode_opt_bool(n, "union_by_name");
}

/* Parquet: the schema from the footers (LIMIT 0 reads no rows). CSV:
 * each file sniffed once here (pin_dialects), its dialect and the whole
 * source's types fixed for the tasks, which then read their files without
 * sniffing them again (DuckDB's sniffing of a file costs about as much as
 * parsing 100,000 of its rows). JSON: the whole source's types, from
 * DESCRIBE, fixed as columns=. Either way a task reading some of the
 * files parses them as one DuckDB reading all of them would. */
/* What binds a Parquet source. DuckDB takes a list's columns from its
 * first file (unless the files' names or schemas are merged); binding
 * that one spares a look-up of every other (TPC-H's 16-file tables:
 * 1.2 → 0.7 ms each, 72 of them over the 22 queries). */
static void parquet_bind_sql(sb *q, const lnode *n)
{
	bool first = !lnode_opt_bool(n, "union_by_name") && !lnode_opt_bool(n, "hive_partitioning");

	source_read_sql(q, n, 0, first && n->nfiles ? 1 : n->nfiles, 0);
}

static int bind_source(binder *bd, lnode *n)
{
	sb q = SB_INIT;
	schema sc = { NULL, 0 };
	int rc = 0;

	if (n->format == FMT_PARQUET) {
		parquet_bind_sql(&q, n);
		if (define(bd, n, sb_str(&q)))
			rc = fail_node(bd, n, POND_EINPUT, bd->err->msg);
		sb_release(&q);
		return rc;
	}
	if (n->format == FMT_CSV && pinnable(n)) {
		int r = pin_dialects(bd, n, &sc);
		if (r < 0) {
			rc = fail_node(bd, n, POND_EINPUT, bd->err->msg);
			goto out;
		}
	}
	if (!sc.n) {
		sb_add(&q, "(");
		source_read_sql(&q, n, 0, n->nfiles, 0);
		sb_add(&q, ")");
		if (describe(bd, sb_str(&q), &sc)) {
			rc = fail_node(bd, n, POND_EINPUT, bd->err->msg);
			goto out;
		}
		if (n->format == FMT_JSON && pinnable(n))
			for (size_t i = 0; i < sc.n; i++)
				schema_add(&n->columns, sc.cols[i].name, sc.cols[i].type);
	}
	if (define_from(bd, n, &sc)) {
		/* a type DuckDB printed but cannot parse back: read again */
		sb_reset(&q);
		source_read_sql(&q, n, 0, n->nfiles, 0);
		if (define(bd, n, sb_str(&q)))
			rc = fail_node(bd, n, POND_EINPUT, bd->err->msg);
	} else {
		schema_release(&n->schema);
		n->schema = sc;
		sc = (schema){ NULL, 0 };
	}
out:
	schema_release(&sc);
	sb_release(&q);
	return rc;
}

/* The query of n over its inputs' tables ({partition} as 0). */
static char *bound_query(const binder *bd, const lnode *n, const char *query)
{
	char **names = xcalloc(n->ninputs + 1, sizeof(char *));
	char *q;

	for (size_t k = 0; k < n->ninputs; k++)
		names[k] = table_of(bd, n->inputs[k]);
	q = query_substitute(query, names, n->ninputs, 0);
	for (size_t k = 0; k < n->ninputs; k++)
		free(names[k]);
	free(names);
	return q;
}

static bool is_integer_type(const char *t)
{
	static const char *const ints[] = { "TINYINT",   "SMALLINT", "INTEGER", "BIGINT",   "HUGEINT", "UTINYINT",
					    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", NULL };
	for (int i = 0; ints[i]; i++)
		if (!strcmp(t, ints[i]))
			return true;
	return false;
}

static bool is_numeric_type(const char *t)
{
	return is_integer_type(t) || !strncmp(t, "DECIMAL", 7) || !strcmp(t, "DOUBLE") || !strcmp(t, "FLOAT");
}

/* hash_by / range_by columns must exist; by= must give a number. */
static int bind_keys(binder *bd, lnode *n)
{
	char *in = table_of(bd, n->inputs[0]);
	char *q;
	schema s = { NULL, 0 };
	int rc = 0;

	if (n->mode == RP_HASH || n->mode == RP_RANGE) {
		q = xasprintf("SELECT %s FROM %s", n->key, in);
		if (describe(bd, q, &s)) {
			rc = fail_node(bd, n, POND_EUSAGE, bd->err->msg);
		} else {
			n->key_types = xcalloc(n->nkeys + 1, sizeof(char *));
			for (size_t k = 0; k < n->nkeys && k < s.n; k++)
				n->key_types[k] = xstrdup(s.cols[k].type);
		}
	} else if (n->mode == RP_EXPR) {
		q = xasprintf("SELECT %s AS __pond_b FROM %s", n->key, in);
		if (describe(bd, q, &s)) {
			rc = fail_node(bd, n, POND_EUSAGE, bd->err->msg);
		} else if (s.n != 1 || !is_numeric_type(s.cols[0].type)) {
			char *m = xasprintf("by='%s' must give an integer partition index, not a value of type %s",
					    n->key_desc, s.n ? s.cols[0].type : "?");
			rc = fail_node(bd, n, POND_EUSAGE, m);
			free(m);
		} else {
			n->expr_type = xstrdup(s.cols[0].type);
		}
	} else {
		q = NULL;
	}
	free(q);
	free(in);
	schema_release(&s);
	return rc;
}

/* n has its input's columns: it shares the input's table. */
static void alias_input(binder *bd, lnode *n)
{
	const schema *in = &n->inputs[0]->schema;

	bd->table[n->id] = bd->table[n->inputs[0]->id];
	schema_release(&n->schema);
	for (size_t i = 0; i < in->n; i++)
		schema_add(&n->schema, in->cols[i].name, in->cols[i].type);
}

/* A Python function's output: the columns it was given (n->columns),
 * typed as DuckDB reads the types. */
static int bind_python(binder *bd, lnode *n)
{
	sb q = SB_INIT;
	int rc = 0;

	sb_add(&q, "SELECT ");
	for (size_t i = 0; i < n->columns.n; i++) {
		sb_addf(&q, "%sCAST(NULL AS %s) AS ", i ? ", " : "", n->columns.cols[i].type);
		sb_sql_ident(&q, n->columns.cols[i].name);
	}
	if (define(bd, n, sb_str(&q)))
		rc = fail_node(bd, n, POND_EUSAGE, bd->err->msg);
	sb_release(&q);
	return rc;
}

static int bind_node(binder *bd, lnode *n)
{
	char *q;
	int rc = 0;

	bd->table[n->id] = n->id;
	switch (n->kind) {
	case L_SOURCE:
		return bind_source(bd, n);
	case L_QUERY:
	case L_PARTIAL:
	case L_SQL:
		/* sql(): the datasets it names become inputs ({k}) */
		if (n->kind == L_SQL && sql_script_names(bd->db, n))
			return fail_node(bd, n, POND_EUSAGE,
					 "the query could not be read to find the datasets it names");
		q = bound_query(bd, n, n->query);
		if (n->keeps_schema && n->ninputs == 1) {
			/* a filter or sort: bind it, no new table (long chains
			 * of them are common, and cheap to check this way) */
			if (plandb_prepare(bd->db, q, bd->err))
				rc = fail_node(bd, n, POND_EUSAGE, bd->err->msg);
			else
				alias_input(bd, n);
		} else if (define(bd, n, q)) {
			rc = fail_node(bd, n, POND_EUSAGE, bd->err->msg);
		}
		free(q);
		return rc;
	case L_PYTHON:
		return bind_python(bd, n);
	case L_REPARTITION:
	case L_LIMIT:
		alias_input(bd, n);
		if (n->kind == L_REPARTITION)
			rc = bind_keys(bd, n);
		return rc;
	}
	return 0;
}

/* A combined query (combine.c) must give exactly the columns and types of
 * the query it stands for; otherwise the rewrite is dropped. */
static void check_combine(binder *bd, lnode *n)
{
	char *t = table_of(bd, n);
	char *q = query_substitute(n->combine, &t, 1, 0);
	char *wrapped = xasprintf("(%s)", q);
	schema s = { NULL, 0 };
	pond_err quiet = { 0 };
	pond_err *keep = bd->err;

	bd->err = &quiet;
	if (describe(bd, wrapped, &s) || !schema_equal(&s, &n->schema)) {
		free(n->combine);
		n->combine = NULL;
	}
	bd->err = keep;
	schema_release(&s);
	free(wrapped);
	free(q);
	free(t);
}

static int bind_action(binder *bd, const action *a)
{
	char *in, *q;
	schema s = { NULL, 0 };
	int rc = 0;

	if (!a->partition_by)
		return 0;
	in = table_of(bd, a->input);
	q = xasprintf("SELECT %s FROM %s", a->partition_by, in);
	if (describe(bd, q, &s))
		rc = fail_action(bd, a, a->kind == A_WRITE_CSV ? "write_csv" : "write_parquet", bd->err->msg);
	schema_release(&s);
	free(q);
	free(in);
	return rc;
}

/* The type DuckDB would compare values of types a and b in (a join's
 * equality casts both sides to it), or NULL if they do not mix. */
static char *common_type(binder *bd, const char *a, const char *b)
{
	char *q = xasprintf("SELECT typeof([NULL::%s, NULL::%s][1])", a, b);
	pond_err quiet = { 0 };
	pdb_result r;
	char *t = NULL;

	if (plandb_query(bd->db, q, &r, &quiet) == PDB_OK) {
		if (pdb_cell(&r, 0, 0))
			t = xstrdup(pdb_cell(&r, 0, 0));
		pdb_result_release(&r);
	}
	free(q);
	return t;
}

static const char *hash_type(const lnode *rp, size_t k)
{
	return rp->key_casts && rp->key_casts[k] ? rp->key_casts[k] : rp->key_types[k];
}

/* Inputs of one query that are hash shuffles into the same number of
 * partitions with as many keys are co-partitioned (a join): their keys
 * are hashed in a common type, so 1 (INTEGER) meets 1.0 (DOUBLE). A
 * shuffle feeding several such queries takes the type all of them agree
 * on: repeat until nothing changes. */
static bool is_copartition_member(const lnode *in, const lnode *first)
{
	return in->kind == L_REPARTITION && in->mode == RP_HASH && in->nparts > 1 && in->key_types &&
	       in->nparts == first->nparts && in->nkeys == first->nkeys;
}

static void copartition(binder *bd)
{
	bool changed = true;

	for (int round = 0; changed && round < 8; round++) {
		changed = false;
		for (size_t i = 0; i < bd->lp->nnodes; i++) {
			const lnode *n = bd->lp->nodes[i];
			const lnode *first = NULL;
			if (n->kind != L_PARTIAL || n->ninputs < 2)
				continue;
			for (size_t k = 0; k < n->ninputs && !first; k++)
				if (n->inputs[k]->kind == L_REPARTITION && n->inputs[k]->mode == RP_HASH &&
				    n->inputs[k]->nparts > 1 && n->inputs[k]->key_types)
					first = n->inputs[k];
			for (size_t j = 0; first && j < first->nkeys; j++) {
				char *common = xstrdup(hash_type(first, j));
				for (size_t k = 0; common && k < n->ninputs; k++) {
					char *c;
					if (!is_copartition_member(n->inputs[k], first))
						continue;
					c = common_type(bd, common, hash_type(n->inputs[k], j));
					free(common);
					common = c;
				}
				for (size_t k = 0; common && k < n->ninputs; k++) {
					lnode *rp = n->inputs[k];
					if (!is_copartition_member(rp, first) || !strcmp(hash_type(rp, j), common))
						continue;
					if (!rp->key_casts)
						rp->key_casts = xcalloc(rp->nkeys + 1, sizeof(char *));
					free(rp->key_casts[j]);
					rp->key_casts[j] = xstrdup(common);
					changed = true;
				}
				free(common);
			}
		}
	}
}

#define MAX_BATCH 64

/* Node i+n continues a chain from node i: a filter or sort of the one
 * before (scripts of thousands of filter lines exist). */
static bool in_chain(const lplan *lp, size_t i, size_t n)
{
	const lnode *x = lp->nodes[i + n];

	return x->kind == L_PARTIAL && x->keeps_schema && x->ninputs == 1 &&
	       (!n || x->inputs[0] == lp->nodes[i + n - 1]);
}

/* Node i+n continues a run of Parquet sources. */
static bool parquet_source(const lplan *lp, size_t i, size_t n)
{
	return lp->nodes[i + n]->kind == L_SOURCE && lp->nodes[i + n]->format == FMT_PARQUET;
}

/* How many nodes from i on are in a run that `in_run` tells (at most
 * MAX_BATCH, bound in one round trip). */
static size_t run_length(const lplan *lp, size_t i, bool (*in_run)(const lplan *, size_t, size_t))
{
	size_t n = 0;

	while (i + n < lp->nnodes && n < MAX_BATCH && in_run(lp, i, n))
		n++;
	return n;
}

/* A chain of filters/sorts bound as one query of nested CTEs (as a task
 * would run it): one round trip instead of one per step. If DuckDB
 * rejects it, the steps are bound one by one to find the one at fault. */
static int bind_chain(binder *bd, size_t i, size_t n)
{
	lplan *lp = bd->lp;
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	int rc = 0;

	for (size_t k = 0; k < n; k++) {
		const lnode *x = lp->nodes[i + k];
		char *in = k ? xasprintf("__pond_b%zu", k - 1) : table_of(bd, x->inputs[0]);
		char *body = query_substitute(x->query, &in, 1, 0);
		sb_addf(&q, "%s__pond_b%zu AS (%s)", k ? ",\n" : "WITH ", k, body);
		free(body);
		free(in);
	}
	sb_addf(&q, "\nSELECT * FROM __pond_b%zu", n - 1);
	if (plandb_prepare(bd->db, sb_str(&q), &quiet) == PDB_OK) {
		for (size_t k = 0; k < n; k++) {
			bd->table[lp->nodes[i + k]->id] = lp->nodes[i + k]->id;
			alias_input(bd, lp->nodes[i + k]);
		}
	} else {
		for (size_t k = 0; !rc && k < n; k++)
			rc = bind_node(bd, lp->nodes[i + k]);
	}
	sb_release(&q);
	return rc;
}

/* Parquet sources i … i+n-1 bound in one round trip: each one's empty
 * table, then every column of them (a query's tables are bound before
 * anything else: TPC-H Q8's 8 in one request, not 8). If DuckDB rejects
 * one, the tables made are dropped and each is bound alone, so that the
 * error names its source. */
static int bind_sources(binder *bd, size_t i, size_t n)
{
	lplan *lp = bd->lp;
	sb q = SB_INIT;
	pond_err quiet = { 0 };
	pdb_result r;
	int rc = 0;

	for (size_t k = 0; k < n; k++) {
		sb_addf(&q, "CREATE TEMP TABLE __pond_n%d AS SELECT * FROM (", lp->nodes[i + k]->id);
		parquet_bind_sql(&q, lp->nodes[i + k]);
		sb_add(&q, ") LIMIT 0; ");
	}
	/* each table's pragma_table_info, not duckdb_columns(): the first
	 * scan of that catalog view took 6 of a fresh DuckDB's ms, these
	 * under 1 (TPC-H Q22's plan) */
	for (size_t k = 0; k < n; k++)
		sb_addf(&q,
			"%sSELECT '__pond_n%d' AS t, %zu AS k, cid, name, type FROM pragma_table_info('__pond_n%d')",
			k ? " UNION ALL " : "", lp->nodes[i + k]->id, k, lp->nodes[i + k]->id);
	sb_add(&q, " ORDER BY k, cid");
	if (plandb_query(bd->db, sb_str(&q), &r, &quiet) == PDB_OK) {
		for (size_t k = 0; k < n; k++) {
			lnode *x = lp->nodes[i + k];
			char name[32];
			snprintf(name, sizeof(name), "__pond_n%d", x->id);
			schema_release(&x->schema);
			for (size_t row = 0; row < r.nrows; row++)
				if (!strcmp(pdb_cell(&r, row, 0), name))
					schema_add(&x->schema, pdb_cell(&r, row, 3), pdb_cell(&r, row, 4));
			bd->table[x->id] = x->id;
		}
		pdb_result_release(&r);
	} else {
		for (size_t k = 0; k < n; k++) {
			char *drop = xasprintf("DROP TABLE IF EXISTS __pond_n%d", lp->nodes[i + k]->id);
			plandb_query(bd->db, drop, NULL, &quiet);
			free(drop);
		}
		for (size_t k = 0; !rc && k < n; k++)
			rc = bind_node(bd, lp->nodes[i + k]);
	}
	sb_release(&q);
	return rc;
}

static int bind_all(binder *bd, size_t first)
{
	lplan *lp = bd->lp;

	for (size_t i = 0; i < first; i++)
		bd->table[i] = lp->nodes[i]->table; /* bound by an earlier call */
	for (size_t i = first; i < lp->nnodes;) {
		size_t n = run_length(lp, i, in_chain), m = run_length(lp, i, parquet_source);
		if (m > 1 ? bind_sources(bd, i, m) : n > 1 ? bind_chain(bd, i, n) : bind_node(bd, lp->nodes[i]))
			return -1;
		i += m > 1 ? m : n > 1 ? n : 1;
	}
	for (size_t i = 0; i < lp->nactions; i++)
		if (bind_action(bd, &lp->actions[i]))
			return -1;
	for (size_t i = first; i < lp->nnodes; i++)
		lp->nodes[i]->table = bd->table[i];
	combine_plan(lp, bd->db);
	for (size_t i = 0; i < lp->nnodes; i++)
		if (lp->nodes[i]->combine)
			check_combine(bd, lp->nodes[i]);
	copartition(bd);
	return 0;
}

int plan_bind(lplan *lp, plandb *db, const char *script, pond_err *err)
{
	return plan_bind_from(lp, db, 0, script, err);
}

int plan_bind_from(lplan *lp, plandb *db, size_t first, const char *script, pond_err *err)
{
	binder bd = { lp, db, err, script, xcalloc(lp->nnodes + 1, sizeof(int)) };
	int rc = bind_all(&bd, first);

	free(bd.table);
	return rc;
}
