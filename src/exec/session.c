/* session.c — the public API (include/pond.h): a session loads a script
 * (parse + interpret into a logical plan), plans it into stages, prepares
 * the job directory, runs the scheduler over a transport and publishes the
 * outputs. The CLI is a thin layer over these calls. */
#include "pond.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/journal.h"
#include "exec/progress.h"
#include "exec/publish.h"
#include "exec/scheduler.h"
#include "plan/combine.h"
#include "plan/physical.h"
#include "runtime/transport.h"
#include "script/ast.h"
#include "script/interp.h"
#include "util/fsutil.h"
#include "util/sb.h"

struct pond_session {
	pond_options o;
	char **defines;   /* owned copies of o.defines */
	pond_err err;
	lplan *lp;
	char *script_path;
};

void pond_options_init(pond_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 42;
}

pond_status pond_session_new(const pond_options *o, pond_session **out)
{
	pond_session *s = xcalloc(1, sizeof(pond_session));

	s->o = *o;
	s->defines = xcalloc(o->ndefines + 1, sizeof(char *));
	for (size_t i = 0; i < o->ndefines; i++)
		s->defines[i] = xstrdup(o->defines[i]);
	s->o.defines = (const char *const *)s->defines;
	s->o.job_dir = o->job_dir ? xstrdup(o->job_dir) : NULL;
	if (s->o.max_attempts <= 0)
		s->o.max_attempts = 3;
	*out = s;
	return POND_OK;
}

void pond_session_free(pond_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->o.ndefines; i++)
		free(s->defines[i]);
	free(s->defines);
	free((char *)s->o.job_dir);
	lplan_free(s->lp);
	free(s->script_path);
	free(s);
}

const char *pond_errmsg(const pond_session *s)
{
	return s ? s->err.msg : "out of memory";
}

static pond_status failed(pond_session *s)
{
	return s->err.code ? s->err.code : POND_EINTERNAL;
}

pond_status pond_load_script(pond_session *s, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	script *sc = NULL;
	char msg[4096];

	memset(&s->err, 0, sizeof(s->err));
	if (fs_read(path, &text, &len, NULL)) {
		pond_fail(&s->err, POND_EUSAGE, "cannot read the script %s: %s", path, strerror(errno));
		return POND_EUSAGE;
	}
	if (script_parse(path, text, len, s->o.defines, s->o.ndefines, &sc, msg, sizeof(msg))) {
		free(text);
		pond_fail(&s->err, POND_EUSAGE, "%s", msg);
		return POND_EUSAGE;
	}
	free(text);
	lplan_free(s->lp);
	s->lp = lplan_new();
	s->lp->script_path = fs_abspath(path);
	free(s->script_path);
	s->script_path = xstrdup(path);
	if (interp_script(sc, s->lp, &s->err)) {
		script_free(sc);
		return failed(s);
	}
	script_free(sc);
	combine_plan(s->lp);
	return POND_OK;
}

/* .pond/<script name without .pond> under the current directory */
static char *job_dir_of(pond_session *s)
{
	char *name, *dot, *dir;

	if (s->o.job_dir)
		return fs_abspath(s->o.job_dir);
	name = xstrdup(fs_basename(s->script_path));
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	dir = xasprintf(".pond/%s", name);
	free(name);
	name = fs_abspath(dir);
	free(dir);
	return name;
}

static int build(pond_session *s, pplan **pp)
{
	char *jd;
	plan_opts po;
	int rc;

	if (!s->lp)
		return pond_fail(&s->err, POND_EUSAGE, "no script loaded");
	jd = job_dir_of(s);
	po.job_dir = jd;
	po.seed = s->o.seed;
	rc = pplan_build(s->lp, &po, pp, &s->err);
	free(jd);
	return rc;
}

pond_status pond_explain(pond_session *s, FILE *out)
{
	pplan *pp = NULL;

	if (build(s, &pp))
		return failed(s);
	pplan_explain(s->lp, pp, out);
	pplan_free(pp);
	return POND_OK;
}

static long cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

