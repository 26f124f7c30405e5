/* load.c — a job directory read back into the report's model (report.h):
 * the stages from plan.json, the runs, starts, commits and ends from
 * journal.jsonl, each finished attempt from events.jsonl. Called by the
 * session after a run and by pond_report. It reads the records through
 * plan/task_codec.c only, and tolerates what a killed run leaves: a torn
 * last line is skipped, an attempt that started and never ended is
 * "unfinished", a missing journal or events file is empty. */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errclass.h"
#include "util/fsutil.h"
#include "util/sb.h"

/* A journal "start" line, kept until the events are matched to it. */
typedef struct {
	int run;
	char *task;
	int attempt;
	double t;
	char *worker;
	bool matched;   /* an events.jsonl line ended it */
	bool timed_out; /* a "timeout" line named it */
	bool committed; /* a "commit" line named it */
} start_rec;

typedef struct {
	report *r;
	start_rec *starts;
	size_t nstarts;
	double *runs; /* each run's start (unix) */
	size_t nruns;
	size_t *by_name; /* stage indexes sorted by name */
} loader;

/* ---- reading lines ---------------------------------------------------------- */

/* Calls fn for each line of DIR/name (none if it is missing). A line that
 * fn cannot read (returns -1) is counted as bad: a killed run's torn last
 * line. */
static int each_line(loader *L, const char *name, int (*fn)(loader *, const char *), pond_err *err)
{
	char *path = xasprintf("%s/%s", L->r->job_dir, name), *text = NULL, *save = NULL;
	int rc = 0;

	if (fs_exists(path) && (rc = fs_read(path, &text, NULL, err)) == 0)
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if (fn(L, l))
				L->r->bad_lines++;
	free(text);
	free(path);
	return rc;
}

static void saw_time(report *r, double t)
{
	if (t <= 0)
		return;
	if (r->t0 == 0 || t < r->t0)
		r->t0 = t;
	if (t > r->t1)
		r->t1 = t;
}

static int cmp_start(const void *a, const void *b)
{
	const start_rec *x = a, *y = b;
	int c = (x->run > y->run) - (x->run < y->run);

	if (!c)
		c = strcmp(x->task, y->task);
	return c ? c : (x->attempt > y->attempt) - (x->attempt < y->attempt);
}

static start_rec *find_start(loader *L, int run, const char *task, int attempt)
{
	start_rec key = { .run = run, .task = (char *)task, .attempt = attempt };
	return L->nstarts ? bsearch(&key, L->starts, L->nstarts, sizeof(start_rec), cmp_start) : NULL;
}

static int current_run(const loader *L)
{
	return L->nruns ? (int)L->nruns - 1 : 0;
}

static int journal_line(loader *L, const char *line)
{
	report *r = L->r;
	journal_rec j;

	if (codec_read_journal(line, &j))
		return -1;
	saw_time(r, j.t);
	if (!strcmp(j.event, "run")) {
		L->runs = xgrow(L->runs, L->nruns, sizeof(double));
		L->runs[L->nruns++] = j.t;
		r->workers = j.workers;
		r->state = JOB_UNFINISHED;
	} else if (!strcmp(j.event, "start") && j.task) {
		L->starts = xgrow(L->starts, L->nstarts, sizeof(start_rec));
		L->starts[L->nstarts++] =
			(start_rec){ current_run(L), j.task, j.attempt, j.t, j.worker, false, false, false };
		j.task = j.worker = NULL; /* kept */
	} else if (!strcmp(j.event, "done")) {
		r->state = JOB_DONE;
	} else if (!strcmp(j.event, "stopped")) {
		r->state = JOB_FAILED;
		free(r->error);
		r->error = j.error;
		j.error = NULL;
	}
	journal_rec_release(&j);
	return 0;
}

/* The commits and timeouts, once the starts are sorted (a second pass). */
static int second_pass_line(loader *L, const char *line)
{
	journal_rec j;
	int run = 0;

	if (codec_read_journal(line, &j))
		return 0; /* counted by the first pass */
	for (size_t k = 0; k < L->nruns; k++)
		if (L->runs[k] <= j.t)
			run = (int)k;
	if ((!strcmp(j.event, "timeout") || !strcmp(j.event, "commit")) && j.task) {
		start_rec *s = find_start(L, run, j.task, j.attempt);
		if (s && j.event[0] == 't')
			s->timed_out = true;
		else if (s)
			s->committed = true;
	}
	journal_rec_release(&j);
	return 0;
}

/* ---- stages and lanes ---------------------------------------------------------- */

static const report *sort_ctx;

static int cmp_stage_name(const void *a, const void *b)
{
	return strcmp(sort_ctx->stages[*(const size_t *)a].info.name, sort_ctx->stages[*(const size_t *)b].info.name);
}

