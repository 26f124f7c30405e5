/* task.c — task attempts in a child process (see task.h). The worker that
 * forks the child has loaded libduckdb but never opened a database, so the
 * child starts from a process with no DuckDB threads. The child is kept
 * warm: it opens DuckDB once and runs the worker's tasks one after another
 * (a fresh connection each), because opening DuckDB (~9 ms) would
 * otherwise dominate small tasks. A child that crashes or is killed takes
 * only its current task with it; the next task gets a new child. The child
 * commits its own output (fsync, then one rename); the worker reports. */
#include "runtime/task.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "runtime/frame.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/manifest.h"
#include "util/proc.h"
#include "util/sb.h"
#include "util/testpoint.h"

#define STDERR_TAIL 2000

/* The warm child of this worker process, if any. */
static struct {
	pid_t pid;
	int fd;
	char *errpath;   /* its stderr, for the tail of a crash */
	off_t err_start; /* where the current task's stderr begins */
} child = { -1, -1, NULL, 0 };

static double now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

/* Moves the attempt into place. Returns 0, or 1 if another attempt had
 * already committed this task (ours is discarded), or -1. */
/* No fsync here: fsyncing a shuffle's 1 GB cost the global sort benchmark
 * ~1.5 s of wall time, and nothing needs it. A process that dies loses
 * nothing the kernel has; after a power loss, --resume checks every
 * committed output against its manifest (sizes, Parquet's end magic) and
 * runs again what does not check out. What users see is made durable
 * when it is published (publish.c fsyncs the tree before _SUCCESS); for
 * those outputs (`durable`) writeback starts now, so that it overlaps the
 * tasks still running and the publish fsync finds little left to do. */
static int commit(const char *attempt, const char *dir, bool durable, pond_err *err)
{
	char *parent = fs_dirname(dir);
	int rc = 0;

	if (durable)
		fs_start_writeback(attempt);
	if (!rc)
		rc = fs_mkdir_p(parent, err);
	if (!rc && rename(attempt, dir) != 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			fs_rm_rf(attempt, NULL);
			rc = 1;
		} else {
			rc = pond_fail(err, POND_EIO, "commit: rename %s to %s: %s", attempt, dir, strerror(errno));
		}
	}
	free(parent);
	return rc;
}

/* Test hook: POND_TEST_CRASH=<substring of a task id> makes the first
 * attempt of matching tasks die of SIGSEGV, as a crashing query would. */
static void maybe_crash(const json_t *task)
{
	const char *pat = getenv("POND_TEST_CRASH");
	const char *id = json_string_value(json_object_get(task, "id"));
	if (pat && id && strstr(id, pat) && json_integer_value(json_object_get(task, "attempt")) == 1) {
		fprintf(stderr, "pond test: crashing on purpose in %s\n", id);
		raise(SIGSEGV);
	}
}

/* Test hook: POND_TEST_WAIT=<substring of a task id>:<path> holds every
 * attempt of matching tasks until <path> exists, so a test can change the
 * world (delete an intermediate file, say) at a known point of a run. */
static void maybe_wait(const json_t *task)
{
	const char *spec = getenv("POND_TEST_WAIT");
	const char *id = json_string_value(json_object_get(task, "id"));
	const char *colon = spec ? strchr(spec, ':') : NULL;

	if (!colon || !id || !memmem(id, strlen(id), spec, (size_t)(colon - spec)))
		return;
	while (!fs_exists(colon + 1))
		usleep(10000);
}

/* --inject-faults P,SEED: a seeded choice, per task attempt, of whether
 * and where the child dies, as a crash or a kill would make it. */
enum { FAULT_NONE, FAULT_START, FAULT_MID_QUERY, FAULT_BEFORE_COMMIT, FAULT_AFTER_COMMIT };

static int fault_point(const json_t *task, unsigned *delay_ms)
{
	const json_t *inj = json_object_get(task, "inject");
	char buf[64];
	uint64_t h;

	if (!inj)
		return FAULT_NONE;
	snprintf(buf, sizeof(buf), "%lld/%lld", (long long)json_integer_value(json_object_get(inj, "seed")),
		 (long long)json_integer_value(json_object_get(task, "attempt")));
	h = fnv1a64(FNV1A64_INIT, buf, strlen(buf));
	h = fnv1a64(h, json_string_value(json_object_get(task, "id")), strlen(json_string_value(json_object_get(task, "id"))));
	h ^= h >> 29;
	if ((double)(h % 1000000) / 1e6 >= json_number_value(json_object_get(inj, "p")))
		return FAULT_NONE;
	*delay_ms = 1 + (unsigned)((h >> 20) % 40);
	return 1 + (int)((h >> 40) % 4);
}

