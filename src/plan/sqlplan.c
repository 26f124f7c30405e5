/* sqlplan.c — pond sql's planner, the driver (see sqlplan.h, docs/SQL.md).
 * Called by the session. DuckDB parses and binds; this file checks the
 * query with DuckDB, turns its tables into sources (sqltables.c), asks
 * sqlshape.c for the distributed stages and checks that they bind and
 * give DuckDB's columns, or else plans the query as one task: a plan that
 * is not proven to give the query's own columns is never run. */
#include "plan/sqlplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/aggregates.h"
#include "plan/bind.h"
#include "plan/sqlplan_int.h"
#include "util/fsutil.h"
#include "util/human.h"

#define WHERE "sql"

/* ---- helpers the planner's files share ------------------------------------ */

lnode *sql_node(sqlp *p, lnode_kind kind, const char *role)
{
	char *func;
	lnode *n;

	if (!p->site)
		return lplan_add(p->lp, kind, role, WHERE);
	func = xasprintf("%s (%s)", p->site->func, role); /* "sql (scan)" */
	n = lplan_add(p->lp, kind, func, p->site->where);
	n->line = p->site->line;
	n->col = p->site->col;
	free(func);
	return n;
}

lnode *sql_partial(sqlp *p, const char *role, const char *query, lnode *in)
{
	lnode *n = sql_node(p, L_PARTIAL, role);

	n->query = xstrdup(query);
	n->inputs = xcalloc(1, sizeof(lnode *));
	n->inputs[0] = in;
	n->ninputs = 1;
	n->nparts = in->nparts;
	return n;
}

lnode *sql_partial_over(sqlp *p, const char *role, const char *query, lnode **in, size_t nin)
{
	lnode *n = sql_node(p, L_PARTIAL, role);

	n->query = xstrdup(query);
	n->inputs = xcalloc(nin + 1, sizeof(lnode *));
	for (size_t i = 0; i < nin; i++) {
		n->inputs[i] = in[i];
		if (in[i]->nparts > n->nparts)
			n->nparts = in[i]->nparts;
	}
	n->ninputs = nin;
	return n;
}

lnode *sql_gather(sqlp *p, const char *role, const char *query, lnode **in, size_t nin)
{
	lnode *n = sql_node(p, L_SQL, role);

	n->query = xstrdup(query);
	n->inputs = xcalloc(nin + 1, sizeof(lnode *));
	for (size_t i = 0; i < nin; i++)
		n->inputs[i] = in[i];
	n->ninputs = nin;
	return n;
}

lnode *sql_not(sqlp *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why)
		return NULL;
	va_start(ap, fmt);
	if (vasprintf(&p->why, fmt, ap) < 0)
		abort();
	va_end(ap);
	return NULL;
}

void sql_note(sqlp *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	sb_addf(&p->notes, "  %s\n", s);
	free(s);
}

char *sql_text(sqlp *p, const sq_query *q)
{
	pond_err quiet = { 0 };
	char *s = NULL;

	if (sqltree_sql(p->db, q, &s, &quiet)) {
		sql_not(p, "DuckDB could not print a stage's query back (%s)", quiet.msg);
		return NULL;
	}
	return s;
}

/* ---- checks with DuckDB ---------------------------------------------------- */

/* pond's stage queries name their inputs {0}, {1}: a query whose own text
 * has such a sequence would be changed by the substitution. */
static int check_placeholders(sqlp *p)
{
	size_t len;
	const char *s = query_placeholder(p->rq->query, &len);

	if (s)
		return pond_fail(p->err, POND_EUSAGE,
				 "the query contains '%.*s', which pond uses to name its inputs: "
				 "write it as '{' || '%.*s' if it is in a string",
				 (int)len, s, (int)len - 1, s + 1);
	return 0;
}

/* Every source gets a view under the name the query uses for it, so that
 * DuckDB binds the user's query, as written, against what pond reads. */
static int name_views(sqlp *p, const sq_query *orig)
{
	sb q = SB_INIT; /* all of them in one round trip */
	int rc = 0;

	(void)orig;
	for (size_t i = 0; i < p->ntabs; i++) {
		const sql_tab *t = &p->tabs[i];
		if (strncmp(t->key, "name:", 5))
			continue; /* a read_*() call: DuckDB reads it itself */
		sb_add(&q, q.len ? "; CREATE OR REPLACE TEMP VIEW " : "CREATE OR REPLACE TEMP VIEW ");
		sb_sql_ident(&q, t->key + 5);
		sb_addf(&q, " AS SELECT * FROM __pond_n%d", t->src->id);
	}
	if (q.len)
		rc = plandb_query(p->db, sb_str(&q), NULL, p->err);
	sb_release(&q);
	return rc ? -1 : 0;
}

