/* interp.c — the script interpreter: every function of the pipeline
 * language (docs/PIPELINES.md) is one entry in `funcs` below, with its
 * parameter list; bind() matches a call's arguments to it. It checks each
 * argument's value where the script wrote it (a string, an integer in
 * range, a list of names: "file:line:col" of the argument), then builds
 * the step with the public plan-building API (include/pond.h: pond_read,
 * pond_filter … pond_write, pond_show, pond_count), with pond_at_col
 * naming the call, so scripts and python/pond build plans one way. What
 * only a script has stays here, as the API has no script to look at: its
 * names (`x = ...`; the API is told with pond_name, for sql()), the value
 * checks at each argument's line:col (the API takes C values, and checks
 * them again), and check_output_dir, which reads the whole script (an
 * output holding an input that any read_*() of the script names, even a
 * later one, or the script file itself). ${VAR} is the parser's. */
#include "script/interp.h"

#include <ctype.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/source.h"
#include "util/fsutil.h"
#include "util/sb.h"

#define MAX_ARGS 32
#define MAX_PARTITIONS 1000000

typedef struct {
	const script *s;
	pond_session *ps;
	pond_err *err;         /* the session's */
	char **names;          /* bound dataset names ... */
	pond_dataset **values; /* ... and their datasets */
	size_t nnames;
	char **dirs;   /* the outputs written so far (absolute) ... */
	char **wheres; /* ... and where ("file:line") */
	size_t ndirs;
	size_t nactions;
} interp;

/* A call's arguments matched to a function's parameters. */
typedef struct {
	const ast_node *call;
	const ast_node *arg[MAX_ARGS]; /* by parameter index, NULL if absent */
	const ast_node **rest;         /* extra positionals (variadic) */
	size_t nrest;
} bound;

typedef struct func func;
typedef int (*func_fn)(interp *in, const func *f, bound *b, pond_dataset **out);

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

/* Makes the next step at the call's position: its node, its messages. */
static void at_call(interp *in, const bound *b)
{
	pond_at_col(in->ps, in->s->filename, b->call->line, b->call->col);
}

/* A pond_* call's status as the interpreter's: its message is already the
 * session's. */
static int built(pond_status st)
{
	return st == POND_OK ? 0 : -1;
}

/* The next call's list items at these nodes' positions (pond_at_items). */
static void at_items(interp *in, const ast_node *const *items, size_t n)
{
	int *lines = xcalloc(n + 1, sizeof(int)), *cols = xcalloc(n + 1, sizeof(int));

	for (size_t i = 0; i < n; i++) {
		lines[i] = items[i]->line;
		cols[i] = items[i]->col;
	}
	pond_at_items(in->ps, lines, cols, n);
	free(lines);
	free(cols);
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

/* A string or a non-empty list of strings, none empty: column names, in
 * *out (an array to free; the names are the script's). */
static int want_names(interp *in, const ast_node *v, const char *what, const char ***out, size_t *n)
{
	if (v->kind == AST_STRING) {
		if (!*v->str)
			return fail_at(in, v, POND_EUSAGE, "%s: empty column name", what);
		*out = xcalloc(1, sizeof(char *));
		(*out)[0] = v->str;
		*n = 1;
		return 0;
	}
	if (v->kind != AST_LIST || v->n == 0)
		return fail_at(in, v, POND_EUSAGE, "%s must be a column name or a non-empty list of them", what);
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->kind != AST_STRING || !*v->items[i]->str)
			return fail_at(in, v->items[i], POND_EUSAGE, "%s must be a list of column names (strings)",
				       what);
	*out = xcalloc(v->n, sizeof(char *));
	for (size_t i = 0; i < v->n; i++)
		(*out)[i] = v->items[i]->str;
	*n = v->n;
	return 0;
}

static int eval(interp *in, const ast_node *e, pond_dataset **out);

static int want_dataset(interp *in, const ast_node *v, pond_dataset **out)
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

/* ---- sources ------------------------------------------------------------- */

/* A read_*() call's arguments as pond_read takes them. */
typedef struct {
	const char **paths;
	size_t npaths;
	pond_kv *cols;
	size_t ncols;
	pond_kv *opts;
	size_t nopts;
	char **ints; /* the integer options' text, to free */
	size_t nints;
} read_args;

