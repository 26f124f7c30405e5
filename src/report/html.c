/* html.c — the run report: one self-contained HTML page (inline CSS and
 * SVG, no script, nothing fetched) made of the model load.c reads: the
 * job's state and totals, the stage graph, a table of per-stage task
 * statistics, the timeline, the failures and the slowest tasks. Called by
 * the session after a run and by pond_report. Every string from the job
 * (paths, steps, task ids, errors) goes through sb_html; the page is
 * written to path.tmp and renamed, so it is never seen half written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pond.h"
#include "report/report.h"
#include "util/errclass.h"
#include "util/fsutil.h"
#include "util/human.h"

#define MAX_FAILURE_GROUPS 50
#define MAX_ERROR_CHARS 2000
#define SLOWEST 10

static const char css[] =
	"body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}"
	"code,pre{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}pre{white-space:pre-wrap;background:#f6f6f6;"
	"padding:8px;margin:4px 0;max-height:240px;overflow:auto}.sub{color:#666;margin:0}"
	".state{display:inline-block;padding:3px 10px;border-radius:4px;color:#fff;font-weight:600}"
	".ok{background:#2e7d32}.failed{background:#c62828}.unfinished{background:#b26a00}"
	"table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;"
	"text-align:right;white-space:nowrap}th{background:#fafafa;position:sticky;top:0}td.l,th.l{text-align:left}"
	".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}"
	".skew{fill:#b26a00;color:#b26a00;font-weight:600}.bad{color:#c62828}.scroll{overflow:auto;max-height:640px;"
	"border:1px solid #eee}.totals td{text-align:left}.totals td:first-child{color:#666}"
	"svg text{font:11px system-ui,sans-serif;fill:#333}svg .nn{font-weight:600}svg .tl{text-anchor:middle;"
	"fill:#666}svg .ll{text-anchor:end}svg .tick{stroke:#e3e3e3}svg .band{fill:#f7f7f7}"
	"svg .edge{fill:none;stroke:#999;stroke-width:1.5}.legend span{margin-right:14px;white-space:nowrap}"
	".note{color:#666;font-size:12px}";

static void human_ms(char *buf, size_t n, double ms)
{
	if (ms < 0)
		snprintf(buf, n, "–");
	else if (ms < 1000)
		snprintf(buf, n, "%.0f ms", ms);
	else if (ms < 60000)
		snprintf(buf, n, "%.2f s", ms / 1e3);
	else
		human_time(buf, n, ms / 1e3);
}

static void cell_bytes(sb *out, int64_t v)
{
	char b[32];
	human_bytes(b, sizeof(b), v);
	sb_addf(out, "<td>%s</td>", v < 0 ? "–" : b);
}

static void cell_count(sb *out, int64_t v)
{
	char b[32];
	human_count(b, sizeof(b), v);
	sb_addf(out, "<td>%s</td>", v < 0 ? "–" : b);
}

/* A sum over the tasks DuckDB's profiler measured: marked when that was
 * only some of them. */
static void cell_sampled(sb *out, int64_t v, bool bytes, bool some)
{
	char b[32];

	if (bytes)
		human_bytes(b, sizeof(b), v);
	else
		human_count(b, sizeof(b), v);
	sb_addf(out, "<td>%s%s</td>", v < 0 ? "–" : b, v >= 0 && some ? "*" : "");
}

static void cell_ms(sb *out, double ms)
{
	char b[32];
	human_ms(b, sizeof(b), ms);
	sb_addf(out, "<td>%s</td>", b);
}

static void utc(char *buf, size_t n, double t)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&s, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "–");
}

/* ---- sections ------------------------------------------------------------------- */

static void head(const report *r, sb *out)
{
	sb_add(out,
	       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width\"><title>pond report: ");
	sb_html(out, fs_basename(r->job_dir));
	sb_addf(out,
		"</title><style>%s</style></head>\n<body>\n<h1>pond run report</h1>\n<p class=\"sub\">job "
		"directory <code>",
		css);
	sb_html(out, r->job_dir);
	sb_add(out, "</code></p>\n");
}

static void totals_row(sb *out, const char *name, const char *value)
{
	sb_addf(out, "<tr><td>%s</td><td>%s</td></tr>\n", name, value);
}

static double total_cpu(const report *r, int64_t *spill, int64_t *peak)
{
	double cpu = 0;

	*spill = *peak = 0;
	for (size_t i = 0; i < r->natt; i++) {
		cpu += r->att[i].m.cpu_ms > 0 ? r->att[i].m.cpu_ms : 0;
		*spill += r->att[i].m.spill > 0 ? r->att[i].m.spill : 0;
		if (r->att[i].m.peak_mem > *peak)
			*peak = r->att[i].m.peak_mem;
	}
	return cpu;
}