/* DuckDB binds the query: its message if it rejects it, else the result's
 * columns. */
static int check_query(sqlp *p)
{
	pdb_result r;
	char *sql;
	pdb_error e;

	/* DESCRIBE binds the query; only a query DuckDB rejects is prepared
	 * again alone, so that its message quotes the query, not pond's
	 * DESCRIBE around it (one round trip fewer for every other, ~2 ms) */
	sql = xasprintf("DESCRIBE (%s)", p->rq->query);
	e = plandb_query(p->db, sql, &r, p->err);
	free(sql);
	if (e && plandb_prepare(p->db, p->rq->query, p->err)) {
		p->err->code = POND_EUSAGE;
		return -1;
	}
	if (e)
		return -1;
	for (size_t i = 0; i < r.nrows; i++)
		schema_add(&p->out, pdb_cell(&r, i, 0), pdb_cell(&r, i, 1));
	pdb_result_release(&r);
	return 0;
}

const char *sql_placeholder_column(const schema *s)
{
	size_t len;

	for (size_t i = 0; s && i < s->n; i++)
		if (query_placeholder(s->cols[i].name, &len))
			return s->cols[i].name;
	return NULL;
}

/* A column named like {0} or {partition} would be renamed by the
 * substitution that names each stage's inputs in its SQL, pond's renames
 * to the result's names included. */
static int check_column_names(sqlp *p)
{
	const char *bad;

	for (size_t i = 0; i < p->ntabs; i++)
		if (p->tabs[i].src && (bad = sql_placeholder_column(&p->tabs[i].src->schema)))
			return pond_fail(p->err, POND_EINPUT,
					 "table %s has a column named \"%s\": pond's stage SQL names its inputs "
					 "{0}, {1}, {partition}, so it cannot carry that name; rename the column",
					 p->tabs[i].label, bad);
	if ((bad = sql_placeholder_column(&p->out)))
		return pond_fail(p->err, POND_EUSAGE,
				 "the result has a column named \"%s\": pond's stage SQL names its inputs "
				 "{0}, {1}, {partition}, so it cannot carry that name; give it another alias",
				 bad);
	return 0;
}

/* DuckDB's aggregate functions: what the shapes must merge or shuffle. */
int sql_load_aggregates(sqlp *p)
{
	const char *const *known = aggregates_known();
	pdb_result r;

	if (known) {
		while (known[p->naggs])
			p->naggs++;
		p->aggs = xcalloc(p->naggs + 1, sizeof(char *));
		for (size_t i = 0; i < p->naggs; i++)
			p->aggs[i] = xstrdup(known[i]);
		return 0;
	}
	if (plandb_query(p->db,
			 "SELECT DISTINCT function_name FROM duckdb_functions() "
			 "WHERE function_type = 'aggregate' ORDER BY 1",
			 &r, p->err))
		return -1;
	p->aggs = xcalloc(r.nrows + 1, sizeof(char *));
	for (size_t i = 0; i < r.nrows; i++)
		p->aggs[p->naggs++] = xstrdup(pdb_cell(&r, i, 0) ? pdb_cell(&r, i, 0) : "");
	pdb_result_release(&r);
	return 0;
}

/* ---- the plan -------------------------------------------------------------- */

/* The query as one task over whole sources: correct for any shape. */
static lnode *one_task(sqlp *p, const sq_query *q)
{
	lnode **in = xcalloc(p->ntabs + 1, sizeof(lnode *));
	sq_query *show = NULL;
	char *text;
	lnode *n = NULL;
	sb r = SB_INIT;

	if (q->kind == SQ_SELECT && sq_table_is(q->from, "SHOW_REF")) {
		/* DESCRIBE and SUMMARIZE are written back as such, which the
		 * task's WITH cannot hold: SELECT * FROM (SUMMARIZE …) can */
		show = sq_select_new();
		sq_add_select(show, sq_star());
		sq_table_free(show->from);
		show->from = sq_subquery_table(sq_query_dup(q), "__pond_show");
		q = show;
	}
	text = sql_text(p, q);

	for (size_t i = 0; i < p->ntabs; i++)
		in[i] = p->tabs[i].src;
	if (text) {
		/* its output is an intermediate: the types back as DuckDB's */
		n = sql_gather(p, "query", text, in, p->ntabs);
		sb_add(&r, "SELECT ");
		sql_rename_list(&r, &p->out);
		sb_add(&r, " FROM \"{0}\"");
		n = sql_partial(p, "result", sb_str(&r), n);
	}
	sb_release(&r);
	free(in);
	free(text);
	sq_query_free(show);
	return n;
}

