/* dataset.c — building a plan call by call (include/pond.h, pond_read …
 * pond_write, pond_show, pond_count, pond_name): the one way a plan is
 * built, used by both front ends, python/pond and the script interpreter
 * (src/script/interp.c). Each call checks its arguments, makes its node,
 * then binds it at once in the session's plan-time DuckDB (a child process
 * kept for the session, so earlier steps stay bound), so that a mistake
 * fails the call that made it. While pond_load_script interprets a script
 * (s->loading) the calls only make nodes: the session binds the whole
 * plan once at the end, as a script has always been bound. pond_fetch reads a written output back into typed
 * columns with a DuckDB of its own, opened and closed within the call
 * (engine/fetch.c), so no DuckDB thread runs when pond_run forks. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "engine/fetch.h"
#include "plan/bind.h"
#include "plan/source.h"
#include "plan/sqlplan.h"
#include "util/fsutil.h"
#include "util/sb.h"

#define MAX_PARTITIONS 1000000

struct pond_result {
	fetch_result f; /* the typed columns (engine/fetch.c) */
	char **names;   /* the dataset's column names */
	char ***text;   /* per typed column, its values as text once asked */
};

/* The datasets pond_name named, and nothing else of the plan. */
static void drop_names(pond_session *s)
{
	for (size_t i = 0; i < s->nnamed; i++)
		free(s->names[i]);
	free(s->names);
	free(s->named);
	s->names = NULL;
	s->named = NULL;
	s->nnamed = 0;
}

void session_drop_built(pond_session *s)
{
	plandb_close(s->db);
	s->db = NULL;
	s->built = false;
	drop_names(s);
}

void pond_at_items(pond_session *s, const int *lines, const int *cols, size_t n)
{
	free(s->item_pos);
	s->item_pos = xcalloc(2 * n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		s->item_pos[2 * i] = lines[i];
		s->item_pos[2 * i + 1] = cols[i];
	}
	s->nitems = n;
}

void pond_at_col(pond_session *s, const char *file, int line, int col)
{
	pond_at_items(s, NULL, NULL, 0);
	free(s->site);
	s->site = file ? xstrdup(file) : NULL;
	s->site_line = line;
	s->site_col = col;
}

void pond_at(pond_session *s, const char *file, int line)
{
	pond_at_col(s, file, line, 0);
}

static const char *site(const pond_session *s)
{
	return s->site ? s->site : "api";
}

/* "file:line", or "file:line:col" when pond_at_col gave a column: where
 * the next step is made, for its node and its messages. */
static char *site_text(const pond_session *s)
{
	if (s->site_col > 0)
		return xasprintf("%s:%d:%d", site(s), s->site_line, s->site_col);
	return xasprintf("%s:%d", site(s), s->site_line);
}

/* Starts a call: the plan and its plan-time DuckDB made on first use (a
 * script being loaded has its plan, and is bound once at its end). */
static int begin(pond_session *s)
{
	memset(&s->err, 0, sizeof(s->err));
	if (!s->built) {
		lplan_free(s->lp);
		s->lp = lplan_new();
		drop_names(s);
		free(s->sql_job_dir);
		s->sql_job_dir = NULL;
		free(s->script_path);
		s->script_path = xstrdup("the API's plan");
		s->built = true;
	}
	if (!s->db && !s->loading && plandb_open(&s->db, &s->err))
		return -1;
	return 0;
}

static pond_status failed(pond_session *s)
{
	return s->err.code ? s->err.code : POND_EINTERNAL;
}

