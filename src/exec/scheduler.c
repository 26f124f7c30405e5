/* scheduler.c — dynamic pull scheduling (DESIGN.md §4). A stage's tasks
 * become ready when every stage it depends on has committed all its tasks;
 * ready tasks go, in plan order, to whichever worker is idle, so tasks of
 * independent stages overlap. A failed attempt is retried up to
 * max_attempts; a worker that dies is replaced and its task re-run without
 * counting against it. The journal gets a line per commit before the
 * result is acted on, so --resume never redoes committed work. */
#include "exec/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "exec/progress.h"
#include "util/sb.h"

#define MAX_LOST 10 /* re-runs after worker deaths before giving up */

enum { T_WAIT, T_READY, T_RUNNING, T_DONE };

typedef struct {
	json_t *task;
	int stage;
	int state;
	int attempts;  /* counted failures + running attempts */
	int lost;      /* attempts lost with their worker */
	int seq;       /* attempt sequence number, for directory names */
} tstate;

typedef struct {
	const pplan *pp;
	transport *t;
	const sched_opts *o;
	journal *j;
	pond_err *err;
	tstate *ts;
	size_t nts;
	size_t *stage_first;   /* index of each stage's first task in ts */
	size_t *stage_left;    /* tasks not yet done */
	size_t *deps_left;     /* stages it waits for */
	size_t *queue;         /* ready task indexes (FIFO ring) */
	size_t qhead, qlen;
	int *running;          /* task index per worker, -1 idle */
	int64_t done, rows, bytes;
	int failed;
	progress pr;
} sched;

static void enqueue(sched *s, size_t i)
{
	s->ts[i].state = T_READY;
	s->queue[(s->qhead + s->qlen++) % s->nts] = i;
}

static void stage_ready(sched *s, size_t st)
{
	const stage *sg = s->pp->stages[st];
	for (size_t k = 0; k < sg->ntasks; k++)
		if (s->ts[s->stage_first[st] + k].state == T_WAIT)
			enqueue(s, s->stage_first[st] + k);
}

static void stage_finished(sched *s, size_t st)
{
	for (size_t o = 0; o < s->pp->nstages; o++) {
		const stage *sg = s->pp->stages[o];
		for (size_t d = 0; d < sg->ndeps; d++)
			if ((size_t)sg->deps[d] == st && --s->deps_left[o] == 0 && s->stage_left[o] > 0)
				stage_ready(s, o);
	}
}

static void mark_done(sched *s, size_t i)
{
	size_t st = (size_t)s->ts[i].stage;
	s->ts[i].state = T_DONE;
	s->done++;
	if (--s->stage_left[st] == 0)
		stage_finished(s, st);
}

static int dispatch(sched *s, int w, size_t i)
{
	tstate *ts = &s->ts[i];
	json_t *msg = json_object(), *t = json_copy(ts->task);
	const char *id = json_string_value(json_object_get(t, "id"));
	const char *adir = json_string_value(json_object_get(t, "attempts_dir"));
	char *text;
	int rc;

	ts->attempts++;
	ts->seq++;
	json_object_set_new(t, "attempt", json_integer(ts->attempts));
	json_object_set_new(t, "attempt_dir", json_sprintf("%s/%s.a%d", adir, id, ts->seq));
	json_object_set_new(t, "temp_dir", json_sprintf("%s/tmp/spill/%s.a%d", s->pp->job_dir, id, ts->seq));
	json_object_set_new(t, "log_dir", json_sprintf("%s/log", s->pp->job_dir));
	json_object_set_new(t, "threads", json_integer(s->o->threads));
	json_object_set_new(t, "memory_limit", json_integer(s->o->memory_limit));
	json_object_set_new(msg, "cmd", json_string("task"));
	json_object_set_new(msg, "task", t);
	text = json_dumps(msg, JSON_COMPACT);
	rc = s->t->ops->send(s->t, w, text, strlen(text), s->err);
	free(text);
	json_decref(msg);
	if (rc == 0) {
		json_t *f = json_pack("{s:s, s:i, s:s}", "task", id, "attempt", ts->attempts, "worker",
				      s->t->ops->describe(s->t, w));
		ts->state = T_RUNNING;
		s->running[w] = (int)i;
		journal_append(s->j, "start", f, false, NULL);
		json_decref(f);
	}
	return rc;
}