void sql_forget(sqlp *p)
{
	for (size_t i = 0; i < p->nmemo; i++)
		free(p->memo[i].key);
	free(p->memo);
	p->memo = NULL;
	p->nmemo = 0;
	free(p->bounds);
	p->bounds = NULL;
	p->nbounds = 0;
	for (size_t i = 0; i < p->ndisjoint; i++)
		free(p->disjoint[i].col);
	free(p->disjoint);
	p->disjoint = NULL;
	p->ndisjoint = 0;
	for (size_t i = 0; i < p->nfooter_rows; i++)
		free(p->footer_rows[i].rows);
	free(p->footer_rows);
	p->footer_rows = NULL;
	p->nfooter_rows = 0;
	for (size_t i = 0; i < p->nranges; i++) {
		free(p->ranges[i].col);
		free(p->ranges[i].r);
	}
	free(p->ranges);
	p->ranges = NULL;
	p->nranges = 0;
}

void sql_undo(sqlp *p, size_t mark)
{
	sql_forget(p); /* the nodes it names are gone */
	for (size_t i = mark; i < p->lp->nnodes; i++) {
		char *q = xasprintf("DROP TABLE IF EXISTS __pond_n%zu", i);
		pond_err quiet = { 0 };
		plandb_query(p->db, q, NULL, &quiet);
		free(q);
	}
	lplan_truncate(p->lp, mark);
}

/* The distributed stages if they bind and give the query's columns. */
/* Whether text holds word as a word of its own, in any case: "BIT" in
 * "BIT[]", not in "BITSTRING_X"; "PIVOT" in "pivot t ON …". */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *c = text; *c; c++)
		if (!strncasecmp(c, word, n) && (c == text || !(isalnum((unsigned char)c[-1]) || c[-1] == '_')) &&
		    !(isalnum((unsigned char)c[n]) || c[n] == '_'))
			return true;
	return false;
}

/* A column type whose values Parquet does not keep as DuckDB has them,
 * or NULL. What DuckDB writes instead: an INTERVAL to the millisecond
 * (DuckDB's has microseconds), an ENUM, a BIGNUM and a BIT as VARCHAR
 * (sorted and compared as text: BIT '1' > '10', ENUM('web', 'phone')
 * puts 'web' first), a HUGEINT inside a nested type as a DOUBLE (a
 * top-level one is kept exact: engine.c's exact_types). */
static const char *lossy_type(const schema *s)
{
	static const char *const words[] = { "INTERVAL", "ENUM", "BIGNUM", "VARINT", "BIT" };

	for (size_t c = 0; c < s->n; c++) {
		const char *t = s->cols[c].type;
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
			if (has_word(t, words[w]))
				return words[w];
		if ((has_word(t, "HUGEINT") || has_word(t, "UHUGEINT")) && strcmp(t, "HUGEINT") &&
		    strcmp(t, "UHUGEINT"))
			return "nested HUGEINT";
	}
	return NULL;
}

/* Whether the rows of in cross from one stage's tasks to another's on
 * their way to n, as Parquet: a shuffle, a gather, a broadcast. A source
 * is read in place. */
static bool ships(const sqlp *p, const lnode *n, const lnode *in)
{
	if ((size_t)in->id < p->nsources)
		return false;
	if (n->kind == L_REPARTITION && n->mode != RP_FILES && n->mode != RP_ALIGNED)
		return true;
	return in->nparts != n->nparts;
}

/* Why the stages would change a value between tasks, or NULL: pond's
 * stages ship rows as Parquet, so grouping, sorting or merging on an
 * INTERVAL after a shuffle saw it cut to the millisecond (a GROUP BY
 * of intervals a few microseconds apart gave 6 groups for DuckDB's 21),
 * and a max() of BIGNUMs merged them as text. */
static const char *ships_lossy(const sqlp *p)
{
	for (size_t i = p->nsources; i < p->lp->nnodes; i++) {
		const lnode *n = p->lp->nodes[i];
		for (size_t k = 0; k < n->ninputs; k++) {
			const char *t = ships(p, n, n->inputs[k]) ? lossy_type(&n->inputs[k]->schema) : NULL;
			if (t)
				return t;
		}
	}
	return NULL;
}