/* The stage of a task id "s03-shuffle-t00012": its name is what precedes
 * the last "-t". -1 if the plan has none. */
static int stage_of(const loader *L, const char *task)
{
	const char *dash = strrchr(task, '-');
	size_t lo = 0, hi = L->r->nstages, len = dash ? (size_t)(dash - task) : strlen(task);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *name = L->r->stages[L->by_name[mid]].info.name;
		int c = strncmp(name, task, len);
		if (!c)
			c = name[len] != '\0';
		if (!c)
			return (int)L->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* "worker 3 (pid 123)" is lane "worker 3" (a respawned worker keeps its
 * lane); "rank 2 on node1" is its own lane, on host node1. */
static int lane_of(report *r, const char *where)
{
	char *label, *paren, *on;

	if (!where || !*where)
		return -1;
	label = xstrdup(where);
	if ((paren = strstr(label, " (pid ")))
		*paren = '\0';
	for (size_t i = 0; i < r->nlanes; i++)
		if (!strcmp(r->lanes[i].label, label)) {
			free(label);
			return (int)i;
		}
	r->lanes = xgrow(r->lanes, r->nlanes, sizeof(rep_lane));
	on = strstr(label, " on ");
	r->lanes[r->nlanes] = (rep_lane){ label, on ? xstrdup(on + 4) : NULL };
	return (int)r->nlanes++;
}

/* ---- attempts ------------------------------------------------------------------ */

static rep_attempt *new_attempt(report *r)
{
	r->att = xgrow(r->att, r->natt, sizeof(rep_attempt));
	memset(&r->att[r->natt], 0, sizeof(rep_attempt));
	r->att[r->natt].m = TASK_METRICS_NONE;
	return &r->att[r->natt++];
}

/* The attempt the journal's commit line names committed its task (a
 * retry that found its output already there, after a kill between commit
 * and report, included); another that finished is a duplicate. */
static attempt_end how_it_ended(const task_result *res, const start_rec *s)
{
	if (!res->ok)
		return res->cls == EC_LOST ? AT_LOST : AT_FAILED;
	if (s)
		return s->committed ? AT_OK : AT_DUPLICATE;
	return res->duplicate ? AT_DUPLICATE : AT_OK; /* no start line to go by */
}

static int event_line(loader *L, const char *line)
{
	report *r = L->r;
	event_rec e;
	rep_attempt *a;
	start_rec *s;
	int run = 0;

	if (codec_read_event(line, &e))
		return -1;
	saw_time(r, e.t);
	for (size_t k = 0; k < L->nruns; k++)
		if (L->runs[k] <= (e.start > 0 ? e.start : e.t))
			run = (int)k;
	s = e.res.task ? find_start(L, run, e.res.task, e.res.attempt) : NULL;
	if (s)
		s->matched = true;
	a = new_attempt(r);
	a->task = xstrdup(e.res.task ? e.res.task : "?");
	a->stage = stage_of(L, a->task);
	a->attempt = e.res.attempt;
	a->run = run;
	a->start = e.start > 0 ? e.start : s ? s->t : e.t - e.res.ms / 1e3;
	a->end = e.t;
	a->lane = lane_of(r, e.where ? e.where : s ? s->worker : NULL);
	a->how = how_it_ended(&e.res, s);
	a->timed_out = s && s->timed_out;
	a->cls = (int)e.res.cls;
	a->error = e.res.error ? xstrdup(e.res.error) : NULL;
	a->step = e.res.step ? xstrdup(e.res.step) : NULL;
	a->ms = e.res.ms;
	a->rows = e.res.rows;
	a->bytes = e.res.bytes;
	a->m = e.res.m;
	event_rec_release(&e);
	return 0;
}

/* Attempts that started and never ended: the run was killed (or still
 * runs). They end, on the page, at the last time recorded. */
static void unfinished(loader *L)
{
	report *r = L->r;

	for (size_t i = 0; i < L->nstarts; i++) {
		start_rec *s = &L->starts[i];
		rep_attempt *a;
		if (s->matched)
			continue;
		a = new_attempt(r);
		a->task = xstrdup(s->task);
		a->stage = stage_of(L, s->task);
		a->attempt = s->attempt;
		a->run = s->run;
		a->start = s->t;
		a->end = r->t1;
		a->lane = lane_of(r, s->worker);
		a->how = AT_UNFINISHED;
		a->timed_out = s->timed_out;
		a->ms = (r->t1 - s->t) * 1e3;
		r->unfinished++;
	}
}

/* "worker 2" before "worker 10": digits compare as numbers. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			char *ea, *eb;
			unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
			if (x != y)
				return x < y ? -1 : 1;
			a = ea;
			b = eb;
		} else if (*a != *b) {
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		} else {
			a++;
			b++;
		}
	}
	return (*a != '\0') - (*b != '\0');
}

static int cmp_lane(const void *a, const void *b)
{
	const rep_lane *x = a, *y = b;
	int c = natural_cmp(x->host ? x->host : "", y->host ? y->host : "");
	return c ? c : natural_cmp(x->label, y->label);
}

/* Lanes in order (by host, then worker), the attempts' indexes moved. */
static void sort_lanes(report *r)
{
	rep_lane *old;
	int *to;

	if (!r->nlanes)
		return;
	old = xcalloc(r->nlanes + 1, sizeof(rep_lane));
	to = xcalloc(r->nlanes + 1, sizeof(int));
	memcpy(old, r->lanes, r->nlanes * sizeof(rep_lane));
	qsort(r->lanes, r->nlanes, sizeof(rep_lane), cmp_lane);
	for (size_t i = 0; i < r->nlanes; i++)
		for (size_t k = 0; k < r->nlanes; k++)
			if (r->lanes[k].label == old[i].label)
				to[i] = (int)k;
	for (size_t i = 0; i < r->natt; i++)
		if (r->att[i].lane >= 0)
			r->att[i].lane = to[r->att[i].lane];
	free(old);
	free(to);
}

static int cmp_attempt_start(const void *a, const void *b)
{
	const rep_attempt *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* ---- per stage ---------------------------------------------------------------- */

static void add_metric(int64_t *sum, int64_t v)
{
	if (v >= 0)
		*sum = (*sum < 0 ? 0 : *sum) + v;
}

static int cmp_task_of(const void *a, const void *b)
{
	const rep_attempt *x = *(rep_attempt *const *)a, *y = *(rep_attempt *const *)b;
	int c = (x->stage > y->stage) - (x->stage < y->stage);
	return c ? c : strcmp(x->task, y->task);
}

/* Distinct tasks attempted and committed, per stage: the attempts sorted
 * by task. */
static void count_tasks(report *r)
{
	rep_attempt **v = xcalloc(r->natt + 1, sizeof(rep_attempt *));
	size_t n = 0;

	for (size_t i = 0; i < r->natt; i++)
		if (r->att[i].stage >= 0)
			v[n++] = &r->att[i];
	if (n)
		qsort(v, n, sizeof(rep_attempt *), cmp_task_of);
	for (size_t i = 0; i < n;) {
		rep_stage *st = &r->stages[v[i]->stage];
		size_t j = i;
		bool ok = false;
		for (; j < n && !cmp_task_of(&v[i], &v[j]); j++)
			ok |= v[j]->how == AT_OK;
		st->retries += j - i - 1;
		st->committed += ok;
		i = j;
	}
	free(v);
}

static void stage_sums(report *r)
{
	for (size_t i = 0; i < r->nstages; i++) {
		rep_stage *st = &r->stages[i];
		st->rows_in = st->read = st->written = st->spill = st->peak_mem = -1;
		st->cpu_ms = -1;
	}
	for (size_t i = 0; i < r->natt; i++) {
		const rep_attempt *a = &r->att[i];
		rep_stage *st;
		if (a->stage < 0)
			continue;
		st = &r->stages[a->stage];
		st->attempts++;
		st->failed += a->how == AT_FAILED || a->how == AT_LOST;
		if (a->m.cpu_ms >= 0)
			st->cpu_ms = (st->cpu_ms < 0 ? 0 : st->cpu_ms) + a->m.cpu_ms;
		add_metric(&st->read, a->m.read_bytes);
		add_metric(&st->written, a->m.write_bytes);
		add_metric(&st->spill, a->m.spill);
		if (a->m.peak_mem > st->peak_mem)
			st->peak_mem = a->m.peak_mem;
		if (a->how != AT_OK)
			continue;
		st->rows_out += a->rows;
		st->bytes_out += a->bytes;
		add_metric(&st->rows_in, a->m.rows_in);
		st->profiled += a->m.rows_in >= 0;
	}
}

/* Task-time statistics over each stage's committing attempts: their
 * times grouped by stage in one pass (a counting sort), then summarised. */
static void stage_times(report *r)
{
	size_t *first = xcalloc(r->nstages + 2, sizeof(size_t)), *fill = xcalloc(r->nstages + 1, sizeof(size_t));
	double *v = xcalloc(r->natt + 1, sizeof(double));

	for (size_t k = 0; k < r->natt; k++)
		if (r->att[k].stage >= 0 && r->att[k].how == AT_OK)
			first[r->att[k].stage + 1]++;
	for (size_t i = 0; i < r->nstages; i++)
		first[i + 1] += first[i];
	for (size_t k = 0; k < r->natt; k++) {
		const rep_attempt *a = &r->att[k];
		if (a->stage >= 0 && a->how == AT_OK)
			v[first[a->stage] + fill[a->stage]++] = a->ms;
	}
	for (size_t i = 0; i < r->nstages; i++)
		stats_summarize(v + first[i], first[i + 1] - first[i], &r->stages[i].time);
	free(first);
	free(fill);
	free(v);
}

/* A stage's column in the plan graph: one more than its deepest input. */
static void stage_depths(report *r)
{
	for (size_t i = 0; i < r->nstages; i++) {
		rep_stage *st = &r->stages[i];
		for (size_t d = 0; d < st->info.ndeps; d++)
			for (size_t k = 0; k < i; k++)
				if (r->stages[k].info.id == st->info.deps[d] && r->stages[k].depth + 1 > st->depth)
					st->depth = r->stages[k].depth + 1;
	}
}

static void totals(report *r)
{
	for (size_t i = 0; i < r->nstages; i++) {
		const rep_stage *st = &r->stages[i];
		r->tasks += st->info.ntasks;
		r->committed += st->committed;
		if (st->info.kind == ST_SINK) {
			r->rows_out += st->rows_out;
			r->bytes_out += st->bytes_out;
		}
	}
}

/* ---- the whole ------------------------------------------------------------------ */

static int load_plan(report *r, pond_err *err)
{
	char *path = xasprintf("%s/plan.json", r->job_dir), *text = NULL;
	plan_stage_info *v = NULL;
	size_t n = 0;
	int rc = 0;

	if (!fs_exists(path))
		rc = pond_fail(err, POND_EUSAGE, "%s has no plan.json: not a job directory pond has run", r->job_dir);
	else if (!(rc = fs_read(path, &text, NULL, err)) && codec_plan_stages(text, &v, &n))
		rc = pond_fail(err, POND_EIO, "%s is not a plan pond wrote", path);
	if (!rc) {
		r->stages = xcalloc(n + 1, sizeof(rep_stage));
		for (size_t i = 0; i < n; i++)
			r->stages[i].info = v[i]; /* the strings move */
		r->nstages = n;
	} else {
		plan_stages_free(v, n);
		v = NULL;
	}
	free(v);
	free(text);
	free(path);
	return rc;
}

static void loader_release(loader *L)
{
	for (size_t i = 0; i < L->nstarts; i++) {
		free(L->starts[i].task);
		free(L->starts[i].worker);
	}
	free(L->starts);
	free(L->runs);
	free(L->by_name);
}

int report_load(const char *job_dir, report **out, pond_err *err)
{
	report *r = xcalloc(1, sizeof(report));
	loader L = { .r = r };
	int rc;

	*out = NULL;
	r->job_dir = xstrdup(job_dir);
	r->state = JOB_UNFINISHED;
	rc = load_plan(r, err);
	if (!rc) {
		L.by_name = xcalloc(r->nstages + 1, sizeof(size_t));
		for (size_t i = 0; i < r->nstages; i++)
			L.by_name[i] = i;
		sort_ctx = r;
		qsort(L.by_name, r->nstages, sizeof(size_t), cmp_stage_name);
		rc = each_line(&L, "journal.jsonl", journal_line, err);
	}
	if (!rc) {
		if (L.nstarts)
			qsort(L.starts, L.nstarts, sizeof(start_rec), cmp_start);
		rc = each_line(&L, "journal.jsonl", second_pass_line, err);
	}
	if (!rc)
		rc = each_line(&L, "events.jsonl", event_line, err);
	if (!rc) {
		unfinished(&L);
		sort_lanes(r);
		if (r->natt)
			qsort(r->att, r->natt, sizeof(rep_attempt), cmp_attempt_start);
		r->runs = L.nruns ? (int)L.nruns : 1;
		r->run_start = L.nruns ? L.runs[L.nruns - 1] : r->t0;
		count_tasks(r);
		stage_sums(r);
		stage_times(r);
		stage_depths(r);
		totals(r);
		*out = r;
	} else {
		report_free(r);
	}
	loader_release(&L);
	return rc;
}

void report_free(report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nstages; i++) {
		free(r->stages[i].info.name);
		free(r->stages[i].info.step);
		free(r->stages[i].info.deps);
	}
	for (size_t i = 0; i < r->natt; i++) {
		free(r->att[i].task);
		free(r->att[i].error);
		free(r->att[i].step);
	}
	for (size_t i = 0; i < r->nlanes; i++) {
		free(r->lanes[i].label);
		free(r->lanes[i].host);
	}
	free(r->stages);
	free(r->att);
	free(r->lanes);
	free(r->job_dir);
	free(r->error);
	free(r);
}

int report_make(const char *job_dir, const char *html_path, const char *trace_path, pond_err *err)
{
	report *r = NULL;
	int rc = report_load(job_dir, &r, err);

	if (!rc && trace_path)
		rc = report_write_trace(r, trace_path, err);
	if (!rc && html_path)
		rc = report_write_html(r, html_path, err);
	report_free(r);
	return rc;
}
