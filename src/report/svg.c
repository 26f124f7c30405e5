/* svg.c — the two drawings of the run report, as inline SVG text: the
 * stages as a graph (a column per depth, an edge per dependency) and the
 * timeline of the last run (a lane per worker, a bar per attempt, coloured
 * by stage). Called by html.c. Past DETAIL_MAX attempts the timeline bins
 * time instead of drawing every bar: each lane gets at most BINS cells,
 * each cell the colour of the stage that kept the worker busiest in it and
 * an opacity for how busy it was, and equal neighbours merge, so the page
 * stays small and readable at 10,000 tasks. Every string from the job goes
 * through sb_html. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/human.h"

#define NODE_W 180
#define NODE_H 60
#define COL_W 206
#define ROW_H 76

#define LABEL_W 160
#define PLOT_W 900
#define AXIS_H 26
#define DETAIL_MAX 2000
#define BINS 450          /* cells across a lane, at most */
#define CELL_BUDGET 12000 /* cells over all lanes: ~1 MB at the worst */
#define TITLE_ERROR 300   /* characters of an error in a bar's tooltip */

static const char *const palette[] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
	"#9c755f", "#ff9da7", "#86bcb6", "#8cd17d", "#499894", "#d4a6c8",
};
#define FAIL_COLOUR "#d62728"

const char *report_colour(int stage)
{
	return stage < 0 ? "#999999" : palette[stage % (int)(sizeof(palette) / sizeof(palette[0]))];
}

/* A task time for people: "850 ms", "12.3 s", "2:05". */
static void fmt_ms(char *buf, size_t n, double ms)
{
	if (ms < 1000)
		snprintf(buf, n, "%.0f ms", ms);
	else if (ms < 60000)
		snprintf(buf, n, "%.1f s", ms / 1e3);
	else
		human_time(buf, n, ms / 1e3);
}

/* ---- the plan graph ------------------------------------------------------------ */

/* Each stage's row in its column, and the tallest column. */
static int *place(const report *r, int *rows)
{
	int *row = xcalloc(r->nstages + 1, sizeof(int));
	int *used = xcalloc(r->nstages + 1, sizeof(int));

	*rows = 1;
	for (size_t i = 0; i < r->nstages; i++) {
		row[i] = used[r->stages[i].depth]++;
		if (row[i] + 1 > *rows)
			*rows = row[i] + 1;
	}
	free(used);
	return row;
}

static void node(const report *r, size_t i, int x, int y, sb *out)
{
	const rep_stage *st = &r->stages[i];
	char med[32], mx[32];

	fmt_ms(med, sizeof(med), st->time.median);
	fmt_ms(mx, sizeof(mx), st->time.max);
	sb_add(out, "<g class=\"stage\" id=\"node-");
	sb_html(out, st->info.name);
	sb_addf(out, "\"><title>");
	sb_html(out, st->info.name);
	sb_add(out, ": ");
	sb_html(out, st->info.step);
	/* opaque underneath: an edge that passes behind a node stays hidden */
	sb_addf(out, "</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"#fff\"/>", x, y,
		NODE_W, NODE_H);
	sb_addf(out,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"%s\" "
		"fill-opacity=\"0.16\" stroke=\"%s\" stroke-width=\"2\"/>",
		x, y, NODE_W, NODE_H, report_colour((int)i), report_colour((int)i));
	sb_addf(out, "<text x=\"%d\" y=\"%d\" class=\"nn\">", x + 8, y + 17);
	sb_html(out, st->info.name);
	sb_addf(out, "</text><text x=\"%d\" y=\"%d\">%zu/%zu tasks", x + 8, y + 34, st->committed, st->info.ntasks);
	if (st->failed)
		sb_addf(out, " <tspan fill=\"" FAIL_COLOUR "\">%zu failed</tspan>", st->failed);
	if (st->time.skew)
		sb_add(out, " <tspan class=\"skew\">skew</tspan>");
	sb_add(out, "</text>");
	if (st->time.n)
		sb_addf(out, "<text x=\"%d\" y=\"%d\">median %s · max %s</text>", x + 8, y + 51, med, mx);
	sb_add(out, "</g>\n");
}

