/* prepare.c — a run up to its first task (see prepare.h). The order
 * matters: what may be refused is refused before anything is made; the
 * lock is taken before anything is changed; a publish cut short is
 * settled before an output is judged; and --resume keeps a commit only
 * where the output it names is still whole. */
#include "exec/prepare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/publish.h"
#include "plan/logical.h"
#include "util/fsutil.h"
#include "util/manifest.h"
#include "util/sb.h"
#include "util/testpoint.h"

/* Outputs and the job directory apart: a fresh run cleans the job
 * directory and a publish replaces the output, so neither may hold the
 * other (the script-level checks are in interp.c, check_output_dir). */
static int check_job_dir_place(const pplan *pp, pond_err *err)
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
			rc = pond_fail(err, POND_EUSAGE,
				       "%s: output directory %s contains the job directory %s; "
				       "write elsewhere or pass another --job-dir",
				       a->where, a->dir, pp->job_dir);
		else if (fs_path_within(out, jd))
			rc = pond_fail(err, POND_EUSAGE,
				       "%s: output directory %s is inside the job directory %s; "
				       "write elsewhere or pass another --job-dir",
				       a->where, a->dir, pp->job_dir);
		free(out);
	}
	free(jd);
	return rc;
}

/* mode='error' refuses a non-empty output before any work starts (a sink
 * published[] by this job's earlier run excepted). */
static int check_error_mode(const pplan *pp, const bool *published, pond_err *err)
{
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		if (st->kind == ST_SINK && !published[i] && !st->act->overwrite && !fs_dir_is_empty(st->act->dir))
			return pond_fail(err, POND_EEXISTS,
					 "%s: output directory %s is not empty (mode='error'); "
					 "pass mode='overwrite' to replace it",
					 st->act->where, st->act->dir);
	}
	return 0;
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
 * recorded: its manifest has the committed hash ("" from an older
 * journal: any), and every file it lists is there with its size (Parquet
 * files whole to their magic). */
static bool output_whole(const char *dir, const commit_rec *c)
{
	manifest m;
	char hash[17];
	bool ok = manifest_read(dir, &m, hash, NULL) == 0 && (!c->hash[0] || !strcmp(hash, c->hash)) &&
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

/* Forgets task t's commit unless its output is whole; a torn output is
 * removed (or the new commit's rename could not land). True if kept. */
static bool keep_if_whole(commit_set *committed, const ptask *t)
{
	const commit_rec *c = commit_set_find(committed, t->id);

	if (!c)
		return false;
	if (output_whole(t->dir, c))
		return true;
	commit_set_drop(committed, t->id);
	fs_rm_rf(t->dir, NULL);
	return false;
}

/* --resume trusts a commit line only where the output is still needed and
 * whole. A stage is needed when one of its tasks must run, or a needed
 * stage reads it; show()/count() results are needed to print them, and a
 * sink's staged output (gone once published) must not publish a torn
 * part file. Outputs a finished job dropped are not needed unless
 * something downstream runs. */
static void drop_unreadable(const pplan *pp, commit_set *committed)
{
	bool *needed = xcalloc(pp->nstages + 1, sizeof(bool));

	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		bool results = st->kind == ST_SHOW || st->kind == ST_COUNT;
		for (size_t t = 0; t < st->ntasks; t++) {
			const ptask *task = &st->tasks[t];
			bool checked = results || (st->kind == ST_SINK && fs_is_dir(task->dir));
			if (!commit_set_find(committed, task->id) || (checked && !keep_if_whole(committed, task)))
				needed[i] = true;
		}
	}
	/* deps have smaller ids: one pass from the end closes the set */
	for (size_t i = pp->nstages; i-- > 0;)
		for (size_t d = 0; needed[i] && d < pp->stages[i]->ndeps; d++)
			needed[pp->stages[i]->deps[d]] = true;
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		for (size_t t = 0; needed[i] && st->kind != ST_SINK && t < st->ntasks; t++)
			keep_if_whole(committed, &st->tasks[t]);
	}
	free(needed);
}

/* On --resume: a sink whose tasks the journal shows all committed and
 * whose staging directory is gone was published by an earlier run (every
 * publish ends by removing it; publish_recover has finished one cut
 * short). Its output is still there if _SUCCESS is. */
static bool sink_published(const stage *st, const commit_set *committed, const char *job_dir)
{
	char *success;
	bool done = true;

	for (size_t i = 0; done && i < st->ntasks; i++)
		done = commit_set_find(committed, st->tasks[i].id) != NULL;
	if (!done)
		return false;
	success = xasprintf("%s/_SUCCESS", st->act->dir);
	done = publish_staging_gone(st, job_dir) && fs_exists(success);
	free(success);
	return done;
}

/* Each sink: a publish cut short settled, and (--resume) whether an
 * earlier run published it. */
static int settle_sinks(const pplan *pp, bool resume, bool *published, pond_err *err)
{
	commit_set journal = { 0 };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < pp->nstages; i++)
		if (pp->stages[i]->kind == ST_SINK)
			rc = publish_recover(pp->stages[i], pp->job_dir, err);
	if (rc || !resume)
		return rc;
	journal_committed(pp->job_dir, &journal);
	for (size_t i = 0; i < pp->nstages; i++)
		if (pp->stages[i]->kind == ST_SINK)
			published[i] = sink_published(pp->stages[i], &journal, pp->job_dir);
	commit_set_release(&journal);
	return 0;
}

/* Under the lock: earlier publishes settled, outputs checked, the job
 * directory cleaned or its commits weighed, the staging directories of
 * the sinks still to publish made. */
static int prepare_locked(const pplan *pp, const prepare_opts *o, prepared *p, pond_err *err)
{
	int rc = settle_sinks(pp, o->resume, p->published, err);

	if (!rc)
		rc = check_error_mode(pp, p->published, err);
	if (!rc)
		rc = jobdir_prepare(pp->job_dir, pp, o->resume, o->script, &p->committed, &p->resumed, err);
	for (size_t i = 0; rc == 0 && i < pp->nstages; i++)
		if (pp->stages[i]->kind == ST_SINK && !p->published[i])
			rc = publish_prepare(pp->stages[i], pp->job_dir, !p->resumed, err);
	if (rc || !p->resumed)
		return rc;
	/* a sink still to publish needs its committed outputs: re-run the
	 * tasks whose outputs are gone */
	for (size_t i = 0; i < pp->nstages; i++) {
		const stage *st = pp->stages[i];
		for (size_t k = 0; st->kind == ST_SINK && !p->published[i] && k < st->ntasks; k++)
			if (!fs_exists(st->tasks[k].dir))
				commit_set_drop(&p->committed, st->tasks[k].id);
	}
	drop_unreadable(pp, &p->committed);
	return 0;
}

int prepare_run(const pplan *pp, const prepare_opts *o, prepared *out, pond_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->published = xcalloc(pp->nstages + 1, sizeof(bool));
	if ((rc = jobdir_check(pp->job_dir, err)) || (rc = check_job_dir_place(pp, err)))
		return rc;
	/* a fresh run refuses before it makes anything; --resume must first
	 * see what its earlier run published (under the lock) */
	if ((!o->resume && (rc = check_error_mode(pp, out->published, err))) ||
	    (rc = jobdir_open(pp->job_dir, &out->jd, err)) || (rc = prepare_locked(pp, o, out, err)))
		return rc;
	test_point("prepared"); /* the job directory is ready, nothing ran */
	return 0;
}

void prepared_release(prepared *p)
{
	commit_set_release(&p->committed);
	free(p->published);
	jobdir_close(p->jd);
	memset(p, 0, sizeof(*p));
}
