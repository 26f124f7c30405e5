/* sqlscript.c — a pipeline script's sql() planned like pond sql
 * (docs/PIPELINES.md "sql"). Called by the binder (the names, before an
 * sql() step is bound) and by the session (the stages, once the whole
 * script is bound).
 *
 * An sql() step reads its inputs as {0}, {1}, … or as the script's
 * dataset names; a name becomes one more input, so that either way runs
 * the same. Its query is then planned by the shapes of pond sql over the
 * inputs (a source as a table of files, any other dataset as its
 * partitions); when that works, the step becomes a gather of the stages'
 * result (it keeps one partition, as sql() always had) and the work is
 * done by the stages. When it does not, the step runs as one task, as
 * before. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/bind.h"
#include "plan/sqlplan_int.h"

/* The query with {k} as the quoted names "{k}", as DuckDB's parser reads
 * them (a bare {0} would not parse); one already quoted (a query pond
 * printed) stays as it is. Caller frees. */
static char *parseable(const lnode *n)
{
	sb b = SB_INIT;

	for (const char *p = n->query; *p;) {
		size_t d = *p == '{' ? strspn(p + 1, "0123456789") : 0;
		bool quoted = p > n->query && p[-1] == '"' && p[d + 1] == '}' && p[d + 2] == '"';
		if (d && p[d + 1] == '}' && !quoted) {
			sb_addf(&b, "\"%.*s\"", (int)d + 2, p);
			p += d + 2;
			continue;
		}
		sb_addn(&b, p++, 1);
	}
	while (b.len && (b.buf[b.len - 1] == ';' || b.buf[b.len - 1] == ' ' || b.buf[b.len - 1] == '\n'))
		b.buf[--b.len] = '\0';
	return sb_detach(&b);
}

/* ---- names as inputs ---------------------------------------------------------- */

typedef struct {
	lnode *n;
	bool changed;
} naming;

static int scope_index(const lnode *n, const char *name)
{
	for (size_t i = 0; i < n->nscope; i++)
		if (!strcasecmp(n->scope_names[i], name))
			return (int)i;
	return -1;
}

/* A base table named as a dataset becomes that dataset's input "{k}". */
static void name_table(naming *g, sq_table *t, const sq_query *q);
static void name_query(naming *g, sq_query *q);

static bool name_subquery(sq_expr **slot, void *ctx)
{
	if ((*slot)->kind == SQ_SUBQUERY)
		name_query(ctx, (*slot)->subquery);
	return true;
}

static void name_query(naming *g, sq_query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nselect; i++)
		sq_visit(&q->select[i], name_subquery, g);
	sq_visit(&q->where, name_subquery, g);
	sq_visit(&q->having, name_subquery, g);
	for (size_t i = 0; i < q->nctes; i++)
		name_query(g, q->ctes[i].query);
	if (q->kind == SQ_SETOP) {
		name_query(g, q->left);
		name_query(g, q->right);
	}
	if (q->kind == SQ_SELECT)
		name_table(g, q->from, q);
}

static void name_table(naming *g, sq_table *t, const sq_query *q)
{
	lnode *n = g->n;
	int s;

	if (!t)
		return;
	if (t->kind == SQ_JOIN) {
		name_table(g, t->left, q);
		name_table(g, t->right, q);
	} else if (t->kind == SQ_SUBQUERY_REF) {
		name_query(g, t->subquery);
	} else if (t->kind == SQ_TABLE_OTHER) { /* PIVOT's source, DESCRIBE's query */
		name_table(g, t->source, q);
		name_query(g, t->subquery);
	} else if (t->kind == SQ_BASE && !t->qualified && (s = scope_index(n, t->name)) >= 0) {
		for (size_t i = 0; i < q->nctes; i++)
			if (!strcasecmp(q->ctes[i].name, t->name))
				return; /* the query's own CTE */
		n->inputs = xrealloc(n->inputs, (n->ninputs + 1) * sizeof(lnode *));
		n->inputs[n->ninputs] = n->scope_nodes[s];
		if (!*t->alias) {
			free(t->alias);
			t->alias = xstrdup(t->name);
		}
		free(t->name);
		t->name = xasprintf("{%zu}", n->ninputs++);
		g->changed = true;
	}
}