void report_svg_plan(const report *r, sb *out)
{
	int rows, cols = 1, *row = place(r, &rows);
	int w, h;

	for (size_t i = 0; i < r->nstages; i++)
		if (r->stages[i].depth + 1 > cols)
			cols = r->stages[i].depth + 1;
	w = 20 + (cols - 1) * COL_W + NODE_W;
	h = 20 + (rows - 1) * ROW_H + NODE_H;
	sb_addf(out,
		"<svg id=\"plan-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"the plan's stages\">\n",
		w, h, w, h);
	sb_add(out,
	       "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
	       "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#777\"/></marker></defs>\n");
	for (size_t i = 0; i < r->nstages; i++) {
		const rep_stage *st = &r->stages[i];
		int x2 = 10 + st->depth * COL_W, y2 = 10 + row[i] * ROW_H + NODE_H / 2;
		for (size_t d = 0; d < st->info.ndeps; d++)
			for (size_t k = 0; k < r->nstages; k++) {
				int x1, y1;
				if (r->stages[k].info.id != st->info.deps[d])
					continue;
				x1 = 10 + r->stages[k].depth * COL_W + NODE_W;
				y1 = 10 + row[k] * ROW_H + NODE_H / 2;
				sb_addf(out,
					"<path d=\"M%d,%d C%d,%d %d,%d %d,%d\" class=\"edge\" "
					"marker-end=\"url(#arrow)\"/>\n",
					x1, y1, x1 + 30, y1, x2 - 30, y2, x2 - 2, y2);
			}
	}
	for (size_t i = 0; i < r->nstages; i++)
		node(r, i, 10 + r->stages[i].depth * COL_W, 10 + row[i] * ROW_H, out);
	sb_add(out, "</svg>\n");
	free(row);
}

/* ---- the timeline ----------------------------------------------------------------- */

typedef struct {
	double t0, span; /* the drawn run: its start, its length (s) */
	int lane_h;
	int last_run;
	int bins; /* cells across a lane (binned mode) */
} frame;

static double xpos(const frame *f, double t)
{
	double x = (t - f->t0) / f->span * PLOT_W;
	return LABEL_W + (x < 0 ? 0 : x > PLOT_W ? PLOT_W : x);
}

/* Tick labels every 1, 2 or 5 × 10^k seconds (or minutes), about 8. */
static void axis(const frame *f, int height, sb *out)
{
	static const double steps[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,  1,    2,    5,     10,    15,   30,
					60,   120,  300,  600, 900, 1800, 3600, 7200, 14400, 28800, 86400 };
	double step = steps[sizeof(steps) / sizeof(steps[0]) - 1];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (f->span / steps[i] <= 9) {
			step = steps[i];
			break;
		}
	for (int k = 0; k * step <= f->span + 1e-9; k++) {
		double t = k * step, x = xpos(f, f->t0 + t);
		char label[32];
		if (f->span < 60)
			snprintf(label, sizeof(label), "%g s", t);
		else
			human_time(label, sizeof(label), t);
		sb_addf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"tick\"/>", x, AXIS_H - 6, x,
			height);
		sb_addf(out, "<text x=\"%.1f\" y=\"%d\" class=\"tl\">%s</text>\n", x, AXIS_H - 10, label);
	}
}

static const char *outcome(const rep_attempt *a)
{
	static const char *const names[] = { "ok", "duplicate", "failed", "lost", "unfinished" };
	return a->timed_out ? "timed out" : names[a->how];
}

/* One bar per attempt, with its details as a tooltip. */
static void bars(const report *r, const frame *f, sb *out)
{
	for (size_t i = 0; i < r->natt; i++) {
		const rep_attempt *a = &r->att[i];
		double x1, x2;
		char ms[32];
		bool bad = a->how == AT_FAILED || a->how == AT_LOST;
		if (a->run != f->last_run || a->lane < 0)
			continue;
		x1 = xpos(f, a->start);
		x2 = xpos(f, a->end);
		fmt_ms(ms, sizeof(ms), a->ms);
		sb_addf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"%s><title>", x1,
			AXIS_H + a->lane * f->lane_h + 1, x2 - x1 < 1 ? 1 : x2 - x1, f->lane_h - 2,
			bad ? FAIL_COLOUR : report_colour(a->stage),
			a->how == AT_UNFINISHED  ? " fill-opacity=\"0.45\" class=\"unfinished\""
			: a->how == AT_DUPLICATE ? " fill-opacity=\"0.45\""
						 : "");
		sb_html(out, a->task);
		sb_addf(out, " attempt %d: %s, %s, %lld rows", a->attempt, outcome(a), ms, (long long)a->rows);
		if (a->error) {
			char *cut =
				xasprintf("\n%.*s%s", TITLE_ERROR, a->error, strlen(a->error) > TITLE_ERROR ? "…" : "");
			sb_html(out, cut);
			free(cut);
		}
		sb_add(out, "</title></rect>\n");
	}
}