static void summary(const report *r, sb *out)
{
	static const char *const cls[] = { "ok", "failed", "unfinished" };
	static const char *const word[] = { "succeeded", "failed", "no end recorded: killed, or still running" };
	char a[64], b[64], c[160];
	int64_t spill, peak;
	double cpu = total_cpu(r, &spill, &peak), work = 0;
	size_t failed = 0;

	for (size_t i = 0; i < r->natt; i++) {
		work += r->att[i].how == AT_UNFINISHED ? 0 : r->att[i].ms;
		failed += r->att[i].how == AT_FAILED || r->att[i].how == AT_LOST;
	}
	sb_addf(out,
		"<section id=\"summary\"><h2>Job</h2>\n<p><span class=\"state %s\" id=\"job-state\">%s</span></p>\n",
		cls[r->state], word[r->state]);
	if (r->error) {
		sb_add(out, "<pre id=\"job-error\" class=\"bad\">");
		sb_html(out, r->error);
		sb_add(out, "</pre>\n");
	}
	/* the numbers as data-* attributes too, for tests and scripts */
	sb_addf(out,
		"<table class=\"totals\" id=\"totals\" data-tasks=\"%zu\" data-committed=\"%zu\" "
		"data-attempts=\"%zu\" data-failed=\"%zu\" data-unfinished=\"%zu\" data-rows-out=\"%lld\" "
		"data-bytes-out=\"%lld\" data-lanes=\"%zu\">\n",
		r->tasks, r->committed, r->natt, failed, r->unfinished, (long long)r->rows_out, (long long)r->bytes_out,
		r->nlanes);
	utc(a, sizeof(a), r->run_start);
	totals_row(out, "started", a);
	human_ms(a, sizeof(a), (r->t1 - r->run_start) * 1e3);
	snprintf(c, sizeof(c), "%s%s", a, r->runs > 1 ? " (the last run)" : "");
	totals_row(out, "wall time", c);
	snprintf(c, sizeof(c), "%d%s", r->runs, r->runs > 1 ? " (--resume)" : "");
	totals_row(out, "runs", c);
	snprintf(c, sizeof(c), "%d", r->workers);
	totals_row(out, "workers", r->workers > 0 ? c : "–");
	snprintf(c, sizeof(c), "%zu of %zu committed, %zu stages", r->committed, r->tasks, r->nstages);
	totals_row(out, "tasks", c);
	snprintf(c, sizeof(c), "%zu (%zu failed, %zu unfinished)", r->natt, failed, r->unfinished);
	totals_row(out, "attempts", c);
	human_count(a, sizeof(a), r->rows_out);
	human_bytes(b, sizeof(b), r->bytes_out);
	snprintf(c, sizeof(c), "%s rows, %s", a, b);
	totals_row(out, "written to outputs", c);
	human_ms(a, sizeof(a), work);
	human_ms(b, sizeof(b), cpu);
	snprintf(c, sizeof(c), "%s of task time, %s of CPU", a, b);
	totals_row(out, "work", c);
	human_bytes(a, sizeof(a), spill);
	human_bytes(b, sizeof(b), peak);
	snprintf(c, sizeof(c), "%s spilled; largest task peak %s", a, b);
	totals_row(out, "memory", c);
	sb_add(out, "</table></section>\n");
}

static void plan(const report *r, sb *out)
{
	sb_add(out, "<section id=\"plan\"><h2>Plan</h2>\n<div class=\"scroll\">");
	report_svg_plan(r, out);
	sb_add(out, "</div></section>\n");
}

static void stage_row(const report *r, size_t i, sb *out)
{
	const rep_stage *st = &r->stages[i];

	sb_add(out, "<tr id=\"stage-");
	sb_html(out, st->info.name);
	sb_addf(out,
		"\" data-tasks=\"%zu\" data-committed=\"%zu\" data-attempts=\"%zu\" data-rows-out=\"%lld\" "
		"data-bytes-out=\"%lld\" data-median-ms=\"%.6f\" data-p90-ms=\"%.6f\" data-max-ms=\"%.6f\" "
		"data-skew=\"%d\"><td class=\"l\"><span class=\"sw\" style=\"background:%s\"></span>",
		st->info.ntasks, st->committed, st->attempts, (long long)st->rows_out, (long long)st->bytes_out,
		st->time.median, st->time.p90, st->time.max, st->time.skew, report_colour((int)i));
	sb_html(out, st->info.name);
	sb_add(out, "</td><td class=\"l\">");
	sb_html(out, st->info.step);
	sb_addf(out, "</td><td>%zu/%zu</td><td>%zu</td><td%s>%zu</td>", st->committed, st->info.ntasks, st->retries,
		st->failed ? " class=\"bad\"" : "", st->failed);
	cell_ms(out, st->time.n ? st->time.min : -1);
	cell_ms(out, st->time.n ? st->time.median : -1);
	cell_ms(out, st->time.n ? st->time.p90 : -1);
	cell_ms(out, st->time.n ? st->time.max : -1);
	sb_addf(out, "<td>%s</td>", st->time.skew ? "<span class=\"skew\">skew</span>" : "");
	cell_sampled(out, st->rows_in, false, st->profiled < st->committed);
	cell_count(out, st->rows_out);
	cell_bytes(out, st->read);
	cell_bytes(out, st->bytes_out);
	cell_sampled(out, st->spill, true, st->profiled < st->committed);
	cell_sampled(out, st->peak_mem, true, st->profiled < st->committed);
	cell_ms(out, st->cpu_ms);
	sb_add(out, "</tr>\n");
}

