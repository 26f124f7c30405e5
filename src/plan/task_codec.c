/* task_codec.c — JSON to and from the structs of plan/task.h and
 * plan/physical.h (see task_codec.h). The only file that reads pond's own
 * JSON records. A view's kind is not written: it shows in which keys the
 * view has ("slice", "rows_part", "part_dirs", "sql", else a shuffle), as
 * plan.json has always had it. */
#include "plan/task_codec.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sb.h"

/* ---- helpers ---------------------------------------------------------- */

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *str_array(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i] ? json_string(v[i]) : json_null());
	return a;
}

static json_t *pair(int a, int b)
{
	return json_pack("[i, i]", a, b);
}

static char *dump(json_t *o, size_t flags)
{
	char *text = json_dumps(o, flags);
	json_decref(o);
	if (!text)
		abort(); /* jansson fails only when out of memory */
	return text;
}

/* A string member, copied; NULL when absent. */
static char *get_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? xstrdup(s) : NULL;
}

/* A string member, copied; "" when absent. */
static char *get_text(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return xstrdup(s ? s : "");
}

static int64_t get_int(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

/* An array of strings (null entries stay NULL), copied. */
static char **get_strs(const json_t *a, size_t *n)
{
	char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
	size_t i;
	json_t *e;

	json_array_foreach (a, i, e)
		v[i] = json_is_string(e) ? xstrdup(json_string_value(e)) : NULL;
	*n = json_array_size(a);
	return v;
}

static void get_pair(const json_t *o, const char *k, int *a, int *b)
{
	const json_t *p = json_object_get(o, k);
	*a = (int)json_integer_value(json_array_get(p, 0));
	*b = (int)json_integer_value(json_array_get(p, 1));
}

/* ---- tasks ------------------------------------------------------------ */

static json_t *view_json(const task_view *v)
{
	json_t *o = json_object();

	set_str(o, "name", v->name);
	set_str(o, "step", v->step);
	switch (v->kind) {
	case VIEW_SLICE:
		set_str(o, "slice_file", v->slice_file);
		json_object_set_new(o, "slice", pair(v->slice, v->nslices));
		set_str(o, "sql", v->sql); /* the SELECT the range is appended to */
		break;
	case VIEW_SQL:
		set_str(o, "sql", v->sql);
		break;
	case VIEW_ROWS:
		json_object_set_new(o, "rows_files", str_array(v->rows_files, v->nrows_files));
		json_object_set_new(o, "rows_sql", str_array(v->rows_sql, v->nrows_files));
		json_object_set_new(o, "rows_part", pair(v->rows_part, v->rows_parts));
		break;
	case VIEW_PARTS:
		json_object_set_new(o, "part_dirs", str_array(v->dirs, v->ndirs));
		break;
	case VIEW_SHUFFLE:
		json_object_set_new(o, "shuffle_dirs", str_array(v->dirs, v->ndirs));
		json_object_set_new(o, "bucket", json_integer(v->bucket));
		json_object_set_new(o, "buckets", json_integer(v->buckets));
		set_str(o, "order_by", v->order_by);
		break;
	}
	return o;
}

static void view_from(const json_t *o, task_view *v)
{
	memset(v, 0, sizeof(*v));
	v->name = get_text(o, "name");
	v->step = get_str(o, "step");
	if (json_object_get(o, "slice")) {
		v->kind = VIEW_SLICE;
		v->sql = get_text(o, "sql");
		v->slice_file = get_text(o, "slice_file");
		get_pair(o, "slice", &v->slice, &v->nslices);
	} else if (json_object_get(o, "rows_part")) {
		size_t n;
		v->kind = VIEW_ROWS;
		v->rows_files = get_strs(json_object_get(o, "rows_files"), &v->nrows_files);
		v->rows_sql = get_strs(json_object_get(o, "rows_sql"), &n);
		if (n < v->nrows_files)
			v->nrows_files = n;
		get_pair(o, "rows_part", &v->rows_part, &v->rows_parts);
	} else if (json_object_get(o, "part_dirs")) {
		v->kind = VIEW_PARTS;
		v->dirs = get_strs(json_object_get(o, "part_dirs"), &v->ndirs);
	} else if (json_object_get(o, "sql")) {
		v->kind = VIEW_SQL;
		v->sql = get_text(o, "sql");
	} else {
		v->kind = VIEW_SHUFFLE;
		v->dirs = get_strs(json_object_get(o, "shuffle_dirs"), &v->ndirs);
		v->bucket = (int)get_int(o, "bucket");
		v->buckets = (int)get_int(o, "buckets");
		v->order_by = get_str(o, "order_by");
	}
}

static json_t *output_json(const task_output *out)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(output_kind_name(out->kind)));
	set_str(o, "prelude", out->prelude);
	set_str(o, "select", out->select);
	set_str(o, "file", out->file);
	set_str(o, "ext", out->ext);
	set_str(o, "copy_options", out->copy_options);
	set_str(o, "partition_by", out->partition_by);
	set_str(o, "total", out->total);
	set_str(o, "py_runner", out->py_runner);
	set_str(o, "py_pickle", out->py_pickle);
	set_str(o, "py_columns", out->py_columns);
	return o;
}

