/* interp.c — the script interpreter: every function of the pipeline
 * language (docs/PIPELINES.md) is one entry in `funcs` below, with its parameter
 * list; bind() matches a call's arguments to it. Produces plan/logical.h
 * nodes. Every user string that becomes SQL text is either a query the user
 * wrote (kept as is) or a name/path escaped with sb_sql_str/sb_sql_ident. */
#include "script/interp.h"

#include <ctype.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/build.h"
#include "plan/source.h"
#include "util/fsutil.h"
#include "util/sb.h"

#define MAX_ARGS 32
#define MAX_PARTITIONS 1000000

typedef struct {
	const script *s;
	lplan *plan;
	pond_err *err;
	char **names;   /* bound dataset names ... */
	lnode **values; /* ... and their datasets */
	size_t nnames;
} interp;

/* A call's arguments matched to a function's parameters. */
typedef struct {
	const ast_node *call;
	const ast_node *arg[MAX_ARGS]; /* by parameter index, NULL if absent */
	const ast_node **rest;         /* extra positionals (variadic) */
	size_t nrest;
} bound;

typedef struct func func;
typedef int (*func_fn)(interp *in, const func *f, bound *b, lnode **out);

struct func {
	const char *name;
	const char *params[MAX_ARGS]; /* leading '*' marks a required one */
	bool variadic;                /* extra positionals become inputs */
	func_fn fn;
};

static void fail_at_msg(interp *in, const ast_node *at, pond_status code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_at_msg(interp *in, const ast_node *at, pond_status code, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pond_fail(in->err, code, "%s:%d:%d: %s", in->s->filename, at->line, at->col, msg);
}

/* Fails at a script position ("file:line:col: message"); is -1, so that
 * failing is one line (a macro, so that the -1 shows where it is used). */
#define fail_at(...) (fail_at_msg(__VA_ARGS__), -1)

static char *where_of(interp *in, const ast_node *at)
{
	return xasprintf("%s:%d", in->s->filename, at->line);
}

static const char *kind_name(ast_kind k)
{
	static const char *names[] = { "a string", "an integer", "a float", "a boolean", "null",
				       "a list",   "a map",      "a name",  "a call" };
	return names[k];
}

/* ---- argument access ---------------------------------------------------- */

static int want_string(interp *in, const ast_node *v, const char *what, const char **out)
{
	if (v->kind != AST_STRING)
		return fail_at(in, v, POND_EUSAGE, "%s must be a string, not %s", what, kind_name(v->kind));
	*out = v->str;
	return 0;
}

static int want_int(interp *in, const ast_node *v, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
	if (v->kind != AST_INT)
		return fail_at(in, v, POND_EUSAGE, "%s must be an integer, not %s", what, kind_name(v->kind));
	if (v->i < lo || v->i > hi)
		return fail_at(in, v, POND_EUSAGE, "%s must be between %lld and %lld, not %lld", what, (long long)lo,
			       (long long)hi, (long long)v->i);
	*out = v->i;
	return 0;
}

static int want_bool(interp *in, const ast_node *v, const char *what, bool *out)
{
	if (v->kind != AST_BOOL)
		return fail_at(in, v, POND_EUSAGE, "%s must be true or false, not %s", what, kind_name(v->kind));
	*out = v->b;
	return 0;
}

/* A string or a list of strings, as a list of quoted SQL identifiers. */
static int want_columns(interp *in, const ast_node *v, const char *what, char **out)
{
	sb b = SB_INIT;

	if (v->kind == AST_STRING) {
		if (!*v->str)
			return fail_at(in, v, POND_EUSAGE, "%s: empty column name", what);
		sb_sql_ident(&b, v->str);
	} else if (v->kind == AST_LIST && v->n > 0) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != AST_STRING || !*v->items[i]->str) {
				sb_release(&b);
				return fail_at(in, v->items[i], POND_EUSAGE,
					       "%s must be a list of column names (strings)", what);
			}
			if (i)
				sb_add(&b, ", ");
			sb_sql_ident(&b, v->items[i]->str);
		}
	} else {
		return fail_at(in, v, POND_EUSAGE, "%s must be a column name or a non-empty list of them", what);
	}
	*out = sb_detach(&b);
	return 0;
}

static int eval(interp *in, const ast_node *e, lnode **out);