static void stages(const report *r, sb *out)
{
	sb_add(out,
	       "<section id=\"stages\"><h2>Stages</h2>\n<div class=\"scroll\"><table>\n<tr><th class=\"l\">stage</th>"
	       "<th class=\"l\">step</th><th>tasks</th><th>retries</th><th>failed</th><th>min</th><th>median</th>"
	       "<th>p90</th><th>max</th><th>skew</th><th>rows in</th><th>rows out</th><th>bytes read</th>"
	       "<th>bytes out</th><th>spilled</th><th>peak mem</th><th>CPU</th></tr>\n");
	for (size_t i = 0; i < r->nstages; i++)
		stage_row(r, i, out);
	sb_addf(out,
		"</table></div>\n<p class=\"note\">Task times are those of the attempts that committed; "
		"<span class=\"skew\">skew</span>: the slowest task took over %.1f× the 75th percentile and "
		"over %.0f s. Rows in: rows DuckDB scanned; bytes read: what the task processes read (inputs, "
		"spill); peak mem: the largest task's DuckDB buffer memory; spilled and CPU: all attempts. *: "
		"DuckDB's profiler measured only some of the stage's tasks (after a task under %.0f ms, one in %d "
		"of the stage's next tasks on that worker).</p></section>\n",
		SKEW_FACTOR, SKEW_MIN_MS / 1e3, PROFILE_MIN_MS, PROFILE_SAMPLE);
}

static void timeline(const report *r, sb *out)
{
	size_t drawn = 0;

	for (size_t i = 0; i < r->natt; i++)
		drawn += r->att[i].run == r->runs - 1;
	sb_add(out, "<section id=\"timeline\"><h2>Timeline</h2>\n<p class=\"legend\">");
	for (size_t i = 0; i < r->nstages; i++) {
		sb_addf(out, "<span><span class=\"sw\" style=\"background:%s\"></span>", report_colour((int)i));
		sb_html(out, r->stages[i].info.name);
		sb_add(out, "</span> ");
	}
	sb_add(out,
	       "<span><span class=\"sw\" style=\"background:#d62728\"></span>failed</span></p>\n<div "
	       "class=\"scroll\">");
	report_svg_timeline(r, out);
	sb_addf(out, "</div>\n<p class=\"note\">%zu attempts of %s, a lane per worker%s.%s</p></section>\n", drawn,
		r->runs > 1 ? "the last run" : "the run", r->nlanes && r->lanes[0].host ? " (rank on host)" : "",
		drawn > 2000 ? " Too many to draw one by one: each cell has the colour of the stage that kept the "
			       "worker busiest in it, and is as opaque as the worker was busy."
			     : " Hover over a bar for its task.");
}

/* ---- failures and stragglers ----------------------------------------------------------- */

static bool failed(const rep_attempt *a)
{
	return a->how == AT_FAILED || a->how == AT_LOST;
}

/* Two failures are alike when they are of one stage and their messages'
 * first lines are equal. */
static bool alike(const rep_attempt *a, const rep_attempt *b)
{
	const char *x = a->error ? a->error : "", *y = b->error ? b->error : "";
	size_t nx = strcspn(x, "\n"), ny = strcspn(y, "\n");
	return a->stage == b->stage && a->cls == b->cls && nx == ny && !strncmp(x, y, nx);
}

