/* trace.c — DIR/trace.json in Chrome's trace event format, which Perfetto
 * (ui.perfetto.dev) and chrome://tracing open: a process per host ("local"
 * for local workers), a thread per worker, a complete event ("ph": "X")
 * per attempt of every run, named by task and categorised by stage, with
 * its outcome and metrics as args. Called by the session after a run and
 * by pond_report; written atomically. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/errclass.h"
#include "util/fsutil.h"

/* A process id per host (1, 2, …) for each lane; lanes are sorted by
 * host, so a host's lanes are neighbours. Caller frees. */
static int *host_pids(const report *r)
{
	int *pid = xcalloc(r->nlanes + 1, sizeof(int));

	for (size_t l = 0; l < r->nlanes; l++) {
		const char *h = r->lanes[l].host, *prev = l ? r->lanes[l - 1].host : NULL;
		bool same = l > 0 && ((!h && !prev) || (h && prev && !strcmp(h, prev)));
		pid[l] = l == 0 ? 1 : pid[l - 1] + !same;
	}
	return pid;
}

static json_t *meta(const char *what, int pid, int tid, const char *name)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name", what, "ph", "M", "pid", pid, "tid", tid, "args",
			 "name", name);
}

static void set_metric(json_t *o, const char *k, int64_t v)
{
	if (v >= 0)
		json_object_set_new(o, k, json_integer(v));
}

static json_t *attempt_event(const report *r, const int *pids, const rep_attempt *a)
{
	static const char *const how[] = { "ok", "duplicate", "failed", "lost", "unfinished" };
	json_t *args = json_object();

	json_object_set_new(args, "attempt", json_integer(a->attempt));
	json_object_set_new(args, "outcome", json_string(a->timed_out ? "timed out" : how[a->how]));
	json_object_set_new(args, "rows", json_integer(a->rows));
	json_object_set_new(args, "bytes", json_integer(a->bytes));
	json_object_set_new(args, "ms", json_real(a->ms));
	if (a->m.cpu_ms >= 0)
		json_object_set_new(args, "cpu_ms", json_real(a->m.cpu_ms));
	set_metric(args, "peak_mem", a->m.peak_mem);
	set_metric(args, "spill", a->m.spill);
	set_metric(args, "rows_in", a->m.rows_in);
	set_metric(args, "read", a->m.read_bytes);
	set_metric(args, "written", a->m.write_bytes);
	if (a->how == AT_FAILED || a->how == AT_LOST) {
		json_object_set_new(args, "class", json_string(error_class_name((error_class)a->cls)));
		json_object_set_new(args, "error", json_string(a->error ? a->error : ""));
	}
	if (a->run)
		json_object_set_new(args, "run", json_integer(a->run + 1));
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:o}", "name", a->task, "cat",
			 a->stage >= 0 ? r->stages[a->stage].info.name : "?", "ph", "X", "ts",
			 (json_int_t)((a->start - r->t0) * 1e6), "dur", (json_int_t)((a->end - a->start) * 1e6), "pid",
			 a->lane >= 0 ? pids[a->lane] : 1, "tid", a->lane + 1, "args", args);
}

int report_write_trace(const report *r, const char *path, pond_err *err)
{
	json_t *root = json_object(), *ev = json_array();
	int *pids = host_pids(r);
	char *text;
	int rc;

	for (size_t l = 0; l < r->nlanes; l++) {
		if (l == 0 || pids[l] != pids[l - 1])
			json_array_append_new(ev, meta("process_name", pids[l], 0,
						       r->lanes[l].host ? r->lanes[l].host : "local workers"));
		json_array_append_new(ev, meta("thread_name", pids[l], (int)l + 1, r->lanes[l].label));
	}
	for (size_t i = 0; i < r->natt; i++)
		json_array_append_new(ev, attempt_event(r, pids, &r->att[i]));
	free(pids);
	json_object_set_new(root, "traceEvents", ev);
	json_object_set_new(root, "displayTimeUnit", json_string("ms"));
	json_object_set_new(root, "otherData", json_pack("{s:s}", "job_dir", r->job_dir));
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		abort(); /* jansson fails only when out of memory */
	/* no fsync: `pond report` makes it again from the journal and
	 * events.jsonl, and the two fsyncs were the last thing every run
	 * waited for */
	rc = fs_write_replace(path, text, strlen(text), err);
	free(text);
	return rc;
}
