/* pyrun.c — a Python function's step of a task (see pyrun.h). The task
 * child has DuckDB's threads running: the forked child only makes async-
 * signal-safe calls before execv. It dies with the task child
 * (PR_SET_PDEATHSIG), so a cancelled or killed attempt leaves no Python
 * behind. */
#include "engine/pyrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/proc.h"
#include "util/sb.h"

#define TRACEBACK_MAX 16000 /* bytes of Python's output kept in the error */

static const char *python(void)
{
	const char *p = getenv("POND_PYTHON");
	return p && *p ? p : "/usr/bin/python3";
}

/* What Python printed: its last TRACEBACK_MAX bytes, trailing newlines
 * dropped. */
static char *printed(const char *path)
{
	char *all = NULL, *out;
	size_t len = 0, start;

	if (fs_read(path, &all, &len, NULL))
		return xstrdup("");
	start = len > TRACEBACK_MAX ? len - TRACEBACK_MAX : 0;
	out = xstrdup(all + start);
	free(all);
	for (size_t n = strlen(out); n && out[n - 1] == '\n'; n--)
		out[n - 1] = '\0';
	return out;
}

int pyrun(const task_output *o, const char *in, const char *out, const char *dir, error_class *cls, pond_err *err)
{
	char *errpath = xasprintf("%s/py.stderr", dir), *text;
	const char *exe = python();
	char *const argv[] = { (char *)exe, o->py_runner, o->py_pickle, (char *)in, (char *)out, NULL };
	int status = 0, efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	pid_t pid;

	if (efd < 0) {
		*cls = error_class_of_errno(errno, EC_IO);
		pond_fail_errno(err, POND_ETASK, errno, "%s", errpath);
		free(errpath);
		return -1;
	}
	pid = proc_fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(efd, 1);
		dup2(efd, 2);
		execv(exe, argv);
		_exit(127);
	}
	close(efd);
	if (pid < 0 || proc_reap(pid, &status)) {
		*cls = EC_INTERNAL;
		pond_fail(err, POND_ETASK, "cannot start %s: %s", exe, strerror(errno));
		free(errpath);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		unlink(errpath);
		free(errpath);
		return 0;
	}
	text = printed(errpath);
	unlink(errpath);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
		*cls = EC_INPUT; /* the user's function raised: so it will again */
		pond_fail(err, POND_ETASK, "the Python function failed:\n%s", text);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		*cls = EC_INTERNAL;
		pond_fail(err, POND_ETASK, "cannot run %s (set POND_PYTHON to a Python 3)", exe);
	} else {
		*cls = EC_INTERNAL;
		pond_fail(err, POND_ETASK, "Python (%s) %s %d%s%s", exe,
			  WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
			  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), *text ? ":\n" : "", text);
	}
	free(text);
	free(errpath);
	return -1;
}