static int want_dataset(interp *in, const ast_node *v, lnode **out)
{
	if (v->kind == AST_NAME || v->kind == AST_CALL) {
		if (eval(in, v, out))
			return -1;
		if (!*out)
			return fail_at(in, v, POND_EUSAGE, "'%s' is an action and returns no dataset", v->str);
		return 0;
	}
	return fail_at(in, v, POND_EUSAGE, "expected a dataset, found %s", kind_name(v->kind));
}

/* ---- input paths --------------------------------------------------------- */

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int expand_one(interp *in, lnode *n, const ast_node *at, const char *path)
{
	pond_err e = { 0 };

	if (source_add_path(n, path, &e))
		return fail_at(in, at, e.code, "%s", e.msg);
	return 0;
}

static int expand_paths(interp *in, lnode *n, const ast_node *v)
{
	if (v->kind == AST_STRING) {
		if (expand_one(in, n, v, v->str))
			return -1;
	} else if (v->kind == AST_LIST && v->n > 0) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != AST_STRING)
				return fail_at(in, v->items[i], POND_EUSAGE, "paths must be strings");
			if (expand_one(in, n, v->items[i], v->items[i]->str))
				return -1;
		}
	} else {
		return fail_at(in, v, POND_EUSAGE, "paths must be a string or a non-empty list of strings");
	}
	source_sort_files(n);
	return 0;
}

/* {'col': 'TYPE', ...} -> the source's columns= */
static int columns_map(interp *in, const ast_node *v, schema *out)
{
	if (v->kind != AST_MAP || v->n == 0)
		return fail_at(in, v, POND_EUSAGE, "columns must be a map {'name': 'TYPE', ...}");
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->kind != AST_STRING)
			return fail_at(in, v->items[i], POND_EUSAGE,
				       "the type of column '%s' must be a string such as 'INTEGER'", v->keys[i]);
		schema_add(out, v->keys[i], v->items[i]->str);
	}
	return 0;
}

/* Arguments from index `first` on are reader options: typed, checked,
 * kept on the node in the order of the function's parameters. */
static int take_reader_opts(interp *in, const func *f, bound *b, size_t first, lnode *n)
{
	for (size_t j = first; j < MAX_ARGS && f->params[j]; j++) {
		const ast_node *v = b->arg[j];
		const char *name = f->params[j];
		opt_type type;
		if (!v || v->kind == AST_NULL)
			continue;
		if (!source_opt_type(name, &type))
			return fail_at(in, v, POND_EINTERNAL, "%s: no type for option %s", f->name, name);
		switch (type) {
		case OPT_BOOL:
			if (v->kind != AST_BOOL)
				return fail_at(in, v, POND_EUSAGE, "%s must be true or false, not %s", name,
					       kind_name(v->kind));
			lnode_set_opt(n, name, OPT_BOOL, v->b, 0, NULL);
			break;
		case OPT_INT:
			if (v->kind != AST_INT || v->i < 0)
				return fail_at(in, v, POND_EUSAGE, "%s must be a non-negative integer", name);
			lnode_set_opt(n, name, OPT_INT, false, v->i, NULL);
			break;
		case OPT_STR:
			if (v->kind != AST_STRING)
				return fail_at(in, v, POND_EUSAGE, "%s must be a string, not %s", name,
					       kind_name(v->kind));
			lnode_set_opt(n, name, OPT_STR, false, 0, v->str);
			break;
		}
	}
	return 0;
}

/* ---- functions ----------------------------------------------------------- */

static lnode *new_node(interp *in, lnode_kind k, const func *f, const ast_node *at)
{
	char *where = where_of(in, at);
	lnode *n = build_node(in->plan, k, f->name, where, at->line, at->col);
	free(where);
	return n;
}

static lnode *new_source(interp *in, const func *f, bound *b, file_format fmt)
{
	lnode *n = new_node(in, L_SOURCE, f, b->call);
	n->format = fmt;
	return n;
}