static void die(const char *where, const json_t *task)
{
	fprintf(stderr, "pond: injected fault %s in %s\n", where, json_string_value(json_object_get(task, "id")));
	fflush(stderr);
	raise(SIGKILL);
}

static json_t *run_one(engine **eng, const json_t *task)
{
	unsigned delay = 0;
	int fault = fault_point(task, &delay);
	const char *adir = json_string_value(json_object_get(task, "attempt_dir"));
	const char *dir = json_string_value(json_object_get(task, "dir"));
	json_t *res = json_object();
	task_stats st = { 0 };
	error_class cls = EC_NONE;
	pond_err err = { 0 };
	int rc = 0;

	if (!*eng) {
		/* one spill directory per child, next to the tasks' temp dirs.
		 * DuckDB creates only the last level when it first spills: the
		 * rest must exist, or every task that spills fails */
		char *spill = fs_dirname(json_string_value(json_object_get(task, "temp_dir")));
		char *mine = xasprintf("%s/child-%d", spill, (int)getpid());
		rc = fs_mkdir_p(mine, &err);
		if (!rc)
			rc = engine_open(eng, mine, &err);
		cls = EC_INTERNAL;
		free(spill);
		free(mine);
	}
	if (fault == FAULT_START)
		die("at start", task);
	if (fault == FAULT_MID_QUERY) {
		/* SIGALRM (default action: terminate) arrives a few ms in,
		 * wherever the query is by then */
		struct itimerval it = { { 0, 0 }, { 0, (long)delay * 1000 } };
		signal(SIGALRM, SIG_DFL);
		fprintf(stderr, "pond: injected fault mid-query in %s after %u ms\n",
			json_string_value(json_object_get(task, "id")), delay);
		fflush(stderr);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	if (!rc)
		rc = engine_run_task(*eng, task, &st, &cls, &err);
	if (fault == FAULT_MID_QUERY) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (rc == 0 && fault == FAULT_BEFORE_COMMIT)
		die("after writing, before commit", task);
	if (rc == 0) {
		rc = commit(adir, dir, json_is_true(json_object_get(task, "durable")), &err);
		if (rc >= 0 && fault == FAULT_AFTER_COMMIT)
			die("after commit, before reporting", task);
		if (rc == 1) {
			/* another attempt committed first: the journal must record
			 * the manifest of the output that is there, not ours */
			manifest m;
			json_object_set_new(res, "duplicate", json_true());
			if (manifest_read(dir, &m, st.manifest, NULL) == 0)
				manifest_release(&m);
		}
		if (rc < 0)
			cls = strstr(err.msg, "No space") ? EC_RESOURCE : EC_INTERNAL;
	}
	json_object_set_new(res, "ok", json_boolean(rc >= 0));
	json_object_set_new(res, "rows", json_integer(st.rows));
	json_object_set_new(res, "bytes", json_integer(st.bytes));
	if (rc >= 0) {
		json_object_set_new(res, "files", json_integer(st.files));
		json_object_set_new(res, "manifest", json_string(st.manifest));
	}
	if (rc < 0) {
		json_object_set_new(res, "error", json_string(err.msg));
		json_object_set_new(res, "class", json_integer(cls));
		if (st.error_sql)
			json_object_set_new(res, "sql", json_string(st.error_sql));
		if (st.error_step)
			json_object_set_new(res, "step", json_string(st.error_step));
	}
	free(st.error_sql);
	free(st.error_step);
	return res;
}

static void child_main(int fd)
{
	engine *eng = NULL;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the worker */
	for (;;) {
		char *msg = NULL, *text;
		json_t *task, *res;

		if (frame_recv(fd, &msg, NULL) != 1)
			break;
		task = json_loads(msg, 0, NULL);
		free(msg);
		if (!task)
			break;
		test_pointf("child-%s.a%lld", json_string_value(json_object_get(task, "id")),
			    (long long)json_integer_value(json_object_get(task, "attempt")));
		maybe_crash(task);
		maybe_wait(task);
		res = run_one(&eng, task);
		text = json_dumps(res, JSON_COMPACT);
		fflush(stderr);
		if (frame_send(fd, text, strlen(text)) != 0)
			break;
		free(text);
		json_decref(res);
		json_decref(task);
	}
	engine_close(eng);
	_exit(0);
}

static int start_child(const char *errpath)
{
	int fd;
	pid_t pid = proc_fork_socket(&fd, NULL);

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int efd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0666);
		if (efd >= 0) {
			dup2(efd, 2);
			close(efd);
		}
		child_main(fd);
	}
	child.pid = pid;
	child.fd = fd;
	free(child.errpath);
	child.errpath = xstrdup(errpath);
	return 0;
}