static void read_args_free(read_args *r)
{
	for (size_t i = 0; i < r->nints; i++)
		free(r->ints[i]);
	free(r->ints);
	free(r->paths);
	free(r->cols);
	free(r->opts);
}

static int want_paths(interp *in, const ast_node *v, read_args *r)
{
	if (v->kind == AST_STRING) {
		r->paths = xcalloc(1, sizeof(char *));
		r->paths[r->npaths++] = v->str;
		return 0;
	}
	if (v->kind != AST_LIST || v->n == 0)
		return fail_at(in, v, POND_EUSAGE, "paths must be a string or a non-empty list of strings");
	r->paths = xcalloc(v->n, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->kind != AST_STRING)
			return fail_at(in, v->items[i], POND_EUSAGE, "paths must be strings");
		r->paths[r->npaths++] = v->items[i]->str;
	}
	return 0;
}

/* read_parquet's columns=: a name or a list of names kept. */
static int parquet_columns(interp *in, const ast_node *cols, read_args *r)
{
	if (cols->kind == AST_STRING && *cols->str) {
		r->cols = xcalloc(1, sizeof(pond_kv));
		r->cols[r->ncols++].name = cols->str;
		return 0;
	}
	if (cols->kind != AST_LIST || !cols->n)
		return fail_at(in, cols, POND_EUSAGE, "columns must be a column name or a non-empty list of them");
	r->cols = xcalloc(cols->n, sizeof(pond_kv));
	for (size_t i = 0; i < cols->n; i++) {
		if (cols->items[i]->kind != AST_STRING || !*cols->items[i]->str)
			return fail_at(in, cols->items[i], POND_EUSAGE,
				       "columns must be a list of column names (strings)");
		r->cols[r->ncols++].name = cols->items[i]->str;
	}
	return 0;
}

/* read_csv/read_json's columns=: {'col': 'TYPE', ...}. */
static int typed_columns(interp *in, const ast_node *v, read_args *r)
{
	if (v->kind != AST_MAP || v->n == 0)
		return fail_at(in, v, POND_EUSAGE, "columns must be a map {'name': 'TYPE', ...}");
	r->cols = xcalloc(v->n, sizeof(pond_kv));
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->kind != AST_STRING)
			return fail_at(in, v->items[i], POND_EUSAGE,
				       "the type of column '%s' must be a string such as 'INTEGER'", v->keys[i]);
		r->cols[r->ncols].name = v->keys[i];
		r->cols[r->ncols++].value = v->items[i]->str;
	}
	return 0;
}

/* Arguments from index `first` on are reader options: their values'
 * kinds checked here, where the script wrote them, then passed as text in
 * the order of the function's parameters. */
static int reader_opts(interp *in, const func *f, bound *b, size_t first, read_args *r)
{
	r->opts = xcalloc(MAX_ARGS, sizeof(pond_kv));
	r->ints = xcalloc(MAX_ARGS, sizeof(char *));
	for (size_t j = first; j < MAX_ARGS && f->params[j]; j++) {
		const ast_node *v = b->arg[j];
		const char *name = f->params[j], *text = NULL;
		opt_type type;
		if (!v || v->kind == AST_NULL)
			continue;
		if (!source_opt_type(name, &type))
			return fail_at(in, v, POND_EINTERNAL, "%s: no type for option %s", f->name, name);
		if (type == OPT_BOOL && v->kind != AST_BOOL)
			return fail_at(in, v, POND_EUSAGE, "%s must be true or false, not %s", name,
				       kind_name(v->kind));
		if (type == OPT_INT && (v->kind != AST_INT || v->i < 0))
			return fail_at(in, v, POND_EUSAGE, "%s must be a non-negative integer", name);
		if (type == OPT_STR && v->kind != AST_STRING)
			return fail_at(in, v, POND_EUSAGE, "%s must be a string, not %s", name, kind_name(v->kind));
		if (type == OPT_BOOL)
			text = v->b ? "true" : "false";
		else if (type == OPT_INT)
			text = r->ints[r->nints++] = xasprintf("%lld", (long long)v->i);
		else
			text = v->str;
		r->opts[r->nopts].name = name;
		r->opts[r->nopts++].value = text;
	}
	return 0;
}

