/* task.c — one task attempt in a child process (see task.h). The worker
 * that forks it has loaded libduckdb but never opened a database, so the
 * child starts from a process with no DuckDB threads. The child commits its
 * own output (fsync, then one rename); the worker only reports. */
#include "runtime/task.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "runtime/frame.h"
#include "util/fsutil.h"
#include "util/sb.h"

#define STDERR_TAIL 2000

static double now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

/* Moves the attempt into place. Returns 0, or 1 if another attempt had
 * already committed this task (ours is discarded), or -1. */
static int commit(const char *attempt, const char *dir, pond_err *err)
{
	char *parent = fs_dirname(dir);
	int rc = fs_fsync_tree(attempt, err);

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
	if (rc == 0)
		rc = fs_fsync_path(parent, err);
	free(parent);
	return rc;
}

static void child_main(const json_t *task, int fd)
{
	const char *adir = json_string_value(json_object_get(task, "attempt_dir"));
	const char *dir = json_string_value(json_object_get(task, "dir"));
	json_t *res = json_object();
	task_stats st;
	error_class cls = EC_NONE;
	pond_err err = { 0 };
	char *text;
	int rc;

	rc = engine_run_task(task, &st, &cls, &err);
	if (rc == 0) {
		rc = commit(adir, dir, &err);
		if (rc == 1)
			json_object_set_new(res, "duplicate", json_true());
		if (rc < 0)
			cls = strstr(err.msg, "No space") ? EC_RESOURCE : EC_INTERNAL;
	}
	json_object_set_new(res, "ok", json_boolean(rc >= 0));
	json_object_set_new(res, "rows", json_integer(st.rows));
	json_object_set_new(res, "bytes", json_integer(st.bytes));
	if (rc < 0) {
		json_object_set_new(res, "error", json_string(err.msg));
		json_object_set_new(res, "class", json_integer(cls));
	}
	text = json_dumps(res, JSON_COMPACT);
	frame_send(fd, text, strlen(text));
	free(text);
	json_decref(res);
	close(fd);
	_exit(0);
}

static char *tail_of(const char *path)
{
	char *all = NULL;
	size_t len = 0;
	char *out;

	if (fs_read(path, &all, &len, NULL))
		return xstrdup("");
	out = xstrdup(len > STDERR_TAIL ? all + len - STDERR_TAIL : all);
	free(all);
	while (*out && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

static json_t *crashed(int status, const char *errpath)
{
	json_t *res = json_object();
	char *tail = tail_of(errpath);
	char *msg;

	if (WIFSIGNALED(status))
		msg = xasprintf("task process killed by signal %d (%s)%s%s%s", WTERMSIG(status),
				strsignal(WTERMSIG(status)),
				WTERMSIG(status) == SIGKILL ? " — often the kernel's OOM killer" : "",
				*tail ? "; its stderr ends with:\n" : "", tail);
	else
		msg = xasprintf("task process exited with status %d without a result%s%s",
				WEXITSTATUS(status), *tail ? "; its stderr ends with:\n" : "", tail);
	json_object_set_new(res, "ok", json_false());
	json_object_set_new(res, "error", json_string(msg));
	json_object_set_new(res, "class", json_integer(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
							    ? EC_RESOURCE : EC_INTERNAL));
	json_object_set_new(res, "crashed", json_true());
	free(msg);
	free(tail);
	return res;
}

json_t *task_run_isolated(const json_t *task)
{
	const char *adir = json_string_value(json_object_get(task, "attempt_dir"));
	char *errpath = xasprintf("%s.stderr", adir);
	json_t *res = NULL;
	pond_err err = { 0 };
	double t0 = now_ms();
	int fds[2] = { -1, -1 }, status = 0;
	pid_t pid;

	fs_rm_rf(adir, NULL);
	if (fs_mkdir_p(adir, &err) || pipe2(fds, O_CLOEXEC) != 0) {
		res = json_object();
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_string(err.msg[0] ? err.msg : strerror(errno)));
		json_object_set_new(res, "class", json_integer(EC_RESOURCE));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the worker */
		if (efd >= 0) {
			dup2(efd, 2);
			close(efd);
		}
		close(fds[0]);
		if (getenv("POND_TEST_CRASH") && strstr(json_string_value(json_object_get(task, "id")),
							getenv("POND_TEST_CRASH")) &&
		    json_integer_value(json_object_get(task, "attempt")) == 1) {
			fprintf(stderr, "pond test: crashing on purpose\n");
			raise(SIGSEGV);
		}
		child_main(task, fds[1]);
	}
	close(fds[1]);
	if (pid < 0) {
		res = json_object();
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_sprintf("fork: %s", strerror(errno)));
		json_object_set_new(res, "class", json_integer(EC_RESOURCE));
	} else {
		char *msg = NULL;
		if (frame_recv(fds[0], &msg, NULL) == 1)
			res = json_loads(msg, 0, NULL);
		free(msg);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!res)
			res = crashed(status, errpath);
	}
	close(fds[0]);
out:
	if (!json_is_true(json_object_get(res, "ok")))
		fs_rm_rf(adir, NULL);
	unlink(errpath);
	json_object_set(res, "task", json_object_get(task, "id"));
	json_object_set(res, "attempt", json_object_get(task, "attempt"));
	json_object_set_new(res, "ms", json_real(now_ms() - t0));
	free(errpath);
	return res;
}
