/* source.c — SQL of a source read (see source.h). A source read in parts
 * (a shuffle producer's share of its files, a row slice, a group of files)
 * casts its columns to the types DuckDB gives the whole source at plan
 * time: files whose column types differ (INT in one, DOUBLE in another)
 * would otherwise give parts of different types, and equal keys different
 * hashes. */
#include "plan/source.h"

#include <glob.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/fsutil.h"

static const char *const reader[] = { "read_parquet", "read_csv", "read_json" };

static void select_list(sb *b, const lnode *n, unsigned flags)
{
	bool rows = (flags & (SRC_ROWS | SRC_ROWNUM)) && n->format == FMT_PARQUET;

	if ((flags & SRC_CAST) && n->schema.n) {
		for (size_t i = 0; i < n->schema.n; i++) {
			sb_add(b, i ? ", CAST(" : "CAST(");
			sb_sql_ident(b, n->schema.cols[i].name);
			sb_addf(b, " AS %s) AS ", n->schema.cols[i].type);
			sb_sql_ident(b, n->schema.cols[i].name);
		}
	} else if (n->nselect) {
		for (size_t i = 0; i < n->nselect; i++) {
			sb_add(b, i ? ", " : "");
			sb_sql_ident(b, n->select[i]);
		}
	} else {
		sb_add(b, rows ? "* EXCLUDE (file_row_number)" : "*");
	}
	if ((flags & SRC_ROWNUM) && n->format == FMT_PARQUET)
		sb_add(b, ", file_row_number AS __pond_rn");
}

/* , name={'col': 'TYPE', ...} */
static void type_map(sb *b, const char *name, const schema *s)
{
	if (!s->n)
		return;
	sb_addf(b, ", %s={", name);
	for (size_t i = 0; i < s->n; i++) {
		sb_add(b, i ? ", " : "");
		sb_sql_str(b, s->cols[i].name);
		sb_add(b, ": ");
		sb_sql_str(b, s->cols[i].type);
	}
	sb_add(b, "}");
}

static void render(sb *b, const read_opt *o)
{
	sb_addf(b, ", %s=", o->name);
	if (o->type == OPT_BOOL)
		sb_add(b, o->b ? "true" : "false");
	else if (o->type == OPT_INT)
		sb_addf(b, "%" PRId64, o->i);
	else
		sb_sql_str(b, o->s);
}

static bool in_dialect(const dialect *d, const char *name)
{
	for (size_t i = 0; d && i < d->nopts; i++)
		if (!strcmp(d->opts[i].name, name))
			return true;
	return false;
}

/* The options of a read: the source's, then the file's dialect (which
 * replaces the source's options of the same name), then the types. */
static void options(sb *b, const lnode *n, const dialect *d, unsigned flags)
{
	for (size_t i = 0; i < n->nopts; i++)
		if (!in_dialect(d, n->opts[i].name))
			render(b, &n->opts[i]);
	for (size_t i = 0; d && i < d->nopts; i++)
		render(b, &d->opts[i]);
	type_map(b, "columns", &n->columns);
	type_map(b, d ? "columns" : "types", &n->types);
	if ((flags & (SRC_ROWS | SRC_ROWNUM)) && n->format == FMT_PARQUET)
		sb_add(b, ", file_row_number=true");
}

/* One read call over files [lo, hi), all of dialect d (or none). */
static void read_call(sb *b, const lnode *n, size_t lo, size_t hi, const dialect *d, unsigned flags)
{
	sb_add(b, "SELECT ");
	select_list(b, n, flags);
	sb_addf(b, " FROM %s([", reader[n->format]);
	for (size_t i = lo; i < hi; i++) {
		sb_add(b, i > lo ? ", " : "");
		sb_sql_path(b, n->files[i]);
	}
	sb_add(b, "]");
	options(b, n, d, flags);
	sb_add(b, ")");
}

/* Files of different dialects are read by one call each, in file order. */
void source_read_sql(sb *b, const lnode *n, size_t lo, size_t hi, unsigned flags)
{
	size_t start = lo;

	if (!n->file_dialect || lo >= hi) {
		read_call(b, n, lo, hi, NULL, flags);
		return;
	}
	for (size_t i = lo + 1; i <= hi; i++) {
		if (i < hi && n->file_dialect[i] == n->file_dialect[start])
			continue;
		if (start > lo)
			sb_add(b, " UNION ALL ");
		read_call(b, n, start, i, &n->dialects[n->file_dialect[start]], flags);
		start = i;
	}
}

void source_file_sql(sb *b, const lnode *n, size_t f, unsigned flags)
{
	source_read_sql(b, n, f, f + 1, flags);
}

/* Options of the readers, by name, with the type each takes. They are
 * DuckDB's own (read_csv, read_json, read_parquet); DuckDB checks their
 * values when the plan is bound, before anything runs. */