static int fn_read_parquet(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *n = *out = new_source(in, f, b, FMT_PARQUET);
	const ast_node *cols = b->arg[1];

	if (expand_paths(in, n, b->arg[0]))
		return -1;
	if (cols && cols->kind != AST_NULL) {
		if (cols->kind == AST_STRING && *cols->str) {
			n->select = xcalloc(1, sizeof(char *));
			n->select[n->nselect++] = xstrdup(cols->str);
		} else if (cols->kind == AST_LIST && cols->n) {
			n->select = xcalloc(cols->n, sizeof(char *));
			for (size_t i = 0; i < cols->n; i++) {
				if (cols->items[i]->kind != AST_STRING || !*cols->items[i]->str)
					return fail_at(in, cols->items[i], POND_EUSAGE,
						       "columns must be a list of column names (strings)");
				n->select[n->nselect++] = xstrdup(cols->items[i]->str);
			}
		} else {
			return fail_at(in, cols, POND_EUSAGE,
				       "columns must be a column name or a non-empty list of them");
		}
	}
	lnode_set_opt(n, "hive_partitioning", OPT_BOOL, false, 0, NULL);
	return take_reader_opts(in, f, b, 2, n);
}

/* read_csv and read_json: columns= is a map of types. pond's defaults
 * (header=true, delim=',', no hive partitioning) are set unless given. */
static int text_source(interp *in, const func *f, bound *b, file_format fmt, lnode **out)
{
	lnode *n = *out = new_source(in, f, b, fmt);

	if (expand_paths(in, n, b->arg[0]))
		return -1;
	if (b->arg[1] && b->arg[1]->kind != AST_NULL && columns_map(in, b->arg[1], &n->columns))
		return -1;
	lnode_set_opt(n, "hive_partitioning", OPT_BOOL, false, 0, NULL);
	if (fmt == FMT_CSV) {
		lnode_set_opt(n, "header", OPT_BOOL, true, 0, NULL);
		lnode_set_opt(n, "delim", OPT_STR, false, 0, ",");
	}
	return take_reader_opts(in, f, b, 2, n);
}

static int fn_read_csv(interp *in, const func *f, bound *b, lnode **out)
{
	return text_source(in, f, b, FMT_CSV, out);
}

static int fn_read_json(interp *in, const func *f, bound *b, lnode **out)
{
	return text_source(in, f, b, FMT_JSON, out);
}

/* Checks {N} placeholders of a query against its number of inputs. */
static int check_placeholders(interp *in, const ast_node *q, size_t ninputs)
{
	for (const char *p = q->str; (p = strchr(p, '{')); p++) {
		char *end;
		if (!isdigit((unsigned char)p[1]))
			continue;
		long k = strtol(p + 1, &end, 10);
		if (*end != '}')
			continue;
		if ((size_t)k >= ninputs)
			return fail_at(in, q, POND_EUSAGE, "the query uses {%ld} but has %zu input%s", k, ninputs,
				       ninputs == 1 ? "" : "s");
	}
	return 0;
}

static int query_with_inputs(interp *in, const func *f, bound *b, lnode *n)
{
	const ast_node *query = b->arg[0];
	const ast_node **inputs = b->rest;
	size_t ninputs = b->nrest;
	const char *q = NULL;
	int rc = 0;

	/* the method form df.sql('query', other...) means sql('query', df, other...) */
	if ((query->kind == AST_NAME || query->kind == AST_CALL) && ninputs && inputs[0]->kind == AST_STRING) {
		const ast_node **v = xcalloc(ninputs + 1, sizeof(ast_node *));
		v[0] = query;
		for (size_t i = 1; i < ninputs; i++)
			v[i] = inputs[i];
		query = inputs[0];
		inputs = v;
	}
	if (want_string(in, query, "the query", &q)) {
		rc = -1;
		goto out;
	}
	n->query = xstrdup(q);
	n->ninputs = ninputs;
	n->inputs = xcalloc(ninputs, sizeof(lnode *));
	for (size_t i = 0; rc == 0 && i < ninputs; i++)
		rc = want_dataset(in, inputs[i], &n->inputs[i]);
	if (rc == 0)
		rc = check_placeholders(in, query, n->ninputs);
	(void)f;
out:
	if (inputs != b->rest)
		free(inputs);
	return rc;
}

static int fn_partial_sql(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *n = new_node(in, b->nrest ? L_PARTIAL : L_QUERY, f, b->call);
	size_t bad;
	int parts;

	*out = n;
	if (query_with_inputs(in, f, b, n))
		return -1;
	if (build_partial_parts(n, &bad, &parts))
		return fail_at(in, b->rest[bad], POND_EUSAGE,
			       "partial_sql inputs have %d and %d partitions: they must be equal, "
			       "or 1 (broadcast to every partition)",
			       parts, n->inputs[bad]->nparts);
	return 0;
}

