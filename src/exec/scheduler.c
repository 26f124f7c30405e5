/* scheduler.c — dynamic pull scheduling (docs/ARCHITECTURE.md) and the driver's
 * side of fault tolerance (docs/FAULTS.md).
 *
 * A stage's tasks become ready when every stage it depends on has
 * committed all its tasks; ready tasks go, in plan order, to whichever
 * worker is idle, so tasks of independent stages overlap. Each result is
 * journaled (a commit line is fsync'ed) before it is acted on, so
 * --resume never redoes committed work. Failures are retried by class:
 * bad SQL or data never (it would fail again), a failed read once, a
 * resource error with half the threads and 1.5x the memory, a timeout or
 * crash up to --max-attempts; a worker that dies
 * or stops sending heartbeats is replaced and its task re-run without
 * counting against it. With --speculate, a straggler gets a second attempt
 * on an idle worker; whichever commits first wins (the commit is a rename
 * that only one attempt can make), the other is cancelled. */
#include "exec/scheduler.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/progress.h"
#include "util/clock.h"
#include "util/errclass.h"
#include "util/sb.h"
#include "util/testpoint.h"

#define MAX_LOST 10            /* re-runs after worker losses before giving up */
#define HEARTBEAT_TIMEOUT 10.0 /* seconds of silence from a busy worker */
#define SPECULATE_FACTOR 3.0   /* a straggler runs this many medians ... */
#define SPECULATE_MIN 2.0      /* ... and at least this many seconds */
#define MAX_RESOURCE_LEVEL 3

static const char CANCEL_MSG[] = CODEC_MSG_CANCEL;

enum { T_WAIT, T_READY, T_RUNNING, T_DONE };

typedef struct {
	const ptask *task;
	int stage;
	int state;
	int attempts; /* attempts that count against the task */
	int lost;     /* attempts lost with their worker */
	int seq;      /* attempt sequence number, for directory names */
	int running;  /* attempts in flight (2 while speculating) */
	int level;    /* resource retries so far: fewer threads, more memory */
	double ms;    /* duration of the committed attempt */
} tstate;

typedef struct {
	int task;       /* index in ts, -1 when idle */
	int seq;        /* which attempt of it */
	double started; /* when it was sent */
	double seen;    /* last message from this worker */
	bool dead;      /* lost for good (an MPI rank cannot be replaced) */
	bool cancelled; /* told to cancel, waiting for it to say so */
	double sent;    /* when it was sent, unix seconds (events.jsonl) */
} wstate;

typedef struct {
	const pplan *pp;
	transport *t;
	const sched_opts *o;
	journal *j;
	pond_err *err;
	tstate *ts;
	size_t nts;
	size_t *stage_first; /* index of each stage's first task in ts */
	size_t *stage_left;  /* tasks not yet done */
	size_t *deps_left;   /* stages it waits for */
	size_t *queue;       /* ready task indexes (FIFO ring) */
	size_t qhead, qlen;
	wstate *w;
	int nw;
	int64_t done, rows, bytes;
	int failed;
	char *fail_key;    /* the error that failed the job (see error_key) */
	int same_failures; /* other tasks that then failed the same way */
	char **retry_keys; /* errors already printed once as "retrying" */
	int *retry_counts; /* ... and how many more retries they caused */
	size_t nretry_keys;
	progress pr;
	sched_summary *sum;
	double hb_timeout;        /* HEARTBEAT_TIMEOUT, or a test's (test_hooks) */
	const char *timeout_only; /* a test's: --task-timeout for these attempts only */
} sched;

/* Test hooks, never set in production (docs/FAULTS.md, "Test hooks"): the
 * product's timing made to suit a test on a loaded machine, so that the
 * test waits for a state, never against a clock.
 *   POND_TEST_HEARTBEAT_TIMEOUT=S    S seconds instead of 10: a test can
 *                                    keep a busy worker stopped as long as
 *                                    it needs without it being declared lost;
 *   POND_TEST_TIMEOUT_ATTEMPTS=SUB   --task-timeout applies only to the
 *                                    attempts whose "<task id>.a<N>"
 *                                    contains SUB: the test's other
 *                                    attempts never time out, however slow
 *                                    the machine. */
static void test_hooks(sched *s)
{
	const char *hb = getenv("POND_TEST_HEARTBEAT_TIMEOUT");
	char *end = NULL;

	s->hb_timeout = HEARTBEAT_TIMEOUT;
	if (hb && *hb && strtod(hb, &end) > 0 && !*end)
		s->hb_timeout = strtod(hb, NULL);
	s->timeout_only = getenv("POND_TEST_TIMEOUT_ATTEMPTS");
}

