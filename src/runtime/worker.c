/* worker.c — the worker loop shared by local and MPI workers (see
 * worker.h). Messages: {"cmd":"task","task":{...}} and {"cmd":"exit"}. */
#include "runtime/worker.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/task.h"
#include "util/sb.h"
#include "util/testpoint.h"

/* Measured: an aggregate of 2M groups over 10M rows spills within 64 MB
 * on one thread and runs out of memory on two (tests/e2e/spill.sh). */
#define MIN_BYTES_PER_THREAD (64LL << 20)

static int host_share = 1;
static char worker_name[64] = "worker";

void worker_set_name(const char *name)
{
	snprintf(worker_name, sizeof(worker_name), "%s", name);
}

/* One line per attempt in <job>/log/<worker>.log, with the error of a
 * failed one: the place to look when a task misbehaves. */
static void log_attempt(const json_t *task, const json_t *res)
{
	const char *dir = json_string_value(json_object_get(task, "log_dir"));
	const char *err = json_string_value(json_object_get(res, "error"));
	char stamp[32], *path;
	time_t now = time(NULL);
	struct tm tm;
	sb line = SB_INIT;
	int fd;

	if (!dir)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_addf(&line, "%s %s attempt %lld %s %.1f ms rows=%lld bytes=%lld\n", stamp,
		json_string_value(json_object_get(task, "id")),
		(long long)json_integer_value(json_object_get(task, "attempt")),
		json_is_true(json_object_get(res, "ok")) ? "ok" : "FAILED",
		json_number_value(json_object_get(res, "ms")),
		(long long)json_integer_value(json_object_get(res, "rows")),
		(long long)json_integer_value(json_object_get(res, "bytes")));
	if (err)
		sb_addf(&line, "    %s\n", err);
	path = xasprintf("%s/%s.log", dir, worker_name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd >= 0) {
		if (write(fd, line.buf, line.len) < 0) {
			/* a log line lost is not worth failing the task */
		}
		close(fd);
	}
	free(path);
	sb_release(&line);
}

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

	if (json_integer_value(json_object_get(task, "memory_limit")) <= 0)
		json_object_set_new(task, "memory_limit", json_integer(ram / 10 * 8 / host_share));
	if (json_integer_value(json_object_get(task, "threads")) <= 0) {
		/* DuckDB gives each thread its share of the memory limit: below
		 * MIN_BYTES_PER_THREAD a thread cannot spill its part of a big
		 * aggregate, so a small --memory-limit means fewer threads */
		long long mem = json_integer_value(json_object_get(task, "memory_limit"));
		long long t = cores / host_share > 0 ? cores / host_share : 1;
		if (t > mem / MIN_BYTES_PER_THREAD)
			t = mem / MIN_BYTES_PER_THREAD > 0 ? mem / MIN_BYTES_PER_THREAD : 1;
		json_object_set_new(task, "threads", json_integer(t));
	}
	/* a retry after running out of memory: fewer threads, more memory
	 * (at most 90% of the machine) */
	if (json_object_get(task, "threads_div")) {
		long long t = json_integer_value(json_object_get(task, "threads"));
		long long d = json_integer_value(json_object_get(task, "threads_div"));
		json_object_set_new(task, "threads", json_integer(d > 0 && t / d > 0 ? t / d : 1));
	}
	if (json_object_get(task, "memory_mul")) {
		double m = (double)json_integer_value(json_object_get(task, "memory_limit")) *
			   json_number_value(json_object_get(task, "memory_mul"));
		if (m > (double)ram * 0.9)
			m = (double)ram * 0.9;
		json_object_set_new(task, "memory_limit", json_integer((json_int_t)m));
	}
}

/* While a task runs: a heartbeat to the driver every second, and a look
 * for a "cancel" (task timeout, or a speculative twin won). Returns 1 to
 * cancel the task. */
static int tick(void *ctx)
{
	const worker_io *io = ctx;
	static const char hb[] = "{\"hb\":true}";
	int cancel = 0;

	if (io->send(io->ctx, hb, sizeof(hb) - 1))
		return 1; /* the driver is gone: stop */
	while (io->poll(io->ctx)) {
		char *msg = NULL;
		json_t *m;
		if (io->recv(io->ctx, &msg) <= 0)
			return 1;
		m = json_loads(msg, 0, NULL);
		free(msg);
		cancel |= m && !strcmp(json_string_value(json_object_get(m, "cmd")) ? json_string_value(json_object_get(m, "cmd")) : "", "cancel");
		json_decref(m);
	}
	return cancel;
}

static int serve(const worker_io *io)
{
	for (;;) {
		char *msg = NULL;
		int r = io->recv(io->ctx, &msg);
		json_t *m, *res, *task;
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
		if (strcmp(cmd, "task")) {
			json_decref(m); /* e.g. a cancel that crossed the result */
			continue;
		}
		task = json_object_get(m, "task");
		fill_defaults(task);
		test_pointf("worker-%s.a%lld", json_string_value(json_object_get(task, "id")),
			    (long long)json_integer_value(json_object_get(task, "attempt")));
		{
			const char *logdir = json_string_value(json_object_get(task, "log_dir"));
			char *errpath = logdir ? xasprintf("%s/%s.stderr", logdir, worker_name) : xstrdup("/dev/null");
			res = task_run_isolated(task, errpath, tick, (void *)io);
			free(errpath);
		}
		log_attempt(task, res);
		text = json_dumps(res, JSON_COMPACT);
		r = io->send(io->ctx, text, strlen(text));
		free(text);
		json_decref(res);
		json_decref(m);
		if (r)
			return -1;
	}
}

int worker_loop(const worker_io *io)
{
	int rc = serve(io);
	task_child_stop();
	return rc;
}