static int fn_sql(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *n = new_node(in, L_SQL, f, b->call);

	*out = n;
	if (query_with_inputs(in, f, b, n))
		return -1;
	/* the datasets the query may name, as bound here (the last binding) */
	n->scope_names = xcalloc(in->nnames + 1, sizeof(char *));
	n->scope_nodes = xcalloc(in->nnames + 1, sizeof(lnode *));
	for (size_t i = in->nnames; i-- > 0;) {
		size_t k;
		for (k = 0; k < n->nscope && strcmp(n->scope_names[k], in->names[i]); k++)
			;
		if (k == n->nscope && strcasestr(n->query, in->names[i])) {
			n->scope_names[n->nscope] = xstrdup(in->names[i]);
			n->scope_nodes[n->nscope++] = in->values[i];
		}
	}
	return 0;
}

/* filter / map / flat_map / partial_sort: a partial_sql on one input. */
static int shorthand(interp *in, const func *f, bound *b, lnode **out, shorthand_kind k)
{
	lnode *n = new_node(in, L_PARTIAL, f, b->call);
	const char *arg = NULL;

	*out = n;
	n->ninputs = 1;
	n->inputs = xcalloc(1, sizeof(lnode *));
	if (want_dataset(in, b->arg[0], &n->inputs[0]))
		return -1;
	if (want_string(in, b->arg[1], f->params[1] + 1, &arg))
		return -1;
	if (!*arg)
		return fail_at(in, b->arg[1], POND_EUSAGE, "%s must not be empty", f->params[1] + 1);
	build_shorthand(n, k, arg);
	return 0;
}

static int fn_filter(interp *in, const func *f, bound *b, lnode **out)
{
	return shorthand(in, f, b, out, SH_FILTER);
}

static int fn_map(interp *in, const func *f, bound *b, lnode **out)
{
	return shorthand(in, f, b, out, SH_MAP);
}

static int fn_partial_sort(interp *in, const func *f, bound *b, lnode **out)
{
	return shorthand(in, f, b, out, SH_SORT);
}

static int fn_repartition(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *n = new_node(in, L_REPARTITION, f, b->call);
	const ast_node *chosen = NULL;
	int64_t parts;
	bool by_rows = false;

	*out = n;
	n->ninputs = 1;
	n->inputs = xcalloc(1, sizeof(lnode *));
	if (want_dataset(in, b->arg[0], &n->inputs[0]))
		return -1;
	if (want_int(in, b->arg[1], "the number of partitions", 1, MAX_PARTITIONS, &parts))
		return -1;
	n->nparts = (int)parts;
	n->mode = RP_FILES;
	if (b->arg[2] && want_bool(in, b->arg[2], "by_rows", &by_rows))
		return -1;
	if (by_rows)
		n->mode = RP_ROWS, chosen = b->arg[2];
	for (int i = 3; i <= 5; i++) {
		const ast_node *v = b->arg[i];
		if (!v || v->kind == AST_NULL)
			continue;
		if (chosen)
			return fail_at(in, v, POND_EUSAGE,
				       "repartition takes one of by_rows, hash_by, by, range_by; "
				       "'%s' conflicts with the one at column %d",
				       f->params[i], chosen->col);
		chosen = v;
		if (i == 4) {
			const char *expr = NULL;
			if (want_string(in, v, "by", &expr))
				return -1;
			build_expr(n, expr);
		} else {
			char *checked = NULL;
			size_t nk = v->kind == AST_LIST ? v->n : 1;
			const char **names = xcalloc(nk, sizeof(char *));
			if (want_columns(in, v, f->params[i], &checked)) {
				free(names);
				return -1;
			}
			free(checked);
			for (size_t k = 0; k < nk; k++)
				names[k] = v->kind == AST_LIST ? v->items[k]->str : v->str;
			build_keys(n, i == 3 ? RP_HASH : RP_RANGE, names, nk);
			free(names);
			if (v->kind == AST_LIST) { /* a list is described as its SQL */
				free(n->key_desc);
				n->key_desc = xstrdup(n->key);
			}
		}
	}
	return 0;
}

