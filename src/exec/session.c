/* session.c — the public API (include/pond.h): a session loads a script
 * (parse + interpret into a logical plan), plans it into stages, locks and
 * prepares the job directory (jobdir.c), settles and stages the sinks
 * (publish.c), runs the scheduler over a transport and publishes the
 * outputs. The CLI is a thin layer over these calls. */
#include "pond.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/jobdir.h"
#include "exec/journal.h"
#include "exec/progress.h"
#include "exec/publish.h"
#include "exec/scheduler.h"
#include "engine/plandb.h"
#include "plan/bind.h"
#include "plan/physical.h"
#include "runtime/transport.h"
#include "script/ast.h"
#include "script/interp.h"
#include "util/fsutil.h"
#include "util/manifest.h"
#include "util/sb.h"
#include "util/testpoint.h"

struct pond_session {
	pond_options o;
	char **defines;   /* owned copies of o.defines */
	pond_err err;
	lplan *lp;
	char *script_path;
	double t0;        /* when the session was made (progress_now) */
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
	s->t0 = progress_now();
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

/* Binds every step in the plan-time DuckDB: wrong SQL is a script error
 * before anything runs. */
static pond_status bind_plan(pond_session *s, const char *path)
{
	plandb *db = NULL;
	int rc = plandb_open(&db, &s->err);

	if (!rc)
		rc = plan_bind(s->lp, db, path, &s->err);
	plandb_close(db);
	return rc ? failed(s) : POND_OK;
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
	return bind_plan(s, path);
}

static char *job_dir_of(pond_session *s)
{
	if (s->o.job_dir)
		return fs_abspath(s->o.job_dir);
	return jobdir_default(s->script_path, s->o.defines, s->o.ndefines);
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

/* Whether a committed task's output is still the one the journal
 * recorded: its manifest has the committed hash, and every file it lists
 * is there with its size (Parquet files whole to their magic). */
static bool output_whole(const char *dir, const json_t *committed_hash)
{
	manifest m;
	char hash[17];
	bool ok = manifest_read(dir, &m, hash, NULL) == 0 &&
		  (!json_is_string(committed_hash) || !strcmp(hash, json_string_value(committed_hash))) &&
		  manifest_check(dir, &m, "", NULL) == 0;

	for (size_t k = 0; ok && k < m.n; k++) {
		size_t len = strlen(m.files[k].path);
		char *p = xasprintf("%s/%s", dir, m.files[k].path);
		if (len > 8 && !strcmp(m.files[k].path + len - 8, ".parquet"))
			ok = parquet_complete(p);
		free(p);
	}
	manifest_release(&m);
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
				 !output_whole(dir, json_object_get(committed, id))) {
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
			if (json_object_get(committed, id) && !output_whole(dir, json_object_get(committed, id))) {
				json_object_del(committed, id);
				fs_rm_rf(dir, NULL);
			}
		}
	}
	free(needed);
}

/* On --resume: a sink whose tasks the journal shows all committed and
 * whose staging directory is gone was published by an earlier run (every
 * publish ends by removing it; publish_recover has finished one cut
 * short). Its output is still there if _SUCCESS is. */
static bool sink_published(const stage *st, const json_t *committed, const char *job_dir)
{
	char *success;
	bool done = committed != NULL;

	for (size_t i = 0; done && i < st->ntasks; i++)
		done = json_object_get(committed, json_string_value(json_object_get(st->tasks[i], "id"))) != NULL;
	if (!done)
		return false;
	success = xasprintf("%s/_SUCCESS", st->act->dir);
	done = publish_staging_gone(st, job_dir) && fs_exists(success);
	free(success);
	return done;
}

/* Outputs and the job directory apart: a fresh run cleans the job
 * directory and a publish replaces the output, so neither may hold the
 * other (the script-level checks are in interp.c, check_output_dir). */
static int check_job_dir_place(pond_session *s, const pplan *pp)
{
	char *jd = fs_realpath(pp->job_dir);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < pp->nstages; i++) {
		const action *a = pp->stages[i]->act;
		char *out;
		if (pp->stages[i]->kind != ST_SINK)
			continue;
		out = fs_realpath(a->dir);
		if (fs_path_within(jd, out))
			rc = pond_fail(&s->err, POND_EUSAGE,
				       "%s: output directory %s contains the job directory %s; "
				       "write elsewhere or pass another --job-dir", a->where, a->dir, pp->job_dir);
		else if (fs_path_within(out, jd))
			rc = pond_fail(&s->err, POND_EUSAGE,
				       "%s: output directory %s is inside the job directory %s; "
				       "write elsewhere or pass another --job-dir", a->where, a->dir, pp->job_dir);
		free(out);
	}
	free(jd);
	return rc;
}

static volatile sig_atomic_t interrupted;

void pond_interrupt(void)
{
	interrupted = 1;
}

static int check_interrupt(pond_session *s)
{
	return interrupted ? pond_fail(&s->err, POND_EINTR, "interrupted: run again with --resume") : 0;
}

/* Prints show()/count() results and publishes sinks (except those an
 * earlier run published), in script order. An interrupt stops it between
 * two sinks, never inside a publish. */
