/* task.c — task attempts in a child process (see task.h). The worker that
 * forks the child has loaded libduckdb but never opened a database, so the
 * child starts from a process with no DuckDB threads. The child is kept
 * warm: it opens DuckDB once, as soon as it starts (task_child_prewarm
 * starts it while the driver plans), and runs the worker's tasks one
 * after another (a fresh connection each), because opening DuckDB (~9 ms)
 * would otherwise dominate small tasks. A child that crashes or is killed takes
 * only its current task with it; the next task gets a new child. The child
 * commits its own output (one rename, see commit()); the worker reports. */
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
#include "plan/task_codec.h"
#include "runtime/frame.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/manifest.h"
#include "util/proc.h"
#include "util/sb.h"
#include "util/testpoint.h"

#define STDERR_TAIL 2000
/* worker -> child: "send your stderr to this file from now on" (the
 * worker's other messages to the child are tasks, JSON objects) */
#define STDERR_TO "stderr-to "

/* The warm child of this worker process, if any. */
static struct {
	pid_t pid;
	int fd;
	char *errpath;   /* its stderr, for the tail of a crash */
	off_t err_start; /* where the current task's stderr begins */
} child = { -1, -1, NULL, 0 };

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
	rc = fs_mkdir_p(parent, err);
	if (!rc && rename(attempt, dir) != 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			fs_rm_rf(attempt, NULL);
			rc = 1;
		} else {
			rc = pond_fail_errno(err, POND_EIO, errno, "commit: rename %s to %s", attempt, dir);
		}
	}
	free(parent);
	return rc;
}

/* Test hook: POND_TEST_CRASH=<substring of a task id> makes the first
 * attempt of matching tasks die of SIGSEGV, as a crashing query would. */
static void maybe_crash(const ptask *t, const task_attempt *a)
{
	const char *pat = getenv("POND_TEST_CRASH");
	if (pat && strstr(t->id, pat) && a->attempt == 1) {
		fprintf(stderr, "pond test: crashing on purpose in %s\n", t->id);
		raise(SIGSEGV);
	}
}

/* Test hook: POND_TEST_WAIT=<substring of a task id>:<path> holds every
 * attempt of matching tasks until <path> exists, so a test can change the
 * world (delete an intermediate file, say) at a known point of a run. */
static void maybe_wait(const ptask *t)
{
	const char *spec = getenv("POND_TEST_WAIT");
	const char *colon = spec ? strchr(spec, ':') : NULL;

	if (!colon || !memmem(t->id, strlen(t->id), spec, (size_t)(colon - spec)))
		return;
	while (!fs_exists(colon + 1))
		usleep(10000);
}

/* --inject-faults P,SEED: a seeded choice, per task attempt, of whether
 * and where the child dies, as a crash or a kill would make it. */
enum { FAULT_NONE, FAULT_START, FAULT_MID_QUERY, FAULT_BEFORE_COMMIT, FAULT_AFTER_COMMIT };

static int fault_point(const ptask *t, const task_attempt *a, unsigned *delay_ms)
{
	char buf[64];
	uint64_t h;

	if (a->inject_p <= 0)
		return FAULT_NONE;
	snprintf(buf, sizeof(buf), "%lld/%lld", (long long)a->inject_seed, (long long)a->attempt);
	h = fnv1a64(FNV1A64_INIT, buf, strlen(buf));
	h = fnv1a64(h, t->id, strlen(t->id));
	h ^= h >> 29;
	if ((double)(h % 1000000) / 1e6 >= a->inject_p)
		return FAULT_NONE;
	*delay_ms = 1 + (unsigned)((h >> 20) % 40);
	return 1 + (int)((h >> 40) % 4);
}

static void die(const char *where, const ptask *t)
{
	fprintf(stderr, "pond: injected fault %s in %s\n", where, t->id);
	fflush(stderr);
	raise(SIGKILL);
}

/* SIGALRM (default action: terminate) arrives delay_ms in, wherever the
 * query is by then; 0 disarms it. */