static int fn_random_shuffle(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *n = new_node(in, L_REPARTITION, f, b->call);
	int64_t parts = 0;

	*out = n;
	n->ninputs = 1;
	n->inputs = xcalloc(1, sizeof(lnode *));
	n->mode = RP_RANDOM;
	if (want_dataset(in, b->arg[0], &n->inputs[0]))
		return -1;
	if (b->arg[1] && want_int(in, b->arg[1], "the number of partitions", 1, MAX_PARTITIONS, &parts))
		return -1;
	n->nparts = parts ? (int)parts : n->inputs[0]->nparts;
	return 0;
}

static int fn_limit(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *n = new_node(in, L_LIMIT, f, b->call);

	*out = n;
	n->ninputs = 1;
	n->inputs = xcalloc(1, sizeof(lnode *));
	if (want_dataset(in, b->arg[0], &n->inputs[0]))
		return -1;
	return want_int(in, b->arg[1], "the limit", 0, INT64_MAX, &n->limit);
}

static const char *compressions[] = { "zstd", "snappy", "gzip", "lz4", "lz4_raw", "brotli", "uncompressed", NULL };

/* One path a read_*() call of the script names, for check_output_dir. */
typedef struct {
	interp *in;
	const ast_node *at; /* the write's directory argument */
	const action *a;
	const char *out; /* real path of the output directory */
} out_check;

/* The output must not hold this input (a file, or a directory walked for
 * files) nor lie inside a walked one: the publish would delete it, or the
 * next run would read its own output. */
static int check_against_input(out_check *c, const ast_node *src)
{
	char *abs = fs_abspath(src->str);
	int rc = 0;

	if (has_glob(src->str)) {
		glob_t g;
		if (glob(abs, 0, NULL, &g) == 0) {
			for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
				char *real = fs_realpath(g.gl_pathv[i]);
				if (fs_path_within(real, c->out))
					rc = fail_at(
						c->in, c->at, POND_EUSAGE,
						"output directory %s contains %s, an input of the script (read at %d:%d)",
						c->a->dir, g.gl_pathv[i], src->line, src->col);
				free(real);
			}
			globfree(&g);
		}
	} else if (fs_exists(abs)) {
		char *real = fs_realpath(abs);
		if (fs_path_within(real, c->out))
			rc = fail_at(c->in, c->at, POND_EUSAGE,
				     "output directory %s contains %s, an input of the script (read at %d:%d)",
				     c->a->dir, abs, src->line, src->col);
		else if (fs_is_dir(real) && fs_path_within(c->out, real))
			rc = fail_at(
				c->in, c->at, POND_EUSAGE,
				"output directory %s is inside %s, an input directory of the script (read at %d:%d): "
				"a later run would read the output as input",
				c->a->dir, abs, src->line, src->col);
		free(real);
	}
	free(abs);
	return rc;
}

/* Walks the whole script (reads after this write count too) for the
 * paths of read_parquet/read_csv/read_json calls. */
static int check_reads(out_check *c, const ast_node *e)
{
	const ast_node *paths = NULL;
	int rc = 0;

	if (!e)
		return 0;
	if (e->kind == AST_CALL && !strncmp(e->str, "read_", 5)) {
		paths = e->n ? e->items[0] : NULL;
		for (size_t k = 0; !paths && k < e->nkw; k++)
			if (!strcmp(e->kw_names[k], "paths"))
				paths = e->kw_values[k];
	}
	if (paths && paths->kind == AST_STRING)
		rc = check_against_input(c, paths);
	for (size_t i = 0; paths && paths->kind == AST_LIST && rc == 0 && i < paths->n; i++)
		if (paths->items[i]->kind == AST_STRING)
			rc = check_against_input(c, paths->items[i]);
	if (e->kind == AST_CALL || e->kind == AST_LIST || e->kind == AST_MAP)
		for (size_t i = 0; rc == 0 && i < e->n; i++)
			rc = check_reads(c, e->items[i]);
	for (size_t k = 0; e->kind == AST_CALL && rc == 0 && k < e->nkw; k++)
		rc = check_reads(c, e->kw_values[k]);
	return rc;
}

/* pond publishes by renaming a directory into the output's place: that
 * cannot replace a mount point (EBUSY/EXDEV at the very end of the job). */