static void failure_group(const report *r, size_t first, size_t count, sb *out)
{
	const rep_attempt *a = &r->att[first];
	sb_add(out, "<div class=\"failure\"><p><b>");
	sb_html(out, a->task);
	sb_addf(out, "</b> attempt %d: %s error", a->attempt, error_class_name((error_class)a->cls));
	if (a->timed_out)
		sb_add(out, " (timed out)");
	if (a->step) {
		sb_add(out, " in <code>");
		sb_html(out, a->step);
		sb_add(out, "</code>");
	}
	if (count > 1)
		sb_addf(out, ", and %zu more attempt%s of this stage with the same error", count - 1,
			count == 2 ? "" : "s");
	sb_add(out, "</p><pre>");
	if (a->error && strlen(a->error) > MAX_ERROR_CHARS) {
		char *cut = xasprintf("%.*s…", MAX_ERROR_CHARS, a->error);
		sb_html(out, cut);
		free(cut);
	} else {
		sb_html(out, a->error ? a->error : "(no message)");
	}
	sb_add(out, "</pre></div>\n");
}

static void failures(const report *r, sb *out)
{
	size_t *first = xcalloc(r->natt + 1, sizeof(size_t)), *count = xcalloc(r->natt + 1, sizeof(size_t));
	size_t ng = 0, others = 0;

	for (size_t i = 0; i < r->natt; i++) {
		size_t g;
		if (!failed(&r->att[i]))
			continue;
		for (g = 0; g < ng && !alike(&r->att[first[g]], &r->att[i]); g++)
			;
		if (g == ng && ng == MAX_FAILURE_GROUPS) {
			others++; /* kinds past those shown are only counted */
			continue;
		}
		if (g == ng)
			first[ng++] = i;
		count[g]++;
	}
	sb_addf(out, "<section id=\"failures\"><h2>Failures</h2>\n");
	if (!ng)
		sb_add(out, "<p>No attempt failed.</p>\n");
	for (size_t g = 0; g < ng; g++)
		failure_group(r, first[g], count[g], out);
	if (others)
		sb_addf(out,
			"<p class=\"note\">%zu more failed attempts, with other errors, are in events.jsonl.</p>\n",
			others);
	if (r->unfinished)
		sb_addf(out, "<p>%zu attempt%s started and never ended (the run was killed while %s ran).</p>\n",
			r->unfinished, r->unfinished == 1 ? "" : "s", r->unfinished == 1 ? "it" : "they");
	if (r->bad_lines)
		sb_addf(out,
			"<p class=\"note\">%zu unreadable line%s skipped (a killed run's last line is often "
			"cut short).</p>\n",
			r->bad_lines, r->bad_lines == 1 ? "" : "s");
	sb_add(out, "</section>\n");
	free(first);
	free(count);
}

static void slowest(const report *r, sb *out)
{
	size_t top[SLOWEST], n = 0;

	for (size_t i = 0; i < r->natt; i++) {
		size_t k;
		if (r->att[i].how != AT_OK)
			continue;
		for (k = n; k > 0 && r->att[top[k - 1]].ms < r->att[i].ms; k--)
			if (k < SLOWEST)
				top[k] = top[k - 1];
		if (k < SLOWEST) {
			top[k] = i;
			n += n < SLOWEST;
		}
	}
	sb_add(out,
	       "<section id=\"slowest\"><h2>Slowest tasks</h2>\n<table><tr><th class=\"l\">task</th>"
	       "<th class=\"l\">worker</th><th>time</th><th>rows in</th><th>rows out</th><th>bytes out</th>"
	       "<th>spilled</th><th>peak mem</th><th>CPU</th></tr>\n");
	for (size_t k = 0; k < n; k++) {
		const rep_attempt *a = &r->att[top[k]];
		sb_add(out, "<tr><td class=\"l\">");
		sb_html(out, a->task);
		sb_add(out, "</td><td class=\"l\">");
		sb_html(out, a->lane >= 0 ? r->lanes[a->lane].label : "?");
		sb_add(out, "</td>");
		cell_ms(out, a->ms);
		cell_count(out, a->m.rows_in);
		cell_count(out, a->rows);
		cell_bytes(out, a->bytes);
		cell_bytes(out, a->m.spill);
		cell_bytes(out, a->m.peak_mem);
		cell_ms(out, a->m.cpu_ms);
		sb_add(out, "</tr>\n");
	}
	sb_add(out, "</table></section>\n");
}

int report_write_html(const report *r, const char *path, pond_err *err)
{
	sb out = SB_INIT;
	int rc;

	head(r, &out);
	summary(r, &out);
	plan(r, &out);
	stages(r, &out);
	timeline(r, &out);
	failures(r, &out);
	slowest(r, &out);
	sb_add(&out, "<p class=\"note\">Made by pond " POND_VERSION
		     " from plan.json, journal.jsonl and events.jsonl; "
		     "the same attempts are in trace.json (Chrome's trace format: open it in Perfetto).</p>\n"
		     "</body></html>\n");
	rc = fs_write_atomic(path, out.buf, out.len, err);
	sb_release(&out);
	return rc;
}