/* read_parquet (columns= names kept), read_csv and read_json (columns= a
 * map of types). */
static int read_source(interp *in, const func *f, bound *b, pond_format fmt, pond_dataset **out)
{
	const ast_node *cols = b->arg[1];
	read_args r = { 0 };
	int rc = want_paths(in, b->arg[0], &r);

	if (!rc && cols && cols->kind != AST_NULL)
		rc = fmt == POND_FORMAT_PARQUET ? parquet_columns(in, cols, &r) : typed_columns(in, cols, &r);
	if (!rc)
		rc = reader_opts(in, f, b, 2, &r);
	if (!rc) {
		const ast_node *paths = b->arg[0];
		at_call(in, b);
		if (paths->kind == AST_LIST)
			at_items(in, (const ast_node *const *)paths->items, paths->n);
		else
			at_items(in, &paths, 1);
		rc = built(pond_read(in->ps, fmt, r.paths, r.npaths, r.cols, r.ncols, r.opts, r.nopts, out));
	}
	read_args_free(&r);
	return rc;
}

static int fn_read_parquet(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return read_source(in, f, b, POND_FORMAT_PARQUET, out);
}

static int fn_read_csv(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return read_source(in, f, b, POND_FORMAT_CSV, out);
}

static int fn_read_json(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return read_source(in, f, b, POND_FORMAT_JSON, out);
}

/* ---- steps --------------------------------------------------------------- */

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

/* partial_sql(query, inputs…) and sql(query, inputs…). */
static int query_step(interp *in, bound *b, bool whole, pond_dataset **out)
{
	const ast_node *query = b->arg[0];
	const ast_node **inputs = b->rest;
	size_t ninputs = b->nrest;
	pond_dataset **ds = NULL;
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
	rc = want_string(in, query, "the query", &q);
	ds = xcalloc(ninputs + 1, sizeof(pond_dataset *));
	for (size_t i = 0; rc == 0 && i < ninputs; i++)
		rc = want_dataset(in, inputs[i], &ds[i]);
	if (rc == 0)
		rc = check_placeholders(in, query, ninputs);
	if (rc == 0) {
		at_call(in, b);
		at_items(in, inputs, ninputs);
		rc = built(whole ? pond_sql_step(in->ps, q, ds, ninputs, out)
				 : pond_partial_sql(in->ps, q, ds, ninputs, out));
	}
	free(ds);
	if (inputs != b->rest)
		free(inputs);
	return rc;
}

static int fn_partial_sql(interp *in, const func *f, bound *b, pond_dataset **out)
{
	(void)f;
	return query_step(in, b, false, out);
}

static int fn_sql(interp *in, const func *f, bound *b, pond_dataset **out)
{
	(void)f;
	return query_step(in, b, true, out);
}

typedef pond_status (*shorthand_fn)(pond_session *s, pond_dataset *in, const char *arg, pond_dataset **out);

/* filter / map / flat_map / partial_sort: a partial_sql on one input. */
static int shorthand(interp *in, const func *f, bound *b, pond_dataset **out, shorthand_fn make)
{
	pond_dataset *df;
	const char *arg = NULL;

	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (want_string(in, b->arg[1], f->params[1] + 1, &arg))
		return -1;
	if (!*arg)
		return fail_at(in, b->arg[1], POND_EUSAGE, "%s must not be empty", f->params[1] + 1);
	at_call(in, b);
	return built(make(in->ps, df, arg, out));
}

static int fn_filter(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return shorthand(in, f, b, out, pond_filter);
}

static int fn_map(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return shorthand(in, f, b, out, pond_map);
}

static int fn_flat_map(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return shorthand(in, f, b, out, pond_flat_map);
}

static int fn_partial_sort(interp *in, const func *f, bound *b, pond_dataset **out)
{
	return shorthand(in, f, b, out, pond_partial_sort);
}

/* repartition's one way to split besides the files: by_rows, hash_by,
 * by or range_by, in *by and *keys (an array to free). */