static void say(sched *s, const char *fmt, const char *a, const char *b, const char *c)
{
	if (s->o->progress == POND_PROGRESS_NONE)
		return;
	progress_end(&s->pr);
	fprintf(stderr, fmt, a, b, c);
}

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

static const char *task_id(const sched *s, size_t i)
{
	return s->ts[i].task->id;
}

/* The runtime fields of the next attempt of task i. */
static task_attempt next_attempt(const sched *s, size_t i)
{
	const tstate *ts = &s->ts[i];
	const char *id = task_id(s, i);
	int seq = ts->seq + 1;
	task_attempt a = {
		.attempt = seq,
		.attempt_dir = xasprintf("%s/%s.a%d", ts->task->attempts_dir, id, seq),
		.temp_dir = xasprintf("%s/tmp/spill/%s.a%d", s->pp->job_dir, id, seq),
		.log_dir = xasprintf("%s/log", s->pp->job_dir),
		.threads = s->o->threads,
		.memory_limit = s->o->memory_limit,
		.inject_p = s->o->inject_p,
		.inject_seed = s->o->inject_seed,
	};

	if (ts->level) {
		/* after running out of memory: fewer threads, more memory */
		a.threads_div = 1 << ts->level;
		a.memory_mul = 1;
		for (int k = 0; k < ts->level; k++)
			a.memory_mul *= 1.5;
	}
	return a;
}

static int dispatch(sched *s, int w, size_t i)
{
	tstate *ts = &s->ts[i];
	task_attempt a = next_attempt(s, i);
	char *msg = codec_task_msg(ts->task, &a);
	int rc = s->t->ops->send(s->t, w, msg, strlen(msg), s->err);

	free(msg);
	if (rc == 0) {
		if (ts->running == 0)
			ts->attempts++;
		ts->seq = a.attempt;
		ts->state = T_RUNNING;
		ts->running++;
		s->w[w] = (wstate){ (int)i, ts->seq, clock_mono(), clock_mono(), false, false, clock_unix() };
		journal_append(s->j,
			       (journal_entry){ .event = "start",
						.task = task_id(s, i),
						.attempt = a.attempt,
						.worker = s->t->ops->describe(s->t, w) },
			       false, NULL);
	}
	task_attempt_release(&a);
	return rc;
}

/* Tells the other workers running task i to stop (it is done or failed). */
static void cancel_others(sched *s, size_t i, int except)
{
	for (int k = 0; k < s->nw; k++) {
		if (k == except || s->w[k].task != (int)i || s->w[k].cancelled)
			continue;
		s->t->ops->send(s->t, k, CANCEL_MSG, sizeof(CANCEL_MSG) - 1, NULL);
		s->w[k].cancelled = true;
	}
}

/* Which errors are "the same": the step and the message's first line
 * (the rest names task-specific files and SQL). Caller frees. */
static char *error_key(const char *step, const char *msg)
{
	sb b = SB_INIT;
	bool quoted = false;

	sb_add(&b, step ? step : "");
	sb_add(&b, "\n");
	/* the first line, without the numbers and quoted names (files,
	 * values) that differ from task to task */
	for (const char *p = msg; *p && *p != '\n'; p++) {
		if (*p == '"' || *p == '\'')
			quoted = !quoted;
		else if (!quoted && !(p > msg && isdigit((unsigned char)*p) && isdigit((unsigned char)p[-1])))
			sb_addn(&b, isdigit((unsigned char)*p) ? "#" : p, 1);
	}
	return sb_detach(&b);
}

/* The job fails on task i's error. `step` is the script step the error
 * was found in ("job.pond:2:5 partial_sql"), else the task's stage. */
static void fail_job(sched *s, size_t i, const char *msg, error_class cls, const char *step)
{
	const tstate *ts = &s->ts[i];
	const char *where = step ? step : ts->task->step;
	char attempts[64] = "";
	sb text = SB_INIT;

	if (ts->attempts > 1)
		snprintf(attempts, sizeof(attempts), " after %d attempts", ts->attempts);
	else if (cls == EC_INPUT)
		snprintf(attempts, sizeof(attempts), ", not retried: it would fail again");
	sb_add(&text, "  ");
	for (const char *p = msg; *p; p++) {
		sb_addn(&text, p, 1);
		if (*p == '\n' && p[1])
			sb_add(&text, "  ");
	}
	pond_fail(s->err, POND_ETASK,
		  "%s: task %s failed (%s error%s):\n%s\n  (its SQL is in %s/events.jsonl, worker logs in %s/log/)",
		  where, task_id(s, i), error_class_name(cls), attempts, sb_str(&text), s->pp->job_dir, s->pp->job_dir);
	sb_release(&text);
	s->failed = 1;
	s->fail_key = error_key(step, msg);
}

