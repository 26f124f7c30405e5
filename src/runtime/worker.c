/* worker.c — the worker loop shared by local and MPI workers (see
 * worker.h). Messages: {"cmd":"task","task":{...}} and {"cmd":"exit"}. */
#include "runtime/worker.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/task.h"

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