typedef struct {
	double busy, best;
	int stage;
	bool failed;
} cell;

/* One lane's attempts binned into f->bins cells. */
static void bin_lane(const report *r, const frame *f, int lane, cell *c)
{
	double w = f->span / f->bins;

	memset(c, 0, (size_t)f->bins * sizeof(cell));
	for (size_t i = 0; i < r->natt; i++) {
		const rep_attempt *a = &r->att[i];
		long b0, b1;
		if (a->run != f->last_run || a->lane != lane)
			continue;
		b0 = (long)floor((a->start - f->t0) / w);
		b1 = (long)floor((a->end - f->t0) / w);
		for (long b = b0 < 0 ? 0 : b0; b <= b1 && b < f->bins; b++) {
			double lo = f->t0 + (double)b * w, hi = lo + w;
			double ov = (a->end < hi ? a->end : hi) - (a->start > lo ? a->start : lo);
			if (ov <= 0)
				continue;
			c[b].busy += ov / w;
			if (ov > c[b].best) {
				c[b].best = ov;
				c[b].stage = a->stage;
			}
			c[b].failed |= a->how == AT_FAILED || a->how == AT_LOST;
		}
	}
}

/* Busyness in quarters: 0 (idle) to 4. */
static int level(const cell *c)
{
	int q = (int)ceil(c->busy * 4 - 1e-9);
	return q < 0 ? 0 : q > 4 ? 4 : q;
}

static bool same_look(const cell *a, const cell *b)
{
	return level(a) == level(b) && a->failed == b->failed && (a->failed || a->stage == b->stage);
}

/* At most one rect per cell, and one per run of cells that look alike: a
 * cell with a failed attempt in it is red. */
static void cells(const report *r, const frame *f, sb *out)
{
	cell *c = xcalloc((size_t)f->bins, sizeof(cell));
	double px = (double)PLOT_W / f->bins;

	for (size_t lane = 0; lane < r->nlanes; lane++) {
		int y = AXIS_H + (int)lane * f->lane_h + 1;
		bin_lane(r, f, (int)lane, c);
		for (int b = 0; b < f->bins;) {
			int e = b + 1, lv = level(&c[b]);
			while (e < f->bins && same_look(&c[b], &c[e]))
				e++;
			if (lv > 0 || c[b].failed)
				sb_addf(out,
					"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
					"fill-opacity=\"%.2f\"/>\n",
					LABEL_W + b * px, y, (e - b) * px, f->lane_h - 2,
					c[b].failed ? FAIL_COLOUR : report_colour(c[b].stage),
					c[b].failed ? 1 : lv / 4.0);
			b = e;
		}
	}
	free(c);
}

void report_svg_timeline(const report *r, sb *out)
{
	frame f = { .t0 = r->run_start, .last_run = r->runs - 1 };
	size_t drawn = 0;
	int h;

	f.span = r->t1 - f.t0 > 1e-3 ? r->t1 - f.t0 : 1e-3;
	f.lane_h = r->nlanes <= 40 ? 18 : r->nlanes <= 160 ? 720 / (int)r->nlanes : 4;
	f.bins = r->nlanes ? CELL_BUDGET / (int)r->nlanes : BINS;
	f.bins = f.bins > BINS ? BINS : f.bins < 20 ? 20 : f.bins;
	for (size_t i = 0; i < r->natt; i++)
		drawn += r->att[i].run == f.last_run;
	h = AXIS_H + (int)r->nlanes * f.lane_h + 4;
	sb_addf(out,
		"<svg id=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"tasks per worker over time\" data-mode=\"%s\">\n",
		LABEL_W + PLOT_W + 10, h, LABEL_W + PLOT_W + 10, h, drawn > DETAIL_MAX ? "binned" : "bars");
	axis(&f, h, out);
	for (size_t lane = 0; lane < r->nlanes; lane++) {
		int y = AXIS_H + (int)lane * f.lane_h;
		if (lane % 2)
			sb_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"band\"/>", LABEL_W, y,
				PLOT_W, f.lane_h);
		if (f.lane_h >= 10) {
			sb_addf(out, "<text x=\"%d\" y=\"%d\" class=\"ll\">", LABEL_W - 6, y + f.lane_h - 5);
			sb_html(out, r->lanes[lane].label);
			sb_add(out, "</text>\n");
		}
	}
	if (drawn > DETAIL_MAX)
		cells(r, &f, out);
	else
		bars(r, &f, out);
	sb_add(out, "</svg>\n");
}