static int output_from(const json_t *o, task_output *out)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	int k;

	memset(out, 0, sizeof(*out));
	for (k = OUT_PARQUET; kind && k <= OUT_PYTHON; k++)
		if (!strcmp(kind, output_kind_name((output_kind)k)))
			break;
	if (!kind || k > OUT_PYTHON)
		return -1;
	out->kind = (output_kind)k;
	out->prelude = get_str(o, "prelude");
	out->select = get_str(o, "select");
	out->file = get_str(o, "file");
	out->ext = get_str(o, "ext");
	out->copy_options = get_str(o, "copy_options");
	out->partition_by = get_str(o, "partition_by");
	out->total = get_str(o, "total");
	out->py_runner = get_str(o, "py_runner");
	out->py_pickle = get_str(o, "py_pickle");
	out->py_columns = get_str(o, "py_columns");
	return 0;
}

static json_t *task_json(const ptask *t)
{
	json_t *o = json_object(), *views = json_array();

	for (size_t i = 0; i < t->nviews; i++)
		json_array_append_new(views, view_json(&t->views[i]));
	set_str(o, "id", t->id);
	json_object_set_new(o, "stage", json_integer(t->stage));
	json_object_set_new(o, "index", json_integer(t->index));
	set_str(o, "step", t->step);
	json_object_set_new(o, "views", views);
	set_str(o, "query", t->query);
	set_str(o, "with", t->with);
	json_object_set_new(o, "cte_steps", str_array(t->cte_steps, t->ncte_steps));
	json_object_set_new(o, "output", output_json(&t->output));
	json_object_set_new(o, "durable", json_boolean(t->durable));
	set_str(o, "dir", t->dir);
	set_str(o, "attempts_dir", t->attempts_dir);
	return o;
}

static int task_from(const json_t *o, ptask *t)
{
	const json_t *views = json_object_get(o, "views");
	size_t i;
	json_t *v;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(o))
		return -1;
	t->id = get_text(o, "id");
	t->stage = (int)get_int(o, "stage");
	t->index = (int)get_int(o, "index");
	t->step = get_text(o, "step");
	t->views = xcalloc(json_array_size(views) + 1, sizeof(task_view));
	json_array_foreach (views, i, v)
		view_from(v, &t->views[t->nviews++]);
	t->with = get_text(o, "with");
	t->query = get_text(o, "query");
	t->cte_steps = get_strs(json_object_get(o, "cte_steps"), &t->ncte_steps);
	t->durable = json_is_true(json_object_get(o, "durable"));
	t->dir = get_text(o, "dir");
	t->attempts_dir = get_text(o, "attempts_dir");
	return output_from(json_object_get(o, "output"), &t->output);
}

/* ---- plan.json ---------------------------------------------------------- */

static json_t *stage_json(const stage *s)
{
	json_t *o = json_object(), *deps = json_array(), *tasks = json_array();

	for (size_t d = 0; d < s->ndeps; d++)
		json_array_append_new(deps, json_integer(s->deps[d]));
	for (size_t t = 0; t < s->ntasks; t++)
		json_array_append_new(tasks, task_json(&s->tasks[t]));
	json_object_set_new(o, "id", json_integer(s->id));
	set_str(o, "name", s->name);
	json_object_set_new(o, "kind", json_string(stage_kind_name(s->kind)));
	set_str(o, "step", s->step);
	json_object_set_new(o, "deps", deps);
	json_object_set_new(o, "tasks", tasks);
	return o;
}