/* A retry is announced once per distinct error; the rest are counted. */
static void say_retry(sched *s, size_t i, const char *msg, const char *step)
{
	char *key = error_key(step, msg);
	size_t k;

	for (k = 0; k < s->nretry_keys; k++)
		if (!strcmp(s->retry_keys[k], key))
			break;
	if (k < s->nretry_keys) {
		s->retry_counts[k]++;
		free(key);
		return;
	}
	s->retry_keys = xrealloc(s->retry_keys, (s->nretry_keys + 1) * sizeof(char *));
	s->retry_counts = xrealloc(s->retry_counts, (s->nretry_keys + 1) * sizeof(int));
	s->retry_keys[s->nretry_keys] = key;
	s->retry_counts[s->nretry_keys++] = 0;
	if (s->o->progress == POND_PROGRESS_NONE)
		return;
	progress_end(&s->pr);
	fprintf(stderr, "pond: task %s attempt %d failed, retrying%s%s: %.300s\n", task_id(s, i), s->ts[i].attempts,
		step ? " " : "", step ? step : "", msg);
}

/* An attempt of task i ended without committing. */
static void attempt_failed(sched *s, size_t i, error_class cls, const char *msg, const char *step)
{
	tstate *ts = &s->ts[i];
	int limit = s->o->max_attempts;

	if (ts->state == T_DONE)
		return;
	if (s->failed) {
		char *key = error_key(step, msg);
		s->same_failures += s->fail_key && !strcmp(key, s->fail_key);
		free(key);
		return;
	}
	if (--ts->running > 0)
		return; /* a speculative twin is still at it */
	if (cls == EC_LOST) {
		ts->attempts--; /* not the task's fault */
		if (++ts->lost > MAX_LOST)
			return fail_job(s, i, "too many workers were lost running it", cls, NULL);
	} else {
		/* bad SQL or data gives the same error every time; a failed
		 * read may work once more, more only waste time */
		if (cls == EC_INPUT)
			limit = 1;
		if (cls == EC_IO && limit > 2)
			limit = 2;
		if (ts->attempts >= limit)
			return fail_job(s, i, msg, cls, step);
		/* more memory helps an out-of-memory task (a full disk,
		 * EC_NOSPACE, is retried as it is) */
		if (cls == EC_RESOURCE && ts->level < MAX_RESOURCE_LEVEL)
			ts->level++;
	}
	s->sum->retries++;
	if (cls == EC_LOST)
		say(s, "pond: task %s runs again (%s; not counted as an attempt)%s\n", task_id(s, i), msg, "");
	else
		say_retry(s, i, msg, step);
	enqueue(s, i);
}

/* Task i committed (res->ok). */
static void on_commit(sched *s, int w, size_t i, const task_result *res)
{
	tstate *ts = &s->ts[i];

	ts->running--;
	if (ts->state == T_DONE)
		return; /* its twin committed first; this one was discarded */
	/* with the manifest's hash: --resume trusts this output only if its
	 * manifest is still the one committed (util/manifest.h) */
	if (journal_append(
		    s->j,
		    (journal_entry){ .event = "commit", .task = ts->task->id, .attempt = res->attempt, .res = res },
		    true, s->err))
		s->failed = 1;
	test_point("commit"); /* a commit line is on disk */
	s->rows += res->rows;
	s->bytes += res->bytes;
	if (s->pp->stages[ts->stage]->kind == ST_SINK) {
		s->sum->rows_out += res->rows;
		s->sum->bytes_out += res->bytes;
	}
	ts->ms = res->ms;
	s->sum->tasks++;
	mark_done(s, i);
	cancel_others(s, i, w);
}

