/* sqltables.c — the tables of a pond sql query as read_* sources (see
 * sqlplan_int.h). A table is a path or glob in the query ('sales/x.parquet', a glob),
 * a read_parquet/read_csv/read_json call with constant arguments, or a
 * name bound by -t NAME=PATHS or --tables DIR. Each distinct table
 * becomes one L_SOURCE node, made exactly as a script's read_* would
 * (its files expanded, sorted, with their sizes), and its references in
 * the query the base table "{k}". */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/source.h"
#include "plan/sqlplan_int.h"
#include "util/fsutil.h"

/* ---- bindings: -t NAME=PATHS and --tables DIR ------------------------------ */

static void add_binding(sqlp *p, const char *name, size_t len, const char *from)
{
	sql_binding *b;

	p->binds = xgrow(p->binds, p->nbinds, sizeof(sql_binding));
	b = &p->binds[p->nbinds++];
	*b = (sql_binding){ .name = xasprintf("%.*s", (int)len, name), .from = xstrdup(from) };
	b->paths = xcalloc(1, sizeof(char *));
}

static void add_binding_path(sql_binding *b, const char *path, size_t len)
{
	b->paths = xrealloc(b->paths, (b->npaths + 2) * sizeof(char *));
	b->paths[b->npaths++] = xasprintf("%.*s", (int)len, path);
	b->paths[b->npaths] = NULL;
}

/* -t NAME=PATHS, PATHS separated by commas. */
static int parse_t(sqlp *p, const char *arg)
{
	const char *eq = strchr(arg, '=');
	sql_binding *b;

	if (!eq || eq == arg || !eq[1])
		return pond_fail(p->err, POND_EUSAGE, "-t takes NAME=PATHS, not '%s'", arg);
	add_binding(p, arg, (size_t)(eq - arg), "-t");
	b = &p->binds[p->nbinds - 1];
	for (const char *s = eq + 1; *s;) {
		size_t n = strcspn(s, ",");
		if (n)
			add_binding_path(b, s, n);
		s += n + (s[n] == ',');
	}
	return b->npaths ? 0 : pond_fail(p->err, POND_EUSAGE, "-t %s names no path", arg);
}

/* The format a file's name says, or -1. */
static int format_of(const char *path)
{
	for (int f = FMT_PARQUET; f <= FMT_JSON; f++)
		if (source_has_ext(path, (file_format)f))
			return f;
	return -1;
}

/* --tables DIR: every DIR/NAME.{parquet,csv,json} file and DIR/NAME/
 * directory is table NAME. */
static int scan_tables_dir(sqlp *p, const char *dir)
{
	char **names;
	size_t n;

	if (!fs_is_dir(dir))
		return pond_fail(p->err, POND_EUSAGE, "--tables %s: not a directory", dir);
	if (fs_list(dir, &names, &n, p->err))
		return pond_wrap(p->err, "--tables %s", dir);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		if (names[i][0] != '.' && names[i][0] != '_' && (fs_is_dir(path) || format_of(names[i]) >= 0)) {
			add_binding(p, names[i], fs_is_dir(path) ? strlen(names[i]) : strcspn(names[i], "."),
				    "--tables");
			add_binding_path(&p->binds[p->nbinds - 1], path, strlen(path));
		}
		free(path);
	}
	fs_free_list(names);
	return 0;
}

int sql_bindings(sqlp *p)
{
	const sql_request *rq = p->rq;

	/* --tables first: a -t of the same name, found later, wins */
	if (rq->tables_dir && scan_tables_dir(p, rq->tables_dir))
		return -1;
	for (size_t i = 0; i < rq->ntables; i++)
		if (parse_t(p, rq->tables[i]))
			return -1;
	return 0;
}

static const sql_binding *binding_of(const sqlp *p, const char *name)
{
	for (size_t i = p->nbinds; i-- > 0;)
		if (!strcasecmp(p->binds[i].name, name))
			return &p->binds[i];
	return NULL;
}

/* ---- sources --------------------------------------------------------------- */

static int find_tab(const sqlp *p, const char *key)
{
	for (size_t i = 0; i < p->ntabs; i++)
		if (!strcmp(p->tabs[i].key, key))
			return (int)i;
	return -1;
}