static lnode *distributed(sqlp *p, const sq_query *q)
{
	pond_err e = { 0 };
	lnode *n = sql_shape(p, q, &p->out);
	const char *lossy;

	if (!n) {
		sql_undo(p, p->nsources);
		return NULL;
	}
	if (plan_bind_from(p->lp, p->db, p->nsources, "pond sql", &e)) {
		char *nl = strchr(e.msg, '\n');
		if (nl)
			*nl = '\0';
		sql_not(p, "pond's stages did not bind (%s); this is a bug in pond", e.msg);
		sql_undo(p, p->nsources);
		return NULL;
	}
	if (!schema_equal(&n->schema, &p->out)) {
		sql_not(p, "pond's stages gave other columns than DuckDB's; this is a bug in pond");
		sql_undo(p, p->nsources);
		return NULL;
	}
	if ((lossy = ships_lossy(p))) {
		sql_not(p,
			"%s values would cross between tasks as Parquet, which does not keep them as DuckDB has them",
			lossy);
		sql_undo(p, p->nsources);
		return NULL;
	}
	return n;
}

/* -o DIR must not hold an input, lie inside a directory read for tables,
 * or be a mount point (pond publishes by renaming a directory there). */
static int check_output(sqlp *p)
{
	const char *dir = p->rq->output;
	char *out = fs_realpath(dir), *parent = fs_dirname(dir);
	struct stat st, up;
	int rc = 0;

	if (fs_exists(dir) && !fs_is_dir(dir))
		rc = pond_fail(p->err, POND_EUSAGE, "-o %s exists and is not a directory", dir);
	for (size_t i = 0; !rc && i < p->ntabs; i++) {
		const lnode *n = p->tabs[i].src;
		for (size_t f = 0; !rc && f < n->nfiles; f++) {
			char *real = fs_realpath(n->files[f]);
			if (fs_path_within(real, out))
				rc = pond_fail(p->err, POND_EUSAGE, "-o %s contains %s, an input of the query", dir,
					       n->files[f]);
			free(real);
		}
	}
	for (size_t i = 0; !rc && i < p->nbinds; i++)
		for (size_t k = 0; !rc && k < p->binds[i].npaths; k++) {
			char *real = fs_realpath(p->binds[i].paths[k]);
			if (fs_is_dir(real) && fs_path_within(out, real))
				rc = pond_fail(p->err, POND_EUSAGE,
					       "-o %s is inside %s, a directory of table %s: a later run would read "
					       "the output as input",
					       dir, p->binds[i].paths[k], p->binds[i].name);
			free(real);
		}
	if (!rc && stat(dir, &st) == 0 && stat(parent, &up) == 0 && (st.st_dev != up.st_dev || st.st_ino == up.st_ino))
		rc = pond_fail(p->err, POND_EUSAGE, "-o %s is a mount point: write to a directory inside it", dir);
	free(out);
	free(parent);
	return rc;
}

static void add_action(sqlp *p, lnode *n)
{
	const sql_request *rq = p->rq;
	action *a;

	if (!rq->output) {
		a = lplan_add_action(p->lp, A_PRINT, n, WHERE);
		a->n = rq->max_rows;
		return;
	}
	a = lplan_add_action(p->lp, rq->csv ? A_WRITE_CSV : A_WRITE_PARQUET, n, WHERE);
	a->dir = xstrdup(rq->output);
	a->copy_options =
		xstrdup(rq->csv ? "FORMAT csv, HEADER true, DELIMITER ','" : "FORMAT parquet, COMPRESSION 'zstd'");
}

static void note_tables(sqlp *p)
{
	static const char *const fmt[] = { "Parquet", "CSV", "JSON" };

	for (size_t i = 0; i < p->ntabs; i++) {
		const lnode *n = p->tabs[i].src;
		char size[32];
		int64_t total = 0;
		for (size_t f = 0; f < n->nfiles; f++)
			total += n->sizes[f] > 0 ? n->sizes[f] : 0;
		human_bytes(size, sizeof(size), total);
		sql_note(p, "table {%zu} = %s: %zu %s file%s, %s", i, p->tabs[i].label, n->nfiles, fmt[n->format],
			 n->nfiles == 1 ? "" : "s", size);
	}
}

/* The query did not parse into one SELECT: DuckDB's own message, with its
 * LINE context, when it has one; else what pond runs instead. */