static void report_failure(sched *s, size_t i, const char *msg, int final)
{
	const tstate *ts = &s->ts[i];
	const char *id = json_string_value(json_object_get(ts->task, "id"));
	const char *step = json_string_value(json_object_get(ts->task, "step"));

	if (final)
		pond_fail(s->err, POND_ETASK, "task %s (%s) failed after %d attempt%s:\n  %s", id, step,
			  ts->attempts, ts->attempts == 1 ? "" : "s", msg);
	else if (s->o->progress != POND_PROGRESS_NONE) {
		progress_end(&s->pr);
		fprintf(stderr, "pond: task %s (%s) attempt %d failed, retrying: %.300s%s\n", id, step,
			ts->attempts, msg, strlen(msg) > 300 ? "..." : "");
	}
}

static void on_result(sched *s, int w, json_t *res, sched_summary *sum)
{
	int i = s->running[w];
	tstate *ts;
	const char *err;

	s->running[w] = -1;
	if (i < 0)
		return; /* a result for a task we no longer track */
	ts = &s->ts[i];
	journal_attempt(s->j, res);
	if (json_is_true(json_object_get(res, "ok"))) {
		json_t *f = json_pack("{s:O, s:O, s:O, s:O}", "task", json_object_get(ts->task, "id"),
				      "attempt", json_object_get(res, "attempt"), "rows",
				      json_object_get(res, "rows"), "bytes", json_object_get(res, "bytes"));
		if (journal_append(s->j, "commit", f, true, s->err)) {
			s->failed = 1;
		}
		json_decref(f);
		s->rows += json_integer_value(json_object_get(res, "rows"));
		s->bytes += json_integer_value(json_object_get(res, "bytes"));
		if (s->pp->stages[ts->stage]->kind == ST_SINK) {
			sum->rows_out += json_integer_value(json_object_get(res, "rows"));
			sum->bytes_out += json_integer_value(json_object_get(res, "bytes"));
		}
		sum->tasks++;
		mark_done(s, (size_t)i);
		return;
	}
	err = json_string_value(json_object_get(res, "error"));
	{
		json_t *f = json_pack("{s:O, s:O, s:s}", "task", json_object_get(ts->task, "id"), "attempt",
				      json_object_get(res, "attempt"), "error", err ? err : "?");
		journal_append(s->j, "fail", f, false, NULL);
		json_decref(f);
	}
	/* An input error (bad SQL, corrupt or missing file) will not go away
	 * by itself: one retry covers a flaky read, more only waste time. */
	if (ts->attempts >= s->o->max_attempts ||
	    (json_integer_value(json_object_get(res, "class")) == EC_INPUT && ts->attempts >= 2)) {
		report_failure(s, (size_t)i, err ? err : "unknown error", 1);
		s->failed = 1;
		ts->state = T_DONE;
		return;
	}
	report_failure(s, (size_t)i, err ? err : "unknown error", 0);
	sum->retries++;
	enqueue(s, (size_t)i);
}

static void on_worker_lost(sched *s, int w, sched_summary *sum)
{
	int i = s->running[w];
	pond_err e = { 0 };
	char desc[128];

	snprintf(desc, sizeof(desc), "%s", s->t->ops->describe(s->t, w));
	s->running[w] = -1;
	if (i >= 0) {
		tstate *ts = &s->ts[i];
		ts->attempts--; /* a lost worker is not the task's fault */
		if (++ts->lost > MAX_LOST) {
			pond_fail(s->err, POND_ETASK, "task %s: %d workers died running it; giving up",
				  json_string_value(json_object_get(ts->task, "id")), ts->lost);
			s->failed = 1;
		} else {
			sum->retries++;
			enqueue(s, (size_t)i);
		}
	}
	if (s->o->progress != POND_PROGRESS_NONE) {
		progress_end(&s->pr);
		fprintf(stderr, "pond: %s died; replacing it\n", desc);
	}
	if (s->t->ops->respawn(s->t, w, &e)) {
		pond_fail(s->err, POND_EIO, "%s died and cannot be replaced: %s", desc, e.msg);
		s->failed = 1;
	}
}

static const char *current_stage(const sched *s)
{
	for (size_t st = 0; st < s->pp->nstages; st++)
		if (s->stage_left[st])
			return s->pp->stages[st]->name;
	return "done";
}

