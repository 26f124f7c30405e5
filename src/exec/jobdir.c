/* jobdir.c — the job directory (see jobdir.h): default name, marker, lock,
 * preparing and cleaning. Called by the session. Invariant: pond deletes
 * only entries it makes itself (own[] below), and only in a directory that
 * carries its marker, and only while it holds the directory's lock. */
#include "exec/jobdir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/journal.h"
#include "plan/task_codec.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/proc.h"
#include "util/sb.h"
#include "util/testpoint.h"

struct jobdir {
	char *dir;
	int lock_fd;
};

/* Every entry a run of pond makes in a job directory; `clean` ones a fresh
 * run removes. Anything else makes the directory foreign. */
static const struct {
	const char *name;
	bool clean;
} own[] = {
	{ JOBDIR_MARKER, false },
	{ "lock", false },
	{ "plan.json", true },
	{ "plan.json.tmp", true },
	{ "journal.jsonl", true },
	{ "events.jsonl", true },
	{ "data", true },
	{ "tmp", true },
	{ "log", true },
	{ "trace.json", true },
	{ "trace.json.tmp", true },
	{ "report.html", true },
	{ "report.html.tmp", true },
};
#define TRASH_PREFIX ".trash-" /* + pid: intermediates being deleted */

static int own_entry(const char *name, bool *clean)
{
	*clean = !strncmp(name, TRASH_PREFIX, strlen(TRASH_PREFIX));
	if (*clean)
		return 1;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(name, own[i].name)) {
			*clean = own[i].clean;
			return 1;
		}
	return 0;
}

static int cmp_define(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
	int c = strncmp(x, y, nx < ny ? nx : ny);
	return c ? c : (nx > ny) - (nx < ny);
}

char *jobdir_default(const char *script_path, const char *const *defines, size_t ndefines)
{
	char *real = fs_realpath(script_path);
	const char **defs = xcalloc(ndefines + 1, sizeof(char *));
	size_t n = 0;
	uint64_t h = fnv1a64(FNV1A64_INIT, "pond-job", sizeof("pond-job"));
	char *name, *dot, *rel, *abs;

	h = fnv1a64(h, real, strlen(real) + 1);
	/* the value ${NAME} gets is the last -D NAME=... (script_parse) */
	for (size_t i = ndefines; i-- > 0;) {
		size_t len = strcspn(defines[i], "="), k;
		for (k = 0; k < n; k++)
			if (strcspn(defs[k], "=") == len && !strncmp(defs[k], defines[i], len))
				break;
		if (k == n)
			defs[n++] = defines[i];
	}
	qsort(defs, n, sizeof(char *), cmp_define);
	for (size_t i = 0; i < n; i++)
		h = fnv1a64(h, defs[i], strlen(defs[i]) + 1);
	name = xstrdup(fs_basename(real));
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	rel = xasprintf(".pond/%s-%08x", name, hash_fold32(h));
	abs = fs_abspath(rel);
	free(rel);
	free(name);
	free(defs);
	free(real);
	return abs;
}

char *jobdir_named(const char *name, const char *const *parts, size_t nparts)
{
	uint64_t h = fnv1a64(FNV1A64_INIT, "pond-sql", sizeof("pond-sql"));
	char *rel, *abs;

	for (size_t i = 0; i < nparts; i++)
		h = fnv1a64(h, parts[i] ? parts[i] : "", strlen(parts[i] ? parts[i] : "") + 1);
	rel = xasprintf(".pond/%s-%08x", name, hash_fold32(h));
	abs = fs_abspath(rel);
	free(rel);
	return abs;
}

static const char marker_text[] =
	"This is a pond job directory (plan, journal, intermediate data of one job).\n"
	"A fresh run deletes its own entries here (data/ tmp/ log/ plan.json journal.jsonl\n"
	"events.jsonl); pond refuses a directory holding anything else.\n";

int jobdir_check(const char *dir, pond_err *err)
{
	char *marker = xasprintf("%s/" JOBDIR_MARKER, dir);
	char **names = NULL;
	size_t n = 0;
	bool clean;
	int rc = 0;

	if (fs_exists(dir) && !fs_is_dir(dir))
		rc = pond_fail(err, POND_EUSAGE, "job directory %s exists and is not a directory", dir);
	else if (fs_exists(dir) && (rc = fs_list(dir, &names, &n, err)))
		goto out;
	if (rc == 0 && !fs_exists(marker) && n > 0) {
		rc = pond_fail(err, POND_EUSAGE,
			       "job directory %s is not empty and pond did not create it (it holds '%s'); "
			       "pond will not clean a directory holding files it did not make: "
			       "pass a new or empty --job-dir",
			       dir, names[0]);
		goto out;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!own_entry(names[i], &clean))
			rc = pond_fail(err, POND_EUSAGE,
				       "job directory %s holds '%s', which pond did not make; "
				       "move it away or pass another --job-dir (pond will not delete it)",
				       dir, names[i]);
out:
	fs_free_list(names);
	free(marker);
	return rc;
}