static void stop_child(void)
{
	if (child.fd >= 0)
		close(child.fd);
	child.fd = -1;
	child.pid = -1;
}

/* The child's stderr written since `from`, at most STDERR_TAIL bytes. */
static char *tail_of(const char *path, off_t from)
{
	char *all = NULL, *out;
	size_t len = 0, start;

	if (!path || fs_read(path, &all, &len, NULL))
		return xstrdup("");
	start = (size_t)from < len ? (size_t)from : len;
	if (len - start > STDERR_TAIL)
		start = len - STDERR_TAIL;
	out = xstrdup(all + start);
	free(all);
	while (*out && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

static json_t *crashed(int status)
{
	json_t *res = json_object();
	char *tail = tail_of(child.errpath, child.err_start);
	char *msg;

	if (WIFSIGNALED(status))
		msg = xasprintf("task process killed by signal %d (%s)%s%s%s", WTERMSIG(status),
				strsignal(WTERMSIG(status)),
				WTERMSIG(status) == SIGKILL ? " — often the kernel's OOM killer" : "",
				*tail ? "; its stderr ends with:\n" : "", tail);
	else
		msg = xasprintf("task process exited with status %d without a result%s%s", WEXITSTATUS(status),
				*tail ? "; its stderr ends with:\n" : "", tail);
	json_object_set_new(res, "ok", json_false());
	json_object_set_new(res, "error", json_string(msg));
	json_object_set_new(res, "class", json_integer(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
							    ? EC_RESOURCE : EC_INTERNAL));
	json_object_set_new(res, "crashed", json_true());
	free(msg);
	free(tail);
	return res;
}

static json_t *failure(const char *msg)
{
	json_t *res = json_object();
	json_object_set_new(res, "ok", json_false());
	json_object_set_new(res, "error", json_string(msg));
	json_object_set_new(res, "class", json_integer(EC_RESOURCE));
	return res;
}

json_t *task_run_isolated(const json_t *task, const char *stderr_path, int (*tick)(void *), void *ctx)
{
	const char *adir = json_string_value(json_object_get(task, "attempt_dir"));
	json_t *res = NULL;
	pond_err err = { 0 };
	double t0 = now_ms();
	char *text, *msg = NULL;
	bool cancelled = false;

	fs_rm_rf(adir, NULL);
	if (fs_mkdir_p(adir, &err)) {
		res = failure(err.msg);
		goto out;
	}
	if (child.pid < 0 && start_child(stderr_path)) {
		char *m = xasprintf("cannot start a task process: %s", strerror(errno));
		res = failure(m);
		free(m);
		goto out;
	}
	child.err_start = fs_size(child.errpath) > 0 ? (off_t)fs_size(child.errpath) : 0;
	text = json_dumps(task, JSON_COMPACT);
	if (frame_send(child.fd, text, strlen(text)) == 0) {
		for (;;) {
			struct pollfd p = { child.fd, POLLIN, 0 };
			int r = poll(&p, 1, 1000);
			if (r > 0) {
				if (frame_recv(child.fd, &msg, NULL) == 1)
					res = json_loads(msg, 0, NULL);
				break;
			}
			if (r < 0 && errno != EINTR)
				break;
			if (r == 0 && tick && tick(ctx)) {
				cancelled = true;
				break;
			}
		}
	}
	free(text);
	free(msg);
	if (cancelled) {
		pid_t pid = child.pid;
		kill(pid, SIGKILL);
		proc_reap(pid, NULL);
		stop_child();
		res = failure("cancelled by the driver (past --task-timeout, or a speculative twin finished first)");
		json_object_set_new(res, "class", json_integer(EC_TIMEOUT));
	} else if (!res) {
		/* the child died: collect it and say how */
		int status = 0;
		pid_t pid = child.pid;
		kill(pid, SIGKILL); /* in case it is alive but broken */
		proc_reap(pid, &status);
		res = crashed(status);
		stop_child();
	}
out:
	if (!json_is_true(json_object_get(res, "ok")))
		fs_rm_rf(adir, NULL);
	json_object_set(res, "task", json_object_get(task, "id"));
	json_object_set(res, "attempt", json_object_get(task, "attempt"));
	json_object_set_new(res, "ms", json_real(now_ms() - t0));
	return res;
}

void task_child_stop(void)
{
	if (child.pid > 0) {
		pid_t pid = child.pid;
		stop_child(); /* EOF tells it to exit */
		proc_reap(pid, NULL);
	}
	free(child.errpath);
	child.errpath = NULL;
}