char *codec_plan(const pplan *p)
{
	json_t *root = json_object(), *stages = json_array(), *inputs = json_array();

	set_str(root, "job_dir", p->job_dir);
	json_object_set_new(root, "seed", json_integer((json_int_t)p->seed));
	for (size_t i = 0; i < p->nstages; i++)
		json_array_append_new(stages, stage_json(p->stages[i]));
	json_object_set_new(root, "stages", stages);
	for (size_t i = 0; i < p->ninputs; i++)
		json_array_append_new(inputs, json_pack("{s:s, s:I, s:I}", "path", p->inputs[i].path, "size",
							(json_int_t)p->inputs[i].size, "mtime_ns",
							(json_int_t)p->inputs[i].mtime_ns));
	json_object_set_new(root, "inputs", inputs);
	return dump(root, JSON_INDENT(1) | JSON_SORT_KEYS);
}

int codec_plan_inputs(const char *text, plan_input **out, size_t *n)
{
	json_t *doc = json_loads(text, 0, NULL);
	const json_t *a = json_object_get(doc, "inputs");
	size_t i;
	json_t *e;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a)) {
		json_decref(doc);
		return -1;
	}
	*out = xcalloc(json_array_size(a) + 1, sizeof(plan_input));
	json_array_foreach (a, i, e) {
		plan_input *in = &(*out)[(*n)++];
		in->path = get_text(e, "path");
		in->size = json_object_get(e, "size") ? get_int(e, "size") : -1;
		in->mtime_ns = json_object_get(e, "mtime_ns") ? get_int(e, "mtime_ns") : -1;
	}
	json_decref(doc);
	return 0;
}

/* ---- the transport's frames -------------------------------------------- */

static json_t *attempt_json(const task_attempt *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "attempt", json_integer(a->attempt));
	set_str(o, "attempt_dir", a->attempt_dir);
	set_str(o, "temp_dir", a->temp_dir);
	set_str(o, "log_dir", a->log_dir);
	json_object_set_new(o, "threads", json_integer(a->threads));
	json_object_set_new(o, "memory_limit", json_integer(a->memory_limit));
	if (a->threads_div > 0)
		json_object_set_new(o, "threads_div", json_integer(a->threads_div));
	if (a->memory_mul > 0)
		json_object_set_new(o, "memory_mul", json_real(a->memory_mul));
	if (a->inject_p > 0)
		json_object_set_new(o, "inject",
				    json_pack("{s:f, s:I}", "p", a->inject_p, "seed", (json_int_t)a->inject_seed));
	return o;
}

static void attempt_from(const json_t *o, task_attempt *a)
{
	const json_t *inj = json_object_get(o, "inject");

	memset(a, 0, sizeof(*a));
	a->attempt = (int)get_int(o, "attempt");
	a->attempt_dir = get_text(o, "attempt_dir");
	a->temp_dir = get_text(o, "temp_dir");
	a->log_dir = get_str(o, "log_dir");
	a->threads = get_int(o, "threads");
	a->memory_limit = get_int(o, "memory_limit");
	a->threads_div = (int)get_int(o, "threads_div");
	a->memory_mul = json_number_value(json_object_get(o, "memory_mul"));
	a->inject_p = json_number_value(json_object_get(inj, "p"));
	a->inject_seed = (uint64_t)json_integer_value(json_object_get(inj, "seed"));
}

char *codec_task_msg(const ptask *t, const task_attempt *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "cmd", json_string("task"));
	json_object_set_new(o, "task", task_json(t));
	json_object_set_new(o, "attempt", attempt_json(a));
	return dump(o, JSON_COMPACT);
}

codec_cmd codec_read_cmd(const char *text, ptask *t, task_attempt *a)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *cmd = json_string_value(json_object_get(o, "cmd"));
	codec_cmd c = !cmd || !strcmp(cmd, "exit") ? CMD_EXIT
		      : !strcmp(cmd, "cancel")     ? CMD_CANCEL
		      : !strcmp(cmd, "warm")       ? CMD_WARM
		      : !strcmp(cmd, "task")       ? CMD_TASK
						   : CMD_OTHER;

	if (c == CMD_TASK) {
		attempt_from(json_object_get(o, "attempt"), a);
		if (task_from(json_object_get(o, "task"), t)) {
			ptask_release(t);
			task_attempt_release(a);
			c = CMD_OTHER;
		}
	}
	json_decref(o);
	return c;
}