static int api_fail(pond_session *s, pond_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fails the call with "file:line[:col]: " and the message; is -1. */
static int api_fail(pond_session *s, pond_status code, const char *fmt, ...)
{
	char msg[4096], *at = site_text(s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pond_fail(&s->err, code, "%s: %s", at, msg);
	free(at);
	return -1;
}

/* Prefixes the message about item i of the call's list (a path, an
 * input) with its position if pond_at_items gave it ("file:line:col"),
 * else with the call's and func (if not NULL). Returns -1. */
static int item_wrap(pond_session *s, size_t i, const char *func)
{
	char *at;

	if (i < s->nitems)
		return pond_wrap(&s->err, "%s:%d:%d", site(s), s->item_pos[2 * i], s->item_pos[2 * i + 1]);
	at = site_text(s);
	if (func)
		pond_wrap(&s->err, "%s: %s", at, func);
	else
		pond_wrap(&s->err, "%s", at);
	free(at);
	return -1;
}

/* Fails the call with "file:line[:col]: func: what". */
static pond_status usage(pond_session *s, const char *func, const char *what)
{
	char *at = site_text(s);

	memset(&s->err, 0, sizeof(s->err));
	pond_fail(&s->err, POND_EUSAGE, "%s: %s: %s", at, func, what);
	free(at);
	return POND_EUSAGE;
}

/* A node of kind k made by func at the session's site. */
static lnode *node(pond_session *s, lnode_kind k, const char *func)
{
	char *where = xasprintf("%s:%d", site(s), s->site_line);
	lnode *n = lplan_add(s->lp, k, func, where);

	free(where);
	n->line = s->site_line;
	n->col = s->site_col > 0 ? s->site_col : s->site_line > 0 ? 1 : 0;
	return n;
}

static void set_inputs(lnode *n, pond_dataset *const *inputs, size_t ninputs)
{
	n->ninputs = ninputs;
	n->inputs = xcalloc(ninputs ? ninputs : 1, sizeof(lnode *));
	for (size_t i = 0; i < ninputs; i++)
		n->inputs[i] = (lnode *)inputs[i];
}

/* Binds the nodes from first on; on failure they are dropped again (with
 * their tables in the plan-time DuckDB, whose names the next nodes reuse).
 * While a script loads, nothing is bound yet (pond_load_script binds it). */
static pond_status finish(pond_session *s, size_t first, pond_dataset **out)
{
	lplan *lp = s->lp;
	lnode *made = lp->nnodes > first ? lp->nodes[lp->nnodes - 1] : NULL;
	int rc = s->loading ? 0 : plan_bind_from(lp, s->db, first, site(s), &s->err);

	if (!rc && !s->loading && made && made->kind == L_SQL) {
		made->sql_planned = false;
		rc = sql_script_plan(lp, s->db, &s->err);
	}
	if (rc) {
		for (size_t i = first; i < lp->nnodes; i++) {
			char *drop = xasprintf("DROP TABLE IF EXISTS __pond_n%d", lp->nodes[i]->id);
			plandb_query(s->db, drop, NULL, NULL);
			free(drop);
		}
		lplan_truncate(lp, first);
		return failed(s);
	}
	if (out)
		*out = (pond_dataset *)made;
	return POND_OK;
}

static int source_opt(pond_session *s, lnode *n, const pond_kv *kv)
{
	opt_type type;
	char *end;
	long long v;

	if (!kv->name || !kv->value || !source_opt_type(kv->name, &type))
		return api_fail(s, POND_EUSAGE, "%s: unknown reader option '%s'", n->func,
				kv->name ? kv->name : "(null)");
	switch (type) {
	case OPT_BOOL:
		if (strcmp(kv->value, "true") && strcmp(kv->value, "false"))
			return api_fail(s, POND_EUSAGE, "%s: %s must be true or false, not '%s'", n->func, kv->name,
					kv->value);
		lnode_set_opt(n, kv->name, OPT_BOOL, !strcmp(kv->value, "true"), 0, NULL);
		break;
	case OPT_INT:
		v = strtoll(kv->value, &end, 10);
		if (!*kv->value || *end || v < 0)
			return api_fail(s, POND_EUSAGE, "%s: %s must be a non-negative integer", n->func, kv->name);
		lnode_set_opt(n, kv->name, OPT_INT, false, v, NULL);
		break;
	case OPT_STR:
		lnode_set_opt(n, kv->name, OPT_STR, false, 0, kv->value);
		break;
	}
	return 0;
}

pond_status pond_read(pond_session *s, pond_format f, const char *const *paths, size_t npaths, const pond_kv *columns,
		      size_t ncolumns, const pond_kv *opts, size_t nopts, pond_dataset **out)
{
	static const char *const funcs[] = { "read_parquet", "read_csv", "read_json" };
	size_t first;
	lnode *n;

	if (begin(s))
		return failed(s);
	if ((int)f < 0 || f > POND_FORMAT_JSON)
		return usage(s, "read", "unknown format");
	if (!npaths)
		return usage(s, funcs[f], "no paths given");
	first = s->lp->nnodes;
	n = node(s, L_SOURCE, funcs[f]);
	n->format = f == POND_FORMAT_PARQUET ? FMT_PARQUET : f == POND_FORMAT_CSV ? FMT_CSV : FMT_JSON;
	for (size_t i = 0; i < npaths; i++) {
		if (source_add_path(n, paths[i], &s->err)) {
			lplan_truncate(s->lp, first);
			item_wrap(s, i, funcs[f]);
			return failed(s);
		}
	}
	source_sort_files(n);
	for (size_t i = 0; i < ncolumns; i++) {
		if (f == POND_FORMAT_PARQUET) {
			n->select = xgrow(n->select, n->nselect, sizeof(char *));
			n->select[n->nselect++] = xstrdup(columns[i].name);
		} else {
			schema_add(&n->columns, columns[i].name, columns[i].value);
		}
	}
	lnode_set_opt(n, "hive_partitioning", OPT_BOOL, false, 0, NULL);
	if (f == POND_FORMAT_CSV) {
		lnode_set_opt(n, "header", OPT_BOOL, true, 0, NULL);
		lnode_set_opt(n, "delim", OPT_STR, false, 0, ",");
	}
	for (size_t i = 0; i < nopts; i++) {
		if (source_opt(s, n, &opts[i])) {
			lplan_truncate(s->lp, first);
			return failed(s);
		}
	}
	return finish(s, first, out);
}

static bool mine(const pond_session *s, pond_dataset *const *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k; /* from the newest: a step mostly reads a recent one */
		for (k = s->lp->nnodes; k > 0 && (pond_dataset *)s->lp->nodes[k - 1] != d[i]; k--)
			;
		if (!d[i] || k == 0)
			return false;
	}
	return true;
}

/* partial_sql's partition count: its inputs' count, all equal or 1
 * (broadcast to every partition). */
static int partial_parts(pond_session *s, lnode *n)
{
	int parts = 1;

	for (size_t i = 0; i < n->ninputs; i++) {
		int p = n->inputs[i]->nparts;
		if (p == 1 || p == parts)
			continue;
		if (parts != 1) {
			pond_fail(&s->err, POND_EUSAGE,
				  "partial_sql inputs have %d and %d partitions: they must be equal, "
				  "or 1 (broadcast to every partition)",
				  parts, p);
			return item_wrap(s, i, NULL);
		}
		parts = p;
	}
	n->nparts = parts;
	return 0;
}

/* The datasets an sql() query may name: those pond_name named, as last
 * named, whose names the query's text holds. */
static void sql_scope(pond_session *s, lnode *n)
{
	n->scope_names = xcalloc(s->nnamed + 1, sizeof(char *));
	n->scope_nodes = xcalloc(s->nnamed + 1, sizeof(lnode *));
	for (size_t i = s->nnamed; i-- > 0;) {
		size_t k;
		for (k = 0; k < n->nscope && strcmp(n->scope_names[k], s->names[i]); k++)
			;
		if (k == n->nscope && strcasestr(n->query, s->names[i])) {
			n->scope_names[n->nscope] = xstrdup(s->names[i]);
			n->scope_nodes[n->nscope++] = (lnode *)s->named[i];
		}
	}
}

static pond_status query_step(pond_session *s, lnode_kind k, const char *func, const char *query,
			      pond_dataset *const *inputs, size_t ninputs, pond_dataset **out)
{
	size_t first;
	lnode *n;

	if (begin(s))
		return failed(s);
	if (!query || !*query)
		return usage(s, func, "the query must not be empty");
	if (!mine(s, inputs, ninputs))
		return usage(s, func, "an input is not a dataset of this session");
	first = s->lp->nnodes;
	n = node(s, k == L_PARTIAL && !ninputs ? L_QUERY : k, func);
	n->query = xstrdup(query);
	set_inputs(n, inputs, ninputs);
	if (k == L_PARTIAL && partial_parts(s, n)) {
		lplan_truncate(s->lp, first);
		return POND_EUSAGE;
	}
	if (k == L_SQL)
		sql_scope(s, n);
	return finish(s, first, out);
}

pond_status pond_partial_sql(pond_session *s, const char *query, pond_dataset *const *inputs, size_t ninputs,
			     pond_dataset **out)
{
	return query_step(s, L_PARTIAL, "partial_sql", query, inputs, ninputs, out);
}

pond_status pond_sql_step(pond_session *s, const char *query, pond_dataset *const *inputs, size_t ninputs,
			  pond_dataset **out)
{
	return query_step(s, L_SQL, "sql", query, inputs, ninputs, out);
}

static pond_status one_input(pond_session *s, lnode_kind k, const char *func, pond_dataset *in, lnode **n)
{
	if (begin(s))
		return failed(s);
	if (!mine(s, &in, 1))
		return usage(s, func, "the input is not a dataset of this session");
	*n = node(s, k, func);
	set_inputs(*n, &in, 1);
	return POND_OK;
}

/* The per-partition shorthands of partial_sql. */
typedef enum { SH_FILTER, SH_MAP, SH_SORT } shorthand_kind;

/* filter/map/flat_map/partial_sort: a partial_sql over one input, its
 * query a template around arg. */
static pond_status shorthand(pond_session *s, const char *func, shorthand_kind k, pond_dataset *in, const char *arg,
			     pond_dataset **out)
{
	static const char *const templates[] = {
		[SH_FILTER] = "SELECT * FROM {0} WHERE (%s)",
		[SH_MAP] = "SELECT %s FROM {0}",
		[SH_SORT] = "SELECT * FROM {0} ORDER BY %s",
	};
	lnode *n;
	pond_status st;

	if (!arg || !*arg)
		return usage(s, func, "the SQL text must not be empty");
	st = one_input(s, L_PARTIAL, func, in, &n);
	if (st)
		return st;
	n->query = xasprintf(templates[k], arg);
	n->rowwise = k != SH_SORT;
	n->keeps_schema = k != SH_MAP;
	n->nparts = n->inputs[0]->nparts;
	return finish(s, (size_t)n->id, out);
}

pond_status pond_filter(pond_session *s, pond_dataset *in, const char *predicate, pond_dataset **out)
{
	return shorthand(s, "filter", SH_FILTER, in, predicate, out);
}

pond_status pond_map(pond_session *s, pond_dataset *in, const char *select, pond_dataset **out)
{
	return shorthand(s, "map", SH_MAP, in, select, out);
}

pond_status pond_flat_map(pond_session *s, pond_dataset *in, const char *select, pond_dataset **out)
{
	return shorthand(s, "flat_map", SH_MAP, in, select, out);
}

pond_status pond_partial_sort(pond_session *s, pond_dataset *in, const char *order_by, pond_dataset **out)
{
	return shorthand(s, "partial_sort", SH_SORT, in, order_by, out);
}

/* A type as SQL text, pasted into the bind's CAST: words, digits,
 * parentheses, brackets, commas and spaces only (no quote, no ';'). */
static bool plain_type(const char *t)
{
	if (!t || !*t)
		return false;
	for (; *t; t++)
		if (!isalnum((unsigned char)*t) && !strchr("_ (),[]", *t))
			return false;
	return true;
}

pond_status pond_python(pond_session *s, pond_dataset *in, const char *func, const char *runner, const char *pickle,
			const pond_kv *columns, size_t ncolumns, pond_dataset **out)
{
	const char *name = func && *func ? func : "python";
	lnode *n;
	pond_status st;

	if (!ncolumns)
		return usage(s, name, "the output's columns must be given");
	for (size_t i = 0; i < ncolumns; i++)
		if (!columns[i].name || !*columns[i].name || !plain_type(columns[i].value))
			return usage(s, name, "a column needs a name and a DuckDB type (letters, digits, '_ (),[]')");
	if (!runner || !fs_exists(runner) || fs_is_dir(runner) || !pickle || !fs_exists(pickle) || fs_is_dir(pickle))
		return usage(s, name, "the runner and the pickle must be files");
	st = one_input(s, L_PYTHON, name, in, &n);
	if (st)
		return st;
	n->py_runner = fs_realpath(runner);
	n->py_pickle = fs_realpath(pickle);
	n->nparts = n->inputs[0]->nparts;
	for (size_t i = 0; i < ncolumns; i++)
		schema_add(&n->columns, columns[i].name, columns[i].value);
	return finish(s, (size_t)n->id, out);
}

pond_status pond_limit(pond_session *s, pond_dataset *in, int64_t limit, pond_dataset **out)
{
	lnode *n;
	pond_status st;

	if (limit < 0)
		return usage(s, "limit", "the limit must not be negative");
	st = one_input(s, L_LIMIT, "limit", in, &n);
	if (st)
		return st;
	n->limit = limit;
	return finish(s, (size_t)n->id, out);
}

/* hash_by/range_by: the keys as quoted SQL and as names; one key is
 * described by its name, several by their SQL. */
static void set_keys(lnode *n, rp_mode mode, const char *const *names, size_t nnames)
{
	sb b = SB_INIT;

	n->mode = mode;
	n->nkeys = nnames;
	n->key_names = xcalloc(nnames, sizeof(char *));
	for (size_t i = 0; i < nnames; i++) {
		if (i)
			sb_add(&b, ", ");
		sb_sql_ident(&b, names[i]);
		n->key_names[i] = xstrdup(names[i]);
	}
	n->key = sb_detach(&b);
	n->key_desc = xstrdup(nnames == 1 ? names[0] : n->key);
}

pond_status pond_repartition(pond_session *s, pond_dataset *in, int parts, pond_partitioning by,
			     const char *const *keys, size_t nkeys, pond_dataset **out)
{
	const char *func = by == POND_BY_RANDOM ? "random_shuffle" : "repartition";
	bool keyed = by == POND_BY_HASH || by == POND_BY_RANGE || by == POND_BY_EXPR;
	lnode *n;
	pond_status st;

	memset(&s->err, 0, sizeof(s->err));
	if ((int)by < 0 || by > POND_BY_RANDOM)
		return usage(s, func, "unknown partitioning");
	if (parts < (by == POND_BY_RANDOM ? 0 : 1) || parts > MAX_PARTITIONS)
		return usage(s, func, "the number of partitions must be between 1 and 1000000");
	if (keyed != (nkeys > 0) || (by == POND_BY_EXPR && nkeys != 1))
		return usage(s, func,
			     keyed ? "hash_by and range_by need column names, by one expression"
				   : "only hash_by, range_by and by take keys");
	for (size_t i = 0; i < nkeys; i++)
		if (!keys[i] || !*keys[i])
			return usage(s, func, "empty column name or expression");
	st = one_input(s, L_REPARTITION, func, in, &n);
	if (st)
		return st;
	n->nparts = parts ? parts : n->inputs[0]->nparts;
	switch (by) {
	case POND_BY_FILES:
		n->mode = RP_FILES;
		break;
	case POND_BY_ROWS:
		n->mode = RP_ROWS;
		break;
	case POND_BY_HASH:
	case POND_BY_RANGE:
		set_keys(n, by == POND_BY_HASH ? RP_HASH : RP_RANGE, keys, nkeys);
		break;
	case POND_BY_EXPR:
		n->mode = RP_EXPR;
		n->key = xasprintf("(%s)", keys[0]);
		n->key_desc = xstrdup(keys[0]);
		break;
	case POND_BY_RANDOM:
		n->mode = RP_RANDOM;
		break;
	}
	return finish(s, (size_t)n->id, out);
}

static const char *const compressions[] = {
	"zstd", "snappy", "gzip", "lz4", "lz4_raw", "brotli", "uncompressed", NULL
};

/* The COPY options and partition_by of a write, from its options. */
static int write_opts(pond_session *s, action *a, pond_format f, const pond_kv *opts, size_t nopts)
{
	const char *comp = "zstd", *delim = ",", *header = "true";
	sb parts = SB_INIT, copy = SB_INIT;
	bool ok = false;

	for (size_t i = 0; i < nopts; i++) {
		const char *k = opts[i].name ? opts[i].name : "", *v = opts[i].value ? opts[i].value : "";
		if (!strcmp(k, "partition_by") && *v) {
			if (parts.len)
				sb_add(&parts, ", ");
			sb_sql_ident(&parts, v);
		} else if (!strcmp(k, "compression") && f == POND_FORMAT_PARQUET) {
			comp = v;
		} else if (!strcmp(k, "delim") && f == POND_FORMAT_CSV) {
			delim = v;
		} else if (!strcmp(k, "header") && f == POND_FORMAT_CSV &&
			   (!strcmp(v, "true") || !strcmp(v, "false"))) {
			header = v;
		} else {
			sb_release(&parts);
			return api_fail(s, POND_EUSAGE, "write: unknown or bad option '%s'", k);
		}
	}
	for (int i = 0; compressions[i]; i++)
		ok |= !strcasecmp(comp, compressions[i]);
	if (!ok || (strlen(delim) != 1 && strcmp(delim, "\\t"))) {
		sb_release(&parts);
		return api_fail(s, POND_EUSAGE, "write: %s",
				ok ? "delim must be one character, or '\\t' for a tab"
				   : "unknown compression (zstd, snappy, gzip, lz4, lz4_raw, brotli, uncompressed)");
	}
	if (f == POND_FORMAT_PARQUET) {
		sb_add(&copy, "FORMAT parquet, COMPRESSION ");
		sb_sql_str(&copy, comp);
	} else {
		sb_addf(&copy, "FORMAT csv, HEADER %s, DELIMITER ", header);
		sb_sql_str(&copy, delim);
	}
	a->copy_options = sb_detach(&copy);
	if (parts.len)
		a->partition_by = sb_detach(&parts);
	else
		sb_release(&parts);
	return 0;
}

pond_status pond_write(pond_session *s, pond_dataset *in, pond_format f, const char *dir, const pond_kv *opts,
		       size_t nopts, bool overwrite)
{
	char *where;
	action *a;

	if (begin(s))
		return failed(s);
	if (!mine(s, &in, 1))
		return usage(s, "write", "the input is not a dataset of this session");
	if (f != POND_FORMAT_PARQUET && f != POND_FORMAT_CSV)
		return usage(s, "write", "pond writes Parquet or CSV");
	if (!dir || !*dir)
		return usage(s, "write", "the output directory must not be empty");
	if (fs_exists(dir) && !fs_is_dir(dir))
		return usage(s, "write", "the output exists and is not a directory");
	where = xasprintf("%s:%d", site(s), s->site_line);
	a = lplan_add_action(s->lp, f == POND_FORMAT_PARQUET ? A_WRITE_PARQUET : A_WRITE_CSV, (lnode *)in, where);
	free(where);
	a->line = s->site_line;
	a->col = s->site_col;
	a->dir = fs_abspath(dir);
	a->overwrite = overwrite;
	if (write_opts(s, a, f, opts, nopts) || finish(s, s->lp->nnodes, NULL)) {
		s->lp->nactions--; /* the action just added: its strings go with it */
		free(a->where);
		free(a->dir);
		free(a->partition_by);
		free(a->copy_options);
		return failed(s);
	}
	return POND_OK;
}

/* show(n) and count(): an action printing to stdout when pond_run runs. */
static pond_status print_action(pond_session *s, action_kind k, const char *func, pond_dataset *in, int64_t n)
{
	char *where;
	action *a;

	if (begin(s))
		return failed(s);
	if (!mine(s, &in, 1))
		return usage(s, func, "the input is not a dataset of this session");
	if (n < 0 || n > 1000000)
		return usage(s, func, "the number of rows must be between 0 and 1000000");
	where = xasprintf("%s:%d", site(s), s->site_line);
	a = lplan_add_action(s->lp, k, (lnode *)in, where);
	free(where);
	a->line = s->site_line;
	a->col = s->site_col;
	a->n = n;
	return POND_OK;
}

pond_status pond_show(pond_session *s, pond_dataset *in, int64_t n)
{
	return print_action(s, A_SHOW, "show", in, n);
}

pond_status pond_count(pond_session *s, pond_dataset *in)
{
	return print_action(s, A_COUNT, "count", in, 0);
}

pond_status pond_name(pond_session *s, pond_dataset *d, const char *name)
{
	lnode *n = (lnode *)d;

	if (begin(s))
		return failed(s);
	if (!mine(s, &d, 1))
		return usage(s, "name", "not a dataset of this session");
	if (!name || !*name)
		return usage(s, "name", "the name must not be empty");
	s->names = xgrow(s->names, s->nnamed, sizeof(char *));
	s->named = xgrow(s->named, s->nnamed, sizeof(pond_dataset *));
	s->names[s->nnamed] = xstrdup(name);
	s->named[s->nnamed++] = d;
	free(n->name);
	n->name = xstrdup(name);
	return POND_OK;
}

int pond_dataset_partitions(const pond_dataset *d)
{
	return ((const lnode *)d)->nparts;
}

size_t pond_dataset_columns(const pond_dataset *d)
{
	return ((const lnode *)d)->schema.n;
}

const char *pond_dataset_column(const pond_dataset *d, size_t i, const char **type)
{
	const schema *sc = &((const lnode *)d)->schema;

	if (i >= sc->n)
		return NULL;
	if (type)
		*type = sc->cols[i].type;
	return sc->cols[i].name;
}

pond_status pond_set_job(pond_session *s, const char *job_dir, bool resume)
{
	memset(&s->err, 0, sizeof(s->err));
	free((char *)s->o.job_dir);
	s->o.job_dir = job_dir ? xstrdup(job_dir) : NULL;
	s->o.resume = resume;
	return POND_OK;
}

/* ---- results ------------------------------------------------------------- */

/* Column col's values as text, made on first asking for a typed column. */
static char **text_of(pond_result *r, size_t col)
{
	const fetch_col *c = &r->f.cols[col];
	char **t;

	if (c->kind == FETCH_TEXT)
		return c->data;
	if (r->text[col])
		return r->text[col];
	t = r->text[col] = xcalloc((size_t)r->f.nrows + 1, sizeof(char *));
	for (int64_t i = 0; i < r->f.nrows; i++) {
		if (!c->valid[i])
			continue;
		if (c->kind == FETCH_INT64)
			t[i] = xasprintf("%lld", (long long)((const int64_t *)c->data)[i]);
		else if (c->kind == FETCH_BOOL)
			t[i] = xstrdup(((const uint8_t *)c->data)[i] ? "true" : "false");
		else
			t[i] = xasprintf("%.17g", ((const double *)c->data)[i]);
	}
	return t;
}

pond_status pond_fetch(pond_session *s, const pond_dataset *d, const char *dir, pond_result **out)
{
	const lnode *n = (const lnode *)d;
	char **names = NULL, **files;
	size_t nnames = 0, nfiles = 0;
	pond_result *r;
	int rc = 0;

	*out = NULL;
	if (begin(s))
		return failed(s);
	if (!mine(s, (pond_dataset *const *)&d, 1))
		return usage(s, "fetch", "not a dataset of this session");
	if (!fs_is_dir(dir)) { /* one part file */
		names = xcalloc(2, sizeof(char *));
		names[nnames++] = xstrdup(dir);
	} else if (fs_list(dir, &names, &nnames, &s->err)) {
		return failed(s);
	}
	files = xcalloc(nnames + 1, sizeof(char *));
	for (size_t i = 0; i < nnames; i++) {
		size_t len = strlen(names[i]);
		if (len >= 8 && !strcmp(names[i] + len - 8, ".parquet"))
			files[nfiles++] = fs_is_dir(dir) ? xasprintf("%s/%s", dir, names[i]) : xstrdup(names[i]);
	}
	fs_free_list(names);
	r = xcalloc(1, sizeof(pond_result));
	rc = engine_fetch(files, nfiles, &r->f, &s->err);
	if (!rc && nfiles && r->f.ncols != n->schema.n)
		rc = pond_fail(&s->err, POND_EINPUT, "%s has %zu columns, the dataset %zu", dir, r->f.ncols,
			       n->schema.n);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	if (rc) {
		pond_result_free(r);
		return failed(s);
	}
	if (!nfiles) { /* no rows: the dataset's columns, as text */
		r->f.ncols = n->schema.n;
		r->f.cols = xcalloc(r->f.ncols + 1, sizeof(fetch_col));
		for (size_t c = 0; c < r->f.ncols; c++)
			r->f.cols[c].type = xstrdup(n->schema.cols[c].type);
	}
	r->names = xcalloc(r->f.ncols + 1, sizeof(char *));
	r->text = xcalloc(r->f.ncols + 1, sizeof(char **));
	for (size_t c = 0; c < r->f.ncols; c++)
		r->names[c] = xstrdup(n->schema.cols[c].name);
	*out = r;
	return POND_OK;
}

int64_t pond_result_rows(const pond_result *r)
{
	return r->f.nrows;
}

size_t pond_result_columns(const pond_result *r)
{
	return r->f.ncols;
}

const char *pond_result_name(const pond_result *r, size_t col)
{
	return col < r->f.ncols ? r->names[col] : NULL;
}

const char *pond_result_type(const pond_result *r, size_t col)
{
	return col < r->f.ncols ? r->f.cols[col].type : NULL;
}

const char *const *pond_result_values(const pond_result *r, size_t col)
{
	/* the text of a typed column is a cache: made once, then kept */
	return col < r->f.ncols ? (const char *const *)text_of((pond_result *)r, col) : NULL;
}

pond_values pond_result_kind(const pond_result *r, size_t col)
{
	return col < r->f.ncols ? (pond_values)r->f.cols[col].kind : POND_VALUES_TEXT;
}

const void *pond_result_data(const pond_result *r, size_t col)
{
	return col < r->f.ncols && r->f.cols[col].kind != FETCH_TEXT ? r->f.cols[col].data : NULL;
}

const uint8_t *pond_result_valid(const pond_result *r, size_t col)
{
	return col < r->f.ncols ? r->f.cols[col].valid : NULL;
}

void pond_result_free(pond_result *r)
{
	if (!r)
		return;
	for (size_t c = 0; c < r->f.ncols; c++) {
		for (int64_t i = 0; r->text[c] && i < r->f.nrows; i++)
			free(r->text[c][i]);
		free(r->text[c]);
		free(r->names[c]);
	}
	free(r->text);
	free(r->names);
	fetch_result_release(&r->f);
	free(r);
}
