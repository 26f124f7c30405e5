/* plandb.c — the plan-time DuckDB child (see plandb.h). The child opens an
 * in-memory DuckDB with one thread and answers requests until its socket
 * closes: each request is {"sql":"...","prepare":bool}, each answer
 * {"ok":true,"names":[...],"rows":[[...],...]} or
 * {"ok":false,"kind":K,"error":"..."}. */
#include "engine/plandb.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duckdb.h"
#include "runtime/frame.h"
#include "util/clock.h"
#include "util/proc.h"
#include "util/sb.h"
#include "util/testpoint.h"

struct plandb {
	pid_t pid;
	int fd;
};

static struct {
	void (*fn)(void *ctx);
	void *ctx;
} when_open;

void plandb_when_open(void (*fn)(void *ctx), void *ctx)
{
	when_open.fn = fn;
	when_open.ctx = ctx;
}

static void opened(void)
{
	void (*fn)(void *ctx) = when_open.fn;

	when_open.fn = NULL;
	if (fn)
		fn(when_open.ctx);
}

static pdb_error kind_of(duckdb_error_type t)
{
	switch (t) {
	case DUCKDB_ERROR_PARSER:
	case DUCKDB_ERROR_BINDER:
	case DUCKDB_ERROR_CATALOG:
	case DUCKDB_ERROR_MISMATCH_TYPE:
	case DUCKDB_ERROR_INVALID_TYPE:
	case DUCKDB_ERROR_SYNTAX:
	case DUCKDB_ERROR_NOT_IMPLEMENTED:
	case DUCKDB_ERROR_CONVERSION:
	case DUCKDB_ERROR_OUT_OF_RANGE:
	case DUCKDB_ERROR_DIVIDE_BY_ZERO:
		return PDB_ESQL;
	case DUCKDB_ERROR_IO:
	case DUCKDB_ERROR_INVALID_INPUT:
		return PDB_EINPUT;
	default:
		return PDB_EOTHER;
	}
}

static json_t *failure(pdb_error kind, const char *msg)
{
	json_t *a = json_object();
	json_object_set_new(a, "ok", json_false());
	json_object_set_new(a, "kind", json_integer(kind));
	json_object_set_new(a, "error", json_string(msg ? msg : "unknown DuckDB error"));
	return a;
}

/* Binds without running: the error, if any, quotes the query itself.
 * The C API gives no error type for a failed prepare: PDB_ESQL. */
static json_t *prepare(duckdb_connection con, const char *sql)
{
	duckdb_prepared_statement ps;
	json_t *a;

	if (duckdb_prepare(con, sql, &ps) != DuckDBSuccess) {
		a = failure(PDB_ESQL, duckdb_prepare_error(ps));
	} else {
		a = json_object();
		json_object_set_new(a, "ok", json_true());
	}
	duckdb_destroy_prepare(&ps);
	return a;
}

static json_t *answer(duckdb_connection con, const char *sql)
{
	duckdb_result r;
	json_t *a;

	if (duckdb_query(con, sql, &r) != DuckDBSuccess) {
		a = failure(kind_of(duckdb_result_error_type(&r)), duckdb_result_error(&r));
	} else {
		a = json_object();
		json_t *names = json_array(), *rows = json_array();
		idx_t nc = duckdb_column_count(&r), nr = duckdb_row_count(&r);
		for (idx_t c = 0; c < nc; c++)
			json_array_append_new(names, json_string(duckdb_column_name(&r, c)));
		for (idx_t i = 0; i < nr; i++) {
			json_t *row = json_array();
			for (idx_t c = 0; c < nc; c++) {
				char *v = duckdb_value_is_null(&r, c, i) ? NULL : duckdb_value_varchar(&r, c, i);
				json_array_append_new(row, v ? json_string(v) : json_null());
				duckdb_free(v);
			}
			json_array_append_new(rows, row);
		}
		json_object_set_new(a, "ok", json_true());
		json_object_set_new(a, "names", names);
		json_object_set_new(a, "rows", rows);
	}
	duckdb_destroy_result(&r);
	return a;
}

/* One thread, or (wide) one per core: DuckDB's threads are the
 * database's, set between requests only when they change. */
static void use_threads(duckdb_connection con, bool wide, bool *now)
{
	char sql[64];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	duckdb_result r;

	if (wide == *now)
		return;
	snprintf(sql, sizeof(sql), "SET threads = %ld", wide && cores > 1 ? cores : 1L);
	duckdb_query(con, sql, &r);
	duckdb_destroy_result(&r);
	*now = wide;
}

static void child_main(int fd)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_config cfg;
	char *msg;
	bool wide = false;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "pond-plandb");
	test_point_untraced("plandb-start"); /* a child: its line would race the driver's */
	if (duckdb_create_config(&cfg) != DuckDBSuccess)
		_exit(1);
	duckdb_set_config(cfg, "threads", "1");
	duckdb_set_config(cfg, "enable_progress_bar", "false");
	duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
	/* never spill: an in-memory DuckDB's default is ./.tmp, in the
	 * user's directory, and plandb_close kills this process */
	duckdb_set_config(cfg, "temp_directory", "");
	if (duckdb_open_ext(NULL, &db, cfg, NULL) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		_exit(1);
	duckdb_destroy_config(&cfg);
	while (frame_recv(fd, &msg, NULL) == 1) {
		json_t *req = json_loads(msg, 0, NULL);
		const char *sql = json_string_value(json_object_get(req, "sql"));
		use_threads(con, json_is_true(json_object_get(req, "wide")), &wide);
		json_t *a = !sql                                            ? failure(PDB_EOTHER, "bad request")
			    : json_is_true(json_object_get(req, "prepare")) ? prepare(con, sql)
									    : answer(con, sql);
		json_decref(req);
		char *text = json_dumps(a, JSON_COMPACT);
		int rc = frame_send(fd, text, strlen(text));
		free(text);
		free(msg);
		json_decref(a);
		if (rc)
			break;
	}
	duckdb_disconnect(&con);
	duckdb_close(&db);
	_exit(0);
}