/* The metrics that were measured (>= 0); the rest are left out. */
static void metrics_json(json_t *o, const task_metrics *m)
{
	if (m->cpu_ms >= 0)
		json_object_set_new(o, "cpu_ms", json_real(m->cpu_ms));
	if (m->peak_mem >= 0)
		json_object_set_new(o, "peak_mem", json_integer(m->peak_mem));
	if (m->spill >= 0)
		json_object_set_new(o, "spill", json_integer(m->spill));
	if (m->rows_in >= 0)
		json_object_set_new(o, "rows_in", json_integer(m->rows_in));
	if (m->read_bytes >= 0)
		json_object_set_new(o, "read", json_integer(m->read_bytes));
	if (m->write_bytes >= 0)
		json_object_set_new(o, "written", json_integer(m->write_bytes));
}

/* An integer member, or -1 when absent. */
static int64_t get_opt(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void metrics_from(const json_t *o, task_metrics *m)
{
	const json_t *cpu = json_object_get(o, "cpu_ms");

	m->cpu_ms = json_is_number(cpu) ? json_number_value(cpu) : -1;
	m->peak_mem = get_opt(o, "peak_mem");
	m->spill = get_opt(o, "spill");
	m->rows_in = get_opt(o, "rows_in");
	m->read_bytes = get_opt(o, "read");
	m->write_bytes = get_opt(o, "written");
}

/* The result's members in the order events.jsonl shows them. */
static json_t *result_json(const task_result *r)
{
	json_t *o = json_object();

	/* task and attempt first: a line of events.jsonl reads (and greps) by them */
	set_str(o, "task", r->task);
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "ok", json_boolean(r->ok));
	json_object_set_new(o, "rows", json_integer(r->rows));
	json_object_set_new(o, "bytes", json_integer(r->bytes));
	if (r->ok) {
		json_object_set_new(o, "files", json_integer(r->files));
		json_object_set_new(o, "manifest", json_string(r->manifest));
	} else {
		json_object_set_new(o, "error", json_string(r->error ? r->error : "unknown error"));
		json_object_set_new(o, "class", json_integer(r->cls));
		set_str(o, "sql", r->sql);
		set_str(o, "step", r->step);
	}
	if (r->duplicate)
		json_object_set_new(o, "duplicate", json_true());
	if (r->crashed)
		json_object_set_new(o, "crashed", json_true());
	json_object_set_new(o, "ms", json_real(r->ms));
	metrics_json(o, &r->m);
	return o;
}

char *codec_result_msg(const task_result *r)
{
	return dump(result_json(r), JSON_COMPACT);
}

int codec_read_result(const char *text, task_result *r)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *manifest = json_string_value(json_object_get(o, "manifest"));

	memset(r, 0, sizeof(*r));
	r->m = TASK_METRICS_NONE;
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	if (json_object_get(o, "hb")) {
		json_decref(o);
		return 1;
	}
	r->task = get_str(o, "task");
	r->attempt = (int)get_int(o, "attempt");
	r->ok = json_is_true(json_object_get(o, "ok"));
	r->duplicate = json_is_true(json_object_get(o, "duplicate"));
	r->crashed = json_is_true(json_object_get(o, "crashed"));
	r->rows = get_int(o, "rows");
	r->bytes = get_int(o, "bytes");
	r->files = get_int(o, "files");
	snprintf(r->manifest, sizeof(r->manifest), "%s", manifest ? manifest : "");
	r->cls = (error_class)get_int(o, "class");
	r->error = get_str(o, "error");
	r->sql = get_str(o, "sql");
	r->step = get_str(o, "step");
	r->ms = json_number_value(json_object_get(o, "ms"));
	metrics_from(o, &r->m);
	json_decref(o);
	return 0;
}

/* ---- journal.jsonl and events.jsonl --------------------------------------- */

char *codec_journal_line(const journal_entry *e)
{
	json_t *o = json_object();
	const task_result *r = e->res;
	bool commit = !strcmp(e->event, "commit"), fail = !strcmp(e->event, "fail");

	json_object_set_new(o, "event", json_string(e->event));
	json_object_set_new(o, "t", json_real(e->t));
	set_str(o, "task", e->task);
	if (e->task)
		json_object_set_new(o, "attempt", json_integer(e->attempt));
	set_str(o, "worker", e->worker);
	if (r && commit) {
		json_object_set_new(o, "rows", json_integer(r->rows));
		json_object_set_new(o, "bytes", json_integer(r->bytes));
		json_object_set_new(o, "files", json_integer(r->files));
		json_object_set_new(o, "manifest", json_string(r->manifest));
	} else if (r && fail) {
		json_object_set_new(o, "class", json_string(error_class_name(r->cls)));
		json_object_set_new(o, "error", json_string(r->error ? r->error : "?"));
	}
	if (!strcmp(e->event, "run")) {
		json_object_set_new(o, "workers", json_integer(e->workers));
		json_object_set_new(o, "resume", json_boolean(e->resume));
	}
	set_str(o, "error", e->error);
	return dump(o, JSON_COMPACT);
}

