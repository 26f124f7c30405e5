/* sqlparse.c — parse trees from DuckDB's parser (see sqlparse.h). The
 * child opens an in-memory DuckDB, serialises every query, writes one JSON
 * array to a pipe and exits; the parent reads it and reaps the child. */
#include "engine/sqlparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duckdb.h"
#include "runtime/frame.h"
#include "util/sb.h"

static void child(const char *const *queries, size_t n, int fd)
{
	duckdb_database db;
	duckdb_connection con;
	json_t *out = json_array();
	char *text;

	if (duckdb_open(NULL, &db) == DuckDBSuccess && duckdb_connect(db, &con) == DuckDBSuccess) {
		for (size_t i = 0; i < n; i++) {
			duckdb_result r;
			sb q = SB_INIT;
			json_t *tree = NULL;
			sb_add(&q, "SELECT json_serialize_sql(");
			sb_sql_str(&q, queries[i]);
			sb_add(&q, ")");
			if (duckdb_query(con, sb_str(&q), &r) == DuckDBSuccess && duckdb_row_count(&r) == 1) {
				char *v = duckdb_value_varchar(&r, 0, 0);
				json_t *doc = v ? json_loads(v, 0, NULL) : NULL;
				if (doc && json_is_false(json_object_get(doc, "error")))
					tree = json_incref(doc);
				json_decref(doc);
				duckdb_free(v);
			}
			duckdb_destroy_result(&r);
			sb_release(&q);
			json_array_append_new(out, tree ? tree : json_null());
		}
		duckdb_disconnect(&con);
		duckdb_close(&db);
	}
	text = json_dumps(out, JSON_COMPACT);
	frame_send(fd, text, strlen(text));
	_exit(0);
}

json_t *engine_parse_queries(const char *const *queries, size_t n)
{
	json_t *res = NULL;
	int fds[2];
	pid_t pid;

	if (n && pipe(fds) == 0) {
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			child(queries, n, fds[1]);
		}
		close(fds[1]);
		if (pid > 0) {
			char *msg = NULL;
			if (frame_recv(fds[0], &msg, NULL) == 1)
				res = json_loads(msg, 0, NULL);
			free(msg);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		close(fds[0]);
	}
	if (!json_is_array(res) || json_array_size(res) != n) {
		json_decref(res);
		res = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(res, json_null());
	}
	return res;
}