/* What differs between an old plan.json and the new plan, in words. */
static char *plan_change(const char *old_text, const json_t *plan)
{
	json_t *old = json_loads(old_text, 0, NULL);
	const json_t *a = json_object_get(old, "inputs"), *b = json_object_get(plan, "inputs");
	char *what = NULL;
	size_t i;

	if (a && json_array_size(a) != json_array_size(b))
		what = xasprintf("the input files changed (%zu then, %zu now)", json_array_size(a), json_array_size(b));
	for (i = 0; !what && a && i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
		if (!json_equal((json_t *)x, (json_t *)y))
			what = xasprintf("input %s changed (its path, size or modification time)",
					 json_string_value(json_object_get(y, "path")));
	}
	if (!what)
		what = xstrdup("the plan changed (the script or its parameters)");
	json_decref(old);
	return what;
}

/* Parquet files end with the magic "PAR1": a cheap check that a file was
 * written to the end. */
static bool parquet_complete(const char *path)
{
	char tail[4];
	FILE *f = fopen(path, "rb");
	bool ok = f && fseek(f, -4, SEEK_END) == 0 && fread(tail, 1, 4, f) == 4 && !memcmp(tail, "PAR1", 4);
	if (f)
		fclose(f);
	return ok;
}

/* Whether a committed task's output is still whole: its directory is
 * there and every Parquet file in it ends with the magic. */
static bool output_whole(const char *dir)
{
	char **rel;
	size_t n;
	bool ok;

	if (!fs_is_dir(dir))
		return false;
	ok = fs_walk(dir, &rel, &n, NULL) == 0;
	for (size_t k = 0; ok && k < n; k++) {
		size_t len = strlen(rel[k]);
		char *p = xasprintf("%s/%s", dir, rel[k]);
		if (len > 8 && !strcmp(rel[k] + len - 8, ".parquet"))
			ok = parquet_complete(p);
		free(p);
	}
	fs_free_list(rel);
	return ok;
}

/* --resume trusts a commit line only where the output is still needed and
 * whole. A stage is needed when one of its tasks must run, or a needed
 * stage reads it; show()/count() results are needed to print them. A
 * needed task whose output is gone or torn runs again (its directory
 * removed first, or the new commit's rename could not land). Outputs a
 * finished job dropped are not needed unless something downstream runs. */
static void drop_unreadable(const pplan *pp, json_t *committed)
{
	bool *needed = xcalloc(pp->nstages + 1, sizeof(bool));

	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		for (size_t t = 0; t < st->ntasks; t++) {
			const json_t *task = st->tasks[t];
			const char *id = json_string_value(json_object_get(task, "id"));
			const char *dir = json_string_value(json_object_get(task, "dir"));
			if (!json_object_get(committed, id))
				needed[i] = true;
			else if ((st->kind == ST_SHOW || st->kind == ST_COUNT ||
				  /* a sink's staged output (gone once published):
				   * a torn part file must not be published */
				  (st->kind == ST_SINK && fs_is_dir(dir))) &&
				 !output_whole(dir)) {
				json_object_del(committed, id);
				fs_rm_rf(dir, NULL);
				needed[i] = true;
			}
		}
	}
	/* deps have smaller ids: one pass from the end closes the set */
	for (size_t i = pp->nstages; i-- > 0;)
		for (size_t d = 0; needed[i] && d < pp->stages[i]->ndeps; d++)
			needed[pp->stages[i]->deps[d]] = true;
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		for (size_t t = 0; needed[i] && st->kind != ST_SINK && t < st->ntasks; t++) {
			const char *id = json_string_value(json_object_get(st->tasks[t], "id"));
			const char *dir = json_string_value(json_object_get(st->tasks[t], "dir"));
			if (json_object_get(committed, id) && !output_whole(dir)) {
				json_object_del(committed, id);
				fs_rm_rf(dir, NULL);
			}
		}
	}
	free(needed);
}

/* Removes `dir` in a detached grandchild, so that deleting gigabytes of
 * intermediates does not hold up the end of the job (unlinking 1 GB took
 * ~0.6 s here). Falls back to removing it now if fork fails. */
static void remove_later(const char *dir)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			fs_rm_rf(dir, NULL);
		}
		_exit(0);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	else
		fs_rm_rf(dir, NULL);
}

/* After success, shuffle buckets and materialised partitions are garbage
 * (often as big as the input): they and the attempt/spill dirs are moved
 * into <job>/.trash-<pid> at once and deleted in the background.
 * show()/count() results stay, so --resume of a finished job can print
 * them again without running anything. */