static bool is_mount_point(const char *dir)
{
	struct stat st, up;
	char *parent = fs_dirname(dir);
	bool mp = stat(dir, &st) == 0 && stat(parent, &up) == 0 && (st.st_dev != up.st_dev || st.st_ino == up.st_ino);
	free(parent);
	return mp;
}

static int check_output_dir(interp *in, const ast_node *at, action *a)
{
	char *out = fs_realpath(a->dir);
	char *script = in->plan->script_path ? fs_realpath(in->plan->script_path) : NULL;
	out_check c = { in, at, a, out };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i + 1 < in->plan->nactions; i++) {
		const action *o = &in->plan->actions[i];
		char *other;
		if (!o->dir)
			continue;
		if (!strcmp(o->dir, a->dir)) {
			rc = fail_at(in, at, POND_EUSAGE, "%s is already written by the write at %s", a->dir, o->where);
			break;
		}
		other = fs_realpath(o->dir);
		if (fs_path_within(out, other) || fs_path_within(other, out))
			rc = fail_at(in, at, POND_EUSAGE,
				     "output directory %s and the output %s written at %s are nested: "
				     "publishing one would replace or move the other",
				     a->dir, o->dir, o->where);
		free(other);
	}
	if (rc == 0 && fs_exists(a->dir) && !fs_is_dir(a->dir))
		rc = fail_at(in, at, POND_EUSAGE, "output %s exists and is not a directory", a->dir);
	if (rc == 0 && script && fs_path_within(script, out))
		rc = fail_at(in, at, POND_EUSAGE, "output directory %s contains the script %s", a->dir,
			     in->plan->script_path);
	for (size_t i = 0; rc == 0 && i < in->s->nstmts; i++)
		rc = check_reads(&c, in->s->stmts[i].expr);
	if (rc == 0 && is_mount_point(a->dir))
		rc = fail_at(in, at, POND_EUSAGE,
			     "output directory %s is a mount point: pond publishes by renaming a directory into its "
			     "place, which cannot replace a mount point; write to a directory inside it",
			     a->dir);
	free(out);
	free(script);
	return rc;
}

static int write_common(interp *in, const func *f, bound *b, action_kind kind, int mode_arg, action **out)
{
	lnode *df;
	const char *dir = NULL, *mode = "error";
	action *a;

	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (want_string(in, b->arg[1], "the output directory", &dir))
		return -1;
	if (!*dir)
		return fail_at(in, b->arg[1], POND_EUSAGE, "the output directory must not be empty");
	a = lplan_add_action(in->plan, kind, df, "");
	free(a->where);
	a->where = where_of(in, b->call);
	a->line = b->call->line;
	a->col = b->call->col;
	*out = a;
	a->dir = fs_abspath(dir);
	if (b->arg[2] && b->arg[2]->kind != AST_NULL && want_columns(in, b->arg[2], "partition_by", &a->partition_by))
		return -1;
	if (b->arg[mode_arg] && want_string(in, b->arg[mode_arg], "mode", &mode))
		return -1;
	if (strcmp(mode, "error") && strcmp(mode, "overwrite"))
		return fail_at(in, b->arg[mode_arg], POND_EUSAGE, "mode must be 'error' or 'overwrite', not '%s'",
			       mode);
	a->overwrite = !strcmp(mode, "overwrite");
	(void)f;
	return check_output_dir(in, b->arg[1], a);
}

static int fn_write_parquet(interp *in, const func *f, bound *b, lnode **out)
{
	action *a;
	const char *comp = "zstd";
	sb opts = SB_INIT;
	int ok = 0;

	*out = NULL;
	if (write_common(in, f, b, A_WRITE_PARQUET, 4, &a))
		return -1;
	if (b->arg[3] && want_string(in, b->arg[3], "compression", &comp))
		return -1;
	for (int i = 0; compressions[i]; i++)
		ok |= !strcasecmp(comp, compressions[i]);
	if (!ok)
		return fail_at(in, b->arg[3], POND_EUSAGE,
			       "unknown compression '%s' (zstd, snappy, gzip, lz4, lz4_raw, brotli, uncompressed)",
			       comp);
	sb_add(&opts, "FORMAT parquet, COMPRESSION ");
	sb_sql_str(&opts, comp);
	a->copy_options = sb_detach(&opts);
	return 0;
}