int codec_read_journal(const char *line, journal_rec *r)
{
	json_t *o = json_loads(line, 0, NULL);

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "event"))) {
		json_decref(o);
		return -1;
	}
	r->event = get_str(o, "event");
	r->task = get_str(o, "task");
	r->worker = get_str(o, "worker");
	r->error = get_str(o, "error");
	r->t = json_number_value(json_object_get(o, "t"));
	r->attempt = (int)get_int(o, "attempt");
	r->workers = (int)get_int(o, "workers");
	json_decref(o);
	return 0;
}

void journal_rec_release(journal_rec *r)
{
	free(r->event);
	free(r->task);
	free(r->worker);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

int codec_journal_commit(const char *line, char **task, char *hash)
{
	json_t *o = json_loads(line, 0, NULL); /* a torn last line is no record */
	const char *ev = json_string_value(json_object_get(o, "event"));
	const char *id = json_string_value(json_object_get(o, "task"));
	const char *h = json_string_value(json_object_get(o, "manifest"));
	int found = ev && id && !strcmp(ev, "commit");

	if (found) {
		*task = xstrdup(id);
		snprintf(hash, 17, "%s", h ? h : "");
	}
	json_decref(o);
	return found;
}

char *codec_event_line(const event_entry *e)
{
	json_t *o = result_json(e->res);

	if (e->start > 0)
		json_object_set_new(o, "start", json_real(e->start));
	json_object_set_new(o, "worker", json_integer(e->worker));
	set_str(o, "where", e->where);
	json_object_set_new(o, "t", json_real(e->t));
	return dump(o, JSON_COMPACT);
}

int codec_read_event(const char *line, event_rec *r)
{
	const json_t *w;
	json_t *o;

	memset(r, 0, sizeof(*r));
	r->worker = -1;
	if (codec_read_result(line, &r->res) != 0)
		return -1; /* not a result (a torn line), or a heartbeat */
	o = json_loads(line, 0, NULL);
	w = json_object_get(o, "worker");
	r->start = json_number_value(json_object_get(o, "start"));
	r->t = json_number_value(json_object_get(o, "t"));
	r->worker = json_is_integer(w) ? (int)json_integer_value(w) : -1;
	r->where = get_str(o, "where");
	json_decref(o);
	return 0;
}

void event_rec_release(event_rec *r)
{
	task_result_release(&r->res);
	free(r->where);
	memset(r, 0, sizeof(*r));
}

/* ---- plan.json's stages, for the run report ----------------------------- */

static int stage_kind_of(const char *name, stage_kind *k)
{
	for (int i = ST_MAP; name && i <= ST_PYTHON; i++)
		if (!strcmp(name, stage_kind_name((stage_kind)i))) {
			*k = (stage_kind)i;
			return 0;
		}
	return -1;
}

int codec_plan_stages(const char *text, plan_stage_info **out, size_t *n)
{
	json_t *doc = json_loads(text, 0, NULL);
	const json_t *a = json_object_get(doc, "stages");
	size_t i, d;
	json_t *e, *dep;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a)) {
		json_decref(doc);
		return -1;
	}
	*out = xcalloc(json_array_size(a) + 1, sizeof(plan_stage_info));
	json_array_foreach (a, i, e) {
		plan_stage_info *st = &(*out)[(*n)++];
		const json_t *deps = json_object_get(e, "deps");
		st->id = (int)get_int(e, "id");
		if (stage_kind_of(json_string_value(json_object_get(e, "kind")), &st->kind))
			st->kind = ST_MAP;
		st->name = get_text(e, "name");
		st->step = get_text(e, "step");
		st->ntasks = json_array_size(json_object_get(e, "tasks"));
		st->deps = xcalloc(json_array_size(deps) + 1, sizeof(int));
		json_array_foreach (deps, d, dep)
			st->deps[st->ndeps++] = (int)json_integer_value(dep);
	}
	json_decref(doc);
	return 0;
}

void plan_stages_free(plan_stage_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].step);
		free(v[i].deps);
	}
	free(v);
}