static int finish(pond_session *s, const pplan *pp, const bool *published)
{
	for (size_t a = 0; a < s->lp->nactions; a++) {
		const action *act = &s->lp->actions[a];
		for (size_t i = 0; i < pp->nstages; i++) {
			const stage *st = pp->stages[i];
			if (st->act != act)
				continue;
			if (check_interrupt(s))
				return -1;
			if (st->kind == ST_SINK) {
				if (!published[i] && publish_sink(st, pp->job_dir, &s->err))
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

/* mode='error' refuses a non-empty output before any work starts (a sink
 * published[] by this job's earlier run excepted). */
static int check_error_mode(pond_session *s, const pplan *pp, const bool *published)
{
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		if (st->kind == ST_SINK && !published[i] && !st->act->overwrite && !fs_dir_is_empty(st->act->dir))
			return pond_fail(&s->err, POND_EEXISTS,
					 "%s: output directory %s is not empty (mode='error'); "
					 "pass mode='overwrite' to replace it", st->act->where, st->act->dir);
	}
	return 0;
}

/* Up to the first task: an earlier publish cut short is settled, outputs
 * checked (mode='error' refuses a non-empty one unless --resume finds it
 * published by this job's earlier run), the job directory prepared and
 * the sinks' staging directories made. Sets *committed on --resume. */
static int prepare(pond_session *s, const pplan *pp, bool *published, json_t **committed)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < pp->nstages; i++)
		if (pp->stages[i]->kind == ST_SINK)
			rc = publish_recover(pp->stages[i], pp->job_dir, &s->err);
	if (rc)
		return rc;
	if (s->o.resume)
		*committed = journal_committed(pp->job_dir);
	for (size_t i = 0; i < pp->nstages; i++)
		if (pp->stages[i]->kind == ST_SINK)
			published[i] = sink_published(pp->stages[i], *committed, pp->job_dir);
	if ((rc = check_error_mode(s, pp, published)))
		return rc;
	json_decref(*committed);
	*committed = NULL;
	if ((rc = jobdir_prepare(pp->job_dir, pp, s->o.resume, s->script_path, committed, &s->err)))
		return rc;
	for (size_t i = 0; rc == 0 && i < pp->nstages; i++)
		if (pp->stages[i]->kind == ST_SINK && !published[i])
			rc = publish_prepare(pp->stages[i], pp->job_dir, *committed == NULL, &s->err);
	if (rc)
		return rc;
	/* a sink still to publish needs its committed outputs: re-run the
	 * tasks whose outputs are gone */
	for (size_t i = 0; *committed && i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		for (size_t k = 0; st->kind == ST_SINK && !published[i] && k < st->ntasks; k++)
			if (!fs_exists(json_string_value(json_object_get(st->tasks[k], "dir"))))
				json_object_del(*committed, json_string_value(json_object_get(st->tasks[k], "id")));
	}
	if (*committed)
		drop_unreadable(pp, *committed);
	test_point("prepared"); /* the job directory is ready, nothing ran */
	return 0;
}

static void summary(const pond_session *s, const sched_summary *sum, int workers)
{
	char rows[32], bytes[32], skipped[64] = "";
	double wall = progress_process_age();

	if (wall < 0)
		wall = progress_now() - s->t0;
	human_count(rows, sizeof(rows), sum->rows_out);
	human_bytes(bytes, sizeof(bytes), sum->bytes_out);
	if (sum->skipped)
		snprintf(skipped, sizeof(skipped), " (%lld already committed)", (long long)sum->skipped);
	fprintf(stderr, "pond: done: %lld tasks%s, %lld retried, %s rows (%s) written, %.2f s, %d workers\n",
		(long long)(sum->tasks + sum->skipped), skipped, (long long)sum->retries, rows, bytes, wall,
		workers);
}

pond_status pond_run(pond_session *s)
{
	pplan *pp = NULL;
	jobdir *jd = NULL;
	transport *t = NULL;
	journal j = JOURNAL_INIT;
	sched_opts so = { 0 };
	sched_summary sum;
	json_t *committed = NULL;
	bool *published = NULL;
	int workers = s->o.workers > 0 ? s->o.workers : (int)cores();
	int rc;

	memset(&s->err, 0, sizeof(s->err));
	if ((rc = check_interrupt(s)) || (rc = build(s, &pp)) || (rc = jobdir_check(pp->job_dir, &s->err)) ||
	    (rc = check_job_dir_place(s, pp)))
		goto out;
	published = xcalloc(pp->nstages + 1, sizeof(bool));
	/* a fresh run refuses before it makes anything; --resume must first
	 * see what its earlier run published (under the lock, in prepare) */
	if ((!s->o.resume && (rc = check_error_mode(s, pp, published))) ||
	    (rc = jobdir_open(pp->job_dir, &jd, &s->err)))
		goto out;
	if ((rc = prepare(s, pp, published, &committed)) || (rc = journal_open(&j, pp->job_dir, &s->err)) ||
	    (rc = check_interrupt(s)))
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
	so.interrupted = &interrupted;
	t = s->o.mpi ? mpi_transport_start(&s->err) : local_transport_start(workers, &s->err);
	if (!t) {
		rc = -1;
		goto out;
	}
	workers = t->ops->nworkers(t);
	rc = sched_run(pp, t, &so, &j, &sum, &s->err);
	t->ops->shutdown(t);
	if (!rc)
		rc = finish(s, pp, published);
	if (!rc) {
		if (!s->o.keep_intermediates)
			jobdir_drop_intermediates(pp);
		journal_append(&j, "done", NULL, true, NULL);
		if (s->o.progress != POND_PROGRESS_NONE)
			summary(s, &sum, workers);
	}
out:
	journal_close(&j);
	jobdir_close(jd); /* the lock goes last */
	free(published);
	json_decref(committed);
	pplan_free(pp);
	return rc ? failed(s) : POND_OK;
}