static int fn_write_csv(interp *in, const func *f, bound *b, lnode **out)
{
	action *a;
	const char *delim = ",";
	bool header = true;
	sb opts = SB_INIT;

	*out = NULL;
	if (write_common(in, f, b, A_WRITE_CSV, 5, &a))
		return -1;
	if (b->arg[3] && want_bool(in, b->arg[3], "header", &header))
		return -1;
	if (b->arg[4] && want_string(in, b->arg[4], "delim", &delim))
		return -1;
	if (strlen(delim) != 1 && strcmp(delim, "\\t"))
		return fail_at(in, b->arg[4], POND_EUSAGE, "delim must be one character, or '\\t' for a tab");
	sb_addf(&opts, "FORMAT csv, HEADER %s, DELIMITER ", header ? "true" : "false");
	sb_sql_str(&opts, delim);
	a->copy_options = sb_detach(&opts);
	return 0;
}

static int fn_show(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *df;
	int64_t n = 20;
	action *a;
	char *where;

	*out = NULL;
	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (b->arg[1] && want_int(in, b->arg[1], "n", 0, 1000000, &n))
		return -1;
	where = where_of(in, b->call);
	a = lplan_add_action(in->plan, A_SHOW, df, where);
	free(where);
	a->n = n;
	(void)f;
	return 0;
}

static int fn_count(interp *in, const func *f, bound *b, lnode **out)
{
	lnode *df;
	char *where;

	*out = NULL;
	if (want_dataset(in, b->arg[0], &df))
		return -1;
	where = where_of(in, b->call);
	lplan_add_action(in->plan, A_COUNT, df, where);
	free(where);
	(void)f;
	return 0;
}

/* The language: one entry per function, its parameters filled to the
 * width (clang-format would put one a line). */
/* clang-format off */
static const func funcs[] = {
	{ "read_parquet", { "*paths", "columns", "union_by_name", "hive_partitioning", "filename", "binary_as_string" },
	  false, fn_read_parquet },
	{ "read_csv", { "*paths", "columns", "header", "delim", "quote", "escape", "skip", "nullstr",
			"all_varchar", "dateformat", "timestampformat", "compression", "ignore_errors",
			"null_padding", "strict_mode", "new_line", "comment", "decimal_separator", "sample_size",
			"max_line_size", "encoding", "union_by_name", "filename", "hive_partitioning",
			"normalize_names", "parallel" },
	  false, fn_read_csv },
	{ "read_json", { "*paths", "columns", "format", "records", "compression", "ignore_errors", "dateformat",
			 "timestampformat", "sample_size", "maximum_object_size", "maximum_depth", "union_by_name",
			 "filename", "hive_partitioning", "convert_strings_to_integers" },
	  false, fn_read_json },
	{ "partial_sql", { "*query" }, true, fn_partial_sql },
	{ "sql", { "*query" }, true, fn_sql },
	{ "filter", { "*df", "*predicate" }, false, fn_filter },
	{ "map", { "*df", "*select" }, false, fn_map },
	{ "flat_map", { "*df", "*select" }, false, fn_map },
	{ "partial_sort", { "*df", "*order_by" }, false, fn_partial_sort },
	{ "repartition", { "*df", "*n", "by_rows", "hash_by", "by", "range_by" }, false, fn_repartition },
	{ "random_shuffle", { "*df", "n" }, false, fn_random_shuffle },
	{ "limit", { "*df", "*n" }, false, fn_limit },
	{ "write_parquet", { "*df", "*dir", "partition_by", "compression", "mode" }, false, fn_write_parquet },
	{ "write_csv", { "*df", "*dir", "partition_by", "header", "delim", "mode" }, false, fn_write_csv },
	{ "show", { "*df", "n" }, false, fn_show },
	{ "count", { "*df" }, false, fn_count },
};
/* clang-format on */

static const char *pname(const char *p)
{
	return *p == '*' ? p + 1 : p;
}

