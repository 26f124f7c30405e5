/* session.c — the public API (include/pond.h), the library's front door: a
 * session loads a script (parse, interpret into a logical plan, bind),
 * and a run goes through its named steps: build the physical plan,
 * prepare the job directory (exec/prepare.c), start a transport, schedule
 * (exec/scheduler.c), publish, clean up, summary. The CLI is a thin layer
 * over these calls. */
#include "pond.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"
#include "engine/plandb.h"
#include "exec/jobdir.h"
#include "exec/journal.h"
#include "exec/prepare.h"
#include "exec/progress.h"
#include "exec/publish.h"
#include "exec/scheduler.h"
#include "plan/bind.h"
#include "plan/physical.h"
#include "plan/sqlplan.h"
#include "plan/task_codec.h"
#include "report/report.h"
#include "runtime/transport.h"
#include "script/ast.h"
#include "script/interp.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/human.h"
#include "util/sb.h"

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
	s->o.report = o->report ? xstrdup(o->report) : NULL;
	s->t0 = clock_mono();
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
	free((char *)s->o.report);
	free(s->written);
	free(s->sql_job_dir);
	session_drop_built(s);
	free(s->site);
	free(s->item_pos);
	lplan_free(s->lp);
	free(s->script_path);
	if (s->early) {
		plandb_when_open(NULL, NULL);
		s->early->ops->shutdown(s->early);
	}
	if (s->mpi_joined)
		mpi_finalize(); /* rank 0's releases the worker ranks */
	free(s);
}

const char *pond_errmsg(const pond_session *s)
{
	return s ? s->err.msg : "";
}

const char *pond_errstr(pond_status st)
{
	static const char *const what[] = {
		[POND_OK] = "success",
		[POND_EUSAGE] = "bad usage, or a script error",
		[POND_EINPUT] = "a missing or unreadable input",
		[POND_ETASK] = "a task failed",
		[POND_EIO] = "an I/O error",
		[POND_ENOMEM] = "out of memory",
		[POND_EINTERNAL] = "an internal error",
		[POND_EEXISTS] = "the output exists (mode='error')",
		[POND_EBUSY] = "the job directory is in use",
		[POND_EINTR] = "interrupted",
	};
	return st >= POND_OK && st <= POND_EINTR ? what[st] : "unknown status";
}

pond_status pond_parse_size(const char *text, int64_t *bytes)
{
	return text && human_parse_bytes(text, bytes) == 0 ? POND_OK : POND_EUSAGE;
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
	if (!rc) /* each sql() step planned like pond sql */
		rc = sql_script_plan(s->lp, db, &s->err);
	plandb_close(db);
	return rc ? failed(s) : POND_OK;
}

pond_status pond_load_script(pond_session *s, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	script *sc = NULL;
	char msg[4096];
	int rc;

	memset(&s->err, 0, sizeof(s->err));
	if (fs_read(path, &text, &len, NULL)) {
		pond_fail_errno(&s->err, POND_EUSAGE, errno, "cannot read the script %s", path);
		return POND_EUSAGE;
	}
	if (script_parse(path, text, len, s->o.defines, s->o.ndefines, &sc, msg, sizeof(msg))) {
		free(text);
		pond_fail(&s->err, POND_EUSAGE, "%s", msg);
		return POND_EUSAGE;
	}
	free(text);
	session_drop_built(s);
	lplan_free(s->lp);
	s->lp = lplan_new();
	s->lp->script_path = fs_abspath(path);
	free(s->sql_job_dir);
	s->sql_job_dir = NULL;
	free(s->script_path);
	s->script_path = xstrdup(path);
	/* the interpreter builds the plan with pond_read … pond_count, which
	 * only make nodes while loading: the plan is bound once, below */
	s->built = true;
	s->loading = true;
	rc = interp_script(sc, s, &s->err);
	s->loading = false;
	session_drop_built(s); /* a pond_read after this starts a new plan */
	pond_at(s, NULL, 0);
	script_free(sc);
	return rc ? failed(s) : bind_plan(s, path);
}

/* pond sql's default job directory: named for the query's file (or
 * "sql"), hashed from what the plan depends on. */