static int split_of(interp *in, const func *f, bound *b, pond_partitioning *by, const char ***keys, size_t *nkeys)
{
	static const pond_partitioning kinds[] = { POND_BY_HASH, POND_BY_EXPR, POND_BY_RANGE };
	const ast_node *chosen = NULL;
	bool by_rows = false;

	*by = POND_BY_FILES;
	if (b->arg[2] && want_bool(in, b->arg[2], "by_rows", &by_rows))
		return -1;
	if (by_rows)
		*by = POND_BY_ROWS, chosen = b->arg[2];
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
		free(*keys);
		*keys = NULL;
		*by = kinds[i - 3];
		if (i == 4) {
			const char *expr = NULL;
			if (want_string(in, v, "by", &expr))
				return -1;
			*keys = xcalloc(1, sizeof(char *));
			(*keys)[0] = expr;
			*nkeys = 1;
		} else if (want_names(in, v, f->params[i], keys, nkeys)) {
			return -1;
		}
	}
	return 0;
}

static int fn_repartition(interp *in, const func *f, bound *b, pond_dataset **out)
{
	pond_dataset *df;
	pond_partitioning by;
	const char **keys = NULL;
	size_t nkeys = 0;
	int64_t parts;
	int rc;

	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (want_int(in, b->arg[1], "the number of partitions", 1, MAX_PARTITIONS, &parts))
		return -1;
	rc = split_of(in, f, b, &by, &keys, &nkeys);
	if (rc == 0) {
		at_call(in, b);
		rc = built(pond_repartition(in->ps, df, (int)parts, by, keys, nkeys, out));
	}
	free(keys);
	return rc;
}

static int fn_random_shuffle(interp *in, const func *f, bound *b, pond_dataset **out)
{
	pond_dataset *df;
	int64_t parts = 0;

	(void)f;
	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (b->arg[1] && want_int(in, b->arg[1], "the number of partitions", 1, MAX_PARTITIONS, &parts))
		return -1;
	at_call(in, b);
	return built(pond_repartition(in->ps, df, (int)parts, POND_BY_RANDOM, NULL, 0, out));
}

static int fn_limit(interp *in, const func *f, bound *b, pond_dataset **out)
{
	pond_dataset *df;
	int64_t limit;

	(void)f;
	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (want_int(in, b->arg[1], "the limit", 0, INT64_MAX, &limit))
		return -1;
	at_call(in, b);
	return built(pond_limit(in->ps, df, limit, out));
}

/* ---- actions ------------------------------------------------------------- */

static const char *compressions[] = { "zstd", "snappy", "gzip", "lz4", "lz4_raw", "brotli", "uncompressed", NULL };

/* ---- output checks: against the whole script ----------------------------- */

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* One path a read_*() call of the script names, for check_output_dir. */
typedef struct {
	interp *in;
	const ast_node *at; /* the write's directory argument */
	const char *dir;    /* the output directory (absolute) ... */
	const char *out;    /* ... and its real path */
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
						c->dir, g.gl_pathv[i], src->line, src->col);
				free(real);
			}
			globfree(&g);
		}
	} else if (fs_exists(abs)) {
		char *real = fs_realpath(abs);
		if (fs_path_within(real, c->out))
			rc = fail_at(c->in, c->at, POND_EUSAGE,
				     "output directory %s contains %s, an input of the script (read at %d:%d)", c->dir,
				     abs, src->line, src->col);
		else if (fs_is_dir(real) && fs_path_within(c->out, real))
			rc = fail_at(
				c->in, c->at, POND_EUSAGE,
				"output directory %s is inside %s, an input directory of the script (read at %d:%d): "
				"a later run would read the output as input",
				c->dir, abs, src->line, src->col);
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

static int check_output_dir(interp *in, const ast_node *at, const char *dir)
{
	char *out = fs_realpath(dir);
	char *script_abs = fs_abspath(in->s->filename), *script = fs_realpath(script_abs);
	out_check c = { in, at, dir, out };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < in->ndirs; i++) {
		char *other;
		if (!strcmp(in->dirs[i], dir)) {
			rc = fail_at(in, at, POND_EUSAGE, "%s is already written by the write at %s", dir,
				     in->wheres[i]);
			break;
		}
		other = fs_realpath(in->dirs[i]);
		if (fs_path_within(out, other) || fs_path_within(other, out))
			rc = fail_at(in, at, POND_EUSAGE,
				     "output directory %s and the output %s written at %s are nested: "
				     "publishing one would replace or move the other",
				     dir, in->dirs[i], in->wheres[i]);
		free(other);
	}
	if (rc == 0 && fs_exists(dir) && !fs_is_dir(dir))
		rc = fail_at(in, at, POND_EUSAGE, "output %s exists and is not a directory", dir);
	if (rc == 0 && script && fs_path_within(script, out))
		rc = fail_at(in, at, POND_EUSAGE, "output directory %s contains the script %s", dir, script_abs);
	for (size_t i = 0; rc == 0 && i < in->s->nstmts; i++)
		rc = check_reads(&c, in->s->stmts[i].expr);
	if (rc == 0 && is_mount_point(dir))
		rc = fail_at(in, at, POND_EUSAGE,
			     "output directory %s is a mount point: pond publishes by renaming a directory into its "
			     "place, which cannot replace a mount point; write to a directory inside it",
			     dir);
	free(out);
	free(script);
	free(script_abs);
	return rc;
}