static void on_result(sched *s, int w, const task_result *res)
{
	int i = s->w[w].task;
	tstate *ts;

	s->w[w].task = -1;
	s->w[w].cancelled = false;
	if (i < 0 || res->attempt != s->w[w].seq)
		return; /* a late answer from an attempt we gave up on */
	ts = &s->ts[i];
	journal_attempt(s->j, res, s->w[w].sent, w, s->t->ops->describe(s->t, w));
	if (res->ok)
		return on_commit(s, w, (size_t)i, res);
	journal_append(s->j,
		       (journal_entry){ .event = "fail", .task = ts->task->id, .attempt = res->attempt, .res = res },
		       false, NULL);
	attempt_failed(s, (size_t)i, res->cls, res->error ? res->error : "unknown error", res->step);
}

/* Worker w is gone (died, or silent past the heartbeat timeout). */
static void worker_lost(sched *s, int w, const char *why)
{
	int i = s->w[w].task;
	pond_err e = { 0 };
	char desc[160];

	snprintf(desc, sizeof(desc), "%s", s->t->ops->describe(s->t, w));
	s->w[w].task = -1;
	say(s, "pond: %s %s; %s\n", desc, why, i >= 0 ? "its task will run again" : "");
	if (s->t->ops->respawn(s->t, w, &e)) {
		s->w[w].dead = true; /* an MPI rank: carry on without it */
		say(s, "pond: %s is not replaced: %s%s\n", desc, e.msg, "");
	}
	if (i >= 0) {
		task_result lost = { .task = xstrdup(task_id(s, (size_t)i)),
				     .attempt = s->w[w].seq,
				     .cls = EC_LOST,
				     .error = xstrdup(why),
				     .m = TASK_METRICS_NONE };
		journal_attempt(s->j, &lost, s->w[w].sent, w, desc);
		task_result_release(&lost);
		attempt_failed(s, (size_t)i, EC_LOST, why, NULL);
	}
	for (int k = 0; k < s->nw; k++)
		if (!s->w[k].dead)
			return;
	pond_fail(s->err, POND_EIO, "every worker is lost (last: %s %s); rerun with --resume to finish the job", desc,
		  why);
	s->failed = 1;
}

static double median_ms(const sched *s, int st)
{
	const stage *sg = s->pp->stages[st];
	double *v = xcalloc(sg->ntasks + 1, sizeof(double)), m;
	size_t n = 0;

	for (size_t k = 0; k < sg->ntasks; k++) {
		const tstate *t = &s->ts[s->stage_first[st] + k];
		if (t->state == T_DONE && t->ms > 0)
			v[n++] = t->ms;
	}
	for (size_t a = 1; a < n; a++) /* n is small: insertion sort */
		for (size_t b = a; b > 0 && v[b - 1] > v[b]; b--) {
			double x = v[b];
			v[b] = v[b - 1];
			v[b - 1] = x;
		}
	m = n >= 3 ? v[n / 2] : -1;
	free(v);
	return m;
}

/* A running task whose one attempt has run far longer than its stage's
 * median, for an idle worker to race (never a sink: it writes where users
 * look). -1 if none. */
static int straggler(const sched *s, double now)
{
	for (int k = 0; k < s->nw; k++) {
		int i = s->w[k].task;
		double med;
		if (i < 0 || s->ts[i].running != 1 || s->w[k].cancelled ||
		    s->pp->stages[s->ts[i].stage]->kind == ST_SINK)
			continue;
		med = median_ms(s, s->ts[i].stage);
		if (med > 0 && (now - s->w[k].started) * 1000 > SPECULATE_FACTOR * med &&
		    now - s->w[k].started > SPECULATE_MIN)
			return i;
	}
	return -1;
}

/* Whether --task-timeout applies to worker w's attempt (see test_hooks). */
static bool timed(const sched *s, const wstate *w)
{
	char name[256];

	if (s->o->task_timeout <= 0)
		return false;
	if (!s->timeout_only)
		return true;
	snprintf(name, sizeof(name), "%s.a%d", task_id(s, (size_t)w->task), w->seq);
	return strstr(name, s->timeout_only) != NULL;
}

/* Timeouts and silent workers. */
static void watch(sched *s)
{
	double now = clock_mono();

	for (int k = 0; k < s->nw && !s->failed; k++) {
		wstate *w = &s->w[k];
		if (w->task < 0 || w->dead)
			continue;
		if (now - w->seen > s->hb_timeout) {
			char why[96];
			snprintf(why, sizeof(why), "sent no heartbeat for %.0f s", now - w->seen);
			worker_lost(s, k, why);
		} else if (!w->cancelled && timed(s, w) && now - w->started > s->o->task_timeout) {
			journal_append(s->j,
				       (journal_entry){ .event = "timeout",
							.task = task_id(s, (size_t)w->task),
							.attempt = w->seq },
				       false, NULL);
			s->t->ops->send(s->t, k, CANCEL_MSG, sizeof(CANCEL_MSG) - 1, NULL);
			w->cancelled = true;
		}
	}
}