static void not_a_query(sqlp *p)
{
	pond_err e = { 0 };
	const char *text = p->rq->query;

	if (!strncmp(p->err->msg, "give one query", 14))
		return;
	if (strstr(p->err->msg, "Cannot serialize")) {
		/* DuckDB runs it but cannot write its parse tree (a cast to
		 * ENUM('a')[]); its tables are not known, so no prepare */
		char why[2048];
		snprintf(why, sizeof(why), "%.2000s", p->err->msg);
		pond_fail(p->err, POND_EUSAGE,
			  "pond sql cannot plan this query: DuckDB does not give its parse tree (%s)", why);
		return;
	}
	if (plandb_prepare(p->db, text, &e) != PDB_OK) {
		/* DuckDB expands a PIVOT without IN (…) into several statements,
		 * the first finding the values: pond gets no parse of it */
		if (strstr(e.msg, "multiple statements") && has_word(text, "PIVOT"))
			pond_fail(p->err, POND_EUSAGE,
				  "a PIVOT must list its values for pond sql: PIVOT t ON col IN ('a', 'b', …) "
				  "USING …; DuckDB finds them with a query of its own, which pond cannot plan");
		else
			*p->err = e;
	} else if (strstr(p->err->msg, "Only SELECT statements")) {
		pond_fail(p->err, POND_EUSAGE,
			  "pond sql runs one query (SELECT, WITH, VALUES, FROM …, PIVOT, UNPIVOT, DESCRIBE, "
			  "SUMMARIZE); this statement is not one: its result goes to -o, tables come from "
			  "--tables, -t and paths");
	}
	p->err->code = POND_EUSAGE;
}

/* Tables, DuckDB's checks, then the stages or one task. */
static int plan_query(sqlp *p)
{
	sq_query *q = NULL;
	lnode *n;
	size_t mark;
	int rc = -1;

	if (sqltree_parse(p->db, p->rq->query, &q, p->err)) {
		not_a_query(p);
		return -1;
	}
	if (sql_bindings(p) || sql_tables(p, q))
		goto out;
	p->nsources = p->lp->nnodes;
	if (plan_bind(p->lp, p->db, "pond sql", p->err) || name_views(p, q) || check_query(p) ||
	    check_column_names(p) || sql_load_aggregates(p) || (p->rq->output && check_output(p)))
		goto out;
	sb_add(&p->notes, "pond sql: how the query is planned\n");
	note_tables(p);
	mark = p->notes.len;
	n = distributed(p, q);
	if (!n) {
		p->notes.len = mark;
		p->notes.buf[mark] = '\0';
		sql_note(p, "not distributed: %s; the query runs as one task over whole tables",
			 p->why ? p->why : "no reason known");
		n = one_task(p, q);
		if (!n || plan_bind_from(p->lp, p->db, p->nsources, "pond sql", p->err))
			goto out;
	}
	add_action(p, n);
	p->lp->notes = sb_detach(&p->notes);
	rc = 0;
out:
	sq_query_free(q);
	return rc;
}

int sql_plan(lplan *lp, const sql_request *rq, pond_err *err)
{
	sql_request trimmed = *rq;
	char *text = xstrdup(rq->query);
	size_t len = strlen(text);
	sqlp p = { .lp = lp, .rq = &trimmed, .err = err };
	int rc;

	/* a query file's final ';' would end pond's DESCRIBE (…) early */
	while (len && (strchr(" \t\r\n;", text[len - 1])))
		text[--len] = '\0';
	trimmed.query = text;
	if (check_placeholders(&p) || plandb_open(&p.db, err)) {
		free(text);
		return -1;
	}
	rc = plan_query(&p);
	free(text);
	plandb_close(p.db);
	for (size_t i = 0; i < p.nbinds; i++) {
		free(p.binds[i].name);
		free(p.binds[i].from);
		for (size_t k = 0; k < p.binds[i].npaths; k++)
			free(p.binds[i].paths[k]);
		free(p.binds[i].paths);
	}
	free(p.binds);
	for (size_t i = 0; i < p.ntabs; i++) {
		free(p.tabs[i].key);
		free(p.tabs[i].label);
	}
	free(p.tabs);
	schema_release(&p.out);
	for (size_t i = 0; i < p.naggs; i++)
		free(p.aggs[i]);
	free(p.aggs);
	sb_release(&p.notes);
	free(p.why);
	sql_forget(&p);
	return rc;
}