/* A write's arguments as pond_write takes them. */
typedef struct {
	pond_dataset *df;
	char *dir;     /* absolute */
	pond_kv *opts; /* partition_by (once per column), then the format's */
	size_t nopts;
	bool overwrite;
} write_args;

/* The arguments every write has: df, dir, partition_by, mode. */
static int write_common(interp *in, bound *b, int mode_arg, write_args *w)
{
	const char *dir = NULL, *mode = "error";
	const char **parts = NULL;
	size_t nparts = 0;

	if (want_dataset(in, b->arg[0], &w->df))
		return -1;
	if (want_string(in, b->arg[1], "the output directory", &dir))
		return -1;
	if (!*dir)
		return fail_at(in, b->arg[1], POND_EUSAGE, "the output directory must not be empty");
	w->dir = fs_abspath(dir);
	if (b->arg[2] && b->arg[2]->kind != AST_NULL && want_names(in, b->arg[2], "partition_by", &parts, &nparts))
		return -1;
	w->opts = xcalloc(nparts + 3, sizeof(pond_kv));
	for (size_t i = 0; i < nparts; i++)
		w->opts[w->nopts++] = (pond_kv){ "partition_by", parts[i] };
	free(parts);
	if (b->arg[mode_arg] && want_string(in, b->arg[mode_arg], "mode", &mode))
		return -1;
	if (strcmp(mode, "error") && strcmp(mode, "overwrite"))
		return fail_at(in, b->arg[mode_arg], POND_EUSAGE, "mode must be 'error' or 'overwrite', not '%s'",
			       mode);
	w->overwrite = !strcmp(mode, "overwrite");
	return check_output_dir(in, b->arg[1], w->dir);
}

/* Adds the write checked in w; its output is remembered for the next
 * writes' checks. */
static int write_out(interp *in, bound *b, pond_format fmt, write_args *w)
{
	at_call(in, b);
	if (built(pond_write(in->ps, w->df, fmt, w->dir, w->opts, w->nopts, w->overwrite)))
		return -1;
	in->dirs = xgrow(in->dirs, in->ndirs, sizeof(char *));
	in->wheres = xgrow(in->wheres, in->ndirs, sizeof(char *));
	in->dirs[in->ndirs] = w->dir;
	in->wheres[in->ndirs++] = xasprintf("%s:%d", in->s->filename, b->call->line);
	w->dir = NULL;
	in->nactions++;
	return 0;
}

static int fn_write_parquet(interp *in, const func *f, bound *b, pond_dataset **out)
{
	write_args w = { 0 };
	const char *comp = "zstd";
	int ok = 0, rc;

	(void)f;
	*out = NULL;
	rc = write_common(in, b, 4, &w);
	if (rc == 0 && b->arg[3])
		rc = want_string(in, b->arg[3], "compression", &comp);
	for (int i = 0; rc == 0 && compressions[i]; i++)
		ok |= !strcasecmp(comp, compressions[i]);
	if (rc == 0 && !ok)
		rc = fail_at(in, b->arg[3], POND_EUSAGE,
			     "unknown compression '%s' (zstd, snappy, gzip, lz4, lz4_raw, brotli, uncompressed)", comp);
	if (rc == 0) {
		w.opts[w.nopts++] = (pond_kv){ "compression", comp };
		rc = write_out(in, b, POND_FORMAT_PARQUET, &w);
	}
	free(w.dir);
	free(w.opts);
	return rc;
}