static const char *current_stage(const sched *s)
{
	for (size_t st = 0; st < s->pp->nstages; st++)
		if (s->stage_left[st])
			return s->pp->stages[st]->name;
	return "done";
}

static int running_count(const sched *s)
{
	int n = 0;
	for (int w = 0; w < s->nw; w++)
		n += s->w[w].task >= 0;
	return n;
}

/* The progress line's estimate of the time left (progress_eta). */
static double eta(const sched *s)
{
	eta_stage *st = xcalloc(s->pp->nstages + 1, sizeof(eta_stage));
	double now = clock_mono(), left;
	int live = 0;

	for (size_t i = 0; i < s->nts; i++) {
		const tstate *t = &s->ts[i];
		eta_stage *e = &st[t->stage];
		if (t->state != T_DONE)
			e->left++;
		else if (t->ms > 0) { /* committed by this run, not resumed */
			e->done++;
			e->done_ms += t->ms;
		}
	}
	for (int k = 0; k < s->nw; k++) {
		live += !s->w[k].dead;
		if (s->w[k].task >= 0)
			st[s->ts[s->w[k].task].stage].running_ms += (now - s->w[k].started) * 1e3;
	}
	left = progress_eta(st, s->pp->nstages, live);
	free(st);
	return left;
}

static progress_state progress_now(const sched *s, const char *stage, double eta_s)
{
	return (progress_state){ stage, s->done, (int64_t)s->nts, running_count(s), s->sum->rows_out, s->sum->bytes_out,
				 eta_s };
}

static void init_state(sched *s)
{
	const pplan *pp = s->pp;

	for (size_t st = 0; st < pp->nstages; st++)
		s->nts += pp->stages[st]->ntasks;
	s->ts = xcalloc(s->nts + 1, sizeof(tstate));
	s->queue = xcalloc(s->nts + 1, sizeof(size_t));
	s->stage_first = xcalloc(pp->nstages + 1, sizeof(size_t));
	s->stage_left = xcalloc(pp->nstages + 1, sizeof(size_t));
	s->deps_left = xcalloc(pp->nstages + 1, sizeof(size_t));
	s->w = xcalloc((size_t)s->nw + 1, sizeof(wstate));
	for (int w = 0; w < s->nw; w++)
		s->w[w].task = -1;
	for (size_t st = 0, k = 0; st < pp->nstages; st++) {
		const stage *sg = pp->stages[st];
		s->stage_first[st] = k;
		s->stage_left[st] = sg->ntasks;
		s->deps_left[st] = sg->ndeps;
		for (size_t i = 0; i < sg->ntasks; i++, k++) {
			s->ts[k].task = &sg->tasks[i];
			s->ts[k].stage = (int)st;
			if (s->o->committed && commit_set_find(s->o->committed, task_id(s, k))) {
				s->ts[k].state = T_DONE;
				s->done++;
				s->sum->skipped++;
				s->stage_left[st]--;
			}
		}
	}
	/* stages with nothing left count as finished for their dependents */
	for (size_t st = 0; st < pp->nstages; st++)
		if (s->stage_left[st] == 0)
			for (size_t o2 = 0; o2 < pp->nstages; o2++)
				for (size_t d = 0; d < pp->stages[o2]->ndeps; d++)
					if ((size_t)pp->stages[o2]->deps[d] == st)
						s->deps_left[o2]--;
	for (size_t st = 0; st < pp->nstages; st++)
		if (s->deps_left[st] == 0 && s->stage_left[st] > 0)
			stage_ready(s, st);
}

/* Hands ready tasks (or stragglers' twins) to idle workers. */
static void fill_workers(sched *s)
{
	for (int k = 0; !s->failed && k < s->nw; k++) {
		int i = -1;
		if (s->w[k].task >= 0 || s->w[k].dead)
			continue;
		while (s->qlen && i < 0) {
			size_t q = s->queue[s->qhead];
			s->qhead = (s->qhead + 1) % s->nts;
			s->qlen--;
			if (s->ts[q].state == T_READY)
				i = (int)q;
		}
		if (i < 0 && s->o->speculate && (i = straggler(s, clock_mono())) >= 0)
			say(s, "pond: task %s is a straggler; starting a second attempt%s%s\n", task_id(s, (size_t)i),
			    "", "");
		if (i < 0)
			return;
		if (dispatch(s, k, (size_t)i)) {
			/* the worker died while idle: the task goes back in line */
			if (s->ts[i].state == T_READY)
				enqueue(s, (size_t)i);
			worker_lost(s, k, "died");
		}
	}
}