int sql_script_names(plandb *db, lnode *n)
{
	naming g = { n, false };
	char *text, *out = NULL;
	sq_query *q = NULL;
	pond_err quiet = { 0 };
	int rc = 0;

	if (!n->nscope)
		return 0;
	text = parseable(n);
	if (sqltree_parse(db, text, &q, &quiet) == 0) {
		/* the FROMs of the query (names inside expressions' subqueries
		 * are left to DuckDB, which does not know them) */
		name_query(&g, q);
		if (g.changed && sqltree_sql(db, q, &out, &quiet) == 0) {
			free(n->query);
			n->query = out;
		} else if (g.changed) {
			rc = -1;
		}
	}
	sq_query_free(q);
	free(text);
	return rc;
}

/* ---- the stages ------------------------------------------------------------------ */

static void release(sqlp *p)
{
	for (size_t i = 0; i < p->ntabs; i++) {
		free(p->tabs[i].key);
		free(p->tabs[i].label);
	}
	free(p->tabs);
	p->tabs = NULL;
	p->ntabs = 0;
	free(p->why);
	p->why = NULL;
	sql_forget(p);
}

/* The stages of sql() node n, or NULL (nothing left in the plan). */
static lnode *plan_one(sqlp *p, lnode *n)
{
	size_t mark = p->lp->nnodes;
	char *text;
	sq_query *q = NULL;
	pond_err quiet = { 0 };
	lnode *r = NULL;

	if (strstr(n->query, "{partition}"))
		return NULL;
	/* the step as written names no column that pond's stages would
	 * rename (see sql_placeholder_column): it runs as one task */
	for (size_t k = 0; k <= n->ninputs; k++) {
		const char *bad = sql_placeholder_column(k < n->ninputs ? &n->inputs[k]->schema : &n->schema);
		if (bad)
			return sql_not(p, "a column is named \"%s\", like the names of pond's inputs", bad);
	}
	text = parseable(n);
	if (sqltree_parse(p->db, text, &q, &quiet) == 0) {
		p->tabs = xcalloc(n->ninputs + 1, sizeof(sql_tab));
		for (size_t k = 0; k < n->ninputs; k++) {
			lnode *in = n->inputs[k];
			p->tabs[k] = (sql_tab){ .key = xasprintf("input:%zu", k),
						.label = xasprintf("{%zu}", k),
						.src = in->kind == L_SOURCE ? in : NULL,
						.node = in };
		}
		p->ntabs = n->ninputs;
		p->nsources = mark;
		r = sql_shape(p, q, &n->schema);
	}
	if (r && plan_bind_from(p->lp, p->db, mark, "sql()", &quiet)) {
		sql_not(p, "pond's stages did not bind; this is a bug in pond");
		r = NULL;
	} else if (r && !schema_equal(&r->schema, &n->schema)) {
		sql_not(p, "pond's stages gave other columns than the step's; this is a bug in pond");
		r = NULL;
	}
	if (!r)
		sql_undo(p, mark);
	sq_query_free(q);
	free(text);
	return r;
}

int sql_script_plan(lplan *lp, plandb *db, pond_err *err)
{
	sql_request rq = { .query = "", .broadcast_limit = 64LL << 20 };
	sqlp p = { .lp = lp, .db = db, .err = err, .rq = &rq };
	size_t n0 = lp->nnodes;
	bool changed = false;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n0; i++) {
		lnode *n = lp->nodes[i], *r;
		size_t mark = p.notes.len;
		if (n->kind != L_SQL || n->sql_planned)
			continue;
		n->sql_planned = true;
		if (!p.aggs && (rc = sql_load_aggregates(&p)))
			break;
		sb_addf(&p.notes, "%s: %s\n", n->where, n->func);
		p.site = n;
		r = plan_one(&p, n);
		p.site = NULL;
		if (r) {
			free(n->query);
			n->query = xstrdup("SELECT * FROM {0}");
			n->inputs = xrealloc(n->inputs, sizeof(lnode *));
			n->inputs[0] = r;
			n->ninputs = 1;
			sql_note(&p, "the result gathered into sql()'s one partition");
			changed = true;
		} else {
			p.notes.len = mark;
			p.notes.buf[mark] = '\0';
			sb_addf(&p.notes, "%s: %s\n", n->where, n->func);
			sql_note(&p, "not distributed: %s; one task", p.why ? p.why : "no shape known");
		}
		release(&p);
	}
	if (changed)
		lplan_renumber(lp);
	if (p.notes.len) {
		free(lp->notes);
		lp->notes = xasprintf("sql() steps: how each is planned\n%s", sb_str(&p.notes));
	}
	sb_release(&p.notes);
	for (size_t i = 0; i < p.naggs; i++)
		free(p.aggs[i]);
	free(p.aggs);
	return rc;
}