int plandb_open(plandb **out, pond_err *err)
{
	plandb *db = xcalloc(1, sizeof(plandb));
	int fd;
	pid_t pid = proc_fork_socket(&fd, err);

	*out = NULL;
	if (pid < 0) {
		free(db);
		return -1;
	}
	if (pid == 0)
		child_main(fd);
	db->pid = pid;
	db->fd = fd;
	*out = db;
	return 0;
}

void plandb_close(plandb *db)
{
	if (!db)
		return;
	close(db->fd);
	/* killed, not told to exit: a graceful duckdb_close cost every
	 * query ~4 ms, and it holds nothing to keep */
	proc_kill(db->pid, NULL);
	free(db);
}

static void take_rows(const json_t *a, pdb_result *res)
{
	const json_t *names = json_object_get(a, "names"), *rows = json_object_get(a, "rows");
	size_t nc = json_array_size(names), nr = json_array_size(rows);

	res->ncols = nc;
	res->nrows = nr;
	res->names = xcalloc(nc + 1, sizeof(char *));
	res->cells = xcalloc(nc * nr + 1, sizeof(char *));
	for (size_t c = 0; c < nc; c++)
		res->names[c] = xstrdup(json_string_value(json_array_get(names, c)));
	for (size_t i = 0; i < nr; i++)
		for (size_t c = 0; c < nc; c++) {
			const char *v = json_string_value(json_array_get(json_array_get(rows, i), c));
			res->cells[i * nc + c] = v ? xstrdup(v) : NULL;
		}
}

/* POND_TRACE_PLANDB=1: each request's time and the start of its SQL on
 * stderr, one line each; where planning spends its time (docs/SQL.md). */
static void trace(const char *sql, double seconds)
{
	char line[160];

	if (!getenv("POND_TRACE_PLANDB"))
		return;
	snprintf(line, sizeof(line), "%s", sql);
	for (char *c = line; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	fprintf(stderr, "plandb %8.1f ms  %s\n", seconds * 1000, line);
}

static pdb_error request(plandb *db, const char *sql, bool prep, bool wide, pdb_result *res, pond_err *err)
{
	json_t *req = json_pack("{s:s, s:b, s:b}", "sql", sql, "prepare", prep, "wide", wide);
	char *text = json_dumps(req, JSON_COMPACT), *msg = NULL;
	json_t *a = NULL;
	pdb_error kind = PDB_OK;
	double t0;

	if (res)
		memset(res, 0, sizeof(*res));
	t0 = clock_mono();
	if (frame_send(db->fd, text, strlen(text)) == 0 && frame_recv(db->fd, &msg, NULL) == 1)
		a = json_loads(msg, 0, NULL);
	trace(sql, clock_mono() - t0);
	if (a)
		opened();
	free(msg);
	free(text);
	json_decref(req);
	if (!a) {
		pond_fail(err, POND_EINTERNAL, "the plan-time DuckDB process died (running: %.200s)", sql);
		return PDB_EOTHER;
	}
	if (json_is_true(json_object_get(a, "ok"))) {
		if (res)
			take_rows(a, res);
	} else {
		kind = (pdb_error)json_integer_value(json_object_get(a, "kind"));
		pond_fail(err, POND_EUSAGE, "%s", json_string_value(json_object_get(a, "error")));
	}
	json_decref(a);
	return kind;
}

pdb_error plandb_query(plandb *db, const char *sql, pdb_result *res, pond_err *err)
{
	return request(db, sql, false, false, res, err);
}

pdb_error plandb_query_wide(plandb *db, const char *sql, bool wide, pdb_result *res, pond_err *err)
{
	return request(db, sql, false, wide, res, err);
}

pdb_error plandb_prepare(plandb *db, const char *sql, pond_err *err)
{
	return request(db, sql, true, false, NULL, err);
}

void pdb_result_release(pdb_result *r)
{
	for (size_t c = 0; c < r->ncols; c++)
		free(r->names[c]);
	for (size_t i = 0; i < r->ncols * r->nrows; i++)
		free(r->cells[i]);
	free(r->names);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

const char *pdb_cell(const pdb_result *r, size_t row, size_t col)
{
	return row < r->nrows && col < r->ncols ? r->cells[row * r->ncols + col] : NULL;
}

void pdb_cell_columns(const pdb_result *r, size_t row, size_t col,
		      void (*add)(void *ctx, const char *name, const char *type), void *ctx)
{
	const char *text = pdb_cell(r, row, col);
	json_t *list = json_loads(text ? text : "[]", 0, NULL), *c;
	size_t i;

	json_array_foreach (list, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *type = json_string_value(json_object_get(c, "type"));
		add(ctx, name ? name : "", type ? type : "");
	}
	json_decref(list);
}