/* The counts behind errors printed once: retries of the same error, and
 * other tasks that failed the way the job did. */
static void report_repeats(sched *s)
{
	for (size_t k = 0; k < s->nretry_keys; k++) {
		if (s->retry_counts[k] && s->o->progress != POND_PROGRESS_NONE)
			fprintf(stderr,
				"pond: %d more attempt%s failed with the same error as task attempts above and %s retried\n",
				s->retry_counts[k], s->retry_counts[k] == 1 ? "" : "s",
				s->retry_counts[k] == 1 ? "was" : "were");
		free(s->retry_keys[k]);
	}
	free(s->retry_keys);
	free(s->retry_counts);
	if (s->failed && s->same_failures) {
		char *more = xasprintf("%s\n  %d other task%s failed with the same error", s->err->msg,
				       s->same_failures, s->same_failures == 1 ? "" : "s");
		snprintf(s->err->msg, sizeof(s->err->msg), "%s", more);
		free(more);
	}
	free(s->fail_key);
}

/* Tells every worker still running a task to stop it. */
static void cancel_running(sched *s)
{
	for (int k = 0; k < s->nw; k++)
		if (s->w[k].task >= 0 && !s->w[k].cancelled && !s->w[k].dead) {
			s->t->ops->send(s->t, k, CANCEL_MSG, sizeof(CANCEL_MSG) - 1, NULL);
			s->w[k].cancelled = true;
		}
}

int sched_run(const pplan *pp, transport *t, const sched_opts *o, journal *j, sched_summary *sum, pond_err *err)
{
	sched s = { .pp = pp, .t = t, .o = o, .j = j, .err = err, .sum = sum };
	double t0 = clock_mono();

	memset(sum, 0, sizeof(*sum));
	test_hooks(&s);
	s.nw = t->ops->nworkers(t);
	init_state(&s);
	progress_init(&s.pr, o->progress);
	while (!s.failed || running_count(&s) > 0) {
		int w = -1, r;
		char *msg = NULL;

		if (!s.failed && s.done == (int64_t)s.nts)
			break;
		fill_workers(&s);
		if (running_count(&s) == 0 && !s.failed) {
			pond_fail(err, POND_EINTERNAL, "scheduler stalled: no task is ready or running");
			s.failed = 1;
			break;
		}
		r = t->ops->recv(t, 200, &w, &msg, err);
		if (r < 0) {
			s.failed = 1;
			break;
		}
		if (r == 1 && w >= 0 && w < s.nw && !s.w[w].dead) {
			s.w[w].seen = clock_mono();
			if (msg) {
				task_result res;
				/* a heartbeat (1) only says the worker is alive */
				if (codec_read_result(msg, &res) == 0)
					on_result(&s, w, &res);
				task_result_release(&res);
			} else {
				worker_lost(&s, w, "died");
			}
		}
		free(msg);
		if (o->interrupted && *o->interrupted) {
			/* SIGINT/SIGTERM: stop now; the transport's shutdown ends
			 * the workers and what they run, --resume does the rest */
			if (!s.failed)
				pond_fail(err, POND_EINTR, "interrupted: run again with --resume");
			s.failed = 1;
			cancel_running(&s);
			break;
		}
		if (s.failed)
			cancel_running(&s); /* the job has failed */
		watch(&s);
		if (journal_flush(j, false, err))
			s.failed = 1;
		/* what users see: rows and bytes of output, not intermediates */
		if (progress_due(&s.pr)) {
			progress_state ps = progress_now(&s, current_stage(&s), eta(&s));
			progress_update(&s.pr, &ps, 1);
		}
	}
	progress_end(&s.pr);
	if (!s.failed) { /* drawn once, and left on screen */
		progress_state ps = progress_now(&s, "done", 0);
		progress_final(&s.pr, &ps);
	}
	if (journal_flush(j, true, s.failed ? NULL : err))
		s.failed = 1;
	report_repeats(&s);
	sum->seconds = clock_mono() - t0;
	sum->idle = running_count(&s) == 0;
	free(s.ts);
	free(s.queue);
	free(s.stage_first);
	free(s.stage_left);
	free(s.deps_left);
	free(s.w);
	return s.failed ? -1 : 0;
}