static int fn_write_csv(interp *in, const func *f, bound *b, pond_dataset **out)
{
	write_args w = { 0 };
	const char *delim = ",";
	bool header = true;
	int rc;

	(void)f;
	*out = NULL;
	rc = write_common(in, b, 5, &w);
	if (rc == 0 && b->arg[3])
		rc = want_bool(in, b->arg[3], "header", &header);
	if (rc == 0 && b->arg[4])
		rc = want_string(in, b->arg[4], "delim", &delim);
	if (rc == 0 && strlen(delim) != 1 && strcmp(delim, "\\t"))
		rc = fail_at(in, b->arg[4], POND_EUSAGE, "delim must be one character, or '\\t' for a tab");
	if (rc == 0) {
		w.opts[w.nopts++] = (pond_kv){ "header", header ? "true" : "false" };
		w.opts[w.nopts++] = (pond_kv){ "delim", delim };
		rc = write_out(in, b, POND_FORMAT_CSV, &w);
	}
	free(w.dir);
	free(w.opts);
	return rc;
}

static int fn_show(interp *in, const func *f, bound *b, pond_dataset **out)
{
	pond_dataset *df;
	int64_t n = 20;

	(void)f;
	*out = NULL;
	if (want_dataset(in, b->arg[0], &df))
		return -1;
	if (b->arg[1] && want_int(in, b->arg[1], "n", 0, 1000000, &n))
		return -1;
	at_call(in, b);
	in->nactions++;
	return built(pond_show(in->ps, df, n));
}

static int fn_count(interp *in, const func *f, bound *b, pond_dataset **out)
{
	pond_dataset *df;

	(void)f;
	*out = NULL;
	if (want_dataset(in, b->arg[0], &df))
		return -1;
	at_call(in, b);
	in->nactions++;
	return built(pond_count(in->ps, df));
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
	{ "flat_map", { "*df", "*select" }, false, fn_flat_map },
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

static pond_dataset *lookup(interp *in, const char *name)
{
	for (size_t i = in->nnames; i-- > 0;)
		if (!strcmp(in->names[i], name))
			return in->values[i];
	return NULL;
}

/* Evaluates an expression: *out is the dataset, or NULL for an action. */
static int eval(interp *in, const ast_node *e, pond_dataset **out)
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

/* One statement: `name = expr` binds a dataset (pond_name, so that later
 * sql() steps may name it), a bare expression must be an action. */
static int statement(interp *in, const ast_stmt *st)
{
	pond_dataset *v = NULL;

	if (eval(in, st->expr, &v))
		return -1;
	if (st->target) {
		if (!v)
			return fail_at(in, st->expr, POND_EUSAGE,
				       "'%s' is an action and returns nothing to bind to '%s'", st->expr->str,
				       st->target);
		in->names = xgrow(in->names, in->nnames, sizeof(char *));
		in->values = xgrow(in->values, in->nnames, sizeof(pond_dataset *));
		in->names[in->nnames] = st->target;
		in->values[in->nnames++] = v;
		return built(pond_name(in->ps, v, st->target));
	}
	if (v)
		return fail_at(in, st->expr, POND_EUSAGE,
			       "the dataset made here is never used: bind it (name = ...) or end it "
			       "with an action (write_parquet, write_csv, show, count)");
	return 0;
}

/* A step's inputs are evaluated before the step is made (the API takes
 * their handles), so nodes are made inputs-first and plans read
 * top-down. */
int interp_script(const script *s, pond_session *ps, pond_err *err)
{
	interp in = { .s = s, .ps = ps, .err = err };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->nstmts; i++)
		rc = statement(&in, &s->stmts[i]);
	if (rc == 0 && in.nactions == 0)
		rc = pond_fail(
			err, POND_EUSAGE,
			"%s: the script has no action (write_parquet, write_csv, show or count), so nothing would run",
			s->filename);
	for (size_t i = 0; i < in.ndirs; i++) {
		free(in.dirs[i]);
		free(in.wheres[i]);
	}
	free(in.dirs);
	free(in.wheres);
	free(in.names);
	free(in.values);
	return rc;
}