static void drop_intermediates(const pplan *pp)
{
	char *trash = xasprintf("%s/.trash-%d", pp->job_dir, (int)getpid());
	char *tmp = xasprintf("%s/tmp", pp->job_dir);
	int n = 0;

	if (fs_mkdir_p(trash, NULL)) {
		free(trash);
		trash = NULL;
	}
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		char *dir, *to;
		if (st->kind == ST_SHOW || st->kind == ST_COUNT || st->kind == ST_SINK || !st->ntasks)
			continue;
		dir = fs_dirname(json_string_value(json_object_get(st->tasks[0], "dir")));
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
	free(trash);
	free(tmp);
}

/* Fresh run: clears the job dir; --resume: keeps it if the plan is the
 * same and returns the committed task ids. Writes plan.json. */
static int prepare_job_dir(pond_session *s, const pplan *pp, json_t **committed)
{
	const char *jd = pp->job_dir;
	json_t *plan = pplan_to_json(pp);
	char *text = json_dumps(plan, JSON_INDENT(1) | JSON_SORT_KEYS);
	char *path = xasprintf("%s/plan.json", jd);
	char *old = NULL;
	int rc = 0;

	*committed = NULL;
	if (s->o.resume && fs_read(path, &old, NULL, NULL) == 0) {
		if (strcmp(old, text)) {
			char *what = plan_change(old, plan);
			rc = pond_fail(&s->err, POND_EUSAGE,
				       "%s: cannot resume: %s since the job directory %s was written; "
				       "run without --resume to start fresh",
				       s->script_path, what, jd);
			free(what);
			goto out;
		}
		*committed = journal_committed(jd);
	} else {
		static const char *parts[] = { "data", "tmp", "log", "journal.jsonl", "events.jsonl", "plan.json" };
		char **names;
		size_t nn;
		/* what an earlier run's background delete did not get to */
		if (fs_list(jd, &names, &nn, NULL) == 0)
			for (size_t i = 0; i < nn; i++)
				if (!strncmp(names[i], ".trash-", 7)) {
					char *p = xasprintf("%s/%s", jd, names[i]);
					fs_rm_rf(p, NULL);
					free(p);
				}
		fs_free_list(names);
		for (size_t i = 0; rc == 0 && i < sizeof(parts) / sizeof(parts[0]); i++) {
			char *p = xasprintf("%s/%s", jd, parts[i]);
			rc = fs_rm_rf(p, &s->err);
			free(p);
		}
		for (size_t i = 0; rc == 0 && i < pp->nstages; i++)
			if (pp->stages[i]->kind == ST_SINK) {
				char *st = pplan_staging_dir(pp->stages[i]->act->dir);
				rc = fs_rm_rf(st, &s->err);
				free(st);
			}
	}
	if (!rc)
		rc = fs_mkdir_p(jd, &s->err);
	if (!rc) {
		char *tmp = xasprintf("%s/tmp/attempts", jd);
		char *log = xasprintf("%s/log", jd);
		rc = fs_mkdir_p(tmp, &s->err);
		if (!rc)
			rc = fs_mkdir_p(log, &s->err);
		free(tmp);
		free(log);
	}
	if (!rc)
		rc = fs_write_atomic(path, text, strlen(text), &s->err);
out:
	free(old);
	free(path);
	free(text);
	json_decref(plan);
	return rc;
}

/* On --resume: a sink whose tasks the journal shows all committed and
 * whose staging directory is gone was published by an earlier run (staging
 * is removed only after a successful publish, _SUCCESS written last). */
static bool sink_published(const stage *st, const json_t *committed)
{
	char *staging, *success;
	bool done = committed != NULL;

	for (size_t i = 0; done && i < st->ntasks; i++)
		done = json_object_get(committed, json_string_value(json_object_get(st->tasks[i], "id"))) != NULL;
	if (!done)
		return false;
	staging = pplan_staging_dir(st->act->dir);
	success = xasprintf("%s/_SUCCESS", st->act->dir);
	done = !fs_exists(staging) && fs_exists(success);
	free(staging);
	free(success);
	return done;
}

/* Prints show()/count() results and publishes sinks (except those an
 * earlier run published), in script order. */
