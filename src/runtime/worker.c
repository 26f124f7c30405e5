/* worker.c — the worker loop shared by local and MPI workers (see
 * worker.h). Messages: {"cmd":"task","task":{...}} and {"cmd":"exit"}. */
#include "runtime/worker.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/task.h"

#include <unistd.h>

static int host_share = 1;

void worker_set_host_share(int n)
{
	host_share = n > 0 ? n : 1;
}

/* Per-task DuckDB threads and memory, unless the user fixed them. */
static void fill_defaults(json_t *task)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long long ram = pages > 0 && page > 0 ? (long long)pages * page : 4LL << 30;

	if (json_integer_value(json_object_get(task, "threads")) <= 0)
		json_object_set_new(task, "threads", json_integer(cores / host_share > 0 ? cores / host_share : 1));
	if (json_integer_value(json_object_get(task, "memory_limit")) <= 0)
		json_object_set_new(task, "memory_limit", json_integer(ram / 10 * 8 / host_share));
}

int worker_loop(const worker_io *io)
{
	for (;;) {
		char *msg = NULL;
		int r = io->recv(io->ctx, &msg);
		json_t *m, *res;
		const char *cmd;
		char *text;

		if (r <= 0)
			return -1;
		m = json_loads(msg, 0, NULL);
		free(msg);
		cmd = json_string_value(json_object_get(m, "cmd"));
		if (!cmd || !strcmp(cmd, "exit")) {
			json_decref(m);
			return 0;
		}
		fill_defaults(json_object_get(m, "task"));
		res = task_run_isolated(json_object_get(m, "task"));
		text = json_dumps(res, JSON_COMPACT);
		r = io->send(io->ctx, text, strlen(text));
		free(text);
		json_decref(res);
		json_decref(m);
		if (r)
			return -1;
	}
}
