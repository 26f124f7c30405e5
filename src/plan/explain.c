/* explain.c — `pond explain`: the logical plan as a list of datasets, then
 * the stages with their task counts, shuffle boundaries and the fused SQL
 * of one task of each stage. Reads the plans; changes nothing. */
#include <stdio.h>
#include <string.h>

#include "plan/physical.h"

static void print_node(const lnode *n, FILE *out)
{
	fprintf(out, "  #%d %-12s %s%s%s  [%d partition%s]  (%s)\n", n->id, n->func, n->name ? "'" : "",
		n->name ? n->name : "", n->name ? "'" : "", n->nparts, n->nparts == 1 ? "" : "s", n->where);
	if (n->kind == L_SOURCE)
		fprintf(out, "      %zu file%s%s%s\n", n->nfiles, n->nfiles == 1 ? "" : "s",
			n->nfiles ? ", first " : "", n->nfiles ? n->files[0] : "");
	if (n->kind == L_REPARTITION)
		fprintf(out, "      mode %s%s%s\n", rp_mode_name(n->mode), n->key_desc ? " on " : "",
			n->key_desc ? n->key_desc : "");
	if (n->kind == L_REPARTITION && n->skew)
		fprintf(out, "      skew: %zu hot key%s, %s\n", n->nhot, n->nhot == 1 ? "" : "s",
			n->skew == SKEW_SPREAD ? "their rows and those of NULL keys spread over every partition"
					       : "their rows copied to every partition");
	for (size_t i = 0; i < n->ninputs; i++)
		fprintf(out, "      input {%zu} = #%d\n", i, n->inputs[i]->id);
}

static void print_view(const task_view *v, FILE *out)
{
	switch (v->kind) {
	case VIEW_SLICE:
		fprintf(out, "    view %s: rows slice %d of %d of: %.300s%s\n", v->name, v->slice + 1, v->nslices,
			v->sql, strlen(v->sql) > 300 ? " ..." : "");
		break;
	case VIEW_SQL:
		fprintf(out, "    view %s: %.300s%s\n", v->name, v->sql, strlen(v->sql) > 300 ? " ..." : "");
		break;
	case VIEW_ROWS:
		fprintf(out, "    view %s: rows part %d of %d of %zu Parquet files (no shuffle)\n", v->name,
			v->rows_part + 1, v->rows_parts, v->nrows_files);
		break;
	case VIEW_PARTS:
		fprintf(out, "    view %s: the %zu materialised partitions of a stage\n", v->name, v->ndirs);
		break;
	case VIEW_SHUFFLE:
		fprintf(out, "    view %s: bucket %d of %zu producer outputs\n", v->name, v->bucket, v->ndirs);
		break;
	}
}

static void print_task(const ptask *t, FILE *out)
{
	fprintf(out, "  task %s:\n", t->id);
	for (size_t k = 0; k < t->nviews; k++)
		print_view(&t->views[k], out);
	fprintf(out, "    query:\n      ");
	for (const char *q = t->query; *q; q++) {
		fputc(*q, out);
		if (*q == '\n')
			fputs("      ", out);
	}
	fprintf(out, "\n    output: %s", output_kind_name(t->output.kind));
	if (t->output.select)
		fprintf(out, "\n      %s", t->output.select);
	fprintf(out, "\n");
}

void pplan_explain(const lplan *lp, const pplan *p, FILE *out)
{
	static const char *what[] = { "action write_parquet", "action write_csv", "action show", "action count",
				      "action print" };

	if (lp->notes)
		fprintf(out, "%s\n", lp->notes);
	fprintf(out, "Logical plan (%zu datasets, %zu actions)\n", lp->nnodes, lp->nactions);
	for (size_t i = 0; i < lp->nnodes; i++)
		print_node(lp->nodes[i], out);
	for (size_t i = 0; i < lp->nactions; i++) {
		const action *a = &lp->actions[i];
		fprintf(out, "  %s of #%d%s%s  (%s)\n", what[a->kind], a->input->id, a->dir ? " -> " : "",
			a->dir ? a->dir : "", a->where);
	}
	fprintf(out, "\nPhysical plan (%zu stages)\n", p->nstages);
	for (size_t i = 0; i < p->nstages; i++) {
		const stage *s = p->stages[i];
		fprintf(out, "\nStage %s: %zu task%s  (%s)\n", s->name, s->ntasks, s->ntasks == 1 ? "" : "s", s->step);
		if (s->ndeps) {
			fprintf(out, "  after:");
			for (size_t d = 0; d < s->ndeps; d++)
				fprintf(out, " %s", p->stages[s->deps[d]]->name);
			fprintf(out, "%s\n",
				s->kind == ST_SHUFFLE || p->stages[s->deps[0]]->kind == ST_SHUFFLE
					? "  (shuffle boundary)"
					: "");
		}
		if (!s->ntasks)
			continue;
		print_task(&s->tasks[0], out);
	}
}