static void alarm_in(const ptask *t, unsigned delay_ms)
{
	struct itimerval it = { { 0, 0 }, { 0, (long)delay_ms * 1000 } };

	if (delay_ms) {
		signal(SIGALRM, SIG_DFL);
		fprintf(stderr, "pond: injected fault mid-query in %s after %u ms\n", t->id, delay_ms);
		fflush(stderr);
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The child's database, ready for a task: the one it opened while it
 * waited for its first task (or a new one), spilling into one directory
 * per child, next to the tasks' temp dirs. DuckDB creates only the last
 * level when it first spills: the rest must exist, or every task that
 * spills fails. */
static int ready_engine(engine **eng, const task_attempt *a, pond_err *err)
{
	char *spill = fs_dirname(a->temp_dir);
	char *mine = xasprintf("%s/child-%d", spill, (int)getpid());
	pond_err refused = { 0 };
	int rc = fs_mkdir_p(mine, err);

	if (!rc && *eng && engine_spill_to(*eng, mine, &refused)) {
		engine_close(*eng); /* it spilled elsewhere (another job) */
		*eng = NULL;
	}
	if (!rc && !*eng)
		rc = engine_open(eng, mine, err);
	free(spill);
	free(mine);
	return rc;
}

/* Commits what the engine wrote; the result says how it went. */
static int commit_output(const ptask *t, const task_attempt *a, int fault, task_result *res, pond_err *err)
{
	int rc = commit(a->attempt_dir, t->dir, t->durable, err);

	if (rc >= 0 && fault == FAULT_AFTER_COMMIT)
		die("after commit, before reporting", t);
	if (rc == 1) {
		/* another attempt committed first: the journal must record
		 * the manifest of the output that is there, not ours */
		manifest m;
		res->duplicate = true;
		if (manifest_read(t->dir, &m, res->manifest, NULL) == 0)
			manifest_release(&m);
	}
	if (rc < 0)
		res->cls = error_class_of_errno(err->errnum, EC_INTERNAL);
	return rc;
}

/* What the child remembers of its last task, for profile_next. */
static struct {
	int stage;   /* -1: none yet */
	double ms;   /* how long it took, here */
	int skipped; /* tasks run without the profiler since the last with */
} last = { -1, 0, 0 };

/* Whether DuckDB's profiler measures this task (see PROFILE_MIN_MS). */
static bool profile_next(const ptask *t)
{
	bool tiny = t->stage == last.stage && last.ms < PROFILE_MIN_MS;

	if (!tiny || ++last.skipped >= PROFILE_SAMPLE) {
		last.skipped = 0;
		return true;
	}
	return false;
}

/* The process's usage since *before, into the attempt's metrics. */
static void measure(const proc_usage *before, task_metrics *m)
{
	proc_usage now;

	proc_usage_now(&now);
	if (before->cpu_ms >= 0 && now.cpu_ms >= 0)
		m->cpu_ms = now.cpu_ms - before->cpu_ms;
	if (before->read_bytes >= 0 && now.read_bytes >= 0) {
		m->read_bytes = now.read_bytes - before->read_bytes;
		m->write_bytes = now.write_bytes - before->write_bytes;
	}
}

/* One attempt in the child: run, commit, and say how it went in *res. */
static void run_one(engine **eng, const ptask *t, const task_attempt *a, task_result *res)
{
	unsigned delay = 0;
	int fault = fault_point(t, a, &delay);
	pond_err err = { 0 };
	int rc = 0;
	proc_usage before;
	double t0 = clock_mono();
	bool profile = profile_next(t);

	memset(res, 0, sizeof(*res));
	res->m = TASK_METRICS_NONE;
	proc_usage_now(&before);
	if ((rc = ready_engine(eng, a, &err)))
		res->cls = error_class_of_errno(err.errnum, EC_INTERNAL);
	if (fault == FAULT_START)
		die("at start", t);
	if (fault == FAULT_MID_QUERY)
		alarm_in(t, delay);
	if (!rc)
		rc = engine_run_task(*eng, t, a, profile, res, &err);
	if (fault == FAULT_MID_QUERY)
		alarm_in(t, 0);
	if (rc == 0 && fault == FAULT_BEFORE_COMMIT)
		die("after writing, before commit", t);
	if (rc == 0)
		rc = commit_output(t, a, fault, res, &err);
	measure(&before, &res->m);
	last.stage = t->stage;
	last.ms = (clock_mono() - t0) * 1e3;
	res->ok = rc >= 0;
	if (!res->ok)
		res->error = xstrdup(err.msg);
}

static void stderr_to(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);

	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

static void child_main(int fd)
{
	engine *eng = NULL;
	char *msg = NULL;
	pond_err later = { 0 }; /* a failed open is retried, and said, by the first task */

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the worker */
	prctl(PR_SET_NAME, "pond-task");
	engine_open(&eng, NULL, &later);
	while (frame_recv(fd, &msg, NULL) == 1) {
		ptask t;
		task_attempt a;
		task_result res;
		char *text;
		int rc;

		if (!strncmp(msg, STDERR_TO, strlen(STDERR_TO))) {
			fflush(stderr);
			stderr_to(msg + strlen(STDERR_TO));
			free(msg);
			msg = NULL;
			continue;
		}
		if (codec_read_cmd(msg, &t, &a) != CMD_TASK)
			break;
		free(msg);
		msg = NULL;
		test_pointf("child-%s.a%d", t.id, a.attempt);
		maybe_crash(&t, &a);
		maybe_wait(&t);
		run_one(&eng, &t, &a, &res);
		text = codec_result_msg(&res);
		fflush(stderr);
		rc = frame_send(fd, text, strlen(text));
		free(text);
		task_result_release(&res);
		task_attempt_release(&a);
		ptask_release(&t);
		if (rc)
			break;
	}
	free(msg);
	/* no engine_close: DuckDB's teardown (its memory returned page by
	 * page) was ~15 ms of every run's end, waited for by the worker and
	 * the driver. Nothing is lost: every result is committed, the
	 * database is in memory, and what it spilled lies in the job
	 * directory, which the run's cleanup removes. */
	fflush(stderr);
	_exit(0);
}

/* errpath: the child's stderr; NULL: the worker's, until a task names
 * one (point_stderr). */
static int start_child(const char *errpath)
{
	int fd;
	pid_t pid = proc_fork_socket(&fd, NULL);

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (errpath)
			stderr_to(errpath);
		child_main(fd);
	}
	child.pid = pid;
	child.fd = fd;
	free(child.errpath);
	child.errpath = errpath ? xstrdup(errpath) : NULL;
	return 0;
}

void task_child_prewarm(void)
{
	if (child.pid < 0)
		start_child(NULL);
}

/* Tells the child where its stderr goes, unless it goes there already.
 * A child that is gone is found by the exchange that follows. */
static void point_stderr(const char *errpath)
{
	char *m;

	if (child.errpath && !strcmp(child.errpath, errpath))
		return;
	m = xasprintf(STDERR_TO "%s", errpath);
	if (frame_send(child.fd, m, strlen(m)) == 0) {
		free(child.errpath);
		child.errpath = xstrdup(errpath);
	}
	free(m);
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

/* The result of an attempt whose child died without one. */
static void crashed(int status, task_result *res)
{
	char *tail = tail_of(child.errpath, child.err_start);

	if (WIFSIGNALED(status))
		res->error = xasprintf("task process killed by signal %d (%s)%s%s%s", WTERMSIG(status),
				       strsignal(WTERMSIG(status)),
				       WTERMSIG(status) == SIGKILL ? " — often the kernel's OOM killer" : "",
				       *tail ? "; its stderr ends with:\n" : "", tail);
	else
		res->error = xasprintf("task process exited with status %d without a result%s%s", WEXITSTATUS(status),
				       *tail ? "; its stderr ends with:\n" : "", tail);
	res->cls = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? EC_RESOURCE : EC_INTERNAL;
	res->crashed = true;
	free(tail);
}

static void failure(task_result *res, const char *msg, error_class cls)
{
	res->ok = false;
	res->error = xstrdup(msg);
	res->cls = cls;
}

/* Sends the attempt to the child and waits for its result, calling tick
 * every second. 1 with *res filled, 0 if the child died without a
 * result, -1 if tick asked to cancel. */
static int exchange(const ptask *t, const task_attempt *a, int (*tick)(void *), void *ctx, task_result *res)
{
	char *text = codec_task_msg(t, a), *msg = NULL;
	int got = 0;

	if (frame_send(child.fd, text, strlen(text)) == 0) {
		for (;;) {
			struct pollfd p = { child.fd, POLLIN, 0 };
			int r = poll(&p, 1, 1000);
			if (r > 0) {
				got = frame_recv(child.fd, &msg, NULL) == 1 && codec_read_result(msg, res) == 0;
				break;
			}
			if (r < 0 && errno != EINTR)
				break;
			if (r == 0 && tick && tick(ctx)) {
				got = -1;
				break;
			}
		}
	}
	free(text);
	free(msg);
	return got;
}

/* Kills the child (cancelled, or alive but broken) and forgets it; the
 * next attempt starts a new one. */
static void kill_child(int *status)
{
	proc_kill(child.pid, status);
	stop_child();
}

void task_run_isolated(const ptask *t, const task_attempt *a, const char *stderr_path, int (*tick)(void *), void *ctx,
		       task_result *res)
{
	pond_err err = { 0 };
	double t0 = clock_mono();
	int got, status = 0;

	memset(res, 0, sizeof(*res));
	res->m = TASK_METRICS_NONE;
	fs_rm_rf(a->attempt_dir, NULL);
	if (fs_mkdir_p(a->attempt_dir, &err)) {
		failure(res, err.msg, error_class_of_errno(err.errnum, EC_RESOURCE));
	} else if (child.pid < 0 && start_child(stderr_path)) {
		char *m = xasprintf("cannot start a task process: %s", strerror(errno));
		failure(res, m, EC_RESOURCE);
		free(m);
	} else {
		point_stderr(stderr_path);
		child.err_start = child.errpath && fs_size(child.errpath) > 0 ? (off_t)fs_size(child.errpath) : 0;
		got = exchange(t, a, tick, ctx, res);
		if (got < 0) {
			kill_child(NULL);
			failure(res,
				"cancelled by the driver (past --task-timeout, or a speculative twin finished first)",
				EC_TIMEOUT);
		} else if (got == 0) {
			kill_child(&status); /* the child died: collect it and say how */
			task_result_release(res);
			crashed(status, res);
		}
	}
	if (!res->ok)
		fs_rm_rf(a->attempt_dir, NULL);
	free(res->task);
	res->task = xstrdup(t->id);
	res->attempt = a->attempt;
	res->ms = (clock_mono() - t0) * 1e3;
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