/* Makes `dir` a job directory if it is new or empty (jobdir_check). */
static int check_or_mark(const char *dir, pond_err *err)
{
	char *marker = xasprintf("%s/" JOBDIR_MARKER, dir);
	int rc = jobdir_check(dir, err);

	if (!rc)
		rc = fs_mkdir_p(dir, err);
	if (!rc && !fs_exists(marker))
		rc = fs_write_atomic(marker, marker_text, sizeof(marker_text) - 1, err);
	free(marker);
	return rc;
}

/* The pid a running holder wrote into the lock file, or 0. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int jobdir_open(const char *dir, jobdir **out, pond_err *err)
{
	char *path = xasprintf("%s/lock", dir);
	char line[32];
	int fd = -1, len;

	*out = NULL;
	if (check_or_mark(dir, err))
		goto fail;
	/* workers are forked after this: they close it (fs_close_fds), so the
	 * lock dies with this process and not a moment later */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		pond_fail_errno(err, POND_EIO, errno, "open %s", path);
		goto fail;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		long pid;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			pond_fail(err, POND_EIO,
				  "cannot lock %s: %s (the job directory's file system must support flock)", path,
				  strerror(errno));
			goto fail;
		}
		pid = holder_pid(fd);
		if (pid > 0)
			pond_fail(err, POND_EBUSY,
				  "job directory %s is in use by another pond run (pid %ld holds %s); "
				  "wait for it to end, or pass another --job-dir",
				  dir, pid, path);
		else
			pond_fail(err, POND_EBUSY,
				  "job directory %s is in use by another pond run (it holds %s); "
				  "wait for it to end, or pass another --job-dir",
				  dir, path);
		goto fail;
	}
	/* who holds it, for the message a second run prints; not fatal */
	len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
		/* a full disk: the lock still works, the message lacks the pid */
	}
	*out = xcalloc(1, sizeof(jobdir));
	(*out)->dir = xstrdup(dir);
	(*out)->lock_fd = fd;
	free(path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

void jobdir_close(jobdir *j)
{
	if (!j)
		return;
	close(j->lock_fd); /* releases the flock */
	free(j->dir);
	free(j);
}

/* What differs between an old plan.json and the new plan, in words. */
static char *plan_change(const char *old_text, const pplan *pp)
{
	plan_input *a = NULL;
	size_t n = 0;
	char *what = NULL;

	if (codec_plan_inputs(old_text, &a, &n) == 0) {
		if (n != pp->ninputs)
			what = xasprintf("the input files changed (%zu then, %zu now)", n, pp->ninputs);
		for (size_t i = 0; !what && i < n; i++) {
			const plan_input *x = &a[i], *y = &pp->inputs[i];
			if (strcmp(x->path, y->path) || x->size != y->size || x->mtime_ns != y->mtime_ns)
				what = xasprintf("input %s changed (its path, size or modification time)", y->path);
		}
	}
	plan_inputs_free(a, n);
	return what ? what : xstrdup("the plan changed (the script or its parameters)");
}

/* Removes the entries an earlier run made; leaves the marker, the lock
 * and (by construction, see check_or_mark) nothing else is there. */
static int clean_own(const char *dir, pond_err *err)
{
	char **names;
	size_t n;
	bool cleanable;
	int rc = fs_list(dir, &names, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (own_entry(names[i], &cleanable) && cleanable) {
			char *p = xasprintf("%s/%s", dir, names[i]);
			bool trash = !strncmp(names[i], TRASH_PREFIX, strlen(TRASH_PREFIX));
			/* an earlier run's background delete may be at it too */
			rc = fs_rm_rf(p, trash ? NULL : err);
			if (trash)
				rc = 0;
			free(p);
		}
	fs_free_list(names);
	return rc;
}

/* --resume: an earlier run's trash (a run killed after publishing moved a
 * staging directory there, before its remover started) goes into this
 * run's, which is emptied when this run ends. A remover still at it
 * loses its paths and stops; this run's finishes the job. */
static void adopt_old_trash(const char *dir)
{
	char *mine = jobdir_trash_dir(dir);
	const char *name = fs_basename(mine);
	char **names;
	size_t n;

	if (fs_list(dir, &names, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			char *from, *to;
			if (strncmp(names[i], TRASH_PREFIX, strlen(TRASH_PREFIX)) || !strcmp(names[i], name) ||
			    fs_mkdir_p(mine, NULL))
				continue;
			from = xasprintf("%s/%s", dir, names[i]);
			to = xasprintf("%s/%s", mine, names[i]);
			if (rename(from, to) != 0)
				fs_rm_rf(from, NULL);
			free(from);
			free(to);
		}
		fs_free_list(names);
	}
	free(mine);
}

int jobdir_prepare(const char *dir, const pplan *pp, bool resume, const char *script, commit_set *committed,
		   bool *resumed, pond_err *err)
{
	char *text = codec_plan(pp);
	char *path = xasprintf("%s/plan.json", dir);
	char *tmp = xasprintf("%s/tmp/attempts", dir);
	char *log = xasprintf("%s/log", dir);
	char *old = NULL;
	int rc = 0;

	memset(committed, 0, sizeof(*committed));
	*resumed = false;
	if (resume && fs_read(path, &old, NULL, NULL) == 0) {
		if (strcmp(old, text)) {
			char *what = plan_change(old, pp);
			rc = pond_fail(err, POND_EUSAGE,
				       "%s: cannot resume: %s since the job directory %s was written; "
				       "run without --resume to start fresh",
				       script, what, dir);
			free(what);
			goto out;
		}
		journal_committed(dir, committed);
		adopt_old_trash(dir);
		*resumed = true;
	} else if ((rc = clean_own(dir, err))) {
		goto out;
	}
	if (!(rc = fs_mkdir_p(tmp, err)) && !(rc = fs_mkdir_p(log, err)))
		rc = fs_write_atomic(path, text, strlen(text), err);
out:
	free(old);
	free(path);
	free(tmp);
	free(log);
	free(text);
	return rc;
}

/* Removes `dir` in a detached grandchild, so that deleting gigabytes of
 * intermediates does not hold up the end of the job (unlinking 1 GB took
 * ~0.6 s here). The grandchild keeps no descriptor of pond's: not the job
 * lock, and not stdout/stderr, which may be a pipe whose reader
 * (`pond run … | tee log`) must see EOF when pond exits. Falls back to
 * removing it now if fork fails. */
static void remove_later(const char *dir)
{
	pid_t pid;

	pid = proc_fork();
	if (pid == 0) {
		if (proc_fork() == 0) {
			int null = open("/dev/null", O_RDWR);
			setsid();
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
			}
			fs_close_fds(-1);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			test_point_untraced("remove-later");
			fs_rm_rf(dir, NULL);
		}
		_exit(0);
	}
	if (pid > 0)
		proc_reap(pid, NULL);
	else
		fs_rm_rf(dir, NULL);
}

char *jobdir_trash_dir(const char *dir)
{
	return xasprintf("%s/" TRASH_PREFIX "%d", dir, (int)getpid());
}

void jobdir_drop_intermediates(const pplan *pp, bool keep)
{
	char *trash = jobdir_trash_dir(pp->job_dir);
	char *tmp = xasprintf("%s/tmp", pp->job_dir);
	int n = 0;

	if (keep) { /* only what publishing left in the trash */
		if (fs_exists(trash))
			remove_later(trash);
		goto out;
	}
	if (fs_mkdir_p(trash, NULL)) {
		free(trash);
		trash = NULL;
	}
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		char *dir, *to;
		if (st->kind == ST_SHOW || st->kind == ST_COUNT || st->kind == ST_SINK || !st->ntasks)
			continue;
		dir = fs_dirname(st->tasks[0].dir);
		to = trash ? xasprintf("%s/%d", trash, n++) : NULL;
		if (!to || rename(dir, to) != 0)
			fs_rm_rf(dir, NULL);
		free(dir);
		free(to);
	}
	if (trash) {
		char *to = xasprintf("%s/tmp", trash);
		if (rename(tmp, to) != 0)
			fs_rm_rf(tmp, NULL);
		free(to);
		remove_later(trash);
	} else {
		fs_rm_rf(tmp, NULL);
	}
out:
	free(trash);
	free(tmp);
}