static char *sql_job_dir(const pond_sql *q, const char *text)
{
	const char **parts = xcalloc(q->ntables + 8, sizeof(char *));
	char *name = xstrdup(q->file ? fs_basename(q->file) : "sql"), *dot = strrchr(name, '.'), *out, *dir, *job;
	char limit[32];
	size_t n = 0;

	if (dot && dot != name)
		*dot = '\0';
	out = q->output ? fs_abspath(q->output) : NULL;
	dir = q->tables_dir ? fs_abspath(q->tables_dir) : NULL;
	parts[n++] = text;
	parts[n++] = out ? out : "(print)";
	parts[n++] = dir ? dir : "";
	parts[n++] = q->format == POND_SQL_CSV ? "csv" : "parquet";
	snprintf(limit, sizeof(limit), "%lld", (long long)q->broadcast_limit);
	parts[n++] = limit;
	for (size_t i = 0; i < q->ntables; i++)
		parts[n++] = q->tables[i];
	job = jobdir_named(name, parts, n);
	free(out);
	free(dir);
	free(name);
	free(parts);
	return job;
}

pond_status pond_load_sql(pond_session *s, const pond_sql *q)
{
	char *text = NULL, *out = q->output ? fs_abspath(q->output) : NULL;
	sql_request rq = { .tables = q->tables,
			   .ntables = q->ntables,
			   .tables_dir = q->tables_dir,
			   .output = out,
			   .csv = q->format == POND_SQL_CSV,
			   .max_rows = q->max_rows > 0 ? q->max_rows : 40,
			   .broadcast_limit = q->broadcast_limit ? q->broadcast_limit : 64LL << 20 };
	int rc;

	memset(&s->err, 0, sizeof(s->err));
	if (q->file && fs_read(q->file, &text, NULL, NULL)) {
		free(out);
		pond_fail_errno(&s->err, POND_EUSAGE, errno, "cannot read the query file %s", q->file);
		return POND_EUSAGE;
	}
	rq.query = text ? text : q->query ? q->query : "";
	rq.origin = q->file ? q->file : "the query";
	session_drop_built(s);
	lplan_free(s->lp);
	s->lp = lplan_new();
	free(s->script_path);
	s->script_path = xstrdup(q->file ? q->file : "the query");
	free(s->sql_job_dir);
	s->sql_job_dir = sql_job_dir(q, rq.query);
	rc = sql_plan(s->lp, &rq, &s->err);
	free(text);
	free(out);
	return rc ? failed(s) : POND_OK;
}

static char *job_dir_of(pond_session *s)
{
	if (s->o.job_dir)
		return fs_abspath(s->o.job_dir);
	if (s->sql_job_dir)
		return xstrdup(s->sql_job_dir);
	return jobdir_default(s->script_path, s->o.defines, s->o.ndefines);
}

/* The physical plan of the loaded script. */
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

pond_status session_plan(pond_session *s, pplan **out)
{
	memset(&s->err, 0, sizeof(s->err));
	*out = NULL;
	return build(s, out) ? failed(s) : POND_OK;
}