static int bind(interp *in, const func *f, const ast_node *call, bound *b)
{
	size_t np = 0;

	memset(b, 0, sizeof(*b));
	b->call = call;
	while (np < MAX_ARGS && f->params[np])
		np++;
	for (size_t i = 0; i < call->n; i++) {
		if (i < np) {
			b->arg[i] = call->items[i];
		} else if (f->variadic) {
			b->rest = (const ast_node **)&call->items[i];
			b->nrest = call->n - i;
			break;
		} else {
			return fail_at(in, call->items[i], POND_EUSAGE, "%s() takes at most %zu positional argument%s",
				       f->name, np, np == 1 ? "" : "s");
		}
	}
	for (size_t k = 0; k < call->nkw; k++) {
		size_t j;
		for (j = 0; j < np; j++)
			if (!strcmp(pname(f->params[j]), call->kw_names[k]))
				break;
		if (j == np) {
			sb known = SB_INIT;
			for (size_t q = 0; q < np; q++)
				sb_addf(&known, "%s%s", q ? ", " : "", pname(f->params[q]));
			ast_node at = { .line = call->kw_lines[k], .col = call->kw_cols[k] };
			fail_at_msg(in, &at, POND_EUSAGE, "%s() has no argument '%s' (it takes: %s)", f->name,
				    call->kw_names[k], sb_str(&known));
			sb_release(&known);
			return -1;
		}
		if (b->arg[j]) {
			ast_node at = { .line = call->kw_lines[k], .col = call->kw_cols[k] };
			return fail_at(in, &at, POND_EUSAGE, "%s() got argument '%s' twice", f->name,
				       call->kw_names[k]);
		}
		b->arg[j] = call->kw_values[k];
	}
	for (size_t j = 0; j < np; j++)
		if (f->params[j][0] == '*' && !b->arg[j])
			return fail_at(in, call, POND_EUSAGE, "%s() is missing its argument '%s'", f->name,
				       pname(f->params[j]));
	return 0;
}

static lnode *lookup(interp *in, const char *name)
{
	for (size_t i = in->nnames; i-- > 0;)
		if (!strcmp(in->names[i], name))
			return in->values[i];
	return NULL;
}

/* Evaluates an expression: *out is the dataset, or NULL for an action. */
static int eval(interp *in, const ast_node *e, lnode **out)
{
	*out = NULL;
	if (e->kind == AST_NAME) {
		*out = lookup(in, e->str);
		if (!*out)
			return fail_at(in, e, POND_EUSAGE, "undefined dataset '%s'", e->str);
		return 0;
	}
	if (e->kind != AST_CALL)
		return fail_at(in, e, POND_EUSAGE, "expected a function call, found %s", kind_name(e->kind));
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		bound b;
		if (strcmp(funcs[i].name, e->str))
			continue;
		if (bind(in, &funcs[i], e, &b))
			return -1;
		return funcs[i].fn(in, &funcs[i], &b, out);
	}
	return fail_at(in, e, POND_EUSAGE, "unknown function '%s'", e->str);
}

/* Nodes are created as calls are evaluated, parents before the inputs
 * nested in their arguments: lplan_renumber puts them inputs-first, so
 * plans read top-down. */
int interp_script(const script *s, lplan *plan, pond_err *err)
{
	interp in = { s, plan, err, NULL, NULL, 0 };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->nstmts; i++) {
		const ast_stmt *st = &s->stmts[i];
		lnode *v = NULL;
		rc = eval(&in, st->expr, &v);
		if (rc)
			break;
		if (st->target) {
			if (!v) {
				rc = fail_at(&in, st->expr, POND_EUSAGE,
					     "'%s' is an action and returns nothing to bind to '%s'", st->expr->str,
					     st->target);
				break;
			}
			in.names = xgrow(in.names, in.nnames, sizeof(char *));
			in.values = xgrow(in.values, in.nnames, sizeof(lnode *));
			in.names[in.nnames] = st->target;
			in.values[in.nnames++] = v;
			free(v->name);
			v->name = xstrdup(st->target);
		} else if (v) {
			rc = fail_at(&in, st->expr, POND_EUSAGE,
				     "the dataset made here is never used: bind it (name = ...) or end it "
				     "with an action (write_parquet, write_csv, show, count)");
		}
	}
	if (rc == 0)
		lplan_renumber(plan);
	if (rc == 0 && plan->nactions == 0)
		rc = pond_fail(
			err, POND_EUSAGE,
			"%s: the script has no action (write_parquet, write_csv, show or count), so nothing would run",
			s->filename);
	free(in.names);
	free(in.values);
	return rc;
}
