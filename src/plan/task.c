/* task.c — releasing the structs of the physical plan's vocabulary (see
 * task.h). Their JSON form is in task_codec.c. */
#include "plan/task.h"

#include <stdlib.h>
#include <string.h>

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void task_view_release(task_view *v)
{
	free(v->name);
	free(v->step);
	free(v->sql);
	free(v->slice_file);
	free_strings(v->rows_files, v->nrows_files);
	free_strings(v->rows_sql, v->nrows_files);
	free_strings(v->dirs, v->ndirs);
	free(v->order_by);
}

void ptask_release(ptask *t)
{
	free(t->id);
	free(t->step);
	for (size_t i = 0; i < t->nviews; i++)
		task_view_release(&t->views[i]);
	free(t->views);
	free(t->with);
	free(t->query);
	free_strings(t->cte_steps, t->ncte_steps);
	free(t->output.prelude);
	free(t->output.select);
	free(t->output.file);
	free(t->output.ext);
	free(t->output.copy_options);
	free(t->output.partition_by);
	free(t->output.total);
	free(t->output.py_runner);
	free(t->output.py_pickle);
	free(t->output.py_columns);
	free(t->dir);
	free(t->attempts_dir);
	memset(t, 0, sizeof(*t));
}

const char *output_kind_name(output_kind k)
{
	static const char *const n[] = { "parquet", "buckets", "sink", "show", "count", "python" };
	return n[k];
}

const char *stage_kind_name(stage_kind k)
{
	static const char *const n[] = { "map",  "shuffle", "sample", "splits", "gather",
					 "sink", "show",    "count",  "python" };
	return n[k];
}

void task_attempt_release(task_attempt *a)
{
	free(a->attempt_dir);
	free(a->temp_dir);
	free(a->log_dir);
	memset(a, 0, sizeof(*a));
}

void task_result_release(task_result *r)
{
	free(r->task);
	free(r->error);
	free(r->sql);
	free(r->step);
	memset(r, 0, sizeof(*r));
	r->m = TASK_METRICS_NONE;
}