pond_status pond_explain(pond_session *s, FILE *out)
{
	pplan *pp = NULL;

	memset(&s->err, 0, sizeof(s->err));
	if (build(s, &pp))
		return failed(s);
	pplan_explain(s->lp, pp, out);
	pplan_free(pp);
	return POND_OK;
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

/* One run's state, step to step. */
typedef struct {
	pond_session *s;
	pplan *pp;
	prepared prep; /* the job directory, locked */
	journal j;
	transport *t;
	int workers;
	sched_summary sum;
} run;

/* Step 2: the job directory locked and ready, the journal open. */
static int prepare_job_dir(run *r)
{
	prepare_opts po = { .resume = r->s->o.resume, .script = r->s->script_path };
	int rc = prepare_run(r->pp, &po, &r->prep, &r->s->err);

	if (!rc)
		rc = journal_open(&r->j, r->pp->job_dir, &r->s->err);
	return rc ? rc : check_interrupt(r->s);
}

static long cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

static int local_workers(const pond_options *o)
{
	return o->workers > 0 ? o->workers : (int)cores();
}

/* The plan-time DuckDB is open: the other workers' task children open
 * theirs while the driver plans on (worker 0's already has). */
static void warm_workers(void *ctx)
{
	transport *t = ctx;
	pond_err quiet = { 0 };

	for (int w = 1; w < t->ops->nworkers(t); w++)
		t->ops->send(t, w, CODEC_MSG_WARM, strlen(CODEC_MSG_WARM), &quiet);
}

pond_status pond_start_workers(pond_session *s)
{
	memset(&s->err, 0, sizeof(s->err));
	if (s->o.mpi || s->early)
		return POND_OK;
	s->early = local_transport_start(local_workers(&s->o), &s->err);
	if (!s->early)
		return failed(s);
	plandb_when_open(warm_workers, s->early);
	return POND_OK;
}

/* Step 3: the workers, local processes or MPI ranks (or those
 * pond_start_workers forked); the journal's "run" line says how many (the
 * run report's first record of this run). */
static int start_transport(run *r)
{
	const pond_options *o = &r->s->o;

	if (r->s->early)
		r->t = r->s->early;
	else
		r->t = o->mpi ? mpi_transport_start(&r->s->err) : local_transport_start(local_workers(o), &r->s->err);
	r->s->early = NULL;
	plandb_when_open(NULL, NULL);
	if (!r->t)
		return -1;
	r->workers = r->t->ops->nworkers(r->t);
	return journal_append(&r->j, (journal_entry){ .event = "run", .workers = r->workers, .resume = o->resume },
			      true, &r->s->err);
}

/* Step 4: every task run and committed. Then the workers are told to
 * exit. When none is running anything (no cancelled twin that could still
 * commit into a sink's staging), publishing goes on while they wind down
 * (~20 ms of a small query's end), and end_transport waits for them
 * after it; otherwise they are waited for now. */
static int schedule(run *r)
{
	const pond_options *o = &r->s->o;
	sched_opts so = {
		.max_attempts = o->max_attempts,
		/* 0 = the worker picks its host's share (worker_set_host_share) */
		.threads = o->threads,
		.memory_limit = o->memory_limit,
		.progress = o->progress,
		.committed = r->prep.resumed ? &r->prep.committed : NULL,
		.task_timeout = o->task_timeout,
		.speculate = o->speculate,
		.inject_p = o->inject_p,
		.inject_seed = o->inject_seed,
		.interrupted = &interrupted,
	};
	int rc = sched_run(r->pp, r->t, &so, &r->j, &r->sum, &r->s->err);

	if (rc == 0 && r->sum.idle) {
		r->t->ops->release(r->t);
	} else {
		r->t->ops->shutdown(r->t);
		r->t = NULL;
	}
	return rc;
}

static void end_transport(run *r)
{
	if (r->t)
		r->t->ops->shutdown(r->t);
	r->t = NULL;
}

/* Prints a show()/count() result its task left in its directory. */
static int print_result(const stage *st, pond_err *err)
{
	char *p = xasprintf("%s/%s", st->tasks[0].dir, st->kind == ST_SHOW ? "show.txt" : "count.txt");
	char *text = NULL;
	int rc = fs_read(p, &text, NULL, err);

	free(p);
	if (!rc)
		fputs(text, stdout);
	free(text);
	return rc;
}

/* Step 5: per action, in script order, its sink published (unless an
 * earlier run published it) or its result printed. An interrupt stops it
 * between two sinks, never inside a publish. */
static int publish(run *r)
{
	const pplan *pp = r->pp;
	const lplan *lp = r->s->lp;

	for (size_t a = 0; a < lp->nactions; a++) {
		for (size_t i = 0; i < pp->nstages; i++) {
			const stage *st = pp->stages[i];
			int rc;
			if (st->act != &lp->actions[a])
				continue;
			if (check_interrupt(r->s))
				return -1;
			if (st->kind != ST_SINK)
				rc = print_result(st, &r->s->err);
			else
				rc = r->prep.published[i] ? 0 : publish_sink(st, pp->job_dir, &r->s->err);
			if (rc)
				return rc;
		}
	}
	fflush(stdout);
	return 0;
}

/* Step 6: the intermediates dropped, the journal closed with "done". */
static void clean_up(run *r)
{
	jobdir_drop_intermediates(r->pp, r->s->o.keep_intermediates);
	journal_append(&r->j, (journal_entry){ .event = "done" }, true, NULL);
}

/* Step 7: one line on stderr. */
static void summary(const run *r)
{
	const sched_summary *sum = &r->sum;
	char rows[32], bytes[32], skipped[64] = "";
	double wall = progress_process_age();

	if (r->s->o.progress == POND_PROGRESS_NONE)
		return;
	if (wall < 0)
		wall = clock_mono() - r->s->t0;
	human_count(rows, sizeof(rows), sum->rows_out);
	human_bytes(bytes, sizeof(bytes), sum->bytes_out);
	if (sum->skipped)
		snprintf(skipped, sizeof(skipped), " (%lld already committed)", (long long)sum->skipped);
	fprintf(stderr, "pond: done: %lld tasks%s, %lld retried, %s rows (%s) written, %.2f s, %d workers\n",
		(long long)(sum->tasks + sum->skipped), skipped, (long long)sum->retries, rows, bytes, wall,
		r->workers);
}

/* --report's directory must be there before anything runs. */
static int check_report_path(pond_session *s)
{
	char *dir;
	int rc = 0;

	if (!s->o.report)
		return 0;
	dir = fs_dirname(s->o.report);
	if (!*s->o.report || fs_is_dir(s->o.report))
		rc = pond_fail(&s->err, POND_EUSAGE, "--report %s: give the path of a file to write", s->o.report);
	else if (!fs_is_dir(dir))
		rc = pond_fail(&s->err, POND_EUSAGE, "--report %s: directory %s does not exist", s->o.report, dir);
	free(dir);
	return rc;
}

/* Step 8, after any run that held the job directory: trace.json and the
 * run report, from what the journal and events.jsonl now hold. A failure
 * here is said, and does not change how the run went. */
static void observe(run *r)
{
	pond_err e = { 0 };
	char *trace = xasprintf("%s/trace.json", r->pp->job_dir);
	char *html = r->s->o.report ? fs_abspath(r->s->o.report) : NULL;

	if (report_make(r->pp->job_dir, html, trace, &e))
		fprintf(stderr, "pond: the run report could not be written: %s\n", e.msg);
	else if (html && r->s->o.progress != POND_PROGRESS_NONE)
		fprintf(stderr, "pond: report: %s\n", html);
	free(trace);
	free(html);
}

pond_status pond_run(pond_session *s)
{
	run r = { .s = s, .j = JOURNAL_INIT };
	int rc;

	memset(&s->err, 0, sizeof(s->err));
	rc = check_interrupt(s);
	if (!rc)
		rc = check_report_path(s);
	if (!rc)
		rc = build(s, &r.pp);
	if (!rc)
		rc = prepare_job_dir(&r);
	if (!rc)
		rc = start_transport(&r);
	if (!rc)
		rc = schedule(&r);
	if (!rc)
		rc = publish(&r);
	end_transport(&r); /* before the intermediates go: no task child is left */
	if (!rc) {
		clean_up(&r);
		summary(&r);
	} else if (r.j.fd >= 0) {
		journal_append(&r.j, (journal_entry){ .event = "stopped", .error = s->err.msg }, true, NULL);
		/* what publishing already moved into the job's trash */
		jobdir_drop_intermediates(r.pp, true);
	}
	if (r.j.fd >= 0) { /* the job directory was made ready: report it */
		journal_close(&r.j);
		observe(&r);
	}
	journal_close(&r.j);
	prepared_release(&r.prep); /* the lock goes last */
	pplan_free(r.pp);
	if (s->built) /* a plan built call by call runs each output once */
		lplan_clear_actions(s->lp);
	return rc ? failed(s) : POND_OK;
}

pond_status pond_mpi_join(pond_session *s, bool *worker)
{
	char msg[1024] = "";
	int rank = 0, size = 1;
	pond_status st;

	*worker = false;
	memset(&s->err, 0, sizeof(s->err));
	if (s->mpi_joined || !mpi_launched())
		return POND_OK;
	s->mpi_joined = true;
	st = mpi_init(&rank, &size, msg, sizeof(msg));
	if (st != POND_OK) {
		pond_fail(&s->err, st, "%s", msg);
		return st;
	}
	if (rank != 0) {
		*worker = true;
		if (mpi_serve() == 0)
			return POND_OK;
		pond_fail(&s->err, POND_EIO, "rank %d: the driver (rank 0) is gone", rank);
		return POND_EIO;
	}
	s->o.mpi = size > 1; /* a single rank runs local workers */
	return POND_OK;
}

pond_status pond_report(pond_session *s, const char *job_dir, const char *html_path, const char **written)
{
	char *dir = fs_abspath(job_dir), *marker = xasprintf("%s/" JOBDIR_MARKER, dir);
	char *html = html_path ? fs_abspath(html_path) : xasprintf("%s/report.html", dir);
	char *trace = xasprintf("%s/trace.json", dir);
	jobdir *jd = NULL;
	int rc = 0;

	memset(&s->err, 0, sizeof(s->err));
	free(s->written);
	s->written = NULL;
	if (!fs_exists(marker))
		rc = pond_fail(&s->err, POND_EUSAGE, "%s is not a pond job directory (it has no %s)", dir,
			       JOBDIR_MARKER);
	/* a run that holds the lock writes its own trace.json at its end */
	if (!rc && jobdir_open(dir, &jd, &s->err)) {
		memset(&s->err, 0, sizeof(s->err));
		free(trace);
		trace = NULL;
	}
	if (!rc)
		rc = report_make(dir, html, trace, &s->err);
	jobdir_close(jd);
	if (!rc) {
		s->written = html;
		html = NULL;
	}
	if (written)
		*written = s->written;
	free(html);
	free(trace);
	free(marker);
	free(dir);
	return rc ? failed(s) : POND_OK;
}