static const struct {
	const char *name;
	opt_type type;
} reader_opts[] = {
	{ "union_by_name", OPT_BOOL },
	{ "hive_partitioning", OPT_BOOL },
	{ "filename", OPT_BOOL },
	{ "binary_as_string", OPT_BOOL },
	{ "header", OPT_BOOL },
	{ "delim", OPT_STR },
	{ "quote", OPT_STR },
	{ "escape", OPT_STR },
	{ "skip", OPT_INT },
	{ "nullstr", OPT_STR },
	{ "all_varchar", OPT_BOOL },
	{ "dateformat", OPT_STR },
	{ "timestampformat", OPT_STR },
	{ "compression", OPT_STR },
	{ "ignore_errors", OPT_BOOL },
	{ "null_padding", OPT_BOOL },
	{ "strict_mode", OPT_BOOL },
	{ "new_line", OPT_STR },
	{ "comment", OPT_STR },
	{ "decimal_separator", OPT_STR },
	{ "sample_size", OPT_INT },
	{ "max_line_size", OPT_INT },
	{ "encoding", OPT_STR },
	{ "parallel", OPT_BOOL },
	{ "normalize_names", OPT_BOOL },
	{ "format", OPT_STR },
	{ "records", OPT_STR },
	{ "maximum_object_size", OPT_INT },
	{ "maximum_depth", OPT_INT },
	{ "convert_strings_to_integers", OPT_BOOL },
};

bool source_opt_type(const char *name, opt_type *type)
{
	for (size_t k = 0; k < sizeof(reader_opts) / sizeof(reader_opts[0]); k++)
		if (!strcmp(reader_opts[k].name, name)) {
			*type = reader_opts[k].type;
			return true;
		}
	return false;
}

bool source_has_ext(const char *path, file_format f)
{
	static const char *exts[][4] = {
		[FMT_PARQUET] = { ".parquet", ".parq", NULL },
		[FMT_CSV] = { ".csv", ".tsv", ".txt", NULL },
		[FMT_JSON] = { ".json", ".jsonl", ".ndjson", NULL },
	};
	size_t n = strlen(path);
	for (int i = 0; exts[f][i]; i++) {
		size_t m = strlen(exts[f][i]);
		if (n > m && !strcasecmp(path + n - m, exts[f][i]))
			return true;
		if (n > m + 3 && !strcasecmp(path + n - 3, ".gz") && !strncasecmp(path + n - 3 - m, exts[f][i], m))
			return true;
	}
	return false;
}

static void add_file(lnode *n, const char *path)
{
	n->files = xrealloc(n->files, (n->nfiles + 1) * sizeof(char *));
	n->sizes = xrealloc(n->sizes, (n->nfiles + 1) * sizeof(int64_t));
	n->files[n->nfiles] = xstrdup(path);
	n->sizes[n->nfiles++] = fs_size(path);
}

/* Adds the files pattern matches; returns how many. */
static size_t add_glob(lnode *n, const char *pattern)
{
	glob_t g;
	size_t added = 0;

	if (glob(pattern, GLOB_ERR, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (!fs_is_dir(g.gl_pathv[i]))
				add_file(n, g.gl_pathv[i]), added++;
		globfree(&g);
	}
	return added;
}

static int add_dir(lnode *n, const char *abs, pond_err *err)
{
	static const char *const what[] = { "parquet", "csv", "json" };
	char **rel;
	size_t nrel, added = 0;

	if (fs_walk(abs, &rel, &nrel, err)) {
		char msg[sizeof(err->msg)];
		fs_free_list(rel);
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return pond_fail(err, POND_EINPUT, "cannot list input directory %s: %s", abs, msg);
	}
	for (size_t i = 0; i < nrel; i++) {
		if (source_has_ext(rel[i], n->format) && rel[i][0] != '_' && rel[i][0] != '.') {
			char *p = xasprintf("%s/%s", abs, rel[i]);
			add_file(n, p), added++;
			free(p);
		}
	}
	fs_free_list(rel);
	return added ? 0 : pond_fail(err, POND_EINPUT, "input directory %s has no %s files", abs, what[n->format]);
}

int source_add_path(lnode *n, const char *path, pond_err *err)
{
	char *abs = fs_abspath(path), *pattern = NULL;
	bool is_glob = strpbrk(path, "*?[") != NULL;
	int rc = 0;

	if (is_glob)
		pattern = fs_abspath_glob(path);
	/* as DuckDB: a pattern that matches nothing is read as written
	 * ('runs [2024]/' names a directory) */
	if (is_glob && add_glob(n, pattern) > 0)
		rc = 0;
	else if (fs_is_dir(abs))
		rc = add_dir(n, abs, err);
	else if (fs_exists(abs))
		add_file(n, abs);
	else if (is_glob)
		rc = pond_fail(err, POND_EINPUT, "no input files match '%s'", abs);
	else
		rc = pond_fail(err, POND_EINPUT, "input not found: %s", abs);
	free(pattern);
	free(abs);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void source_sort_files(lnode *n)
{
	size_t m = 0;
	char **f = n->files;

	if (!n->nfiles)
		return;
	qsort(f, n->nfiles, sizeof(char *), cmp_path);
	for (size_t i = 0; i < n->nfiles; i++) {
		if (m && !strcmp(f[m - 1], f[i])) {
			free(f[i]);
			continue;
		}
		f[m++] = f[i];
	}
	n->nfiles = m;
	for (size_t i = 0; i < m; i++)
		n->sizes[i] = fs_size(f[i]);
}