static lnode *new_source(sqlp *p, const char *key, const char *label, file_format fmt)
{
	lnode *n = sql_node(p, L_SOURCE, label);
	sql_tab *t;

	n->format = fmt;
	p->tabs = xgrow(p->tabs, p->ntabs, sizeof(sql_tab));
	t = &p->tabs[p->ntabs++];
	*t = (sql_tab){ .key = xstrdup(key), .label = xstrdup(label), .src = n };
	return n;
}

/* DuckDB finds hive partitions (k=v/ directories) by itself; where the
 * paths have none, saying so keeps a part's read from looking. */
static void hive_default(lnode *n)
{
	for (size_t i = 0; i < n->nfiles; i++) {
		char *dir = fs_dirname(n->files[i]);
		bool hive = strchr(dir, '=') != NULL;
		free(dir);
		if (hive)
			return;
	}
	if (!lnode_opt(n, "hive_partitioning"))
		lnode_set_opt(n, "hive_partitioning", OPT_BOOL, false, 0, NULL);
}

/* The format of a binding: its first path's extension, or for a directory
 * the first format it has files of. */
static int binding_format(const sql_binding *b)
{
	int f = format_of(b->paths[0]);

	for (int g = FMT_PARQUET; f < 0 && g <= FMT_JSON; g++) {
		lnode probe = { .format = (file_format)g };
		pond_err quiet = { 0 };
		if (fs_is_dir(b->paths[0]) && source_add_path(&probe, b->paths[0], &quiet) == 0)
			f = g;
		for (size_t i = 0; i < probe.nfiles; i++)
			free(probe.files[i]);
		free(probe.files);
		free(probe.sizes);
	}
	return f;
}

static int add_paths(sqlp *p, lnode *n, char *const *paths, size_t npaths, const char *what)
{
	for (size_t i = 0; i < npaths; i++)
		if (source_add_path(n, paths[i], p->err))
			return pond_wrap(p->err, "%s", what);
	source_sort_files(n);
	hive_default(n);
	return 0;
}

/* DuckDB's name for a path read as a table: the file's name up to its
 * first dot, or the whole path when it is a glob. */
static char *path_alias(const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

	if (strpbrk(name, "*?["))
		return xstrdup(name);
	return xasprintf("%.*s", (int)strcspn(base, "."), base);
}

/* A base table: a bound name, or a path DuckDB would read. Returns the
 * source's index, -2 for a table that is not one (left to DuckDB), -1 on
 * error. */