static int running_count(const sched *s, int nw)
{
	int n = 0;
	for (int w = 0; w < nw; w++)
		n += s->running[w] >= 0;
	return n;
}

int sched_run(const pplan *pp, transport *t, const sched_opts *o, journal *j, sched_summary *sum,
	      pond_err *err)
{
	sched s = { .pp = pp, .t = t, .o = o, .j = j, .err = err };
	int nw = t->ops->nworkers(t);
	double t0 = progress_now();

	memset(sum, 0, sizeof(*sum));
	for (size_t st = 0; st < pp->nstages; st++)
		s.nts += pp->stages[st]->ntasks;
	s.ts = xcalloc(s.nts + 1, sizeof(tstate));
	s.queue = xcalloc(s.nts + 1, sizeof(size_t));
	s.stage_first = xcalloc(pp->nstages + 1, sizeof(size_t));
	s.stage_left = xcalloc(pp->nstages + 1, sizeof(size_t));
	s.deps_left = xcalloc(pp->nstages + 1, sizeof(size_t));
	s.running = xmalloc((size_t)nw * sizeof(int));
	for (int w = 0; w < nw; w++)
		s.running[w] = -1;
	for (size_t st = 0, k = 0; st < pp->nstages; st++) {
		const stage *sg = pp->stages[st];
		s.stage_first[st] = k;
		s.stage_left[st] = sg->ntasks;
		s.deps_left[st] = sg->ndeps;
		for (size_t i = 0; i < sg->ntasks; i++, k++) {
			s.ts[k].task = sg->tasks[i];
			s.ts[k].stage = (int)st;
			const char *id = json_string_value(json_object_get(sg->tasks[i], "id"));
			if (o->committed && json_object_get(o->committed, id)) {
				s.ts[k].state = T_DONE;
				s.done++;
				sum->skipped++;
				s.stage_left[st]--;
			}
		}
	}
	/* stages with nothing left count as finished for their dependents */
	for (size_t st = 0; st < pp->nstages; st++)
		if (s.stage_left[st] == 0)
			for (size_t o2 = 0; o2 < pp->nstages; o2++)
				for (size_t d = 0; d < pp->stages[o2]->ndeps; d++)
					if ((size_t)pp->stages[o2]->deps[d] == st)
						s.deps_left[o2]--;
	for (size_t st = 0; st < pp->nstages; st++)
		if (s.deps_left[st] == 0 && s.stage_left[st] > 0)
			stage_ready(&s, st);

	progress_init(&s.pr, o->progress);
	while (!s.failed || running_count(&s, nw) > 0) {
		int w = -1, r;
		char *msg = NULL;

		if (!s.failed && s.done == (int64_t)s.nts)
			break;
		for (int k = 0; !s.failed && k < nw && s.qlen; k++) {
			if (s.running[k] >= 0)
				continue;
			size_t i = s.queue[s.qhead];
			s.qhead = (s.qhead + 1) % s.nts;
			s.qlen--;
			if (dispatch(&s, k, i)) {
				s.failed = 1;
				break;
			}
		}
		if (running_count(&s, nw) == 0 && !s.failed) {
			pond_fail(err, POND_EINTERNAL, "scheduler stalled: no task is ready or running");
			s.failed = 1;
			break;
		}
		r = t->ops->recv(t, 200, &w, &msg, err);
		if (r < 0) {
			s.failed = 1;
			break;
		}
		if (r == 1 && msg) {
			json_t *res = json_loads(msg, 0, NULL);
			if (res)
				on_result(&s, w, res, sum);
			json_decref(res);
			free(msg);
		} else if (r == 1) {
			on_worker_lost(&s, w, sum);
		}
		progress_update(&s.pr, current_stage(&s), s.done, (int64_t)s.nts, running_count(&s, nw), s.rows,
				s.bytes, 0);
	}
	if (!s.failed)
		progress_update(&s.pr, "done", s.done, (int64_t)s.nts, 0, s.rows, s.bytes, s.pr.mode != POND_PROGRESS_AUTO ? 0 : 1);
	progress_end(&s.pr);
	sum->seconds = progress_now() - t0;
	free(s.ts);
	free(s.queue);
	free(s.stage_first);
	free(s.stage_left);
	free(s.deps_left);
	free(s.running);
	return s.failed ? -1 : 0;
}
