/* worker.c — the worker loop shared by local and MPI workers (see
 * worker.h). Its messages are plan/task_codec.c's: a task attempt, a
 * cancel or exit downwards; results and heartbeats upwards. */
#include "runtime/worker.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plan/task_codec.h"
#include "runtime/task.h"
#include "util/sb.h"
#include "util/testpoint.h"

/* Measured: an aggregate of 2M groups over 10M rows spills within 64 MB
 * on one thread and runs out of memory on two (tests/e2e/spill.sh). */
#define MIN_BYTES_PER_THREAD (64LL << 20)

static int host_share = 1;
static char worker_name[64] = "worker";
static bool prewarm_deferred;

void worker_set_name(const char *name)
{
	snprintf(worker_name, sizeof(worker_name), "%s", name);
}

/* One line per attempt in <job>/log/<worker>.log, with the error of a
 * failed one: the place to look when a task misbehaves. */
static void log_attempt(const task_attempt *a, const task_result *res)
{
	char stamp[32], *path;
	time_t now = time(NULL);
	struct tm tm;
	sb line = SB_INIT;
	int fd;

	if (!a->log_dir)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_addf(&line, "%s %s attempt %d %s %.1f ms rows=%lld bytes=%lld\n", stamp, res->task, a->attempt,
		res->ok ? "ok" : "FAILED", res->ms, (long long)res->rows, (long long)res->bytes);
	if (res->error)
		sb_addf(&line, "    %s\n", res->error);
	path = xasprintf("%s/%s.log", a->log_dir, worker_name);
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
static void fill_defaults(task_attempt *a)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long long ram = pages > 0 && page > 0 ? (long long)pages * page : 4LL << 30;

	if (a->memory_limit <= 0)
		a->memory_limit = ram / 10 * 8 / host_share;
	if (a->threads <= 0) {
		/* DuckDB gives each thread its share of the memory limit: below
		 * MIN_BYTES_PER_THREAD a thread cannot spill its part of a big
		 * aggregate, so a small --memory-limit means fewer threads */
		long long mem = a->memory_limit;
		long long t = cores / host_share > 0 ? cores / host_share : 1;
		if (t > mem / MIN_BYTES_PER_THREAD)
			t = mem / MIN_BYTES_PER_THREAD > 0 ? mem / MIN_BYTES_PER_THREAD : 1;
		a->threads = t;
	}
	/* a retry after running out of memory: fewer threads, more memory
	 * (at most 90% of the machine) */
	if (a->threads_div > 0)
		a->threads = a->threads / a->threads_div > 0 ? a->threads / a->threads_div : 1;
	if (a->memory_mul > 0) {
		double m = (double)a->memory_limit * a->memory_mul;
		if (m > (double)ram * 0.9)
			m = (double)ram * 0.9;
		a->memory_limit = (int64_t)m;
	}
}

/* While a task runs: a heartbeat to the driver every second, and a look
 * for a "cancel" (task timeout, or a speculative twin won). Returns 1 to
 * cancel the task. */
static int tick(void *ctx)
{
	const worker_io *io = ctx;
	static const char hb[] = CODEC_MSG_HEARTBEAT;
	int cancel = 0;

	if (io->send(io->ctx, hb, sizeof(hb) - 1))
		return 1; /* the driver is gone: stop */
	while (io->poll(io->ctx)) {
		char *msg = NULL;
		ptask t;
		task_attempt a;
		codec_cmd c;
		if (io->recv(io->ctx, &msg) <= 0)
			return 1;
		c = codec_read_cmd(msg, &t, &a);
		free(msg);
		if (c == CMD_TASK) { /* never sent to a busy worker */
			ptask_release(&t);
			task_attempt_release(&a);
		}
		cancel |= c == CMD_CANCEL;
	}
	return cancel;
}

/* Runs one attempt and sends its result; -1 if the driver is gone. */
static int run_attempt(const worker_io *io, const ptask *t, task_attempt *a)
{
	char *errpath = a->log_dir ? xasprintf("%s/%s.stderr", a->log_dir, worker_name) : xstrdup("/dev/null");
	task_result res;
	char *text;
	int r;

	fill_defaults(a);
	test_pointf("worker-%s.a%d", t->id, a->attempt);
	task_run_isolated(t, a, errpath, tick, (void *)io, &res);
	log_attempt(a, &res);
	text = codec_result_msg(&res);
	r = io->send(io->ctx, text, strlen(text));
	free(text);
	free(errpath);
	task_result_release(&res);
	return r ? -1 : 0;
}

static int serve(const worker_io *io)
{
	for (;;) {
		char *msg = NULL;
		ptask t;
		task_attempt a;
		codec_cmd c;
		int rc;

		if (io->recv(io->ctx, &msg) <= 0)
			return -1;
		c = codec_read_cmd(msg, &t, &a);
		free(msg);
		if (c == CMD_EXIT)
			return 0;
		if (c == CMD_WARM)
			task_child_prewarm();
		if (c != CMD_TASK)
			continue; /* e.g. a cancel that crossed the result */
		rc = run_attempt(io, &t, &a);
		ptask_release(&t);
		task_attempt_release(&a);
		if (rc)
			return -1;
	}
}

void worker_defer_prewarm(void)
{
	prewarm_deferred = true;
}

int worker_loop(const worker_io *io)
{
	int rc;

	if (!prewarm_deferred)
		task_child_prewarm();
	rc = serve(io);
	task_child_stop();
	return rc;
}
