/* explain.c — `pond explain`: the logical plan as a list of datasets, then
 * the stages with their task counts, shuffle boundaries and the fused SQL
 * of one task of each stage. Reads the plans; changes nothing. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "plan/physical.h"

static void print_node(const lnode *n, FILE *out)
{
	fprintf(out, "  #%d %-12s %s%s%s  [%d partition%s]  (%s)\n", n->id, n->func,
		n->name ? "'" : "", n->name ? n->name : "", n->name ? "'" : "", n->nparts,
		n->nparts == 1 ? "" : "s", n->where);
	if (n->kind == L_SOURCE)
		fprintf(out, "      %zu file%s%s%s\n", n->nfiles, n->nfiles == 1 ? "" : "s",
			n->nfiles ? ", first " : "", n->nfiles ? n->files[0] : "");
	if (n->kind == L_REPARTITION)
		fprintf(out, "      mode %s%s%s\n", rp_mode_name(n->mode), n->key_desc ? " on " : "",
			n->key_desc ? n->key_desc : "");
	for (size_t i = 0; i < n->ninputs; i++)
		fprintf(out, "      input {%zu} = #%d\n", i, n->inputs[i]->id);
}

void pplan_explain(const lplan *lp, const pplan *p, FILE *out)
{
	static const char *what[] = { "action write_parquet", "action write_csv", "action show", "action count" };

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
			fprintf(out, "%s\n", s->kind == ST_SHUFFLE || p->stages[s->deps[0]]->kind == ST_SHUFFLE
						     ? "  (shuffle boundary)" : "");
		}
		if (!s->ntasks)
			continue;
		json_t *t = s->tasks[0];
		json_t *v;
		size_t k;
		fprintf(out, "  task %s:\n", json_string_value(json_object_get(t, "id")));
		json_array_foreach(json_object_get(t, "views"), k, v) {
			const char *sql = json_string_value(json_object_get(v, "sql"));
			const char *name = json_string_value(json_object_get(v, "name"));
			json_t *sl = json_object_get(v, "slice");
			if (sql && sl)
				fprintf(out, "    view %s: rows slice %lld of %lld of: %.300s%s\n", name,
					(long long)json_integer_value(json_array_get(sl, 0)) + 1,
					(long long)json_integer_value(json_array_get(sl, 1)), sql,
					strlen(sql) > 300 ? " ..." : "");
			else if (sql)
				fprintf(out, "    view %s: %.300s%s\n", name, sql, strlen(sql) > 300 ? " ..." : "");
			else if (json_object_get(v, "rows_part"))
				fprintf(out, "    view %s: rows part %lld of %lld of %zu Parquet files (no shuffle)\n", name,
					(long long)json_integer_value(json_array_get(json_object_get(v, "rows_part"), 0)) + 1,
					(long long)json_integer_value(json_array_get(json_object_get(v, "rows_part"), 1)),
					json_array_size(json_object_get(v, "rows_files")));
			else if (json_object_get(v, "part_dirs"))
				fprintf(out, "    view %s: the %zu materialised partitions of a stage\n", name,
					json_array_size(json_object_get(v, "part_dirs")));
			else
				fprintf(out, "    view %s: bucket %lld of %zu producer outputs\n", name,
					(long long)json_integer_value(json_object_get(v, "bucket")),
					json_array_size(json_object_get(v, "shuffle_dirs")));
		}
		fprintf(out, "    query:\n      ");
		for (const char *q = json_string_value(json_object_get(t, "query")); *q; q++) {
			fputc(*q, out);
			if (*q == '\n')
				fputs("      ", out);
		}
		json_t *o = json_object_get(t, "output");
		fprintf(out, "\n    output: %s", json_string_value(json_object_get(o, "kind")));
		if (json_object_get(o, "select"))
			fprintf(out, "\n      %s", json_string_value(json_object_get(o, "select")));
		fprintf(out, "\n");
	}
}