static int base_source(sqlp *p, const sq_table *t, char **alias)
{
	const sql_binding *b = binding_of(p, t->name);
	char *key = xasprintf("name:%s", t->name), *label;
	int k, f;
	lnode *n;

	for (char *c = key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	*alias = b ? xstrdup(t->name) : path_alias(t->name);
	if ((k = find_tab(p, key)) >= 0 || (!b && format_of(t->name) < 0)) {
		free(key);
		return k >= 0 ? k : -2;
	}
	f = b ? binding_format(b) : format_of(t->name);
	if (f < 0) {
		free(key);
		return b ? pond_fail(p->err, POND_EUSAGE, "%s %s: no Parquet, CSV or JSON files in %s", b->from,
				     b->name, b->paths[0])
			 : -2;
	}
	label = b ? xasprintf("%s (%s)", b->name, b->from) : xasprintf("'%s'", t->name);
	n = new_source(p, key, label, (file_format)f);
	k = (int)p->ntabs - 1;
	if (b ? add_paths(p, n, b->paths, b->npaths, label) : add_paths(p, n, (char *const *)&t->name, 1, label))
		k = -1;
	free(label);
	free(key);
	return k;
}

/* ---- read_* calls ---------------------------------------------------------- */

static int reader_format(const char *fname)
{
	static const struct {
		const char *name;
		file_format f;
	} readers[] = {
		{ "read_parquet", FMT_PARQUET }, { "parquet_scan", FMT_PARQUET }, { "read_csv", FMT_CSV },
		{ "read_csv_auto", FMT_CSV },    { "read_json", FMT_JSON },       { "read_json_auto", FMT_JSON },
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		if (!strcasecmp(fname, readers[i].name))
			return (int)readers[i].f;
	return -1;
}

/* The paths of a read call's first argument: 'p' or ['p', 'q']. */
static char **call_paths(const sq_expr *a, size_t *n)
{
	char **v;

	*n = 0;
	if (a->kind == SQ_CONSTANT && a->is_str) {
		v = xcalloc(2, sizeof(char *));
		v[(*n)++] = xstrdup(a->sval);
		return v;
	}
	if (a->kind != SQ_FUNCTION || strcmp(a->fname, "list_value") || !a->nargs)
		return NULL;
	v = xcalloc(a->nargs + 1, sizeof(char *));
	for (size_t i = 0; i < a->nargs; i++) {
		if (a->args[i]->kind != SQ_CONSTANT || !a->args[i]->is_str) {
			for (size_t k = 0; k < *n; k++)
				free(v[k]);
			free(v);
			*n = 0;
			return NULL;
		}
		v[(*n)++] = xstrdup(a->args[i]->sval);
	}
	return v;
}

/* A named argument (name=constant) as a typed option; false when it is
 * not one pond can pass on. */
static bool take_option(lnode *n, const sq_expr *a)
{
	const sq_expr *v = a->nargs == 2 ? a->args[1] : NULL;
	const char *name;
	opt_type type;

	if (a->kind != SQ_COMPARISON || strcmp(a->type, "COMPARE_EQUAL") || a->args[0]->kind != SQ_COLUMN ||
	    a->args[0]->nnames != 1 || !v)
		return false;
	name = a->args[0]->names[0];
	if (!source_opt_type(name, &type))
		return false;
	if (type == OPT_BOOL && v->kind == SQ_CAST && !strcmp(v->type_id, "BOOLEAN") && v->nargs == 1 &&
	    v->args[0]->kind == SQ_CONSTANT && v->args[0]->is_str &&
	    (!strcmp(v->args[0]->sval, "t") || !strcmp(v->args[0]->sval, "f"))) {
		lnode_set_opt(n, name, OPT_BOOL, !strcmp(v->args[0]->sval, "t"), 0, NULL);
		return true;
	}
	if (type == OPT_INT && v->kind == SQ_CONSTANT && v->is_int && v->ival >= 0) {
		lnode_set_opt(n, name, OPT_INT, false, v->ival, NULL);
		return true;
	}
	if (type == OPT_STR && v->kind == SQ_CONSTANT && v->is_str) {
		lnode_set_opt(n, name, OPT_STR, false, 0, v->sval);
		return true;
	}
	return false;
}

/* A read_* call with constant arguments. Returns the source's index, -2
 * when pond cannot take the call apart (it stays in the query as it is),
 * -1 on error. */
static int call_source(sqlp *p, const sq_table *t)
{
	const sq_expr *f = t->func;
	int fmt = f && f->kind == SQ_FUNCTION && !f->qualified && f->nargs ? reader_format(f->fname) : -1;
	char **paths = NULL, *key = NULL, *label;
	size_t npaths = 0;
	pond_err quiet = { 0 };
	lnode probe = { 0 };
	int k = -2;

	if (fmt < 0 || t->ncol_aliases || t->sample || !(paths = call_paths(f->args[0], &npaths)))
		goto out;
	for (size_t i = 1; i < f->nargs; i++)
		if (!take_option(&probe, f->args[i]))
			goto out;
	if (sqltree_expr_sql(p->db, f, &key, &quiet))
		goto out;
	if ((k = find_tab(p, key)) < 0) {
		lnode *n;
		label = xasprintf("%.200s", key);
		n = new_source(p, key, label, (file_format)fmt);
		n->opts = probe.opts;
		n->nopts = probe.nopts;
		probe.opts = NULL;
		probe.nopts = 0;
		k = add_paths(p, n, paths, npaths, label) ? -1 : (int)p->ntabs - 1;
		free(label);
	}
out:
	opts_release(probe.opts, probe.nopts);
	for (size_t i = 0; paths && i < npaths; i++)
		free(paths[i]);
	free(paths);
	free(key);
	return k;
}

/* ---- walking the query ----------------------------------------------------- */

/* The CTEs in scope, innermost first. */
typedef struct scope {
	const sq_query *q;
	const struct scope *up;
} scope;

static bool is_cte(const scope *s, const char *name)
{
	for (; s; s = s->up)
		for (size_t i = 0; i < s->q->nctes; i++)
			if (!strcasecmp(s->q->ctes[i].name, name))
				return true;
	return false;
}

static int walk_query(sqlp *p, sq_query *q, const scope *up);

typedef struct {
	sqlp *p;
	const scope *s;
	int rc;
} expr_walk;

static bool walk_subquery(sq_expr **slot, void *ctx)
{
	expr_walk *w = ctx;

	if ((*slot)->kind == SQ_SUBQUERY && !w->rc)
		w->rc = walk_query(w->p, (*slot)->subquery, w->s);
	return true;
}

static int walk_exprs(sqlp *p, sq_expr **v, size_t n, const scope *s)
{
	expr_walk w = { p, s, 0 };

	for (size_t i = 0; i < n && !w.rc; i++)
		sq_visit(&v[i], walk_subquery, &w);
	return w.rc;
}

/* Replaces the reference in *slot by source k as "{k}" named alias. */
static void use_source(sq_table **slot, int k, const char *alias)
{
	sq_table *t = *slot;
	char *ph = xasprintf("{%d}", k);

	if (t->kind == SQ_BASE) {
		free(t->name);
		t->name = ph;
		if (!*t->alias) {
			free(t->alias);
			t->alias = xstrdup(alias);
		}
		return;
	}
	*slot = sq_base_table(ph, *t->alias ? t->alias : alias);
	sq_table_free(t);
	free(ph);
}

static int walk_table(sqlp *p, sq_table **slot, const scope *s)
{
	sq_table *t = *slot;
	char *alias = NULL;
	int k, rc = 0;

	if (!t)
		return 0;
	switch (t->kind) {
	case SQ_BASE:
		if (t->qualified || is_cte(s, t->name))
			return 0;
		if ((k = base_source(p, t, &alias)) >= 0)
			use_source(slot, k, alias);
		free(alias);
		return k == -1 ? -1 : 0;
	case SQ_TABLE_FUNCTION:
		k = call_source(p, t);
		if (k >= 0)
			use_source(slot, k, t->func->fname);
		return k == -1 ? -1 : 0;
	case SQ_JOIN:
		rc = walk_table(p, &t->left, s);
		if (!rc)
			rc = walk_table(p, &t->right, s);
		if (!rc && t->cond)
			rc = walk_exprs(p, &t->cond, 1, s);
		return rc;
	case SQ_SUBQUERY_REF:
		return walk_query(p, t->subquery, s);
	case SQ_TABLE_OTHER: /* PIVOT's source, DESCRIBE's query, VALUES' subqueries */
		if (sq_table_is(t, "SHOW_REF") && !t->subquery)
			return pond_fail(p->err, POND_EUSAGE,
					 "SHOW lists DuckDB's catalog, which pond sql has none of: "
					 "DESCRIBE or SUMMARIZE a table or query instead");
		rc = walk_table(p, &t->source, s);
		if (!rc)
			rc = walk_query(p, t->subquery, s);
		if (!rc)
			rc = walk_exprs(p, t->exprs, t->nexprs, s);
		return rc;
	case SQ_EMPTY:
		break;
	}
	return 0;
}

static int walk_query(sqlp *p, sq_query *q, const scope *up)
{
	scope s = { q, up };
	int rc = 0;

	if (!q)
		return 0;
	for (size_t i = 0; !rc && i < q->nctes; i++)
		rc = walk_query(p, q->ctes[i].query, &s);
	if (!rc && q->kind == SQ_SETOP)
		rc = walk_query(p, q->left, &s) || walk_query(p, q->right, &s) ? -1 : 0;
	if (!rc && q->kind == SQ_SELECT) {
		sq_expr *single[] = { q->where, q->having, q->qualify };
		rc = walk_table(p, &q->from, &s);
		if (!rc)
			rc = walk_exprs(p, q->select, q->nselect, &s);
		if (!rc)
			rc = walk_exprs(p, single, 3, &s);
		if (!rc)
			rc = walk_exprs(p, q->groups, q->ngroups, &s);
	}
	for (size_t i = 0; !rc && i < q->norders; i++)
		rc = walk_exprs(p, &q->orders[i].e, 1, &s);
	return rc;
}

int sql_tables(sqlp *p, sq_query *q)
{
	return walk_query(p, q, NULL);
}