static int finish(pond_session *s, const pplan *pp, const bool *published)
{
	for (size_t a = 0; a < s->lp->nactions; a++) {
		const action *act = &s->lp->actions[a];
		for (size_t i = 0; i < pp->nstages; i++) {
			const stage *st = pp->stages[i];
			if (st->act != act)
				continue;
			if (st->kind == ST_SINK) {
				if (!published[i] && publish_sink(st, s->o.resume, &s->err))
					return -1;
			} else {
				const char *dir = json_string_value(json_object_get(st->tasks[0], "dir"));
				char *p = xasprintf("%s/%s", dir, st->kind == ST_SHOW ? "show.txt" : "count.txt");
				char *text = NULL;
				int rc = fs_read(p, &text, NULL, &s->err);
				free(p);
				if (rc)
					return -1;
				fputs(text, stdout);
				free(text);
			}
		}
	}
	fflush(stdout);
	return 0;
}

pond_status pond_run(pond_session *s)
{
	pplan *pp = NULL;
	transport *t = NULL;
	journal j = { -1, -1 };
	sched_opts so = { 0 };
	sched_summary sum;
	json_t *committed = NULL;
	bool *published = NULL;
	int workers = s->o.workers > 0 ? s->o.workers : (int)cores();
	int rc;

	memset(&s->err, 0, sizeof(s->err));
	if ((rc = build(s, &pp)))
		goto out;
	/* mode='error' refuses a non-empty output before any work starts,
	 * unless --resume finds it published by this job's earlier run */
	published = xcalloc(pp->nstages + 1, sizeof(bool));
	if (s->o.resume)
		committed = journal_committed(pp->job_dir);
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		if (st->kind != ST_SINK)
			continue;
		published[i] = sink_published(st, committed);
		if (!published[i] && !st->act->overwrite && !fs_dir_is_empty(st->act->dir)) {
			rc = pond_fail(&s->err, POND_EEXISTS,
				       "%s: output directory %s is not empty (mode='error'); "
				       "pass mode='overwrite' to replace it", st->act->where, st->act->dir);
			goto out;
		}
	}
	json_decref(committed);
	committed = NULL;
	if ((rc = prepare_job_dir(s, pp, &committed)))
		goto out;
	/* a sink still to publish needs its committed outputs: re-run the
	 * tasks whose outputs are gone */
	for (size_t i = 0; committed && i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		for (size_t k = 0; st->kind == ST_SINK && !published[i] && k < st->ntasks; k++)
			if (!fs_exists(json_string_value(json_object_get(st->tasks[k], "dir"))))
				json_object_del(committed, json_string_value(json_object_get(st->tasks[k], "id")));
	}
	if (committed)
		drop_unreadable(pp, committed);
	if ((rc = journal_open(&j, pp->job_dir, &s->err)))
		goto out;
	so.max_attempts = s->o.max_attempts;
	/* 0 = the worker picks its host's share (see worker_set_host_share) */
	so.threads = s->o.threads;
	so.memory_limit = s->o.memory_limit;
	so.progress = s->o.progress;
	so.committed = committed;
	so.task_timeout = s->o.task_timeout;
	so.speculate = s->o.speculate;
	so.inject_p = s->o.inject_p;
	so.inject_seed = s->o.inject_seed;
	t = s->o.mpi ? mpi_transport_start(&s->err) : local_transport_start(workers, &s->err);
	if (t)
		workers = t->ops->nworkers(t);
	if (!t) {
		rc = -1;
		goto out;
	}
	rc = sched_run(pp, t, &so, &j, &sum, &s->err);
	t->ops->shutdown(t);
	if (!rc)
		rc = finish(s, pp, published);
	if (!rc) {
		if (!s->o.keep_intermediates)
			drop_intermediates(pp);
		journal_append(&j, "done", NULL, true, NULL);
		if (s->o.progress != POND_PROGRESS_NONE) {
			char rows[32], bytes[32], skipped[64] = "";
			human_count(rows, sizeof(rows), sum.rows_out);
			human_bytes(bytes, sizeof(bytes), sum.bytes_out);
			if (sum.skipped)
				snprintf(skipped, sizeof(skipped), " (%lld already committed)", (long long)sum.skipped);
			fprintf(stderr, "pond: done: %lld tasks%s, %lld retried, %s rows (%s) written, %.2f s, %d workers\n",
				(long long)(sum.tasks + sum.skipped), skipped, (long long)sum.retries, rows, bytes,
				sum.seconds, workers);
		}
	}
out:
	journal_close(&j);
	free(published);
	json_decref(committed);
	pplan_free(pp);
	return rc ? failed(s) : POND_OK;
}
